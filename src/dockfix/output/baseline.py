"""A baseline: ``dockfix check --add-noqa`` writes an ignore pragma for every finding left.

Each instruction with findings gets ``# dockfix ignore=CODES`` (its codes, sorted) directly
above its first line, or its codes added to the dockfix pragma already in its comment block;
a finding on a line no instruction owns gets ``# dockfix global ignore=CODES`` below the
parser directives. The edits go through the engine's checks like any fix, so the file keeps
its line endings, indentation, BOM, directives and heredoc bodies; a second run adds nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from dockfix.core.buildkit_check import buildkit_rejects
from dockfix.core.edits import global_ignore_pragma_edit, ignore_pragma_edit
from dockfix.core.engine import apply_checked
from dockfix.core.fixer import Edit, Finding
from dockfix.syntax import Dockerfile, Instruction, parse_lossless


def ignore_pragma_edits(doc: Dockerfile, findings: Iterable[Finding]) -> list[Edit]:
    """One edit per pragma to write or extend so that ``findings`` are suppressed."""
    by_instruction: dict[int, tuple[Instruction, set[str]]] = {}
    file_level: set[str] = set()
    for f in findings:
        # A finding inside a heredoc body or a continuation line belongs to the instruction
        # that owns the line (as suppression reads it): the pragma goes above its first line.
        instr = doc.instruction_at_line(f.line)
        if instr is None:
            file_level.add(f.code)
        else:
            by_instruction.setdefault(instr.start, (instr, set()))[1].add(f.code)
    edits: list[Edit] = []
    # The global line first: at the top of a file that starts with an instruction, both are
    # inserted at the same offset, in this order.
    if file_level and (edit := global_ignore_pragma_edit(doc, file_level)) is not None:
        edits.append(edit)
    for instr, codes in by_instruction.values():
        codes -= file_level  # the global pragma silences them in the whole file already
        if codes and (edit := ignore_pragma_edit(doc, instr, codes)) is not None:
            edits.append(edit)
    return edits


def add_ignore_pragmas(text: str, findings: Iterable[Finding]) -> tuple[str, int, str | None]:
    """(the text with pragmas for ``findings``, how many were written, the problem that kept
    the text unchanged or None)."""
    doc = parse_lossless(text)
    if doc.error is not None:
        return text, 0, f"does not parse ({doc.error})"
    edits = ignore_pragma_edits(doc, findings)
    new_text, _, problem = apply_checked(doc, edits)
    if problem is None and new_text != text and (rejected := buildkit_rejects(new_text)):
        problem = f"BuildKit's parser rejects the result ({rejected})"
    if problem is not None:
        return text, 0, problem
    return new_text, len(edits), None
