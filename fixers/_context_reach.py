"""DF204's picture of a build context: what it holds (listed with bounds) and what the build
reads from it (the sources of every Dockerfile of the context, the commands that may name
paths, whether something reads the Git history), with the path matching Docker does."""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dockfix.fixers._lazy import lazy_re
from dockfix.semantics.dockerignore import go_clean, go_filepath_match
from dockfix.semantics.semantic import mounts
from dockfix.syntax import Dockerfile, Instruction, parse_lossless, parse_words

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext


MAX_ENTRIES = 20000  # context entries listed before giving up on a complete picture
MAX_DEPTH = 12
MAX_DOCKERFILES = 50
MAX_SCRIPTS = 50  # context scripts a RUN runs, read for `git` calls
MAX_SCRIPT_CHARS = 1 << 18

# Directories that are recorded but not descended into (their content does not matter here).
_OPAQUE_DIRS = frozenset(
    {
        ".git",
        "node_modules",
        ".venv",
        "venv",
        "__pycache__",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".gradle",
        ".next",
        "target",
        ".terraform",
        ".idea",
        ".vscode",
        ".ssh",
        ".aws",
        "htmlcov",
        "coverage",
        ".nyc_output",
    }
)
_DOCKERFILE_NAME = lazy_re(
    r"(Dockerfile|Containerfile)([.-][\w.-]+)?|[\w.-]+\.(Dockerfile|dockerfile|containerfile)"
)
_GIT_METADATA_TOOLS = lazy_re(
    r"setuptools[-_]scm|hatch-vcs|versioneer|dunamai|dynamic-versioning|vergen|git-version"
    r"|git-rev-sync|\bbuilt\b.*git2|gitpython"
)
# `git describe`, `$(shell git rev-parse …)`, `` `git log` ``: a script that reads the history.
_CALLS_GIT = lazy_re(r"(^|[\s;&|(`$\"'])git\s+[a-z-]", re.M)
_PATH_WORD = lazy_re(r"[\w./-]+")
_RUNS_MAKE = lazy_re(r"(^|[\s;&|(])(make|gmake)(\s|$)")
_RUNS_PACKAGE_SCRIPT = lazy_re(r"\b(npm|yarn|pnpm|bun)\s+(run\s+)?[\w:-]+")
_INSTALLS_NODE_MODULES = lazy_re(
    r"\b(npm\s+(ci|install|i)|yarn(\s+install)?(\s|$)|pnpm\s+(install|i)|bun\s+(install|i))\b"
)
_CREATES_VENV = lazy_re(
    r"\b(uv\s+(sync|venv)|python[\d.]*\s+-m\s+venv|virtualenv|poetry\s+install)\b"
)
_BUILDS = lazy_re(
    r"\b(npm\s+run|yarn\s+(run\s+)?build|pnpm\s+(run\s+)?build|bun\s+run|tsc|vite\s+build"
    r"|next\s+build|webpack|cargo\s+(build|install)|mvn|mvnw|gradle|gradlew|go\s+build"
    r"|python\d*\s+-m\s+build|pip\s+wheel|setup\.py|make)\b"
)


# Build output is excluded only when it is known to be output: the root .gitignore lists it,
# or the build tool that writes it is configured next to it.
_OUTPUT_MARKERS = {
    "dist": ("package.json", "pyproject.toml", "setup.py"),
    "build": ("build.gradle", "build.gradle.kts", "setup.py", "package.json"),
    "target": ("Cargo.toml", "pom.xml"),
    ".next": ("package.json", "next.config.js", "next.config.mjs", "next.config.ts"),
}


# --- the context on disk ---------------------------------------------------------------------


@dataclass(eq=False)
class ContextIndex:
    """Relative paths of the context (files and directories), listed with bounds."""

    paths: list[str] = field(default_factory=list)
    dirs: set[str] = field(default_factory=set)
    complete: bool = True

    @classmethod
    def scan(cls, root: Path) -> ContextIndex:
        index = cls()
        stack: list[tuple[str, int]] = [("", 0)]
        while stack:
            rel, depth = stack.pop()
            try:
                with os.scandir(root / rel if rel else root) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                path = f"{rel}/{entry.name}" if rel else entry.name
                index.paths.append(path)
                if len(index.paths) > MAX_ENTRIES:
                    index.complete = False
                    return index
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    is_dir = False
                if is_dir:
                    index.dirs.add(path)
                    if entry.name in _OPAQUE_DIRS:
                        continue
                    if depth + 1 >= MAX_DEPTH:
                        index.complete = False
                        continue
                    stack.append((path, depth + 1))
        index.paths.sort()
        return index


