"""DF101 copy-before-install: inline before/after cases per package manager, the cases that must
stay display-only (with their reasons), safe vs unsafe, file-format preservation, properties."""

from __future__ import annotations

import json
from pathlib import Path

import dockerfile  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dockfix
from dockfix.core.fixer import Applicability, Finding
from dockfix.fixers._package_managers import PACKAGE_MANAGERS, match_command, truthy
from dockfix.fixers.copy_before_install import CopyBeforeInstall
from dockfix.fixers.copy_before_install._command import (
    _glob_prefix,
    _shell_quote,
    _shell_unquote,
)
from dockfix.fixers.copy_before_install._stage import _default_home, _expand, _workdir_at
from dockfix.semantics.context import FixContext
from dockfix.syntax import parse
from hadolint_runner import hadolint_codes

Files = dict[str, str]

PKG = json.dumps({"name": "web", "version": "1.0.0", "dependencies": {"express": "^4.19.0"}})
LOCK = json.dumps({"name": "web", "lockfileVersion": 3, "packages": {}})
NODE = {"package.json": PKG, "package-lock.json": LOCK}


def context(tmp_path: Path, files: Files) -> Path:
    for rel, content in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content, encoding="utf-8", newline="")
    return tmp_path


def fix(
    tmp_path: Path, text: str, files: Files, *, unsafe: bool = False
) -> tuple[str, list[Finding]]:
    ctx = context(tmp_path, files)
    return dockfix.fix(
        text, path=ctx / "Dockerfile", context_dir=ctx, select=["DF101"], unsafe_fixes=unsafe
    )


def findings(tmp_path: Path, text: str, files: Files) -> list[Finding]:
    """DF101's findings on the input itself (with their fixes), via the fixer's check()."""
    ctx = FixContext(path=tmp_path / "Dockerfile", context_dir=context(tmp_path, files))
    return list(CopyBeforeInstall().check(parse(text), ctx))


def only(found: list[Finding]) -> Finding:
    assert len(found) == 1, found
    return found[0]


def assert_valid(tmp_path: Path, fixed: str, files: Files) -> None:
    """BuildKit's parser accepts the output, and a second run finds nothing more to fix."""
    dockerfile.parse_string(fixed)
    again, left = fix(tmp_path, fixed, files, unsafe=True)
    assert again == fixed
    assert not [f for f in left if f.fixable]


# --- pip ---------------------------------------------------------------------------------------


def test_flask_requirements(tmp_path: Path) -> None:
    src = (
        "FROM python:3.12-slim\n"
        "WORKDIR /app\n"
        "COPY . .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
        'CMD ["gunicorn", "app:app"]\n'
    )
    files = {"requirements.txt": "flask==3.0.3\n", "app.py": ""}
    out, left = fix(tmp_path, src, files)
    assert out == (
        "FROM python:3.12-slim\n"
        "WORKDIR /app\n"
        "COPY requirements.txt ./\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
        "COPY . .\n"
        'CMD ["gunicorn", "app:app"]\n'
    )
    assert left == []
    assert_valid(tmp_path, out, files)


def test_nested_requirement_and_constraint_files_land_where_they_were(tmp_path: Path) -> None:
    src = (
        "FROM python:3.12\nWORKDIR /srv\nCOPY . .\n"
        "RUN python -m pip install -r requirements/prod.txt\n"
    )
    files = {
        "requirements/prod.txt": "-r base.txt\ngunicorn==22.0.0  # server\n",
        "requirements/base.txt": "django==5.0.6 \\\n    --hash=sha256:abc\n-c ../constraints.txt\n",
        "constraints.txt": "asgiref==3.8.1\n",
    }
    out, _ = fix(tmp_path, src, files)
    assert "COPY constraints.txt ./\n" in out
    assert "COPY requirements/prod.txt requirements/base.txt ./requirements/\n" in out
    assert out.endswith("RUN python -m pip install -r requirements/prod.txt\nCOPY . .\n")
    assert_valid(tmp_path, out, files)


def test_requirements_with_an_editable_project_stay_display_only(tmp_path: Path) -> None:
    src = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
    files = {"requirements.txt": "-e .\nflask\n"}
    out, left = fix(tmp_path, src, files, unsafe=True)
    assert out == src
    assert "installs the local path `.`" in only(left).reason


def test_pip_install_dot_with_static_dependencies_is_unsafe(tmp_path: Path) -> None:
    src = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir .\n"
    files = {
        "pyproject.toml": '[project]\nname = "svc"\nversion = "1"\n'
        'dependencies = ["fastapi>=0.110", "httpx", "click>=8; python_version >= \'3.10\'"]\n'
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
    }
    safe, left = fix(tmp_path, src, files)
    assert safe == src
    assert only(left).applicability is Applicability.UNSAFE
    assert "written into the Dockerfile" in left[0].reason
    out, _ = fix(tmp_path, src, files, unsafe=True)
    assert out == (
        "FROM python:3.12-slim\nWORKDIR /app\n"
        "COPY pyproject.toml ./\n"
        "# hadolint ignore=DL3013\n"  # httpx carries no version: pinned by pyproject.toml
        "RUN pip install --no-cache-dir 'fastapi>=0.110' httpx "
        "\"click>=8; python_version >= '3.10'\"\n"
        "COPY . .\n"
        "RUN pip install --no-cache-dir .\n"
    )
    assert_valid(tmp_path, out, files)



@pytest.mark.parametrize(
    ("pragma", "merged"),
    [
        ("# hadolint ignore=DL3003", "# hadolint ignore=DL3003,DL3013"),
        ("# hadolint ignore=DL3003 # cd is fine here", "# hadolint ignore=DL3003,DL3013 # cd is fine here"),
        ("# hadolint ignore=DL3013,DL3042", "# hadolint ignore=DL3013,DL3042"),  # nothing to add
    ],
)  # fmt: skip
def test_dl3013_joins_the_hadolint_pragma_already_above_the_install(
    tmp_path: Path, pragma: str, merged: str
) -> None:
    # hadolint reads only the pragma line directly above an instruction: a second pragma line
    # would make it ignore the first, so the code joins the existing line.
    src = f"FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n{pragma}\nRUN pip install --no-cache-dir .\n"
    files = {
        "pyproject.toml": '[project]\nname = "svc"\nversion = "1"\ndependencies = ["httpx"]\n'
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
    }
    out, _ = fix(tmp_path, src, files, unsafe=True)
    assert out == (
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY pyproject.toml ./\n"
        f"{merged}\nRUN pip install --no-cache-dir httpx\n"
        f"COPY . .\n{pragma}\nRUN pip install --no-cache-dir .\n"
    )
    assert_valid(tmp_path, out, files)

def test_pip_install_editable_with_extras_from_setup_py(tmp_path: Path) -> None:
    src = 'FROM python:3.11\nWORKDIR /w\nCOPY . .\nRUN pip install -e ".[api]"\n'
    files = {
        "setup.py": "from setuptools import setup\n\nsetup(\n    name='w',\n"
        "    install_requires=['requests==2.32.3'],\n"
        "    extras_require={'api': ['flask==3.0.3'], 'dev': ['pytest']},\n)\n"
    }
    out, _ = fix(tmp_path, src, files, unsafe=True)
    assert "COPY setup.py ./\nRUN pip install requests==2.32.3 flask==3.0.3\nCOPY . .\n" in out
    assert out.endswith('RUN pip install -e ".[api]"\n')
    assert_valid(tmp_path, out, files)


