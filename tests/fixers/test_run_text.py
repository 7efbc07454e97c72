"""The pre-filter of the apt fixers (`_run_text`) never hides a command the shell model reads:
these RUNs name their program only after the shell removes a backslash or decodes JSON."""

from __future__ import annotations

import dockfix
from dockfix.fixers._run_text import run_texts
from dockfix.syntax import parse


def codes(text: str, code: str) -> list[str]:
    _, found = dockfix.fix(text, select=[code])
    return [f.code for f in found]


def test_a_backslash_inside_the_program_name() -> None:
    # the shell model reads `ap\t` as `apt`, `upd\ate` as `update`
    assert codes("FROM debian\nRUN ap\\t install -y curl=1\n", "DF106") == ["DF106"]
    assert codes("FROM debian\nRUN apt-get upd\\ate\nRUN echo\n", "DF102") == ["DF102"]


def test_apt_as_a_path_or_quoted_beside_apt_get() -> None:
    text = 'FROM debian\nRUN apt-get update && /usr/bin/apt install -y curl=1 && "apt" clean\n'
    assert codes(text, "DF106") == ["DF106", "DF106"]


def test_an_escaped_exec_form_string() -> None:
    text = 'FROM debian\nRUN ["\\u0061pt-get", "install", "-y", "curl"]\n'
    assert codes(text, "DF105") == ["DF105"]


def test_the_text_covers_heredoc_bodies_and_onbuild_triggers() -> None:
    doc = parse("FROM debian\nONBUILD RUN <<EOF\napk add curl\nEOF\n")
    ((owner, text),) = run_texts(doc)
    assert owner is doc.instructions[1] and "apk add" in text


def test_a_continuation_inside_a_heredoc_body_is_joined_as_the_shell_joins_it() -> None:
    # `apt-\<newline>get` in a heredoc script runs apt-get: the text must say so
    doc = parse("FROM debian\nRUN <<EOF\napt-\\\nget install -y curl\nEOF\n")
    ((_owner, text),) = run_texts(doc)
    assert "apt-get install" in text
