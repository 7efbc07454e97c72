"""edits.py at its boundaries: the cases scripts/mutation found untested."""

from __future__ import annotations

import pytest

from dockfix.core.edits import (
    add_syntax_directive,
    apply_edits,
    delete_instruction,
    edits_overlap,
    indent_of,
    insert_after,
    insert_before,
    keyword_style,
)
from dockfix.core.fixer import Edit
from dockfix.syntax import parse


def test_apply_edits_keeps_the_text_around_and_between_edits() -> None:
    text = "0123456789"
    edits = [Edit(7, 8, "S"), Edit(2, 4, ""), Edit.insert(5, "I")]
    assert apply_edits(text, edits) == "014I56S89"


def test_apply_edits_accepts_edits_that_touch_and_refuses_overlaps() -> None:
    assert apply_edits("abcd", [Edit(1, 2, "X"), Edit(2, 3, "Y")]) == "aXYd"
    with pytest.raises(ValueError, match="overlapping edits at 1-3 and 2-4"):
        apply_edits("abcd", [Edit(2, 4, ""), Edit(1, 3, "")])


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        (Edit(0, 2, ""), Edit(2, 4, ""), False),  # adjacent ranges
        (Edit(0, 3, ""), Edit(2, 4, ""), True),
        (Edit(2, 4, ""), Edit(0, 3, ""), True),
        (Edit.insert(2, "x"), Edit.insert(2, "y"), True),  # two insertions at one point
        (Edit.insert(2, "x"), Edit(2, 4, ""), True),  # an insertion where a range starts
        (Edit(2, 4, ""), Edit.insert(2, "x"), True),
        (Edit.insert(3, "x"), Edit(2, 4, ""), True),  # an insertion inside a range
        (Edit(2, 4, ""), Edit.insert(3, "x"), True),
        (Edit.insert(4, "x"), Edit(2, 4, ""), False),  # an insertion where a range ends
        (Edit(2, 4, ""), Edit.insert(4, "x"), False),
        (Edit.insert(1, "x"), Edit.insert(2, "y"), False),
    ],
)
def test_edits_overlap(a: Edit, b: Edit, overlap: bool) -> None:
    assert edits_overlap([a], [b]) is overlap
    assert edits_overlap([Edit.insert(9, "z"), a], [b]) is overlap  # every pair is looked at


def test_indent_of_a_bom_file_does_not_count_the_bom() -> None:
    doc = parse("\ufeff  FROM a\n\tRUN b\n")
    assert indent_of(doc, doc.instructions[0]) == "  "
    assert indent_of(doc, doc.instructions[1]) == "\t"
    plain = parse("FROM a\n")
    assert indent_of(plain, plain.instructions[0]) == ""


@pytest.mark.parametrize(
    ("text", "style"),
    [
        ("from a\nrun b\nCOPY c d\n", "run"),
        ("from a\nRUN b\n", "RUN"),  # exactly half: upper case, the documented default
        ("FROM a\nrun b\nCOPY c d\n", "RUN"),
    ],
)
def test_keyword_style_follows_the_majority(text: str, style: str) -> None:
    assert keyword_style(parse(text), "RUN") == style


def test_insert_before_goes_above_the_comments_of_the_instruction() -> None:
    text = "FROM a\n# keep\n# hadolint ignore=DL3008\nRUN b\n"
    doc = parse(text)
    edit = insert_before(doc, doc.instructions[1], ["USER x"])
    assert apply_edits(text, [edit]) == "FROM a\nUSER x\n# keep\n# hadolint ignore=DL3008\nRUN b\n"


def test_insert_before_the_first_line_of_a_bom_file_keeps_the_bom_first() -> None:
    text = "\ufeffFROM a\r\n"
    doc = parse(text)
    assert apply_edits(text, [insert_before(doc, doc.instructions[0], ["ARG X"])]) == (
        "\ufeffARG X\r\nFROM a\r\n"
    )


def test_insert_after_keeps_indentation_line_endings_and_a_missing_final_break() -> None:
    text = "FROM a\r\n  RUN b\r\nCMD c"
    doc = parse(text)
    run, cmd = doc.instructions[1], doc.instructions[2]
    assert apply_edits(text, [insert_after(doc, run, ["USER x", "ENV y=1"])]) == (
        "FROM a\r\n  RUN b\r\n  USER x\r\n  ENV y=1\r\nCMD c"
    )
    assert apply_edits(text, [insert_after(doc, cmd, ["USER x"])]) == (
        "FROM a\r\n  RUN b\r\nCMD c\r\nUSER x"
    )


def test_delete_the_last_instruction_without_a_final_break() -> None:
    text = "FROM a\r\nRUN b\r\nCMD c"
    doc = parse(text)
    assert apply_edits(text, [delete_instruction(doc, doc.instructions[2])]) == ("FROM a\r\nRUN b")
    text = "FROM a\n\n\nCMD c"
    doc = parse(text)
    # only the one line break before it goes: the blank lines above are not the instruction's
    assert apply_edits(text, [delete_instruction(doc, doc.instructions[1])]) == "FROM a\n\n"
    text = "FROM a\nCMD c\n"
    doc = parse(text)
    assert apply_edits(text, [delete_instruction(doc, doc.instructions[1])]) == "FROM a\n"


def test_add_syntax_directive() -> None:
    doc = parse("\ufeffFROM a\r\n")
    edit = add_syntax_directive(doc)
    assert edit == Edit(1, 1, "# syntax=docker/dockerfile:1\r\n")
    assert add_syntax_directive(parse("# syntax=docker/dockerfile:1.7\nFROM a\n")) is None
    assert add_syntax_directive(parse("FROM a\n"), "x/y:2") == Edit(0, 0, "# syntax=x/y:2\n")


def test_a_global_pragma_in_a_bom_file_goes_after_the_bom() -> None:
    from dockfix.core.edits import global_ignore_pragma_edit

    text = "\ufeffFROM a\nRUN x\n"
    edit = global_ignore_pragma_edit(parse(text), ["DF102"])
    assert edit is not None
    assert apply_edits(text, [edit]) == "\ufeff# dockfix global ignore=DF102\nFROM a\nRUN x\n"


def test_a_global_pragma_goes_below_every_parser_directive() -> None:
    from dockfix.core.edits import global_ignore_pragma_edit

    text = "# syntax=docker/dockerfile:1\n# escape=\\\nFROM a\n"
    edit = global_ignore_pragma_edit(parse(text), ["DF202"])
    assert edit is not None
    assert apply_edits(text, [edit]) == (
        "# syntax=docker/dockerfile:1\n# escape=\\\n# dockfix global ignore=DF202\nFROM a\n"
    )


@pytest.mark.parametrize(
    "text",
    [
        "# hadolint ignore=DL3008\nRUN x\n",
        "# hadolint ignore=DL3008\nRUN x\n# hadolint ignore=DL3009\n",
    ],
)
def test_a_pragma_above_the_first_line_of_the_file(text: str) -> None:
    from dockfix.core.edits import ignore_pragma_edit

    doc = parse(text)
    edit = ignore_pragma_edit(doc, doc.instructions[0], ["DF102"])
    assert edit is not None
    assert apply_edits(text, [edit]) == "# dockfix ignore=DF102\n" + text
