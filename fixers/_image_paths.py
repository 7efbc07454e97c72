"""Where things are in the image a stage builds, for DF301, DF302, DF303 and DF306: the base
image and what is known about it by name, the `WORKDIR` in effect (over the base image's own),
which build-context file a `COPY` put at an image path, the start command, and the paths later
instructions refer to.

The variables, the stage chain and the `WORKDIR` walk are the engine's
(:mod:`dockfix.semantics.semantic`); this module adds the facts about public images those need.
"""

from __future__ import annotations

import fnmatch
import json
import posixpath
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from dockfix.fixers._base_images import is_alpine, is_distroless, is_windows
from dockfix.fixers._lazy import lazy_re
from dockfix.semantics.memo import per_context, per_instruction, per_tree
from dockfix.semantics.semantic import (
    base_image as parsed_base_image,
)
from dockfix.semantics.semantic import (
    base_reference,
    descendants,
    is_within,
    resolve_path,
    settings_after,
    stage_chain,
    stage_named_by,
    unquote_word,
    workdir_at,
)
from dockfix.syntax import Dockerfile, Instruction, Stage

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext


# Directories that exist in every Linux base image: `-o`/`cp` into them writes a file inside.
SYSTEM_DIRS = frozenset(
    {
        "/",
        "/bin",
        "/sbin",
        "/usr/bin",
        "/usr/sbin",
        "/usr/local/bin",
        "/usr/local/sbin",
        "/tmp",
        "/opt",
        "/srv",
        "/root",
        "/home",
        "/etc",
        "/var",
        "/usr",
        "/usr/local",
        "/go/bin",
        "/usr/local/cargo/bin",
    }
)
# `PATH` of the distroless images (and of most distros).
DISTROLESS_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
TOOLCHAIN_PATH = {
    "golang": ("/go/bin", "/usr/local/go/bin", *DISTROLESS_PATH),
    "rust": ("/usr/local/cargo/bin", *DISTROLESS_PATH),
}
# WORKDIR the official images set (a stage without WORKDIR starts there).
IMAGE_WORKDIRS = {
    "golang": "/go",
    "rust": "/",
    "node": "/",
    "debian": "/",
    "ubuntu": "/",
    "alpine": "/",
    "busybox": "/",
    "scratch": "/",
    "python": "/",
    "eclipse-temurin": "/",
    "nginx": "/",
    "httpd": "/usr/local/apache2",
    "redis": "/data",
}

# Names in a project tree that services commonly read at run time.
RUNTIME_ASSET_DIRS = frozenset(
    {
        "templates",
        "template",
        "static",
        "public",
        "assets",
        "migrations",
        "views",
        "config",
        "configs",
        "conf",
        "locales",
        "i18n",
        "locale",
        "web",
        "www",
        "html",
        "resources",
        "prisma",
        "certs",
        "keys",
        "data",
        "fixtures",
        "schema",
        "schemas",
    }
)
RUNTIME_ASSET_FILES = lazy_re(
    # (`settings.gradle` is the build's, not the application's)
    r"^(\.env(\..*)?|config\.[a-z]+|settings\.(?!gradle$)[a-z]+|app\.(ya?ml|toml|json|ini)|"
    r"Rocket\.toml|application(-[a-z]+)?\.(ya?ml|properties))$"
)


# --- the base image -----------------------------------------------------------------------


class BaseImage(NamedTuple):
    """The external image a stage starts from, with ARGs expanded."""

    reference: str
    repository: str  # normalised, e.g. library/golang, distroless/static
    registry: str
    tag: str

    @property
    def name(self) -> str:
        """The last path component: ``golang``, ``static``, ``nodejs20-debian12``."""
        return self.repository.rsplit("/", 1)[-1]

    @property
    def is_official(self) -> bool:
        return self.repository.startswith("library/")

    @property
    def is_distroless(self) -> bool:
        return is_distroless(self.registry, self.repository)

    @property
    def is_alpine(self) -> bool:
        return is_alpine(self.repository, self.tag)

    @property
    def is_windows(self) -> bool:
        return is_windows(self.registry, self.repository, self.tag.lower())


