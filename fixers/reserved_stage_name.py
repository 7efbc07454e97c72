"""DF522 reserved-stage-name: a stage named `scratch` or `context`.

## What it does
Reports a `FROM … AS scratch` or `FROM … AS context` (in any case): names BuildKit reserves.

## Why is this bad
`scratch` names the empty image (`FROM scratch`) and `context` the build context (a named
context passed with `--build-context`, `COPY --from=context`). A stage with one of these names
makes every `FROM scratch` or `--from=context` after it ambiguous to a reader, and which one
BuildKit uses differs from what the line says at first sight. BuildKit warns about it (check
`ReservedStageName`).

## Example
```dockerfile
FROM alpine:3.20 AS scratch
RUN apk add --no-cache ca-certificates

FROM scratch
COPY --from=scratch /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
```
Use instead:
```dockerfile
FROM alpine:3.20 AS certs
RUN apk add --no-cache ca-certificates

FROM scratch
COPY --from=certs /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
```

## Fix safety
No fix (display-only): renaming the stage means deciding, for each `FROM scratch` and
`--from=` that uses the name, whether it meant the stage or the reserved meaning; a person
should do it.

## Options
None.

## Resolves
BuildKit check ReservedStageName · hadolint DL3063 (for names written in lower case only)
· Trivy: none · Checkov: none.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.core.fixer import Finding, Fixer, Resolves, Severity, register
from dockfix.semantics.context import FixContext
from dockfix.syntax import Dockerfile

_RESERVED = {
    "scratch": "`FROM scratch` names the empty image",
    "context": "`context` names the build context (`--build-context`, `--from=context`)",
}


@register
class ReservedStageName(Fixer):
    code = "DF522"
    severity = Severity.WARNING
    name = "reserved-stage-name"
    summary = "A stage named scratch or context, names BuildKit reserves"
    resolves = Resolves(hadolint=("DL3063",), buildkit=("ReservedStageName",))
    acts_on = frozenset({"FROM"})

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for stage in doc.stages:
            meaning = _RESERVED.get(stage.name or "")
            if meaning is None:
                continue
            finding = self.finding(
                stage.from_instruction,
                f"stage name `{stage.alias}` is reserved: {meaning}",
                reason=(
                    "renaming it means deciding, for each reference to the name, whether it "
                    "meant the stage or the reserved meaning"
                ),
            )
            finding.hadolint = ("DL3063",) if stage.alias == stage.name else ()
            yield finding
