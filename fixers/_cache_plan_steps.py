"""The steps of one DF104 plan (one tool in one RUN): which of its cache directories the RUN
mounts already and which it lacks, the opt-outs and clean-ups to remove, what a tool needs
besides the mount (uv's link mode, apt's docker-clean, apk's cache link, Cargo's target
directory), and the edits that carry it out."""

from __future__ import annotations

from dockfix.core.edits import add_syntax_directive
from dockfix.core.fixer import Edit
from dockfix.fixers._cache_at_run import docker_clean_before
from dockfix.fixers._cache_cleanups import (
    DOCKER_CLEAN,
    Plan,
    argv_is_apk_link,
    assignment_removal,
    comment_mentions_cache,
    is_apk_link,
    path_forms,
    plan_cleanups,
    under,
    word_removal,
)
from dockfix.fixers._cache_dirs import RunEnv, program_argv
from dockfix.fixers._run_flags import flags_text
from dockfix.semantics.semantic import expand, mounts
from dockfix.semantics.shell import SimpleCommand
from dockfix.syntax import Dockerfile, Instruction

_HADOLINT_RULE = {"pip": "DL3042", "yarn": "DL3060"}


def _existing_mounts(instr: Instruction, env: RunEnv) -> list[tuple[str, str]] | None:
    """(type, target) of the RUN's ``--mount`` flags; None when a target cannot be resolved."""
    out: list[tuple[str, str]] = []
    if not instr.flags:
        return out  # no --mount (most RUNs)
    for mount in mounts(instr):
        if not mount.target:
            continue
        resolved = expand(mount.target, env.env)
        if resolved is None:
            return None
        out.append((mount.type, env.path(resolved)))
    return out


def plan_targets(plan: Plan, env: RunEnv) -> bool:
    """Split the targets into mounted and missing; False when the user mounts their own."""
    targets: list[str] = []
    for use in plan.uses:
        if use.reason:
            plan.fail(use.reason)
            return True
        targets += [t for t in use.targets if t not in targets]
    if any(c in t for t in targets for c in " ,=$\"'"):
        plan.fail("the cache directory has characters a mount flag cannot hold")
        return True
    existing = _existing_mounts(plan.instr, env)
    if existing is None:
        plan.fail("an existing --mount target cannot be resolved")
        return True
    for t in targets:
        covering = [kind for kind, m in existing if under(t, m)]
        if covering and all(k != "cache" for k in covering):
            return False  # a bind or tmpfs mount there: the user decided
        if covering:
            plan.mounted.append(t)
        elif any(under(m, t) for _, m in existing):
            plan.fail(f"an existing --mount is inside {t}")
            return True
        else:
            plan.missing.append(t)
    return True


def plan_removals(doc: Dockerfile, plan: Plan) -> None:
    tool, env = plan.tool, plan.env
    assert env is not None
    if plan.reason:
        return
    for use in plan.uses:
        for w in use.no_cache_words:
            plan.hadolint_opt_out = plan.hadolint_opt_out or tool.name == "pip"
            if tool.name == "apk" and not any(
                a.value in ("-U", "--update-cache", "--update") for a in use.command.words
            ):
                # --no-cache also fetched a fresh index: keep that.
                plan.replacements.append((w.start, w.end, "--update-cache"))
            else:
                word_removal(plan, w)
        for a in use.no_cache_assignments:
            plan.hadolint_opt_out = plan.hadolint_opt_out or tool.name == "pip"
            plan.removals.append(assignment_removal(plan, a))
    others = plan_cleanups(plan)
    # Another command of this RUN that reads or writes the cache directory.
    use_cmds = {id(u.command) for u in plan.uses}
    forms: list[tuple[str, tuple[str, ...]]] | None = None
    for cmd, argv in others:
        if id(cmd) not in use_cmds and not argv_is_apk_link(argv):
            if forms is None:
                forms = [(t, path_forms(t, (env.home,))) for t in plan.targets]
            text = plan.text(cmd)
            hit = next((t for t, fs in forms if any(f in text for f in fs)), None)
            if hit is not None:
                plan.fail(f"`{text}` uses the cache directory {hit}")
    opted_out = bool(plan.removals or plan.deletions or plan.replacements)
    if opted_out and plan.body:
        plan.fail("the opt-out is inside a heredoc script, which is not edited")
    if opted_out and comment_mentions_cache(doc, plan):
        plan.fail("a comment at this RUN explains its cache choice")
    marker = tool.hadolint_marker
    if plan.hadolint_opt_out and marker and not any(marker in t for t in plan.targets):
        plan.fail(
            f"the cache is at {', '.join(plan.targets)}: without the opt-out hadolint would "
            f"report {_HADOLINT_RULE[tool.name]}, which only accepts a mount on …/{marker}"
        )
    if not plan.missing or plan.reason:
        return
    if tool.name == "uv":
        _plan_uv_link_mode(plan, env)
    elif tool.name == "apt" and not _docker_clean_removed(doc, plan):
        _plan_prefix(plan, DOCKER_CLEAN)
    elif tool.name == "apk":
        _plan_apk_link(plan)
    elif tool.name == "cargo":
        _plan_cargo_target(doc, plan)


