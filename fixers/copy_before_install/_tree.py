"""The build context as a whole-tree COPY lays it out in the container: container paths, and
what the copy brings at each (read from the context on disk, `.dockerignore` applied)."""

from __future__ import annotations

import posixpath
import stat
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext


# Stand-in for the base image's WORKDIR, which the Dockerfile does not tell.
_IMAGE_WORKDIR = "/.dockfix-image-workdir"
# Stand-ins for a WORKDIR set from a build argument without a default: "/.dockfix-line-<n>".
_SYNTHETIC = "/.dockfix-"


def _synthetic_root(path: str) -> str | None:
    if not path.startswith(_SYNTHETIC):
        return None
    return "/" + path[1:].split("/", 1)[0]


def _join(cwd: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(cwd, path))


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _rel(path: str, root: str) -> str:
    if path == root:
        return ""
    return path[len(root.rstrip("/")) + 1 :]


class _ContextUnavailable(Exception):
    """The context cannot be judged (e.g. the .dockerignore matcher is missing)."""


class _Tree:
    """The files a whole-tree COPY puts under ``dest``: context paths seen as container paths."""

    def __init__(self, ctx: FixContext | None, dest: str) -> None:
        self.ctx = ctx
        self.dest = dest
        self.blind = ctx is None or not ctx.has_context

    def rel(self, path: str) -> str | None:
        return _rel(path, self.dest) if _under(path, self.dest) else None

    def ambiguous(self, path: str) -> bool:
        """An absolute path compared with a destination under the unknown image WORKDIR."""
        root = _synthetic_root(self.dest)
        return root is not None and not _under(path, root)

    def _excluded(self, rel: str) -> bool:
        assert self.ctx is not None
        try:
            return self.ctx.is_excluded(rel)
        except ImportError as e:  # the .dockerignore matcher is not installed
            raise _ContextUnavailable("cannot evaluate .dockerignore") from e

    def state(self, path: str) -> str:
        """``file``, ``dir``, ``symlink``, ``missing``, ``excluded``, ``outside`` or ``unknown``."""
        rel = self.rel(path)
        if rel is None:
            return "outside"
        if self.blind or self.ctx is None:
            return "unknown"
        if self.ctx.context_dir is None:
            return "unknown"
        st = self.ctx.lstat(rel)
        if st is not None and stat.S_ISLNK(st.st_mode):
            return "excluded" if rel and self._excluded(rel) else "symlink"
        if st is None:
            return "missing"
        if rel and self._excluded(rel):
            return "excluded"
        return "dir" if stat.S_ISDIR(st.st_mode) else "file"

    def is_file(self, path: str) -> bool:
        return self.state(path) == "file"

    def read(self, path: str) -> str | None:
        if self.state(path) != "file" or self.ctx is None:
            return None
        rel = self.rel(path)
        return self.ctx.read_text(rel) if rel is not None else None

    def listdir(self, path: str) -> list[str]:
        rel = self.rel(path)
        if rel is None or self.blind or self.ctx is None:
            return []
        return self.ctx.list_dir(rel)

    def brings(self, path: str) -> bool:
        """Whether the whole-tree copy puts something at ``path`` (a file, or a non-empty dir)."""
        st = self.state(path)
        if st in ("file", "symlink"):
            return True
        if st != "dir":
            return False
        return any(self.state(posixpath.join(path, n)) != "excluded" for n in self.listdir(path))

    def find_up(self, start: str, names: tuple[str, ...]) -> str | None:
        """The nearest ``start``-or-parent path (inside the tree) holding one of ``names``."""
        d = start
        while _under(d, self.dest):
            for n in names:
                p = posixpath.join(d, n)
                if self.state(p) in ("file", "excluded", "symlink", "unknown"):
                    return p
            if d == self.dest:
                break
            d = posixpath.dirname(d)
        return None
