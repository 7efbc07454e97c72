"""The helpers fixers write new lines with: the file's keyword case, indentation, BOM."""

from __future__ import annotations

import pytest

import dockfix
from dockfix.core.edits import apply_edits, indent_of, insert_after, insert_before, keyword_style


@pytest.mark.parametrize(
    ("text", "style"),
    [
        ("from a\nRUN x\n", "USER"),  # exactly half lower case: upper case wins the tie
        ("from a\nrun x\nCMD y\nENV z=1\n", "USER"),
        ("from a\nrun x\nCMD y\n", "user"),  # most are lower case
        ("from a\n", "user"),
        ("FROM a\n", "USER"),
    ],
)
def test_keyword_case_follows_the_majority_of_the_file(text: str, style: str) -> None:
    assert keyword_style(dockfix.parse(text), "USER") == style


BOM = "\ufeff"


@pytest.mark.parametrize("indent", ["", "  ", "\t"])
def test_the_first_line_of_a_bom_file_gives_its_indentation_not_the_bom(indent: str) -> None:
    text = f"{BOM}{indent}FROM a\n  RUN x\n"
    doc = dockfix.parse(text)
    first, second = doc.instructions
    assert indent_of(doc, first) == indent
    assert indent_of(doc, second) == "  "
    out = apply_edits(text, [insert_after(doc, first, ["ARG V=1"])])
    assert out == f"{BOM}{indent}FROM a\n{indent}ARG V=1\n  RUN x\n"
    out = apply_edits(text, [insert_before(doc, first, ["ARG V=1"])])
    assert out == f"{BOM}{indent}ARG V=1\n{indent}FROM a\n  RUN x\n"


@pytest.mark.parametrize("comment", ["# build the api", "# hadolint ignore=DL3006"])
def test_new_lines_go_above_a_comment_block_that_starts_after_the_bom(comment: str) -> None:
    # The comments directly above an instruction belong to it, the first line's too.
    text = f"{BOM}{comment}\nFROM a\n"
    doc = dockfix.parse(text)
    (instr,) = doc.instructions
    assert doc.comment_lines_above(instr) == [comment]
    out = apply_edits(text, [insert_before(doc, instr, ["ARG V=1"])])
    assert out == f"{BOM}ARG V=1\n{comment}\nFROM a\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FROM a\nRUN x", "FROM a\nRUN x\nUSER 1"),  # no final line break: none added
        ("FROM a\nRUN x\r", "FROM a\nRUN x\r\nUSER 1"),  # a lone \r is no line break
        ("FROM a\r\nRUN x\r\n", "FROM a\r\nRUN x\r\nUSER 1\r\n"),
    ],
)
def test_a_line_below_the_last_instruction_keeps_it_unchanged(text: str, expected: str) -> None:
    doc = dockfix.parse(text)
    out = apply_edits(text, [insert_after(doc, doc.instructions[-1], ["USER 1"])])
    assert out == expected
    assert dockfix.parse(out).instructions[1].logical == doc.instructions[1].logical
