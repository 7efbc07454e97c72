"""One RUN after the copy: the commands of its `&&` chain, each planned by its analyzer, the
`cd`/`export`/`set` state between them, and whether the RUN installs, reads the tree, or
installs and then builds (split at the `&&`)."""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dockfix.fixers.copy_before_install._analyzers import plan_command
from dockfix.fixers.copy_before_install._command import (
    _argv_words,
    _Cmd,
    _Plan,
    _Refusal,
    _shell_unquote,
)
from dockfix.fixers.copy_before_install._site import _Site
from dockfix.fixers.copy_before_install._stage import (
    _copy_env,
    _default_home,
    _expand,
    _scope,
    _workdir_at,
)
from dockfix.fixers.copy_before_install._tree import _under
from dockfix.semantics.semantic import layered, unquote_word

if TYPE_CHECKING:
    from dockfix.semantics.shell import SimpleCommand
    from dockfix.syntax import Instruction


@dataclass(eq=False)
class _RunResult:
    instr: Instruction
    kind: str  # install | transparent | reader | split | mixed
    plans: list[_Plan] = field(default_factory=list)
    split_at: int = 0  # chain index of the first command after the install (split)
    state: list[str] = field(default_factory=list)  # cd/set/export texts to repeat
    reason: str = ""
    label: str = ""  # the install, as written (for messages)
    script: Any = None


@dataclass(eq=False)
class _Chain:
    """The walk of a RUN's command chain: what it learned, and where and why it stopped."""

    cwd: str | None
    env: MutableMapping[str, str | None]
    home: str | None
    plans: list[_Plan] = field(default_factory=list)
    state: list[tuple[int, str]] = field(default_factory=list)  # (chain index, cd/export…)
    done: int = 0  # the chain items walked before it stopped
    reason: str = ""  # what stopped it
    refused: _Refusal | None = None  # the command that cannot run before the full copy


def analyze_run(site: _Site, instr: Instruction, index: int) -> _RunResult:
    """What one RUN after the copy does: installs from the copied tree, leaves it alone,
    reads it, or installs and then builds."""
    from dockfix.semantics.shell import shell_of

    res = _RunResult(instr, "reader")
    if instr.heredocs:
        res.reason = "a heredoc script"
        return res
    for f in instr.flags:
        if f.name == "mount" and _bind_from_context(f.value or ""):
            res.reason = "it bind-mounts the build context"
            return res
    cwd = _workdir_at(site.stage, index, site.doc)
    env = layered(_scope(site.doc, site.stage, instr))
    home = _default_home(site.doc, site.stage, index)
    if instr.json_args is not None:
        argv = list(instr.json_args)
        if not argv:
            return res
        cmd = _Cmd(argv, [None] * len(argv), cwd, env, None, True, " ".join(argv), home)
        return _exec_form(site, res, cmd)
    script = shell_of(instr)
    res.script = script
    if script is None or script.has_error or script.comments:
        res.reason = "not a plain command chain"
        return res
    chain = _Chain(cwd, env, home)
    _walk_chain(site, instr, script, chain)
    return _classify(site, res, script, chain)


def _exec_form(site: _Site, res: _RunResult, cmd: _Cmd) -> _RunResult:
    """An exec-form RUN: one command, which the fix cannot rewrite."""
    plan = plan_command(site, cmd)
    res.label = cmd.text
    if isinstance(plan, _Refusal):
        res.reason = plan.reason
        res.kind = "mixed" if plan.install else "reader"
        return res
    res.plans = [plan]
    if plan.edits or plan.stubs or plan.reinstall or plan.hadolint_ignores:
        res.kind = "mixed"
        res.reason = "the exec-form install would need rewriting; use the shell form"
        return res
    res.kind = "install" if plan.installs and reads_tree(site, plan) else "transparent"
    return res


def _walk_chain(site: _Site, instr: Instruction, script: Any, chain: _Chain) -> None:
    """Plan the chain's commands in order, up to the first that cannot run before the full
    copy (or that dockfix cannot follow)."""
    for idx, item in enumerate(script.chain):
        declaration = item.command is None and item.kind == "declaration_command"
        if item.op != "&" and declaration and _export(instr, item, idx, chain):
            continue
        if item.op == "&" or item.command is None:
            chain.reason = f"`{instr.logical[item.start : item.end].strip()}`"
            break
        if not _walk_command(site, instr, item.command, idx, chain):
            break


def _export(instr: Instruction, item: Any, idx: int, chain: _Chain) -> bool:
    """`export A=1 B=2`: a state change repeated before the commands that move."""
    decl = instr.logical[item.start : item.end].strip()
    decl_words = decl.split()
    if decl_words[:1] != ["export"] or re.search(r"[`(]|\$\(", decl):
        return False
    env = chain.env
    for w in decl_words[1:]:
        name, sep, value = _shell_unquote(w).partition("=")
        if sep:
            env[name] = _expand(value, env) if "$" in value else value
    chain.state.append((idx, decl))
    chain.done = idx + 1
    return True


