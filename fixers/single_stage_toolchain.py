"""DF302 single-stage-toolchain: the image that runs the service is the image that built it.

## What it does
Finds a final stage based on a Go or Rust toolchain image (`golang`, `rust`) that both
builds the service (`go build`, `cargo build`) and runs it (`CMD`/`ENTRYPOINT`).

It offers the split into a build stage and a runtime stage that copies the one
binary the start command runs:

- the `FROM` gets a stage name (`AS build`) when it has none;
- a new stage starts right after the build's `RUN`: `gcr.io/distroless/static-debian13:nonroot`
  for Go built with `CGO_ENABLED=0` (and Rust built for a `*-musl` target),
  `gcr.io/distroless/base-debian13:nonroot` for Go with cgo,
  `gcr.io/distroless/cc-debian13:nonroot` for Rust. The Debian release is the builder's when
  its tag names one (`bookworm` → `-debian12`), else the newest, because a glibc-linked
  binary needs a glibc at least as new as the one it was built against;
- it gets the working directory the service ran in (`WORKDIR`; `/go` in a `golang` stage
  without one), copies of the runtime settings written before the build (`ENV`, `EXPOSE`,
  `LABEL`, `STOPSIGNAL`, `VOLUME`, `CMD`, `ENTRYPOINT`, numeric `USER`, and the `ARG`s that
  later instructions use), and `COPY --from=build <binary> <binary>` (same path, so `CMD` needs
  no edit; a binary run by name from a directory that is not on distroless's `PATH` goes to
  `/usr/local/bin`);
- everything after the build (`EXPOSE`, `ENV`, `CMD`, `COPY` of runtime files, …) now belongs
  to the runtime stage without being moved.

Node, Java and .NET services are split by DF305, DF306 and DF307.

The `:nonroot` images run as uid 65532 by default, so the runtime stage needs no `USER`
line (DF201 treats a `:nonroot` distroless base as non-root).

## Why is this bad
A toolchain image is large (the Rust image is over 1 GB, `golang` around 800 MB) and ships
compilers, package managers, a shell and the sources: slower pulls and cold starts, and many
more packages with CVEs. The service needs only its binary: a distroless runtime stage makes
the image tens of megabytes.

## Example
```dockerfile
FROM golang:1.22
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -o /out/server ./cmd/server
EXPOSE 8080
CMD ["/out/server"]
```
Use instead:
```dockerfile
FROM golang:1.22 AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -o /out/server ./cmd/server

FROM gcr.io/distroless/static-debian13:nonroot
WORKDIR /src
COPY --from=build /out/server /out/server
EXPOSE 8080
CMD ["/out/server"]
```

## Fix safety
Always unsafe: the service then runs without a shell, as uid 65532 instead of root, without
the sources and tools of the build image, and on a Debian release that may differ from the
builder's (a builder newer than the runtime's Debian would make a glibc-linked binary fail to
start; a builder tag naming its codename, e.g. `rust:1.85-bookworm`, gets the matching
variant).

Display-only when the rewrite cannot be known to work: a `RUN` after the build (distroless
has no shell to run it), a shell-form `CMD`/`ENTRYPOINT`/`HEALTHCHECK`, a start command that
does not run the built binary (`go run`, a script) or passes files of the build stage, a
`USER` or `--chown` naming a user created in the build stage, runtime files the build stage
holds (`templates/`, `static/`, `migrations/`, `config/`, `.env`, or files copied outside the
source tree) or may hold (no build context on disk to check), `ENV`/`LABEL` values that use build variables, a binary linked against musl or
against libraries installed with `apt-get install lib…-dev`, a Rust crate of `Cargo.lock` that
links a library of the full `rust` image (`pq-sys`, `mysqlclient-sys`, `libsqlite3-sys` without
`bundled`, `curl-sys`), a `VOLUME` (the `:nonroot` user cannot write in it), a privileged
port (< 1024)
served as root, `SHELL` or `ONBUILD` in the stage. Files named `Dockerfile.dev`,
`*.dev.Dockerfile` or under `.devcontainer/` are development images and are not reported;
neither are Windows images (nor files using the backtick escape).

## Options
None.

## Resolves
hadolint: none · Trivy: none · Checkov: none.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from dockfix.core.fixer import Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._build_artifacts import (
    analyse_stage,
    distroless_image,
)
from dockfix.fixers._build_steps import (
    Artifact,
    run_steps,
)
from dockfix.fixers._cmdline import display_finding
from dockfix.fixers._context_files import ContextFiles
from dockfix.fixers._dev_images import is_dev_file
from dockfix.fixers._image_paths import (
    DISTROLESS_PATH,
    TOOLCHAIN_PATH,
    BaseImage,
    base_image,
    copied_into,
    image_workdir_at,
    runtime_assets,
    start_command,
)
from dockfix.fixers._runtime_stage import (
    SPLIT_IMAGE_CHANGES,
    carried_variable_problem,
    split_stage,
    variables_from_image,
)
from dockfix.fixers._stage_distroless import (
    copy_dest,
    healthcheck_problem,
    port_problem,
    shell_problem,
    start_files_problem,
    user_problem,
    volume_problem,
)
from dockfix.fixers._stage_split_native import linked_library_problem
from dockfix.semantics.semantic import (
    is_within,
    resolve_path,
)

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext
    from dockfix.syntax import Dockerfile, Instruction, Stage

# Toolchain images by the last component of their repository. Node, Java and .NET builds
# have their own rules (DF305, DF306, DF307): what they run is not one binary.
_ECOSYSTEMS = {"golang": "go", "rust": "cargo"}
# Debian `-dev` packages whose runtime library distroless base/cc already ship.
_PROVIDED_DEV = frozenset({"libssl-dev", "libc6-dev", "libgcc-12-dev", "libstdc++-12-dev"})


@register
class SingleStageToolchain(Fixer):
    code = "DF302"
    restructures = True
    severity = Severity.INFO
    name = "single-stage-toolchain"
    summary = "The final image is the toolchain image that built the service"
    resolves = Resolves()
    image_changes = SPLIT_IMAGE_CHANGES  # a new runtime base

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        stage = doc.final_stage
        if stage is None or stage.parent is not None or doc.escape != "\\":
            return
        base = base_image(doc, stage)
        eco = _ECOSYSTEMS.get(base.name) if base is not None else None
        # The file name is read last: most files already failed the memoised base lookup.
        if base is None or eco is None or base.is_distroless or base.is_windows:
            return
        if is_dev_file(ctx):
            return
        entry, cmd = start_command(stage)
        if entry is None and cmd is None:
            return  # no start command: a build or base image, not a service
        shown = base.reference
        build = analyse_stage(doc, stage, ctx)
        own_runs = [r for r in build.build_runs if r.stage is stage]
        if not own_runs:
            return
        lang = "Go" if eco == "go" else "Rust"
        message = (
            f"the final stage builds with `{shown}` and runs the result: the image keeps the "
            f"whole {lang} toolchain"
        )
        yield self._rewrite(doc, stage, base, eco, build.artifacts, own_runs, ctx, message)

    # --- the split ----------------------------------------------------------------------
    def _rewrite(
        self,
        doc: Dockerfile,
        stage: Stage,
        base: BaseImage,
        eco: str,
        artifacts: list[Artifact],
        own_runs: list[Instruction],
        ctx: FixContext,
        message: str,
    ) -> Finding:
        display = partial(display_finding, self, stage.from_instruction, message)

        runs = [i for i in stage.instructions if i.keyword == "RUN"]
        last_run = runs[-1]
        split = stage.instructions.index(last_run) + 1
        before, after = stage.instructions[:split], stage.instructions[split:]
        entry, cmd = start_command(stage)
        problem = shell_problem(stage, last_run in own_runs, last_run, after, entry, cmd)
        if problem:
            return display(problem)
        argv = (entry.json_args if entry is not None else None) or (
            cmd.json_args if cmd is not None else None
        )
        if not argv:
            return display("the start command is empty")
        cwd = image_workdir_at(doc, stage, None)
        chosen = self._binary(argv[0], artifacts, base, cwd)
        if isinstance(chosen, str):
            return display(chosen)
        art, location, runtime_path = chosen
        problem = (
            self._libc_problem(doc, stage, art, base)
            or self._settings_problem(doc, stage, before, after, art, location, cwd, entry, cmd)
            or self._assets_problem(doc, stage, before, art, ctx)
            or self._linked_problem(doc, stage, art, base, eco, ctx)
        )
        if problem:
            return display(problem)
        runtime = distroless_image(art, base) + ":nonroot"
        done = split_stage(doc, stage, last_run, runtime, [(location, runtime_path)])
        if isinstance(done, str):
            return display(done)
        fix = Fix.unsafe(
            *done[1],
            description=f"build in a named stage and run `{runtime_path}` from `{runtime}`",
        )
        return self.finding(stage.from_instruction, message, fix)

    def _binary(
        self, program: str, artifacts: list[Artifact], base: BaseImage, cwd: str | None
    ) -> tuple[Artifact, str, str] | str:
        """(artifact, where the build left it, where the runtime stage puts it), or why not."""
        if "/" in program:
            path = resolve_path(program, cwd)
            for art in artifacts:
                if path in art.locations:
                    return art, path, path
            return f"the start command runs `{program}`, which is not a binary the build makes"
        search = TOOLCHAIN_PATH.get(base.name, DISTROLESS_PATH)
        for d in search:
            for art in artifacts:
                for loc in art.locations:
                    if loc == posixpath.join(d, program):
                        target = loc if d in DISTROLESS_PATH else f"/usr/local/bin/{program}"
                        return art, loc, target
        return f"the start command runs `{program}`, which is not a binary the build makes"

    def _libc_problem(
        self, doc: Dockerfile, stage: Stage, art: Artifact, base: BaseImage
    ) -> str | None:
        if art.static:
            return None
        if art.musl:
            return "the binary is linked against Alpine's musl libc, which distroless images lack"
        libs: list[str] = []
        for i in stage.instructions:
            if i.keyword != "RUN":
                continue
            for c in run_steps(doc, stage, i) or []:
                words = [w for w in c.argv if w]
                if len(words) > 2 and words[0] in ("apt-get", "apt") and "install" in words:
                    libs.extend(
                        w
                        for w in words[2:]
                        if w.endswith("-dev") and w not in _PROVIDED_DEV and not w.startswith("-")
                    )
        if libs:
            return (
                f"the binary may link libraries installed with `{libs[0]}`, which the distroless "
                "image does not have"
            )
        return None

    def _settings_problem(
        self,
        doc: Dockerfile,
        stage: Stage,
        before: list[Instruction],
        after: list[Instruction],
        art: Artifact,
        location: str,
        cwd: str | None,
        entry: Instruction | None,
        cmd: Instruction | None,
    ) -> str | None:
        """Why a setting of the stage would not work on the distroless runtime."""
        problem = (
            user_problem(after)
            or volume_problem(stage, after)
            or healthcheck_problem([*before, *after], cwd, location)
            or carried_variable_problem(before)
        )
        if problem:
            return problem
        # Variables the runtime instructions use must be declared in the file: the toolchain
        # image's own (GOPATH, CARGO_HOME…) do not exist in distroless.
        undeclared = variables_from_image(doc, stage, after)
        if undeclared is not None:
            return (
                f"{undeclared} comes from the toolchain image, which the runtime stage does "
                "not have"
            )
        return start_files_problem(doc, stage, after, location, cwd, entry, cmd) or port_problem(
            stage, before, after
        )

    def _linked_problem(
        self,
        doc: Dockerfile,
        stage: Stage,
        art: Artifact,
        base: BaseImage,
        eco: str,
        ctx: FixContext,
    ) -> str | None:
        if eco != "cargo" or art.static or art.project_dir is None:
            return None
        files = ContextFiles(doc, stage, ctx)
        return linked_library_problem(files, art.project_dir, base.tag)

    def _assets_problem(
        self,
        doc: Dockerfile,
        stage: Stage,
        before: list[Instruction],
        art: Artifact,
        ctx: FixContext,
    ) -> str | None:
        project = art.project_dir
        if project is None:
            return "the directory the build ran in is unknown"
        names = copied_into(doc, stage, project, ctx)
        if names is None:
            return (
                "the build context is not available, so the files the service may read from "
                "the source tree cannot be checked"
            )
        assets = runtime_assets(names)
        if assets:
            return (
                "the build stage also holds "
                + ", ".join(f"`{a}`" for a in assets)
                + ", which the service may read at run time"
            )
        for i in before:
            if i.keyword in ("COPY", "ADD") and i.flag("from") is None:
                dest = copy_dest(doc, stage, i)
                if dest is None:
                    return f"the destination of the {i.keyword} at line {i.start_line} is unknown"
                if not is_within(dest, project) and not is_within(project, dest):
                    return (
                        f"the {i.keyword} at line {i.start_line} puts files in `{dest}`, outside "
                        "the source tree; the service may read them at run time"
                    )
            if i.keyword == "COPY" and i.flag("from") is not None:
                return (
                    f"the COPY --from at line {i.start_line} brings files the service may "
                    "read at run time"
                )
        return None
