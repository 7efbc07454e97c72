"""Building and applying text edits.

Edits are character ranges of the original text. They are applied from the end of the file
backwards, so no edit moves another; bytes outside every edit stay identical. The helpers
here write new lines in the file's own style: its line ending, the instruction's indentation,
and its escape character for continuations.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence

from dockfix.core.fixer import Edit
from dockfix.core.suppression import read_pragma
from dockfix.syntax import Dockerfile, Instruction

__all__ = [
    "TakenEdits",
    "add_syntax_directive",
    "apply_edits",
    "continuation",
    "delete_instruction",
    "edits_overlap",
    "global_ignore_pragma_edit",
    "ignore_pragma_edit",
    "indent_of",
    "insert_after",
    "insert_before",
    "keyword_style",
    "replace_instruction_header",
    "replace_logical",
]


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits; raise ValueError when two overlap."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    for a, b in itertools.pairwise(ordered):
        if b.start < a.end:
            raise ValueError(f"overlapping edits at {a.start}-{a.end} and {b.start}-{b.end}")
    out: list[str] = []
    pos = 0
    for e in ordered:
        out.append(text[pos : e.start])
        out.append(e.text)
        pos = e.end
    out.append(text[pos:])
    return "".join(out)


def edits_overlap(a: Sequence[Edit], b: Sequence[Edit]) -> bool:
    """Whether two groups of edits touch the same text (or insert at the same point)."""
    return any(_conflict(x, y) for x in a for y in b)


def _conflict(x: Edit, y: Edit) -> bool:
    if x.start < y.end and y.start < x.end:
        return True
    # (an insertion strictly inside a range is caught by the test above)
    return x.start == y.start and (x.start == x.end or y.start == y.end)


class TakenEdits:
    """The edits chosen so far in a fix round, asked :func:`edits_overlap` for each new
    group by binary search (a scan of all of them for every finding made a file's cost grow
    with the square of its number of findings)."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._edits: list[Edit] = []
        self._longest = 0  # the longest range among them

    def overlaps(self, edits: Sequence[Edit]) -> bool:
        for x in edits:
            # an edit that touches x starts at most the longest range before it, and not after
            lo = bisect_left(self._starts, x.start - self._longest)
            hi = bisect_right(self._starts, x.end)
            if any(_conflict(x, y) for y in self._edits[lo:hi]):
                return True
        return False

    def add(self, edits: Iterable[Edit]) -> None:
        for e in edits:
            k = bisect_right(self._starts, e.start)
            self._starts.insert(k, e.start)
            self._edits.insert(k, e)
            self._longest = max(self._longest, e.end - e.start)


def indent_of(doc: Dockerfile, instr: Instruction) -> str:
    """The leading whitespace of the instruction's first line."""
    ln = doc.line(instr.start_line)
    start = ln.start + (1 if instr.start_line == 1 and doc.has_bom else 0)
    text = doc.source[start : ln.end]
    return text[: len(text) - len(text.lstrip(" \t"))]


def keyword_style(doc: Dockerfile, keyword: str) -> str:
    """``keyword`` in the file's own case: lower case when most instructions are written so."""
    lower = sum(1 for i in doc.instructions if i.keyword_raw.islower())
    return keyword.lower() if lower * 2 > len(doc.instructions) else keyword.upper()


def continuation(doc: Dockerfile) -> str:
    """The text that ends a continued line: `` \\`` or `` ` ``."""
    return " " + doc.escape


def insert_before(doc: Dockerfile, instr: Instruction, lines: Sequence[str]) -> Edit:
    """New lines above an instruction and above the comment block attached to it.

    Comments directly above an instruction belong to it (a ``# hadolint ignore=…`` pragma
    applies to the next line only), so new lines go above them and the pragma stays put.
    """
    indent = indent_of(doc, instr)
    eol = doc.eol
    first = instr.start_line - len(doc.comment_lines_above(instr))
    if first == instr.start_line:
        at = instr.start  # the line's start: the instruction's indentation stays with it
    else:
        at = doc.line(first).start
        if first == 1 and doc.has_bom:
            at += 1
    text = "".join(f"{indent}{line}{eol}" for line in lines)
    return Edit.insert(at, text)


def insert_after(doc: Dockerfile, instr: Instruction, lines: Sequence[str]) -> Edit:
    """New lines directly below an instruction (after its heredoc bodies)."""
    indent = indent_of(doc, instr)
    eol = doc.eol
    body = "".join(f"{indent}{line}{eol}" for line in lines)
    if "\n" not in doc.source[instr.end : instr.next]:
        # The last line, without a line break (a lone \r is none): keep it that way.
        return Edit.insert(instr.next, eol + body[: -len(eol)])
    return Edit.insert(instr.next, body)


