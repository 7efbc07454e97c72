"""DF502 maintainer: MAINTAINER → LABEL org.opencontainers.image.authors, value unchanged."""

from __future__ import annotations

from pathlib import Path

import dockerfile
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import dockfix
from dockfix.core.edits import apply_edits
from dockfix.core.fixer import Applicability, Finding
from dockfix.fixers.maintainer import Maintainer, label_value, process_double_quoted
from dockfix.semantics.context import FixContext
from dockfix.syntax import parse, parse_words
from hadolint_runner import hadolint_codes_or_skip as hadolint_codes

CODE = "DF502"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "DF502-maintainer"


def findings(text: str, settings_: dict[str, str] | None = None) -> list[Finding]:
    return list(Maintainer(settings_).check(parse(text), FixContext()))


def run(text: str, *, unsafe: bool = False) -> str:
    """The file after the engine applies DF502's fixes."""
    fixed, _ = dockfix.fix(text, select=[CODE], unsafe_fixes=unsafe, offline=True)
    return fixed


def label_of(text: str, index: int) -> tuple[str, str]:
    """(key, value) of the LABEL at ``index`` as BuildKit would set it."""
    doc = parse(text)
    instr = doc.instructions[index]
    assert instr.keyword == "LABEL"
    (word,) = parse_words(instr.logical[instr.args_start :], doc.escape)
    key, raw = word.split("=", 1)
    value = process_double_quoted(raw, doc.escape)
    assert value is not None
    return key, value


def converted(src: str) -> str:
    """The unsafe-fixed file; the safe run must not touch it (the fix is unsafe)."""
    assert run(src) == src
    out = run(src, unsafe=True)
    dockerfile.parse_string(out)
    assert hadolint_codes(out) <= hadolint_codes(src) - {"DL4000"}
    assert run(out, unsafe=True) == out
    return out


# --- conversions ------------------------------------------------------------------------------


def test_maintainer_becomes_oci_authors_label() -> None:
    src = 'FROM debian:12\nMAINTAINER Jane Doe <jane@example.com>\nCMD ["bash"]\n'
    out = converted(src)
    assert out == (
        'FROM debian:12\nLABEL org.opencontainers.image.authors="Jane Doe <jane@example.com>"\n'
        'CMD ["bash"]\n'
    )
    finding = findings(src)[0]
    assert finding.applicability is Applicability.UNSAFE
    assert "Author" in finding.fix.description  # type: ignore[union-attr]


def test_quotes_dollar_and_backslash_keep_their_value() -> None:
    value = 'Build "Bot" \\\\ $HOME ${X} <ci@example.org>'
    src = f"FROM alpine:3.20\nMAINTAINER {value}\n"
    out = converted(src)
    assert out == (
        "FROM alpine:3.20\n"
        'LABEL org.opencontainers.image.authors="Build \\"Bot\\" \\\\\\\\ \\$HOME \\${X} '
        '<ci@example.org>"\n'
    )
    assert label_of(out, 1) == ("org.opencontainers.image.authors", value)


def test_backtick_escape_file() -> None:
    src = '# escape=`\nFROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nMAINTAINER C:\\ops `x` "q" $v\n'
    out = converted(src)
    assert out.splitlines()[2] == (
        'LABEL org.opencontainers.image.authors="C:\\ops ``x`` `"q`" `$v"'
    )
    assert label_of(out, 1)[1] == 'C:\\ops `x` "q" $v'


def test_lower_case_crlf_bom_no_final_newline() -> None:
    src = "\ufefffrom alpine:3.20\r\nmaintainer ops@example.com"
    assert converted(src) == (
        '\ufefffrom alpine:3.20\r\nlabel org.opencontainers.image.authors="ops@example.com"'
    )


def test_continuation_is_joined_into_one_value() -> None:
    src = 'FROM alpine:3.20\nMAINTAINER Jane Doe \\\n  <jane@example.com>\nCMD ["sh"]\n'
    out = converted(src)
    assert label_of(out, 1)[1] == "Jane Doe   <jane@example.com>"
    assert out.count("\n") == 3


