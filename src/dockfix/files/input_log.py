"""What a file's fixers read from disk, so that a cached result can be trusted later.

A fixer reads its build context through :class:`~dockfix.semantics.context.FixContext` and through its
own helpers (a workflow file, a glob over the context, a walk up to the repository root).
Rather than trust every helper to report what it touched, the reads are recorded where they
reach the operating system, while one file's fixers run: the ``open``, ``os.listdir`` and
``os.scandir`` audit events, and the ``os.stat`` / ``os.lstat`` calls behind every existence
check (``Path.exists``, ``os.path.isfile`` …). A read that cannot be pinned to a path (through
a directory descriptor) makes the result uncacheable. The registry answers a fixer used (a
digest, from the run's lookups or the digest cache) are recorded too (:func:`note_answer`).

Each input becomes a :data:`Dependency`: its status (file type, size, mtime in ns), a
content digest for small files that were opened, and a digest of the names of a listed
directory. :func:`still_valid` checks them cheaply: one stat each, and a hash or a listing
only for an input whose status changed.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

# (kind, absolute path, status stamp, digest): kind "stat" or "lstat" (the status the fixer
# asked for; the digest, for an opened file, of its bytes), "list" (a directory's names) or
# "absent" (a directory's modification time, and in place of the digest the names, joined by
# NUL, of the files in it that were not there).
Dependency = tuple[str, str, tuple[int, ...], str | None]

SMALL_FILE = 1 << 20  # opened files up to this size are also compared by content

_LISTING_EVENTS = ("os.listdir", "os.scandir")


class InputLog:
    """The paths one file's fixers read; see :func:`recording`."""

    def __init__(self) -> None:
        self.opened: set[str] = set()
        self.stated: set[str] = set()
        self.lstated: set[str] = set()
        self.listed: set[str] = set()
        self.unknown = False  # a read through a descriptor: no path to check later
        # The registry answers the fixers used, by lookup key (see dockfix.registry.image_lookup).
        self.answers: dict[tuple[str, str], object] = {}

    def dependencies(self, exclude: str, skip: tuple[str, ...]) -> list[Dependency] | None:
        """The recorded inputs with their current status; None when one cannot be checked
        later. ``exclude``: the Dockerfile itself (keyed by its bytes); ``skip``: directory
        prefixes that are not build inputs (Python's own modules, the caches)."""
        if self.unknown:
            return None

        def wanted(paths: set[str]) -> list[str]:
            return sorted(p for p in paths if p != exclude and not _skipped(p, skip))

        deps: list[Dependency] = []
        lstat_deps = {
            path: ("lstat", path, *_file_stamp(path, os.lstat, path in self.opened))
            for path in wanted(self.lstated)
        }
        missing: dict[str, list[str]] = {}  # names that were not there, by directory
        for path in wanted(self.stated | self.opened):
            known = lstat_deps.get(path)
            # Its lstat is kept too and is no link (or is missing): it tells what a stat would.
            if known is not None and (not known[2] or known[2][0] != stat.S_IFLNK):
                continue
            dep: Dependency = ("stat", path, *_file_stamp(path, os.stat, path in self.opened))
            if dep[2] == ():
                missing.setdefault(os.path.dirname(path), []).append(path)
            deps.append(dep)
        for path, dep in lstat_deps.items():
            if dep[2] == ():
                missing.setdefault(os.path.dirname(path), []).append(path)
            deps.append(dep)
        for path in wanted(self.listed):
            deps.append(("list", path, *_listing_stamp(path)))
        return _absences_by_directory(deps, missing)


# A directory modified this recently may be modified again within its timestamp's tick, and
# keep the same modification time: its absent names are checked one by one.
SETTLED_NS = 2_000_000_000


