"""The variables a FROM line names and whether its image reference is valid as a build
without ``--build-arg`` reads it: shared by DF519 (undefined-arg-in-from) and DF520
(invalid-default-arg-in-from)."""

from __future__ import annotations

import re

from dockfix.registry.image_ref import ImageRef
from dockfix.semantics.semantic import default_reference, stage_chain, variable_uses
from dockfix.syntax import Dockerfile, Stage, arg_pairs, expand

_VARIABLE = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")


def from_variables(doc: Dockerfile, stage: Stage) -> list[str]:
    """The variables the stage's FROM names (its image and its ``--platform``), once each."""
    texts = [stage.base, stage.platform or ""]
    names: dict[str, None] = {}
    for text in texts:
        for use in variable_uses(text, doc.escape):
            names.setdefault(use.name, None)
    return list(names)


def reference_problem(
    doc: Dockerfile, stage: Stage, undeclared: frozenset[str] = frozenset()
) -> tuple[str, str] | None:
    """(what the FROM reads, why it is not an image) when, without ``--build-arg``, the
    stage's FROM is empty or not a valid reference; None when it is valid, names an earlier
    stage, or depends on what cannot be known here."""
    text = default_reference(doc, stage, undeclared)
    if text is None:
        return None
    if not text:
        return text, "an empty image name"
    if text.lower() == "scratch":
        return None
    earlier = doc.stage_named(text)
    if earlier is not None and earlier.index < stage.index:
        return None
    try:
        ImageRef.parse(text)
    except ValueError:
        return text, "not a valid image reference"
    return None


def platform_problem(
    doc: Dockerfile, stage: Stage, undeclared: frozenset[str] = frozenset()
) -> tuple[str, str] | None:
    """(what the FROM's ``--platform`` reads, why BuildKit rejects it) when, without
    ``--build-arg``, it is empty; None when it is not, or depends on a platform argument."""
    if not stage.platform:
        return None
    scope: dict[str, str | None] = {k: v or "" for k, v in doc.global_args.items()}
    scope.update((name, "") for name in undeclared if name not in scope)
    text = expand(stage.platform, scope, doc.escape)
    if text is None or text.strip():
        return None
    return f"--platform={text}", "an empty platform, which BuildKit rejects"


def stage_default(stage: Stage, name: str) -> str:
    """Where the stage itself gives ``name`` a default, which its FROM line does not see
    ('' when it does not): the value the author most likely meant."""
    for instr in stage.instructions:
        if instr.keyword != "ARG":
            continue
        for arg, value in arg_pairs(instr):
            if arg == name and value:
                return (
                    f" (the stage's `ARG {name}={value}` on line {instr.start_line} comes "
                    "after the FROM, which does not see it)"
                )
    return ""


def base_chosen_by_arg(doc: Dockerfile, stage: Stage) -> str | None:
    """The variable that names the image the stage's chain starts from (`FROM ${BASE}`,
    `FROM $REGISTRY/app:1`): another `--build-arg` is another image, with its own WORKDIR,
    USER and ENV. None when the image's name is written (a variable in its tag or digest
    picks a version of the same image)."""
    base = stage_chain(stage)[0].base
    held = _VARIABLE.findall(base)
    # `${BASE:-golang:1.22}` holds colons of its own: hide the variables before splitting
    name = _VARIABLE.sub("\0", base).split("@", 1)[0]
    colon = name.find(":", name.rfind("/") + 1)
    if colon >= 0:
        name = name[:colon]
    for text in held[: name.count("\0")]:
        uses = variable_uses(text, doc.escape)
        if uses:
            return uses[0].name
    return None
