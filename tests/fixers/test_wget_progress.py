"""DF503 wget-progress: `-q` added where wget chooses no output mode, and nowhere else."""

from __future__ import annotations

import pytest

import dockfix
from dockfix.core.fixer import Applicability, Finding
from hadolint_runner import hadolint_counts_or_skip as hadolint_counts


def fix(text: str, unsafe: bool = False) -> tuple[str, list[Finding]]:
    return dockfix.fix(text, select=["DF503"], unsafe_fixes=unsafe)


@pytest.mark.parametrize(
    ("run", "fixed"),
    [
        ("wget https://x.example/a", "wget -q https://x.example/a"),
        ("wget -O /a https://x.example/a", "wget -q -O /a https://x.example/a"),
        ("sudo wget https://x.example/a", "sudo wget -q https://x.example/a"),
        ("/usr/bin/wget -c https://x.example/a", "/usr/bin/wget -q -c https://x.example/a"),
        (
            "cd /tmp && wget https://x.example/a > /dev/null",
            "cd /tmp && wget -q https://x.example/a > /dev/null",
        ),
    ],
)
def test_quiet_added_and_hadolint_satisfied(run: str, fixed: str) -> None:
    src = f"FROM debian:12\nRUN {run}\n"
    out, left = fix(src)
    assert out == f"FROM debian:12\nRUN {fixed}\n"
    assert left == []
    # (hadolint matches a bare `wget` only: `sudo wget`, `/usr/bin/wget` are no DL3047 for it)
    assert hadolint_counts(src)["DL3047"] == (0 if run.startswith(("sudo", "/")) else 1)
    assert hadolint_counts(out)["DL3047"] == 0


@pytest.mark.parametrize(
    "run",
    [
        "wget -q https://x.example/a",
        "wget --quiet https://x.example/a",
        "wget -nv https://x.example/a",
        "wget --no-verbose https://x.example/a",
        "wget --progress=dot:giga https://x.example/a",
        "wget -qO- https://x.example/a | sh",
        "wget -o /tmp/log https://x.example/a",
        "wget --append-output=/tmp/log https://x.example/a",
        "command -v wget",
        "echo wget",
    ],
)
def test_output_mode_chosen_is_no_finding(run: str) -> None:
    src = f"FROM debian:12\nRUN {run}\n"
    assert fix(src) == (src, [])
    assert hadolint_counts(src)["DL3047"] == 0


@pytest.mark.parametrize(
    ("run", "reason"),
    [
        ("wget -S https://x.example/a 2>&1 | grep 200", "asks for output with `-S`"),
        ("wget --spider https://x.example/a", "asks for output with `--spider`"),
        ("wget https://x.example/a 2>&1 | tee /log", "standard error is redirected"),
        ("wget https://x.example/a 2>/dev/null", "standard error is redirected"),
        ("wget https://x.example/a |& tee /log", "standard error is redirected"),
    ],
)
def test_output_someone_may_read_is_display_only(run: str, reason: str) -> None:
    src = f"FROM debian:12\nRUN {run}\n"
    out, left = fix(src, unsafe=True)
    assert out == src
    assert left[0].applicability is Applicability.DISPLAY_ONLY
    assert reason in left[0].reason


def test_exec_form_is_display_only_and_powershell_is_left_alone() -> None:
    src = 'FROM debian:12\nRUN ["wget", "https://x.example/a"]\n'
    out, left = fix(src)
    assert out == src and "exec-form RUN" in left[0].reason
    src = 'FROM mcr.microsoft.com/windows/servercore:ltsc2022\nSHELL ["powershell", "-Command"]\n'
    src += "RUN wget https://x.example/a -OutFile a\n"
    assert fix(src) == (src, [])


def test_every_wget_of_a_chain_and_idempotent() -> None:
    src = "FROM debian:12\nRUN wget https://x.example/a && \\\n    wget https://x.example/b\n"
    out, _ = fix(src)
    assert (
        out
        == "FROM debian:12\nRUN wget -q https://x.example/a && \\\n    wget -q https://x.example/b\n"
    )
    assert fix(out) == (out, [])
