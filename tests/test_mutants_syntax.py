"""The syntax tree at its boundaries (cases scripts/mutation found untested).

Where BuildKit decides (heredocs, whose detection depends on its shell lexer), the packaged
BuildKit parser is the oracle.
"""

from __future__ import annotations

import dockerfile  # type: ignore[import-untyped]
import pytest

from buildkit_oracle import buildkit_spans, dockfix_spans, newer_parser_differs
from dockfix.syntax import (
    MAX_LINE_BYTES,
    ParseError,
    _extract_flags,
    arg_pairs,
    env_pairs,
    parse,
    parse_lossless,
    parse_words,
)

# Words before a heredoc: where BuildKit's shell lexer fails, `<<EOF` opens no heredoc.
LEXER_WORDS = [
    "$",
    "$HOME",
    "$HOME'x'",
    "a$1b",
    "${HOME}",
    "${HOME",
    "${}",
    "${:-x}",
    "${a:-${b}}",
    "${a:-${}}",
    "${a:-${:-x}}",
    "${a:-${b}",
    "${a:-\\}}",
    "${a:-x}}",
    # after a nested `${`: a name, then `}` or a modifier, else the lexer fails
    "${a:-${$}x}",
    "${a:-${\\}x}",
    "${a:-${\\}}",
    "${a:-${\\}}}",
    "${a:-${\\x}}",
    "${a:-${${b}}",
    "${a:-${${b}}}",
    "${a:-${{b}}}",
    "${a:-${$x}}}",
    "${1a}",
    "${",
    "${a:-${",
    '"$HOME"',
    '"${HOME}"',
    '"${HOME"',
    '"$"',
    '"a\\"b"',
    "'${'",
    "\\${",
    "a\\ b",
    "a\\b",
    "\\'",
    '"unterminated',
    "'unterminated",
]


@pytest.mark.parametrize("word", LEXER_WORDS)
def test_heredoc_detection_follows_buildkit_s_lexer(word: str) -> None:
    for text in (f"FROM a\nRUN echo {word} <<EOF\nx\nEOF\n", f"FROM a\nRUN <<EOF {word}\nx\nEOF\n"):
        assert not newer_parser_differs(text)
        assert dockfix_spans(text) == buildkit_spans(text)


@pytest.mark.parametrize(
    "header", ["RUN <<EOF", "RUN <<'EOF'", 'RUN <<"EOF"', "RUN <<\\EOF", "RUN <<E\\OF"]
)
def test_heredoc_delimiters_as_buildkit_reads_them(header: str) -> None:
    text = f"FROM a\n{header}\nbody\nEOF\nCMD x\n"
    assert dockfix_spans(text) == buildkit_spans(text)
    heredoc = parse(text).instructions[1].heredocs[0]
    assert heredoc.name == "EOF" and heredoc.quoted is (header != "RUN <<EOF")


def test_unquote_keeps_escapes_inside_double_quotes() -> None:
    run = parse('FROM a\nRUN <<"E\\"F"\nbody\nE"F\n').instructions[1]
    assert [(h.name, h.quoted, h.body) for h in run.heredocs] == [('E"F', True, "body\n")]
    for header in ("<<'A'B", '<<"A"B'):
        run = parse(f"FROM a\nRUN {header}\nbody\nAB\n").instructions[1]
        assert [(h.name, h.quoted) for h in run.heredocs] == [("AB", True)]


def test_a_spaced_heredoc_then_another() -> None:
    run = parse("FROM a\nRUN cat << A <<B\nx\nA\ny\nB\n").instructions[1]
    assert [(h.name, h.body) for h in run.heredocs] == [("A", "x\n"), ("B", "y\n")]


def test_a_heredoc_with_a_file_descriptor() -> None:
    run = parse("FROM a\nRUN cat 3<<EOF\nx\nEOF\n").instructions[1]
    assert [(h.name, h.fd) for h in run.heredocs] == [("EOF", 3)]


def test_arg_values_are_kept_raw() -> None:
    arg = parse("FROM a\nARG A=x\\ y B='z'\n").instructions[1]
    assert arg_pairs(arg) == [("A", "x\\ y"), ("B", "z")]


def test_parse_errors_name_the_line() -> None:
    assert str(ParseError("bad", 3)) == "line 3: bad" and ParseError("bad", 3).reason == "bad"
    assert str(ParseError("bad")) == "bad"


def test_a_line_longer_than_buildkit_accepts_is_an_error() -> None:
    doc = parse_lossless("FROM a\nRUN " + "é" * MAX_LINE_BYTES + "\nRUN " + "x" * 70000 + "\n")
    assert doc.error is not None and doc.error.line == 2
    assert str(doc.error).endswith(
        f"dockerfile line greater than max allowed size of {MAX_LINE_BYTES}"
    )
    assert parse_lossless("FROM a\nRUN " + "x" * 60000 + "\n").error is None


def test_lines_of_a_file_that_starts_with_a_blank_line() -> None:
    for text in ("\nFROM a\n", "\nFROM a\r"):
        doc = parse(text)
        assert [(ln.number, ln.start) for ln in doc.lines] == [(1, 0), (2, 1)]
        assert doc.instructions[0].start_line == 2 and doc.instructions[0].args == "a"


