"""DF519 undefined-arg-in-from: a FROM line names a variable no global ARG declares."""

from __future__ import annotations

import dockerfile  # type: ignore[import-untyped]
import pytest

import dockfix
from dockfix.core.fixer import Finding


def check(text: str, code: str) -> list[Finding]:
    return dockfix.fix_outcome(text, select=[code], offline=True).findings


def fix(text: str) -> tuple[str, list[Finding]]:
    return dockfix.fix(text, select=["DF519", "DF520"], unsafe_fixes=True, offline=True)


def test_undeclared_variable_with_a_default_gets_a_global_arg() -> None:
    src = "# build with --build-arg PY=3.11\nFROM python:${PY:-3.12}-slim\nRUN true\n"
    [found] = check(src, "DF519")
    assert found.line == 2 and "`$PY`" in found.message and found.fix is not None
    out, left = fix(src)
    # above the FROM's comment block, which belongs to it
    assert out == "ARG PY\n" + src and left == []
    dockerfile.parse_string(out)
    assert fix(out) == (out, [])


def test_directives_stay_first() -> None:
    src = "# syntax=docker/dockerfile:1\n# check=error=true\nFROM python:${PY:-3.12}-slim\n"
    out, _ = fix(src)
    assert out == src.replace("FROM", "ARG PY\nFROM")
    assert dockfix.parse(out).directive("check") is not None


def test_invalid_when_empty_is_display_only() -> None:
    src = "FROM node:${NODE_VERSION}-alpine AS web\nARG NODE_VERSION=20\n"
    [found] = check(src, "DF519")
    assert found.fix is None and "`node:-alpine`" in found.reason
    assert fix(src)[0] == src


@pytest.mark.parametrize(
    "src",
    [
        "ARG TAG=3.20\nFROM alpine:$TAG\n",
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nFROM build_${TARGETARCH}\n",
        "ARG BASE=debian:bookworm-slim\nFROM ${BASE}\n",
        "FROM scratch\n",
    ],
)
def test_declared_and_platform_arguments_are_not_reported(src: str) -> None:
    assert check(src, "DF519") == []


def test_an_arg_inside_a_stage_is_not_seen_by_a_later_from() -> None:
    src = "FROM alpine:3.20 AS a\nARG TAG=3.19\nFROM alpine:${TAG:-3.20}\n"
    assert [f.line for f in check(src, "DF519")] == [3]


def test_an_empty_platform_is_display_only_and_names_the_stage_default() -> None:
    # BuildKit rejects `--platform=` empty ("empty platform value from expression"): an
    # `ARG JS_PLATFORM` without a value above the FROM kept the build broken
    src = (
        "ARG JS_IMAGE=node:20-alpine\nFROM --platform=${JS_PLATFORM} ${JS_IMAGE} AS js\n"
        "ARG JS_PLATFORM=linux/amd64\nRUN yarn build\n"
    )
    [found] = check(src, "DF519")
    assert found.fix is None
    assert "`--platform=`" in found.reason and "empty platform" in found.reason
    assert "`ARG JS_PLATFORM=linux/amd64` on line 3" in found.reason
    assert fix(src)[0] == src
    # an empty default image is named the same way
    [image] = check("FROM node:${V}-alpine\nARG V=20\n", "DF519")
    assert "`ARG V=20` on line 2" in image.reason
