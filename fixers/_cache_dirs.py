"""Where package managers keep their download caches, for DF104 cache-mount.

Every location is computed from what the RUN sees: the user (HOME), the environment set by
ENV/ARG (``PIP_CACHE_DIR``, ``npm_config_cache``, ``GOMODCACHE``, ``CARGO_HOME``,
``XDG_CACHE_HOME`` …), the command's own flags (``pip --cache-dir``, ``npm --cache``,
``mvn -Dmaven.repo.local=``) and the few variables official base images set that a
Dockerfile does not show (``GOPATH=/go`` in golang, ``CARGO_HOME=/usr/local/cargo`` in rust).
The defaults come from each tool's documentation:

- pip: ``$PIP_CACHE_DIR``, else ``$XDG_CACHE_HOME/pip``, else ``~/.cache/pip``;
- uv: ``$UV_CACHE_DIR``, else ``$XDG_CACHE_HOME/uv``, else ``~/.cache/uv``;
- pipenv: ``$PIPENV_CACHE_DIR``, else ``$XDG_CACHE_HOME/pipenv``, else ``~/.cache/pipenv`` (it
  passes that directory to the pip it runs);
- Poetry: ``$POETRY_CACHE_DIR``, else ``$XDG_CACHE_HOME/pypoetry``, else ``~/.cache/pypoetry``
  (only its ``cache`` and ``artifacts`` subdirectories: virtualenvs live there too);
- npm: ``$npm_config_cache`` (any case), else ``~/.npm``;
- Yarn 1: ``$YARN_CACHE_FOLDER``, else ``/usr/local/share/.cache/yarn`` for root and
  ``$XDG_CACHE_HOME/yarn`` / ``~/.cache/yarn`` for other users; Yarn 4:
  ``$YARN_GLOBAL_FOLDER/cache``, default ``~/.yarn/berry/cache``; Yarn 2 and 3 (or
  ``enableGlobalCache: false``): the project's ``cacheFolder``, default ``.yarn/cache``;
- pnpm: ``$npm_config_store_dir``, else ``$PNPM_HOME/store``, ``$XDG_DATA_HOME/pnpm/store``,
  ``~/.local/share/pnpm/store``;
- Bun: ``$BUN_INSTALL_CACHE_DIR``, else ``$BUN_INSTALL/install/cache``, ``~/.bun/install/cache``;
- Go: ``$GOMODCACHE`` else ``$GOPATH/pkg/mod`` (``GOPATH`` defaults to ``~/go``), and
  ``$GOCACHE`` else ``$XDG_CACHE_HOME/go-build`` / ``~/.cache/go-build``;
- Cargo: ``$CARGO_HOME/registry`` and ``$CARGO_HOME/git/db`` (``CARGO_HOME`` defaults to
  ``~/.cargo``);
- Maven: ``~/.m2/repository`` (not ``~/.m2``, which holds ``settings.xml``);
- Gradle: ``$GRADLE_USER_HOME/caches`` (+ ``wrapper`` for ``gradlew``), default ``~/.gradle``;
- apt: ``/var/cache/apt`` and ``/var/lib/apt``; apk: ``/var/cache/apk`` (both locked).
"""

from __future__ import annotations

import posixpath
import re
from collections import ChainMap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from dockfix.fixers._base_images import IMAGE_USERS
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._package_managers import (
    CROSS_WRAPPERS,
    PACKAGE_MANAGERS,
    PIP_PROGRAM,
    PYTHON_PROGRAM,
    SYSTEM_BY_NAME,
    SystemPackageManager,
    truthy,
)
from dockfix.fixers._run_script import PLAIN_WRAPPERS
from dockfix.semantics.semantic import expand
from dockfix.semantics.shell import OPTIONS_WITH_VALUE, SimpleCommand, Word

__all__ = [
    "BASE_IMAGE_ENV",
    "BASE_IMAGE_USERS",
    "TOOLS",
    "TOOL_HINT",
    "CacheUse",
    "RunEnv",
    "Tool",
    "find_cache_uses",
]


