"""DF524 platform-flag-const: a FROM fixed to one platform."""

from __future__ import annotations

import pytest

import dockfix
from hadolint_runner import hadolint_counts_or_skip as hadolint_counts


def lines(text: str) -> list[int]:
    found = dockfix.fix_outcome(text, select=["DF524"], offline=True).findings
    assert all(f.fix is None and f.reason for f in found)
    return [f.line for f in found]


@pytest.mark.parametrize(
    "line",
    [
        "FROM --platform=linux/amd64 node:20-alpine AS web",
        'FROM --platform="linux/arm64/v8" alpine:3.20',
        "FROM --platform=windows/amd64 mcr.microsoft.com/windows/servercore:ltsc2022 AS app",
    ],
)
def test_constant_platform_is_reported(line: str) -> None:
    assert lines(f"{line}\nRUN true\n") == [1]
    assert hadolint_counts(f"{line}\nRUN true\n")["DL3029"] == 1


@pytest.mark.parametrize(
    "line",
    [
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS build",
        "FROM --platform=${TARGETPLATFORM:-linux/amd64} alpine:3.20",
        "FROM --platform=linux/arm64 debian:bookworm-slim AS tools_arm64",  # named for it
        "FROM --platform=linux/amd64 debian:bookworm-slim AS linux-tools",
        "FROM alpine:3.20",
    ],
)
def test_variables_and_stages_named_for_their_platform_are_not_reported(line: str) -> None:
    assert lines(f"{line}\nRUN true\n") == []
