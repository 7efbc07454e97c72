"""DF401 shell-form-entrypoint: CMD/ENTRYPOINT shell form → exec form, only when provably equal."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import dockerfile
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import dockfix
from dockfix.core.edits import apply_edits
from dockfix.core.fixer import Applicability, Finding
from dockfix.fixers.shell_form_entrypoint import ShellFormEntrypoint
from dockfix.semantics.context import FixContext
from dockfix.syntax import ParseError, parse
from hadolint_runner import hadolint_codes_or_skip as hadolint_codes

CODE = "DF401"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "DF401-shell-form-entrypoint"


def findings(text: str) -> list[Finding]:
    return list(ShellFormEntrypoint().check(parse(text), FixContext()))


def run(text: str, *, unsafe: bool = False, context_dir: Path | None = None) -> str:
    """The file after the engine applies DF401's fixes."""
    fixed, _ = dockfix.fix(
        text, select=[CODE], unsafe_fixes=unsafe, context_dir=context_dir, offline=True
    )
    return fixed


def assert_good_output(before: str, after: str, *, unsafe: bool) -> None:
    """BuildKit parses it, hadolint reports nothing new, fixing again changes nothing."""
    dockerfile.parse_string(after)
    assert hadolint_codes(after) <= hadolint_codes(before)
    assert run(after, unsafe=unsafe) == after


def only(text: str) -> Finding:
    found = findings(text)
    assert len(found) == 1, found
    return found[0]


# --- conversions ------------------------------------------------------------------------------


def test_cmd_becomes_exec_form_with_unsafe_fixes() -> None:
    src = "FROM python:3.12-slim\nCMD python -m http.server 8000\n"
    assert run(src) == src
    out = run(src, unsafe=True)
    assert out == 'FROM python:3.12-slim\nCMD ["python", "-m", "http.server", "8000"]\n'
    assert_good_output(src, out, unsafe=True)
    finding = only(src)
    assert finding.applicability is Applicability.UNSAFE
    assert "PID 1" in finding.fix.description  # type: ignore[union-attr]


def test_quotes_that_only_group_become_one_argument() -> None:
    src = """FROM alpine:3.20\nCMD app --name "my app" --sep=',' a\\ b "say \\"hi\\"" 'c:\\d'\n"""
    out = run(src, unsafe=True)
    doc = parse(out)
    assert doc.instructions[1].json_args == [
        "app", "--name", "my app", "--sep=,", "a b", 'say "hi"', "c:\\d",
    ]  # fmt: skip
    assert_good_output(src, out, unsafe=True)


def test_non_ascii_is_written_as_is() -> None:
    src = "FROM alpine:3.20\nCMD greet --to Zoë --msg 'héllo wörld'\n"
    out = run(src, unsafe=True)
    assert out == 'FROM alpine:3.20\nCMD ["greet", "--to", "Zoë", "--msg", "héllo wörld"]\n'


def test_leading_exec_is_dropped() -> None:
    src = "FROM node:20-alpine\nCMD exec node server.js\n"
    assert run(src, unsafe=True) == 'FROM node:20-alpine\nCMD ["node", "server.js"]\n'


def test_exec_alone_on_a_continued_line() -> None:
    src = "FROM node:20-alpine\nCMD exec \\\n    node server.js\n"
    out = run(src, unsafe=True)
    assert out == 'FROM node:20-alpine\nCMD \\\n    ["node", "server.js"]\n'
    assert parse(out).instructions[1].json_args == ["node", "server.js"]


def test_continuation_layout_and_comment_lines_are_kept() -> None:
    src = (
        "FROM python:3.12-slim\n"
        "CMD gunicorn \\\n"
        "    # one worker per core\n"
        "    --workers 4 \\\n"
        "    app:app\n"
    )
    out = run(src, unsafe=True)
    assert out == (
        "FROM python:3.12-slim\n"
        'CMD ["gunicorn", \\\n'
        "    # one worker per core\n"
        '    "--workers", "4", \\\n'
        '    "app:app"]\n'
    )
    assert parse(out).instructions[1].json_args == ["gunicorn", "--workers", "4", "app:app"]
    assert_good_output(src, out, unsafe=True)


