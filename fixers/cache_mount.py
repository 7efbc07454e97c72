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

import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dockfix.core.edits import add_syntax_directive
from dockfix.core.fixer import Edit, Finding, Fix, Fixer, Option, Resolves, Severity, register
from dockfix.fixers._cache_cleanups import (
    DOCKER_CLEAN,
    TRUTHY,
    Plan,
    assignment_removal,
    comment_mentions_cache,
    drop_repeated_docker_clean,
    is_apk_link,
    mentions,
    path_forms,
    plan_cleanups,
    under,
    word_removal,
)
from dockfix.fixers._cache_dirs import (
    BASE_IMAGE_ENV,
    BASE_IMAGE_USERS,
    TOOL_HINT,
    TOOLS,
    CacheUse,
    RunEnv,
    Tool,
    find_cache_uses,
    program_argv,
    tool_for,
    tool_named,
)
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._package_managers import (
    CROSS_WRAPPERS,
    YarnRelease,
    yarn_global_cache,
    yarn_release,
    yarn_switch,
)
from dockfix.fixers._run_flags import (
    FRONTEND,
    flags_text,
    frontend_problem,
    frontend_query,
    pinned_frontend,
)
from dockfix.fixers._run_script import shell_argv
from dockfix.registry.image_lookup import ImageQuery
from dockfix.registry.image_ref import ImageRef
from dockfix.semantics.memo import per_context, per_instruction, per_tree
from dockfix.semantics.semantic import (
    base_reference,
    expand,
    layered,
    mounts,
    settings_at,
    stage_chain,
    workdir_at,
)
from dockfix.semantics.shell import (
    ShellScript,
    SimpleCommand,
    heredoc_shell_of,
    parse_shell,
    shell_of,
)
from dockfix.syntax import Dockerfile, Instruction, Stage, parse_words

if TYPE_CHECKING:
    from dockfix.core.suppression import Suppressions
    from dockfix.semantics.context import FixContext

_POSIX_SHELLS = frozenset({"sh", "bash", "dash", "ash", "ksh", "zsh", "mksh", "busybox"})
_HADOLINT_RULE = {"pip": "DL3042", "yarn": "DL3060"}
_SH_SHEBANG = lazy_re(r"#!\s*/(usr/)?bin/(env\s+)?(ba|da|a)?sh\b")


# --- the stage tree ---------------------------------------------------------------------------


@per_tree
def _base_image(doc: Dockerfile, stage: Stage) -> str:
    """The short name of the stage tree's base image (``golang``), "" when unknown: asked for
    every RUN."""
    ref = base_reference(doc, stage)
    return ImageRef.parse_loose(ref).short_name if ref else ""


_WINDOWS_IMAGES = ("windows", "nanoserver", "servercore")
_WINDOWS_HINT = lazy_re("|".join(_WINDOWS_IMAGES), re.I)


def _is_windows(doc: Dockerfile, stage: Stage) -> bool:
    base = _base_image(doc, stage)
    return any(w in base for w in _WINDOWS_IMAGES)


# --- who runs the RUN, and where ---------------------------------------------------------------


@dataclass(eq=False)
class _Account:
    uid: int | None = None
    gid: int | None = None
    home: str | None = None


def _int(v: str | None) -> int | None:
    return int(v) if v is not None and v.isdigit() else None


_ACCOUNT_VALUE_OPTS = frozenset(
    {
        "-s",
        "--shell",
        "-c",
        "--comment",
        "--gecos",
        "-k",
        "--skel",
        "-K",
        "-e",
        "-f",
        "-p",
        "--password",
        "-b",
        "--base-dir",
        "--firstuid",
        "--lastuid",
        "--key",
    }
)


