"""DF108 unpinned-packages: display-only, one finding per RUN, the packages hadolint's pinning
rules (DL3008, DL3018, DL3013, DL3016, DL3028, DL3033, DL3037, DL3041) report, and uv's."""

from __future__ import annotations

from pathlib import Path

import pytest

import dockfix
from dockfix.core.fixer import Applicability
from hadolint_runner import hadolint_lines_or_skip

RULES = ("DL3008", "DL3018", "DL3013", "DL3016", "DL3028", "DL3033", "DL3037", "DL3041")
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "DF108-unpinned-packages"

# (RUN, the unpinned packages named; () where every package is pinned)
SAME_AS_HADOLINT = [
    ("apt-get update && apt-get install -y --no-install-recommends curl git", ("curl", "git")),
    ("apt-get install -y curl=7.88.1-10+deb12u12 'git=1:2.39*'", ()),
    ("apt-get install -y -t bookworm-backports golang-go/bookworm-backports", ()),
    ("apt-get install -y ./google-chrome-stable_current_amd64.deb", ()),
    ("apt-get install -y -o Dpkg::Options::=--force-confold tzdata", ("tzdata",)),
    ("apk add --no-cache --virtual .build-deps gcc musl-dev", ("gcc", "musl-dev")),
    ("apk add --no-cache curl=8.5.0-r0 'bash~5.2' ./local.apk", ()),
    ("pip install --no-cache-dir flask gunicorn==22.0.0", ("flask",)),
    ("pip3 install --no-cache-dir 'django>=5.0,<5.1' ./dist/app-1.0-py3-none-any.whl", ()),
    ("python3 -m pip install --upgrade pip setuptools", ("pip", "setuptools")),
    ("pip install --no-cache-dir -r requirements.txt", ()),
    ("pip install --no-cache-dir -c constraints.txt celery", ()),
    ("pip install --no-cache-dir git+https://github.com/psf/requests.git@v2.32.3", ()),
    (
        "pip install --no-cache-dir git+https://github.com/psf/requests.git",
        ("git+https://github.com/psf/requests.git",),
    ),
    ("pip install --no-cache-dir --index-url https://pypi.internal/simple boto3", ("boto3",)),
    ("npm install -g @angular/cli typescript@5.4.5", ("@angular/cli",)),
    ("npm install -g pnpm@9.1.0 ./tools/cli.tgz git+https://github.com/a/b.git#v1", ()),
    ("npm install --prefix /opt/app express", ("express",)),
    ("npm install", ()),
    ("npm ci --omit=dev", ()),
    ("gem install bundler rake:13.2.1", ("bundler",)),
    ("gem install bundler -v 2.5.11", ()),
    ("gem install nokogiri -- --use-system-libraries", ("nokogiri",)),
    ("gem install --no-document bundler --version=2.5.11", ()),
    ("dnf install -y --setopt=install_weak_deps=False gcc make", ("gcc", "make")),
    (
        "dnf -y install python3-pip 'dnf-command(config-manager)'",
        ("python3-pip", "dnf-command(config-manager)"),
    ),
    ("dnf install -y curl-8.6.0 nginx-1:1.20.1-14.el9 tzdata-2024a-1.el9.noarch", ()),
    ("dnf install -y https://dl.fedoraproject.org/pub/epel/epel-release-latest-9.noarch.rpm", ()),
    ("dnf install -y curl.x86_64", ("curl.x86_64",)),
    ("dnf reinstall -y curl && dnf upgrade -y openssl", ()),
    ("dnf module enable -y nodejs:20", ()),
    ("microdnf install -y --nodocs shadow-utils && microdnf clean all", ("shadow-utils",)),
    ("microdnf install -y --nodocs shadow-utils-4.9-8.el9", ()),
    ("yum install -y --setopt=tsflags=nodocs epel-release gcc-c++", ("epel-release", "gcc-c++")),
    ("yum -y install jq-1.6-2.el7", ()),
    ("yum groupinstall -y 'Development Tools'", ()),
    ("zypper --non-interactive install --no-recommends curl git-core", ("curl", "git-core")),
    ("zypper -n in curl", ("curl",)),
    ("zypper install -y curl=8.0.1-1.1 'nodejs20>=20.11' 'git<3' ./tools.rpm", ()),
    ("zypper install -y 'curl = 8.0.1'", ()),
    ("zypper si -y curl", ()),
]


