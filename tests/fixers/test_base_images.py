"""The one module that says what a base image is: every fixer gets the same answer."""

from __future__ import annotations

import pytest

import dockfix
from dockfix.fixers._base_images import (
    classify,
    family_of_package_manager,
    pipefail_shell,
    user_creation,
)
from dockfix.fixers._image_paths import base_image
from dockfix.syntax import parse


@pytest.mark.parametrize(
    ("ref", "alpine", "windows", "distroless"),
    [
        ("python:3.12-alpine3.20", True, False, False),
        ("alpine:3.20", True, False, False),
        # a mirror of Alpine: the same image under another registry's path
        ("registry.example.com/mirror/alpine:3.20", True, False, False),
        ("python:3.12-slim", False, False, False),
        ("gcr.io/distroless/static-debian12:nonroot", False, False, True),
        ("mcr.microsoft.com/dotnet/framework/aspnet:4.8", False, True, False),
        ("mcr.microsoft.com/windows/servercore:ltsc2022", False, True, False),
        ("golang:1.23-windowsservercore-ltsc2022", False, True, False),
    ],
)
def test_the_stage_model_and_classify_agree(
    ref: str, alpine: bool, windows: bool, distroless: bool
) -> None:
    doc = parse(f"FROM {ref}\n")
    base = base_image(doc, doc.stages[0])
    assert base is not None
    assert (base.is_alpine, base.is_windows, base.is_distroless) == (alpine, windows, distroless)
    family = classify(ref).family
    assert (family == "windows") == windows
    if alpine:
        assert family == "alpine"


def test_df201_creates_the_user_the_alpine_way_on_a_mirrored_alpine() -> None:
    out, _ = dockfix.fix(
        'FROM registry.example.com/mirror/alpine:3.20\nCOPY app /app\nCMD ["/app"]\n',
        select=["DF201"],
        unsafe_fixes=True,
    )
    assert "adduser -S -D -u 10001 -G app -h /home/app app" in out


def test_each_family_creates_a_user_with_its_own_tools() -> None:
    assert user_creation("debian", "svc", 2000) == (
        "groupadd --system --gid 2000 svc",
        "useradd --system --uid 2000 --gid 2000 --no-log-init --create-home svc",
    )
    assert user_creation("alpine", "svc", 2000) == (
        "addgroup -S -g 2000 svc",
        "adduser -S -D -u 2000 -G svc -h /home/svc svc",
    )
    assert user_creation("rhel", "svc", 2000) == (
        "groupadd -r -g 2000 svc",
        "useradd -r -u 2000 -g 2000 -l -m svc",
    )
    assert user_creation("numeric", "svc", 2000) is None  # no tool in the image


def test_shells_and_package_managers_by_family() -> None:
    assert pipefail_shell(classify("debian:12").family) == "/bin/bash"
    assert pipefail_shell(classify("alpine:3.20").family) == "/bin/ash"
    assert pipefail_shell(classify("gcr.io/distroless/base-debian12").family) is None
    assert family_of_package_manager("apt-get") == ("debian", "a Debian-like base")
    assert family_of_package_manager("apk") == ("alpine", "an Alpine-like base")
    assert family_of_package_manager("pip") is None


@pytest.mark.parametrize(
    ("ref", "family"),
    [
        ("nvidia/cuda:12.1.1-runtime-ubuntu22.04", "debian"),
        ("ghcr.io/astral-sh/uv:python3.12-bookworm-slim", "debian"),
        ("php:8.2-fpm", "debian"),
        ("php:8.3-fpm-alpine3.19", "alpine"),
        ("nginx:1.27", "debian"),
        ("wordpress:6-apache", "debian"),
        ("acme/tool:slim", "numeric"),  # `slim` alone names no distribution
        ("acme/tool:2.1", "numeric"),
    ],
)
def test_a_family_known_from_the_image_or_its_tag(ref: str, family: str) -> None:
    """What the base's shell and tools are: the root servers (php-fpm, nginx) keep their
    family, and a tag that names its distribution says it (review-rw2: DF505 said bash was
    not known to exist in `php:8.2-fpm` and in CUDA's Ubuntu images)."""
    from dockfix.fixers._base_images import classify

    assert classify(ref).family == family
