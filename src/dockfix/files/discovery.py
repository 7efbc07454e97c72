"""Finding Dockerfiles under the paths given on the command line.

A directory is walked for ``Dockerfile``, ``Dockerfile.*``, ``*.Dockerfile``, ``*.dockerfile``,
``Containerfile`` and ``Containerfile.*`` (case-insensitively for the bare names), skipping
names whose suffix says they are something else (``Dockerfile.md``, ``Dockerfile.png``),
``Dockerfile.*`` files holding NUL bytes, ``.git``, what ``.gitignore`` files exclude (nested ones too, matched with ``pathspec``'s git
rules) and the configuration's ``exclude``. A path named explicitly is always taken, as ruff
does. ``*.dockerignore`` files are never Dockerfiles.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", ".tox"})
# `Dockerfile.md`, `Dockerfile.png`: names the patterns match that are documentation, images,
# data, scripts or leftovers, never built; the pre-commit hooks exclude the same suffixes.
NOT_DOCKERFILE_SUFFIXES = frozenset(
    {"dockerignore", "md", "markdown", "rst", "adoc", "txt", "html", "pdf", "log"}
    | {"png", "jpg", "jpeg", "gif", "svg", "ico", "webp", "bmp"}
    | {"json", "yaml", "yml", "toml", "ini", "xml", "csv", "lock"}
    | {"sh", "bash", "py", "ps1", "bat", "cmd", "js", "ts", "go", "rb"}
    | {"orig", "rej", "patch", "diff", "swp", "bak"}
    | {"zip", "gz", "tgz", "tar", "bz2", "xz", "7z", "jar", "exe", "so", "dll"}
)
SNIFF_BYTES = 8192


# `Dockerfile`, `Dockerfile.<suffix>`, `<name>.dockerfile` (and the same with Containerfile).
_DOCKERFILE_NAME = re.compile(
    r"(?:docker|container)file(?:\..*)?|.*\.(?:docker|container)file", re.DOTALL
)


def is_dockerfile_name(name: str) -> bool:
    low = name.lower()
    # (asked of every file of a monorepo: one match, then the suffix only for a match)
    return (
        _DOCKERFILE_NAME.fullmatch(low) is not None
        and low.rpartition(".")[2] not in NOT_DOCKERFILE_SUFFIXES
    )


def _gitignore_spec(directory: str) -> Any:
    try:
        with open(os.path.join(directory, ".gitignore"), "rb") as fh:
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    return _ignore_spec(text)


def _ignore_spec(text: str) -> Any:
    """An ignore file's patterns, as git reads them, with a ``match_file(path)`` method."""
    import pathspec

    # GitIgnoreSpec: git's own rules (the "gitwildmatch" pattern kind is deprecated).
    spec = pathspec.GitIgnoreSpec.from_lines(text.splitlines())
    return _AnyPattern.of(spec) or spec


class _AnyPattern:
    """A spec without negated patterns (most ``.gitignore`` files) as one regular expression:
    a path is ignored when any pattern matches it, which one search answers instead of one
    per pattern (a monorepo's walk asks for every entry). The patterns' own expressions are
    joined, so the answer is pathspec's; a spec this cannot join stays pathspec's."""

    def __init__(self, regex: re.Pattern[str]) -> None:
        self._regex = regex

    @classmethod
    def of(cls, spec: Any) -> _AnyPattern | None:
        patterns = [p for p in spec.patterns if p.include is not None]
        if not all(p.include and isinstance(p.regex, re.Pattern) for p in patterns):
            return None
        flags = {p.regex.flags for p in patterns}
        if len(flags) > 1 or any(isinstance(p.regex.pattern, bytes) for p in patterns):
            return None
        # Group names repeat between patterns (pathspec marks a directory match with one);
        # only whether one matches counts here.
        parts = [_NAMED_GROUP.sub("(?:", p.regex.pattern) for p in patterns] or ["(?!)"]
        try:
            joined = re.compile("|".join(f"(?:{x})" for x in parts), flags.pop() if flags else 0)
        except re.error:
            return None
        return cls(joined)

    def match_file(self, path: str) -> bool:
        # pathspec's normalisation, for the paths the walk asks about (relative, "/"-separated)
        if path.startswith("/"):
            path = path[1:]
        elif path.startswith("./"):
            path = path[2:]
        return self._regex.search(path) is not None


