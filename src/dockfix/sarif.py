"""SARIF 2.1.0 output, as GitHub code scanning accepts it: one run, rules from the fixers' docs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dockfix import __version__
from dockfix.catalog import all_fixers
from dockfix.fixer import Applicability, Finding

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
RULE_URL = "https://github.com/dockfix/dockfix/blob/main/fixers/{module}.py"


def _rule(code: str) -> dict[str, Any]:
    fx = all_fixers().get(code)
    if fx is None:
        return {"id": code, "name": code}
    doc = fx.documentation()
    return {
        "id": code,
        "name": fx.name,
        "shortDescription": {"text": fx.summary},
        "fullDescription": {"text": fx.summary},
        "help": {"text": doc, "markdown": doc},
        "helpUri": RULE_URL.format(module=fx.__module__.rsplit(".", 1)[-1]),
        "properties": {
            "tags": ["dockerfile", *(f"hadolint:{h}" for h in fx.resolves.hadolint)],
        },
    }


def sarif_report(findings: Sequence[Finding]) -> dict[str, Any]:
    codes = sorted({f.code for f in findings})
    index = {c: i for i, c in enumerate(codes)}
    results = []
    for f in findings:
        region: dict[str, Any] = {"startLine": f.line, "startColumn": f.column}
        if f.end_line:
            region["endLine"] = f.end_line
        text = f.message
        if f.reason:
            text += f" (not fixed: {f.reason})"
        results.append(
            {
                "ruleId": f.code,
                "ruleIndex": index[f.code],
                "level": "warning",
                "message": {"text": text},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"},
                            "region": region,
                        }
                    }
                ],
                "properties": {
                    "applicability": (f.fix.applicability if f.fix else Applicability.DISPLAY_ONLY).value
                },
            }
        )
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
                        "rules": [_rule(c) for c in codes],
                    }
                },
                "results": results,
            }
        ],
    }