def test_crlf_bom_and_missing_final_newline_survive() -> None:
    src = "\ufeffFROM alpine:3.20\r\nRUN true\r\nCMD app --serve"
    out = run(src, unsafe=True)
    assert out == '\ufeffFROM alpine:3.20\r\nRUN true\r\nCMD ["app", "--serve"]'


def test_lower_case_keyword_is_kept() -> None:
    src = "from alpine:3.20\ncmd app --serve\n"
    assert run(src, unsafe=True) == 'from alpine:3.20\ncmd ["app", "--serve"]\n'


def test_bash_pipefail_shell_is_a_plain_shell() -> None:
    src = 'FROM debian:12\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nCMD app --serve\n'
    out = run(src, unsafe=True)
    assert out.endswith('CMD ["app", "--serve"]\n')


# --- safe vs unsafe vs display-only ---------------------------------------------------------------


def test_overridden_cmd_is_safe_and_the_last_one_unsafe() -> None:
    src = "FROM python:3.12\nCMD python manage.py runserver\nCMD gunicorn app:app\n"
    out = run(src)
    assert (
        out == 'FROM python:3.12\nCMD ["python", "manage.py", "runserver"]\nCMD gunicorn app:app\n'
    )
    assert [f.applicability for f in findings(src)] == [Applicability.SAFE, Applicability.UNSAFE]
    assert_good_output(src, out, unsafe=False)


def test_cmd_under_shell_form_entrypoint_is_safe() -> None:
    src = "FROM alpine:3.20\nENTRYPOINT /entry.sh\nCMD app --serve\n"
    found = findings(src)
    assert [f.applicability for f in found] == [Applicability.DISPLAY_ONLY, Applicability.SAFE]
    assert "ignored" in found[0].reason and "line 3" in found[0].reason
    assert run(src) == 'FROM alpine:3.20\nENTRYPOINT /entry.sh\nCMD ["app", "--serve"]\n'


def test_cmd_with_exec_form_entrypoint_is_unsafe() -> None:
    src = 'FROM alpine:3.20\nENTRYPOINT ["tini", "--"]\nCMD app --serve\n'
    finding = only(src)
    assert finding.applicability is Applicability.UNSAFE
    assert "ENTRYPOINT on line 2" in finding.fix.description  # type: ignore[union-attr]
    assert run(src) == src


def test_entrypoint_without_cmd_is_unsafe() -> None:
    src = "FROM alpine:3.20\nENTRYPOINT exec /usr/bin/server --port 80\n"
    assert run(src) == src
    out = run(src, unsafe=True)
    assert out == 'FROM alpine:3.20\nENTRYPOINT ["/usr/bin/server", "--port", "80"]\n'


def test_entrypoint_with_cmd_in_a_derived_stage_is_display_only() -> None:
    src = 'FROM alpine:3.20 AS base\nENTRYPOINT /usr/bin/server\nFROM base\nCMD ["--debug"]\n'
    finding = only(src)
    assert finding.applicability is Applicability.DISPLAY_ONLY
    assert "line 4" in finding.reason
    assert run(src, unsafe=True) == src


def test_cmd_inherits_entrypoint_of_parent_stage() -> None:
    src = 'FROM alpine:3.20 AS base\nENTRYPOINT ["tini", "--"]\nFROM base\nCMD app\n'
    assert only(src).applicability is Applicability.UNSAFE


@pytest.mark.parametrize(
    ("command", "feature"),
    [
        ("app --port $PORT", "`$`"),
        ("app --port ${PORT:-80}", "`$`"),
        ("app `hostname`", "backquote"),
        ("app *.conf", "glob"),
        ("app config-?.yml", "glob"),
        ("app {a,b}", "brace"),
        ("app ~/x", "tilde"),
        ("app > /tmp/log", "redirection"),
        ("app 2>&1", "redirection"),
        ("app | tee x", "pipe"),
        ("migrate && app", "`&&`"),
        ("migrate; app", "command list"),
        ("app &", "background"),
        ("(app)", "subshell"),
        ("app # comment", "comment"),
        ("! app", "negation"),
        ("FOO=1 app", "assignment"),
        ('app "$HOME"', "`$`"),
        ("app 'unterminated", "unterminated"),
        ("time app", "keyword"),
    ],
)
def test_shell_features_are_display_only(command: str, feature: str) -> None:
    src = f"FROM alpine:3.20\nCMD {command}\n"
    finding = only(src)
    assert finding.applicability is Applicability.DISPLAY_ONLY
    assert feature in finding.reason
    assert run(src, unsafe=True) == src


