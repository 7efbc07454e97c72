"""Where the Python and Node package managers cache (pip, uv, pipenv, Poetry, npm, Yarn, pnpm,
Bun): their rows of DF104's tool table, the commands that fill each cache and how its directory
follows from the RUN's user, variables and the command's own flags (see ``_cache_dirs``)."""

from __future__ import annotations

import posixpath

from dockfix.fixers._cache_tool import (
    RunEnv,
    Tool,
    cache_columns,
    non_option_words,
    option_value,
)
from dockfix.fixers._package_managers import PIP_PROGRAM, PYTHON_PROGRAM, truthy

_PIP_VALUE_OPTS = frozenset(
    {
        "--cache-dir",
        "--log",
        "--proxy",
        "--retries",
        "--timeout",
        "--exists-action",
        "--trusted-host",
        "--cert",
        "--client-cert",
        "--python",
        "--root-user-action",
        "-r",
        "--requirement",
        "-c",
        "--constraint",
        "-e",
        "--editable",
        "-t",
        "--target",
        "-i",
        "--index-url",
        "--extra-index-url",
        "-f",
        "--find-links",
        "--prefix",
        "--root",
        "--src",
        "--platform",
        "--python-version",
        "--implementation",
        "--abi",
        "--upgrade-strategy",
        "--progress-bar",
        "--report",
        "-d",
        "--dest",
        "-w",
        "--wheel-dir",
        "--config-settings",
        "-C",
        "--global-option",
        "--no-binary",
        "--only-binary",
    }
)


def _pip_argv(argv: list[str]) -> list[str] | None:
    """argv of a pip invocation (``python -m pip`` normalised to ``pip``), else None."""
    if argv and PIP_PROGRAM.match(argv[0]):
        return argv
    if len(argv) >= 3 and PYTHON_PROGRAM.match(argv[0]) and argv[1] == "-m" and argv[2] == "pip":
        return ["pip", *argv[3:]]
    return None


def _pip_matches(argv: list[str]) -> bool:
    p = _pip_argv(argv)
    return p is not None and non_option_words(p, _PIP_VALUE_OPTS)[:1] in (
        ["install"],
        ["download"],
        ["wheel"],
    )


def _pip_targets(argv: list[str], env: RunEnv) -> tuple[str, ...] | str:
    p = _pip_argv(argv) or argv
    explicit = option_value(p, "--cache-dir") or env.var("PIP_CACHE_DIR")
    if explicit:
        return (env.path(explicit),)
    return (posixpath.join(env.xdg_cache(), "pip"),)


def _uv_matches(argv: list[str]) -> bool:
    if argv[:1] != ["uv"]:
        return False
    sub = non_option_words(
        argv,
        frozenset(
            {
                "--cache-dir",
                "--python",
                "-p",
                "--directory",
                "--project",
                "--index-url",
                "--extra-index-url",
                "-r",
                "--requirement",
                "-c",
                "--constraint",
                "--package",
                "--group",
                "--extra",
                "--config-file",
                "--color",
                "--target",
                "--prefix",
            }
        ),
    )
    return sub[:1] in (["sync"], ["add"], ["lock"]) or sub[:2] in (
        ["pip", "install"],
        ["pip", "sync"],
        ["pip", "compile"],
        ["tool", "install"],
    )


def _uv_targets(argv: list[str], env: RunEnv) -> tuple[str, ...] | str:
    explicit = option_value(argv, "--cache-dir") or env.var("UV_CACHE_DIR")
    if explicit:
        return (env.path(explicit),)
    return (posixpath.join(env.xdg_cache(), "uv"),)


def _pipenv_matches(argv: list[str]) -> bool:
    return argv[:1] == ["pipenv"] and non_option_words(
        argv, frozenset({"--python", "--pypi-mirror", "-r", "--requirements", "--categories"})
    )[:1] in (["install"], ["sync"], ["update"], ["upgrade"], ["lock"])


def _pipenv_targets(argv: list[str], env: RunEnv) -> tuple[str, ...] | str:
    explicit = env.var("PIPENV_CACHE_DIR")
    if explicit:
        return (env.path(explicit),)
    return (posixpath.join(env.xdg_cache(), "pipenv"),)


def _poetry_matches(argv: list[str]) -> bool:
    return argv[:1] == ["poetry"] and non_option_words(
        argv, frozenset({"--directory", "-C", "-P", "--project"})
    )[:1] in (["install"], ["add"], ["update"], ["lock"], ["sync"])


def _poetry_targets(argv: list[str], env: RunEnv) -> tuple[str, ...] | str:
    root = env.var("POETRY_CACHE_DIR")
    base = env.path(root) if root else posixpath.join(env.xdg_cache(), "pypoetry")
    # Poetry creates virtualenvs under the cache directory too: mount only the caches.
    return (posixpath.join(base, "cache"), posixpath.join(base, "artifacts"))


_NPM_SUBS = frozenset(
    {
        "install",
        "i",
        "ci",
        "add",
        "update",
        "up",
        "upgrade",
        "install-ci-test",
        "install-test",
        "it",
        "cit",
        "isntall",
        "in",
    }
)


def _npm_matches(argv: list[str]) -> bool:
    return argv[:1] == ["npm"] and non_option_words(
        argv,
        frozenset(
            {"--cache", "--prefix", "-C", "--registry", "-w", "--workspace", "--omit", "--include"}
        ),
    )[:1] in [[s] for s in _NPM_SUBS]


def _npm_targets(argv: list[str], env: RunEnv) -> tuple[str, ...] | str:
    explicit = option_value(argv, "--cache") or env.var_any_case("npm_config_cache")
    return (env.path(explicit or "~/.npm"),)


