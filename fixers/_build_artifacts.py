"""What a build stage produces: the analysis shared by DF301, DF302 and DF303.

Given a stage, this finds the Go, Cargo and Node builds its `RUN`s perform (``_build_go``,
``_build_cargo``, ``_build_node``) and names the artifacts they leave in the image (absolute
paths), or says why an artifact cannot be named. Where things are in the image (WORKDIR,
copied files, base image) is ``_image_paths``'s; variables and stages are the engine's
(:mod:`dockfix.semantics.semantic`).

Everything is conservative: an unknown value (an unset variable, a `cd` into a computed
directory, a Cargo config this module does not understand) makes the answer unknown, never a
guess.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dockfix.fixers._build_cargo import cargo_build
from dockfix.fixers._build_go import go_build
from dockfix.fixers._build_node import is_node_build, node_install_prod
from dockfix.fixers._build_steps import Artifact, Command, cache_mount_targets, run_steps
from dockfix.fixers._image_paths import SYSTEM_DIRS, BaseImage, base_image
from dockfix.fixers._lazy import lazy_re
from dockfix.semantics.memo import per_tree
from dockfix.semantics.semantic import is_within, resolve_path, stage_chain
from dockfix.syntax import Dockerfile, Instruction, Stage

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext


# A build in a RUN whose script cannot be parsed: still named in the reasons.
_GO_OR_CARGO_BUILD = lazy_re(r"\b(go|cargo)\s+build\b")
_GO_BUILD = lazy_re(r"\bgo\s+build\b")


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
    return _analysed_stage(doc, stage, ctx)


@per_tree
def _analysed_stage(doc: Dockerfile, stage: Stage, ctx: FixContext) -> StageBuild:
    result = StageBuild()
    base = base_image(doc, stage)
    if doc.escape != "\\" or (base is not None and base.is_windows):
        return result  # Windows images: paths, shells and binaries follow other rules
    last_install_prod: bool | None = None
    for st in stage_chain(stage):
        for instr in st.instructions:
            if instr.keyword != "RUN":
                continue
            cmds = run_steps(doc, st, instr)
            if cmds is None:
                _unreadable_run(instr, result)
                continue
            prod = _read_run(doc, st, instr, cmds, ctx, base, result)
            if prod is not None:
                last_install_prod = prod
    if result.node is not None:
        result.node.prod_modules = bool(last_install_prod)
    return result


def _unreadable_run(instr: Instruction, result: StageBuild) -> None:
    """A RUN whose script cannot be read: a build in it is reported as not analysable."""
    if _GO_OR_CARGO_BUILD.search(instr.logical + "".join(h.body for h in instr.heredocs)):
        eco = "go" if _GO_BUILD.search(instr.logical) else "cargo"
        result.ecosystems.add(eco)
        result.build_runs.append(instr)
        result.problems.append((instr, eco, "the RUN's script cannot be analysed"))


def _read_run(
    doc: Dockerfile,
    st: Stage,
    instr: Instruction,
    cmds: list[Command],
    ctx: FixContext,
    base: BaseImage | None,
    result: StageBuild,
) -> bool | None:
    """Add the builds of one RUN to ``result``; whether its last Node install installed
    production dependencies only (None: it has no Node install)."""
    last_install_prod: bool | None = None
    for idx, cmd in enumerate(cmds):
        argv = cmd.argv
        if len(argv) < 2 or argv[0] is None:
            continue
        prog = posixpath.basename(argv[0])
        if prog == "go" and argv[1] in ("build", "install"):
            eco = "go"
            found, problem = go_build(doc, st, cmd, instr, ctx, base)
        elif prog == "cargo" and argv[1] in ("build", "b", "install"):
            eco = "cargo"
            found, problem = cargo_build(doc, st, cmd, instr, ctx, base)
        elif is_node_build(argv):
            result.ecosystems.add("node")
            result.build_runs.append(instr)
            if cmd.cwd is not None:
                result.node = NodeBuild(instr, cmd.cwd, False)
            continue
        else:
            prod = node_install_prod(argv, cmd.env)
            if prod is not None:
                last_install_prod = prod
            continue
        result.ecosystems.add(eco)
        if instr not in result.build_runs:
            result.build_runs.append(instr)
        if problem is not None:
            result.problems.append((instr, eco, problem))
            continue
        mounts = cache_mount_targets(doc, st, instr)
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
    return last_install_prod


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
