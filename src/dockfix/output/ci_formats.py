"""Report formats CI systems read: Checkstyle and JUnit XML, GitLab Code Quality, Code Climate
issues and reviewdog's rdjson. One function per format; each takes the findings sorted.

Paths are the SARIF output's: relative to the git work tree (or ``--sarif-root``), absolute
outside it. GitLab and Code Climate fingerprints are :mod:`dockfix.output.fingerprints`', the same
as SARIF's ``partialFingerprints``.
"""

from __future__ import annotations

import itertools
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from dockfix.core.catalog import all_fixers
from dockfix.core.fixer import Applicability, Edit, Finding, Severity
from dockfix.output.fingerprints import fingerprints
from dockfix.output.repo_paths import report_path
from dockfix.output.sarif import rule_url

HOMEPAGE = "https://github.com/dockfix/dockfix"

# Checkstyle's severities are error, warning, info and ignore.
CHECKSTYLE_SEVERITY = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFO: "info",
    Severity.STYLE: "info",
}
# Code Climate's (and GitLab's) are info, minor, major, critical and blocker; hadolint's error
# is a broken build or a security hole, not yet a blocker.
CODECLIMATE_SEVERITY = {
    Severity.ERROR: "critical",
    Severity.WARNING: "major",
    Severity.INFO: "minor",
    Severity.STYLE: "info",
}
RDJSON_SEVERITY = {
    Severity.ERROR: "ERROR",
    Severity.WARNING: "WARNING",
    Severity.INFO: "INFO",
    Severity.STYLE: "INFO",
}
# Characters XML 1.0 cannot hold, even escaped (a message may quote a file's bytes).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

TextOf = Callable[[Finding], str | None]


def render_ci(
    fmt: str,
    findings: Sequence[Finding],
    *,
    files: Iterable[str],
    root: str,
    text_of: TextOf,
    suggest: bool,
) -> str:
    """``findings`` (sorted) in the CI format ``fmt``. ``files``: every file checked (JUnit and
    Checkstyle list the clean ones too); ``text_of``: the text a finding's lines are in;
    ``suggest``: rdjson carries safe fixes as suggestions (their edits are on that text)."""
    if fmt == "checkstyle":
        return checkstyle(findings, files, root)
    if fmt == "junit":
        return junit(findings, files, root)
    if fmt == "rdjson":
        return rdjson(findings, root, text_of, suggest)
    prints = fingerprints(findings, root, text_of)
    if fmt == "gitlab":
        return gitlab(findings, root, prints)
    if fmt == "codeclimate":
        return codeclimate(findings, root, prints)
    raise ValueError(f"unknown format {fmt!r}")


def _message(f: Finding) -> str:
    return f"{f.message} (not fixed: {f.reason})" if f.reason else f.message


def _xml(root: ET.Element) -> str:
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _by_file(
    findings: Sequence[Finding], files: Iterable[str], root: str
) -> list[tuple[str, list[Finding]]]:
    """(reported path, its findings) for every file, in path order."""
    grouped: dict[str, list[Finding]] = {report_path(p, root): [] for p in files}
    for f in findings:
        grouped.setdefault(report_path(f.path, root), []).append(f)
    return sorted(grouped.items())


def checkstyle(findings: Sequence[Finding], files: Iterable[str], root: str) -> str:
    doc = ET.Element("checkstyle", version="4.3")
    for path, items in _by_file(findings, files, root):
        node = ET.SubElement(doc, "file", name=_clean(path))
        for f in items:
            ET.SubElement(
                node,
                "error",
                line=str(f.line),
                column=str(f.column),
                severity=CHECKSTYLE_SEVERITY[f.severity],
                message=_clean(f"{f.code} {_message(f)}"),
                source=f"dockfix.{f.code}",
            )
    return _xml(doc)


def junit(findings: Sequence[Finding], files: Iterable[str], root: str) -> str:
    """A test suite per file, a failing test case per finding, one passing test case for a
    file without findings (so CI lists the files that were checked)."""
    doc = ET.Element("testsuites", name="dockfix")
    total = 0
    for path, items in _by_file(findings, files, root):
        name = _clean(path)
        suite = ET.SubElement(
            doc,
            "testsuite",
            name=name,
            tests=str(max(len(items), 1)),
            failures=str(len(items)),
            errors="0",
            skipped="0",
        )
        total += max(len(items), 1)
        if not items:
            ET.SubElement(suite, "testcase", name=name, classname=name, file=name)
            continue
        for f in items:
            case = ET.SubElement(
                suite,
                "testcase",
                name=f"{f.code} at {f.line}:{f.column}",
                classname=name,
                file=name,
                line=str(f.line),
            )
            failure = ET.SubElement(
                case, "failure", message=_clean(_message(f)), type=f.severity.value
            )
            failure.text = _clean(f"{path}:{f.line}:{f.column}: {f.code} {_message(f)}")
    doc.set("tests", str(total))
    doc.set("failures", str(len(findings)))
    doc.set("errors", "0")
    return _xml(doc)


