"""DF510 useradd-lastlog: `-l` for a useradd of a six-digit UID, and nowhere else."""

from __future__ import annotations

import pytest

import dockfix
from dockfix.core.fixer import Applicability, Finding
from hadolint_runner import hadolint_counts_or_skip as hadolint_counts


def fix(text: str) -> tuple[str, list[Finding]]:
    return dockfix.fix(text, select=["DF510"])


@pytest.mark.parametrize(
    ("run", "fixed"),
    [
        ("useradd -m -u 1000100 app", "useradd -l -m -u 1000100 app"),
        ("useradd -mu 1000100 app", "useradd -l -mu 1000100 app"),
        ("useradd --uid=1000100 app", "useradd -l --uid=1000100 app"),
        ("useradd --uid 1000100 app", "useradd -l --uid 1000100 app"),
        (
            "sudo useradd -ms /bin/bash -u 2000000 dev",
            "sudo useradd -l -ms /bin/bash -u 2000000 dev",
        ),
        (
            "groupadd -g 1000100 app && \\\n    useradd -u 1000100 -g app app",
            "groupadd -g 1000100 app && \\\n    useradd -l -u 1000100 -g app app",
        ),
    ],
)
def test_no_log_init_added(run: str, fixed: str) -> None:
    src = f"FROM debian:12\nRUN {run}\n"
    out, left = fix(src)
    assert out == f"FROM debian:12\nRUN {fixed}\n" and left == []
    assert hadolint_counts(out)["DL3046"] == 0
    assert fix(out) == (out, [])


def test_hadolint_agrees_on_the_plain_case() -> None:
    src = "FROM debian:12\nRUN useradd -m -u 1000100 app\n"
    assert hadolint_counts(src)["DL3046"] == 1


def test_heredoc_script() -> None:
    src = "FROM debian:12\nRUN <<EOF\nset -e\nuseradd -u 1000100 app\nEOF\n"
    out, left = fix(src)
    assert out == src.replace("useradd -u", "useradd -l -u") and left == []


@pytest.mark.parametrize(
    "run",
    [
        "useradd -u 1000 app",
        "useradd -u 99999 app",
        "useradd -l -u 1000100 app",
        "useradd --no-log-init -u 1000100 app",
        "useradd -lmu 1000100 app",
        "useradd -u $APP_UID app",
        "adduser -u 1000100 -D app",
        "echo useradd -u 1000100 app",
    ],
)
def test_no_finding(run: str) -> None:
    src = f"FROM debian:12\nRUN {run}\n"
    assert fix(src) == (src, [])


def test_exec_form_is_display_only() -> None:
    src = 'FROM debian:12\nRUN ["useradd", "-u", "1000100", "app"]\n'
    out, left = fix(src)
    assert out == src and left[0].applicability is Applicability.DISPLAY_ONLY
