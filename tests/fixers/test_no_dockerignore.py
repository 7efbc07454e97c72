"""DF204 no-dockerignore: the proposed ignore files, checked against Docker's own matching."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dockfix
from dockfix.core.engine import fix_document
from dockfix.core.fixer import Applicability, FileChange, Finding
from dockfix.fixers.no_dockerignore import HEADER, NoDockerignore
from dockfix.semantics.context import FixContext
from dockfix.semantics.dockerignore import DockerIgnore
from fixture_cases import ROOT as FIXTURES


def make(root: Path, files: dict[str, str]) -> None:
    for rel, content in files.items():
        p = root / rel
        if rel.endswith("/"):
            p.mkdir(parents=True, exist_ok=True)
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content.encode())


def run(
    root: Path, dockerfile: str = "Dockerfile", unsafe: bool = True
) -> tuple[list[Finding], list[FileChange]]:
    path = root / dockerfile
    text = path.read_bytes().decode()
    ctx = FixContext(path=path, context_dir=root)
    out = fix_document(text, [NoDockerignore()], ctx, unsafe=unsafe)
    assert out.fixed == text  # the Dockerfile itself is never edited
    return out.findings, out.file_changes


def proposed(root: Path, dockerfile: str = "Dockerfile") -> list[str]:
    """The patterns of the proposed file (comments dropped)."""
    _, changes = run(root, dockerfile)
    assert len(changes) == 1
    return [ln for ln in changes[0].content.splitlines() if ln and not ln.startswith("#")]


def write_changes(changes: list[FileChange]) -> None:
    for ch in changes:
        ch.path.write_bytes(ch.content.encode())


# What a context copied whole gets even when no such file exists yet (prevention).
KEYS = ["**/*.key", "**/id_rsa", "**/id_ecdsa", "**/id_ed25519"]
SECRETS = ["**/.env", "**/.env.*", "**/*.pem", *KEYS]
PREVENTIVE = [".git", *SECRETS]

NODE = (
    "FROM node:20\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\n"
    'RUN npm run build\nCMD ["node", "dist/index.js"]\n'
)


def test_node_project_gets_the_standard_file(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "Dockerfile": NODE,
            "package.json": "{}",
            ".git/HEAD": "ref",
            ".env": "TOKEN=x",
            "node_modules/react/index.js": "",
            "dist/index.js": "",
            "src/app.ts": "",
        },
    )
    findings, changes = run(tmp_path)
    assert [f.message for f in findings] == []  # fixed (unsafe run)
    assert changes[0].path == tmp_path / ".dockerignore"
    assert changes[0].original is None
    assert changes[0].content == (
        f"{HEADER}\n# Secrets and version control\n.git\n**/.env\n**/.env.*\n**/*.pem\n"
        "**/*.key\n**/id_rsa\n**/id_ecdsa\n**/id_ed25519\n"
        "# Dependencies and build output, made again by the build\n**/node_modules\ndist\n"
    )


def test_copy_dot_makes_it_unsafe_and_specific_copies_make_it_safe(tmp_path: Path) -> None:
    make(tmp_path, {"Dockerfile": NODE, "package.json": "{}", ".env": "x"})
    out = fix_document(
        NODE,
        [NoDockerignore()],
        FixContext(path=tmp_path / "Dockerfile", context_dir=tmp_path),
        unsafe=False,
    )
    assert out.file_changes == []
    assert [f.applicability for f in out.findings] == [Applicability.UNSAFE]
    safe = (
        "FROM python:3.12\n"
        "COPY requirements.txt .\n"
        "RUN pip install -r requirements.txt\n"
        "COPY app/ /app/\n"
    )
    make(tmp_path, {"Dockerfile": safe, "requirements.txt": "", "app/main.py": ""})
    out = fix_document(
        safe,
        [NoDockerignore()],
        FixContext(path=tmp_path / "Dockerfile", context_dir=tmp_path),
        unsafe=False,
    )
    assert [f.applicability for f in out.findings] == []
    assert [ln for ln in out.file_changes[0].content.splitlines() if not ln.startswith("#")] == [
        "**/.env"
    ]


def test_files_the_dockerfile_copies_by_name_stay(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "Dockerfile": (
                "FROM nginx\nCOPY certs/ca.pem /etc/ssl/ca.pem\n"
                "COPY .env.production /app/.env\nCOPY . /app\n"
            ),
            "certs/ca.pem": "fake",
            "certs/dev.pem": "fake",
            ".env.production": "A=1",
            ".env.local": "B=2",
        },
    )
    # the patterns that would exclude a copied file are narrowed or left out
    assert proposed(tmp_path) == [".git", "**/.env", ".env.local", "certs/dev.pem", *KEYS]


def test_wildcard_sources_are_kept(tmp_path: Path) -> None:
    make(
        tmp_path,
        {"Dockerfile": "FROM nginx\nCOPY keys/*.pem /keys/\n", "keys/a.pem": "x", "other.pem": "x"},
    )
    assert proposed(tmp_path) == ["other.pem"]


def test_run_that_names_a_path_keeps_it(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "Dockerfile": (
                "FROM php:8\nCOPY . /var/www\nRUN cp /var/www/.env.example /var/www/.env.docker\n"
            ),
            ".env.example": "A=",
            ".env.local": "A=secret",
            "id_rsa": "fake",
        },
    )
    assert proposed(tmp_path) == [".git", "**/.env", ".env.local", "**/*.pem", *KEYS]


def test_git_metadata_keeps_git(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.12\nCOPY . /src\nRUN pip install /src\n",
            "pyproject.toml": '[build-system]\nrequires = ["setuptools", "setuptools-scm"]\n',
            ".git/HEAD": "ref",
            ".env": "x",
        },
    )
    assert proposed(tmp_path) == SECRETS
    make(
        tmp_path,
        {
            "Dockerfile": (
                'FROM golang\nCOPY . .\nRUN go build -ldflags "-X main.v=$(git describe)" .\n'
            ),
            "pyproject.toml": "",
        },
    )
    assert proposed(tmp_path) == SECRETS


def test_git_is_excluded_when_no_copy_can_reach_it(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "Dockerfile": "FROM python:3.12\nCOPY requirements.txt .\nRUN git --version\n",
            "requirements.txt": "",
            ".git/HEAD": "ref",
        },
    )
    _findings, changes = run(tmp_path, unsafe=False)
    assert changes[0].content.splitlines()[-1] == ".git"


def test_node_modules_kept_when_the_image_does_not_install(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "Dockerfile": 'FROM node:20\nCOPY . /app\nCMD ["node", "/app/i.js"]\n',
            "node_modules/x/i.js": "",
            ".env": "x",
        },
    )
    assert proposed(tmp_path) == PREVENTIVE


def test_build_output_needs_a_build_and_no_earlier_use(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "Dockerfile": "FROM nginx\nCOPY . /usr/share/nginx/html\n",
            "dist/index.html": "",
            ".env": "x",
        },
    )
    assert proposed(tmp_path) == PREVENTIVE  # dist is the site itself
    make(
        tmp_path,
        {
            "Dockerfile": "FROM node:20\nCOPY . .\nRUN ./build/prepare.sh && npm run build\n",
            "build/prepare.sh": "",
            "dist/index.html": "",
        },
    )
    assert proposed(tmp_path) == PREVENTIVE  # nothing says dist is output
    make(tmp_path, {"package.json": "{}"})
    assert proposed(tmp_path) == [*PREVENTIVE, "dist"]  # build/ is read before the build


def test_build_dir_of_scripts_is_kept_unless_gitignored(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "Dockerfile": "FROM golang:1.22\nCOPY . .\nRUN make\n",
            "build/package/release.sh": "",
            "Makefile": "all:\n\tbuild/package/release.sh\n",
            "id_ed25519": "fake",
        },
    )
    assert proposed(tmp_path) == PREVENTIVE
    make(tmp_path, {".gitignore": "/build/\n"})
    assert proposed(tmp_path) == [*PREVENTIVE, "build"]


def test_npmrc_stays_when_a_copy_takes_it(tmp_path: Path) -> None:
    make(tmp_path, {"Dockerfile": "FROM node:20\nCOPY . .\nRUN npm ci\n", ".npmrc": "//r/:_auth=x"})
    assert proposed(tmp_path) == PREVENTIVE  # not .npmrc: npm ci reads it from the project
    dockerfile = "FROM node:20\nCOPY package.json .\nRUN --mount=type=secret,id=npmrc npm i\n"
    make(tmp_path, {"Dockerfile": dockerfile})
    assert proposed(tmp_path) == ["**/.npmrc"]


def test_the_dockerfile_and_the_ignore_file_are_never_excluded(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "build/Dockerfile": "FROM node:20\nCOPY . .\nRUN npm ci && npm run build\n",
            "build/out.js": "",
            "node_modules/a": "",
            ".env": "x",
        },
    )
    patterns = proposed(tmp_path, "build/Dockerfile")
    assert "build" not in patterns
    ign = DockerIgnore.from_patterns(patterns)
    assert not ign.excludes("build/Dockerfile")
    assert not ign.excludes(".dockerignore")


def test_other_dockerfiles_of_a_monorepo_count(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "services/api/Dockerfile": "FROM node:20\nCOPY services/api .\nRUN npm ci\n",
            "services/web/Dockerfile": "FROM nginx\nCOPY services/web/node_modules/x /x\n",
            "services/api/node_modules/a": "",
            "services/web/node_modules/x": "",
            ".env": "x",
        },
    )
    a = proposed(tmp_path, "services/api/Dockerfile")
    b = proposed(tmp_path, "services/web/Dockerfile")
    assert a == b  # every Dockerfile of the context proposes the same file
    assert "**/node_modules" not in a
    assert "services/api/node_modules" in a


def test_dockerfile_specific_ignore_file_is_the_one_completed(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "app.Dockerfile": "FROM x\nCOPY . .\n",
            "app.Dockerfile.dockerignore": "*.log\n",
            ".dockerignore": ".git\n.env\n",
            ".env": "x",
        },
    )
    _findings, changes = run(tmp_path, "app.Dockerfile")
    assert changes[0].path == tmp_path / "app.Dockerfile.dockerignore"
    assert changes[0].original == "*.log\n"


def test_existing_file_gets_git_and_env_appended_in_its_style(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "Dockerfile": "FROM x\nCOPY . .\n",
            ".dockerignore": "node_modules\r\n*.log",
            ".git/HEAD": "",
            ".env": "",
            ".env.local": "",
        },
    )
    _findings, changes = run(tmp_path)
    assert changes[0].original == "node_modules\r\n*.log"
    assert changes[0].content == (
        "node_modules\r\n*.log\r\n# Added by dockfix (DF204): keep Git history and secrets out"
        " of the build.\r\n.git\r\n**/.env\r\n**/.env.*\r\n"
    )
    write_changes(changes)
    assert run(tmp_path) == ([], [])


def test_existing_exception_is_respected(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "Dockerfile": "FROM x\nCOPY . .\n",
            ".dockerignore": "**/.env*\n!.env.example\n",
            ".env.example": "",
            ".env": "",
        },
    )
    assert run(tmp_path) == ([], [])


def test_complete_file_is_left_alone_and_fix_is_idempotent(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "Dockerfile": NODE,
            "package.json": "{}",
            ".git/HEAD": "",
            ".env": "",
            "node_modules/x": "",
        },
    )
    _, changes = run(tmp_path)
    write_changes(changes)
    assert run(tmp_path) == ([], [])


def test_invalid_existing_file_is_reported(tmp_path: Path) -> None:
    make(tmp_path, {"Dockerfile": "FROM x\nCOPY . .\n", ".dockerignore": "!\n", ".env": ""})
    findings, changes = run(tmp_path)
    assert changes == []
    assert [f.reason for f in findings] == ['.dockerignore: illegal exclusion pattern: "!"']


def test_build_arg_sources_are_display_only(tmp_path: Path) -> None:
    make(tmp_path, {"Dockerfile": "FROM x\nARG SRC=.\nCOPY ${SRC} /app\n", ".env": ""})
    findings, changes = run(tmp_path)
    assert changes == []
    assert [f.reason for f in findings] == [
        "the COPY/ADD source `${SRC}` depends on a build argument"
    ]


def test_nothing_to_exclude_means_no_finding(tmp_path: Path) -> None:
    make(tmp_path, {"Dockerfile": "FROM x\nCOPY main.go .\n", "main.go": ""})
    assert run(tmp_path) == ([], [])


def test_a_context_copied_whole_gets_the_common_leaks_before_they_exist(tmp_path: Path) -> None:
    make(tmp_path, {"Dockerfile": "FROM golang:1.23\nCOPY . .\nRUN go build .\n", "main.go": ""})
    findings, changes = run(tmp_path, unsafe=False)  # nothing the build reads goes: safe
    assert findings == []
    assert changes[0].content == (
        f"{HEADER}\n# Secrets and version control\n" + "\n".join(PREVENTIVE) + "\n"
    )
    fixed = fix_document(
        "FROM golang:1.23\nCOPY . .\n",
        [NoDockerignore()],
        FixContext(path=tmp_path / "Dockerfile", context_dir=tmp_path),
        unsafe=False,
    )
    assert fixed.applied[0].message.endswith("no .dockerignore and `COPY .` takes all of it")
    assert "nothing there yet" in fixed.applied[0].fix.description


@pytest.mark.parametrize(
    ("dockerfile", "kept"),
    [
        # a source that does not exist yet is never excluded
        ("FROM nginx\nCOPY . /srv\nCOPY tls/server.key /etc/nginx/server.key\n", ["**/*.key"]),
        ("FROM nginx\nCOPY . /srv\nCOPY tls/*.pem /etc/nginx/\n", ["**/*.pem"]),
        # a RUN that names `.env` keeps every `.env` pattern
        ("FROM node:22\nCOPY . .\nRUN cp .env.example .env\n", ["**/.env", "**/.env.*"]),
        ("FROM node:22\nCOPY .env.production .env\nCOPY . .\n", ["**/.env.*"]),
        # a build that reads Git metadata keeps .git
        (
            'FROM golang:1.23\nCOPY . .\nRUN go build -ldflags "-X main.v=$(git describe)"\n',
            [".git"],
        ),
    ],
)
def test_preventive_patterns_never_exclude_what_the_build_names(
    tmp_path: Path, dockerfile: str, kept: list[str]
) -> None:
    make(tmp_path, {"Dockerfile": dockerfile})
    assert proposed(tmp_path) == [p for p in PREVENTIVE if p not in kept]


def test_without_a_context_nothing_is_reported() -> None:
    assert dockfix.fix("FROM x\nCOPY . .\n", select=["DF204"]) == ("FROM x\nCOPY . .\n", [])


def test_off_unless_selected(tmp_path: Path) -> None:
    make(tmp_path, {"Dockerfile": "FROM x\nCOPY . .\n", ".env": ""})
    _, left = dockfix.fix("FROM x\nCOPY . .\n", path=tmp_path / "Dockerfile", unsafe_fixes=True)
    assert all(f.code != "DF204" for f in left)
    _, left = dockfix.fix("FROM x\nCOPY . .\n", path=tmp_path / "Dockerfile", select=["DF204"])
    assert [f.code for f in left] == ["DF204"]


# --- the shipped fixtures: each case's expected ignore file ---------------------------------------

CASES = sorted(p for p in (FIXTURES / "DF204-no-dockerignore").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture_ignore_file(case: Path) -> None:
    # `expected.dockerignore`: the safe fix gives it; `expected.unsafe.dockerignore`: only
    # --unsafe-fixes does (the convention of tests/test_fixtures.py)
    safe_expected = case / "expected.dockerignore"
    unsafe_expected = case / "expected.unsafe.dockerignore"
    _findings, safe_changes = run(case, unsafe=False)
    _findings, changes = run(case)
    expected = safe_expected if safe_expected.is_file() else unsafe_expected
    if not expected.is_file():
        assert changes == []
        return
    if expected is unsafe_expected:
        assert safe_changes == []
    assert len(changes) == 1
    assert changes[0].content == expected.read_bytes().decode()


# --- properties ---------------------------------------------------------------------------------

_NAMES = st.sampled_from(
    [
        ".env",
        ".env.local",
        "node_modules/a/i.js",
        "src/main.py",
        "src/.env",
        "keys/id_rsa",
        "certs/a.pem",
        "dist/app.js",
        "package.json",
        "README.md",
        "coverage/x.html",
    ]
)
_COPIES = st.sampled_from(
    [
        "COPY . .",
        "COPY src/ /src/",
        "COPY package.json .",
        "COPY certs/a.pem /c.pem",
        "COPY .env.local /app/.env",
        "COPY *.json ./",
        "RUN npm ci",
        "RUN npm run build",
        "COPY node_modules/a /a",
    ]
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.sets(_NAMES, min_size=1), st.lists(_COPIES, min_size=1, max_size=4))
def test_property_nothing_a_copy_names_is_excluded(
    tmp_path_factory: pytest.TempPathFactory, files: set[str], lines: list[str]
) -> None:
    root = tmp_path_factory.mktemp("ctx")
    dockerfile = "FROM node:20\n" + "\n".join(lines) + "\n"
    make(root, {"Dockerfile": dockerfile, **{f: "x" for f in files}})
    _findings, changes = run(root)
    if not changes:
        return
    ign = DockerIgnore.from_text(changes[0].content)
    assert not ign.excludes("Dockerfile") and not ign.excludes(".dockerignore")
    for line in lines:
        words = line.split()
        if words[0] == "COPY" and words[1] not in (".", "*.json", "src/"):
            assert not ign.excludes(words[1].rstrip("/"))
    if "COPY *.json ./" in lines and "package.json" in files:
        assert not ign.excludes("package.json")
    # A second run on the result finds nothing more.
    write_changes(changes)
    assert run(root) == ([], [])


@pytest.mark.parametrize(
    ("dockerfile", "script", "body"),
    [
        (
            "FROM golang:1.23\nWORKDIR /src\nCOPY . .\nRUN make build\n",
            "Makefile",
            "VERSION := $(shell git describe --tags --always)\nbuild:\n\tgo build .\n",
        ),
        (
            "FROM node:22\nCOPY . /app\nRUN /app/scripts/version.sh && npm ci\n",
            "scripts/version.sh",
            '#!/bin/sh\necho "$(git rev-parse --short HEAD)" > VERSION\n',
        ),
        (
            "FROM node:22\nCOPY . .\nRUN npm ci && npm run build\n",
            "package.json",
            '{"scripts": {"build": "GIT_SHA=`git rev-parse HEAD` vite build"}}',
        ),
    ],
)
def test_git_is_kept_when_a_script_the_build_runs_calls_git(
    tmp_path: Path, dockerfile: str, script: str, body: str
) -> None:
    make(tmp_path, {"Dockerfile": dockerfile, script: body, ".git/HEAD": "ref", ".env": "x"})
    assert ".git" not in proposed(tmp_path)
    make(tmp_path, {script: body.replace("git", "date")})
    assert ".git" in proposed(tmp_path)


def test_an_unsafe_fix_names_the_files_it_takes_out_of_the_build(tmp_path: Path) -> None:
    """A `.env` that `COPY . .` puts in the image today goes: the description named only the
    patterns that match nothing yet, so it did not say what made the fix unsafe."""
    src = 'FROM node:20-slim\nWORKDIR /app\nCOPY . .\nCMD ["node", "-r", "dotenv/config", "i.js"]\n'
    make(tmp_path, {"Dockerfile": src, ".env": "SECRET=1", "i.js": ""})
    out = fix_document(
        src,
        [NoDockerignore()],
        FixContext(path=tmp_path / "Dockerfile", context_dir=tmp_path),
        unsafe=True,
    )
    (applied,) = out.applied
    assert applied.fix.applicability is Applicability.UNSAFE
    description = applied.fix.description
    assert "takes `.env` out of the build context" in description, description
    assert "nothing there yet" in description