@pytest.mark.parametrize(
    ("files", "why"),
    [
        (
            {"pyproject.toml": '[project]\nname="t"\nversion="1"\ndynamic=["dependencies"]\n'},
            "dynamic",
        ),
        ({"setup.py": "from setuptools import setup\nsetup(install_requires=REQS)\n"}, "literal"),
        ({"setup.py": "import setuptools\n"}, "setup() exactly once"),
        ({"pyproject.toml": '[tool.poetry]\nname="t"\n'}, "Poetry"),
    ],
)
def test_pip_install_dot_without_static_dependencies_is_display_only(
    tmp_path: Path, files: Files, why: str
) -> None:
    src = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install .\n"
    out, left = fix(tmp_path, src, files, unsafe=True)
    assert out == src
    assert why in only(left).reason
    assert left[0].fix is None


def test_pip_names_only_install_is_not_an_install_of_the_project(tmp_path: Path) -> None:
    src = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install --upgrade pip setuptools\n"
    assert fix(tmp_path, src, {"app.py": ""}) == (src, [])


def test_wheels_from_an_earlier_stage_are_not_the_project(tmp_path: Path) -> None:
    src = (
        "FROM python:3.12\nCOPY --from=build /wheels /wheels\nWORKDIR /app\nCOPY . .\n"
        "RUN pip install --no-index --find-links=/wheels -r requirements.txt\n"
    )
    out, _ = fix(tmp_path, src, {"requirements.txt": "flask\n"})
    assert "COPY requirements.txt ./\nRUN pip install --no-index" in out


def test_project_install_after_the_dependencies_goes_after_the_copy(tmp_path: Path) -> None:
    src = (
        "FROM python:3.12\nWORKDIR /app\nCOPY . .\n"
        "RUN pip install -r requirements.txt && pip install --no-deps .\n"
    )
    files = {"requirements.txt": "flask\n", "pyproject.toml": '[project]\nname="a"\n'}
    out, left = fix(tmp_path, src, files)
    assert out == (
        "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt ./\n"
        "RUN pip install -r requirements.txt\nCOPY . .\nRUN pip install --no-deps .\n"
    )
    assert left == []


def test_project_install_after_a_split_is_left_alone(tmp_path: Path) -> None:
    src = (
        "FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install -r requirements.txt\nCOPY . .\nRUN pip install .\n"
    )
    files = {"requirements.txt": "flask\n", "pyproject.toml": '[project]\nname="a"\n'}
    assert fix(tmp_path, src, files, unsafe=True) == (src, [])


# --- uv, Poetry, Pipenv --------------------------------------------------------------------------

UV_PROJECT = {
    "pyproject.toml": '[project]\nname = "svc"\nversion = "0.1.0"\ndependencies = ["httpx"]\n'
    '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n',
    "uv.lock": "version = 1\n",
    ".python-version": "3.12\n",
}


def test_uv_sync_skips_the_project_then_syncs_it_after_the_copy(tmp_path: Path) -> None:
    src = (
        "FROM ghcr.io/astral-sh/uv:python3.12-bookworm-slim\nWORKDIR /app\nCOPY . .\n"
        "RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen --no-dev\n"
        'CMD ["uv", "run", "svc"]\n'
    )
    out, left = fix(tmp_path, src, UV_PROJECT)
    assert out == (
        "FROM ghcr.io/astral-sh/uv:python3.12-bookworm-slim\nWORKDIR /app\n"
        "COPY pyproject.toml uv.lock .python-version ./\n"
        "RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen --no-dev "
        "--no-install-project\n"
        "COPY . .\n"
        "RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen --no-dev\n"
        'CMD ["uv", "run", "svc"]\n'
    )
    assert left == []
    assert_valid(tmp_path, out, UV_PROJECT)


def test_uv_virtual_project_needs_no_second_sync(tmp_path: Path) -> None:
    files = {"pyproject.toml": '[project]\nname="a"\nversion="1"\n', "uv.lock": ""}
    src = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN uv sync --locked\n"
    out, _ = fix(tmp_path, src, files)
    assert out == (
        "FROM python:3.12\nWORKDIR /app\nCOPY pyproject.toml uv.lock ./\n"
        "RUN uv sync --locked\nCOPY . .\n"
    )


def test_uv_sync_without_locked_or_frozen_is_unsafe(tmp_path: Path) -> None:
    src = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN uv sync\n"
    out, left = fix(tmp_path, src, UV_PROJECT)
    assert out == src
    assert only(left).applicability is Applicability.UNSAFE
    assert "uv.lock" in left[0].reason
    unsafe_out, _ = fix(tmp_path, src, UV_PROJECT, unsafe=True)
    assert "RUN uv sync --no-install-project\nCOPY . .\nRUN uv sync\n" in unsafe_out


def test_uv_frozen_by_environment_is_safe(tmp_path: Path) -> None:
    src = "FROM python:3.12\nENV UV_FROZEN=1\nWORKDIR /app\nCOPY . .\nRUN uv sync\n"
    found = only(findings(tmp_path, src, UV_PROJECT))
    assert found.applicability is Applicability.SAFE


def test_uv_older_than_no_install_project_is_display_only(tmp_path: Path) -> None:
    src = (
        "FROM python:3.12\nCOPY --from=ghcr.io/astral-sh/uv:0.3.0 /uv /bin/uv\nWORKDIR /app\n"
        "COPY . .\nRUN uv sync --frozen\n"
    )
    out, left = fix(tmp_path, src, UV_PROJECT, unsafe=True)
    assert out == src
    assert "predates --no-install-project" in only(left).reason


def test_uv_workspace_is_display_only(tmp_path: Path) -> None:
    files = dict(UV_PROJECT)
    files["pyproject.toml"] += '[tool.uv.workspace]\nmembers = ["packages/*"]\n'
    src = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN uv sync --frozen\n"
    out, left = fix(tmp_path, src, files, unsafe=True)
    assert out == src
    assert "uv workspace" in only(left).reason


POETRY = {
    "pyproject.toml": '[tool.poetry]\nname = "billing"\nversion = "0.1.0"\n'
    '[tool.poetry.dependencies]\npython = "^3.11"\nfastapi = "^0.111"\n',
    "poetry.lock": "# lock\n",
}


def test_poetry_gets_no_root_and_the_project_installs_after_the_copy(tmp_path: Path) -> None:
    src = (
        "FROM python:3.11\nWORKDIR /code\nCOPY . /code\n"
        "RUN poetry install --only main --no-interaction\n"
    )
    out, _ = fix(tmp_path, src, POETRY)
    assert out == (
        "FROM python:3.11\nWORKDIR /code\nCOPY pyproject.toml poetry.lock /code/\n"
        "RUN poetry install --only main --no-interaction --no-root\n"
        "COPY . /code\n"
        "RUN poetry install --only main --no-interaction\n"
    )
    assert_valid(tmp_path, out, POETRY)


def test_poetry_already_without_root_is_only_split(tmp_path: Path) -> None:
    src = "FROM python:3.11\nWORKDIR /code\nCOPY . .\nRUN poetry install --no-root\n"
    out, _ = fix(tmp_path, src, POETRY)
    assert out.endswith("RUN poetry install --no-root\nCOPY . .\n")
    assert out.count("poetry install") == 1


def test_poetry_package_mode_false_needs_no_project_install(tmp_path: Path) -> None:
    files = dict(POETRY)
    files["pyproject.toml"] = files["pyproject.toml"].replace(
        "[tool.poetry]\n", "[tool.poetry]\npackage-mode = false\n"
    )
    src = "FROM python:3.11\nWORKDIR /code\nCOPY . .\nRUN poetry install\n"
    out, _ = fix(tmp_path, src, files)
    assert out.endswith("RUN poetry install\nCOPY . .\n")


def test_poetry_path_dependency_is_display_only(tmp_path: Path) -> None:
    files = dict(POETRY)
    files["pyproject.toml"] += 'shared = { path = "../shared", develop = true }\n'
    src = "FROM python:3.11\nWORKDIR /code\nCOPY . .\nRUN poetry install\n"
    out, left = fix(tmp_path, src, files, unsafe=True)
    assert out == src
    assert "`shared` is a path dependency" in only(left).reason


