"""The lines DF201 (root-user) writes and where each goes: the user's creation before the
stage's first COPY/ADD, the ownership of the paths the application writes after the last
RUN (before a VOLUME that covers them), and `USER` before the start command.

Each command joins the RUN before it (with `&&`) when that keeps what the RUN does, else gets
a RUN of its own where that does not add hadolint's DL3059 (two short RUNs in a row).
"""

from __future__ import annotations

import shlex
from typing import NamedTuple

from dockfix.core.edits import insert_after, insert_before, keyword_style, runs_to_the_end
from dockfix.core.fixer import Edit
from dockfix.fixers._run_script import (
    Script,
    analyse_run,
    append_command,
    last_appendable_item,
    mount_targets,
    paths_related,
)
from dockfix.fixers._write_paths import WriteAnalysis
from dockfix.syntax import Dockerfile, Instruction, Stage

# Instructions a RUN may be followed by and still be "the last RUN" for the ownership.
_METADATA = frozenset({"ENV", "EXPOSE", "LABEL", "ARG", "STOPSIGNAL", "HEALTHCHECK"})
_STATEMENT_ENDS = frozenset({"}", ")", "fi", "done", "esac"})


# --- what the user must own ---------------------------------------------------------------


def written_dirs(writes: WriteAnalysis) -> tuple[list[tuple[str, str, str]], str]:
    """(path, how it is known, what: "dir" | "code" | "file") the user must own, or a reason
    not to."""
    out: list[tuple[str, str, str]] = []
    handed = writes.handed[1] if writes.handed else None
    for w in writes.writes:
        p = w.path
        if p == "/":
            where = " (no WORKDIR)" if writes.workdir == "/" else ""
            return [], (
                f"the application writes in `/`{where}, seen in {w.how}: the new user cannot "
                "be given `/`; set a WORKDIR or a data directory for what it writes"
            )
        if p == "/root" or p.startswith("/root/"):
            return [], f"the application writes under /root (`{p}`, seen in {w.how})"
        if handed and (p == handed or p.startswith(handed.rstrip("/") + "/")):
            continue
        code = p == writes.workdir or any(d == p or d.startswith(p + "/") for d in writes.code_dirs)
        out.append((p, w.how, "file" if w.file else "code" if code else "dir"))
    fresh = [p for p, _, what in out if what == "dir"]
    # `chown -R /data` covers `/data/db`
    out = [
        (p, how, what)
        for p, how, what in out
        if what == "code" or not any(p.startswith(q + "/") for q in fresh)
    ]
    return out, ""


def _quoted(given: list[tuple[str, str, str]], kind: str) -> str:
    return " ".join(shlex.quote(p) for p, _, what in given if what == kind)


def ownership_commands(given: list[tuple[str, str, str]], user_value: str) -> list[str]:
    """The commands that hand ``given`` (from :func:`written_dirs`) to ``user_value``."""
    fresh, shallow, files = _quoted(given, "dir"), _quoted(given, "code"), _quoted(given, "file")
    out = [f"mkdir -p {fresh}", f"chown -R {user_value} {fresh}"] if fresh else []
    if shallow:
        # the application's code directory itself, not the code in it
        out.append(f"chown {user_value} {shallow}")
    if files:
        out += [f"touch {files}", f"chown {user_value} {files}"]
    return out


def write_summary(writes: WriteAnalysis, given: list[tuple[str, str, str]]) -> str:
    """What was checked for writes and what the user is given, for the message."""
    parts = [f"checked {', '.join(writes.checked)} for what the application writes"]
    if writes.handed is not None:
        owner, path, line = writes.handed
        parts.append(f"`{path}` stays `{owner}`'s (line {line})")
    if given:
        parts.append(
            "gives the user "
            + ", ".join(
                f"`{p}`{' (the directory, not its files)' if what == 'code' else ''} ({how})"
                for p, how, what in given
            )
        )
    elif writes.handed is None:
        parts.append("found nothing it writes: the application's files stay owned by root")
    if writes.unknown:
        parts.append("could not know " + "; ".join(writes.unknown))
    return "; ".join(parts)


# --- where the lines go -------------------------------------------------------------------


class NewRun(NamedTuple):
    """A RUN of its own running ``commands``, inserted above ``before``."""

    before: Instruction
    commands: list[str]


