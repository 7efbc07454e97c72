"""The finding for one whole-tree copy: the files the installs need resolved against the
build context, what blocks a fix, the edits, and whether the fix is safe."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from dockfix.core.fixer import Edit, Finding, Fix, Fixer
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers.copy_before_install._edits import _NoFix, rewrite
from dockfix.fixers.copy_before_install._run import _RunResult
from dockfix.fixers.copy_before_install._site import _Site
from dockfix.fixers.copy_before_install._tree import _ContextUnavailable, _under

if TYPE_CHECKING:
    from dockfix.syntax import Dockerfile


# Tools whose install only fills a download cache (not the image layer).
_FETCH_INTO_CACHE = frozenset({"go", "cargo", "maven", "gradle", "dotnet"})
_COPY_FLAGS_CARRIED = frozenset({"chown", "chmod", "link"})


# Characters a COPY source cannot carry unquoted (word splitting, globbing, expansion).
_UNSAFE_NAME_RE = lazy_re(r"[\s$*?\[\]{}\\'\"`#]")


def build(fixer: Fixer, site: _Site, results: list[_RunResult]) -> Finding | None:
    """The copy's finding, with a safe or unsafe fix or the reason there is none."""
    installs = [r for r in results if r.kind in ("install", "split")]
    label = installs[0].label
    message = site.message(label)
    if site.tree.blind:
        return fixer.finding(
            site.copy,
            message,
            reason="the build context is not on disk (standard input or no --context), so "
            "dockfix cannot see which manifests exist",
        )
    if site.dest is None:
        return fixer.finding(
            site.copy,
            message,
            reason="the copy's destination depends on a value dockfix cannot resolve",
        )
    blockers = [
        f"the copy uses --{f.name}" for f in site.copy.flags if f.name not in _COPY_FLAGS_CARRIED
    ]
    for r in results:
        for p in r.plans:
            blockers.extend(p.blockers)
    try:
        files, dirs = resolve_needs(site, results, blockers)
        check_writes(site, results, blockers)
    except _ContextUnavailable as e:
        blockers.append(str(e))
        files, dirs = [], []
    if blockers:
        return fixer.finding(site.copy, message, reason=_join_reasons(blockers))
    if not files and not dirs:
        return None
    unsafe = _unsafe_reasons(results)
    try:
        edits = rewrite(site, results, files, dirs)
    except _NoFix as e:
        return fixer.finding(site.copy, message, reason=str(e))
    names = ", ".join([f"`{f}`" for f in files] + [f"`{d}/`" for d in dirs])
    description = f"copy {names} first, install, then copy the rest"
    fixed = _apply(site.doc.source, edits)
    if fixed is None:
        return fixer.finding(
            site.copy, message, reason="the rewrite would not parse; please report this file"
        )
    if not _dl3059_hits(site.doc) and _dl3059_hits(fixed):
        return fixer.finding(
            site.copy,
            message,
            reason="the rewrite would leave two short RUN instructions next to each other "
            "(hadolint DL3059); split it by hand",
        )
    if unsafe:
        why = "; ".join(unsafe)
        fix = Fix.unsafe(*edits, description=f"{description} (unsafe: {why})")
        return fixer.finding(site.copy, message, fix, reason=why)
    return fixer.finding(site.copy, message, Fix.safe(*edits, description=description))


def _unsafe_reasons(results: list[_RunResult]) -> list[str]:
    """Why the fix is unsafe (none: it is safe): the installs' own reasons, and a download
    into a cache mount split from the build that reads it."""
    unsafe = _dedupe([u for r in results for p in r.plans for u in p.unsafe])
    for r in results:
        if (
            r.kind == "split"
            and any(f.name == "mount" and "type=cache" in (f.value or "") for f in r.instr.flags)
            and any(p.tool in _FETCH_INTO_CACHE for p in r.plans)
        ):
            unsafe.append(
                "the download lands in the RUN's cache mount; split from the build, the "
                "build step relies on the cache mount still holding it (a layer restored "
                "from a remote cache does not bring the mount back)"
            )
    return unsafe


