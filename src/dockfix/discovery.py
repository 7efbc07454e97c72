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
    asked about each directory and Dockerfile met while walking (by absolute path)."""
    for p in iter_dockerfile_paths(
        [str(p) for p in paths], respect_gitignore=respect_gitignore, excluded=excluded
    ):
        yield Path(p)


def iter_dockerfile_paths(
    paths: Iterable[str],
    *,
    respect_gitignore: bool = True,
    excluded: Callable[[str], bool] | None = None,
) -> Iterator[str]:
    """:func:`iter_dockerfiles` with strings in and out: what a run over a monorepo walks."""
    seen: set[str] = set()
    for given in paths:
        root = str(Path(given))  # as Path spells it: "./a/" is "a" (".." kept, unlike normpath)
        if not os.path.isdir(root):
            # Named explicitly: taken even when it is not a regular file, so that the run
            # reports why it cannot be read.
            key = os.path.abspath(root)
            if key not in seen:
                seen.add(key)
                yield root
            continue
        found = False
        for p, key in _walk(root, respect_gitignore, excluded):
            found = True
            if key not in seen:
                seen.add(key)
                yield p
        if not found and is_dockerfile_name(os.path.basename(root)):
            yield root  # `dockfix check Dockerfile/` where Dockerfile is a directory: say so


def _walk(
    root: str, respect_gitignore: bool, excluded: Callable[[str], bool] | None
) -> list[tuple[str, str]]:
    """(path as given under ``root``, absolute path) of each Dockerfile, in sorted order."""
    # Strings, not Path objects: a monorepo has tens of thousands of entries.
    # Stack items: (directory, its absolute path, [(gitignore spec, its absolute dir + "/")]).
    top = os.path.abspath(root)
    stack: list[tuple[str, str, list[tuple[Any, str]]]] = [(root, top, [])]
    if respect_gitignore:
        stack = [(root, top, _parent_gitignores(Path(top)))]
    out: list[tuple[str, str]] = []
    while stack:
        directory, dir_abs, specs = stack.pop()
        base = dir_abs.rstrip("/") + "/"
        if respect_gitignore:
            spec = _gitignore_spec(directory)
            if spec is not None:
                specs = [*specs, (spec, base)]
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        subdirs: list[tuple[str, str]] = []
        for entry in entries:
            name = entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                if name in SKIP_DIRS:
                    continue
            elif not is_dockerfile_name(name):
                continue  # only directories and Dockerfiles are worth matching against ignores
            full = base + name
            if specs and _ignored(full, is_dir, specs):
                continue
            if excluded is not None and excluded(full):
                continue
            path = name if directory == "." else os.path.join(directory, name)
            if is_dir:
                subdirs.append((path, full))
            else:
                out.append((path, full))
        for sub, sub_abs in reversed(subdirs):
            stack.append((sub, sub_abs, specs))
    # The order of sorted Paths: component by component.
    out.sort(key=lambda item: item[0].split("/"))
    return out


def _ignored(full: str, is_dir: bool, specs: list[tuple[Any, str]]) -> bool:
    for spec, base in specs:
        if full.startswith(base) and spec.match_file(
            full[len(base) :] + "/" if is_dir else full[len(base) :]
        ):
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
