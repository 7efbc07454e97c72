"""Which non-root user DF201 (root-user) can propose, and whether it can propose one at all.

In order: a user the file already switched to (`USER app` … `USER root`), the owner the file
already handed the written paths to (`chown -R 1000:2000 /data`), a user the file creates
with a fixed UID, the user the base image ships (`node`, .NET's `app`, distroless `nonroot`),
else a new user created the way the base image's family does it (:mod:`_base_images`), or a
numeric user without a passwd entry where the family has no tool for that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dockfix.fixers._base_images import (
    PACKAGE_MANAGER_PROGRAMS,
    Base,
    family_of_package_manager,
    user_creation,
)
from dockfix.fixers._run_script import analyse_run, subcommand
from dockfix.fixers._user_commands import runs_naming
from dockfix.fixers._useradd_options import (
    GROUP_OPTIONS,
    HOME_OPTIONS,
    OTHER_VALUE_OPTIONS,
    UID_OPTIONS,
)
from dockfix.fixers._write_paths import WriteAnalysis
from dockfix.semantics.semantic import expand, layered, scope_at
from dockfix.syntax import Dockerfile, Instruction

_USER_ADDERS = ("useradd", "adduser")


def is_root(user: str) -> bool:
    u = user.strip()
    return u in ("root", "0") or u.startswith(("root:", "0:"))


def user_value(doc: Dockerfile, instr: Instruction) -> str | None:
    """The USER's value with variables expanded; None when a variable is unknown."""
    raw = instr.args.strip()
    if "$" not in raw:
        return raw
    stage = instr.stage
    return expand(raw, layered(scope_at(stage, instr) if stage else {}, doc.global_args))


@dataclass(eq=False)
class Created:
    """A user a RUN creates (`useradd`, `adduser`)."""

    name: str
    uid: str | None  # numeric, or None when not given (or not a number)
    gid: str | None
    line: int


def _useradd_words(argv: list[str]) -> tuple[str | None, str | None, list[str]]:
    """(uid, gid, operands) of a `useradd` / `adduser` command line."""
    uid = gid = None
    positional: list[str] = []
    k = 1
    while k < len(argv):
        a = argv[k]
        if a in UID_OPTIONS and k + 1 < len(argv):
            uid = argv[k + 1]
            k += 2
            continue
        if a.startswith("--uid="):
            uid = a.split("=", 1)[1]
        elif a in GROUP_OPTIONS and k + 1 < len(argv):
            if a in ("-g", "--gid"):
                gid = argv[k + 1]
            k += 2
            continue
        elif (a in HOME_OPTIONS or a in OTHER_VALUE_OPTIONS) and k + 1 < len(argv):
            k += 2
            continue
        elif not a.startswith("-"):
            positional.append(a)
        k += 1
    return uid, gid, positional


def created_users(doc: Dockerfile, instrs: list[Instruction]) -> list[Created]:
    """The users the RUNs of ``instrs`` create, in order."""
    out: list[Created] = []
    for instr in runs_naming(doc, instrs, _USER_ADDERS):
        for _, cmd in analyse_run(doc, instr).commands():
            argv = cmd.argv
            if not argv or argv[0] not in _USER_ADDERS:
                continue
            uid, gid, positional = _useradd_words(argv)
            if positional:
                out.append(
                    Created(
                        positional[-1] if argv[0] == "useradd" else positional[0],
                        uid if uid and uid.isdigit() else None,
                        gid if gid and gid.isdigit() else None,
                        instr.start_line,
                    )
                )
    return out


def chowned_to_unknown_user(instrs: list[Instruction], created: set[str]) -> tuple[str, int] | None:
    """(user, line) of a `--chown` to a named user the file does not create, if any."""
    for instr in instrs:
        flag = instr.flag("chown") if instr.keyword in ("COPY", "ADD") else None
        if flag is None or not flag.value or "$" in flag.value:
            continue
        user = flag.value.split(":", 1)[0]
        if user and not user.isdigit() and user not in created and user != "root":
            return user, instr.start_line
    return None


def numeric_user(value: str, created: list[Created], base: Base) -> str | None:
    """``value`` (``name[:group]``) as the numeric ``uid[:gid]`` a USER line needs, when the
    file creates that user with a fixed UID or the base image is known to have it."""
    name, _, group = value.partition(":")
    if name.isdigit() and (not group or group.isdigit()):
        return value
    for c in reversed(created):
        if c.name == name and c.uid is not None and (not group or group == name):
            return f"{c.uid}:{c.gid}" if c.gid else c.uid
    if base.user and name == base.user and base.uid is not None and group in ("", name):
        return f"{base.uid}:{base.uid}"
    return None


