"""Turning findings into output for people (full, concise) and machines (json, json-lines;
SARIF in :mod:`dockfix.output.sarif`, the CI formats in :mod:`dockfix.output.ci_formats`).

Every format is deterministic: findings are sorted by path, line, column and code, and no
format prints times or absolute paths that differ between runs of the same tree.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from dockfix.core.catalog import all_fixers
from dockfix.core.engine import UnsafeFor
from dockfix.core.fixer import Finding, Severity
from dockfix.run.shown import concise_line, fix_marker, full_block

if TYPE_CHECKING:
    from dockfix.output.sarif import FileEdit

CI_FORMATS = ("checkstyle", "gitlab", "codeclimate", "junit", "rdjson")  # ci_formats.py's
FORMATS = ("full", "concise", "json", "json-lines", "sarif", "github", *CI_FORMATS)
# Formats a program reads: they own standard output, so `fix` puts its diff inside them (or in
# --diff-file), never beside them.
STRUCTURED_FORMATS = ("json", "json-lines", "sarif", *CI_FORMATS)
# The formats that print a finding's fix edits (the others need only its applicability).
EDIT_FORMATS = ("json", "json-lines", "rdjson")


def finding_dict(f: Finding) -> dict[str, Any]:
    fixers = all_fixers()
    d: dict[str, Any] = {
        "path": f.path,
        "line": f.line,
        "column": f.column,
        "end_line": f.end_line or f.line,
        "end_column": f.end_column,
        "code": f.code,
        "name": fixers[f.code].name if f.code in fixers else None,
        "message": f.message,
        "severity": f.severity.value,
        "applicability": f.applicability.value,
        "reason": f.reason or None,
        "fix": None,
    }
    if f.fix is not None:
        d["fix"] = {
            "applicability": f.fix.applicability.value,
            "description": f.fix.description,
            "edits": [{"start": e.start, "end": e.end, "content": e.text} for e in f.fix.edits],
            "files": [
                {"path": str(c.path), "created": c.original is None} for c in f.fix.file_changes
            ],
        }
    return d


def render(
    findings: Iterable[Finding],
    fmt: str,
    unsafe: UnsafeFor,
    sources: dict[str, str],
    sarif_root: str | None = None,
) -> str:
    items = sorted(findings, key=Finding.sort_key)
    if fmt == "json":
        return json.dumps([finding_dict(f) for f in items], indent=2, ensure_ascii=False) + "\n"
    if fmt == "json-lines":
        return "".join(json.dumps(finding_dict(f), ensure_ascii=False) + "\n" for f in items)
    if fmt == "concise":
        return "".join(concise_line(f, unsafe) + "\n" for f in items)
    if fmt == "github":
        return "".join(github_line(f) + "\n" for f in items)
    if fmt == "sarif":
        from dockfix.output.sarif import sarif_report

        doc = sarif_report(items, sarif_root, text_of=lambda f: sources.get(f.path))
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if fmt in CI_FORMATS:
        from dockfix.output.ci_formats import render_ci
        from dockfix.output.repo_paths import report_root

        return render_ci(
            fmt,
            items,
            files=sources,
            root=report_root([*sources, *(f.path for f in items)], sarif_root),
            text_of=lambda f: sources.get(f.path),
            suggest=True,
        )
    # Sorted by path first: each file's findings are one run, rendered with its source.
    return "".join(
        render_full_file(group, unsafe, sources.get(path))
        for path, group in itertools.groupby(items, key=lambda f: f.path)
    )


def render_fix(
    fmt: str,
    applied: Sequence[Finding],
    left: Sequence[Finding],
    file_edits: Mapping[str, Sequence[FileEdit]],
    written: Collection[str],
    dry_run: bool,
    sarif_root: str | None = None,
    texts: Mapping[str, tuple[str, str]] | None = None,
) -> str:
    """`fix`'s output in a structured format. json and json-lines: one record per file with a
    change or a finding left: its `diff` (what `fix` would change, or changed with --write:
    the Dockerfile and any other file its fixes edit), `written`, the findings it fixes
    (`applied`) and those left (`findings`). sarif and the CI formats: the findings left and,
    in a dry run (nothing written), the fixed ones too; in SARIF, each file's change as a
    SARIF fix. ``texts``: each Dockerfile's (original, fixed) text, the texts the fixed and
    the left findings' lines are in."""
    from dockfix.output.diffing import unified_diff

    if fmt == "sarif" or fmt in CI_FORMATS:
        fixed = sorted(applied, key=Finding.sort_key) if dry_run else []
        items = sorted([*fixed, *left], key=Finding.sort_key)
        fixed_ids = {id(f) for f in fixed}
        known: Mapping[str, tuple[str, str]] = texts or {}
        text_of = partial(_text_of, known, fixed_ids)
        if fmt in CI_FORMATS:
            from dockfix.output.ci_formats import render_ci
            from dockfix.output.repo_paths import report_root

            root = report_root([*known, *(f.path for f in items)], sarif_root)
            return render_ci(fmt, items, files=known, root=root, text_of=text_of, suggest=False)
        from dockfix.output.sarif import sarif_report

        doc = sarif_report(items, sarif_root, fixed, file_edits, text_of)
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    by_path: dict[str, tuple[list[Finding], list[Finding]]] = {p: ([], []) for p in file_edits}
    for group, findings in enumerate((applied, left)):
        for f in findings:
            by_path.setdefault(f.path, ([], []))[group].append(f)
    records = []
    for path in sorted(by_path):
        done, remaining = by_path[path]
        edits = file_edits.get(path, ())
        records.append(
            {
                "path": path,
                "diff": "".join(unified_diff(old, new, p) for p, old, new in edits),
                "files": [p for p, old, new in edits if old != new],
                "written": path in written,
                "applied": [finding_dict(f) for f in sorted(done, key=Finding.sort_key)],
                "findings": [finding_dict(f) for f in sorted(remaining, key=Finding.sort_key)],
            }
        )
    if fmt == "json-lines":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    return json.dumps(records, indent=2, ensure_ascii=False) + "\n"


