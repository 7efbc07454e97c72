"""DF504 legacy-key-value: `ENV key value` → `ENV key=value` with the value BuildKit reads."""

from __future__ import annotations

import dockerfile  # type: ignore[import-untyped]
import pytest

import dockfix
from dockfix.core.fixer import Applicability, Finding


def fix(text: str) -> tuple[str, list[Finding]]:
    return dockfix.fix(text, select=["DF504"])


def pairs(text: str) -> list[tuple[str, ...]]:
    """BuildKit's key/value words of each ENV and LABEL (quotes kept, as its parser gives)."""
    return [c.value for c in dockerfile.parse_string(text) if c.cmd.upper() in ("ENV", "LABEL")]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("ENV PORT 8080", "ENV PORT=8080"),
        ("env PORT    8080   ", "env PORT=8080   "),
        ("ENV PATH /app/bin:$PATH", "ENV PATH=/app/bin:$PATH"),
        ('ENV GREETING "hello world"', 'ENV GREETING="hello world"'),
        ("ENV A =b", "ENV A==b"),
        (
            "LABEL org.opencontainers.image.version 1.2",
            "LABEL org.opencontainers.image.version=1.2",
        ),
        ("ENV A \\\n    b", "ENV A=b"),
        ("ENV A it's here", "ENV A=it's here"),
    ],
)
def test_plain_values_keep_buildkits_words_exactly(before: str, after: str) -> None:
    src = f"FROM debian:12\n{before}\n"
    out, left = fix(src)
    assert out == f"FROM debian:12\n{after}\n" and left == []
    assert pairs(out) == pairs(src)
    assert fix(out) == (out, [])


@pytest.mark.parametrize(
    ("before", "after", "value"),
    [
        ("ENV MSG hello  world", 'ENV MSG="hello  world"', "hello  world"),
        ("ENV JAVA_OPTS -Xmx1g -Dx=$HOME", 'ENV JAVA_OPTS="-Xmx1g -Dx=$HOME"', "-Xmx1g -Dx=$HOME"),
        ("ENV A hello \\\n  world", 'ENV A="hello \\\n  world"', "hello   world"),
    ],
)
def test_values_with_spaces_are_double_quoted(before: str, after: str, value: str) -> None:
    src = f"FROM debian:12\n{before}\n"
    out, left = fix(src)
    assert out == f"FROM debian:12\n{after}\n" and left == []
    # BuildKit removes the quotes when it expands the value: the same text as before
    (key, old), (key2, new) = pairs(src)[0], pairs(out)[0]
    assert key == key2 and old == value and new == f'"{value}"'


def test_escape_directive_backtick() -> None:
    src = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nENV DIR C:\\app\\bin\n"
    out, left = fix(src)
    assert out == src.replace("DIR C:", "DIR=C:") and left == []
    assert pairs(out) == pairs(src)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('ENV A "x y" z', "quotes: quote it by hand"),
        ('ENV A "a" b', "quotes: quote it by hand"),
        ("ENV A a\\ b c", "quotes: quote it by hand"),
        ("ENV $NAME value", "uses a variable"),
        ("ENV A \\\n# why\n  b", "comment lines"),
    ],
)
def test_display_only_where_quoting_would_change_the_value(line: str, reason: str) -> None:
    src = f"FROM debian:12\n{line}\n"
    out, left = dockfix.fix(src, select=["DF504"], unsafe_fixes=True)
    assert out == src
    assert [f.applicability for f in left] == [Applicability.DISPLAY_ONLY]
    assert reason in left[0].reason


@pytest.mark.parametrize(
    "line",
    ["ENV A=1 B=2", 'LABEL a="b c"', "ARG A", "ONBUILD ENV A b", "ENV A=", 'ENV "A"=1'],
)
def test_key_value_form_is_no_finding(line: str) -> None:
    src = f"FROM debian:12\n{line}\n"
    assert fix(src) == (src, [])
