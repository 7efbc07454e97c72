"""DF307 dotnet-single-stage: a .NET service runs in the SDK image that published it.

## What it does
Finds a final stage based on `mcr.microsoft.com/dotnet/sdk` that publishes a project
(`dotnet publish -c Release -o /app/publish`) and runs the published assembly (`dotnet
/app/publish/Orders.Api.dll`). It offers the split into a build stage and a runtime stage
that copies the publish folder to the same path, so the start command needs no edit, on:

- `mcr.microsoft.com/dotnet/aspnet:<version>` when the project file uses
  `Microsoft.NET.Sdk.Web`, else `mcr.microsoft.com/dotnet/runtime:<version>`;
- `<version>` is the project's `TargetFramework` (`net8.0` → `8.0`) with the variant of the
  SDK tag (`-alpine`, `-bookworm-slim`, `-jammy` …).

The project file is the `.csproj` the `publish` names, or the only one in the directory it
runs in; the assembly name is its `AssemblyName`, else the file name. The runtime stage works in the publish
folder (where ASP.NET finds `appsettings.json` and `wwwroot/`) and gets copies of the runtime settings written before the build (`ENV`,
`EXPOSE`, `LABEL`, `HEALTHCHECK`, `CMD`, `ENTRYPOINT` …); everything written after the
publish stays where it is and now belongs to the runtime stage.

## Why is this bad
The SDK image carries the compilers, MSBuild, NuGet and the restored package cache, plus
the sources: around 800 MB where the ASP.NET runtime image with the published app takes
about 220 MB.

## Example
```dockerfile
FROM mcr.microsoft.com/dotnet/sdk:8.0
WORKDIR /src
COPY . .
RUN dotnet publish Orders.Api.csproj -c Release -o /app/publish
EXPOSE 8080
ENTRYPOINT ["dotnet", "/app/publish/Orders.Api.dll"]
```
Use instead:
```dockerfile
FROM mcr.microsoft.com/dotnet/sdk:8.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish Orders.Api.csproj -c Release -o /app/publish

FROM mcr.microsoft.com/dotnet/aspnet:8.0
WORKDIR /app/publish
COPY --from=build /app/publish /app/publish
EXPOSE 8080
ENTRYPOINT ["dotnet", "/app/publish/Orders.Api.dll"]
```
(with an `Orders.Api.csproj` using `Microsoft.NET.Sdk.Web` and `net8.0`).

## Fix safety
Always unsafe: the service then runs without the SDK (no `dotnet build`, `dotnet ef`, no
global tools), without its sources, and the runtime image is chosen from the project's SDK
attribute.

Display-only, with the reason, when the project file cannot be read (not in the build
context, several in the directory, several target frameworks), the publish writes no
`-o` folder, it is self-contained, single-file or AOT (which needs `runtime-deps`), the start
command is `dotnet run` or does not run the published assembly, a `HEALTHCHECK` needs
`curl`/`wget`, the stage installs OS packages or creates a user, or files are copied outside
the project. Windows images and files named `Dockerfile.dev` are not reported.

## Options
None.

## Resolves
hadolint: none · Trivy: none · Checkov: none.
"""

from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, NamedTuple

from dockfix.core.fixer import Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._build_steps import run_steps
from dockfix.fixers._cmdline import display_finding
from dockfix.fixers._context_files import ContextFiles
from dockfix.fixers._image_paths import copied_into, image_workdir_at
from dockfix.fixers._runtime_stage import (
    SPLIT_IMAGE_CHANGES,
    healthcheck_problem,
    service_stage,
    split_stage,
    stage_problem,
    start_argv,
)
from dockfix.semantics.semantic import is_within, resolve_path

if TYPE_CHECKING:
    from dockfix.fixers._image_paths import BaseImage
    from dockfix.semantics.context import FixContext
    from dockfix.syntax import Dockerfile, Instruction, Stage

