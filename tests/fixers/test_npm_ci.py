"""DF107 npm-ci: `npm install` of a project whose lock file the COPYs put beside it → `npm ci`."""

from __future__ import annotations

from pathlib import Path

import pytest

import dockfix
from dockfix.core.fixer import Applicability, Finding

MANIFEST = '{"name": "api", "dependencies": {"express": "^4.19.2"}}\n'
LOCK = '{"name": "api", "lockfileVersion": 3, "requires": true, "packages": {}}\n'


def project(root: Path, files: dict[str, str] | None = None) -> Path:
    for rel, text in (files or {"package.json": MANIFEST, "package-lock.json": LOCK}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def fix(text: str, context: Path | None, unsafe: bool = True) -> tuple[str, list[Finding]]:
    return dockfix.fix(
        text,
        select=["DF107"],
        unsafe_fixes=unsafe,
        path=(context / "Dockerfile") if context else None,
        context_dir=context,
        offline=True,
    )


def reported(text: str, context: Path | None) -> Finding:
    (f,) = fix(text, context, unsafe=False)[1]
    return f


HEAD = "WORKDIR /app\nCOPY package.json package-lock.json ./\n"


@pytest.mark.parametrize(
    ("base", "run", "fixed"),
    [
        ("node:20-slim", "npm install", "npm ci"),
        ("node:20-slim", "npm i --no-audit --no-fund", "npm ci --no-audit --no-fund"),
        ("node:20-slim", "npm install --production", "npm ci --omit=dev"),
        ("node:22-alpine", "npm install --only=production", "npm ci --omit=dev"),
        (
            "node:hydrogen",
            "npm install --only prod --loglevel warn",
            "npm ci --omit=dev --loglevel warn",
        ),
        ("node:lts", "npm install --omit=dev", "npm ci --omit=dev"),
        # npm 6 (Node 14) ignores `--omit`, and an unknown npm may be 6: the flag stays
        ("node:14-alpine", "npm install --production", "npm ci --production"),
        ("debian:12", "npm install --only=production", "npm ci --only=production"),
        ("node:20", "cd /app && npm install", "cd /app && npm ci"),
        ("node:20", "NODE_ENV=production npm install", "NODE_ENV=production npm ci"),
    ],
)
def test_install_becomes_ci_with_the_same_dev_dependencies(
    tmp_path: Path, base: str, run: str, fixed: str
) -> None:
    ctx = project(tmp_path)
    out, left = fix(f"FROM {base}\n{HEAD}RUN {run}\n", ctx)
    assert out == f"FROM {base}\n{HEAD}RUN {fixed}\n" and left == []
    f = reported(f"FROM {base}\n{HEAD}RUN {run}\n", ctx)
    assert f.fix is not None and f.fix.applicability is Applicability.UNSAFE
    assert "/app/package-lock.json" in f.fix.description


def test_node_env_from_env_needs_no_flag_and_shrinkwrap_counts(tmp_path: Path) -> None:
    ctx = project(tmp_path, {"package.json": MANIFEST, "npm-shrinkwrap.json": LOCK})
    src = "FROM node:20\nENV NODE_ENV=production\nWORKDIR /srv\nCOPY . .\nRUN npm install\n"
    out, _ = fix(src, ctx)
    assert out == src.replace("npm install", "npm ci")
    assert "npm-shrinkwrap.json" in reported(src, ctx).fix.description  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "run",
    [
        "npm install express",
        "npm install -g pm2@5.3.1",
        "npm i --save-dev typescript@5.4.5",
        "npm ci",
        "npm run build",
        "echo npm install",
    ],
)
def test_other_npm_commands_are_left_alone(tmp_path: Path, run: str) -> None:
    ctx = project(tmp_path)
    assert fix(f"FROM node:20\n{HEAD}RUN {run}\n", ctx)[1] == []


