"""`Fix.later`: a fix whose edits are built only when something reads them.

`check` counts fixable findings from the applicability alone and never builds deferred edits;
`fix`, the formats that print edits and an editor's quick fix build them once."""

from __future__ import annotations

import functools
import pickle
from collections.abc import Iterator

from dockfix.core.engine import fix_document, fix_one, fixable_summary
from dockfix.core.fixer import Applicability, Edit, Finding, Fix, Fixer
from dockfix.run.wire import pack_outcome, unpack_outcome
from dockfix.semantics.context import FixContext
from dockfix.syntax import Dockerfile, parse

BUILT: list[str] = []


def _lower_run(doc: Dockerfile, start: int) -> tuple[Edit, ...]:
    BUILT.append(doc.source[start : start + 3])
    return (Edit(start, start + 3, "run"),)


class LowerLater(Fixer):
    """Lower-cases `RUN`, its edit deferred."""

    code = "T201"
    name = "lower-later"
    summary = "lower-cases RUN"

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for instr in doc.instructions:
            if instr.keyword_raw == "RUN":
                build = functools.partial(_lower_run, doc, instr.start)
                yield self.finding(instr, "upper", Fix.later(Applicability.SAFE, build, "lower"))


TEXT = "FROM a\nRUN b\nRUN c\n"


def test_check_counts_a_deferred_fix_without_building_it() -> None:
    BUILT.clear()
    out = fix_document(TEXT, [LowerLater()], FixContext(), apply=False)
    assert [f.line for f in out.findings] == [2, 3]
    assert all(f.fixable and f.fix is not None and f.fix.deferred for f in out.findings)
    assert fixable_summary(out.findings, False) == (2, 0)
    assert BUILT == []
    # The wire format without edits (what `check` sends from its workers) does not build them.
    unpacked = unpack_outcome(pack_outcome(out, keep_edits=False))
    assert [f.applicability for f in unpacked.findings] == [Applicability.SAFE] * 2
    assert BUILT == []


def test_fix_builds_the_edits_once_and_applies_them() -> None:
    BUILT.clear()
    out = fix_document(TEXT, [LowerLater()], FixContext())
    assert out.fixed == "FROM a\nrun b\nrun c\n"
    assert BUILT == ["RUN", "RUN"]  # one build per finding, in the first round only
    assert out.findings == []


def test_reading_the_edits_builds_them_and_keeps_them() -> None:
    BUILT.clear()
    out = fix_document(TEXT, [LowerLater()], FixContext(), apply=False)
    fix = out.findings[0].fix
    assert fix is not None and fix.deferred
    assert fix.edits == (Edit(7, 10, "run"),)
    assert fix.edits == (Edit(7, 10, "run"),)
    assert not fix.deferred and BUILT == ["RUN"]
    # A built fix equals the same fix made eagerly, and survives pickling.
    assert fix == Fix((Edit(7, 10, "run"),), Applicability.SAFE, "lower")
    assert pickle.loads(pickle.dumps(fix)) == fix
    packed = unpack_outcome(pack_outcome(out, keep_edits=True))
    assert packed.findings[1].fix is not None
    assert packed.findings[1].fix.edits == (Edit(13, 16, "run"),)


def test_an_editor_s_quick_fix_builds_the_edit() -> None:
    doc = parse(TEXT)
    finding = next(iter(LowerLater().check(doc, FixContext())))
    text, err = fix_one(doc, finding)
    assert (text, err) == ("FROM a\nrun b\nRUN c\n", None)


def test_a_run_builds_deferred_edits_before_it_takes_the_tree_apart(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A file's report outlives its tree (runner.process_path takes the tree apart): deferred
    edits are built before, when the run keeps edits, and dropped with the tree otherwise."""
    from dockfix.run.runner import RunOptions, fix_text_with, process_path

    text = 'FROM debian:12\nCMD ["app"]\n'  # DF201 defers its edits
    path = tmp_path / "Dockerfile"
    path.write_text(text)
    opts = RunOptions(offline=True, select=("DF201",), cache_dir=None)
    whole = fix_text_with(text, path, opts, read_from_path=True)  # its tree stays whole
    (expected,) = whole.findings
    assert expected.fix is not None and expected.fix.deferred and expected.fix.edits

    kept = process_path(str(path), opts)
    assert kept.outcome is not None
    (finding,) = kept.outcome.findings
    assert finding.fix is not None and not finding.fix.deferred
    assert finding.fix.edits == expected.fix.edits

    dropped = process_path(str(path), opts._replace(keep_edits=False))
    assert dropped.outcome is not None
    (bare,) = dropped.outcome.findings
    assert bare.fix is not None and not bare.fix.deferred and bare.fix.edits == ()
    assert bare.applicability is Applicability.UNSAFE
