"""What giving one tool a cache mount in one RUN takes (DF104): the plan, the cleanup
commands the mount makes pointless and how to remove them without breaking the script."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from dockfix.fixers._cache_dirs import (
    CacheUse,
    RunEnv,
    Tool,
    program_argv,
)
from dockfix.fixers._lazy import lazy_re
from dockfix.semantics.semantic import (
    expand,
    layered,
    stage_chain,
)
from dockfix.semantics.shell import ShellScript, SimpleCommand, Word
from dockfix.syntax import Dockerfile, Instruction

if TYPE_CHECKING:
    pass

TRUTHY = frozenset({"1", "true", "yes", "on"})
_RM_FLAG = lazy_re(r"-[rRfvdI]+\Z|--(recursive|force|verbose|dir)\Z")


def under(path: str, root: str) -> bool:
    """``path`` is ``root`` or inside it."""
    return path == root or root == "/" or path.startswith(root.rstrip("/") + "/")


# --- one RUN, one tool ---------------------------------------------------------------------------


@dataclass(eq=False)
class Plan:
    """What giving one tool a cache mount in one RUN takes."""

    instr: Instruction
    tool: Tool
    uses: list[CacheUse]
    env: RunEnv | None
    script: ShellScript  # the command line, or the heredoc script when ``body``
    body: bool = False
    escape: str = "\\"
    missing: list[str] = field(default_factory=list)  # targets to mount
    mounted: list[str] = field(default_factory=list)  # targets with a cache mount already
    removals: list[tuple[int, int]] = field(default_factory=list)  # logical ranges to delete
    deletions: list[tuple[int, int]] = field(default_factory=list)  # source ranges to delete
    replacements: list[tuple[int, int, str]] = field(default_factory=list)
    inserts: list[tuple[int, str]] = field(default_factory=list)  # before a logical offset
    appends: list[tuple[int, str]] = field(default_factory=list)  # after a logical end
    hadolint_opt_out: bool = False  # an opt-out hadolint asks for is removed
    reason: str = ""

    @property
    def targets(self) -> list[str]:
        return self.missing + self.mounted

    @property
    def changes(self) -> bool:
        return bool(self.missing or self.removals or self.deletions or self.replacements)

    def text(self, cmd: SimpleCommand) -> str:
        return self.script.text[cmd.start - self.script.offset : cmd.end - self.script.offset]

    def fail(self, reason: str) -> None:
        self.reason = self.reason or reason


def word_removal(plan: Plan, word: Word) -> None:
    """Delete a word (a flag, an ``rm`` operand) without touching other lines when possible:
    a word alone on a continued line goes with its line, otherwise with the blanks before it.
    """
    if plan.body:
        plan.removals.append((word.start, word.end))  # never applied: bodies are not edited
        return
    instr = plan.instr
    src = instr.source
    s, e = instr.source_span(word.start, word.end)
    ls = src.rfind("\n", 0, s) + 1
    le = src.find("\n", e)
    le = len(src) if le < 0 else le
    content_end = le - 1 if le > ls and src[le - 1] == "\r" else le
    before, after = src[ls:s], src[e:content_end]
    escape = plan.escape
    if ls > instr.start and not before.strip(" \t") and after.strip(" \t") == escape:
        plan.deletions.append((ls, min(le + 1, len(src))))  # the whole continued line
    elif before.strip(" \t") or not after.strip(" \t"):
        if not before.strip(" \t"):
            # Alone on the last line: join the previous line's command to what follows.
            start, _ = _word_span_start(plan, word)
            if _crosses_comment(instr, instr.to_source(start), e):
                plan.fail(f"a comment line sits next to `{word.raw}`")
                return
            plan.deletions.append((instr.to_source(start), e))
        else:
            plan.deletions.append((s - (len(before) - len(before.rstrip(" \t"))), e))
    else:
        plan.deletions.append((s, e + len(after) - len(after.lstrip(" \t"))))


def _word_span_start(plan: Plan, word: Word) -> tuple[int, int]:
    text, off = plan.script.text, plan.script.offset
    start = word.start
    while start > off and text[start - 1 - off] in " \t":
        start -= 1
    return start, word.end


def _crosses_comment(instr: Instruction, start: int, end: int) -> bool:
    """Whether a source range holds one of the instruction's comment lines."""
    return any(start <= c.start < end for c in instr.comments)


