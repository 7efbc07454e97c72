"""Output for people and machines: full, concise, json, json-lines, sarif, github, statistics."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DOCKERFILE = (
    "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl\nCMD python app.py\n"
)


def dockfix(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dockfix", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "svc,1").mkdir()  # a comma and a colon must be escaped in GitHub annotations
    (tmp_path / "svc,1" / "Dockerfile").write_text(DOCKERFILE)
    return tmp_path


def test_json(repo: Path) -> None:
    r = dockfix("check", "--select", "DF102,DF401,DF201", "--output-format", "json", ".", cwd=repo)
    assert r.returncode == 1
    items = json.loads(r.stdout)
    by_code = {i["code"]: i for i in items}
    assert set(by_code) == {"DF102", "DF201", "DF401"}
    f = by_code["DF102"]
    assert f["path"] == "svc,1/Dockerfile" and (f["line"], f["column"], f["end_line"]) == (2, 1, 2)
    assert f["name"] == "apt-update-alone" and f["applicability"] == "safe"
    assert f["fix"]["edits"] and {"start", "end", "content"} <= set(f["fix"]["edits"][0])
    assert by_code["DF201"]["applicability"] in ("unsafe", "display-only")
    assert [i["line"] for i in items] == sorted(i["line"] for i in items)


def test_json_lines_match_json(repo: Path) -> None:
    a = json.loads(dockfix("check", "--output-format", "json", ".", cwd=repo).stdout)
    b = [
        json.loads(ln)
        for ln in dockfix(
            "check", "--output-format", "json-lines", ".", cwd=repo
        ).stdout.splitlines()
    ]
    assert a == b


def test_sarif(repo: Path) -> None:
    r = dockfix("check", "--select", "DF102,DF401", "--output-format", "sarif", ".", cwd=repo)
    assert r.returncode == 1  # findings, as with every other format
    doc = json.loads(r.stdout)
    assert doc["version"] == "2.1.0" and doc["$schema"].endswith("sarif-2.1.0.json")
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["DF102", "DF401"]
    assert "Why is this bad" in rules[0]["help"]["markdown"]
    assert sorted(res["ruleId"] for res in run["results"]) == ["DF102", "DF401"]
    for res in run["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        loc = res["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] == "svc,1/Dockerfile"
        assert loc["region"]["startLine"] == {"DF102": 2, "DF401": 4}[res["ruleId"]]
        assert res["level"] == "warning"


def test_github_annotations_are_escaped(repo: Path) -> None:
    r = dockfix("check", "--select", "DF102", "--output-format", "github", ".", cwd=repo)
    line = r.stdout.strip()
    assert line.startswith(
        "::warning file=svc%2C1/Dockerfile,line=2,col=1,endLine=2,title=DF102::DF102 "
    )
    assert "\n" not in line


def test_statistics_and_fix_summary(repo: Path) -> None:
    r = dockfix("check", "--statistics", "--select", "DF102,DF401,DF201", ".", cwd=repo)
    rows = [[c.strip() for c in ln.split("\t")] for ln in r.stdout.splitlines()]
    assert ["1", "DF102", "[*] apt-update-alone"] in rows
    r = dockfix("fix", "--select", "DF102,DF401,DF201", ".", cwd=repo)
    assert "fixed, " in r.stderr and "more with `--unsafe-fixes`" in r.stderr


def test_full_shows_source_and_rationale(repo: Path) -> None:
    r = dockfix("check", "--select", "DF102", ".", cwd=repo)
    assert "svc,1/Dockerfile:2:1: DF102 [*]" in r.stdout
    assert "     2 | RUN apt-get update" in r.stdout
    assert "= Fix: move `apt-get update` into the RUN on line 3" in r.stdout


def test_full_output_rendered_file_by_file_equals_the_whole_render(tmp_path: Path) -> None:
    """`check` renders each file's full output as the file comes in; joined, the parts are
    the text of one render over every finding (sorted by path, line, column and code): over
    the fixtures, and over folders whose names sort differently as strings and as the walk
    takes them (`a-b/` before `a/` as strings, after it in the walk)."""
    import random

    from dockfix.files.discovery import iter_dockerfile_paths
    from dockfix.output.report import render
    from dockfix.run.runner import RunOptions, process_paths
    from dockfix.run.shown import file_lines, shown_text

    for name in ("a", "a-b", "a.b", "a/b"):
        (tmp_path / name).mkdir(parents=True, exist_ok=True)
        (tmp_path / name / "Dockerfile").write_text(DOCKERFILE)
    fixtures = Path(__file__).parent.parent / "fixtures"
    paths = list(iter_dockerfile_paths([str(fixtures), str(tmp_path)]))
    reports = [
        r for r in process_paths(paths, RunOptions(offline=True), jobs=1) if r.outcome is not None
    ]
    walked = [r.path for r in reports if r.path.startswith(str(tmp_path))]
    assert walked != sorted(walked)
    findings = [f for r in reports for f in r.outcome.findings]
    assert len(findings) > 200
    sources = {r.path: r.outcome.original for r in reports}
    whole = render(findings, "full", False, sources)
    parts = [
        (r.path, file_lines(r.outcome.findings, False, r.outcome.original, "full", None))
        for r in reports
    ]
    random.Random(7).shuffle(parts)  # workers finish in any order
    assert shown_text(parts) == whole
