"""DF201 root-user: inline before/after cases, image families, display-only reasons."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dockfix
from dockfix.core.edits import apply_edits
from dockfix.core.fixer import Applicability, Finding
from dockfix.fixers._base_images import classify
from dockfix.fixers.root_user import RootUser
from dockfix.semantics.context import FixContext
from dockfix.syntax import parse
from hadolint_runner import hadolint_counts_or_skip as hadolint_counts

DEBIAN_CREATE = (
    "groupadd --system --gid 10001 app && useradd --system --uid 10001 --gid 10001 "
    "--no-log-init --create-home app"
)
ALPINE_CREATE = "addgroup -S -g 10001 app && adduser -S -D -u 10001 -G app -h /home/app app"
# The same, as a RUN of its own (the user command on a continuation line).
DEBIAN_RUN = "RUN " + DEBIAN_CREATE.replace(" && ", " \\\n && ")
ALPINE_RUN = "RUN " + ALPINE_CREATE.replace(" && ", " \\\n && ")


def fix(text: str, unsafe: bool = True, **kw: object) -> tuple[str, list[Finding]]:
    return dockfix.fix(text, select=["DF201"], unsafe_fixes=unsafe, **kw)  # type: ignore[arg-type]


def test_user_created_before_the_app_copy_and_the_code_stays_roots() -> None:
    # A code change does not run the user creation again, and the application cannot
    # rewrite its own code: no `--chown` on a COPY of code it does not write.
    src = (
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"
        'RUN pip install --no-cache-dir -r requirements.txt\nCMD ["python", "app.py"]\n'
    )
    out, left = fix(src)
    assert out == (
        f"FROM python:3.12-slim\nWORKDIR /app\n{DEBIAN_RUN}\nCOPY . .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
        'USER 10001:10001\nCMD ["python", "app.py"]\n'
    )
    assert left == []


def test_user_creation_joins_the_run_before_the_first_copy() -> None:
    src = (
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl\nCOPY app /app\n"
        'CMD ["/app"]\n'
    )
    out, _ = fix(src)
    assert out == (
        f"FROM debian:12\nRUN apt-get update && apt-get install -y curl && {DEBIAN_CREATE}\n"
        'COPY app /app\nUSER 10001:10001\nCMD ["/app"]\n'
    )


def test_only_applied_with_unsafe_fixes() -> None:
    src = 'FROM debian:12\nRUN echo hi\nCMD ["sh"]\n'
    out, left = fix(src, unsafe=False)
    assert out == src
    assert left[0].applicability is Applicability.UNSAFE
    assert left[0].line == 1
    assert left[0].message.startswith("the image runs as root: no USER in the final stage")


def test_joined_to_the_last_run_across_metadata() -> None:
    src = 'FROM alpine:3.19\nRUN apk add --no-cache curl\nEXPOSE 8080\nENTRYPOINT ["curl"]\n'
    out, _ = fix(src)
    assert out == (
        f"FROM alpine:3.19\nRUN apk add --no-cache curl && {ALPINE_CREATE}\nEXPOSE 8080\n"
        'USER 10001:10001\nENTRYPOINT ["curl"]\n'
    )


def test_new_run_after_a_workdir() -> None:
    src = 'FROM alpine:3.19\nRUN apk add --no-cache curl\nWORKDIR /w\nENTRYPOINT ["curl"]\n'
    out, _ = fix(src)
    assert out == (
        "FROM alpine:3.19\nRUN apk add --no-cache curl\nWORKDIR /w\n"
        f'{ALPINE_RUN}\nUSER 10001:10001\nENTRYPOINT ["curl"]\n'
    )


def test_no_run_in_the_stage() -> None:
    out, _ = fix('FROM ubuntu:24.04\nCOPY app /usr/local/bin/app\nCMD ["app"]\n')
    assert out == (
        f"FROM ubuntu:24.04\n{DEBIAN_RUN}\nCOPY app /usr/local/bin/app\n"
        'USER 10001:10001\nCMD ["app"]\n'
    )


def test_appended_at_the_end_without_cmd() -> None:
    out, _ = fix("FROM debian:12\nRUN apt-get update\nRUN echo hi")
    assert (
        out
        == f"FROM debian:12\nRUN apt-get update\nRUN echo hi && {DEBIAN_CREATE}\nUSER 10001:10001"
    )


def test_rhel_family() -> None:
    out, _ = fix(
        "FROM registry.access.redhat.com/ubi9\nRUN dnf -y install git && dnf clean all\n"
        'CMD ["git"]\n'
    )
    assert "&& groupadd -r -g 10001 app && useradd -r -u 10001 -g 10001 -l -m app\n" in out
    assert out.endswith('USER 10001:10001\nCMD ["git"]\n')


@pytest.mark.parametrize(
    ("base", "user"),
    [
        ("scratch", "65532:65532"),
        ("gcr.io/distroless/static-debian12", "65532:65532"),
        ("gcr.io/distroless/python3-debian12:debug", "65532:65532"),
        ("node:20-bookworm-slim", "1000:1000"),
        ("node:20-alpine", "1000:1000"),
        ("redhat/ubi9-minimal", "10001:10001"),
        ("amazonlinux:2023", "10001:10001"),
        ("registry.example.com/team/base:1.2", "10001:10001"),
    ],
)
def test_numeric_user_without_creation(base: str, user: str) -> None:
    src = f'FROM {base}\nCOPY app /app\nENTRYPOINT ["/app"]\n'
    out, left = fix(src)
    assert out == f'FROM {base}\nCOPY app /app\nUSER {user}\nENTRYPOINT ["/app"]\n'
    assert left == []


def test_unknown_base_says_so() -> None:
    _, left = fix('FROM registry.example.com/base:1\nCMD ["x"]\n', unsafe=False)
    assert "the family of `registry.example.com/base:1` is not known" in left[0].message
    assert "HOME is /" in left[0].message


def test_unknown_base_family_from_package_manager() -> None:
    out, left = fix(
        'FROM registry.example.com/base:1\nRUN apt-get install -y x\nCMD ["x"]\n', unsafe=False
    )
    assert "the file uses `apt-get` (line 2)" in left[0].message
    out, _ = fix('FROM registry.example.com/base:1\nRUN apt-get install -y x\nCMD ["x"]\n')
    assert f"RUN apt-get install -y x && {DEBIAN_CREATE}\nUSER 10001:10001\n" in out


def test_arg_driven_from_uses_the_default() -> None:
    src = 'ARG BASE=alpine:3.19\nFROM ${BASE}\nCOPY x /x\nCMD ["/x"]\n'
    out, left = fix(src, unsafe=False)
    assert "assumes the default base `alpine:3.19` of the FROM's ARG" in left[0].message
    out, _ = fix(src)
    assert f"{ALPINE_RUN}\nCOPY x /x\nUSER 10001:10001\nCMD" in out


def test_arg_without_default_is_numeric() -> None:
    _, left = fix('ARG BASE\nFROM $BASE\nCMD ["x"]\n', unsafe=False)
    assert "the base image is not known" in left[0].message
    assert fix('ARG BASE\nFROM $BASE\nCMD ["x"]\n')[0].endswith('USER 10001:10001\nCMD ["x"]\n')


# --- users that are already there -----------------------------------------------------------------


@pytest.mark.parametrize(
    "dockerfile",
    [
        'FROM debian\nUSER 1000\nCMD ["x"]\n',
        'FROM debian\nUSER app:app\nCMD ["x"]\n',
        'FROM debian\nARG UID\nUSER ${UID}\nCMD ["x"]\n',  # cannot be known: the user chose
        'FROM debian AS base\nRUN useradd -u 1000 app\nUSER 1000\nFROM base\nCMD ["x"]\n',
        'FROM gcr.io/distroless/static-debian12:nonroot\nCOPY app /app\nENTRYPOINT ["/app"]\n',
        'FROM cgr.dev/chainguard/python:latest\nCOPY app.py /\nENTRYPOINT ["python", "/app.py"]\n',
        "FROM bitnami/nginx:1.25\nCOPY site /app\n",
        "FROM mcr.microsoft.com/dotnet/aspnet:8.0-jammy-chiseled\nCOPY app /app\n",
        "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir\n",
        "# escape=`\nFROM mcr.microsoft.com/dotnet/framework/sdk:4.8\nRUN dir\n",
    ],
)
def test_no_change(dockerfile: str) -> None:
    assert fix(dockerfile) == (dockerfile, [])


def test_user_of_an_unrelated_stage_does_not_count() -> None:
    src = "FROM debian AS build\nUSER 1000\nRUN make\n"
    src += 'FROM debian\nCOPY --from=build /x /x\nCMD ["/x"]\n'
    out, left = fix(src)
    assert out.endswith('USER 10001:10001\nCMD ["/x"]\n')
    assert left == []


def test_last_user_root_switches_back_to_the_earlier_user() -> None:
    src = 'FROM debian\nUSER 1000\nRUN echo a\nUSER root\nRUN apt-get update\nCMD ["x"]\n'
    out, left = fix(src, unsafe=False)
    assert "(`USER root` on line 4)" in left[0].message
    out, _ = fix(src)
    assert out == src.replace('CMD ["x"]', 'USER 1000\nCMD ["x"]')


@pytest.mark.parametrize(
    ("src", "user"),
    [
        # the base image's own user, by name: its known UID (a named USER adds DL3066)
        (
            'FROM node:20-slim\nUSER node\nRUN npm ci\nUSER root\nRUN echo a\nCMD ["x"]\n',
            "1000:1000",
        ),
        # a user the file created with a fixed UID, by name
        (
            "FROM debian\nRUN useradd -u 2000 -m svc\nUSER svc\nRUN echo a\n"
            'USER root\nRUN echo b\nCMD ["x"]\n',
            "2000",
        ),
    ],
)
def test_switching_back_to_a_named_user_writes_its_uid(src: str, user: str) -> None:
    out, _ = fix(src)
    assert out == src.replace('CMD ["x"]', f'USER {user}\nCMD ["x"]')
    assert hadolint_counts(out)["DL3066"] == hadolint_counts(src)["DL3066"]


def test_switching_back_to_a_named_user_of_unknown_uid_is_display_only() -> None:
    src = 'FROM debian\nUSER www-data\nRUN echo a\nUSER root\nRUN echo b\nCMD ["x"]\n'
    out, left = fix(src)
    assert out == src
    assert left[0].applicability is Applicability.DISPLAY_ONLY
    assert "line 2 runs as `www-data`, whose UID is not known here" in left[0].reason


def test_reused_user_leaves_copy_ownership_alone() -> None:
    src = 'FROM debian\nUSER 1000\nUSER root\nWORKDIR /app\nCOPY . .\nCMD ["x"]\n'
    out, _ = fix(src)
    assert out == src.replace('CMD ["x"]', 'USER 1000\nCMD ["x"]')


@pytest.mark.parametrize("root", ["root", "0", "0:0", "root:root"])
def test_explicit_root(root: str) -> None:
    out, _ = fix(f'FROM debian\nRUN echo hi\nUSER {root}\nCMD ["x"]\n')
    assert out.endswith(f'USER {root}\n{DEBIAN_RUN}\nUSER 10001:10001\nCMD ["x"]\n')


def test_chainguard_dev_image_returns_to_nonroot() -> None:
    src = "FROM cgr.dev/chainguard/python:latest-dev\nUSER root\n"
    src += 'RUN apk add --no-cache git\nCMD ["git"]\n'
    out, _ = fix(src)
    assert out.endswith('RUN apk add --no-cache git\nUSER 65532:65532\nCMD ["git"]\n')


def test_user_created_with_a_uid_is_reused() -> None:
    src = 'FROM debian\nRUN useradd --uid 2000 -g 2000 -m svc\nCMD ["x"]\n'
    out, _ = fix(src)
    assert out == 'FROM debian\nRUN useradd --uid 2000 -g 2000 -m svc\nUSER 2000:2000\nCMD ["x"]\n'


def test_user_created_without_uid_is_display_only() -> None:
    src = 'FROM debian\nRUN useradd -m svc\nCMD ["x"]\n'
    out, left = fix(src)
    assert out == src
    assert left[0].applicability is Applicability.DISPLAY_ONLY
    assert "line 2 creates user `svc` without a fixed UID" in left[0].reason


# --- images that must start as root --------------------------------------------------------


@pytest.mark.parametrize(
    ("dockerfile", "reason"),
    [
        (
            "FROM postgres:16\nCOPY init.sql /docker-entrypoint-initdb.d/\n",
            "the `postgres` image's entrypoint starts as root",
        ),
        (
            "FROM nginx:1.27\nCOPY site /usr/share/nginx/html\n",
            "the `nginx` server starts as root by design",
        ),
        ("FROM php:8.3-apache\nCOPY . /var/www/html\n", "the `php` server starts as root"),
        (
            'FROM debian\nRUN apt-get update && apt-get install -y gosu\nCMD ["x"]\n',
            "line 2 uses `gosu`",
        ),
        ('FROM alpine\nRUN apk add --no-cache su-exec\nCMD ["x"]\n', "line 2 uses `su-exec`"),
        (
            'FROM debian\nCMD ["sh", "-c", "exec setpriv --reuid=1000 app"]\n',
            "line 2 uses `setpriv`",
        ),
        ("FROM debian\nCMD chroot --userspec=1000 / app\n", "line 2 uses `chroot`"),
        # every spelling the privilege-drop pattern knows (the words it needs are looked
        # for first: each case here must still be found)
        ("FROM debian\nCMD runuser -u app -- server\n", "line 2 uses `runuser`"),
        ("FROM alpine\nCMD s6-setuidgid app server\n", "line 2 uses `s6-setuidgid`"),
        ("FROM debian\nCMD setuidgid app server\n", "line 2 uses `setuidgid`"),
        ("FROM debian\nCMD chpst -u app server\n", "line 2 uses `chpst`"),
        ("FROM debian\nCMD su -c server\n", "line 2 uses `su`"),
        ("FROM debian\nCMD su -l app -c server\n", "line 2 uses `su`"),
        ("FROM debian\nCMD su\tapp\t-c server\n", "line 2 uses `su`"),
        # an option with a value before the user (`-s SHELL`, `-g GROUP`)
        ("FROM debian\nCMD su -s /bin/sh www-data -c php-fpm\n", "line 2 uses `su`"),
        ("FROM debian\nCMD su -l -g app app -c server\n", "line 2 uses `su`"),
        ("FROM debian\nCMD su --shell=/bin/sh app -c server\n", "line 2 uses `su`"),
        (
            'FROM debian\nRUN <<EOF\nset -e\nexec gosu app server\nEOF\nCMD ["x"]\n',
            "line 2 uses `gosu`",
        ),
        ("FROM lscr.io/linuxserver/nginx\nCOPY x /x\n", "LinuxServer.io images start as root"),
        ('FROM debian\nENTRYPOINT ["/init"]\n', "s6-overlay's `/init`"),
    ],
)
def test_display_only_when_the_image_switches_user_itself(dockerfile: str, reason: str) -> None:
    out, left = fix(dockerfile)
    assert out == dockerfile
    assert len(left) == 1
    assert left[0].applicability is Applicability.DISPLAY_ONLY
    assert reason in left[0].reason


def test_own_entrypoint_replaces_the_official_one() -> None:
    src = 'FROM redis:7\nCOPY app /app\nENTRYPOINT ["/app"]\n'
    out, _ = fix(src)
    assert (
        out == f'FROM redis:7\n{DEBIAN_RUN}\nCOPY app /app\nUSER 10001:10001\nENTRYPOINT ["/app"]\n'
    )


def test_entrypoint_script_read_from_the_build_context(tmp_path: Path) -> None:
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "entrypoint.sh").write_text('#!/bin/sh\nexec su-exec app "$@"\n')
    src = (
        "FROM alpine:3.19\nCOPY docker/entrypoint.sh /usr/local/bin/\n"
        'ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]\n'
    )
    (tmp_path / "Dockerfile").write_text(src)
    out, left = fix(src, path=tmp_path / "Dockerfile")
    assert out == src
    assert "the entrypoint script `docker/entrypoint.sh` uses `su-exec`" in left[0].reason
    (tmp_path / "docker" / "entrypoint.sh").write_text('#!/bin/sh\nexec "$@"\n')
    out, _ = fix(src, path=tmp_path / "Dockerfile")
    assert out.endswith('USER 10001:10001\nENTRYPOINT ["/usr/local/bin/entrypoint.sh"]\n')


# --- messages, hadolint, file details -----------------------------------------------------------


def test_privileged_port_is_display_only_unless_configured(tmp_path: Path) -> None:
    src = 'FROM debian\nEXPOSE 80/tcp 8080\nCMD ["x"]\n'
    path = tmp_path / "Dockerfile"
    out, left = fix(src, path=path)
    assert out == src
    assert left[0].applicability is Applicability.DISPLAY_ONLY
    assert "binds port 80/tcp (EXPOSE)" in left[0].reason
    assert "`unprivileged-port-start = 0`" in left[0].reason
    (tmp_path / "configured").mkdir()
    path = tmp_path / "configured" / "Dockerfile"
    (tmp_path / "configured" / "dockfix.toml").write_text("unprivileged-port-start = 0\n")
    out, left = fix(src, path=path)
    assert out.endswith('USER 10001:10001\nCMD ["x"]\n')
    assert left == []
    (finding,) = fix(src, unsafe=False, path=path)[1]
    assert "allowed by `unprivileged-port-start = 0`" in finding.message


@pytest.mark.parametrize(
    ("src", "named"),
    [
        # ASP.NET images before .NET 8 listen on port 80 unless told otherwise
        (
            'FROM mcr.microsoft.com/dotnet/aspnet:6.0\nCOPY out /app\nENTRYPOINT ["dotnet", "/app/a.dll"]\n',
            "80 (ASP.NET images before .NET 8",
        ),
        (
            'FROM python:3.12-slim\nCMD ["gunicorn", "--bind", "0.0.0.0:80", "app:app"]\n',
            "80 (the CMD)",
        ),
    ],
)
def test_privileged_ports_seen_outside_expose(src: str, named: str) -> None:
    out, left = fix(src)
    assert out == src and named in left[0].reason


def test_aspnet_before_8_with_its_port_set_is_fixed() -> None:
    src = (
        "FROM mcr.microsoft.com/dotnet/aspnet:6.0\nENV ASPNETCORE_URLS=http://+:8080\n"
        'COPY out /app\nENTRYPOINT ["dotnet", "/app/a.dll"]\n'
    )
    assert fix(src)[0].endswith('USER 10001:10001\nENTRYPOINT ["dotnet", "/app/a.dll"]\n')


def test_volume_and_data_env_are_given_to_the_user() -> None:
    src = (
        'FROM debian:12\nENV DATA_FOLDER=/srv/data\nVOLUME /uploads\nCOPY app /app\nCMD ["/app"]\n'
    )
    out, _ = fix(src)
    assert (
        "RUN mkdir -p /uploads /srv/data \\\n && chown -R 10001:10001 /uploads /srv/data\n" in out
    )
    (finding,) = fix(src, unsafe=False)[1]
    assert "gives the user `/uploads` (VOLUME on line 3), `/srv/data` (ENV DATA_FOLDER)" in (
        finding.message
    )


@pytest.mark.parametrize(
    ("expose", "named"),
    [
        ("1023 1024", "1023"),
        ("1024 8080", None),  # 1024 is the first port anyone may bind
        ("1 0 65535", "1"),  # port 0 is no port
        ("1023/udp", "1023/udp"),
        ("${PORT}", "1023"),  # ARG PORT=1023
    ],
)
def test_privileged_ports_are_those_below_1024(expose: str, named: str | None) -> None:
    src = f'FROM debian\nARG PORT=1023\nEXPOSE {expose}\nCMD ["x"]\n'
    _, left = fix(src, unsafe=False)
    if named is None:
        assert left[0].applicability is Applicability.UNSAFE
    else:
        assert f"binds port {named} (EXPOSE)" in left[0].reason


def test_no_dl3059_next_to_a_short_run_that_cannot_be_joined() -> None:
    src = 'FROM debian:12\nRUN ["echo", "hi"]\nCMD ["x"]\n'
    out, left = fix(src)
    assert out == src
    assert "DL3059" in left[0].reason


def test_heredoc_run_with_set_e_is_joined() -> None:
    src = '# syntax=docker/dockerfile:1\nFROM debian\nRUN <<EOF\nset -e\necho hi\nEOF\nCMD ["x"]\n'
    out, _ = fix(src)
    assert out == src.replace("echo hi\n", f"echo hi\n{DEBIAN_CREATE}\n").replace(
        'CMD ["x"]', 'USER 10001:10001\nCMD ["x"]'
    )


def test_blank_line_after_a_heredoc_at_the_end_of_the_file() -> None:
    # hadolint (2.12 to 2.15) fails to parse an instruction right after a heredoc terminator.
    src = "FROM debian\nRUN <<EOF\nset -e\necho hi\nEOF\n"
    out, _ = fix(src)
    assert out == src.replace("echo hi\n", f"echo hi\n{DEBIAN_CREATE}\n") + "\nUSER 10001:10001\n"


def test_pragmas_and_comments_stay_with_their_instruction() -> None:
    src = "FROM debian\nCOPY a /a\n# hadolint ignore=DL3025\n# start\nCMD x\n"
    out, _ = fix(src)
    assert out == (
        f"FROM debian\n{DEBIAN_RUN}\nCOPY a /a\n"
        "USER 10001:10001\n"
        "# hadolint ignore=DL3025\n# start\nCMD x\n"
    )


def test_hadolint_dl3002_pragma_suppresses() -> None:
    src = 'FROM debian\nRUN echo\n# hadolint ignore=DL3002\nUSER root\nCMD ["x"]\n'
    assert fix(src) == (src, [])


def test_crlf_bom_no_final_newline() -> None:
    src = '\ufeffFROM alpine:3.19\r\nCOPY x /x\r\nCMD ["/x"]'
    out, _ = fix(src)
    assert (
        out == "\ufeffFROM alpine:3.19\r\n"
        f"{ALPINE_RUN.replace(chr(10), chr(13) + chr(10))}\r\n"
        'COPY x /x\r\nUSER 10001:10001\r\nCMD ["/x"]'
    )


def test_options_name_and_uid() -> None:
    src = 'FROM debian:12\nCOPY x /x\nCMD ["/x"]\n'
    doc = parse(src)
    fixer = RootUser({"user": "svc", "uid": 20000})
    (finding,) = list(fixer.check(doc, FixContext()))
    assert finding.fix is not None
    out = apply_edits(src, finding.fix.edits)
    assert "useradd --system --uid 20000 --gid 20000 --no-log-init --create-home svc" in out
    assert "USER 20000:20000\n" in out


def test_idempotent() -> None:
    src = "FROM golang:1.22 AS build\nRUN go build -o /app .\n"
    src += 'FROM debian:12-slim\nCOPY --from=build /app /app\nCMD ["/app"]\n'
    once, _ = fix(src)
    assert once != src
    assert fix(once) == (once, [])


@pytest.mark.parametrize(
    ("ref", "family"),
    [
        ("python:3.12-slim", "debian"),
        ("python:3.12-alpine", "alpine"),
        ("node:20", "debian"),
        ("golang:1.22-alpine3.19", "alpine"),
        ("ubuntu", "debian"),
        ("debian:bookworm", "debian"),
        ("busybox:1.36", "numeric"),  # applets differ between BusyBox builds
        ("redhat/ubi9", "rhel"),
        ("registry.access.redhat.com/ubi9", "rhel"),
        ("fedora:40", "rhel"),
        ("centos:7", "rhel"),
        ("rockylinux:9", "rhel"),
        ("rockylinux:9-minimal", "numeric"),
        ("amazonlinux:2023", "numeric"),
        ("gcr.io/distroless/cc-debian12", "nonroot-uid"),
        ("scratch", "nonroot-uid"),
        ("docker.io/library/ruby:3.3", "debian"),
        ("eclipse-temurin:21-jre-alpine", "alpine"),
        ("mcr.microsoft.com/dotnet/aspnet:8.0", "nonroot-uid"),  # its `app` user, UID 1654
        ("mcr.microsoft.com/dotnet/aspnet:7.0", "debian"),
        ("openjdk:21", "numeric"),  # Oracle Linux slim: no useradd
        ("openjdk:21-oraclelinux8", "numeric"),
        ("openjdk:17-slim", "debian"),
        ("openjdk:17-jdk-slim-bullseye", "debian"),
        ("openjdk:11-jre", "debian"),
        ("openjdk:8", "debian"),
        ("openjdk:8u342-jdk", "debian"),
        ("mcr.microsoft.com/windows/nanoserver:ltsc2022", "windows"),
        # issue 17: checked against each image's Dockerfile (docker-library, oven-sh/bun,
        # adoptium, corretto-docker)
        ("openjdk:21-jdk-slim-bookworm", "debian"),  # debian:bookworm-slim
        ("openjdk:22-ea-slim", "debian"),
        ("oven/bun:1", "debian"),  # debian:bookworm-slim with the `bun` user
        ("oven/bun:1.2-slim", "debian"),
        ("oven/bun:debian", "debian"),
        ("oven/bun:1-alpine", "alpine"),
        ("eclipse-temurin:21-jre-noble", "debian"),  # Ubuntu
        ("eclipse-temurin:21-jre-ubi9-minimal", "numeric"),  # UBI minimal: no shadow-utils
        ("amazoncorretto:21", "numeric"),  # Amazon Linux: no `useradd` on the PATH
        ("maven:3.9-amazoncorretto-21", "numeric"),
        ("maven:3.9-amazoncorretto-21-alpine", "alpine"),
        ("gradle:8.10-jdk21-corretto", "numeric"),
        ("maven:3.9-eclipse-temurin-21", "debian"),
    ],
)
def test_family_detection(ref: str, family: str) -> None:
    assert classify(ref).family == family


@pytest.mark.parametrize("tag", ["1", "1.2-slim", "debian", "1-alpine"])
def test_bun_images_run_as_their_bun_user(tag: str) -> None:
    src = (
        f"FROM oven/bun:{tag}\nWORKDIR /app\nCOPY . .\nRUN bun install\n"
        'CMD ["bun", "run", "index.ts"]\n'
    )
    out, _ = fix(src)
    assert 'USER 1000:1000\nCMD ["bun", "run", "index.ts"]' in out
    assert "useradd" not in out and "adduser" not in out
    _, left = fix(src, unsafe=False)
    assert "the bun image's `bun` user is UID 1000" in left[0].message


def test_bun_distroless_runs_as_root_and_gets_the_nonroot_uid() -> None:
    # oven/bun's distroless variant is built on gcr.io/distroless/base-nossl without USER.
    src = 'FROM oven/bun:1-distroless\nCOPY server /app/server\nENTRYPOINT ["/app/server"]\n'
    out, _ = fix(src)
    assert "USER 65532:65532\nENTRYPOINT" in out
    _, left = fix(src, unsafe=False)
    assert "distroless images have no `useradd`" in left[0].message


_BASES = st.sampled_from(
    [
        "debian:12",
        "alpine:3.19",
        "python:3.12-slim",
        "scratch",
        "gcr.io/distroless/base",
        "fedora:40",
        "example.com/x:1",
    ]
)
_MIDDLE = st.lists(
    st.sampled_from(
        [
            "RUN echo a",
            "RUN echo a && echo b && echo c",
            "COPY . /srv",
            "WORKDIR /srv",
            "EXPOSE 8080",
            "ENV A=1",
            "# note",
        ]
    ),
    max_size=5,
)


@settings(max_examples=60, deadline=None)
@given(base=_BASES, middle=_MIDDLE, cmd=st.sampled_from(['CMD ["x"]', "ENTRYPOINT x", ""]))
def test_property_user_lands_before_the_command_and_is_stable(
    base: str, middle: list[str], cmd: str
) -> None:
    lines = [f"FROM {base}", *middle] + ([cmd] if cmd else [])
    src = "\n".join(lines) + "\n"
    out, left = fix(src)
    import dockerfile

    dockerfile.parse_string(out)
    doc = parse(out)
    users = [i for i in doc.instructions if i.keyword == "USER"]
    if left:
        assert out == src and left[0].applicability is Applicability.DISPLAY_ONLY
        return
    assert len(users) == 1
    uid = users[0].args.split(":")[0]
    assert uid.isdigit() and uid != "0"
    if cmd:
        last = doc.instructions[-1]
        assert last.keyword in ("CMD", "ENTRYPOINT")
        assert doc.instructions[-2] is users[0]
    assert fix(out) == (out, [])


def test_documented_example_is_what_the_fix_does() -> None:
    import re

    doc = RootUser.documentation()
    example = doc.split("## Example", 1)[1].split("\n## ", 1)[0]
    before, after = re.findall(r"```dockerfile\n(.*?)```", example, re.S)
    assert fix(before, unsafe=True)[0] == after


# --- found on real Dockerfiles --------------------------------------------------------------


def test_dotnet8_reuses_the_images_app_user() -> None:
    src = 'FROM mcr.microsoft.com/dotnet/aspnet:8.0\nWORKDIR /app\nCOPY app.dll .\nENTRYPOINT ["dotnet", "app.dll"]\n'
    out, _ = dockfix.fix(src, select=["DF201"], unsafe_fixes=True)
    assert "groupadd" not in out and "USER 1654:1654" in out


@pytest.mark.parametrize(
    ("src", "why"),
    [
        (
            'FROM rockylinux:9\nRUN dnf install -y httpd && dnf clean all\nCMD ["httpd", "-DFOREGROUND"]\n',
            "starts as root by design",
        ),
        (
            'FROM tomcat:10-jdk21\nCOPY app.war /usr/local/tomcat/webapps/ROOT.war\nCMD ["catalina.sh", "run"]\n',
            "starts as root by design",
        ),
        (
            'FROM debian:bookworm-slim\nCOPY job.sh /root/job.sh\nCMD ["bash", "/root/job.sh"]\n',
            "under /root",
        ),
        (
            'FROM debian\nRUN apt-get update && apt-get install -y nginx\nCMD ["sh", "-c", "nginx -g \\"daemon off;\\""]\n',
            "starts `nginx`",
        ),
        (
            'FROM python:3.12-slim\nONBUILD COPY . /app\nONBUILD RUN pip install -r /app/requirements.txt\nCMD ["python"]\n',
            "ONBUILD triggers",
        ),
    ],
)
def test_images_that_need_root_at_run_time_are_display_only(src: str, why: str) -> None:
    out, left = dockfix.fix(src, select=["DF201"], unsafe_fixes=True)
    assert out == src and why in left[0].reason


def test_a_user_the_base_provides_is_not_replaced() -> None:
    src = "FROM payara/server-full:6.2024.1\nCOPY --chown=payara:payara app.war /opt/payara/deployments/\n"
    out, left = dockfix.fix(src, select=["DF201"], unsafe_fixes=True)
    assert out == src and "a user the base image provides" in left[0].reason


def test_the_message_names_what_was_checked_and_what_was_not() -> None:
    src = 'FROM alpine:3.20\nWORKDIR /data\nCOPY server /usr/local/bin/server\nCMD ["/usr/local/bin/server"]\n'
    (finding,) = dockfix.fix(src, select=["DF201"])[1]
    assert "checked VOLUME and ENV, the CMD for what the application writes" in finding.message
    assert "found nothing it writes: the application's files stay owned by root" in finding.message
    assert "could not know the application's own files (no build context)" in finding.message


@pytest.mark.parametrize(
    "line",
    [
        "RUN pip install --user flask",
        "RUN pip3 install -q --user flask",
        "RUN curl -o /root/model.bin https://example.com/m",
        "RUN mkdir -p ~/.cache/app",
        "RUN echo $HOME > /tmp/h",
        "ENV CACHE=${HOME}/cache",
        "COPY cfg /root/.config/app/",
        "RUN python -c \"import nltk; nltk.download('punkt')\"",
        "RUN playwright install chromium",
        "RUN python -m spacy download en_core_web_sm",
        "RUN huggingface-cli download gpt2",
    ],
)
def test_data_in_roots_home_is_named(line: str) -> None:
    # each spelling the pattern knows (the words it needs are looked for first)
    src = f'FROM python:3.12-slim\nENV PLAYWRIGHT_BROWSERS_PATH=/ms\n{line}\nCMD ["python", "app.py"]\n'
    (finding,) = dockfix.fix(src, select=["DF201"])[1]
    assert "line 3 puts data under root's HOME" in finding.message


def test_playwright_browsers_under_root_are_display_only() -> None:
    src = 'FROM node:20\nRUN npx -y playwright install chromium\nCMD ["node", "app.js"]\n'
    (finding,) = dockfix.fix(src, select=["DF201"], unsafe_fixes=True)[1]
    assert finding.applicability is Applicability.DISPLAY_ONLY
    assert "runs `npx -y playwright install` as root" in finding.reason


@pytest.mark.parametrize(
    ("install", "where"),
    [
        # Kafka's images: a tarball into /opt, started from there; it logs to /opt/kafka/logs
        (
            "ENV KAFKA_HOME=/opt/kafka PATH=/usr/local/bin:/usr/bin:/bin:/opt/kafka/bin\n"
            "RUN tar -xzf /tmp/kafka.tgz -C /opt && ln -s /opt/kafka_2.13 /opt/kafka",
            "/opt",
        ),
        # Tomcat's: logs/, temp/ and work/ under CATALINA_HOME
        (
            'ENV CATALINA_HOME=/usr/local/tomcat\nWORKDIR $CATALINA_HOME\nRUN mkdir -p "$CATALINA_HOME" && '
            'tar -xf tomcat.tar.gz --strip-components=1 --directory="$CATALINA_HOME"',
            "/usr/local/tomcat",
        ),
        ('RUN unzip -q solr.zip -d /srv/solr\nENTRYPOINT ["/srv/solr/bin/solr"]', "/srv/solr"),
    ],
)
def test_software_unpacked_where_it_runs_is_display_only(install: str, where: str) -> None:
    src = f"FROM eclipse-temurin:17-jre\n{install}\nCMD [\"start.sh\"]\n"
    fixed, (finding,) = fix(src)
    assert fixed == src
    assert finding.applicability is Applicability.DISPLAY_ONLY
    assert f"unpacks software into `{where}`" in finding.reason


@pytest.mark.parametrize(
    "install",
    [
        "RUN curl -fsSL https://go.dev/dl/go.tgz | tar -C /usr/local -xz",  # a toolchain
        "RUN tar -xJf node.tar.xz -C /usr/local --strip-components=1",
        "RUN tar -xzf app.tgz -C /tmp && mv /tmp/app/bin/app /usr/local/bin/",
        # the node image's yarn: unpacked into /opt, linked onto the PATH
        "RUN tar -xzf yarn.tgz -C /opt/ && ln -s /opt/yarn/bin/yarn /usr/local/bin/yarn",
    ],
)
def test_unpacked_toolchains_and_scratch_files_keep_the_fix(install: str) -> None:
    src = f"FROM debian:12\n{install}\nCMD [\"app\"]\n"
    fixed, left = fix(src)
    assert left == [] and "USER 10001:10001" in fixed


# --- where the application writes (issue 14) ----------------------------------------------


def test_unprivileged_port_start_must_be_a_port_number(tmp_path: Path) -> None:
    from dockfix.run.config import ConfigError

    (tmp_path / "dockfix.toml").write_text("unprivileged-port-start = true\n")
    with pytest.raises(ConfigError, match="`unprivileged-port-start` must be a port number"):
        fix('FROM debian\nCMD ["x"]\n', path=tmp_path / "Dockerfile")


@pytest.mark.parametrize(
    "run",
    [
        # `set -e` ignores a negated command's status: `; useradd` would decide the RUN's
        "RUN set -e; make; \\\n    ! { ldd /usr/local/bin/tool | grep 'not found'; }",
        "RUN set -e; make; \\\n    test -x /usr/local/bin/tool || exit 1",
    ],
)
def test_never_joined_after_a_check_that_set_e_ignores(run: str) -> None:
    src = f'FROM debian:12\n{run}\nCMD ["tool"]\n'
    out, _ = fix(src)
    assert out == src.replace('CMD ["tool"]', f'{DEBIAN_RUN}\nUSER 10001:10001\nCMD ["tool"]')


def test_joined_with_and_after_a_check_when_the_chain_uses_and() -> None:
    src = (
        "FROM debian:12\nRUN make \\\n && ! { ldd /usr/local/bin/tool | grep 'not found'; }\n"
        'CMD ["tool"]\n'
    )
    out, _ = fix(src)
    assert f"grep 'not found'; }} \\\n && {DEBIAN_CREATE}\nUSER 10001:10001\n" in out


def test_base_built_by_another_dockerfile_of_the_repository(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "images" / "app-base").mkdir(parents=True)
    base = tmp_path / "images" / "app-base" / "Dockerfile"
    base.write_text("FROM debian:12\nRUN useradd -u 10001 app\nUSER 10001\n")
    (tmp_path / "svc").mkdir()
    src = 'FROM registry.example.com/acme/app-base:1.4\nCOPY run.sh /run.sh\nCMD ["/run.sh"]\n'
    assert fix(src, path=tmp_path / "svc" / "Dockerfile") == (src, [])
    base.write_text("FROM debian:12\nRUN echo\n")  # a base that runs as root: the finding stays
    (tmp_path / "other").mkdir()
    _, left = fix(src, unsafe=False, path=tmp_path / "other" / "Dockerfile")
    assert [f.code for f in left] == ["DF201"]


def test_base_of_the_repository_found_through_a_symlinked_directory(tmp_path: Path) -> None:
    # The repository is the real path's: a link from outside it still leads to its images.
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "images" / "app-base").mkdir(parents=True)
    (repo / "images" / "app-base" / "Dockerfile").write_text("FROM debian:12\nUSER 10001\n")
    (repo / "svc").mkdir()
    (tmp_path / "link").symlink_to(repo / "svc")
    src = 'FROM registry.example.com/acme/app-base:1.4\nCOPY run.sh /run.sh\nCMD ["/run.sh"]\n'
    assert fix(src, path=tmp_path / "link" / "Dockerfile") == (src, [])


def test_base_of_the_repository_whose_user_comes_from_an_arg(tmp_path: Path) -> None:
    # The base's USER is read through the shared model, variables expanded as BuildKit does.
    (tmp_path / ".git").mkdir()
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "Dockerfile").write_text(
        "FROM debian:12\nARG APP_UID=10001\nRUN useradd -u ${APP_UID} app\nUSER ${APP_UID}\n"
    )
    (tmp_path / "svc").mkdir()
    src = 'FROM registry.example.com/acme/svc-base:2\nCOPY run.sh /run.sh\nCMD ["/run.sh"]\n'
    assert fix(src, path=tmp_path / "svc" / "Dockerfile") == (src, [])
    (tmp_path / "base" / "Dockerfile").write_text("FROM debian:12\nARG U=root\nUSER $U\n")
    (tmp_path / "other").mkdir()
    _, left = fix(src, unsafe=False, path=tmp_path / "other" / "Dockerfile")
    assert [f.code for f in left] == ["DF201"]


def test_sources_name_the_paths_they_write(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "import logging.handlers, sqlite3\n"
        "h = logging.handlers.RotatingFileHandler('/var/log/shop/app.log')\n"
        "db = sqlite3.connect('data/shop.db')\n"
        "def save(name, body):\n    open(name, 'w').write(body)\n"
    )
    src = 'FROM python:3.12-slim\nWORKDIR /srv\nCOPY app.py .\nCMD ["python", "app.py"]\n'
    out, _ = fix(src, path=tmp_path / "Dockerfile")
    assert (
        "mkdir -p /var/log/shop /srv/data \\\n && chown -R 10001:10001 /var/log/shop /srv/data"
        in out
    )
    (finding,) = fix(src, unsafe=False, path=tmp_path / "Dockerfile")[1]
    assert "checked VOLUME and ENV, the CMD, 1 source file" in finding.message
    assert "`app.py` line 5 writes to a path computed at run time" in finding.message


def test_the_start_script_names_the_files_it_writes(tmp_path: Path) -> None:
    (tmp_path / "boot.sh").write_text("#!/bin/sh\nexec server >> /logs/server.log 2>&1\n")
    src = 'FROM debian:12\nCOPY boot.sh /boot.sh\nENTRYPOINT ["/boot.sh"]\n'
    (finding,) = fix(src, unsafe=False, path=tmp_path / "Dockerfile")[1]
    assert "gives the user `/logs` (`boot.sh`)" in finding.message


@pytest.mark.parametrize(
    ("env", "given"),
    [
        ("DATA_FOLDER=/data", "/data"),
        ("APP_LOG_DIR=/var/log/app", "/var/log/app"),
        ("DATABASE_URL=sqlite:////srv/db/app.sqlite3", "/srv/db"),
        ("NLTK_DATA=/usr/share/nltk_data", None),  # data the image reads: not handed over
        ("DATABASE_URL=postgres://db/app", None),
        ("LOG_LEVEL=info", None),
    ],
)
def test_data_directories_named_by_env(env: str, given: str | None) -> None:
    src = f'FROM debian:12\nENV {env}\nCOPY app /app\nCMD ["/app"]\n'
    out, _ = fix(src)
    if given is None:
        assert "chown" not in out
    else:
        assert f"mkdir -p {given} \\\n && chown -R 10001:10001 {given}\n" in out


def test_a_file_ending_inside_a_continuation_gets_a_reason_not_a_broken_fix() -> None:
    src = "FROM debian:12\nRUN echo \\\n"
    fixed, (finding,) = fix(src)
    assert fixed == src and finding.applicability is Applicability.DISPLAY_ONLY
    assert "line 2 ends with a continuation that runs to the end of the file" in finding.reason
    outcome = dockfix.fix_outcome(src, select=["DF201"], unsafe_fixes=True)
    assert outcome.warnings == []  # no "proposed a fix that was not applied"


@pytest.mark.parametrize("option", ["--skel /etc/skel", "--password '*'", "--base-dir /srv"])
def test_a_useradd_option_after_the_name_is_not_taken_for_the_name(option: str) -> None:
    # GNU getopt lets options follow the operand: their values are not the user's name.
    src = f'FROM debian:12\nRUN useradd -u 1000 -m app {option}\nCOPY . /app\nCMD ["/app/run"]\n'
    (finding,) = fix(src, unsafe=False)[1]
    assert "uses the user `app` created on line 2" in finding.message


def test_a_start_script_writing_a_variable_s_default_path_gives_the_user_that_path(
    tmp_path: Path,
) -> None:
    """`mkdir -p "${DATA_DIR:-/app/data}"` in the entrypoint writes /app/data unless something
    sets DATA_DIR; a path of other variables is said to be unknown, not passed over. (Found by
    running a split app: the container stopped with "Permission denied" after the fix.)"""
    (tmp_path / "docker-entrypoint.sh").write_text(
        '#!/bin/sh\nset -e\nmkdir -p "${DATA_DIR:-/app/data}"\ntouch "$LOG_FILE"\nexec "$@"\n'
    )
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.11\nWORKDIR /app\nCOPY . .\n"
        'ENTRYPOINT ["./docker-entrypoint.sh"]\nCMD ["python", "-m", "http.server"]\n'
    )
    text = (tmp_path / "Dockerfile").read_text()
    where = tmp_path / "Dockerfile"
    fixed, _ = dockfix.fix(text, path=where, select=["DF201"], unsafe_fixes=True, offline=True)
    assert "chown -R 10001:10001 /app/data" in fixed
    _, left = dockfix.fix(text, path=where, select=["DF201"], offline=True)
    assert "could not know `docker-entrypoint.sh` writes to `$LOG_FILE`" in left[0].message