def test_each_stage_and_repeated_maintainers_keep_their_order() -> None:
    src = "FROM alpine:3.20 AS a\nMAINTAINER first\nMAINTAINER second\nFROM a\nMAINTAINER third\n"
    out = converted(src)
    assert [label_of(out, i)[1] for i in (1, 2, 4)] == ["first", "second", "third"]


def test_label_key_option() -> None:
    src = "FROM alpine:3.20\nMAINTAINER ops@example.com\n"
    (finding,) = findings(src, {"label": "maintainer"})
    assert finding.fix is not None
    assert apply_edits(src, finding.fix.edits) == (
        'FROM alpine:3.20\nLABEL maintainer="ops@example.com"\n'
    )


# --- display-only and no finding ---------------------------------------------------------------------


def test_existing_authors_label_is_display_only() -> None:
    src = (
        "FROM alpine:3.20 AS base\n"
        'LABEL "org.opencontainers.image.authors"="team@example.com"\n'
        "FROM base\n"
        "MAINTAINER someone@example.com\n"
    )
    finding = findings(src)[0]
    assert finding.applicability is Applicability.DISPLAY_ONLY
    assert "line 2" in finding.reason
    assert run(src, unsafe=True) == src


def test_other_labels_do_not_block() -> None:
    src = 'FROM alpine:3.20\nLABEL maintainer="x" version=1\nMAINTAINER ops@example.com\n'
    assert findings(src)[0].applicability is Applicability.UNSAFE


def test_comment_inside_continuation_is_display_only() -> None:
    src = "FROM alpine:3.20\nMAINTAINER Jane \\\n# old address\n  <jane@example.com>\n"
    finding = findings(src)[0]
    assert "comment" in finding.reason
    assert run(src, unsafe=True) == src


@pytest.mark.parametrize(
    "text",
    [
        'FROM alpine:3.20\nLABEL maintainer="Jane"\n',
        "FROM alpine:3.20\n# MAINTAINER Jane\n",
        "FROM alpine:3.20\nCOPY <<EOF /AUTHORS\nMAINTAINER Jane\nEOF\n",
        "FROM alpine:3.20\nRUN echo MAINTAINER\n",
    ],
)
def test_no_finding(text: str) -> None:
    assert findings(text) == []


# --- properties ------------------------------------------------------------------------------------

_VALUE = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u2028\u2029\x85"),
    min_size=1,
).map(str.strip)


@settings(max_examples=200, deadline=None)
@given(_VALUE, st.sampled_from(["\\", "`"]))
def test_label_value_round_trips(value: str, escape: str) -> None:
    """Whatever MAINTAINER held, BuildKit's LABEL processing yields the same text."""
    assume(value and not value.endswith(escape) and not value.startswith("--"))
    head = f"# escape={escape}\n" if escape == "`" else ""
    src = f"{head}FROM alpine:3.20\nMAINTAINER {value}\n"
    doc = parse(src)
    assume(doc.instructions[1].args == value)  # exotic whitespace the parser trims
    (finding,) = findings(src)
    assert finding.fix is not None
    out = apply_edits(src, finding.fix.edits)
    # BuildKit's own parser splits the LABEL into exactly our key and quoted word ...
    label = dockerfile.parse_string(out)[1]
    assert label.value == ("org.opencontainers.image.authors", label_value(value, escape))
    # ... which its word processor (processDoubleQuote) turns back into the text.
    assert label_of(out, 1)[1] == value


def test_process_double_quoted_rejects_what_buildkit_would_expand_or_reject() -> None:
    assert process_double_quoted('"a$b"', "\\") is None
    assert process_double_quoted('"a\\"', "\\") is None
    assert process_double_quoted('"a\\q"', "\\") == "a\\q"
    assert label_value('a"b$c\\d', "\\") == '"a\\"b\\$c\\\\d"'
