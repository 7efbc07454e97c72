"""DF305 node-single-stage: a Node service runs in the stage that installed and built it.

## What it does
Finds a final stage based on the official `node` image that installs the dependencies
(npm, Yarn classic, Yarn Berry with `nodeLinker: node-modules`, pnpm), runs the build script
and then runs the service. It offers the split into a build stage and a runtime stage:

- the `FROM` gets a stage name (`AS build`) when it has none;
- the build stage's last `RUN` then prunes the development dependencies (`npm prune
  --omit=dev`, `yarn install --production`, `yarn workspaces focus --all --production`,
  `pnpm prune --prod`), unless the stage already installs production dependencies only;
- a runtime stage on the `-slim` variant of the same `node` version (an `-alpine` or `-slim`
  builder keeps its image) gets the working directory, copies of the runtime settings written
  before the build (`ENV`, `EXPOSE`, `LABEL`, `HEALTHCHECK`, `CMD`, `ENTRYPOINT` …) and copies
  `package.json`, the pruned `node_modules`, the build output and the files of the project
  a service reads at run time: the ones named like runtime files (`views/`, `public/`,
  `config/`, `.env` …), the ones a string literal of the sources names as a path
  (`join(__dirname, "..", "db", "schema.sql")`), the directories `file:`/`link:` dependencies
  point to (`node_modules` links into them), and `tsconfig*.json` when the start command
  preloads `tsconfig-paths`; a file copied only after the build stays where it is, and the
  copies keep the owner of the build stage's `COPY --chown`;
- for Next.js with `output: "standalone"` in `next.config.*`, it copies `.next/standalone`,
  `.next/static` and `public/` instead, the start command becomes `node server.js`, and
  `HOSTNAME=0.0.0.0` keeps the server listening on every address as `next start` did.

The build output is read from the build context: the script the `RUN` calls in
`package.json`, `tsc`'s `--outDir` or the tsconfig's `compilerOptions.outDir` (through
`extends`), `nest build`, `babel`/`swc --out-dir`, `esbuild --outdir`, `tsup`. The start
command (`node dist/main.js`, or `npm start` and the script it runs) must run a file of
that output. Everything written after the build stays where it is and now belongs to the
runtime stage.

## Why is this bad
The image keeps the compilers, test frameworks and linters of `devDependencies`, the
sources, the package manager's download cache and, on `node:<version>`, a full Debian
with build tools: often three to five times the size of what runs, with as many more
packages for scanners to report.

## Example
```dockerfile
FROM node:20
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build
EXPOSE 3000
CMD ["node", "dist/main.js"]
```
Use instead:
```dockerfile
FROM node:20 AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-slim
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
EXPOSE 3000
CMD ["node", "dist/main.js"]
```
(with a `package.json` whose `build` script is `tsc` and a `tsconfig.json` with
`"outDir": "dist"`).

## Fix safety
Always unsafe: the service then runs without its sources, its development dependencies,
and (on a `node:<version>` builder) without the tools of the full Debian image; a service
that reads a file of the project that is neither in the build output nor named like a
runtime file (`views/`, `public/`, `config/` …) would miss it.

Display-only, with the reason, when what the service needs cannot be known from the build
context: the output directory of the build is not named by a flag or configuration file
this rule reads (webpack, rollup, a custom script), the start command runs a file outside
the build output, a runner that compiles at start (`ts-node`, `tsx`, `nodemon`) or a
`pre`-script, `package.json` declares workspaces, the project uses Bun or Yarn Plug'n'Play,
Next.js without `output: "standalone"`, a `HEALTHCHECK` that needs `curl`/`wget` (not in
`-slim`), OS packages installed in the stage other than build tools, a user created in the
stage, a `RUN chown` for the user the service runs as (the copies would belong to root), a
start command that preloads a `devDependency` (`-r dotenv/config`), a `file:` dependency
outside the project, the project's own `docker-entrypoint.sh` (its commands are not read), or
no build context on disk. A frontend that only builds static files (Vite,
Create React App, Angular…) served by `serve`/`http-server` is reported with the suggestion
to serve the files from an nginx or static-server image, without a fix. Files named
`Dockerfile.dev` or under `.devcontainer/` are not reported.

## Options
None.

## Resolves
hadolint: none · Trivy: none · Checkov: none.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from dockfix.core.edits import replace_logical
from dockfix.core.fixer import Edit, Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._build_artifacts import analyse_stage
from dockfix.fixers._build_steps import run_steps
from dockfix.fixers._cmdline import display_finding
from dockfix.fixers._context_files import ContextFiles
from dockfix.fixers._image_paths import copied_into, image_workdir_at, runtime_assets
from dockfix.fixers._node_projects import (
    PRUNE_COMMANDS,
    SOURCE_RUNNERS,
    STATIC_SERVERS,
    BuildOutput,
    build_output,
    package_manager,
    run_script_name,
    slim_reference,
    start_words,
    without_runner,
)
from dockfix.fixers._node_runtime_files import (
    local_packages,
    package_name,
    preload_problem,
    preloaded_modules,
    read_by_sources,
)
from dockfix.fixers._run_text import stage_may_mention
from dockfix.fixers._runtime_stage import (
    SPLIT_IMAGE_CHANGES,
    healthcheck_problem,
    in_build_stage,
    keyword_case,
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

_NODE_TOOLS = frozenset({"npm", "yarn", "pnpm", "npx", "pnpx", "corepack", "tsc", "bun"})
_BUILD_SUBCOMMANDS = ("build",)
# A word every Node build command has (`_build_node.is_node_build`).
_BUILD_WORDS = ("build", "tsc", "webpack")
# Node flags whose next word is a file or module.
_VALUE_FLAGS = frozenset(
    {"-r", "--require", "--import", "--loader", "--experimental-loader", "--env-file", "--title"}
)
_IMAGE_USERS = frozenset({"root", "0", "node", "1000"})


@register
class NodeSingleStage(Fixer):
    code = "DF305"
    restructures = True
    severity = Severity.INFO
    name = "node-single-stage"
    summary = "A Node service runs in the image that installed its dev dependencies and built it"
    resolves = Resolves()
    image_changes = SPLIT_IMAGE_CHANGES  # a new runtime base

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        finding = self._finding(doc, ctx)
        if finding is not None:
            yield finding

    def _finding(self, doc: Dockerfile, ctx: FixContext) -> Finding | None:
        found = service_stage(doc, ctx, _is_node_image)
        if found is None:
            return None
        stage, base = found
        if not stage_may_mention(stage, _BUILD_WORDS):
            return None  # no RUN can be a Node build: spare the stage's analysis
        build = analyse_stage(doc, stage, ctx)
        if build.node is None or build.node.run not in stage.instructions:
            return None
        message = (
            f"the final stage installs and builds with `{base.reference}` and runs the "
            "result: the image keeps the development dependencies, the sources and the "
            "package cache"
        )
        display = partial(display_finding, self, stage.from_instruction, message)
        if not base.is_official:
            return display(f"`{base.repository}` is not the official node image")
        files = ContextFiles(doc, stage, ctx)
        project = build.node.project_dir
        split_after = _last_tool_run(doc, stage)
        problem = (
            stage_problem(doc, stage, split_after, _IMAGE_USERS)
            or _owner_problem(stage, split_after)
            or self._cwd_problem(doc, stage, split_after, project, ctx)
        )
        if problem:
            return display(problem)
        pkg = _package_json(files, project)
        if isinstance(pkg, str):
            return display(pkg)
        scripts = pkg.get("scripts") if isinstance(pkg.get("scripts"), dict) else {}
        assert isinstance(scripts, dict)
        manager, known = package_manager(files, project, _installers(doc, stage))
        if not known:
            return display(manager)
        output = self._output(doc, stage, build.node.run, files, project, scripts)
        if isinstance(output, str):
            return display(output)
        main = pkg.get("main") if isinstance(pkg.get("main"), str) else "index.js"
        cwd = image_workdir_at(doc, stage, None)
        start = self._start(stage, scripts, output, cwd, project, str(main))
        if start is not None:
            return display(start)
        argv = start_argv(stage)  # readable: checked by _start
        words = start_words(argv if isinstance(argv, list) else [], scripts)
        preloads = preloaded_modules(words if isinstance(words, list) else [])
        local = local_packages(pkg)
        problem = preload_problem(pkg, preloads) or (local if isinstance(local, str) else None)
        if problem:
            return display(problem)
        runtime = slim_reference(base.reference, base.tag)
        problem = healthcheck_problem(stage, runtime, base.reference)
        if problem:
            return display(problem)
        needs = set(local) if isinstance(local, list) else set()
        if any(package_name(m) == "tsconfig-paths" for m in preloads):
            needs.add("tsconfig*.json")  # it reads the `paths` at start
        copies = self._copies(doc, stage, project, output, ctx, files, needs)
        prune = None if build.node.prod_modules or output.standalone else PRUNE_COMMANDS[manager]
        owner = _copy_owner(stage, split_after)
        edits = _split_edits(
            doc, stage, split_after, runtime, copies, prune, output.standalone, owner
        )
        if isinstance(edits, str):
            return display(edits)
        what = (
            "the standalone server"
            if output.standalone
            else "production dependencies and " + ", ".join(f"`{d}/`" for d in output.dirs)
        )
        fix = Fix.unsafe(
            *edits, description=f"build in a named stage and run {what} on `{runtime}`"
        )
        return self.finding(stage.from_instruction, message, fix)

    def _cwd_problem(
        self,
        doc: Dockerfile,
        stage: Stage,
        split_after: Instruction,
        project: str,
        ctx: FixContext,
    ) -> str | None:
        cwd = image_workdir_at(doc, stage, split_after)
        if cwd != project:
            return f"the build runs in `{project}` but the stage's WORKDIR is `{cwd}`"
        if copied_into(doc, stage, project, ctx) is None:
            return (
                "the build context is not available, so package.json and the build "
                "configuration cannot be read"
            )
        return None

    def _output(
        self,
        doc: Dockerfile,
        stage: Stage,
        run: Instruction,
        files: ContextFiles,
        project: str,
        scripts: dict[str, Any],
    ) -> BuildOutput | str:
        for c in run_steps(doc, stage, run) or []:
            words = [w for w in c.argv if w is not None]
            if len(words) != len(c.argv) or not words:
                continue
            name = run_script_name(words)
            if (name or "").startswith(_BUILD_SUBCOMMANDS):
                return build_output(files, project, scripts, words)
            if words[:1] in (["npx"], ["pnpx"], ["tsc"]):
                direct = without_runner(words)
                if direct:
                    return build_output(files, project, scripts, direct)
        return f"the build command at line {run.start_line} cannot be read"

    def _start(
        self,
        stage: Stage,
        scripts: dict[str, Any],
        output: BuildOutput,
        cwd: str | None,
        project: str,
        main: str,
    ) -> str | None:
        argv = start_argv(stage)
        if isinstance(argv, str):
            return argv
        words = start_words(argv, scripts)
        if isinstance(words, str):
            return words
        prog = posixpath.basename(words[0])
        shown = " ".join(words)
        if prog in STATIC_SERVERS or words[1:2] == ["preview"] or output.static:
            return (
                f"the app is static files ({', '.join(f'`{d}/`' for d in output.dirs)}) served "
                f"by `{shown}`: serve them from an nginx or static-server image instead, e.g. "
                f"`COPY --from=build {project}/{output.dirs[0]} /usr/share/nginx/html`"
            )
        if prog in SOURCE_RUNNERS:
            return f"the start command `{shown}` compiles the sources at start"
        if output.standalone:
            if prog == "next" and words[1:2] == ["start"]:
                return None
            return f"the start command `{shown}` is not `next start`"
        if prog.endswith(".sh"):
            return (
                f"the start command runs the script `{words[0]}` (`{shown}`), whose commands "
                "this rule does not read"
            )
        if prog != "node":
            return f"the start command runs `{shown}`, which this rule cannot check"
        roots = [posixpath.join(project, d) for d in output.dirs]
        skip = False
        script_seen = False
        for w in words[1:]:
            if skip:
                skip = False
                if not w.startswith((".", "/")):
                    continue
            elif w in _VALUE_FLAGS:
                skip = True
                continue
            elif w.startswith("-") or (script_seen and not w.startswith((".", "/"))):
                continue  # a flag, or an argument of the script that names no file
            path = resolve_path(w, cwd)
            if not script_seen and path == project:
                path = posixpath.normpath(posixpath.join(project, main))  # `node .` runs main
            script_seen = True
            if path is None or not any(is_within(path, r) for r in roots):
                return (
                    f"the start command uses `{w}`, which is not in the build output "
                    f"({', '.join(f'`{d}/`' for d in output.dirs)})"
                )
        return None if script_seen else f"the start command `{shown}` runs no file"

    def _copies(
        self,
        doc: Dockerfile,
        stage: Stage,
        project: str,
        output: BuildOutput,
        ctx: FixContext,
        files: ContextFiles,
        needs: set[str],
    ) -> list[tuple[str, str]]:
        """(source, destination) of the runtime stage's copies: the build output, and the
        project entries the service reads (named like runtime files, named by its sources,
        linked from node_modules, or ``needs``: names or `fnmatch` patterns)."""
        split_after = _last_tool_run(doc, stage)
        names = in_build_stage(
            doc, stage, split_after, project, copied_into(doc, stage, project, ctx) or [], ctx
        )
        src = partial(posixpath.join, project)
        if output.standalone:
            out = [(src(".next/standalone"), "./"), (src(".next/static"), "./.next/static")]
            if "public" in names:
                out.append((src("public"), "./public"))
            return out
        out = [(src("package.json"), "./package.json"), (src("node_modules"), "./node_modules")]
        tops = [d.split("/")[0] for d in output.dirs]
        for d in output.dirs:
            out.append((src(d), f"./{d}"))
        skip = {*tops, "package.json", "node_modules"}
        assets = set(runtime_assets(names))  # copied anyway: not searched
        read = assets | read_by_sources(files, project, names, skip | assets)
        read |= {n for n in names if any(fnmatch.fnmatchcase(n, p) for p in needs)}
        for name in names:
            if name in read and name not in skip:
                out.append((src(name), f"./{name}"))
        return out


def _is_node_image(base: BaseImage) -> bool:
    return base.name == "node"


def _owner_problem(stage: Stage, split_after: Instruction) -> str | None:
    """A `RUN chown` for the user the service runs as (not root): the directory's owner cannot
    be repeated by the runtime stage's copies, and a service that creates files in its
    directory (a data file, uploads) would fail."""
    users = [i.args.split(":")[0].strip() for i in stage.instructions if i.keyword == "USER"]
    if not users or users[-1] in ("root", "0"):
        return None  # the service runs as root: it can write anywhere
    split = stage.instructions.index(split_after) + 1
    for i in stage.instructions[:split]:
        if i.keyword == "RUN" and "chown" in i.logical[i.args_start :].split():
            return (
                f"the RUN at line {i.start_line} makes files owned by another user; the "
                "runtime stage's copies would be owned by root, and the service could no "
                "longer write in its directory"
            )
    return None


def _copy_owner(stage: Stage, split_after: Instruction) -> str | None:
    """The `--chown` of the project's COPYs before the split, kept by the runtime copies."""
    split = stage.instructions.index(split_after) + 1
    owners = {
        chown.value
        for i in stage.instructions[:split]
        if i.keyword in ("COPY", "ADD")
        for chown in [i.flag("chown")]
        if chown is not None and chown.value
    }
    return next(iter(owners)) if len(owners) == 1 else None