def test_pipenv_deploy_is_safe_and_plain_install_is_unsafe(tmp_path: Path) -> None:
    files = {"Pipfile": '[packages]\nflask = "*"\n', "Pipfile.lock": "{}"}
    deploy = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pipenv install --system --deploy\n"
    out, _ = fix(tmp_path / "a", deploy, files)
    assert "COPY Pipfile Pipfile.lock ./\nRUN pipenv install --system --deploy\nCOPY . .\n" in out
    plain = deploy.replace(" --deploy", "")
    found = only(findings(tmp_path / "b", plain, files))
    assert found.applicability is Applicability.UNSAFE
    assert "Pipfile.lock" in found.reason


# --- JavaScript ----------------------------------------------------------------------------------


def test_npm_ci_and_build_in_one_run_is_split_at_the_and(tmp_path: Path) -> None:
    src = (
        "FROM node:20-alpine AS build\nWORKDIR /usr/src/app\n"
        "COPY --chown=node:node --chmod=644 --link . .\n"
        "RUN npm ci \\\n    && npm run build\n"
    )
    files = {**NODE, ".npmrc": "fund=false\n", "src/index.ts": ""}
    out, left = fix(tmp_path, src, files)
    assert out == (
        "FROM node:20-alpine AS build\nWORKDIR /usr/src/app\n"
        "COPY --chown=node:node --chmod=644 --link package.json package-lock.json .npmrc ./\n"
        "RUN npm ci\n"
        "COPY --chown=node:node --chmod=644 --link . .\n"
        "RUN npm run build\n"
    )
    assert left == []
    assert_valid(tmp_path, out, files)


def test_split_keeps_run_flags_and_repeats_cd_for_the_build(tmp_path: Path) -> None:
    src = (
        "FROM node:20\nWORKDIR /app\nCOPY . .\n"
        "RUN --mount=type=cache,target=/root/.npm cd web && npm ci && npm run build\n"
    )
    files = {"web/package.json": PKG, "web/package-lock.json": LOCK}
    out, _ = fix(tmp_path, src, files)
    assert out == (
        "FROM node:20\nWORKDIR /app\n"
        "COPY web/package.json web/package-lock.json ./web/\n"
        "RUN --mount=type=cache,target=/root/.npm cd web && npm ci\n"
        "COPY . .\n"
        "RUN --mount=type=cache,target=/root/.npm cd web && npm run build\n"
    )
    assert_valid(tmp_path, out, files)


def test_split_keeps_comment_lines_of_the_continuation(tmp_path: Path) -> None:
    src = (
        "FROM node:20\nWORKDIR /app\nCOPY . .\n"
        "RUN npm ci \\\n    # then the bundle\n    && npm run build\n"
    )
    out, _ = fix(tmp_path, src, NODE)
    assert "RUN npm ci\n# then the bundle\nCOPY . .\nRUN npm run build\n" in out


def test_split_only_at_and_and(tmp_path: Path) -> None:
    src = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci; npm run build\n"
    out, left = fix(tmp_path, src, NODE, unsafe=True)
    assert out == src
    assert "not joined by `&&` alone" in only(left).reason


def test_split_runs_option_off_reports_instead(tmp_path: Path) -> None:
    src = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\n"
    ctx = FixContext(context_dir=context(tmp_path, NODE))
    found = only(list(CopyBeforeInstall({"split-runs": False}).check(parse(src), ctx)))
    assert found.fix is None
    assert "split-runs is off" in found.reason


def test_npm_install_with_a_lock_file_is_unsafe(tmp_path: Path) -> None:
    src = "FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm install\n"
    safe, left = fix(tmp_path, src, NODE)
    assert safe == src
    assert only(left).applicability is Applicability.UNSAFE
    assert "package-lock.json" in left[0].reason
    out, _ = fix(tmp_path, src, NODE, unsafe=True)
    assert out.endswith("COPY package.json package-lock.json ./\nRUN npm install\nCOPY . .\n")


def test_npm_install_without_a_lock_file_is_safe(tmp_path: Path) -> None:
    src = "FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm install\n"
    out, _ = fix(tmp_path, src, {"package.json": PKG})
    assert out.endswith("COPY package.json ./\nRUN npm install\nCOPY . .\n")


@pytest.mark.parametrize(
    ("package", "extra", "why"),
    [
        ({"scripts": {"postinstall": "prisma generate"}}, {}, "`postinstall` script"),
        ({"scripts": {"prepare": "husky"}}, {}, "`prepare` script"),
        ({"workspaces": ["packages/*"]}, {}, "workspaces"),
        ({"dependencies": {"ui": "file:../ui"}}, {}, "`ui` is a local dependency"),
        ({}, {"binding.gyp": "{}"}, "binding.gyp"),
        ({}, {"node_modules/express/index.js": ""}, "contains `node_modules`"),
        ({}, {".dockerignore": "package-lock.json\n"}, "excludes package-lock.json"),
    ],
)
def test_npm_cases_that_need_more_than_the_manifests(
    tmp_path: Path, package: dict[str, object], extra: Files, why: str
) -> None:
    files = {"package.json": json.dumps({"name": "x", **package}), "package-lock.json": LOCK}
    files.update(extra)
    src = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n"
    out, left = fix(tmp_path, src, files, unsafe=True)
    assert out == src
    assert why in only(left).reason
    assert left[0].fix is None


def test_ignore_scripts_makes_lifecycle_scripts_harmless(tmp_path: Path) -> None:
    files = {
        "package.json": json.dumps({"scripts": {"postinstall": "x"}}),
        "package-lock.json": "{}",
    }
    src = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci --ignore-scripts\n"
    out, _ = fix(tmp_path, src, files)
    assert out.endswith("RUN npm ci --ignore-scripts\nCOPY . .\n")


def test_node_modules_excluded_by_dockerignore_is_fine(tmp_path: Path) -> None:
    files = {**NODE, "node_modules/x/index.js": "", ".dockerignore": "node_modules\n"}
    src = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n"
    out, _ = fix(tmp_path, src, files)
    assert out.endswith("COPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\n")


def test_npm_ci_without_a_lock_file_is_display_only(tmp_path: Path) -> None:
    src = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n"
    out, left = fix(tmp_path, src, {"package.json": PKG}, unsafe=True)
    assert out == src
    assert "needs package-lock.json" in only(left).reason


def test_npm_install_of_a_named_package_is_not_a_manifest_install(tmp_path: Path) -> None:
    src = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install -g pm2 && npm install express\n"
    assert fix(tmp_path, src, NODE, unsafe=True) == (src, [])


def test_yarn_berry_copies_its_release_and_plugins(tmp_path: Path) -> None:
    files = {
        "package.json": json.dumps({"name": "a", "packageManager": "yarn@4.3.1"}),
        "yarn.lock": "__metadata:\n  version: 8\n",
        ".yarnrc.yml": "nodeLinker: node-modules\nyarnPath: .yarn/releases/yarn-4.3.1.cjs\n"
        "plugins:\n  - path: .yarn/plugins/@yarnpkg/plugin-workspace-tools.cjs\n",
        ".yarn/releases/yarn-4.3.1.cjs": "",
        ".yarn/plugins/@yarnpkg/plugin-workspace-tools.cjs": "",
    }
    src = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN yarn install --immutable && yarn build\n"
    out, _ = fix(tmp_path, src, files)
    assert out == (
        "FROM node:20\nWORKDIR /app\n"
        "COPY package.json yarn.lock .yarnrc.yml ./\n"
        "COPY .yarn/plugins/@yarnpkg/plugin-workspace-tools.cjs ./.yarn/plugins/@yarnpkg/\n"
        "COPY .yarn/releases/yarn-4.3.1.cjs ./.yarn/releases/\n"
        "RUN yarn install --immutable\nCOPY . .\nRUN yarn build\n"
    )
    assert_valid(tmp_path, out, files)


