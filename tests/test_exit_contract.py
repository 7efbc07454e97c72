"""The exit and error contract: 0 nothing, 1 findings or a diff, 2 an error, 130 Ctrl-C; every
problem one line naming the path, and the other files still processed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dockfix import source_io
from dockfix.source_io import text_digest, write_atomic

UPDATE_ALONE = "FROM debian\nRUN apt-get update\nRUN apt-get install -y curl\n"
FIXED = "FROM debian\nRUN apt-get update && apt-get install -y curl\n"

# A third-party fixer that takes its time, so that a run can be interrupted half-way.
SLOW_PLUGIN = '''
"""SLOW001 slow: finds nothing, slowly.

## What it does
Nothing.
## Why is this bad
It is not.
## Example
## Fix safety
Display-only.
## Options
None.
## Resolves
none
"""
import os
import time
from pathlib import Path

from dockfix.fixer import Fixer, register


@register
class Slow(Fixer):
    code = "SLOW001"
    name = "slow"
    summary = "Finds nothing, slowly"

    def check(self, doc, ctx):
        Path(os.environ["SLOW_STARTED"]).touch()
        time.sleep(0.05)
        return iter(())
'''


def _slow_env(tmp_path: Path) -> dict[str, str]:
    site = tmp_path / "site"
    info = site / "slowfixer-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "entry_points.txt").write_text("[dockfix.fixers]\nslow = slowfixer:Slow\n")
    (info / "METADATA").write_text("Name: slowfixer\nVersion: 1.0\n")
    (site / "slowfixer.py").write_text(SLOW_PLUGIN)
    return {
        **os.environ,
        "PYTHONPATH": str(site),
        "PYTHONDONTWRITEBYTECODE": "1",
        "SLOW_STARTED": str(tmp_path / "started"),
    }


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_exits_130_and_leaves_every_file_whole(tmp_path: Path, jobs: str) -> None:
    repo = tmp_path / "repo"
    files = []
    for i in range(240):  # enough for worker processes (the threshold is 200)
        f = repo / f"svc{i:03}" / "Dockerfile"
        f.parent.mkdir(parents=True)
        f.write_text(UPDATE_ALONE)
        files.append(f)
    cmd = [sys.executable, "-m", "dockfix", "fix", "--write", "--offline", "--jobs", jobs]
    proc = subprocess.Popen(
        [*cmd, "--select", "DF102,SLOW001", "."],
        cwd=repo,
        env=_slow_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    deadline = time.monotonic() + 60
    while not (tmp_path / "started").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert not [p for p in repo.rglob("*") if p.is_file() and p.name != "Dockerfile"]
    assert {f.read_text() for f in files} <= {UPDATE_ALONE, FIXED}


def test_interrupt_during_a_write_waits_for_the_write(tmp_path: Path) -> None:
    target = tmp_path / "Dockerfile"
    target.write_text(UPDATE_ALONE)
    real_fsync = os.fsync

    def fsync_then_ctrl_c(fd: int) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # arrives half-way through the write
        real_fsync(fd)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(source_io.os, "fsync", fsync_then_ctrl_c)
        with pytest.raises(KeyboardInterrupt):
            write_atomic(target, FIXED, expected_digest=text_digest(UPDATE_ALONE))
    assert target.read_text() == FIXED
    assert [p.name for p in tmp_path.iterdir()] == ["Dockerfile"]