def _last_tool_run(doc: Dockerfile, stage: Stage) -> Instruction:
    """The last RUN of the stage that runs the package manager or the build."""
    found = stage.instructions[0]
    for i in stage.instructions:
        if i.keyword != "RUN":
            continue
        for c in run_steps(doc, stage, i) or []:
            if c.argv and c.argv[0] and posixpath.basename(c.argv[0]) in _NODE_TOOLS:
                found = i
    return found


def _installers(doc: Dockerfile, stage: Stage) -> set[str]:
    out: set[str] = set()
    for i in stage.instructions:
        if i.keyword != "RUN":
            continue
        for c in run_steps(doc, stage, i) or []:
            words = [w for w in c.argv if w]
            prog = posixpath.basename(words[0]) if words else ""
            if prog in ("npm", "yarn", "pnpm", "bun") and (
                len(words) == 1 or words[1] in ("ci", "install", "i")
            ):
                out.add(prog)
    return out


def _package_json(files: ContextFiles, project: str) -> dict[str, Any] | str:
    """The project's package.json, or why the packages the service needs cannot be known."""
    pkg = files.json(posixpath.join(project, "package.json"))
    if pkg is None:
        return f"`{project}/package.json` is not in the build context"
    if pkg.get("workspaces") or files.exists(posixpath.join(project, "pnpm-workspace.yaml")):
        return "package.json declares workspaces; which packages the service needs is not analysed"
    return pkg


