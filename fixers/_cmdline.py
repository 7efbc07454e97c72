"""Private helpers for the CMD/ENTRYPOINT fixers (DF401 shell-form-entrypoint, DF403 logs-to-file).

- :func:`plain_words` proves that a shell-form command line is one simple command made of
  plain words (no expansion, operator, redirection, assignment or comment), and returns the
  argv the shell would build from it.
- :func:`json_elements` finds the string elements of an exec-form (JSON) argument list with
  their logical offsets, so single elements can be edited in place.
- Stage helpers: the chain of stages a stage is built on, signs of a Windows image, the
  SHELL in effect.
- :func:`verified_edits`: apply edits to the file, re-parse it, and check that the edited
  instruction reads back as intended (continuation lines are where rewrites go wrong).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, NamedTuple

from dockfix.fixers._base_images import may_be_windows
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._verified_edits import verified_edits as verified_edits  # its callers' name
from dockfix.semantics.semantic import stage_chain

if TYPE_CHECKING:
    from dockfix.core.fixer import Finding, Fixer
    from dockfix.syntax import Dockerfile, Instruction, Stage

__all__ = [
    "JsonElement",
    "PlainWord",
    "display_finding",
    "json_elements",
    "json_string",
    "match_keyword_case",
    "plain_words",
    "posix_shell_problem",
    "shell_in_effect",
    "verified_edits",
    "windows_hint",
]

# Unquoted characters that mean nothing to a POSIX shell (or bash) inside a word.
_PLAIN_ASCII = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-")
# What an unquoted special character does, for the display-only reason.
_FEATURES = {
    "$": "a variable or command substitution (`$`)",
    "`": "a command substitution (backquote)",
    "*": "a glob (`*`)",
    "?": "a glob (`?`)",
    "[": "a glob or test bracket (`[`)",
    "]": "a glob bracket (`]`)",
    "{": "a brace expansion or group (`{`)",
    "}": "a brace expansion or group (`}`)",
    "~": "a tilde expansion (`~`)",
    "<": "a redirection (`<`)",
    ">": "a redirection (`>`)",
    "|": "a pipe or `||` (`|`)",
    "&": "`&&` or a background job (`&`)",
    ";": "a command list (`;`)",
    "(": "a subshell (`(`)",
    ")": "a subshell (`)`)",
    "#": "a comment (`#`)",
    "!": "a negation or history expansion (`!`)",
    "\\": "a backslash escape at the end of the command",
}
_ASSIGNMENT_RE = lazy_re(r"[A-Za-z_][A-Za-z0-9_]*=")
# First words that are not programs: reserved words and builtins with no executable twin
# (or whose executable behaves differently, like `echo -e`).
SHELL_KEYWORDS = frozenset(
    (
        "if",
        "then",
        "else",
        "elif",
        "fi",
        "case",
        "esac",
        "for",
        "select",
        "while",
        "until",
        "do",
        "done",
        "in",
        "function",
        "time",
        "coproc",
        "{",
        "}",
        "!",
        "[[",
        "]]",
    )
)
SHELL_BUILTINS = frozenset(
    (
        ".",
        ":",
        "alias",
        "bg",
        "bind",
        "break",
        "builtin",
        "caller",
        "cd",
        "command",
        "compgen",
        "complete",
        "continue",
        "declare",
        "dirs",
        "disown",
        "echo",
        "enable",
        "eval",
        "exec",
        "exit",
        "export",
        "false",
        "fc",
        "fg",
        "getopts",
        "hash",
        "help",
        "history",
        "jobs",
        "kill",
        "let",
        "local",
        "logout",
        "mapfile",
        "popd",
        "printf",
        "pushd",
        "pwd",
        "read",
        "readarray",
        "readonly",
        "return",
        "set",
        "shift",
        "shopt",
        "source",
        "suspend",
        "test",
        "times",
        "trap",
        "true",
        "type",
        "typeset",
        "ulimit",
        "umask",
        "unalias",
        "unset",
        "wait",
        "[",
    )
)


class PlainWord(NamedTuple):
    value: str  # the argument the shell passes (quotes removed)
    raw: str  # as written
    start: int  # logical offsets
    end: int


def plain_words(text: str, offset: int = 0) -> list[PlainWord] | str:
    """The words of a single simple command of plain words, or why it is not one.

    Accepted: unquoted safe characters, backslash escapes, '…' and "…" (without `$`,
    backquote) — quotes that only group. Everything a shell would expand, split, redirect
    or chain is refused with a reason. tree-sitter-bash then has to agree on the word
    boundaries, so a lexer bug here cannot turn an operator into an argument.
    """
    if "\0" in text:
        return "a NUL character, which no argument can hold"
    words: list[PlainWord] = []
    i = 0
    n = len(text)
    while i < n:
        if text[i] in " \t":
            i += 1
            continue
        start = i
        value: list[str] = []
        while i < n and text[i] not in " \t":
            read = _plain_piece(text, i, value)
            if isinstance(read, str):
                return read
            i = read
        words.append(PlainWord("".join(value), text[start:i], offset + start, offset + i))
    if not words:
        return "an empty command"
    first = words[0]
    if _ASSIGNMENT_RE.match(first.raw):
        return f"a variable assignment ({first.raw})"
    if first.raw in SHELL_KEYWORDS:
        return f"the shell keyword `{first.raw}`"
    agreement = _tree_sitter_agrees(text, offset, words)
    if agreement:
        return agreement
    return words


def _plain_piece(text: str, i: int, value: list[str]) -> int | str:
    """Read the quoted string, escape or character at ``i`` of a word into ``value``: where
    the next piece starts, or why the word is not plain."""
    ch = text[i]
    if ch == "'":
        j = text.find("'", i + 1)
        if j < 0:
            return "an unterminated single quote"
        value.append(text[i + 1 : j])
        return j + 1
    if ch == '"':
        return _double_quoted(text, i + 1, value)
    if ch == "\\":
        if i + 1 >= len(text):
            return _FEATURES["\\"]
        nxt = text[i + 1]
        if not nxt.isprintable() and nxt != "\t":
            return f"an escaped {nxt!r}"
        value.append(nxt)
        return i + 2
    if ch in _PLAIN_ASCII or (ord(ch) > 127 and ch.isprintable() and not ch.isspace()):
        value.append(ch)
        return i + 1
    if ch in _FEATURES:
        return _FEATURES[ch]
    return f"a character the shell may treat specially ({ch!r})"


def _double_quoted(text: str, i: int, value: list[str]) -> int | str:
    """Read a "…" string from just after its opening quote into ``value``: where it ends, or
    why it is not a plain one."""
    n = len(text)
    while True:
        if i >= n:
            return "an unterminated double quote"
        c = text[i]
        if c == '"':
            return i + 1
        if c in "$`":
            return _FEATURES[c] + " inside double quotes"
        if c == "\\":
            if i + 1 >= n:
                return "an unterminated double quote"
            nxt = text[i + 1]
            if nxt in '$`"\\':
                value.append(nxt)
            else:  # POSIX keeps the backslash before other characters
                value.append("\\" + nxt)
            i += 2
            continue
        if not c.isprintable() and c != "\t":
            return f"a control character ({c!r})"
        value.append(c)
        i += 1


def _tree_sitter_agrees(text: str, offset: int, words: list[PlainWord]) -> str:
    """'' when tree-sitter-bash sees one simple command with exactly these words."""
    from dockfix.semantics.shell import parse_shell

    script = parse_shell(text, offset)
    if script.has_error or script.comments:
        return "shell syntax the fixer does not model"
    if len(script.chain) != 1 or len(script.commands) != 1:
        return "more than one command"
    cmd = script.chain[0].command
    if cmd is None or cmd.assignments or cmd.redirects:
        return "a compound command, assignment or redirection"
    if [(w.start, w.end) for w in cmd.words] != [(w.start, w.end) for w in words]:
        return "words the shell would split differently"
    return ""


class JsonElement(NamedTuple):
    value: str
    start: int  # logical offsets of the quoted token
    end: int


_JSON_SPACE = " \t\r\n"


def json_elements(text: str, offset: int = 0) -> list[JsonElement] | None:
    """String elements of the JSON array starting at ``text`` (after leading space), or None."""
    i = 0
    n = len(text)
    while i < n and text[i] in _JSON_SPACE:
        i += 1
    if i >= n or text[i] != "[":
        return None
    i += 1
    out: list[JsonElement] = []
    expect_value = True
    while True:
        while i < n and text[i] in _JSON_SPACE:
            i += 1
        if i >= n:
            return None
        ch = text[i]
        if ch == "]" and (not out or not expect_value):
            return out
        if expect_value:
            if ch != '"':
                return None
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if j >= n:
                return None
            try:
                value = json.loads(text[i : j + 1])
            except ValueError:
                return None
            out.append(JsonElement(value, offset + i, offset + j + 1))
            i = j + 1
            expect_value = False
        else:
            if ch != ",":
                return None
            i += 1
            expect_value = True


def json_string(value: str) -> str:
    """A JSON string literal: `"` and `\\` escaped, control characters escaped, other text kept."""
    return json.dumps(value, ensure_ascii=False)


def match_keyword_case(written: str, keyword: str) -> str:
    """``keyword`` in the letter case the file used for ``written`` (``add`` → ``copy``)."""
    if written.islower():
        return keyword.lower()
    if written.isupper():
        return keyword.upper()
    if written[:1].isupper() and written[1:].islower():
        return keyword.capitalize()
    return keyword.upper()


# --- stages ----------------------------------------------------------------------------------


def windows_hint(doc: Dockerfile, stage: Stage) -> str:
    """Why the stage may be a Windows image ('' when nothing suggests it)."""
    if doc.escape == "`":
        return "the file uses the backtick escape character, as Windows Dockerfiles do"
    for st in reversed(stage_chain(stage)):
        if st.platform and "windows" in st.platform.lower():
            return f"the stage's platform is {st.platform}"
        if st.parent is None and may_be_windows(st.base):
            return f"the base image {st.base} looks like a Windows image"
    return ""


def shell_in_effect(
    stage: Stage, before: Instruction | None
) -> tuple[Instruction, list[str] | None] | None:
    """The last SHELL instruction before ``before`` in the stage or its parent stages.

    Returns (instruction, its JSON list or None when not JSON), or None when the default
    shell applies — as far as this file tells: a base image may set its own SHELL.
    """
    for st in reversed(stage_chain(stage)):
        found: Instruction | None = None
        for instr in st.instructions:
            if st is stage and instr is before:
                break
            if instr.keyword == "SHELL":
                found = instr
        if found is not None:
            return found, found.json_args
    return None


_POSIX_SHELLS = frozenset({"sh", "bash", "dash", "ash", "ksh", "mksh", "zsh"})
_SET_OPTION_NAMES = frozenset({"pipefail", "errexit", "nounset", "xtrace"})


def posix_shell_problem(shell: list[str] | None) -> str:
    """'' when a SHELL runs a plain command like ``/bin/sh -c`` does; else why it may not.

    ``["/bin/bash", "-o", "pipefail", "-c"]`` (hadolint DL4006's advice) is accepted; login
    or interactive shells (which read profile files that may change PATH) are not.
    """
    if not shell:
        return "the SHELL instruction is not a JSON list"
    prog = shell[0].rsplit("/", 1)[-1]
    if prog not in _POSIX_SHELLS:
        return f"SHELL runs {shell[0]!r}, not a POSIX shell"
    args = shell[1:]
    if not args or not re.fullmatch(r"-[eux]*c", args[-1]):
        return "the SHELL does not end with -c"
    i = 0
    opts = args[:-1]
    while i < len(opts):
        a = opts[i]
        if not re.fullmatch(r"-[euxo]+", a):
            return f"the SHELL passes the option {a!r}"
        if "o" in a:
            if i + 1 >= len(opts) or opts[i + 1] not in _SET_OPTION_NAMES:
                return "the SHELL sets an unknown -o option"
            i += 1
        i += 1
    return ""


# --- verification --------------------------------------------------------------------------


def display_finding(fixer: Fixer, at: Instruction, message: str, reason: str) -> Finding:
    """A finding shown with the reason it is not fixed; bound with ``functools.partial`` to
    the instruction and message (a nested function would keep the compiled build from
    compiling the fixer)."""
    return fixer.finding(at, message, reason=reason)
