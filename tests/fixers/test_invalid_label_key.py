"""DF529 invalid-label-key: LABEL keys outside the format of hadolint's DL3048."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

import dockfix


def lines(text: str) -> list[int]:
    found = dockfix.fix_outcome(text, select=["DF529"], offline=True).findings
    assert all(f.fix is None and f.reason for f in found)
    return [f.line for f in found]


def messages(text: str) -> list[str]:
    return [f.message for f in dockfix.fix_outcome(text, select=["DF529"], offline=True).findings]


def hadolint_lines(text: str) -> list[int]:
    exe = shutil.which("hadolint")
    if exe is None:
        pytest.skip("hadolint is not installed")
    proc = subprocess.run(
        [exe, "--no-fail", "--format", "json", "-"],
        input=text, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    return [i["line"] for i in json.loads(proc.stdout or "[]") if i["code"] == "DL3048"]


# One key per line: the lines both tools report are the keys both judge invalid.
KEYS = [
    ("Maintainer", True),
    ("Build_Date", True),
    ("a+b", True),
    ("a:b", True),
    ("a_", True),
    ("com.docker.compose.project", True),
    ("io.docker.thing", True),
    ("org.dockerproject.x", True),
    ("1version", True),
    ("trailing-", True),
    ("trailing.", True),
    ("a..b", True),
    ("a--b", True),
    ('"quoted.Key"', True),
    ("org.opencontainers.image.title", False),
    ("com.example.team", False),
    ("version2", False),
    ("a", False),
    ("io.dockerx", False),
    ('"quoted.key"', False),
    ("a-b.c-1", False),
    ("build_date", False),
    ("com.example/team", False),
    ("a.-b", False),
]


def test_the_keys_hadolint_reports() -> None:
    text = "FROM debian:12\n" + "".join(f"LABEL {key}=x\n" for key, _ in KEYS)
    expected = [n for n, (_, bad) in enumerate(KEYS, start=2) if bad]
    assert lines(text) == expected
    assert hadolint_lines(text) == expected


def test_message_names_the_broken_rule() -> None:
    found = messages("FROM debian:12\nLABEL Maintainer=a build+date=b com.docker.x=c a..b=d a-=e\n")
    assert found == [
        "label key `Maintainer`: it must start with a lower-case letter",
        "label key `build+date`: only lower-case letters, digits, `.`, `-`, `_` and `/` are "
        "allowed, not `+`",
        "label key `com.docker.x`: the namespace `com.docker` is reserved for Docker",
        "label key `a..b`: it may not hold `..` or `--`",
        "label key `a-`: it must end with a lower-case letter or a digit",
    ]


def test_legacy_form_multi_line_and_onbuild() -> None:
    text = (
        "FROM debian:12\nLABEL Description some text\n"
        "LABEL ok=1 \\\n    Bad=2\nONBUILD LABEL Team=x\n"
    )
    assert lines(text) == [2, 3, 5]


def test_variable_keys_are_not_judged() -> None:
    assert lines("FROM debian:12\nARG KEY=Version\nLABEL $KEY=1 ${KEY}x=2\n") == []


def test_the_labels_docker_asks_extensions_for_are_not_reported() -> None:
    """Docker Desktop reads an extension's metadata from `com.docker.desktop.extension.*` and
    `com.docker.extension.*` labels its SDK documents: renaming them breaks the extension
    (hadolint's DL3048 reports them; other `com.docker.*` keys stay reported)."""
    text = (
        'FROM alpine:3.20\nLABEL com.docker.desktop.extension.api.version="0.3.4" \\\n'
        '    com.docker.extension.screenshots="[]" \\\n'
        '    com.docker.desktop.extension.icon="icon.svg"\nLABEL com.docker.compose.project=x\n'
    )
    assert lines(text) == [5]