def test_yarn_berry_without_immutable_is_unsafe(tmp_path: Path) -> None:
    files = {"package.json": "{}", "yarn.lock": "__metadata:\n", ".yarnrc.yml": "x: y\n"}
    src = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN yarn install\n"
    assert only(findings(tmp_path, src, files)).applicability is Applicability.UNSAFE


def test_yarn_classic_frozen_lockfile_with_yarn_path(tmp_path: Path) -> None:
    files = {
        "package.json": "{}",
        "yarn.lock": "# yarn lockfile v1\n",
        ".yarnrc": 'yarn-path ".yarn/releases/yarn-1.22.22.cjs"\n',
        ".yarn/releases/yarn-1.22.22.cjs": "",
    }
    src = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN yarn --frozen-lockfile\n"
    out, _ = fix(tmp_path, src, files)
    assert "COPY package.json yarn.lock .yarnrc ./\n" in out
    assert "COPY .yarn/releases/yarn-1.22.22.cjs ./.yarn/releases/\n" in out


def test_yarn_zero_install_cache_is_display_only(tmp_path: Path) -> None:
    files = {
        "package.json": "{}",
        "yarn.lock": "__metadata:\n",
        ".yarnrc.yml": "enableGlobalCache: false\n",
        ".yarn/cache/lodash.zip": "",
    }
    src = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN yarn install --immutable\n"
    out, left = fix(tmp_path, src, files, unsafe=True)
    assert out == src
    assert "zero-installs" in only(left).reason


def test_pnpm_copies_patches_and_refuses_workspaces(tmp_path: Path) -> None:
    pkg = {"name": "a", "pnpm": {"patchedDependencies": {"x@1.0.0": "patches/x@1.0.0.patch"}}}
    files = {"package.json": json.dumps(pkg), "pnpm-lock.yaml": "", "patches/x@1.0.0.patch": ""}
    src = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN pnpm install --frozen-lockfile\n"
    out, _ = fix(tmp_path / "a", src, files)
    assert "COPY package.json pnpm-lock.yaml ./\nCOPY patches/x@1.0.0.patch ./patches/\n" in out
    files["pnpm-workspace.yaml"] = "packages:\n  - apps/*\n"
    out, left = fix(tmp_path / "b", src, files, unsafe=True)
    assert out == src
    assert "pnpm-workspace.yaml lists workspace packages" in only(left).reason


def test_bun_frozen_lockfile(tmp_path: Path) -> None:
    files = {"package.json": PKG, "bun.lockb": "", "bunfig.toml": "[install]\n"}
    src = "FROM oven/bun:1\nWORKDIR /app\nCOPY . .\nRUN bun install --frozen-lockfile\n"
    out, _ = fix(tmp_path, src, files)
    assert out.endswith(
        "COPY package.json bun.lockb bunfig.toml ./\nRUN bun install --frozen-lockfile\nCOPY . .\n"
    )


# --- Go, Rust, Ruby, PHP, Java, .NET, Elixir --------------------------------------------------------

GO = {"go.mod": "module example.com/api\n\ngo 1.22\n", "go.sum": "", "main.go": ""}


def test_go_mod_download(tmp_path: Path) -> None:
    src = "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go mod download\nRUN go build -o /api .\n"
    out, _ = fix(tmp_path, src, GO)
    assert out == (
        "FROM golang:1.22\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\n"
        "COPY . .\nRUN go build -o /api .\n"
    )
    assert_valid(tmp_path, out, GO)


def test_go_split_with_a_cache_mount_is_unsafe(tmp_path: Path) -> None:
    src = (
        "FROM golang:1.22\nWORKDIR /src\nCOPY . .\n"
        "RUN --mount=type=cache,target=/go/pkg/mod go mod download && go build -o /api .\n"
    )
    found = only(findings(tmp_path, src, GO))
    assert found.applicability is Applicability.UNSAFE
    assert "cache mount" in found.reason


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ({"go.mod": "module x\nreplace example.com/lib => ../lib\n"}, "local path `../lib`"),
        ({"go.work": "go 1.22\nuse ./a\n"}, "Go workspace"),
    ],
)
def test_go_local_replacements_and_workspaces(tmp_path: Path, extra: Files, why: str) -> None:
    src = "FROM golang:1.22\nWORKDIR /src\nCOPY . .\nRUN go mod download\n"
    out, left = fix(tmp_path, src, {**GO, **extra}, unsafe=True)
    assert out == src
    assert why in only(left).reason


CARGO = {
    "Cargo.toml": '[package]\nname = "api"\nversion = "0.1.0"\nedition = "2021"\n'
    '[dependencies]\nserde = "1"\n',
    "Cargo.lock": "version = 3\n",
    "src/main.rs": "fn main() {}\n",
    "src/lib.rs": "",
}


def test_cargo_fetch_creates_the_target_files_it_needs(tmp_path: Path) -> None:
    src = "FROM rust:1.79\nWORKDIR /app\nCOPY . .\nRUN cargo fetch --locked\nRUN cargo build\n"
    out, _ = fix(tmp_path, src, CARGO)
    assert out == (
        "FROM rust:1.79\nWORKDIR /app\nCOPY Cargo.toml Cargo.lock ./\n"
        "RUN mkdir -p src && touch src/main.rs src/lib.rs && cargo fetch --locked\n"
        "COPY . .\nRUN cargo build\n"
    )
    assert_valid(tmp_path, out, CARGO)


def test_cargo_fetch_without_locked_is_unsafe(tmp_path: Path) -> None:
    src = "FROM rust:1.79\nWORKDIR /app\nCOPY . .\nRUN cargo fetch\n"
    assert only(findings(tmp_path, src, CARGO)).applicability is Applicability.UNSAFE


def test_cargo_build_alone_is_not_a_dependency_install(tmp_path: Path) -> None:
    src = "FROM rust:1.79\nWORKDIR /app\nCOPY . .\nRUN cargo build --release\n"
    assert fix(tmp_path, src, CARGO, unsafe=True) == (src, [])


def test_cargo_explicit_targets_and_workspaces_are_display_only(tmp_path: Path) -> None:
    files = dict(CARGO)
    files["Cargo.toml"] += '[[bin]]\nname = "cli"\npath = "src/bin/cli.rs"\n'
    src = "FROM rust:1.79\nWORKDIR /app\nCOPY . .\nRUN cargo fetch --locked\n"
    out, left = fix(tmp_path, src, files, unsafe=True)
    assert out == src
    assert "declares [bin] targets" in only(left).reason


GEMS = {
    "Gemfile": 'source "https://rubygems.org"\nruby file: ".ruby-version"\ngem "rails", "~> 7.1"\n',
    "Gemfile.lock": "GEM\n",
    ".ruby-version": "3.3.1\n",
}


def test_bundler_in_deployment_mode_with_bootsnap(tmp_path: Path) -> None:
    src = (
        'FROM ruby:3.3\nWORKDIR /rails\nENV BUNDLE_DEPLOYMENT="1" BUNDLE_PATH="/usr/local/bundle"\n'
        "COPY . .\n"
        'RUN bundle install && rm -rf ~/.bundle/ "${BUNDLE_PATH}"/ruby/*/cache && '
        "bundle exec bootsnap precompile --gemfile\n"
        "RUN bundle exec bootsnap precompile app/ lib/\n"
    )
    out, _ = fix(tmp_path, src, GEMS)
    assert "COPY Gemfile Gemfile.lock .ruby-version ./\nRUN bundle install && rm" in out
    assert out.endswith("--gemfile\nCOPY . .\nRUN bundle exec bootsnap precompile app/ lib/\n")
    assert_valid(tmp_path, out, GEMS)


