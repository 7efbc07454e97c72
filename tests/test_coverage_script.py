"""scripts/coverage: hadolint's findings per rule before and after `dockfix fix`, with the
real hadolint and dockfix, on a corpus small enough to know the answer."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from importlib.machinery import SourceFileLoader
from pathlib import Path

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
    loader = SourceFileLoader("coverage_script", str(SCRIPT))
    coverage = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
    loader.exec_module(coverage)
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
