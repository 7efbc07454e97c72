"""DF520 invalid-default-arg-in-from: without `--build-arg`, a FROM line names no valid image.

## What it does
Reports a `FROM` line whose image reference, with the global ARGs at their defaults (an `ARG`
without a value is empty), is empty or not a valid reference: `ARG TAG` then `FROM
alpine:$TAG` reads `alpine:`. The message names the ARGs without a default and what the line
reads. References that name an earlier stage, `scratch`, or depend on a platform argument
are left alone, as are undeclared variables (DF519's).

## Why is this bad
The file builds only when every build passes the right `--build-arg`: a plain `docker
build .`, an IDE or a CI job that does not know about the argument fails with a reference
error, before anything is built. A default keeps the file buildable as it is. BuildKit warns
about it (check `InvalidDefaultArgInFrom`).

## Example
```dockerfile
ARG TAG
FROM alpine:$TAG
```
Use instead:
```dockerfile
ARG TAG=3.20
FROM alpine:$TAG
```

## Fix safety
No fix (display-only): the default is a choice (a tag that exists, the base image the team
builds on) that dockfix cannot make; `${TAG:-3.20}` in the FROM line or `ARG TAG=3.20` both
keep `--build-arg TAG=…` working.

## Options
None.

## Resolves
BuildKit check InvalidDefaultArgInFrom · hadolint: none · Trivy: none · Checkov: none.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.core.fixer import Finding, Fixer, Resolves, Severity, register
from dockfix.fixers._from_args import from_variables, reference_problem
from dockfix.semantics.context import FixContext
from dockfix.syntax import Dockerfile


@register
class InvalidDefaultArgInFrom(Fixer):
    code = "DF520"
    mentions = ("$",)
    severity = Severity.WARNING
    name = "invalid-default-arg-in-from"
    summary = "Without --build-arg, a FROM line names no valid image"
    resolves = Resolves(buildkit=("InvalidDefaultArgInFrom",))
    acts_on = frozenset({"FROM"})

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for stage in doc.stages:
            names = from_variables(doc, stage)
            if not names or any(n not in doc.global_args for n in names):
                continue  # none, or an undeclared one (DF519) or a platform argument
            problem = reference_problem(doc, stage)
            if problem is None:
                continue
            read, why = problem
            unset = [n for n in names if doc.global_args.get(n) is None]
            args = ", ".join(f"`ARG {n}`" for n in unset) or "the global ARGs"
            yield self.finding(
                stage.from_instruction,
                f"without --build-arg this FROM reads `{read}`, {why}",
                reason=(
                    f"{args} has no default: give one (a tag that exists, the base image the "
                    "team builds on), a choice dockfix cannot make"
                ),
            )