def test_bundler_outside_frozen_mode_is_unsafe(tmp_path: Path) -> None:
    src = "FROM ruby:3.3\nWORKDIR /app\nCOPY . .\nRUN bundle install\n"
    found = only(findings(tmp_path / "a", src, GEMS))
    assert found.applicability is Applicability.UNSAFE
    frozen = src.replace(
        "RUN bundle install", "RUN bundle config set frozen true && bundle install"
    )
    assert only(findings(tmp_path / "b", frozen, GEMS)).applicability is Applicability.SAFE


@pytest.mark.parametrize(
    ("gemfile", "why"),
    [
        ('source "https://rubygems.org"\ngemspec\n', "gemspec"),
        ('gem "core", path: "engines/core"\n', "path gems"),
        ('eval_gemfile "Gemfile.local"\n', "evaluates another Gemfile"),
        ('gem "x", File.read("VERSION")\n', "reads other files"),
    ],
)
def test_gemfiles_that_read_more_files(tmp_path: Path, gemfile: str, why: str) -> None:
    src = "FROM ruby:3.3\nWORKDIR /app\nCOPY . .\nRUN bundle install --frozen\n"
    out, left = fix(tmp_path, src, {"Gemfile": gemfile, "Gemfile.lock": ""}, unsafe=True)
    assert out == src
    assert why in only(left).reason


def test_composer_scripts_plugins_and_classmaps(tmp_path: Path) -> None:
    plain = {
        "composer.json": json.dumps({"autoload": {"psr-4": {"App\\": "src/"}}}),
        "composer.lock": "{}",
    }
    src = "FROM composer:2\nWORKDIR /app\nCOPY . .\nRUN composer install --no-dev\n"
    out, _ = fix(tmp_path / "a", src, plain)
    assert out.endswith(
        "COPY composer.json composer.lock ./\nRUN composer install --no-dev\nCOPY . .\n"
    )
    risky = {
        "composer.json": json.dumps(
            {
                "scripts": {"post-autoload-dump": ["x"]},
                "autoload": {"classmap": ["database/"]},
                "config": {"allow-plugins": {"symfony/flex": True}},
            }
        ),
        "composer.lock": "{}",
    }
    out, left = fix(tmp_path / "b", src, risky, unsafe=True)
    assert out == src
    reason = only(left).reason
    assert "post-autoload-dump" in reason
    assert "classmap" in reason
    assert "plugins" in reason
    flags = src.replace("--no-dev", "--no-dev --no-scripts --no-autoloader --no-plugins")
    out, _ = fix(tmp_path / "c", flags, risky)
    assert out != flags


def test_maven_go_offline_with_wrapper_and_mvn_dir(tmp_path: Path) -> None:
    files = {
        "pom.xml": '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0'
        "</modelVersion></project>",
        "mvnw": "#!/bin/sh\n",
        ".mvn/wrapper/maven-wrapper.properties": "distributionUrl=x\n",
    }
    src = (
        "FROM eclipse-temurin:21-jdk\nWORKDIR /build\nCOPY . .\n"
        "RUN ./mvnw -B dependency:go-offline\nRUN ./mvnw -B package\n"
    )
    out, _ = fix(tmp_path, src, files)
    assert "COPY pom.xml mvnw ./\nCOPY .mvn ./.mvn/\nRUN ./mvnw -B dependency:go-offline\n" in out
    assert_valid(tmp_path, out, files)


def test_maven_multi_module_and_parent_pom_are_display_only(tmp_path: Path) -> None:
    pom = "<project><parent><artifactId>p</artifactId></parent></project>"
    files = {"svc/pom.xml": pom, "pom.xml": "<project/>"}
    src = "FROM maven:3\nWORKDIR /b\nCOPY . .\nWORKDIR /b/svc\nRUN mvn dependency:go-offline\n"
    out, left = fix(tmp_path, src, files, unsafe=True)
    assert out == src
    assert "parent POM" in only(left).reason


def test_gradle_is_always_unsafe(tmp_path: Path) -> None:
    files = {
        "build.gradle.kts": "plugins { java }\n",
        "settings.gradle.kts": 'rootProject.name="x"\n',
    }
    src = "FROM gradle:8\nWORKDIR /src\nCOPY . .\nRUN gradle dependencies --no-daemon\n"
    found = only(findings(tmp_path, src, files))
    assert found.applicability is Applicability.UNSAFE
    assert "build scripts are code" in found.reason


def test_dotnet_restore_single_project(tmp_path: Path) -> None:
    files = {
        "src/Api/Api.csproj": '<Project Sdk="Microsoft.NET.Sdk.Web"></Project>',
        "Directory.Build.props": "<Project></Project>",
        "global.json": "{}",
        "src/Api/Program.cs": "",
    }
    src = (
        "FROM mcr.microsoft.com/dotnet/sdk:8.0\nWORKDIR /repo\nCOPY . .\n"
        "RUN dotnet restore src/Api/Api.csproj\nRUN dotnet publish src/Api -o /out\n"
    )
    out, _ = fix(tmp_path, src, files)
    assert "COPY Directory.Build.props global.json ./\n" in out
    assert "COPY src/Api/Api.csproj ./src/Api/\nRUN dotnet restore src/Api/Api.csproj\n" in out
    assert_valid(tmp_path, out, files)


def test_dotnet_project_references_are_display_only(tmp_path: Path) -> None:
    files = {
        "Api.csproj": '<Project><ItemGroup><ProjectReference Include="../Lib/Lib.csproj"/>'
        "</ItemGroup></Project>"
    }
    src = "FROM mcr.microsoft.com/dotnet/sdk:8.0\nWORKDIR /s\nCOPY . .\nRUN dotnet restore\n"
    out, left = fix(tmp_path, src, files, unsafe=True)
    assert out == src
    assert "references other projects" in only(left).reason


def test_mix_deps_get_is_unsafe_without_check_locked(tmp_path: Path) -> None:
    files = {
        "mix.exs": 'defmodule A.MixProject do\n  defp deps, do: [{:jason, "~> 1.4"}]\nend\n',
        "mix.lock": "%{}\n",
    }
    src = "FROM elixir:1.16\nWORKDIR /app\nCOPY . .\nRUN mix deps.get --only prod\n"
    assert only(findings(tmp_path / "a", src, files)).applicability is Applicability.UNSAFE
    locked = src.replace("--only prod", "--only prod --check-locked")
    assert only(findings(tmp_path / "b", locked, files)).applicability is Applicability.SAFE


# --- where the copy and the install are ----------------------------------------------------------


def test_workdir_between_makes_the_moved_copy_absolute(tmp_path: Path) -> None:
    src = (
        "FROM node:20\nWORKDIR /srv\nCOPY . .\nWORKDIR /srv/frontend\nRUN npm ci && npm run build\n"
    )
    files = {"frontend/package.json": PKG, "frontend/package-lock.json": LOCK}
    out, _ = fix(tmp_path, src, files)
    assert out == (
        "FROM node:20\nWORKDIR /srv\n"
        "COPY frontend/package.json frontend/package-lock.json ./frontend/\n"
        "WORKDIR /srv/frontend\nRUN npm ci\nCOPY . /srv\nRUN npm run build\n"
    )
    assert_valid(tmp_path, out, files)


def test_destination_from_variables_keeps_its_spelling(tmp_path: Path) -> None:
    src = (
        "FROM python:3.12\nARG APP_HOME=/srv/app\nENV APP_HOME=${APP_HOME}\nWORKDIR $APP_HOME\n"
        "COPY . $APP_HOME\nRUN pip install -r requirements.txt\n"
    )
    out, _ = fix(tmp_path, src, {"requirements.txt": "flask\n"})
    assert "COPY requirements.txt $APP_HOME/\nRUN pip install -r requirements.txt\n" in out
    assert out.endswith("COPY . $APP_HOME\n")


