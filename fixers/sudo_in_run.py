"""DF514 sudo-in-run: `sudo` in a RUN, where Docker already chooses the user.

## What it does
Reports `sudo` commands in `RUN` instructions (shell form and heredoc scripts), saying
what to write instead: where the RUN already runs as root (no `USER`, or `USER root`
before it), the command without `sudo`; where a `USER` switched away from root, a
`USER root` line for the commands that need it.

## Why is this bad
`sudo` is for people at a terminal: it needs its package and a sudoers entry in the image,
it resets the environment (the values `ENV` set are not seen by the command, `PATH` becomes
sudo's `secure_path`), and a sudoers rule left for a later `USER` lets whoever runs the
container become root. In a Dockerfile, `USER` chooses who runs each step.

## Example
```dockerfile
FROM ubuntu:24.04
RUN sudo apt-get update
```
Use instead:
```dockerfile
FROM ubuntu:24.04
RUN apt-get update
```

## Fix safety
No fix (display-only): removing `sudo` changes the environment the command sees (the
stage's `ENV` values reach it, `sudo`'s `secure_path` no longer applies), and a command
that runs as root after the rewrite would get hadolint's package-pinning findings that
`sudo` hid; a person should look at each one.

## Options
None.

## Resolves
hadolint DL3004 · Trivy: none · Checkov: none.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.core.fixer import Finding, Fixer, Resolves, Severity, register
from dockfix.fixers._cmdline import stage_chain
from dockfix.fixers._run_script import analyse_run
from dockfix.semantics.context import FixContext
from dockfix.syntax import Dockerfile, Instruction


def _user_before(instr: Instruction) -> str | None:
    """The user of the last `USER` before ``instr`` in its stage or the stages it is built
    FROM; None when there is none (the base image's user)."""
    assert instr.stage is not None
    for st in stage_chain(instr.stage):
        users = [
            i
            for i in st.instructions
            if i.keyword == "USER" and (st is not instr.stage or i.index < instr.index)
        ]
        if users:
            return users[-1].args.strip().split(":", 1)[0]
    return None


@register
class SudoInRun(Fixer):
    code = "DF514"
    mentions = ("sudo",)
    severity = Severity.WARNING
    name = "sudo-in-run"
    summary = "A RUN uses sudo: choose the user with USER"
    resolves = Resolves(hadolint=("DL3004",), trivy=(), checkov=())

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for instr in doc.instructions:
            if instr.keyword != "RUN" or instr.stage is None:
                continue
            analysis = analyse_run(doc, instr)
            if not any(c.name.rsplit("/", 1)[-1] == "sudo" for _, c in analysis.commands()):
                continue
            user = _user_before(instr)
            if user is None:
                reason = "no USER before it: where the base image runs as root, drop `sudo`"
            elif user in ("root", "0"):
                reason = "the RUN runs as root already: drop `sudo` (its command then sees ENV)"
            else:
                reason = f"the RUN runs as `{user}`: put `USER root` before it, `USER {user}` after"
            yield self.finding(
                instr, "`sudo` in a RUN: Docker's USER chooses the user", reason=reason
            )
