"""DF103's apt part: `apt-get update` and an install without removing the lists, and the
later RUNs (of the stage and of the stages built FROM it) that would need them back."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dockfix.core.fixer import Edit, Fix
from dockfix.fixers._context_files import ContextFiles
from dockfix.fixers._image_paths import image_workdir_at
from dockfix.fixers._kept_caches import (
    Cmd,
    Kept,
    clears,
    commands_of,
    mount_cover,
    removes,
    stage_in_image,
)
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._package_managers import SYSTEM_BY_NAME
from dockfix.fixers._run_script import (
    analyse_run,
    append_command,
    brace_expand,
    chain_item_of,
    runs_local_script,
)
from dockfix.semantics.semantic import from_reference, mounts, resolve_path
from dockfix.syntax import Dockerfile, Instruction, Stage

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext

APT = SYSTEM_BY_NAME["apt"]
APT_LISTS = APT.lists_dirs[0]
APT_RM = f"rm -rf {APT_LISTS}/*"
APT_PROGRAMS = frozenset(APT.programs)
APT_CONSUMERS = frozenset(APT.installs)
APT_READERS = frozenset(APT.reader_programs)  # read the lists, any subcommand
APT_WHY = (
    "The lists are downloaded by `apt-get update` and are only needed while installing; left "
    "behind they add tens of megabytes to the image, and a later layer that deletes them does "
    "not shrink the earlier one."
)
_APT_WORDS = "|".join(re.escape(p) for p in APT.programs)
_TEXT_APT_CONSUMER = lazy_re(
    rf"\b({_APT_WORDS})\b[^;&|\n]*?\s(" + "|".join(sorted(APT_CONSUMERS)) + r")\b"
)
# The directories of the official images' PATH a script named without a `/` is found in.
_PATH_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
_TEXT_APT_UPDATE = lazy_re(rf"\b({_APT_WORDS})\b[^;&|\n]*?\s(" + "|".join(APT.refresh) + r")\b")


def apt_lists(
    doc: Dockerfile, owner: Instruction, cmds: list[Cmd], ctx: FixContext | None = None
) -> Kept | None:
    """The lists an update and install of the RUN leave, with their removal appended (and the
    update added to the later RUNs that then need it); None when they are not left."""
    apt = [c for c in cmds if c.program in APT_PROGRAMS]
    updates = [c for c in apt if c.sub == "update"]
    if not updates:
        return None
    last_update = updates[-1]
    if not any(c.sub in APT_CONSUMERS and c.order > last_update.order for c in apt):
        return None  # an update alone is DF102's business
    if any(c.order > last_update.order and _clears_lists(c) for c in cmds):
        return None  # removed already
    if not stage_in_image(doc, owner.stage):
        return None
    covered, unknown = mount_cover(doc, owner, (APT_LISTS,))
    if covered:
        return None
    message = f"`{last_update.program} update` leaves the apt lists ({APT_LISTS}) in the layer"
    unexpanded = next((w for c in cmds for w in _unexpanded_removals(c)), None)
    if unexpanded is not None:
        message += (
            f" (`{unexpanded}` is not brace-expanded by `{last_update.script.shell or 'sh'}`,"
            " the RUN's shell: it names no file)"
        )
    if unknown:
        return Kept(message, reason=unknown)
    script = last_update.script
    if script.kind == "exec":
        return Kept(message, reason="exec-form RUN: add the clean-up by hand")
    edit, why = append_command(doc, script, APT_RM)
    if edit is None:
        return Kept(message, reason=why)
    plan = _Plan([edit], ctx)
    update_text = _update_text(last_update)
    _apt_later(doc, owner, plan, update_text)
    if plan.blocked:
        return Kept(message, reason=plan.blocked)
    desc = f"append `{APT_RM}` to the RUN"
    if plan.unsafe_why:
        fix = Fix.unsafe(*plan.edits, description=desc, rationale=APT_WHY)
        return Kept(f"{message} ({'; '.join(plan.unsafe_why)})", fix)
    return Kept(message, Fix.safe(*plan.edits, description=desc, rationale=APT_WHY))


def _apt_later(doc: Dockerfile, owner: Instruction, plan: _Plan, update_text: str) -> None:
    """Check what runs after the RUN on its filesystem; extend or block the plan."""
    stage = owner.stage
    if stage is None:
        return
    start = stage.local_index(owner) + 1
    _walk_apt(doc, stage, start, plan, update_text)
    for st in doc.stages[stage.index + 1 :]:
        if from_reference(doc, st) is None and _TEXT_APT_CONSUMER.search(_stage_text(st)):
            plan.unsafe_why.append(
                f"line {st.from_instruction.start_line} builds FROM a variable that may name "
                "this stage and installs with apt"
            )


def _walk_apt(doc: Dockerfile, stage: Stage, start: int, plan: _Plan, update_text: str) -> None:
    """Walk a stage from ``start`` while the lists are gone only because of the fix."""
    instrs = stage.instructions
    for k in range(start, len(instrs)):  # no copy of the rest: it is often left early
        instr = instrs[k]
        if plan.blocked:
            return
        target = instr.trigger if instr.trigger is not None else instr
        if target.keyword != "RUN":
            continue
        restored = _apt_later_run(doc, instr, plan, update_text)
        if restored:
            return  # from here on the file behaves as before
    for child in doc.stages[stage.index + 1 :]:
        if child.parent is stage:
            _walk_apt(doc, child, 0, plan, update_text)


def _apt_later_run(doc: Dockerfile, instr: Instruction, plan: _Plan, update_text: str) -> bool:
    """Handle one later RUN; True when it refreshes or removes the lists itself."""
    analysis = analyse_run(doc, instr)
    cmds = [
        c for c in commands_of(analysis) if c.program in APT_PROGRAMS or c.program in APT_READERS
    ]
    first_consumer = next(
        (c for c in cmds if c.sub in APT_CONSUMERS or c.program in APT_READERS), None
    )
    first_update = next((c for c in cmds if c.sub == "update"), None)
    removes = any(_clears_lists(c) for c in commands_of(analysis))
    line = instr.start_line
    if analysis.opaque and _TEXT_APT_CONSUMER.search(analysis.text):
        if not _TEXT_APT_UPDATE.search(analysis.text):
            plan.blocked = (
                f"the RUN on line {line} installs with apt without `apt-get update`, and "
                f"{analysis.opaque}: removing the lists here would break it"
            )
        return True
    if first_consumer is None and first_update is None and _TEXT_APT_CONSUMER.search(analysis.text):
        # `xargs apt-get install`, `sh -c "apt-get install …"`, `timeout 60 apt-get …`:
        # an install this fix cannot follow still needs the lists.
        plan.blocked = (
            f"the RUN on line {line} installs with apt through a command this fix cannot "
            "follow (such as `xargs` or `sh -c`); removing the lists here could break it"
        )
        return True
    script_name = runs_local_script(analysis)
    if script_name and first_consumer is None:
        found = _script_source(doc, instr, script_name.split()[-1], plan.ctx)
        if found is not None and _installs_without_update(found[1]):
            plan.blocked = (
                f"the RUN on line {line} runs `{script_name}`, whose source `{found[0]}` "
                "installs with apt without `apt-get update`: removing the lists here would "
                "break it"
            )
            return True
        plan.unsafe_why.append(
            f"the RUN on line {line} runs `{script_name}`, which may use apt without an update"
        )
    if first_consumer is not None and (
        first_update is None or first_consumer.order < first_update.order
    ):
        covered, _ = mount_cover(doc, instr, (APT_LISTS,))
        if not covered:
            _add_update(
                doc, instr, first_consumer, plan, update_text, append_rm=first_update is None
            )
            if plan.blocked:
                return True
            if first_update is None and not removes:
                return False  # it now removes the lists too: keep walking
    return first_update is not None or removes


def _add_update(
    doc: Dockerfile,
    instr: Instruction,
    consumer: Cmd,
    plan: _Plan,
    update_text: str,
    *,
    append_rm: bool,
) -> None:
    line = instr.start_line
    script = consumer.script
    item = chain_item_of(script, consumer.command) if script.editable else None
    if item is None or item.op not in (None, "&&", ";", "\n"):
        plan.blocked = (
            f"the RUN on line {line} installs with apt without `apt-get update` in a way "
            "this fix cannot extend; removing the lists here would break it"
        )
        return
    plan.edits.append(Edit.insert(script.to_source(consumer.command.start), f"{update_text} && "))
    cmds = commands_of(analyse_run(doc, instr))
    removes = any(_clears_lists(c) for c in cmds)
    if append_rm and not removes:
        edit, _ = append_command(doc, script, APT_RM)
        if edit is not None:
            plan.edits.append(edit)
    plan.unsafe_why.append(f"adds `{update_text}` to the RUN on line {line}, which needs the lists")


@dataclass(eq=False)
class _Plan:
    edits: list[Edit] = field(default_factory=list)
    ctx: FixContext | None = None  # the build context, to read the scripts later RUNs run
    unsafe_why: list[str] = field(default_factory=list)
    blocked: str = ""


def _script_source(
    doc: Dockerfile, instr: Instruction, path: str, ctx: FixContext | None
) -> tuple[str, str] | None:
    """(context path, text) of the script a RUN runs, found by a bind mount of the RUN or by
    the COPY above it that put it there; None when it is not known to come from the context."""
    stage = instr.stage
    if ctx is None or stage is None or not ctx.has_context:
        return None
    files = ContextFiles(doc, stage, ctx, instr)
    rel: str | None = None
    if "/" not in path:  # looked up on PATH: a COPY into one of its directories put it there
        for directory in _PATH_DIRS:
            rel = files.rel(f"{directory}/{path}")
            if rel is not None:
                break
    else:
        image_path = resolve_path(path, image_workdir_at(doc, stage, instr))
        if image_path is None:
            return None
        target = instr.trigger if instr.trigger is not None else instr
        for m in mounts(target):
            if m.type == "bind" and m.from_ is None and m.source and m.target == image_path:
                rel = m.source.lstrip("/")
        rel = rel or files.rel(image_path)
    text = ctx.read_text(rel) if rel is not None else None
    return None if rel is None or text is None else (rel, text)


def _installs_without_update(text: str) -> bool:
    return bool(_TEXT_APT_CONSUMER.search(text)) and not _TEXT_APT_UPDATE.search(text)


def _unexpanded_removals(c: Cmd) -> list[str]:
    """The `rm` words that would remove the lists if the shell expanded their braces."""
    argv = c.command.argv
    if c.script.expands_braces or not argv or argv[0] != "rm":
        return []
    return [
        a
        for a in argv[1:]
        if "{" in a and any(clears(w, APT_LISTS) for w in brace_expand(a) if "{" not in w)
    ]


def _clears_lists(c: Cmd) -> bool:
    """Whether the command removes the apt lists: `rm` of them or `apt-get dist-clean`."""
    if c.program in APT_PROGRAMS and c.sub in APT.lists_clean_words:
        return True
    return removes(c.script, c.command, (APT_LISTS,))


def _update_text(update: Cmd) -> str:
    text = update.script.text(update.command.start, update.command.end)
    if "\n" in text or "\\" in text or update.command.assignments:
        return "apt-get update"
    if update.program == "apt":
        text = re.sub(r"(?<![\w-])apt(?![\w-])", "apt-get", text, count=1)
    return text


def _stage_text(stage: Stage) -> str:
    return "".join(i.logical + "".join(h.body for h in i.heredocs) for i in stage.instructions)
