"""DF104 cache-mount: package downloads in a RUN without a BuildKit cache mount.

## What it does
Finds a `RUN` that installs dependencies with a package manager (pip, uv, pipenv, Poetry, npm,
Yarn, pnpm, Bun, Go, Cargo, Maven, Gradle; apt and apk when enabled; also through the
cross-compilation wrappers of tonistiigi/xx: `xx-go`, `xx-cargo`, `xx-apk`, `xx-apt-get`) and adds
`--mount=type=cache,target=<the tool's cache directory>` to it, so the download cache
survives from one build to the next without ever entering the image.

The cache directory is computed, not assumed: from the user the `RUN` runs as (`HOME`, and
`uid=` on the mount for a non-root user), from `ENV`/`ARG` (`PIP_CACHE_DIR`, `XDG_CACHE_HOME`,
`UV_CACHE_DIR`, `PIPENV_CACHE_DIR`, `npm_config_cache`, `YARN_CACHE_FOLDER`, `GOMODCACHE`, `GOPATH`, `GOCACHE`,
`CARGO_HOME`, `GRADLE_USER_HOME` …), from the command's flags (`--cache-dir`, `--cache`,
`-Dmaven.repo.local=`) and from the variables official base images set (`GOPATH=/go` in
`golang`, `CARGO_HOME=/usr/local/cargo` in `rust`). Poetry gets its `cache` and `artifacts`
directories (its virtualenvs live next to them), Maven `~/.m2/repository` (not `~/.m2`, whose
`settings.xml` must stay visible), apt `/var/cache/apt` and `/var/lib/apt` with
`sharing=locked` as the Docker documentation recommends.
Which Yarn runs is read from package.json's `packageManager`, `.yarnrc.yml` (`yarnPath`,
`enableGlobalCache`, `cacheFolder`), the format of `yarn.lock`, and `yarn set version` /
`corepack prepare yarn@…` in earlier `RUN`s: Yarn 1 caches in `/usr/local/share/.cache/yarn`
(root; `YARN_CACHE_FOLDER` moves it), Yarn 4 in `~/.yarn/berry/cache`, Yarn 2 and 3 in the
project's `.yarn/cache` (no mount when the repository commits that cache). After
`corepack enable` with no release named anywhere, no mount is added and the finding says why.

What would leave the new mount empty is removed in the same fix: `--no-cache-dir` /
`--no-cache` flags, `PIP_NO_CACHE_DIR=1` before the command, `npm cache clean`, `yarn cache
clean`, `pip cache purge`, `apt-get clean`, and `rm -rf` of the cache directory (which would
even fail: a mount point cannot be removed). For uv, `UV_LINK_MODE=copy` is put before each
`uv` command: the cache and the environment are then on different file systems, and uv's
default hard links would fail over to copies with a warning; a prefix keeps the setting to
this `RUN`, where an `ENV` would change how `uv` behaves in every later layer and at run time.
For apt, `rm -f /etc/apt/apt.conf.d/docker-clean` comes first (Debian and Ubuntu images ship
that hook, which deletes every downloaded package and would keep the cache empty) and the
lists clean-up is dropped (the lists are in the mount, not in the layer). For apk, the cache
is switched on for the `RUN` only (`ln -s /var/cache/apk /etc/apk/cache && … && rm
/etc/apk/cache`) and `--no-cache` becomes `--update-cache`, which still reads a fresh index.
A `RUN` that already mounts a cache but defeats it with such a flag gets only the removal.

`RUN --mount` needs BuildKit, whose Dockerfile frontend built into Docker Engine 23.0 and later
knows it: no `# syntax=` directive is added. When the configuration says older engines must
build the files (`min-docker-engine = "20.10"`), `# syntax=docker/dockerfile:1@sha256:…` is
added as the first line of a file without a syntax directive (other directives such as
`# escape=` stay valid below it), pinned to the digest the tag points at now (looked up like
DF202's, so DF202 has nothing to say about it); when that digest cannot be known (offline, not
in cache; a registry error), the finding is display-only.
The new flag goes after the existing flags; a `RUN` that spans lines gets one flag per line,
in the file's continuation style.

## Why is this bad
Each time the layer is rebuilt (any change to the files copied before it), every package is
downloaded again. The usual remedy for image size, `--no-cache-dir` or a clean-up at the end,
throws the cache away entirely. A cache mount keeps the cache on the builder, outside the
image: rebuilds only download what changed, and the image stays as small as before.

## Example
```dockerfile
FROM python:3.12-slim
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
```
Use instead:
```dockerfile
FROM python:3.12-slim
COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
```

## Fix safety
Unsafe: the legacy builder (`DOCKER_BUILDKIT=0`, old CI runners) rejects `RUN --mount`; a
cache mount also hides whatever the base image kept at that path during the `RUN`. Removing
a flag that defeats a cache mount the `RUN` already has is safe (BuildKit is already needed,
the image is the same).

To keep builds working, all `RUN`s of a stage tree (a stage, the stages it is built from and
the stages built from it) that use the same tool are fixed together or not at all: a mount on
one would hide what another left in the cache directory (`go mod download` then `go build`,
`mvn dependency:go-offline` then `mvn -o package`). The finding is display-only, with the
reason, when any of them cannot get the mount: an exec-form or unreadable `RUN`, a non-root
user whose uid or home is unknown, a `COPY`/`ADD` or `COPY --from` that touches the cache
directory, another command that reads it, an `rm -rf` of a parent directory, a `# syntax=`
frontend older than `docker/dockerfile:1.2`, or a clean-up that sits inside `||`, a pipeline
or a heredoc script (bodies are not edited).

Nothing is reported where the user chose no cache for the whole stage (`ENV
PIP_NO_CACHE_DIR=1`, `ENV UV_NO_CACHE=1`: they also govern the running container), on
Windows images, and for exec-form `RUN`s. When a comment at the `RUN` talks about the cache
and the `RUN` opts out of it, the choice is taken as deliberate (display-only).

hadolint DL3042 (pip) and DL3060 (Yarn) ask for the opposite (`--no-cache-dir`, `yarn cache
clean`); hadolint accepts their absence when the `RUN` has a cache mount on `…/.cache/pip` or
`…/.cache/yarn`. So the opt-out is removed only when the new mount is on such a path; when
`PIP_CACHE_DIR` (or `YARN_CACHE_FOLDER`, or Yarn 2+) moves the cache elsewhere, removing it
would make hadolint report a rule it did not report before, and the mount without the
removal would be inert: the finding is display-only. No code is ever added to a
`# hadolint ignore=` line.

The Cargo `target` directory is mounted only when the same `RUN` copies the built files out of
it and no other instruction reads it (what is in a cache mount is gone from the image after
the `RUN`).

No mount (display-only) where the cache is where the dependencies live and the image needs
them: Yarn 2+ with Plug'n'Play (its default; `nodeLinker: node-modules` in `.yarnrc.yml`
allows a mount), and go, maven, gradle or cargo when the stage's CMD/ENTRYPOINT runs the
tool at container start (`CMD go test ./...`).

## Options
The run-wide `min-docker-engine` (default `"23.0"`, see above) decides whether a `# syntax=`
directive is added.
- `python` (default true): pip, uv, pipenv and Poetry.
- `node` (default true): npm, Yarn, pnpm and Bun.
- `go` (default true): the Go module and build caches.
- `rust` (default true): the Cargo registry and git caches.
- `java` (default true): Maven and Gradle.
- `system_packages` (default false): apt and apk. Off by default because the fix changes the
  image's package manager configuration (`docker-clean` removed for apt).

## Resolves
none (hadolint DL3042 and DL3060 keep being satisfied, see Fix safety).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from dockfix.core.fixer import (
    Applicability,
    Finding,
    Fix,
    Fixer,
    Option,
    Resolves,
    Severity,
    register,
)
from dockfix.fixers._cache_at_run import (
    StageFacts,
    command_line,
    is_windows,
    names_windows_image,
    run_env,
    stage_facts,
)
from dockfix.fixers._cache_cleanups import TRUTHY, Plan, drop_repeated_docker_clean
from dockfix.fixers._cache_dirs import (
    TOOL_MENTIONS,
    TOOLS,
    CacheUse,
    RunEnv,
    Tool,
    ToolSet,
    cache_uses,
    program_argv,
    tool_commands,
    tool_named,
)
from dockfix.fixers._cache_plan_steps import plan_edits, plan_removals, plan_targets
from dockfix.fixers._cache_references import block_stores_the_image_needs, check_references
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._package_managers import CROSS_WRAPPERS
from dockfix.fixers._run_flags import (
    FRONTEND,
    frontend_problem,
    frontend_query,
    pinned_frontend,
)
from dockfix.fixers._run_script import POSIX_SHELLS, shell_argv
from dockfix.registry.image_lookup import ImageQuery
from dockfix.semantics.memo import per_tree
from dockfix.semantics.semantic import stage_chain
from dockfix.semantics.shell import ShellScript, heredoc_shell_of, parse_shell
from dockfix.syntax import Dockerfile, Instruction, Stage

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext


SAFE, UNSAFE = Applicability.SAFE, Applicability.UNSAFE
_SH_SHEBANG = lazy_re(r"#!\s*/(usr/)?bin/(env\s+)?(ba|da|a)?sh\b")


# RUN --mount is built into the Dockerfile frontend of Docker Engine 23.0 and later; older
# engines need the frontend image named by a `# syntax=` directive.
_MOUNT_BUILT_IN_SINCE = (23, 0)


def _frontend_problem(doc: Dockerfile) -> str:
    """Why the file's ``# syntax=`` frontend may not know ``RUN --mount`` ("" when it does)."""
    return frontend_problem(doc, (1, 2), "RUN --mount")