# The aspnet/runtime images have `app` (UID 1654) since .NET 8.
_IMAGE_USERS = frozenset({"root", "0", "app", "1654"})
_SELF_CONTAINED = (
    "--self-contained",
    "-r",
    "--runtime",
    "--sc",
    "-p:PublishAot=true",
    "-p:PublishSingleFile=true",
    "/p:PublishSingleFile=true",
    "/p:PublishAot=true",
)
_VARIANT = re.compile(r"^\d+\.\d+(?:\.\d+)?(-.+)?$")


class Project(NamedTuple):
    assembly: str
    web: bool
    framework: str  # "8.0"


class Publish(NamedTuple):
    run: Instruction
    project_file: str | None  # image path of the .csproj the publish names
    cwd: str | None
    output: str | None  # image path of `-o`


@register
class DotnetSingleStage(Fixer):
    code = "DF307"
    restructures = True
    severity = Severity.INFO
    name = "dotnet-single-stage"
    summary = "A .NET service runs in the SDK image that published it"
    resolves = Resolves()
    image_changes = SPLIT_IMAGE_CHANGES  # a new runtime base

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        finding = self._finding(doc, ctx)
        if finding is not None:
            yield finding

    def _finding(self, doc: Dockerfile, ctx: FixContext) -> Finding | None:
        found = service_stage(doc, ctx, _is_sdk_image)
        if found is None:
            return None
        stage, base = found
        publish = _publish(doc, stage)
        if publish is None:
            return None
        message = (
            f"the final stage publishes with `{base.reference}` and runs the result: the "
            "image keeps the .NET SDK, the sources and the NuGet cache"
        )
        display = partial(display_finding, self, stage.from_instruction, message)
        if isinstance(publish, str):
            return display(publish)
        if publish.output is None:
            return display(
                f"the `dotnet publish` at line {publish.run.start_line} names no output "
                "folder (`-o /app/publish`)"
            )
        m = _VARIANT.match(base.tag)
        if m is None:
            return display(f"the SDK tag `{base.tag}` names no .NET version")
        problem = stage_problem(doc, stage, publish.run, _IMAGE_USERS)
        if problem:
            return display(problem)
        project = _project(doc, stage, publish, ctx)
        if isinstance(project, str):
            return display(project)
        problem = _start_problem(
            stage, publish.output, project.assembly, image_workdir_at(doc, stage, None)
        )
        if problem:
            return display(problem)
        flavour = "aspnet" if project.web else "runtime"
        repo = base.reference.split("@")[0].rsplit(":", 1)[0].rsplit("/", 1)[0]
        runtime = f"{repo}/{flavour}:{project.framework}{m.group(1) or ''}"
        problem = healthcheck_problem(stage, runtime, base.reference)
        if problem:
            return display(problem)
        # ASP.NET reads appsettings.json from the working directory: the published copy.
        done = split_stage(
            doc,
            stage,
            publish.run,
            runtime,
            [(publish.output,) * 2],
            workdir=publish.output,
            users=_IMAGE_USERS,
        )
        if isinstance(done, str):
            return display(done)
        fix = Fix.unsafe(
            *done[1],
            description=f"publish in a named stage and run `{publish.output}` on `{runtime}`",
        )
        return self.finding(stage.from_instruction, message, fix)


def _is_sdk_image(base: BaseImage) -> bool:
    return base.repository == "dotnet/sdk"


