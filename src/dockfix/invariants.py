"""Checks the engine runs on every fixed text, whatever fixer produced it.

Bytes outside the edits are identical by construction (edits are applied as ranges). What a
range edit can still break is structure: a directive that is no longer first, a pragma no
longer directly above its instruction, a heredoc body that is now read as instructions. Each
check maps an untouched original offset through the edits and looks at the new tree there.
"""

from __future__ import annotations

from collections.abc import Sequence

from dockfix.fixer import Edit
from dockfix.suppression import is_pragma
from dockfix.syntax import Dockerfile


def _mapper(edits: Sequence[Edit]) -> tuple[list[Edit], list[int]]:
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    deltas = []
    total = 0
    for e in ordered:
        total += len(e.text) - (e.end - e.start)
        deltas.append(total)
    return ordered, deltas


def _covered(ordered: Sequence[Edit], start: int, end: int) -> bool:
    return any(e.start < end and start < e.end for e in ordered)


def _map(ordered: Sequence[Edit], deltas: Sequence[int], offset: int) -> int:
    shift = 0
    for e, d in zip(ordered, deltas, strict=True):
        if e.end <= offset:  # an insertion at the offset moves the text there too
            shift = d
        else:
            break
    return offset + shift


def check_invariants(old: Dockerfile, new: Dockerfile, edits: Sequence[Edit]) -> str | None:
    """A description of the first broken invariant, or None."""
    ordered, deltas = _mapper(edits)

    # Directives: every original directive is still a directive with the same value.
    new_dirs = {(d.key, d.value) for d in new.directives}
    for d in old.directives:
        if (d.key, d.value) not in new_dirs and not _covered(ordered, d.start, d.end + 1):
            return f"directive `# {d.key}={d.value}` is no longer a parser directive"

    # Instructions outside the edits are still the same instructions: an insertion after an
    # instruction that ends in a dangling continuation would otherwise be absorbed into it.
    new_by_start = {i.start: i for i in new.instructions}
    for instr in old.instructions:
        if _covered(ordered, instr.start, instr.next) or any(
            # text appended to the last line belongs to the instruction; a new line does not
            e.start == e.end == instr.end and not e.text.startswith(("\n", "\r\n"))
            for e in ordered
        ):
            continue
        moved = new_by_start.get(_map(ordered, deltas, instr.start))
        if moved is None or moved.logical != instr.logical:
            return f"{instr.keyword} on line {instr.start_line} changed although no edit covers it"

    # Heredoc bodies outside edits still start a heredoc body at the mapped offset.
    new_bodies = {h.body_start: h.body for i in new.instructions for h in i.heredocs}
    for instr in old.instructions:
        for h in instr.heredocs:
            if _covered(ordered, h.body_start, max(h.body_end, h.body_start + 1)):
                continue
            if new_bodies.get(_map(ordered, deltas, h.body_start)) != h.body:
                return f"heredoc body <<{h.name} (line {instr.start_line}) changed or was re-read"

    # Pragmas stay directly above the instruction they were written for.
    for instr in old.instructions:
        n = instr.start_line - 1
        above = old.comment_lines_above(instr)
        for k, line in enumerate(reversed(above)):
            if not is_pragma(line):
                continue
            ln = old.line(n - k)
            if _covered(ordered, ln.start, ln.next):
                continue
            # an edit from the instruction's first character on leaves the pragma directly
            # above whatever starts there now: `start + 1` decides nothing more than `start`
            if _covered(ordered, instr.start, instr.start + 1):  # pragma: no mutate
                continue
            new_instr_start = _map(ordered, deltas, instr.start)
            target = next((i for i in new.instructions if i.start == new_instr_start), None)
            if target is None:
                continue  # the instruction itself was removed or rewritten by an edit
            new_above = new.comment_lines_above(target)
            if line not in new_above:
                return f"pragma `{line.strip()}` is no longer directly above its instruction"
    return None
