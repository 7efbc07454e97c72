"""The engine's guarantees, with toy fixers that misbehave on purpose."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockfix.core.edits import TakenEdits, edits_overlap, insert_after
from dockfix.core.engine import fix_document, fix_one
from dockfix.core.fixer import Edit, Finding, Fix, Fixer
from dockfix.core.invariants import _Edits
from dockfix.semantics.context import FixContext
from dockfix.syntax import Dockerfile, parse_lossless


class AppendUser(Fixer):
    code = "T001"
    name = "append-user"
    summary = "adds USER after the last instruction"

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        if "USER" not in doc.source:
            last = doc.instructions[-1]
            yield self.finding(last, "no user", Fix.safe(insert_after(doc, last, ["USER 1000"])))


class BreakHeredoc(Fixer):
    code = "T002"
    name = "break-heredoc"
    summary = "deletes a heredoc terminator"

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for instr in doc.instructions:
            for h in instr.heredocs:
                yield self.finding(
                    instr, "x", Fix.safe(Edit(h.body_end, h.body_end + len(h.name), ""))
                )


class DropDirective(Fixer):
    code = "T003"
    name = "drop-directive"
    summary = "puts a comment above the directives"

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        if doc.directives and not doc.source.startswith("# note"):
            yield self.finding(1, "x", Fix.safe(Edit.insert(0, "# note\n")))


def run(text: str, *fixers: Fixer) -> tuple[str, list[str]]:
    out = fix_document(text, list(fixers), FixContext(), unsafe=True)
    return out.fixed, out.warnings


def test_insertion_absorbed_by_a_dangling_continuation_is_refused() -> None:
    text = "FROM a\nMAINTAINER me \\\n"
    fixed, warnings = run(text, AppendUser())
    assert fixed == text
    assert warnings and "MAINTAINER on line 2 changed although no edit covers it" in warnings[0]


def test_plain_insertion_is_applied() -> None:
    assert run("FROM a\nCMD x", AppendUser()) == ("FROM a\nCMD x\nUSER 1000", [])


def test_broken_heredoc_is_refused() -> None:
    text = "FROM a\nRUN <<EOF\necho\nEOF\nRUN b\n"
    fixed, warnings = run(text, BreakHeredoc())
    assert fixed == text and "T002 proposed a fix that was not applied" in warnings[0]


@pytest.mark.parametrize(
    "text", ["# syntax=docker/dockerfile:1\nFROM a\n", "# escape=`\nFROM a\nRUN x `\n  y\n"]
)
def test_directives_stay_directives(text: str) -> None:
    fixed, warnings = run(text, DropDirective())
    assert fixed == text and "no longer a parser directive" in warnings[0]


def test_a_good_fixer_survives_a_bad_one() -> None:
    text = "FROM a\nRUN <<EOF\necho\nEOF\nCMD x\n"
    fixed, warnings = run(text, BreakHeredoc(), AppendUser())
    assert fixed == "FROM a\nRUN <<EOF\necho\nEOF\nCMD x\nUSER 1000\n"
    assert len(warnings) == 1 and warnings[0].startswith("T002")


# --- the range questions of a fix round, by binary search ----------------------------------

_edit = st.builds(
    lambda start, length, text: Edit(start, start + length, text),
    st.integers(0, 60),
    st.integers(0, 8),
    st.sampled_from(["", "x", "\n", "\r\nab", "yz"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_edit, min_size=1, max_size=3), max_size=12))
def test_taken_edits_answer_as_a_scan_of_them(groups: list[list[Edit]]) -> None:
    taken = TakenEdits()
    scanned: list[Edit] = []
    for group in groups:
        assert taken.overlaps(group) == edits_overlap(group, scanned)
        if not edits_overlap(group, scanned):
            taken.add(group)
            scanned.extend(group)


@settings(max_examples=300, deadline=None)
@given(st.lists(_edit, max_size=10), st.integers(0, 70), st.integers(0, 10))
def test_invariant_ranges_answer_as_a_scan_of_the_edits(
    edits: list[Edit], start: int, length: int
) -> None:
    ordered: list[Edit] = []
    for e in sorted(edits, key=lambda e: (e.start, e.end)):
        if not ordered or e.start >= ordered[-1].end:  # the engine applies no overlapping edits
            ordered.append(e)
    ranges = _Edits(ordered)
    end = start + length
    assert ranges.covered(start, end) == any(e.start < end and start < e.end for e in ordered)
    shift = 0
    for e in ordered:
        if e.end > start:
            break
        shift += len(e.text) - (e.end - e.start)
    assert ranges.map(start) == start + shift


def test_one_finding_fix_is_verified_like_a_round() -> None:
    """What an editor's quick fix applies: the fix alone, refused when a round would be."""
    good = parse_lossless("FROM a\nCMD x")
    [finding] = AppendUser().check(good, FixContext())
    assert fix_one(good, finding) == ("FROM a\nCMD x\nUSER 1000", None)
    broken = parse_lossless("FROM a\nRUN <<EOF\necho\nEOF\nRUN b\n")
    [finding] = BreakHeredoc().check(broken, FixContext())
    fixed, refused = fix_one(broken, finding)
    assert fixed == broken.source and refused is not None