def _accounts_created(script: ShellScript, known: dict[str, _Account]) -> None:
    """Users made by ``useradd`` / ``adduser`` (Debian and BusyBox) in a script."""
    for cmd in script.commands:
        argv, _ = program_argv(cmd)
        if not argv or argv[0] not in ("useradd", "adduser"):
            continue
        acc = _Account()
        name = ""
        system = False
        k = 1
        while k < len(argv):
            a = argv[k]
            nxt = argv[k + 1] if k + 1 < len(argv) else None
            if a in ("-u", "--uid"):
                acc.uid, k = _int(nxt), k + 2
            elif a in ("-g", "--gid", "-G", "--ingroup"):
                acc.gid, k = _int(nxt), k + 2
            elif a in ("-d", "--home-dir", "--home", "-h"):
                acc.home, k = nxt, k + 2
            elif a in ("-r", "--system", "-S"):
                system, k = True, k + 1
            elif a in _ACCOUNT_VALUE_OPTS:
                k += 2
            elif a.startswith("-"):
                k += 1
            else:
                name = name or a
                k += 1
        if not name:
            continue
        # Debian's `adduser --system` and BusyBox's `adduser -S` use other homes.
        if acc.home is None and not (system and argv[0] == "adduser"):
            acc.home = f"/home/{name}"
        known[name] = acc


def _command_line(instr: Instruction) -> ShellScript | None:
    """The command line of a shell-form RUN (heredoc words blanked), or None for exec form."""
    return shell_of(instr) if instr.trigger is None else None


@dataclass(eq=False)
class _Before:
    """What the RUNs before one instruction of a stage tree leave for it (the USER and WORKDIR
    are the engine's: :func:`dockfix.semantics.semantic.settings_at`): read in one walk per stage,
    since every RUN asks (a walk per RUN made a file's cost quadratic)."""

    # useradd/adduser of earlier RUNs, by name (a new dict only where a RUN adds one)
    accounts: dict[str, _Account] = field(default_factory=dict)
    # The Yarn a RUN installed (`yarn set version`, `corepack prepare`), or "corepack" when
    # `corepack enable` lets package.json choose.
    yarn: YarnRelease | str | None = None
    docker_clean: bool = False  # an instruction mentions docker-clean


@per_tree
def _befores(doc: Dockerfile, stage: Stage) -> dict[Instruction, _Before]:
    """The :class:`_Before` of every instruction of the stage, and of its end (key: the FROM)."""
    parent = stage.parent
    if parent is not None and parent.index < stage.index:
        state = _befores(doc, parent)[parent.from_instruction]
    else:
        state = _Before()
    out: dict[Instruction, _Before] = {}
    for i in stage.instructions:
        out[i] = state
        state = _after(state, i)
    out[stage.from_instruction] = state
    return out


def _after(state: _Before, i: Instruction) -> _Before:
    """The state after instruction ``i`` (``state`` itself when ``i`` changes nothing)."""
    docker_clean = state.docker_clean or "docker-clean" in i.logical
    accounts, yarn = state.accounts, state.yarn
    script = _command_line(i) if i.keyword == "RUN" else None
    if script is not None:
        created: dict[str, _Account] = {}
        _accounts_created(script, created)
        if created:
            accounts = {**state.accounts, **created}
        for c in script.commands:
            switch = yarn_switch(program_argv(c)[0])
            if switch is not None and not (switch == "corepack" and yarn is not None):
                yarn = switch
    if (accounts, yarn, docker_clean) == (state.accounts, state.yarn, state.docker_clean):
        return state
    return _Before(accounts, yarn, docker_clean)


def _before(doc: Dockerfile, stage: Stage, instr: Instruction) -> _Before:
    """What comes before ``instr`` in its stage tree (the stage's end for an instruction not
    in it)."""
    states = _befores(doc, stage)
    return states.get(instr) or states[stage.from_instruction]


