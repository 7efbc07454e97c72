"""DF525 copy-relative-dest: a relative COPY destination without WORKDIR made absolute."""

from __future__ import annotations

import pytest

import dockfix
from dockfix.core.fixer import Applicability, Finding
from hadolint_runner import hadolint_counts_or_skip as hadolint_counts


def fix(text: str) -> tuple[str, list[Finding]]:
    return dockfix.fix(text, select=["DF525"], unsafe_fixes=True)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            "FROM eclipse-temurin:21-jre\nCOPY --from=build /workspace/app.jar app.jar\n",
            "FROM eclipse-temurin:21-jre\nCOPY --from=build /workspace/app.jar /app.jar\n",
        ),
        (
            "FROM scratch\nCOPY --from=build /out/server .\nCOPY conf/ etc/app/\nCOPY a ./\n",
            "FROM scratch\nCOPY --from=build /out/server /\nCOPY conf/ /etc/app/\nCOPY a /\n",
        ),
        # golang's image starts in /go; "." keeps meaning "into the directory"
        ("FROM golang:1.22\nCOPY . .\n", "FROM golang:1.22\nCOPY . /go/\n"),
        ("FROM redis:7\nCOPY redis.conf ./conf/\n", "FROM redis:7\nCOPY redis.conf /data/conf/\n"),
        (
            "FROM gcr.io/distroless/static-debian12\ncopy --chown=65532 \\\n  server  bin/server\n",
            "FROM gcr.io/distroless/static-debian12\ncopy --chown=65532 \\\n  server  /bin/server\n",
        ),
    ],
)
def test_destination_made_absolute(before: str, after: str) -> None:
    out, left = dockfix.fix(before, select=["DF525"])
    assert (out, left) == (after, [])
    assert hadolint_counts(before)["DL3045"] >= 1 and hadolint_counts(out)["DL3045"] == 0
    assert fix(out) == (out, [])


@pytest.mark.parametrize(
    ("src", "reason"),
    [
        ("FROM myorg/java-base:21\nCOPY app.jar app.jar\n", "`myorg/java-base:21` may set its own"),
        ("FROM ruby:3.3\nCOPY Gemfile .\n", "image configuration is not known offline"),
        ("FROM node:20\nONBUILD COPY . .\n", "ONBUILD COPY runs in the working directory"),
        ('FROM node:20\nCOPY ["a b", "c"]\n', "JSON form"),
        ('FROM node:20\nCOPY a "b c/"\n', "quotes or variables"),
        ("FROM node:20\nCOPY a ../b\n", "`.` or `..` parts"),
        (
            "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nCOPY app.exe app.exe\n",
            "looks like a Windows image",
        ),
    ],
)
def test_display_only_where_the_directory_or_path_is_not_certain(src: str, reason: str) -> None:
    out, left = fix(src)
    assert out == src and len(left) == 1
    assert left[0].applicability is Applicability.DISPLAY_ONLY and reason in left[0].reason


@pytest.mark.parametrize(
    "src",
    [
        "FROM node:20\nCOPY a /srv/a\nCOPY b $HOME/b\n",
        "FROM node:20\nWORKDIR app\nCOPY . .\n",
        "FROM node:20 AS base\nWORKDIR /app\nFROM base\nCOPY . .\n",
        "FROM node:20\nADD a b\n",  # hadolint reports COPY only
        'FROM node:20\nCOPY a "/srv/a"\n',
    ],
)
def test_nothing_where_hadolint_sees_a_directory_set(src: str) -> None:
    assert fix(src) == (src, [])
    assert hadolint_counts(src)["DL3045"] == 0


def test_another_stage_keeps_its_own_directory() -> None:
    # the WORKDIR of an earlier, unrelated stage does not hold in a new stage FROM an image
    src = "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nFROM scratch\nCOPY --from=build /src/app app\n"
    out, _ = fix(src)
    assert out.endswith("COPY --from=build /src/app /app\n")
    assert hadolint_counts(src)["DL3045"] == 1 and hadolint_counts(out)["DL3045"] == 0


def test_a_base_image_chosen_by_a_build_arg_makes_the_fix_unsafe() -> None:
    src = "ARG BASE_IMAGE=golang:1.22\nFROM $BASE_IMAGE\nCOPY go.mod .\n"
    safe, [found] = dockfix.fix(src, select=["DF525"])
    assert safe == src and found.fix is not None
    assert found.fix.applicability is Applicability.UNSAFE
    out, _ = dockfix.fix(src, select=["DF525"], unsafe_fixes=True)
    assert out.endswith("COPY go.mod /go/\n")
