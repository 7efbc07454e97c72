"""DF512 redundant-target-platform: `FROM --platform=$TARGETPLATFORM`, which is the default.

## What it does
Removes `--platform=$TARGETPLATFORM` (also `${TARGETPLATFORM}`, quoted or not) from a
`FROM` line.

## Why is this bad
A stage is built for the target platform unless `--platform` says otherwise, so the flag
repeats the default. It is often copied from cross-compilation examples, where the useful
form is `--platform=$BUILDPLATFORM`, and makes a reader wonder which of the two was meant.
BuildKit warns about it (check `RedundantTargetPlatform`).

## Example
```dockerfile
FROM --platform=$TARGETPLATFORM python:3.12-slim AS app
RUN pip install --no-cache-dir fastapi
```
Use instead:
```dockerfile
FROM python:3.12-slim AS app
RUN pip install --no-cache-dir fastapi
```

## Fix safety
Safe: BuildKit resolves `$TARGETPLATFORM` to the platform the stage is built for without
the flag, so the same image is pulled and built. Only that exact value is removed; a
`--platform` naming another variable or a fixed platform is left alone.

## Options
None.

## Resolves
hadolint DL3065 · BuildKit check RedundantTargetPlatform · Trivy: none · Checkov: none.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.core.fixer import Edit, Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.semantics.context import FixContext
from dockfix.syntax import Dockerfile

_REDUNDANT = frozenset({"$TARGETPLATFORM", "${TARGETPLATFORM}"})


@register
class RedundantTargetPlatform(Fixer):
    code = "DF512"
    mentions = ("platform",)
    severity = Severity.STYLE
    name = "redundant-target-platform"
    summary = "FROM --platform=$TARGETPLATFORM repeats the default platform"
    resolves = Resolves(
        hadolint=("DL3065",), trivy=(), checkov=(), buildkit=("RedundantTargetPlatform",)
    )

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for instr in doc.instructions:
            if instr.keyword != "FROM":
                continue
            for flag in instr.flags:
                if flag.name != "platform" or (flag.value or "").strip("\"'") not in _REDUNDANT:
                    continue
                # the flag and the blanks after it, up to the next word
                rest = instr.logical[flag.logical_end :]
                end = flag.logical_end + len(rest) - len(rest.lstrip(" \t"))
                start = instr.to_source(flag.logical_start)
                stop = instr.to_source(end) if end < len(instr.logical) else instr.end
                if any(start <= c.start < stop for c in instr.comments):
                    continue  # a comment line inside the FROM would go with it
                yield self.finding(
                    instr,
                    f"`--platform={flag.value}` is the default platform of a stage",
                    Fix.safe(Edit.delete(start, stop), description="remove `--platform`"),
                )
