"""DF505 pipefail: a RUN pipes under `/bin/sh -c`, where a failing first command is ignored.

## What it does
Finds the first `RUN` of a stage whose shell code has a pipeline (`curl … | bash`, also in
`$(…)` and `RUN <<EOF` scripts) while the stage's shell is the default `/bin/sh -c`, and
adds `SHELL ["/bin/bash", "-o", "pipefail", "-c"]` above it (`/bin/ash` on Alpine, whose
BusyBox shell has the option too). One `SHELL` serves every later RUN of the stage.

## Why is this bad
A pipeline's status is its last command's: in `curl -fsSL https://… | bash` a failed
download feeds nothing to bash, which succeeds, and the build goes on without the tool.
With `pipefail` the pipeline fails when any of its commands fails. Debian's `/bin/sh`
(dash) has no `pipefail` option, hence the `SHELL` line naming a shell that has it.

## Example
```dockerfile
FROM debian:bookworm-slim
RUN curl -fsSL https://example.com/install.sh | bash
```
becomes, with `--unsafe-fixes`:
```dockerfile
FROM debian:bookworm-slim
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN curl -fsSL https://example.com/install.sh | bash
```

## Fix safety
**Unsafe**: that is the point of it, a pipeline whose first command fails now fails the
build; the RUNs after the line run under bash instead of `sh`; a shell-form `CMD`,
`ENTRYPOINT` or `HEALTHCHECK` after it runs under the new shell too, and the image's
`Shell` setting (which images built `FROM` it inherit) changes.

Display-only, with the reason, when: the base image is not known to have bash (Alpine's
`ash` is used there; other bases, `ARG`-driven `FROM` and Windows are not guessed); a
`SHELL` is already set without `pipefail` (add it there by hand); a pipeline would break
under `pipefail` without anything being wrong: a reader that stops early (`head`,
`grep -q`, `read`) makes the writer die of SIGPIPE, `yes | …` always does, and a negated
`! a | b` test would change its answer; on Debian and Ubuntu, a RUN under the new shell
`echo`es a backslash escape (`echo "a\\nb" > conf`: dash's `echo` writes a newline, bash's a
backslash and an `n`); or the RUN is in exec form (`SHELL` does not apply to it). Where
a parent stage already set a `pipefail` SHELL, the same line is added to the child stage
(hadolint checks per stage): safe, the build does not change.

## Options
None.

## Resolves
hadolint DL4006 · Trivy: none · Checkov: none.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from dockfix.core.edits import insert_before, keyword_style
from dockfix.core.fixer import Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._base_images import classify, pipefail_shell
from dockfix.fixers._run_script import analyse_run, shell_argv
from dockfix.semantics.context import FixContext
from dockfix.semantics.semantic import base_reference, descendants, stage_chain
from dockfix.semantics.shell import Pipeline, pipelines
from dockfix.syntax import Dockerfile, Instruction, Stage

DEFAULT_SHELL = ["/bin/sh", "-c"]
# Readers that may stop before the writer is done (the writer then dies of SIGPIPE).
_EARLY_READERS = ("head", "read", "grep -q", "grep -m", "grep -l", "grep --quiet", "sed -n 1")


def has_pipefail(argv: list[str]) -> bool:
    """A SHELL with `-o pipefail` (`-eo pipefail` …), whose shell is not plain `sh`."""
    name = argv[0].rsplit("/", 1)[-1] if argv else ""
    return name in ("bash", "ash", "zsh", "ksh", "mksh") and any(
        a == "pipefail" and k and argv[k - 1].startswith("-") and argv[k - 1].endswith("o")
        for k, a in enumerate(argv)
    )


def _pipes(doc: Dockerfile, run: Instruction) -> list[Pipeline] | None:
    """The pipelines the RUN's shell runs; None for an exec-form RUN that pipes."""
    analysis = analyse_run(doc, run)
    # every pipeline has a `|`: a script without one is not parsed again
    piped = [s for s in analysis.scripts if "|" in s.parsed.text]
    if not piped:
        return []
    found = [
        p
        for s in piped
        # a heredoc script with a shebang runs under its own interpreter, not SHELL
        if s.kind == "line" or (s.kind == "body" and not s.parsed.text.startswith("#!"))
        for p in pipelines(s.parsed.text)
    ]
    if any(s.kind == "exec" and pipelines(s.parsed.text) for s in piped):
        return None
    return found if not analysis.opaque else []


