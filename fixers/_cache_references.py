"""What keeps a tool's cache mount off a whole DF104 stage tree: an instruction that touches
the cache directory (a COPY/ADD into it or, `--from` a stage of the tree, out of it; a WORKDIR,
VOLUME or other RUN naming it), and a cache that is where the dependencies live while the image
needs them (a CMD that runs the tool; Yarn 2+ with Plug'n'Play)."""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING, NamedTuple

from dockfix.fixers._cache_at_run import runs_yarn_berry
from dockfix.fixers._cache_cleanups import Plan, path_forms, under
from dockfix.fixers._cache_tool import normalised
from dockfix.fixers._lazy import lazy_re
from dockfix.semantics.semantic import workdir_at
from dockfix.syntax import Dockerfile, Instruction, Stage, parse_words

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext


def check_references(
    doc: Dockerfile,
    ctx: FixContext,
    stages: list[Stage],
    plans: list[Plan],
    blockers: dict[str, str],
) -> None:
    """COPY/ADD, WORKDIR, VOLUME and other RUNs that touch a tool's cache directory."""
    planned = {(id(p.instr), p.tool.name) for p in plans}
    by_tool: dict[str, list[Plan]] = {}
    for p in plans:
        by_tool.setdefault(p.tool.name, []).append(p)
    sites: list[_Site] | None = None
    for tool, group in by_tool.items():
        if tool in blockers:
            continue  # the first reason found is the one the findings give
        if sites is None:
            sites = _sites(doc, stages)
        # In plan order (a set's order changes between runs, and the message names one).
        targets = list(dict.fromkeys(t for p in group for t in p.targets))
        homes = {p.env.home for p in group if p.env is not None}
        # How each target may be written, worked out once for all instructions
        forms = [(t, fs, _common_part(fs)) for t in targets for fs in [path_forms(t, homes)]]
        for site in sites:
            instr = site.instr
            if site.dest is not None:
                hit = _copy_hit(site, targets, ctx)
            elif (id(instr), tool) in planned:
                continue  # its commands were checked with its plan
            else:
                hit = _text_hit(site.text, forms)
            if hit is not None:
                blockers[tool] = f"line {instr.start_line} touches the cache directory {hit}"
                break


def _copy_hit(site: _Site, targets: list[str], ctx: FixContext) -> str | None:
    """The first target a COPY/ADD touches."""
    dest = site.dest
    assert dest is not None
    for t in targets:
        # Neither path inside the other: the COPY cannot touch it (most COPYs), unless it
        # copies out of the tree.
        if not (site.from_tree or (dest != "/" and t.startswith(dest)) or dest.startswith(t)):
            continue
        if _copy_touches(site.instr, site.paths, dest, t, site.from_tree, ctx):
            return t
    return None


def _text_hit(text: str, forms: list[tuple[str, tuple[str, ...], str]]) -> str | None:
    """The first target a RUN, WORKDIR or VOLUME names, in any of its forms."""
    for target, fs, part in forms:
        if part in text:
            for f in fs:
                if f in text:
                    return target
    return None


class _Site(NamedTuple):
    """An instruction that may touch a cache directory of the stage tree, read once for every
    tool: a COPY/ADD (its words, its absolute destination) or a RUN, WORKDIR or VOLUME of the
    tree (its text)."""

    instr: Instruction
    paths: list[str]
    dest: str | None  # None for a RUN, WORKDIR or VOLUME
    from_tree: bool  # a COPY --from one of the tree's stages
    text: str


_READ = frozenset({"COPY", "ADD", "RUN", "WORKDIR", "VOLUME"})


def _sites(doc: Dockerfile, stages: list[Stage]) -> list[_Site]:
    """The instructions :func:`check_references` reads, in file order."""
    names: set[str] | None = None
    out: list[_Site] = []
    for instr in doc.instructions:
        keyword = instr.keyword
        if keyword not in _READ:
            continue
        in_tree = instr.stage is not None and instr.stage in stages
        if keyword in ("COPY", "ADD"):
            src = instr.flag("from")
            from_tree = False
            if src is not None:
                names = _names(stages) if names is None else names
                from_tree = (src.value or "").lower() in names
            if not (in_tree or from_tree) or instr.heredocs:
                continue
            paths = _copy_paths(instr)
            if not paths:
                continue
            dest = paths[-1]
            if not dest.startswith("/") and in_tree and instr.stage is not None:
                # the WORKDIR in effect ("/" when it cannot be resolved)
                dest = posixpath.join(workdir_at(doc, instr.stage, instr) or "/", dest)
            dest = normalised(dest if dest.startswith("/") else "/" + dest)
            out.append(_Site(instr, paths, dest, from_tree, ""))
        elif keyword in ("RUN", "WORKDIR", "VOLUME") and in_tree:
            text = instr.logical[instr.args_start :]
            if instr.heredocs:
                text += "".join(h.body for h in instr.heredocs)
            out.append(_Site(instr, [], None, False, text))
    return out


