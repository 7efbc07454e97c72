"""Bad input and hostile file systems: one clear line per file, exit 2, nothing half-written."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dockfix.run.runner import RunOptions, process_path, write_fixed_text

UPDATE_ALONE = "FROM debian\nRUN apt-get update\nRUN apt-get install -y curl\n"


def run_dockfix(
    *args: str, cwd: Path, no_override: bool = False
) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "dockfix", *args, "--select", "DF102"]
    if no_override:
        # root without CAP_DAC_OVERRIDE respects file modes, as any other user does
        cmd = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *cmd]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, check=False, env=env, timeout=120
    )


def test_fifty_megabyte_file(tmp_path: Path) -> None:
    big = tmp_path / "huge" / "Dockerfile"
    big.parent.mkdir()
    with big.open("wb") as fh:
        fh.write(b"FROM a\n")
        fh.truncate(50 * 1024 * 1024)
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "Dockerfile").write_text(UPDATE_ALONE)
    r = run_dockfix("check", ".", cwd=tmp_path)
    assert r.returncode == 2
    assert "huge/Dockerfile: too large for a Dockerfile (50.0 MB" in r.stderr
    assert "ok/Dockerfile:2:1: DF102" in r.stdout


def test_modified_between_read_and_write(tmp_path: Path) -> None:
    target = tmp_path / "Dockerfile"
    target.write_text(UPDATE_ALONE)
    report = process_path(str(target), RunOptions(select=("DF102",)))
    assert report.outcome is not None and report.outcome.fixed != UPDATE_ALONE
    target.write_text(UPDATE_ALONE + "# edited by someone else\n")
    write_fixed_text(report)
    assert (
        report.write_errors
        and "changed on disk since it was read; not overwritten" in report.write_errors[0]
    )
    assert target.read_text() == UPDATE_ALONE + "# edited by someone else\n"
    assert [p.name for p in tmp_path.iterdir()] == ["Dockerfile"]  # no temporary file left


needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv"
)


@needs_root
def test_unreadable_and_unwritable_files(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o777)
    for name in ("secret", "locked", "ok"):
        (tmp_path / name).mkdir()
        os.chmod(tmp_path / name, 0o777)
        (tmp_path / name / "Dockerfile").write_text(UPDATE_ALONE)
        os.chmod(tmp_path / name / "Dockerfile", 0o666)
    os.chmod(tmp_path / "secret" / "Dockerfile", 0o000)
    os.chmod(tmp_path / "locked", 0o555)  # the file is writable, its directory is not
    r = run_dockfix("fix", "--write", ".", cwd=tmp_path, no_override=True)
    assert r.returncode == 2, r.stderr
    assert "secret/Dockerfile: permission denied (cannot read)" in r.stderr
    assert "locked/Dockerfile: permission denied (cannot write in its directory)" in r.stderr
    assert "RUN apt-get update && apt-get install" in (tmp_path / "ok" / "Dockerfile").read_text()
    assert (tmp_path / "locked" / "Dockerfile").read_text() == UPDATE_ALONE


@needs_root
def test_read_only_file_system(tmp_path: Path) -> None:
    mnt = tmp_path / "ro"
    mnt.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], check=False
    ).returncode:
        pytest.skip("mount not permitted here")
    try:
        (mnt / "Dockerfile").write_text(UPDATE_ALONE)
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        r = run_dockfix("fix", "--write", "ro/Dockerfile", cwd=tmp_path)
        assert r.returncode == 2
        assert (
            r.stderr.strip().splitlines()[-1]
            == "ro/Dockerfile: cannot write: Read-only file system"
        )
        assert (mnt / "Dockerfile").read_text() == UPDATE_ALONE
    finally:
        subprocess.run(["umount", str(mnt)], check=False)


def test_a_pipe_named_like_a_dockerfile_variant_does_not_stop_the_walk(tmp_path: Path) -> None:
    """The walk looks inside `Dockerfile.<suffix>` files for NUL bytes; a FIFO so named would
    block that look until something wrote to it (the run hung). It is taken as a file, and the
    run says it is not a regular one; the other files are checked."""
    (tmp_path / "Dockerfile").write_text(
        "FROM debian:12\nRUN apt-get update\nRUN apt-get install -y curl\n"
    )
    os.mkfifo(tmp_path / "Dockerfile.pipe")
    r = run_dockfix("check", ".", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert "Dockerfile.pipe: not a regular file" in r.stderr
    assert "Dockerfile:2:1: DF102" in r.stdout
