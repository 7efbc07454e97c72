"""DF301 copy-whole-build-dir: `COPY --from` of a whole build tree instead of the artifact.

## What it does
Finds a `COPY --from=<stage>` whose source is the build tree of that stage: Cargo's `target`
directory (or `target/release`), or the project directory a `go build` or a Node build ran in,
when the artifact the build produced lies inside it. It narrows the copy to the artifact:

- Cargo: `target[/<triple>]/<profile>/<bin>`. The binary's name comes from `cargo build
  --bin`, else from the crate's `Cargo.toml` in the build context (`[[bin]]` names, the package
  name for `src/main.rs`, `src/bin/*`, workspace members and `-p`). `--release`/`--profile`,
  `--target <triple>`, `--target-dir`, `CARGO_TARGET_DIR`/`CARGO_BUILD_TARGET` and
  `.cargo/config.toml` are honoured.
- Go: the `-o` output of the stage's `go build` (resolved against `WORKDIR` and `cd`), or the
  name `go build` derives from the package path and `go.mod` when there is no `-o`.
- Node: `package.json`, `node_modules` and the build output directory (`dist/`, `build/`,
  `out/`) that the runtime command starts from, when the build stage leaves production-only
  `node_modules` (`npm ci --omit=dev`, `npm prune --omit=dev`, `NODE_ENV=production`, …).

The artifact keeps the exact path it had before (`COPY --from=b /build/target /app` becomes
`COPY --from=b /build/target/release/api /app/release/api`), so `CMD`/`ENTRYPOINT` paths that
pointed into the old tree still point at the same file and need no edit.

## Why is this bad
A build tree holds far more than the result: Cargo's `target` keeps every dependency's
compiled crates, incremental caches and build-script outputs (often gigabytes); a Go or Node
project directory carries the sources, `.git` leftovers and dev dependencies. Copying it makes
the runtime image many times larger and ships the sources, slowing pulls and cold starts.

## Example
```dockerfile
FROM rust:1.85 AS builder
WORKDIR /build
COPY . .
RUN cargo build --release

FROM gcr.io/distroless/cc:nonroot
COPY --from=builder /build/target /app
ENTRYPOINT ["/app/release/api"]
```
Use instead:
```dockerfile
FROM gcr.io/distroless/cc:nonroot
COPY --from=builder /build/target/release/api /app/release/api
ENTRYPOINT ["/app/release/api"]
```

## Fix safety
Always unsafe: the narrowed copy drops every other file of the tree, and a service may read
some of them at run time (assets next to the binary, build-script outputs, files of the source
tree). Display-only (no fix) when the artifact cannot be named with certainty: the binary's
name or output path depends on an unknown variable or on files outside the build context, the
build makes several binaries and the runtime command does not say which one it uses, the
copy has several sources, wildcards, variables or `--parents`/`--exclude`, the copied
project tree holds files services usually read at run time (`templates/`, `static/`, `public/`,
`migrations/`, `config/`, `.env`, …) or cannot be listed (no build context on disk), or a
later instruction refers to another path of the copied tree. For Node, also when `node_modules` of the build stage still hold dev
dependencies, or the runtime command does not start from a build output directory.
Windows images (and files using the backtick escape) are left alone.

## Options
None.

## Resolves
hadolint: none · Trivy: none · Checkov: none.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from dockfix.core.edits import indent_of, replace_instruction_header, replace_logical
from dockfix.core.fixer import Edit, Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._build_artifacts import (
    StageBuild,
    analyse_stage,
)
from dockfix.fixers._build_steps import (
    Artifact,
)
from dockfix.fixers._cmdline import display_finding
from dockfix.fixers._image_paths import (
    DISTROLESS_PATH,
    CopyParts,
    ancestors,
    copied_into,
    copy_parts,
    image_workdir_at,
    json_list,
    runtime_assets,
    start_command,
    tree_references,
)
from dockfix.semantics.semantic import (
    is_within,
    resolve_path,
)

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext
    from dockfix.syntax import Dockerfile, Instruction, Stage

_ALLOWED_FLAGS = frozenset({"from", "chown", "chmod", "link"})
_NODE_OUTPUT_DIRS = frozenset({"dist", "build", "out"})

_Display = Callable[[str], Finding]
_NO_CONTEXT = (
    "the build context is not available, so the other files of the copied tree (which the "
    "service may read) cannot be checked"
)


@register
class CopyWholeBuildDir(Fixer):
    code = "DF301"
    severity = Severity.INFO
    name = "copy-whole-build-dir"
    summary = "A `COPY --from` copies a whole build tree where one artifact is needed"
    resolves = Resolves()
    image_changes = ("removed:/**",)  # only the artifact is copied

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        builds: dict[int, StageBuild] = {}
        for stage in doc.stages:
            for instr in stage.instructions:
                if instr.keyword != "COPY":
                    continue
                flag = instr.flag("from")
                if flag is None or not flag.value or "$" in flag.value:
                    continue
                source_stage = doc.stage_named(flag.value)
                if source_stage is None or source_stage.index >= stage.index:
                    continue
                if not _copies_subtree(instr):
                    continue  # nothing to narrow: spare the analysis of the source stage
                if source_stage.index not in builds:
                    builds[source_stage.index] = analyse_stage(doc, source_stage, ctx)
                finding = self._check_copy(
                    doc, stage, instr, source_stage, builds[source_stage.index], ctx
                )
                if finding is not None:
                    yield finding

    # --- one COPY ---------------------------------------------------------------------
    def _check_copy(
        self,
        doc: Dockerfile,
        stage: Stage,
        instr: Instruction,
        source_stage: Stage,
        build: StageBuild,
        ctx: FixContext,
    ) -> Finding | None:
        parts = copy_parts(instr)
        if parts is None:
            return None
        trees: list[tuple[str, str]] = []
        for source in parts.sources:
            path = resolve_path(source, "/")
            found = self._tree_kind(doc, source_stage, path, build) if path else None
            if path and found:
                trees.append((path, found))
        if not trees:
            return None
        src, kind = trees[0]
        from_name = instr.flag("from").value  # type: ignore[union-attr]
        what = {
            "cargo-target": "Cargo's whole target directory",
            "project": "the whole project tree",
            "node": "the whole Node project (sources, dev dependencies)",
            "unknown": "a whole build tree",
        }[kind]
        message = f"`COPY --from={from_name} {src}` copies {what} into the image"

        display = partial(display_finding, self, instr, message)

        if len(parts.sources) != 1:
            return display("the COPY has several sources; narrow each by hand")
        if not parts.plain:
            return display("the COPY uses quotes, variables or wildcards")
        odd = [f.name for f in instr.flags if f.name not in _ALLOWED_FLAGS]
        if odd:
            return display(f"`--{odd[0]}` changes which files the COPY takes")
        if kind == "unknown":
            why = next((p for _, _, p in build.problems), "no artifact of the build is known")
            return display(f"the artifact cannot be named: {why}")
        dest_abs = resolve_path(parts.dest, image_workdir_at(doc, stage, instr))
        if dest_abs is None:
            return display("the destination is relative to a WORKDIR that is not known")
        if kind == "node":
            return self._node_fix(
                doc, stage, instr, parts, src, dest_abs, source_stage, build, ctx, display, message
            )
        return self._binary_fix(
            doc, stage, instr, parts, src, dest_abs, source_stage, build, ctx, display, message
        )

    def _tree_kind(
        self, doc: Dockerfile, source_stage: Stage, src: str, build: StageBuild
    ) -> str | None:
        if src == "/":
            return None  # a whole-filesystem copy (image flattening) is deliberate
        for art in build.artifacts:
            inside = [loc for loc in art.locations if is_within(loc, src) and loc != src]
            if not inside:
                continue
            if art.cargo_target_dir and is_within(src, art.cargo_target_dir):
                return "cargo-target"
            if art.project_dir and is_within(art.project_dir, src):
                return "project"
        node = build.node
        if node is not None and is_within(node.project_dir, src):
            return "node"
        for run, eco, _ in build.problems:
            cwd = image_workdir_at(doc, source_stage, run)
            if cwd is None:
                continue
            if is_within(cwd, src):
                return "unknown"
            target = posixpath.join(cwd, "target")
            if eco == "cargo" and is_within(src, target):
                # `target`, `target/release`, `target/<triple>/release` are trees; a path below
                # them (`target/release/libx.so`) already names one artifact.
                depth = len(posixpath.relpath(src, target).split("/"))
                if src == target or depth <= 1 or (depth == 2 and "-" in src.split("/")[-2]):
                    return "unknown"
        return None

    # --- Go and Cargo -------------------------------------------------------------------
    def _binary_fix(
        self,
        doc: Dockerfile,
        stage: Stage,
        instr: Instruction,
        parts: CopyParts,
        src: str,
        dest_abs: str,
        source_stage: Stage,
        build: StageBuild,
        ctx: FixContext,
        display: _Display,
        message: str,
    ) -> Finding:
        inside: list[tuple[Artifact, str]] = []
        for art in build.artifacts:
            for loc in art.locations:
                if is_within(loc, src) and loc != src:
                    inside.append((art, loc))
                    break
        if len(inside) > 1:
            used = self._used(doc, stage, src, dest_abs, [loc for _, loc in inside])
            if len(used) != 1:
                names = ", ".join(posixpath.basename(loc) for _, loc in inside)
                return display(
                    f"the build makes several binaries ({names}) and the runtime command does "
                    "not name exactly one of them"
                )
            inside = [x for x in inside if x[1] == used[0]]
        art, loc = inside[0]
        rel = loc[len(src) :].lstrip("/") if src != "/" else loc.lstrip("/")
        new_dest_abs = posixpath.join(dest_abs, rel)
        if art.project_dir and is_within(art.project_dir, src):
            entries = copied_into(doc, source_stage, art.project_dir, ctx)
            if entries is None:
                return display(_NO_CONTEXT)
            assets = runtime_assets(entries)
            if assets:
                return display(_assets_reason(assets))
        refs = tree_references(doc, stage, instr, dest_abs, ancestors(new_dest_abs))
        if refs:
            return display(
                f"a later instruction uses `{refs[0]}` from the copied tree, which the narrowed "
                "copy would drop"
            )
        new_src = _join(parts.sources[0], rel)
        new_dest = _join(parts.dest, rel)
        edits = self._replace_paths(instr, parts, [new_src, new_dest])
        if edits is None:
            return display("the COPY has comment lines inside its JSON form")
        fix = Fix.unsafe(
            *edits,
            description=f"copy only `{loc}` to `{new_dest_abs}` (its path in the image is kept)",
        )
        return self.finding(instr, message + f"; only `{rel}` is needed", fix)

    def _used(
        self, doc: Dockerfile, stage: Stage, src: str, dest_abs: str, locations: list[str]
    ) -> list[str]:
        """The artifact locations the runtime's ENTRYPOINT/CMD names (via their new paths)."""
        words = _start_words(stage)
        cwd = image_workdir_at(doc, stage, None)
        used: list[str] = []
        for loc in locations:
            image_path = posixpath.join(dest_abs, loc[len(src) :].lstrip("/"))
            name = posixpath.basename(image_path)
            for w in words:
                p = resolve_path(w, cwd) if "/" in w else None
                # A bare name is looked up on PATH.
                on_path = (
                    "/" not in w
                    and w == name
                    and (posixpath.dirname(image_path) in DISTROLESS_PATH)
                )
                if (p == image_path or on_path) and loc not in used:
                    used.append(loc)
        return used

    def _replace_paths(
        self, instr: Instruction, parts: CopyParts, words: list[str]
    ) -> list[Edit] | None:
        if parts.source_spans is not None and parts.dest_span is not None:
            (s0, e0), (s1, e1) = parts.source_spans[0], parts.dest_span
            return [
                replace_logical(instr, s0, e0, words[0]),
                replace_logical(instr, s1, e1, words[1]),
            ]
        if instr.comments:
            return None
        return [
            replace_logical(instr, instr.args_start, len(instr.logical.rstrip()), json_list(words))
        ]

    # --- Node ---------------------------------------------------------------------------
    def _node_fix(
        self,
        doc: Dockerfile,
        stage: Stage,
        instr: Instruction,
        parts: CopyParts,
        src: str,
        dest_abs: str,
        source_stage: Stage,
        build: StageBuild,
        ctx: FixContext,
        display: _Display,
        message: str,
    ) -> Finding:
        node = build.node
        assert node is not None
        proj_rel = node.project_dir[len(src) :].lstrip("/") if src != "/" else node.project_dir
        proj_dest = posixpath.join(dest_abs, proj_rel) if proj_rel else dest_abs
        outdirs = _started_dirs(doc, stage, proj_dest)
        if len(outdirs) != 1:
            return display("the runtime command does not start from one build output directory")
        outdir = outdirs.pop()
        copied = copied_into(doc, source_stage, node.project_dir, ctx)
        if copied is None:
            return display(_NO_CONTEXT)
        if outdir not in _NODE_OUTPUT_DIRS or outdir in copied:
            return display(f"`{outdir}/` is not known to be the build's output")
        if not node.prod_modules:
            return display(
                "the build stage's node_modules still hold dev dependencies; prune them "
                "(`npm prune --omit=dev`) or install with `--omit=dev` first"
            )
        assets = runtime_assets(copied)
        if assets:
            return display(_assets_reason(assets))
        kept = ["package.json", "node_modules", outdir]
        dropped = _dropped_reference(doc, stage, instr, dest_abs, proj_dest, kept)
        if dropped is not None:
            return display(dropped)
        if instr.comments or instr.json_args is not None:
            return display("the COPY is in JSON form or has comment lines inside")
        fix = Fix.unsafe(
            replace_instruction_header(instr, _copy_lines(doc, instr, parts, proj_rel, kept)),
            description=f"copy only package.json, node_modules and {outdir}/",
        )
        return self.finding(
            instr,
            message + f"; only `{outdir}/`, `node_modules/` and `package.json` are needed",
            fix,
        )


