"""DF521 duplicate-stage-name: two stages with the same name.

## What it does
Reports a `FROM … AS name` whose name (read in lower case, as BuildKit reads stage names) an
earlier stage already has, naming the line of that stage and the references that use the
name (`FROM name`, `COPY --from=name`, `RUN --mount=…,from=name`).

## Why is this bad
A stage name says which stage a `--from=` or a `FROM` means, and `docker build --target`
which one to build. With two stages of one name, the reader cannot tell which one a
reference means, and a reference or a `--target` may build another stage than the one its
author had in mind; the usual cause is a stage copied and not renamed. BuildKit warns about
it (check `DuplicateStageName`).

## Example
```dockerfile
FROM node:20-alpine AS build
RUN npm ci && npm run build

FROM golang:1.22 AS build
RUN go build -o /out/api ./cmd/api
```
Use instead:
```dockerfile
FROM node:20-alpine AS web-build
RUN npm ci && npm run build

FROM golang:1.22 AS api-build
RUN go build -o /out/api ./cmd/api
```

## Fix safety
No fix (display-only): which stage each reference meant, and the new name, are for a person
to decide; renaming the wrong one changes what is built.

## Options
None.

## Resolves
BuildKit check DuplicateStageName · hadolint DL3024 (which compares names as written:
`build` and `Build` are one name to BuildKit, two to hadolint) · Trivy: none · Checkov: none.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.core.fixer import Finding, Fixer, Resolves, Severity, register
from dockfix.semantics.context import FixContext
from dockfix.syntax import Dockerfile, Stage


@register
class DuplicateStageName(Fixer):
    code = "DF521"
    severity = Severity.ERROR
    name = "duplicate-stage-name"
    summary = "Two stages have the same name"
    resolves = Resolves(hadolint=("DL3024",), buildkit=("DuplicateStageName",))
    acts_on = frozenset({"FROM"})

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        first: dict[str, Stage] = {}
        for stage in doc.stages:
            if stage.name is None:
                continue
            earlier = first.setdefault(stage.name, stage)
            if earlier is stage:
                continue
            finding = self.finding(
                stage.from_instruction,
                f"stage name `{stage.alias}` is also the name of the stage of line "
                f"{earlier.from_instruction.start_line}",
                reason=(
                    "which stage each `FROM`, `--from=` and `--target` using the name means, "
                    "and the new name, are for a person to decide"
                ),
            )
            # hadolint compares the names as written
            same = any(s.alias == stage.alias for s in doc.stages[: stage.index])
            finding.hadolint = ("DL3024",) if same else ()
            yield finding