@pytest.mark.parametrize(
    ("dockerfile", "files", "reason"),
    [
        (
            "FROM node:20\nWORKDIR /app\nCOPY package.json ./\nRUN npm install\nCOPY . .\n",
            None,
            "`package-lock.json` is in the build context but no COPY above the RUN puts it in /app",
        ),
        (
            "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\n",
            {"package.json": MANIFEST},
            "no `package-lock.json` or `npm-shrinkwrap.json` beside `package.json`",
        ),
        (
            "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\n",
            {
                "package.json": MANIFEST,
                "package-lock.json": LOCK,
                ".dockerignore": "*.json\n!package.json\n",
            },
            "excluded by `.dockerignore`",
        ),
        (
            "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install\n",
            {"package.json": MANIFEST, "package-lock.json": LOCK, ".npmrc": "package-lock=false\n"},
            "`package-lock=false`",
        ),
        (
            "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm install --no-package-lock\n",
            None,
            "never reads a lock file",
        ),
        (
            "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN cd $APP_DIR && npm install\n",
            None,
            "directory it installs in is not known",
        ),
        (
            "FROM node:20\nWORKDIR /app/services/api\nCOPY services/api/package.json ./\n"
            "RUN npm install\n",
            {
                "package.json": '{"private": true, "workspaces": ["services/*"]}',
                "package-lock.json": LOCK,
                "services/api/package.json": MANIFEST,
            },
            "`services/api/package.json` is a workspace of `package.json`, whose lock file is "
            "`package-lock.json`: install from the workspace root (the build context's root) "
            "with `npm ci --workspace services/api`",
        ),
    ],
)
def test_no_lock_in_the_image_is_reported_naming_what_was_checked(
    tmp_path: Path, dockerfile: str, files: dict[str, str] | None, reason: str
) -> None:
    ctx = project(tmp_path, files)
    f = reported(dockerfile, ctx)
    assert f.fix is None and reason in f.reason, f.reason
    assert fix(dockerfile, ctx)[0] == dockerfile


def test_without_a_build_context_nothing_is_rewritten() -> None:
    src = f"FROM node:20\n{HEAD}RUN npm install\n"
    out, (f,) = fix(src, None)
    assert out == src and f.fix is None and "no build context" in f.reason


def test_a_workspace_pattern_that_does_not_list_the_package_is_not_its_root(tmp_path: Path) -> None:
    ctx = project(
        tmp_path,
        {
            "package.json": '{"private": true, "workspaces": ["apps/*"]}',
            "package-lock.json": LOCK,
            "tools/cli/package.json": MANIFEST,
        },
    )
    src = "FROM node:20\nWORKDIR /cli\nCOPY tools/cli/package.json ./\nRUN npm install\n"
    assert "no `package-lock.json` or `npm-shrinkwrap.json` beside" in reported(src, ctx).reason


def test_a_lock_bind_mounted_from_the_context_counts(tmp_path: Path) -> None:
    ctx = project(tmp_path)
    src = (
        "FROM node:20\nWORKDIR /app\n"
        "RUN --mount=type=bind,source=package.json,target=package.json \\\n"
        "    --mount=type=bind,source=package-lock.json,target=package-lock.json \\\n"
        "    npm install --production\n"
    )
    out, _ = fix(src, ctx)
    assert out == src.replace("npm install --production", "npm ci --omit=dev")
    # mounted from another stage: not the context's lock
    other = src.replace("source=package-lock.json,", "from=deps,source=/app/package-lock.json,")
    assert reported(other, ctx).fix is None


def test_a_lock_turned_off_by_the_environment_is_not_read(tmp_path: Path) -> None:
    ctx = project(tmp_path)
    src = f"FROM node:20\nENV npm_config_package_lock=false\n{HEAD}RUN npm install\n"
    assert "`npm_config_package_lock=false`" in reported(src, ctx).reason


def test_an_old_node_image_may_have_no_npm_ci(tmp_path: Path) -> None:
    ctx = project(tmp_path)
    f = reported(f"FROM node:8-alpine\n{HEAD}RUN npm install\n", ctx)
    assert f.fix is None and "npm 5.7" in f.reason


@pytest.mark.parametrize(
    "run",
    ["n\\pm install", "'npm' install", 'RUN ["n\\u0070m", "install"]', "<<EOF\nnpm install\nEOF"],
)
def test_npm_spelled_with_escapes_quotes_or_in_a_heredoc_is_still_read(
    tmp_path: Path, run: str
) -> None:
    # the engine skips DF107 on a file naming no npm (Fixer.mentions): these all name it
    line = run if run.startswith("RUN") else f"RUN {run}"
    f = reported(f"FROM node:20-slim\n{HEAD}{line}\n", project(tmp_path))
    assert "use `npm ci`" in f.message