def _location(f: Finding, root: str) -> dict[str, Any]:
    return {
        "path": report_path(f.path, root),
        "lines": {"begin": f.line, "end": f.end_line or f.line},
    }


def gitlab(findings: Sequence[Finding], root: str, prints: Sequence[str]) -> str:
    """GitLab Code Quality: a JSON array of the fields GitLab reads."""
    issues = [
        {
            "description": f"{f.code} {_message(f)}",
            "check_name": f.code,
            "fingerprint": fingerprint,
            "severity": CODECLIMATE_SEVERITY[f.severity],
            "location": _location(f, root),
        }
        for f, fingerprint in zip(findings, prints, strict=True)
    ]
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


def _categories(f: Finding) -> list[str]:
    fx = all_fixers().get(f.code)
    if fx is not None and fx.security:
        return ["Security"]
    return ["Style"] if f.severity is Severity.STYLE else ["Bug Risk"]


def codeclimate(findings: Sequence[Finding], root: str, prints: Sequence[str]) -> str:
    """Code Climate issues (its engine specification's fields), as one JSON array."""
    issues = []
    for f, fingerprint in zip(findings, prints, strict=True):
        issue: dict[str, Any] = {
            "type": "issue",
            "check_name": f.code,
            "description": f"{f.code} {_message(f)}",
            "categories": _categories(f),
            "location": _location(f, root),
            "severity": CODECLIMATE_SEVERITY[f.severity],
            "fingerprint": fingerprint,
        }
        url = rule_url(f.code)
        if url:
            issue["content"] = {"body": f"[{f.code}]({url})"}
        issues.append(issue)
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


def _position(text: str, offset: int) -> dict[str, int]:
    """rdjson's position of a character offset: line, and column in UTF-8 bytes (1-based)."""
    line_start = text.rfind("\n", 0, offset) + 1
    line = text.count("\n", 0, line_start) + 1
    return {"line": line, "column": len(text[line_start:offset].encode("utf-8")) + 1}


def _suggestion(f: Finding, text: str) -> dict[str, Any] | None:
    """A safe fix as one replacement (from its first edit's start to its last edit's end), so
    reviewdog applies all of it or nothing; None for a fix that also edits other files."""
    if f.fix is None or f.fix.applicability is not Applicability.SAFE or f.fix.file_changes:
        return None
    edits = sorted(f.fix.edits, key=lambda e: (e.start, e.end))
    if not edits or any(a.end > b.start for a, b in itertools.pairwise(edits)):
        return None
    if max(e.end for e in edits) > len(text):
        return None
    start, end = edits[0].start, max(e.end for e in edits)
    new = _apply(text, start, end, edits)
    return {
        "range": {"start": _position(text, start), "end": _position(text, end)},
        "text": new,
    }


def _apply(text: str, start: int, end: int, edits: Sequence[Edit]) -> str:
    out, at = [], start
    for e in edits:
        out.append(text[at : e.start])
        out.append(e.text)
        at = e.end
    out.append(text[at:end])
    return "".join(out)


def _range(f: Finding, text: str | None) -> dict[str, Any]:
    if text is None:
        return {"start": {"line": f.line, "column": f.column}}
    lines = text.split("\n")
    if not 0 < f.line <= len(lines):
        return {"start": {"line": f.line, "column": f.column}}
    start_text = lines[f.line - 1]
    end_line = min(f.end_line or f.line, len(lines))
    end_text = lines[end_line - 1].rstrip("\r")
    return {
        "start": {"line": f.line, "column": len(start_text[: f.column - 1].encode("utf-8")) + 1},
        "end": {"line": end_line, "column": len(end_text.encode("utf-8")) + 1},
    }


def rdjson(findings: Sequence[Finding], root: str, text_of: TextOf, suggest: bool) -> str:
    """reviewdog's Diagnostic Format (a ``DiagnosticResult``): ranges in UTF-8 columns of the
    text ``text_of`` gives; ``suggest``: safe fixes as ``suggestions``."""
    diagnostics = []
    for f in findings:
        text = text_of(f)
        diagnostic: dict[str, Any] = {
            "message": _message(f),
            "location": {"path": report_path(f.path, root), "range": _range(f, text)},
            "severity": RDJSON_SEVERITY[f.severity],
            "source": {"name": "dockfix", "url": HOMEPAGE},
            "code": {"value": f.code},
        }
        url = rule_url(f.code)
        if url:
            diagnostic["code"]["url"] = url
        suggestion = _suggestion(f, text) if suggest and text is not None else None
        if suggestion is not None:
            diagnostic["suggestions"] = [suggestion]
        diagnostics.append(diagnostic)
    doc = {"source": {"name": "dockfix", "url": HOMEPAGE}, "diagnostics": diagnostics}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