@per_tree
def base_image(doc: Dockerfile, stage: Stage) -> BaseImage | None:
    """The external image at the root of the stage's chain; None when unknown or `scratch`."""
    ref = parsed_base_image(doc, stage)
    if ref is None:
        return None
    return BaseImage(ref.original, ref.repository, ref.registry, ref.tag or "latest")


def is_scratch(doc: Dockerfile, stage: Stage) -> bool:
    return (base_reference(doc, stage) or "").lower() == "scratch"


@per_tree
def image_workdir(doc: Dockerfile, stage: Stage) -> str | None:
    """The WORKDIR the chain's base image starts in; None when this module does not know it."""
    base = base_image(doc, stage)
    if is_scratch(doc, stage) or (base is not None and base.is_distroless):
        return "/"
    if base is not None and base.is_official:
        return IMAGE_WORKDIRS.get(base.name)
    return None


def image_workdir_at(doc: Dockerfile, stage: Stage, instr: Instruction | None) -> str | None:
    """The absolute WORKDIR in effect before ``instr`` (end of stage when None), starting from
    the base image's own; None when unknown."""
    return workdir_at(doc, stage, instr, image_workdir(doc, stage))


def image_workdir_after(doc: Dockerfile, stage: Stage, instr: Instruction) -> str | None:
    """The WORKDIR in effect right after ``instr`` (the one a WORKDIR sets)."""
    return settings_after(doc, stage, instr, image_workdir(doc, stage)).workdir


# --- COPY/ADD -----------------------------------------------------------------------------


@dataclass(eq=False)
class CopyParts:
    sources: list[str]
    dest: str
    # (logical start, logical end) of each source word and of dest; None in JSON form.
    source_spans: list[tuple[int, int]] | None
    dest_span: tuple[int, int] | None
    plain: bool  # no quotes, no variables, no wildcards in any word


@per_instruction
def copy_parts(instr: Instruction) -> CopyParts | None:
    """Sources and destination of a COPY/ADD without heredocs; None when not readable (read
    once per tree: every query about what the stage's COPYs put where reads them all)."""
    if instr.heredocs:
        return None
    if instr.json_args is not None:
        words = list(instr.json_args)
        if len(words) < 2:
            return None
        plain = not any(_special(w) for w in words)
        return CopyParts(words[:-1], words[-1], None, None, plain)
    raw = instr.args_words()
    if len(raw) < 2:
        return None
    plain = not any(_special(w) or "'" in w or '"' in w for w, _, _ in raw)
    values = [unquote_word(w) for w, _, _ in raw]
    return CopyParts(
        values[:-1], values[-1], [(s, e) for _, s, e in raw[:-1]], (raw[-1][1], raw[-1][2]), plain
    )


def _special(word: str) -> bool:
    return any(c in word for c in "$*?[\\")


def _context_is_dir(ctx: FixContext, rel: str) -> bool | None:
    rel = rel.strip("/")
    if rel in ("", "."):
        return True
    return _context_entry_is_dir(ctx, rel)


@per_context
def _context_entry_is_dir(ctx: FixContext, rel: str) -> bool | None:
    """Asked once per COPY source for every path looked up: answered once per file checked."""
    p = ctx.context_path(rel)
    answer: bool | None = None  # not there, or no context to look in
    if p is not None and p.is_dir():
        answer = True
    elif p is not None and p.exists():
        answer = False
    return answer


def context_source(
    doc: Dockerfile,
    stage: Stage,
    image_path: str,
    ctx: FixContext,
    before: Instruction | None = None,
) -> str | None:
    """The build-context path that a COPY/ADD of the stage's chain put at ``image_path``."""
    found: str | None = None
    for st in stage_chain(stage):
        for i in st.instructions:
            if i is before:
                return found
            if i.keyword not in ("COPY", "ADD") or i.flag("from") is not None:
                continue
            if i.flag("parents") is not None:
                continue
            parts = copy_parts(i)
            if parts is None:
                continue
            hit = _copy_maps(doc, st, i, parts, image_path, ctx)
            if hit is not None and not ctx.is_excluded(hit):
                found = hit
    return found


