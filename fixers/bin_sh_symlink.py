"""DF527 bin-sh-symlink: `RUN ln -sf /bin/bash /bin/sh` to change the shell of later RUNs.

## What it does
Finds `ln` commands in `RUN` instructions that name `/bin/sh` (`ln -sf /bin/bash /bin/sh`,
`rm /bin/sh && ln -s /bin/bash /bin/sh`). Where the `RUN` does nothing else and the image
never starts a shell through `/bin/sh`, replaces it with `SHELL ["/bin/bash", "-c"]`, which
makes BuildKit run the later `RUN`s (of the stage and of the stages built from it) with bash.

## Why is this bad
Replacing `/bin/sh` changes the image for every program, not only for the Dockerfile's `RUN`s:
every `#!/bin/sh` script, `system()` call, Makefile recipe and shell-form `CMD` then runs
under bash, which the base image's own scripts were never tested with, and the change is
invisible to anyone reading the image's configuration. A package upgrade that reinstalls
`dash` (Debian's `/bin/sh`) silently undoes it. `SHELL` says what the build needs, in the
image's configuration. hadolint reports it (DL4005).

## Example
```dockerfile
FROM ubuntu:24.04
RUN ln -sf /bin/bash /bin/sh
RUN source /opt/env.sh && make install
CMD ["/usr/local/bin/server"]
```
Use instead:
```dockerfile
FROM ubuntu:24.04
SHELL ["/bin/bash", "-c"]
RUN source /opt/env.sh && make install
CMD ["/usr/local/bin/server"]
```

## Fix safety
Unsafe: the later `RUN`s' own shell becomes bash as before, but programs they start that run
`/bin/sh` themselves (`make`, `npm run`, `#!/bin/sh` scripts, `system()`) go back to the
image's `/bin/sh` (dash on Debian and Ubuntu, BusyBox ash on Alpine), and so does everything
that runs in the container. Check that nothing relied on bash there. (bash started as `sh`
also ran in its POSIX mode, which `SHELL` does not ask for.)

Display-only, naming what was found, where `/bin/sh` is known to matter after the build: the
image built from the stage starts with a shell-form `CMD`/`ENTRYPOINT` (run by `/bin/sh -c`),
with `sh` or a `.sh` script, or has no `CMD`/`ENTRYPOINT` in the file (the base image's is not
known); or a later `RUN` runs `sh` or a `.sh` script itself. Also display-only: a `RUN` that
does more than the link (its other commands ran under the old `/bin/sh`), a `SHELL` already in
effect, a link to something other than a POSIX shell (`bash`, `zsh`, `ksh`, `dash`, `ash`),
exec-form and `ONBUILD` `RUN`s.

## Options
None.

## Resolves
hadolint DL4005 · Trivy: none · Checkov: none.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.core.fixer import Edit, Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._cmdline import match_keyword_case, shell_in_effect
from dockfix.fixers._image_paths import json_list, start_command
from dockfix.fixers._run_commands import program_index, run_commands
from dockfix.fixers._run_script import Script, analyse_run
from dockfix.semantics.context import FixContext
from dockfix.semantics.semantic import descendants, stage_chain
from dockfix.semantics.shell import SimpleCommand
from dockfix.syntax import Dockerfile, Instruction, Stage

_SH = "/bin/sh"
_SHELLS = frozenset({"bash", "zsh", "ksh", "mksh", "dash", "ash"})


def _link_target(cmd: SimpleCommand, k: int) -> str | None:
    """The shell an `ln -s[f] SHELL /bin/sh` links to, as an absolute path; None otherwise."""
    args = [w.value for w in cmd.words[k + 1 :]]
    options = [a for a in args if a.startswith("-")]
    operands = [a for a in args if not a.startswith("-")]
    if len(operands) != 2 or operands[1] != _SH:
        return None
    if not any("s" in o[1:] for o in options if not o.startswith("--")) and "--symbolic" not in (
        options
    ):
        return None
    target = operands[0]
    if target.rsplit("/", 1)[-1] not in _SHELLS:
        return None
    return target if target.startswith("/") else "/bin/" + target


def _only_the_link(script: Script, link: SimpleCommand) -> bool:
    """Whether the script is the link, after at most an `rm [-f] /bin/sh`, joined by && or ;."""
    chain = script.parsed.chain
    if not 1 <= len(chain) <= 2 or any(c.op not in (None, "&&", ";", "\n") for c in chain):
        return False
    if chain[-1].command is not link:
        return False
    if len(chain) == 2:
        first = chain[0].command
        argv = first.argv if first is not None else []
        if not argv or argv[0] != "rm" or argv[-1] != _SH:
            return False
    return True


def _later_runs(doc: Dockerfile, stage: Stage, after: Instruction) -> Iterator[Instruction]:
    yield from stage.instructions[stage.instructions.index(after) + 1 :]
    for st in descendants(doc, stage):
        yield from st.instructions


def _runs_a_script(argv: list[str]) -> str:
    if not argv:
        return ""
    prog = argv[0]
    if prog.rsplit("/", 1)[-1] == "sh" or prog.endswith(".sh"):
        return prog
    return ""


def _sh_after_build(doc: Dockerfile, stage: Stage) -> str:
    """Why the image built from the stage may start `/bin/sh` ("" when it does not)."""
    final = doc.final_stage
    if final is None or not any(st is stage for st in stage_chain(final)):
        return ""  # the stage's file system is not the image's (a builder stage)
    entry, cmd = start_command(final)
    if entry is None and cmd is None:
        return "the file sets no CMD or ENTRYPOINT: the base image's may run `/bin/sh`"
    for instr in (entry, cmd):
        if instr is None:
            continue
        if instr.json_args is None:
            return f"the shell-form {instr.keyword} on line {instr.start_line} runs `/bin/sh -c`"
        if _runs_a_script(instr.json_args[:1]):
            return f"the {instr.keyword} on line {instr.start_line} runs a shell script"
    return ""


def _sh_in_later_runs(doc: Dockerfile, stage: Stage, link: Instruction) -> str:
    later = {id(i) for i in _later_runs(doc, stage, link)}
    for owner, _, cmd in run_commands(doc):
        if id(owner) in later:
            prog = _runs_a_script(cmd.argv)
            if prog:
                return f"the RUN on line {owner.start_line} runs `{prog}` itself"
    return ""


@register
class BinShSymlink(Fixer):
    code = "DF527"
    mentions = ("/bin/sh",)
    acts_on = frozenset({"RUN"})
    severity = Severity.WARNING
    name = "bin-sh-symlink"
    summary = "RUN replaces /bin/sh to change the build's shell: use SHELL"
    resolves = Resolves(hadolint=("DL4005",), trivy=(), checkov=())
    # `/bin/sh` stays the image's own (on merged-/usr distributions the link was /usr/bin/sh).
    image_changes = ("config:Shell", "files:/bin/sh", "files:/usr/bin/sh")

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for owner, script, cmd in run_commands(doc):
            k = program_index(cmd, "ln")
            if k is None or _SH not in [w.value for w in cmd.words[k + 1 :]]:
                continue
            yield self._finding(doc, owner, script, cmd, k)

    def _finding(
        self, doc: Dockerfile, owner: Instruction, script: Script, cmd: SimpleCommand, k: int
    ) -> Finding:
        message = "`ln … /bin/sh` changes the shell of every program in the image: use SHELL"
        target = _link_target(cmd, k)
        stage = owner.stage
        why = ""
        if owner.trigger is not None or stage is None:
            why = "an ONBUILD RUN: it acts in the images built from this one"
        elif script.kind != "line" or not script.editable:
            why = "the link is in an exec-form RUN or a heredoc script"
        elif target is None:
            why = "it does not link a POSIX shell (bash, zsh, ksh, dash, ash) as `/bin/sh`"
        elif len(analyse_run(doc, owner).scripts) != 1 or not _only_the_link(script, cmd):
            why = "the RUN does more than the link, and its other commands ran under the old sh"
        elif shell_in_effect(stage, owner) is not None:
            why = "a SHELL is already in effect: the later RUNs do not use `/bin/sh`"
        else:
            why = _sh_after_build(doc, stage) or _sh_in_later_runs(doc, stage, owner)
        if why or target is None:
            return self.finding(owner, message, reason=why)
        shell = json_list([target, "-c"])
        text = f"{match_keyword_case(owner.keyword_raw, 'SHELL')} {shell}"
        edit = Edit(owner.start, owner.header_end, text)
        description = f"`SHELL {shell}`: `/bin/sh` stays the image's own"
        return self.finding(owner, message, Fix.unsafe(edit, description=description))
