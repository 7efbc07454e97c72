"""Images built from another Dockerfile of the same repository (for DF201).

`FROM acme/app-base:1.4` in a monorepo usually names an image that `base/Dockerfile` or
`Dockerfile.app-base` next to it builds. What that file's final stage sets (its `USER`) is
what the child image inherits, so a child need not add a user its base already switches to.

The image is matched to a file by name only: the last path part of the reference
(`app-base`) as `Dockerfile.app-base`, `app-base.Dockerfile` or `app-base/Dockerfile`, and
without a `-base`/`_base` suffix or `base-` prefix as a directory (`base/Dockerfile` for
`app-base`), searched from the repository's top (the nearest directory with `.git`), at most
four levels deep.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from dockfix.files.input_log import replaying_reads
from dockfix.registry.image_ref import ImageRef
from dockfix.semantics.memo import per_context
from dockfix.semantics.semantic import user_at
from dockfix.syntax import parse

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext

_MAX_DEPTH = 4
_MAX_DIRS = 3000
_SKIP = frozenset({"node_modules", "vendor", "__pycache__", "venv", ".venv", "dist", "build"})


@replaying_reads(maxsize=4096)
def _repo_root(start: str) -> str | None:
    """The nearest directory at or above ``start`` (a real path) with `.git` (a monorepo's
    files share it)."""
    if Path(start, ".git").exists():
        return start
    parent = os.path.dirname(start)
    return None if parent == start else _repo_root(parent)


def _candidates(ref: str) -> tuple[set[str], set[str]]:
    """(file names, directory names) that may build ``ref``."""
    name = ImageRef.parse_loose(ref).short_name.rsplit("/", 1)[-1]
    files = {f"dockerfile.{name}", f"{name}.dockerfile"}
    dirs = {name}
    for suffix in ("-base", "_base"):
        if name.endswith(suffix) and len(name) > len(suffix):
            dirs.add("base")
            dirs.add(name[: -len(suffix)])
    if name.startswith("base-"):
        dirs.add("base")
    return files, dirs


def _user_of(path: Path) -> str | None:
    """The non-root USER the file's final stage (or a stage it builds FROM) ends with."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
        doc = parse(text)
    except (OSError, ValueError):
        return None
    final = doc.final_stage
    user = user_at(doc, final, None) if final is not None else None
    if user is None or user.split(":", 1)[0] in ("root", "0"):
        return None
    return user


@per_context
def repository_base_user(ctx: FixContext, ref: str) -> tuple[str, str] | None:
    """(Dockerfile, USER) when another Dockerfile of the repository builds ``ref`` and
    leaves it running as a non-root user."""
    if ctx.path is None or "$" in ref:
        return None
    parsed = ImageRef.parse_loose(ref)
    if parsed.is_docker_hub and parsed.repository.startswith("library/"):
        return None  # an official image (`python:3.12`) is not built here
    # realpath, not Path.resolve(): the same lstat of each part, without the pathlib objects
    # and the final stat that only looks for a symlink loop (the file was just read).
    own = os.path.realpath(ctx.path)
    root = _repo_root(os.path.dirname(own))
    if root is None:
        return None
    rel = own[len(root) :].lstrip("/")
    for candidate in _search(root, ref):
        user = _user_of(Path(root, candidate)) if candidate != rel else None
        if user is not None:
            return candidate, user
    return None


@replaying_reads(maxsize=256)
def _search(root_text: str, ref: str) -> tuple[str, ...]:
    """The Dockerfiles that may build ``ref``, relative to the repository's top: walked once
    per base image of a run (a monorepo's files share a few bases), read each time."""
    files, dirs = _candidates(ref)
    return tuple(_walk(Path(root_text), files, dirs))


def _walk(root: Path, files: set[str], dirs: set[str]) -> list[str]:
    out: list[str] = []
    for visited, (here, subdirs, names) in enumerate(os.walk(root), 1):
        depth = len(Path(here).relative_to(root).parts)
        keep = depth < _MAX_DEPTH and visited < _MAX_DIRS
        subdirs[:] = [
            d for d in sorted(subdirs) if keep and not d.startswith(".") and d not in _SKIP
        ]
        in_named_dir = os.path.basename(here).lower() in dirs
        for n in sorted(names):
            low = n.lower()
            if low in files or (in_named_dir and low == "dockerfile"):
                out.append(str((Path(here) / n).relative_to(root)))
    return out
