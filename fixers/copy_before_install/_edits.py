"""The rewrite: the manifests copied first (grouped by directory, with the copy's flags and
pragmas), the install commands changed, the whole-tree copy moved below the install, and the
project install repeated after it."""

from __future__ import annotations

import json
import posixpath
from typing import TYPE_CHECKING

from dockfix.core.fixer import Edit
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers.copy_before_install._command import _argv_words, _Plan
from dockfix.fixers.copy_before_install._run import _RunResult
from dockfix.fixers.copy_before_install._site import _Site
from dockfix.fixers.copy_before_install._stage import (
    _expand,
    _scope,
    _var_names,
    _workdir_at,
)
from dockfix.fixers.copy_before_install._tree import _join, _synthetic_root
from dockfix.semantics.semantic import layered, unquote_word

if TYPE_CHECKING:
    from dockfix.semantics.shell import SimpleCommand
    from dockfix.syntax import Dockerfile, Instruction


_PRAGMA_RE = lazy_re(r"#\s*(?:hadolint|dockfix)\s+ignore\s*=|#\s*trivy:ignore|#\s*checkov:skip")
_HADOLINT_IGNORE_RE = lazy_re(r"(\s*#\s*hadolint\s+ignore\s*=\s*)(\S+)(.*)")


class _NoFix(Exception):
    """The fix cannot be written; the message is the display-only reason."""


def rewrite(
    site: _Site, results: list[_RunResult], files: list[str], dirs: list[str]
) -> list[Edit]:
    """The fix's edits: the manifests copied in place of the whole tree, the install commands
    changed, and the whole-tree copy (and a repeated project install) after the install."""
    assert site.dest is not None
    pragmas = [c for c in site.doc.comment_lines_above(site.copy) if _PRAGMA_RE.match(c)]
    edits = [_manifest_copies(site, files, dirs, pragmas)]
    for r in results:
        for p in r.plans:
            edits.extend(_install_edits(site, r, p))
    edits.append(_copy_after_install(site, results, files, dirs, pragmas))
    return edits


def _manifest_copies(site: _Site, files: list[str], dirs: list[str], pragmas: list[str]) -> Edit:
    """The whole-tree copy becomes the copies of the manifests, grouped by the directory they
    land in (its pragmas repeated above each)."""
    from dockfix.core.edits import indent_of

    doc = site.doc
    eol = doc.eol
    copy = site.copy
    indent = indent_of(doc, copy)
    kw = "copy" if copy.keyword_raw.islower() else "COPY"
    flags = " ".join(f.raw for f in copy.flags)
    groups: dict[str, list[str]] = {}
    for f in files:
        groups.setdefault(posixpath.dirname(f), []).append(f)
    lines: list[str] = []
    for sub in sorted(groups, key=lambda s: (s != "", s)):
        lines.append(copy_line(site, kw, flags, groups[sub], sub))
    for d in dirs:
        lines.append(copy_line(site, kw, flags, [d], d))
    text = lines[0]
    for extra in lines[1:]:
        text += "".join(f"{eol}{indent}{p}" for p in pragmas) + f"{eol}{indent}{extra}"
    return Edit(copy.start, copy.end, indent + text)


def _install_edits(site: _Site, r: _RunResult, p: _Plan) -> list[Edit]:
    """The changes to one install command: its own edits, cargo's target stubs, a hadolint
    pragma for the RUN."""
    edits: list[Edit] = []
    for s, e, t in p.edits:
        if r.instr.json_args is not None:
            raise _NoFix("the exec-form install would need rewriting")
        a, b = r.instr.source_span(s, e)
        edits.append(Edit(a, b, t))
    if p.stubs:
        node_start = _plan_node_start(r, p)
        if node_start is None:
            raise _NoFix("cannot place the target stubs for cargo")
        cwd = _run_cwd_for(site, r, p)
        rels = [posixpath.relpath(s, cwd) for s in p.stubs]
        dirs_needed = sorted({posixpath.dirname(x) for x in rels} - {""})
        stub = f"mkdir -p {' '.join(dirs_needed)} && " if dirs_needed else ""
        stub += f"touch {' '.join(rels)} && "
        at = r.instr.to_source(node_start)
        edits.append(Edit(at, at, stub))
    if p.hadolint_ignores:
        pragma = hadolint_pragma(site, r.instr, p.hadolint_ignores)
        if pragma is not None:
            edits.append(pragma)
    return edits