# --- what the Dockerfiles read ----------------------------------------------------------------


@dataclass(eq=False)
class Reach:
    """What the build reads from the context."""

    whole: list[str] = field(default_factory=list)  # where the whole context is copied/mounted
    sources: set[str] = field(default_factory=set)  # cleaned sources other than the whole context
    texts: list[str] = field(default_factory=list)  # RUN/CMD/… texts that may name paths
    texts_before_build: list[str] = field(default_factory=list)
    dockerfiles: set[str] = field(default_factory=set)  # context-relative Dockerfile paths
    unknown: str = ""  # a source that cannot be resolved
    installs_node: bool = False
    creates_venv: bool = False
    builds: bool = False
    git_metadata: str = ""  # why Git metadata is read
    outputs: set[str] = field(default_factory=set)  # build output names known to be output


def _source_words(instr: Instruction) -> list[str] | None:
    """The context sources of a COPY/ADD (None when it reads no context)."""
    if instr.flag("from") is not None or instr.heredocs:
        return None
    words = instr.json_args if instr.json_args is not None else parse_words(instr.args, "\\")
    words = [w.strip("\"'") for w in words]
    if len(words) < 2:
        return None
    sources = words[:-1]
    if instr.keyword == "ADD":
        sources = [s for s in sources if "://" not in s and not s.startswith("git@")]
    return sources


def _bind_sources(instr: Instruction) -> list[str]:
    return [m.source or "." for m in mounts(instr) if m.type == "bind" and m.from_ is None]


def _add_dockerfile(reach: Reach, doc: Dockerfile, prefixes: Iterable[str]) -> None:
    """Add one Dockerfile's reads; ``prefixes`` are the directories its sources may be under."""
    built = False
    for instr in doc.walk():
        kw = instr.keyword
        text = instr.logical[instr.args_start :] + "".join(h.body for h in instr.heredocs)
        sources: list[str] = []
        if kw in ("COPY", "ADD"):
            sources = _source_words(instr) or []
        if kw == "RUN":
            sources = _bind_sources(instr)
            reach.texts.append(text)
            if not built:
                reach.texts_before_build.append(text)
            if _INSTALLS_NODE_MODULES.search(text):
                reach.installs_node = True
            if _CREATES_VENV.search(text):
                reach.creates_venv = True
            if _BUILDS.search(text):
                reach.builds = built = True
            if re.search(r"(^|[\s;&|(])git\s", text) or "-buildvcs=true" in text:
                reach.git_metadata = reach.git_metadata or "a RUN calls git"
        elif kw in ("CMD", "ENTRYPOINT", "ENV", "ARG", "WORKDIR", "VOLUME", "HEALTHCHECK"):
            reach.texts.append(text)
        for src in sources:
            if "$" in src:
                reach.unknown = reach.unknown or src
                continue
            cleaned = go_clean(src).lstrip("/") or "."
            for prefix in prefixes:
                full = go_clean(posixpath.join(prefix, cleaned)) if prefix else cleaned
                if full in (".", ""):
                    reach.whole.append(f"{kw} {src}")
                else:
                    reach.sources.add(full)


def source_matches(pattern: str, path: str) -> bool:
    try:
        return go_filepath_match(pattern, path)
    except ValueError:
        return True  # a source BuildKit would reject: assume it takes everything


def named_by_source(path: str, sources: Iterable[str]) -> bool:
    """Whether a COPY source is ``path`` or something inside it (it must stay)."""
    parts = path.split("/")
    for src in sources:
        if any(c in src for c in "*?["):
            pat = src.split("/")
            if len(parts) <= len(pat) and source_matches("/".join(pat[: len(parts)]), path):
                return True
        elif src == path or src.startswith(path + "/"):
            return True
    return False


def swept_by_source(path: str, sources: Iterable[str]) -> bool:
    """Whether ``path`` lies inside a directory a COPY source takes whole."""
    parts = path.split("/")
    for src in sources:
        if any(c in src for c in "*?["):
            if any(source_matches(src, "/".join(parts[: i + 1])) for i in range(len(parts) - 1)):
                return True
        elif path.startswith(src + "/"):
            return True
    return False