def _text_of(
    texts: Mapping[str, tuple[str, str]], fixed_ids: Collection[int], f: Finding
) -> str | None:
    """The text ``f``'s lines are in: its file's original if ``f`` is fixed, else the fixed."""
    pair = texts.get(f.path)
    return None if pair is None else pair[0 if id(f) in fixed_ids else 1]


def render_full_file(findings: Iterable[Finding], unsafe: UnsafeFor, source: str | None) -> str:
    """One file's part of :func:`render`'s full output (its findings share one path). (`check`
    makes it where each file is checked: ``run.shown.file_lines``, tested against this.)"""
    items = sorted(findings, key=Finding.sort_key)
    if not items:
        return ""
    lines = source.split("\n") if source is not None else None
    return "".join(full_block(f, unsafe, lines) + "\n\n" for f in items)


def _gh_escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_escape_prop(s: str) -> str:
    return _gh_escape_data(s).replace(":", "%3A").replace(",", "%2C")


# Workflow commands have three levels; info and style findings are notices.
GITHUB_COMMAND = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "notice",
    Severity.STYLE: "notice",
}


def github_line(f: Finding) -> str:
    props = f"file={_gh_escape_prop(f.path)},line={f.line},col={f.column}"
    if f.end_line:
        props += f",endLine={f.end_line}"
    props += f",title={_gh_escape_prop(f.code)}"
    return f"::{GITHUB_COMMAND[f.severity]} {props}::{_gh_escape_data(f'{f.code} {f.message}')}"


def statistics(findings: Iterable[Finding], unsafe: UnsafeFor) -> str:
    counts: Counter[str] = Counter()
    fixable: dict[str, bool] = {}
    for f in findings:
        counts[f.code] += 1
        if fix_marker(f, unsafe) == "[*] ":
            fixable[f.code] = True
    fixers = all_fixers()
    lines = []
    for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        name = fixers[code].name if code in fixers else ""
        mark = "[*]" if fixable.get(code) else "   "
        lines.append(f"{n:>5}\t{code}\t{mark} {name}")
    return "\n".join(lines) + ("\n" if lines else "")
