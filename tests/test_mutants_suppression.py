"""suppression.py: which pragma suppresses which finding (cases scripts/mutation found untested)."""

from __future__ import annotations

import pytest

from dockfix.core.suppression import Suppressions, is_pragma
from dockfix.syntax import parse


def suppressed(
    text: str, code: str, hadolint: tuple[str, ...] = (), line: int | None = None
) -> bool:
    doc = parse(text)
    instr = doc.instructions[-1] if line is None else doc.instruction_at_line(line)
    return Suppressions.of(doc).suppressed(doc, instr, code, hadolint)


@pytest.mark.parametrize(
    ("pragma", "code", "hadolint", "expected"),
    [
        ("# dockfix global ignore=ALL", "DF999", (), True),
        ("# dockfix global ignore=df101, DF102", "DF102", (), True),
        ("# dockfix global ignore=DF101", "DF102", (), False),
        ("# hadolint global ignore=DL3008 DL3009", "DF999", ("DL3009",), True),
        ("# hadolint global ignore=DL3008", "DF999", ("DL3009",), False),
        # a global dockfix pragma does not read as a hadolint one, nor the other way round
        ("# dockfix global ignore=DL3008", "DF999", ("DL3008",), False),
        ("# hadolint global ignore=DF101", "DF101", (), False),
    ],
)
def test_global_pragmas_apply_anywhere_in_the_file(
    pragma: str, code: str, hadolint: tuple[str, ...], expected: bool
) -> None:
    text = f"FROM a\nRUN b\n{pragma}\nUSER c\nRUN d\n"
    assert suppressed(text, code, hadolint, line=2) is expected
    assert suppressed(text, code, hadolint) is expected


@pytest.mark.parametrize(
    ("pragma", "code", "hadolint", "expected"),
    [
        ("# dockfix ignore=DF101,DF102", "DF102", (), True),
        ("# dockfix ignore=ALL", "DF102", (), True),
        ("# dockfix ignore=DF101", "DF102", (), False),
        ("# hadolint ignore=DL3008", "DF102", ("DL3008",), True),
        ("# hadolint ignore=DL3008", "DF102", ("DL3009",), False),
        ("# HADOLINT ignore=dl3008", "DF102", ("DL3008",), True),
    ],
)
def test_pragmas_above_an_instruction_apply_to_it_only(
    pragma: str, code: str, hadolint: tuple[str, ...], expected: bool
) -> None:
    text = f"FROM a\n# why\n{pragma}\nRUN b\nRUN c\n"
    assert suppressed(text, code, hadolint, line=4) is expected
    assert suppressed(text, code, hadolint, line=5) is False  # the next one is not covered
    assert suppressed(text, code, hadolint, line=None) is False


def test_a_local_pragma_is_not_read_as_global_and_a_global_one_not_as_local() -> None:
    text = "FROM a\n# dockfix global ignore=DF102\nRUN b\n"
    doc = parse(text)
    sup = Suppressions.of(doc)
    assert sup.dockfix_global == {"DF102"} and sup.hadolint_global == set()
    assert Suppressions.of(parse("FROM a\n# dockfix ignore=DF102\nRUN b\n")).dockfix_global == set()


def test_findings_without_an_instruction_only_see_global_pragmas() -> None:
    doc = parse("# dockfix ignore=DF102\nFROM a\n")
    sup = Suppressions.of(doc)
    assert not sup.suppressed(doc, None, "DF102", ())
    doc = parse("# dockfix global ignore=DF102\nFROM a\n")
    assert Suppressions.of(doc).suppressed(doc, None, "DF102", ())


def test_a_file_without_pragmas_suppresses_nothing_and_is_read_once() -> None:
    doc = parse("FROM a\n# ignore this comment\nRUN b\n")
    sup = Suppressions.of(doc)
    assert sup.any_pragma and not sup.suppressed(doc, doc.instructions[1], "DF102", ())
    assert Suppressions.of(doc) is sup
    plain = parse("FROM a\nRUN b\n")
    assert not Suppressions.of(plain).any_pragma


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("# hadolint ignore=DL3008", True),
        ("  \t# dockfix ignore=DF101", True),
        ("#dockfix global ignore=ALL", True),
        ("# dockfix ignore=", False),
        ("# a note about ignore=DL3008", False),
        ("RUN x # hadolint ignore=DL3008", False),
    ],
)
def test_is_pragma(line: str, expected: bool) -> None:
    assert is_pragma(line) is expected
