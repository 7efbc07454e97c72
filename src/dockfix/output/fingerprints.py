"""Fingerprints that follow a finding, not its line: GitLab Code Quality, Code Climate and
SARIF consumers match findings between runs by them, so a finding keeps its fingerprint when
lines are added above it, and a resolved one does not come back as new.

A fingerprint hashes the file's repository-relative path, the code, the text of the lines the
finding covers with whitespace collapsed, and which occurrence of that (path, code, text) the
finding is, counted in file order. No line number goes in."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence

from dockfix.core.fixer import Finding
from dockfix.output.repo_paths import report_path

# SARIF `partialFingerprints` key; the version changes whenever the hash input does.
FINGERPRINT_KEY = "dockfix/v1"


def covered_text(f: Finding, text: str | None) -> str:
    """The lines ``f`` covers (its instruction, for most fixers), whitespace collapsed; its
    message when the text is unknown."""
    if text is None:
        return f.message
    lines = text.split("\n")[f.line - 1 : (f.end_line or f.line)]
    return " ".join(" ".join(lines).split())


def fingerprints(
    findings: Sequence[Finding], root: str, text_of: Callable[[Finding], str | None] | None
) -> list[str]:
    """One fingerprint per finding, in order (``findings`` sorted, as every format sorts them).
    ``text_of``: the text of the file a finding's lines refer to."""
    seen: Counter[tuple[str, str, str]] = Counter()
    prints = []
    for f in findings:
        key = (report_path(f.path, root), f.code, covered_text(f, text_of(f) if text_of else None))
        occurrence = seen[key]
        seen[key] += 1
        data = "\0".join((*key, str(occurrence))).encode("utf-8")
        prints.append(hashlib.sha256(data).hexdigest()[:32])
    return prints
