"""What a fixer may know about the file it checks: its path, build context and run options.

Everything here is read lazily, so fixers that need no context cost nothing.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dockfix.semantics.dockerignore import DockerIgnore


@functools.lru_cache(maxsize=64)
def _parsed_ignore(text: str) -> DockerIgnore:
    """The patterns of an ignore file's text. A monorepo's contexts share a few ignore files:
    each file checked reads its own (the results cache records it), parsed once per text."""
    from dockfix.semantics.dockerignore import DockerIgnore

    return DockerIgnore.from_text(text)


_UNKNOWN = object()  # not asked yet (None is an answer: absent)


@dataclass(eq=False)  # compared and hashed by identity: memoised answers are keyed by it
class FixContext:
    path: Path | None = None  # the Dockerfile, None for standard input / a bare string
    context_dir: Path | None = None  # the build context on disk, None when unknown
    offline: bool = False
    refresh: bool = False
    # The oldest Docker Engine the file must build with (configuration `min-docker-engine`).
    min_docker_engine: tuple[int, ...] = (23, 0)
    # `net.ipv4.ip_unprivileged_port_start` where the images run (configuration
    # `unprivileged-port-start`), None when not known: below it, only root binds a port.
    unprivileged_port_start: int | None = None
    # Run-wide services shared by all files (e.g. the registry resolver); keyed by name.
    services: dict[str, Any] = field(default_factory=dict)
    # True when the caller knows ``context_dir`` is a directory (it just read a file in it).
    context_is_dir: bool = False
    # The index of the build context: answers about it, asked again and again by several
    # fixers (DF201's walk of what a COPY brings, DF105's tree, the image-path helpers). The
    # context does not change during a run, so the file system is asked once per file
    # checked, when a fixer first asks (each read goes through the os functions the results
    # cache records); never kept from one checked file to the next.
    _exists: dict[str, bool] = field(default_factory=dict, init=False, repr=False, compare=False)
    _texts: dict[str, str | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _lstats: dict[str, os.stat_result | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _listings: dict[str, tuple[str, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _excluded: dict[str, bool] = field(default_factory=dict, init=False, repr=False, compare=False)
    # Derived data about the context (a parsed manifest…), computed once per file checked by
    # whichever fixer needs it first; keyed by the fixer helpers that fill it.
    memo: dict[object, object] = field(default_factory=dict, init=False, repr=False, compare=False)
    # The answers behind the properties below, once known. (Not functools.cached_property:
    # the compiled build turns it into a plain property, recomputed at every access.)
    _known: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def _once(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()``, called the first time ``key`` is asked for and remembered."""
        known = self._known
        if key not in known:
            known[key] = compute()
        return known[key]

    @property
    def has_context(self) -> bool:
        return bool(self._once("has_context", self._find_context))

    def _find_context(self) -> bool:
        return self.context_dir is not None and (self.context_is_dir or self.context_dir.is_dir())

    def context_path(self, rel: str) -> Path | None:
        """The absolute path of a context-relative path, or None without a context."""
        if self.context_dir is None:
            return None
        rel = rel.lstrip("/")
        return self.context_dir / rel if rel not in ("", ".") else self.context_dir

    def _full_path(self, rel: str) -> str | None:
        """:meth:`context_path` as a string, joined as pathlib joins (empty and `.` parts
        dropped, `..` kept) without building a Path: every context read asks for one."""
        base: str | None = self._known.get("base")
        if base is None:
            if self.context_dir is None:
                return None
            base = self._known["base"] = os.fspath(self.context_dir)
        rel = rel.lstrip("/")
        if rel in ("", "."):
            return base
        if "//" in rel or rel.endswith(("/", "/.")) or rel.startswith("./") or "/./" in rel:
            rel = "/".join(p for p in rel.split("/") if p and p != ".")
            if not rel:
                return base
        return f"{base}{rel}" if base.endswith("/") else f"{base}/{rel}"

    def exists(self, rel: str) -> bool:
        # Several fixers ask about the same few names (lock files, manifests): ask the file
        # system once per file checked. The context does not change during a run.
        if self.context_dir is None:
            return False
        known = self._exists.get(rel)
        if known is None:
            rel_clean = rel.strip("/")  # as pathlib reads it: "dir/" is "dir"
            base = os.fspath(self.context_dir)
            full = os.path.join(base, rel_clean) if rel_clean not in ("", ".") else base
            known = self._exists[rel] = os.path.exists(full)
        return known

    def read_text(self, rel: str) -> str | None:
        """A context file's text (UTF-8, errors replaced), or None when absent/unreadable."""
        if rel in self._texts:
            return self._texts[rel]
        p = self._full_path(rel)
        text: str | None = None
        if p is not None:
            try:
                with open(p, encoding="utf-8", errors="replace") as fh:
                    text = fh.read()
            except OSError:
                text = None
        self._texts[rel] = text
        return text

    def lstat(self, rel: str) -> os.stat_result | None:
        """A context path's own status (symbolic links not followed), None when absent."""
        known = self._lstats.get(rel, _UNKNOWN)
        if known is not _UNKNOWN:
            return known  # type: ignore[return-value]
        p = self._full_path(rel)
        st: os.stat_result | None = None
        if p is not None:
            try:
                st = os.lstat(p)
            except (OSError, ValueError):
                st = None
        self._lstats[rel] = st
        return st

    def read_bytes(self, rel: str, limit: int = 1 << 20) -> bytes | None:
        """At most ``limit`` bytes of a context file (for sniffing), or None when unreadable."""
        p = self._full_path(rel)
        if p is None:
            return None
        try:
            with open(p, "rb") as fh:
                return fh.read(limit)
        except OSError:
            return None

    def list_dir(self, rel: str = "") -> list[str]:
        """Names in a context directory (sorted), empty when absent."""
        names = self._listings.get(rel)
        if names is None:
            p = self._full_path(rel)
            try:
                names = tuple(sorted(os.listdir(p))) if p is not None else ()
            except OSError:
                names = ()
            self._listings[rel] = names
        return list(names)

    @property
    def dockerignore_file(self) -> Path | None:
        """The ignore file BuildKit uses: ``<Dockerfile>.dockerignore`` first, then the root one."""
        found = self._once("dockerignore_file", self._find_dockerignore_file)
        return found if isinstance(found, Path) else None

    def _find_dockerignore_file(self) -> Path | None:
        if self.context_dir is None:
            return None
        # os.path on strings: pathlib costs a few microseconds a call, and every file asks
        if self.path is not None and self.path.name:
            specific = f"{self.path}.dockerignore"
            if os.path.isfile(specific):
                return Path(specific)
        root = os.path.join(self.context_dir, ".dockerignore")
        return Path(root) if os.path.isfile(root) else None

    @property
    def dockerignore(self) -> DockerIgnore | None:
        """The parsed ignore patterns, or None when the context has no ignore file."""
        ignore: DockerIgnore | None = self._once("dockerignore", self._read_dockerignore)
        return ignore

    def _read_dockerignore(self) -> DockerIgnore | None:
        f = self.dockerignore_file
        if f is None:
            return None
        try:
            # bytes, not read_text(): its newline translation would change what Docker reads
            return _parsed_ignore(f.read_bytes().decode("utf-8", errors="replace"))
        except (OSError, ValueError):
            # unreadable, or a pattern Docker itself rejects (the build fails anyway)
            return None

    def is_excluded(self, rel: str) -> bool:
        """Whether ``.dockerignore`` keeps a context path out of the build."""
        known = self._excluded.get(rel)
        if known is None:
            ign = self.dockerignore
            if ign is None:  # the usual context: no ignore file
                return False
            known = self._excluded[rel] = ign.excludes(rel)
        return known
