"""DF308 whole-image-copy: `COPY --from=<image or stage> / …` copies a whole filesystem.

## What it does
Reports a `COPY --from` whose source is the root of the other image or stage (`/`, `/*`, `.`,
`/.`: `--from` sources are read from its root), into `/` or into a directory. The finding
names the paths actually needed where the file shows them: the paths under the destination
that the later instructions, the start command (`CMD`/`ENTRYPOINT`) and the stages built on
this one use, given as source paths to copy one by one; a start program named without a
path (looked up on `PATH`) is named as such.

Left alone: a copy into `/` of a `FROM scratch` stage (the image is made of that filesystem
on purpose, the "squash" idiom: nothing is there to overwrite), a copy from a stage that
is itself built `FROM scratch` (an export stage holds only what its own `COPY`s put there),
and a copy of an image made to be copied whole (`tonistiigi/xx`: a few cross-compilation
scripts, copied with `COPY --from=xx / /` as its documentation says).

## Why is this bad
Copied into `/`, the other image's files replace the base image's: `/etc/passwd` and
`/etc/group` (the users the base image's packages and `USER` rely on), the package database
(`/var/lib/dpkg`, `/lib/apk/db`: the next `apt-get`/`apk` sees packages that are not there,
image scanners report the wrong ones), `/etc/ssl` certificates, the C library and the shell:
the result runs with a mix of two distributions nobody tested. Into a directory, the image
carries a second operating system it does not use. Either way the copy hides what the image
needs, and every change of the other image changes this one.

## Example
```dockerfile
FROM golang:1.23 AS build
WORKDIR /src
COPY . .
RUN go build -o /usr/local/bin/api ./cmd/api

FROM debian:bookworm-slim
COPY --from=build / /
ENTRYPOINT ["/usr/local/bin/api"]
```
Use instead:
```dockerfile
FROM golang:1.23 AS build
WORKDIR /src
COPY . .
RUN go build -o /usr/local/bin/api ./cmd/api

FROM debian:bookworm-slim
COPY --from=build /usr/local/bin/api /usr/local/bin/api
ENTRYPOINT ["/usr/local/bin/api"]
```

## Fix safety
No fix (display-only): which files the program needs at run time (its shared libraries,
data and configuration files) is not in the Dockerfile, and copying less than before can
stop the image from starting. The finding names what the file shows is used; a person
decides the list.

## Options
None.

## Resolves
hadolint: none · Trivy: none · Checkov: none (no linter checks what a `COPY --from` copies).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from dockfix.core.fixer import Finding, Fixer, Resolves, Severity, register
from dockfix.fixers._image_paths import (
    copy_parts,
    image_workdir_at,
    is_scratch,
    start_command,
    tree_references,
)
from dockfix.registry.image_ref import ImageRef
from dockfix.semantics.context import FixContext
from dockfix.semantics.semantic import is_within, resolve_path, stage_named_by
from dockfix.syntax import Dockerfile, Instruction, Stage

_MAX_NAMED = 8
# Images made to be copied whole into another (`COPY --from=xx / /`, as their documentation
# says): scratch images holding a few helper scripts, no system files.
_COPIED_WHOLE = frozenset({"tonistiigi/xx"})
_ROOTS = frozenset({"/", "/.", ".", "./", "", "/*", "*"})  # `/*`: every top-level entry


@register
class WholeImageCopy(Fixer):
    code = "DF308"
    severity = Severity.WARNING
    name = "whole-image-copy"
    summary = "COPY --from copies the whole filesystem of an image or stage"
    resolves = Resolves()
    acts_on = frozenset({"COPY"})

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for stage in doc.stages:
            for instr in stage.instructions:
                if instr.keyword == "COPY":
                    found = self._whole_copy(doc, stage, instr)
                    if found is not None:
                        yield found

    def _whole_copy(self, doc: Dockerfile, stage: Stage, instr: Instruction) -> Finding | None:
        flag = instr.flag("from")
        if flag is None or not flag.value:
            return None
        parts = copy_parts(instr)
        if parts is None:
            return None
        if not any(src.strip() in _ROOTS for src in parts.sources):
            return None
        source = stage_named_by(doc, flag.value, stage)
        if source is not None and is_scratch(doc, source):
            return None  # an export stage: only what its own COPYs put there
        image = source.base if source is not None else flag.value
        if ImageRef.parse_loose(image).short_name in _COPIED_WHOLE:
            return None  # an image made to be copied whole: a few helper files, no system
        dest = resolve_path(parts.dest, image_workdir_at(doc, stage, instr))
        if dest == "/" and is_scratch(doc, stage):
            return None  # the squash idiom: nothing underneath to overwrite
        what = f"stage `{flag.value}`" if source is not None else f"`{flag.value}`"
        where = "into `/`" if dest == "/" else f"into `{dest or parts.dest}`"
        message = f"COPY copies the whole filesystem of {what} {where}"
        risk = (
            "it replaces the base image's /etc/passwd and /etc/group, its package database, "
            "certificates and libraries with the other image's"
            if dest == "/"
            else "the image carries the other image's whole filesystem"
        )
        return self.finding(instr, message, reason=f"{risk}; {_needed(doc, stage, instr, dest)}")


def _needed(doc: Dockerfile, stage: Stage, instr: Instruction, dest: str | None) -> str:
    """What to copy instead, as far as the file shows it."""
    named: list[str] = []
    if dest is not None:
        written = _written_after(doc, stage, instr)
        for path in tree_references(doc, stage, instr, dest, set()):
            if any(is_within(path, w) for w in written):
                continue  # a later COPY puts it there
            rel = posixpath.relpath(path, dest)
            named.append(f"`{'/' if rel == '.' else '/' + rel}`")
    programs = []
    for start in start_command(stage) if dest == "/" else ():
        if start is not None and start.json_args and "/" not in start.json_args[0]:
            programs.append(f"`{start.json_args[0]}` (found on PATH)")
    named = list(dict.fromkeys([*programs, *named]))
    if not named:
        return (
            "which files are needed cannot be told from the Dockerfile: copy the binaries and "
            "files the image runs, one COPY each"
        )
    more = f" and {len(named) - _MAX_NAMED} more" if len(named) > _MAX_NAMED else ""
    return (
        "copy only the paths the later instructions and the start command use there: "
        f"{', '.join(named[:_MAX_NAMED])}{more}"
    )


def _written_after(doc: Dockerfile, stage: Stage, instr: Instruction) -> list[str]:
    """The destinations of the stage's COPY/ADD after ``instr``."""
    out = []
    for later in stage.instructions[stage.instructions.index(instr) + 1 :]:
        parts = copy_parts(later) if later.keyword in ("COPY", "ADD") else None
        if parts is not None:
            path = resolve_path(parts.dest, image_workdir_at(doc, stage, later))
            if path is not None and path != "/":
                out.append(path)
    return out