def test_workdir_from_an_argument_without_default_still_matches_itself(tmp_path: Path) -> None:
    src = "FROM python:3.12\nARG HOME_DIR\nWORKDIR $HOME_DIR\nCOPY . .\nRUN pip install -r r.txt\n"
    out, _ = fix(tmp_path / "a", src, {"r.txt": "flask\n"})
    assert out.endswith("COPY r.txt ./\nRUN pip install -r r.txt\nCOPY . .\n")
    absolute = src.replace("-r r.txt", "-r /srv/r.txt")
    out, left = fix(tmp_path / "b", absolute, {"r.txt": "flask\n"}, unsafe=True)
    assert out == absolute
    assert "depends on the base image's WORKDIR or a build argument" in only(left).reason


def test_copy_to_a_directory_without_workdir(tmp_path: Path) -> None:
    src = "FROM node:20\nCOPY . /app\nRUN cd /app && npm ci\n"
    out, _ = fix(tmp_path, src, NODE)
    assert out == (
        "FROM node:20\nCOPY package.json package-lock.json /app/\nRUN cd /app && npm ci\n"
        "COPY . /app\n"
    )


def test_json_form_add_becomes_a_json_copy_of_the_manifests(tmp_path: Path) -> None:
    src = 'FROM node:20\nWORKDIR /srv\nADD --chown=1000 [".", "/srv/"]\nRUN ["npm", "ci"]\n'
    out, _ = fix(tmp_path, src, NODE)
    assert out == (
        "FROM node:20\nWORKDIR /srv\n"
        'COPY --chown=1000 ["package.json", "package-lock.json", "/srv/"]\n'
        'RUN ["npm", "ci"]\nADD --chown=1000 [".", "/srv/"]\n'
    )


def test_exec_form_install_that_needs_rewriting_is_display_only(tmp_path: Path) -> None:
    src = 'FROM python:3.11\nWORKDIR /c\nCOPY . .\nRUN ["poetry", "install"]\n'
    out, left = fix(tmp_path, src, POETRY, unsafe=True)
    assert out == src
    assert "exec-form" in only(left).reason


def test_system_packages_between_are_transparent(tmp_path: Path) -> None:
    src = (
        "FROM python:3.12\nWORKDIR /app\nCOPY . .\nENV PIP_NO_CACHE_DIR=1\nUSER root\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev "
        "&& rm -rf /var/lib/apt/lists/*\n"
        "RUN pip install -r requirements.txt\nRUN python manage.py collectstatic --noinput\n"
    )
    out, _ = fix(tmp_path, src, {"requirements.txt": "django\n"})
    assert out.index("COPY requirements.txt ./") < out.index("apt-get")
    assert out.index("RUN pip install") < out.index("COPY . .") < out.index("collectstatic")


def test_a_run_that_reads_the_tree_between_is_reported_only(tmp_path: Path) -> None:
    src = (
        "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN chmod +x ./entrypoint.sh\n"
        "RUN pip install -r requirements.txt\n"
    )
    out, left = fix(tmp_path, src, {"requirements.txt": "flask\n"}, unsafe=True)
    assert out == src
    assert "the RUN at line 4 (`chmod +x ./entrypoint.sh`)" in only(left).reason


def test_another_copy_between_stops_the_search(tmp_path: Path) -> None:
    src = (
        "FROM python:3.12\nWORKDIR /app\nCOPY . .\nCOPY config/prod.py app/settings.py\n"
        "RUN pip install -r requirements.txt\n"
    )
    out, left = fix(tmp_path, src, {"requirements.txt": "flask\n"}, unsafe=True)
    assert out == src
    assert "the `COPY` at line 4" in only(left).reason


def test_heredoc_and_bind_mount_runs_are_not_analysed(tmp_path: Path) -> None:
    files = {"requirements.txt": "flask\n"}
    heredoc = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN <<EOF\npip install -r requirements.txt\nEOF\n"
    assert fix(tmp_path, heredoc, files, unsafe=True) == (heredoc, [])
    bind = (
        "FROM python:3.12\nWORKDIR /app\nCOPY . .\n"
        "RUN --mount=type=bind,source=requirements.txt,target=/tmp/r.txt pip install -r /tmp/r.txt\n"
    )
    assert fix(tmp_path, bind, files, unsafe=True) == (bind, [])


def test_manifests_copied_first_is_left_alone(tmp_path: Path) -> None:
    src = (
        "FROM node:20\nWORKDIR /app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\n"
        "RUN npm run build\n"
    )
    assert fix(tmp_path, src, NODE, unsafe=True) == (src, [])


def test_already_split_project_install_is_left_alone(tmp_path: Path) -> None:
    src = (
        "FROM python:3.12\nWORKDIR /app\nCOPY pyproject.toml uv.lock ./\n"
        "RUN uv sync --frozen --no-install-project\nCOPY . .\nRUN uv sync --frozen\n"
    )
    assert fix(tmp_path, src, UV_PROJECT, unsafe=True) == (src, [])


def test_whole_tree_copies_that_are_not_candidates(tmp_path: Path) -> None:
    for copy in ("COPY --from=build . .", "COPY src/ .", "COPY . ./a ./b/", "ONBUILD COPY . ."):
        src = f"FROM python:3.12\nWORKDIR /app\n{copy}\nRUN pip install -r requirements.txt\n"
        assert fix(tmp_path, src, {"requirements.txt": "x\n"}, unsafe=True) == (src, []), copy


def test_unknown_copy_flags_are_reported(tmp_path: Path) -> None:
    src = (
        "# syntax=docker/dockerfile:1.7-labs\nFROM python:3.12\nWORKDIR /app\n"
        "COPY --exclude=*.md . .\nRUN pip install -r requirements.txt\n"
    )
    out, left = fix(tmp_path, src, {"requirements.txt": "x\n"}, unsafe=True)
    assert out == src
    assert "the copy uses --exclude" in only(left).reason


def test_no_context_on_disk_is_display_only() -> None:
    src = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
    out, left = dockfix.fix(src, select=["DF101"], unsafe_fixes=True)
    assert out == src
    assert "not on disk" in only(left).reason


def test_missing_required_manifest_is_reported(tmp_path: Path) -> None:
    src = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements/prod.txt\n"
    out, left = fix(tmp_path, src, {"app.py": ""}, unsafe=True)
    assert out == src
    assert "`requirements/prod.txt` is not in the build context" in only(left).reason


def test_a_manifest_excluded_by_dockerignore_is_reported(tmp_path: Path) -> None:
    src = "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
    files = {"requirements.txt": "x\n", ".dockerignore": "*.txt\n"}
    out, left = fix(tmp_path, src, files, unsafe=True)
    assert out == src
    assert "`.dockerignore` excludes `requirements.txt`" in only(left).reason


def test_optional_config_excluded_by_dockerignore_is_not_named(tmp_path: Path) -> None:
    files = {**NODE, ".npmrc": "//registry/:_authToken=${NPM_TOKEN}\n", ".dockerignore": ".npmrc\n"}
    src = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n"
    out, _ = fix(tmp_path, src, files)
    assert "COPY package.json package-lock.json ./\n" in out
    assert ".npmrc" not in out


def test_two_installs_in_a_row(tmp_path: Path) -> None:
    files = {"requirements.txt": "flask\n", **NODE}
    src = (
        "FROM nikolaik/python-nodejs:python3.12-nodejs20\nWORKDIR /app\nCOPY . .\n"
        "RUN pip install -r requirements.txt\nRUN npm ci\nRUN npm run build\n"
    )
    out, _ = fix(tmp_path, src, files)
    assert out == (
        "FROM nikolaik/python-nodejs:python3.12-nodejs20\nWORKDIR /app\n"
        "COPY requirements.txt package.json package-lock.json ./\n"
        "RUN pip install -r requirements.txt\nRUN npm ci\nCOPY . .\nRUN npm run build\n"
    )