class Placement(NamedTuple):
    """Where the fix's lines go, decided without writing them: `check` needs only to know
    that they can be placed (:func:`placement_edits` writes them when the fix is applied)."""

    steps: list[Edit | NewRun]  # the creation and the ownership: a RUN they join, or their own
    before_user: list[str]  # the commands of a RUN of their own just above USER
    anchor: Instruction | None  # the CMD/ENTRYPOINT that USER goes above; None: below ``last``
    last: Instruction


def placement(
    doc: Dockerfile,
    final: Stage,
    create: tuple[str, str] | None,
    owned: list[str],
    user_value: str,
    root_at_start: bool,
) -> Placement | str:
    """The user creation before the application's first COPY (a code change does not run
    it again), the ownership of written paths after the last RUN, USER before the command;
    the reason when a line cannot be placed without a new hadolint finding."""
    instrs = list(final.instructions)
    runs = [k for k, i in enumerate(instrs) if i.keyword == "RUN"]
    user_idx = [k for k, i in enumerate(instrs) if i.keyword == "USER"]
    after = max(runs[-1] if runs else -1, user_idx[-1] if user_idx else -1)
    anchor = next((i for i in instrs[after + 1 :] if i.keyword in ("CMD", "ENTRYPOINT")), None)
    anchor_idx = instrs.index(anchor) if anchor is not None else len(instrs)
    steps: list[Edit | NewRun] = []
    before_user: list[str] = []
    late = list(owned)
    if create is not None:
        early = _before_first_copy(doc, final, create, root_at_start)
        if early is not None:
            steps.append(early)
        else:
            late = [*create, *late]
    if late:
        placed = _late_commands(
            doc, final, late, owned, anchor_idx, user_value, root_at_start and not user_idx
        )
        if isinstance(placed, str):
            return placed
        if placed is None:
            before_user = late
        else:
            steps.append(placed)
    last = instrs[-1] if instrs else final.from_instruction
    if anchor is None and runs_to_the_end(doc, last):
        return (
            f"line {last.end_line} ends with a continuation that runs to the end of the "
            f"file: a USER line written below it would become part of the {last.keyword}"
        )
    return Placement(steps, before_user, anchor, last)


def placement_edits(doc: Dockerfile, placed: Placement, user_value: str) -> list[Edit]:
    """The edits that write the lines :func:`placement` placed, USER set to ``user_value``."""
    edits = [
        s if isinstance(s, Edit) else insert_before(doc, s.before, _new_run(doc, s.commands))
        for s in placed.steps
    ]
    lines = _new_run(doc, placed.before_user) if placed.before_user else []
    lines.append(f"{keyword_style(doc, 'USER')} {user_value}")
    if placed.anchor is not None:
        edits.append(insert_before(doc, placed.anchor, lines))
    else:
        if placed.last.heredocs:
            # hadolint cannot parse an instruction right after a heredoc's terminator.
            lines.insert(0, "")
        edits.append(insert_after(doc, placed.last, lines))
    return edits


def _late_commands(
    doc: Dockerfile,
    final: Stage,
    late: list[str],
    owned: list[str],
    anchor_idx: int,
    user_value: str,
    root_throughout: bool,
) -> Edit | NewRun | str | None:
    """Where ``late`` runs: appended to the stage's last RUN, or a RUN of its own (None:
    just before USER); or the reason it cannot be placed."""
    instrs = list(final.instructions)
    runs = [k for k, i in enumerate(instrs) if i.keyword == "RUN"]
    prev = instrs[anchor_idx - 1] if anchor_idx > 0 else final.from_instruction
    anchor = instrs[anchor_idx] if anchor_idx < len(instrs) else None
    # After the last RUN when only metadata follows it (ENV, EXPOSE, LABEL…).
    last_run = instrs[runs[-1]] if runs and runs[-1] < anchor_idx else None
    if last_run is not None and all(
        i.keyword in _METADATA for i in instrs[runs[-1] + 1 : anchor_idx]
    ):
        prev = last_run
    # Before a VOLUME that nothing runs after: the classic builder drops what a RUN
    # changes in a volume after its VOLUME line.
    volume = next((k for k, i in enumerate(instrs[:anchor_idx]) if i.keyword == "VOLUME"), None)
    if volume is not None and not any(k > volume for k in runs):
        at_volume = instrs[volume - 1] if volume > 0 else final.from_instruction
        joined = join(doc, at_volume, " && ".join(late))
        if joined is None and dl3059_pair(doc, at_volume):
            return (
                f"the ownership of {', '.join(owned)} cannot be placed before the "
                "VOLUME without a new hadolint DL3059 finding"
            )
        return joined or NewRun(instrs[volume], late)
    joined = join(doc, prev, " && ".join(late))
    if joined is not None:
        return joined
    if not dl3059_pair(doc, prev) and not dl3059_pair(doc, anchor):
        return None
    first = instrs[0] if instrs else None
    # Early in the stage only while it still runs as root there, and only the user
    # creation: the written paths' ownership must follow what creates them.
    if first is None or owned or dl3059_pair(doc, first) or not root_throughout:
        user_line = f"{keyword_style(doc, 'USER')} {user_value}"
        return (
            "the user creation cannot be placed without a new hadolint DL3059 "
            f"finding; add `RUN {' && '.join(late)}` and `{user_line}` by hand"
        )
    return NewRun(first, late)


