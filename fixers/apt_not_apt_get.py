"""DF106 apt-not-apt-get: `apt` in a RUN, the interactive front end, instead of `apt-get`.

## What it does
Rewrites `apt update`, `apt install`, `apt remove`, `apt purge`, `apt autoremove`, `apt
clean` … in `RUN` instructions (shell form, heredoc scripts, behind `sudo`) as the same
`apt-get` command, and `apt full-upgrade` as `apt-get dist-upgrade`.

## Why is this bad
`apt` is meant for people at a terminal: its command line may change between releases
(it prints "WARNING: apt does not have a stable CLI interface. Use with caution in
scripts." into the build log), and its output is tuned for reading, not for logs.
`apt-get` is the stable interface for scripts.

## Example
```dockerfile
FROM ubuntu:24.04
RUN apt update && apt install -y curl=8.5.0-2ubuntu10.6
```
becomes, with `--unsafe-fixes`:
```dockerfile
FROM ubuntu:24.04
RUN apt-get update && apt-get install -y curl=8.5.0-2ubuntu10.6
```

## Fix safety
**Unsafe**: `apt` deletes the downloaded `.deb` files after installing them, `apt-get`
keeps them in `/var/cache/apt/archives` (the official Debian and Ubuntu images remove
them either way with their `docker-clean` configuration; other images may keep them in the
layer). The packages installed are the same.

`apt install` is reported without a fix where the `apt-get install` written would get a
hadolint finding `apt` does not get (hadolint checks only `apt-get`): unpinned packages
(DL3008) or no `-y` (DL3014). `apt list`, `search`, `show` are reported without a fix (their `apt-cache` forms print
differently), and so are an exec-form RUN and unparsable shell code.

## Options
None.

## Resolves
hadolint DL3027 · Trivy: none · Checkov: none.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.core.fixer import Edit, Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._package_managers import unpinned_install
from dockfix.fixers._run_commands import program_index, uneditable
from dockfix.fixers._run_script import Script, analyse_run
from dockfix.fixers._run_text import runs_mentioning
from dockfix.semantics.context import FixContext
from dockfix.semantics.shell import SimpleCommand
from dockfix.syntax import Dockerfile, Instruction

# `apt` as a word of its own (not `apt-get`, `apt-cache`, `aptitude`): a RUN without it runs no
# `apt` and is not parsed.
_APT = lazy_re(r"(?<![\w-])apt(?![\w-])")
# apt subcommands that apt-get runs the same way, and the apt-get name of each.
_SAME = {
    s: s
    for s in (
        "update",
        "install",
        "reinstall",
        "remove",
        "purge",
        "autoremove",
        "autopurge",
        "clean",
        "autoclean",
        "build-dep",
        "source",
        "download",
        "satisfy",
    )
}
_SAME["full-upgrade"] = "dist-upgrade"
_SAME["dist-upgrade"] = "dist-upgrade"
_SAME["upgrade"] = "upgrade --with-new-pkgs"  # what `apt upgrade` does


def _install_checks(argv: list[str]) -> str:
    """Why `apt-get install` with these arguments would get a finding of its own from
    hadolint (it checks `apt-get`, never `apt`): '' when none."""
    if not any(a in ("-y", "--yes", "--assume-yes", "-qq") or _short(a, "y") for a in argv):
        return "`apt-get install` needs `-y` (hadolint DL3014): add it, then this applies"
    install = unpinned_install(argv)  # the packages DF108 reports, as hadolint reads them
    unpinned = install.packages if install is not None else []
    if unpinned:
        return (
            f"`apt-get install` of unpinned `{unpinned[0]}` would be reported by hadolint "
            "(DL3008), which does not check `apt`: pin the versions, then this applies"
        )
    return ""


def _short(arg: str, letter: str) -> bool:
    return arg.startswith("-") and not arg.startswith("--") and letter in arg[1:]


@register
class AptNotAptGet(Fixer):
    code = "DF106"
    severity = Severity.WARNING
    name = "apt-not-apt-get"
    summary = "A RUN uses `apt`, whose command line is not stable: use `apt-get`"
    resolves = Resolves(hadolint=("DL3027",), trivy=(), checkov=())
    mentions = ("apt",)

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for owner in runs_mentioning(doc, _APT):
            for script in analyse_run(doc, owner).scripts:
                for cmd in script.parsed.commands:
                    k = program_index(cmd, "apt")
                    if k is not None:
                        yield self._finding(owner, script, cmd, k)

    def _finding(self, owner: Instruction, script: Script, cmd: SimpleCommand, k: int) -> Finding:
        sub = cmd.subcommand()[1]
        message = (
            f"`{' '.join(('apt', sub)).strip()}`: `apt` is for terminals, scripts use `apt-get`"
        )
        new_sub = _SAME.get(sub)
        if new_sub is None:
            return self.finding(owner, message, reason="its `apt-get`/`apt-cache` form differs")
        if sub == "install":  # hadolint reads no other subcommand (DL3008, DL3014)
            why = _install_checks(cmd.argv)
            if why:
                return self.finding(owner, message, reason=why)
        why = uneditable(script, "change it")
        if why:
            return self.finding(owner, message, reason=why)
        word = cmd.words[k]
        edits = [Edit.insert(script.end_to_source(word.end), "-get")]
        if new_sub != sub:
            at = next(w for w in cmd.words[k + 1 :] if w.value == sub)
            edits.append(Edit(script.to_source(at.start), script.end_to_source(at.end), new_sub))
        return self.finding(owner, message, Fix.unsafe(*edits, description=f"`apt-get {new_sub}`"))
