"""Splitting a build-and-run stage into a build stage and a runtime stage: shared by DF302
(Go, Rust), DF305 (Node), DF306 (Java) and DF307 (.NET).

The split keeps the file's bytes: the stage's `FROM` gets a name when it has none, and a new
`FROM` is inserted right after the last build instruction, so every instruction written
after the build (`EXPOSE`, `CMD`, `COPY` of runtime files…) now belongs to the runtime stage
without being moved. The runtime stage starts with the working directory the service ran
in, copies of the runtime settings written before the build (`ENV`, `EXPOSE`, `LABEL`,
`STOPSIGNAL`, `VOLUME`, `CMD`, `ENTRYPOINT`, `HEALTHCHECK`, numeric `USER`, and the `ARG`s
that later instructions use, each with the pragma comments above it) and the `COPY --from`
lines of what the service needs.
"""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from dockfix.core.edits import replace_logical
from dockfix.core.fixer import Edit
from dockfix.core.suppression import is_pragma
from dockfix.fixers._dev_images import is_dev_file
from dockfix.fixers._image_paths import image_workdir_at
from dockfix.fixers._lazy import lazy_re
from dockfix.syntax import arg_pairs

if TYPE_CHECKING:
    from dockfix.fixers._image_paths import BaseImage
    from dockfix.semantics.context import FixContext
    from dockfix.syntax import Dockerfile, Instruction, Stage

