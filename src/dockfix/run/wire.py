"""How a file's report travels from a worker process to the main one.

A large run sends tens of thousands of findings between processes. Pickled as objects, each
finding, fix and edit costs Python-level reduce calls in the worker (17 µs a file); as nested
tuples of strings and numbers, pickle's C code does the work (8 µs), and rebuilding the
objects in the main process costs about what unpickling them did. This is the only way
reports cross: the records themselves carry no pickling code.
"""

from __future__ import annotations

from typing import Any

from dockfix.core.engine import FileReport, FixOutcome
from dockfix.core.fixer import Applicability, Edit, Finding, Fix, Severity

_APPLICABILITY = {a.value: a for a in Applicability}
_SEVERITY = {s.value: s for s in Severity}

Packed = tuple[Any, ...]


def pack_report(r: FileReport, keep_edits: bool = True) -> Packed:
    """``keep_edits`` False: the findings' fixes travel without their edits (what `check`
    prints in most formats needs only their applicability and description)."""
    outcome = None if r.outcome is None else pack_outcome(r.outcome, keep_edits)
    return (
        r.path,
        outcome,
        r.error,
        r.mode,
        r.written,
        r.write_errors,
        r.from_stdin,
        r.run_warnings,
        r.cached,
        r.cache_entry,
    )


def unpack_report(t: Packed) -> FileReport:
    path, outcome, error, mode, written, write_errors, from_stdin, run_warnings, cached, entry = t
    # A results-cache hit travels as stored: its findings name the file as that run showed it.
    o = None if outcome is None else unpack_outcome(outcome, path if cached else None)
    return FileReport(
        path, o, error, mode, written, write_errors, from_stdin, run_warnings, cached, entry
    )


def pack_outcome(o: FixOutcome, keep_edits: bool = True) -> Packed:
    """An outcome as tuples (also how the results cache stores it)."""
    return (
        o.original,
        o.fixed,
        [_pack_finding(f, keep_edits) for f in o.findings],
        [_pack_finding(f, keep_edits) for f in o.applied],
        o.file_changes,
        o.error,
        o.warnings,
        o.error_line,
        o.unsafe,
    )


def unpack_outcome(t: Packed, shown: str | None = None) -> FixOutcome:
    """``shown``: the path every finding names, instead of the one packed with it."""
    original, fixed, findings, applied, file_changes, error, warnings, error_line, unsafe = t
    return FixOutcome(
        original,
        fixed,
        [_unpack_finding(f, shown) for f in findings],
        [_unpack_finding(f, shown) for f in applied],
        file_changes,
        error,
        warnings,
        error_line,
        unsafe,
    )


def _pack_finding(f: Finding, keep_edits: bool) -> Packed:
    fix = f.fix
    packed_fix = None
    if fix is not None:
        packed_fix = (
            [tuple(e) for e in fix.edits] if keep_edits else [],
            fix.applicability.value,
            fix.description,
            fix.file_changes,
            fix.rationale,
        )
    return (
        f.code,
        f.message,
        f.line,
        f.column,
        f.end_line,
        f.end_column,
        packed_fix,
        f.reason,
        f.path,
        f.hadolint,
        f.severity.value,
        f.buildkit,
    )


def without_edits(outcome: Packed) -> Packed:
    """A packed outcome whose fixes travel without their edits (as ``keep_edits`` False)."""
    return (*outcome[:2], _bare(outcome[2]), _bare(outcome[3]), *outcome[4:])


def _bare(findings: list[Packed]) -> list[Packed]:
    if not any(f[6] is not None and f[6][0] for f in findings):
        return findings
    return [f if f[6] is None else (*f[:6], ([], *f[6][1:]), *f[7:]) for f in findings]


def _unpack_finding(t: Packed, shown: str | None = None) -> Finding:
    code, message, line, column, end_line, end_column, packed_fix, *rest = t
    reason, path, hadolint, sev, buildkit = rest
    if shown is not None:
        path = shown
    fix = None
    if packed_fix is not None:
        edits, applicability, description, file_changes, rationale = packed_fix
        fix = Fix(
            tuple([Edit(*e) for e in edits]),
            _APPLICABILITY[applicability],
            description,
            file_changes,
            rationale,
        )
    return Finding(
        code,
        message,
        line,
        column,
        end_line,
        end_column,
        fix,
        reason,
        path,
        hadolint,
        _SEVERITY[sev],
        buildkit,
    )
