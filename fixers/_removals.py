"""Removing an instruction together with the ignore pragmas written for it (DF511
overridden-instruction, DF515 secret-in-arg-env): `# hadolint ignore=…` and `# dockfix
ignore=…` apply to the line below them, so left behind they would silence the next
instruction instead."""

from __future__ import annotations

from dockfix.core.edits import delete_instruction
from dockfix.core.fixer import Edit
from dockfix.core.suppression import read_pragma
from dockfix.syntax import Dockerfile, Instruction


def delete_with_pragmas(doc: Dockerfile, instr: Instruction) -> Edit:
    """Remove the instruction and the per-line ignore pragmas right above it (global ones
    stay: they apply to the whole file)."""
    edit = delete_instruction(doc, instr)
    first = instr.start_line
    while first > 1:
        pragma = read_pragma(doc.line_text(first - 1))
        if pragma is None or pragma.is_global:
            break
        first -= 1
    if first == instr.start_line:
        return edit
    if edit.start < instr.start:
        # the file's last line, without a break: the break before the pragmas goes with it
        return Edit.delete(doc.line(first - 1).end, edit.end) if first > 1 else edit
    return Edit.delete(doc.line(first).start, edit.end)