@pytest.mark.parametrize("builtin", ["cd /app", "echo hi", "source env.sh", ". env.sh", "exec"])
def test_builtins_are_display_only(builtin: str) -> None:
    src = f"FROM alpine:3.20\nCMD {builtin}\n"
    assert only(src).applicability is Applicability.DISPLAY_ONLY
    assert run(src, unsafe=True) == src


def test_invalid_json_looking_args_explain_themselves() -> None:
    src = "FROM python:3.12\nCMD [python, app.py]\n"
    finding = only(src)
    assert "not valid JSON" in finding.reason
    assert run(src, unsafe=True) == src


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("# escape=`\nFROM alpine:3.20\nCMD app --serve\n", "backtick"),
        ("FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nCMD app.exe\n", "Windows"),
        ("FROM --platform=windows/amd64 example/app\nCMD app.exe\n", "platform"),
        ('FROM alpine:3.20\nSHELL ["pwsh", "-Command"]\nCMD app\n', "pwsh"),
        ('FROM alpine:3.20\nSHELL ["/bin/bash", "-l", "-c"]\nCMD app\n', "-l"),
        ("FROM alpine:3.20\nENV BASH_ENV=/etc/profile.d/app.sh\nCMD app\n", "BASH_ENV"),
        ("FROM alpine:3.20\nCMD app\\\n--serve\n", "split across"),
    ],
)
def test_other_shells_and_split_words_are_display_only(text: str, why: str) -> None:
    finding = only(text)
    assert finding.applicability is Applicability.DISPLAY_ONLY
    assert why in finding.reason
    assert run(text, unsafe=True) == text


def test_shell_in_parent_stage_counts() -> None:
    src = 'FROM alpine:3.20 AS base\nSHELL ["cmd", "/S", "/C"]\nFROM base\nCMD app\n'
    assert "cmd" in only(src).reason


def test_shell_not_in_json_form_is_a_file_the_build_rejects() -> None:
    # BuildKit's parser takes `SHELL /bin/bash -c`; its instruction parse refuses it, and so
    # does dockfix, in the same words, before any fixer runs.
    src = "FROM alpine:3.20\nSHELL /bin/bash -c\nCMD app --serve\n"
    with pytest.raises(ParseError, match="SHELL requires the arguments to be in JSON form"):
        run(src, unsafe=True)


def test_onbuild_trigger_is_display_only() -> None:
    src = "FROM alpine:3.20\nONBUILD CMD app --serve\n"
    finding = only(src)
    assert finding.applicability is Applicability.DISPLAY_ONLY
    assert "ONBUILD" in finding.reason


# --- no findings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        'FROM alpine:3.20\nCMD ["app", "--serve"]\n',
        'FROM alpine:3.20\nENTRYPOINT ["app"]\nCMD ["--serve"]\n',
        'FROM alpine:3.20\nCMD [ "app", \\\n  "--serve" ]\n',
        "FROM alpine:3.20\nHEALTHCHECK CMD wget -qO- http://localhost/ || exit 1\n",
        "FROM alpine:3.20\nRUN app --build\n",
        "FROM alpine:3.20\nCOPY <<EOF /etc/motd\nCMD not an instruction\nEOF\n",
    ],
)
def test_no_finding(text: str) -> None:
    assert findings(text) == []
    assert run(text, unsafe=True) == text


def test_a_flag_the_build_rejects_is_left_alone() -> None:
    text = "FROM alpine:3.20\nCMD --profile=prod app\n"
    assert findings(text) == []
    with pytest.raises(ParseError, match="unknown flag: --profile"):  # (the engine's refusal)
        run(text, unsafe=True)


# --- properties ------------------------------------------------------------------------------------

