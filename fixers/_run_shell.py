"""Which shell runs a RUN's script, and how: the SHELL in effect at an instruction
(inherited from parent stages, once per stage), `errexit` from `set -e` or a shell's flags,
whether a shell reads its script from stdin (`RUN bash -e <<EOF`), a heredoc's shebang."""

from __future__ import annotations

import re
import shlex
from bisect import bisect_left
from typing import TYPE_CHECKING

from dockfix.semantics.memo import per_tree

if TYPE_CHECKING:
    from dockfix.semantics.shell import ShellScript
    from dockfix.syntax import Dockerfile, Instruction, Stage


def shell_argv(doc: Dockerfile, stage: Stage | None, before: Instruction) -> list[str]:
    """The SHELL in effect for ``before`` (inherited from parent stages), default ``sh -c``."""
    if stage is None:
        return ["/bin/sh", "-c"]
    if before.stage is not stage or doc.instructions[before.index] is not before:
        return _shell_argv_walk(stage, before)  # an ONBUILD trigger, or another stage's
    at, argvs = _stage_shells(doc, stage)
    k = bisect_left(at, before.index)  # the SHELLs before it: one look-up, not a walk
    return list(argvs[k])


@per_tree
def _stage_shells(doc: Dockerfile, stage: Stage) -> tuple[list[int], list[list[str]]]:
    """(indices of the stage's SHELLs, the argv in effect up to each and after the last),
    once per tree: asked for every RUN."""
    parent = stage.parent
    if parent is not None and parent.index < stage.index:
        argv = _stage_shells(doc, parent)[1][-1]
    else:
        argv = ["/bin/sh", "-c"]
    at: list[int] = []
    argvs = [argv]
    for i in stage.instructions:
        if i.keyword == "SHELL" and i.json_args:
            at.append(i.index)
            argvs.append(list(i.json_args))
    return at, argvs


def _shell_argv_walk(stage: Stage, before: Instruction) -> list[str]:
    argv = ["/bin/sh", "-c"]
    chain: list[Stage] = []
    st: Stage | None = stage
    while st is not None and st not in chain:
        chain.append(st)
        st = st.parent
    for s in reversed(chain):
        for i in s.instructions:
            if i is before:
                return argv
            if i.keyword == "SHELL" and i.json_args:
                argv = list(i.json_args)
    return argv


def errexit_change(words: list[str]) -> bool | None:
    """What ``set``-style flags do to errexit: True on, False off, None unchanged."""
    state: bool | None = None
    k = 0
    while k < len(words):
        w = words[k]
        if w in ("-o", "+o") and k + 1 < len(words):
            if words[k + 1] == "errexit":
                state = w == "-o"
            k += 2
            continue
        if re.fullmatch(r"[-+][a-zA-Z]+", w) and "e" in w[1:]:
            state = w[0] == "-"
        k += 1
    return state


def errexit_flags(words: list[str]) -> bool:
    return bool(errexit_change(words))


def set_errexit(parsed: ShellScript, default: bool) -> bool:
    """Whether errexit is on at the end of the top-level chain (`set -e` / `set +e`)."""
    on = default
    for item in parsed.chain:
        c = item.command
        if c is not None and c.argv[:1] == ["set"]:
            change = errexit_change(c.argv[1:])
            if change is not None:
                on = change
    return on


def reads_stdin_script(args: list[str]) -> bool:
    """``bash -e`` / ``sh -o pipefail``: only options, no ``-c`` and no script file."""
    if not all(a.startswith(("-", "+")) or a in ("pipefail", "errexit", "nounset") for a in args):
        return False
    return not any("c" in a[1:] for a in args if a.startswith("-") and not a.startswith("--"))


def normalise_body(body: str) -> str:
    # BuildKit reads bodies line by line and drops the CR of CRLF; a space keeps offsets.
    return body.replace("\r\n", " \n")


def shebang(body: str) -> list[str] | None:
    if not body.startswith("#!"):
        return None
    first = body.split("\n", 1)[0][2:].strip()
    try:
        return shlex.split(first)
    except ValueError:
        return first.split()