@pytest.mark.parametrize(
    ("run", "packages"), SAME_AS_HADOLINT, ids=[r for r, _ in SAME_AS_HADOLINT]
)
def test_reports_the_runs_hadolint_reports(run: str, packages: tuple[str, ...]) -> None:
    src = f"FROM debian:bookworm-slim\nRUN {run}\n"
    _, left = dockfix.fix(src, select=["DF108"], unsafe_fixes=True)
    assert [f.line for f in left] == hadolint_lines_or_skip(src, RULES)
    assert [f.applicability for f in left] == [Applicability.DISPLAY_ONLY] * len(left)
    if packages:
        message = left[0].message
        named = ", ".join(f"`{p}`" for p in packages)
        assert f"{named} installed by " in message
        assert "the index has on build day" in message


def test_one_finding_per_run_naming_every_tool() -> None:
    src = (
        "FROM python:3.12-slim\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends libpq5 \\\n"
        " && pip install --no-cache-dir psycopg \\\n"
        " && rm -rf /var/lib/apt/lists/*\n"
    )
    _, left = dockfix.fix(src, select=["DF108"])
    assert len(left) == 1
    assert hadolint_lines_or_skip(src, RULES) == [2]  # DL3008 and DL3013, on the same RUN
    message = left[0].message
    assert "`libpq5` installed by apt-get without a version (`libpq5=<version>`)" in message
    assert "`psycopg` installed by pip without a version (`psycopg==<version>`)" in message
    assert "no resolver" in left[0].reason and "breaks the build" in left[0].reason


def test_heredoc_and_onbuild_runs_count() -> None:
    src = (
        "FROM node:20-bookworm-slim\n"
        "RUN <<EOF\n"
        "set -e\n"
        "npm install -g corepack\n"
        "EOF\n"
        "ONBUILD RUN apk add --no-cache git\n"
    )
    _, left = dockfix.fix(src, select=["DF108"])
    assert [(f.line, "`corepack`" in f.message or "`git`" in f.message) for f in left] == [
        (2, True),
        (6, True),
    ]


@pytest.mark.parametrize(
    "run",
    [
        "apt install -y curl",
        "npm i -g typescript",
        "sudo apt-get install -y curl",
        "xx-apk add --no-cache gcc",
        "xx-apt-get install -y gcc",
    ],
)
def test_forms_hadolint_does_not_read_are_reported_too(run: str) -> None:
    # `apt` (DF106 rewrites it) and `npm i` install the same unpinned packages
    src = f"FROM ubuntu:24.04\nRUN {run}\n"
    _, left = dockfix.fix(src, select=["DF108"])
    assert len(left) == 1


@pytest.mark.parametrize(
    ("rule", "run", "reported"),
    [
        ("DL3013", "pip install --no-cache-dir flask", False),
        ("DL3008", "pip install --no-cache-dir flask", True),
        ("DL3041", "dnf install -y gcc", False),
        ("DL3033", "dnf install -y gcc", True),
        ("DL3013", "uv pip install --system ruff", True),  # no hadolint rule reads uv
    ],
)
def test_a_hadolint_pragma_silences_the_rules_of_its_packages(
    rule: str, run: str, reported: bool
) -> None:
    src = f"FROM python:3.12-slim\n# hadolint ignore={rule}\nRUN {run}\n"
    _, left = dockfix.fix(src, select=["DF108"])
    assert bool(left) is reported


def test_an_option_value_is_no_package() -> None:
    # hadolint reads `@platform/api` as an unpinned package; it is the workspace npm installs
    src = "FROM node:22-alpine\nRUN npm install --workspace @platform/api --omit=dev\n"
    assert hadolint_lines_or_skip(src, RULES) == [2]
    assert dockfix.fix(src, select=["DF108"]) == (src, [])


def test_many_packages_are_counted_after_five() -> None:
    src = "FROM alpine:3.20\nRUN apk add --no-cache a b c d e f g\n"
    _, left = dockfix.fix(src, select=["DF108"])
    assert left[0].message.startswith("`a`, `b`, `c`, `d`, `e` and 2 more installed by apk ")


