"""What a distroless runtime stage lacks, for the split of a toolchain image (DF302): no
shell (every `RUN`, shell-form start command and `HEALTHCHECK` needs one), only the users
`root`, `nonroot` and `nobody`, and, as `:nonroot`, no privileged ports; nor the build
stage's files the start command names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dockfix.fixers._image_paths import copy_parts, image_workdir_at
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._runtime_stage import numeric_user
from dockfix.semantics.semantic import is_within, resolve_path

if TYPE_CHECKING:
    from dockfix.syntax import Dockerfile, Instruction, Stage

# Instructions that may follow the build in the runtime stage.
_RUNTIME_KEYWORDS = frozenset(
    {
        "EXPOSE",
        "ENV",
        "LABEL",
        "CMD",
        "ENTRYPOINT",
        "USER",
        "STOPSIGNAL",
        "WORKDIR",
        "VOLUME",
        "ARG",
        "COPY",
        "ADD",
        "HEALTHCHECK",
        "MAINTAINER",
    }
)
_DISTROLESS_USERS = frozenset({"root", "nonroot", "nobody", "0", "65532", "65534"})
_ARGUMENT_SPLIT = lazy_re(r"[=,:]")  # `--config=/etc/app.yaml`, `a.txt,b.txt`
_FILE_NAME = lazy_re(r"\w\.\w")
_PORT = lazy_re(r"\b(\d+)(?:/\w+)?\b")


def shell_problem(
    stage: Stage,
    build_is_last: bool,
    last_run: Instruction,
    after: list[Instruction],
    entry: Instruction | None,
    cmd: Instruction | None,
) -> str | None:
    """What in the stage needs a shell, or an instruction the runtime part cannot have."""
    if not build_is_last:
        return (
            f"the RUN at line {last_run.start_line} runs after the build; a distroless "
            "runtime has no shell to run it"
        )
    for i in stage.instructions:
        if i.keyword in ("SHELL", "ONBUILD"):
            return f"`{i.keyword}` at line {i.start_line} needs a shell image"
    for i in after:
        if i.keyword not in _RUNTIME_KEYWORDS:
            return f"`{i.keyword}` at line {i.start_line} cannot move to a distroless stage"
    for start in (entry, cmd):
        if start is not None and start.json_args is None:
            return (
                f"the shell-form `{start.keyword}` at line {start.start_line} needs /bin/sh, "
                "which distroless images do not have"
            )
    return None


def volume_problem(stage: Stage, after: list[Instruction]) -> str | None:
    """A `VOLUME` the service writes to: the `:nonroot` runtime's user (65532) cannot write
    in a directory the image creates as root, which the original, run as root, could."""
    users = [_user_name(i) for i in after if i.keyword == "USER"]
    if users and users[-1] in ("root", "0"):
        return None
    for i in stage.instructions:
        if i.keyword == "VOLUME":
            return (
                f"`VOLUME {i.args.strip()}` at line {i.start_line}: the service writes there, "
                "and the distroless `:nonroot` user (uid 65532) could not write in a "
                "directory the image creates as root"
            )
    return None


def user_problem(after: list[Instruction]) -> str | None:
    """A `USER` or `--chown` of the runtime part naming a user distroless images lack."""
    for i in after:
        if i.keyword == "USER" and (_user_name(i) not in _DISTROLESS_USERS and not numeric_user(i)):
            return (
                f"`USER {i.args}` names a user created in the build stage; distroless "
                "images only have root, nonroot and nobody"
            )
        if i.keyword in ("COPY", "ADD"):
            chown = i.flag("chown")
            if chown is not None and chown.value:
                user = chown.value.split(":")[0]
                if not user.isdigit() and user not in _DISTROLESS_USERS:
                    return (
                        f"`--chown={chown.value}` at line {i.start_line} names a user the "
                        "distroless image does not have"
                    )
    return None


def healthcheck_problem(instrs: list[Instruction], cwd: str | None, location: str) -> str | None:
    """A HEALTHCHECK that runs anything but the built binary (distroless has no shell)."""
    for i in instrs:
        if i.keyword == "HEALTHCHECK":
            args = i.args.split()
            if args and args[0].upper() == "NONE":
                continue
            if (
                i.json_args is None
                or not i.json_args
                or (resolve_path(i.json_args[0], cwd) != location)
            ):
                return (
                    f"the HEALTHCHECK at line {i.start_line} needs a shell or tools that "
                    "distroless images do not have"
                )
    return None


def start_files_problem(
    doc: Dockerfile,
    stage: Stage,
    after: list[Instruction],
    location: str,
    cwd: str | None,
    entry: Instruction | None,
    cmd: Instruction | None,
) -> str | None:
    """An argument of the start command naming a file of the build stage."""
    runtime_dirs = [d for d in (copy_dest(doc, stage, i) for i in after) if d]
    words: list[str] = []
    for start in (entry, cmd):
        if start is not None and start.json_args is not None:
            # The program itself is checked elsewhere: only its arguments here.
            words.extend(start.json_args[1:] if start is (entry or cmd) else start.json_args)
    for w in words:
        for tok in _ARGUMENT_SPLIT.split(w):
            if (
                not tok
                or tok.startswith(("-", "http"))
                or not ("/" in tok or _FILE_NAME.search(tok))
            ):
                continue
            p = resolve_path(tok, cwd)
            if p is None or p == location or any(is_within(p, d) for d in runtime_dirs):
                continue
            return (
                f"the start command uses `{tok}`, a file of the build stage that the runtime "
                "stage would not have"
            )
    return None


def port_problem(stage: Stage, before: list[Instruction], after: list[Instruction]) -> str | None:
    """A privileged port served as root that the :nonroot image's user could not bind."""
    new_user = "nonroot"
    for i in [*before, *after]:
        if i.keyword == "USER" and (i in after or numeric_user(i)):
            new_user = _user_name(i)
    if _effective_user(stage) in (None, "root", "0") and new_user not in ("root", "0"):
        for i in stage.instructions:
            if i.keyword == "EXPOSE":
                for port in _PORT.findall(i.args):
                    if int(port) < 1024:
                        return (
                            f"the service listens on port {port} as root; the distroless "
                            ":nonroot image runs as uid 65532, which cannot bind it outside "
                            "Docker's default sysctls"
                        )
    return None


def _user_name(instr: Instruction) -> str:
    return instr.args.split(":")[0].strip()


def _effective_user(stage: Stage) -> str | None:
    user = None
    for i in stage.instructions:
        if i.keyword == "USER":
            user = _user_name(i)
    return user


def copy_dest(doc: Dockerfile, stage: Stage, instr: Instruction) -> str | None:
    if instr.keyword not in ("COPY", "ADD"):
        return None
    parts = copy_parts(instr)
    if parts is None or "$" in parts.dest:
        return None
    return resolve_path(parts.dest, image_workdir_at(doc, stage, instr))
