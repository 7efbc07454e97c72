from __future__ import annotations

import pytest

from dockfix.semantics.semantic import expand
from dockfix.syntax import parse

VARS = {"FOO": "xxx", "BAR": "", "NONE": None}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}", "xxx  ccc"),
        ("${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}", "xxx bbb ccc"),
        ("${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}", "aaa bbb "),
        ("${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}", "aaa  "),
        ("python:${PY:-3.12}-slim", "python:3.12-slim"),
        ("$FOO/x", "xxx/x"),
        ("\\$FOO", None),  # escaped: not a variable, and not a value a fixer can use
        ("$BAZ", None),
        ("${NONE}", None),
    ],
)
def test_expand(text: str, expected: str | None) -> None:
    assert expand(text, VARS) == expected


def test_stage_parent_through_arg() -> None:
    doc = parse("ARG B=builder\nFROM debian AS builder\nFROM ${B}\n")
    assert doc.stages[1].parent is doc.stages[0]
