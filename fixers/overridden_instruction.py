"""DF511 overridden-instruction: a stage with several CMD, ENTRYPOINT or HEALTHCHECK.

## What it does
Finds a `CMD`, `ENTRYPOINT` or `HEALTHCHECK` followed, in the same stage, by another
instruction of the same kind, and removes the earlier one: only the last one takes effect.

## Why is this bad
Each of these sets one field of the image's configuration, so a later one replaces the
earlier one entirely. The earlier line misleads a reader into thinking the container runs
it (a leftover after an edit, or a second command that was meant to run too and never
does). BuildKit warns about it (check `MultipleInstructionsDisallowed`).

## Example
```dockerfile
FROM node:20-bookworm-slim
COPY . .
CMD ["npm", "start"]
CMD ["node", "server.js"]
```
becomes, with `--unsafe-fixes`:
```dockerfile
FROM node:20-bookworm-slim
COPY . .
CMD ["node", "server.js"]
```

## Fix safety
**Unsafe**: the image's configuration stays the same (BuildKit keeps the last one; an
`ENTRYPOINT` resets the `CMD` only when the stage has set none, and the last `CMD` is kept
in both cases), but the image history loses the removed step, and the earlier line may be
the one the author meant: a reviewer should check which one is right. Comment lines
directly above the removed instruction are left in place, except the ignore pragmas
(`# hadolint ignore=…`, `# dockfix ignore=…`) written for it, which go with it: left
behind, they would silence the next instruction.

## Options
None.

## Resolves
hadolint DL4003 DL4004 DL3012 · Trivy DS-0016 · Checkov: none · BuildKit check
MultipleInstructionsDisallowed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from dockfix.core.fixer import Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._removals import delete_with_pragmas
from dockfix.semantics.context import FixContext
from dockfix.syntax import Dockerfile

_RULES = {"CMD": "DL4003", "ENTRYPOINT": "DL4004", "HEALTHCHECK": "DL3012"}


@register
class OverriddenInstruction(Fixer):
    code = "DF511"
    severity = Severity.WARNING
    name = "overridden-instruction"
    summary = "A CMD, ENTRYPOINT or HEALTHCHECK overridden later in its stage"
    resolves = Resolves(
        hadolint=("DL4003", "DL4004", "DL3012"),
        trivy=("DS-0016",),
        checkov=(),
        buildkit=("MultipleInstructionsDisallowed",),
    )
    keywords: ClassVar[tuple[str, ...]] = tuple(_RULES)

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for stage in doc.stages:
            last = {
                instr.keyword: instr
                for instr in stage.instructions
                if instr.keyword in self.keywords
            }
            for instr in stage.instructions:
                later = last.get(instr.keyword)
                if later is None or later is instr:
                    continue
                finding = self.finding(
                    instr,
                    f"{instr.keyword} is overridden by the {instr.keyword} on line "
                    f"{later.start_line}: only the last one takes effect",
                    Fix.unsafe(
                        delete_with_pragmas(doc, instr),
                        description=f"remove the overridden {instr.keyword}",
                    ),
                )
                finding.hadolint = (_RULES[instr.keyword],)
                yield finding