_NAMED_GROUP = re.compile(r"\(\?P<\w+>")


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
    seen: set[str] | None = None,
    listed: Callable[[str, list[str]], None] | None = None,
    unreadable: Callable[[str, str], None] | None = None,
    skipped: Callable[[bool], None] | None = None,
    real_paths: dict[str, tuple[str, bool]] | None = None,
) -> Iterator[str]:
    """:func:`iter_dockerfiles` with strings in and out: what a run over a monorepo walks.

    ``seen``: absolute paths already taken (shared between calls, a file named twice on the
    command line is checked, and written, once). ``listed``: told each walked directory's
    absolute path and the names in it that are neither directories nor Dockerfiles, before
    ``excluded`` is asked about its entries (the configuration lookup reads it instead of
    asking the file system again). ``unreadable``: told each directory that cannot be listed
    (as the walk spells it) and why; the walk goes on without it. ``skipped``: told of each
    Dockerfile (False) or directory (True) that ``.gitignore`` or ``excluded`` left out.
    ``real_paths``: filled with what the walk knows of each file it yields that is not a
    symlink, by the path yielded: its real path, and whether that is its absolute path too
    (the walk never enters a linked directory, so below the root nothing is a link and no
    file needs an lstat to find out; see ``runner.one_path_per_file``)."""
    if seen is None:
        seen = set()
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
        walk = _walk(root, respect_gitignore, excluded, listed, unreadable, skipped)
        top = real_top = ""
        if real_paths is not None:
            top = os.path.join(os.path.abspath(root), "")
            real_top = os.path.join(os.path.realpath(root), "")
        for p, key, is_link in walk:
            found = True
            if key not in seen:
                seen.add(key)
                if real_paths is not None and not is_link and key.startswith(top):
                    real = real_top + key[len(top) :]
                    real_paths[p] = (real, real == key)
                yield p
        if not found and is_dockerfile_name(os.path.basename(root)):
            yield root  # `dockfix check Dockerfile/` where Dockerfile is a directory: say so


def _walk(
    root: str,
    respect_gitignore: bool,
    excluded: Callable[[str], bool] | None,
    listed: Callable[[str, list[str]], None] | None = None,
    unreadable: Callable[[str, str], None] | None = None,
    skipped: Callable[[bool], None] | None = None,
) -> Iterator[tuple[str, str, bool]]:
    """(path as given under ``root``, absolute path, whether it is a symlink) of each
    Dockerfile, in sorted order.

    Depth first, each directory's entries by name: the order of sorted paths (component by
    component), produced as the walk goes so that a run can start before it ends."""
    # Strings, not Path objects: a monorepo has tens of thousands of entries.
    top = os.path.abspath(root)
    specs: list[tuple[Any, str]] = _parent_gitignores(Path(top)) if respect_gitignore else []
    # One frame per open directory: its remaining entries (reversed, to pop in order).
    stack = [_open_dir(root, top, specs, respect_gitignore, listed, unreadable)]
    while stack:
        directory, base, dir_specs, entries = stack[-1]
        if not entries:
            stack.pop()
            continue
        name, is_dir, is_link = entries.pop()
        full = base + name
        if (dir_specs and _ignored(full, is_dir, dir_specs)) or (
            excluded is not None and excluded(full)
        ):
            if skipped is not None:
                skipped(is_dir)
            continue
        # os.path.join(directory, name), without its per-call checks
        if directory == ".":
            path = name
        elif directory.endswith("/"):
            path = directory + name
        else:
            path = f"{directory}/{name}"
        if is_dir:
            stack.append(
                _open_dir(path, full, dir_specs, respect_gitignore, listed, unreadable)
            )
        else:
            yield path, full, is_link


def _open_dir(
    directory: str,
    dir_abs: str,
    specs: list[tuple[Any, str]],
    respect_gitignore: bool,
    listed: Callable[[str, list[str]], None] | None = None,
    unreadable: Callable[[str, str], None] | None = None,
) -> tuple[str, str, list[tuple[Any, str]], list[tuple[str, bool, bool]]]:
    """A directory's walk frame: its name, absolute base ("…/"), the gitignore specs that
    apply inside it, and the entries worth looking at, sorted by name, reversed."""
    base = dir_abs.rstrip("/") + "/"
    entries: list[tuple[str, bool, bool]] = []  # (name, is a directory, is a symlink)
    others: list[str] = []
    has_gitignore = False
    listing_ok = True
    try:
        with os.scandir(directory) as it:
            for entry in it:
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    is_dir = False
                if is_dir:
                    if entry.name not in SKIP_DIRS:
                        entries.append((entry.name, True, False))
                elif is_dockerfile_name(entry.name) and not _binary_variant(entry):
                    try:
                        is_link = entry.is_symlink()
                    except OSError:
                        is_link = True  # unknown: the run asks again
                    entries.append((entry.name, False, is_link))
                else:
                    others.append(entry.name)
                    if entry.name == ".gitignore":
                        has_gitignore = True
    except OSError as exc:
        listing_ok = False
        if unreadable is not None:
            why = "permission denied" if isinstance(exc, PermissionError) else exc.strerror
            unreadable(directory, f"{why or exc}; directory not searched")
    if listed is not None and listing_ok:
        listed(dir_abs, others)
    # Only a directory that lists a .gitignore is asked for one: most have none.
    if respect_gitignore and has_gitignore:
        spec = _gitignore_spec(directory)
        if spec is not None:
            specs = [*specs, (spec, base)]
    entries.sort(reverse=True)
    return directory, base, specs, entries


