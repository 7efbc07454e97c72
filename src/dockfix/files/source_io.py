"""Reading Dockerfiles exactly and writing them atomically.

Files are decoded as UTF-8 without newline translation (CRLF and lone CR stay as they are; a
BOM stays in the text and the parser skips it). Anything else is a clear error naming the
reason. Writes go to a temporary file in the same directory, keep the original mode, and
replace the file only if it has not changed since it was read.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

MAX_BYTES = 8 * 1024 * 1024  # no real Dockerfile is near this; a larger file is not one


class SourceError(Exception):
    """A file that cannot be read or written; the message is the reason, for one line."""


class Source(NamedTuple):
    path: Path
    text: str
    mode: int | None
    # What the file's status was when it was read (see status_stamp).
    status: tuple[int, ...] = ()


def status_stamp(st: os.stat_result) -> tuple[int, ...]:
    """A file's type and permissions, size, modification and status-change times, inode and
    device: any write, rename over it, or change of mode gives another (the change time
    cannot be set back)."""
    return (st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def text_digest(text: str) -> str:
    """The sha256 of a text's UTF-8 bytes: what a file read as that text held (strict UTF-8
    decodes and encodes back to the same bytes)."""
    return _digest(text.encode("utf-8", "surrogatepass"))


def _digest(data: bytes) -> str:
    import hashlib  # only runs that write compare digests; a check never needs it

    return hashlib.sha256(data).hexdigest()


def decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SourceError("UTF-16 encoded; Dockerfiles must be UTF-8 (BuildKit reads UTF-8)")
    if b"\x00" in data:
        raise SourceError("binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"not valid UTF-8 (byte offset {exc.start})") from exc


def read_source(path: Path) -> Source:
    # Open first and ask the descriptor: one path lookup for the common case. The
    # descriptive errors (dangling link, loop, directory) come from looking again.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block the run
    except OSError as exc:
        raise _open_error(path, exc) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise SourceError("is a directory, not a Dockerfile")
        if not stat.S_ISREG(st.st_mode):
            raise SourceError("not a regular file")
        if st.st_size > MAX_BYTES:
            raise SourceError(
                f"too large for a Dockerfile ({st.st_size / 1048576:.1f} MB; limit 8 MB)"
            )
        # One read of the size fstat gave, plus a byte to see the end of the file.
        data = os.read(fd, st.st_size + 1)
        # More than that: it grew since (or is /proc-like). Read on, to its end or the limit.
        while st.st_size < len(data) <= MAX_BYTES and (
            more := os.read(fd, MAX_BYTES + 1 - len(data))
        ):
            data += more
    except OSError as exc:
        raise SourceError(exc.strerror or str(exc)) from None
    finally:
        os.close(fd)
    return Source(path, decode(data), stat.S_IMODE(st.st_mode), status_stamp(st))


def _open_error(path: Path, exc: OSError) -> SourceError:
    if isinstance(exc, FileNotFoundError):
        if os.path.islink(path):
            return SourceError("dangling symbolic link")
        return SourceError("no such file")
    if exc.errno == 40:  # ELOOP
        return SourceError("symbolic link loop")
    if isinstance(exc, IsADirectoryError) or os.path.isdir(path):
        return SourceError("is a directory, not a Dockerfile")
    if isinstance(exc, PermissionError):
        return SourceError("permission denied (cannot read)")
    return SourceError(exc.strerror or str(exc))


def read_stdin_bytes(data: bytes) -> str:
    return decode(data)


def write_atomic(
    path: Path, text: str, *, expected_digest: str | None, mode: int | None = None
) -> None:
    """Replace ``path`` with ``text``; refuse if its bytes changed since they were read.

    ``expected_digest`` None means the file is new and must not exist yet.
    """
    with _interrupts_deferred():
        _write_atomic(path, text, expected_digest, mode)


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Ctrl-C during a write takes effect once the write is done or undone: never a temporary
    file left behind, never a half-replaced file. (Python runs signal handlers in the main
    thread only, whichever thread the signal reached; blocking it there would not do.)"""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            if callable(previous):
                previous(signal.SIGINT, None)
            elif previous == signal.SIG_DFL:
                os.kill(os.getpid(), signal.SIGINT)


def _write_atomic(path: Path, text: str, expected_digest: str | None, mode: int | None) -> None:
    import tempfile  # only runs that write need it

    data = text.encode("utf-8")
    if expected_digest is not None and mode is not None and not mode & 0o200:
        # Respect a read-only mode even when running as root (CI, containers).
        raise SourceError(f"file is read-only (mode {mode:04o}); not overwritten")
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    directory = target.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".dockfix-tmp", dir=directory)
    except PermissionError:
        raise SourceError("permission denied (cannot write in its directory)") from None
    except OSError as exc:
        raise SourceError(f"cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        # Last check before the rename: the file is still what we read (or still absent).
        try:
            with open(target, "rb") as fh:
                current: str | None = _digest(fh.read())
        except FileNotFoundError:
            current = None
        except PermissionError:
            raise SourceError("permission denied (cannot read it again before writing)") from None
        if current != expected_digest:
            what = "was created" if expected_digest is None else "changed on disk since it was read"
            raise SourceError(f"{what}; not overwritten")
        os.replace(tmp, target)
        tmp = ""
    except OSError as exc:
        raise SourceError(f"cannot write: {exc.strerror or exc}") from None
    finally:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
