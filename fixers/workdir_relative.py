"""DF507 workdir-relative: a relative `WORKDIR`, whose meaning depends on the one before.

## What it does
Rewrites a relative `WORKDIR app` as the absolute path it resolves to (`WORKDIR /app`),
from the working directory in effect: the stage's earlier `WORKDIR`s, the stages it is
built `FROM`, and the working directory of well-known base images (`/` for `debian`,
`python`, `node` …, `/go` for `golang`).

## Why is this bad
A relative `WORKDIR` is joined to whatever directory the base image set: the same
Dockerfile lands in another folder when the base image changes its `WORKDIR` (as `golang`
does with `/go`), and a reader cannot tell where files go without knowing the base image.
BuildKit warns about it (check `WorkdirRelativePath`).

## Example
```dockerfile
FROM python:3.12-slim
WORKDIR app
COPY . .
```
Use instead:
```dockerfile
FROM python:3.12-slim
WORKDIR /app
COPY . .
```

## Fix safety
Safe: the path written is the one BuildKit resolves the relative path to, so the directory
and everything relative to it stay the same. **Unsafe** when that path starts from the
WORKDIR of a base image an ARG names (`FROM ${BASE}`, read at its default): a build passing
another `--build-arg BASE=…` would start elsewhere.

Display-only when the directory before it is not known (a base image this tool does not
know, which may set its own `WORKDIR`, or an earlier `WORKDIR` with variables), and when
the path holds variables, quotes or the escape character. A path that starts with a variable,
quoted or not (`WORKDIR $APP_HOME`, Jupyter's `WORKDIR "${HOME}"`), is not reported: it is as
absolute as the variable, which the base image may set. Windows stages are left alone.

## Options
None.

## Resolves
hadolint DL3000 · Trivy DS-0009 · Checkov CKV_DOCKER_10 · BuildKit check WorkdirRelativePath.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from dockfix.core.fixer import Edit, Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._cmdline import windows_hint
from dockfix.fixers._from_args import base_chosen_by_arg
from dockfix.fixers._image_paths import image_workdir_at
from dockfix.semantics.context import FixContext
from dockfix.semantics.semantic import resolve_path, workdir_at
from dockfix.syntax import Dockerfile

# A path the shell-word processing of WORKDIR reads as written.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_./@+,:=-]+")


@register
class WorkdirRelative(Fixer):
    code = "DF507"
    severity = Severity.WARNING
    name = "workdir-relative"
    summary = "A relative WORKDIR depends on the base image's: write the absolute path"
    resolves = Resolves(
        hadolint=("DL3000",),
        trivy=("DS-0009",),
        checkov=("CKV_DOCKER_10",),
        buildkit=("WorkdirRelativePath",),
    )

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for instr in doc.instructions:
            if instr.keyword != "WORKDIR" or instr.stage is None or instr.flags:
                continue
            path = instr.args.strip()
            if (
                not path
                or path.startswith(("/", "$", '"/', "'/", '"$'))
                or windows_hint(doc, instr.stage)
            ):
                continue
            message = f"relative WORKDIR `{path}`: its place depends on the directory before"
            if not _PLAIN_PATH.fullmatch(path) or doc.escape in path:
                yield self.finding(instr, message, reason="the path holds quotes or variables")
                continue
            target = resolve_path(path, image_workdir_at(doc, instr.stage, instr))
            if target is None:
                yield self.finding(
                    instr, message, reason="the working directory before it is not known"
                )
                continue
            start, end = instr.source_span(instr.args_start, instr.args_start + len(path))
            edit = Edit(start, end, target)
            variable = base_chosen_by_arg(doc, instr.stage)
            if variable and workdir_at(doc, instr.stage, instr, None) is None:
                fix = Fix.unsafe(
                    edit,
                    description=f"`{target}`, in the default image of ARG {variable}",
                    rationale=(
                        f"`{target}` starts from the WORKDIR of ARG {variable}'s default image; "
                        f"a build given another `--build-arg {variable}` starts where that "
                        "image's WORKDIR is."
                    ),
                )
            else:
                fix = Fix.safe(edit, description=f"`{target}`")
            yield self.finding(instr, message, fix)
