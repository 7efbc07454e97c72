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

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from dockfix.fixers._base_images import IMAGE_USERS
from dockfix.fixers._cache_dirs_build_tools import BUILD_TOOLS
from dockfix.fixers._cache_dirs_python_node import PYTHON_NODE_TOOLS
from dockfix.fixers._cache_tool import RunEnv, Tool
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._package_managers import (
    CROSS_WRAPPERS,
    PIP_PROGRAM,
    PYTHON_PROGRAM,
)
from dockfix.fixers._run_script import PLAIN_WRAPPERS
from dockfix.semantics.shell import SimpleCommand, Word

__all__ = [
    "BASE_IMAGE_ENV",
    "BASE_IMAGE_USERS",
    "TOOLS",
    "TOOL_HINT",
    "TOOL_MENTIONS",
    "CacheUse",
    "RunEnv",
    "Tool",
    "ToolCommand",
    "ToolSet",
    "cache_uses",
    "find_cache_uses",
    "program_argv",
    "tool_for",
    "tool_named",
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


# The order is the matchers': the first that accepts a command names its tool.
TOOLS: tuple[Tool, ...] = (*PYTHON_NODE_TOOLS, *BUILD_TOOLS)


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


# The programs the tools' matchers accept as argv[0], besides pip's and python's names.
_TOOL_PROGRAMS = frozenset(p for tool in TOOLS for p in tool.programs)


# The words a file must name to run one of them, for Fixer.mentions (lower case; a word inside
# another stands for both: `pip` for pipenv and `python -m pip`, `go` for cargo, `npm` for pnpm).
_PROGRAM_WORDS = frozenset({"pip", *_TOOL_PROGRAMS})
TOOL_MENTIONS = tuple(
    sorted(p for p in _PROGRAM_WORDS if not any(q != p and q in p for q in _PROGRAM_WORDS))
)


# Text that may run one of those programs: a RUN without it runs no package manager DF104
# knows, and is passed over before its script is read. Only a boundary before the name:
# `pip3.12`, `gradlew` (`python -m pip` names pip; a cross wrapper, `xx-go`, its tool).
def _hint_pattern(words: frozenset[str]) -> str:
    return r"\b(?:" + "|".join(re.escape(p) for p in sorted(words, key=len, reverse=True)) + ")"


TOOL_HINT = lazy_re(_hint_pattern(_PROGRAM_WORDS))


class ToolCommand(NamedTuple):
    """A command that runs one of the tools, read once for both questions asked about it."""

    tool: Tool
    command: SimpleCommand
    argv: list[str]  # see program_argv
    program: int  # the index of its program word in ``command.words``


# The hints of the tool sets made, by their words: one pattern for all the fixer instances
# with the same options (a file with settings of its own gets instances of its own).
_hints: dict[frozenset[str], re.Pattern[str]] = {}


class ToolSet(NamedTuple):
    """The tools a fixer's options enable (rows of TOOLS, in its order), with their programs."""

    tools: tuple[Tool, ...]
    programs: frozenset[str]
    pip: bool  # pip is one of them (its programs go by a pattern)
    # TOOL_HINT for these tools alone: a RUN of apt-get passes over DF104's default set, which
    # leaves apt out
    hint: re.Pattern[str]

    @classmethod
    def of(cls, enabled: Callable[[Tool], bool]) -> ToolSet:
        tools = tuple(t for t in TOOLS if enabled(t))
        programs = frozenset(p for t in tools for p in t.programs)
        pip = any(not t.programs for t in tools)
        words = programs | {"pip"} if pip else programs
        hint = _hints.get(words)
        if hint is None:
            # compiled now, not lazily: the fixer holding it is pickled to worker processes
            hint = _hints[words] = re.compile(_hint_pattern(words))
        return cls(tools, programs, pip, hint)

    def may_run(self, prog: str) -> bool:
        """Whether a command whose program is ``prog`` may run one of the tools."""
        if prog in self.programs:
            return True
        return self.pip and bool(PIP_PROGRAM.match(prog) or PYTHON_PROGRAM.match(prog))


def tool_for(cmd: SimpleCommand, enabled: Callable[[Tool], bool]) -> Tool | None:
    found = _tool_command(cmd, ToolSet.of(enabled))
    return found.tool if found is not None else None


def tool_commands(commands: Sequence[SimpleCommand], tools: ToolSet) -> list[ToolCommand]:
    """The commands that run one of ``tools``, in script order."""
    found = (_tool_command(cmd, tools) for cmd in commands)
    return [c for c in found if c is not None]


def _tool_command(cmd: SimpleCommand, tools: ToolSet) -> ToolCommand | None:
    if not cmd.words:
        return None
    first = cmd.words[0].value.rsplit("/", 1)[-1]
    if first not in PLAIN_WRAPPERS and not tools.may_run(CROSS_WRAPPERS.get(first, first)):
        return None  # the program is the first word: none of the tools (most commands)
    argv, k = program_argv(cmd)
    if not argv or not tools.may_run(argv[0]):
        return None
    prog = argv[0]
    for tool in tools.tools:
        if (prog in tool.programs or not tool.programs) and tool.matches(argv):
            return ToolCommand(tool, cmd, argv, k)
    return None


def find_cache_uses(
    commands: Sequence[SimpleCommand], env: RunEnv, enabled: Callable[[Tool], bool]
) -> list[CacheUse]:
    """The commands of a script that use a package cache, with their mount targets."""
    return cache_uses(tool_commands(commands, ToolSet.of(enabled)), env)


def cache_uses(found: Sequence[ToolCommand], env: RunEnv) -> list[CacheUse]:
    """What each command that runs a tool needs from a cache mount, at a RUN seeing ``env``."""
    uses: list[CacheUse] = []
    for tool, cmd, argv, k in found:
        targets = tool.targets(argv, env)
        flags = tuple(w for w in cmd.words[k + 1 :] if w.value in tool.no_cache_flags)
        assigns = tuple(a for a in cmd.assignments if a.value.split("=", 1)[0] in tool.no_cache_env)
        if isinstance(targets, str):
            uses.append(CacheUse(tool.name, cmd, (), tool.sharing, flags, assigns, reason=targets))
        else:
            uses.append(CacheUse(tool.name, cmd, targets, tool.sharing, flags, assigns))
    return uses


def tool_named(name: str) -> Tool:
    for t in TOOLS:
        if t.name == name:
            return t
    raise KeyError(name)
