r"""DF103 apt-lists-kept: package lists and caches left in the layer after an install.

## What it does
Finds a `RUN` that installs packages and leaves the package manager's downloaded metadata
in its layer, and cleans up in the same `RUN`:

- apt: `apt-get update` followed by an install, without removing the lists → appends
  `rm -rf /var/lib/apt/lists/*` to the end of the `RUN`'s `&&` chain;
- apk: `apk add` without `--no-cache` → adds `--no-cache` (and drops an `apk update` that
  only fed those `apk add`s, or else removes `/var/cache/apk/*`);
- dnf, yum, microdnf: an install without `<tool> clean all` after it → appends it;
  zypper: appends `zypper clean --all`;
- Yarn 1: `yarn install` without `yarn cache clean` in the same `RUN` → appends it, where the
  files the image has say the project uses Yarn 1 (the release `package.json`, `.yarnrc.yml`
  or `yarn.lock` names, no `yarn-path` in `.yarnrc`, no `corepack` or `yarn set version`
  before); Yarn 2+ caches are where Plug'n'Play reads the packages from: never cleaned.

What counts as the clean-up: `rm` of the lists, of a parent directory or of a glob of their
entries (`/var/lib/apt/lists/*_*`), and `apt-get dist-clean` (apt 2.7 and later). A brace list
(`rm -rf /var/{cache,lib}/apt`) counts where the `RUN`'s shell expands it (bash, zsh, ksh);
`/bin/sh` of Debian and Ubuntu is dash, which passes the braces to `rm` as they are, so the
lists stay and the message says why. Naming some entries (`lists/partial`) is not enough.

The new command follows the file's layout: one-line `RUN`s get ` && rm …` appended, a
multi-line `RUN` gets a new continuation line in its own style (`&&` at line starts or at
line ends, same indentation; `;` where `set -e` is on). A shell comment at the end of the
line stays last (it would swallow the new command). Heredoc scripts (`RUN <<EOF`) get a new
last line when `set -e` is on and ` && …` after their last command otherwise, which keeps
the script's exit status.

## Why is this bad
The lists are downloaded by `apt-get update` and are only needed while installing; left
behind they add tens of megabytes to the image, and a later layer that deletes them does not
shrink the earlier one. The same holds for apk's index and dnf/yum/zypper metadata caches.

## Example
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl
```
Use instead:
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*
```

## Fix safety
Safe when nothing later needs what is removed. A file that turns yum/dnf's `keepcache` on
keeps its packages on purpose and is left alone. Nothing is reported when a `--mount` (cache,
tmpfs or bind) covers the lists or the cache: they are then not in the layer, and `rm` would
empty the cache. For apt, the stage's later `RUN`s, and the `RUN`s of stages built `FROM` it,
are checked: one that installs without its own `apt-get update` would fail once the lists are
gone, so the fix adds the update there as well and is **unsafe** (that install now sees
current lists); where that cannot be written (exec form, inside `||` or a compound command),
the finding is display-only. A later `RUN` that runs a script (`./install.sh`) could call
apt without updating: the fix is then unsafe too. Likewise for apk: `--no-cache` fetches a
fresh index, so it is unsafe where the `RUN` used an index fetched by an earlier layer, or
where a later `apk` command relies on the index this `RUN` stops keeping. A later
`dnf`/`yum` with `--cacheonly` (a later `yarn … --offline`) makes the clean-up display-only.
apt lists and Yarn caches are only reported in stages that end up in an image (the last stage
and stages other stages are built FROM), as hadolint does. A Yarn install whose release cannot
be told (no `yarn.lock` copied, Yarn 2+ files …) is display-only, naming what was read; one
with a cache mount on a Yarn cache directory is not reported (the mount keeps the cache out of
the layer, and DF104 adds such mounts).

## Options
None.

## Resolves
hadolint DL3009, DL3019, DL3032, DL3036, DL3040, DL3060 · Trivy DS-0015, DS-0019, DS-0020, DS-0025,
DS-0027 · Checkov: none.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from dockfix.core.fixer import Edit, Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._context_files import ContextFiles
from dockfix.fixers._image_paths import image_workdir_at
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._package_managers import (
    SYSTEM_BY_NAME,
    SYSTEM_PACKAGE_MANAGERS,
    SystemPackageManager,
    system_manager,
    yarn_release,
    yarn_switch,
)
from dockfix.fixers._run_script import (
    RunAnalysis,
    Script,
    analyse_run,
    append_command,
    brace_expand,
    chain_item_of,
    mount_targets,
    paths_related,
    runs_local_script,
    subcommand,
)
from dockfix.fixers._run_text import runs_mentioning, words_pattern
from dockfix.semantics.context import FixContext
from dockfix.semantics.semantic import descendants, expand, from_reference, layered, stage_chain
from dockfix.semantics.shell import SimpleCommand
from dockfix.syntax import Dockerfile, Instruction, Stage

APT = SYSTEM_BY_NAME["apt"]
APK = SYSTEM_BY_NAME["apk"]
APT_LISTS = APT.lists_dirs[0]
APT_RM = f"rm -rf {APT_LISTS}/*"
APT_PROGRAMS = frozenset(APT.programs)
APT_CONSUMERS = frozenset(APT.installs)
APT_READERS = frozenset(APT.reader_programs)  # read the lists, any subcommand
APK_CACHE = APK.cache_dirs
# Why each kind of edit is made (the PR description shows the one that fits the edit).
APT_WHY = (
    "The lists are downloaded by `apt-get update` and are only needed while installing; left "
    "behind they add tens of megabytes to the image, and a later layer that deletes them does "
    "not shrink the earlier one."
)
APK_WHY = (
    "Without `--no-cache`, `apk add` keeps the package index it fetched in the layer: megabytes "
    "the running image never reads, which a later layer cannot take back."
)
RPM_WHY = (
    "The package manager keeps its downloaded metadata and packages in the layer after an "
    "install; cleaning in the same `RUN` keeps them out of the image (a later layer that "
    "deletes them does not shrink this one)."
)
APK_INDEX_USERS = frozenset(APK.installs + APK.index_readers)
# The managers whose clean-up is a command appended after the install.
RPM_TOOLS = tuple(m for m in SYSTEM_PACKAGE_MANAGERS if m.clean)


YARN_WHY = (
    "Yarn 1 keeps a copy of every package it downloaded in its cache, next to the installed "
    "`node_modules`: tens to hundreds of megabytes the running image never reads, which a later "
    "layer cannot take back."
)
YARN_CLEAN = "yarn cache clean"
YARN_HADOLINT_RULE = "DL3060"
_YARN_PATH_V1 = lazy_re(r"^\s*yarn-path\b", re.M)  # Yarn 1's `.yarnrc`: run another release

_APT_WORDS = "|".join(re.escape(p) for p in APT.programs)
_TEXT_APT_CONSUMER = lazy_re(
    rf"\b({_APT_WORDS})\b[^;&|\n]*?\s(" + "|".join(sorted(APT_CONSUMERS)) + r")\b"
)
# A RUN without one of these words runs no package manager this fixer cleans up after.
_PROGRAM_WORDS = words_pattern(
    *dict.fromkeys(p for m in SYSTEM_PACKAGE_MANAGERS for p in m.programs), "yarn"
)
_KEEPCACHE = lazy_re(r"keepcache\s*=\s*(1|true|yes)", re.I)
_TEXT_APT_UPDATE = lazy_re(rf"\b({_APT_WORDS})\b[^;&|\n]*?\s(" + "|".join(APT.refresh) + r")\b")


@dataclass(eq=False)
class Cmd:
    """A package-manager command found in a RUN, in execution order."""

    script: Script
    command: SimpleCommand
    program: str
    sub: str
    sub_index: int
    order: tuple[int, int]


@dataclass(eq=False)
class _Plan:
    edits: list[Edit] = field(default_factory=list)
    unsafe_why: list[str] = field(default_factory=list)
    blocked: str = ""


def _commands(analysis: RunAnalysis) -> list[Cmd]:
    out: list[Cmd] = []
    for si, script in enumerate(analysis.scripts):
        for c in script.parsed.commands:
            sub = subcommand(c)
            if sub is not None:
                out.append(Cmd(script, c, sub[0], sub[1], sub[2], (si, c.start)))
    out.sort(key=lambda c: c.order)
    return out


def _args(cmd: Cmd) -> list[str]:
    return [w.value for w in cmd.command.words[cmd.sub_index + 1 :]] if cmd.sub_index >= 0 else []


def _removes(script: Script, cmd: SimpleCommand, paths: tuple[str, ...]) -> bool:
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
            if any(_clears(word, p) for p in paths):
                return True
    return False


def _clears(word: str, path: str) -> bool:
    """Whether removing ``word`` removes ``path``: the path itself, a parent, or a glob of its
    entries (`/var/lib/apt/lists/*_*`); naming some entries (`lists/partial`) is not enough."""
    stem = word.rstrip("*").rstrip("/") or "/"
    if stem == path or path.startswith(stem.rstrip("/") + "/"):
        return True
    parent, _, name = word.rpartition("/")
    return parent == path and any(ch in name for ch in "*?[")


def _unexpanded_removals(c: Cmd) -> list[str]:
    """The `rm` words that would remove the lists if the shell expanded their braces."""
    argv = c.command.argv
    if c.script.expands_braces or not argv or argv[0] != "rm":
        return []
    return [
        a
        for a in argv[1:]
        if "{" in a and any(_clears(w, APT_LISTS) for w in brace_expand(a) if "{" not in w)
    ]


def _clears_lists(c: Cmd) -> bool:
    """Whether the command removes the apt lists: `rm` of them or `apt-get dist-clean`."""
    if c.program in APT_PROGRAMS and c.sub in APT.lists_clean_words:
        return True
    return _removes(c.script, c.command, (APT_LISTS,))


def _mount_cover(doc: Dockerfile, owner: Instruction, paths: tuple[str, ...]) -> tuple[bool, str]:
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


def _stage_in_image(doc: Dockerfile, stage: Stage | None) -> bool:
    if stage is None:
        return True
    return (
        stage is doc.final_stage
        or bool(descendants(doc, stage))
        or any(from_reference(doc, st) is None for st in doc.stages[stage.index + 1 :])
    )


@register
class AptListsKept(Fixer):
    code = "DF103"
    severity = Severity.INFO
    name = "apt-lists-kept"
    summary = "Package lists or caches left in the layer after an install"
    resolves = Resolves(
        hadolint=("DL3009", "DL3019", "DL3032", "DL3036", "DL3040", "DL3060"),
        trivy=("DS-0015", "DS-0019", "DS-0020", "DS-0025", "DS-0027"),
        checkov=(),
    )
    image_changes = (
        "apt-lists-removed",
        "caches-removed:/var/cache/apk,/var/cache/dnf,/var/cache/yum,/var/cache/zypp,/var/cache/apt,"
        "/usr/local/share/.cache/yarn,/root/.cache/yarn,/home/*/.cache/yarn",
    )

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for owner in runs_mentioning(doc, _PROGRAM_WORDS):
            analysis = analyse_run(doc, owner)
            cmds = _commands(analysis)
            if not cmds:
                continue
            found = self._apt(doc, owner, analysis, cmds)
            if found is not None:
                found.hadolint = (APT.hadolint_rule,)
                yield found
            found = self._apk(doc, owner, analysis, cmds)
            if found is not None:
                found.hadolint = (APK.hadolint_rule,)
                yield found
            yield from self._rpm(doc, owner, analysis, cmds)
            found = self._yarn(doc, ctx, owner, cmds)
            if found is not None:
                found.hadolint = (YARN_HADOLINT_RULE,)
                yield found

    # --- apt ----------------------------------------------------------------------------

    def _apt(
        self, doc: Dockerfile, owner: Instruction, analysis: RunAnalysis, cmds: list[Cmd]
    ) -> Finding | None:
        apt = [c for c in cmds if c.program in APT_PROGRAMS]
        updates = [c for c in apt if c.sub == "update"]
        if not updates:
            return None
        last_update = updates[-1]
        if not any(c.sub in APT_CONSUMERS and c.order > last_update.order for c in apt):
            return None  # an update alone is DF102's business
        if any(c.order > last_update.order and _clears_lists(c) for c in cmds):
            return None  # removed already
        if not _stage_in_image(doc, owner.stage):
            return None
        covered, unknown = _mount_cover(doc, owner, (APT_LISTS,))
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
            return self.finding(owner, message, reason=unknown)
        script = last_update.script
        if script.kind == "exec":
            return self.finding(owner, message, reason="exec-form RUN: add the clean-up by hand")
        edit, why = append_command(doc, script, APT_RM)
        if edit is None:
            return self.finding(owner, message, reason=why)
        plan = _Plan([edit])
        update_text = _update_text(last_update)
        self._apt_later(doc, owner, plan, update_text)
        if plan.blocked:
            return self.finding(owner, message, reason=plan.blocked)
        desc = f"append `{APT_RM}` to the RUN"
        if plan.unsafe_why:
            fix = Fix.unsafe(*plan.edits, description=desc, rationale=APT_WHY)
            return self.finding(owner, f"{message} ({'; '.join(plan.unsafe_why)})", fix)
        return self.finding(
            owner, message, Fix.safe(*plan.edits, description=desc, rationale=APT_WHY)
        )

    def _apt_later(
        self, doc: Dockerfile, owner: Instruction, plan: _Plan, update_text: str
    ) -> None:
        """Check what runs after the RUN on its filesystem; extend or block the plan."""
        stage = owner.stage
        if stage is None:
            return
        start = stage.local_index(owner) + 1
        self._walk_apt(doc, stage, start, plan, update_text)
        for st in doc.stages[stage.index + 1 :]:
            if from_reference(doc, st) is None and _TEXT_APT_CONSUMER.search(_stage_text(st)):
                plan.unsafe_why.append(
                    f"line {st.from_instruction.start_line} builds FROM a variable that may name "
                    "this stage and installs with apt"
                )

    def _walk_apt(
        self, doc: Dockerfile, stage: Stage, start: int, plan: _Plan, update_text: str
    ) -> None:
        """Walk a stage from ``start`` while the lists are gone only because of the fix."""
        instrs = stage.instructions
        for k in range(start, len(instrs)):  # no copy of the rest: it is often left early
            instr = instrs[k]
            if plan.blocked:
                return
            target = instr.trigger if instr.trigger is not None else instr
            if target.keyword != "RUN":
                continue
            restored = self._apt_later_run(doc, instr, plan, update_text)
            if restored:
                return  # from here on the file behaves as before
        for child in doc.stages[stage.index + 1 :]:
            if child.parent is stage:
                self._walk_apt(doc, child, 0, plan, update_text)

    def _apt_later_run(
        self, doc: Dockerfile, instr: Instruction, plan: _Plan, update_text: str
    ) -> bool:
        """Handle one later RUN; True when it refreshes or removes the lists itself."""
        analysis = analyse_run(doc, instr)
        cmds = [
            c for c in _commands(analysis) if c.program in APT_PROGRAMS or c.program in APT_READERS
        ]
        first_consumer = next(
            (c for c in cmds if c.sub in APT_CONSUMERS or c.program in APT_READERS), None
        )
        first_update = next((c for c in cmds if c.sub == "update"), None)
        removes = any(_clears_lists(c) for c in _commands(analysis))
        line = instr.start_line
        if analysis.opaque and _TEXT_APT_CONSUMER.search(analysis.text):
            if not _TEXT_APT_UPDATE.search(analysis.text):
                plan.blocked = (
                    f"the RUN on line {line} installs with apt without `apt-get update`, and "
                    f"{analysis.opaque}: removing the lists here would break it"
                )
            return True
        if (
            first_consumer is None
            and first_update is None
            and _TEXT_APT_CONSUMER.search(analysis.text)
        ):
            # `xargs apt-get install`, `sh -c "apt-get install …"`, `timeout 60 apt-get …`:
            # an install this fix cannot follow still needs the lists.
            plan.blocked = (
                f"the RUN on line {line} installs with apt through a command this fix cannot "
                "follow (such as `xargs` or `sh -c`); removing the lists here could break it"
            )
            return True
        script_name = runs_local_script(analysis)
        if script_name and first_consumer is None:
            plan.unsafe_why.append(
                f"the RUN on line {line} runs `{script_name}`, which may use apt without an update"
            )
        if first_consumer is not None and (
            first_update is None or first_consumer.order < first_update.order
        ):
            covered, _ = _mount_cover(doc, instr, (APT_LISTS,))
            if not covered:
                self._add_update(
                    doc, instr, first_consumer, plan, update_text, append_rm=first_update is None
                )
                if plan.blocked:
                    return True
                if first_update is None and not removes:
                    return False  # it now removes the lists too: keep walking
        return first_update is not None or removes

    def _add_update(
        self,
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
        plan.edits.append(
            Edit.insert(script.to_source(consumer.command.start), f"{update_text} && ")
        )
        cmds = _commands(analyse_run(doc, instr))
        removes = any(_clears_lists(c) for c in cmds)
        if append_rm and not removes:
            edit, _ = append_command(doc, script, APT_RM)
            if edit is not None:
                plan.edits.append(edit)
        plan.unsafe_why.append(
            f"adds `{update_text}` to the RUN on line {line}, which needs the lists"
        )

    # --- apk ----------------------------------------------------------------------------

    def _apk(
        self, doc: Dockerfile, owner: Instruction, analysis: RunAnalysis, cmds: list[Cmd]
    ) -> Finding | None:
        apk = [c for c in cmds if c.program == "apk"]
        adds = [c for c in apk if c.sub == "add" and not _no_cache(c)]
        if not adds:
            return None
        covered, unknown = _mount_cover(doc, owner, APK_CACHE)
        if covered:
            return None
        message = "`apk add` without `--no-cache` keeps the package index in the layer"
        if unknown:
            return self.finding(owner, message, reason=unknown)
        if any(c.script.kind == "exec" or not c.script.editable for c in adds):
            return self.finding(
                owner, message, reason="the RUN's shell code cannot be edited safely"
            )
        edits = [
            Edit.insert(c.script.end_to_source(c.command.words[c.sub_index].end), " --no-cache")
            for c in adds
        ]
        updates = [c for c in apk if c.sub == "update"]
        refreshed_flag = any(any(a in APK.refresh_options for a in _opts(c)) for c in adds)
        refreshed = bool(updates and updates[0].order < adds[0].order) or refreshed_flag
        stops_index = refreshed_flag or bool(updates)
        if updates:
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
                edits.append(removal)
            elif not any(
                _removes(c.script, c.command, APK.cache_dirs[:1])
                for c in cmds
                if c.order > update.order
            ):
                edit, why = append_command(doc, update.script, "rm -rf /var/cache/apk/*")
                if edit is None:
                    return self.finding(owner, message, reason=why)
                edits.append(edit)
        unsafe: list[str] = []
        if not refreshed:
            unsafe.append(
                "`--no-cache` fetches a fresh index instead of the one an earlier layer kept"
            )
        if stops_index:
            later = _later_index_users(doc, owner)
            for line, fixable in later:
                if not fixable:
                    return self.finding(
                        owner,
                        message,
                        reason=f"the apk command on line {line} relies on the index this RUN keeps",
                    )
                unsafe.append(
                    f"the `apk add` on line {line} relies on this index (it is fixed too)"
                )
        desc = "add `--no-cache` to `apk add`"
        if unsafe:
            return self.finding(
                owner,
                f"{message} ({'; '.join(unsafe)})",
                Fix.unsafe(*edits, description=desc, rationale=APK_WHY),
            )
        return self.finding(owner, message, Fix.safe(*edits, description=desc, rationale=APK_WHY))

    # --- dnf, yum, microdnf, zypper -------------------------------------------------------

    def _rpm(
        self, doc: Dockerfile, owner: Instruction, analysis: RunAnalysis, cmds: list[Cmd]
    ) -> Iterator[Finding]:
        for tool in RPM_TOOLS:
            mine = [c for c in cmds if c.program in tool.programs]
            installs = [c for c in mine if c.sub in tool.installs]
            if not installs:
                continue
            last = installs[-1]
            if any(c.order > last.order and _is_clean(c, tool) for c in mine):
                continue
            if any(
                c.order > last.order and _removes(c.script, c.command, tool.cache_dirs)
                for c in cmds
            ):
                continue
            covered, unknown = _mount_cover(doc, owner, tool.cache_dirs)
            if covered:
                continue
            if _KEEPCACHE.search(_text_before(owner)):
                continue  # the file turned `keepcache` on: it keeps the packages on purpose
            message = (
                f"`{last.program} {last.sub}` without `{tool.clean}` keeps its cache in the layer"
            )
            if unknown:
                yield self._tool_finding(last.program, owner, message, reason=unknown)
                continue
            if last.script.kind == "exec":
                yield self._tool_finding(
                    last.program, owner, message, reason="exec-form RUN: add the clean-up by hand"
                )
                continue
            later = _later_cacheonly(doc, owner, tool)
            if later is not None:
                yield self._tool_finding(
                    last.program,
                    owner,
                    message,
                    reason=(
                        f"the RUN on line {later} runs {last.program} from the cache (--cacheonly)"
                    ),
                )
                continue
            edit, why = append_command(doc, last.script, tool.clean)
            if edit is None:
                yield self._tool_finding(last.program, owner, message, reason=why)
                continue
            yield self._tool_finding(
                last.program,
                owner,
                message,
                Fix.safe(edit, description=f"append `{tool.clean}`", rationale=RPM_WHY),
            )

    # --- yarn ---------------------------------------------------------------------------

    def _yarn(
        self, doc: Dockerfile, ctx: FixContext, owner: Instruction, cmds: list[Cmd]
    ) -> Finding | None:
        yarn = [c for c in cmds if c.program == "yarn"]
        installs = [c for c in yarn if "install" in c.command.argv]
        if not installs or any(_is_yarn_clean(c) for c in yarn):
            return None
        stage = owner.stage
        if stage is None or not _stage_in_image(doc, stage):
            return None
        if any("yarn" in target for _, target in mount_targets(_target(owner))):
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
            return self.finding(owner, message, reason=why)
        fix = Fix.safe(edit, description=f"append `{YARN_CLEAN}`", rationale=YARN_WHY)
        return self.finding(owner, message, fix)

    def _tool_finding(
        self,
        program: str,
        owner: Instruction,
        message: str,
        fix: Fix | None = None,
        *,
        reason: str = "",
    ) -> Finding:
        """A finding naming the hadolint rule of its package manager (a `# hadolint ignore=`
        of one manager's rule leaves the others reported)."""
        found = self.finding(owner, message, fix, reason=reason)
        manager = system_manager(program)
        found.hadolint = (manager.hadolint_rule if manager is not None else "DL3040",)
        return found


def _update_text(update: Cmd) -> str:
    text = update.script.text(update.command.start, update.command.end)
    if "\n" in text or "\\" in text or update.command.assignments:
        return "apt-get update"
    if update.program == "apt":
        text = re.sub(r"(?<![\w-])apt(?![\w-])", "apt-get", text, count=1)
    return text


def _stage_text(stage: Stage) -> str:
    return "".join(i.logical + "".join(h.body for h in i.heredocs) for i in stage.instructions)


def _opts(c: Cmd) -> list[str]:
    return [w.value for w in c.command.words[1:] if w.value.startswith("-")]


def _no_cache(c: Cmd) -> bool:
    return any(o in APK.no_cache_options for o in _opts(c))


def _is_clean(c: Cmd, tool: SystemPackageManager) -> bool:
    if c.sub_index < 0:
        return False
    words = (c.sub, *_args(c))
    return any(words[: len(w)] == w for w in tool.clean_words)


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
    stage = owner.stage
    if stage is None:
        return out
    stages = [stage, *descendants(doc, stage)]
    for st in stages:
        for instr in st.instructions:
            if st is stage and instr.start <= owner.start:
                continue
            target = instr.trigger if instr.trigger is not None else instr
            if target.keyword != "RUN":
                continue
            analysis = analyse_run(doc, instr)
            cmds = [c for c in _commands(analysis) if c.program == "apk"]
            refreshed = False
            for c in cmds:
                if c.sub == "update":
                    refreshed = True
                    break
                if (
                    c.sub in APK_INDEX_USERS
                    and not _no_cache(c)
                    and not any(a in APK.refresh_options for a in _opts(c))
                ):
                    out.append((instr.start_line, c.sub == "add" and c.script.editable))
            if refreshed:
                return out
    return out


def _later_cacheonly(
    doc: Dockerfile, owner: Instruction, manager: SystemPackageManager
) -> int | None:
    stage = owner.stage
    if stage is None:
        return None
    for st in [stage, *descendants(doc, stage)]:
        for instr in st.instructions:
            if st is stage and instr.start <= owner.start:
                continue
            target = instr.trigger if instr.trigger is not None else instr
            if target.keyword != "RUN":
                continue
            for c in _commands(analyse_run(doc, instr)):
                if c.program in manager.programs and any(
                    o in manager.cache_only_options for o in _opts(c)
                ):
                    return instr.start_line
    return None


def _later_yarn_offline(doc: Dockerfile, owner: Instruction) -> int | None:
    """The line of a later RUN (the stage's, or a stage built FROM it) whose Yarn installs from
    its cache only (`--offline`); None when there is none."""
    stage = owner.stage
    if stage is None:
        return None
    for st in [stage, *descendants(doc, stage)]:
        for instr in st.instructions:
            if (st is stage and instr.start <= owner.start) or _target(instr).keyword != "RUN":
                continue
            for c in _commands(analyse_run(doc, instr)):
                if c.program == "yarn" and "--offline" in _opts(c):
                    return instr.start_line
    return None


def _target(owner: Instruction) -> Instruction:
    return owner.trigger if owner.trigger is not None else owner


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
            if _target(instr).keyword != "RUN":
                continue
            for c in _commands(analyse_run(doc, instr)):
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