def test_one_finding_fix_that_buildkits_parser_rejects_is_refused() -> None:
    """fix_one asks BuildKit's parser too, as a round does (a fix `dockfix` itself reads
    fine: `<< EOF` with a space)."""
    from dockfix.core.buildkit_check import buildkit_rejects
    from support.misbehaving_plugin import SpaceHeredoc

    doc = parse_lossless("FROM alpine\nRUN <<EOF\nenv CC=gcc make\nEOF\n")
    [finding] = SpaceHeredoc().check(doc, FixContext())
    if not buildkit_rejects("FROM alpine\nRUN << EOF\nenv CC=gcc make\nEOF\n"):
        pytest.skip("BuildKit's parser (the `dockerfile` package) is not installed")
    fixed, refused = fix_one(doc, finding)
    assert fixed == doc.source
    assert refused is not None and "BuildKit" in refused


class SplitStage(Fixer):
    """Splits a one-stage file: the runtime stage starts after the last RUN."""

    code = "T004"
    name = "split-stage"
    summary = "splits the stage"
    restructures = True

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        if len(doc.stages) == 1:
            last_run = [i for i in doc.instructions if i.keyword == "RUN"][-1]
            edit = insert_after(doc, last_run, ["", "FROM runtime", "COPY --from=0 /out /out"])
            yield self.finding(last_run, "one stage", Fix.safe(edit))


class LabelFinalStage(Fixer):
    code = "T005"
    name = "label-final-stage"
    summary = "labels the final stage"

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        final = doc.stages[-1]
        if "LABEL" not in doc.source:
            edit = insert_after(doc, final.from_instruction, ["LABEL final=yes"])
            yield self.finding(final.from_instruction, "no label", Fix.safe(edit))


def test_a_restructuring_fix_goes_alone_and_first() -> None:
    """In the same round as the split, the final stage's label would land in the builder."""
    text = "FROM build\nRUN make\nCMD run\n"
    fixed, warnings = run(text, LabelFinalStage(), SplitStage())
    assert warnings == []
    builder, runtime = fixed.split("\nFROM runtime\n")
    assert builder == "FROM build\nRUN make\n"
    assert runtime == "LABEL final=yes\nCOPY --from=0 /out /out\nCMD run\n"


class _CountsAddChecks(Fixer):
    code = "T900"
    name = "counts-add"
    summary = "counts the files it is run on"
    acts_on = frozenset({"ADD"})

    def __init__(self) -> None:
        super().__init__()
        self.runs = 0

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        self.runs += 1
        yield from ()


def test_a_fixer_is_not_run_on_a_file_without_the_instructions_it_acts_on() -> None:
    fixer = _CountsAddChecks()
    for text, runs in (
        ("FROM a\nCOPY x /\n", 0),
        ("FROM a\nADD x /\n", 1),
        ("FROM a\nonbuild add x /\n", 2),  # as an ONBUILD trigger too, in any letter case
    ):
        fix_document(text, [fixer], FixContext(), apply=False)
        assert fixer.runs == runs, text


def test_what_each_fixer_says_it_acts_on_holds_on_every_fixture() -> None:
    """A shipped fixer that declares `acts_on` finds nothing in a file without those
    instructions (so skipping it there changes no output)."""
    from pathlib import Path

    from dockfix.core.catalog import all_fixers
    from dockfix.core.engine import instruction_keywords

    declared = [cls() for cls in all_fixers().values() if cls.acts_on]
    assert declared
    fixtures = Path(__file__).resolve().parent.parent / "fixtures"
    checked = 0
    for dockerfile in sorted(fixtures.glob("*/*/Dockerfile")):
        doc = parse_lossless(dockerfile.read_bytes().decode("utf-8"))
        for fixer in declared:
            if instruction_keywords(doc).isdisjoint(fixer.acts_on):
                ctx = FixContext(path=dockerfile, context_dir=dockerfile.parent, offline=True)
                assert list(fixer.check(doc, ctx)) == [], (fixer.code, dockerfile)
                checked += 1
    assert checked
