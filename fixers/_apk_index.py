"""DF103's apk part: `apk add` without `--no-cache`, and the apk commands after it (in the
stage and the stages built FROM it) that read the index the RUN would stop keeping."""

from __future__ import annotations

from dockfix.core.fixer import Edit, Fix
from dockfix.fixers._kept_caches import (
    Cmd,
    Kept,
    commands_of,
    later_runs,
    mount_cover,
    options_of,
    removes,
)
from dockfix.fixers._package_managers import SYSTEM_BY_NAME
from dockfix.fixers._run_script import analyse_run, append_command
from dockfix.syntax import Dockerfile, Instruction

APK = SYSTEM_BY_NAME["apk"]
APK_CACHE = APK.cache_dirs
APK_INDEX_USERS = frozenset(APK.installs + APK.index_readers)
APK_WHY = (
    "Without `--no-cache`, `apk add` keeps the package index it fetched in the layer: megabytes "
    "the running image never reads, which a later layer cannot take back."
)


def apk_index(doc: Dockerfile, owner: Instruction, cmds: list[Cmd]) -> Kept | None:
    """The RUN's `apk add`s that keep the index, with `--no-cache` added to each (unsafe where
    the RUN or a later one relied on an index an earlier layer kept); None when none does."""
    apk = [c for c in cmds if c.program == "apk"]
    adds = [c for c in apk if c.sub == "add" and not _no_cache(c)]
    if not adds:
        return None
    covered, unknown = mount_cover(doc, owner, APK_CACHE)
    if covered:
        return None
    message = "`apk add` without `--no-cache` keeps the package index in the layer"
    if unknown:
        return Kept(message, reason=unknown)
    if any(c.script.kind == "exec" or not c.script.editable for c in adds):
        return Kept(message, reason="the RUN's shell code cannot be edited safely")
    edits = [
        Edit.insert(c.script.end_to_source(c.command.words[c.sub_index].end), " --no-cache")
        for c in adds
    ]
    updates = [c for c in apk if c.sub == "update"]
    refreshed_flag = any(any(a in APK.refresh_options for a in options_of(c)) for c in adds)
    refreshed = bool(updates and updates[0].order < adds[0].order) or refreshed_flag
    stops_index = refreshed_flag or bool(updates)
    if updates:
        change = _update_edit(doc, cmds, apk, adds, updates)
        if isinstance(change, str):
            return Kept(message, reason=change)
        if change is not None:
            edits.append(change)
    unsafe: list[str] = []
    if not refreshed:
        unsafe.append("`--no-cache` fetches a fresh index instead of the one an earlier layer kept")
    if stops_index:
        later = _later_index_users(doc, owner)
        for line, fixable in later:
            if not fixable:
                return Kept(
                    message,
                    reason=f"the apk command on line {line} relies on the index this RUN keeps",
                )
            unsafe.append(f"the `apk add` on line {line} relies on this index (it is fixed too)")
    desc = "add `--no-cache` to `apk add`"
    if unsafe:
        return Kept(
            f"{message} ({'; '.join(unsafe)})",
            Fix.unsafe(*edits, description=desc, rationale=APK_WHY),
        )
    return Kept(message, Fix.safe(*edits, description=desc, rationale=APK_WHY))


def _update_edit(
    doc: Dockerfile, cmds: list[Cmd], apk: list[Cmd], adds: list[Cmd], updates: list[Cmd]
) -> Edit | str | None:
    """What becomes of the index the RUN's `apk update` fetched once its `apk add`s stop using
    it: the update deleted when only they read it, else the index removed at the end (no edit
    when the RUN removes it already); or, as a string, why neither can be written."""
    update = updates[-1]
    others = [
        c
        for c in apk
        if c.order > update.order
        and c.sub in APK_INDEX_USERS
        and c not in adds
        and not _no_cache(c)
    ]
    removal = _delete_item(update) if not others and len(updates) == 1 else None
    if removal is not None:
        return removal
    if any(
        removes(c.script, c.command, APK.cache_dirs[:1]) for c in cmds if c.order > update.order
    ):
        return None
    edit, why = append_command(doc, update.script, "rm -rf /var/cache/apk/*")
    return edit if edit is not None else why


def _no_cache(c: Cmd) -> bool:
    # `--no-network` fetches no index to keep (the redis image's second `apk add`)
    return any(o in APK.no_cache_options or o == "--no-network" for o in options_of(c))


def _delete_item(update: Cmd) -> Edit | None:
    """Delete a top-level `apk update` joined by `&&`/`;` from its chain."""
    script = update.script
    if not script.editable:
        return None
    chain = script.parsed.chain
    k = next((i for i, it in enumerate(chain) if it.command is update.command), None)
    if k is None or len(chain) < 2:
        return None
    ops = {chain[k].op} if k > 0 else set()
    if k + 1 < len(chain):
        ops.add(chain[k + 1].op)
    if ops - {"&&", ";", "\n"} or k + 1 >= len(chain):
        return None
    if k == 0:
        start, end = script.to_source(update.command.start), script.to_source(chain[1].start)
    else:
        start, end = (
            script.end_to_source(chain[k - 1].end),
            script.end_to_source(update.command.end),
        )
    if "#" in script.instr.source[start:end]:
        return None  # a comment line sits in the range: keep it, clean up differently
    return Edit.delete(start, end)


def _later_index_users(doc: Dockerfile, owner: Instruction) -> list[tuple[int, bool]]:
    """Later apk commands that read the index without refreshing it: (line, fixable by DF103)."""
    out: list[tuple[int, bool]] = []
    for instr in later_runs(doc, owner):
        for c in commands_of(analyse_run(doc, instr)):
            if c.program != "apk":
                continue
            if c.sub == "update":
                return out  # a fresh index from here on
            if (
                c.sub in APK_INDEX_USERS
                and not _no_cache(c)
                and not any(a in APK.refresh_options for a in options_of(c))
            ):
                out.append((instr.start_line, c.sub == "add" and c.script.editable))
    return out
