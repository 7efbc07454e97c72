"""DF507 workdir-relative: a relative WORKDIR becomes the absolute path it resolves to."""

from __future__ import annotations

import pytest

import dockfix
from dockfix.core.fixer import Applicability, Finding
from hadolint_runner import hadolint_counts_or_skip as hadolint_counts


def fix(text: str) -> tuple[str, list[Finding]]:
    return dockfix.fix(text, select=["DF507"], unsafe_fixes=True)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("FROM python:3.12-slim\nWORKDIR app\n", "FROM python:3.12-slim\nWORKDIR /app\n"),
        ("FROM golang:1.22\nWORKDIR src/app\n", "FROM golang:1.22\nWORKDIR /go/src/app\n"),
        (
            "FROM debian:12\nWORKDIR /srv\nWORKDIR ./web/../api\n",
            "FROM debian:12\nWORKDIR /srv\nWORKDIR /srv/api\n",
        ),
        (
            "FROM node:20 AS base\nWORKDIR /app\nFROM base\nworkdir  client  \n",
            "FROM node:20 AS base\nWORKDIR /app\nFROM base\nworkdir  /app/client  \n",
        ),
    ],
)
def test_resolved_against_the_directory_before(before: str, after: str) -> None:
    out, left = dockfix.fix(before, select=["DF507"])
    assert out == after and left == []
    assert hadolint_counts(before)["DL3000"] == 1 and hadolint_counts(out)["DL3000"] == 0
    assert fix(out) == (out, [])


@pytest.mark.parametrize(
    ("src", "reason"),
    [
        ("FROM rockylinux:9\nWORKDIR opt/app\n", "not known"),
        ("FROM debian:12\nARG D\nWORKDIR $D\nWORKDIR app\n", "not known"),
        ('FROM debian:12\nWORKDIR "my app"\n', "quotes or variables"),
    ],
)
def test_display_only_with_the_reason(src: str, reason: str) -> None:
    out, left = fix(src)
    assert out == src
    assert [f.applicability for f in left] == [Applicability.DISPLAY_ONLY]
    assert reason in left[0].reason


@pytest.mark.parametrize(
    "src",
    [
        "FROM debian:12\nWORKDIR /app\n",
        "FROM debian:12\nENV APP=/app\nWORKDIR $APP\n",
        # Jupyter's docker-stacks: a quoted variable is expanded as an unquoted one is
        'FROM quay.io/jupyter/minimal-notebook\nWORKDIR "${HOME}"\n',
        'FROM debian:12\nENV APP=/app\nWORKDIR "$APP/src"\n',
        "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nWORKDIR app\n",
        "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nWORKDIR C:\\app\n",
    ],
)
def test_no_finding(src: str) -> None:
    assert fix(src) == (src, [])


def test_a_base_image_chosen_by_a_build_arg_makes_the_fix_unsafe() -> None:
    # `/go` is golang's WORKDIR, the ARG's default: `--build-arg BASE=python:3.12` starts in
    # `/`, where `WORKDIR src` is `/src`; written as `/go/src`, that build would change
    src = "ARG BASE=golang:1.22\nFROM ${BASE}\nWORKDIR src\n"
    safe, [found] = dockfix.fix(src, select=["DF507"])
    assert safe == src and found.fix is not None
    assert found.fix.applicability is Applicability.UNSAFE
    assert "BASE" in found.fix.description
    out, _ = dockfix.fix(src, select=["DF507"], unsafe_fixes=True)
    assert out == "ARG BASE=golang:1.22\nFROM ${BASE}\nWORKDIR /go/src\n"
    # only the tag from an ARG: the same image's WORKDIR, still safe
    tagged, _ = dockfix.fix("ARG V=1.22\nFROM golang:${V}\nWORKDIR src\n", select=["DF507"])
    assert tagged.endswith("WORKDIR /go/src\n")
    # an absolute WORKDIR before it decides, whatever the base: safe
    src = "ARG BASE=golang:1.22\nFROM ${BASE}\nWORKDIR /srv\nWORKDIR app\n"
    assert dockfix.fix(src, select=["DF507"])[0].endswith("WORKDIR /srv/app\n")
