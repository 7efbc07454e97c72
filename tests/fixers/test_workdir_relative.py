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
        "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nWORKDIR app\n",
        "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nWORKDIR C:\\app\n",
    ],
)
def test_no_finding(src: str) -> None:
    assert fix(src) == (src, [])
