"""DF509 keyword-casing: instruction keywords (and `FROM … AS`) in mixed letter case.

## What it does
Writes every instruction keyword in the case most of the file's keywords use (upper case
when there is no majority), including ONBUILD's instruction, and the `AS` of a `FROM … AS
name` in the same case as its `FROM`.

## Why is this bad
Keywords are case-insensitive, so nothing breaks, but a file that mixes `RUN` and `run` or
writes `FROM image as build` reads as if written by several hands and makes searches miss
lines. BuildKit warns about both (checks `ConsistentInstructionCasing` and `FromAsCasing`).

## Example
```dockerfile
FROM golang:1.22 as build
RUN go build -o /out/app .
from gcr.io/distroless/static-debian12
Copy --from=build /out/app /app
```
Use instead:
```dockerfile
FROM golang:1.22 AS build
RUN go build -o /out/app .
FROM gcr.io/distroless/static-debian12
COPY --from=build /out/app /app
```

## Fix safety
Safe: BuildKit reads keywords and `AS` in any case; only their letters change. Stage names,
arguments and comments are left as written.

## Options
None.

## Resolves
BuildKit checks ConsistentInstructionCasing, FromAsCasing · hadolint: none · Trivy: none ·
Checkov: none.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.core.fixer import Edit, Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.semantics.context import FixContext
from dockfix.syntax import Dockerfile, Instruction


def _cased(word: str, upper: bool) -> str:
    return word.upper() if upper else word.lower()


def _keyword_edit(instr: Instruction, upper: bool) -> Edit | None:
    raw = instr.keyword_raw
    if not raw or raw == _cased(raw, upper):
        return None
    start = instr.to_source(instr.keyword_start)
    return Edit(start, start + len(raw), _cased(raw, upper))


def _as_edit(instr: Instruction, upper: bool) -> Edit | None:
    words = instr.args_words()
    if len(words) < 3 or words[1][0].lower() != "as" or words[1][0] == _cased("as", upper):
        return None
    start, end = instr.source_span(words[1][1], words[1][2])
    return Edit(start, end, _cased("as", upper))


@register
class KeywordCasing(Fixer):
    code = "DF509"
    severity = Severity.STYLE
    name = "keyword-casing"
    summary = "Instruction keywords in mixed case: the file's majority case"
    resolves = Resolves(buildkit=("ConsistentInstructionCasing", "FromAsCasing"))

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        lower = sum(1 for i in doc.instructions if i.keyword_raw.islower())
        upper_count = sum(1 for i in doc.instructions if i.keyword_raw.isupper())
        upper = lower <= upper_count  # BuildKit's majority; a tie is upper case
        case = "upper" if upper else "lower"
        for instr in doc.instructions:
            edits = [_keyword_edit(instr, upper)]
            if instr.trigger is not None:
                edits.append(_keyword_edit(instr.trigger, upper))
            if instr.keyword == "FROM":
                edits.append(_as_edit(instr, upper))
            found = [e for e in edits if e is not None]
            if not found:
                continue
            message = f"`{instr.keyword_raw}`: keywords of this file are {case} case"
            checks: tuple[str, ...] = ("ConsistentInstructionCasing", "FromAsCasing")
            if edits[0] is None and instr.trigger is None:
                checks = ("FromAsCasing",)
                message = f"`FROM … {instr.args_words()[1][0]}`: write `AS` as `FROM` is written"
            elif len(found) == 1:
                checks = ("ConsistentInstructionCasing",)
            finding = self.finding(
                instr, message, Fix.safe(*found, description=f"keywords in {case} case")
            )
            finding.buildkit = checks
            yield finding
