"""What a RUN sees, for DF104's cache directories: who runs it (USER with the accounts earlier
RUNs and the base image made: uid, gid, HOME), the variables and WORKDIR in effect, the base
image, and which Yarn runs (package.json, .yarnrc.yml, yarn.lock, `yarn set version` and
`corepack` in earlier RUNs). Read in one walk per stage: every RUN asks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from dockfix.fixers._cache_dirs import BASE_IMAGE_ENV, BASE_IMAGE_USERS, RunEnv, program_argv
from dockfix.fixers._cache_tool import RunVariables
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._package_managers import (
    YarnRelease,
    yarn_global_cache,
    yarn_release,
    yarn_switch,
)
from dockfix.fixers._useradd_options import (
    GROUP_OPTIONS,
    HOME_OPTIONS,
    OTHER_VALUE_OPTIONS,
    UID_OPTIONS,
)
from dockfix.registry.image_ref import ImageRef
from dockfix.semantics.memo import per_context, per_tree
from dockfix.semantics.semantic import base_reference, expand, settings_at, stage_chain
from dockfix.semantics.shell import ShellScript, shell_of
from dockfix.syntax import Dockerfile, Instruction, Stage

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext


@per_tree
def base_image_name(doc: Dockerfile, stage: Stage) -> str:
    """The short name of the stage tree's base image (``golang``), "" when unknown: asked for
    every RUN."""
    ref = base_reference(doc, stage)
    return ImageRef.parse_loose(ref).short_name if ref else ""


_WINDOWS_IMAGES = ("windows", "nanoserver", "servercore")


@per_tree
def names_windows_image(doc: Dockerfile) -> bool:
    """Whether the file names a Windows image anywhere (only such a file can start from one)."""
    text = doc.source.lower()  # as image names are read
    return any(w in text for w in _WINDOWS_IMAGES)


def is_windows(doc: Dockerfile, stage: Stage) -> bool:
    if not names_windows_image(doc):
        return False  # only a file naming one of the images can start from it
    base = base_image_name(doc, stage)
    return any(w in base for w in _WINDOWS_IMAGES)


@dataclass(eq=False)
class _Account:
    uid: int | None = None
    gid: int | None = None
    home: str | None = None


def _int(v: str | None) -> int | None:
    return int(v) if v is not None and v.isdigit() else None


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
            if a in UID_OPTIONS:
                acc.uid, k = _int(nxt), k + 2
            elif a in GROUP_OPTIONS:
                acc.gid, k = _int(nxt), k + 2
            elif a in HOME_OPTIONS:
                acc.home, k = nxt, k + 2
            elif a in ("-r", "--system", "-S"):
                system, k = True, k + 1
            elif a in OTHER_VALUE_OPTIONS:
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


def command_line(instr: Instruction) -> ShellScript | None:
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


# The programs that make a user (useradd, adduser) or choose a Yarn (yarn set version, corepack):
# a RUN that names none of them leaves the state as it was, without reading its script.
_ACCOUNT_OR_YARN_HINT = lazy_re("useradd|adduser|yarn|corepack")


def _after(state: _Before, i: Instruction) -> _Before:
    """The state after instruction ``i`` (``state`` itself when ``i`` changes nothing)."""
    docker_clean = state.docker_clean or "docker-clean" in i.logical
    accounts, yarn = state.accounts, state.yarn
    script = None
    if i.keyword == "RUN" and _ACCOUNT_OR_YARN_HINT.search(i.logical) is not None:
        script = command_line(i)
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


def docker_clean_before(doc: Dockerfile, stage: Stage, instr: Instruction) -> bool:
    """Whether an instruction before ``instr`` in its stage tree mentions docker-clean."""
    return _before(doc, stage, instr).docker_clean


class StageFacts(NamedTuple):
    """What every RUN of a stage asks about it, read once for the stage."""

    base: str  # base_image_name
    base_env: dict[str, str]  # what that image sets (BASE_IMAGE_ENV)
    names: frozenset[str]  # every ARG/ENV name the stage has in scope somewhere
    befores: dict[Instruction, _Before]  # see _befores
    posix_shell: bool  # no SHELL in the stage's chain: its RUNs run /bin/sh -c


def stage_facts(doc: Dockerfile, stage: Stage) -> StageFacts:
    base = base_image_name(doc, stage)
    posix = not any(i.keyword == "SHELL" for st in stage_chain(stage) for i in st.instructions)
    return StageFacts(
        base,
        BASE_IMAGE_ENV.get(base, {}),
        frozenset(stage.scope_at(None)),
        _befores(doc, stage),
        posix,
    )


def run_env(
    doc: Dockerfile, facts: StageFacts, instr: Instruction, ctx: FixContext, runs_yarn: bool
) -> RunEnv | str:
    """The user, HOME, WORKDIR and variables a RUN of the stage ``facts`` describe sees; a
    reason when they are unknown. Which Yarn runs is read only for a RUN that runs it
    (``runs_yarn``: it reads the build context's files)."""
    stage = instr.stage
    assert stage is not None
    base, base_env = facts.base, facts.base_env
    settings = settings_at(doc, stage, instr, "/", base_env)
    if settings.unresolved:
        return settings.unresolved
    before = facts.befores.get(instr) or facts.befores[stage.from_instruction]
    scope = RunVariables(stage.scope_at(instr), facts.names, base_env)
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


def runs_yarn_berry(doc: Dockerfile, ctx: FixContext, instr: Instruction) -> bool:
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
