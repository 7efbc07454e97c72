"""Where the build tools and the distributions' package managers cache (Go, Cargo, Maven,
Gradle; apt and apk): their rows of DF104's tool table (see ``_cache_dirs``)."""

from __future__ import annotations

import posixpath
import re

from dockfix.fixers._cache_tool import (
    RunEnv,
    Tool,
    cache_columns,
    non_option_words,
    option_value,
)
from dockfix.fixers._package_managers import SYSTEM_BY_NAME, SystemPackageManager
from dockfix.semantics.shell import OPTIONS_WITH_VALUE

_GO_BUILDS = frozenset({"build", "install", "test", "run", "vet"})


def _go_sub(argv: list[str]) -> list[str]:
    return non_option_words(
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
    return argv[:1] == ["cargo"] and non_option_words(
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
    home = option_value(argv, "-g", "--gradle-user-home") or env.var("GRADLE_USER_HOME")
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
    return argv[:1] in [[p] for p in _APT.programs] and non_option_words(
        argv, OPTIONS_WITH_VALUE.get(argv[0], OPTIONS_WITH_VALUE["apt-get"])
    )[:1] in [[s] for s in _APT_SUBS]


def _apt_targets(argv: list[str], env: RunEnv) -> tuple[str, ...] | str:
    if env.uid != 0:
        return "apt runs as a non-root user here"
    return _APT.mount_targets


def _apk_matches(argv: list[str]) -> bool:
    return argv[:1] == ["apk"] and non_option_words(argv, OPTIONS_WITH_VALUE["apk"])[:1] in [
        [s] for s in _APK_SUBS
    ]


def _apk_targets(argv: list[str], env: RunEnv) -> tuple[str, ...] | str:
    if env.uid != 0:
        return "apk runs as a non-root user here"
    if option_value(argv, "--cache-dir", "-p", "--root") is not None:
        return "apk is given its own --cache-dir or --root"
    return _APK.mount_targets


def _clean_commands(manager: SystemPackageManager) -> tuple[tuple[str, ...], ...]:
    return tuple((p, *w) for p in manager.programs for w in manager.clean_words)


BUILD_TOOLS: tuple[Tool, ...] = (
    Tool(
        "go",
        "go",
        _go_matches,
        _go_targets,
        programs=frozenset({"go"}),
        **cache_columns("go"),
        hint=r"\bgo\s+(build|install|test|run|vet|get|mod)\b",
    ),
    Tool(
        "cargo",
        "rust",
        _cargo_matches,
        _cargo_targets,
        programs=frozenset({"cargo"}),
        hint=r"\bcargo\s",
    ),
    Tool(
        "maven",
        "java",
        _maven_matches,
        _maven_targets,
        programs=frozenset({"mvn", "mvnw"}),
        hint=r"\bmvnw?\b",
    ),
    Tool(
        "gradle",
        "java",
        _gradle_matches,
        _gradle_targets,
        programs=frozenset({"gradle", "gradlew"}),
        hint=r"\bgradlew?\b",
    ),
    Tool(
        "apt",
        "system_packages",
        _apt_matches,
        _apt_targets,
        programs=frozenset(_APT.programs),
        clean_commands=_clean_commands(_APT),
        sharing="locked",
        hint=r"\bapt(-get)?\s",
    ),
    Tool(
        "apk",
        "system_packages",
        _apk_matches,
        _apk_targets,
        programs=frozenset(_APK.programs),
        no_cache_flags=frozenset(_APK.no_cache_options),
        clean_commands=_clean_commands(_APK),
        sharing="locked",
        hint=r"\bapk\s",
    ),
)
