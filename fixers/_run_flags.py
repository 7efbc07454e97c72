"""New `RUN` flags (`--mount=…`): where they are written, and the `# syntax=` frontend that
must know them (DF104's cache mounts, DF515's secret mounts)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from dockfix.core.edits import continuation
from dockfix.fixers._cache_cleanups import continuation_indent
from dockfix.registry.image_lookup import ImageLookups, ImageQuery
from dockfix.registry.image_ref import ImageRef
from dockfix.registry.offline import NOT_IN_CACHE

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext
    from dockfix.syntax import Dockerfile, Instruction

# The frontend a `# syntax=` line added by dockfix names (pinned to its digest when written).
FRONTEND = "docker/dockerfile:1"


def frontend_query() -> ImageQuery:
    return ImageQuery.digest_of(ImageRef.parse(FRONTEND))


def frontend_problem(doc: Dockerfile, since: tuple[int, int], feature: str) -> str:
    """Why the file's ``# syntax=`` frontend may not know ``feature``, which came with
    docker/dockerfile ``since`` ("" when it does, or when the file has no directive)."""
    d = doc.directive("syntax")
    if d is None:
        return ""
    value = d.value.strip()
    ref = ImageRef.parse_loose(value)
    tag = ref.tag or ""
    if ref.short_name not in ("docker/dockerfile", "docker/dockerfile-upstream"):
        return f"the `# syntax={value}` frontend is not docker/dockerfile"
    m = re.match(r"(\d+)(?:\.(\d+))?", tag)
    if m is None or "experimental" in tag:
        return ""
    major, minor = int(m.group(1)), m.group(2)
    if major > since[0] or (major == since[0] and (minor is None or int(minor) >= since[1])):
        return ""  # `1` and `1-labs` name the newest 1.x
    return f"`# syntax={value}` predates {feature} (docker/dockerfile:{since[0]}.{since[1]})"


def pinned_frontend(ctx: FixContext, need: str) -> tuple[str | None, str]:
    """The ``# syntax=`` value to write, pinned to a digest; or None and why there is none,
    starting with ``need`` (dockfix writes no line that DF202 would report)."""
    lookups = ctx.services.get("image_lookups")
    answer = lookups.get(frontend_query()) if isinstance(lookups, ImageLookups) else None
    if answer is not None and answer.ok and answer.digest is not None:
        return f"{FRONTEND}@{answer.digest}", ""
    if answer is None:
        why = "the registry was not asked"
    elif answer.offline_miss:
        why = NOT_IN_CACHE
    else:
        why = answer.error or "no digest"
    return None, f"{need}, and its digest is not known ({why})"


def flags_text(doc: Dockerfile, instr: Instruction, flags: Sequence[str]) -> str:
    """The new flags, written before the command: inline, or one per continuation line."""
    if instr.header_end_line == instr.start_line:
        return "".join(f + " " for f in flags)
    indent = continuation_indent(doc, instr)
    cont = continuation(doc)
    return "".join(f"{f}{cont}{doc.eol}{indent}" for f in flags)
