"""The report formats CI systems read, each checked by its consumer's parser or schema:
checkstyle (XML with Checkstyle's fields), junit (read by junitparser), gitlab (GitLab Code
Quality's documented fields), codeclimate (the Code Climate engine spec's issue) and rdjson
(reviewdog's Diagnostic Format). Paths are repository-relative, fingerprints follow the
finding and not its line, exit codes and standard output are those of the other formats."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from junitparser import Failure, JUnitXml

from test_machine_output import DOCKERFILE, FIXED, SELECT, git
from test_output_formats import dockfix

CI_FORMATS = ("checkstyle", "gitlab", "codeclimate", "junit", "rdjson")
CLEAN = 'FROM debian:bookworm\nUSER app\nCMD ["app"]\n'
# SELECT on DOCKERFILE: DF102 (safe fix, warning), DF105 (info), DF201 (error), DF401.
CHECK_CODES = {"DF102", "DF105", "DF201", "DF401"}

# GitLab's Code Quality report: the fields GitLab documents as required ("Code Quality report
# format"): a JSON array of objects with these.
GITLAB_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "minLength": 1},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object",
                "required": ["path", "lines"],
                "properties": {
                    "path": {"type": "string", "pattern": "^[^/]"},
                    "lines": {
                        "type": "object",
                        "required": ["begin"],
                        "properties": {"begin": {"type": "integer", "minimum": 1}},
                    },
                },
            },
        },
    },
}

_LINES = {
    "type": "object",
    "required": ["begin", "end"],
    "additionalProperties": False,
    "properties": {
        "begin": {"type": "integer", "minimum": 1},
        "end": {"type": "integer", "minimum": 1},
    },
}
# The Code Climate engine specification's issue (SPEC.md, "Issues").
CODECLIMATE_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["type", "check_name", "description", "categories", "location"],
        "additionalProperties": False,
        "properties": {
            "type": {"const": "issue"},
            "check_name": {"type": "string", "minLength": 1},
            "description": {"type": "string", "minLength": 1},
            "categories": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "enum": [
                        "Bug Risk",
                        "Clarity",
                        "Compatibility",
                        "Complexity",
                        "Duplication",
                        "Performance",
                        "Security",
                        "Style",
                    ]
                },
            },
            "location": {
                "type": "object",
                "required": ["path", "lines"],
                "additionalProperties": False,
                "properties": {"path": {"type": "string"}, "lines": _LINES},
            },
            "content": {
                "type": "object",
                "required": ["body"],
                "properties": {"body": {"type": "string"}},
            },
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "fingerprint": {"type": "string", "minLength": 1},
        },
    },
}

# reviewdog's DiagnosticResult (proto/rdf/reviewdog.proto, in its JSON mapping).
_POSITION = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "line": {"type": "integer", "minimum": 1},
        "column": {"type": "integer", "minimum": 1},
    },
}
_RANGE = {
    "type": "object",
    "required": ["start"],
    "additionalProperties": False,
    "properties": {"start": _POSITION, "end": _POSITION},
}
_SOURCE = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {"name": {"type": "string"}, "url": {"type": "string"}},
}
_SEVERITY = {"enum": ["UNKNOWN_SEVERITY", "ERROR", "WARNING", "INFO"]}
RDJSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["diagnostics"],
    "additionalProperties": False,
    "properties": {
        "source": _SOURCE,
        "severity": _SEVERITY,
        "diagnostics": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["message", "location"],
                "additionalProperties": False,
                "properties": {
                    "message": {"type": "string", "minLength": 1},
                    "location": {
                        "type": "object",
                        "required": ["path"],
                        "additionalProperties": False,
                        "properties": {"path": {"type": "string"}, "range": _RANGE},
                    },
                    "severity": _SEVERITY,
                    "source": _SOURCE,
                    "code": {
                        "type": "object",
                        "required": ["value"],
                        "additionalProperties": False,
                        "properties": {"value": {"type": "string"}, "url": {"type": "string"}},
                    },
                    "suggestions": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["range", "text"],
                            "additionalProperties": False,
                            "properties": {"range": _RANGE, "text": {"type": "string"}},
                        },
                    },
                    "original_output": {"type": "string"},
                },
            },
        },
    },
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "services" / "api").mkdir(parents=True)
    (root / "services" / "api" / "Dockerfile").write_text(DOCKERFILE)
    (root / "services" / "clean").mkdir()
    (root / "services" / "clean" / "Dockerfile").write_text(CLEAN)
    git("init", "-q", cwd=root)
    git("add", "-A", cwd=root)
    git("-c", "user.email=d@e.invalid", "-c", "user.name=D", "commit", "-qm", "i", cwd=root)
    return root


def run(fmt: str, *args: str, cwd: Path) -> Any:
    r = dockfix(*args, *SELECT, "--output-format", fmt, ".", cwd=cwd)
    assert r.returncode in (0, 1), r.stderr
    return r


def test_junit_is_read_by_junitparser(repo: Path) -> None:
    r = run("junit", "check", cwd=repo)
    assert r.returncode == 1
    xml = JUnitXml.fromstring(r.stdout)
    suites = {suite.name: suite for suite in xml}
    assert set(suites) == {"services/api/Dockerfile", "services/clean/Dockerfile"}
    api, clean = suites["services/api/Dockerfile"], suites["services/clean/Dockerfile"]
    assert (api.tests, api.failures, api.errors) == (4, 4, 0)
    (ok,) = list(clean)
    assert ok.is_passed and (clean.tests, clean.failures) == (1, 0)  # the clean file shows
    xml.update_statistics()
    assert (xml.tests, xml.failures) == (5, 4)
    cases = {case.name.split()[0]: case for case in api}
    assert set(cases) == CHECK_CODES
    (failure,) = cases["DF102"].result
    assert isinstance(failure, Failure)
    assert failure.message == "`apt-get update` in a RUN that installs nothing"
    assert failure.type == "warning"
    assert failure.text.startswith("services/api/Dockerfile:2:1: DF102 ")
    assert cases["DF201"].result[0].type == "error"


def test_checkstyle_has_checkstyles_fields(repo: Path) -> None:
    r = run("checkstyle", "check", cwd=repo / "services" / "api")
    assert r.returncode == 1
    root = ET.fromstring(r.stdout)
    assert root.tag == "checkstyle" and root.get("version")
    files = {f.get("name"): f for f in root.findall("file")}
    assert set(files) == {"services/api/Dockerfile"}  # relative to the work tree, not cwd
    errors = files["services/api/Dockerfile"].findall("error")
    assert {e.get("source") for e in errors} == {f"dockfix.{c}" for c in CHECK_CODES}
    for e in errors:
        assert set(e.attrib) == {"line", "column", "severity", "message", "source"}
        assert int(e.get("line", "0")) >= 1 and int(e.get("column", "0")) >= 1
        assert e.get("severity") in ("error", "warning", "info", "ignore")
        assert e.get("message", "").startswith(e.get("source", "")[len("dockfix.") :] + " ")
    severity = {e.get("source"): e.get("severity") for e in errors}
    assert severity["dockfix.DF201"] == "error" and severity["dockfix.DF105"] == "info"


def test_gitlab_and_codeclimate_match_their_field_lists(repo: Path) -> None:
    gitlab = json.loads(run("gitlab", "check", cwd=repo / "services").stdout)
    jsonschema.Draft202012Validator(GITLAB_SCHEMA).validate(gitlab)
    assert {i["check_name"] for i in gitlab} == CHECK_CODES
    assert {i["location"]["path"] for i in gitlab} == {"services/api/Dockerfile"}
    by_code = {i["check_name"]: i for i in gitlab}
    assert by_code["DF201"]["severity"] == "critical"
    assert by_code["DF102"]["severity"] == "major"
    assert by_code["DF105"]["severity"] == "minor"
    assert by_code["DF102"]["location"]["lines"]["begin"] == 2
    # --sarif-root sets the root of every format's paths
    r = dockfix(
        "check", *SELECT, "--output-format", "gitlab", "--sarif-root", "services", ".", cwd=repo
    )
    assert {i["location"]["path"] for i in json.loads(r.stdout)} == {"api/Dockerfile"}
    climate = json.loads(run("codeclimate", "check", cwd=repo).stdout)
    jsonschema.Draft202012Validator(CODECLIMATE_SCHEMA).validate(climate)
    assert [i["fingerprint"] for i in climate] == [i["fingerprint"] for i in gitlab]
    categories = {i["check_name"]: i["categories"] for i in climate}
    assert categories["DF201"] == ["Security"] and categories["DF102"] == ["Bug Risk"]


def _apply(text: str, suggestion: dict[str, Any]) -> str:
    """Apply an rdjson suggestion as reviewdog reads it: 1-based lines, UTF-8 byte columns,
    an exclusive end."""
    data = text.encode("utf-8")
    starts = [0] + [i + 1 for i, b in enumerate(data) if b == ord("\n")]

    def offset(pos: dict[str, int]) -> int:
        return starts[pos["line"] - 1] + pos["column"] - 1

    rng = suggestion["range"]
    a, b = offset(rng["start"]), offset(rng.get("end", rng["start"]))
    return (data[:a] + suggestion["text"].encode("utf-8") + data[b:]).decode("utf-8")


def test_rdjson_matches_reviewdogs_format_and_suggests_safe_fixes(repo: Path) -> None:
    dockerfile = repo / "services" / "api" / "Dockerfile"
    # a multi-byte character before the finding: columns count UTF-8 bytes
    text = DOCKERFILE.replace("RUN apt-get install", "# café\nRUN apt-get install")
    dockerfile.write_text(text, encoding="utf-8")
    doc = json.loads(run("rdjson", "check", cwd=repo).stdout)
    jsonschema.Draft202012Validator(RDJSON_SCHEMA).validate(doc)
    assert doc["source"]["name"] == "dockfix" and doc["source"]["url"].startswith("https://")
    by_code = {d["code"]["value"]: d for d in doc["diagnostics"]}
    assert set(by_code) == CHECK_CODES
    assert all(d["code"]["url"].startswith("https://") for d in doc["diagnostics"])
    assert by_code["DF201"]["severity"] == "ERROR" and by_code["DF105"]["severity"] == "INFO"
    assert by_code["DF102"]["location"]["path"] == "services/api/Dockerfile"
    # only the safe fix is a suggestion, and applying it is what `fix` does for DF102
    assert [c for c, d in by_code.items() if "suggestions" in d] == ["DF102"]
    (suggestion,) = by_code["DF102"]["suggestions"]
    fixed = _apply(text, suggestion)
    dockfix("fix", "--select", "DF102", "--offline", "--write", ".", cwd=repo)
    assert fixed == dockerfile.read_text(encoding="utf-8") != text


def _fingerprints(repo: Path) -> dict[str, Any]:
    gitlab = json.loads(run("gitlab", "check", cwd=repo).stdout)
    sarif = json.loads(run("sarif", "check", cwd=repo).stdout)["runs"][0]["results"]
    return {
        "gitlab": sorted((i["check_name"], i["fingerprint"]) for i in gitlab),
        "lines": sorted((i["check_name"], i["location"]["lines"]["begin"]) for i in gitlab),
        "sarif": sorted((r["ruleId"], r["partialFingerprints"]["dockfix/v1"]) for r in sarif),
    }


def test_fingerprints_are_stable_across_runs_and_line_shifts(repo: Path) -> None:
    first = _fingerprints(repo)
    assert first == _fingerprints(repo)
    assert first["sarif"] == first["gitlab"]  # one fingerprint for every format
    dockerfile = repo / "services" / "api" / "Dockerfile"
    dockerfile.write_text(DOCKERFILE.replace("\nRUN apt-get update", "\n\nRUN apt-get update"))
    shifted = _fingerprints(repo)
    assert shifted["lines"] != first["lines"]  # the findings moved down a line …
    assert shifted["gitlab"] == first["gitlab"]  # … and kept their fingerprints
    # two identical instructions: two findings, two fingerprints
    dockerfile.write_text(DOCKERFILE.replace("CMD", "RUN apt-get update\nCMD"))
    twice = [fp for code, fp in _fingerprints(repo)["gitlab"] if code == "DF102"]
    assert len(twice) == len(set(twice)) == 2


@pytest.mark.parametrize("fmt", CI_FORMATS)
def test_exit_codes_and_stdout_are_those_of_the_other_formats(repo: Path, fmt: str) -> None:
    def parse(stdout: str) -> Any:
        return ET.fromstring(stdout) if fmt in ("checkstyle", "junit") else json.loads(stdout)

    clean = repo / "services" / "clean"
    for args, cwd in [(("check",), repo), (("check",), clean), (("fix",), repo)]:
        ours = dockfix(*args, *SELECT, "--output-format", fmt, ".", cwd=cwd)
        theirs = dockfix(*args, *SELECT, "--output-format", "json", ".", cwd=cwd)
        assert ours.returncode == theirs.returncode, (args, ours.stderr)
        parse(ours.stdout)  # the whole of stdout is the document: no diff, no summary
        assert "---" not in ours.stdout
    # --write: the findings left only; exit 0 as with json
    r = dockfix("fix", *SELECT, "--write", "--output-format", fmt, ".", cwd=repo)
    assert r.returncode == 0, r.stderr
    assert "DF102" not in r.stdout and "DF201" in r.stdout
    assert (repo / "services" / "api" / "Dockerfile").read_text() == FIXED
    parse(r.stdout)


def test_a_dry_run_reports_what_it_would_fix_too(repo: Path) -> None:
    """As sarif and json do: the findings `fix` would fix (DF103 shows once DF102 is fixed)
    and those it leaves."""
    issues = json.loads(run("gitlab", "fix", cwd=repo).stdout)
    jsonschema.Draft202012Validator(GITLAB_SCHEMA).validate(issues)
    assert {i["check_name"] for i in issues} == {"DF102", "DF103", "DF105", "DF201", "DF401"}
    xml = JUnitXml.fromstring(run("junit", "fix", cwd=repo).stdout)
    assert {suite.name for suite in xml} == {"services/api/Dockerfile", "services/clean/Dockerfile"}
