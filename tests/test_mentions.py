"""`Fixer.mentions`: the engine gives a fixer only the files that name one of its words.

The filter only saves time: a fixer it skips must have had nothing to report. Checked on every
shipped and corpus Dockerfile and on generated ones, fixer by fixer, by running the skipped
fixer anyway."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from dockerfile_strategies import any_dockerfile
from dockfix.build_rules import build_error
from dockfix.core.catalog import all_fixers
from dockfix.core.engine import collect_findings, mention_text
from dockfix.core.fixer import Finding, Fixer
from dockfix.run.runner import RunOptions, file_settings
from dockfix.semantics.context import FixContext
from dockfix.syntax import parse, parse_lossless

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILES = sorted(
    p
    for top in (ROOT / "fixtures", ROOT / "tests" / "data")
    for p in top.rglob("*")
    if p.is_file() and ("Dockerfile" in p.name or "Containerfile" in p.name)
)


def _filtered() -> list[Fixer]:
    return [cls() for cls in all_fixers().values() if cls.mentions]


def _findings_skipped(text: str, ctx: FixContext) -> list[tuple[str, Finding]]:
    """What the fixers the filter skips on ``text`` would have reported."""
    doc = parse_lossless(text)
    if doc.error is not None or build_error(doc) is not None:
        return []
    mentioned = mention_text(doc)
    lost = []
    for fixer in _filtered():
        if any(word in mentioned for word in fixer.mentions):
            continue
        lost += [(fixer.code, f) for f in fixer.check(doc, ctx)]  # past the filter
    return lost


def test_words_are_read_as_the_shell_reads_them() -> None:
    doc = parse(
        "FROM alpine\n"
        'RUN AP"T-G"et install -y \\\n    curl\n'
        "RUN ap\\\nk add x\n"
        "RUN <<EOF\nyu\\\nm install y\nEOF\n"
        "ONBUILD RUN 'pip' install z\n"
        'RUN ["\\u0077get", "-O", "f"]\n'
        'ONBUILD RUN ["su\\u0064o", "x"]\n'
    )
    text = mention_text(doc)
    for word in ("apt-get", "curl", "apk", "yum", "pip install", "wget -o f", "sudo x"):
        assert word in text
    assert "yum\n" not in text


def test_a_file_naming_nothing_skips_the_fixer() -> None:
    class NeedsWget(Fixer):
        code = "T301"
        name = "needs-wget"
        summary = "needs wget"
        mentions = ("wget",)
        calls = 0

        def check(self, doc, ctx):  # type: ignore[no-untyped-def]
            type(self).calls += 1
            yield self.finding(1, "x")

    fixer = NeedsWget()
    assert collect_findings(parse("FROM a\nRUN curl x\n"), [fixer], FixContext(), []) == []
    assert NeedsWget.calls == 0
    found = collect_findings(parse("FROM a\nRUN w'g'et x\n"), [fixer], FixContext(), [])
    assert [f.code for f in found] == ["T301"] and NeedsWget.calls == 1


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_skipping_never_hides_a_finding_of_a_real_file(path: Path) -> None:
    settings_ = file_settings(path, RunOptions(offline=True), read_from_path=True)
    text = path.read_bytes().decode("utf-8", "surrogateescape")
    assert _findings_skipped(text, settings_.ctx) == []


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(any_dockerfile)
def test_skipping_never_hides_a_finding_of_a_generated_file(text: str) -> None:
    assert _findings_skipped(text, FixContext(offline=True)) == []


def test_fixers_use_the_filter() -> None:
    """The filter is in use (this test file checks something)."""
    assert len(_filtered()) >= 5