def _copy_after_install(
    site: _Site, results: list[_RunResult], files: list[str], dirs: list[str], pragmas: list[str]
) -> Edit:
    """The whole-tree copy after the last install: inserted below it, or at the `&&` where a
    split RUN is cut (the commands after it, and a repeated project install, follow)."""
    from dockfix.core.edits import indent_of

    doc = site.doc
    eol = doc.eol
    last = results[-1]
    check_workdirs(site, last.instr, [posixpath.dirname(f) for f in files] + dirs)
    moved = moved_copy(site, last.instr)
    run_pragmas = [c for c in doc.comment_lines_above(last.instr) if _PRAGMA_RE.match(c)]
    reinstall = [p for r in results for p in r.plans if p.reinstall]
    for r in results:
        if r is not last and any(p.reinstall for p in r.plans):
            raise _NoFix("the project install would have to move past another RUN")
    run_kw = last.instr.keyword_raw
    run_flags = " ".join(f.raw for f in last.instr.flags)
    head = run_kw + (" " + run_flags if run_flags else "") + " "
    prefix = "".join(s + " && " for s in last.state)
    again = "".join(_command_text(last, p) + " && " for p in reinstall)
    run_indent = indent_of(doc, last.instr)
    if last.kind != "split":
        block = [*pragmas, moved]
        if reinstall:
            body = prefix + " && ".join(_command_text(last, p) for p in reinstall)
            block += [*run_pragmas, head + body]
        return _insert_after(doc, last.instr, block)
    chain = last.script.chain
    prev = chain[last.split_at - 1]
    nxt = chain[last.split_at]
    a = last.instr.source_span(prev.start, prev.end)[1]
    b = last.instr.to_source(nxt.start)
    comments = [
        doc.line_text(n).strip()
        for n in range(last.instr.start_line, last.instr.end_line + 1)
        if a <= doc.line(n).start < b and doc.line_text(n).strip().startswith("#")
    ]
    block = [*comments, *pragmas, moved, *run_pragmas]
    text = "".join(f"{eol}{run_indent}{x}" for x in block)
    return Edit(a, b, text + f"{eol}{run_indent}{head}{prefix}{again}")


def check_workdirs(site: _Site, last: Instruction, targets: list[str]) -> None:
    """A WORKDIR inside the tree, between the copy and the install, now creates its
    directory before the copy does: as root, where the copy's --chown/--chmod would have
    applied (BuildKit leaves an existing directory's owner alone)."""
    assert site.dest is not None
    if not any(f.name in ("chown", "chmod") for f in site.copy.flags):
        return
    created = set()
    for t in targets:
        while t:
            created.add(t)
            t = posixpath.dirname(t)
    instrs = site.stage.instructions
    for j in range(site.index + 1, site.stage.local_index(last)):
        if instrs[j].keyword != "WORKDIR":
            continue
        path = _workdir_at(site.stage, j + 1, site.doc)
        rel = site.tree.rel(path) if path else None
        if rel and rel not in created:
            raise _NoFix(
                f"the WORKDIR at line {instrs[j].start_line} would create `{rel}` before "
                "the copy, without the copy's --chown/--chmod"
            )


def copy_line(site: _Site, kw: str, flags: str, sources: list[str], sub: str) -> str:
    dest = site.source.dest
    base = dest.rstrip("/") or "/"
    if base in (".", "./"):
        target = "./" + (sub + "/" if sub else "")
    elif base == "/":
        target = "/" + (sub + "/" if sub else "")
    else:
        target = base + "/" + (sub + "/" if sub else "")
    if site.copy.json_args is not None:
        args = json.dumps([*sources, target])
    else:
        args = " ".join([*sources, target])
    return kw + (" " + flags if flags else "") + " " + args


