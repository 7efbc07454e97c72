"""DF103's dnf, yum, microdnf and zypper part: an install without the manager's clean-up
after it in the same RUN."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dockfix.core.fixer import Fix
from dockfix.fixers._kept_caches import (
    Cmd,
    Kept,
    args_of,
    commands_of,
    later_runs,
    mount_cover,
    options_of,
    removes,
)
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._package_managers import SYSTEM_PACKAGE_MANAGERS, SystemPackageManager
from dockfix.fixers._run_script import analyse_run, append_command
from dockfix.syntax import Dockerfile, Instruction

RPM_WHY = (
    "The package manager keeps its downloaded metadata and packages in the layer after an "
    "install; cleaning in the same `RUN` keeps them out of the image (a later layer that "
    "deletes them does not shrink this one)."
)
# The managers whose clean-up is a command appended after the install.
RPM_TOOLS = tuple(m for m in SYSTEM_PACKAGE_MANAGERS if m.clean)
_KEEPCACHE = lazy_re(r"keepcache\s*=\s*(1|true|yes)", re.I)


def rpm_caches(doc: Dockerfile, owner: Instruction, cmds: list[Cmd]) -> Iterator[tuple[str, Kept]]:
    """(the program, what it left) for each manager that installs in the RUN and leaves its
    cache: the program says which hadolint rule the finding is about."""
    for tool in RPM_TOOLS:
        mine = [c for c in cmds if c.program in tool.programs]
        installs = [c for c in mine if c.sub in tool.installs]
        if not installs:
            continue
        last = installs[-1]
        if any(c.order > last.order and _is_clean(c, tool) for c in mine):
            continue
        if any(
            c.order > last.order and removes(c.script, c.command, tool.cache_dirs) for c in cmds
        ):
            continue
        covered, unknown = mount_cover(doc, owner, tool.cache_dirs)
        if covered:
            continue
        if _KEEPCACHE.search(_text_before(owner)):
            continue  # the file turned `keepcache` on: it keeps the packages on purpose
        message = f"`{last.program} {last.sub}` without `{tool.clean}` keeps its cache in the layer"
        if unknown:
            yield last.program, Kept(message, reason=unknown)
            continue
        if last.script.kind == "exec":
            yield last.program, Kept(message, reason="exec-form RUN: add the clean-up by hand")
            continue
        later = _later_cacheonly(doc, owner, tool)
        if later is not None:
            why = f"the RUN on line {later} runs {last.program} from the cache (--cacheonly)"
            yield last.program, Kept(message, reason=why)
            continue
        edit, why = append_command(doc, last.script, tool.clean)
        if edit is None:
            yield last.program, Kept(message, reason=why)
            continue
        fix = Fix.safe(edit, description=f"append `{tool.clean}`", rationale=RPM_WHY)
        yield last.program, Kept(message, fix)


def _is_clean(c: Cmd, tool: SystemPackageManager) -> bool:
    if c.sub_index < 0:
        return False
    words = (c.sub, *args_of(c))
    return any(words[: len(w)] == w for w in tool.clean_words)


def _later_cacheonly(
    doc: Dockerfile, owner: Instruction, manager: SystemPackageManager
) -> int | None:
    """The line of a later RUN whose manager runs from the cache alone (`--cacheonly`)."""
    for instr in later_runs(doc, owner):
        for c in commands_of(analyse_run(doc, instr)):
            if c.program in manager.programs and any(
                o in manager.cache_only_options for o in options_of(c)
            ):
                return instr.start_line
    return None


def _text_before(owner: Instruction) -> str:
    """The stage's RUN text up to and including ``owner`` (heredoc bodies included)."""
    stage = owner.stage
    if stage is None:
        return owner.logical
    parts: list[str] = []
    for instr in stage.instructions:
        parts.append(instr.logical + "".join(h.body for h in instr.heredocs))
        if instr is owner:
            break
    return "\n".join(parts)