def _run_env(
    doc: Dockerfile, stage: Stage, instr: Instruction, ctx: FixContext, runs_yarn: bool
) -> RunEnv | str:
    """The user, HOME, WORKDIR and variables a RUN sees; a reason when they are unknown.
    Which Yarn runs is read only for a RUN that runs it (``runs_yarn``: it reads the build
    context's files)."""
    base = _base_image(doc, stage)
    base_env = BASE_IMAGE_ENV.get(base, {})
    settings = settings_at(doc, stage, instr, "/", base_env)
    if settings.unresolved:
        return settings.unresolved
    before = _before(doc, stage, instr)
    scope = layered(stage.scope_at(instr), base_env)
    yarn = _yarn_setup(ctx, before.yarn) if runs_yarn else _NO_YARN
    user = settings.user
    raw_home = scope.get("HOME")
    home_env = expand(raw_home, scope) if raw_home else None
    workdir = settings.workdir or "/"
    if user is None or user in ("root", "0") or user.startswith(("root:", "0:")):
        return RunEnv(scope, home_env or "/root", 0, 0, workdir, base, *yarn)
    base_users = BASE_IMAGE_USERS.get(base, {})
    name, _, group = user.partition(":")
    if name.isdigit():
        # the first account with that uid, in the order a dict of both would list them
        accounts = {n: _Account(u, g, h) for n, (u, g, h) in base_users.items()}
        accounts.update(before.accounts)
        acc = next((a for a in accounts.values() if a.uid == int(name)), _Account(int(name)))
        uid: int | None = int(name)
    else:
        found = before.accounts.get(name)
        if found is None and name in base_users:
            found = _Account(*base_users[name])
        if found is None:
            return f"the uid of USER {name} is unknown (a cache mount belongs to root)"
        acc, uid = found, found.uid
    if uid is None:
        return f"the uid of USER {name} is unknown (a cache mount belongs to root)"
    home = home_env or acc.home
    if home is None:
        return f"the home directory of USER {name} is unknown"
    gid = _int(group) if group else acc.gid
    return RunEnv(scope, home, uid, gid, workdir, base, *yarn)


_YARN_CACHE_FOLDER = lazy_re(r"^\s*cacheFolder\s*:\s*['\"]?([^'\"\s#]+)", re.M)


_NO_YARN: tuple[bool, bool | None, str | None, str] = (False, None, None, "")


def _runs_yarn_berry(doc: Dockerfile, ctx: FixContext, instr: Instruction) -> bool:
    """Whether Yarn 2+ would run at ``instr`` (the Yarn fields of its RunEnv, read for any RUN)."""
    stage = instr.stage
    assert stage is not None
    return _yarn_setup(ctx, _before(doc, stage, instr).yarn)[0]


@per_context
def _yarn_setup(
    ctx: FixContext, switched: YarnRelease | str | None
) -> tuple[bool, bool | None, str | None, str]:
    """RunEnv's Yarn fields: (Yarn 2+, global cache, cacheFolder, why unknown). Yarn 1 when
    nothing says otherwise: the one official node images ship. Asked for every RUN that runs
    a package manager, it reads three files of the context: once per checked file."""
    rc = ctx.read_text(".yarnrc.yml") if ctx.has_context else None
    release = switched if isinstance(switched, YarnRelease) else None
    if release is None and ctx.has_context:
        release = yarn_release(ctx.read_text("package.json"), rc, ctx.read_text("yarn.lock"))
    if release is None:
        if switched == "corepack":
            known = (
                "package.json names none"
                if ctx.exists("package.json")
                else "there is no package.json in the build context to read"
            )
            return (
                False,
                None,
                None,
                "after `corepack enable` the Yarn release comes from package.json's "
                f"`packageManager` field, and {known} (Yarn 1 and Yarn 2+ cache in different "
                "places)",
            )
        return False, None, None, ""
    if not release.berry:
        return False, None, None, ""
    global_cache = yarn_global_cache(release, rc)
    m = _YARN_CACHE_FOLDER.search(rc or "")
    folder = m.group(1) if m is not None else None
    if global_cache is False and ctx.exists(folder or ".yarn/cache"):
        return (
            True,
            False,
            folder,
            "the project keeps its Yarn cache in the repository (zero-install): a cache mount "
            "would hide it",
        )
    return True, global_cache, folder, ""


def _existing_mounts(instr: Instruction, env: RunEnv) -> list[tuple[str, str]] | None:
    """(type, target) of the RUN's ``--mount`` flags; None when a target cannot be resolved."""
    out: list[tuple[str, str]] = []
    for mount in mounts(instr):
        if not mount.target:
            continue
        resolved = expand(mount.target, env.env)
        if resolved is None:
            return None
        out.append((mount.type, env.path(resolved)))
    return out


# RUN --mount is built into the Dockerfile frontend of Docker Engine 23.0 and later; older
# engines need the frontend image named by a `# syntax=` directive.
_MOUNT_BUILT_IN_SINCE = (23, 0)


def _frontend_problem(doc: Dockerfile) -> str:
    """Why the file's ``# syntax=`` frontend may not know ``RUN --mount`` ("" when it does)."""
    return frontend_problem(doc, (1, 2), "RUN --mount")


