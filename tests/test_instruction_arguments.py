"""Files BuildKit's parser accepts but its instruction parse rejects (`COPY file`, a bare
`USER`, `SHELL sh -c`, a RUN before the first FROM): dockfix says why in one line, exits 2,
and changes nothing, instead of proposing fixes to a file no build can use. Where BuildKit's
own checker (dockfix-buildkit-lint) is installed, it is asked too and must agree word for word.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dockfix.build_rules import build_error
from dockfix.syntax import parse_lossless

BUILDKIT_LINT = shutil.which("dockfix-buildkit-lint")

REJECTED = [
    ("FROM\n", 1, "FROM requires either one or three arguments"),
    ("FROM --platform=linux/amd64\n", 1, "FROM requires either one or three arguments"),
    ("FROM golang:1.22 AS\n", 1, "FROM requires either one or three arguments"),
    ("FROM golang:1.22 builder\n", 1, "FROM requires either one or three arguments"),
    ("FROM golang:1.22 XX build\n", 1, "FROM requires either one or three arguments"),
    (
        "FROM golang:1.22 AS 2nd\n",
        1,
        'invalid name for build stage: "2nd", name can\'t start with a number or contain symbols',
    ),
    (
        "ARG STAGE=build\nFROM golang:1.22 AS ${STAGE}\n",
        2,
        'invalid name for build stage: "${STAGE}", name can\'t start with a number or contain'
        " symbols",
    ),
    (
        "FROM alpine:3.20\nCOPY app.conf\n",
        2,
        "COPY requires at least two arguments, but only one was provided. Destination could"
        " not be determined",
    ),
    (
        'FROM alpine:3.20\nADD ["app.tar.gz"]\n',
        2,
        "ADD requires at least two arguments, but only one was provided. Destination could"
        " not be determined",
    ),
    (
        "FROM alpine:3.20\nCOPY <<EOF\nlisten 80;\nEOF\n",
        2,
        "COPY requires at least two arguments, but only one was provided. Destination could"
        " not be determined",
    ),
    (
        "FROM alpine:3.20\nCOPY app.conf <<EOF\nlisten 80;\nEOF\n",
        2,
        "COPY cannot accept a heredoc as a destination",
    ),
    ("FROM alpine:3.20\nENV\n", 2, "ENV requires at least one argument"),
    ("FROM alpine:3.20\nLABEL\n", 2, "LABEL requires at least one argument"),
    ("FROM alpine:3.20\nEXPOSE\n", 2, "EXPOSE requires at least one argument"),
    ("FROM alpine:3.20\nVOLUME []\n", 2, "VOLUME requires at least one argument"),
    ("FROM alpine:3.20\nONBUILD\n", 2, "ONBUILD requires at least one argument"),
    ("FROM alpine:3.20\nUSER\n", 2, "USER requires exactly one argument"),
    ("FROM alpine:3.20\nWORKDIR \\\n\n", 2, "WORKDIR requires exactly one argument"),
    ("FROM alpine:3.20\nSTOPSIGNAL\n", 2, "STOPSIGNAL requires exactly one argument"),
    ("FROM alpine:3.20\nSHELL []\n", 2, "SHELL requires at least one argument"),
    ("FROM alpine:3.20\nSHELL /bin/bash -c\n", 2, "SHELL requires the arguments to be in JSON form"),
    ("FROM alpine:3.20\nHEALTHCHECK --interval=5s\n", 2, "HEALTHCHECK requires at least one argument"),
    ("FROM alpine:3.20\nHEALTHCHECK NONE CMD true\n", 2, "HEALTHCHECK NONE takes no arguments"),
    (
        "FROM alpine:3.20\nHEALTHCHECK curl -f http://localhost/\n",
        2,
        'Unknown type "CURL" in HEALTHCHECK (try CMD)',
    ),
    ("FROM alpine:3.20\nHEALTHCHECK CMD []\n", 2, "Missing command after HEALTHCHECK CMD"),
    ("RUN apk add curl\nFROM alpine:3.20\n", 1, "no build stage in current context"),
    ("ONBUILD RUN make\nFROM alpine:3.20\n", 1, "no build stage in current context"),
]

ACCEPTED = [
    "ARG BASE=alpine:3.20\nFROM ${BASE}\n",
    "# syntax=docker/dockerfile:1\nFROM golang:1.22 AS Build\nFROM alpine:3.20\n",
    "FROM golang:1.22 as build.stage-1_a\n",
    "FROM alpine:3.20\nCOPY <<EOF /etc/app.conf\nlisten 80;\nEOF\n",
    'FROM alpine:3.20\nCOPY ["a b", "/srv/"]\n',
    "FROM alpine:3.20\nUSER app extra\nWORKDIR /srv extra\n",
    'FROM alpine:3.20\nSHELL ["/bin/ash", "-eo", "pipefail", "-c"]\n',
    "FROM alpine:3.20\nHEALTHCHECK none\nHEALTHCHECK cmd true\n",
    'FROM alpine:3.20\nHEALTHCHECK --interval=30s CMD ["wget", "-qO-", "http://localhost/"]\n',
    "FROM alpine:3.20\nRUN\nCMD\nENTRYPOINT\n",
    "FROM alpine:3.20\nONBUILD COPY . /src\n",
]


@pytest.mark.parametrize(("text", "line", "reason"), REJECTED)
def test_the_build_rejects_these_arguments(text: str, line: int, reason: str) -> None:
    doc = parse_lossless(text)
    assert doc.error is None  # BuildKit's parser accepts each: its instruction parse does not
    problem = build_error(doc)
    assert problem is not None and (problem.line, problem.reason) == (line, reason)


@pytest.mark.parametrize("text", ACCEPTED)
def test_the_build_accepts_these_arguments(text: str) -> None:
    doc = parse_lossless(text)
    assert doc.error is None and build_error(doc) is None


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "FROM alpine:3.20\nCOPY app.conf\n",
            "Dockerfile:2: BuildKit would reject this file: COPY requires at least two arguments",
        ),
        # a value BuildKit reads when it converts the instructions (tests/test_build_rules.py)
        (
            "FROM alpine:3.20\nEXPOSE 8080\nSTOPSIGNAL SIGSTOP1\n",
            "Dockerfile:3: BuildKit would reject this file: invalid signal: SIGSTOP1",
        ),
    ],
)
def test_fix_leaves_a_rejected_file_alone_and_says_why(
    tmp_path: Path, text: str, said: str
) -> None:
    (tmp_path / "Dockerfile").write_text(text)
    (tmp_path / "ok.Dockerfile").write_text("FROM alpine:3.20\nRUN apt-get update\n")
    r = subprocess.run(
        [sys.executable, "-m", "dockfix", "fix", "--write", "--offline", "--no-cache", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 2
    assert (tmp_path / "Dockerfile").read_text() == text
    assert said in r.stderr
    assert "ok.Dockerfile:1:1: DF202" in r.stderr  # the other file is still processed


@pytest.mark.skipif(BUILDKIT_LINT is None, reason="dockfix-buildkit-lint is not installed")
@pytest.mark.parametrize(("text", "line", "reason"), REJECTED)
def test_buildkit_rejects_them_in_the_same_words(
    tmp_path: Path, text: str, line: int, reason: str
) -> None:
    assert _buildkit_error(tmp_path, text).endswith(reason)


@pytest.mark.skipif(BUILDKIT_LINT is None, reason="dockfix-buildkit-lint is not installed")
@pytest.mark.parametrize("text", ACCEPTED)
def test_buildkit_accepts_them(tmp_path: Path, text: str) -> None:
    assert _buildkit_error(tmp_path, text) == ""


def _buildkit_error(tmp_path: Path, text: str) -> str:
    assert BUILDKIT_LINT is not None
    (tmp_path / "Dockerfile").write_text(text)
    out = subprocess.run(
        [BUILDKIT_LINT, "Dockerfile"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout
    return str(json.loads(out)[0].get("error") or "")