def runs_to_the_end(doc: Dockerfile, instr: Instruction) -> bool:
    """Whether ``instr``'s last line ends with a continuation that only empty or comment
    lines follow: it runs to the end of the file, and joins any line written below it."""
    if instr.heredocs or not instr.segments:
        return False
    return doc.source.startswith(doc.escape, instr.segments[-1][2])


def delete_instruction(doc: Dockerfile, instr: Instruction) -> Edit:
    """Remove an instruction with its line break (comments inside its span go with it)."""
    if instr.next == instr.end and instr.start_line > 1:
        # Last line without a break: remove the break before it instead (all of it: `\r\n`).
        return Edit.delete(doc.line(instr.start_line - 1).end, instr.end)
    return Edit.delete(instr.start, instr.next)


def replace_logical(instr: Instruction, start: int, end: int, text: str) -> Edit:
    """Replace a range of the instruction's logical line (mapped back to the source)."""
    s, e = instr.source_span(start, end)
    return Edit(s, e, text)


def replace_instruction_header(instr: Instruction, text: str) -> Edit:
    """Replace the instruction's command lines (not heredoc bodies, not the final break)."""
    return Edit(instr.start, instr.header_end, text)


def add_syntax_directive(doc: Dockerfile, value: str = "docker/dockerfile:1") -> Edit | None:
    """``# syntax=…`` as the very first line (after a BOM); None when one is present."""
    if doc.directive("syntax") is not None:
        return None
    at = 1 if doc.has_bom else 0
    return Edit.insert(at, f"# syntax={value}{doc.eol}")


def _merged_pragma(
    doc: Dockerfile, number: int, is_global: bool, codes: Sequence[str]
) -> tuple[bool, Edit | None]:
    """Whether line ``number`` holds a dockfix pragma of that kind, and the edit adding
    ``codes`` to it (None when it names them all already)."""
    ln = doc.line(number)
    pragma = read_pragma(doc.source[ln.start : ln.end])
    if pragma is None or pragma.tool != "dockfix" or pragma.is_global != is_global:
        return False, None
    if "ALL" in pragma.codes or pragma.codes.issuperset(codes):
        return True, None
    start, end = pragma.codes_span
    merged = ",".join(sorted(pragma.codes.union(codes)))
    return True, Edit(ln.start + start, ln.start + end, merged)


def ignore_pragma_edit(doc: Dockerfile, instr: Instruction, codes: Iterable[str]) -> Edit | None:
    """``# dockfix ignore=CODES`` for an instruction: the codes added to the dockfix pragma of
    its comment block when there is one, a new line directly above it otherwise (above the
    ``# hadolint ignore=`` lines that end the block: hadolint reads only the line directly
    above). None when the pragma names every code already."""
    wanted = sorted(set(codes))
    above = doc.comment_lines_above(instr)
    first = instr.start_line - len(above)
    for number in range(instr.start_line - 1, first - 1, -1):
        found, edit = _merged_pragma(doc, number, False, wanted)
        if found:
            return edit
    line = instr.start_line
    while line > first:
        pragma = read_pragma(doc.line_text(line - 1))
        if pragma is None or pragma.tool != "hadolint" or pragma.is_global:
            break
        line -= 1
    at = doc.line(line).start
    if line == 1 and doc.has_bom:
        at += 1
    return Edit.insert(at, f"{indent_of(doc, instr)}# dockfix ignore={','.join(wanted)}{doc.eol}")


def global_ignore_pragma_edit(doc: Dockerfile, codes: Iterable[str]) -> Edit | None:
    """``# dockfix global ignore=CODES`` for findings no instruction carries: the codes added
    to the file's global dockfix pragma, or a new line below the parser directives. None when
    a global pragma names every code already."""
    wanted = sorted(set(codes))
    for ln in doc.lines:
        found, edit = _merged_pragma(doc, ln.number, True, wanted)
        if found:
            return edit
    after = doc.directives[-1].line if doc.directives else 0
    text = f"# dockfix global ignore={','.join(wanted)}"
    if after < len(doc.lines):
        at = doc.line(after + 1).start
        if after == 0 and doc.has_bom:
            at += 1
        return Edit.insert(at, text + doc.eol)
    last = doc.lines[-1] if doc.lines else None
    if last is not None and last.next == last.end:  # no line break at the end: add one first
        return Edit.insert(last.end, doc.eol + text)
    return Edit.insert(len(doc.source), text + doc.eol)