def _needs_directive(doc: Dockerfile, ctx: FixContext) -> bool:
    return ctx.min_docker_engine < _MOUNT_BUILT_IN_SINCE and doc.directive("syntax") is None


def _pinned_directive(ctx: FixContext) -> tuple[str | None, str]:
    engine = ".".join(map(str, ctx.min_docker_engine))
    return pinned_frontend(
        ctx,
        f"min-docker-engine is {engine}: engines before 23.0 need `# syntax={FRONTEND}` for "
        "RUN --mount",
    )


def _copy_touches(
    instr: Instruction, target: str, workdir: str, from_stage: bool, ctx: FixContext
) -> bool:
    """Whether a COPY/ADD puts files into the cache directory, or (``--from`` one of the
    tree's stages) reads from it."""
    if instr.heredocs:
        return False
    paths = _copy_paths(instr)
    if not paths:
        return False
    dest = posixpath.normpath(posixpath.join(workdir, paths[-1]))
    sources = paths[:-1]
    if from_stage and any(
        s.startswith("/") and (under(posixpath.normpath(s), target) or under(target, s))
        for s in sources
    ):
        return True
    if under(dest, target):
        return True
    if not under(target, dest) or dest == "/":
        return False
    # The destination holds the cache directory: does the COPY bring files there?
    rest = posixpath.relpath(target, dest)
    if instr.flag("from") is not None:
        return True  # another image or stage: cannot be known
    return any(ctx.exists(posixpath.join(s, rest)) for s in sources if "://" not in s)


