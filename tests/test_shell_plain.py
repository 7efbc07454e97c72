"""`parse_shell` reads a plain script (words, blanks, newlines, `&&`, `||`, `;`) without
tree-sitter: the result must be the very script tree-sitter's tree gives, on every script the
shipped and corpus Dockerfiles hold and on generated ones; anything else goes to tree-sitter."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dockfix.semantics import shell
from dockfix.syntax import parse_lossless

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILES = sorted(
    p
    for top in (ROOT / "fixtures", ROOT / "tests" / "data")
    for p in top.rglob("*")
    if p.is_file() and ("Dockerfile" in p.name or "Containerfile" in p.name)
)


def _scripts(text: str) -> list[tuple[str, int]]:
    """The shell texts dockfix parses in a file: command lines and heredoc bodies."""
    out = []
    for instr in parse_lossless(text).walk():
        if instr.keyword in ("RUN", "CMD", "ENTRYPOINT") and instr.json_args is None:
            out.append((shell.blank_heredoc_words(instr)[instr.args_start :], instr.args_start))
        out.extend((h.body.replace("\r\n", " \n"), 0) for h in instr.heredocs)
    return out


def _agrees(text: str, offset: int) -> bool:
    """True when the plain reading took the script (and gave tree-sitter's answer)."""
    plain = shell._plain_script(text, offset)
    if plain is not None:
        assert plain == shell._tree_sitter_script(text, offset), text
    return plain is not None


def test_every_plain_script_of_the_corpus_reads_as_tree_sitter_reads_it() -> None:
    taken = total = 0
    for path in DOCKERFILES:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for script, offset in _scripts(text):
            total += 1
            taken += _agrees(script, offset)
    assert taken > total // 2  # most scripts are plain: the test reads many


@pytest.mark.parametrize(
    "script",
    [
        "apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*",
        "DEBIAN_FRONTEND=noninteractive apt-get install -y x; pip install -r a.txt || true",
        "\n\nset -e\nmake build\n\nmake install;\nls\n",
        "a && b || c ; d",
        "cd /app && npm ci --omit=dev",
    ],
)
def test_plain_scripts_skip_tree_sitter(script: str) -> None:
    assert _agrees(script, 7)


@pytest.mark.parametrize(
    "script",
    [
        "echo 'a b'",  # quoting
        "echo $HOME",  # expansion
        "a | b",  # pipeline
        "a &",  # background
        "a > f",  # redirection
        "A=1",  # an assignment alone
        "A=1 && b",
        "a &&",  # a dangling operator
        "&& a",
        "a ; ; b",
        "a &&\nb",
        "if true; then a; fi",  # a compound command
        "export A=1",  # a declaration
        "- x",  # tree-sitter drops a command named `-`
        "a+: x",
        "A=1 x:y",
        "_=1 a",  # `_` is a special parameter
        "a == b",  # a test operator to tree-sitter
        "",
        " \n ",
    ],
)
def test_other_scripts_go_to_tree_sitter(script: str) -> None:
    assert shell._plain_script(script, 0) is None
    assert shell.parse_shell(script, 3) == shell._tree_sitter_script(script, 3)


# fmt: off
_WORDS = [
    "a", "apt-get", "install", "-y", "x=1", "A=1", "A=b=c", "1", "-1", "1.5", "=", "==", "a=",
    "*", "a*b", "/x/*", "+", "-", "--", "--x=y", "in", "do", "done", "if", "fi", "echo", "time",
    "export", "-n", ":", ".", "./x", "a,b", "0x1", "x:y", "a:b:c", "_", "_A=1", "a.b=c", "A=a+b",
    "A=:", "a+", "+a", "::", "a-", "//", "case", "&&", "||", ";", ";;", "&", "|",
]
# fmt: on
_TOKENS = st.sampled_from([*_WORDS, "\n", " ", "\t", "\n\n"])


@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(_TOKENS, st.sampled_from(["", " ", "  ", "\t"])), max_size=10))
@example(
    [("a", ""), ("+", ""), (":", "")]
)  # found by this test: `a+:` is not a command to tree-sitter
def test_generated_scripts_read_as_tree_sitter_reads_them(parts: list[tuple[str, str]]) -> None:
    _agrees("".join(token + blank for token, blank in parts), 5)