def test_dl3059_guard_reports_instead_of_adding_a_lint(tmp_path: Path) -> None:
    src = (
        "FROM python:3.12\nWORKDIR /app\nCOPY . .\n"
        "RUN apt-get update && pip install -r r.txt && python -m compileall .\n"
        "RUN echo next\n"
    )
    out, left = fix(tmp_path, src, {"r.txt": "flask\n"}, unsafe=True)
    assert out == src
    assert "DL3059" in only(left).reason


# --- the file around the fix ----------------------------------------------------------------------


def test_crlf_lowercase_and_no_final_newline(tmp_path: Path) -> None:
    src = "from node:20\r\nworkdir /app\r\ncopy . .\r\nrun npm ci && npm run build"
    out, _ = fix(tmp_path, src, NODE)
    assert out == (
        "from node:20\r\nworkdir /app\r\ncopy package.json package-lock.json ./\r\n"
        "run npm ci\r\ncopy . .\r\nrun npm run build"
    )
    assert_valid(tmp_path, out, NODE)


def test_bom_and_indentation(tmp_path: Path) -> None:
    src = "\ufeffFROM node:20\nWORKDIR /app\n  COPY . .\n  RUN npm ci\n"
    out, _ = fix(tmp_path, src, NODE)
    assert out == (
        "\ufeffFROM node:20\nWORKDIR /app\n  COPY package.json package-lock.json ./\n"
        "  RUN npm ci\n  COPY . .\n"
    )


def test_pragmas_go_with_the_instructions_they_cover(tmp_path: Path) -> None:
    src = (
        "FROM python:3.12\n# the sources\n# hadolint ignore=DL3045\nCOPY . .\n"
        "# hadolint ignore=DL3042\nRUN pip install -r requirements.txt && python -m build\n"
    )
    out, _ = fix(tmp_path, src, {"requirements.txt": "x\n"})
    assert out == (
        "FROM python:3.12\n# the sources\n# hadolint ignore=DL3045\nCOPY requirements.txt ./\n"
        "# hadolint ignore=DL3042\nRUN pip install -r requirements.txt\n"
        "# hadolint ignore=DL3045\nCOPY . .\n# hadolint ignore=DL3042\nRUN python -m build\n"
    )


def test_hadolint_reports_nothing_new_on_the_rewrites(tmp_path: Path) -> None:
    src = (
        "FROM python:3.12-slim\n# hadolint ignore=DL3042\nCOPY . .\n"
        "RUN pip install -r requirements.txt && pip check\n"
    )
    before = hadolint_codes(src)
    if before is None:
        pytest.skip("hadolint is not installed")
    out, _ = fix(tmp_path, src, {"requirements.txt": "flask==3.0.3\n"})
    assert out != src
    after = hadolint_codes(out)
    assert after is not None
    assert after <= before


def test_the_finding_points_at_the_copy_and_names_the_install(tmp_path: Path) -> None:
    src = "FROM node:20\nWORKDIR /app\n\nCOPY . .\nRUN npm ci --omit=dev\n"
    found = only(findings(tmp_path, src, NODE))
    assert found.line == 4
    assert "`COPY . .` comes before `npm ci --omit=dev`" in found.message
    assert found.fix is not None
    assert "`package.json`, `package-lock.json`" in found.fix.description


def test_the_docstring_has_the_rule_page_sections() -> None:
    doc = CopyBeforeInstall.documentation()
    for heading in (
        "## What it does",
        "## Why is this bad",
        "## Example",
        "## Fix safety",
        "## Options",
        "## Resolves",
    ):
        assert heading in doc
    assert CopyBeforeInstall.resolves.hadolint == ()
    assert "split-runs" in CopyBeforeInstall.options


# --- the package-manager table and helpers --------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "manager", "install"),
    [
        (["pip", "install", "-r", "r.txt"], "pip", True),
        (["pip3.12", "install", "x"], "pip", True),
        (["python3", "-m", "pip", "wheel", "-r", "r.txt"], "pip", True),
        (["pip", "--no-cache-dir", "install", "x"], "pip", True),
        (["uv", "pip", "install", "-r", "r.txt"], "uv-pip", True),
        (["uv", "sync", "--frozen"], "uv", True),
        (["uv", "--directory", "api", "sync"], "uv", True),
        (["uv", "venv"], "uv", False),
        (["npm", "ci"], "npm", True),
        (["npm", "run", "build"], "npm", False),
        (["yarn"], "yarn", True),
        (["yarn", "--frozen-lockfile"], "yarn", True),
        (["yarn", "--cwd", "web", "install"], "yarn", True),
        (["yarn", "build"], "yarn", False),
        (["pnpm", "fetch"], "pnpm", True),
        (["bun", "i"], "bun", True),
        (["go", "mod", "download"], "go", True),
        (["go", "build", "."], "go", False),
        (["cargo", "fetch"], "cargo", True),
        (["bundle"], "bundler", True),
        (["bundle", "exec", "rake"], "bundler", False),
        (["composer", "install"], "composer", True),
        (["mvn", "-B", "dependency:go-offline"], "maven", True),
        (["./gradlew", "dependencies"], "gradle", True),
        (["dotnet", "restore"], "dotnet", True),
        (["mix", "deps.get"], "mix", True),
    ],
)
def test_match_command(argv: list[str], manager: str, install: bool) -> None:
    m = match_command(argv)
    assert m is not None
    assert m.manager.name == manager
    assert m.is_install is install


def test_match_command_ignores_other_programs() -> None:
    assert match_command(["make", "install"]) is None
    assert match_command(["python3", "-m", "venv", ".venv"]) is None
    assert match_command([]) is None


def test_the_table_is_consistent() -> None:
    for name, pm in PACKAGE_MANAGERS.items():
        assert pm.name == name
        assert pm.executables and pm.install_subcommands
        assert set(pm.frozen_subcommands) <= {s[0] for s in pm.install_subcommands if s}
        assert all(d.startswith("/") for d in pm.cache_dirs), name
        if pm.skip_project_flag is not None:
            assert pm.skip_project_flag.startswith("--")
    assert PACKAGE_MANAGERS["uv"].skip_project_flag == "--no-install-project"
    assert PACKAGE_MANAGERS["poetry"].skip_project_flag == "--no-root"
    assert truthy("1") and truthy("'true'") and not truthy("0") and not truthy(None)


def test_helpers() -> None:
    scope: dict[str, str | None] = {"A": "/srv", "E": "", "U": None}
    assert _expand("$A/x", scope) == "/srv/x"
    assert _expand("${E:-/d}", scope) == "/d"
    assert _expand("${A:+set}", scope) == "set"
    assert _expand("$U/x", scope) is None
    assert _expand("$HOME", scope) is None  # from the base image: unknown
    assert _expand("\\$A", scope) == "$A"
    assert _shell_unquote("\"${B}\"/a\\ b'c d'") == "${B}/a bc d"
    assert _glob_prefix("/usr/local/bundle/ruby/*/cache") == "/usr/local/bundle/ruby"
    assert _shell_quote("flask==3.0") == "flask==3.0"
    assert _shell_quote("a>=1") == "'a>=1'"
    assert _shell_quote("a; b == 'c'") == "\"a; b == 'c'\""
    assert _shell_quote("a'$b") is None


