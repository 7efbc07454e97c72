"""DF512 redundant-target-platform: `--platform=$TARGETPLATFORM` removed from FROM."""

from __future__ import annotations

import dockerfile  # type: ignore[import-untyped]
import pytest

import dockfix
from dockfix.core.fixer import Finding
from hadolint_runner import hadolint_counts_or_skip as hadolint_counts


def fix(text: str) -> tuple[str, list[Finding]]:
    return dockfix.fix(text, select=["DF512"])


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("FROM --platform=$TARGETPLATFORM python:3.12 AS app", "FROM python:3.12 AS app"),
        ('from --platform="${TARGETPLATFORM}"   alpine:3.20', "from alpine:3.20"),
        ("FROM --platform=$TARGETPLATFORM \\\n    alpine:3.20 AS b", "FROM alpine:3.20 AS b"),
    ],
)
def test_flag_removed(before: str, after: str) -> None:
    out, left = fix(f"{before}\nRUN true\n")
    assert out == f"{after}\nRUN true\n" and left == []
    froms = [c for c in dockerfile.parse_string(out) if c.cmd.upper() == "FROM"]
    assert [c.flags for c in froms] == [()]
    # (hadolint matches the unquoted `$TARGETPLATFORM` only)
    assert hadolint_counts(f"{before}\nRUN true\n")["DL3065"] == (0 if '"' in before else 1)
    assert hadolint_counts(out)["DL3065"] == 0
    assert fix(out) == (out, [])


@pytest.mark.parametrize(
    "line",
    [
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS build",
        "FROM --platform=linux/amd64 alpine:3.20",
        "FROM --platform=$TARGETOS/$TARGETARCH alpine:3.20",
        "FROM --platform=$TARGETPLATFORM \\\n# which platform\n    alpine:3.20",
    ],
)
def test_no_finding(line: str) -> None:
    src = f"{line}\nRUN true\n"
    assert fix(src) == (src, [])