def _risk(pipe: Pipeline) -> str:
    if pipe.negated:
        return f"the negated test `{' | '.join(pipe.parts)}` would change its answer"
    if pipe.parts[0].split()[:1] == ["yes"]:
        return "`yes | …` always ends by SIGPIPE"
    for part in pipe.parts[1:]:
        if part.startswith(_EARLY_READERS):
            return f"`{part.split()[0]}` may stop reading early and the writer die of SIGPIPE"
    return ""


@register
class Pipefail(Fixer):
    code = "DF505"
    severity = Severity.WARNING
    name = "pipefail"
    summary = "A RUN pipes without pipefail: a failing first command does not fail the build"
    resolves = Resolves(hadolint=("DL4006",), trivy=(), checkov=())

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for stage in doc.stages:
            finding = self._stage(doc, stage)
            if finding is not None:
                yield finding

    def _stage(self, doc: Dockerfile, stage: Stage) -> Finding | None:
        for instr in stage.instructions:
            if instr.keyword == "SHELL" and instr.json_args and has_pipefail(instr.json_args):
                return None  # this stage's pipes already fail (hadolint: from here on)
            if instr.keyword != "RUN":
                continue
            pipes = _pipes(doc, instr)
            message = "a RUN pipes without `pipefail`: a failing first command is ignored"
            if pipes is None:
                return self.finding(
                    instr, message, reason="exec-form RUN: SHELL does not apply, add the option"
                )
            if pipes:
                return self._fix(doc, stage, instr, message)
        return None

    def _fix(self, doc: Dockerfile, stage: Stage, run: Instruction, message: str) -> Finding:
        current = shell_argv(doc, stage, run)
        if has_pipefail(current):
            line = _shell_line(doc, current)
            return self.finding(
                run,
                message,
                Fix.safe(insert_before(doc, run, [line]), description="repeat the parent's SHELL"),
            )
        if current != DEFAULT_SHELL:
            return self.finding(
                run, message, reason=f"SHELL is {json.dumps(current)}: add `-o pipefail` to it"
            )
        base = base_reference(doc, stage)  # a default ARG value is not the image that runs
        from_arg = "$" in stage_chain(stage)[0].base
        family = classify(base).family if base and not from_arg else ""
        shell = pipefail_shell(family)
        if shell is None:
            return self.finding(
                run, message, reason=f"bash is not known to exist in `{base or stage.base}`"
            )
        for later in _runs_from(doc, stage, run):
            for pipe in _pipes(doc, later) or []:
                why = _risk(pipe)
                if why:
                    return self.finding(run, message, reason=f"line {later.start_line}: {why}")
            if family == "debian" and _dash_echo(doc, later):
                why = (
                    "`echo` writes a backslash escape, which Debian's `/bin/sh` (dash) expands "
                    "and bash writes as typed: print it with `printf`, then this applies"
                )
                return self.finding(run, message, reason=f"line {later.start_line}: {why}")
        line = _shell_line(doc, [shell, "-o", "pipefail", "-c"])
        edit = insert_before(doc, run, [line])
        return self.finding(
            run,
            message,
            Fix.unsafe(edit, description=f"run the stage's RUNs with `{shell} -o pipefail`"),
        )


def _dash_echo(doc: Dockerfile, run: Instruction) -> bool:
    """Whether the RUN's SHELL-run script echoes a backslash (`echo "a\\nb"`): dash's
    `echo` expands it, bash's does not, so the bytes written change with the shell."""
    return any(
        script.shell == "sh"
        and script.kind in ("line", "body")
        and not script.parsed.text.startswith("#!")
        and cmd.name == "echo"
        and any("\\" in w.value for w in cmd.words[1:])
        for script, cmd in analyse_run(doc, run).commands()
    )


def _shell_line(doc: Dockerfile, argv: list[str]) -> str:
    return f"{keyword_style(doc, 'SHELL')} {json.dumps(argv)}"


def _runs_from(doc: Dockerfile, stage: Stage, run: Instruction) -> Iterator[Instruction]:
    """``run`` and the RUNs after it in its stage and in the stages built FROM it."""
    for st in (stage, *descendants(doc, stage)):
        for instr in st.instructions:
            if instr.keyword == "RUN" and (st is not stage or instr.index >= run.index):
                yield instr