def _binary_variant(entry: os.DirEntry[str]) -> bool:
    """A ``Dockerfile.<suffix>`` holding NUL bytes (`Dockerfile.bin`): not taken by the walk,
    which never opens the plain names (a named file is still read, and the reason given)."""
    low = entry.name.lower()
    if not low.startswith(("dockerfile.", "containerfile.")):
        return False
    try:
        # Only a regular file is opened, and never waited on: opening a FIFO named
        # `Dockerfile.pipe` would block the walk until something writes to it.
        if not entry.is_file():
            return False
        fd = os.open(entry.path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return False  # the run says why it cannot be read
    try:
        return stat.S_ISREG(os.fstat(fd).st_mode) and b"\0" in os.read(fd, SNIFF_BYTES)
    except OSError:
        return False
    finally:
        os.close(fd)


def _ignored(full: str, is_dir: bool, specs: list[tuple[Any, str]]) -> bool:
    for spec, base in specs:
        if full.startswith(base) and spec.match_file(
            full[len(base) :] + "/" if is_dir else full[len(base) :]
        ):
            return True
    return False


def _parent_gitignores(root: Path) -> list[tuple[Any, str]]:
    """What git ignores above ``root``: the user's global excludes file and the repository's
    ``.git/info/exclude`` (both relative to the repository top), then the ``.gitignore`` files
    from the top down to ``root``'s parent."""
    specs: list[tuple[Any, str]] = []
    d = Path(os.path.abspath(root))
    # os.path.exists: an unlisted directory is reported by the walk, not raised here
    if os.path.exists(d / ".git"):  # the top itself: its .gitignore is read by the walk
        specs.extend(_repository_excludes(str(d)))
        return specs
    chain = []
    for parent in d.parents:
        chain.append(parent)
        if os.path.exists(parent / ".git"):
            break
    else:
        return specs
    specs.extend(_repository_excludes(str(chain[-1])))
    for parent in reversed(chain):
        spec = _gitignore_spec(str(parent))
        if spec is not None:
            specs.append((spec, str(parent).rstrip("/") + "/"))
    return specs


@lru_cache(maxsize=16)
def _repository_excludes(top: str) -> tuple[tuple[Any, str], ...]:
    """The exclude files git reads besides ``.gitignore``, as (spec, base) pairs for ``top``.

    Read with pathspec, as ``.gitignore`` is: the walk prunes ignored directories as it goes,
    which a ``git check-ignore`` round trip per entry would only slow down."""
    base = top.rstrip("/") + "/"
    specs = []
    for path in (_global_excludes_file(top), _git_dir_file(top, "info/exclude")):
        if path is None:
            continue
        try:
            with open(path, "rb") as fh:
                text = fh.read().decode("utf-8", errors="replace")
        except OSError:
            continue
        specs.append((_ignore_spec(text), base))
    return tuple(specs)


def _git_dir_file(top: str, name: str) -> str | None:
    """``name`` in the repository's (common) git directory; a linked worktree's ``.git`` is a
    file naming its git directory, whose ``commondir`` names the shared one."""
    git = os.path.join(top, ".git")
    if os.path.isfile(git):
        try:
            with open(git, encoding="utf-8") as fh:
                pointer = fh.read().strip()
        except OSError:
            return None
        if not pointer.startswith("gitdir:"):
            return None
        git = os.path.join(top, pointer[len("gitdir:") :].strip())
        try:
            with open(os.path.join(git, "commondir"), encoding="utf-8") as fh:
                git = os.path.join(git, fh.read().strip())
        except OSError:
            pass
    return os.path.join(git, name)


def _global_excludes_file(top: str) -> str | None:
    """``core.excludesFile`` as git reads it in ``top`` (global, system or repository
    configuration), else git's default ``$XDG_CONFIG_HOME/git/ignore``."""
    import shutil
    import subprocess

    if shutil.which("git") is not None:
        try:
            found = subprocess.run(
                ["git", "config", "--path", "--get", "core.excludesFile"],
                cwd=top,
                capture_output=True,
                text=True,
                check=False,
                timeout=10,
            )
        except (OSError, subprocess.SubprocessError):
            found = None
        if found is not None and found.returncode == 0 and found.stdout.strip():
            return os.path.join(top, found.stdout.strip())
    config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(
        os.path.expanduser("~"), ".config"
    )
    return os.path.join(config_home, "git", "ignore")
