"""DF105 apt-install-recommends: inline before/after cases, safety, and properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dockfix
from dockfix.core.fixer import Applicability, Finding

FLAG = "--no-install-recommends"


def fix(text: str, unsafe: bool = True) -> tuple[str, list[Finding]]:
    return dockfix.fix(text, select=["DF105"], unsafe_fixes=unsafe)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # after `-y`, which follows `install` on the same line
        (
            "RUN apt-get update && apt-get install -y curl\n",
            f"RUN apt-get update && apt-get install -y {FLAG} curl\n",
        ),
        # options before the subcommand, and an option that takes an argument
        (
            "RUN apt-get -o Dpkg::Options::=--force-confold install curl\n",
            f"RUN apt-get -o Dpkg::Options::=--force-confold install {FLAG} curl\n",
        ),
        # `-t` takes an argument: the flag goes right after `install`
        (
            "RUN apt-get install -t bookworm-backports curl\n",
            f"RUN apt-get install {FLAG} -t bookworm-backports curl\n",
        ),
        ("RUN sudo -E apt install -qq curl\n", f"RUN sudo -E apt install -qq {FLAG} curl\n"),
        (
            "RUN DEBIAN_FRONTEND=noninteractive apt-get install -y curl\n",
            f"RUN DEBIAN_FRONTEND=noninteractive apt-get install -y {FLAG} curl\n",
        ),
        (
            'RUN ["apt-get", "install", "-y", "curl"]\n',
            f'RUN ["apt-get", "install", "{FLAG}", "-y", "curl"]\n',
        ),
        (
            'RUN ["/bin/sh", "-c", "apt-get install -y curl"]\n',
            f'RUN ["/bin/sh", "-c", "apt-get install {FLAG} -y curl"]\n',
        ),
        ("ONBUILD RUN apt-get install -y curl\n", f"ONBUILD RUN apt-get install -y {FLAG} curl\n"),
        (
            "run if true; then apt-get install -y curl; fi\n",
            f"run if true; then apt-get install -y {FLAG} curl; fi\n",
        ),
    ],
)
def test_adds_the_flag(before: str, after: str) -> None:
    out, left = fix("FROM debian:12\n" + before)
    assert out == "FROM debian:12\n" + after
    assert left == []


def test_continuation_line_keeps_the_layout() -> None:
    src = "FROM debian\nRUN apt-get update && apt-get install \\\n    -y curl \\\n    git\n"
    out, _ = fix(src)
    assert out == (
        f"FROM debian\nRUN apt-get update && apt-get install {FLAG} \\\n    -y curl \\\n    git\n"
    )


def test_heredoc_script_body_is_edited() -> None:
    src = "# syntax=docker/dockerfile:1\nFROM debian\nRUN <<EOF\nset -e\n"
    src += "apt-get install -y curl\nEOF\n"
    out, _ = fix(src)
    assert out == src.replace("-y curl", f"-y {FLAG} curl")


def test_every_install_of_a_run_is_fixed() -> None:
    src = "FROM debian\nRUN apt-get install -y a && apt-get install -y b\n"
    out, left = fix(src)
    assert out.count(FLAG) == 2
    assert left == []


def test_only_applied_with_unsafe_fixes() -> None:
    src = "FROM debian\nRUN apt-get install -y curl\n"
    out, left = fix(src, unsafe=False)
    assert out == src
    assert len(left) == 1
    assert left[0].applicability is Applicability.UNSAFE
    assert left[0].line == 2
    assert "recommended packages" in left[0].message


@pytest.mark.parametrize(
    "run",
    [
        f"RUN apt-get install -y {FLAG} curl",
        f"RUN apt-get {FLAG} install -y curl",
        "RUN apt-get install --install-recommends -y curl",  # an explicit choice
        "RUN apt-get install -o APT::Install-Recommends=false curl",
        "RUN apt-get install -oAPT::Install-Recommends=0 curl",
        "RUN apt-get update",
        "RUN apt-get remove -y curl",
        "RUN echo apt-get install curl",
        "RUN aptitude install -y curl",
        "RUN pip install curl",
        "RUN apt-get $ACTION -y curl",
    ],
)
def test_no_change(run: str) -> None:
    src = f"FROM debian\n{run}\n"
    assert fix(src) == (src, [])


def test_comment_lines_in_a_continuation_are_not_commands() -> None:
    src = (
        "FROM debian\nRUN apt-get update \\\n# apt-get install -y vim\n"
        " && apt-get install -y --no-install-recommends curl\n"
    )
    assert fix(src) == (src, [])


def test_escaped_exec_string_is_display_only() -> None:
    src = 'FROM debian\nRUN ["sh", "-c", "echo \\"x\\" && apt-get install -y curl"]\n'
    out, left = fix(src)
    assert out == src
    assert [f.reason for f in left] == ["the exec-form string has escapes; add the flag by hand"]
    assert left[0].applicability is Applicability.DISPLAY_ONLY


def test_exec_string_with_escapes_after_the_insertion_point_is_fixed() -> None:
    src = 'FROM debian\nRUN ["sh", "-c", "apt-get install -y \\"curl\\""]\n'
    out, left = fix(src)
    assert out == f'FROM debian\nRUN ["sh", "-c", "apt-get install {FLAG} -y \\"curl\\""]\n'
    assert left == []


def test_python_heredoc_is_not_read_as_shell() -> None:
    src = (
        "# syntax=docker/dockerfile:1\nFROM debian\nRUN <<EOF\n#!/usr/bin/env python3\n"
        "print('apt-get install -y curl')\nEOF\n"
    )
    assert fix(src) == (src, [])


def test_crlf_bom_and_missing_final_newline_survive() -> None:
    src = "\ufeffFROM debian\r\nRUN apt-get update && \\\r\n    apt-get install -y curl"
    out, _ = fix(src)
    assert (
        out
        == f"\ufeffFROM debian\r\nRUN apt-get update && \\\r\n    apt-get install -y {FLAG} curl"
    )


def test_idempotent() -> None:
    src = "FROM debian\nRUN apt-get install -y a\nRUN apt install b\n"
    once, _ = fix(src)
    assert fix(once) == (once, [])


_OPTIONS = st.lists(
    st.sampled_from(["-y", "-qq", "--yes", "-o Acquire::Retries=3", "-t stable"]), max_size=3
)
_PACKAGES = st.lists(st.from_regex(r"[a-z][a-z0-9]{1,8}", fullmatch=True), min_size=1, max_size=4)


@settings(max_examples=60, deadline=None)
@given(
    before=_OPTIONS,
    after=_OPTIONS,
    packages=_PACKAGES,
    program=st.sampled_from(["apt-get", "apt"]),
    split=st.booleans(),
)
def test_property_flag_added_once_and_only_inserted(
    before: list[str], after: list[str], packages: list[str], program: str, split: bool
) -> None:
    sep = " \\\n    " if split else " "
    words = [program, *before, "install", *after, *packages]
    src = f"FROM debian\nRUN {sep.join(words)}\n"
    out, left = fix(src)
    assert left == []
    assert out.count(FLAG) == 1
    # Only an insertion: removing the flag gives the input back.
    assert out.replace(f" {FLAG}", "", 1) == src
    assert fix(out) == (out, [])
    import dockerfile

    dockerfile.parse_string(out)


def test_documented_example_is_what_the_fix_does() -> None:
    import re

    from dockfix.fixers.apt_install_recommends import AptInstallRecommends

    doc = AptInstallRecommends.documentation()
    example = doc.split("## Example", 1)[1].split("\n## ", 1)[0]
    before, after = re.findall(r"```dockerfile\n(.*?)```", example, re.S)
    assert fix(before, unsafe=True)[0] == after
