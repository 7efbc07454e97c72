"""One command of a RUN (`_Cmd`): what it needs from the build context and what it writes
(`_Plan`), or why it cannot run before the full copy (`_Refusal`); and the readers its
analyzers share (options, manifests, shell words)."""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dockfix.fixers.copy_before_install._stage import _expand
from dockfix.fixers.copy_before_install._tree import _join

if TYPE_CHECKING:
    from dockfix.semantics.shell import SimpleCommand, Word


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


@dataclass(slots=True, eq=False)
class _Need:
    path: str  # container path
    required: bool
    is_dir: bool = False


@dataclass(eq=False)
class _Plan:
    tool: str
    installs: bool = True  # a dependency install (not a helper such as apt-get)
    needs: list[_Need] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)
    stubs: list[str] = field(default_factory=list)  # files created empty and replaced later
    blockers: list[str] = field(default_factory=list)
    unsafe: list[str] = field(default_factory=list)
    # Replacements inside the RUN's logical line: (start, end, text).
    edits: list[tuple[int, int, str]] = field(default_factory=list)
    reinstall: bool = False  # run the original command again after the full copy
    hadolint_ignores: set[str] = field(default_factory=set)
    label: str = ""  # the command as written, for messages

    def need(self, path: str, required: bool = True, is_dir: bool = False) -> None:
        self.needs.append(_Need(path, required, is_dir))


@dataclass(slots=True, eq=False)
class _Refusal:
    """The command cannot run before the full copy. ``install``: it is a dependency install
    that cannot be split (reported); otherwise it just reads the tree and the walk stops."""

    reason: str
    install: bool = True
    label: str = ""


@dataclass(eq=False)
class _Cmd:
    argv: list[str]
    words: list[Word | None]  # parallel to argv; None in exec form
    cwd: str | None
    env: MutableMapping[str, str | None]
    node: SimpleCommand | None
    exec_form: bool
    text: str  # the command as written (logical)
    home: str | None = "/root"  # $HOME when the environment does not set it

    def word_span(self, i: int) -> tuple[int, int] | None:
        w = self.words[i] if i < len(self.words) else None
        return (w.start, w.end) if w is not None else None

    def path(self, value: str) -> str | None:
        """A path argument as a container path (None when a variable or the cwd is unknown)."""
        v = _expand(value, self.env) if "$" in value else value
        if v is not None and (v == "~" or v.startswith("~/")):
            home = self.env.get("HOME") if "HOME" in self.env else self.home
            v = None if home is None else home + v[1:]
        if v is None or v.startswith("~"):
            return None
        if v.startswith("/"):
            return posixpath.normpath(v)
        if self.cwd is None:
            return None
        return _join(self.cwd, v)


def _refusal(result: _Plan | _Refusal | str, install: bool, cmd: _Cmd) -> _Plan | _Refusal:
    if isinstance(result, str):
        return _Refusal(result, install, cmd.text.strip())
    if isinstance(result, _Refusal) and not result.label:
        result.label = cmd.text.strip()
    return result


def _venv(cmd: _Cmd, plan: _Plan, targets: list[str]) -> _Plan | _Refusal | str:
    if len(targets) != 1:
        return f"`{cmd.text.strip()}`"
    p = cmd.path(targets[0])
    if p is None:
        return f"`{cmd.text.strip()}`"
    plan.writes.append(p)
    return plan


def _parse_opts(
    args: list[str], value_opts: frozenset[str], offset: int = 0
) -> tuple[dict[str, list[tuple[str, int]]], list[tuple[str, int]]]:
    """Options (name → [(value, argv index)]) and positional words; indexes are ``offset``-based."""
    opts: dict[str, list[tuple[str, int]]] = {}
    pos: list[tuple[str, int]] = []
    i = 0
    while i < len(args):
        a = args[i]
        idx = offset + i
        if a == "--":
            pos.extend((x, offset + j) for j, x in enumerate(args[i + 1 :], i + 1))
            break
        if a.startswith("--") and "=" in a:
            name, val = a.split("=", 1)
            opts.setdefault(name, []).append((val, idx))
        elif a in value_opts:
            val = args[i + 1] if i + 1 < len(args) else ""
            opts.setdefault(a, []).append((val, idx))
            i += 1
        elif len(a) > 2 and a[0] == "-" and a[1] != "-" and a[:2] in value_opts:
            opts.setdefault(a[:2], []).append((a[2:], idx))
        elif a.startswith("-") and a != "-":
            opts.setdefault(a, []).append(("", idx))
        else:
            pos.append((a, idx))
        i += 1
    return opts, pos


def _values(opts: dict[str, list[tuple[str, int]]], *names: str) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for n in names:
        out.extend(opts.get(n, []))
    return sorted(out, key=lambda t: t[1])


def _has(opts: dict[str, list[tuple[str, int]]], *names: str) -> bool:
    return any(n in opts for n in names)


def _load_toml(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def _load_json(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _table(d: Any, *keys: str) -> dict[str, Any]:
    for k in keys:
        if not isinstance(d, dict):
            return {}
        d = d.get(k)
    return d if isinstance(d, dict) else {}


def _shell_quote(spec: str) -> str | None:
    if re.fullmatch(r"[A-Za-z0-9_.,:=@%+/-]+", spec):
        return spec
    if "'" not in spec:
        return f"'{spec}'"
    if not re.search(r'["$`\\!]', spec):
        return f'"{spec}"'
    return None


def _glob_prefix(path: str) -> str:
    """The part of a path before its first component with glob characters."""
    parts = path.split("/")
    for i, part in enumerate(parts):
        if any(c in part for c in "*?["):
            return "/".join(parts[:i]) or ("/" if path.startswith("/") else ".")
    return path


def _shell_unquote(raw: str) -> str:
    """Shell quote removal (variables are left for :func:`_expand`)."""
    if "'" not in raw and '"' not in raw and "\\" not in raw:
        return raw  # most words: nothing to remove
    out: list[str] = []
    i = 0
    n = len(raw)
    while i < n:
        c = raw[i]
        if c == "'":
            j = raw.find("'", i + 1)
            j = n if j < 0 else j
            out.append(raw[i + 1 : j])
            i = j + 1
        elif c == '"':
            i += 1
            while i < n and raw[i] != '"':
                if raw[i] == "\\" and i + 1 < n and raw[i + 1] in '$`"\\\n':
                    i += 1
                out.append(raw[i])
                i += 1
            i += 1
        elif c == "\\" and i + 1 < n:
            out.append(raw[i + 1])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _argv_words(node: SimpleCommand) -> tuple[list[str], list[Word]]:
    """argv and its words with wrappers (``sudo``, ``env X=1``) removed, like ``argv``."""
    from dockfix.semantics.shell import WRAPPERS

    words = list(node.words)
    while words and words[0].value.rsplit("/", 1)[-1] in WRAPPERS:
        words = words[1:]
        while words and (words[0].value.startswith("-") or "=" in words[0].value):
            words = words[1:]
    return [_shell_unquote(w.raw) for w in words], words
