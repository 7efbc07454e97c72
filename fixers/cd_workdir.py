"""DF506 cd-workdir: a RUN that starts with `cd dir &&` instead of a `WORKDIR`.

## What it does
Finds a `RUN` whose command line starts with `cd <dir> && …` and moves the directory
change to a `WORKDIR` above it. When anything after the RUN could depend on the working
directory (later instructions of the stage, stages built `FROM` it, the image's own
working directory), a second `WORKDIR` below the RUN restores the previous one.

## Why is this bad
`WORKDIR` says in one place, visibly, where the following commands run; a `cd` hidden in a
chain of commands is easy to miss when the RUN is edited, and a failed `cd` without `&&`
runs the rest in the wrong directory. hadolint reports every `cd` in a RUN.

## Example
```dockerfile
FROM golang:1.22-alpine
WORKDIR /src
COPY . .
RUN cd cmd/server && go build -o /out/server .
CMD ["/out/server"]
```
becomes, with `--unsafe-fixes`:
```dockerfile
FROM golang:1.22-alpine
WORKDIR /src
COPY . .
WORKDIR /src/cmd/server
RUN go build -o /out/server .
WORKDIR /src
CMD ["/out/server"]
```

## Fix safety
**Unsafe**: `WORKDIR` creates the directory when it does not exist, where `cd` failed the
build; otherwise the RUN runs in the same directory and everything after it in the one it
ran in before. A relative `cd` is resolved against the working directory in effect, so the
new `WORKDIR` is absolute.

Display-only when: the RUN is in exec form; the `cd` is not the first command or the RUN has several (moving it
would split the RUN, keeping the earlier commands' files in a layer); its target uses a
variable, `~`, `-` or an option (the shell and `WORKDIR` expand differently); the working
directory in effect is not known (set by a base image that is not recognised) while a
relative `cd` or a restore needs it; a `--mount` target is relative; the chain after it has `||` (a failed `cd` runs the
other branch); or comment lines sit in the part that would be removed.

## Options
None.

## Resolves
hadolint DL3003 · Trivy DS-0013 · Checkov: none.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from dockfix.core.edits import insert_after, insert_before, keyword_style
from dockfix.core.fixer import Edit, Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._image_paths import image_workdir_at
from dockfix.fixers._run_script import Script, analyse_run, mount_targets
from dockfix.semantics.context import FixContext
from dockfix.semantics.semantic import descendants, resolve_path
from dockfix.syntax import Dockerfile, Instruction, Stage

# What a literal directory may hold: anything the shell and WORKDIR would read differently
# (`$`, `~`, globs, quotes, spaces, the escape character) keeps the finding display-only.
_PLAIN_DIR = re.compile(r"[A-Za-z0-9_./@+,:=-]+")
# Instructions that read the working directory (or set it relative to it).
_USES_CWD = frozenset({"RUN", "COPY", "ADD", "CMD", "ENTRYPOINT", "HEALTHCHECK", "WORKDIR"})


@register
class CdWorkdir(Fixer):
    code = "DF506"
    mentions = ("cd",)
    severity = Severity.INFO
    name = "cd-workdir"
    summary = "A RUN changes directory with `cd`: use WORKDIR"
    resolves = Resolves(hadolint=("DL3003",), trivy=("DS-0013",), checkov=())

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for instr in doc.instructions:
            if instr.keyword != "RUN" or instr.stage is None:
                continue
            analysis = analyse_run(doc, instr)
            cds = [(s, c) for s, c in analysis.commands() if c.argv[:1] == ["cd"]]
            if not cds or analysis.opaque:
                continue
            yield self._finding(doc, instr, instr.stage, cds[0][0], len(cds))

    def _finding(
        self, doc: Dockerfile, run: Instruction, stage: Stage, script: Script, count: int
    ) -> Finding:
        message = "`cd` in a RUN: use WORKDIR to switch to a directory"
        if script.kind == "exec":
            return self.finding(
                run, message, reason="exec-form RUN: its shell string is not edited"
            )
        if script.kind == "body":
            return self.finding(
                run, message, reason="the `cd` is in a heredoc script: edit it by hand"
            )
        chain = script.parsed.chain
        first = chain[0].command if chain else None
        if count > 1 or first is None or first.argv[:1] != ["cd"]:
            return self.finding(
                run,
                message,
                reason="the `cd` is not the RUN's first and only one: moving it "
                "would split the RUN",
            )
        if len(chain) < 2 or chain[1].op != "&&" or any(it.op == "||" for it in chain[1:]):
            return self.finding(run, message, reason="the `cd` is not followed by `&&` alone")
        words = first.words
        if (
            len(words) != 2
            or first.assignments
            or not _PLAIN_DIR.fullmatch(words[1].raw)
            or words[1].raw.startswith("-")
        ):
            return self.finding(
                run, message, reason="the directory is not a plain path (variable, option, `~`)"
            )
        if any(t and not t.startswith("/") for _, t in mount_targets(run)):
            return self.finding(run, message, reason="a mount target is relative to the directory")
        before = image_workdir_at(doc, stage, run)
        target = resolve_path(words[1].value, before)
        restore = _needs_restore(doc, stage, run)
        if target is None or (restore and before is None):
            return self.finding(run, message, reason="the working directory before it is not known")
        start, end = script.to_source(first.start), script.to_source(chain[1].start)
        if any(start <= c.start < end for c in run.comments):
            return self.finding(run, message, reason="comment lines sit inside the `cd` part")
        keyword = keyword_style(doc, "WORKDIR")
        edits = [insert_before(doc, run, [f"{keyword} {target}"]), Edit.delete(start, end)]
        if restore and before != target:
            edits.append(insert_after(doc, run, [f"{keyword} {before}"]))
        return self.finding(
            run, message, Fix.unsafe(*edits, description=f"WORKDIR {target} above the RUN")
        )


def _needs_restore(doc: Dockerfile, stage: Stage, run: Instruction) -> bool:
    """Whether anything after ``run`` may read the working directory it leaves behind."""
    if stage is doc.final_stage or descendants(doc, stage):
        return True
    later = stage.instructions[stage.instructions.index(run) + 1 :]
    return any(i.keyword in _USES_CWD or i.keyword == "ONBUILD" for i in later)
