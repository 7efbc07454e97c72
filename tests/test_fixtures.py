"""Every fixture through every invariant: round trip, BuildKit agreement, expected output,
idempotence, BuildKit accepts the output, hadolint reports nothing new."""

from __future__ import annotations

import os

import pytest

import dockfix
from buildkit_oracle import buildkit_spans, dockfix_spans, newer_parser_differs
from dockfix.core.buildkit_check import buildkit_rejects
from dockfix.core.catalog import all_fixers
from fixture_cases import Case, cases
from hadolint_runner import hadolint_counts

CASES = cases()
IDS = [c.id for c in CASES]


def test_there_are_fixtures_for_every_fixer() -> None:
    covered = {c.code for c in CASES}
    missing = sorted(set(all_fixers()) - covered)
    assert not missing, f"fixers without fixtures: {missing}"
    # every fixer has a case it must leave alone, and one it changes unless it never
    # rewrites offline (display-only DF303 and DF205, those whose docs say "No fix", network
    # fixers)
    for code, fixer in all_fixers().items():
        cases = [c for c in CASES if c.code == code]
        changes = [c for c in cases if any(c.directory.glob("expected*"))]
        assert len(cases) > len(changes), f"{code} has no no-change case"
        # (DF104 uses the network only for a `# syntax=` line below min-docker-engine 23.0)
        display_only = "## Fix safety\nNo fix (display-only)" in fixer.documentation()
        if (not fixer.needs_network or code == "DF104") and code not in ("DF303", "DF205"):
            assert changes or display_only, f"{code} has no change case"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_round_trip_and_buildkit_agreement(case: Case) -> None:
    text = case.read()
    assert text is not None
    assert str(dockfix.parse(text)) == text
    if not newer_parser_differs(text):
        assert dockfix_spans(text) == buildkit_spans(text)


def _fix(case: Case, text: str, unsafe: bool, select: list[str] | None) -> str:
    fixed, _ = dockfix.fix(
        text,
        path=case.dockerfile,
        context_dir=case.directory,
        select=select,
        unsafe_fixes=unsafe,
        offline=True,
    )
    return fixed


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_expected_output(case: Case) -> None:
    text = case.read()
    assert text is not None
    expected = case.read("expected.Dockerfile")
    fixed = _fix(case, text, unsafe=False, select=[case.code])
    assert fixed == (expected if expected is not None else text)
    # Without `expected.unsafe.Dockerfile`, --unsafe-fixes changes nothing more.
    expected_unsafe = case.read("expected.unsafe.Dockerfile") or fixed
    assert _fix(case, text, unsafe=True, select=[case.code]) == expected_unsafe


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_all_fixers_idempotent_and_accepted(case: Case, unsafe: bool) -> None:
    text = case.read()
    assert text is not None
    fixed = _fix(case, text, unsafe=unsafe, select=None)
    assert str(dockfix.parse(fixed)) == fixed
    assert buildkit_rejects(fixed) is None
    assert _fix(case, fixed, unsafe=unsafe, select=None) == fixed, "a second fix changed the output"
    if text.startswith("\ufeff"):
        assert fixed.startswith("\ufeff")
    if "\r\n" in text and "\n" not in text.replace("\r\n", ""):
        assert "\n" not in fixed.replace("\r\n", ""), "line endings mixed"
    if not text.endswith("\n"):
        assert not fixed.endswith("\n") or fixed == text


@pytest.mark.skipif(os.environ.get("DOCKFIX_SKIP_HADOLINT") == "1", reason="hadolint disabled")
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_hadolint_reports_nothing_new(case: Case) -> None:
    text = case.read()
    assert text is not None
    before = hadolint_counts(text)
    if before is None:
        if os.environ.get("CI"):
            pytest.fail("hadolint is not installed")
        pytest.skip("hadolint is not installed")
    for unsafe in (False, True):
        fixed = _fix(case, text, unsafe=unsafe, select=[case.code])
        if fixed == text:
            continue
        after = hadolint_counts(fixed)
        assert after is not None
        added = after - before
        assert not added, f"new hadolint findings: {dict(sorted(added.items()))}"


def _other_file_expectations(case: Case) -> list[tuple[bool, str, str]]:
    """(unsafe, file name, expected content) for `expected[.unsafe].<name>` of other files."""
    out = []
    for p in sorted(case.directory.iterdir()):
        name = p.name
        if not name.startswith("expected.") or name.endswith("Dockerfile"):
            continue
        rest = name[len("expected.") :]
        unsafe = rest.startswith("unsafe.")
        if unsafe:
            rest = rest[len("unsafe.") :]
        out.append((unsafe, rest, p.read_bytes().decode("utf-8")))
    return out


OTHER_FILE_CASES = [c for c in CASES if _other_file_expectations(c)]


@pytest.mark.parametrize("case", OTHER_FILE_CASES, ids=[c.id for c in OTHER_FILE_CASES])
def test_expected_changes_to_other_files(case: Case) -> None:
    """`expected.dockerignore`, `expected.unsafe.ci.yml`: the content the fix gives that file."""
    text = case.read()
    assert text is not None
    for unsafe, name, expected in _other_file_expectations(case):
        outcome = dockfix.fix_outcome(
            text, path=case.dockerfile, context_dir=case.directory, select=[case.code],
            unsafe_fixes=unsafe, offline=True,
        )
        changes = {c.path.name.lstrip("."): c.content for c in outcome.file_changes}
        assert changes.get(name.lstrip(".")) == expected, f"{name}: {sorted(changes)}"