@pytest.mark.parametrize(
    "run",
    [
        "apt-get update",
        "apt-cache policy curl",
        "pip download flask",
        "pip wheel flask",
        "npm run build",
        "gem list",
        "echo apt-get install curl",
    ],
)
def test_no_finding(run: str) -> None:
    src = f"FROM debian:bookworm-slim\nRUN {run}\n"
    assert dockfix.fix(src, select=["DF108"]) == (src, [])


@pytest.mark.parametrize(
    "case",
    [
        "no-change-reported-ubi-minimal",
        "no-change-reported-centos-yum",
        "no-change-reported-opensuse",
        "no-change-pinned-ubi-dnf",
    ],
)
def test_rpm_images_are_reported_on_the_lines_hadolint_reports(case: str) -> None:
    src = (FIXTURES / case / "Dockerfile").read_text()
    _, left = dockfix.fix(src, select=["DF108"])
    assert [f.line for f in left] == hadolint_lines_or_skip(src, RULES)


@pytest.mark.parametrize(
    "run",
    [
        "dnf install -y ./vendor/agent.rpm",  # a local file: its own version
        "dnf install -y @development-tools",  # a group, no package
        "dnf install -y --enablerepo crb ninja-build-1.10.2",  # `crb` is the option's value
        "dnf install -y 'python3 >= 3.9'",  # a version relation dnf resolves
        "zypper install -y curl-8.0.1",  # name-version, as zypper reads it
        "zypper install -y -t pattern devel_basis",  # a pattern, no package
        "zypper install -y --from devel_languages_python python311-pip=23.0",
        # the official php images' build dependencies: a variable the base image sets
        "apk add --no-cache --virtual .build-deps $PHPIZE_DEPS",
    ],
)
def test_what_is_no_unpinned_package_though_hadolint_reports_it(run: str) -> None:
    src = f"FROM fedora:40\nRUN {run}\n"
    assert hadolint_lines_or_skip(src, RULES) == [2]
    assert dockfix.fix(src, select=["DF108"]) == (src, [])


@pytest.mark.parametrize(
    "run", ["dnf install -y java-17-openjdk-headless", "dnf install -y gcc-toolset-13-gcc"]
)
def test_a_name_with_a_number_in_it_is_no_version(run: str) -> None:
    # hadolint takes any `-` followed by a digit for a version; the last word after a `-` is
    # the one dnf reads as a version or release
    src = f"FROM registry.access.redhat.com/ubi9/ubi:9.4\nRUN {run}\n"
    assert hadolint_lines_or_skip(src, RULES) == []
    _, left = dockfix.fix(src, select=["DF108"])
    assert [f.line for f in left] == [2]
    assert "installed by dnf without a version (`" in left[0].message


@pytest.mark.parametrize(
    ("run", "packages"),
    [
        (
            "uv pip install --system --no-cache gunicorn 'uvicorn[standard]'",
            ("gunicorn", "uvicorn[standard]"),
        ),
        ("python3 -m uv pip install --system flask", ("flask",)),
        ("uv add --group lint ruff 'httpx>=0.27'", ("ruff",)),
        ("uv add --dev pytest", ("pytest",)),
        ("uv pip install --system -r requirements.txt", ()),
        ("uv pip install --system 'flask==3.0.3' -e ./lib .", ()),
        ("uv add git+https://github.com/encode/httpx@0.27.2", ()),
        ("uv pip sync requirements.txt && uv sync --frozen", ()),
        ("uv pip compile requirements.in -o requirements.txt", ()),
    ],
)
def test_uv_installs(run: str, packages: tuple[str, ...]) -> None:
    src = f"FROM python:3.12-slim\nRUN {run}\n"
    _, left = dockfix.fix(src, select=["DF108"])
    assert hadolint_lines_or_skip(src, RULES) == []  # hadolint reads no uv command
    if not packages:
        assert left == []
        return
    named = ", ".join(f"`{p}`" for p in packages)
    assert [f.line for f in left] == [2]
    assert f"{named} installed by uv without a version (`{packages[0]}==<version>`)" in (
        left[0].message
    )
    assert left[0].applicability is Applicability.DISPLAY_ONLY


def test_uv_fixture_is_reported_where_it_installs_unnamed_versions() -> None:
    src = (FIXTURES / "no-change-reported-uv" / "Dockerfile").read_text()
    _, left = dockfix.fix(src, select=["DF108"])
    assert [(f.line, f.message.split(" installed")[0]) for f in left] == [(7, "`gunicorn`")]