_WORD_CHARS = st.sampled_from(list("abcXYZ019_-./:=@%+,é\"' \\$*&;|<>(){}~#!`?[]\t"))
_ANY = st.characters(blacklist_categories=("Cs", "Cc"))
# Pieces of words: plain runs, '…', "…" with escapes, backslash escapes, stray specials.
_PIECE = st.one_of(
    st.from_regex(r"[a-z0-9_./=:,@%+-]{1,6}", fullmatch=True),
    st.text(_ANY.filter(lambda c: c != "'"), max_size=6).map(lambda t: f"'{t}'"),
    st.lists(
        st.one_of(
            st.text(_ANY.filter(lambda c: c not in '"\\$`'), min_size=1, max_size=4),
            st.sampled_from(['\\"', "\\\\", "\\$", "\\`", "\\a", "\\ "]),
        ),
        max_size=4,
    ).map(lambda parts: '"' + "".join(parts) + '"'),
    _ANY.filter(lambda c: c not in "\n\r").map(lambda c: "\\" + c),
    _WORD_CHARS,
)
_WORD = st.lists(_PIECE, min_size=1, max_size=3).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_WORD, min_size=1, max_size=5))
def test_a_converted_command_has_the_argv_sh_would_build(parts: list[str]) -> None:
    """Differential test against a real shell: when DF401 converts, the JSON list equals the
    argv /bin/sh builds from the same line (checked with printf, only for lines DF401 proved
    to be plain words, so nothing is executed)."""
    line = " ".join(parts).strip()
    assume(line and "\n" not in line and not line.endswith("\\"))
    src = f"FROM alpine:3.20\nCMD show-args {line}\n"
    found = findings(src)
    assert len(found) == 1
    if found[0].fix is None:
        event("display-only")
        return
    event("converted")
    out = apply_edits(src, found[0].fix.edits)
    argv = parse(out).instructions[1].json_args
    assert argv is not None
    dockerfile.parse_string(out)
    sh = shutil.which("sh")
    assume(sh is not None)
    proc = subprocess.run(
        [str(sh), "-c", f"printf '%s\\0' {line}"], capture_output=True, check=True, timeout=10
    )
    expected = proc.stdout.decode("utf-8").split("\0")[:-1]
    assert argv[1:] == expected


# No NUL: an argv string cannot hold one (DF401 refuses it as shell syntax).
_ARG_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\0"))


@settings(max_examples=100, deadline=None)
@given(st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True), st.lists(_ARG_TEXT, max_size=6))
def test_quoted_argv_round_trips(program: str, args: list[str]) -> None:
    """Any argv written with shlex.quote converts back to exactly that argv."""
    import shlex

    from dockfix.fixers._cmdline import SHELL_BUILTINS, SHELL_KEYWORDS

    assume(program not in SHELL_BUILTINS and program not in SHELL_KEYWORDS)
    argv = [program, *args]
    src = f"FROM alpine:3.20\nCMD {shlex.join(argv)}\n"
    found = findings(src)
    assert len(found) == 1 and found[0].fix is not None, found
    out = apply_edits(src, found[0].fix.edits)
    assert parse(out).instructions[1].json_args == argv
    dockerfile.parse_string(out)


def test_a_windows_image_names_its_own_default_shell() -> None:
    # the finding said `/bin/sh -c`, which a Windows image does not have
    finding = only("FROM mcr.microsoft.com/windows/servercore:ltsc2022\nCMD C:\\app\\app.exe --x\n")
    assert "/bin/sh" not in finding.message
    assert "cmd /S /C" in finding.message
    linux = only("FROM alpine:3.20\nCMD app --serve\n")
    assert "/bin/sh -c" in linux.message


def test_a_windows_shell_set_by_shell_is_the_one_named() -> None:
    # the aspnet sample's PowerShell SHELL: the message named its whole prelude unquoted, and
    # the reason cmd, which does not run this ENTRYPOINT
    src = (
        "# escape=`\nFROM mcr.microsoft.com/dotnet/framework/aspnet:4.8\n"
        'SHELL ["powershell", "-Command", "$ErrorActionPreference = \'Stop\';"]\n'
        "ENTRYPOINT C:\\ServiceMonitor.exe w3svc\n"
    )
    finding = only(src)
    assert "under `powershell -Command …`," in finding.message
    assert "cmd" not in finding.reason and "`powershell -Command …`" in finding.reason
    bash = only('FROM debian:12\nSHELL ["/bin/bash", "-l", "-c"]\nCMD app\n')
    assert "under `/bin/bash -l -c`," in bash.message