# Settings written before the build that the runtime stage must keep.
CARRIED_KEYWORDS = frozenset(
    {"ENV", "EXPOSE", "LABEL", "STOPSIGNAL", "VOLUME", "CMD", "ENTRYPOINT", "HEALTHCHECK"}
)
# What a built image may differ in after a split (`dockfix verify`): a new runtime base.
SPLIT_IMAGE_CHANGES = (
    "files:/**",
    "config:Env",
    "config:WorkingDir",
    "config:User",
    "config:Entrypoint",
    "config:Cmd",
    "config:Labels",
)
_VARIABLE = lazy_re(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def free_stage_name(doc: Dockerfile) -> str:
    """A stage name no stage of the file uses: `build`, `builder`, … ."""
    taken = {st.name for st in doc.stages if st.name}
    for name in ("build", "builder", "build-stage"):
        if name not in taken:
            return name
    n = 2
    while f"build{n}" in taken:
        n += 1
    return f"build{n}"


def numeric_user(instr: Instruction) -> bool:
    return all(part.strip().isdigit() for part in instr.args.split(":"))


def keyword_case(frm: Instruction) -> Callable[[str], str]:
    """Keywords written in the case of the stage's `FROM`."""
    return str.lower if frm.keyword_raw.islower() else str


def split_stage(
    doc: Dockerfile,
    stage: Stage,
    split_after: Instruction,
    runtime: str,
    copies: Sequence[tuple[str, str]],
    builder_lines: Sequence[str] = (),
    workdir: str | None = None,
    runtime_lines: Sequence[str] = (),
    users: frozenset[str] = frozenset(),
    chown: str | None = None,
) -> tuple[str, list[Edit]] | str:
    """(the build stage's name, the edits) that end the build stage after ``split_after``
    and start a runtime stage on ``runtime``; or why not.

    ``copies`` are (path in the build stage, destination) pairs for the runtime stage's
    `COPY --from` lines; ``builder_lines`` are instructions added at the end of the build
    stage (a prune of development dependencies); ``workdir`` replaces the build stage's
    working directory in the runtime stage, and ``runtime_lines`` follow the copies.
    A `USER` written before the split is carried when numeric or one of ``users`` (the
    users the runtime image has); ``chown`` is the owner the copies keep (the build stage's
    `COPY --chown`).
    """
    frm = stage.from_instruction
    kw = keyword_case(frm)
    edits: list[Edit] = []
    alias = stage.alias
    if alias is None:
        alias = free_stage_name(doc)
        words = frm.args_words()
        if not words:
            return "the FROM line cannot be read"
        _, _, end = words[0]
        edits.append(replace_logical(frm, end, end, f" {kw('AS')} {alias}"))
    cwd = workdir or image_workdir_at(doc, stage, split_after)
    if cwd is None:
        return "the build stage's WORKDIR is not known"
    lines = [*builder_lines, "", f"{kw('FROM')} {runtime}"]
    split = stage.instructions.index(split_after) + 1
    before, after = stage.instructions[:split], stage.instructions[split:]
    # The stage's own `WORKDIR` right after the split sets it again: copies to absolute
    # destinations do not need it first.
    again = bool(after) and after[0].keyword == "WORKDIR" and after[0].args.strip() == cwd
    if cwd != "/" and not (again and all(d.startswith("/") for _, d in copies)):
        lines.append(f"{kw('WORKDIR')} {cwd}")
    # Build arguments the runtime instructions use must be declared there too.
    used = set(_VARIABLE.findall("".join(i.logical[i.args_start :] for i in after)))
    for i in before:
        carried = i.keyword in CARRIED_KEYWORDS or (
            i.keyword == "USER" and (numeric_user(i) or i.args.split(":")[0].strip() in users)
        )
        if i.keyword == "ARG":
            carried = any(name in used for name, _ in arg_pairs(i))
        if not carried:
            continue
        lines.extend(c for c in doc.comment_lines_above(i) if is_pragma(c))
        lines.append(doc.source[i.start : i.end])
    owner = f" --chown={chown}" if chown else ""
    lines.extend(f"{kw('COPY')} --from={alias}{owner} {src} {dest}" for src, dest in copies)
    lines.extend(runtime_lines)
    edits.append(insert_lines_after(doc, split_after, lines))
    return alias, edits


def in_build_stage(
    doc: Dockerfile,
    stage: Stage,
    split_after: Instruction,
    project: str,
    names: list[str],
    ctx: FixContext,
) -> list[str]:
    """The project entries ``names`` that a COPY/ADD puts there before the split: one written
    after the build belongs to the runtime stage, and a `COPY --from` of it from the build
    stage would fail ("not found")."""
    from dockfix.fixers._image_paths import context_source

    later = stage.instructions[stage.instructions.index(split_after) + 1 :]
    before = later[0] if later else None
    return [
        n
        for n in names
        if context_source(doc, stage, posixpath.join(project, n), ctx, before) is not None
    ]


def insert_lines_after(doc: Dockerfile, instr: Instruction, lines: Sequence[str]) -> Edit:
    """The ``lines`` inserted right after ``instr``: on the next line, or after a line break
    added at the end of a file that ends without one (it still ends without one)."""
    text = doc.eol.join(lines)
    if instr.next == instr.end:
        return Edit.insert(instr.end, doc.eol + text)
    return Edit.insert(instr.next, text + doc.eol)


def carried_variable_problem(before: Sequence[Instruction]) -> str | None:
    """A runtime setting written before the split that uses a variable: copied into the
    runtime stage, it could expand differently there."""
    for i in before:
        if i.keyword in CARRIED_KEYWORDS and "$" in i.logical[i.args_start :]:
            return (
                f"`{i.keyword}` at line {i.start_line} uses a build variable; copied into "
                "the runtime stage it could change value"
            )
    return None


def service_stage(
    doc: Dockerfile, ctx: FixContext, wanted: Callable[[BaseImage], bool]
) -> tuple[Stage, BaseImage] | None:
    """The final stage and its base image when it is a Linux service image built from an
    external image that ``wanted`` accepts (it has a start command); None otherwise.

    ``wanted`` is asked first: it rejects most files for the price of a memoised lookup,
    before the file name and the start command are read."""
    from dockfix.fixers._image_paths import base_image, start_command

    stage = doc.final_stage
    if stage is None or stage.parent is not None or doc.escape != "\\":
        return None
    base = base_image(doc, stage)
    if base is None or not wanted(base) or base.is_windows or is_dev_file(ctx):
        return None
    if start_command(stage) == (None, None):
        return None
    return stage, base


def variables_from_image(doc: Dockerfile, stage: Stage, after: Sequence[Instruction]) -> str | None:
    """A variable that instructions after the split use without the file declaring it (it
    comes from the build image, e.g. `$MAVEN_HOME`), or None."""
    from dockfix.syntax import env_pairs

    declared = set(doc.global_args) | {"PATH", "HOME", "HOSTNAME"}
    for i in stage.instructions:
        if i.keyword == "ARG":
            declared.update(name for name, _ in arg_pairs(i))
        elif i.keyword == "ENV":
            declared.update(name for name, _ in env_pairs(i))
    for i in after:
        for name in _VARIABLE.findall(i.logical[i.args_start :]):
            if name not in declared:
                return f"`${name}` at line {i.start_line}"
    return None


# Packages a build installs for itself (compilers, headers, fetch tools): the runtime stage
# does not need them. Any other package may be used by the service at run time.
BUILD_ONLY_PACKAGES = frozenset(
    {
        "build-essential",
        "gcc",
        "g++",
        "make",
        "cmake",
        "python3",
        "python",
        "git",
        "curl",
        "wget",
        "ca-certificates",
        "gnupg",
        "unzip",
        "xz-utils",
        "pkg-config",
        "libc6-dev",
        "musl-dev",
        "build-base",
        "python3-dev",
        "openssh-client",
    }
)
_INSTALLERS = {
    "apt-get": "install",
    "apt": "install",
    "apk": "add",
    "yum": "install",
    "dnf": "install",
    "microdnf": "install",
}


def stage_problem(
    doc: Dockerfile, stage: Stage, split_after: Instruction, users: frozenset[str]
) -> str | None:
    """Why splitting ``stage`` after ``split_after`` could lose something the service needs
    (checked: settings using build variables, users and `--chown` owners created in the
    stage, OS packages it installs, files copied from other stages or outside the project);
    None when nothing was found. ``users`` are the users the runtime image has."""
    split = stage.instructions.index(split_after) + 1
    before = stage.instructions[:split]
    return (
        _setting_problem(stage, users)
        or carried_variable_problem(before)
        or _package_problem(doc, stage, before)
        or _outside_copy_problem(doc, stage, before, split_after)
    )


def _setting_problem(stage: Stage, users: frozenset[str]) -> str | None:
    """An instruction that changes how the stage builds, or names a user created in it."""
    for i in stage.instructions:
        if i.keyword in ("SHELL", "ONBUILD"):
            return f"`{i.keyword}` at line {i.start_line} changes how the stage builds"
        if i.keyword == "USER":
            name = i.args.split(":")[0].strip()
            if name not in users and not numeric_user(i):
                return f"`USER {i.args}` at line {i.start_line} names a user created in the stage"
        if i.keyword in ("COPY", "ADD"):
            chown = i.flag("chown")
            owner = (chown.value or "").split(":")[0] if chown is not None else ""
            if owner and not owner.isdigit() and owner not in users:
                return (
                    f"`--chown={chown.value if chown else ''}` at line {i.start_line} "
                    "names a user created in the stage"
                )
    return None


def _package_problem(doc: Dockerfile, stage: Stage, before: Sequence[Instruction]) -> str | None:
    """Files another stage brings, or an OS package that is not a build tool, before the
    split: the service may use them at run time."""
    from dockfix.fixers._build_steps import run_steps

    for i in before:
        if i.keyword == "COPY" and i.flag("from") is not None:
            return f"the COPY --from at line {i.start_line} brings files the service may read"
        if i.keyword == "RUN":
            for c in run_steps(doc, stage, i) or []:
                words = [w or "" for w in c.argv]
                verb = _INSTALLERS.get(words[0] if words else "")
                if verb is None or verb not in words:
                    continue
                names = [w for w in words[words.index(verb) + 1 :] if not w.startswith("-")]
                extra = [w for w in names if w.split("=")[0] not in BUILD_ONLY_PACKAGES]
                if extra:
                    return (
                        f"`{words[0]} {verb} {extra[0]}` at line {i.start_line} installs a "
                        "package the service may use at run time"
                    )
    return None


def _outside_copy_problem(
    doc: Dockerfile, stage: Stage, before: Sequence[Instruction], split_after: Instruction
) -> str | None:
    """A COPY/ADD before the split whose files land outside the project directory (the
    runtime stage copies the project's outputs only)."""
    from dockfix.fixers._image_paths import copy_parts

    cwd = image_workdir_at(doc, stage, split_after)
    for i in before:
        if i.keyword in ("COPY", "ADD") and i.flag("from") is None:
            parts = copy_parts(i)
            here = image_workdir_at(doc, stage, i)
            dest = None if parts is None or "$" in parts.dest else parts.dest
            if dest is not None and here is not None:
                dest = posixpath.normpath(posixpath.join(here, dest))
            if dest is None or cwd is None:
                return f"the destination of the {i.keyword} at line {i.start_line} is unknown"
            if not (dest == cwd or dest.startswith(cwd.rstrip("/") + "/")):
                return (
                    f"the {i.keyword} at line {i.start_line} puts files in `{dest}`, outside "
                    f"the project (`{cwd}`); the service may read them at run time"
                )
    return None


def healthcheck_problem(stage: Stage, runtime: str, builder: str) -> str | None:
    """Why the stage's HEALTHCHECK would not run on the smaller ``runtime`` image."""
    if runtime == builder:
        return None
    for i in stage.instructions:
        if i.keyword == "HEALTHCHECK" and i.args.split()[:1] != ["NONE"]:
            text = i.logical[i.args_start :]
            for tool in ("curl", "wget"):
                if tool in text:
                    return (
                        f"the HEALTHCHECK at line {i.start_line} runs `{tool}`, which "
                        f"`{runtime}` does not have"
                    )
    return None


def start_argv(stage: Stage) -> list[str] | str:
    """The start command's words (ENTRYPOINT then CMD; shell form split when it is one
    plain command), or why they cannot be read."""
    from dockfix.fixers._image_paths import start_command

    entry, cmd = start_command(stage)
    argv: list[str] = []
    for start in (entry, cmd):
        if start is None:
            continue
        if start.json_args is not None:
            argv += start.json_args
            continue
        try:
            words = shlex.split(start.args)
        except ValueError:
            return f"the {start.keyword} at line {start.start_line} cannot be read"
        if any(c in start.args for c in "$&|;<>`"):
            return f"the shell-form {start.keyword} at line {start.start_line} is a script"
        argv += words
    if (
        entry is not None
        and entry.json_args is not None
        and argv[:1] == ["docker-entrypoint.sh"]
        and not _copies_file(stage, "docker-entrypoint.sh")
    ):
        argv = argv[1:]  # the node image's script, which runs its arguments
    return argv or "the start command is empty"


def _copies_file(stage: Stage, name: str) -> bool:
    """Whether a COPY/ADD of the stage writes a file called ``name`` (a project's own
    `docker-entrypoint.sh` in place of the image's)."""
    from dockfix.fixers._image_paths import copy_parts

    for i in stage.instructions:
        parts = copy_parts(i) if i.keyword in ("COPY", "ADD") else None
        if parts is not None and name in {
            posixpath.basename(p.rstrip("/")) for p in (*parts.sources, parts.dest)
        }:
            return True
    return False
