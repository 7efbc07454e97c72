"""The engine loop's bookkeeping (cases scripts/mutation found untested), with toy fixers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dockfix.core import engine
from dockfix.core.engine import MAX_ROUNDS, collect_findings, fix_document, fixable_summary
from dockfix.core.fixer import Applicability, Edit, FileChange, Finding, Fix, Fixer, Resolves
from dockfix.semantics.context import FixContext
from dockfix.syntax import Dockerfile, parse


class AppendComment(Fixer):
    """Never satisfied: every round adds one more line."""

    code = "T101"
    name = "append-comment"
    summary = "appends a comment"

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        last = doc.instructions[-1]
        yield self.finding(last, "x", Fix.safe(Edit.insert(len(doc.source), "# more\n")))


class Lower(Fixer):
    """Lower-cases `RUN`, with the applicability given by the test."""

    code = "T102"
    name = "lower"
    summary = "lower-cases RUN"
    resolves = Resolves(hadolint=("DL9999",))
    applicability = Applicability.SAFE

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for instr in doc.instructions:
            if instr.keyword_raw == "RUN":
                fix = Fix((Edit(instr.start, instr.start + 3, "run"),), self.applicability)
                yield self.finding(instr, "upper", fix)


class Unsafe(Lower):
    code = "T103"
    applicability = Applicability.UNSAFE


class DisplayOnly(Lower):
    code = "T104"
    applicability = Applicability.DISPLAY_ONLY


class WriteFile(Fixer):
    """Only a file change, no edit of the Dockerfile; its content is set by the test."""

    code = "T105"
    name = "write-file"
    summary = "writes a file"
    content = "a"
    calls = 0

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        type(self).calls += 1
        yield self.finding(
            1, "x", Fix((), Applicability.SAFE, "", (FileChange(Path("f"), self.content),))
        )


class WriteOtherContent(WriteFile):
    code = "T106"
    content = "b"


class Raises(Fixer):
    code = "T107"
    name = "raises"
    summary = "raises"

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        raise RuntimeError("boom")


def test_fixes_stop_after_max_rounds_with_a_warning() -> None:
    out = fix_document("FROM a\n", [AppendComment()], FixContext())
    assert out.fixed == "FROM a\n" + "# more\n" * MAX_ROUNDS
    assert out.warnings == [f"fixes did not converge after {MAX_ROUNDS} rounds"]
    assert len(out.applied) == MAX_ROUNDS and len(out.findings) == 1


@pytest.mark.parametrize(
    ("fixer", "unsafe", "fixed"),
    [
        (Lower(), False, True),
        (Unsafe(), False, False),
        (Unsafe(), True, True),
        (DisplayOnly(), True, False),
    ],
)
def test_applicability_decides_what_is_applied(fixer: Fixer, unsafe: bool, fixed: bool) -> None:
    text = "FROM a\nRUN b\n"
    out = fix_document(text, [fixer], FixContext(), unsafe=unsafe)
    assert (out.fixed == "FROM a\nrun b\n") is fixed
    assert out.changed is fixed
    assert [f.code for f in out.applied] == ([fixer.code] if fixed else [])
    assert [f.code for f in out.findings] == ([] if fixed else [fixer.code])


def test_dry_check_applies_nothing() -> None:
    out = fix_document("FROM a\nRUN b\n", [Lower()], FixContext(), apply=False)
    assert out.fixed == out.original and not out.applied and len(out.findings) == 1


def test_fixable_summary() -> None:
    text = "FROM a\nRUN b\n"
    doc = parse(text)
    found = collect_findings(
        doc, [Lower(), Unsafe(), DisplayOnly(), AppendComment()], FixContext(), []
    )
    found.append(Finding("T999", "no fix", 1))
    assert fixable_summary(found, unsafe=False) == (2, 1)
    assert fixable_summary(found, unsafe=True) == (3, 0)


def test_findings_are_sorted_and_suppressed_by_their_pragmas() -> None:
    text = "FROM a\nRUN b\n# hadolint ignore=DL9999\nRUN c\n# dockfix ignore=T101\nRUN d\n"
    doc = parse(text)
    found = collect_findings(doc, [AppendComment(), Lower()], FixContext(), [])
    assert [(f.line, f.code) for f in found] == [(2, "T102"), (6, "T102")]
    doc = parse("FROM a\nRUN b\n# hadolint ignore=DL9999\nRUN c\n# note\nRUN d\n")
    found = collect_findings(doc, [AppendComment(), Lower()], FixContext(), [])
    assert [(f.line, f.code) for f in found] == [(2, "T102"), (6, "T101"), (6, "T102")]


def test_a_finding_s_own_hadolint_rules_replace_the_fixer_s() -> None:
    class Narrow(Lower):
        code = "T108"

        def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
            for f in super().check(doc, ctx):
                f.hadolint = ("DL0001",)
                yield f

    doc = parse("FROM a\n# hadolint ignore=DL9999\nRUN b\n# hadolint ignore=DL0001\nRUN c\n")
    assert [f.line for f in collect_findings(doc, [Narrow()], FixContext(), [])] == [3]


def test_a_file_change_is_applied_once_and_a_conflicting_one_is_reported() -> None:
    WriteFile.calls = 0
    out = fix_document("FROM a\n", [WriteFile(), WriteOtherContent()], FixContext())
    assert out.fixed == "FROM a\n" and out.changed
    assert [(c.path, c.content) for c in out.file_changes] == [(Path("f"), "a")]
    assert out.warnings == ["T106: conflicting changes to f; kept the first"]
    assert WriteFile.calls == 1  # a fixer that only changes other files is not run again
    assert [f.code for f in out.applied] == ["T105", "T106"]


def test_a_fixer_that_raises_is_skipped_with_a_warning_unless_strict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(engine, "STRICT", False)
    out = fix_document("FROM a\nRUN b\n", [Raises(), Lower()], FixContext())
    assert out.fixed == "FROM a\nrun b\n"
    assert set(out.warnings) == {"T107 failed on this file (RuntimeError: boom); skipped"}
    monkeypatch.setattr(engine, "STRICT", True)
    with pytest.raises(RuntimeError, match="boom"):
        fix_document("FROM a\n", [Raises()], FixContext())


def test_an_unparsable_file_is_an_error_and_left_alone() -> None:
    out = fix_document("FROM a\nRUN <<EOF\nx\n", [Lower()], FixContext())
    assert out.error is not None and out.error.startswith("BuildKit would reject this file")
    assert out.fixed == out.original and not out.findings


def test_a_tree_passed_in_is_used_only_when_it_is_of_this_text() -> None:
    text = "FROM a\nRUN b\n"
    out = fix_document(text, [Lower()], FixContext(), doc=parse("FROM a\nRUN c\n"))
    assert out.fixed == "FROM a\nrun b\n"
    doc = parse(text)
    assert fix_document(doc.source, [Lower()], FixContext(), doc=doc).fixed == "FROM a\nrun b\n"


def test_overlapping_fixes_are_applied_in_later_rounds() -> None:
    class Upper(Fixer):
        code = "T109"
        name = "upper-args"
        summary = "upper-cases the run's argument"

        def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
            for instr in doc.instructions:
                if instr.keyword == "RUN" and instr.args != instr.args.upper():
                    edit = Edit(instr.start, instr.end, f"{instr.keyword_raw} {instr.args.upper()}")
                    yield self.finding(instr, "lower", Fix.safe(edit))

    out = fix_document("FROM a\nRUN b\n", [Lower(), Upper()], FixContext())
    assert out.fixed == "FROM a\nrun B\n"
    assert [f.code for f in out.applied] == ["T102", "T109"]