def test_instruction_at_line_past_the_end_is_none() -> None:
    doc = parse("FROM a\n\nRUN b\n")
    assert [doc.instruction_at_line(n) for n in range(6)] == [
        None,
        doc.instructions[0],
        None,
        doc.instructions[1],
        None,
        None,
    ]


def test_comment_lines_above_are_in_file_order() -> None:
    doc = parse("FROM a\n# one\n  # two\nRUN b\n")
    assert doc.comment_lines_above(doc.instructions[1]) == ["# one", "# two"]


def test_take_apart_drops_what_the_tree_holds() -> None:
    doc = parse("FROM a\nONBUILD RUN b\n")
    doc.cache["analysis"] = object()
    doc.take_apart()
    assert doc.cache == {}
    assert all(i.stage is None for i in doc.instructions)
    assert doc.instructions[1].trigger is not None and doc.instructions[1].trigger.stage is None


def test_offsets_of_an_indented_instruction_map_back_to_the_source() -> None:
    doc = parse("FROM a\n  RUN echo hi \\\n    there\n")
    run = doc.instructions[1]
    s, e = run.source_span(run.args_start, len(run.logical))
    assert doc.source[s:e] == "echo hi \\\n    there"
    s, e = run.source_span(run.args_start, run.args_start + 4)
    assert doc.source[s:e] == "echo"


@pytest.mark.parametrize(
    ("line", "flags"),
    [
        ('COPY --chown="a b" x y', [("chown", "a b")]),
        ('COPY --chown="a\\"b" x y', [("chown", 'a"b')]),
        ("COPY --chown=a\\ b x y", [("chown", "a b")]),
        ('COPY --chown="" x y', [("chown", "")]),
        ("COPY --link x y", [("link", None)]),
        ("COPY -- --x y", []),
    ],
)
def test_flags_are_unquoted_like_buildkit_does(
    line: str, flags: list[tuple[str, str | None]]
) -> None:
    copy = parse(f"FROM a\n{line}\n").instructions[1]
    assert [(f.name, f.value) for f in copy.flags] == flags


# A logical line ends with an escape only after a trailing `\v`/`\f` (no continuation in
# BuildKit, trimmed as Go whitespace before the words are split): BuildKit drops that escape.
@pytest.mark.parametrize("escape", ["\\", "`"])
@pytest.mark.parametrize("value", ['"b', "b", "'b"])
def test_an_escape_ending_the_arguments_is_dropped_like_buildkit(escape: str, value: str) -> None:
    text = f"# escape={escape}\nFROM x\nENV a={value}{escape}\x0b\n"
    (bk,) = [c.value for c in dockerfile.parse_string(text) if c.cmd.upper() == "ENV"]
    words = parse_words(f"a={value}{escape}", escape)
    assert [tuple(w.split("=", 1)) for w in words] == [bk]
    assert parse_lossless(text).error is None


@pytest.mark.parametrize("quote", ['"', ""])
@pytest.mark.parametrize("end", ["\\\x0b", "\\\x0c\n", "\x0b"])
def test_a_flag_at_the_end_of_the_line_is_read_like_buildkit(quote: str, end: str) -> None:
    # `\v`/`\f` after the escape is no continuation; BuildKit trims it, then drops the escape
    text = f"FROM x\nRUN --mount={quote}a{end}"
    (bk,) = [c.flags for c in dockerfile.parse_string(text) if c.cmd.upper() == "RUN"]
    flags = parse_lossless(text).instructions[1].flags
    assert tuple(f"--{f.name}={f.value}" for f in flags) == bk
    line = f"RUN --mount={quote}a\\"
    (flag,), args_start = _extract_flags(line, 4)
    assert (flag.value, flag.logical_end, args_start) == ("a", len(line), len(line))


def test_empty_quoted_values_and_values_holding_equals_signs() -> None:
    doc = parse("ARG A=\"\" B='' C=x=y\nFROM x\n")
    assert arg_pairs(doc.instructions[0]) == [("A", ""), ("B", ""), ("C", "x=y")]


def test_a_value_quoted_in_parts_loses_every_quote() -> None:
    # BuildKit's shell lexer removes quotes wherever they are: `"a"b'c'` is `abc`.
    doc = parse('ARG A="a"b\'c\' B=\'"x"\'\nFROM x\nENV C="1"."2"\n')
    assert arg_pairs(doc.instructions[0]) == [("A", "abc"), ("B", '"x"')]
    assert env_pairs(doc.instructions[-1]) == [("C", "1.2")]


def test_an_arg_declared_again_without_a_value_keeps_its_value() -> None:
    from dockfix.syntax import parse_lossless

    doc = parse_lossless("FROM a\nARG X=1\nARG Y\nARG X\nARG Y\nRUN echo $X\n")
    stage = doc.stages[0]
    scope = stage.variables_at(doc.instructions[-1])
    assert scope["X"] == "1" and scope["Y"] is None
