"""What DF103 (apt-lists-kept) reads in a RUN, shared by its parts (`_apt_lists`, `_apk_index`,
`_rpm_caches`, `_yarn_cache`): the package-manager commands in execution order, the `rm` that
removes a cache, a `--mount` that keeps it out of the layer, whether a stage ends up in an image.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from dockfix.core.fixer import Fix
from dockfix.fixers._run_script import (
    RunAnalysis,
    Script,
    brace_expand,
    mount_targets,
    paths_related,
    subcommand,
)
from dockfix.semantics.semantic import descendants, expand, from_reference, layered
from dockfix.semantics.shell import SimpleCommand
from dockfix.syntax import Dockerfile, Instruction, Stage


class Kept(NamedTuple):
    """A cache one part found left in the layer: the finding's message, and its fix or why
    there is none (the fixer makes the finding)."""

    message: str
    fix: Fix | None = None
    reason: str = ""


@dataclass(eq=False)
class Cmd:
    """A package-manager command found in a RUN, in execution order."""

    script: Script
    command: SimpleCommand
    program: str
    sub: str
    sub_index: int
    order: tuple[int, int]


def commands_of(analysis: RunAnalysis) -> list[Cmd]:
    out: list[Cmd] = []
    for si, script in enumerate(analysis.scripts):
        for c in script.parsed.commands:
            sub = subcommand(c)
            if sub is not None:
                out.append(Cmd(script, c, sub[0], sub[1], sub[2], (si, c.start)))
    out.sort(key=lambda c: c.order)
    return out


def args_of(cmd: Cmd) -> list[str]:
    return [w.value for w in cmd.command.words[cmd.sub_index + 1 :]] if cmd.sub_index >= 0 else []


def removes(script: Script, cmd: SimpleCommand, paths: tuple[str, ...]) -> bool:
    """`rm` (or `find … -delete`) of one of the paths, its contents or a parent directory.

    Brace lists count only where the script's shell expands them: under dash (`/bin/sh` of
    Debian and Ubuntu) `rm -rf /var/{cache,lib}/apt` names a path that does not exist."""
    argv = cmd.argv
    if not argv or argv[0] not in ("rm", "find"):
        return False
    if argv[0] == "find" and not any(a in ("-delete", "-exec") for a in argv):
        return False
    for a in argv[1:]:
        if a.startswith("-") or not a.startswith("/"):
            continue
        words = brace_expand(a) if script.expands_braces else [a]
        for word in words:
            if "{" in word:
                continue  # a literal brace: no such directory
            if any(clears(word, p) for p in paths):
                return True
    return False


def clears(word: str, path: str) -> bool:
    """Whether removing ``word`` removes ``path``: the path itself, a parent, or a glob of its
    entries (`/var/lib/apt/lists/*_*`); naming some entries (`lists/partial`) is not enough."""
    stem = word.rstrip("*").rstrip("/") or "/"
    if stem == path or path.startswith(stem.rstrip("/") + "/"):
        return True
    parent, _, name = word.rpartition("/")
    return parent == path and any(ch in name for ch in "*?[")


def mount_cover(doc: Dockerfile, owner: Instruction, paths: tuple[str, ...]) -> tuple[bool, str]:
    """(covered, reason when unknown): whether a --mount sits on or in the paths."""
    instr = owner.trigger if owner.trigger is not None else owner
    scope = layered(owner.stage.scope_at(owner) if owner.stage is not None else {}, doc.global_args)
    for _kind, target in mount_targets(instr):
        if not target:
            continue
        value = expand(target, scope) if "$" in target else target
        if value is None:
            return False, f"the --mount target `{target}` is not known"
        if any(paths_related(value, p) for p in paths):
            return True, ""
    return False, ""


def stage_in_image(doc: Dockerfile, stage: Stage | None) -> bool:
    if stage is None:
        return True
    return (
        stage is doc.final_stage
        or bool(descendants(doc, stage))
        or any(from_reference(doc, st) is None for st in doc.stages[stage.index + 1 :])
    )


def options_of(c: Cmd) -> list[str]:
    return [w.value for w in c.command.words[1:] if w.value.startswith("-")]


def target_of(owner: Instruction) -> Instruction:
    return owner.trigger if owner.trigger is not None else owner


def later_runs(doc: Dockerfile, owner: Instruction) -> Iterator[Instruction]:
    """The RUNs (``ONBUILD RUN`` too) that run after ``owner`` on its filesystem: the rest of
    its stage, then the stages built FROM it."""
    stage = owner.stage
    if stage is None:
        return
    for st in [stage, *descendants(doc, stage)]:
        for instr in st.instructions:
            if (st is stage and instr.start <= owner.start) or target_of(instr).keyword != "RUN":
                continue
            yield instr