def _publish(doc: Dockerfile, stage: Stage) -> Publish | str | None:
    """The stage's last `dotnet publish` (or why the build is not one); None without a build."""
    found: Publish | str | None = None
    for i in stage.instructions:
        if i.keyword != "RUN":
            continue
        for c in run_steps(doc, stage, i) or []:
            words = [w or "" for w in c.argv]
            if len(words) < 2 or posixpath.basename(words[0]) != "dotnet":
                continue
            if words[1] == "build":
                found = (
                    f"the stage runs `dotnet build` at line {i.start_line}, not `dotnet publish`"
                )
            if words[1] != "publish":
                continue
            if any(w.startswith(_SELF_CONTAINED) for w in words):
                found = (
                    f"the publish at line {i.start_line} is self-contained, single-file or AOT, "
                    "which runs on `runtime-deps`"
                )
                continue
            output = project_file = None
            rest = words[2:]
            for n, w in enumerate(rest):
                if w in ("-o", "--output") and n + 1 < len(rest):
                    output = resolve_path(rest[n + 1], c.cwd)
                elif w.startswith("--output="):
                    output = resolve_path(w.split("=", 1)[1], c.cwd)
                elif w.endswith(".csproj") and (n == 0 or not rest[n - 1].startswith("-")):
                    project_file = resolve_path(w, c.cwd)
            found = Publish(i, project_file, c.cwd, output)
    return found


def _project(doc: Dockerfile, stage: Stage, publish: Publish, ctx: FixContext) -> Project | str:
    files = ContextFiles(doc, stage, ctx)
    path = publish.project_file
    if path is None:
        if publish.cwd is None or copied_into(doc, stage, publish.cwd, ctx) is None:
            return "the build context is not available, so the project file cannot be read"
        rel = files.rel(publish.cwd)
        found = [n for n in ctx.list_dir(rel) if n.endswith(".csproj")] if rel is not None else []
        if len(found) != 1:
            return f"{len(found)} project files in `{publish.cwd}`; `dotnet publish` needs one"
        path = posixpath.join(publish.cwd, found[0])
    text = files.text(path)
    if text is None:
        return f"`{path}` is not in the build context"
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return f"`{posixpath.basename(path)}` is not valid XML"
    sdk = root.get("Sdk", "")
    props: dict[str, str] = {}
    for group in root.iter("PropertyGroup"):
        if group.get("Condition"):
            continue
        for p in group:
            if isinstance(p.tag, str) and p.text:
                props[p.tag] = p.text.strip()
    if any(
        props.get(k, "").lower() == "true"
        for k in ("SelfContained", "PublishSingleFile", "PublishAot", "PublishTrimmed")
    ):
        return f"`{posixpath.basename(path)}` publishes self-contained, single-file or AOT"
    framework = re.fullmatch(r"net(\d+\.\d+)", props.get("TargetFramework", ""))
    if framework is None:
        return f"`{posixpath.basename(path)}` sets no single `TargetFramework` like `net8.0`"
    if sdk not in ("Microsoft.NET.Sdk", "Microsoft.NET.Sdk.Web", "Microsoft.NET.Sdk.Worker"):
        return f"the project SDK `{sdk}` is not analysed"
    assembly = props.get("AssemblyName") or posixpath.basename(path)[: -len(".csproj")]
    if "$" in assembly:
        return f"`AssemblyName` `{assembly}` uses a property"
    return Project(assembly, sdk == "Microsoft.NET.Sdk.Web", framework.group(1))


def _start_problem(stage: Stage, output: str, assembly: str, cwd: str | None) -> str | None:
    argv = start_argv(stage)
    if isinstance(argv, str):
        return argv
    prog = posixpath.basename(argv[0])
    if prog == "dotnet" and argv[1:2] == ["run"]:
        return "the start command `dotnet run` builds at start; run the published assembly"
    if prog == "dotnet" and len(argv) > 1:
        target = argv[1]
    elif prog == assembly:  # the apphost next to the dll
        target = argv[0] + ".dll"
    else:
        return f"the start command runs `{argv[0]}`, not `dotnet {assembly}.dll`"
    path = resolve_path(target, cwd)
    if path != posixpath.join(output, f"{assembly}.dll"):
        return f"the start command runs `{target}`, not `{output}/{assembly}.dll`"
    for w in argv[2:]:
        p = resolve_path(w.split("=", 1)[-1], cwd) if w.startswith(("/", "./")) else None
        if p is not None and not is_within(p, output):
            return f"the start command uses `{w}`, a file of the build stage"
    return None