def _copy_maps(
    doc: Dockerfile, st: Stage, i: Instruction, parts: CopyParts, image_path: str, ctx: FixContext
) -> str | None:
    if any(s.startswith(("http://", "https://", "git@")) or "$" in s for s in parts.sources):
        return None
    if "$" in parts.dest:
        return None
    dest = resolve_path(parts.dest, image_workdir_at(doc, st, i))
    if dest is None:
        return None
    dest_is_dir = parts.dest.endswith("/") or len(parts.sources) > 1
    for src in parts.sources:
        src_rel = posixpath.normpath(src.lstrip("/")) if src.strip("/") else "."
        if any(c in src for c in "*?["):
            # A wildcard source: its matches land in dest by basename.
            if not is_within(image_path, dest) or image_path == dest:
                continue
            rel = image_path[len(dest) :].lstrip("/")
            head, _, _ = rel.partition("/")
            if fnmatch.fnmatchcase(head, posixpath.basename(src_rel)):
                parent = posixpath.dirname(src_rel)
                return posixpath.normpath(posixpath.join(parent, rel)) if parent else rel
            continue
        is_dir = _context_is_dir(ctx, src_rel)
        if is_dir:
            if is_within(image_path, dest):
                rel = image_path[len(dest) :].lstrip("/") if dest != "/" else image_path.lstrip("/")
                joined = posixpath.join(src_rel, rel) if rel else src_rel
                return posixpath.normpath(joined)
        elif is_dir is False:
            target = posixpath.join(dest, posixpath.basename(src_rel)) if dest_is_dir else dest
            if image_path == target:
                return src_rel
    return None


def copied_into(doc: Dockerfile, stage: Stage, root: str, ctx: FixContext) -> list[str] | None:
    """Names of the entries that the chain's context COPY/ADDs put directly inside ``root``;
    None without a build context on disk (what `COPY . .` brings is then unknown)."""
    if not ctx.has_context:
        return None
    names: set[str] = set()
    for st in stage_chain(stage):
        for i in st.instructions:
            if i.keyword not in ("COPY", "ADD") or i.flag("from") is not None:
                continue
            parts = copy_parts(i)
            if parts is None or "$" in parts.dest:
                continue
            dest = resolve_path(parts.dest, image_workdir_at(doc, st, i))
            if dest is None:
                continue
            dest_is_dir = parts.dest.endswith("/") or len(parts.sources) > 1
            for src in parts.sources:
                if "$" in src or src.startswith(("http://", "https://", "git@")):
                    continue
                src_rel = posixpath.normpath(src.lstrip("/")) if src.strip("/") else "."
                landed: list[str] = []
                if any(c in src for c in "*?["):
                    parent = posixpath.dirname(src_rel)
                    landed = [
                        posixpath.join(dest, n)
                        for n in ctx.list_dir(parent)
                        if fnmatch.fnmatchcase(n, posixpath.basename(src_rel))
                    ]
                elif _context_is_dir(ctx, src_rel):
                    if is_within(root, dest) and root != dest:
                        # The tree is copied to an ancestor of root: list the matching subdir.
                        sub = posixpath.join(src_rel, root[len(dest) :].lstrip("/"))
                        landed = [posixpath.join(root, n) for n in _listed(ctx, sub)]
                    else:
                        landed = [posixpath.join(dest, n) for n in _listed(ctx, src_rel)]
                        if not landed:
                            landed = [dest]
                else:
                    name = posixpath.basename(src_rel)
                    landed = [posixpath.join(dest, name) if dest_is_dir else dest]
                for path in landed:
                    if is_within(path, root) and path != root:
                        names.add(path[len(root) :].lstrip("/").split("/")[0])
    return sorted(names)


