"""DF519 undefined-arg-in-from: a FROM line names a variable no global ARG declares.

## What it does
Reports a variable in a `FROM` line (its image or its `--platform`) that is neither declared
by an `ARG` before the first `FROM` (a global ARG) nor one of the platform arguments BuildKit
defines in the global scope (`BUILDPLATFORM`, `TARGETARCH` …). An `ARG` inside a stage does
not count: FROM lines see global ARGs only.

## Why is this bad
A FROM line expands variables from the global ARGs only. An undeclared name is empty, and
`--build-arg NAME=…` does not reach it either (the build warns that the argument was not
consumed): `FROM node:${NODE_VERSION}-alpine` with `ARG NODE_VERSION=20` written inside the
stage pulls `node:-alpine` and fails, or, with `${NAME:-default}`, always uses the default.
BuildKit warns about it (check `UndefinedArgInFrom`).

## Example
```dockerfile
FROM python:${PYTHON_VERSION:-3.12}-slim
RUN pip install --no-cache-dir uvicorn
```
Use instead:
```dockerfile
ARG PYTHON_VERSION
FROM python:${PYTHON_VERSION:-3.12}-slim
RUN pip install --no-cache-dir uvicorn
```

## Fix safety
**Unsafe**: `ARG NAME` (without a value) is inserted above the first `FROM`, where the
reference stays valid with the variable empty (a `${NAME:-default}`, an optional suffix). A
build without `--build-arg` reads the same image; one that passes `--build-arg NAME=…`, which
was ignored, now uses it. No fix (display-only) where the empty value makes the reference
invalid (`FROM alpine:$TAG`): the default to declare (a tag that exists) is a choice dockfix
cannot make; likewise where an empty `--platform=` would be read, which BuildKit rejects. The
reason names the stage's own `ARG NAME=default` when it has one (the value the author most
likely meant, declared where the FROM line does not see it).

## Options
None.

## Resolves
BuildKit check UndefinedArgInFrom · hadolint: none · Trivy: none · Checkov: none.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.core.edits import insert_before, keyword_style
from dockfix.core.fixer import Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._from_args import (
    from_variables,
    platform_problem,
    reference_problem,
    stage_default,
)
from dockfix.semantics.context import FixContext
from dockfix.semantics.semantic import PLATFORM_ARGS
from dockfix.syntax import Dockerfile


@register
class UndefinedArgInFrom(Fixer):
    code = "DF519"
    mentions = ("$",)
    severity = Severity.WARNING
    name = "undefined-arg-in-from"
    summary = "A FROM line names a variable no global ARG declares"
    resolves = Resolves(buildkit=("UndefinedArgInFrom",))
    acts_on = frozenset({"FROM"})

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        declared: set[str] = set()  # names this fixer declares
        for stage in doc.stages:
            undeclared = frozenset(
                n
                for n in from_variables(doc, stage)
                if n not in doc.global_args and n not in PLATFORM_ARGS
            )
            for name in sorted(undeclared):
                message = f"`${name}` in FROM: no ARG before the first FROM declares it"
                problem = reference_problem(doc, stage, undeclared) or platform_problem(
                    doc, stage, undeclared
                )
                if problem is not None:
                    read, why = problem
                    yield self.finding(
                        stage.from_instruction,
                        message,
                        reason=(
                            f"without a value it reads `{read}`, {why}: declare it before the "
                            f"first FROM with a default (`ARG {name}=…`), which dockfix cannot "
                            f"choose{stage_default(stage, name)}"
                        ),
                    )
                    continue
                if name in declared:
                    yield self.finding(
                        stage.from_instruction,
                        message,
                        reason="the fix of its first use declares it",
                    )
                    continue
                declared.add(name)
                line = f"{keyword_style(doc, 'ARG')} {name}"
                yield self.finding(
                    stage.from_instruction,
                    f"{message}; it is unset here and `--build-arg {name}=…` does not reach it",
                    Fix.unsafe(
                        insert_before(doc, doc.stages[0].from_instruction, [line]),
                        description=f"declare `{line}` before the first FROM",
                        rationale=(
                            "FROM lines read global ARGs only: declared, the variable takes "
                            "the value `--build-arg` gives it (empty without one, as before)."
                        ),
                    ),
                )
