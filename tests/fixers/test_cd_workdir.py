"""DF506 cd-workdir: `cd dir && …` at the start of a RUN becomes a WORKDIR, restored after."""

from __future__ import annotations

import pytest

import dockfix
from dockfix.core.fixer import Applicability, Finding
from hadolint_runner import hadolint_counts_or_skip as hadolint_counts


def fix(text: str, unsafe: bool = True) -> tuple[str, list[Finding]]:
    return dockfix.fix(text, select=["DF506"], unsafe_fixes=unsafe)


def test_relative_cd_resolved_and_the_old_directory_restored() -> None:
    src = 'FROM debian:12\nWORKDIR /src\nRUN cd cmd/server && make\nCMD ["/src/server"]\n'
    out, left = fix(src)
    assert left == []
    assert out == (
        "FROM debian:12\nWORKDIR /src\nWORKDIR /src/cmd/server\nRUN make\nWORKDIR /src\n"
        'CMD ["/src/server"]\n'
    )
    assert hadolint_counts(src)["DL3003"] == 1
    assert hadolint_counts(out)["DL3003"] == 0 and hadolint_counts(out)["DL3000"] == 0
    assert fix(out) == (out, [])
    assert fix(src, unsafe=False)[0] == src


def test_last_run_of_a_builder_stage_needs_no_restore_and_continuations_go() -> None:
    src = (
        "FROM golang:1.22-alpine AS build\nWORKDIR /src\nCOPY . .\n"
        "RUN cd services/gateway && \\\n    go build -o /gateway .\n\n"
        "FROM scratch\nCOPY --from=build /gateway /gateway\n"
    )
    out, left = fix(src)
    assert left == []
    assert "WORKDIR /src/services/gateway\nRUN go build -o /gateway .\n\nFROM scratch" in out


def test_image_default_directory_is_restored_and_heredoc_kept() -> None:
    src = "FROM debian:12\nRUN cd /opt && tee x.conf <<EOF\nkey=1\nEOF\nRUN ls\n"
    out, _ = fix(src)
    assert (
        out == "FROM debian:12\nWORKDIR /opt\nRUN tee x.conf <<EOF\nkey=1\nEOF\nWORKDIR /\nRUN ls\n"
    )


def test_lowercase_file() -> None:
    src = 'from debian:12\nrun cd /opt && ls\ncmd ["ls"]\n'
    out, _ = fix(src)
    assert out == 'from debian:12\nworkdir /opt\nrun ls\nworkdir /\ncmd ["ls"]\n'


@pytest.mark.parametrize(
    ("run", "reason"),
    [
        ("a && cd /x && b", "first and only"),
        ("cd /x && b && cd /y && c", "first and only"),
        ("cd /x", "followed by `&&`"),
        ("cd /x && b || c", "followed by `&&`"),
        ("cd /x; b", "followed by `&&`"),
        ("cd $HOME && b", "not a plain path"),
        ("cd ~ && b", "not a plain path"),
        ("cd - && b", "not a plain path"),
        ("cd -P /x && b", "not a plain path"),
        ('["sh", "-c", "cd /x && make"]', "exec-form RUN"),
        ("--mount=type=bind,target=src cd /x && b", "mount target is relative"),
    ],
)
def test_display_only_with_the_reason(run: str, reason: str) -> None:
    src = f"FROM debian:12\nRUN {run}\nRUN c\n"
    out, left = fix(src)
    assert out == src
    assert [f.applicability for f in left] == [Applicability.DISPLAY_ONLY]
    assert reason in left[0].reason


def test_heredoc_script_is_display_only() -> None:
    src = "FROM debian:12\nRUN <<EOF\ncd /opt\nmake\nEOF\n"
    out, left = fix(src)
    assert out == src and "heredoc script" in left[0].reason


def test_unknown_base_directory_is_display_only() -> None:
    src = "FROM example.com/team/base:1\nRUN cd build && make\n"
    out, left = fix(src)
    assert out == src and "not known" in left[0].reason


@pytest.mark.parametrize(
    "src",
    [
        "FROM debian:12\nWORKDIR /x\nRUN make\n",
        "FROM debian:12\nRUN echo cd /x\n",
        "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\n"
        'SHELL ["powershell", "-Command"]\nRUN cd C:\\app; dir\n',
    ],
)
def test_no_finding(src: str) -> None:
    assert fix(src) == (src, [])
