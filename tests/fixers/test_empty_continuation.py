"""DF516 empty-continuation: blank lines inside a continuation removed, nothing else."""

from __future__ import annotations

import dockerfile  # type: ignore[import-untyped]
import pytest

import dockfix
from dockfix.core.fixer import Finding


def fix(text: str) -> tuple[str, list[Finding]]:
    return dockfix.fix(text, select=["DF516"])


def commands(text: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(c.cmd, c.value) for c in dockerfile.parse_string(text)]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("RUN a && \\\n\n    b\n", "RUN a && \\\n    b\n"),
        ("RUN a \\\n  \t\n# why\n\n  b\nRUN c\n", "RUN a \\\n# why\n  b\nRUN c\n"),
        ("RUN a \\\r\n\r\n b\r\n", "RUN a \\\r\n b\r\n"),
        ("RUN a \\\n\n\n", "RUN a \\\n"),
        ("ENV A=1 \\\n\n    B=2\n", "ENV A=1 \\\n    B=2\n"),
    ],
)
def test_blank_lines_removed_and_buildkit_reads_the_same(before: str, after: str) -> None:
    src = f"FROM debian:12\n{before}"
    out, left = fix(src)
    assert out == f"FROM debian:12\n{after}" and left == []
    assert commands(out) == commands(src)
    assert fix(out) == (out, [])


def test_escape_directive() -> None:
    src = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN a `\n\n  b\n"
    out, _ = fix(src)
    assert out == src.replace("`\n\n", "`\n")


@pytest.mark.parametrize(
    "src",
    [
        "FROM a\nRUN <<EOF\nx\n\ny\nEOF\n",
        "FROM a\n\nRUN b\n\n",
        "FROM a\nRUN a \\\n# comment only\n  b\n",
    ],
)
def test_no_finding(src: str) -> None:
    assert fix(src) == (src, [])
