"""Building and applying text edits.

Edits are character ranges of the original text. They are applied from the end of the file
backwards, so no edit moves another; bytes outside every edit stay identical. The helpers
here write new lines in the file's own style: its line ending, the instruction's indentation,
and its escape character for continuations.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

from dockfix.fixer import Edit
from dockfix.syntax import Dockerfile, Instruction

__all__ = [
    "add_syntax_directive",
    "apply_edits",
    "continuation",
    "delete_instruction",
    "edits_overlap",
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
    for x in a:
        for y in b:
            if x.start < y.end and y.start < x.end:
                return True
            # (an insertion strictly inside a range is caught by the test above)
            if x.start == y.start and (x.start == x.end or y.start == y.end):
                return True
    return False


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
    if instr.next == instr.end:  # last line without a line break: keep it that way
        return Edit.insert(instr.end, eol + body[: -len(eol)])
    return Edit.insert(instr.next, body)


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
