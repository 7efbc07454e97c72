"""DF206 floating-tag: tags that move without being `latest`, reported offline."""

from __future__ import annotations

import pytest

import dockfix
from dockfix.core.fixer import Applicability

DIGEST = "sha256:" + "0" * 64


def _findings(src: str) -> list[dockfix.Finding]:
    out, left = dockfix.fix(src, select=["DF206"], unsafe_fixes=True, offline=True)
    assert out == src  # display-only
    return left


@pytest.mark.parametrize(
    ("ref", "why"),
    [
        ("python:slim", "`slim` names a variant without a version"),
        ("golang:1-alpine", "major-only version `1` follows every 1.x release"),
        ("node:lts", "`lts` is a release channel"),
        ("ubuntu:rolling", "`rolling` is a release channel"),
        ("debian:stable-slim", "`stable` is a release channel"),
        ("alpine:3", "major-only version `3`"),
        ("alpine:edge", "`edge` is a release channel"),
        ("node:lts-alpine3.20", "`lts` is a release channel"),
        ("python:bookworm", "the tag `bookworm` has no version number"),
        ("traefik:v3", "major-only version `v3`"),
    ],
)
def test_floating_tag_reported_with_why_it_moves(ref: str, why: str) -> None:
    left = _findings(f'FROM {ref}\nCMD ["true"]\n')
    assert [f.applicability for f in left] == [Applicability.DISPLAY_ONLY]
    assert f"`{ref}` (FROM) floats: " in left[0].message and why in left[0].message
    assert "pin it by hand" in left[0].reason


@pytest.mark.parametrize(
    "ref",
    [
        "python:3.12.4-slim-bookworm",
        "python:3.12-slim",
        "debian:bookworm-slim",
        "ubuntu:noble",
        "debian:12",
        "postgres:16",
        "eclipse-temurin:21-jre",
        "mcr.microsoft.com/windows/servercore:ltsc2022",
        "python:slim@" + DIGEST,
        "golang:1-alpine@" + DIGEST,
        "python",
        "python:latest",
        "nginx:20240115",
        # no version tags are published: the release is in the name (what DF302 writes)
        "gcr.io/distroless/static-debian12:nonroot",
        "cgr.dev/chainguard/static:latest-dev",
    ],
)
def test_versioned_digest_pinned_and_latest_left_alone(ref: str) -> None:
    assert _findings(f"FROM {ref}\n") == []


def test_copy_from_mount_and_arg_default_are_checked_but_not_the_syntax_line() -> None:
    src = (
        "# syntax=docker/dockerfile:1\n"
        "ARG BASE=node:lts-alpine\n"
        "FROM ${BASE} AS web\n"
        "FROM python:3.12-slim\n"
        "COPY --from=composer:2 /usr/bin/composer /usr/bin/composer\n"
        "RUN --mount=from=golang:1-alpine,source=/usr/local/go,target=/go true\n"
        "COPY --from=web /app /app\n"
    )
    left = _findings(src)
    assert [(f.line, f.message.split(" floats")[0]) for f in left] == [
        (3, "`node:lts-alpine` (FROM, default of ARG BASE on line 2)"),
        (5, "`composer:2` (COPY --from)"),
        (6, "`golang:1-alpine` (RUN --mount from)"),
    ]


def test_variable_tags_are_left_to_df202() -> None:
    assert _findings("ARG PY=3\nFROM python:${PY}-slim\n") == []


def test_suggested_pin_keeps_the_variant() -> None:
    (finding,) = _findings("FROM golang:1-alpine AS build\n")
    assert "`golang:<major.minor>-alpine`" in finding.reason
    (finding,) = _findings("FROM node:lts\n")
    assert "`node:<major.minor>`" in finding.reason


@pytest.mark.parametrize(
    ("ref", "pin"),
    [
        # a CI-built image tagged after its branch: the branch is no variant to keep
        ("ghcr.io/acme/api:main", "`ghcr.io/acme/api:<major.minor>`"),
        (
            "registry.example.com/base:master-alpine",
            "`registry.example.com/base:<major.minor>-alpine`",
        ),
    ],
)
def test_a_branch_tag_follows_the_branch_and_is_not_kept_in_the_pin(ref: str, pin: str) -> None:
    (finding,) = _findings(f"FROM {ref}\n")
    assert "follows a branch" in finding.message
    assert pin in finding.reason
