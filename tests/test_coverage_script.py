"""scripts/coverage: hadolint's findings and BuildKit's build checks per rule before and after
`dockfix fix`, with the real hadolint, BuildKit's own checks (dockfix-buildkit-lint) and
dockfix, on a corpus small enough to know the answer."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from importlib.machinery import SourceFileLoader
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "coverage"


def run_coverage(corpus: Path, *args: str, home: Path | None = None) -> dict[str, object]:
    if shutil.which("hadolint") is None:
        pytest.skip("hadolint is not installed")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--corpus", str(corpus), "--json", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env={**os.environ, "HOME": str(home)} if home else None,
    )
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


BUILDKIT_LINT = shutil.which("dockfix-buildkit-lint")
needs_buildkit_lint = pytest.mark.skipif(
    BUILDKIT_LINT is None,
    reason="dockfix-buildkit-lint is not installed (.ci/install-buildkit-lint builds it)",
)
CORPUS = SCRIPT.parent.parent / "tests" / "data" / "coverage-corpus"


def load_coverage_script() -> Any:
    loader = SourceFileLoader("coverage_script", str(SCRIPT))
    coverage = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(coverage)
    return coverage


def test_removed_counted_per_rule_and_the_corpus_left_untouched(tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    src = "FROM debian:12\nMAINTAINER a@b.c\nRUN wget https://x.example/a\n"
    (tmp_path / "svc" / "Dockerfile").write_text(src)
    (tmp_path / "svc" / "expected.Dockerfile").write_text("FROM debian\n")  # not an input
    # hadolint cannot parse this one (DL1000): counted, not compared, and the run goes on
    (tmp_path / "broken.Dockerfile").write_text("FROM debian:12\nEXPOSE 8080:80\n")
    # a hadolint configuration in the corpus or HOME must not change the figures
    (tmp_path / ".hadolint.yaml").write_text("ignored: [DL4000, DL3047]\n")
    home = tmp_path.parent / f"{tmp_path.name}-home"
    home.mkdir()
    (home / ".hadolint.yaml").write_text("ignored: [DL4000, DL3047]\n")
    result = run_coverage(tmp_path, home=home)
    assert result["files"] == 2
    assert result["unparsable_before"] == [f"{tmp_path.name}/broken.Dockerfile"]
    rules = result["rules"]
    assert isinstance(rules, dict)
    assert rules["DL4000"] == {"before": 1, "after": 0, "removed": 1, "added": 0}
    assert rules["DL3047"] == {"before": 1, "after": 0, "removed": 1, "added": 0}
    assert result["added_in"] == []
    assert (tmp_path / "svc" / "Dockerfile").read_text() == src


def test_a_finding_the_fix_adds_is_named(tmp_path: Path) -> None:
    """A stand-in for dockfix that writes a named USER: the new DL3066 is counted as added,
    with the file it appeared in."""
    if shutil.which("hadolint") is None:
        pytest.skip("hadolint is not installed")
    coverage = load_coverage_script()
    (tmp_path / "Dockerfile").write_text("FROM debian:12\nUSER app\nRUN echo hi\n")
    appends_user = (
        "import sys\n"
        "for f in sys.argv[1:]:\n"
        "    if f.endswith('Dockerfile'):\n"
        "        open(f, 'a').write('USER app\\n')\n"
    )
    result = coverage.measure(
        [tmp_path], str(shutil.which("hadolint")), [sys.executable, "-c", appends_user], []
    )
    assert result["rules"]["DL3066"] == {"before": 1, "after": 2, "removed": 0, "added": 1}
    assert result["added_in"] == [f"{tmp_path.name}/Dockerfile: DL3066"]
    assert result["files_changed"] == 1


@needs_buildkit_lint
def test_buildkit_checks_counted_per_rule_by_buildkit(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "Dockerfile").write_text(
        "FROM golang:1.22 as build\n"
        "ENV CGO_ENABLED 0\n"
        "RUN go build -o /app .\n"
        "FROM debian:12\n"
        "MAINTAINER ops@example.com\n"
        "COPY --from=build /app /app\n"
        "EXPOSE 8080/TCP\n"
        'CMD ["/app"]\n'
    )
    # BuildKit rejects an unknown instruction: counted, not compared
    (tmp_path / "typo.Dockerfile").write_text("FROM debian:12\nRUNN echo hi\n")
    result = run_coverage(tmp_path)
    buildkit = result["buildkit"]
    assert isinstance(buildkit, dict)
    assert buildkit["unparsable_before"] == [f"{tmp_path.name}/typo.Dockerfile"]
    assert buildkit["rules"] == {
        rule: {"before": 1, "after": 0, "removed": 1, "added": 0}
        for rule in (
            "ExposeProtoCasing",
            "FromAsCasing",
            "LegacyKeyValueFormat",
            "MaintainerDeprecated",
        )
    }
    assert buildkit["totals"] == {"before": 4, "after": 0, "removed": 4, "added": 0}


@needs_buildkit_lint
def test_a_buildkit_warning_the_fix_adds_is_named(tmp_path: Path) -> None:
    """A stand-in for dockfix that appends `ENV` in the legacy form: BuildKit's
    LegacyKeyValueFormat is counted as added, with the file it appeared in."""
    if shutil.which("hadolint") is None:
        pytest.skip("hadolint is not installed")
    (tmp_path / "Dockerfile").write_text("FROM debian:12\nENV LANG C.UTF-8\n")
    appends_env = (
        "import sys\n"
        "for f in sys.argv[1:]:\n"
        "    if f.endswith('Dockerfile'):\n"
        "        open(f, 'a').write('ENV TZ UTC\\n')\n"
    )
    result = load_coverage_script().measure(
        [tmp_path],
        str(shutil.which("hadolint")),
        [sys.executable, "-c", appends_env],
        [],
        BUILDKIT_LINT,
    )
    assert result["buildkit"]["rules"]["LegacyKeyValueFormat"] == {
        "before": 1,
        "after": 2,
        "removed": 0,
        "added": 1,
    }
    assert result["buildkit"]["added_in"] == [f"{tmp_path.name}/Dockerfile: LegacyKeyValueFormat"]


@needs_buildkit_lint
def test_the_fix_adds_no_buildkit_warning_on_the_realistic_corpus() -> None:
    result = run_coverage(CORPUS)
    buildkit = result["buildkit"]
    assert isinstance(buildkit, dict)
    assert buildkit["added_in"] == []
    assert buildkit["unparsable_after"] == []
    assert buildkit["totals"]["added"] == 0
    assert buildkit["totals"]["removed"] > 0


def test_without_the_checker_buildkit_is_said_not_measured(tmp_path: Path) -> None:
    if shutil.which("hadolint") is None:
        pytest.skip("hadolint is not installed")
    (tmp_path / "Dockerfile").write_text("FROM debian:12\nMAINTAINER ops@example.com\n")
    path = [d for d in os.get_exec_path() if not (Path(d) / "dockfix-buildkit-lint").exists()]
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--corpus", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env={**os.environ, "PATH": os.pathsep.join(path)},
    )
    lines = proc.stdout.splitlines()
    assert "hadolint removed: 1 of 1 (100.0%); added: 0" in lines  # DL4000, still measured
    assert lines[-1] == (
        "BuildKit checks: not measured, no checker (dockfix-buildkit-lint not found)"
    )
    assert not any("BuildKit check |" in line for line in lines)


@needs_buildkit_lint
def test_the_checker_reports_buildkit_rule_line_and_message_per_file(tmp_path: Path) -> None:
    """dockfix-buildkit-lint itself: BuildKit's warnings sorted by line (BuildKit gives them in
    the order its passes find them), no base image pulled (`golang:1.22` resolves to an empty
    image), one object per file, in argument order."""
    (tmp_path / "Dockerfile").write_text(
        "FROM golang:1.22 as build\n"
        "ENV CGO_ENABLED 0\n"
        "MAINTAINER ops@example.com\n"
        "FROM build\n"
        "expose 8080/TCP\n"
    )
    (tmp_path / "clean.Dockerfile").write_text('FROM debian:12\nCMD ["bash"]\n')
    files = [str(tmp_path / "Dockerfile"), str(tmp_path / "clean.Dockerfile")]
    proc = subprocess.run(
        [str(BUILDKIT_LINT), *files], capture_output=True, text=True, timeout=120, check=True
    )
    reports = json.loads(proc.stdout)
    assert [r["file"] for r in reports] == files
    assert [(w["rule"], w["line"]) for w in reports[0]["warnings"]] == [
        ("FromAsCasing", 1),
        ("LegacyKeyValueFormat", 2),
        ("MaintainerDeprecated", 3),
        ("ConsistentInstructionCasing", 5),
        ("ExposeProtoCasing", 5),
    ]
    assert reports[0]["warnings"][0]["message"] == "'as' and 'FROM' keywords' casing do not match"
    assert reports[1] == {"file": files[1], "warnings": []}
