"""Suppression pragmas as documented in the README: `# dockfix ignore=`, `global ignore=`, ALL."""

from __future__ import annotations

import pytest

import dockfix

SELECT = ["DF102", "DF105", "DF201", "DF502"]
SRC = "FROM debian:bookworm\nMAINTAINER me\nRUN apt-get update\nRUN apt-get install -y curl\n"


def fix(text: str) -> tuple[str, list[str]]:
    out, left = dockfix.fix(text, select=SELECT, unsafe_fixes=True, offline=True)
    return out, sorted(f.code for f in left)


def test_without_a_pragma_every_rule_fixes_the_file() -> None:
    out, left = fix(SRC)
    assert "MAINTAINER" not in out and "USER" in out and "--no-install-recommends" in out
    assert left == []


@pytest.mark.parametrize(
    "text",
    [
        "# dockfix global ignore=ALL\n" + SRC,  # first line: a comment, not a directive
        SRC.replace("RUN apt-get update\n", "# dockfix global ignore=ALL\nRUN apt-get update\n"),
        SRC + "# dockfix global ignore=ALL\n",  # last line, far from any finding
        SRC + "  #   DOCKFIX GLOBAL IGNORE = all",  # any spelling, no final line break
    ],
)
def test_global_ignore_all_anywhere_suppresses_every_rule_for_the_whole_file(text: str) -> None:
    assert fix(text) == (text, [])


def test_global_ignore_of_one_code_suppresses_only_that_code() -> None:
    text = SRC + "# dockfix global ignore=DF502\n"
    out, left = fix(text)
    assert "MAINTAINER me" in out and "USER" in out and "--no-install-recommends" in out
    assert left == []


def test_ignore_all_without_global_covers_only_the_instruction_below() -> None:
    text = SRC.replace("MAINTAINER me\n", "# dockfix ignore=ALL\nMAINTAINER me\n")
    out, left = fix(text)
    assert "# dockfix ignore=ALL\nMAINTAINER me\n" in out
    assert "USER" in out and "--no-install-recommends" in out and left == []


def test_a_pragma_on_the_first_line_of_a_file_with_a_bom_is_honoured() -> None:
    text = '\ufeff# dockfix ignore=DF201\nFROM debian\nCMD ["x"]\n'
    assert dockfix.fix(text, select=["DF201"], unsafe_fixes=True) == (text, [])
