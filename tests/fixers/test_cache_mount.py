"""DF104 cache-mount: inline before/after cases, the opt-out conflicts, and properties."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dockerfile  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dockfix
from dockfix.core.engine import fix_document
from dockfix.core.fixer import Applicability, Finding
from dockfix.fixers.cache_mount import CacheMount
from dockfix.registry.image_lookup import ImageLookups, ImageQuery, LookupAnswer
from dockfix.registry.image_ref import ImageRef
from dockfix.run.config import ConfigError, load_config_file
from dockfix.semantics.context import FixContext
from hadolint_runner import hadolint_codes
from support.registry_server import OCI_IMAGE_INDEX as OCI_INDEX

PIP = "--mount=type=cache,target=/root/.cache/pip"
FRONTEND_DIGEST = "sha256:" + "5e" * 32
# What a file gets when engines older than 23.0 must build it: the frontend, pinned.
SYNTAX = f"# syntax=docker/dockerfile:1@{FRONTEND_DIGEST}\n"


def fix(text: str, unsafe: bool = True) -> tuple[str, list[Finding]]:
    return dockfix.fix(text, select=["DF104"], unsafe_fixes=unsafe)


def fix_for_old_engines(text: str, *, known: bool = True) -> tuple[str, list[Finding]]:
    """DF104 with `min-docker-engine = "20.10"`; ``known``: the run looked up the digest of
    docker/dockerfile:1 (the answer the runner hands every fixer)."""
    query = ImageQuery.digest_of(ImageRef.parse("docker/dockerfile:1"))
    answers = {query.key: LookupAnswer(FRONTEND_DIGEST, OCI_INDEX)} if known else {}
    ctx = FixContext(min_docker_engine=(20, 10), services={"image_lookups": ImageLookups(answers)})
    out = fix_document(text, [CacheMount()], ctx, unsafe=True)
    return out.fixed, out.findings


def fix_with(
    text: str, options: dict[str, Any] | None = None, context: Path | None = None
) -> tuple[str, list[Finding]]:
    ctx = FixContext(context_dir=context)
    out = fix_document(text, [CacheMount(options)], ctx, unsafe=True)
    return out.fixed, out.findings


def reasons(findings: list[Finding]) -> list[str]:
    return [f.reason for f in findings]


def assert_valid(text: str) -> None:
    dockerfile.parse_string(text)  # BuildKit's parser accepts it
    assert fix(text) == (text, [])  # idempotent


# --- the basic rewrite -----------------------------------------------------------------------


def test_pip_gets_a_mount_and_loses_no_cache_dir() -> None:
    src = (
        "FROM python:3.12-slim\n"
        "COPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
    )
    out, left = fix(src)
    assert out == (
        "FROM python:3.12-slim\nCOPY requirements.txt .\n"
        f"RUN {PIP} pip install -r requirements.txt\n"
    )
    assert left == []
    assert_valid(out)


def test_the_fix_is_unsafe() -> None:
    src = "FROM python:3.12\nRUN pip install flask\n"
    out, left = fix(src, unsafe=False)
    assert out == src
    assert [f.applicability for f in left] == [Applicability.UNSAFE]
    assert left[0].message == "pip downloads without a cache mount on /root/.cache/pip"


def test_existing_syntax_directive_is_kept() -> None:
    src = "# syntax=docker/dockerfile:1.7\nFROM python:3.12\nRUN pip install flask\n"
    out, _ = fix(src)
    assert out == f"# syntax=docker/dockerfile:1.7\nFROM python:3.12\nRUN {PIP} pip install flask\n"


def test_engines_with_run_mount_built_in_get_no_syntax_directive() -> None:
    # Docker Engine 23.0+ (the default min-docker-engine) knows RUN --mount without one.
    out, left = fix("FROM python:3.12\nRUN pip install flask\n")
    assert out == f"FROM python:3.12\nRUN {PIP} pip install flask\n"
    assert left == []


def test_older_engines_get_the_frontend_pinned_by_digest() -> None:
    out, left = fix_for_old_engines("FROM python:3.12\nRUN pip install flask\n")
    assert out == SYNTAX + f"FROM python:3.12\nRUN {PIP} pip install flask\n"
    assert left == []
    assert_valid(out)


def test_older_engines_without_the_frontend_digest_are_display_only() -> None:
    src = "FROM python:3.12\nRUN pip install flask\n"
    out, left = fix_for_old_engines(src, known=False)
    assert out == src
    assert reasons(left) == [
        "min-docker-engine is 20.10: engines before 23.0 need `# syntax=docker/dockerfile:1` "
        "for RUN --mount, and its digest is not known (the registry was not asked)"
    ]


@pytest.mark.parametrize(("value", "parsed"), [('"20.10"', (20, 10)), ("23", (23,))])
def test_min_docker_engine_setting(tmp_path: Path, value: str, parsed: tuple[int, ...]) -> None:
    config = tmp_path / "dockfix.toml"
    config.write_text(f"min-docker-engine = {value}\n")
    assert load_config_file(config).min_docker_engine == parsed
    config.write_text("min-docker-engine = 20.10\n")  # a TOML float: 20.1
    with pytest.raises(ConfigError, match="Docker Engine version"):
        load_config_file(config)


def test_syntax_goes_above_escape_and_both_stay_directives() -> None:
    src = "# escape=\\\nFROM python:3.12\nRUN pip install flask\n"
    out, _ = fix_for_old_engines(src)
    assert out.startswith(SYNTAX + "# escape=\\\n")
    assert [d.key for d in dockfix.parse(out).directives] == ["syntax", "escape"]


def test_syntax_goes_above_a_leading_comment() -> None:
    src = "# Build the API\nFROM python:3.12\nRUN pip install flask\n"
    out, _ = fix_for_old_engines(src)
    assert out.startswith(SYNTAX + "# Build the API\n")


def test_old_frontend_is_display_only() -> None:
    src = "# syntax=docker/dockerfile:1.1\nFROM python:3.12\nRUN pip install flask\n"
    out, left = fix(src)
    assert out == src
    assert reasons(left) == [
        "`# syntax=docker/dockerfile:1.1` predates RUN --mount (docker/dockerfile:1.2)"
    ]


@pytest.mark.parametrize(
    ("version", "knows_run_mount"),
    [("1.1", False), ("1.1.9", False), ("1.2", True), ("1.2.0", True), ("1.3", True), ("0.9", False), ("2", True)],
)  # fmt: skip
def test_run_mount_arrived_in_frontend_1_2(version: str, knows_run_mount: bool) -> None:
    src = f"# syntax=docker/dockerfile:{version}\nFROM python:3.12\nRUN pip install flask\n"
    out, left = fix(src)
    if knows_run_mount:
        assert (out, left) == (src.replace("RUN pip", f"RUN {PIP} pip"), [])
    else:
        assert out == src
        assert reasons(left) == [
            f"`# syntax=docker/dockerfile:{version}` predates RUN --mount (docker/dockerfile:1.2)"
        ]


@pytest.mark.parametrize(
    "frontend",
    [
        "docker/dockerfile:1.0-experimental",
        "docker/dockerfile:1.4-labs",
        "docker.io/docker/dockerfile:1",
        "docker/dockerfile",
    ],
)
def test_frontends_with_run_mount(frontend: str) -> None:
    src = f"# syntax={frontend}\nFROM python:3.12\nRUN pip install flask\n"
    out, left = fix(src)
    assert PIP in out
    assert left == []


# --- layout ----------------------------------------------------------------------------------


def test_multiline_run_gets_one_flag_per_line() -> None:
    src = (
        "FROM python:3.12\n"
        "RUN pip install \\\n"
        "    --no-cache-dir \\\n"
        "    -r requirements.txt \\\n"
        " && rm -rf /root/.cache/pip\n"
    )
    out, _ = fix(src)
    assert out == (f"FROM python:3.12\nRUN {PIP} \\\n    pip install \\\n    -r requirements.txt\n")
    assert_valid(out)


def test_flag_alone_on_the_last_line() -> None:
    out, _ = fix('FROM python:3.12\nRUN pip install -r req.txt \\\n    --no-cache-dir\nCMD ["x"]\n')
    assert out == f'FROM python:3.12\nRUN {PIP} \\\n    pip install -r req.txt\nCMD ["x"]\n'
    assert_valid(out)


def test_removal_next_to_a_comment_line_is_display_only() -> None:
    src = "FROM node:20\nRUN npm ci \\\n    # tidy up\n && npm cache clean --force\n"
    out, left = fix(src)
    assert out == src
    assert reasons(left) == ["a comment line sits next to `npm cache clean --force`"]


def test_trailing_shell_comment_stays_last() -> None:
    out, _ = fix("FROM node:20\nRUN npm ci && npm cache clean --force # deps\n")
    assert out.endswith("RUN --mount=type=cache,target=/root/.npm npm ci # deps\n")
    assert_valid(out)


def test_a_run_of_another_tool_reading_the_cache_blocks() -> None:
    src = "FROM python:3.12\nRUN pip install x\nRUN npm ci && ls /root/.cache/pip\n"
    out, left = fix(src)
    assert PIP not in out
    assert "--mount=type=cache,target=/root/.npm npm ci" in out  # npm itself is fine
    assert reasons(left) == ["line 3 touches the cache directory /root/.cache/pip"]


def test_onbuild_is_left_alone() -> None:
    src = "FROM python:3.12\nONBUILD RUN pip install -r requirements.txt\n"
    assert fix(src) == (src, [])


def test_leading_operator_style_aligns_the_command() -> None:
    src = "FROM golang:1.22\nRUN go mod download \\\n && go build -o /app .\n"
    out, _ = fix(src)
    assert out == (
        "FROM golang:1.22\n"
        "RUN --mount=type=cache,target=/go/pkg/mod \\\n"
        "    --mount=type=cache,target=/root/.cache/go-build \\\n"
        "    go mod download \\\n"
        " && go build -o /app .\n"
    )
    assert_valid(out)


def test_new_flag_goes_after_existing_flags() -> None:
    src = "FROM python:3.12\nRUN --mount=type=secret,id=netrc \\\n    pip install -r req.txt\n"
    out, _ = fix(src)
    assert out == (
        "FROM python:3.12\nRUN --mount=type=secret,id=netrc \\\n"
        f"    {PIP} \\\n"
        "    pip install -r req.txt\n"
    )


def test_comment_inside_continuation_survives() -> None:
    src = "FROM python:3.12\nRUN pip install flask \\\n    # the web server\n    gunicorn\n"
    out, _ = fix(src)
    assert out == (
        f"FROM python:3.12\n"
        f"RUN {PIP} \\\n"
        f"    pip install flask \\\n"
        f"    # the web server\n"
        f"    gunicorn\n"
    )
    assert_valid(out)


def test_crlf_bom_and_missing_final_newline_are_kept() -> None:
    src = "\ufeffFROM node:20\r\nWORKDIR /app\r\nRUN npm ci \\\r\n && npm cache clean --force"
    out, _ = fix_for_old_engines(src)
    assert out == (
        f"\ufeff{SYNTAX[:-1]}\r\nFROM node:20\r\nWORKDIR /app\r\n"
        "RUN --mount=type=cache,target=/root/.npm \\\r\n    npm ci"
    )
    assert_valid(out)


def test_lower_case_keyword() -> None:
    out, _ = fix("from python:3.12\nrun pip install flask\n")
    assert out == f"from python:3.12\nrun {PIP} pip install flask\n"


# --- where the cache is -------------------------------------------------------------------------


def test_pip_cache_dir_env_moves_the_mount() -> None:
    src = "FROM python:3.12\nENV PIP_CACHE_DIR=/var/cache/pip\nRUN pip install flask\n"
    out, _ = fix(src)
    assert "RUN --mount=type=cache,target=/var/cache/pip pip install flask" in out


def test_xdg_cache_home_and_flags() -> None:
    src = (
        "FROM python:3.12\nENV XDG_CACHE_HOME=/cache\n"
        "RUN pip install flask && pip install --cache-dir=/pc x\n"
    )
    out, _ = fix(src)
    assert "--mount=type=cache,target=/cache/pip --mount=type=cache,target=/pc pip install" in out


def test_non_root_user_with_known_uid() -> None:
    src = "FROM python:3.12\nRUN useradd -m -u 1001 app\nUSER app\nRUN pip install --user flask\n"
    out, _ = fix(src)
    assert "RUN --mount=type=cache,target=/home/app/.cache/pip,uid=1001 pip install" in out


def test_a_useradd_option_with_a_value_is_not_taken_for_the_user_s_name() -> None:
    # `-Z` (an SELinux user) takes a value, as the table DF201 reads says
    src = "FROM python:3.12\nRUN useradd -Z user_u -m -u 1001 app\nUSER app\nRUN pip install --user flask\n"
    out, _ = fix(src)
    assert "RUN --mount=type=cache,target=/home/app/.cache/pip,uid=1001 pip install" in out


def test_user_and_workdir_are_read_with_the_variables_where_they_are_written() -> None:
    # BuildKit expands USER and WORKDIR where it meets them: a later ENV of the same name does
    # not change who runs the RUN or where
    src = (
        "FROM python:3.12\nRUN useradd -m -u 1001 app\nARG WHO=app\nUSER $WHO\n"
        "ENV WHO=nobody\nRUN pip install --user flask\n"
    )
    out, _ = fix(src)
    assert "RUN --mount=type=cache,target=/home/app/.cache/pip,uid=1001 pip install" in out
    src = "FROM node:20\nENV D=/srv\nWORKDIR $D\nENV D=/tmp\nRUN npm ci --cache .npm\n"
    out, _ = fix(src)
    assert "RUN --mount=type=cache,target=/srv/.npm npm ci --cache .npm" in out


def test_numeric_user_with_home_env() -> None:
    src = "FROM node:20\nENV HOME=/home/build\nUSER 1500:1500\nRUN npm ci\n"
    out, _ = fix(src)
    assert "RUN --mount=type=cache,target=/home/build/.npm,uid=1500,gid=1500 npm ci" in out


def test_node_image_user() -> None:
    out, _ = fix("FROM node:20\nUSER node\nWORKDIR /home/node/app\nRUN npm ci\n")
    assert "--mount=type=cache,target=/home/node/.npm,uid=1000,gid=1000 npm ci" in out


def test_unknown_user_is_display_only() -> None:
    src = "FROM python:3.12\nUSER nobody\nRUN pip install --user flask\n"
    out, left = fix(src)
    assert out == src
    assert reasons(left) == ["the uid of USER nobody is unknown (a cache mount belongs to root)"]


def test_npm_cache_env_any_case() -> None:
    out, _ = fix("FROM node:20\nENV NPM_CONFIG_CACHE=/npm-cache\nRUN npm install\n")
    assert "--mount=type=cache,target=/npm-cache npm install" in out


def test_yarn_classic_as_root_and_berry_from_context(tmp_path: Path) -> None:
    src = "FROM node:20\nWORKDIR /app\nRUN yarn install --frozen-lockfile && yarn cache clean\n"
    out, _ = fix(src)
    assert (
        "RUN --mount=type=cache,target=/usr/local/share/.cache/yarn "
        "yarn install --frozen-lockfile\n" in out
    )
    (tmp_path / ".yarnrc.yml").write_text("nodeLinker: node-modules\n")
    (tmp_path / "package.json").write_text('{"packageManager": "yarn@4.5.3"}\n')
    out, _ = fix_with("FROM node:20\nWORKDIR /app\nRUN yarn install\n", context=tmp_path)
    assert "--mount=type=cache,target=/root/.yarn/berry/cache yarn install" in out


# --- which Yarn runs (issue 17) ---------------------------------------------------------------

COREPACK_YARN = (
    "FROM node:22-bookworm-slim\nWORKDIR /app\nRUN corepack enable\n"
    "COPY package.json yarn.lock .yarnrc.yml ./\nRUN yarn install {flag}\n"
)


def _project(tmp_path: Path, package_manager: str | None, rc: str | None = None) -> Path:
    pkg = '{"name": "web", "private": true%s}\n' % (
        f', "packageManager": "{package_manager}"' if package_manager else ""
    )
    (tmp_path / "package.json").write_text(pkg)
    (tmp_path / "yarn.lock").write_text("")
    if rc is not None:
        (tmp_path / ".yarnrc.yml").write_text(rc)
    return tmp_path


def test_corepack_with_yarn_1_uses_the_classic_cache(tmp_path: Path) -> None:
    _project(
        tmp_path,
        "yarn@1.22.22+sha512.a6b2f7906b721bba3d67d4aff083df04dad64c399707841b7acf00f6b133b7ac24255f2652fa22ae3534329dc6180534e98d17432037ff6fd140556e2bb3137e",
    )
    out, _ = fix_with(COREPACK_YARN.format(flag="--frozen-lockfile"), context=tmp_path)
    assert "RUN --mount=type=cache,target=/usr/local/share/.cache/yarn yarn install" in out


def test_corepack_with_yarn_4_uses_the_global_folder(tmp_path: Path) -> None:
    _project(tmp_path, "yarn@4.5.3", "nodeLinker: node-modules\n")
    src = COREPACK_YARN.format(flag="--immutable").replace(
        "WORKDIR", "ENV YARN_CACHE_FOLDER=/yarn-cache\nWORKDIR"
    )
    out, _ = fix_with(src, context=tmp_path)
    # YARN_CACHE_FOLDER moves the project cache, which Yarn 4's global cache replaces.
    assert "RUN --mount=type=cache,target=/root/.yarn/berry/cache yarn install" in out


def test_yarn_3_caches_in_the_project(tmp_path: Path) -> None:
    _project(tmp_path, None, "nodeLinker: node-modules\nyarnPath: .yarn/releases/yarn-3.8.7.cjs\n")
    out, _ = fix_with(COREPACK_YARN.format(flag="--immutable"), context=tmp_path)
    assert "RUN --mount=type=cache,target=/app/.yarn/cache yarn install" in out
    # unless the repository commits that cache (zero-install)
    (tmp_path / ".yarn" / "cache").mkdir(parents=True)
    out, left = fix_with(COREPACK_YARN.format(flag="--immutable"), context=tmp_path)
    assert "--mount" not in out
    assert "zero-install" in left[0].reason


@pytest.mark.parametrize(
    ("package_manager", "rc", "why"),
    [
        (
            None,
            None,
            "comes from package.json's `packageManager` field, and package.json names none",
        ),
        (None, "nodeLinker: node-modules\n", "which Yarn 2+ release runs is not known"),
    ],
)
def test_unknown_yarn_gets_no_mount(
    tmp_path: Path, package_manager: str | None, rc: str | None, why: str
) -> None:
    _project(tmp_path, package_manager, rc)
    src = COREPACK_YARN.format(flag="--frozen-lockfile")
    out, left = fix_with(src, context=tmp_path)
    assert out == src
    assert why in left[0].reason


def test_corepack_without_a_build_context_is_unknown() -> None:
    src = COREPACK_YARN.format(flag="--frozen-lockfile")
    out, left = fix(src)
    assert out == src
    assert "there is no package.json in the build context to read" in left[0].reason


def test_yarn_set_version_classic_after_corepack() -> None:
    src = (
        "FROM node:22\nRUN corepack enable && yarn set version classic\n"
        "WORKDIR /app\nCOPY . .\nRUN yarn install --frozen-lockfile\n"
    )
    out, _ = fix(src)
    assert "RUN --mount=type=cache,target=/usr/local/share/.cache/yarn yarn install" in out


# --- pipenv and cross-compilation wrappers (issue 17) ----------------------------------------


def test_pipenv_cache() -> None:
    src = (
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY Pipfile Pipfile.lock ./\n"
        "RUN PIP_NO_CACHE_DIR=1 pipenv install --deploy --system\n"
    )
    out, _ = fix(src)
    assert "RUN --mount=type=cache,target=/root/.cache/pipenv pipenv install --deploy" in out
    out, _ = fix(src.replace("WORKDIR", "ENV PIPENV_CACHE_DIR=/var/cache/pipenv\nWORKDIR"))
    assert "RUN --mount=type=cache,target=/var/cache/pipenv pipenv install" in out


@pytest.mark.parametrize(
    ("run", "mounts"),
    [
        ("xx-go build -o /out/app ./cmd/app", ["/go/pkg/mod", "/root/.cache/go-build"]),
    ],
)
def test_xx_go(run: str, mounts: list[str]) -> None:
    src = (
        "FROM --platform=$BUILDPLATFORM golang:1.23-alpine AS build\n"
        "COPY --from=tonistiigi/xx:1.6.1 / /\nARG TARGETPLATFORM\nWORKDIR /src\nCOPY . .\n"
        f"RUN {run}\n"
    )
    out, _ = fix(src)
    assert "RUN " + " ".join(f"--mount=type=cache,target={m}" for m in mounts) + f" {run}" in out


def test_xx_cargo_and_system_packages() -> None:
    src = (
        "FROM --platform=$BUILDPLATFORM rust:1.82-alpine AS build\n"
        "COPY --from=tonistiigi/xx:1.6.1 / /\nARG TARGETPLATFORM\n"
        "RUN xx-apk add --no-cache musl-dev gcc\nWORKDIR /src\nCOPY . .\n"
        "RUN xx-cargo build --release --target-dir ./build\n"
    )
    out, _ = fix_with(src, {"system_packages": True})
    assert (
        "RUN --mount=type=cache,target=/usr/local/cargo/registry "
        "--mount=type=cache,target=/usr/local/cargo/git/db xx-cargo build" in out
    )
    assert (
        "RUN --mount=type=cache,target=/var/cache/apk,sharing=locked "
        "ln -s /var/cache/apk /etc/apk/cache && xx-apk add --update-cache musl-dev gcc "
        "&& rm /etc/apk/cache\n" in out
    )
    assert_valid(out)


def test_yarn_clean_kept_where_hadolint_would_complain() -> None:
    src = "FROM node:20\nENV YARN_CACHE_FOLDER=/yc\nRUN yarn install && yarn cache clean\n"
    out, left = fix(src)
    assert out == src
    assert "hadolint would report DL3060" in left[0].reason


def test_pnpm_and_bun() -> None:
    out, _ = fix("FROM node:20\nENV PNPM_HOME=/pnpm\nRUN pnpm install --frozen-lockfile\n")
    assert "--mount=type=cache,target=/pnpm/store pnpm install" in out
    out, _ = fix("FROM oven/bun:1\nRUN bun install --frozen-lockfile --no-cache\n")
    assert (
        "RUN --mount=type=cache,target=/root/.bun/install/cache bun install --frozen-lockfile\n"
        in out
    )


def test_uv_gets_link_mode_copy_on_the_command() -> None:
    src = "FROM python:3.12\nRUN uv venv && uv pip install --no-cache -r req.txt\n"
    out, _ = fix(src)
    assert out == (
        "FROM python:3.12\nRUN --mount=type=cache,target=/root/.cache/uv "
        "uv venv && UV_LINK_MODE=copy uv pip install -r req.txt\n"
    )
    assert_valid(out)


def test_uv_link_mode_from_env_is_respected() -> None:
    out, _ = fix("FROM python:3.12\nENV UV_LINK_MODE=copy\nRUN uv sync --frozen\n")
    assert "RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen\n" in out
    src = "FROM python:3.12\nENV UV_LINK_MODE=symlink\nRUN uv sync --frozen\n"
    assert fix(src) == (src, [])


def test_poetry_mounts_caches_not_virtualenvs() -> None:
    src = (
        "FROM python:3.12\nENV POETRY_VIRTUALENVS_IN_PROJECT=1 POETRY_CACHE_DIR=/tmp/poetry_cache\n"
        "RUN poetry install --no-root && rm -rf $POETRY_CACHE_DIR\n"
    )
    out, _ = fix(src)
    assert out.endswith(
        "RUN --mount=type=cache,target=/tmp/poetry_cache/cache "
        "--mount=type=cache,target=/tmp/poetry_cache/artifacts poetry install --no-root\n"
    )


def test_poetry_cache_removal_with_virtualenvs_inside_is_display_only() -> None:
    src = "FROM python:3.12\nENV POETRY_CACHE_DIR=/tmp/pc\nRUN poetry install && rm -rf /tmp/pc\n"
    out, left = fix(src)
    assert out == src
    assert "deletes a directory that holds the cache" in left[0].reason


def test_go_module_download_only_needs_the_module_cache() -> None:
    src = (
        "FROM golang:1.22 AS build\n"
        "WORKDIR /src\n"
        "COPY go.* ./\n"
        "RUN go mod download\n"
        "COPY . .\n"
        "RUN go build -o /out/app .\n"
    )
    out, _ = fix(src)
    assert "RUN --mount=type=cache,target=/go/pkg/mod go mod download\n" in out
    assert (
        "RUN --mount=type=cache,target=/go/pkg/mod "
        "--mount=type=cache,target=/root/.cache/go-build go build -o /out/app .\n"
    ) in out


def test_go_outside_the_golang_image_uses_home() -> None:
    out, _ = fix("FROM debian\nENV GOCACHE=/gocache\nRUN go build ./...\n")
    assert "--mount=type=cache,target=/root/go/pkg/mod --mount=type=cache,target=/gocache go" in out


def test_arg_driven_base_image() -> None:
    src = "ARG GO=1.22\nFROM golang:${GO}-alpine\nRUN go mod download\n"
    out, _ = fix(src)
    assert "--mount=type=cache,target=/go/pkg/mod go mod download" in out


def test_cargo_registry_and_target_copied_out() -> None:
    src = (
        "FROM rust:1.80 AS build\nWORKDIR /app\nCOPY . .\n"
        "RUN cargo build --release && cp target/release/api /usr/local/bin/api\n"
        "FROM debian:bookworm-slim\nCOPY --from=build /usr/local/bin/api /api\n"
    )
    out, _ = fix(src)
    assert (
        "RUN --mount=type=cache,target=/usr/local/cargo/registry "
        "--mount=type=cache,target=/usr/local/cargo/git/db "
        "--mount=type=cache,target=/app/target cargo build --release"
    ) in out


def test_cargo_target_left_alone_when_read_later() -> None:
    src = (
        "FROM rust:1.80 AS build\nWORKDIR /app\nCOPY . .\nRUN cargo build --release\n"
        "FROM debian:bookworm-slim\nCOPY --from=build /app/target/release/api /api\n"
    )
    out, _ = fix(src)
    assert "/app/target" not in out.split("\n")[3 + 1]
    assert "--mount=type=cache,target=/usr/local/cargo/registry" in out


def test_maven_repository_not_settings() -> None:
    src = (
        "FROM maven:3-eclipse-temurin-21 AS b\n"
        "COPY pom.xml .\n"
        "RUN mvn -B dependency:go-offline\n"
        "COPY src src\n"
        "RUN mvn -B -o package\n"
    )
    out, _ = fix(src)
    assert out.count("--mount=type=cache,target=/root/.m2/repository mvn") == 2
    assert_valid(out)


def test_gradle_wrapper() -> None:
    out, _ = fix("FROM eclipse-temurin:21\nWORKDIR /w\nRUN ./gradlew build --no-daemon\n")
    assert (
        "--mount=type=cache,target=/root/.gradle/caches "
        "--mount=type=cache,target=/root/.gradle/wrapper ./gradlew build"
    ) in out


# --- apt and apk (opt-in) ---------------------------------------------------------------------


def test_apt_is_off_by_default() -> None:
    src = "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\n"
    assert fix(src) == (src, [])


def test_apt_mounts_locked_caches_and_drops_docker_clean() -> None:
    src = (
        "FROM debian:bookworm\nRUN apt-get update \\\n"
        " && apt-get install -y --no-install-recommends curl \\\n"
        " && apt-get clean \\\n"
        " && rm -rf /var/lib/apt/lists/*\n"
    )
    out, left = fix_with(src, {"system_packages": True})
    assert out == (
        "FROM debian:bookworm\n"
        "RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \\\n"
        "    --mount=type=cache,target=/var/lib/apt,sharing=locked \\\n"
        "    rm -f /etc/apt/apt.conf.d/docker-clean && apt-get update \\\n"
        " && apt-get install -y --no-install-recommends curl\n"
    )
    assert left == []
    dockerfile.parse_string(out)


def test_docker_clean_goes_once_per_image() -> None:
    src = (
        "FROM debian:bookworm AS base\nRUN apt-get update && apt-get install -y curl\n"
        "FROM base\nRUN apt-get update && apt-get install -y git\n"
        "FROM debian:bookworm\nRUN apt-get update && apt-get install -y jq\n"
    )
    out, left = fix_with(src, {"system_packages": True})
    assert left == []
    assert out.count("rm -f /etc/apt/apt.conf.d/docker-clean && ") == 2  # base and the last image
    assert "docker-clean && apt-get update && apt-get install -y git" not in out


def test_apk_links_the_cache_for_the_run_only() -> None:
    src = "FROM alpine:3.20\nRUN apk add --no-cache curl\n"
    out, left = fix_with(src, {"system_packages": True})
    assert out == (
        "FROM alpine:3.20\nRUN --mount=type=cache,target=/var/cache/apk,sharing=locked "
        "ln -s /var/cache/apk /etc/apk/cache && apk add --update-cache curl && rm /etc/apk/cache\n"
    )
    assert left == []


def test_options_turn_tools_off() -> None:
    src = "FROM python:3.12\nRUN pip install flask\n"
    assert fix_with(src, {"python": False}) == (src, [])


# --- opt-outs ------------------------------------------------------------------------------------


def test_stage_wide_opt_out_is_respected() -> None:
    src = "FROM python:3.12\nENV PIP_NO_CACHE_DIR=1\nRUN pip install flask\n"
    assert fix(src) == (src, [])


def test_inline_opt_out_is_removed() -> None:
    out, _ = fix("FROM python:3.12\nRUN PIP_NO_CACHE_DIR=1 pip install flask\n")
    assert out.endswith(f"RUN {PIP} pip install flask\n")


def test_moved_pip_cache_keeps_no_cache_dir() -> None:
    src = "FROM python:3.12\nENV PIP_CACHE_DIR=/pipc\nRUN pip install --no-cache-dir flask\n"
    out, left = fix(src)
    assert out == src
    assert left[0].reason == (
        "the cache is at /pipc: without the opt-out hadolint would report DL3042, "
        "which only accepts a mount on …/.cache/pip"
    )


def test_existing_mount_with_opt_out_is_a_safe_fix() -> None:
    src = f"FROM python:3.12\nRUN {PIP} \\\n    pip install --no-cache-dir -r req.txt\n"
    out, left = fix(src, unsafe=False)
    assert out == f"FROM python:3.12\nRUN {PIP} \\\n    pip install -r req.txt\n"
    assert left == []


def test_tmpfs_or_bind_mount_there_is_the_users_choice() -> None:
    src = (
        "FROM python:3.12\n"
        "RUN --mount=type=tmpfs,target=/root/.cache pip install --no-cache-dir x\n"
    )
    assert fix(src) == (src, [])


def test_rm_of_a_parent_directory_is_display_only() -> None:
    src = "FROM python:3.12\nRUN pip install x && rm -rf /root/.cache\n"
    out, left = fix(src)
    assert out == src
    assert reasons(left) == [
        "`rm -rf /root/.cache` deletes a directory that holds the cache"
        " (a mount point cannot be removed)"
    ]


def test_rm_with_other_paths_keeps_them() -> None:
    out, _ = fix("FROM python:3.12\nRUN pip install x && rm -rf /tmp/* ~/.cache/pip /var/tmp/*\n")
    assert out.endswith(f"RUN {PIP} pip install x && rm -rf /tmp/* /var/tmp/*\n")


def test_clean_up_in_an_or_chain_is_display_only() -> None:
    src = "FROM node:20\nRUN npm ci || npm cache clean --force\n"
    out, left = fix(src)
    assert out == src
    assert reasons(left) == ["`npm cache clean --force` is joined with `;`, `||` or `&`"]


def test_comment_explaining_the_choice() -> None:
    src = (
        "FROM python:3.12\n"
        "# no pip cache: the private index re-publishes versions\n"
        "RUN pip install --no-cache-dir x\n"
    )
    out, left = fix(src)
    assert out == src
    assert reasons(left) == ["a comment at this RUN explains its cache choice"]


def test_heredoc_script_gets_a_mount_but_is_not_edited() -> None:
    src = "FROM python:3.12\nRUN <<EOF\nset -e\npip install flask\nEOF\n"
    out, _ = fix(src)
    assert out == f"FROM python:3.12\nRUN {PIP} <<EOF\nset -e\npip install flask\nEOF\n"
    assert_valid(out)
    src = "FROM python:3.12\nRUN <<EOF\npip install --no-cache-dir flask\nEOF\n"
    out, left = fix(src)
    assert out == src
    assert reasons(left) == ["the opt-out is inside a heredoc script, which is not edited"]


def test_python_heredoc_is_not_read() -> None:
    src = "FROM python:3.12\nRUN <<EOF\n#!/usr/bin/env python3\nimport os\nEOF\n"
    assert fix(src) == (src, [])


# --- consistency across RUNs and stages ------------------------------------------------


def test_exec_form_run_blocks_the_tree() -> None:
    src = 'FROM maven:3 AS b\nRUN mvn -B dependency:go-offline\nRUN ["mvn", "-o", "package"]\n'
    out, left = fix(src)
    assert out == src
    assert reasons(left) == ["the exec-form RUN on line 3 runs maven"]


def test_stage_built_from_another_shares_the_tree() -> None:
    src = (
        "FROM python:3.12 AS base\n"
        "RUN pip install x\n"
        "FROM base\n"
        "USER nobody\n"
        "RUN pip install --user y\n"
    )
    out, left = fix(src)
    assert out == src
    assert {f.line for f in left} == {2, 5}


def test_unrelated_stage_trees_are_independent() -> None:
    src = (
        "FROM python:3.12 AS a\n"
        "RUN pip install x\n"
        "FROM python:3.12\n"
        "USER nobody\n"
        "RUN pip install --user y\n"
    )
    out, left = fix(src)
    assert f"RUN {PIP} pip install x" in out
    assert [f.line for f in left] == [5]


def test_copy_from_the_cache_blocks() -> None:
    src = (
        "FROM maven:3 AS deps\nRUN mvn dependency:go-offline\n"
        "FROM maven:3\nCOPY --from=deps /root/.m2 /root/.m2\nRUN mvn -o package\n"
    )
    out, left = fix(src)
    assert out == src
    assert [(f.line, f.reason) for f in left] == [
        (2, "line 4 touches the cache directory /root/.m2/repository"),
        (5, "line 4 touches the cache directory /root/.m2/repository"),
    ]


def test_copy_into_a_parent_of_the_cache_from_the_context(tmp_path: Path) -> None:
    (tmp_path / "m2" / "repository").mkdir(parents=True)
    src = "FROM maven:3\nCOPY m2 /root/.m2\nRUN mvn -o package\n"
    out, left = fix_with(src, context=tmp_path)
    assert out == src
    assert reasons(left) == ["line 2 touches the cache directory /root/.m2/repository"]
    (tmp_path / "m2" / "repository").rmdir()
    out, left = fix_with(src, context=tmp_path)
    assert "--mount=type=cache,target=/root/.m2/repository mvn -o package" in out


def test_another_command_reading_the_cache_blocks() -> None:
    src = "FROM python:3.12\nRUN pip install x && du -sh /root/.cache/pip\n"
    out, left = fix(src)
    assert out == src
    assert reasons(left) == ["`du -sh /root/.cache/pip` uses the cache directory /root/.cache/pip"]


def test_suppression_blocks_the_tree() -> None:
    src = "FROM python:3.12\n# dockfix ignore=DF104\nRUN pip install x\nRUN pip install y\n"
    out, left = fix(src)
    assert out == src
    assert reasons(left) == ["the RUN on line 3 is suppressed"]


def test_all_runs_of_a_tree_are_fixed_together() -> None:
    src = "FROM python:3.12\nRUN pip install -U pip\nRUN pip install -r req.txt\n"
    out, _ = fix(src)
    assert out.count(PIP) == 2


def test_windows_and_exec_form_are_skipped() -> None:
    src = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN pip install flask\n"
    assert fix(src) == (src, [])
    src = 'FROM python:3.12\nRUN ["pip", "install", "flask"]\n'
    assert fix(src) == (src, [])
    src = 'FROM python:3.12\nSHELL ["pwsh", "-c"]\nRUN pip install flask\n'
    assert fix(src) == (src, [])


def test_run_without_a_package_manager_is_left_alone() -> None:
    src = "FROM python:3.12\nRUN python -m compileall /app && pip --version && yarn build\n"
    assert fix(src) == (src, [])


# --- hadolint and BuildKit agree with the outputs --------------------------------------

HADOLINT_CASES = [
    "FROM python:3.12-slim\nRUN pip install --no-cache-dir flask==3.0.0\n",
    "FROM node:20\nRUN yarn install --frozen-lockfile && yarn cache clean\n",
    "FROM node:20\nRUN npm ci && npm cache clean --force\n",
    "FROM python:3.12\n"
    "RUN useradd -m -u 1001 app\n"
    "USER app\n"
    "RUN pip install --user --no-cache-dir x==1\n",
]


@pytest.mark.parametrize("src", HADOLINT_CASES)
def test_hadolint_reports_nothing_new(src: str) -> None:
    before = hadolint_codes(src)
    if before is None:
        pytest.skip("hadolint is not installed")
    out, _ = fix(src)
    assert out != src
    after = hadolint_codes(out)
    assert after is not None and after <= before, sorted((after or set()) - before)


@pytest.mark.parametrize(
    ("src", "options"),
    [
        (
            "FROM debian:bookworm-slim\n"
            "RUN apt-get update && apt-get install -y --no-install-recommends "
            "curl=7.88.1-10 && rm -rf /var/lib/apt/lists/*\n",
            {"system_packages": True},
        ),
        ("FROM alpine:3.20\nRUN apk add --no-cache curl=8.9.1-r0\n", {"system_packages": True}),
    ],
)
def test_hadolint_system_packages(src: str, options: dict[str, Any]) -> None:
    before = hadolint_codes(src)
    if before is None:
        pytest.skip("hadolint is not installed")
    out, _ = fix_with(src, options)
    assert out != src
    after = hadolint_codes(out)
    assert after is not None and after <= before, sorted((after or set()) - before)


_COMMANDS = st.sampled_from(
    [
        "pip install flask",
        "pip install --no-cache-dir -r requirements.txt",
        "python -m pip install -U pip",
        "npm ci",
        "npm ci && npm cache clean --force",
        "go build -o /app .",
        "cargo fetch",
        "mvn -B package",
        "echo done",
        "rm -rf /tmp/*",
    ]
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(_COMMANDS, min_size=1, max_size=4),
    st.sampled_from([" && ", " \\\n && ", " && \\\n    "]),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
)
def test_property_outputs_parse_and_are_stable(
    commands: list[str], joiner: str, eol: str, bom: bool
) -> None:
    src = "FROM python:3.12\nRUN " + joiner.join(commands) + "\n"
    src = ("\ufeff" if bom else "") + src.replace("\n", eol)
    out, left = fix(src)
    dockerfile.parse_string(out)
    assert fix(out) == (out, left)  # idempotent, same findings left
    assert out.startswith("\ufeff") == bom
    if eol == "\r\n":
        assert "\n" not in out.replace("\r\n", "")
    if out != src:
        assert "--mount=type=cache" in out
        assert "--no-cache-dir" not in out and "npm cache clean" not in out
    # Untouched commands are still there, in order.
    pos = 0
    for c in (c for c in commands if c in ("echo done", "rm -rf /tmp/*")):
        pos = out.find(c, pos)
        assert pos >= 0
        pos += len(c)


# --- found on real Dockerfiles --------------------------------------------------------------


def test_yarn_plug_n_play_keeps_its_cache_in_the_image(tmp_path: Path) -> None:
    (tmp_path / ".yarnrc.yml").write_text("yarnPath: .yarn/releases/yarn-4.1.0.cjs\n")
    (tmp_path / "package.json").write_text("{}\n")
    (tmp_path / "yarn.lock").write_text("")
    src = 'FROM node:20\nWORKDIR /app\nCOPY . .\nRUN yarn install --immutable\nCMD ["yarn", "start"]\n'
    out, left = dockfix.fix(src, path=tmp_path / "Dockerfile", select=["DF104"], unsafe_fixes=True)
    assert out == src and "Plug'n'Play" in left[0].reason
    (tmp_path / ".yarnrc.yml").write_text(
        "nodeLinker: node-modules\nyarnPath: .yarn/releases/yarn-4.1.0.cjs\n"
    )
    out, _ = dockfix.fix(src, path=tmp_path / "Dockerfile", select=["DF104"], unsafe_fixes=True)
    assert "--mount=type=cache" in out


def test_a_tool_run_at_container_start_keeps_its_store() -> None:
    src = (
        "FROM golang:1.22\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\n"
        'COPY . .\nCMD ["go", "test", "./..."]\n'
    )
    out, left = dockfix.fix(src, select=["DF104"], unsafe_fixes=True)
    assert out == src and "when the container starts" in left[0].reason


def test_images_built_on_the_rust_image_keep_its_cargo_home() -> None:
    src = "FROM lukemathwalker/cargo-chef:latest-rust-1 AS chef\nWORKDIR /app\nCOPY . .\nRUN cargo build --release\n"
    out, _ = dockfix.fix(src, select=["DF104"], unsafe_fixes=True)
    assert "target=/usr/local/cargo/registry" in out and "/root/.cargo" not in out


def test_every_tool_matcher_names_a_known_program() -> None:
    """tool_for() rules out other programs before asking the matchers: each tool's own
    programs must be among those it lets through."""
    from dockfix.fixers._cache_dirs import TOOLS, tool_for
    from dockfix.semantics.shell import parse_shell

    samples = {
        "pip": ["pip install x", "python3 -m pip install x", "/usr/bin/pip3.12 install x"],
        "uv": ["uv pip install x", "uv sync"],
        "pipenv": ["pipenv install --deploy", "pipenv sync"],
        "poetry": ["poetry install"],
        "npm": ["npm ci", "sudo npm ci"],
        "yarn": ["yarn install"],
        "pnpm": ["pnpm install"],
        "bun": ["bun install"],
        "go": ["go build ./...", "go mod download", "xx-go build ./..."],
        "cargo": ["cargo build --release", "xx-cargo build --release"],
        "maven": ["mvn package", "./mvnw package"],
        "gradle": ["gradle build", "./gradlew build"],
        "apt": ["apt-get install -y curl", "apt install curl", "xx-apt-get install -y gcc"],
        "apk": ["apk add curl", "xx-apk add musl-dev"],
    }
    assert {t.name for t in TOOLS} == set(samples)
    for tool in TOOLS:
        for line in samples[tool.name]:
            (cmd,) = parse_shell(line).commands
            found = tool_for(cmd, lambda t: True)
            assert found is not None and found.name == tool.name, line
    (other,) = parse_shell("cp -r pip npm /dst").commands
    assert tool_for(other, lambda t: True) is None


# ------------------------------------------------------------------------------- lines it writes
_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "DF104-cache-mount"


@pytest.mark.parametrize("min_engine", [None, "20.10"])
def test_fix_then_check_finds_nothing_on_a_line_dockfix_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, min_engine: str | None
) -> None:
    """Every DF104 fixture through `fix --write`, then `check`: DF202 reports nothing it did
    not report before (the `# syntax=` line DF104 wrote used to be an unpinned image)."""
    import shutil

    from dockfix.registry.digest_cache import DigestCache
    from dockfix.run.runner import RunOptions, process_paths

    cache = DigestCache(tmp_path / "digests.json")
    # docker/dockerfile:1 as a run that reached Docker Hub cached it (this test is offline).
    cache.put("registry-1.docker.io/docker/dockerfile:1", FRONTEND_DIGEST, OCI_INDEX)
    cache.save()
    monkeypatch.setenv("DOCKFIX_DIGEST_CACHE", str(cache.path))
    repo = tmp_path / "repo"
    shutil.copytree(_FIXTURES, repo, ignore=shutil.ignore_patterns("expected*"))
    if min_engine is not None:
        (repo / "dockfix.toml").write_text(f'min-docker-engine = "{min_engine}"\n')
    paths = sorted(str(p) for p in repo.glob("*/Dockerfile"))

    def pin_findings() -> dict[str, list[str]]:
        opts = RunOptions(select=("DF202",), offline=True, apply_fixes=False)
        return {
            r.path: [f.message for f in r.outcome.findings]
            for r in process_paths(paths, opts, jobs=1)
            if r.outcome is not None
        }

    before = pin_findings()
    fix_opts = RunOptions(select=("DF104",), offline=True, unsafe_fixes=True)
    changed = []
    for report in process_paths(paths, fix_opts, jobs=1):
        assert report.outcome is not None and report.error is None
        if report.outcome.fixed != report.outcome.original:
            Path(report.path).write_text(report.outcome.fixed, encoding="utf-8", newline="")
            changed.append(report)
    assert len(changed) == 10
    assert pin_findings() == before
    outcomes = [r.outcome for r in changed if r.outcome is not None]
    added = [o for o in outcomes if "# syntax=" not in o.original]
    assert len(added) == 8
    for outcome in added:
        fixed = outcome.fixed.lstrip("\ufeff")
        if min_engine is None:
            assert "# syntax=" not in fixed
        else:
            assert fixed.startswith(SYNTAX[:-1])


@pytest.mark.parametrize("command", ["yarn --version", "yarn -v", "yarn --help"])
def test_yarn_asked_its_version_downloads_nothing(command: str) -> None:
    # review-rw: the node image's smoke test `yarn --version` was given a Yarn cache mount
    src = f"FROM node:20\nRUN {command}\n"
    assert fix(src) == (src, [])
    installs = "FROM node:20\nCOPY package.json yarn.lock ./\nRUN yarn\n"
    assert fix(installs)[0] != installs  # a bare `yarn` installs


def test_the_fixer_survives_the_trip_to_a_worker_process() -> None:
    """A run with worker processes pickles its fixers: what DF104 keeps for its options (the
    pattern that finds the enabled tools' programs) must come back usable."""
    import pickle

    text = "FROM python:3.12\nRUN pip install flask\n"
    for options in ({}, {"node": False}, {"system_packages": True}):
        fixer = pickle.loads(pickle.dumps(CacheMount(options)))
        out = fix_document(text, [fixer], FixContext(), unsafe=True)
        assert [f.code for f in out.applied] == ["DF104"], options