def _before_first_copy(
    doc: Dockerfile, final: Stage, create: tuple[str, str], root_at_start: bool
) -> Edit | NewRun | None:
    """The user creation just before the stage's first COPY/ADD, while it runs as root."""
    instrs = list(final.instructions)
    k = next((k for k, i in enumerate(instrs) if i.keyword in ("COPY", "ADD")), None)
    if k is None or not root_at_start or any(i.keyword == "USER" for i in instrs[:k]):
        return None
    prev = instrs[k - 1] if k > 0 else final.from_instruction
    joined = join(doc, prev, " && ".join(create))
    if joined is not None:
        return joined
    if dl3059_pair(doc, prev):
        return None
    return NewRun(instrs[k], list(create))


def _new_run(doc: Dockerfile, commands: list[str]) -> list[str]:
    """A RUN of its own, one command per line (continuation lines starting with `&&`)."""
    lines = [f"{keyword_style(doc, 'RUN')} {commands[0]}"]
    lines += [f" && {c}" for c in commands[1:]]
    return [f"{line} {doc.escape}" for line in lines[:-1]] + [lines[-1]]


# --- joining a RUN --------------------------------------------------------------------------


def join(doc: Dockerfile, prev: Instruction, command: str) -> Edit | None:
    """Append ``command`` to the RUN ``prev``, when that keeps what the RUN does."""
    if prev.keyword != "RUN" or any(
        paths_related(t, "/etc") or paths_related(t, "/home") for _, t in mount_targets(prev)
    ):
        return None  # the passwd files or the home directory would land in a mount
    analysis = analyse_run(doc, prev)
    if analysis.opaque or len(analysis.scripts) != 1:
        return None
    script = analysis.scripts[0]
    if not script.editable:
        return None
    edit, _ = append_command(doc, script, command)
    if edit is None:
        return None
    written = edit.text.lstrip(" \t\r\n" + doc.escape)
    if not written.startswith("&&") and _status_decides(script):
        return None  # `; useradd` or a new line would take over the RUN's exit status
    last, _ = last_appendable_item(script)
    if (
        script.kind == "body"
        and last is not None
        and "<<" in script.text(last.start, last.end)
        and not edit.text.startswith(("\n", "\r\n"))
    ):
        return None  # ` && cmd` would land on an inner heredoc's terminator line
    return edit


def _status_decides(script: Script) -> bool:
    """Whether the script's last statement is a negation or an `&&`/`||` list: `set -e` does
    not stop on those, so a command written after them on a new line or after `;` would
    decide the RUN's status instead (`! { ldd … | grep 'not found'; }` would stop failing)."""
    chain = script.parsed.chain
    k = len(chain) - 1
    while k > 0 and script.text(chain[k].start, chain[k].end).strip() in _STATEMENT_ENDS:
        k -= 1
    while k > 0 and chain[k].op in ("&&", "||", "|"):
        if chain[k].op in ("&&", "||"):
            return True
        k -= 1
    if k < 0:
        return False
    first = script.text(chain[k].start, chain[k].end).lstrip()
    return first.startswith("!") or chain[k].kind == "negated_command"


def _hadolint_count(doc: Dockerfile, instr: Instruction) -> int:
    """Roughly what hadolint's DL3059 counts: the commands of a RUN (0, "few", when unknown)."""
    analysis = analyse_run(doc, instr)
    if analysis.opaque or not analysis.scripts:
        return 0
    return sum(len(s.parsed.commands) for s in analysis.scripts)


def dl3059_pair(doc: Dockerfile, instr: Instruction | None) -> bool:
    """Whether a new flag-less RUN with two commands next to ``instr`` trips DL3059."""
    if instr is None or instr.keyword != "RUN" or instr.flags:
        return False
    return _hadolint_count(doc, instr) <= 2