def _absences_by_directory(
    deps: list[Dependency], missing: dict[str, list[str]]
) -> list[Dependency]:
    """``deps`` with the missing files of one directory checked as one ``absent`` dependency:
    while the directory's modification time stays, no entry was added to it (one stat instead
    of one per name); when it changed, each name is looked for again."""
    import time

    now = time.time_ns()
    covered: set[str] = set()
    absences: list[Dependency] = []
    for directory, paths in missing.items():
        if len(paths) < 2:
            continue
        try:
            st = os.stat(directory)
        except (OSError, ValueError):
            continue
        if not stat.S_ISDIR(st.st_mode) or now - st.st_mtime_ns < SETTLED_NS:
            continue
        names = sorted({os.path.basename(p) for p in paths})
        if not all(_absent(os.path.join(directory, name)) for name in names):
            continue  # (one is a dangling link, say: its own dependency tells)
        covered.update(paths)
        absences.append(("absent", directory, (st.st_mtime_ns,), "\0".join(names)))
    if not covered:
        return deps
    return [d for d in deps if d[1] not in covered or d[2] != ()] + absences


def _absent(path: str) -> bool:
    try:
        os.lstat(path)
    except FileNotFoundError:
        return True
    except (OSError, ValueError):
        return False
    return False


def _skipped(path: str, skip: tuple[str, ...]) -> bool:
    return path.startswith(skip) or path.endswith(".pyc") or "/__pycache__/" in path


def skip_prefixes(*extra: str) -> tuple[str, ...]:
    """Directories whose files are no build input: the interpreter's, the installed packages',
    dockfix's own (imports during a run are not what a fixer read), and ``extra``."""
    import dockfix
    import dockfix.fixers

    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, *extra}
    roots.add(os.path.dirname(os.path.abspath(dockfix.__file__)))
    roots.add(os.path.dirname(os.path.abspath(dockfix.fixers.__file__ or "")))
    roots.update(p for p in sys.path if p.endswith(("site-packages", "dist-packages", ".zip")))
    return tuple(os.path.join(os.path.abspath(r), "") for r in sorted(roots) if r)


def _file_stamp(path: str, stat_fn: Any, with_digest: bool) -> tuple[tuple[int, ...], str | None]:
    try:
        st = stat_fn(path)
    except (OSError, ValueError):
        return (), None
    stamp = _stamp(st)
    if with_digest and stat.S_ISREG(st.st_mode) and st.st_size <= SMALL_FILE:
        return stamp, _file_digest(path)
    return stamp, None


def _stamp(st: os.stat_result) -> tuple[int, ...]:
    kind = stat.S_IFMT(st.st_mode)
    if stat.S_ISDIR(st.st_mode):
        return (kind,)  # what is in it matters only if it was listed ("list")
    return (kind, st.st_size, st.st_mtime_ns)


def _file_digest(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.blake2b(fh.read(), digest_size=16).hexdigest()
    except OSError:
        return None


def _listing_stamp(path: str) -> tuple[tuple[int, ...], str | None]:
    try:
        mtime = os.stat(path).st_mtime_ns
        names = sorted(os.listdir(path))
    except (OSError, ValueError):
        return (), None
    return (mtime,), hashlib.blake2b("\0".join(names).encode(), digest_size=16).hexdigest()


def still_valid(deps: list[Dependency]) -> bool:
    """Whether every input still reads as recorded: a stat each; the content or the listing
    only when the status changed (a checkout rewrites files with the same bytes)."""
    for kind, path, stamp, digest in deps:
        if kind == "absent":
            try:
                same = (os.stat(path).st_mtime_ns,) == stamp
            except (OSError, ValueError):
                same = False
            if not same and not all(
                _absent(os.path.join(path, name)) for name in (digest or "").split("\0")
            ):
                return False
            continue
        if kind == "list":
            try:
                same = (os.stat(path).st_mtime_ns,) == stamp
            except (OSError, ValueError):
                same = stamp == ()
            if not same and _listing_stamp(path) != (stamp, digest):
                return False
            continue
        try:
            st = os.stat(path) if kind == "stat" else os.lstat(path)
        except (OSError, ValueError):
            if stamp != ():
                return False
            continue
        now = _stamp(st)
        if now == stamp:
            continue
        # Same type and size, another mtime: the same bytes still count as unchanged.
        if digest is None or now[:2] != stamp[:2] or _file_digest(path) != digest:
            return False
    return True


# ---------------------------------------------------------------- recording
_active: InputLog | None = None
_hook_installed = False
_outer_stat: Any = None
_outer_lstat: Any = None


def _as_path(target: Any, log: InputLog) -> str | None:
    if isinstance(target, int):
        log.unknown = True
        return None
    try:
        return os.path.abspath(os.fsdecode(target))
    except (TypeError, ValueError):
        return None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    log = _active
    if log is None:
        return
    if event == "open":
        mode = args[1] if len(args) > 1 else None
        flags = args[2] if len(args) > 2 else 0
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool(
            isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR)
        )
        if not writing and args[0] is not None:
            path = _as_path(args[0], log)
            if path is not None:
                log.opened.add(path)
    elif event in _LISTING_EVENTS:
        path = _as_path(args[0] if args and args[0] is not None else ".", log)
        if path is not None:
            log.listed.add(path)


