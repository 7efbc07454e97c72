"""DF520 invalid-default-arg-in-from: without --build-arg, a FROM line names no valid image."""

from __future__ import annotations

import pytest

import dockfix
from dockfix.core.fixer import Finding


def check(text: str, code: str) -> list[Finding]:
    return dockfix.fix_outcome(text, select=[code], offline=True).findings


@pytest.mark.parametrize(
    ("src", "read"),
    [
        ("ARG TAG\nFROM alpine:$TAG\n", "alpine:"),
        ("ARG BASE\nFROM ${BASE} AS app\n", ""),
        ("ARG REG=ghcr.io\nARG TAG\nFROM ${REG}/acme/api:${TAG}\n", "ghcr.io/acme/api:"),
    ],
)
def test_invalid_default_is_reported_with_what_the_from_reads(src: str, read: str) -> None:
    [found] = check(src, "DF520")
    assert f"reads `{read}`" in found.message and found.fix is None
    assert "has no default" in found.reason


@pytest.mark.parametrize(
    "src",
    [
        "ARG TAG=latest\nFROM busybox:${TAG}\n",
        "ARG VARIANT\nFROM busybox:stable${VARIANT}\n",
        "ARG TAG\nFROM alpine:${TAG:-3.14}\n",
        "ARG STAGE=build\nFROM alpine:3.20 AS build\nFROM ${STAGE}\n",
        "FROM alpine:$UNDECLARED\n",  # DF519's
    ],
)
def test_valid_defaults_are_not_reported(src: str) -> None:
    assert check(src, "DF520") == []
