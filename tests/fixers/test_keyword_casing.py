"""DF509 keyword-casing: keywords in the file's majority case, `AS` as its `FROM`."""

from __future__ import annotations

import dockerfile  # type: ignore[import-untyped]
import pytest

import dockfix
from dockfix.core.fixer import Finding


def fix(text: str) -> tuple[str, list[Finding]]:
    return dockfix.fix(text, select=["DF509"])


def commands(text: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(c.cmd.upper(), c.value) for c in dockerfile.parse_string(text)]


def normalised(cmds: list[tuple[str, tuple[str, ...]]]) -> list[tuple[str, tuple[str, ...]]]:
    return [(k, tuple(w.lower() if w.lower() == "as" else w for w in v)) for k, v in cmds]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("FROM a as build\nRUN x\n", "FROM a AS build\nRUN x\n"),
        ("from a AS build\nrun x\n", "from a as build\nrun x\n"),
        ("FROM a\nrun x\nRUN y\n", "FROM a\nRUN x\nRUN y\n"),  # a tie is upper case
        ("from a\nrun x\nRUN y\n", "from a\nrun x\nrun y\n"),
        ("From a As b\nRUN x\nCMD y\n", "FROM a AS b\nRUN x\nCMD y\n"),
        ("FROM a\nONBUILD run make\nRUN x\n", "FROM a\nONBUILD RUN make\nRUN x\n"),
        (
            "\ufefffrom a\r\nrun b \\\r\n  c\r\nENV D=1\r\nworkdir /x\r\n",
            "\ufefffrom a\r\nrun b \\\r\n  c\r\nenv D=1\r\nworkdir /x\r\n",
        ),
        ("# escape=`\nFROM a\nRun b `\n  c\n", "# escape=`\nFROM a\nRUN b `\n  c\n"),
    ],
)
def test_keywords_recased_and_nothing_else(before: str, after: str) -> None:
    out, left = fix(before)
    assert out == after and left == []
    # the same instructions with the same arguments for BuildKit, apart from `AS`'s case
    assert normalised(commands(out)) == normalised(commands(before))
    assert fix(out) == (out, [])


def test_stage_name_and_arguments_keep_their_case() -> None:
    src = "FROM golang:1.22 as Build\nRUN echo RUN run\nfrom scratch\nCOPY --from=Build /a /a\n"
    out, _ = fix(src)
    assert (
        out
        == "FROM golang:1.22 AS Build\nRUN echo RUN run\nFROM scratch\nCOPY --from=Build /a /a\n"
    )


@pytest.mark.parametrize(
    "src",
    ["FROM a AS b\nRUN x\n", "from a as b\nrun x\n", "FROM a\nRUN echo from x as y\n"],
)
def test_consistent_file_is_no_finding(src: str) -> None:
    assert fix(src) == (src, [])