def text_mentions(texts: Iterable[str], name: str, strict: bool) -> bool:
    """Whether a text names a path: ``name/`` or ``./name`` (strict), or the name as a word."""
    esc = re.escape(name)
    if strict:
        pattern = rf"(^|[\s\"'=(:,\[])(\./)?{esc}/|\./{esc}\b"
    else:
        pattern = rf"(^|[^\w.-]){esc}($|[^\w.-])"
    rx = re.compile(pattern)
    return any(rx.search(t) for t in texts)


def literal_pattern(path: str) -> str | None:
    """A pattern that matches exactly this path (None when no pattern can)."""
    if path != path.strip() or "\n" in path or "\r" in path:
        return None  # ignore files trim blanks
    out = re.sub(r"([\\*?\[\]])", r"\\\1", path)
    if out.startswith(("#", "!")):
        out = "\\" + out
    return out


def _scripts_run(texts: list[str], index: ContextIndex) -> list[str]:
    """Context files the build may run: those a RUN (CMD …) names by path (`./version.sh`,
    `/src/scripts/build.sh` after a `COPY . /src`), the Makefile of a `make`, and
    `package.json` of an `npm run`."""
    files = set(index.paths) - index.dirs
    found: list[str] = []
    for text in texts:
        for word in _PATH_WORD.findall(text):
            parts = [p for p in word.split("/") if p not in ("", ".")]
            # an image path ends with the context path it was copied from
            for i in range(len(parts)):
                rel = "/".join(parts[i:])
                if rel in files and ("/" in word or rel == word):
                    found.append(rel)
                    break
        if _RUNS_MAKE.search(text):
            found += [m for m in ("GNUmakefile", "makefile", "Makefile") if m in files]
        if _RUNS_PACKAGE_SCRIPT.search(text) and "package.json" in files:
            found.append("package.json")
    return list(dict.fromkeys(found))


def with_parents(path: str) -> set[str]:
    """``path`` and the directories above it (excluding one excludes the path)."""
    parts = path.split("/")
    return {"/".join(parts[: i + 1]) for i in range(len(parts))}


def unknown_reason(reach: Reach) -> str:
    return f"the COPY/ADD source `{reach.unknown}` depends on a build argument"


def read_reach(doc: Dockerfile, ctx: FixContext, index: ContextIndex) -> Reach:
    """What the build reads from its context: this Dockerfile's sources and commands, the other
    Dockerfiles of the context, and whether anything reads the Git history."""
    assert ctx.context_dir is not None
    reach = Reach()
    root = ctx.context_dir.resolve()
    own: str | None = None
    if ctx.path is not None:
        try:
            own = ctx.path.resolve().relative_to(root).as_posix()
        except (ValueError, OSError):
            own = None
    if own is not None:
        reach.dockerfiles.add(own)
    _add_dockerfile(reach, doc, [""])
    # Other Dockerfiles of the context: their sources may be relative to the context or to
    # their own directory, so count both.
    others = [p for p in index.paths if _DOCKERFILE_NAME.fullmatch(p.rsplit("/", 1)[-1])]
    for rel in others[:MAX_DOCKERFILES]:
        reach.dockerfiles.add(rel)
        if rel == own or rel in index.dirs:
            continue
        try:
            text = (root / rel).read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        other = parse_lossless(text)
        if other.error is None:
            _add_dockerfile(reach, other, ["", posixpath.dirname(rel)])
    if len(others) > MAX_DOCKERFILES:
        index.complete = False
    gitignore = ctx.read_text(".gitignore") or ""
    listed = {ln.strip().strip("/").removeprefix("**/") for ln in gitignore.splitlines()}
    for out, markers in _OUTPUT_MARKERS.items():
        if out in listed or any(ctx.exists(m) for m in markers):
            reach.outputs.add(out)
    for name in ("pyproject.toml", "setup.cfg", "setup.py", "package.json", "Cargo.toml"):
        manifest = ctx.read_text(name)
        if manifest and _GIT_METADATA_TOOLS.search(manifest):
            reach.git_metadata = reach.git_metadata or f"{name} reads Git metadata"
    for rel in _scripts_run(reach.texts, index)[:MAX_SCRIPTS]:
        script = ctx.read_text(rel) or ""
        if len(script) <= MAX_SCRIPT_CHARS and _CALLS_GIT.search(script):
            reach.git_metadata = reach.git_metadata or f"{rel}, which the build runs, calls git"
    return reach
