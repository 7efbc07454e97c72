"""DF505 pipefail: a pipefail SHELL where a RUN pipes, only where the shell has the option."""

from __future__ import annotations

import pytest

import dockfix
from dockfix.core.fixer import Applicability, Finding
from hadolint_runner import hadolint_counts_or_skip as hadolint_counts

BASH = 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]\n'


def fix(text: str, unsafe: bool = True) -> tuple[str, list[Finding]]:
    return dockfix.fix(text, select=["DF505"], unsafe_fixes=unsafe)


@pytest.mark.parametrize(
    ("base", "shell"),
    [
        ("debian:bookworm-slim", BASH),
        ("ubuntu:22.04", BASH),
        ("python:3.12", BASH),
        ("rockylinux:9", BASH),
        ("alpine:3.20", 'SHELL ["/bin/ash", "-o", "pipefail", "-c"]\n'),
    ],
)
def test_shell_with_pipefail_added_before_the_first_piping_run(base: str, shell: str) -> None:
    src = f"FROM {base}\nRUN mkdir /app\nRUN curl -fsSL https://x.example/i.sh | sh\nRUN a | b\n"
    out, left = fix(src)
    assert out == src.replace("RUN curl", shell + "RUN curl") and left == []
    assert hadolint_counts(src)["DL4006"] == 2
    assert hadolint_counts(out)["DL4006"] == 0
    assert fix(out) == (out, [])


def test_unsafe_only_and_pipes_in_substitutions_and_heredocs_count() -> None:
    src = 'FROM debian:12\nRUN <<EOF\nset -e\narch="$(dpkg --print-architecture | cut -d- -f1)"\nEOF\n'
    assert fix(src, unsafe=False)[0] == src
    out, left = fix(src)
    assert out == src.replace("RUN <<", BASH + "RUN <<") and left == []
    assert hadolint_counts(out)["DL4006"] == 0


def test_child_stage_repeats_the_parents_shell_safely() -> None:
    src = f"FROM debian:12 AS base\n{BASH}RUN a | b\nFROM base\nRUN c | d\n"
    out, left = fix(src, unsafe=False)
    assert left == []
    assert out == f"FROM debian:12 AS base\n{BASH}RUN a | b\nFROM base\n{BASH}RUN c | d\n"
    assert hadolint_counts(src)["DL4006"] == 1 and hadolint_counts(out)["DL4006"] == 0


def test_lowercase_file_and_pragma_above_the_run() -> None:
    src = "from ubuntu:22.04\n# hadolint ignore=DL3008\nrun a | b\n"
    out, _ = fix(src)
    assert out == 'from ubuntu:22.04\nshell ["/bin/bash", "-o", "pipefail", "-c"]\n' + src[18:]


@pytest.mark.parametrize(
    ("src", "reason"),
    [
        ("FROM debian:12\nRUN yes | apt-get install x\n", "`yes | …`"),
        ("FROM debian:12\nRUN ls /x | head -1 > /n\n", "`head` may stop reading early"),
        ("FROM debian:12\nRUN ! dpkg -l | grep -q foo\n", "negated test"),
        ("FROM debian:12\nRUN a | b\nRUN c | grep -q d\n", "line 3:"),
        ("FROM debian:12 AS a\nRUN a | b\nFROM a\nRUN yes | c\n", "line 4:"),
        ("FROM scratch\nRUN a | b\n", "bash is not known to exist in `scratch`"),
        ("ARG BASE=debian:12\nFROM $BASE\nRUN a | b\n", "bash is not known"),
        ('FROM debian:12\nRUN ["bash", "-c", "a | b"]\n', "exec-form RUN"),
        ('FROM debian:12\nSHELL ["/bin/bash", "-c"]\nRUN a | b\n', "add `-o pipefail` to it"),
    ],
)
def test_display_only_with_the_reason(src: str, reason: str) -> None:
    out, left = fix(src)
    assert out == src
    assert left and all(f.applicability is Applicability.DISPLAY_ONLY for f in left)
    assert reason in left[0].reason


@pytest.mark.parametrize(
    "src",
    [
        "FROM debian:12\nRUN a || b && c\n",
        f"FROM debian:12\n{BASH}RUN a | b\n",
        'FROM debian:12\nSHELL ["/bin/bash", "-eo", "pipefail", "-c"]\nRUN a | b\n',
        "FROM debian:12\nRUN echo 'a | b'\n",
        'FROM debian:12\nRUN <<EOF\n#!/usr/bin/env python3\nprint("a | b")\nEOF\n',
        "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\n"
        'SHELL ["powershell", "-Command"]\nRUN Get-ChildItem | Select-Object Name\n',
    ],
)
def test_no_finding(src: str) -> None:
    assert fix(src) == (src, [])


@pytest.mark.parametrize(
    "src",
    [
        # mariadb-style: dash's echo writes the newline, bash's a backslash and an n
        'FROM ubuntu:22.04\nRUN a | b\nRUN echo "[mysqld]\\nskip-name-resolve" > /etc/my.cnf\n',
        "FROM debian:12\nRUN a | b\nRUN <<EOF\nset -e\necho 'x\\ty' > /etc/x\nEOF\n",
        "FROM debian:12 AS base\nRUN a | b\nFROM base\nRUN { echo 'a\\nb'; } > /f\n",
    ],
)
def test_an_echo_that_dash_expands_keeps_the_default_shell(src: str) -> None:
    """Under bash, a later RUN's `echo 'a\\nb'` would write other bytes than under dash."""
    out, left = fix(src)
    assert out == src
    assert [f.applicability for f in left] == [Applicability.DISPLAY_ONLY]
    assert "`echo`" in left[0].reason and "line " in left[0].reason


@pytest.mark.parametrize(
    ("base", "line"),
    [
        ("alpine:3.20", "RUN echo 'a\\nb' > /f\n"),  # BusyBox ash's echo either way
        ("debian:12", "RUN printf 'a\\nb\\n' > /f\n"),
        ("debian:12", "RUN echo a > /f\n"),
        ("debian:12", "RUN <<EOF\n#!/bin/sh\necho 'a\\nb' > /f\nEOF\n"),  # its own shell
    ],
)
def test_an_echo_that_reads_alike_under_bash_does_not(base: str, line: str) -> None:
    src = f"FROM {base}\nRUN a | b\n{line}"
    out, left = fix(src)
    assert out != src and left == []
