"""DF103's Yarn part: `yarn install` without `yarn cache clean`, where the image's files say
the project runs Yarn 1 (Yarn 2+ reads the packages from its cache: never cleaned)."""

from __future__ import annotations

import posixpath
import re

from dockfix.core.fixer import Edit, Fix
from dockfix.fixers._context_files import ContextFiles
from dockfix.fixers._image_paths import image_workdir_at
from dockfix.fixers._kept_caches import (
    Cmd,
    Kept,
    commands_of,
    later_runs,
    options_of,
    stage_in_image,
    target_of,
)
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._package_managers import yarn_release, yarn_switch
from dockfix.fixers._run_script import analyse_run, append_command, mount_targets
from dockfix.semantics.context import FixContext
from dockfix.semantics.semantic import stage_chain
from dockfix.syntax import Dockerfile, Instruction, Stage

YARN_WHY = (
    "Yarn 1 keeps a copy of every package it downloaded in its cache, next to the installed "
    "`node_modules`: tens to hundreds of megabytes the running image never reads, which a later "
    "layer cannot take back."
)
YARN_CLEAN = "yarn cache clean"
YARN_HADOLINT_RULE = "DL3060"
_YARN_PATH_V1 = lazy_re(r"^\s*yarn-path\b", re.M)  # Yarn 1's `.yarnrc`: run another release


def yarn_cache(
    doc: Dockerfile, ctx: FixContext, owner: Instruction, cmds: list[Cmd]
) -> Kept | None:
    """Yarn 1's cache a `yarn install` of the RUN leaves, with `yarn cache clean` appended;
    None when it is not left (cleaned, mounted, or the stage is in no image)."""
    yarn = [c for c in cmds if c.program == "yarn"]
    installs = [c for c in yarn if "install" in c.command.argv]
    if not installs or any(_is_yarn_clean(c) for c in yarn):
        return None
    stage = owner.stage
    if stage is None or not stage_in_image(doc, stage):
        return None
    if any("yarn" in target for _, target in mount_targets(target_of(owner))):
        return None  # a mount serves the cache: it is not in the layer
    message = f"`yarn install` without `{YARN_CLEAN}` keeps Yarn's cache in the layer"
    why = _yarn_classic_problem(doc, ctx, stage, owner, installs)
    if not why and installs[-1].script.kind == "exec":
        why = "exec-form RUN: add the clean-up by hand"
    later = _later_yarn_offline(doc, owner)
    if not why and later is not None:
        why = f"the RUN on line {later} installs from Yarn's cache (--offline)"
    edit: Edit | None = None
    if not why:
        edit, why = append_command(doc, installs[-1].script, YARN_CLEAN)
    if edit is None:
        return Kept(message, reason=why)
    fix = Fix.safe(edit, description=f"append `{YARN_CLEAN}`", rationale=YARN_WHY)
    return Kept(message, fix)


def _later_yarn_offline(doc: Dockerfile, owner: Instruction) -> int | None:
    """The line of a later RUN (the stage's, or a stage built FROM it) whose Yarn installs from
    its cache only (`--offline`); None when there is none."""
    for instr in later_runs(doc, owner):
        for c in commands_of(analyse_run(doc, instr)):
            if c.program == "yarn" and "--offline" in options_of(c):
                return instr.start_line
    return None


def _is_yarn_clean(c: Cmd) -> bool:
    """`yarn cache clean` anywhere in the command, as hadolint reads it."""
    argv = c.command.argv
    return "cache" in argv and "clean" in argv


def _yarn_classic_problem(
    doc: Dockerfile, ctx: FixContext, stage: Stage, owner: Instruction, installs: list[Cmd]
) -> str:
    """Why the RUN's Yarn may not be Yarn 1 ("" when the image's files say it is)."""
    if owner.trigger is not None:
        return "an ONBUILD RUN: its project is in the images built from this one"
    if any("--immutable" in c.command.argv for c in installs):
        return "`--immutable` is a Yarn 2+ option"
    for st in [s for s in stage_chain(stage) if s is not stage] + [stage]:
        for instr in st.instructions:
            if instr.start > owner.start and st is stage:
                break
            if target_of(instr).keyword != "RUN":
                continue
            for c in commands_of(analyse_run(doc, instr)):
                if yarn_switch(c.command.argv) is not None:
                    return f"line {instr.start_line} switches the Yarn release (`{c.program}`)"
    project = image_workdir_at(doc, stage, owner)
    if project is None:
        return "the working directory is not known, to read the project's Yarn files"
    files = ContextFiles(doc, stage, ctx)
    lock = files.text(posixpath.join(project, "yarn.lock"))
    release = yarn_release(
        files.text(posixpath.join(project, "package.json")),
        files.text(posixpath.join(project, ".yarnrc.yml")),
        lock,
    )
    if release is None:
        if lock is None:
            return f"no `yarn.lock` is copied to {project}, to tell Yarn 1 from Yarn 2+"
        return "the project's files do not say which Yarn runs"
    if release.berry:
        return f"{release.source}: Yarn 2+ keeps the packages in its cache"
    if _YARN_PATH_V1.search(files.text(posixpath.join(project, ".yarnrc")) or ""):
        return "`.yarnrc` sets the Yarn release to run (`yarn-path`)"
    return ""
