"""Whether edits to one instruction leave a file that parses with the same instructions and
comment lines, and an edited instruction a fixer accepts (DF401, DF403, DF501, DF502, DF504:
checks the engine does not make yet).

The file is parsed line by line, each instruction from where the one before it ends: when the
edits stay inside one instruction's lines, which still read as one instruction that ends on
its last line, every other instruction reads as before. Those lines alone are parsed then,
not the whole file again; anything else (heredocs, a first line, a byte-order mark, edits
that move instruction boundaries) gets the whole file parsed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dockfix.core.fixer import Edit
    from dockfix.syntax import Dockerfile, Instruction

# An instruction after the edited lines: it must still read as one (the edited instruction
# does not run on into the next line).
_NEXT_LINE = "RUN true"


def verified_edits(
    doc: Dockerfile,
    instr: Instruction,
    edits: Sequence[Edit],
    check: Callable[[Instruction], bool],
) -> bool:
    """Whether the edited file parses with the same instructions, keeps every comment line,
    and ``check`` accepts the edited instruction (found by its index: the edits here never
    add or remove instructions). ``check`` reads the instruction's words, never its place."""
    from dockfix.core.edits import apply_edits

    try:
        text = apply_edits(doc.source, edits)
    except ValueError:
        return False
    edited = edited_alone(doc, instr, edits, text)
    if edited is not None:
        return edited[1] and check(edited[0])
    return verified_whole(doc, instr, text, check)


def verified_whole(
    doc: Dockerfile, instr: Instruction, text: str, check: Callable[[Instruction], bool]
) -> bool:
    """:func:`verified_edits` on the edited file ``text``, parsed whole."""
    from dockfix.syntax import parse_lossless

    new = parse_lossless(text)
    if new.error is not None or len(new.instructions) != len(doc.instructions):
        return False
    if Counter(_comment_lines(new)) != Counter(_comment_lines(doc)):
        return False
    for old_i, new_i in zip(doc.instructions, new.instructions, strict=True):
        if old_i.keyword != new_i.keyword and old_i is not instr:
            return False
    return check(new.instructions[instr.index])


def edited_alone(
    doc: Dockerfile, instr: Instruction, edits: Sequence[Edit], text: str
) -> tuple[Instruction, bool] | None:
    """The edited instruction parsed from its own lines, and whether its comment lines are
    the ones it had; None when the whole file must be parsed to know."""
    from dockfix.syntax import parse_lossless

    if doc.error is not None or instr.heredocs or instr.start_line == 1:
        return None
    first = doc.lines[instr.start_line - 1]
    last = doc.lines[instr.end_line - 1]
    if any(e.start < first.start or e.end > last.end for e in edits):
        return None
    grown = len(text) - len(doc.source)
    # the file's escape character, and a first line of the file's own (a byte-order mark
    # would be read at the start of the first)
    prefix = f"# escape={doc.escape}\n"
    lines = prefix + text[first.start : last.end + grown] + "\n"
    alone = parse_lossless(f"{lines}{_NEXT_LINE}\n")
    if alone.error is not None or len(alone.instructions) != 2:
        return None
    new, after = alone.instructions
    if new.start_line != 2 or after.start_line != new.end_line + 1:
        return None  # the first line no longer starts it, or it ends before its last line
    if after.start != len(lines) or after.logical != _NEXT_LINE or after.heredocs:
        return None  # it runs on into the next line
    kept = Counter(_comment_lines(alone)[1:])
    had = Counter(_line_comments(doc, instr.start_line, instr.end_line))
    return new, kept == had


def _line_comments(doc: Dockerfile, first: int, last: int) -> list[str]:
    """The comment lines among lines ``first`` to ``last`` (an instruction without heredocs:
    the ones inside its continuation)."""
    out = []
    for ln in doc.lines[first - 1 : last]:
        text = doc.source[ln.start : ln.end].lstrip(" \t\ufeff")
        if text.startswith("#"):
            out.append(text.rstrip())
    return out


def _comment_lines(doc: Dockerfile) -> list[str]:
    """Comment lines outside heredoc bodies (pragmas and notes a fix must not drop)."""
    bodies = [(h.body_start, h.body_end) for i in doc.instructions for h in i.heredocs]
    out = []
    for ln in doc.lines:
        text = doc.source[ln.start : ln.end].lstrip(" \t\ufeff")
        if text.startswith("#") and not any(s <= ln.start < e for s, e in bodies):
            out.append(text.rstrip())
    return out
