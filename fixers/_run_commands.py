"""The simple commands of every RUN, for fixers that edit one program's arguments in place
(DF106 `apt`, DF503 `wget`, DF510 `useradd`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from dockfix.fixers._run_script import Script, analyse_run

if TYPE_CHECKING:
    from dockfix.semantics.shell import SimpleCommand
    from dockfix.syntax import Dockerfile, Instruction


def run_commands(doc: Dockerfile) -> Iterator[tuple[Instruction, Script, SimpleCommand]]:
    """(the instruction in the file, its script, a command) for every RUN and ONBUILD RUN."""
    for owner in doc.instructions:
        target = owner.trigger if owner.trigger is not None else owner
        if target.keyword != "RUN":
            continue
        for script in analyse_run(doc, owner).scripts:
            for cmd in script.parsed.commands:
                yield owner, script, cmd


def program_index(cmd: SimpleCommand, program: str) -> int | None:
    """Index in ``cmd.words`` of the word that runs ``program`` (also as a path, behind
    wrappers such as `sudo`); None when the command runs another one."""
    argv = cmd.argv
    if not argv or argv[0] != program:
        return None
    k = len(cmd.words) - len(argv)
    if k < 0 or cmd.words[k].value.rsplit("/", 1)[-1] != program:
        return None
    if any(w.value in ("-v", "-V") for w in cmd.words[:k]):
        return None  # `command -v wget` looks it up, it does not run it
    return k


def uneditable(script: Script, change: str) -> str:
    """Why a command of ``script`` cannot be edited in place ('' when it can)."""
    if script.kind == "exec":
        return f"exec-form RUN: {change} by hand"
    if not script.editable:
        return "the RUN's shell code could not be parsed"
    return ""
