"""`check`'s full and concise outputs, one finding and one file at a time: made where a file
is checked (a worker process, or from its results-cache entry), so that its findings need not
travel to the process that prints them (:mod:`dockfix.output.report` shows the rest).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dockfix.core.engine import FileLines, UnsafeFor, fix_applies, fixable_summary
from dockfix.core.fixer import Applicability, Finding, Severity


def fix_marker(f: Finding, unsafe: UnsafeFor) -> str:
    if f.fix is None or f.fix.applicability is Applicability.DISPLAY_ONLY:
        return ""
    if fix_applies(f, unsafe):
        return "[*] "
    return "[-] "  # fixable with --unsafe-fixes


def concise_line(f: Finding, unsafe: UnsafeFor) -> str:
    # (severity.value: an enum member formats through Enum.__format__, a large run's hot spot)
    return (
        f"{f.path}:{f.line}:{f.column}: {f.code} {fix_marker(f, unsafe)}{f.severity.value}: "
        f"{f.message}"
    )


_SEVERITY_INDEX = {s: i for i, s in enumerate(Severity)}


def file_lines(
    findings: Iterable[Finding],
    unsafe: bool,
    source: str | None,
    fmt: str,
    threshold: str | None,
) -> FileLines:
    """One file's part of the ``fmt`` (full or concise) output, without the path each part
    starts with (see :func:`shown_text`), and its counts; ``unsafe``: whether fixes marked
    unsafe apply to the file."""
    last = _LAST[0] if _LAST else None
    if last is not None and last[0] is findings and last[1] == (unsafe, source, fmt):
        return last[2]._replace(threshold=threshold)
    items = sorted(findings, key=Finding.sort_key)
    if fmt == "concise":
        parts = tuple(concise_line(f, unsafe)[len(f.path) :] + "\n" for f in items)
    else:
        lines = source.split("\n") if source is not None else None
        parts = tuple(full_block(f, unsafe, lines)[len(f.path) :] + "\n\n" for f in items)
    severities = [0, 0, 0, 0]
    for f in items:
        severities[_SEVERITY_INDEX[f.severity]] += 1
    made = FileLines(
        fmt,
        parts,
        tuple((f.line, f.column, f.code) for f in items),
        (severities[0], severities[1], severities[2], severities[3]),
        fixable_summary(items, unsafe),
        threshold,
    )
    _LAST[:] = [(findings, (unsafe, source, fmt), made)]
    return made


# The last file's findings (the very list), what else its lines were made from, and its lines:
# a new check makes them for its results-cache entry, then for its report.
_LAST: list[tuple[Iterable[Finding], tuple[bool, str | None, str], FileLines]] = []


def shown_text(files: Sequence[tuple[str, FileLines]]) -> str:
    """The full or concise output of the files' :func:`file_lines` (path, lines), in any
    order: what :func:`render` prints for their findings."""
    if len({path for path, _ in files}) == len(files):
        return "".join(
            path + part
            for path, lines in sorted(files, key=lambda item: item[0])
            for part in lines.parts
        )
    # A path twice (standard input named as a file that is checked too): merged by finding.
    merged = sorted(
        ((path, *key), path + part)
        for path, lines in files
        for key, part in zip(lines.order, lines.parts, strict=True)
    )
    return "".join(text for _, text in merged)


# How `full` names a fix, by its applicability.
_FIX_KIND = {
    Applicability.SAFE: "Fix",
    Applicability.UNSAFE: "Unsafe fix",
    Applicability.DISPLAY_ONLY: "Suggestion",
}


def full_block(f: Finding, unsafe: UnsafeFor, source_lines: Sequence[str] | None) -> str:
    out = [concise_line(f, unsafe)]
    if source_lines is not None:
        end = f.end_line or f.line
        for n in range(f.line, min(end, f.line + 5) + 1):
            if 0 < n <= len(source_lines):
                out.append(f"  {n:>4} | {source_lines[n - 1].rstrip(chr(13))}")
        if end > f.line + 5:
            out.append("       | …")
    if f.fix is not None and f.fix.description:
        out.append(f"  = {_FIX_KIND[f.fix.applicability]}: {f.fix.description}")
    if f.reason:
        out.append(f"  = Not fixed: {f.reason}")
    return "\n".join(out)