def _walk_command(
    site: _Site, instr: Instruction, node: SimpleCommand, idx: int, chain: _Chain
) -> bool:
    """Take one command of the chain; False when the walk stops at it."""
    text = instr.logical[node.start : node.end]
    if any(
        r.raw.replace(" ", "")
        not in ("2>&1", ">/dev/null", "1>/dev/null", "2>/dev/null", "&>/dev/null")
        for r in node.redirects
    ):
        chain.reason = f"`{text.strip()}`"
        return False
    argv, words = _argv_words(node)
    if not argv:  # `X=1` alone sets a shell variable for the rest of the RUN
        for a in node.assignments:
            name, _, value = a.value.partition("=")
            chain.env[name] = unquote_word(value)
        chain.state.append((idx, text.strip()))
        chain.done = idx + 1
        return True
    cmd = _Cmd(argv, list(words), chain.cwd, _copy_env(chain.env), node, False, text, chain.home)
    for a in node.assignments:
        name, _, value = a.value.partition("=")
        cmd.env[name] = unquote_word(value)
    st = state_command(site, cmd)
    if st is not None:
        if st is False or st is True:
            chain.reason = f"`{text.strip()}`"
            return False
        chain.cwd, chain.env = st
        chain.state.append((idx, text.strip()))
        chain.done = idx + 1
        return True
    plan = plan_command(site, cmd)
    if isinstance(plan, _Refusal):
        chain.refused = plan
        chain.reason = plan.reason if plan.install else f"`{text.strip()}`"
        return False
    plan.label = text.strip()
    chain.plans.append(plan)
    for w in plan.writes:
        site.generated.add(w)
    chain.done = idx + 1
    return True


def _classify(site: _Site, res: _RunResult, script: Any, chain: _Chain) -> _RunResult:
    """The RUN's kind from the walk of its chain."""
    plans = chain.plans
    refused = chain.refused
    res.plans = plans
    res.state = [t for _, t in chain.state]
    # An install RUN: it installs, and it (or a command feeding it) reads the tree.
    reads = [p for p in plans if reads_tree(site, p)]
    if not any(p.installs for p in plans):
        reads = []
    res.label = reads[0].label if reads else (refused.label if refused else "")
    if chain.done == len(script.chain):
        res.kind = "install" if reads else "transparent"
        return res
    res.reason = chain.reason
    if not reads:
        # An install that cannot be split (e.g. `pip install .` with dynamic metadata) is
        # reported; anything else just reads the tree.
        res.kind = "mixed" if refused is not None and refused.install else "reader"
        return res
    return _split(site, res, script, chain)


def _split(site: _Site, res: _RunResult, script: Any, chain: _Chain) -> _RunResult:
    """The install is followed by other commands: split at the `&&` after the install, before
    any `cd`/`export` that only served the commands after it."""
    instr = res.instr
    reason = chain.reason
    last_plan = max(
        i
        for i, it in enumerate(script.chain[: chain.done])
        if it.command is not None
        and any(
            p.label == instr.logical[it.command.start : it.command.end].strip() for p in chain.plans
        )
    )
    k = last_plan + 1
    res.state = [t for i, t in chain.state if i < k]
    ops = [it.op for it in script.chain[k:]]
    if not site.split_runs:
        res.kind = "mixed"
        res.reason = (
            f"the install shares its RUN with {reason}, which needs the full tree "
            "(split-runs is off)"
        )
        return res
    if any(op != "&&" for op in ops):
        res.kind = "mixed"
        res.reason = (
            f"the install shares its RUN with {reason}, which needs the full tree, and the "
            "commands are not joined by `&&` alone; split the RUN by hand"
        )
        return res
    res.kind = "split"
    res.split_at = k
    return res


def reads_tree(site: _Site, plan: _Plan) -> bool:
    return any(
        site.dest is not None and (_under(n.path, site.dest) or site.tree.ambiguous(n.path))
        for n in plan.needs
    ) or bool(plan.blockers)


def state_command(
    site: _Site, cmd: _Cmd
) -> tuple[str | None, MutableMapping[str, str | None]] | bool | None:
    """``cd``/``set``/``export``/``source``: the new (cwd, env), False when unknown, else None."""
    name = cmd.argv[0]
    if name == "cd":
        if len(cmd.argv) != 2:
            return False
        target = cmd.path(cmd.argv[1])
        return (target, cmd.env) if target is not None else False
    if name == "set":
        return (cmd.cwd, cmd.env)
    if name == "export":
        env = _copy_env(cmd.env)
        for a in cmd.argv[1:]:
            if a.startswith("-"):
                return False
            k, sep, v = a.partition("=")
            env[k] = unquote_word(v) if sep else env.get(k)
        return (cmd.cwd, env)
    if name in ("source", "."):
        if len(cmd.argv) < 2:
            return False
        p = cmd.path(cmd.argv[1])
        if p is None or not p.startswith("/") or site.touches_tree(p):
            return False
        return (cmd.cwd, cmd.env)
    return None


def _bind_from_context(spec: str) -> bool:
    parts = dict(p.partition("=")[::2] for p in spec.split(","))
    kind = parts.get("type", "bind")
    return kind == "bind" and "from" not in parts