def assignment_removal(plan: Plan, word: Word) -> tuple[int, int]:
    """The script range of a ``VAR=value`` prefix with the blanks after it."""
    text, off = plan.script.text, plan.script.offset
    end = word.end
    while end - off < len(text) and text[end - off] in " \t":
        end += 1
    return word.start, end


def _remove_command(plan: Plan, cmd: SimpleCommand) -> None:
    """Delete a command that is one link of the top-level ``&&`` chain."""
    chain = plan.script.chain
    k = next((n for n, item in enumerate(chain) if item.command is cmd), None)
    if k is None:
        plan.fail(f"`{plan.text(cmd)}` is inside a compound command or a pipeline")
        return
    after = chain[k + 1].op if k + 1 < len(chain) else None
    if chain[k].op not in (None, "&&") or after not in (None, "&&"):
        plan.fail(f"`{plan.text(cmd)}` is joined with `;`, `||` or `&`")
        return
    if len(chain) == 1:
        plan.fail(f"the RUN does nothing but `{plan.text(cmd)}`")
        return
    rng = (chain[0].start, chain[1].start) if k == 0 else (chain[k - 1].end, chain[k].end)
    if not plan.body:
        s, e = plan.instr.source_span(*rng)
        if _crosses_comment(plan.instr, s, e):
            plan.fail(f"a comment line sits next to `{plan.text(cmd)}`")
            return
    plan.removals.append(rng)


def _rm_operands(cmd: SimpleCommand, k: int) -> list[Word] | None:
    """The paths of an ``rm`` command whose program word is ``cmd.words[k]`` (None for
    unknown options)."""
    out: list[Word] = []
    for w in cmd.words[k + 1 :]:
        if w.value == "--":
            continue
        if w.value.startswith("-"):
            if not _RM_FLAG.match(w.value):
                return None
            continue
        out.append(w)
    return out


def _resolve_rm_operand(raw: str, env: RunEnv) -> str | None:
    """The directory an ``rm`` operand deletes (``dir/*`` counts as ``dir``), None if unknown."""
    # HOME as the RUN sees it over the variables (a view: copying them all per operand made
    # a file's cost grow with its length times its number of variables)
    home = env.env.get("HOME") or env.home
    scope = layered({"HOME": home}, env.env)
    value = expand(raw.strip("\"'"), scope)
    if value is None:
        return None
    for tail in ("/*", "/.*", "/**"):
        if value.endswith(tail):
            value = value[: -len(tail)]
            break
    if any(c in value for c in "*?["):
        return None
    return env.path(value)


def _cache_roots(plan: Plan) -> list[str]:
    """Directories whose whole removal only throws away this tool's cache."""
    roots = list(plan.targets)
    env = plan.env
    if plan.tool.name == "poetry" and env is not None and plan.targets:
        base = posixpath.dirname(plan.targets[0])
        in_project = (env.var("POETRY_VIRTUALENVS_IN_PROJECT") or "").lower() in TRUTHY
        no_venv = (env.var("POETRY_VIRTUALENVS_CREATE") or "").lower() in ("false", "0", "no")
        venvs = env.var("POETRY_VIRTUALENVS_PATH")
        if in_project or no_venv or (venvs and not under(env.path(venvs), base)):
            roots.append(base)
    return roots