def family_from_commands(doc: Dockerfile, instrs: list[Instruction]) -> tuple[str, str] | None:
    """(family, why) from the first package manager the RUNs use (`apt-get`, `apk`)."""
    for instr in runs_naming(doc, instrs, PACKAGE_MANAGER_PROGRAMS):
        for _, cmd in analyse_run(doc, instr).commands():
            sub = subcommand(cmd)
            prog = sub[0] if sub else ""
            known = family_of_package_manager(prog)
            if known is not None:
                family, like = known
                return family, f"the file uses `{prog}` (line {instr.start_line}): {like}"
    return None


@dataclass(eq=False)
class UserChoice:
    """The user the fix runs the image as."""

    value: str  # what `USER` is set to: numeric `uid:gid`
    create: tuple[str, str] | None  # (group command, user command) when the fix creates it
    reused: bool  # the file already set this user up (its files are arranged)
    notes: list[str] = field(default_factory=list)


def choose_user(
    doc: Dockerfile,
    instrs: list[Instruction],
    base: Base,
    users: list[Instruction],
    writes: WriteAnalysis,
    name: str,
    uid: int,
) -> UserChoice | str:
    """The user to run the final stage (``instrs``: its chain) as, or why none can be
    proposed. ``users`` are the chain's USER instructions; ``name``/``uid`` the options."""
    notes: list[str] = []
    value: str | None = None
    earlier = [u for u in users if (v := user_value(doc, u)) is not None and not is_root(v)]
    created = created_users(doc, instrs)
    foreign = chowned_to_unknown_user(instrs, {c.name for c in created})
    if not earlier and foreign is not None and base.uid is None:
        # `COPY --chown=payara:payara` of a user the file never creates: the base image
        # provides that user (and probably runs as it); a fresh UID could not write its files.
        return (
            f"line {foreign[1]} hands files to `{foreign[0]}`, a user the base image "
            f"provides: add `USER {foreign[0]}` (or its numeric UID) if the image does "
            "not already run as it"
        )
    if earlier:
        named = (user_value(doc, earlier[-1]) or "").strip()
        value = numeric_user(named, created, base)
        if value is None:
            return (
                f"line {earlier[-1].start_line} runs as `{named}`, whose UID is not "
                f"known here: switch back with `USER <its UID>` (a named USER cannot be "
                "verified by runAsNonRoot and adds hadolint DL3066)"
            )
        notes.append(f"switches back to the user of line {earlier[-1].start_line}")
    elif writes.handed is not None and not created:
        # `chown -R 1000:2000 /code/media`: the file already chose who writes there.
        value, handed_path, handed_line = writes.handed
        notes.append(f"uses `{value}`, to whom line {handed_line} gives `{handed_path}`")
    elif created:
        c = created[-1]
        if c.uid is None:
            return (
                f"line {c.line} creates user `{c.name}` without a fixed UID; give it one "
                f"(`--uid {uid}`) and add `USER {uid}` (a named USER cannot be verified "
                "by runAsNonRoot and adds hadolint DL3066)"
            )
        value = f"{c.uid}:{c.gid}" if c.gid else c.uid
        notes.append(f"uses the user `{c.name}` created on line {c.line}")
    reused = bool(earlier or created)
    if value is not None:
        return UserChoice(value, None, reused, notes)
    return _new_user(doc, instrs, base, name, uid, notes)


def _new_user(
    doc: Dockerfile, instrs: list[Instruction], base: Base, name: str, uid: int, notes: list[str]
) -> UserChoice:
    """The base image's own non-root user, a user created the family's way, or a numeric
    user without a passwd entry."""
    family, why = base.family, base.why
    if family == "numeric" and not base.ref:
        why = "the base image is not known"
    if family == "numeric":
        family, why = family_from_commands(doc, instrs) or (family, why)
    defaults = name == "app" and uid == 10001
    if base.uid is not None and (defaults or family == "nonroot-uid"):
        return UserChoice(f"{base.uid}:{base.uid}", None, False, [*notes, why])
    create = user_creation(family, name, uid)
    if create is None:
        notes.append(f"{why}: a numeric user without a passwd entry (HOME is /)")
    elif why:
        notes.append(why)
    return UserChoice(f"{uid}:{uid}", create, False, notes)
