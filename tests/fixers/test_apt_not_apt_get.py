"""DF106 apt-not-apt-get: `apt` subcommands rewritten as the `apt-get` that does the same."""

from __future__ import annotations

import pytest

import dockfix
from dockfix.core.fixer import Applicability, Finding
from hadolint_runner import hadolint_counts_or_skip as hadolint_counts


def fix(text: str, unsafe: bool = True) -> tuple[str, list[Finding]]:
    return dockfix.fix(text, select=["DF106"], unsafe_fixes=unsafe)


@pytest.mark.parametrize(
    ("run", "fixed"),
    [
        (
            "apt update && apt install -y curl=8.5.0-2",
            "apt-get update && apt-get install -y curl=8.5.0-2",
        ),
        ("apt full-upgrade -y", "apt-get dist-upgrade -y"),
        ("apt -y upgrade", "apt-get -y upgrade --with-new-pkgs"),
        (
            "sudo apt -o Dpkg::Use-Pty=0 remove -y vim",
            "sudo apt-get -o Dpkg::Use-Pty=0 remove -y vim",
        ),
        (
            "apt-get update && \\\n    apt install -yq ./pkg.deb",
            "apt-get update && \\\n    apt-get install -yq ./pkg.deb",
        ),
    ],
)
def test_apt_get_does_the_same(run: str, fixed: str) -> None:
    src = f"FROM ubuntu:24.04\nRUN {run}\n"
    out, left = fix(src)
    assert out == f"FROM ubuntu:24.04\nRUN {fixed}\n" and left == []
    assert hadolint_counts(out)["DL3027"] == 0
    assert fix(out) == (out, [])


def test_unsafe_only_and_hadolint_agrees() -> None:
    src = "FROM ubuntu:24.04\nRUN apt install -y curl=8.5.0-2\n"
    assert hadolint_counts(src)["DL3027"] == 1
    out, left = fix(src, unsafe=False)
    assert out == src and left[0].applicability is Applicability.UNSAFE


def test_heredoc_script() -> None:
    src = "FROM debian:12\nRUN <<EOF\nset -e\napt update\napt install -y curl=8.5.0-2\nEOF\n"
    out, left = fix(src)
    assert out == src.replace("apt ", "apt-get ") and left == []


@pytest.mark.parametrize(
    ("run", "reason"),
    [
        ("apt install -y curl", "unpinned `curl`"),
        ("apt update && apt install curl=8.5.0-2", "needs `-y`"),
    ],
)
def test_install_that_hadolint_would_then_report_is_display_only(run: str, reason: str) -> None:
    src = f"FROM ubuntu:24.04\nRUN {run}\n"
    out, left = fix(src)
    assert "apt install" in out
    assert reason in left[-1].reason and left[-1].applicability is Applicability.DISPLAY_ONLY
    # hadolint checks `apt-get install` only: the rewrite would add DL3008/DL3014
    rewritten = src.replace("apt ", "apt-get ")
    assert set(hadolint_counts(rewritten)) - set(hadolint_counts(src)) & {"DL3008", "DL3014"}


@pytest.mark.parametrize(
    "run",
    [
        "apt install -y curl/bookworm-backports",  # a release pins it, for hadolint and DF108
        "apt install -y -t bookworm-backports curl=8.14.1-2",  # `-t`'s value is no package
        "apt reinstall curl",  # hadolint reads `apt-get install` only
    ],
)
def test_rewrite_that_hadolint_accepts_is_fixed(run: str) -> None:
    src = f"FROM debian:12\nRUN {run}\n"
    out, left = fix(src)
    assert out == src.replace("apt ", "apt-get ") and left == []
    assert not {"DL3008", "DL3014"} & set(hadolint_counts(out))


@pytest.mark.parametrize("run", ["apt list --installed", "apt search curl", "apt show curl"])
def test_query_commands_are_display_only(run: str) -> None:
    src = f"FROM ubuntu:24.04\nRUN {run}\n"
    out, left = fix(src)
    assert out == src and left[0].applicability is Applicability.DISPLAY_ONLY


@pytest.mark.parametrize(
    "run", ["apt-get install -y curl", "apt-cache policy curl", "echo apt install"]
)
def test_no_finding(run: str) -> None:
    src = f"FROM ubuntu:24.04\nRUN {run}\n"
    assert fix(src) == (src, [])
