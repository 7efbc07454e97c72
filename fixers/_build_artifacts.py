"""What a build stage produces: the analysis shared by DF301, DF302 and DF303.

Given a stage, this finds the Go, Cargo and Node builds its `RUN`s perform and names the
artifacts they leave in the image (absolute paths), or says why an artifact cannot be named.
It also answers the questions these fixers share: the `WORKDIR` in effect at an instruction,
which build-context file a `COPY` put at an image path, what base image a stage really starts
from (ARG-driven `FROM` expanded), and which files of the copied tree a service may read at
run time (templates, static files, migrations).

Everything is conservative: an unknown value (an unset variable, a `cd` into a computed
directory, a Cargo config this module does not understand) makes the answer unknown, never a
guess.
"""

from __future__ import annotations

import fnmatch
import json
import posixpath
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from dockfix.fixers._lazy import lazy_re
from dockfix.image_ref import ImageRef
from dockfix.shell import blank_heredoc_words, heredoc_shell_of, shell_of
from dockfix.syntax import Dockerfile, Instruction, Stage

if TYPE_CHECKING:
    from dockfix.context import FixContext

Scope = dict[str, str | None]

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
    r"^(\.env(\..*)?|config\.[a-z]+|settings\.[a-z]+|app\.(ya?ml|toml|json|ini)|"
    r"Rocket\.toml|application(-[a-z]+)?\.(ya?ml|properties))$"
)


# --- variables and paths ------------------------------------------------------------------

_VAR_RE = lazy_re(
    r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}$]*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)


def expand(text: str, scope: Scope) -> str | None:
    """Expand ``$VAR``, ``${VAR}``, ``${VAR:-x}``, ``${VAR:+x}``; None when a value is unknown."""
    unknown = False

    def sub(m: re.Match[str]) -> str:
        nonlocal unknown
        name = m.group(1) or m.group(4)
        op, word = m.group(2), m.group(3) or ""
        known = name in scope and scope[name] is not None
        value = scope.get(name) or ""
        if op is None:
            if not known:
                unknown = True
            return value
        if not known and name in scope:
            known = True  # declared without a value: empty
        if op in (":-", "-"):
            if not known:
                return word
            return word if (op == ":-" and value == "") else value
        # :+ / +
        if not known:
            unknown = True
            return ""
        return word if (value != "" or op == "+") else ""

    out = _VAR_RE.sub(sub, text)
    if unknown or "$" in out:
        return None
    return out


def resolve_path(path: str, cwd: str | None) -> str | None:
    """An absolute, normalised image path; None when relative to an unknown directory."""
    if not path:
        return None
    if path.startswith("/"):
        return posixpath.normpath(path).replace("//", "/")
    if cwd is None:
        return None
    return posixpath.normpath(posixpath.join(cwd, path))


