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


def _gitignore_spec(directory: str) -> Any:
    try:
        with open(os.path.join(directory, ".gitignore"), "rb") as fh:
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    import pathspec

    return pathspec.PathSpec.from_lines("gitwildmatch", text.splitlines())


def iter_dockerfiles(
    paths: Iterable[Path],
    *,
    respect_gitignore: bool = True,
    excluded: Callable[[str], bool] | None = None,
) -> Iterator[Path]:
    """Dockerfiles under ``paths`` in a stable (sorted) order, each once; ``excluded`` is
    asked about each directory and Dockerfile path met while walking."""
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
    root: Path, respect_gitignore: bool, excluded: Callable[[str], bool] | None
) -> Iterator[Path]:
    # Strings, not Path objects, while walking: a monorepo has tens of thousands of entries.
    # (directory, [(spec, absolute base dir + "/")]): gitignore specs apply relative to their
    # own directory.
    top = str(root)
    stack: list[tuple[str, list[tuple[Any, str]]]] = [(top, [])]
    if respect_gitignore:
        stack = [(top, _parent_gitignores(root))]
    out: list[str] = []
    while stack:
        directory, specs = stack.pop()
        if respect_gitignore:
            spec = _gitignore_spec(directory)
            if spec is not None:
                specs = [*specs, (spec, os.path.abspath(directory).rstrip("/") + "/")]
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        subdirs: list[str] = []
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir and entry.name in SKIP_DIRS:
                continue
            if not is_dir and not is_dockerfile_name(entry.name):
                continue  # only directories and Dockerfiles are worth matching against ignores
            path = entry.path
            if specs and _ignored(path, is_dir, specs):
                continue
            if excluded is not None and excluded(path):
                continue
            if is_dir:
                subdirs.append(path)
            else:
                out.append(path)
        for sub in reversed(subdirs):
            stack.append((sub, specs))
    # The order of sorted Paths: component by component.
    out.sort(key=lambda p: p.split("/"))
    for p in out:
        yield Path(p)


def _ignored(path: str, is_dir: bool, specs: list[tuple[Any, str]]) -> bool:
    full = os.path.abspath(path)
    for spec, base in specs:
        if not full.startswith(base):
            continue
        rel = full[len(base) :]
        if spec.match_file(rel + "/" if is_dir else rel):
            return True
    return False


def _parent_gitignores(root: Path) -> list[tuple[Any, str]]:
    """``.gitignore`` files above ``root`` up to the repository top (where ``.git`` is)."""
    specs: list[tuple[Any, str]] = []
    d = Path(os.path.abspath(root))
    chain = []
    for parent in d.parents:
        chain.append(parent)
        if (parent / ".git").exists():
            break
    else:
        return specs
    for parent in reversed(chain):
        spec = _gitignore_spec(str(parent))
        if spec is not None:
            specs.append((spec, str(parent).rstrip("/") + "/"))
    return specs
