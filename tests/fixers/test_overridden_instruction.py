"""DF511 overridden-instruction: the earlier of two CMD/ENTRYPOINT/HEALTHCHECK of a stage goes."""

from __future__ import annotations

import dockerfile  # type: ignore[import-untyped]
import pytest

import dockfix
from dockfix.core.fixer import Applicability, Finding
from hadolint_runner import hadolint_counts_or_skip as hadolint_counts


def fix(text: str, unsafe: bool = True) -> tuple[str, list[Finding]]:
    return dockfix.fix(text, select=["DF511"], unsafe_fixes=unsafe)


def last_of_each(text: str) -> dict[str, tuple[str, ...]]:
    """What the image keeps: the last CMD/ENTRYPOINT/HEALTHCHECK of the file's only stage."""
    return {
        c.cmd.upper(): c.value for c in dockerfile.parse_string(text) if c.cmd.upper() != "FROM"
    }


@pytest.mark.parametrize(
    ("src", "after", "rule"),
    [
        (
            'FROM node:20\nCMD ["npm", "start"]\nCMD pm2-runtime server.js\n',
            "FROM node:20\nCMD pm2-runtime server.js\n",
            "DL4003",
        ),
        (
            'FROM a:1\nENTRYPOINT ["a"]\nENTRYPOINT ["b"]\nCMD ["c"]\n',
            'FROM a:1\nENTRYPOINT ["b"]\nCMD ["c"]\n',
            "DL4004",
        ),
        (
            "FROM a:1\nHEALTHCHECK CMD curl -f localhost \\\n  || exit 1\nHEALTHCHECK NONE\n",
            "FROM a:1\nHEALTHCHECK NONE\n",
            "DL3012",
        ),
        ('FROM a:1\nCMD ["x"]\nCMD ["y"]\nCMD ["z"]', 'FROM a:1\nCMD ["z"]', "DL4003"),
    ],
)
def test_earlier_ones_removed_and_the_image_keeps_the_same_config(
    src: str, after: str, rule: str
) -> None:
    out, left = fix(src)
    assert out == after and left == []
    assert last_of_each(out) == last_of_each(src)
    assert hadolint_counts(src)[rule] >= 1 and hadolint_counts(out)[rule] == 0
    assert fix(out) == (out, [])


def test_unsafe_and_matched_to_the_rule_of_its_keyword() -> None:
    src = 'FROM a:1\nENTRYPOINT ["a"]\nENTRYPOINT ["b"]\n'
    out, left = fix(src, unsafe=False)
    assert out == src
    assert left[0].applicability is Applicability.UNSAFE and left[0].hadolint == ("DL4004",)
    assert "line 3" in left[0].message


@pytest.mark.parametrize(
    "src",
    [
        'FROM a:1 AS base\nCMD ["x"]\nFROM base\nCMD ["y"]\n',
        'FROM a:1\nENTRYPOINT ["e"]\nCMD ["c"]\nHEALTHCHECK CMD ["h"]\n',
        'FROM a:1\nONBUILD CMD ["x"]\nCMD ["y"]\n',
    ],
)
def test_one_per_stage_is_no_finding(src: str) -> None:
    assert fix(src) == (src, [])


def test_an_ignore_pragma_goes_with_the_instruction_it_was_written_for() -> None:
    # left in place, `# hadolint ignore=DL3025` would silence the next line, the CMD kept
    src = (
        "FROM alpine:3.20\n# start the worker\n# hadolint ignore=DL3025\n"
        "# dockfix ignore=DF401\nCMD worker --queue jobs\nCMD web --port 8080\n"
    )
    out, _ = fix(src)
    assert out == "FROM alpine:3.20\n# start the worker\nCMD web --port 8080\n"
    assert hadolint_counts(out)["DL3025"] == 1  # the kept CMD is reported again