def is_within(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or inside it (both absolute and normalised)."""
    if root == "/":
        return True
    return path == root or path.startswith(root + "/")


# --- images and stages --------------------------------------------------------------------


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
        return self.repository.startswith("distroless/") and self.registry == "gcr.io"

    @property
    def is_alpine(self) -> bool:
        return self.name == "alpine" or "alpine" in self.tag

    @property
    def is_windows(self) -> bool:
        tag = self.tag.lower()
        return (
            "windowsservercore" in tag
            or "nanoserver" in tag
            or self.repository.startswith("windows/")
        )


def stage_chain(stage: Stage) -> list[Stage]:
    """The stage and the stages it is built on, root first."""
    chain = [stage]
    seen = {id(stage)}
    while chain[0].parent is not None and id(chain[0].parent) not in seen:
        seen.add(id(chain[0].parent))
        chain.insert(0, chain[0].parent)
    return chain


def base_image(doc: Dockerfile, stage: Stage) -> BaseImage | None:
    """The external image at the root of the stage's chain; None when unknown or `scratch`."""
    key = ("base_image", stage.index)
    if key not in doc.cache:
        doc.cache[key] = _base_image(doc, stage)
    return doc.cache[key]  # type: ignore[return-value]


def _base_image(doc: Dockerfile, stage: Stage) -> BaseImage | None:
    root = stage_chain(stage)[0]
    if root.parent is not None or not root.base:
        return None
    text = expand(root.base, dict(doc.global_args))
    if text is None or text.lower() == "scratch":
        return None
    try:
        ref = ImageRef.parse(text)
    except ValueError:
        return None
    return BaseImage(text, ref.repository, ref.registry, ref.tag or "latest")


def is_scratch(doc: Dockerfile, stage: Stage) -> bool:
    root = stage_chain(stage)[0]
    base = expand(root.base, dict(doc.global_args)) or ""
    return root.parent is None and base.lower() == "scratch"


def scope_at(stage: Stage, instr: Instruction | None) -> Scope:
    """Variables in scope before ``instr`` (ARG values included, global defaults applied)."""
    # Asked for most instructions of a stage by several fixers: worked out once per tree
    # (a copy each time: callers may add to it).
    if instr is None:
        return _scope_at(stage, None)
    key = f"scope@{stage.index}"
    cached = instr.cache.get(key)
    if not isinstance(cached, dict):
        cached = instr.cache[key] = _scope_at(stage, instr)
    return dict(cached)


def _scope_at(stage: Stage, instr: Instruction | None) -> Scope:
    scope: Scope = {}
    for name, value in stage.variables_at(instr).items():
        scope[name] = value
    # ENV values may refer to earlier variables; expand them where possible.
    for name, value in list(scope.items()):
        if value is not None and "$" in value:
            scope[name] = expand(value, scope)
    return scope


def workdir_at(doc: Dockerfile, stage: Stage, instr: Instruction | None) -> str | None:
    """The absolute WORKDIR in effect before ``instr`` (end of stage when None)."""
    befores, end = _workdirs(doc, stage)
    return befores.get(instr, end) if instr is not None else end


def _workdirs(
    doc: Dockerfile, stage: Stage
) -> tuple[dict[Instruction, str | None], str | None]:
    """The WORKDIR before each instruction of the stage and the stages it builds on, and at
    its end: one walk per tree (asked for most instructions by several fixers)."""
    key = ("workdirs", stage)
    cached = doc.cache.get(key)
    if isinstance(cached, tuple):
        return cached
    base = base_image(doc, stage)
    cwd: str | None
    if is_scratch(doc, stage) or (base is not None and base.is_distroless):
        cwd = "/"
    elif base is not None and base.is_official:
        cwd = IMAGE_WORKDIRS.get(base.name)
    else:
        cwd = None
    befores: dict[Instruction, str | None] = {}
    for st in stage_chain(stage):
        for i in st.instructions:
            befores.setdefault(i, cwd)  # the first time, as a walk would stop there
            if i.keyword == "WORKDIR":
                cwd = _workdir_value(st, i, cwd)
    doc.cache[key] = (befores, cwd)
    return befores, cwd


def _workdir_value(st: Stage, instr: Instruction, cwd: str | None) -> str | None:
    raw = instr.args
    if not raw or raw.startswith("["):
        return None
    word = _unquote_word(raw)
    value = expand(word, scope_at(st, instr)) if "$" in word else word
    return resolve_path(value, cwd) if value is not None else None


def _unquote_word(word: str) -> str:
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "'\"":
        return word[1:-1]
    return word


# --- COPY/ADD -----------------------------------------------------------------------------


@dataclass(eq=False)
class CopyParts:
    sources: list[str]
    dest: str
    # (logical start, logical end) of each source word and of dest; None in JSON form.
    source_spans: list[tuple[int, int]] | None
    dest_span: tuple[int, int] | None
    plain: bool  # no quotes, no variables, no wildcards in any word


def copy_parts(instr: Instruction) -> CopyParts | None:
    """Sources and destination of a COPY/ADD without heredocs; None when not readable."""
    # once per tree: every query about what the stage's COPYs put where reads them all
    if "copy-parts" in instr.cache:
        cached = instr.cache["copy-parts"]
        return cached if isinstance(cached, CopyParts) else None
    parts = _copy_parts(instr)
    instr.cache["copy-parts"] = parts
    return parts


def _copy_parts(instr: Instruction) -> CopyParts | None:
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
    values = [_unquote_word(w) for w, _, _ in raw]
    return CopyParts(
        values[:-1], values[-1], [(s, e) for _, s, e in raw[:-1]], (raw[-1][1], raw[-1][2]), plain
    )


def _special(word: str) -> bool:
    return any(c in word for c in "$*?[\\")


def _context_is_dir(ctx: FixContext, rel: str) -> bool | None:
    rel = rel.strip("/")
    if rel in ("", "."):
        return True
    key = ("context-is-dir", rel)  # asked once per COPY source for every path looked up
    if key in ctx.memo:
        known = ctx.memo[key]
        return known if isinstance(known, bool) else None
    p = ctx.context_path(rel)
    answer: bool | None = None  # not there, or no context to look in
    if p is not None and p.is_dir():
        answer = True
    elif p is not None and p.exists():
        answer = False
    ctx.memo[key] = answer
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
    dest = resolve_path(parts.dest, workdir_at(doc, st, i))
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
            dest = resolve_path(parts.dest, workdir_at(doc, st, i))
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


# --- the commands of a RUN ----------------------------------------------------------------


@dataclass(eq=False)
class Command:
    argv: list[str | None]  # None: a word whose value is unknown (an unset variable)
    env: dict[str, str | None]  # inline assignments, `export`s and the stage's ENV/ARG
    cwd: str | None  # absolute directory the command runs in
    top_level: bool


def run_commands(doc: Dockerfile, stage: Stage, instr: Instruction) -> list[Command] | None:
    """The simple commands of a RUN in order, with their environment and directory.

    None when the RUN's script cannot be read (a parse error, a non-shell heredoc).
    """
    scope = scope_at(stage, instr)
    cwd = workdir_at(doc, stage, instr)
    if instr.json_args is not None:
        argv: list[str | None] = list(instr.json_args)
        return [Command(argv, dict(scope), cwd, True)]
    if not instr.heredocs:
        script = shell_of(instr)
        if script is None or script.has_error:
            return None
        scripts = [(script, instr.logical)]
    else:
        # The command line without its `<<EOF` words: empty (or `sh`/`bash`) means the
        # heredoc bodies are the script; anything else reads them as data.
        script = shell_of(instr)
        if script is None or script.has_error:
            return None
        scripts = [(script, blank_heredoc_words(instr))]
        names = [c.name for c in script.commands if c.words]
        runs_bodies = not names or (
            len(names) == 1
            and names[0] in ("sh", "bash", "ash", "dash")
            and all(
                w.value.startswith("-") and "c" not in w.value for w in script.commands[0].words[1:]
            )
        )
        for number, h in enumerate(instr.heredocs if runs_bodies else []):
            first = h.body.lstrip().split("\n", 1)[0]
            if first.startswith("#!") and not re.search(r"\b(ba|da|a)?sh\b", first):
                return None
            body = heredoc_shell_of(instr, number)
            if body.has_error:
                return None
            scripts.append((body, body.text))
    out: list[Command] = []
    env: dict[str, str | None] = dict(scope)
    for sh, text in scripts:
        # `export X=1` is not a simple command: read it from the chain's text.
        exports: list[tuple[int, str, str]] = []
        for item in sh.chain:
            if item.kind == "declaration_command":
                decl = text[item.start : item.end].split()
                if decl and decl[0] == "export":
                    for w in decl[1:]:
                        if "=" in w:
                            k, v = w.split("=", 1)
                            exports.append((item.start, k, _unquote_word(v)))
        for c in sh.commands:
            for pos, k, v in exports:
                if pos < c.start:
                    env[k] = expand(v, env)
            exports = [e for e in exports if e[0] >= c.start]
            cmd_env = dict(env)
            for a in c.assignments:
                k, _, v = a.value.partition("=")
                cmd_env[k] = expand(_unquote_word(v), env)
            words: list[str | None] = []
            for word in c.words:
                words.append(expand(word.value, cmd_env) if "$" in word.value else word.value)
            if words and words[0] == "cd":
                target = words[1] if len(words) > 1 else None
                if not c.top_level or target is None or target.startswith("-"):
                    cwd = None
                else:
                    cwd = resolve_path(target, cwd)
                continue
            out.append(Command(words, cmd_env, cwd, c.top_level))
    return out


def cache_mount_targets(doc: Dockerfile, stage: Stage, instr: Instruction) -> list[str]:
    """Absolute targets of the RUN's ``--mount=type=cache`` (and tmpfs) mounts."""
    out: list[str] = []
    cwd = workdir_at(doc, stage, instr)
    for value in instr.flag_values("mount"):
        fields: dict[str, str] = {}
        for kv in value.split(","):
            key, _, val = kv.partition("=")
            fields[key.strip()] = val
        if fields.get("type") not in ("cache", "tmpfs"):
            continue
        target = fields.get("target") or fields.get("dst") or fields.get("destination")
        if target:
            p = resolve_path(target, cwd)
            if p is not None:
                out.append(p)
    return out


# --- artifacts ----------------------------------------------------------------------------


@dataclass(eq=False)
class Artifact:
    ecosystem: str  # "go" or "cargo"
    path: str  # where the build wrote it
    run: Instruction
    static: bool  # needs no libc (Go with CGO_ENABLED=0, Rust on a musl target)
    musl: bool = False  # linked against musl (built on Alpine without static linking)
    project_dir: str | None = None  # the directory the build ran in
    cargo_target_dir: str | None = None
    # Every path the binary persists at in the image: build output and cp/mv/install copies.
    locations: list[str] = field(default_factory=list)


@dataclass(eq=False)
class NodeBuild:
    run: Instruction
    project_dir: str
    prod_modules: bool  # node_modules hold production dependencies only


@dataclass(eq=False)
class StageBuild:
    """What the stage's chain builds."""

    artifacts: list[Artifact] = field(default_factory=list)
    problems: list[tuple[Instruction, str, str]] = field(default_factory=list)  # (run, eco, why)
    node: NodeBuild | None = None
    ecosystems: set[str] = field(default_factory=set)
    build_runs: list[Instruction] = field(default_factory=list)


def analyse_stage(doc: Dockerfile, stage: Stage, ctx: FixContext) -> StageBuild:
    """The builds the stage (with the stages it derives from) runs, and their outputs.

    Computed once per tree and build context: DF301, DF302 and DF303 all ask.
    """
    key = ("stage_build", stage.index, id(ctx))
    cached = doc.cache.get(key)
    if isinstance(cached, StageBuild):
        return cached
    result = _analyse_stage(doc, stage, ctx)
    doc.cache[key] = result
    return result


def _analyse_stage(doc: Dockerfile, stage: Stage, ctx: FixContext) -> StageBuild:
    result = StageBuild()
    base = base_image(doc, stage)
    if doc.escape != "\\" or (base is not None and base.is_windows):
        return result  # Windows images: paths, shells and binaries follow other rules
    last_install_prod: bool | None = None
    for st in stage_chain(stage):
        for instr in st.instructions:
            if instr.keyword != "RUN":
                continue
            cmds = run_commands(doc, st, instr)
            if cmds is None:
                if re.search(
                    r"\b(go|cargo)\s+build\b",
                    instr.logical + "".join(h.body for h in instr.heredocs),
                ):
                    eco = "go" if re.search(r"\bgo\s+build\b", instr.logical) else "cargo"
                    result.ecosystems.add(eco)
                    result.build_runs.append(instr)
                    result.problems.append((instr, eco, "the RUN's script cannot be analysed"))
                continue
            mounts = cache_mount_targets(doc, st, instr)
            for idx, cmd in enumerate(cmds):
                argv = cmd.argv
                if len(argv) < 2 or argv[0] is None:
                    continue
                prog = posixpath.basename(argv[0])
                found: list[Artifact] = []
                problem: str | None = None
                eco = ""
                if prog == "go" and argv[1] in ("build", "install"):
                    eco = "go"
                    found, problem = _go_build(doc, st, cmd, instr, ctx, base)
                elif prog == "cargo" and argv[1] in ("build", "b", "install"):
                    eco = "cargo"
                    found, problem = _cargo_build(doc, st, cmd, instr, ctx, base)
                elif _is_node_build(argv):
                    cwd = cmd.cwd
                    result.ecosystems.add("node")
                    result.build_runs.append(instr)
                    if cwd is not None:
                        result.node = NodeBuild(instr, cwd, False)
                    continue
                else:
                    prod = _node_install_prod(argv, cmd.env)
                    if prod is not None:
                        last_install_prod = prod
                    continue
                result.ecosystems.add(eco)
                if instr not in result.build_runs:
                    result.build_runs.append(instr)
                if problem is not None:
                    result.problems.append((instr, eco, problem))
                    continue
                for art in found:
                    art.locations = _persisted_locations(art.path, cmds[idx + 1 :], mounts)
                    if not art.locations:
                        result.problems.append(
                            (instr, eco, f"`{art.path}` is in a cache mount and not copied out")
                        )
                        continue
                    # A later build of the same output replaces the earlier one.
                    result.artifacts = [a for a in result.artifacts if a.path != art.path]
                    result.artifacts.append(art)
    if result.node is not None:
        result.node.prod_modules = bool(last_install_prod)
    return result


def _persisted_locations(path: str, later: list[Command], mounts: list[str]) -> list[str]:
    """Where a built file ends up after later cp/mv/install commands of the same RUN."""
    places = [path]
    for cmd in later:
        argv = cmd.argv
        if not argv or argv[0] is None:
            continue
        prog = posixpath.basename(argv[0])
        if prog not in ("cp", "mv", "install"):
            continue
        args = [a for a in argv[1:] if a is not None and not a.startswith("-")]
        if prog == "install":
            # install [-m MODE] [-o OWNER] SRC DST: option values are separate words.
            args = []
            skip = False
            for a in argv[1:]:
                if skip:
                    skip = False
                    continue
                if a is None:
                    args.append("")
                    continue
                if a in ("-m", "-o", "-g", "--mode", "--owner", "--group"):
                    skip = True
                    continue
                if a.startswith("-"):
                    continue
                args.append(a)
        if len(args) != 2:
            continue
        src = resolve_path(args[0], cmd.cwd)
        if src is None or src not in places:
            continue
        dst_raw = args[1]
        dst = resolve_path(dst_raw, cmd.cwd)
        if dst is None:
            continue
        if dst_raw.endswith("/") or dst in SYSTEM_DIRS:
            dst = posixpath.join(dst, posixpath.basename(src))
        if prog == "mv":
            places.remove(src)
        places.append(dst)
    return [p for p in places if not any(is_within(p, m) for m in mounts)]


# Go: flags of `go build` that take a value (the rest are booleans).
_GO_VALUE_FLAGS = frozenset(
    {
        "o",
        "p",
        "C",
        "asmflags",
        "buildmode",
        "compiler",
        "gccgoflags",
        "gcflags",
        "installsuffix",
        "ldflags",
        "mod",
        "modfile",
        "overlay",
        "pgo",
        "pkgdir",
        "tags",
        "toolexec",
        "coverpkg",
        "covermode",
        "exec",
        "buildvcs",
        "json",
        "cover",
    }
)
_GO_BOOL_FLAGS = frozenset(
    {
        "a",
        "n",
        "race",
        "msan",
        "asan",
        "v",
        "work",
        "x",
        "trimpath",
        "linkshared",
        "modcacherw",
        "cover",
        "json",
        "buildvcs",
    }
)


def _go_build(
    doc: Dockerfile,
    st: Stage,
    cmd: Command,
    instr: Instruction,
    ctx: FixContext,
    base: BaseImage | None,
) -> tuple[list[Artifact], str | None]:
    output: str | None = None
    has_output = False
    packages: list[str] = []
    args = cmd.argv[2:]
    i = 0
    while i < len(args):
        a = args[i]
        if a is None:
            return [], "a `go build` argument uses a variable whose value is unknown"
        if a.startswith("-") and a not in ("-", "--"):
            name, eq, value = a.lstrip("-").partition("=")
            takes_value = name in _GO_VALUE_FLAGS and not (name in _GO_BOOL_FLAGS and not eq)
            if name == "C":
                return [], "`go build -C` changes the directory"
            if takes_value and not eq:
                if i + 1 >= len(args):
                    return [], f"`-{name}` without a value"
                nxt = args[i + 1]
                if nxt is None:
                    return [], f"`-{name}` uses a variable whose value is unknown"
                value = nxt
                i += 1
            if name == "o":
                output = value
                has_output = True
            i += 1
            continue
        packages.append(a)
        i += 1
    install = cmd.argv[1] == "install"
    if install:
        if has_output:
            return [], "`go install` does not take `-o`"
        if len(packages) != 1:
            return [], "`go install` of several packages writes several binaries"
        gobin = cmd.env.get("GOBIN")
        gopath = cmd.env.get("GOPATH")
        if gobin is None and "GOBIN" not in cmd.env:
            if gopath is None and "GOPATH" not in cmd.env:
                # The official golang image sets GOPATH=/go.
                official = base is not None and base.is_official and base.name == "golang"
                gopath = "/go" if official else None
            gobin = posixpath.join(gopath, "bin") if gopath else None
        if not gobin or not gobin.startswith("/"):
            return [], "the directory `go install` writes to (GOBIN/GOPATH) is unknown"
        output, has_output = gobin + "/", True
        packages = [packages[0].split("@", 1)[0]]
    goos = cmd.env.get("GOOS")
    if goos not in (None, "linux"):
        return [], f"the binary is built for GOOS={goos}"
    cgo = cmd.env.get("CGO_ENABLED")
    static = cgo == "0"
    musl = bool(base and base.is_alpine) and not static
    if len(packages) > 1 and not all(p.endswith(".go") for p in packages):
        return [], "`go build` of several packages writes no single binary"
    if any("..." in p for p in packages):
        return [], "`go build` of a package pattern writes no single binary"
    cwd = cmd.cwd
    if has_output and output is not None and not output.endswith("/"):
        out_path = resolve_path(output, cwd)
        if out_path is None:
            return [], "the `-o` path is relative to an unknown directory"
        path = out_path
        if path in SYSTEM_DIRS or _is_known_dir(doc, st, path):
            binary = _go_binary_name(doc, st, packages, cwd, ctx)
            if binary is None:
                return [], "the binary's name follows the package path, which is unknown"
            path = posixpath.join(path, binary)
    else:
        binary = _go_binary_name(doc, st, packages, cwd, ctx)
        if binary is None:
            return [], "the binary's name follows the package path, which is unknown"
        out_dir = resolve_path(output, cwd) if output else cwd
        if out_dir is None:
            return [], "the build directory is unknown"
        path = posixpath.join(out_dir, binary)
    return [Artifact("go", path, instr, static, musl, cwd)], None


def _is_known_dir(doc: Dockerfile, stage: Stage, path: str) -> bool:
    """Whether a WORKDIR, `mkdir` or COPY destination of the chain made ``path`` a directory."""
    for st in stage_chain(stage):
        for i in st.instructions:
            made: list[str | None] = []
            if i.keyword == "WORKDIR":
                made.append(_workdir_value(st, i, workdir_at(doc, st, i)))
            elif i.keyword in ("COPY", "ADD"):
                parts = copy_parts(i)
                if parts is not None:
                    d = resolve_path(parts.dest, workdir_at(doc, st, i))
                    # A destination inside ``path`` makes it a directory; so does `dest/`.
                    if d is not None and (parts.dest.endswith("/") or d != path):
                        made.append(d)
            elif i.keyword == "RUN":
                for c in run_commands(doc, st, i) or []:
                    if c.argv and c.argv[0] == "mkdir":
                        made.extend(
                            resolve_path(a, c.cwd)
                            for a in c.argv[1:]
                            if a is not None and not a.startswith("-")
                        )
            if any(m is not None and is_within(m, path) for m in made):
                return True
    return False


def _go_binary_name(
    doc: Dockerfile, st: Stage, packages: list[str], cwd: str | None, ctx: FixContext
) -> str | None:
    """The name `go build` gives a single main package's binary."""
    if packages and packages[0].endswith(".go"):
        return posixpath.basename(packages[0])[:-3]
    pkg = packages[0] if packages else "."
    if pkg.startswith((".", "/")):
        if cwd is None:
            return None
        pkg_dir = resolve_path(pkg, cwd)
        if pkg_dir is None:
            return None
        # Find the module root above the package dir and its module path.
        d = pkg_dir
        while True:
            rel = context_source(doc, st, posixpath.join(d, "go.mod"), ctx)
            text = ctx.read_text(rel) if rel is not None else None
            if text is not None:
                m = re.search(r"(?m)^\s*module\s+\"?([^\s\"]+)", text)
                if m is None:
                    return None
                sub = pkg_dir[len(d) :].strip("/")
                import_path = m.group(1) + ("/" + sub if sub else "")
                return _last_non_version(import_path)
            if d == "/":
                break
            d = posixpath.dirname(d)
        # No go.mod found: an explicit relative directory still names the binary.
        if pkg not in (".", "./"):
            return _last_non_version(pkg_dir)
        return None
    return _last_non_version(pkg)


def _last_non_version(import_path: str) -> str | None:
    parts = [p for p in import_path.strip("/").split("/") if p]
    if len(parts) >= 2 and re.fullmatch(r"v[0-9]+", parts[-1]):
        parts = parts[:-1]
    return parts[-1] if parts else None


# Cargo ------------------------------------------------------------------------------------

_CARGO_VALUE_FLAGS = frozenset(
    {
        "bin",
        "p",
        "package",
        "target",
        "target-dir",
        "profile",
        "manifest-path",
        "features",
        "F",
        "j",
        "jobs",
        "color",
        "config",
        "Z",
        "message-format",
        "exclude",
        "example",
        "test",
        "bench",
        "lockfile-path",
        "artifact-dir",
        "out-dir",
    }
)
_CARGO_INSTALL_FLAGS = frozenset(
    {"path", "root", "git", "branch", "tag", "rev", "version", "vers", "index", "registry"}
)


def _cargo_build(
    doc: Dockerfile,
    st: Stage,
    cmd: Command,
    instr: Instruction,
    ctx: FixContext,
    base: BaseImage | None,
) -> tuple[list[Artifact], str | None]:
    install = cmd.argv[1] == "install"
    args = cmd.argv[2:]
    bins: list[str] = []
    packages: list[str] = []
    targets: list[str] = []
    target_dir: str | None = None
    profile = "release" if install else "dev"
    whole_workspace = False
    install_path: str | None = None
    install_root: str | None = None
    value_flags = _CARGO_VALUE_FLAGS | (_CARGO_INSTALL_FLAGS if install else frozenset())
    i = 0
    while i < len(args):
        a = args[i]
        if a is None:
            return [], "a `cargo` argument uses a variable whose value is unknown"
        if a == "--":
            break
        if not a.startswith("-"):
            if install:
                return [], "the binaries of a crate installed from a registry are not known"
            return [], f"unexpected argument `{a}`"
        if a.startswith("--"):
            name, eq, value = a[2:].partition("=")
        else:
            name, value = a[1:2], a[2:]
            eq = "=" if value else ""
        if name in value_flags:
            if not eq:
                if i + 1 >= len(args) or args[i + 1] is None:
                    return [], f"`{a}` takes a variable whose value is unknown"
                value = args[i + 1] or ""
                i += 1
            if name == "bin":
                bins.append(value)
            elif name in ("p", "package"):
                packages.append(value)
            elif name == "target":
                targets.append(value)
            elif name == "target-dir":
                target_dir = value
            elif name == "profile":
                profile = value
            elif name == "path":
                install_path = value
            elif name == "root":
                install_root = value
            elif name in ("git", "index", "registry"):
                return [], "the binaries of a crate installed from elsewhere are not known"
            elif name in ("manifest-path", "artifact-dir", "out-dir"):
                return [], f"`--{name}` moves the build"
            elif name == "config" and (
                "target" in value or "profile" in value or "install" in value
            ):
                return [], "`--config` changes the build's target or output"
            elif name in ("example", "test", "bench"):
                return [], f"`--{name}` builds no service binary"
        elif name in ("release", "r"):
            profile = "release"
        elif name == "debug" and install:
            profile = "dev"
        elif name in ("workspace", "all", "bins"):
            whole_workspace = whole_workspace or name != "bins"
        elif name in ("lib", "examples", "tests", "benches"):
            return [], f"`--{name}` builds no service binary"
        i += 1
    if install:
        if install_path is None:
            return [], "the binaries of a crate installed from a registry are not known"
        root = install_root
        if root is None:
            for key in ("CARGO_INSTALL_ROOT", "CARGO_HOME"):
                if key in cmd.env:
                    root = cmd.env[key]
                    if root is None:
                        return [], f"{key}'s value is unknown"
                    break
        if root is None and base is not None and base.is_official and base.name == "rust":
            root = "/usr/local/cargo"  # CARGO_HOME of the official image
        bin_dir = resolve_path(posixpath.join(root, "bin"), cmd.cwd) if root else None
        crate_dir = resolve_path(install_path, cmd.cwd)
        if bin_dir is None or crate_dir is None:
            return [], "the directory `cargo install` writes to is unknown"
        if not bins:
            manifest = _read_toml(doc, st, posixpath.join(crate_dir, "Cargo.toml"), ctx)
            found = _package_bins(doc, st, crate_dir, manifest, ctx) if manifest else None
            if not found:
                return [], "the crate's binaries cannot be listed from the build context"
            bins = found
        return [
            Artifact(
                "cargo",
                posixpath.join(bin_dir, b),
                instr,
                False,
                bool(base and base.is_alpine),
                crate_dir,
                None,
            )
            for b in bins
        ], None
    cwd = cmd.cwd
    if cwd is None:
        return [], "the directory cargo runs in is unknown"
    env = cmd.env
    # Cargo's own configuration files can move the output too.
    config = _cargo_config(doc, st, cwd, ctx)
    if config is None:
        return [], "a `.cargo/config` in the context sets options dockfix cannot read"
    if not targets:
        t = env.get("CARGO_BUILD_TARGET") if "CARGO_BUILD_TARGET" in env else config.get("target")
        if "CARGO_BUILD_TARGET" in env and t is None:
            return [], "CARGO_BUILD_TARGET's value is unknown"
        if t:
            targets = [t]
    if len(targets) > 1:
        return [], "several `--target`s build several binaries"
    if any(not re.fullmatch(r"[A-Za-z0-9_.-]+", t) for t in targets):
        return [], "the `--target` names a target file"
    manifest = _read_toml(doc, st, posixpath.join(cwd, "Cargo.toml"), ctx)
    root_dir = cwd
    root_manifest = manifest
    if manifest is not None and "workspace" not in manifest:
        # A member crate: the target dir is the workspace root's.
        d = cwd
        while d != "/":
            d = posixpath.dirname(d)
            parent = _read_toml(doc, st, posixpath.join(d, "Cargo.toml"), ctx)
            if parent is not None and "workspace" in parent:
                root_dir, root_manifest = d, parent
                break
    if target_dir is None:
        for key in ("CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"):
            if key in env:
                if env[key] is None:
                    return [], f"{key}'s value is unknown"
                target_dir = env[key]
                break
    if target_dir is None and config.get("target-dir"):
        target_dir = resolve_path(config["target-dir"], config["base"])
    if target_dir:
        target_root = resolve_path(target_dir, cwd)
    else:
        target_root = posixpath.join(root_dir, "target")
    if target_root is None:
        return [], "the target directory is unknown"
    profile_dir = {"dev": "debug", "test": "debug", "release": "release", "bench": "release"}.get(
        profile, profile
    )
    out_dir = posixpath.join(target_root, *targets, profile_dir)
    if not bins:
        if manifest is None:
            return [], "the binary's name is in a Cargo.toml that is not in the build context"
        found = _cargo_bins(
            doc, st, cwd, manifest, root_dir, root_manifest, packages, whole_workspace, ctx
        )
        if found is None:
            return [], "the crate's binaries cannot be listed from the build context"
        bins = found
    if not bins:
        return [], "the build produces no binary"
    # A musl target links statically by default; on Alpine the host target is musl too, but
    # crates may link Alpine's shared libraries, so only an explicit target counts as static.
    static = any("musl" in t for t in targets)
    musl = static or bool(base and base.is_alpine and not targets)
    return [
        Artifact("cargo", posixpath.join(out_dir, b), instr, static, musl, cwd, target_root)
        for b in bins
    ], None


def _read_toml(
    doc: Dockerfile, st: Stage, image_path: str, ctx: FixContext
) -> dict[str, Any] | None:
    rel = context_source(doc, st, image_path, ctx)
    if rel is None:
        return None
    key = ("toml", rel)
    if key not in ctx.memo:  # several crates and fixers read the same manifest
        ctx.memo[key] = _parse_toml(ctx.read_text(rel))
    data = ctx.memo[key]
    return data if isinstance(data, dict) else None


def _parse_toml(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def _cargo_config(doc: Dockerfile, st: Stage, cwd: str, ctx: FixContext) -> dict[str, str] | None:
    """``build.target``/``build.target-dir`` from `.cargo/config(.toml)` files above ``cwd``."""
    out: dict[str, str] = {}
    d = cwd
    while True:
        for name in ("config.toml", "config"):
            data = None
            path = posixpath.join(d, ".cargo", name)
            rel = context_source(doc, st, path, ctx)
            if rel is not None and ctx.read_text(rel) is not None:
                data = _read_toml(doc, st, path, ctx)
                if data is None:
                    return None
            if data is None:
                continue
            build = data.get("build", {})
            if not isinstance(build, dict):
                return None
            for key in ("target", "target-dir"):
                if key in build and key not in out:
                    if not isinstance(build[key], str):
                        return None
                    out[key] = build[key]
                    if key == "target-dir":
                        out["base"] = d
            break
        if d == "/":
            return out
        d = posixpath.dirname(d)


def _cargo_bins(
    doc: Dockerfile,
    st: Stage,
    cwd: str,
    manifest: dict[str, Any],
    root_dir: str,
    root_manifest: dict[str, Any] | None,
    packages: list[str],
    whole: bool,
    ctx: FixContext,
) -> list[str] | None:
    members: dict[str, tuple[str, dict[str, Any]]] = {}  # package name -> (dir, manifest)
    ws = (root_manifest or {}).get("workspace")
    if isinstance(ws, dict):
        for pattern in ws.get("members", []) or []:
            if not isinstance(pattern, str):
                return None
            for mdir in _expand_member(doc, st, root_dir, pattern, ctx):
                m = _read_toml(doc, st, posixpath.join(mdir, "Cargo.toml"), ctx)
                if m is None:
                    return None
                name = (m.get("package") or {}).get("name")
                if isinstance(name, str):
                    members[name] = (mdir, m)
    if root_manifest is not None and isinstance(root_manifest.get("package"), dict):
        name = root_manifest["package"].get("name")
        if isinstance(name, str):
            members.setdefault(name, (root_dir, root_manifest))
    own = (manifest.get("package") or {}).get("name")
    if isinstance(own, str):
        members.setdefault(own, (cwd, manifest))
    if packages:
        selected = []
        for p in packages:
            if p not in members:
                return None
            selected.append(members[p])
    elif whole or "package" not in manifest:
        default = (ws or {}).get("default-members") if isinstance(ws, dict) else None
        if default and not whole:
            selected = [v for v in members.values() if posixpath.relpath(v[0], root_dir) in default]
        else:
            selected = list(members.values())
    else:
        selected = [(cwd, manifest)]
    bins: list[str] = []
    for mdir, m in selected:
        found = _package_bins(doc, st, mdir, m, ctx)
        if found is None:
            return None
        bins.extend(b for b in found if b not in bins)
    return bins


def _expand_member(
    doc: Dockerfile, st: Stage, root: str, pattern: str, ctx: FixContext
) -> list[str]:
    if not any(c in pattern for c in "*?["):
        return [posixpath.normpath(posixpath.join(root, pattern))]
    parent, _, leaf = pattern.rstrip("/").rpartition("/")
    if any(c in parent for c in "*?["):
        return []
    base = posixpath.join(root, parent) if parent else root
    rel = context_source(doc, st, base, ctx)
    if rel is None:
        return []
    return [
        posixpath.join(base, n)
        for n in ctx.list_dir(rel)
        if fnmatch.fnmatchcase(n, leaf) and ctx.exists(posixpath.join(rel, n, "Cargo.toml"))
    ]


def _package_bins(
    doc: Dockerfile, st: Stage, pkg_dir: str, manifest: dict[str, Any], ctx: FixContext
) -> list[str] | None:
    package = manifest.get("package")
    if not isinstance(package, dict):
        return []
    name = package.get("name")
    explicit = manifest.get("bin", []) or []
    if not isinstance(explicit, list):
        return None
    bins: list[str] = []
    claimed: set[str] = set()
    for b in explicit:
        if not isinstance(b, dict) or not isinstance(b.get("name"), str):
            return None
        bins.append(b["name"])
        if isinstance(b.get("path"), str):
            claimed.add(posixpath.normpath(b["path"]))
    if package.get("autobins", True) is False:
        return bins
    main_rel = context_source(doc, st, posixpath.join(pkg_dir, "src/main.rs"), ctx)
    has_main = main_rel is not None and ctx.exists(main_rel)
    if has_main and "src/main.rs" not in claimed and isinstance(name, str) and name not in bins:
        bins.append(name)
    bin_rel = context_source(doc, st, posixpath.join(pkg_dir, "src/bin"), ctx)
    for entry in ctx.list_dir(bin_rel) if bin_rel is not None else []:
        assert bin_rel is not None
        if entry.endswith(".rs"):
            stem, path = entry[:-3], f"src/bin/{entry}"
        elif ctx.exists(posixpath.join(bin_rel, entry, "main.rs")):
            stem, path = entry, f"src/bin/{entry}/main.rs"
        else:
            continue
        if path not in claimed and stem not in bins:
            bins.append(stem)
    return bins


# Node -------------------------------------------------------------------------------------


def _is_node_build(argv: list[str | None]) -> bool:
    words = [a for a in argv if a is not None]
    if not words:
        return False
    prog = posixpath.basename(words[0])
    rest = [w for w in words[1:] if not w.startswith("-")]
    if prog in ("npm", "pnpm", "bun") and rest[:1] == ["run"] and len(rest) > 1:
        return rest[1].startswith("build")
    if prog in ("yarn", "pnpm") and rest:
        if rest[0] == "run" and len(rest) > 1:
            return rest[1].startswith("build")
        return rest[0].startswith("build")
    if prog == "bun" and rest[:1] == ["build"]:
        return True
    if prog == "npx" and rest[:1] in (["tsc"], ["vite"], ["webpack"]):
        return rest[0] == "tsc" or rest[1:2] == ["build"] or rest[0] == "webpack"
    return prog == "tsc"


def _node_install_prod(argv: list[str | None], env: dict[str, str | None]) -> bool | None:
    """For a command that installs or prunes node_modules: whether only prod deps remain."""
    words = [a or "" for a in argv]
    prog = posixpath.basename(words[0])
    rest = words[1:]
    sub = next((w for w in rest if not w.startswith("-")), "")
    flags = set(rest)
    prod_env = env.get("NODE_ENV") == "production"
    if prog == "npm" and sub in ("ci", "install", "i"):
        if len([w for w in rest if not w.startswith("-")]) > 1:
            return None  # installs a named package
        return bool(flags & {"--omit=dev", "--only=prod", "--only=production", "--production"}) or (
            prod_env and "--include=dev" not in flags
        )
    if prog == "npm" and sub == "prune":
        return bool(flags & {"--omit=dev", "--production", "--only=production"})
    if prog == "yarn" and sub in ("", "install"):
        explicit = any(f.startswith("--production=") and f != "--production=false" for f in flags)
        return "--production" in flags or explicit or prod_env
    if prog == "yarn" and sub == "workspaces" and "focus" in rest:
        return "--production" in flags
    if prog == "pnpm" and sub in ("install", "i", "prune"):
        return bool(flags & {"--prod", "-P", "--production"}) or (sub == "install" and prod_env)
    return None


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


def later_stages(doc: Dockerfile, stage: Stage) -> list[Stage]:
    """Stages built on ``stage`` (which see its files), in file order."""
    return [st for st in doc.stages if st is not stage and stage in stage_chain(st)]


def tree_references(
    doc: Dockerfile, stage: Stage, after: Instruction, root: str, keep: set[str]
) -> list[str]:
    """Paths inside image dir ``root`` that instructions after ``after`` (in ``stage`` and the
    stages built on it, or copied from it by other stages) refer to, other than ``keep``."""
    found: list[str] = []
    seen_after = False
    stages = [stage, *later_stages(doc, stage)]
    for st in stages:
        for i in st.instructions:
            if st is stage and not seen_after:
                seen_after = i is after
                continue
            cwd = workdir_at(doc, st, i)
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
            if i.keyword != "COPY" or f is None or doc.stage_named(f.value or "") not in stages:
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


def distroless_image(art: Artifact, builder: BaseImage | None) -> str:
    """The distroless image (without tag) that runs ``art``.

    A glibc-linked binary runs on a glibc at least as new as the builder's: the Debian release
    named in the builder's tag when it has one, else the newest (Debian 13), since glibc
    keeps old symbol versions.
    """
    if art.static:
        flavour = "static"
    elif art.ecosystem == "go":
        flavour = "base"
    else:
        flavour = "cc"
    tag = builder.tag if builder is not None else ""
    release = "debian12" if ("bookworm" in tag or "bullseye" in tag) else "debian13"
    return f"gcr.io/distroless/{flavour}-{release}"