@per_instruction
def _copy_paths(instr: Instruction) -> list[str]:
    """A COPY/ADD's sources and destination, unquoted (read once per tree)."""
    if instr.json_args is not None:
        words = instr.json_args
    elif any(c in instr.args for c in "\"'\\"):
        words = parse_words(instr.args, "\\")
    else:
        # Without quotes or escapes BuildKit's words are the whitespace-separated ones, which
        # the tree keeps (parse_words reads character by character: most of DF104's time).
        return [w for w, _, _ in instr.args_words()]
    return [w.strip("\"'") for w in words]


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

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(settings)
        # Asked for every command of every RUN. (Not a cached_property: a compiled build
        # would run it at every access.)
        self._enabled_options = frozenset(name for name, on in self.settings.items() if on)

    def _enabled(self, tool: Tool) -> bool:
        return tool.option in self._enabled_options

    def wants_lookups(self, ctx: FixContext) -> bool:
        return ctx.min_docker_engine < _MOUNT_BUILT_IN_SINCE

    def image_queries(self, doc: Dockerfile, ctx: FixContext) -> Iterator[ImageQuery]:
        if _needs_directive(doc, ctx) and any(i.keyword == "RUN" for i in doc.instructions):
            yield frontend_query()

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        from dockfix.core.suppression import Suppressions

        if doc.escape == "`":  # a Windows Dockerfile
            return
        suppressions = Suppressions.of(doc)
        frontend = _frontend_problem(doc)
        directive: str | None = None
        if not frontend and _needs_directive(doc, ctx):
            directive, frontend = _pinned_directive(ctx)
        # Stage trees: stages joined by `FROM <stage>` share what RUNs leave in a directory.
        trees: dict[int, list[Stage]] = {}
        for st in doc.stages:
            trees.setdefault(stage_chain(st)[0].index, []).append(st)
        # Only a file naming one of the images can start from a Windows one.
        maybe_windows = _WINDOWS_HINT.search(doc.source) is not None
        for stages in trees.values():
            if not (maybe_windows and _is_windows(doc, stages[0])):
                yield from self._check_tree(doc, ctx, stages, frontend, directive, suppressions)

    def _check_tree(
        self,
        doc: Dockerfile,
        ctx: FixContext,
        stages: list[Stage],
        frontend: str,
        directive: str | None,
        suppressions: Suppressions,
    ) -> Iterator[Finding]:
        plans: list[Plan] = []
        blockers: dict[str, str] = {}  # tool -> why no RUN of the tree gets its mount
        for st in stages:
            for instr in st.instructions:
                if instr.keyword != "RUN":
                    continue
                for plan in self._plans(doc, ctx, st, instr, blockers):
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
        self._check_references(doc, ctx, stages, plans, blockers)
        _block_stores_the_image_needs(doc, ctx, stages, plans, blockers)
        drop_repeated_docker_clean(plans)
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
            edits = self._edits(doc, plan, directive)
            if plan.missing:
                fix = Fix.unsafe(*edits, description=f"mount a build cache on {where}")
            else:
                fix = Fix.safe(*edits, description="remove the opt-out that empties the cache")
            yield self.finding(plan.instr, message, fix)

    # --- analysis ---------------------------------------------------------------------------

    def _plans(
        self,
        doc: Dockerfile,
        ctx: FixContext,
        stage: Stage,
        instr: Instruction,
        blockers: dict[str, str],
    ) -> list[Plan]:
        text = instr.logical
        if instr.heredocs:
            text = "\n".join([text, *(h.body for h in instr.heredocs)])
        if TOOL_HINT.search(text) is None:
            return []  # no program of a package manager in it (most RUNs)
        line = instr.start_line
        if self._shell(doc, stage, instr) not in _POSIX_SHELLS:
            return []
        if instr.json_args is not None:
            for tool in self._tools_in_exec(instr.json_args):
                blockers.setdefault(tool.name, f"the exec-form RUN on line {line} runs {tool.name}")
            return []
        script = _command_line(instr)
        assert script is not None
        body = False
        if instr.heredocs and not script.text.strip():
            # `RUN <<EOF`: the body is the script. It is read, never edited.
            heredoc = instr.heredocs[0]
            if len(instr.heredocs) != 1 or (
                heredoc.body.startswith("#!") and not _SH_SHEBANG.match(heredoc.body)
            ):
                return []
            script = heredoc_shell_of(instr, 0)
            body = True
        if script.has_error:
            for tool in TOOLS:
                if self._enabled(tool) and re.search(tool.hint, instr.logical + " "):
                    blockers.setdefault(tool.name, f"the RUN on line {line} cannot be parsed")
            return []
        tools = [tool_for(c, self._enabled) for c in script.commands]
        if not any(tools):
            return []  # no package manager runs here: the RUN's environment does not matter
        runs_yarn = any(t is not None and t.name == "yarn" for t in tools)
        env_or_reason = _run_env(doc, stage, instr, ctx, runs_yarn)
        env = env_or_reason if isinstance(env_or_reason, RunEnv) else None
        probe_env = env or RunEnv({}, "/root", 0, 0, "/", "")
        by_tool: dict[str, list[CacheUse]] = {}
        for use in find_cache_uses(script.commands, probe_env, self._enabled, tools):
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
            if self._plan_targets(plan, env):
                self._plan_removals(doc, plan)
                plans.append(plan)
        return plans

    def _plan_targets(self, plan: Plan, env: RunEnv) -> bool:
        """Split the targets into mounted and missing; False when the user mounts their own."""
        targets: list[str] = []
        for use in plan.uses:
            if use.reason:
                plan.fail(use.reason)
                return True
            targets += [t for t in use.targets if t not in targets]
        if any(c in t for t in targets for c in " ,=$\"'"):
            plan.fail("the cache directory has characters a mount flag cannot hold")
            return True
        existing = _existing_mounts(plan.instr, env)
        if existing is None:
            plan.fail("an existing --mount target cannot be resolved")
            return True
        for t in targets:
            covering = [kind for kind, m in existing if under(t, m)]
            if covering and all(k != "cache" for k in covering):
                return False  # a bind or tmpfs mount there: the user decided
            if covering:
                plan.mounted.append(t)
            elif any(under(m, t) for _, m in existing):
                plan.fail(f"an existing --mount is inside {t}")
                return True
            else:
                plan.missing.append(t)
        return True

    def _plan_removals(self, doc: Dockerfile, plan: Plan) -> None:
        tool, env = plan.tool, plan.env
        assert env is not None
        if plan.reason:
            return
        for use in plan.uses:
            argv = [w.value for w in use.command.words]
            for w in use.no_cache_words:
                plan.hadolint_opt_out = plan.hadolint_opt_out or tool.name == "pip"
                if tool.name == "apk" and not any(
                    a in ("-U", "--update-cache", "--update") for a in argv
                ):
                    # --no-cache also fetched a fresh index: keep that.
                    plan.replacements.append((w.start, w.end, "--update-cache"))
                else:
                    word_removal(plan, w)
            for a in use.no_cache_assignments:
                plan.hadolint_opt_out = plan.hadolint_opt_out or tool.name == "pip"
                plan.removals.append(assignment_removal(plan, a))
        others = plan_cleanups(plan)
        # Another command of this RUN that reads or writes the cache directory.
        use_cmds = {id(u.command) for u in plan.uses}
        for cmd in others:
            if id(cmd) not in use_cmds and not is_apk_link(cmd):
                text = plan.text(cmd)
                hit = next((t for t in plan.targets if mentions(text, t, env.home)), None)
                if hit is not None:
                    plan.fail(f"`{text}` uses the cache directory {hit}")
        opted_out = bool(plan.removals or plan.deletions or plan.replacements)
        if opted_out and plan.body:
            plan.fail("the opt-out is inside a heredoc script, which is not edited")
        if opted_out and comment_mentions_cache(doc, plan):
            plan.fail("a comment at this RUN explains its cache choice")
        marker = tool.hadolint_marker
        if plan.hadolint_opt_out and marker and not any(marker in t for t in plan.targets):
            plan.fail(
                f"the cache is at {', '.join(plan.targets)}: without the opt-out hadolint would "
                f"report {_HADOLINT_RULE[tool.name]}, which only accepts a mount on …/{marker}"
            )
        if not plan.missing or plan.reason:
            return
        if tool.name == "uv":
            self._plan_uv_link_mode(plan, env)
        elif tool.name == "apt" and not self._docker_clean_removed(doc, plan):
            self._plan_prefix(plan, DOCKER_CLEAN)
        elif tool.name == "apk":
            self._plan_apk_link(plan)
        elif tool.name == "cargo":
            self._plan_cargo_target(doc, plan)

    def _docker_clean_removed(self, doc: Dockerfile, plan: Plan) -> bool:
        """Whether this RUN or one before it in its image already handles docker-clean."""
        instr, stage = plan.instr, plan.instr.stage
        if "docker-clean" in instr.logical:
            return True
        return stage is not None and _before(doc, stage, instr).docker_clean

    def _plan_uv_link_mode(self, plan: Plan, env: RunEnv) -> None:
        if env.var("UV_LINK_MODE"):
            return
        for use in plan.uses:
            argv = [w.value for w in use.command.words]
            if any(a.startswith("--link-mode") for a in argv):
                if "symlink" in argv or "--link-mode=symlink" in argv:
                    plan.fail("uv links into the cache (--link-mode symlink)")
                continue
            if any(a.value.startswith("UV_LINK_MODE=") for a in use.command.assignments):
                continue
            if plan.body:
                return  # uv falls back to copying (with a warning): the body is not edited
            plan.inserts.append((use.command.start, "UV_LINK_MODE=copy "))

    def _plan_prefix(self, plan: Plan, text: str) -> None:
        if plan.body or not plan.script.chain:
            plan.fail("the RUN's script cannot be extended")
            return
        plan.inserts.append((plan.script.chain[0].start, text))

    def _plan_apk_link(self, plan: Plan) -> None:
        """apk caches packages only through /etc/apk/cache: link it for this RUN only."""
        chain = plan.script.chain
        if plan.body or not chain:
            plan.fail("the RUN's script cannot be extended")
        elif any(item.op not in (None, "&&") or item.kind != "command" for item in chain):
            plan.fail("the RUN is not a plain `&&` chain")
        elif any(a >= chain[-1].end for a, _ in plan.script.comments):
            plan.fail("the RUN ends with a shell comment")
        elif any(is_apk_link(c) for c in plan.script.commands):
            return  # the RUN links the cache already
        elif "/etc/apk/cache" in plan.instr.source:
            plan.fail("the Dockerfile already configures /etc/apk/cache")
        else:
            plan.inserts.append((chain[0].start, "ln -s /var/cache/apk /etc/apk/cache && "))
            plan.appends.append((chain[-1].end, " && rm /etc/apk/cache"))

    def _plan_cargo_target(self, doc: Dockerfile, plan: Plan) -> None:
        """Mount ``target/`` only when this RUN copies the build out and nothing else reads it."""
        env = plan.env
        assert env is not None
        if plan.body:
            return
        build: SimpleCommand | None = None
        for use in plan.uses:
            argv, _ = program_argv(use.command)
            if argv[1:2] in (["build"], ["b"]) and not any(
                a.startswith(("--manifest-path", "--target-dir")) for a in argv
            ):
                build = use.command
        if build is None or any(
            program_argv(c)[0][:1] in (["cd"], ["pushd"])
            for c in plan.script.commands
            if c.start < build.start
        ):
            return
        target_var = env.var("CARGO_TARGET_DIR")
        target = env.path(target_var or "target")
        copied = False
        for cmd in plan.script.commands:
            argv, k = program_argv(cmd)
            if cmd.start <= build.start or argv[:1] not in (["cp"], ["mv"], ["install"]):
                continue
            for w in cmd.words[k + 1 : -1]:
                value = w.value.strip("\"'")
                if not value.startswith("-") and under(env.path(value), target):
                    copied = True
        if not copied:
            return
        for other in doc.instructions:
            if other is plan.instr:
                continue
            text = other.logical + "".join(h.body for h in other.heredocs)
            if target in text or "target/" in text or "CARGO_TARGET_DIR" in text:
                return
        plan.missing.append(target)

    def _check_references(
        self,
        doc: Dockerfile,
        ctx: FixContext,
        stages: list[Stage],
        plans: list[Plan],
        blockers: dict[str, str],
    ) -> None:
        """COPY/ADD, WORKDIR, VOLUME and other RUNs that touch a tool's cache directory."""
        names = {st.name for st in stages if st.name} | {str(st.index) for st in stages}
        planned = {(id(p.instr), p.tool.name) for p in plans}
        by_tool: dict[str, list[Plan]] = {}
        for p in plans:
            by_tool.setdefault(p.tool.name, []).append(p)
        for tool, group in by_tool.items():
            # In plan order (a set's order changes between runs, and the message names one).
            targets = list(dict.fromkeys(t for p in group for t in p.targets))
            homes = {p.env.home for p in group if p.env is not None}
            # How each target may be written, worked out once for all instructions
            forms = [(t, path_forms(t, homes)) for t in targets]
            for instr in doc.instructions:
                in_tree = instr.stage is not None and instr.stage in stages
                if instr.keyword in ("COPY", "ADD"):
                    src = instr.flag("from")
                    from_tree = src is not None and (src.value or "").lower() in names
                    if not (in_tree or from_tree):
                        continue
                    # the WORKDIR in effect ("/" when it cannot be resolved)
                    instr_stage = instr.stage
                    workdir = "/"
                    if in_tree and instr_stage is not None:
                        workdir = workdir_at(doc, instr_stage, instr) or "/"
                    hit = next(
                        (t for t in targets if _copy_touches(instr, t, workdir, from_tree, ctx)),
                        None,
                    )
                    if not in_tree and hit is not None and not from_tree:
                        hit = None
                elif instr.keyword in ("RUN", "WORKDIR", "VOLUME") and in_tree:
                    if (id(instr), tool) in planned:
                        continue  # its commands were checked with its plan
                    text = instr.logical[instr.args_start :]
                    text += "".join(h.body for h in instr.heredocs)
                    hit = next((t for t, fs in forms if any(f in text for f in fs)), None)
                else:
                    continue
                if hit is not None:
                    blockers.setdefault(
                        tool, f"line {instr.start_line} touches the cache directory {hit}"
                    )

    # --- edits ----------------------------------------------------------------------------------

    def _edits(self, doc: Dockerfile, plan: Plan, directive: str | None) -> list[Edit]:
        """``directive``: the ``# syntax=`` value a new mount needs (None: none needed)."""
        instr = plan.instr
        inserts: dict[int, list[str]] = {}
        edits: list[Edit] = []
        if plan.missing:
            syntax = add_syntax_directive(doc, directive) if directive is not None else None
            if syntax is not None:
                edits.append(syntax)
            mounts = [self._mount_flag(plan, t) for t in plan.missing]
            inserts.setdefault(instr.to_source(instr.args_start), []).append(
                flags_text(doc, instr, mounts)
            )
        for offset, text in plan.inserts:
            inserts.setdefault(instr.to_source(offset), []).append(text)
        for end, text in plan.appends:
            inserts.setdefault(instr.to_source(end - 1) + 1, []).append(text)
        edits += [Edit.insert(at, "".join(texts)) for at, texts in inserts.items()]
        ranges = {instr.source_span(a, b) for a, b in plan.removals} | set(plan.deletions)
        for s, e in sorted(ranges):
            # A word inside a command that goes entirely is removed with it.
            if any(a <= s and e <= b and (a, b) != (s, e) for a, b in ranges):
                continue
            edits.append(Edit.delete(s, e))
        for start, end, text in plan.replacements:
            s, e = instr.source_span(start, end)
            edits.append(Edit(s, e, text))
        return edits

    def _mount_flag(self, plan: Plan, target: str) -> str:
        env = plan.env
        assert env is not None
        parts = ["type=cache", f"target={target}"]
        if plan.tool.sharing:
            parts.append(f"sharing={plan.tool.sharing}")
        if env.uid != 0:
            parts.append(f"uid={env.uid}")
            if env.gid is not None:
                parts.append(f"gid={env.gid}")
        return "--mount=" + ",".join(parts)

    def _shell(self, doc: Dockerfile, stage: Stage, instr: Instruction) -> str:
        argv = shell_argv(doc, stage, instr)
        return argv[0].replace("\\", "/").rsplit("/", 1)[-1].lower() if argv else ""

    def _tools_in_exec(self, argv: list[str]) -> list[Tool]:
        if not argv:
            return []
        prog = argv[0].rsplit("/", 1)[-1]
        if prog in _POSIX_SHELLS and len(argv) >= 3 and argv[1].startswith("-") and "c" in argv[1]:
            found: list[Tool] = []
            for cmd in parse_shell(argv[2]).commands:
                a, _ = program_argv(cmd)
                found += [t for t in TOOLS if self._enabled(t) and a and t.matches(a)]
            return found
        norm = [CROSS_WRAPPERS.get(prog, prog), *argv[1:]]
        return [t for t in TOOLS if self._enabled(t) and t.matches(norm)]


