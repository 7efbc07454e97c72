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

import os
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from dockfix.edits import replace_logical
from dockfix.fixer import Edit
from dockfix.fixers._build_artifacts import workdir_at
from dockfix.fixers._lazy import lazy_re
from dockfix.suppression import is_pragma
from dockfix.syntax import arg_pairs

if TYPE_CHECKING:
    from dockfix.context import FixContext
    from dockfix.syntax import Dockerfile, Instruction, Stage

# Settings written before the build that the runtime stage must keep.
CARRIED_KEYWORDS = frozenset(
    {"ENV", "EXPOSE", "LABEL", "STOPSIGNAL", "VOLUME", "CMD", "ENTRYPOINT", "HEALTHCHECK"}
)
_DEV_FILE = lazy_re(r"(^|[./_-])(dev|devel|development)([./_-]|$)", re.I)
_DOCKERFILE_WORD = lazy_re(r"dockerfile", re.I)
_VARIABLE = lazy_re(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def is_dev_file(ctx: FixContext) -> bool:
    """`Dockerfile.dev`, `*.dev.Dockerfile`, files under `.devcontainer/`: development images,
    which keep their toolchain on purpose."""
    if ctx.path is None:
        return False
    if ".devcontainer" in os.fspath(ctx.path).replace(os.sep, "/").split("/"):
        return True
    stem = _DOCKERFILE_WORD.sub("", ctx.path.name)
    return bool(_DEV_FILE.search(stem))


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
) -> tuple[str, list[Edit]] | str:
    """(the build stage's name, the edits) that end the build stage after ``split_after``
    and start a runtime stage on ``runtime``; or why not.

    ``copies`` are (path in the build stage, destination) pairs for the runtime stage's
    `COPY --from` lines; ``builder_lines`` are instructions added at the end of the build
    stage (a prune of development dependencies).
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
    cwd = workdir_at(doc, stage, split_after)
    if cwd is None:
        return "the build stage's WORKDIR is not known"
    lines = [*builder_lines, "", f"{kw('FROM')} {runtime}"]
    if cwd != "/":
        lines.append(f"{kw('WORKDIR')} {cwd}")
    split = stage.instructions.index(split_after) + 1
    before, after = stage.instructions[:split], stage.instructions[split:]
    # Build arguments the runtime instructions use must be declared there too.
    used = set(_VARIABLE.findall("".join(i.logical[i.args_start :] for i in after)))
    for i in before:
        carried = i.keyword in CARRIED_KEYWORDS or (i.keyword == "USER" and numeric_user(i))
        if i.keyword == "ARG":
            carried = any(name in used for name, _ in arg_pairs(i))
        if not carried:
            continue
        lines.extend(c for c in doc.comment_lines_above(i) if is_pragma(c))
        lines.append(doc.source[i.start : i.end])
    lines.extend(f"{kw('COPY')} --from={alias} {src} {dest}" for src, dest in copies)
    text = doc.eol.join(lines)
    if split_after.next == split_after.end:  # the file ends without a line break: keep it so
        edits.append(Edit.insert(split_after.end, doc.eol + text))
    else:
        edits.append(Edit.insert(split_after.next, text + doc.eol))
    return alias, edits


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
