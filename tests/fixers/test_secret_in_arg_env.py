"""DF515 secret-in-arg-env: secret-looking ARG/ENV names reported, values written said plainly."""

from __future__ import annotations

import pytest

import dockfix
from dockfix.fixer import Applicability
from dockfix.fixers._secret_names import looks_secret
from hadolint_runner import hadolint_counts_or_skip as hadolint_counts


def findings(src: str) -> list[tuple[int, str, str]]:
    out, left = dockfix.fix(src, select=["DF515"], unsafe_fixes=True)
    assert out == src
    assert all(f.applicability is Applicability.DISPLAY_ONLY for f in left)
    return [(f.line, f.message, f.reason) for f in left]


def test_arg_and_env_reported_and_a_written_value_said_plainly() -> None:
    src = (
        'FROM node:20-alpine\nARG NPM_TOKEN\nENV NEXT_PRIVATE_ENCRYPTION_KEY="CAFEBABE"\n'
        "ENV DATABASE_PASSWORD changeme\nENV API_TOKEN=$NPM_TOKEN LOG_LEVEL=info\n"
    )
    got = findings(src)
    assert [line for line, _, _ in got] == [2, 3, 4, 5]
    assert "image history" in got[0][1] and "build command must change" in got[0][2]
    assert "written in the Dockerfile" in got[1][1] and "rotate it" in got[1][2]
    assert "written in the Dockerfile" in got[2][1]
    assert "written" not in got[3][1]  # a variable reference is not a written secret
    # hadolint's DL3064 names the same instructions; a `# hadolint ignore` for it applies
    assert hadolint_counts(src)["DL3064"] >= 3


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("NPM_TOKEN", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("github_pat", True),
        ("MY_APIKEY", True),
        ("PUBLIC_KEY", False),
        ("KEYBOARD_LAYOUT", False),
        ("AUTHOR", False),
        ("NODE_ENV", False),
    ],
)
def test_names(name: str, secret: bool) -> None:
    assert looks_secret(name) is secret
    assert bool(findings(f"FROM alpine:3.20\nARG {name}\n")) is secret
