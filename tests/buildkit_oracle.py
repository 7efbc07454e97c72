"""BuildKit's own parser as the oracle: the PyPI package ``dockerfile`` embeds its Go code."""

from __future__ import annotations

import dockerfile  # type: ignore[import-untyped]

from dockfix.syntax import parse_lossless

# Inputs whose spans differ between the v0.12.5 parser in the package and BuildKit master,
# which dockfix follows (see src/dockfix/syntax.py): `# check=`, JSON with trailing text,
# and `<< EOF` with a space.


def buildkit_spans(text: str) -> list[tuple[str, int, int]] | str:
    """(keyword upper, start, end) per instruction, or the error message."""
    try:
        cmds = dockerfile.parse_string(text)
    except dockerfile.GoParseError as e:
        return f"error: {e}"
    return [((c.cmd or "").upper(), c.start_line, c.end_line) for c in cmds]


def dockfix_spans(text: str) -> list[tuple[str, int, int]] | str:
    doc = parse_lossless(text)
    assert str(doc) == text
    if doc.error is not None:
        return f"error: {doc.error.reason}"
    return [(i.keyword, i.start_line, i.end_line) for i in doc.instructions]


def newer_parser_differs(text: str) -> bool:
    """True where BuildKit master and the packaged v0.12.5 parser give different spans."""
    import re

    if re.search(r"(?im)^\s*#\s*check\s*=", text):
        return True
    if re.search(r"<<[ \t]", text):
        return True
    # JSON followed by text: after any whitespace but a line break, as `]\r <<EOF` (BuildKit
    # master's JSON test trims every Unicode space; only a line break ends the line)
    return bool(re.search(r"\][^\S\n]*[^\s\]]", text)) and "[" in text