def _note_status(path: Any, kwargs: dict[str, Any], follow: bool) -> None:
    log = _active
    if log is None:
        return
    if kwargs.get("dir_fd") is not None:
        log.unknown = True
        return
    found = _as_path(path, log)
    if found is not None:
        (log.stated if follow and kwargs.get("follow_symlinks", True) else log.lstated).add(found)


def _recording_stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
    _note_status(path, kwargs, True)
    result: os.stat_result = _outer_stat(path, *args, **kwargs)
    return result


def _recording_lstat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
    _note_status(path, kwargs, False)
    result: os.stat_result = _outer_lstat(path, *args, **kwargs)
    return result


def replaying_reads(maxsize: int) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """A memo across files (``maxsize`` answers) for a function whose answer depends on what
    it reads from disk: each answer keeps the reads that made it, and a later file that the
    memo answers is recorded as having read them too. (An ``lru_cache`` would record them for
    the first file only: the others' results-cache entries would miss those inputs.) An
    answer made while nothing records is made again when something does."""

    def decorate(fn: Callable[..., T]) -> Callable[..., T]:
        memo: dict[tuple[Any, ...], tuple[T, InputLog | None]] = {}

        def answer(*args: Any) -> T:
            global _active
            outer = _active
            known = memo.get(args)
            if known is not None and (outer is None or known[1] is not None):
                if outer is not None and known[1] is not None:
                    _merge(outer, known[1])
                return known[0]
            if len(memo) >= maxsize:
                memo.clear()
            if outer is None:
                result = fn(*args)
                memo[args] = (result, None)
                return result
            reads = _active = InputLog()
            try:
                result = fn(*args)
            finally:
                _active = outer
            _merge(outer, reads)
            memo[args] = (result, reads)
            return result

        return answer

    return decorate


def _merge(into: InputLog, reads: InputLog) -> None:
    into.opened |= reads.opened
    into.stated |= reads.stated
    into.lstated |= reads.lstated
    into.listed |= reads.listed
    into.unknown = into.unknown or reads.unknown
    into.answers.update(reads.answers)


def note_answer(key: tuple[str, str], answer: object) -> None:
    """A fixer used this registry answer (from the run's lookups or the digest cache)."""
    if _active is not None:
        _active.answers[key] = answer


@contextmanager
def recording(log: InputLog) -> Iterator[InputLog]:
    """Record into ``log`` what is read while the block runs (one file's fixers)."""
    global _active, _hook_installed, _outer_stat, _outer_lstat
    if not _hook_installed:
        sys.addaudithook(_audit)  # cannot be removed: it does nothing outside this block
        _hook_installed = True
    _outer_stat, _outer_lstat = os.stat, os.lstat
    os.stat, os.lstat = _recording_stat, _recording_lstat
    _active = log
    try:
        yield log
    finally:
        _active = None
        os.stat, os.lstat = _outer_stat, _outer_lstat