_YARN_NO_INSTALL = frozenset({"--version", "-v", "--help", "-h"})


def _yarn_matches(argv: list[str]) -> bool:
    if argv[:1] != ["yarn"]:
        return False
    sub = non_option_words(
        argv,
        frozenset(
            {
                "--cache-folder",
                "--cwd",
                "--modules-folder",
                "--network-timeout",
                "--registry",
                "--mutex",
            }
        ),
    )
    if not sub and any(a in _YARN_NO_INSTALL for a in argv[1:]):
        return False  # `yarn --version`: a bare `yarn` installs, this prints and stops
    return sub[:1] in ([], ["install"], ["add"], ["upgrade"], ["up"])



def _yarn_targets(argv: list[str], env: RunEnv) -> tuple[str, ...] | str:
    flag = option_value(argv, "--cache-folder")  # Yarn 1 only
    if flag:
        return (env.path(flag),)
    if env.yarn_unknown:
        return env.yarn_unknown
    if not env.yarn_berry and "--immutable" not in argv:
        explicit = env.var("YARN_CACHE_FOLDER")
        if explicit:
            return (env.path(explicit),)
        if env.uid == 0:
            return ("/usr/local/share/.cache/yarn",)
        return (posixpath.join(env.xdg_cache(), "yarn"),)
    setting = env.var("YARN_ENABLE_GLOBAL_CACHE")
    global_cache = truthy(setting) if setting is not None else env.yarn_global_cache
    if global_cache is None:
        return (
            "which Yarn 2+ release runs is not known (no `packageManager` in package.json, no "
            "`yarnPath` or `enableGlobalCache` in .yarnrc.yml): Yarn 2 and 3 cache in the "
            "project's .yarn/cache, Yarn 4 in ~/.yarn/berry/cache"
        )
    if global_cache:
        # YARN_CACHE_FOLDER moves only the project cache, which the global one replaces.
        return (
            posixpath.join(env.path(env.var("YARN_GLOBAL_FOLDER") or "~/.yarn/berry"), "cache"),
        )
    folder = env.var("YARN_CACHE_FOLDER") or env.yarn_cache_folder or ".yarn/cache"
    if not folder.startswith(("/", "~")):
        project = option_value(argv, "--cwd")
        folder = posixpath.join(project, folder) if project else folder
    return (env.path(folder),)


def _pnpm_matches(argv: list[str]) -> bool:
    return argv[:1] == ["pnpm"] and non_option_words(
        argv, frozenset({"--store-dir", "-C", "--dir", "--filter", "-F"})
    )[:1] in (["install"], ["i"], ["add"], ["fetch"], ["update"], ["up"])


def _pnpm_targets(argv: list[str], env: RunEnv) -> tuple[str, ...] | str:
    explicit = option_value(argv, "--store-dir") or env.var_any_case("npm_config_store_dir")
    if explicit:
        return (env.path(explicit),)
    pnpm_home = env.var("PNPM_HOME")
    if pnpm_home:
        return (posixpath.join(env.path(pnpm_home), "store"),)
    data = env.var("XDG_DATA_HOME")
    return (posixpath.join(env.path(data or "~/.local/share"), "pnpm", "store"),)


def _bun_matches(argv: list[str]) -> bool:
    return argv[:1] == ["bun"] and non_option_words(
        argv, frozenset({"--cache-dir", "--cwd", "-c", "--config", "--registry"})
    )[:1] in (["install"], ["i"], ["add"])


def _bun_targets(argv: list[str], env: RunEnv) -> tuple[str, ...] | str:
    explicit = option_value(argv, "--cache-dir") or env.var("BUN_INSTALL_CACHE_DIR")
    if explicit:
        return (env.path(explicit),)
    return (posixpath.join(env.path(env.var("BUN_INSTALL") or "~/.bun"), "install", "cache"),)


PYTHON_NODE_TOOLS: tuple[Tool, ...] = (
    Tool(
        "pip",
        "python",
        _pip_matches,
        _pip_targets,
        # any name PIP_PROGRAM accepts, and `python -m pip`
        **cache_columns("pip"),
        hadolint_marker=".cache/pip",
        hint=r"\bpip[0-9.]*\s",
    ),
    Tool(
        "uv",
        "python",
        _uv_matches,
        _uv_targets,
        programs=frozenset({"uv"}),
        **cache_columns("uv"),
        hint=r"\buv\s",
    ),
    Tool(
        "pipenv",
        "python",
        _pipenv_matches,
        _pipenv_targets,
        programs=frozenset({"pipenv"}),
        **cache_columns("pipenv"),
        hint=r"\bpipenv\s",
    ),
    Tool(
        "poetry",
        "python",
        _poetry_matches,
        _poetry_targets,
        programs=frozenset({"poetry"}),
        **cache_columns("poetry"),
        hint=r"\bpoetry\s",
    ),
    Tool(
        "npm",
        "node",
        _npm_matches,
        _npm_targets,
        programs=frozenset({"npm"}),
        **cache_columns("npm"),
        hint=r"\bnpm\s",
    ),
    Tool(
        "yarn",
        "node",
        _yarn_matches,
        _yarn_targets,
        programs=frozenset({"yarn"}),
        **cache_columns("yarn"),
        hadolint_marker=".cache/yarn",
        hint=r"\byarn\b",
    ),
    Tool(
        "pnpm",
        "node",
        _pnpm_matches,
        _pnpm_targets,
        programs=frozenset({"pnpm"}),
        **cache_columns("pnpm"),
        hint=r"\bpnpm\s",
    ),
    Tool(
        "bun",
        "node",
        _bun_matches,
        _bun_targets,
        programs=frozenset({"bun"}),
        **cache_columns("bun"),
        hint=r"\bbun\s",
    ),
)
