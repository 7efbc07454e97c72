"""Paths as a repository sees them: every machine format (SARIF, Checkstyle, GitLab, …) names
files relative to one root, the git work tree the files are in or a root the user gives, so
that reports from two checkouts of the same tree are the same."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=4096)
def git_top_level(directory: str) -> str | None:
    """The work tree (where ``.git`` is, a directory or a worktree's file) holding the
    absolute ``directory``, or None."""
    if os.path.exists(os.path.join(directory, ".git")):
        return directory
    parent = os.path.dirname(directory)
    return None if parent == directory else git_top_level(parent)


def resolved(path: str) -> str:
    """The absolute path, its directory resolved (as git reports its top level), the file
    name kept (a symlinked Dockerfile is reported where it is, not where it points)."""
    full = os.path.abspath(path)
    return os.path.join(os.path.realpath(os.path.dirname(full)), os.path.basename(full))


def repository_root(paths: Iterable[str]) -> str:
    """The root paths are relative to: the work tree most of the files are in (the first in
    path order on a tie); the working directory when none is in one."""
    tops = Counter(git_top_level(os.path.dirname(resolved(p))) for p in sorted(set(paths)))
    tops.pop(None, None)
    if not tops:
        return os.path.realpath(os.getcwd())
    return str(tops.most_common(1)[0][0])


def report_root(paths: Iterable[str], root: str | None) -> str:
    """``root`` (a user's ``--sarif-root``) resolved, else the files' :func:`repository_root`."""
    return os.path.realpath(root if root is not None else repository_root(paths))


@lru_cache(maxsize=65536)  # one per file, not one per finding
def relative_path(path: str, root: str) -> str | None:
    """``path`` relative to the resolved ``root``, with ``/`` separators; None when it is
    outside ``root``."""
    rel = os.path.relpath(resolved(path), root)
    if rel == ".." or rel.startswith(".." + os.sep):
        return None
    return Path(rel).as_posix()


def report_path(path: str, root: str) -> str:
    """How a report names ``path``: relative to ``root``, or absolute when outside it."""
    rel = relative_path(path, root)
    return rel if rel is not None else Path(resolved(path)).as_posix()
