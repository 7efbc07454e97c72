from __future__ import annotations

import pytest

import dockfix
from dockfix.core.fixer import Applicability


def fix(text: str, unsafe: bool = False) -> tuple[str, list[dockfix.core.fixer.Finding]]:  # type: ignore[name-defined]
    return dockfix.fix(text, select=["DF102"], unsafe_fixes=unsafe)


def test_moves_update_into_install() -> None:
    out, left = fix("FROM debian\nRUN apt-get update\nRUN apt-get install -y curl\n")
    assert out == "FROM debian\nRUN apt-get update && apt-get install -y curl\n"
    assert left == []


def test_keeps_update_flags_and_converts_apt() -> None:
    out, _ = fix("FROM debian\nRUN apt -qq update\nRUN apt-get install -y curl\n")
    assert out == "FROM debian\nRUN apt-get -qq update && apt-get install -y curl\n"


def test_removes_update_from_a_run_that_does_more() -> None:
    src = "FROM debian\nRUN mkdir /x && apt-get update\nRUN apt-get install -y curl\n"
    out, _ = fix(src)
    assert out == "FROM debian\nRUN mkdir /x\nRUN apt-get update && apt-get install -y curl\n"


def test_install_with_its_own_update_only_drops_the_orphan() -> None:
    src = "FROM debian\nRUN apt-get update\nRUN apt-get update && apt-get install -y curl\n"
    out, _ = fix(src)
    assert out == "FROM debian\nRUN apt-get update && apt-get install -y curl\n"


def test_no_change_when_combined() -> None:
    src = "FROM debian\nRUN apt-get update && apt-get install -y curl\n"
    assert fix(src) == (src, [])


def test_update_inside_subshell_is_display_only() -> None:
    src = "FROM debian\nRUN (apt-get update)\nRUN apt-get install -y curl\n"
    out, left = fix(src, unsafe=True)
    assert out == src
    assert [f.reason for f in left] == ["the update is inside a compound command"]


def test_package_manager_between_is_unsafe() -> None:
    src = "FROM debian\nRUN apt-get update\nRUN dpkg --add-architecture i386\nRUN apt-get install -y libc6:i386\n"
    out, left = fix(src)
    assert out == src
    assert left[0].applicability is Applicability.UNSAFE
    out, left = fix(src, unsafe=True)
    assert out.endswith("RUN apt-get update && apt-get install -y libc6:i386\n")
    assert left == []


def test_each_stage_on_its_own() -> None:
    src = "FROM debian AS a\nRUN apt-get update\nFROM debian\nRUN apt-get install -y curl\n"
    out, left = fix(src, unsafe=True)
    assert out == src
    assert "no later RUN of this stage" in left[0].reason


@pytest.mark.parametrize(
    ("update", "install"),
    [
        ("dnf makecache", "dnf install -y git"),
        ("zypper refresh", "zypper install -y git"),
        ("apk update", "apk add git"),
    ],
)
def test_other_package_managers(update: str, install: str) -> None:
    out, _ = fix(f"FROM x\nRUN {update}\nRUN {install}\n")
    assert out == f"FROM x\nRUN {update} && {install}\n"


def test_suppression_comment() -> None:
    src = "FROM debian\n# dockfix ignore=DF102\nRUN apt-get update\nRUN apt-get install -y curl\n"
    assert fix(src) == (src, [])


def test_continuation_style_and_crlf_kept() -> None:
    src = "FROM debian\r\nRUN apt-get update\r\nRUN apt-get install -y \\\r\n      curl\r\n"
    out, _ = fix(src)
    assert out == "FROM debian\r\nRUN apt-get update && apt-get install -y \\\r\n      curl\r\n"


def test_idempotent_on_output() -> None:
    src = "FROM debian\nRUN apt-get update\nENV A=1\nRUN apt-get install -y curl\n"
    out, _ = fix(src)
    assert fix(out) == (out, [])


def test_heredoc_install_command_line_is_edited_not_the_body() -> None:
    src = "FROM debian\nRUN apt-get update\nRUN cat <<EOF > /etc/x && apt-get install -y curl\nhello\nEOF\n"
    out, _ = fix(src)
    assert (
        out
        == "FROM debian\nRUN cat <<EOF > /etc/x && apt-get update && apt-get install -y curl\nhello\nEOF\n"
    )


def test_update_alone_in_heredoc_script_is_display_only() -> None:
    src = "FROM debian\nRUN <<EOF\nset -e\napt-get update\nEOF\nRUN apt-get install -y curl\n"
    out, left = fix(src, unsafe=True)
    assert out == src
    assert [f.line for f in left] == [2] and "heredoc script" in left[0].reason
