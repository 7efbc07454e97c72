"""DF514 sudo-in-run: display-only, saying what to write for the user the RUN runs as."""

from __future__ import annotations

import pytest

import dockfix
from dockfix.core.fixer import Applicability
from hadolint_runner import hadolint_counts_or_skip as hadolint_counts


@pytest.mark.parametrize(
    ("src", "reason"),
    [
        ("FROM ubuntu:24.04\nRUN sudo apt-get update\n", "where the base image runs as root"),
        ("FROM ubuntu:24.04\nUSER root\nRUN sudo apt-get update\n", "runs as root already"),
        ("FROM ubuntu:24.04\nUSER dev\nRUN sudo apt-get update\n", "`USER root` before it"),
        (
            "FROM ubuntu:24.04 AS base\nUSER 1000:1000\nFROM base\nRUN echo x | sudo tee /x\n",
            "runs as `1000`",
        ),
        ("FROM ubuntu:24.04\nRUN <<EOF\nsudo apt-get update\nEOF\n", "base image runs as root"),
    ],
)
def test_reported_with_what_to_write(src: str, reason: str) -> None:
    out, left = dockfix.fix(src, select=["DF514"], unsafe_fixes=True)
    assert out == src
    assert [f.applicability for f in left] == [Applicability.DISPLAY_ONLY]
    assert reason in left[0].reason


def test_hadolint_agrees() -> None:
    assert hadolint_counts("FROM ubuntu:24.04\nRUN sudo apt-get update\n")["DL3004"] == 1


@pytest.mark.parametrize("run", ["echo sudo", "apt-get install -y sudo=1.9.15p5-3ubuntu5"])
def test_no_finding(run: str) -> None:
    src = f"FROM ubuntu:24.04\nRUN {run}\n"
    assert dockfix.fix(src, select=["DF514"]) == (src, [])
