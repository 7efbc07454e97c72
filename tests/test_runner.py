"""Running many files: worker processes, the order of reports, and the walk feeding them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dockfix.files.discovery import iter_dockerfile_paths
from dockfix.run.runner import PARALLEL_THRESHOLD, RunOptions, process_paths

UPDATE_ALONE = "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl\n"
FIXED = "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\n"


def _monorepo(root: Path, files: int) -> None:
    for i in range(files):
        service = root / f"team-{i % 7}" / f"svc-{i:04d}"
        service.mkdir(parents=True)
        text = UPDATE_ALONE if i % 3 else "FROM debian:bookworm\n"
        (service / "Dockerfile").write_text(text)


def test_parallel_reports_match_a_sequential_run_in_order(tmp_path: Path) -> None:
    _monorepo(tmp_path, PARALLEL_THRESHOLD + 57)
    paths = list(iter_dockerfile_paths([str(tmp_path)]))
    opts = RunOptions(select=("DF102",), offline=True)
    one = [(r.path, r.outcome.fixed if r.outcome else None) for r in process_paths(paths, opts, 1)]
    walked = process_paths(iter_dockerfile_paths([str(tmp_path)]), opts, jobs=2)  # a generator
    two = [(r.path, r.outcome.fixed if r.outcome else None) for r in walked]
    assert two == one
    assert [p for p, _ in one] == sorted((p for p, _ in one), key=lambda p: p.split("/"))
    assert sum(fixed == FIXED for _, fixed in one) == len(paths) * 2 // 3


def test_workers_do_not_hang_after_buildkit_parser_loaded(tmp_path: Path) -> None:
    # BuildKit's parser is Go; its runtime does not survive fork(). A process that has used
    # it (a long-lived API caller) must still be able to run a parallel fix, whose workers
    # call it on every changed file. In a subprocess, with a timeout: a hang fails the test.
    _monorepo(tmp_path, PARALLEL_THRESHOLD + 20)
    script = textwrap.dedent(
        f"""
        from dockfix.core.buildkit_check import buildkit_rejects
        from dockfix.files.discovery import iter_dockerfile_paths
        from dockfix.run.runner import RunOptions, process_paths

        # Enough parsing for Go's garbage collector to run its threads (one call may not).
        for i in range(1000):
            assert buildkit_rejects(f"FROM scratch\\nRUN echo {{i}}\\n" * 20) is None
        opts = RunOptions(select=("DF102",), offline=True)
        paths = list(iter_dockerfile_paths([{str(tmp_path)!r}]))
        reports = list(process_paths(paths, opts, jobs=2))
        print(sum(r.outcome is not None and r.outcome.fixed != r.outcome.original
                  for r in reports))
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its workers too can be stopped if it hangs
    )
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("a parallel run hung after BuildKit's parser was loaded")
    assert proc.returncode == 0, err
    assert int(out.strip()) == (PARALLEL_THRESHOLD + 20) * 2 // 3


def test_reports_cross_the_process_boundary_unchanged(tmp_path: Path) -> None:
    """The wire format (plain tuples) rebuilds every field: findings, fixes, edits, file
    changes, applied fixes and warnings, in fix and in check mode."""
    import pickle

    from dockfix.run.wire import pack_report, unpack_report

    (tmp_path / "package.json").write_text('{"name": "a", "version": "1.0.0"}\n')
    (tmp_path / "Dockerfile").write_text(
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nRUN apt-get update\n"
        "RUN apt-get install -y curl\nCMD node server.js\n"
    )
    for apply in (True, False):
        opts = RunOptions(offline=True, unsafe_fixes=True, apply_fixes=apply)
        [report] = process_paths([str(tmp_path / "Dockerfile")], opts, 1)
        assert report.outcome is not None and report.outcome.findings
        assert any(f.fix is not None for f in report.outcome.findings + report.outcome.applied)
        assert bool(report.outcome.applied) == apply  # fix mode carries applied fixes too
        back = unpack_report(pickle.loads(pickle.dumps(pack_report(report))))
        assert back == report