# Variables official images set in their own Dockerfiles (invisible to ours).
BASE_IMAGE_ENV: dict[str, dict[str, str]] = {
    "golang": {"GOPATH": "/go"},
    "rust": {"CARGO_HOME": "/usr/local/cargo", "RUSTUP_HOME": "/usr/local/rustup"},
    # built FROM the official rust image, so they keep its CARGO_HOME (found on real files)
    "rustlang/rust": {"CARGO_HOME": "/usr/local/cargo", "RUSTUP_HOME": "/usr/local/rustup"},
    "lukemathwalker/cargo-chef": {
        "CARGO_HOME": "/usr/local/cargo",
        "RUSTUP_HOME": "/usr/local/rustup",
    },
    "gradle": {"GRADLE_USER_HOME": "/home/gradle/.gradle"},
}
# Users official images create: name -> (uid, gid, home); the facts are the base-image module's.
BASE_IMAGE_USERS = IMAGE_USERS


def _keys_like(env: Mapping[str, str | None], lower: str) -> list[str]:
    """The keys of ``env`` that are ``lower`` in lower case, in its order. A stage's variables
    answer from their index: a scan of them for every command grew with the file's length."""
    if isinstance(env, ChainMap):
        found: dict[str, None] = {}
        for layer in reversed(env.maps):  # ChainMap's own order
            found.update(dict.fromkeys(_keys_like(layer, lower)))
        return list(found)
    keys_like = getattr(env, "keys_like", None)
    if keys_like is not None:
        return list(keys_like(lower))
    return [k for k in env if k.lower() == lower]


class RunEnv(NamedTuple):
    """What decides cache locations at one RUN."""

    env: Mapping[str, str | None]  # ENV/ARG in scope (raw values) over the base image's
    home: str
    uid: int  # 0 for root
    gid: int | None
    workdir: str
    base: str  # the stage tree's base image name (``golang``)
    yarn_berry: bool = False  # Yarn 2+ (package.json, `.yarnrc.yml`, `yarn set version` …)
    # Yarn 2+ only: its global folder's cache (True), the project's `.yarn/cache` (False) or
    # unknown (None); `cacheFolder` of .yarnrc.yml.
    yarn_global_cache: bool | None = None
    yarn_cache_folder: str | None = None
    yarn_unknown: str = ""  # why Yarn's cache is not known (corepack, no package.json …)

    def var(self, name: str) -> str | None:
        raw = self.env.get(name)
        if raw is None or raw == "":
            return None
        return expand(raw, self.env)

    def var_any_case(self, name: str) -> str | None:
        for k in _keys_like(self.env, name.lower()):
            v = self.var(k)
            if v is not None:
                return v
        return None

    def path(self, p: str) -> str:
        """A path as the RUN would resolve it: ``~`` is HOME, relative is under WORKDIR."""
        if p == "~" or p.startswith("~/"):
            p = self.home + p[1:]
        if not p.startswith("/"):
            p = posixpath.join(self.workdir, p)
        return posixpath.normpath(p)

    def xdg_cache(self) -> str:
        return self.path(self.var("XDG_CACHE_HOME") or "~/.cache")


@dataclass(eq=False)
class CacheUse:
    """One command that would fill a cache, and what a mount for it needs."""

    tool: str
    command: SimpleCommand
    targets: tuple[str, ...]
    sharing: str | None = None  # "locked" for apt/apk
    no_cache_words: tuple[Word, ...] = ()  # flags that turn the cache off (to remove)
    no_cache_assignments: tuple[Word, ...] = ()  # `PIP_NO_CACHE_DIR=1 pip …`
    reason: str = ""  # why no mount can be added for this command


class Tool(NamedTuple):
    name: str
    option: str  # the fixer option that enables it
    matches: Callable[[list[str]], bool]
    targets: Callable[[list[str], RunEnv], tuple[str, ...] | str]  # paths, or why unknown
    no_cache_flags: frozenset[str] = frozenset()
    no_cache_env: tuple[str, ...] = ()  # variables that disable the cache
    clean_commands: tuple[tuple[str, ...], ...] = ()  # argv prefixes that empty the cache
    hadolint_marker: str = ""  # hadolint accepts a removed opt-out when a target has this
    sharing: str | None = None
    hint: str = ""  # a regular expression that finds the tool in text that cannot be parsed


