"""SARIF 2.1.0 output, as GitHub code scanning accepts it: one run, rules from the fixers' docs.

Artifact URIs are relative to the repository root (``%SRCROOT%``): the git work tree the files
are in, or ``--sarif-root``; a file outside it gets an absolute ``file://`` URI. Levels come from
the findings' severities; security fixers' rules carry the ``security`` tag and a
``security-severity``, so code scanning shows their findings as security alerts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from dockfix import __version__
from dockfix.core.catalog import all_fixers
from dockfix.core.fixer import SECURITY_SEVERITY, SEVERITY_ORDER, Applicability, Finding, Severity
from dockfix.output.diffing import replacements
from dockfix.output.fingerprints import FINGERPRINT_KEY, fingerprints
from dockfix.output.repo_paths import relative_path, report_root, resolved

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
RULE_URL = "https://github.com/dockfix/dockfix/blob/main/fixers/{module}.py"
SRCROOT = "%SRCROOT%"
LEVEL = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "note",
    Severity.STYLE: "note",
}
# Characters a relative URI keeps as they are (RFC 3986 path characters but `:`, which would
# make the first segment look like a scheme).
_URI_SAFE = "/!$&'()*+,;=@~"

# A file's changes for a SARIF fix: (displayed path, original text or None if new, new text).
FileEdit = tuple[str, str | None, str]


def artifact_location(path: str, root: str) -> dict[str, Any]:
    rel = relative_path(path, root)
    if rel is None:
        return {"uri": Path(resolved(path)).as_uri()}
    return {"uri": quote(rel, safe=_URI_SAFE), "uriBaseId": SRCROOT}


def rule_url(code: str) -> str | None:
    """Where a rule's documentation is read (its fixer's module), or None for no fixer."""
    fx = all_fixers().get(code)
    return None if fx is None else RULE_URL.format(module=fx.__module__.rsplit(".", 1)[-1])


def _rule(code: str, severity: Severity | None) -> dict[str, Any]:
    fx = all_fixers().get(code)
    if fx is None:
        return {"id": code, "name": code}
    doc = fx.documentation()
    severity = severity or fx.severity
    properties: dict[str, Any] = {
        "tags": [
            "dockerfile",
            *(["security"] if fx.security else []),
            *(f"hadolint:{h}" for h in fx.resolves.hadolint),
            *(f"buildkit:{c}" for c in fx.resolves.buildkit),
        ],
    }
    if fx.security:
        properties["security-severity"] = SECURITY_SEVERITY[severity]
    return {
        "id": code,
        "name": fx.name,
        "shortDescription": {"text": fx.summary},
        "fullDescription": {"text": fx.summary},
        "help": {"text": doc, "markdown": doc},
        "helpUri": rule_url(code),
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": properties,
    }


def _fix(description: str, edits: Sequence[FileEdit], root: str) -> dict[str, Any]:
    changes = []
    for path, old, new in edits:
        found = replacements(old, new)
        if not found:
            continue
        changes.append(
            {
                "artifactLocation": artifact_location(path, root),
                "replacements": [
                    {
                        "deletedRegion": {"charOffset": offset, "charLength": length},
                        "insertedContent": {"text": text},
                    }
                    for offset, length, text in found
                ],
            }
        )
    return {"description": {"text": description}, "artifactChanges": changes}


def sarif_report(
    findings: Sequence[Finding],
    root: str | None = None,
    fixed: Sequence[Finding] = (),
    file_edits: Mapping[str, Sequence[FileEdit]] | None = None,
    text_of: Callable[[Finding], str | None] | None = None,
) -> dict[str, Any]:
    """The SARIF log of ``findings`` (sorted). ``fixed``: those among them whose fixes the run
    would apply; the first of each file carries that file's whole change (``file_edits``, by
    the findings' path) as its SARIF ``fixes``. ``text_of``: the text a finding's lines are
    in, for its fingerprint."""
    root = report_root((f.path for f in findings), root)
    prints = fingerprints(findings, root, text_of)
    codes = sorted({f.code for f in findings})
    index = {c: i for i, c in enumerate(codes)}
    # A rule's level is its findings' (the most severe, should configurations differ).
    rule_severity: dict[str, Severity] = {}
    for f in findings:
        known = rule_severity.get(f.code)
        if known is None or SEVERITY_ORDER.index(f.severity) < SEVERITY_ORDER.index(known):
            rule_severity[f.code] = f.severity
    carrier: dict[str, int] = {}  # path -> id() of the finding that carries the file's fix
    for f in fixed:
        carrier.setdefault(f.path, id(f))
    fixed_ids = {id(f) for f in fixed}
    results = []
    for f, fingerprint in zip(findings, prints, strict=True):
        region: dict[str, Any] = {"startLine": f.line, "startColumn": f.column}
        if f.end_line:
            region["endLine"] = f.end_line
        text = f.message
        if f.reason:
            text += f" (not fixed: {f.reason})"
        result: dict[str, Any] = {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": LEVEL[f.severity],
            "message": {"text": text},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": artifact_location(f.path, root),
                        "region": region,
                    }
                }
            ],
            "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
            "properties": {
                "applicability": (
                    f.fix.applicability if f.fix else Applicability.DISPLAY_ONLY
                ).value,
                "severity": f.severity.value,
            },
        }
        if id(f) in fixed_ids:
            result["properties"]["fixed"] = True
        if carrier.get(f.path) == id(f) and file_edits and f.path in file_edits:
            codes_fixed = sorted({g.code for g in fixed if g.path == f.path})
            fix = _fix(f"dockfix fix: {', '.join(codes_fixed)}", file_edits[f.path], root)
            if fix["artifactChanges"]:
                result["fixes"] = [fix]
        results.append(result)
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "dockfix",
                        "version": __version__,
                        "informationUri": "https://github.com/dockfix/dockfix",
                        "rules": [_rule(c, rule_severity.get(c)) for c in codes],
                    }
                },
                "originalUriBaseIds": {SRCROOT: {"uri": Path(root).as_uri().rstrip("/") + "/"}},
                "results": results,
            }
        ],
    }
