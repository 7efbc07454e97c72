"""One row of DF104's tool table (:class:`Tool`: how a command is recognised, where it caches,
what empties its cache) and what decides the cache directories at one RUN (:class:`RunEnv`:
the user, HOME, WORKDIR and variables it sees), with the readers of a command's words the rows
share."""

from __future__ import annotations

import posixpath
from collections import ChainMap
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

from dockfix.fixers._package_managers import PACKAGE_MANAGERS
from dockfix.semantics.semantic import expand


class RunVariables(Mapping[str, "str | None"]):
    """The variables a RUN sees: the ARG/ENV of its stage in scope (``scope``) over what the
    base image sets (``base``), as ``layered(scope, base)`` reads them. A RUN asks for a dozen
    names, most of them set nowhere: a name outside ``names`` (every one the stage sets) is
    answered by ``base`` alone, without a miss in the stage's view (a KeyError raised and
    caught at each)."""

    __slots__ = ("_base", "_names", "_scope")

    def __init__(
        self, scope: Mapping[str, str | None], names: frozenset[str], base: Mapping[str, str]
    ) -> None:
        self._scope = scope
        self._names = names
        self._base = base

    def __getitem__(self, name: str) -> str | None:
        if name in self._names:
            try:
                return self._scope[name]
            except KeyError:
                pass
        return self._base[name]

    def get(self, name: str, default: Any = None) -> Any:
        if name in self._names:
            try:
                return self._scope[name]
            except KeyError:
                pass
        return self._base.get(name, default)

    def __contains__(self, name: object) -> bool:
        return (name in self._names and name in self._scope) or name in self._base

    def __iter__(self) -> Iterator[str]:
        # ChainMap's order: the base image's names first
        return iter({**dict.fromkeys(self._base), **dict.fromkeys(self._scope)})

    def __len__(self) -> int:
        return len({**dict.fromkeys(self._base), **dict.fromkeys(self._scope)})

    def keys_like(self, lower: str) -> list[str]:
        """The names that are ``lower`` in lower case, in the order of iteration."""
        found = dict.fromkeys(_keys_like(self._base, lower))
        found.update(dict.fromkeys(_keys_like(self._scope, lower)))
        return list(found)


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
        return normalised(p)

    def xdg_cache(self) -> str:
        return self.path(self.var("XDG_CACHE_HOME") or "~/.cache")


def normalised(path: str) -> str:
    """``posixpath.normpath`` of an absolute path, without its work for one that is already
    normal (most of them: every cache directory is asked for at every RUN)."""
    if (
        not path.startswith("/")
        or "//" in path
        or "/./" in path
        or "/../" in path
        or path.endswith(("/", "/.", "/.."))
    ) and path != "/":
        return posixpath.normpath(path)
    return path


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
    # The programs (argv[0]) its matcher accepts; empty for pip, which goes by many names.
    programs: frozenset[str] = frozenset()


def cache_columns(name: str) -> dict[str, Any]:
    """A Tool's opt-outs and clean-ups, from the package manager table."""
    pm = PACKAGE_MANAGERS[name]
    return {
        "no_cache_flags": frozenset(pm.no_cache_flags),
        "no_cache_env": pm.no_cache_env,
        "clean_commands": pm.cache_clean_commands,
    }


def non_option_words(argv: list[str], value_opts: frozenset[str] = frozenset()) -> list[str]:
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


def option_value(argv: list[str], *names: str) -> str | None:
    """The value of ``--name value`` / ``--name=value`` (the last one)."""
    found: str | None = None
    for k, a in enumerate(argv):
        if not a.startswith("-"):
            continue  # every name is an option
        for n in names:
            if a == n and k + 1 < len(argv):
                found = argv[k + 1]
            elif n.startswith("--") and a.startswith(n + "="):
                found = a[len(n) + 1 :]
    return found