def _sub(argv: list[str], value_opts: frozenset[str] = frozenset()) -> list[str]:
    """The non-option words after the program (options with a separate value skipped)."""
    out: list[str] = []
    k = 1
    while k < len(argv):
        a = argv[k]
        if a.startswith("-"):
            k += 2 if a in value_opts else 1
            continue
        out.append(a)
        k += 1
    return out


def _opt_value(argv: list[str], *names: str) -> str | None:
    """The value of ``--name value`` / ``--name=value`` (the last one)."""
    found: str | None = None
    for k, a in enumerate(argv):
        for n in names:
            if a == n and k + 1 < len(argv):
                found = argv[k + 1]
            elif n.startswith("--") and a.startswith(n + "="):
                found = a[len(n) + 1 :]
    return found


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
    return p is not None and _sub(p, _PIP_VALUE_OPTS)[:1] in (["install"], ["download"], ["wheel"])


def _pip_targets(argv: list[str], env: RunEnv) -> tuple[str, ...] | str:
    p = _pip_argv(argv) or argv
    explicit = _opt_value(p, "--cache-dir") or env.var("PIP_CACHE_DIR")
    if explicit:
        return (env.path(explicit),)
    return (posixpath.join(env.xdg_cache(), "pip"),)


def _uv_matches(argv: list[str]) -> bool:
    if argv[:1] != ["uv"]:
        return False
    sub = _sub(
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
    explicit = _opt_value(argv, "--cache-dir") or env.var("UV_CACHE_DIR")
    if explicit:
        return (env.path(explicit),)
    return (posixpath.join(env.xdg_cache(), "uv"),)


def _pipenv_matches(argv: list[str]) -> bool:
    return argv[:1] == ["pipenv"] and _sub(
        argv, frozenset({"--python", "--pypi-mirror", "-r", "--requirements", "--categories"})
    )[:1] in (["install"], ["sync"], ["update"], ["upgrade"], ["lock"])


def _pipenv_targets(argv: list[str], env: RunEnv) -> tuple[str, ...] | str:
    explicit = env.var("PIPENV_CACHE_DIR")
    if explicit:
        return (env.path(explicit),)
    return (posixpath.join(env.xdg_cache(), "pipenv"),)


def _poetry_matches(argv: list[str]) -> bool:
    return argv[:1] == ["poetry"] and _sub(
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
    return argv[:1] == ["npm"] and _sub(
        argv,
        frozenset(
            {"--cache", "--prefix", "-C", "--registry", "-w", "--workspace", "--omit", "--include"}
        ),
    )[:1] in [[s] for s in _NPM_SUBS]


def _npm_targets(argv: list[str], env: RunEnv) -> tuple[str, ...] | str:
    explicit = _opt_value(argv, "--cache") or env.var_any_case("npm_config_cache")
    return (env.path(explicit or "~/.npm"),)


def _yarn_matches(argv: list[str]) -> bool:
    if argv[:1] != ["yarn"]:
        return False
    sub = _sub(
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
    return sub[:1] in ([], ["install"], ["add"], ["upgrade"], ["up"])


def _yarn_targets(argv: list[str], env: RunEnv) -> tuple[str, ...] | str:
    flag = _opt_value(argv, "--cache-folder")  # Yarn 1 only
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
        project = _opt_value(argv, "--cwd")
        folder = posixpath.join(project, folder) if project else folder
    return (env.path(folder),)


def _pnpm_matches(argv: list[str]) -> bool:
    return argv[:1] == ["pnpm"] and _sub(
        argv, frozenset({"--store-dir", "-C", "--dir", "--filter", "-F"})
    )[:1] in (["install"], ["i"], ["add"], ["fetch"], ["update"], ["up"])


def _pnpm_targets(argv: list[str], env: RunEnv) -> tuple[str, ...] | str:
    explicit = _opt_value(argv, "--store-dir") or env.var_any_case("npm_config_store_dir")
    if explicit:
        return (env.path(explicit),)
    pnpm_home = env.var("PNPM_HOME")
    if pnpm_home:
        return (posixpath.join(env.path(pnpm_home), "store"),)
    data = env.var("XDG_DATA_HOME")
    return (posixpath.join(env.path(data or "~/.local/share"), "pnpm", "store"),)


def _bun_matches(argv: list[str]) -> bool:
    return argv[:1] == ["bun"] and _sub(
        argv, frozenset({"--cache-dir", "--cwd", "-c", "--config", "--registry"})
    )[:1] in (["install"], ["i"], ["add"])


def _bun_targets(argv: list[str], env: RunEnv) -> tuple[str, ...] | str:
    explicit = _opt_value(argv, "--cache-dir") or env.var("BUN_INSTALL_CACHE_DIR")
    if explicit:
        return (env.path(explicit),)
    return (posixpath.join(env.path(env.var("BUN_INSTALL") or "~/.bun"), "install", "cache"),)


_GO_BUILDS = frozenset({"build", "install", "test", "run", "vet"})


def _go_sub(argv: list[str]) -> list[str]:
    return _sub(
        argv,
        frozenset(
            {
                "-o",
                "-C",
                "-tags",
                "-ldflags",
                "-gcflags",
                "-p",
                "-mod",
                "-modfile",
                "-run",
                "-timeout",
                "-exec",
                "-pkgdir",
            }
        ),
    )


def _go_matches(argv: list[str]) -> bool:
    if argv[:1] != ["go"]:
        return False
    sub = _go_sub(argv)
    return bool(sub) and (
        sub[0] in _GO_BUILDS
        or sub[0] == "get"
        or sub[:2] in (["mod", "download"], ["mod", "tidy"], ["mod", "vendor"])
    )


def _go_targets(argv: list[str], env: RunEnv) -> tuple[str, ...] | str:
    modcache = env.var("GOMODCACHE")
    if modcache:
        mod = env.path(modcache)
    else:
        gopath = env.var("GOPATH") or "~/go"
        # GOPATH may list several directories; the module cache is under the first.
        mod = posixpath.join(env.path(gopath.split(":", 1)[0]), "pkg", "mod")
    if _go_sub(argv)[0] not in _GO_BUILDS:
        return (mod,)
    gocache = env.var("GOCACHE")
    if gocache == "off":
        return (mod,)
    build = env.path(gocache) if gocache else posixpath.join(env.xdg_cache(), "go-build")
    return (mod, build)


_CARGO_SUBS = frozenset(
    {
        "build",
        "b",
        "install",
        "fetch",
        "test",
        "t",
        "run",
        "r",
        "check",
        "c",
        "doc",
        "d",
        "bench",
        "chef",
        "clippy",
    }
)


def _cargo_matches(argv: list[str]) -> bool:
    return argv[:1] == ["cargo"] and _sub(
        argv,
        frozenset(
            {
                "--manifest-path",
                "--target",
                "--target-dir",
                "-p",
                "--package",
                "--bin",
                "--features",
                "-F",
                "-j",
                "--jobs",
                "--profile",
                "--root",
                "--example",
                "--config",
                "-Z",
                "--color",
            }
        ),
    )[:1] in [[s] for s in _CARGO_SUBS]


def _cargo_targets(argv: list[str], env: RunEnv) -> tuple[str, ...] | str:
    home = env.path(env.var("CARGO_HOME") or "~/.cargo")
    return (posixpath.join(home, "registry"), posixpath.join(home, "git", "db"))


def _maven_matches(argv: list[str]) -> bool:
    return argv[:1] in (["mvn"], ["mvnw"])


def _maven_targets(argv: list[str], env: RunEnv) -> tuple[str, ...] | str:
    for a in argv:
        if a.startswith("-Dmaven.repo.local="):
            return (env.path(a.split("=", 1)[1]),)
    opts = env.var("MAVEN_OPTS") or ""
    m = re.search(r"-Dmaven\.repo\.local=(\S+)", opts)
    if m:
        return (env.path(m.group(1)),)
    return (posixpath.join(env.path("~/.m2"), "repository"),)


def _gradle_matches(argv: list[str]) -> bool:
    return argv[:1] in (["gradle"], ["gradlew"])


def _gradle_targets(argv: list[str], env: RunEnv) -> tuple[str, ...] | str:
    home = _opt_value(argv, "-g", "--gradle-user-home") or env.var("GRADLE_USER_HOME")
    base = env.path(home or "~/.gradle")
    targets = [posixpath.join(base, "caches")]
    if argv[0] == "gradlew":
        targets.append(posixpath.join(base, "wrapper"))
    return tuple(targets)


_APT = SYSTEM_BY_NAME["apt"]
_APK = SYSTEM_BY_NAME["apk"]
_APT_SUBS = frozenset(_APT.refresh + _APT.installs)
_APK_SUBS = frozenset(_APK.refresh + _APK.installs)


def _apt_matches(argv: list[str]) -> bool:
    return argv[:1] in [[p] for p in _APT.programs] and _sub(
        argv, OPTIONS_WITH_VALUE.get(argv[0], OPTIONS_WITH_VALUE["apt-get"])
    )[:1] in [[s] for s in _APT_SUBS]


def _apt_targets(argv: list[str], env: RunEnv) -> tuple[str, ...] | str:
    if env.uid != 0:
        return "apt runs as a non-root user here"
    return _APT.mount_targets


def _apk_matches(argv: list[str]) -> bool:
    return argv[:1] == ["apk"] and _sub(argv, OPTIONS_WITH_VALUE["apk"])[:1] in [
        [s] for s in _APK_SUBS
    ]


def _apk_targets(argv: list[str], env: RunEnv) -> tuple[str, ...] | str:
    if env.uid != 0:
        return "apk runs as a non-root user here"
    if _opt_value(argv, "--cache-dir", "-p", "--root") is not None:
        return "apk is given its own --cache-dir or --root"
    return _APK.mount_targets


def _clean_commands(manager: SystemPackageManager) -> tuple[tuple[str, ...], ...]:
    return tuple((p, *w) for p in manager.programs for w in manager.clean_words)


def _cache_columns(name: str) -> dict[str, Any]:
    """A Tool's opt-outs and clean-ups, from the package manager table."""
    pm = PACKAGE_MANAGERS[name]
    return {
        "no_cache_flags": frozenset(pm.no_cache_flags),
        "no_cache_env": pm.no_cache_env,
        "clean_commands": pm.cache_clean_commands,
    }


TOOLS: tuple[Tool, ...] = (
    Tool(
        "pip",
        "python",
        _pip_matches,
        _pip_targets,
        **_cache_columns("pip"),
        hadolint_marker=".cache/pip",
        hint=r"\bpip[0-9.]*\s",
    ),
    Tool(
        "uv",
        "python",
        _uv_matches,
        _uv_targets,
        **_cache_columns("uv"),
        hint=r"\buv\s",
    ),
    Tool(
        "pipenv",
        "python",
        _pipenv_matches,
        _pipenv_targets,
        **_cache_columns("pipenv"),
        hint=r"\bpipenv\s",
    ),
    Tool(
        "poetry",
        "python",
        _poetry_matches,
        _poetry_targets,
        **_cache_columns("poetry"),
        hint=r"\bpoetry\s",
    ),
    Tool(
        "npm",
        "node",
        _npm_matches,
        _npm_targets,
        **_cache_columns("npm"),
        hint=r"\bnpm\s",
    ),
    Tool(
        "yarn",
        "node",
        _yarn_matches,
        _yarn_targets,
        **_cache_columns("yarn"),
        hadolint_marker=".cache/yarn",
        hint=r"\byarn\b",
    ),
    Tool(
        "pnpm",
        "node",
        _pnpm_matches,
        _pnpm_targets,
        **_cache_columns("pnpm"),
        hint=r"\bpnpm\s",
    ),
    Tool(
        "bun",
        "node",
        _bun_matches,
        _bun_targets,
        **_cache_columns("bun"),
        hint=r"\bbun\s",
    ),
    Tool(
        "go",
        "go",
        _go_matches,
        _go_targets,
        **_cache_columns("go"),
        hint=r"\bgo\s+(build|install|test|run|vet|get|mod)\b",
    ),
    Tool("cargo", "rust", _cargo_matches, _cargo_targets, hint=r"\bcargo\s"),
    Tool("maven", "java", _maven_matches, _maven_targets, hint=r"\bmvnw?\b"),
    Tool("gradle", "java", _gradle_matches, _gradle_targets, hint=r"\bgradlew?\b"),
    Tool(
        "apt",
        "system_packages",
        _apt_matches,
        _apt_targets,
        clean_commands=_clean_commands(_APT),
        sharing="locked",
        hint=r"\bapt(-get)?\s",
    ),
    Tool(
        "apk",
        "system_packages",
        _apk_matches,
        _apk_targets,
        no_cache_flags=frozenset(_APK.no_cache_options),
        clean_commands=_clean_commands(_APK),
        sharing="locked",
        hint=r"\bapk\s",
    ),
)


def program_argv(cmd: SimpleCommand) -> tuple[list[str], int]:
    """The command's argv without wrappers (``sudo``, ``env X=1``), and the index of its
    program word in ``cmd.words``; the program is reduced to its base name, and a cross
    wrapper (``xx-cargo``) to the tool it runs."""
    words = [w.value for w in cmd.words]
    k = 0
    while k < len(words) and words[k].rsplit("/", 1)[-1] in PLAIN_WRAPPERS:
        k += 1
        while k < len(words) and (words[k].startswith("-") or "=" in words[k]):
            k += 1
    argv = words[k:]
    if argv:
        name = argv[0].rsplit("/", 1)[-1]
        argv[0] = CROSS_WRAPPERS.get(name, name)
    return argv, k


# The programs the matchers above accept as argv[0], besides pip's and python's names (a
# quick no for the many commands that are none of them: cp, chmod, echo, …).
_TOOL_PROGRAMS = frozenset(
    {"uv", "pipenv", "poetry", "npm", "yarn", "pnpm", "bun", "go", "cargo", "mvn", "mvnw", "gradle"}
    | {"gradlew", *_APT.programs, *_APK.programs}
)
# Text that may run one of those programs: a RUN without it runs no package manager DF104
# knows, and is passed over before its script is read. Only a boundary before the name:
# `pip3.12`, `gradlew` (`python -m pip` names pip; a cross wrapper, `xx-go`, its tool).
TOOL_HINT = lazy_re(
    r"\b(?:"
    + "|".join(re.escape(p) for p in sorted({"pip", *_TOOL_PROGRAMS}, key=len, reverse=True))
    + ")"
)


def tool_for(cmd: SimpleCommand, enabled: Callable[[Tool], bool]) -> Tool | None:
    argv, _ = program_argv(cmd)
    if not argv:
        return None
    prog = argv[0]
    if prog not in _TOOL_PROGRAMS and not (PIP_PROGRAM.match(prog) or PYTHON_PROGRAM.match(prog)):
        return None
    for tool in TOOLS:
        if enabled(tool) and tool.matches(argv):
            return tool
    return None


def find_cache_uses(
    commands: Sequence[SimpleCommand],
    env: RunEnv,
    enabled: Callable[[Tool], bool],
    tools: Sequence[Tool | None] | None = None,
) -> list[CacheUse]:
    """The commands of a script that use a package cache, with their mount targets
    (``tools``: each command's :func:`tool_for`, when the caller has them already)."""
    uses: list[CacheUse] = []
    for index, cmd in enumerate(commands):
        tool = tools[index] if tools is not None else tool_for(cmd, enabled)
        if tool is None:
            continue
        argv, k = program_argv(cmd)
        found = tool.targets(argv, env)
        flags = tuple(w for w in cmd.words[k + 1 :] if w.value in tool.no_cache_flags)
        assigns = tuple(a for a in cmd.assignments if a.value.split("=", 1)[0] in tool.no_cache_env)
        if isinstance(found, str):
            uses.append(CacheUse(tool.name, cmd, (), tool.sharing, flags, assigns, reason=found))
        else:
            uses.append(CacheUse(tool.name, cmd, found, tool.sharing, flags, assigns))
    return uses


def tool_named(name: str) -> Tool:
    for t in TOOLS:
        if t.name == name:
            return t
    raise KeyError(name)