def _listed(ctx: FixContext, rel: str) -> list[str]:
    """Entries of a context directory that `.dockerignore` lets into the build."""
    return [
        n
        for n in ctx.list_dir(rel)
        if not ctx.is_excluded(posixpath.normpath(posixpath.join(rel, n)))
    ]


def runtime_assets(names: list[str]) -> list[str]:
    """Entries of a project tree that a service may read at run time."""
    return [n for n in names if n.lower() in RUNTIME_ASSET_DIRS or RUNTIME_ASSET_FILES.match(n)]


def start_command(stage: Stage) -> tuple[Instruction | None, Instruction | None]:
    """(ENTRYPOINT, CMD) in effect for a stage; a later ENTRYPOINT resets an inherited CMD."""
    entry: Instruction | None = None
    cmd: Instruction | None = None
    for st in stage_chain(stage):
        for i in st.instructions:
            if i.keyword == "ENTRYPOINT":
                entry = i
                cmd = None
            elif i.keyword == "CMD":
                cmd = i
    return entry, cmd


def json_list(words: list[str]) -> str:
    """An exec-form JSON array as Dockerfiles write it: ``["a", "b"]``."""
    return "[" + ", ".join(json.dumps(w) for w in words) + "]"


# --- paths an image's later instructions refer to -----------------------------------------

_TOKEN_SPLIT = lazy_re(r"[\s\"'=,:;&|()<>\[\]]+")


# Instructions whose words may read files of the image (COPY/ADD only write into it; LABEL,
# EXPOSE, USER… hold no paths).
_READING_KEYWORDS = frozenset({"RUN", "CMD", "ENTRYPOINT", "HEALTHCHECK", "ENV", "VOLUME", "SHELL"})


def path_tokens(instr: Instruction) -> list[str]:
    """Words of an instruction that look like file paths: they contain `/`, or (in commands)
    look like a file name (`config.yaml`, `.env`)."""
    if instr.keyword not in _READING_KEYWORDS:
        return []
    command = instr.keyword in ("RUN", "CMD", "ENTRYPOINT", "HEALTHCHECK")
    text = instr.logical[instr.args_start :]
    for h in instr.heredocs:
        text += "\n" + h.body
    out: list[str] = []
    for tok in _TOKEN_SPLIT.split(text):
        if not tok or tok.startswith(("-", "$", "http")) or tok.endswith("//"):
            continue
        if "/" in tok or (
            command and ((tok.startswith(".") and len(tok) > 1) or re.search(r"\w\.\w", tok))
        ):
            out.append(tok)
    return out


def tree_references(
    doc: Dockerfile, stage: Stage, after: Instruction, root: str, keep: set[str]
) -> list[str]:
    """Paths inside image dir ``root`` that instructions after ``after`` (in ``stage`` and the
    stages built on it, or copied from it by other stages) refer to, other than ``keep``."""
    found: list[str] = []
    seen_after = False
    stages = [stage, *descendants(doc, stage)]
    for st in stages:
        for i in st.instructions:
            if st is stage and not seen_after:
                seen_after = i is after
                continue
            cwd = image_workdir_at(doc, st, i)
            tokens = path_tokens(i)
            if i.keyword in ("CMD", "ENTRYPOINT") and i.json_args and "/" not in i.json_args[0]:
                tokens = [t for t in tokens if t != i.json_args[0]]
            for tok in tokens:
                p = resolve_path(tok, cwd)
                if p is not None and is_within(p, root) and p not in keep and p not in found:
                    found.append(p)
    for st in doc.stages:
        for i in st.instructions:
            f = i.flag("from")
            if i.keyword != "COPY" or f is None or stage_named_by(doc, f.value) not in stages:
                continue
            parts = copy_parts(i)
            for src in parts.sources if parts else []:
                p = resolve_path(src, "/")
                if p is not None and is_within(p, root) and p not in keep and p not in found:
                    found.append(p)
    return found


def ancestors(path: str) -> set[str]:
    """``path`` and every directory above it."""
    out = {path}
    while path not in ("/", ""):
        path = posixpath.dirname(path)
        out.add(path)
    return out
