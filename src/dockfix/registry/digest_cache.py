"""A persistent cache of resolved image digests (one JSON file).

Location: ``$XDG_CACHE_HOME/dockfix/digests.json``, else ``~/.cache/dockfix/digests.json``,
unless a path is given.  Keys are normalised lookup keys (:attr:`ImageRef.key`, e.g.
``registry-1.docker.io/library/python:3.12``); each entry stores the digest, the media type
and the time it was fetched.  An entry may also carry a ``tag``: the digest-pinning fixers
remember which version tag shared a moving tag's digest (key ``<lookup key>#version-tag``) so
that a second run needs no tag listing either.  Entries older than the TTL (default 24 h) are *stale*: the
registry client refreshes them, except in offline mode where it answers with them and
marks them stale.

Writes are atomic (temporary file in the same directory, then ``os.replace``) and merge
with what is on disk, so two runs sharing the file lose nothing but the older of two
answers for the same key.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["DEFAULT_TTL", "CacheEntry", "CacheHit", "DigestCache", "default_cache_path"]


DEFAULT_TTL = 24 * 60 * 60.0
_FORMAT_VERSION = 1


def default_cache_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/dockfix/digests.json`` or ``~/.cache/dockfix/digests.json``."""
    env = os.environ if environ is None else environ
    xdg = env.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        base = Path(xdg)
    else:
        home = env.get("HOME")
        base = (Path(home) if home else Path.home()) / ".cache"
    return base / "dockfix" / "digests.json"


class CacheEntry(NamedTuple):
    digest: str
    media_type: str
    fetched_at: float  # seconds since the epoch
    tag: str | None = None  # an answer about tags (e.g. the version tag sharing the digest)


class CacheHit(NamedTuple):
    entry: CacheEntry
    stale: bool


class DigestCache:
    """Thread-safe in-memory view of the cache file; :meth:`save` writes it back."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._path = Path(path) if path is not None else default_cache_path()
        self._ttl = ttl
        self._clock = clock
        # What went wrong with the cache file (unreadable, corrupt), one line each: taken by
        # whoever reports the run's warnings (the CLI shows them; nothing here prints).
        self.warnings: list[str] = []
        self._lock = threading.Lock()
        self._entries: dict[str, CacheEntry] = {}
        self._dirty: set[str] = set()
        self._loaded = False

    def __repr__(self) -> str:
        return f"DigestCache(path={str(self._path)!r}, ttl={self._ttl!r})"

    @property
    def path(self) -> Path:
        return self._path

    @property
    def ttl(self) -> float:
        return self._ttl

    def __len__(self) -> int:
        with self._lock:
            self._ensure_loaded()
            return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            self._ensure_loaded()
            return iter(sorted(self._entries))

    # ----------------------------------------------------------------- access
    def get(self, key: str) -> CacheHit | None:
        """The entry for *key* and whether it is stale, or None."""
        with self._lock:
            self._ensure_loaded()
            entry = self._entries.get(key)
        if entry is None:
            return None
        age = self._clock() - entry.fetched_at
        return CacheHit(entry=entry, stale=age > self._ttl or age < -300)

    def put(
        self,
        key: str,
        digest: str,
        media_type: str,
        fetched_at: float | None = None,
        *,
        tag: str | None = None,
    ) -> None:
        when = self._clock() if fetched_at is None else fetched_at
        with self._lock:
            self._ensure_loaded()
            self._entries[key] = CacheEntry(digest, media_type, when, tag)
            self._dirty.add(key)

    def invalidate(self, key: str) -> None:
        with self._lock:
            self._ensure_loaded()
            if self._entries.pop(key, None) is not None:
                self._dirty.add(key)

    @property
    def dirty(self) -> bool:
        with self._lock:
            return bool(self._dirty)

    def save(self) -> None:
        """Write the cache atomically, merged with entries other processes wrote meanwhile."""
        with self._lock:
            if not self._dirty:
                return
            on_disk = self._read_file()
            merged = dict(on_disk)
            for key in self._dirty:
                mine = self._entries.get(key)
                if mine is None:
                    merged.pop(key, None)
                    continue
                theirs = on_disk.get(key)
                if theirs is None or theirs.fetched_at <= mine.fetched_at:
                    merged[key] = mine
            self._write_file(merged)
            # Pick up the other writers' entries too.
            for key, entry in merged.items():
                if key not in self._dirty:
                    self._entries[key] = entry
            self._dirty.clear()

    # ----------------------------------------------------------------- file I/O
    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self._entries.update(self._read_file())
            self._loaded = True

    def _read_file(self) -> dict[str, CacheEntry]:
        try:
            raw = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            self.warnings.append(f"cannot read digest cache {self._path}: {exc.strerror}")
            return {}
        try:
            data: Any = json.loads(raw)
        except ValueError:
            self.warnings.append(f"ignoring corrupt digest cache {self._path}")
            return {}
        if not isinstance(data, dict) or data.get("version") != _FORMAT_VERSION:
            self.warnings.append(f"ignoring digest cache {self._path}: unknown format")
            return {}
        entries = data.get("entries")
        result: dict[str, CacheEntry] = {}
        if not isinstance(entries, dict):
            return result
        for key, value in entries.items():
            if not isinstance(key, str) or not isinstance(value, dict):
                continue
            digest = value.get("digest")
            media_type = value.get("media_type")
            fetched_at = value.get("fetched_at")
            tag = value.get("tag")
            if (
                isinstance(digest, str)
                and isinstance(media_type, str)
                and isinstance(fetched_at, int | float)
                and not isinstance(fetched_at, bool)
                and (tag is None or isinstance(tag, str))
            ):
                result[key] = CacheEntry(digest, media_type, float(fetched_at), tag)
        return result

    def _write_file(self, entries: Mapping[str, CacheEntry]) -> None:
        payload = {
            "version": _FORMAT_VERSION,
            "entries": {key: _entry_json(entry) for key, entry in sorted(entries.items())},
        }
        directory = self._path.parent
        directory.mkdir(parents=True, exist_ok=True)
        import tempfile  # only a run that saves the cache needs it

        fd, tmp_name = tempfile.mkstemp(prefix=".digests-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(payload, handle, indent=1, sort_keys=False)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, self._path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise


def _entry_json(entry: CacheEntry) -> dict[str, Any]:
    value: dict[str, Any] = {
        "digest": entry.digest,
        "media_type": entry.media_type,
        "fetched_at": entry.fetched_at,
    }
    if entry.tag is not None:
        value["tag"] = entry.tag
    return value
