"""DF517 stage-name-casing: stage names lower-cased where defined and where used."""

from __future__ import annotations

import pytest

import dockfix
from dockfix.core.fixer import Finding


def fix(text: str) -> tuple[str, list[Finding]]:
    return dockfix.fix(text, select=["DF517"])


def test_definition_and_every_reference() -> None:
    src = (
        "FROM node:20 AS Deps\nRUN npm ci\n"
        "FROM Deps AS Test\nRUN --mount=type=cache,from=Deps,source=/root/.npm,target=/c npm test\n"
        "FROM node:20-slim\nCOPY --from=Deps /app/node_modules ./node_modules\n"
        "COPY --from=deps /app/package.json ./\nCOPY --from=Test /r /r\n"
    )  # (not `ADD --from`: no BuildKit takes that flag, moby/moby#33811)
    out, left = fix(src)
    assert left == []
    assert out == (
        "FROM node:20 AS deps\nRUN npm ci\n"
        "FROM deps AS test\nRUN --mount=type=cache,from=deps,source=/root/.npm,target=/c npm test\n"
        "FROM node:20-slim\nCOPY --from=deps /app/node_modules ./node_modules\n"
        "COPY --from=deps /app/package.json ./\nCOPY --from=test /r /r\n"
    )
    doc = dockfix.parse(out)
    assert [s.alias for s in doc.stages] == ["deps", "test", None]
    assert doc.stages[1].parent is doc.stages[0]
    assert fix(out) == (out, [])


def test_lowercase_keywords_file() -> None:
    src = "from golang:1.22 as Build\nrun go build -o /app .\nfrom scratch\ncopy --from=Build /app /app\n"
    out, _ = fix(src)
    assert out == src.replace("Build", "build")


@pytest.mark.parametrize(
    "src",
    [
        "FROM a:1 AS build\nFROM build\nCOPY --from=build /a /a\n",
        "FROM a:1 AS build\nARG STAGE=Build\nCOPY --from=$STAGE /a /a\n",
        "FROM a:1\nCOPY --from=Registry.example.com/img:1 /a /a\n",
    ],
)
def test_no_finding(src: str) -> None:
    assert fix(src) == (src, [])


def test_only_the_mount_from_field_is_a_stage_name() -> None:
    # `from=` inside another field's value (a path) is not the mount's `from` key
    src = (
        "FROM alpine:3.20 AS Assets\nRUN mkdir -p /srv/from=Assets\n"
        "FROM alpine:3.20\n"
        "RUN --mount=type=bind,from=Assets,source=/srv/from=Assets,target=/in cp -r /in /out\n"
    )
    out, left = fix(src)
    assert left == []
    assert out == (
        "FROM alpine:3.20 AS assets\nRUN mkdir -p /srv/from=Assets\n"
        "FROM alpine:3.20\n"
        "RUN --mount=type=bind,from=assets,source=/srv/from=Assets,target=/in cp -r /in /out\n"
    )


@pytest.mark.parametrize(
    ("src", "lines"),
    [
        # BuildKit's StageNameCasing reports the definition only; the fix changes the
        # references too, so each instruction it rewrites gets its finding
        ("FROM a:1 AS Build\nFROM scratch\nCOPY --from=Build /a /a\n", [1, 3]),
        # a stage defined in lower case: a reference in capitals is read as it (no finding)
        ("FROM a:1 AS build\nFROM scratch\nCOPY --from=Build /a /a\n", []),
        # an ONBUILD trigger names the stages of the Dockerfile that builds on this image
        ("FROM a:1 AS Build\nFROM scratch\nONBUILD COPY --from=Build /a /a\n", [1]),
        # BuildKit unquotes it and reads it in lower case: left as written
        ('FROM a:1 AS Build\nFROM scratch\nCOPY --from="Build" /a /a\n', [1]),
    ],
)
def test_which_instructions_are_reported(src: str, lines: list[int]) -> None:
    outcome = dockfix.fix_outcome(src, select=["DF517"])
    assert sorted(f.line for f in [*outcome.applied, *outcome.findings]) == lines
