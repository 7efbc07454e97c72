"""The engine's safety nets, hit the way a plug-in author hits them.

The fixers in ``support/misbehaving_plugin.py`` are installed as a third-party distribution
(an entry point of the ``dockfix.fixers`` group) and run through ``dockfix fix --write``.
Each test gives a file on which one net is the only thing between the plug-in's broken fix
and the disk: without that net the file is rewritten and the test fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

import dockfix
from dockfix.core.edits import apply_edits
from dockfix.core.fixer import Edit
from dockfix.core.invariants import check_invariants
from support import misbehaving_plugin


class Run(NamedTuple):
    before: str
    after: str  # the file on disk after `dockfix fix --write`
    returncode: int
    stderr: str

    @property
    def warnings(self) -> list[str]:
        return [ln for ln in self.stderr.splitlines() if ln.startswith("warning:")]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("site")
    misbehaving_plugin.install(path)
    return path


def fix_with(site: Path, tmp_path: Path, text: str, *codes: str) -> Run:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_bytes(text.encode())
    args = ["fix", "--write", "--exit-non-zero-on-fix", "--offline", "--select", ",".join(codes)]
    r = subprocess.run(
        [sys.executable, "-m", "dockfix", *args, "Dockerfile"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        check=False,
    )
    return Run(text, dockerfile.read_bytes().decode(), r.returncode, r.stderr)


def assert_refused(run: Run, code: str, reason: str) -> None:
    """The file is untouched, and the plug-in is named with the broken invariant."""
    assert run.after == run.before
    assert run.returncode == 0, run.stderr  # --exit-non-zero-on-fix: nothing was written
    assert run.warnings == [
        f"warning: Dockerfile: {code} proposed a fix that was not applied: {reason}; "
        "please report this"
    ]


# --- heredocs: a header edit must not change how an untouched body is read ---------------

# With <<- BuildKit strips every body line's leading tabs: the tab-indented printf and the
# inner heredoc's line would run without them.
TABBED = (
    "FROM alpine\n"
    "RUN <<EOF\n"
    "\tprintf '\\tkeep-this-tab\\n'\n"
    "cat > /etc/motd <<INNER\n"
    "\tindented by a tab\n"
    "INNER\n"
    "EOF\n"
)


def test_dash_on_a_heredoc_with_tabs_is_refused(site: Path, tmp_path: Path) -> None:
    run = fix_with(site, tmp_path, TABBED, "BAD101")
    assert_refused(
        run,
        "BAD101",
        "heredoc <<EOF (line 2) now opens as <<-EOF, which changes how its body is read",
    )


@pytest.mark.parametrize(
    ("text", "code", "reason"),
    [
        (
            'FROM alpine\nARG VAR=x\nRUN <<EOF\necho "$VAR"\nEOF\n',
            "BAD102",
            "heredoc <<EOF (line 3) now opens as <<'EOF', which changes how its body is read",
        ),
        (
            "FROM alpine\nARG VAR=x\nRUN <<'EOF'\necho \"$VAR\"\nEOF\n",
            "BAD103",
            "heredoc <<'EOF' (line 3) now opens as <<EOF, which changes how its body is read",
        ),
    ],
)
def test_quoting_or_unquoting_the_delimiter_is_refused(
    site: Path, tmp_path: Path, text: str, code: str, reason: str
) -> None:
    assert_refused(fix_with(site, tmp_path, text, code), code, reason)


def test_a_body_reread_as_instructions_is_refused(site: Path, tmp_path: Path) -> None:
    # The inserted delimiter ends the heredoc at once: `echo hello` and the old terminator
    # become instructions. Both parsers accept that file, so only the heredoc check stands
    # between it and the disk (no "unterminated heredoc" error to hide behind).
    text = "FROM alpine\nRUN <<EOF\necho hello\nEOF\n"
    run = fix_with(site, tmp_path, text, "BAD105")
    assert_refused(run, "BAD105", "heredoc body <<EOF (line 2) changed or was re-read")


# --- pragmas, directives, instructions ------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "pragma"),
    [
        ("FROM debian:bookworm\n", "# hadolint ignore=DL3008"),
        ("FROM debian:bookworm\n", "# dockfix ignore=DF102"),
        ("\ufeff", "# hadolint ignore=DL3006"),  # the first line, after a BOM
    ],
)
def test_an_instruction_between_a_pragma_and_its_instruction_is_refused(
    site: Path, tmp_path: Path, head: str, pragma: str
) -> None:
    # (the first line's pragma is FROM's: a file starts with a stage)
    after = "FROM debian" if head == "\ufeff" else "RUN apt-get install -y curl"
    text = f"{head}{pragma}\n{after}\n"
    run = fix_with(site, tmp_path, text, "BAD104")
    assert_refused(run, "BAD104", f"pragma `{pragma}` is no longer directly above its instruction")


@pytest.mark.parametrize(
    ("text", "directive"),
    [
        ("# syntax=docker/dockerfile:1\nFROM alpine\n", "syntax=docker/dockerfile:1"),
        ("# escape=`\nFROM alpine\nRUN echo `\n  hi\n", "escape=`"),
    ],
)
def test_a_directive_pushed_below_a_comment_is_refused(
    site: Path, tmp_path: Path, text: str, directive: str
) -> None:
    run = fix_with(site, tmp_path, text, "BAD108")
    assert_refused(run, "BAD108", f"directive `# {directive}` is no longer a parser directive")


def test_an_insertion_absorbed_by_a_continuation_is_refused(site: Path, tmp_path: Path) -> None:
    # The last line ends in a continuation: the new line would become MAINTAINER's argument.
    run = fix_with(site, tmp_path, "FROM alpine\nMAINTAINER me \\\n", "BAD109")
    assert_refused(run, "BAD109", "MAINTAINER on line 2 changed although no edit covers it")


def test_the_same_insertion_on_a_complete_file_is_written(site: Path, tmp_path: Path) -> None:
    # The control: the plug-in is loaded, and a fix that breaks nothing is written.
    run = fix_with(site, tmp_path, "FROM alpine\nMAINTAINER me\n", "BAD109")
    assert run.after == "FROM alpine\nMAINTAINER me\nUSER 1000\n"
    assert run.returncode == 1 and run.warnings == []


# --- overlapping edits ----------------------------------------------------------------------


def test_apply_edits_raises_on_overlapping_edits() -> None:
    with pytest.raises(ValueError, match="overlapping edits at 0-4 and 2-4"):
        apply_edits("FROM a\n", [Edit(2, 4, "om"), Edit(0, 4, "from")])
    # touching is not overlapping
    assert apply_edits("FROM a\n", [Edit(0, 2, "fr"), Edit(2, 4, "om")]) == "from a\n"


def test_one_fix_with_overlapping_edits_is_refused_and_others_still_apply(
    site: Path, tmp_path: Path
) -> None:
    text = "FROM alpine\nMAINTAINER me\n"
    run = fix_with(site, tmp_path, text, "BAD107", "BAD109")
    assert run.after == "FROM alpine\nMAINTAINER me\nUSER 1000\n"
    assert run.warnings == [
        "warning: Dockerfile: BAD107 proposed a fix that was not applied: "
        "overlapping edits at 0-4 and 2-4; please report this"
    ]


# --- BuildKit's parser, the last gate -------------------------------------------------------


def test_a_fix_buildkits_parser_rejects_is_not_written(site: Path, tmp_path: Path) -> None:
    # `<< EOF` (with a space) opens a heredoc for dockfix, as for BuildKit master; the parser
    # of the `dockerfile` package reads the body as instructions, and `env CC=gcc make` is an
    # ENV it rejects. So dockfix's parser and invariants accept the fix; BuildKit's does not.
    text = "FROM alpine\nRUN <<EOF\nenv CC=gcc make\nEOF\n"
    run = fix_with(site, tmp_path, text, "BAD106")
    assert run.after == text
    assert run.returncode == 0, run.stderr
    assert run.warnings == [
        "warning: Dockerfile: BuildKit's parser rejects the fixed text (Syntax error - can't "
        'find = in "make". Must be of the form: name=value); kept the original'
    ]


# --- each part of a heredoc's opener, on the invariant itself ------------------------------


@pytest.mark.parametrize(
    ("before", "after", "problem"),
    [
        ("RUN <<EOF", "RUN <<-EOF", "now opens as <<-EOF"),
        ("RUN <<-EOF", "RUN <<EOF", "now opens as <<EOF"),
        ("RUN <<EOF", 'RUN <<"EOF"', "now opens as <<'EOF'"),
        ("RUN cat <<EOF", "RUN cat 3<<EOF", "now opens as 3<<EOF"),
        ('RUN <<"EOF"', "RUN <<'EOF'", None),  # quoted either way: read the same
        ("RUN <<EOF", "RUN  <<EOF", None),
    ],
)
def test_what_decides_how_a_heredoc_body_is_read(
    before: str, after: str, problem: str | None
) -> None:
    body = "\techo $HOME\nEOF\n"
    old = dockfix.parse(f"FROM alpine\n{before}\n{body}")
    edit = Edit(12, 12 + len(before), after)  # the header line only
    new = dockfix.parse(apply_edits(old.source, [edit]))
    found = check_invariants(old, new, [edit])
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_a_fix_the_build_would_reject_is_refused(site: Path, tmp_path: Path) -> None:
    """BuildKit's parser takes a LABEL above the first FROM; its build does not (`no build
    stage in current context`): the engine refuses the fix as it refuses one that breaks the
    parse."""
    run = fix_with(site, tmp_path, "FROM alpine:3.20\nRUN true\n", "BAD110")
    assert_refused(
        run,
        "BAD110",
        "the build would reject the result (line 1: no build stage in current context)",
    )