def _docker_clean_removed(doc: Dockerfile, plan: Plan) -> bool:
    """Whether this RUN or one before it in its image already handles docker-clean."""
    instr, stage = plan.instr, plan.instr.stage
    if "docker-clean" in instr.logical:
        return True
    return stage is not None and docker_clean_before(doc, stage, instr)


def _plan_uv_link_mode(plan: Plan, env: RunEnv) -> None:
    if env.var("UV_LINK_MODE"):
        return
    for use in plan.uses:
        argv = [w.value for w in use.command.words]
        if any(a.startswith("--link-mode") for a in argv):
            if "symlink" in argv or "--link-mode=symlink" in argv:
                plan.fail("uv links into the cache (--link-mode symlink)")
            continue
        if any(a.value.startswith("UV_LINK_MODE=") for a in use.command.assignments):
            continue
        if plan.body:
            return  # uv falls back to copying (with a warning): the body is not edited
        plan.inserts.append((use.command.start, "UV_LINK_MODE=copy "))


def _plan_prefix(plan: Plan, text: str) -> None:
    if plan.body or not plan.script.chain:
        plan.fail("the RUN's script cannot be extended")
        return
    plan.inserts.append((plan.script.chain[0].start, text))


def _plan_apk_link(plan: Plan) -> None:
    """apk caches packages only through /etc/apk/cache: link it for this RUN only."""
    chain = plan.script.chain
    if plan.body or not chain:
        plan.fail("the RUN's script cannot be extended")
    elif any(item.op not in (None, "&&") or item.kind != "command" for item in chain):
        plan.fail("the RUN is not a plain `&&` chain")
    elif any(a >= chain[-1].end for a, _ in plan.script.comments):
        plan.fail("the RUN ends with a shell comment")
    elif any(is_apk_link(c) for c in plan.script.commands):
        return  # the RUN links the cache already
    elif "/etc/apk/cache" in plan.instr.source:
        plan.fail("the Dockerfile already configures /etc/apk/cache")
    else:
        plan.inserts.append((chain[0].start, "ln -s /var/cache/apk /etc/apk/cache && "))
        plan.appends.append((chain[-1].end, " && rm /etc/apk/cache"))


def _plan_cargo_target(doc: Dockerfile, plan: Plan) -> None:
    """Mount ``target/`` only when this RUN copies the build out and nothing else reads it."""
    env = plan.env
    assert env is not None
    if plan.body:
        return
    build: SimpleCommand | None = None
    for use in plan.uses:
        argv, _ = program_argv(use.command)
        if argv[1:2] in (["build"], ["b"]) and not any(
            a.startswith(("--manifest-path", "--target-dir")) for a in argv
        ):
            build = use.command
    if build is None or any(
        program_argv(c)[0][:1] in (["cd"], ["pushd"])
        for c in plan.script.commands
        if c.start < build.start
    ):
        return
    target_var = env.var("CARGO_TARGET_DIR")
    target = env.path(target_var or "target")
    copied = False
    for cmd in plan.script.commands:
        argv, k = program_argv(cmd)
        if cmd.start <= build.start or argv[:1] not in (["cp"], ["mv"], ["install"]):
            continue
        for w in cmd.words[k + 1 : -1]:
            value = w.value.strip("\"'")
            if not value.startswith("-") and under(env.path(value), target):
                copied = True
    if not copied:
        return
    for other in doc.instructions:
        if other is plan.instr:
            continue
        text = other.logical + "".join(h.body for h in other.heredocs)
        if target in text or "target/" in text or "CARGO_TARGET_DIR" in text:
            return
    plan.missing.append(target)


def plan_edits(doc: Dockerfile, plan: Plan, directive: str | None) -> list[Edit]:
    """``directive``: the ``# syntax=`` value a new mount needs (None: none needed)."""
    instr = plan.instr
    inserts: dict[int, list[str]] = {}
    edits: list[Edit] = []
    if plan.missing:
        syntax = add_syntax_directive(doc, directive) if directive is not None else None
        if syntax is not None:
            edits.append(syntax)
        mounts = [_mount_flag(plan, t) for t in plan.missing]
        inserts.setdefault(instr.to_source(instr.args_start), []).append(
            flags_text(doc, instr, mounts)
        )
    for offset, text in plan.inserts:
        inserts.setdefault(instr.to_source(offset), []).append(text)
    for end, text in plan.appends:
        inserts.setdefault(instr.to_source(end - 1) + 1, []).append(text)
    edits += [Edit.insert(at, "".join(texts)) for at, texts in inserts.items()]
    ranges = {instr.source_span(a, b) for a, b in plan.removals} | set(plan.deletions)
    for s, e in sorted(ranges):
        # A word inside a command that goes entirely is removed with it.
        if any(a <= s and e <= b and (a, b) != (s, e) for a, b in ranges):
            continue
        edits.append(Edit.delete(s, e))
    for start, end, text in plan.replacements:
        s, e = instr.source_span(start, end)
        edits.append(Edit(s, e, text))
    return edits


def _mount_flag(plan: Plan, target: str) -> str:
    env = plan.env
    assert env is not None
    parts = ["type=cache", f"target={target}"]
    if plan.tool.sharing:
        parts.append(f"sharing={plan.tool.sharing}")
    if env.uid != 0:
        parts.append(f"uid={env.uid}")
        if env.gid is not None:
            parts.append(f"gid={env.gid}")
    return "--mount=" + ",".join(parts)