@pytest.mark.parametrize(
    ("lines", "workdir", "home"),
    [
        # expanded where ENV sets it: B keeps the A of that moment
        ("ENV A=1\nENV B=$A\nENV A=2\nWORKDIR /x/$B", "/x/1", "/root"),
        # a variable the file does not set, or an ARG without a default: unknown
        ("WORKDIR ${DIR:-/app}", "/.dockfix-line-2", "/root"),
        ("ARG DIR\nWORKDIR ${DIR:-/app}", "/.dockfix-line-3", "/root"),
        ("WORKDIR /a\\$b", "/a$b", "/root"),
        # a relative WORKDIR under an unknown one stays under its marker
        ("ARG D\nWORKDIR $D\nWORKDIR sub", "/.dockfix-line-3/sub", "/root"),
        # $HOME follows the USER as written
        ("ARG U=root\nUSER $U", "/.dockfix-image-workdir", None),
    ],
)
def test_stage_answers_kept(lines: str, workdir: str, home: str | None) -> None:
    """DF101's own answers where dockfix.semantics.semantic answers otherwise (see _stage's docstring)."""
    doc = parse(f"FROM alpine\n{lines}\nRUN true\n")
    stage = doc.stages[0]
    at = len(stage.instructions) - 1
    assert _workdir_at(stage, at, doc) == workdir
    assert _default_home(doc, stage, at) == home


# --- properties --------------------------------------------------------------------------------------

INSTALLS: dict[str, tuple[str, Files]] = {
    "pip": ("pip install --no-cache-dir -r requirements.txt", {"requirements.txt": "flask\n"}),
    "npm": ("npm ci", NODE),
    "go": ("go mod download", GO),
    "uv": ("uv sync --frozen", UV_PROJECT),
    "poetry": ("poetry install --no-interaction", POETRY),
    "bundler": ("bundle install --frozen", {"Gemfile": 'gem "rack"\n', "Gemfile.lock": ""}),
}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    tool=st.sampled_from(sorted(INSTALLS)),
    eol=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
    lower=st.booleans(),
    final_newline=st.booleans(),
    workdir=st.sampled_from(["", "/app", "/srv/app"]),
    dest=st.sampled_from([".", "./", "/app", "/app/"]),
    flags=st.sampled_from(["", "--chown=1000:1000 ", "--link ", "--chmod=755 --chown=app "]),
    between=st.sampled_from(
        [
            "",
            "ENV A=1",
            "USER root",
            "EXPOSE 80",
            "ARG X=1",
            "RUN apt-get update && apt-get "
            "install -y --no-install-recommends gcc=4:12.2.0-3 && rm -rf /var/lib/apt/lists/*",
        ]
    ),
    tail=st.sampled_from(["", " && echo built", " && make build", " && cd out && ls"]),
    after=st.sampled_from(["", 'CMD ["app"]', "RUN echo done", "RUN a && b"]),
    pragma=st.sampled_from(["", "# hadolint ignore=DL3045", "# hadolint ignore=DL3003,DL3042"]),
)
def test_property_rewrites_are_valid_and_idempotent(
    tmp_path_factory: pytest.TempPathFactory,
    tool: str,
    eol: str,
    bom: bool,
    lower: bool,
    final_newline: bool,
    workdir: str,
    dest: str,
    flags: str,
    between: str,
    tail: str,
    after: str,
    pragma: str,
) -> None:
    install, files = INSTALLS[tool]

    def kw(word: str) -> str:
        return word.lower() if lower else word

    lines = [f"{kw('FROM')} base:1"]
    if workdir:
        lines.append(f"{kw('WORKDIR')} {workdir}")
    if pragma:
        lines.append(pragma)
    lines.append(f"{kw('COPY')} {flags}. {dest}")
    if between:
        word, rest = between.split(" ", 1)
        lines.append(f"{kw(word)} {rest}")
    cd = "" if dest in (".", "./") else "cd /app && "
    if pragma:
        lines.append(pragma)
    lines.append(f"{kw('RUN')} {cd}{install}{tail}")
    if after:
        word, rest = after.split(" ", 1)
        lines.append(f"{kw(word)} {rest}")
    text = ("\ufeff" if bom else "") + eol.join(lines) + (eol if final_newline else "")
    tmp = tmp_path_factory.mktemp("ctx")
    out, left = fix(tmp, text, files, unsafe=True)
    assert not [f for f in left if f.fixable]
    dockerfile.parse_string(out)
    again, _ = fix(tmp, out, files, unsafe=True)
    assert again == out  # idempotent
    assert out.startswith("\ufeff") == bom
    assert out.endswith(eol) == final_newline or out == text
    if eol == "\r\n":
        assert "\n" not in out.replace("\r\n", "")
    if out == text:
        assert left and left[0].fix is None  # only a display-only finding keeps the file
        return
    before, after_fix = hadolint_codes(text), hadolint_codes(out)
    if before is not None and after_fix is not None:
        assert after_fix <= before, f"new hadolint rules: {sorted(after_fix - before)}"
    body = out.replace("\r\n", "\n")
    copy_line = f"{kw('COPY')} {flags}. "
    # The whole-tree copy now comes after the install it used to precede.
    assert body.index(install.split(" -r ")[0].split(" --")[0]) < body.index(copy_line)
    # Every original line that is not the copy or the install RUN is still there.
    for line in lines:
        if not line.startswith((kw("COPY"), kw("RUN"), "#")):
            assert line in body


MANIFESTS = [
    ("RUN npm ci", "package.json"),
    ("RUN yarn install --immutable", "package.json"),
    ("RUN pnpm install --frozen-lockfile", "package.json"),
    ("RUN uv sync --frozen", "pyproject.toml"),
    ("RUN poetry install", "pyproject.toml"),
    ("RUN pip install .", "pyproject.toml"),
    ("RUN pip install -r requirements.txt", "requirements.txt"),
    ("RUN pipenv install --deploy", "Pipfile"),
    ("RUN cargo fetch --locked", "Cargo.toml"),
    ("RUN go mod download", "go.mod"),
    ("RUN bundle install", "Gemfile"),
    ("RUN composer install", "composer.json"),
    ("RUN mvn dependency:go-offline", "pom.xml"),
    ("RUN dotnet restore", "App.csproj"),
    ("RUN mix deps.get", "mix.exs"),
    ("RUN gradle dependencies", "build.gradle"),
]


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    case=st.sampled_from(MANIFESTS),
    content=st.one_of(
        st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
        st.sampled_from(
            [
                "{}",
                "[]",
                '{"scripts": 1, "workspaces": {}}',
                "[project]\ndynamic = 3\n",
                '[project]\noptional-dependencies = ["x"]\n',
                "<project><parent/></project>",
                "[package]\n[workspace]\nmembers = 1\n",
                '{"autoload": []}',
            ]
        ),
    ),
)
def test_property_odd_manifests_never_crash(
    tmp_path_factory: pytest.TempPathFactory, case: tuple[str, str], content: str
) -> None:
    run, manifest = case
    tmp = tmp_path_factory.mktemp("odd")
    src = f"FROM base:1\nWORKDIR /app\nCOPY . .\n{run}\n"
    found = findings(tmp, src, {manifest: content, "src/main.rs": ""})
    for f in found:  # a finding always explains itself or carries a fix
        assert f.fix is not None or f.reason


def test_pnpm_fetch_takes_package_json_when_it_pins_pnpm(tmp_path: Path) -> None:
    # found on real Dockerfiles: corepack reads `packageManager` to pick the pnpm version
    (tmp_path / "package.json").write_text('{"name": "x", "packageManager": "pnpm@9.1.0"}\n')
    (tmp_path / "pnpm-lock.yaml").write_text("lockfileVersion: '9.0'\n")
    src = 'FROM node:20\nWORKDIR /app\nRUN corepack enable\nCOPY . .\nRUN pnpm fetch\nCMD ["node", "index.js"]\n'
    out, _ = dockfix.fix(src, path=tmp_path / "Dockerfile", select=["DF101"])
    assert "COPY package.json pnpm-lock.yaml ./\nRUN pnpm fetch\nCOPY . .\n" in out
