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


# BuildKit's `# check=` directive: the fixers resolving a skipped build check are off.
BK_SRC = "FROM alpine:3.20 as Build\nMAINTAINER me\nCMD echo hi\n"


def bk_codes(directive: str) -> list[str]:
    text = directive + BK_SRC
    outcome = dockfix.fix_outcome(
        text, select=["DF401", "DF502", "DF509", "DF517"], unsafe_fixes=True, offline=True
    )
    return sorted({f.code for f in outcome.findings + outcome.applied})


@pytest.mark.parametrize(
    ("directive", "left"),
    [
        ("", ["DF401", "DF502", "DF509", "DF517"]),
        ("# check=skip=JSONArgsRecommended\n", ["DF502", "DF509", "DF517"]),
        ("# check=skip=MaintainerDeprecated,StageNameCasing;error=true\n", ["DF401", "DF509"]),
        ("# syntax=docker/dockerfile:1\n#check = skip = all\n", []),
        # names are case-sensitive, as BuildKit reads them
        ("# check=skip=jsonargsrecommended\n", ["DF401", "DF502", "DF509", "DF517"]),
        # a finding matches the check of its case: DF509 on `as` is FromAsCasing only
        ("# check=skip=FromAsCasing\n", ["DF401", "DF502", "DF517"]),
        ("# check=skip=ConsistentInstructionCasing\n", ["DF401", "DF502", "DF509", "DF517"]),
        # `experimental=` enables experimental checks only: these stay skipped
        ("# check=skip=all;experimental=all\n", []),
        # a part without `=` makes BuildKit refuse the file: nothing is skipped
        ("# check=skip=all;error\n", ["DF401", "DF502", "DF509", "DF517"]),
        ("# check=error=true\n", ["DF401", "DF502", "DF509", "DF517"]),
        # not a directive below a comment line: a comment, which skips nothing
        ("# build the api\n# check=skip=all\n", ["DF401", "DF502", "DF509", "DF517"]),
    ],
)
def test_check_skip_directive_switches_off_the_fixers_of_those_checks(
    directive: str, left: list[str]
) -> None:
    assert bk_codes(directive) == left


def test_check_skip_directive_keeps_the_file_unchanged_by_the_skipped_fixers() -> None:
    text = "# check=skip=JSONArgsRecommended\n" + BK_SRC
    out, _ = dockfix.fix(text, select=["DF401"], unsafe_fixes=True, offline=True)
    assert out == text


def test_check_skip_narrows_to_the_check_of_each_finding() -> None:
    text = '# check=skip=FromAsCasing\nFROM alpine:3.20 as build\ncmd ["true"]\n'
    outcome = dockfix.fix_outcome(text, select=["DF509"], offline=True)
    assert [f.line for f in outcome.applied] == [3]
    assert outcome.fixed == text.replace("cmd", "CMD")


def test_experimental_checks_run_where_experimental_enables_them_whatever_skip_says() -> None:
    from dockfix.core.suppression import check_skips

    skips = check_skips("skip=all;experimental=CopyIgnoredFile")
    assert not skips.skips("CopyIgnoredFile") and skips.skips("StageNameCasing")
    assert check_skips("skip=CopyIgnoredFile").skips("CopyIgnoredFile")
    assert not check_skips(" skip = all ; experimental = all ").skips("CopyIgnoredFile")
    assert not check_skips("skip=all;oops").skips_any()  # BuildKit refuses it: nothing skipped


def test_an_unknown_check_name_in_the_directive_is_warned_about() -> None:
    text = "# check=skip=jsonargsrecommended,StageNameCasing;experimental=CopyIgnoredFiles\n"
    outcome = dockfix.fix_outcome(text + BK_SRC, select=["DF401"], offline=True)
    assert outcome.warnings == [
        "line 1: unknown BuildKit check CopyIgnoredFiles in `# check=` (names are case-sensitive)",
        "line 1: unknown BuildKit check jsonargsrecommended in `# check=` (names are "
        "case-sensitive)",
    ]
    known = "# check=skip=all;experimental=CopyIgnoredFile\n" + BK_SRC
    assert dockfix.fix_outcome(known, select=["DF401"], offline=True).warnings == []