def _needs_directive(doc: Dockerfile, ctx: FixContext) -> bool:
    return ctx.min_docker_engine < _MOUNT_BUILT_IN_SINCE and doc.directive("syntax") is None


@per_tree
def _mount_frontend(doc: Dockerfile, ctx: FixContext) -> tuple[str, str | None]:
    """Why the file's frontend cannot take a new mount ("" when it can), and the ``# syntax=``
    value to add for it (None: none needed); asked once a stage tree has a plan."""
    frontend = _frontend_problem(doc)
    directive: str | None = None
    if not frontend and _needs_directive(doc, ctx):
        directive, frontend = _pinned_directive(ctx)
    return frontend, directive


def _pinned_directive(ctx: FixContext) -> tuple[str | None, str]:
    engine = ".".join(map(str, ctx.min_docker_engine))
    return pinned_frontend(
        ctx,
        f"min-docker-engine is {engine}: engines before 23.0 need `# syntax={FRONTEND}` for "
        "RUN --mount",
    )


@register
class CacheMount(Fixer):
    code = "DF104"
    severity = Severity.INFO
    name = "cache-mount"
    summary = "Package manager downloads in a RUN without a BuildKit cache mount"
    resolves = Resolves()
    image_changes = (
        "caches-removed",
        "apt-lists-removed",
        "removed:/etc/apt/apt.conf.d/docker-clean",
    )
    options = {  # noqa: RUF012 - the base class declares the type
        "python": Option(bool, True, "Add cache mounts for pip, uv, pipenv and Poetry."),
        "node": Option(bool, True, "Add cache mounts for npm, Yarn, pnpm and Bun."),
        "go": Option(bool, True, "Add cache mounts for the Go module and build caches."),
        "rust": Option(bool, True, "Add cache mounts for the Cargo registry and git caches."),
        "java": Option(bool, True, "Add cache mounts for Maven and Gradle."),
        "system_packages": Option(
            bool, False, "Add cache mounts for apt and apk (changes their configuration)."
        ),
    }
    # Only for the pinned `# syntax=` directive that engines older than min-docker-engine need.
    needs_network = True
    acts_on = frozenset({"RUN"})
    mentions = TOOL_MENTIONS

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(settings)
        # Asked for every command of every RUN. (Not a cached_property: a compiled build
        # would run it at every access.)
        self._enabled_options = frozenset(name for name, on in self.settings.items() if on)
        self._tools = ToolSet.of(self._enabled)

    def _enabled(self, tool: Tool) -> bool:
        return tool.option in self._enabled_options

    def wants_lookups(self, ctx: FixContext) -> bool:
        return ctx.min_docker_engine < _MOUNT_BUILT_IN_SINCE

    def image_queries(self, doc: Dockerfile, ctx: FixContext) -> Iterator[ImageQuery]:
        if _needs_directive(doc, ctx) and any(i.keyword == "RUN" for i in doc.instructions):
            yield frontend_query()

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        if doc.escape == "`":  # a Windows Dockerfile
            return
        # Stage trees: stages joined by `FROM <stage>` share what RUNs leave in a directory.
        trees: dict[int, list[Stage]] = {}
        for st in doc.stages:
            trees.setdefault(stage_chain(st)[0].index, []).append(st)
        windows = names_windows_image(doc)
        for stages in trees.values():
            if not (windows and is_windows(doc, stages[0])):
                yield from self._check_tree(doc, ctx, stages)

    def _check_tree(
        self,
        doc: Dockerfile,
        ctx: FixContext,
        stages: list[Stage],
    ) -> Iterator[Finding]:
        from dockfix.core.suppression import Suppressions

        plans: list[Plan] = []
        blockers: dict[str, str] = {}  # tool -> why no RUN of the tree gets its mount
        suppressions = Suppressions.of(doc)
        for st in stages:
            facts: StageFacts | None = None  # read at the stage's first RUN that needs them
            for instr in st.instructions:
                if instr.keyword != "RUN" or not self._names_a_tool(instr):
                    continue  # no program of a package manager in it (most RUNs)
                if facts is None:
                    facts = stage_facts(doc, st)
                for plan in self._plans(doc, ctx, facts, instr, blockers):
                    if suppressions.suppressed(doc, instr, self.code, ()):
                        blockers.setdefault(
                            plan.tool.name, f"the RUN on line {instr.start_line} is suppressed"
                        )
                        continue
                    if plan.reason:
                        blockers.setdefault(
                            plan.tool.name, f"RUN on line {instr.start_line}: {plan.reason}"
                        )
                    plans.append(plan)
        if not plans:
            return
        check_references(doc, ctx, stages, plans, blockers)
        block_stores_the_image_needs(doc, ctx, stages, plans, blockers)
        drop_repeated_docker_clean(plans)
        frontend, directive = _mount_frontend(doc, ctx)
        for plan in plans:
            if not plan.changes and not (plan.reason and not plan.mounted):
                continue  # nothing to mount and nothing to remove
            tool = plan.tool.name
            where = ", ".join(plan.targets) or "its cache directory"
            if plan.missing or not plan.mounted:
                message = f"{tool} downloads without a cache mount on {where}"
            else:
                message = f"the {tool} cache mount on {where} is emptied by an opt-out"
            reason = plan.reason or blockers.get(tool, "") or (frontend if plan.missing else "")
            if reason:
                yield self.finding(plan.instr, message, reason=reason)
                continue
            # The edits are built only when a fix or an output format reads them.
            edits = partial(plan_edits, doc, plan, directive)
            if plan.missing:
                fix = Fix.later(UNSAFE, edits, description=f"mount a build cache on {where}")
            else:
                description = "remove the opt-out that empties the cache"
                fix = Fix.later(SAFE, edits, description=description)
            yield self.finding(plan.instr, message, fix)

    def _names_a_tool(self, instr: Instruction) -> bool:
        """Whether the RUN's text may run one of the enabled tools."""
        text = instr.logical
        if instr.heredocs:
            text = "\n".join([text, *(h.body for h in instr.heredocs)])
        return self._tools.hint.search(text) is not None

    def _script(
        self, doc: Dockerfile, facts: StageFacts, instr: Instruction, blockers: dict[str, str]
    ) -> tuple[ShellScript, bool] | None:
        """The RUN's script, and whether it is a heredoc body (read, never edited); None when
        there is none to plan for (blocking the tools of one that cannot be read)."""
        line = instr.start_line
        if not facts.posix_shell and self._shell(doc, instr) not in POSIX_SHELLS:
            return None
        if instr.json_args is not None:
            for tool in self._tools_in_exec(instr.json_args):
                blockers.setdefault(tool.name, f"the exec-form RUN on line {line} runs {tool.name}")
            return None
        script = command_line(instr)
        assert script is not None
        body = False
        if instr.heredocs and not script.text.strip():
            # `RUN <<EOF`: the body is the script. It is read, never edited.
            heredoc = instr.heredocs[0]
            if len(instr.heredocs) != 1 or (
                heredoc.body.startswith("#!") and not _SH_SHEBANG.match(heredoc.body)
            ):
                return None
            script = heredoc_shell_of(instr, 0)
            body = True
        if script.has_error:
            for tool in TOOLS:
                if self._enabled(tool) and re.search(tool.hint, instr.logical + " "):
                    blockers.setdefault(tool.name, f"the RUN on line {line} cannot be parsed")
            return None
        return script, body

    def _plans(
        self,
        doc: Dockerfile,
        ctx: FixContext,
        facts: StageFacts,
        instr: Instruction,
        blockers: dict[str, str],
    ) -> list[Plan]:
        read = self._script(doc, facts, instr, blockers)
        if read is None:
            return []
        script, body = read
        found = tool_commands(script.commands, self._tools)
        if not found:
            return []  # no package manager runs here: the RUN's environment does not matter
        runs_yarn = any(c.tool.name == "yarn" for c in found)
        env_or_reason = run_env(doc, facts, instr, ctx, runs_yarn)
        env = env_or_reason if isinstance(env_or_reason, RunEnv) else None
        probe_env = env or RunEnv({}, "/root", 0, 0, "/", "")
        by_tool: dict[str, list[CacheUse]] = {}
        for use in cache_uses(found, probe_env):
            by_tool.setdefault(use.tool, []).append(use)
        plans: list[Plan] = []
        for name, uses in by_tool.items():
            tool = tool_named(name)
            plan = Plan(instr, tool, uses, env, script, body, doc.escape)
            if env is None:
                assert isinstance(env_or_reason, str)
                plan.fail(env_or_reason)
                plans.append(plan)
                continue
            if any((env.var(v) or "").lower() in TRUTHY for v in tool.no_cache_env):
                continue  # the stage turned the cache off for good (also at run time)
            if name == "uv" and (env.var("UV_LINK_MODE") or "") == "symlink":
                continue  # links into a mount would dangle once the RUN ends
            if plan_targets(plan, env):
                plan_removals(doc, plan)
                plans.append(plan)
        return plans

    def _shell(self, doc: Dockerfile, instr: Instruction) -> str:
        argv = shell_argv(doc, instr.stage, instr)
        return argv[0].replace("\\", "/").rsplit("/", 1)[-1].lower() if argv else ""

    def _tools_in_exec(self, argv: list[str]) -> list[Tool]:
        if not argv:
            return []
        prog = argv[0].rsplit("/", 1)[-1]
        if prog in POSIX_SHELLS and len(argv) >= 3 and argv[1].startswith("-") and "c" in argv[1]:
            found: list[Tool] = []
            for cmd in parse_shell(argv[2]).commands:
                a, _ = program_argv(cmd)
                found += [t for t in TOOLS if self._enabled(t) and a and t.matches(a)]
            return found
        norm = [CROSS_WRAPPERS.get(prog, prog), *argv[1:]]
        return [t for t in TOOLS if self._enabled(t) and t.matches(norm)]
