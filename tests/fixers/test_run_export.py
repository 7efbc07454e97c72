"""DF528 run-export: a RUN of `export`s alone becomes the ENV (or ARG) it was meant to be."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

import dockfix
from dockfix.core.fixer import Applicability, Finding
from dockfix.semantics.semantic import expand, scope_at
from dockfix.syntax import env_pairs


def fix(text: str, unsafe: bool = True) -> tuple[str, list[Finding]]:
    return dockfix.fix(text, select=["DF528"], unsafe_fixes=unsafe)


def findings(text: str) -> list[Finding]:
    """What DF528 reports when only safe fixes apply (its fixes are all unsafe)."""
    return fix(text, unsafe=False)[1]


@pytest.mark.parametrize(
    ("run", "written"),
    [
        ("export LANG=C.UTF-8", "ENV LANG=C.UTF-8"),
        ("export PATH=$PATH:/opt/tools/bin", "ENV PATH=$PATH:/opt/tools/bin"),
        ("export A=1 && export B=2", "ENV A=1 B=2"),
        ("export A=1; export B=2", "ENV A=1 B=2"),
        ("export GREETING='hello world'", 'ENV GREETING="hello world"'),
        ('export MSG="say \\"hi\\""', 'ENV MSG="say \\"hi\\""'),
        ("export PRICE='$5'", 'ENV PRICE="\\$5"'),
        (
            'export JAVA_OPTS="-Xmx512m -Dapp.home=$APP_HOME"',
            'ENV JAVA_OPTS="-Xmx512m -Dapp.home=$APP_HOME"',
        ),
        ("export DEBIAN_FRONTEND=noninteractive", "ARG DEBIAN_FRONTEND=noninteractive"),
    ],
)
def test_exports_become_env_with_the_value_the_shell_gave(run: str, written: str) -> None:
    src = f"FROM debian:12\nARG APP_HOME=/srv/app\nRUN {run}\nRUN true\n"
    out, left = fix(src)
    assert out == f"FROM debian:12\nARG APP_HOME=/srv/app\n{written}\nRUN true\n"
    assert left == []
    # what BuildKit stores is what the shell exported (dash or bash, as /bin/sh is)
    doc = dockfix.parse(out)
    new = doc.instructions[2]
    if new.keyword != "ENV":
        return
    stage = doc.stages[0]
    scope = dict(scope_at(stage, new))
    sh = shutil.which("sh")
    assert sh is not None
    for name, value in env_pairs(new):
        if "\\" in value:
            # BuildKit's lexer reads `\"`, `\$` and `\\` inside double quotes as the character
            # (dockfix's expand keeps the escapes, or gives up on `\$`)
            stored: str | None = re.sub(r'\\(["$\\])', r"\1", value)
        else:
            stored = expand(value, {**scope, "PATH": "/usr/bin:/bin"}, doc.escape)
        shell = subprocess.run(
            [sh, "-c", f'{run}; printf %s "${name}"'],
            env={"APP_HOME": "/srv/app", "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert stored == shell, name


def test_the_fix_is_unsafe_and_keeps_indentation_and_line_endings() -> None:
    src = (
        "FROM debian:12\r\n  RUN export A=1 \\\r\n    && export DEBIAN_FRONTEND=noninteractive\r\n"
    )
    assert fix(src, unsafe=False)[0] == src
    out, _ = fix(src)
    assert out == "FROM debian:12\r\n  ARG DEBIAN_FRONTEND=noninteractive\r\n  ENV A=1\r\n"
    (f,) = findings(src)
    assert f.fix is not None and f.fix.applicability is Applicability.UNSAFE
    assert "delete the RUN" in f.message


@pytest.mark.parametrize(
    ("run", "reason"),
    [
        ("export VERSION=$(cat VERSION)", "command substitution"),
        ("export VERSION=`cat VERSION`", "command substitution"),
        ("export CACHE=$HOME/.cache", "`$HOME` is not declared"),
        ("export CACHE=~/.cache", "`~`"),
        ("export FILES=*.txt", "glob"),
        ("export A=1 B=$A/x", "exported before it"),
        ("export FIRST=$1", "special parameter"),
        ("export X=${Y:-default}", "shell expansion"),
        ("export NPM_TOKEN=abc123", "secret"),
        ("export A=1 # the default", "comments"),
    ],
)
def test_values_env_would_read_differently_are_reported_without_a_fix(
    run: str, reason: str
) -> None:
    src = f"FROM debian:12\nRUN {run}\n"
    (f,) = findings(src)
    assert f.fix is None and reason in f.reason
    assert fix(src)[0] == src


@pytest.mark.parametrize(
    "run",
    [
        "export CGO_ENABLED=0 && go build ./...",
        "export A=1 || true",
        "export A=1 &",
        "export PATH",
        "export -p",
        "A=1 export B=2",
        "echo export A=1",
        '["sh", "-c", "export A=1 && make"]',
    ],
)
def test_a_run_that_does_more_than_export_is_left_alone(run: str) -> None:
    assert findings(f"FROM debian:12\nRUN {run}\n") == []


def test_onbuild_and_windows_shells_are_left_alone() -> None:
    assert findings("FROM debian:12\nONBUILD RUN export A=1\n") == []
    src = 'FROM mcr.microsoft.com/windows/servercore:ltsc2022\nSHELL ["powershell", "-Command"]\nRUN export A=1\n'
    assert findings(src) == []


def test_a_heredoc_of_exports_becomes_env() -> None:
    src = "FROM debian:12\nRUN <<EOF\nexport A=1\nexport B=two\nEOF\nRUN true\n"
    assert fix(src)[0] == "FROM debian:12\nENV A=1 B=two\nRUN true\n"
