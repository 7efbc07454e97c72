"""DF105 apt-install-recommends: `apt-get install` without `--no-install-recommends`.

## What it does
Finds `apt-get install` (and `apt install`) commands in `RUN` instructions that neither pass
`--no-install-recommends` nor set `APT::Install-Recommends` themselves, and adds
`--no-install-recommends` after `install`. Shell-form `RUN`s, heredoc scripts
(`RUN <<EOF`, `RUN bash <<EOF`), `ONBUILD RUN` and exec form (`["apt-get", "install", …]`,
`["sh", "-c", "…"]` when the string has no escapes before the insertion point) are edited.

## Why is this bad
By default apt installs every package's *Recommends* too. On Debian and Ubuntu that often
doubles what an install pulls in (`apt-get install -y python3` brings a compiler toolchain
on some releases): a larger image, a longer build and more packages to patch for CVEs.

## Example
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*
```
Use instead:
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
```

## Fix safety
Always unsafe: the image then contains fewer packages, and software that relied on a
recommended package (a CA bundle, a locale, `gnupg` for `apt-key`…) can fail at build or at
run time. Review the diff and add the packages you need by name.

A command that says `--install-recommends` or sets `-o APT::Install-Recommends=…` made its
choice and is left alone. A command built from variables (`apt-get $CMD`) is not recognised,
and an exec-form string with escapes before `install` is reported without a fix.

## Options
None.

## Resolves
hadolint DL3015 · Trivy DS-0029 · Checkov: none.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from dockfix.core.fixer import Edit, Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._package_managers import SYSTEM_BY_NAME
from dockfix.fixers._run_script import Script, analyse_run, subcommand
from dockfix.fixers._run_text import run_texts
from dockfix.semantics.context import FixContext
from dockfix.semantics.shell import SimpleCommand
from dockfix.syntax import Dockerfile, Instruction

FLAG = "--no-install-recommends"
# aptitude does not know the option (it reads APT::Install-Recommends).
_APT_PROGRAMS = frozenset(p for p in SYSTEM_BY_NAME["apt"].programs if p != "aptitude")
# Options that take no argument: the flag may go after them on the same line, where
# `install -y --no-install-recommends` reads naturally.
_SIMPLE_OPTION = lazy_re(
    r"-[yqfmsV]+|--(yes|assume-yes|quiet|fix-missing|fix-broken|no-install-suggests)"
)


def _decided(cmd: SimpleCommand) -> bool:
    """Whether the command already chooses about recommends (either way)."""
    for w in cmd.words[1:]:
        v = w.value.lower()
        if v in (FLAG, "--install-recommends") or "install-recommends" in v:
            return True
    return False


@register
class AptInstallRecommends(Fixer):
    code = "DF105"
    severity = Severity.INFO
    name = "apt-install-recommends"
    summary = "Packages installed with apt-get without --no-install-recommends"
    resolves = Resolves(hadolint=("DL3015",), trivy=("DS-0029",), checkov=())
    mentions = ("apt",)
    image_changes = ("files:/**",)  # other packages are installed

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for owner, text in run_texts(doc):
            if "install" not in text or "apt" not in text:
                continue  # no `apt(-get) install` in it: not parsed
            analysis = analyse_run(doc, owner)
            for script in analysis.scripts:
                for cmd in script.parsed.commands:
                    sub = subcommand(cmd)
                    if sub is None or sub[0] not in _APT_PROGRAMS or sub[1] != "install":
                        continue
                    if _decided(cmd):
                        continue
                    yield self._finding(owner, script, cmd, sub[0], sub[2])

    def _finding(
        self, owner: Instruction, script: Script, cmd: SimpleCommand, prog: str, sub_index: int
    ) -> Finding:
        message = f"`{prog} install` without `{FLAG}` installs recommended packages too"
        if script.kind == "exec":
            edit, why = _exec_form_edit(script, cmd, sub_index)
        elif script.editable:
            edit, why = _script_edit(script, cmd, sub_index), ""
        else:
            edit, why = None, "the RUN's shell code could not be parsed"
        if edit is None:
            return self.finding(owner, message, reason=why)
        fix = Fix.unsafe(edit, description=f"add `{FLAG}` (fewer packages get installed)")
        return self.finding(owner, message, fix)


def _script_edit(script: Script, cmd: SimpleCommand, sub_index: int) -> Edit:
    words = cmd.words
    after = sub_index
    # Move past `-y`/`-qq` that follow `install` on the same physical line.
    k = sub_index + 1
    while k < len(words) and _SIMPLE_OPTION.fullmatch(words[k].raw):
        gap = script.text(words[k - 1].end, words[k].start)
        src_gap = script.to_source(words[k].start) - script.end_to_source(words[k - 1].end)
        if src_gap != len(gap) or "\n" in gap:
            break
        after = k
        k += 1
    return Edit.insert(script.end_to_source(words[after].end), f" {FLAG}")


def _json_elements(text: str, start: int) -> list[tuple[str, int, int]] | None:
    """(value, start, end) of each string of a JSON array beginning at ``text[start]``."""
    dec = json.JSONDecoder()
    i = text.index("[", start) + 1
    out: list[tuple[str, int, int]] = []
    while True:
        while i < len(text) and text[i] in " \t,":
            i += 1
        if i >= len(text) or text[i] == "]":
            return out
        try:
            value, end = dec.raw_decode(text, i)
        except ValueError:
            return None
        if not isinstance(value, str):
            return None
        out.append((value, i, end))
        i = end


def _exec_form_edit(script: Script, cmd: SimpleCommand, sub_index: int) -> tuple[Edit | None, str]:
    instr = script.instr
    elements = _json_elements(instr.logical, instr.args_start)
    if elements is None:
        return None, "the exec-form array could not be read"
    argv = instr.json_args or []
    if len(argv) >= 3 and argv[1].startswith("-") and "c" in argv[1]:
        # ["sh", "-c", "… apt-get install …"]: edit inside the string when it maps 1:1.
        value, s, e = elements[2]
        raw = instr.logical[s:e]
        word_end = cmd.words[sub_index].end
        if "\\" in raw[: 1 + word_end] or raw[1 : 1 + word_end] != value[:word_end]:
            return None, "the exec-form string has escapes; add the flag by hand"
        return Edit.insert(instr.to_source(s + 1 + word_end - 1) + 1, f" {FLAG}"), ""
    try:
        k = argv.index("install")
    except ValueError:
        return None, "the exec-form array could not be read"
    _, _, e = elements[k]
    return Edit.insert(instr.to_source(e - 1) + 1, f', "{FLAG}"'), ""