def plan_cleanups(plan: Plan) -> list[tuple[SimpleCommand, list[str]]]:
    """Remove what empties the cache; return the script's other commands, with their argv
    (see program_argv)."""
    tool, env = plan.tool, plan.env
    assert env is not None
    roots = _cache_roots(plan)
    others: list[tuple[SimpleCommand, list[str]]] = []
    for cmd in plan.script.commands:
        argv, k = program_argv(cmd)
        if any(argv[: len(c)] == list(c) for c in tool.clean_commands):
            plan.hadolint_opt_out = plan.hadolint_opt_out or tool.name == "yarn"
            _remove_command(plan, cmd)
            continue
        operands = _rm_operands(cmd, k) if argv[:1] == ["rm"] else None
        if not operands:
            others.append((cmd, argv))
            continue
        hits: list[Word] = []
        kept = 0
        for w in operands:
            path = _resolve_rm_operand(w.value, env)
            if path is None:
                if "cache" in w.value.lower():
                    plan.fail(f"`{plan.text(cmd)}` removes a path that cannot be resolved")
                kept += 1
            elif path in roots or any(under(path, t) for t in plan.targets):
                hits.append(w)
            elif any(under(t, path) for t in plan.targets):
                plan.fail(
                    f"`{plan.text(cmd)}` deletes a directory that holds the cache"
                    " (a mount point cannot be removed)"
                )
            else:
                kept += 1
        if not hits:
            others.append((cmd, argv))
        elif kept == 0:
            _remove_command(plan, cmd)
        else:
            for w in hits:
                word_removal(plan, w)
    return others


def is_apk_link(cmd: SimpleCommand) -> bool:
    """``ln -s /var/cache/apk /etc/apk/cache`` or ``rm /etc/apk/cache``: apk's cache switch."""
    return argv_is_apk_link(program_argv(cmd)[0])


def argv_is_apk_link(argv: list[str]) -> bool:
    """:func:`is_apk_link` of a command's argv (see program_argv)."""
    return (argv[:1] == ["ln"] and argv[-2:] == ["/var/cache/apk", "/etc/apk/cache"]) or (
        argv[:1] == ["rm"] and argv[-1:] == ["/etc/apk/cache"]
    )


def path_forms(target: str, homes: Iterable[str]) -> tuple[str, ...]:
    """The ways a command may name ``target``: as it is, and from any of the homes it is in
    (``~/…``, ``$HOME/…``). None without a home: the user running the commands is unknown."""
    return _path_forms(target, tuple(sorted(homes)))


@lru_cache(maxsize=256)
def _path_forms(target: str, homes: tuple[str, ...]) -> tuple[str, ...]:
    """:func:`path_forms` with the homes sorted: the same few targets and homes come back in
    every file."""
    forms = {target: None}
    for home in homes:
        if home != "/" and under(target, home):
            rel = target[len(home.rstrip("/")) :]
            forms.update(dict.fromkeys(("~" + rel, "$HOME" + rel, "${HOME}" + rel)))
    return tuple(forms) if homes else ()


def comment_mentions_cache(doc: Dockerfile, plan: Plan) -> bool:
    instr = plan.instr
    texts = [c for c in doc.comment_lines_above(instr) if "ignore=" not in c]
    texts += [doc.line_text(c.number) for c in instr.comments]
    texts += [
        plan.script.text[a - plan.script.offset : b - plan.script.offset]
        for a, b in plan.script.comments
    ]
    return any("cache" in t.lower() for t in texts)


def continuation_indent(doc: Dockerfile, instr: Instruction) -> str:
    """Indentation for the command when it moves to a continuation line of its own."""
    for n in range(instr.start_line + 1, instr.header_end_line + 1):
        text = doc.line_text(n)
        body = text.lstrip(" \t")
        if not body or body.startswith("#"):
            continue
        ws = text[: len(text) - len(body)]
        for op in ("&&", "||", ";", "|"):
            if body.startswith(op):
                return ws + " " * (len(op) + 1)  # align with the command after the operator
        return ws
    return "    "


DOCKER_CLEAN = "rm -f /etc/apt/apt.conf.d/docker-clean && "


def drop_repeated_docker_clean(plans: list[Plan]) -> None:
    """Remove Debian's docker-clean hook once per image: the first apt RUN of each lineage."""
    done: list[Plan] = []
    for plan in plans:
        if not any(t == DOCKER_CLEAN for _, t in plan.inserts):
            continue
        stage = plan.instr.stage
        chain = stage_chain(stage) if stage is not None else []
        if any(d.instr.stage in chain for d in done):
            plan.inserts = [(o, t) for o, t in plan.inserts if t != DOCKER_CLEAN]
        else:
            done.append(plan)
