"""DF303 non-distroless-runtime: a full distro under a runtime stage that only runs a binary.

## What it does
Finds a final stage based on `debian`, `ubuntu` or `alpine` that only copies a Go or Rust
binary from a build stage and runs it: nothing in it needs the distro (its `RUN`s at most
install `ca-certificates`/`tzdata` or create a user, which the distroless images already
have). It points to the matching distroless base and to its `:debug-nonroot` variant (with a
busybox shell) for live debugging:

- `gcr.io/distroless/static-debian13:nonroot` for a static binary (Go with
  `CGO_ENABLED=0`, Rust built for a `*-musl` target);
- `gcr.io/distroless/base-debian13:nonroot` for Go with cgo (glibc);
- `gcr.io/distroless/cc-debian13:nonroot` for Rust (glibc, libgcc).

The `-debian12` variants are named instead when the build stage's tag says `bookworm`: a
glibc-linked binary needs a glibc at least as new as its builder's.

The finding is display-only: it never changes the file.

## Why is this bad
A distro base brings a shell, a package manager and dozens of packages the binary never
uses: more megabytes to pull, and more CVEs for scanners to report and people to triage. The
distroless images hold only what such a binary needs (libc where it links one, CA
certificates, time zones, `/etc/passwd` with a `nonroot` user).

## Example
```dockerfile
FROM golang:1.22 AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -o /out/server ./cmd/server

FROM alpine:3.19
RUN apk add --no-cache ca-certificates
COPY --from=build /out/server /usr/local/bin/server
ENTRYPOINT ["server"]
```
Use instead:
```dockerfile
FROM gcr.io/distroless/static-debian13:nonroot
COPY --from=build /out/server /usr/local/bin/server
ENTRYPOINT ["server"]
```

## Fix safety
No fix (display-only): the switch removes the shell and the package manager people may
`docker exec` into, and changes the user and the files of the image; whether anything
relies on them is not visible in the Dockerfile. Not reported when the stage needs its
distro: other `RUN`s, a shell-form `CMD`/`ENTRYPOINT`, a `HEALTHCHECK` that runs a
command, `SHELL`/`ONBUILD`, a binary linked against musl (built on Alpine with cgo or for
Alpine's native target), or a start command that does not run the copied binary. Windows
builds are not analysed.

## Options
None.

## Resolves
hadolint: none · Trivy: none · Checkov: none.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import TYPE_CHECKING

from dockfix.core.fixer import Finding, Fixer, Resolves, Severity, register
from dockfix.fixers._build_artifacts import (
    analyse_stage,
    distroless_image,
)
from dockfix.fixers._build_steps import (
    Artifact,
    run_steps,
)
from dockfix.fixers._image_paths import (
    DISTROLESS_PATH,
    base_image,
    copy_parts,
    image_workdir_at,
    start_command,
)
from dockfix.semantics.semantic import (
    resolve_path,
)

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext
    from dockfix.syntax import Dockerfile, Instruction, Stage

_DISTROS = frozenset({"debian", "ubuntu", "alpine"})
_HARMLESS_PACKAGES = frozenset({"ca-certificates", "tzdata"})
_USER_TOOLS = frozenset({"adduser", "addgroup", "useradd", "groupadd", "update-ca-certificates"})
# Files of a build stage that every distroless image already has.
_SYSTEM_FILES = ("/etc/ssl/certs", "/usr/share/zoneinfo", "/etc/passwd", "/etc/group")
_METADATA = frozenset(
    {
        "EXPOSE",
        "ENV",
        "LABEL",
        "WORKDIR",
        "ARG",
        "STOPSIGNAL",
        "VOLUME",
        "USER",
        "CMD",
        "ENTRYPOINT",
        "MAINTAINER",
        "COPY",
        "ADD",
        "RUN",
        "HEALTHCHECK",
    }
)


@register
class NonDistrolessRuntime(Fixer):
    code = "DF303"
    severity = Severity.INFO
    name = "non-distroless-runtime"
    summary = "A runtime stage that only runs a binary is based on a full distro"
    resolves = Resolves()

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        stage = doc.final_stage
        if stage is None or stage.parent is not None:
            return
        base = base_image(doc, stage)
        if base is None or not base.is_official or base.name not in _DISTROS:
            return
        binary = self._only_binary(doc, stage, ctx)
        if binary is None:
            return
        art, path = binary
        if art.musl and not art.static:
            return  # needs musl: no distroless image has it
        kind = "static" if art.static else "glibc-linked"
        lang = "Go" if art.ecosystem == "go" else "Rust"
        builder = art.run.stage
        image = distroless_image(art, base_image(doc, builder) if builder is not None else None)
        yield self.finding(
            stage.from_instruction,
            f"the runtime stage only runs the {kind} {lang} binary `{path}` on "
            f"`{base.reference}`; `{image}:nonroot` carries just what it needs",
            reason=(
                f"switching the base removes the shell and package manager and changes the "
                f"user; use `{image}:nonroot` (or `{image}:debug-nonroot`, which adds a busybox "
                "shell, for live debugging)"
            ),
        )

    def _only_binary(
        self, doc: Dockerfile, stage: Stage, ctx: FixContext
    ) -> tuple[Artifact, str] | None:
        """The one build artifact the stage copies and runs, when it does nothing else.

        Every condition must hold: they are checked cheapest first (the RUNs' commands last)."""
        for i in stage.instructions:
            if i.keyword not in _METADATA:
                return None
            if i.keyword == "HEALTHCHECK" and i.args.upper().split()[:1] != ["NONE"]:
                return None
        entry, cmd = start_command(stage)
        argv = None
        if entry is not None:
            argv = entry.json_args
        elif cmd is not None:
            argv = cmd.json_args
        if not argv:
            return None  # shell form needs /bin/sh; no command runs nothing
        binaries: list[tuple[Artifact, str]] = []
        for i in stage.instructions:
            if i.keyword == "COPY" and i.flag("from") is not None:
                copied = self._copied_binary(doc, stage, i, ctx)
                if copied is None:
                    return None
                if isinstance(copied, tuple):
                    binaries.append(copied)
        if len(binaries) != 1:
            return None
        art, dest = binaries[0]
        program = argv[0]
        if "/" in program:
            if resolve_path(program, image_workdir_at(doc, stage, None)) != dest:
                return None
        elif posixpath.basename(dest) != program or posixpath.dirname(dest) not in DISTROLESS_PATH:
            return None
        for i in stage.instructions:
            if i.keyword == "RUN" and not self._harmless_run(doc, stage, i):
                return None
        return art, dest

    def _copied_binary(
        self, doc: Dockerfile, stage: Stage, instr: Instruction, ctx: FixContext
    ) -> tuple[Artifact, str] | bool | None:
        """(artifact, image path) for a COPY of a build artifact; True for a COPY of system
        files every distroless image has; None for anything else."""
        flag = instr.flag("from")
        assert flag is not None
        source_stage = doc.stage_named(flag.value or "")
        parts = copy_parts(instr)
        if source_stage is None or parts is None or not parts.plain or len(parts.sources) != 1:
            return None
        src = resolve_path(parts.sources[0], "/")
        if src is None:
            return None
        if any(src == f or src.startswith(f + "/") for f in _SYSTEM_FILES):
            return True
        build = analyse_stage(doc, source_stage, ctx)
        for art in build.artifacts:
            if src in art.locations:
                dest = resolve_path(parts.dest, image_workdir_at(doc, stage, instr))
                if dest is None:
                    return None
                if parts.dest.endswith("/"):
                    dest = posixpath.join(dest, posixpath.basename(src))
                return art, dest
        return None

    def _harmless_run(self, doc: Dockerfile, stage: Stage, instr: Instruction) -> bool:
        """Whether a RUN only does what distroless images already provide."""
        if instr.flags:
            return False
        cmds = run_steps(doc, stage, instr)
        if cmds is None:
            return False
        for c in cmds:
            words = [w for w in c.argv if w is not None]
            if len(words) != len(c.argv) or not words:
                return False
            prog = posixpath.basename(words[0])
            args = [w for w in words[1:] if not w.startswith("-")]
            if prog in _USER_TOOLS:
                continue
            if prog == "apk" and args[:1] in (["add"], ["update"]):
                if not set(args[1:]) <= _HARMLESS_PACKAGES:
                    return False
                continue
            if prog in ("apt-get", "apt") and args[:1] in (["update"], ["install"], ["clean"]):
                if args[:1] == ["install"] and not set(args[1:]) <= _HARMLESS_PACKAGES:
                    return False
                continue
            cleanup = ("/var/lib/apt/lists", "/var/cache/")
            if prog == "rm" and all(a.startswith(cleanup) for a in args):
                continue
            return False
        return True
