"""Hypothesis strategies that produce what real Dockerfiles contain: directives,
continuations with comments, heredocs, CRLF, BOM, JSON and shell forms, flags, ONBUILD,
lower-case keywords, the Windows escape character; plus mutations of the shipped fixtures."""

from __future__ import annotations

from hypothesis import strategies as st

from fixture_cases import cases

ARBITRARY_ALPHABET = list("FROMRUN aCPYD\\`#<>EOF\r\n\t\"'[]$={}-\ufeff\u00a0\x0b")

KEYWORDS = [
    "FROM",
    "RUN",
    "run",
    "COPY",
    "ADD",
    "CMD",
    "ENTRYPOINT",
    "ENV",
    "ARG",
    "USER",
    "ONBUILD RUN",
    "ONBUILD COPY",
    "HEALTHCHECK CMD",
    "LABEL",
    "WORKDIR",
    "EXPOSE",
    "SHELL",
    "VOLUME",
]
WORDS = [
    "a",
    "b=1",
    "--mount=type=cache,target=/x",
    "--from=build",
    '"x y"',
    "'q'",
    "$V",
    "${V:-d}",
    "&&",
    "#",
    "<<EOF",
    "<<-EOF",
    "<<'EOT'",
    "2<<EOF",
    '["a", "b"]',
    "[1]",
    "\\",
    "`",
    'x="1 2"',
    '["a"] b',
    "apt-get update",
    "apt-get install -y curl",
    "&& rm -rf /var/lib/apt/lists/*",
    ". .",
    "pip install -r requirements.txt",
    "npm ci",
    "python:3.12-slim",
    "exec app",
]


@st.composite
def dockerfiles(draw: st.DrawFn) -> str:
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    parts: list[str] = []
    if draw(st.booleans()):
        parts.append(
            draw(
                st.sampled_from(
                    [
                        "# syntax=docker/dockerfile:1",
                        "# escape=`",
                        "# escape=\\",
                        "# check=skip=all",
                        "#!/bin/sh",
                    ]
                )
            )
            + eol
        )
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            parts.append(
                draw(st.sampled_from(["# comment", "", "   ", "  # indented", "\t"])) + eol
            )
            continue
        kw = draw(st.sampled_from(KEYWORDS))
        words = draw(st.lists(st.sampled_from(WORDS), max_size=5))
        line = draw(st.sampled_from(["", "  "])) + " ".join([kw, *words])
        if draw(st.integers(0, 3)) == 0:
            cont = draw(st.sampled_from([" \\", " \\  ", " `", "\\"]))
            inner = draw(st.sampled_from(["# c", "", "  b", "  && c", "RUN x"]))
            line += cont + eol + inner
        parts.append(line + eol)
        if "<<" in line and draw(st.booleans()):
            parts.append(draw(st.sampled_from(["body", "\tEOF", "EOF", "EOT"])) + eol)
            parts.append(draw(st.sampled_from(["EOF", "EOT", "x"])) + eol)
    text = "".join(parts)
    if draw(st.booleans()):
        text = text.rstrip("\r\n")
    if draw(st.integers(0, 5)) == 0:
        text = "\ufeff" + text
    return text


FIXTURE_TEXTS = [c.read() or "" for c in cases()]


@st.composite
def mutated_fixtures(draw: st.DrawFn) -> str:
    """A shipped fixture with lines dropped, duplicated, swapped or re-ended."""
    text = draw(st.sampled_from(FIXTURE_TEXTS)) if FIXTURE_TEXTS else "FROM a\n"
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.integers(0, 4))
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[i])
        elif op == 2:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 3:
            lines[i] = lines[i] + draw(st.sampled_from([" \\", "\r", " # c", " <<EOF", " && x"]))
        else:
            lines.insert(
                i,
                draw(
                    st.sampled_from(
                        ["# hadolint ignore=DL3008", "", "EOF", "USER root", "RUN apt-get update"]
                    )
                ),
            )
    return "\n".join(lines)


any_dockerfile = st.one_of(dockerfiles(), mutated_fixtures())