def test_the_wire_format_carries_every_field() -> None:
    """A field added to a report, outcome, finding, fix or edit must be added to ``wire`` too:
    the packed tuples have one item per field."""
    import dataclasses

    from dockfix.core.engine import FixOutcome
    from dockfix.core.fixer import Applicability, Edit, Finding, Fix
    from dockfix.run.runner import FileReport
    from dockfix.run.wire import pack_report

    fix = Fix((Edit(0, 1, "x"),), Applicability.SAFE, "d")
    finding = Finding("DF102", "m", 1, fix=fix)
    outcome = FixOutcome("a", "b", [finding], [finding])
    packed = pack_report(FileReport("p", outcome))
    assert len(packed) == len(dataclasses.fields(FileReport))
    assert len(packed[1]) == len(dataclasses.fields(FixOutcome))
    packed_finding = packed[1][2][0]
    assert len(packed_finding) == len(dataclasses.fields(Finding))
    assert len(packed_finding[6]) == len(Fix._fields)
    assert len(packed_finding[6][0][0]) == len(Edit._fields)


def test_a_checked_tree_is_freed_without_the_garbage_collector(tmp_path: Path) -> None:
    """Trees, shell parses and RUN analyses hold no reference cycles: a large run frees each
    file's objects as soon as it is done instead of leaving them to the collector's scans."""
    import gc

    from dockfix.run.runner import process_path

    fixtures = Path(__file__).parent.parent / "fixtures"
    # Every fixture case's Dockerfile: all fixers, multi-stage files, heredocs, ONBUILD, CRLF.
    paths = sorted(str(p) for p in fixtures.glob("*/*/Dockerfile"))
    assert len(paths) > 100
    opts = RunOptions(offline=True, unsafe_fixes=True)
    for p in paths:  # warm up: imports and per-process caches are not garbage
        process_path(p, opts)
    gc.collect()
    gc.disable()
    try:
        for p in paths:
            process_path(p, opts)
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_check_s_output_from_workers_is_a_sequential_run_s_in_every_format(
    tmp_path: Path,
) -> None:
    """Workers send the findings' edits back only for the formats that print them: every
    format's output is the same as a run without workers (json's edits included)."""
    _monorepo(tmp_path, PARALLEL_THRESHOLD + 10)

    def check(*args: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-m", "dockfix", "check", "--offline", "--no-cache", *args, "."],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert proc.returncode == 1, proc.stderr
        return proc.stdout

    for fmt in ("full", "concise", "json", "rdjson", "sarif"):
        parallel = check("--jobs", "2", "--output-format", fmt)
        assert parallel == check("--jobs", "1", "--output-format", fmt), fmt
    assert '"start": ' in check("--jobs", "2", "--output-format", "json")


def test_chunks_grow_while_they_come_back_from_the_results_cache() -> None:
    """A warm run's chunks double while each came back all cached (fewer round trips and
    fewer per-chunk settings), and shrink back once one had a file to check."""
    from dockfix.core.engine import FileReport
    from dockfix.run.runner import HIT_CHUNK, STREAM_CHUNK, _ChunkSize

    sizing = _ChunkSize()
    chunks = sizing.chunks(iter(f"s{i}/Dockerfile" for i in range(5000)))
    sizes = []
    for n, chunk in enumerate(chunks):
        sizes.append(len(chunk))
        sizing.saw([FileReport(p, cached=n != 4) for p in chunk])
    assert sizes[:6] == [
        STREAM_CHUNK,
        STREAM_CHUNK * 2,
        STREAM_CHUNK * 4,
        STREAM_CHUNK * 8,
        HIT_CHUNK,
        STREAM_CHUNK,
    ]
    assert max(sizes) == HIT_CHUNK and sum(sizes) == 5000


def test_a_warm_parallel_run_with_a_changed_file_checks_it_in_order(tmp_path: Path) -> None:
    _monorepo(tmp_path, PARALLEL_THRESHOLD * 4)
    names = [p for p in iter_dockerfile_paths([str(tmp_path)])]
    opts = RunOptions(offline=True, cache_dir=str(tmp_path / ".cache"), select=("DF102",))
    cold = list(process_paths(names, opts, jobs=2))
    changed = names[len(names) - 3]
    Path(changed).write_text(FIXED)
    warm = list(process_paths(names, opts, jobs=2))
    assert [r.path for r in warm] == [r.path for r in cold]
    assert [r.path for r in warm if not r.cached] == [cold[len(names) - 3].path]
    assert [len(r.outcome.findings) for r in warm if r.cached] == [  # type: ignore[union-attr]
        len(r.outcome.findings)
        for r in cold
        if r.path != cold[len(names) - 3].path  # type: ignore[union-attr]
    ]
    assert not warm[len(names) - 3].outcome.findings  # type: ignore[union-attr]