def moved_copy(site: _Site, insert_after: Instruction) -> str:
    """The original COPY for its new place (destination made absolute when needed)."""
    assert site.dest is not None
    copy = site.copy
    from dockfix.core.edits import indent_of

    text = site.doc.source[copy.start + len(indent_of(site.doc, copy)) : copy.end]
    stage = site.stage
    later = stage.local_index(insert_after)
    scope_then = _scope(site.doc, stage, copy)
    scope_now = _scope(site.doc, stage, insert_after)
    for name in _var_names(" ".join(f.raw for f in copy.flags)):
        if scope_then.get(name) != scope_now.get(name):
            raise _NoFix(f"`${name}` used by the copy changes before the install")
    dest = site.source.dest
    cwd_now = _workdir_at(stage, later, site.doc)
    changed = any(scope_then.get(n) != scope_now.get(n) for n in _var_names(dest))
    relative = not (_expand(unquote_word(dest), scope_then) or "").startswith("/")
    if not changed and (not relative or cwd_now == site.cwd):
        return text
    if _synthetic_root(site.dest) is not None:
        raise _NoFix(
            "a WORKDIR between the copy and the install changes its destination, which "
            "depends on the base image's WORKDIR or a build argument"
        )
    kw = copy.keyword_raw
    flags = " ".join(f.raw for f in copy.flags)
    if copy.json_args is not None:
        args = json.dumps([site.source.src, site.dest])
    else:
        args = f"{site.source.src} {site.dest}"
    return kw + (" " + flags if flags else "") + " " + args


def hadolint_pragma(site: _Site, instr: Instruction, codes: set[str]) -> Edit | None:
    doc = site.doc
    from dockfix.core.edits import indent_of

    indent = indent_of(doc, instr)
    n = instr.start_line - 1
    if n >= 1 and doc.instruction_at_line(n) is None:
        line = doc.line(n)
        m = _HADOLINT_IGNORE_RE.fullmatch(doc.line_text(n))
        if m:
            have = set(m.group(2).split(","))
            add = sorted(codes - have)
            if not add:
                return None
            end = line.start + len(m.group(1)) + len(m.group(2))
            return Edit(end, end, "," + ",".join(add))
    return Edit(
        instr.start,
        instr.start,
        f"{indent}# hadolint ignore={','.join(sorted(codes))}{doc.eol}",
    )


def _insert_after(doc: Dockerfile, instr: Instruction, lines: list[str]) -> Edit:
    from dockfix.core.edits import indent_of

    indent = indent_of(doc, instr)
    eol = doc.eol
    body = "".join(f"{indent}{line}{eol}" for line in lines)
    if instr.next == instr.end:  # the last line has no line break: keep it that way
        return Edit.insert(instr.end, eol + body[: -len(eol)])
    return Edit.insert(instr.next, body)


def _plan_node_start(r: _RunResult, p: _Plan) -> int | None:
    node = _plan_node(r, p)
    return node.start if node is not None else None


def _plan_node(r: _RunResult, p: _Plan) -> SimpleCommand | None:
    if r.script is None:
        return None
    for item in r.script.chain:
        node: SimpleCommand | None = item.command
        if node is not None and r.instr.logical[node.start : node.end].strip() == p.label:
            return node
    return None


def _run_cwd_for(site: _Site, r: _RunResult, p: _Plan) -> str:
    """The working directory when the plan's command runs (after the RUN's `cd`s)."""
    index = site.stage.local_index(r.instr)
    cwd = _workdir_at(site.stage, index, site.doc) or "/"
    env = layered(_scope(site.doc, site.stage, r.instr))
    node = _plan_node(r, p)
    if r.script is None or node is None:
        return cwd
    for item in r.script.chain:
        if item.command is node:
            break
        c = item.command
        if c is None:
            continue
        argv, _ = _argv_words(c)
        if argv[:1] == ["cd"] and len(argv) == 2:
            target = _expand(argv[1], env) if "$" in argv[1] else argv[1]
            if target is not None:
                cwd = _join(cwd, target)
    return cwd


def _command_text(r: _RunResult, p: _Plan) -> str:
    node = _plan_node(r, p)
    if node is None:
        raise _NoFix("cannot repeat the project install")
    return r.instr.logical[node.start : node.end].strip()