def _copies_subtree(instr: Instruction) -> bool:
    """Whether the COPY names a source below `/` (a whole-filesystem copy is deliberate)."""
    parts = copy_parts(instr)
    return parts is not None and any(
        resolve_path(source, "/") not in (None, "/") for source in parts.sources
    )


def _assets_reason(assets: list[str]) -> str:
    return (
        "the copied tree also holds "
        + ", ".join(f"`{a}`" for a in assets)
        + ", which the service may read at run time"
    )


def _dropped_reference(
    doc: Dockerfile, stage: Stage, instr: Instruction, dest: str, project: str, kept: list[str]
) -> str | None:
    """Why narrowing the copy to the ``kept`` names of ``project`` would break a later
    instruction that uses another path of the tree copied to ``dest``; None if none does."""
    keep: set[str] = set()
    for name in kept:
        keep |= ancestors(posixpath.join(project, name))
    refs = [
        r
        for r in tree_references(doc, stage, instr, dest, keep)
        if not any(is_within(r, posixpath.join(project, k)) for k in kept)
    ]
    if refs:
        return (
            f"a later instruction uses `{refs[0]}` from the copied tree, which the narrowed "
            "copy would drop"
        )
    return None


def _start_words(stage: Stage) -> list[str]:
    """The words of the stage's ENTRYPOINT and CMD (shell form split on blanks)."""
    words: list[str] = []
    for i in start_command(stage):
        if i is not None:
            words.extend(i.json_args if i.json_args is not None else i.args.split())
    return words


