"""Checks the engine runs on every fixed text, whatever fixer produced it.

Bytes outside the edits are identical by construction (edits are applied as ranges). What a
range edit can still break is structure: a directive that is no longer first, a pragma no
longer directly above its instruction, a heredoc body that is now read as instructions or
read differently. Each check maps an untouched original offset through the edits and looks at
the new tree there.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from dockfix.core.edits import runs_to_the_end
from dockfix.core.fixer import Edit
from dockfix.core.suppression import is_pragma
from dockfix.syntax import Dockerfile, Heredoc, Instruction


class _Edits:
    """The edits of one fix round, sorted, for range questions by binary search (asked for
    every instruction of the file: a scan of the edits each time made a file's cost grow
    with its length times its number of edits).

    The engine applies only edits that do not overlap, so sorted by start their ends do not
    decrease either."""

    def __init__(self, edits: Sequence[Edit]) -> None:
        self.ordered = sorted(edits, key=lambda e: (e.start, e.end))
        self.starts = [e.start for e in self.ordered]
        self.ends = [e.end for e in self.ordered]
        self.deltas: list[int] = []
        total = 0
        for e in self.ordered:
            total += len(e.text) - (e.end - e.start)
            self.deltas.append(total)
        # where text is appended to a line (an insertion that does not start a new line)
        self.appends = {
            e.start
            for e in self.ordered
            if e.start == e.end and not e.text.startswith("\n") and not e.text.startswith("\r\n")
        }

    def covered(self, start: int, end: int) -> bool:
        """Whether an edit touches ``[start, end)`` (an insertion strictly inside it counts)."""
        k = bisect_right(self.ends, start)  # the first edit that ends after ``start``
        return k < len(self.ordered) and self.starts[k] < end

    def map(self, offset: int) -> int:
        """Where an untouched original offset is in the new text."""
        k = bisect_right(self.ends, offset)  # an insertion at the offset moves the text there too
        return offset + (self.deltas[k - 1] if k else 0)


def _opener(h: Heredoc) -> str:
    """What decides how a heredoc body is read: the fd it feeds, ``-`` (leading tabs
    stripped), a quoted delimiter (no expansion) and the delimiter itself."""
    fd = "" if h.fd is None else str(h.fd)
    dash = "-" if h.strip_tabs else ""
    quote = "'" if h.quoted else ""
    return f"{fd}<<{dash}{quote}{h.name}{quote}"


def _absorbed_insertion(doc: Dockerfile, instr: Instruction, ed: _Edits) -> str | None:
    if not runs_to_the_end(doc, instr):
        return None
    escape_at = instr.segments[-1][2]
    if ed.covered(escape_at, escape_at + 1):
        return None  # an edit rewrites the dangling continuation
    for e in ed.ordered:
        if e.text and escape_at < e.start <= instr.next:
            return (
                f"text inserted after line {instr.end_line} would be read as part of the "
                f"{instr.keyword} on line {instr.start_line} (its last line ends with a "
                "continuation that only empty or comment lines follow)"
            )
    return None


def check_invariants(old: Dockerfile, new: Dockerfile, edits: Sequence[Edit]) -> str | None:
    """A description of the first broken invariant, or None."""
    ed = _Edits(edits)

    # Directives: every original directive is still a directive with the same value.
    new_dirs = {(d.key, d.value) for d in new.directives}
    for d in old.directives:
        if (d.key, d.value) not in new_dirs and not ed.covered(d.start, d.end + 1):
            return f"directive `# {d.key}={d.value}` is no longer a parser directive"

    # Instructions outside the edits are still the same instructions: an insertion after an
    # instruction that ends in a dangling continuation would otherwise be absorbed into it.
    new_by_start = {i.start: i for i in new.instructions}
    for instr in old.instructions:
        # text appended to the last line belongs to the instruction; a new line does not
        if ed.covered(instr.start, instr.next) or instr.end in ed.appends:
            continue
        moved = new_by_start.get(ed.map(instr.start))
        if moved is None or moved.logical != instr.logical:
            return f"{instr.keyword} on line {instr.start_line} changed although no edit covers it"

    # An instruction whose last line ends with a continuation that only empty or comment
    # lines follow (it runs to the end of the file) joins whatever is written after it: a
    # line inserted there, meant as an instruction of its own, would become its arguments.
    for instr in old.instructions:
        problem = _absorbed_insertion(old, instr, ed)
        if problem:
            return problem

    # Heredoc bodies outside edits still start a heredoc body at the mapped offset, and are
    # still read the same way: an edit of the header alone (``<<EOF`` to ``<<-EOF`` or
    # ``<<'EOF'``) keeps the body's bytes but changes the script BuildKit runs.
    new_heredocs = {h.body_start: h for i in new.instructions for h in i.heredocs}
    for instr in old.instructions:
        for h in instr.heredocs:
            if ed.covered(h.body_start, max(h.body_end, h.body_start + 1)):
                continue
            now = new_heredocs.get(ed.map(h.body_start))
            if now is None or now.body != h.body:
                return f"heredoc body <<{h.name} (line {instr.start_line}) changed or was re-read"
            if _opener(now) != _opener(h):
                return (
                    f"heredoc {_opener(h)} (line {instr.start_line}) now opens as "
                    f"{_opener(now)}, which changes how its body is read"
                )

    # Pragmas stay directly above the instruction they were written for.
    for instr in old.instructions:
        n = instr.start_line - 1
        above = old.comment_lines_above(instr)
        for k, line in enumerate(reversed(above)):
            if not is_pragma(line):
                continue
            ln = old.line(n - k)
            if ed.covered(ln.start, ln.next):
                continue
            # an edit from the instruction's first character on leaves the pragma directly
            # above whatever starts there now: `start + 1` decides nothing more than `start`
            if ed.covered(instr.start, instr.start + 1):  # pragma: no mutate
                continue
            target = new_by_start.get(ed.map(instr.start))
            if target is None:
                continue  # the instruction itself was removed or rewritten by an edit
            new_above = new.comment_lines_above(target)
            if line not in new_above:
                return f"pragma `{line.strip()}` is no longer directly above its instruction"
    return None
