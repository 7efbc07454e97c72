"""DF516 empty-continuation: blank lines inside an instruction continued with `\\`.

## What it does
Removes the empty (or whitespace-only) lines that sit between the continued lines of one
instruction, as in a long `RUN` whose steps were separated by blank lines.

## Why is this bad
BuildKit skips such lines today and warns that they are deprecated (check
`NoEmptyContinuation`): a future Dockerfile syntax will end the instruction at the blank
line, so the lines after it would become instructions of their own and the build fails.
They also look as if the instruction ended there, when it goes on.

## Example
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update && \\

    apt-get install -y --no-install-recommends curl
```
Use instead:
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update && \\
    apt-get install -y --no-install-recommends curl
```

## Fix safety
Safe: BuildKit drops these lines when it joins the instruction, so the instruction it reads
is the same. Comment lines inside the continuation are kept, and heredoc bodies are never
touched.

## Options
None.

## Resolves
BuildKit check NoEmptyContinuation · hadolint: none · Trivy: none · Checkov: none.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.core.fixer import Edit, Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.semantics.context import FixContext
from dockfix.syntax import Dockerfile

# Go's unicode.IsSpace: what BuildKit counts as an empty line.
_GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


@register
class EmptyContinuation(Fixer):
    code = "DF516"
    severity = Severity.WARNING
    name = "empty-continuation"
    summary = "Blank lines inside a continued instruction, where a future syntax ends it"
    resolves = Resolves(buildkit=("NoEmptyContinuation",))

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for instr in doc.instructions:
            blank = [
                doc.line(n)
                for n in range(instr.start_line + 1, instr.header_end_line + 1)
                if not doc.line_text(n).strip(_GO_SPACE)
            ]
            if not blank:
                continue
            edits = [Edit.delete(ln.start, ln.next) for ln in blank]
            yield self.finding(
                instr,
                f"{len(blank)} empty line(s) inside the continued {instr.keyword}",
                Fix.safe(*edits, description="remove the empty lines"),
            )