def _common_part(forms: tuple[str, ...]) -> str:
    """A text every form contains (the target's last component, unless the target is HOME)."""
    last = forms[0].rsplit("/", 1)[-1] if forms else ""
    return last if all(last in f for f in forms) else ""


def _names(stages: list[Stage]) -> set[str]:
    """How a ``--from`` names one of the stages: its name or its index."""
    return {st.name for st in stages if st.name} | {str(st.index) for st in stages}


def _copy_touches(
    instr: Instruction, paths: list[str], dest: str, target: str, from_stage: bool, ctx: FixContext
) -> bool:
    """Whether a COPY/ADD (its words ``paths``, its absolute destination ``dest``) puts files
    into the cache directory, or (``--from`` one of the tree's stages) reads from it."""
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


def _copy_paths(instr: Instruction) -> list[str]:
    """A COPY/ADD's sources and destination, unquoted."""
    if instr.json_args is not None:
        words = instr.json_args
    elif '"' in instr.logical or "'" in instr.logical or "\\" in instr.logical:
        words = parse_words(instr.args, "\\")
    else:
        # Without quotes or escapes BuildKit's words are the whitespace-separated ones, which
        # the tree keeps (parse_words reads character by character: most of DF104's time).
        return [w for w, _, _ in instr.args_words()]
    return [w.strip("\"'") for w in words]


# Tools whose "cache" is where the dependencies live: a program that runs them when the
# container starts (`CMD go test ./...`, `mvn spring-boot:run`) needs the store in the image.
_RUNTIME_STORE_TOOLS = {
    "go": lazy_re(r"(?:^|[\s/;&|'\"])go\s+(?:run|test|build|generate|vet|install)\b"),
    "maven": lazy_re(r"(?:^|[\s/;&|'\"])mvnw?\s"),
    "gradle": lazy_re(r"(?:^|[\s/;&|'\"])gradlew?\s"),
    "cargo": lazy_re(r"(?:^|[\s/;&|'\"])cargo\s+(?:run|test|build)\b"),
}


_YARN_NODE_LINKER = lazy_re(r"^\s*nodeLinker\s*:\s*['\"]?(node-modules|pnpm)\b", re.M)


def block_stores_the_image_needs(
    doc: Dockerfile,
    ctx: FixContext,
    stages: list[Stage],
    plans: list[Plan],
    blockers: dict[str, str],
) -> None:
    """Tools whose downloads must stay in the image: no mount for them (found on real files)."""
    tools = {plan.tool.name for plan in plans}
    patterns = [(tool, p) for tool, p in _RUNTIME_STORE_TOOLS.items() if tool in tools]
    for st in stages if patterns else ():
        for instr in st.instructions:
            if instr.keyword not in ("CMD", "ENTRYPOINT"):
                continue
            text = " ".join(instr.json_args) if instr.json_args is not None else instr.args
            for tool, pattern in patterns:
                if pattern.search(text):
                    blockers.setdefault(
                        tool,
                        f"line {instr.start_line} runs {tool} when the container starts, which "
                        "needs the downloaded dependencies in the image",
                    )
    if "yarn" in tools and any(
        p.env is not None and runs_yarn_berry(doc, ctx, p.instr) for p in plans
    ):
        # Yarn 2+ with Plug'n'Play (its default) keeps the packages only in its cache.
        rc = ctx.read_text(".yarnrc.yml") if ctx.has_context else None
        if rc is None or not _YARN_NODE_LINKER.search(rc):
            blockers.setdefault(
                "yarn",
                "Yarn 2+ with Plug'n'Play keeps the packages in its cache: a cache mount would "
                "leave them out of the image (set `nodeLinker: node-modules` to use one)",
            )
