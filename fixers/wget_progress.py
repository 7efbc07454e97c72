"""DF503 wget-progress: `wget` in a RUN prints its progress bar into the build log.

## What it does
Finds `wget` commands in `RUN` instructions (shell form, heredoc scripts, `ONBUILD RUN`, also
behind `sudo`/`env`) that choose no output mode (none of `-q`/`--quiet`, `-nv`/`--no-verbose`,
`--progress=…`, `-o`/`--output-file`, `-a`/`--append-output`), and adds `-q` after `wget`.

## Why is this bad
Without a terminal, GNU wget prints a dot line for every few kilobytes: a 200 MB download
writes thousands of lines into the build log (BuildKit keeps and uploads it, CI truncates it),
burying the lines that matter.

## Example
```dockerfile
FROM debian:bookworm-slim
RUN wget https://example.com/tool.tar.gz && tar -xzf tool.tar.gz
```
Use instead:
```dockerfile
FROM debian:bookworm-slim
RUN wget -q https://example.com/tool.tar.gz && tar -xzf tool.tar.gz
```

## Fix safety
Safe: `-q` changes what wget prints on standard error, never what it downloads, where it
writes it, or its exit status, so a failed download still fails the build. `-q` is the one
quiet option BusyBox's wget (Alpine, BusyBox images) shares with GNU wget;
`--progress=dot:giga`, which hadolint also accepts, would make BusyBox's wget fail. GNU wget's
own error text is not printed with `-q`: the build log shows the failing command and its
status.

A command whose standard error is redirected (`2>&1 | tee log`, `2>/dev/null`, `|&`) or that
asks for more output (`-S`, `-d`, `-v`, `--spider`) is reported without a fix: what it writes
there may be read. Exec-form `RUN ["wget", …]` and RUNs under a non-POSIX `SHELL` (on Windows
`wget` is PowerShell's `Invoke-WebRequest`) are left alone or reported without a fix.

## Options
None.

## Resolves
hadolint DL3047 · Trivy: none · Checkov: none.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.core.fixer import Edit, Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._run_commands import program_index, run_commands, uneditable
from dockfix.fixers._run_script import Script
from dockfix.semantics.context import FixContext
from dockfix.semantics.shell import SimpleCommand
from dockfix.syntax import Dockerfile, Instruction

FLAG = "-q"
# Options that already choose an output mode (hadolint accepts each of them).
_QUIET_LONG = ("--quiet", "--no-verbose", "--progress", "--output-file", "--append-output")
# Options asking for output someone may read: adding -q would silence it.
_VERBOSE = frozenset({"-S", "--server-response", "-d", "--debug", "-v", "--verbose", "--spider"})

# The redirections right after a command, then a `|&` pipe (stderr too) if there is one.
_REDIRECTIONS = lazy_re(r"((?:[ \t]*&?[0-9]*[<>]{1,2}&?[ \t]*[^ \t;&|<>\n]*)*)[ \t]*(\|&)?")


def _chooses_output(args: list[str]) -> bool:
    for a in args:
        if a == "--":
            return False
        if a == "-nv" or a.startswith(_QUIET_LONG):
            return True
        if a.startswith("-") and not a.startswith("--") and any(c in a[1:] for c in "qoa"):
            return True
    return False


def _stderr_taken(script: Script, cmd: SimpleCommand) -> bool:
    # The parser keeps a command's redirections outside it (after ``cmd.end``).
    m = _REDIRECTIONS.match(script.text(cmd.end, cmd.end + 300))
    return m is not None and (any(s in m.group(1) for s in ("2>", "&>", ">&")) or bool(m.group(2)))


@register
class WgetProgress(Fixer):
    code = "DF503"
    mentions = ("wget",)
    acts_on = frozenset({"RUN"})
    severity = Severity.INFO
    name = "wget-progress"
    summary = "Downloads with wget without -q: its progress bar fills the build log"
    resolves = Resolves(hadolint=("DL3047",), trivy=(), checkov=())

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for owner, script, cmd in run_commands(doc):
            k = program_index(cmd, "wget")
            if k is None or _chooses_output([w.value for w in cmd.words[k + 1 :]]):
                continue
            yield self._finding(owner, script, cmd, k)

    def _finding(self, owner: Instruction, script: Script, cmd: SimpleCommand, k: int) -> Finding:
        message = "`wget` without `-q` writes its progress into the build log"
        why = uneditable(script, "add `-q`")
        if why:
            return self.finding(owner, message, reason=why)
        verbose = sorted({w.value for w in cmd.words[k + 1 :]} & _VERBOSE)
        if verbose:
            return self.finding(
                owner, message, reason=f"it asks for output with `{verbose[0]}`; `-q` would hide it"
            )
        if _stderr_taken(script, cmd):
            return self.finding(
                owner, message, reason="its standard error is redirected; `-q` would change it"
            )
        edit = Edit.insert(script.end_to_source(cmd.words[k].end), f" {FLAG}")
        return self.finding(owner, message, Fix.safe(edit, description=f"add `{FLAG}`"))
