"""DF102 apt-update-alone: a package index update in a RUN that installs nothing.

## What it does
Finds a `RUN` whose `apt-get update` (or `apt update`, `apk update`, `dnf`/`yum`/`microdnf
makecache`, `zypper refresh`) is not followed by an install in the same `RUN`, and moves the
update into the `RUN` of the same stage that installs, as one `&&` chain.

## Why is this bad
Each `RUN` is a cached layer. When the update has a layer of its own, a later change to the
install line reuses yesterday's cached package index: the install then fails with 404s for
package versions that no longer exist, or silently installs stale versions. Updating and
installing in one `RUN` makes them expire together.

## Example
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update
RUN apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*
```
Use instead:
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*
```
A `RUN` that does more than the update keeps its other commands
(`RUN apt-get update && mkdir /data` becomes `RUN mkdir /data`). `apt update` is written as
`apt-get update`, the interface meant for scripts.

## Fix safety
Safe when only instructions that cannot see the package index stand between the two `RUN`s
(`ENV`, `ARG`, `LABEL`, `WORKDIR`, `EXPOSE`, and `COPY`/`ADD`/`RUN` that do not touch the
package manager or its configuration). Unsafe when something in between uses the package
manager or changes its sources (the update would then see different sources). Not fixed
(display-only) when the user changes in between, when no later `RUN` of the stage installs,
when the install is exec form, a heredoc script, or sits inside `||`, a pipeline or a compound
command, and when a suppression pragma is attached to the update's `RUN` (deleting the `RUN`
would hand the pragma to the next instruction).

## Options
None.

## Resolves
hadolint: none (DL3009 is about removing the lists, see DF103) · Trivy: DS-0017 ·
Checkov: CKV_DOCKER_5.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from dockfix.core.edits import delete_instruction
from dockfix.core.fixer import (
    Applicability,
    Edit,
    Finding,
    Fix,
    Fixer,
    Resolves,
    Severity,
    register,
)
from dockfix.core.suppression import is_pragma
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._package_managers import SYSTEM_PACKAGE_MANAGERS
from dockfix.fixers._run_text import runs_mentioning, words_pattern
from dockfix.semantics.context import FixContext
from dockfix.semantics.shell import (
    ChainItem,
    ShellScript,
    SimpleCommand,
    heredoc_shell_of,
    shell_of,
)
from dockfix.syntax import Dockerfile, Instruction, Stage


class Manager(NamedTuple):
    name: str
    refresh: frozenset[tuple[str, str]]  # (program, subcommand)
    consumers: frozenset[tuple[str, str]]  # subcommand "*" = any
    paths: tuple[str, ...]  # configuration and state the index depends on


def _family(name: str) -> Manager:
    """One Manager per family: `yum makecache` feeds a later `dnf install`."""
    rows = [m for m in SYSTEM_PACKAGE_MANAGERS if m.family == name]
    return Manager(
        name,
        frozenset((p, s) for m in rows for p in m.programs for s in m.refresh),
        frozenset(
            {(p, s) for m in rows for p in m.programs for s in (*m.installs, *m.index_readers)}
            | {(p, "*") for m in rows for p in m.reader_programs}
        ),
        tuple(dict.fromkeys(d for m in rows for d in m.state_dirs)),
    )


MANAGERS = tuple(_family(f) for f in dict.fromkeys(m.family for m in SYSTEM_PACKAGE_MANAGERS))
# A RUN without one of these words refreshes no index: its shell is not worth parsing.
_REFRESH_WORDS = words_pattern(
    *dict.fromkeys(s for m in SYSTEM_PACKAGE_MANAGERS for s in m.refresh)
)
_REFRESHES = {pair: mgr for mgr in MANAGERS for pair in mgr.refresh}  # (program, subcommand)

# Any mention of a package manager, or of the tools below them (dpkg, rpm).
_PM_WORDS = lazy_re(
    r"\b("
    + "|".join(
        re.escape(p) for m in SYSTEM_PACKAGE_MANAGERS for p in (*m.programs, *m.reader_programs)
    )
    + r"|dpkg|rpm)\b"
)


def _is(cmd: SimpleCommand, pairs: frozenset[tuple[str, str]]) -> bool:
    prog, sub = cmd.subcommand()
    return (prog, sub) in pairs or (prog, "*") in pairs


@register
class AptUpdateAlone(Fixer):
    code = "DF102"
    severity = Severity.WARNING
    name = "apt-update-alone"
    summary = "Package index update in a RUN without the install"
    resolves = Resolves(hadolint=(), trivy=("DS-0017",), checkov=("CKV_DOCKER_5",))
    mentions = tuple(dict.fromkeys(s for m in SYSTEM_PACKAGE_MANAGERS for s in m.refresh))

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for instr in runs_mentioning(doc, _REFRESH_WORDS):
            stage = instr.stage
            if instr.keyword != "RUN" or stage is None:
                continue  # ONBUILD RUN: its update is for the images built from this one
            script = shell_of(instr)
            if script is None or script.has_error:
                continue
            if instr.heredocs and not script.commands:
                yield from self._check_heredoc_script(instr)
                continue
            refreshed = {_REFRESHES.get(c.subcommand()) for c in script.commands}
            for mgr in MANAGERS:
                if mgr in refreshed:
                    f = self._check_run(doc, stage, instr, script, mgr)
                    if f is not None:
                        yield f

    def _check_heredoc_script(self, instr: Instruction) -> Iterator[Finding]:
        """`RUN <<EOF` scripts are reported, never edited: their shell is not ours to read."""
        body = heredoc_shell_of(instr, 0)
        if body.has_error:
            return
        for mgr in MANAGERS:
            updates = [c for c in body.commands if _is(c, mgr.refresh)]
            if updates and not any(
                _is(c, mgr.consumers) and c.start > updates[-1].start for c in body.commands
            ):
                label = " ".join(updates[-1].argv[:2])
                yield self.finding(
                    instr,
                    f"`{label}` in a RUN that installs nothing",
                    reason="the update is in a heredoc script; move it into the installing RUN by hand",
                )

    def _check_run(
        self, doc: Dockerfile, stage: Stage, instr: Instruction, script: ShellScript, mgr: Manager
    ) -> Finding | None:
        updates = [c for c in script.commands if _is(c, mgr.refresh)]
        if not updates:
            return None
        update = updates[-1]
        if any(_is(c, mgr.consumers) and c.start > update.start for c in script.commands):
            return None  # installs after its own update: fine
        label = " ".join(update.argv[:2])
        message = f"`{label}` in a RUN that installs nothing"
        if not update.top_level:
            return self.finding(instr, message, reason="the update is inside a compound command")
        target = self._target(stage, instr, mgr)
        if target is None:
            return self.finding(
                instr,
                message,
                reason="no later RUN of this stage installs packages; merge it by hand or remove it",
            )
        t_instr, t_script, consumer = target
        if any(is_pragma(c) for c in doc.comment_lines_above(instr)) and _only_command(
            script, update
        ):
            return self.finding(
                instr, message, reason="a suppression pragma is attached to this RUN"
            )
        between = stage.instructions[stage.local_index(instr) + 1 : stage.local_index(t_instr)]
        verdict, why = _between_verdict(between, mgr)
        if verdict is None:
            return self.finding(instr, message, reason=why)
        removal = _removal(doc, instr, script, update)
        if removal is None:
            return self.finding(instr, message, reason="the update is joined with `||`, `|` or `&`")
        item = next((it for it in t_script.chain if it.command is consumer), None)
        if item is None or item.op not in (None, "&&", ";", "\n"):
            return self.finding(
                instr,
                message,
                reason=f"the install on line {t_instr.start_line} is not a plain command of its chain",
            )
        has_own_update = any(
            _is(c, mgr.refresh) and c.start < consumer.start for c in t_script.commands
        )
        edits = [removal]
        if not has_own_update:
            text = instr.logical[update.start : update.end]
            if update.argv[:1] == ["apt"]:
                text = re.sub(r"(?<![\w-])apt(?![\w-])", "apt-get", text, count=1)
            at = t_instr.to_source(consumer.start)
            edits.append(Edit.insert(at, f"{text} && "))
        desc = (
            f"move `{label}` into the RUN on line {t_instr.start_line}"
            if not has_own_update
            else f"remove it: the RUN on line {t_instr.start_line} updates before installing"
        )
        fix = Fix(tuple(edits), verdict, desc)
        return self.finding(instr, message + (f" ({why})" if why else ""), fix)

    def _target(
        self, stage: Stage, instr: Instruction, mgr: Manager
    ) -> tuple[Instruction, ShellScript, SimpleCommand] | None:
        instrs = stage.instructions
        for k in range(stage.local_index(instr) + 1, len(instrs)):  # no copy of the rest
            cand = instrs[k]
            if cand.keyword != "RUN":
                continue
            script = shell_of(cand)
            bodies = "".join(h.body for h in cand.heredocs)
            if script is None or script.has_error or (cand.heredocs and not script.commands):
                # exec form, or a heredoc that is itself the script: not edited here
                if _PM_WORDS.search(cand.logical + bodies):
                    return None  # an install we cannot edit comes first
                continue
            if _PM_WORDS.search(bodies):
                return None  # a heredoc body feeds the package manager: leave it alone
            consumers = [c for c in script.commands if _is(c, mgr.consumers)]
            if consumers:
                return cand, script, consumers[0]
        return None


def _only_command(script: ShellScript, cmd: SimpleCommand) -> bool:
    return len(script.chain) == 1 and script.chain[0].command is cmd


def _between_verdict(between: list[Instruction], mgr: Manager) -> tuple[Applicability | None, str]:
    verdict = Applicability.SAFE
    why = ""
    for i in between:
        kw = i.keyword
        if kw == "USER":
            return None, f"the user changes on line {i.start_line}, before the install"
        if kw == "RUN":
            text = i.logical + "".join(h.body for h in i.heredocs)
            if _PM_WORDS.search(text) or any(p in text for p in mgr.paths):
                verdict, why = (
                    Applicability.UNSAFE,
                    f"the RUN on line {i.start_line} uses the package manager",
                )
        elif kw in ("COPY", "ADD"):
            words = [w for w, _, _ in i.args_words()]
            dest = words[-1] if words else ""
            if any(
                dest.startswith(p) or p.startswith(dest.rstrip("/") + "/")
                for p in mgr.paths
                if dest
            ):
                verdict, why = (
                    Applicability.UNSAFE,
                    f"line {i.start_line} changes the package sources",
                )
        elif kw == "ONBUILD":
            continue
    return verdict, why


def _removal(
    doc: Dockerfile, instr: Instruction, script: ShellScript, update: SimpleCommand
) -> Edit | None:
    items: list[ChainItem] = script.chain
    idx = next((k for k, it in enumerate(items) if it.command is update), None)
    if idx is None:
        return None
    if len(items) == 1:
        return delete_instruction(doc, instr)
    ops = {items[idx].op} if idx > 0 else set()
    if idx + 1 < len(items):
        ops.add(items[idx + 1].op)
    if ops - {"&&", ";", "\n"}:
        return None
    if idx == 0:
        # `apt-get update && next …` → `next …`
        start, _ = instr.source_span(update.start, update.end)
        return Edit.delete(start, instr.to_source(items[1].start))
    # `… prev && apt-get update` → `… prev`
    prev_end = items[idx - 1].end
    s, _ = instr.source_span(prev_end, prev_end + 1)
    _, e = instr.source_span(update.start, update.end)
    return Edit.delete(s, e)