def resolve_needs(
    site: _Site, results: list[_RunResult], blockers: list[str]
) -> tuple[list[str], list[str]]:
    """The context paths to copy first (files, directories), blockers appended."""
    assert site.dest is not None
    files: list[str] = []
    dirs: list[str] = []
    seen: set[str] = set()
    generated: set[str] = set()
    for r in results:
        for p in r.plans:
            for n in p.needs:
                if n.path in seen or n.path in generated:
                    continue
                seen.add(n.path)
                if site.tree.ambiguous(n.path):
                    blockers.append(
                        f"`{n.path}` is absolute, but where the copy goes depends on the "
                        "base image's WORKDIR or a build argument"
                    )
                    continue
                rel = site.tree.rel(n.path)
                if rel is None:
                    continue
                st = site.tree.state(n.path)
                want = "dir" if n.is_dir else "file"
                if st == want:
                    if _UNSAFE_NAME_RE.search(rel) or not rel:
                        blockers.append(f"`{rel}` cannot be named in a COPY as is")
                    elif n.is_dir:
                        dirs.append(rel)
                    else:
                        files.append(rel)
                elif not n.required:
                    continue
                elif st == "missing":
                    blockers.append(f"`{rel}` is not in the build context")
                elif st == "excluded":
                    blockers.append(f"`.dockerignore` excludes `{rel}`")
                elif st == "symlink":
                    blockers.append(f"`{rel}` is a symbolic link")
                else:
                    blockers.append(f"`{rel}` is a {st}, not a {want}")
            generated.update(p.writes)
    return files, dirs


def check_writes(site: _Site, results: list[_RunResult], blockers: list[str]) -> None:
    assert site.dest is not None
    for r in results:
        for p in r.plans:
            for w in p.writes:
                if not w or w in p.stubs:
                    continue
                if site.tree.ambiguous(w):
                    blockers.append(f"`{p.tool}` writes to `{w}`, which dockfix cannot place")
                    continue
                rel = site.tree.rel(w)
                if rel is None:
                    if _under(site.dest, w):
                        blockers.append(f"`{p.tool}` writes over the copied tree at `{w}`")
                    continue
                if site.tree.brings(w):
                    blockers.append(
                        f"the build context contains `{rel}`, which `{p.tool}` writes; "
                        "copied after the install it would lay over what was installed "
                        f"(exclude `{rel}` in .dockerignore)"
                    )


def _apply(source: str, edits: list[Edit]) -> Dockerfile | None:
    """The edited file's tree, or None when the edits do not apply or the result does not
    parse."""
    from dockfix.core.edits import apply_edits
    from dockfix.syntax import parse_lossless

    try:
        fixed = parse_lossless(apply_edits(source, edits))
    except ValueError:
        return None
    return fixed if fixed.error is None else None


def _dl3059_hits(doc: Dockerfile) -> int:
    """hadolint DL3059: consecutive single-command RUNs with the same flags (comments between)."""
    from dockfix.semantics.shell import shell_of

    hits = 0
    prev: tuple[tuple[str, ...], int] | None = None
    for instr in doc.instructions:
        if instr.keyword != "RUN":
            prev = None
            continue
        flags = tuple(sorted(f.raw for f in instr.flags))
        script = shell_of(instr)
        count = len(script.commands) if script is not None else 1
        # hadolint counts one more than the simple commands: only single-command RUNs match.
        if prev is not None and prev[0] == flags and count <= 1 and prev[1] <= 1:
            hits += 1
        prev = (flags, count)
    return hits


def _join_reasons(reasons: list[str]) -> str:
    return "; ".join(_dedupe(reasons))


def _dedupe(items: Iterable[str]) -> list[str]:
    out: list[str] = []
    for x in items:
        if x not in out:
            out.append(x)
    return out
