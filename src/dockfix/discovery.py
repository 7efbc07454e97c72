"""Finding Dockerfiles under the paths given on the command line.

A directory is walked for ``Dockerfile``, ``Dockerfile.*``, ``*.Dockerfile``, ``*.dockerfile``,
``Containerfile`` and ``Containerfile.*`` (case-insensitively for the bare names), skipping
``.git``, what ``.gitignore`` files exclude (nested ones too, matched with ``pathspec``'s git
rules) and the configuration's ``exclude``. A path named explicitly is always taken, as ruff
does. ``*.dockerignore`` files are never Dockerfiles.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", ".tox"})


def is_dockerfile_name(name: str) -> bool:
    low = name.lower()
    if low.endswith(".dockerignore"):
        return False
    for base in ("dockerfile", "containerfile"):
        if low == base or low.startswith(base + "."):
            return True
    return low.endswith(".dockerfile") or low.endswith(".containerfile")


def _gitignore_spec(directory: Path) -> Any:
    path = directory / ".gitignore"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    import pathspec

    return pathspec.PathSpec.from_lines("gitwildmatch", text.splitlines())


def iter_dockerfiles(
    paths: Iterable[Path],
    *,
    respect_gitignore: bool = True,
    excluded: Callable[[Path], bool] | None = None,
) -> Iterator[Path]:
    """Dockerfiles under ``paths`` in a stable (sorted) order, each once."""
    seen: set[Path] = set()
    for root in paths:
        if not root.is_dir():
            # Named explicitly: taken even when it is not a regular file, so that the run
            # reports why it cannot be read.
            key = root.absolute()
            if key not in seen:
                seen.add(key)
                yield root
            continue
        found = False
        for p in _walk(root, respect_gitignore, excluded):
            found = True
            key = p.absolute()
            if key not in seen:
                seen.add(key)
                yield p
        if not found and is_dockerfile_name(root.name):
            yield root  # `dockfix check Dockerfile/` where Dockerfile is a directory: say so


def _walk(
    root: Path, respect_gitignore: bool, excluded: Callable[[Path], bool] | None
) -> Iterator[Path]:
    # (directory, [(spec, base dir)]) — gitignore specs apply relative to their own dir
    stack: list[tuple[Path, list[tuple[Any, Path]]]] = [(root, [])]
    if respect_gitignore:
        stack = [(root, _parent_gitignores(root))]
    out: list[Path] = []
    while stack:
        directory, specs = stack.pop()
        if respect_gitignore:
            spec = _gitignore_spec(directory)
            if spec is not None:
                specs = [*specs, (spec, Path(os.path.abspath(directory)))]
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        subdirs: list[Path] = []
        for entry in entries:
            p = Path(entry.path)
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir and entry.name in SKIP_DIRS:
                continue
            if not is_dir and not is_dockerfile_name(entry.name):
                continue  # only directories and Dockerfiles are worth matching against ignores
            if specs and _ignored(p, is_dir, specs):
                continue
            if excluded is not None and excluded(p):
                continue
            if is_dir:
                subdirs.append(p)
            elif is_dockerfile_name(entry.name):
                out.append(p)
        for sub in reversed(subdirs):
            stack.append((sub, specs))
    yield from sorted(out)


def _ignored(path: Path, is_dir: bool, specs: list[tuple[Any, Path]]) -> bool:
    for spec, base in specs:
        try:
            rel = Path(os.path.abspath(path)).relative_to(base).as_posix()
        except ValueError:
            continue
        if spec.match_file(rel + "/" if is_dir else rel):
            return True
    return False


def _parent_gitignores(root: Path) -> list[tuple[Any, Path]]:
    """``.gitignore`` files above ``root`` up to the repository top (where ``.git`` is)."""
    specs: list[tuple[Any, Path]] = []
    d = Path(os.path.abspath(root))
    chain = []
    for parent in d.parents:
        chain.append(parent)
        if (parent / ".git").exists():
            break
    else:
        return specs
    for parent in reversed(chain):
        spec = _gitignore_spec(parent)
        if spec is not None:
            specs.append((spec, parent))
    return specs