# Tools whose "cache" is where the dependencies live: a program that runs them when the
# container starts (`CMD go test ./...`, `mvn spring-boot:run`) needs the store in the image.
_RUNTIME_STORE_TOOLS = {
    "go": lazy_re(r"(?:^|[\s/;&|'\"])go\s+(?:run|test|build|generate|vet|install)\b"),
    "maven": lazy_re(r"(?:^|[\s/;&|'\"])mvnw?\s"),
    "gradle": lazy_re(r"(?:^|[\s/;&|'\"])gradlew?\s"),
    "cargo": lazy_re(r"(?:^|[\s/;&|'\"])cargo\s+(?:run|test|build)\b"),
}
_YARN_NODE_LINKER = lazy_re(r"^\s*nodeLinker\s*:\s*['\"]?(node-modules|pnpm)\b", re.M)


def _block_stores_the_image_needs(
    doc: Dockerfile,
    ctx: FixContext,
    stages: list[Stage],
    plans: list[Plan],
    blockers: dict[str, str],
) -> None:
    """Tools whose downloads must stay in the image: no mount for them (found on real files)."""
    tools = {plan.tool.name for plan in plans}
    for st in stages:
        for instr in st.instructions:
            if instr.keyword not in ("CMD", "ENTRYPOINT"):
                continue
            text = " ".join(instr.json_args) if instr.json_args is not None else instr.args
            for tool, pattern in _RUNTIME_STORE_TOOLS.items():
                if tool in tools and pattern.search(text):
                    blockers.setdefault(
                        tool,
                        f"line {instr.start_line} runs {tool} when the container starts, which "
                        "needs the downloaded dependencies in the image",
                    )
    if "yarn" in tools and any(
        p.env is not None and _runs_yarn_berry(doc, ctx, p.instr) for p in plans
    ):
        # Yarn 2+ with Plug'n'Play (its default) keeps the packages only in its cache.
        rc = ctx.read_text(".yarnrc.yml") if ctx.has_context else None
        if rc is None or not _YARN_NODE_LINKER.search(rc):
            blockers.setdefault(
                "yarn",
                "Yarn 2+ with Plug'n'Play keeps the packages in its cache: a cache mount would "
                "leave them out of the image (set `nodeLinker: node-modules` to use one)",
            )
