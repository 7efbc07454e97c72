"""DF308 whole-image-copy: `COPY --from=… / …`, display-only, naming the paths used."""

from __future__ import annotations

import pytest

import dockfix
from dockfix.core.fixer import Applicability


def _findings(src: str) -> list[dockfix.Finding]:
    out, left = dockfix.fix(src, select=["DF308"], unsafe_fixes=True, offline=True)
    assert out == src
    assert all(f.applicability is Applicability.DISPLAY_ONLY for f in left)
    return left


BUILD = "FROM golang:1.23 AS build\nRUN go build -o /usr/local/bin/api ./cmd/api\n"


@pytest.mark.parametrize("source", ["/", ".", "/.", "./", "/*"])
def test_stage_root_into_root_names_the_binary_the_entrypoint_runs(source: str) -> None:
    src = (
        BUILD + "FROM debian:bookworm-slim\n"
        f"COPY --from=build {source} /\n"
        "COPY app.toml /etc/api/app.toml\n"
        'ENTRYPOINT ["/usr/local/bin/api", "--config", "/etc/api/app.toml"]\n'
    )
    (finding,) = _findings(src)
    assert finding.line == 4
    assert finding.message == "COPY copies the whole filesystem of stage `build` into `/`"
    assert "/etc/passwd" in finding.reason and "package database" in finding.reason
    # the config is put there by the COPY after it: not from the copied image
    assert finding.reason.endswith("start command use there: `/usr/local/bin/api`")


def test_image_into_a_directory_maps_the_used_paths_back_to_the_image() -> None:
    src = (
        "FROM python:3.12-slim\n"
        "COPY --from=alpine:3.20 / /opt/alpine\n"
        "RUN /opt/alpine/bin/busybox --list\n"
        'CMD ["python", "-m", "worker"]\n'
    )
    (finding,) = _findings(src)
    assert finding.message.endswith("of `alpine:3.20` into `/opt/alpine`")
    assert "whole filesystem" in finding.reason and "/etc/passwd" not in finding.reason
    assert finding.reason.endswith("use there: `/bin/busybox`")


def test_program_found_on_path_is_named() -> None:
    src = 'FROM node:22-slim\nCOPY --from=oven/bun:1.1 / /\nCMD ["bun", "server.ts"]\n'
    (finding,) = _findings(src)
    assert "`bun` (found on PATH)" in finding.reason


def test_nothing_known_says_so() -> None:
    (finding,) = _findings("FROM debian:bookworm-slim\nCOPY --from=busybox:1.36 / /\n")
    assert "cannot be told from the Dockerfile" in finding.reason


@pytest.mark.parametrize(
    "src",
    [
        # the squash idiom: a scratch image made of another stage's filesystem
        BUILD + "FROM scratch\nCOPY --from=build / /\n",
        # an export stage holds only what its own COPYs put there
        BUILD + "FROM scratch AS out\nCOPY --from=build /usr/local/bin/api /api\n"
        "FROM debian:bookworm-slim\nCOPY --from=out / /\n",
        # a path inside the other image
        BUILD + "FROM debian:bookworm-slim\nCOPY --from=build /usr/local/bin/api /usr/local/bin/\n",
        "FROM debian:bookworm-slim\nCOPY . /app\n",
    ],
)
def test_no_finding(src: str) -> None:
    assert _findings(src) == []


@pytest.mark.parametrize(
    "src",
    [
        "FROM --platform=$BUILDPLATFORM tonistiigi/xx:1.3.0 AS xx\n"
        "FROM --platform=$BUILDPLATFORM rust:1.79-alpine AS build\n"
        "COPY --from=xx / /\nRUN xx-apk add --no-cache musl-dev\n",
        "FROM golang:1.22-alpine AS build\nCOPY --from=docker.io/tonistiigi/xx:1.3.0 / /\n",
    ],
)
def test_the_xx_helper_image_is_made_to_be_copied_whole(src: str) -> None:
    """xx's documented usage (review-rw2: warned that it replaces /etc/passwd)."""
    assert dockfix.fix(src, select=["DF308"]) == (src, [])