def _started_dirs(doc: Dockerfile, stage: Stage, project: str) -> set[str]:
    """The top directories of ``project`` that the start command's files are in."""
    cwd = image_workdir_at(doc, stage, None)
    dirs: set[str] = set()
    for w in _start_words(stage):
        p = resolve_path(w, cwd) if ("/" in w or w.endswith((".js", ".mjs", ".cjs"))) else None
        if p is not None and is_within(p, project) and p != project:
            dirs.add(p[len(project) :].lstrip("/").split("/")[0])
    return dirs


def _copy_lines(
    doc: Dockerfile, instr: Instruction, parts: CopyParts, project: str, names: list[str]
) -> str:
    """One COPY per name of the project (``project`` relative to the copied tree), with the
    flags and the indentation of ``instr``."""
    prefix = f"{project}/" if project else ""
    flags = " ".join(f.raw for f in instr.flags)
    lines = [
        f"{instr.keyword_raw} {flags} {_join(parts.sources[0], prefix + name)} "
        f"{_join(parts.dest, prefix + name)}"
        for name in names
    ]
    return (doc.eol + indent_of(doc, instr)).join(lines)


def _join(base: str, rel: str) -> str:
    """``base`` (a source or destination as written) with ``rel`` appended."""
    if base in (".", "./"):
        return f"./{rel}"
    norm = posixpath.normpath(base)
    if norm == "/":
        return f"/{rel}"
    return f"{norm}/{rel}"
