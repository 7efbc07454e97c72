"""DF517 stage-name-casing: a stage named with upper-case letters (`FROM … AS Build`).

## What it does
Finds the stages whose name is defined with upper-case letters (`FROM … AS Build`) and writes
that name in lower case where it is defined and wherever the file names it as written in
any case: the image of a `FROM` (`FROM Build`), `COPY --from=Build` (and `ADD --from=`), and
the `from=` field of a `RUN --mount=…`. Each instruction it rewrites gets a finding, so a
reference is reported where BuildKit's check reports only the definition. A stage defined
in lower case is left alone even where a reference writes it in capitals
(`COPY --from=Build` of `AS build`: BuildKit does not warn about it either). Left as written:
a quoted reference (`--from="Build"`), a reference through a variable (`--from=$STAGE`) and
`ONBUILD` triggers, which name the stages of the Dockerfile that builds on the image.

## Why is this bad
BuildKit's `StageNameCasing` check warns about every `FROM … AS Name` whose name is not all
lower case, so stage names are not mistaken for instruction keywords. BuildKit lower-cases
stage names when it reads them, so `Build`, `BUILD` and `build` are one stage already.

## Example
```dockerfile
FROM golang:1.22 AS Builder
RUN go build -o /out/app .
FROM gcr.io/distroless/static-debian12
COPY --from=Builder /out/app /app
```
Use instead:
```dockerfile
FROM golang:1.22 AS builder
RUN go build -o /out/app .
FROM gcr.io/distroless/static-debian12
COPY --from=builder /out/app /app
```

## Fix safety
Safe: BuildKit reads stage names in lower case, so the definition and every reference
name the same stage as before (a `--target` given in any case too). The references it leaves
(quoted, through variables) need no change for the same reason.

## Options
None.

## Resolves
BuildKit check StageNameCasing · hadolint: none · Trivy: none · Checkov: none.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.core.fixer import Edit, Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._lazy import lazy_re
from dockfix.semantics.context import FixContext
from dockfix.syntax import Dockerfile, Instruction


def _word_edit(instr: Instruction, index: int, names: set[str]) -> Edit | None:
    """Lower-cases argument word ``index`` when it names one of ``names``."""
    words = instr.args_words()
    if len(words) <= index or words[index][0].lower() not in names or words[index][0].islower():
        return None
    word, start, end = words[index]
    s, e = instr.source_span(start, end)
    return Edit(s, e, word.lower())


# `--from=Name`; the `from` field of `--mount=…` (BuildKit reads the keys in any case), not a
# `from=` inside another field's value (`source=/srv/from=x`).
_FROM_FLAG = lazy_re(r"(?<==)([^,=\s\"']+)$")
_MOUNT_FROM = lazy_re(r"(?:(?<=^--mount=)|(?<=,))(?i:from)=([^,\s\"']+)")


def _flag_edits(instr: Instruction, names: set[str]) -> list[Edit]:
    """`--from=Name` and `--mount=…,from=Name` of ``instr`` lower-cased."""
    out = []
    for flag in instr.flags:
        if flag.name not in ("from", "mount"):
            continue
        text = instr.logical[flag.logical_start : flag.logical_end]
        pattern = _FROM_FLAG if flag.name == "from" else _MOUNT_FROM
        for m in pattern.finditer(text):
            if m.group(1).lower() in names and not m.group(1).islower():
                s, e = instr.source_span(
                    flag.logical_start + m.start(1), flag.logical_start + m.end(1)
                )
                out.append(Edit(s, e, m.group(1).lower()))
    return out


@register
class StageNameCasing(Fixer):
    code = "DF517"
    severity = Severity.STYLE
    name = "stage-name-casing"
    summary = "A stage name with upper-case letters: BuildKit reads it in lower case"
    resolves = Resolves(buildkit=("StageNameCasing",))

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        names = {s.alias.lower() for s in doc.stages if s.alias and not s.alias.islower()}
        names.discard("")
        if not names:
            return
        for instr in doc.instructions:
            edits: list[Edit | None] = []
            if instr.keyword == "FROM":
                edits += [_word_edit(instr, 0, names), _word_edit(instr, 2, names)]
            if instr.keyword in ("COPY", "ADD", "RUN"):
                edits += _flag_edits(instr, names)
            found = [e for e in edits if e is not None]
            if found:
                yield self.finding(
                    instr,
                    "stage names are read in lower case: write them so",
                    Fix.safe(*found, description="stage name in lower case"),
                )