def _split_edits(
    doc: Dockerfile,
    stage: Stage,
    split_after: Instruction,
    runtime: str,
    copies: list[tuple[str, str]],
    prune: str | None,
    standalone: bool,
    owner: str | None,
) -> list[Edit] | str:
    """The edits that split the stage after ``split_after``, prune the development
    dependencies with ``prune`` first and, for a Next.js standalone server, start it; or why
    the split cannot be written."""
    kw = keyword_case(stage.from_instruction)
    edits: list[Edit] = []
    builder: list[str] = []
    if prune is not None:
        # Chained to the last RUN (consecutive RUNs are hadolint's DL3059).
        if split_after.json_args is None and not split_after.heredocs:
            end = len(split_after.logical.rstrip())
            edits.append(replace_logical(split_after, end, end, f" && {prune}"))
        else:
            builder.append(f"{kw('RUN')} {prune}")
    # `next start` listens on every address; the standalone server on $HOSTNAME's only.
    extra = [f"{kw('ENV')} HOSTNAME=0.0.0.0"] if standalone else []
    done = split_stage(
        doc,
        stage,
        split_after,
        runtime,
        copies,
        builder,
        runtime_lines=extra,
        users=_IMAGE_USERS,
        chown=owner,
    )
    if isinstance(done, str):
        return done
    edits += done[1]
    if standalone:
        edits.append(_standalone_cmd(stage))
    return edits


def _standalone_cmd(stage: Stage) -> Edit:
    """`CMD ["node", "server.js"]` in place of the stage's last CMD (`next start` would need
    the `next` package; the standalone server replaces it)."""
    cmd = next(i for i in reversed(stage.instructions) if i.keyword == "CMD")
    kw = keyword_case(stage.from_instruction)
    return Edit(cmd.start, cmd.header_end, f'{kw("CMD")} ["node", "server.js"]')
