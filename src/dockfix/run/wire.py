"""How a file's report travels from a worker process to the main one.

A large run sends tens of thousands of findings between processes. Pickled as objects, each
finding, fix and edit costs Python-level reduce calls in the worker (17 µs a file); as nested
tuples of strings and numbers, pickle's C code does the work (8 µs), and rebuilding the
objects in the main process costs about what unpickling them did. This is the only way
reports cross: the records themselves carry no pickling code.
"""

from __future__ import annotations

import pickle
from typing import Any

from dockfix.core.engine import FileLines, FileReport, FixOutcome
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
        None if r.lines is None else tuple(r.lines),
    )


def unpack_report(t: Packed) -> FileReport:
    path, outcome, error, mode, written, write_errors, from_stdin, run_warnings, cached, entry = t[
        :10
    ]
    lines = None if t[10] is None else FileLines(*t[10])
    if cached and outcome is not None and isinstance(outcome[1], bytes):
        outcome = stored_as_packed(outcome[1], outcome[0])  # a hit, as a worker sends it
        error = outcome[5]  # the file's error, as when it was checked (the outcome's)
    # A results-cache hit travels as stored: its findings name the file as that run showed it.
    o = None if outcome is None else unpack_outcome(outcome, path if cached else None)
    return FileReport(
        path, o, error, mode, written, write_errors, from_stdin, run_warnings, cached, entry, lines
    )


def packed_hit(path: str, mode: int | None, text: str, stored: bytes) -> Packed:
    """How a worker sends a results-cache hit: :func:`pack_report`'s tuple whose outcome is
    the file's text and the outcome as the cache stored it, still pickled (the main process
    unpickles it once, in :func:`unpack_report`)."""
    return (path, (text, stored), None, mode, False, [], False, [], True, None, None)


def stored_as_packed(stored: bytes, text: str) -> Packed:
    """A stored outcome as :func:`pack_outcome` spells it (the text is not stored twice:
    ``text`` is the file's, and its fixed text when the fix changed nothing)."""
    fixed, *rest = pickle.loads(stored)  # checksummed with its results-cache shard
    return (text, text if fixed is None else fixed, *rest)


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


def _unpack_finding(t: Packed, shown: str | None = None) -> Finding:
    code, message, line, column, end_line, end_column, packed_fix, reason, path, *rest = t
    hadolint, sev, buildkit = rest
    if shown is not None:
        path = shown
    fix = None
    if packed_fix is not None:
        edits, applicability, description, file_changes, rationale = packed_fix
        fix = Fix(
            tuple([Edit(*e) for e in edits]) if edits else (),
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
