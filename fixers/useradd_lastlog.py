"""DF510 useradd-lastlog: `useradd` of a high UID without `-l` writes a huge lastlog file.

## What it does
Finds `useradd` commands in `RUN` instructions (shell form, heredoc scripts, behind `sudo`)
that give a UID of six digits or more (`-u 1000100`, `--uid=…`) without `-l` /
`--no-log-init`, and adds `-l` after `useradd`.

## Why is this bad
`useradd` reserves the new user's record in `/var/log/lastlog` and `/var/log/faillog`,
files indexed by UID. For UID 1,000,100 that is a 290 MB file of zeros: sparse on disk, but
image layers store it in full, so the image grows by hundreds of megabytes.

## Example
```dockerfile
FROM debian:bookworm-slim
RUN useradd -m -u 1000100 app
```
Use instead:
```dockerfile
FROM debian:bookworm-slim
RUN useradd -l -m -u 1000100 app
```

## Fix safety
Safe: `-l` only skips adding the user to the lastlog and faillog databases, which record
interactive logins; containers do not log users in through `login`. The user, its UID,
groups and home directory are the same.

Display-only for an exec-form RUN (add the option by hand) and where the RUN's shell code
cannot be parsed.

## Options
None.

## Resolves
hadolint DL3046 · Trivy: none · Checkov: none.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.core.fixer import Edit, Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._run_commands import program_index, run_commands, uneditable
from dockfix.fixers._run_script import Script
from dockfix.semantics.context import FixContext
from dockfix.semantics.shell import SimpleCommand
from dockfix.syntax import Dockerfile, Instruction

HIGH_UID = 100000  # six digits, where hadolint reports it
# Short options of useradd that take a value (the rest of a `-mu…` cluster is that value).
_VALUE_SHORT = frozenset("bcdefgGkKpsuUZ")


def _uid_and_log_init(args: list[str]) -> tuple[int | None, bool]:
    """The UID given to useradd and whether it already skips the lastlog."""
    uid: str | None = None
    no_log = False
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("--no-log-init", "-l"):
            no_log = True
        elif a.startswith("--uid"):
            uid = a.partition("=")[2] if "=" in a else (args[i + 1] if i + 1 < len(args) else "")
        elif a.startswith("-") and not a.startswith("--"):
            for j, ch in enumerate(a[1:], 1):
                if ch == "l":
                    no_log = True
                if ch in _VALUE_SHORT:
                    value = a[j + 1 :] or (args[i + 1] if i + 1 < len(args) else "")
                    if ch == "u":
                        uid = value
                    i += 0 if a[j + 1 :] else 1
                    break
        i += 1
    return (int(uid) if uid and uid.isdigit() else None), no_log


@register
class UseraddLastlog(Fixer):
    code = "DF510"
    mentions = ("useradd",)
    severity = Severity.WARNING
    name = "useradd-lastlog"
    summary = "A useradd of a high UID without -l writes a lastlog file of hundreds of MB"
    resolves = Resolves(hadolint=("DL3046",), trivy=(), checkov=())

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for owner, script, cmd in run_commands(doc):
            k = program_index(cmd, "useradd")
            if k is None:
                continue
            uid, no_log = _uid_and_log_init([w.value for w in cmd.words[k + 1 :]])
            if uid is not None and uid >= HIGH_UID and not no_log:
                yield self._finding(owner, script, cmd, k, uid)

    def _finding(
        self, owner: Instruction, script: Script, cmd: SimpleCommand, k: int, uid: int
    ) -> Finding:
        message = f"`useradd` of UID {uid} without `-l`: the image stores a huge lastlog file"
        why = uneditable(script, "add `-l`")
        if why:
            return self.finding(owner, message, reason=why)
        edit = Edit.insert(script.end_to_source(cmd.words[k].end), " -l")
        return self.finding(owner, message, Fix.safe(edit, description="add `-l`"))
