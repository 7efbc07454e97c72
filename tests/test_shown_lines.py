"""`check`'s full and concise outputs are made file by file where each file is checked
(``FileLines``): the same text, counts and exit status as rendering every finding at the end,
in a parallel run, from the results cache, and when the cache was filled in another format."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from dockfix.cli import main
from dockfix.core.engine import fixable_summary
from dockfix.core.fixer import Applicability, Finding, Fix, Severity
from dockfix.output.report import render
from dockfix.run.runner import PARALLEL_THRESHOLD
from dockfix.run.shown import file_lines, shown_text

_SOURCE = "FROM debian\nRUN apt-get update\r\nRUN apt-get install -y curl\n\nUSER root\nCMD x\n"

_fixes = st.one_of(
    st.none(),
    st.builds(
        Fix,
        st.just(()),
        st.sampled_from(list(Applicability)),
        st.sampled_from(["", "pin it", "split the line"]),
    ),
)
_findings = st.builds(
    Finding,
    code=st.sampled_from(["DF101", "DF103", "DF201", "DF505"]),
    message=st.sampled_from(["a message", "another: with a colon", "ünïcode"]),
    line=st.integers(1, 8),
    column=st.integers(1, 4),
    end_line=st.one_of(st.none(), st.integers(1, 14)),
    fix=_fixes,
    reason=st.sampled_from(["", "the user is chosen at run time"]),
    path=st.sampled_from(["a/Dockerfile", "b/Dockerfile", "a-b/Dockerfile", "Dockerfile"]),
    severity=st.sampled_from(list(Severity)),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_findings, max_size=25),
    st.sets(st.sampled_from(["a/Dockerfile", "b/Dockerfile", "Dockerfile"])),
    st.sampled_from(["full", "concise"]),
)
def test_file_by_file_output_is_the_rendered_output(
    findings: list[Finding], unsafe_paths: set[str], fmt: str
) -> None:
    by_path: dict[str, list[Finding]] = {}
    for f in findings:
        by_path.setdefault(f.path, []).append(f)
    sources = {path: _SOURCE for path in by_path}
    files = [
        (path, file_lines(group, path in unsafe_paths, _SOURCE, fmt, None))
        for path, group in reversed(list(by_path.items()))  # in any order
    ]
    assert shown_text(files) == render(findings, fmt, unsafe_paths, sources)
    assert sum(sum(lines.severities) for _, lines in files) == len(findings)
    now = sum(lines.fixable[0] for _, lines in files)
    more = sum(lines.fixable[1] for _, lines in files)
    assert (now, more) == fixable_summary(findings, unsafe_paths)


def test_a_path_shown_twice_is_merged_finding_by_finding() -> None:
    first = [
        Finding("DF101", "one", 1, path="Dockerfile"),
        Finding("DF101", "three", 3, path="Dockerfile"),
    ]
    second = [Finding("DF103", "two", 2, path="Dockerfile")]
    files = [
        ("Dockerfile", file_lines(first, False, None, "concise", None)),
        ("Dockerfile", file_lines(second, False, None, "concise", None)),
    ]
    assert [line.split(": ")[-1] for line in shown_text(files).splitlines()] == [
        "one",
        "two",
        "three",
    ]


APT = "FROM debian:12\nRUN apt-get update\nRUN apt-get install -y curl\n"
CLEAN = "FROM scratch\nCOPY app /app\n"


@pytest.fixture
def monorepo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """More files than a run checks in one process, a folder whose configuration fails only
    on errors, and a file that cannot be read."""
    root = tmp_path / "repo"
    for i in range(PARALLEL_THRESHOLD + 12):
        team = root / ("strict" if i % 5 == 0 else "teams") / f"svc-{i:03d}"
        team.mkdir(parents=True)
        (team / "Dockerfile").write_text(
            CLEAN if i % 7 == 0 else APT.replace("12", str(i % 3 + 10))
        )
    (root / "strict" / "dockfix.toml").write_text('failure-threshold = "error"\n')
    (root / "teams" / "broken").mkdir()
    (root / "teams" / "broken" / "Dockerfile").write_bytes(b"FROM a\n\xff\n")
    monkeypatch.chdir(root)
    monkeypatch.setenv("DOCKFIX_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return root


def _check(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["check", "--offline", "-j", "2", *args, "."])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    "first, then", [("full", "concise"), ("concise", "full"), ("concise", "concise")]
)
def test_a_parallel_cached_run_shows_what_an_uncached_one_does(
    monorepo: Path, first: str, then: str
) -> None:
    expected = _check("--no-cache", "--output-format", then)
    assert expected[0] == 2 and "not valid UTF-8" in expected[2]
    assert "below the failure threshold" in expected[2]  # the strict folder's warnings
    _check("--output-format", first)  # fills the cache, in the other format or the same
    warm = _check("--output-format", then, "-v")
    assert warm[2].count("(cached)") == PARALLEL_THRESHOLD + 12
    assert warm[0] == expected[0] and warm[1] == expected[1]
    verbose = re.compile(r"^\S+: (\d+ findings|error)( \(cached\))?$")
    assert [ln for ln in warm[2].splitlines() if not verbose.match(ln)] == expected[2].splitlines()


def test_a_configured_failure_threshold_holds_in_a_warm_parallel_run(monorepo: Path) -> None:
    """The threshold of each file's configuration travels with its shown lines: a folder
    whose configuration fails on nothing passes, cold and warm, though it has findings."""
    import shutil

    shutil.rmtree(monorepo / "teams")
    (monorepo / "strict" / "dockfix.toml").write_text('failure-threshold = "none"\n')
    for i in range(PARALLEL_THRESHOLD):
        extra = monorepo / "strict" / f"more-{i:03d}"
        extra.mkdir()
        (extra / "Dockerfile").write_text(APT)
    for _ in range(2):  # cold, then warm
        code, out, err = _check("--output-format", "concise")
        found = int(err.split("Found ")[1].split(" ")[0])
        assert code == 0 and out and f"{found} below the failure threshold" in err, err
    assert os.listdir(os.environ["DOCKFIX_CACHE_DIR"])
