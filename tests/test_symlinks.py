"""A symlinked Dockerfile is one file: checked, diffed and written once, under its real path."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from test_bot_path import dockfix as run_dockfix

UPDATE_ALONE = "FROM debian:12\nRUN apt-get update\nRUN apt-get install -y curl\n"
FIXED = "FROM debian:12\nRUN apt-get update && apt-get install -y curl\n"


def dockfix(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_dockfix(*args, "--offline", "--select", "DF102", cwd=cwd)


def _tree(root: Path) -> None:
    (root / "docker").mkdir(parents=True)
    (root / "docker" / "Dockerfile.debian").write_text(UPDATE_ALONE)
    os.symlink("docker/Dockerfile.debian", root / "Dockerfile")
    for i in range(5):
        (root / f"svc{i}").mkdir()
        (root / f"svc{i}" / "Dockerfile").write_text(UPDATE_ALONE)


def test_symlinked_dockerfile_is_diffed_and_written_once(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    _tree(root)
    r = dockfix("fix", ".", cwd=root)
    assert r.returncode == 1, r.stderr
    assert r.stdout.count("+++ b/docker/Dockerfile.debian\n") == 1
    assert "b/Dockerfile\n" not in r.stdout
    (tmp_path / "fix.patch").write_text(r.stdout)
    check = subprocess.run(
        ["git", "apply", "--check", str(tmp_path / "fix.patch")],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    assert "6 files would change" in r.stderr

    r = dockfix("fix", "--write", ".", cwd=root)
    assert r.returncode == 0, r.stderr
    assert "warning" not in r.stderr and "changed on disk" not in r.stderr
    assert "6 files changed" in r.stderr
    assert os.readlink(root / "Dockerfile") == "docker/Dockerfile.debian"
    assert (root / "docker" / "Dockerfile.debian").read_text() == FIXED

    # Named through the link: the same file, reported under its real path.
    (root / "docker" / "Dockerfile.debian").write_text(UPDATE_ALONE)
    r = dockfix("check", "--output-format", "concise", "Dockerfile", "docker", cwd=root)
    assert r.returncode == 1
    assert r.stdout.splitlines() == [
        line for line in r.stdout.splitlines() if line.startswith("docker/Dockerfile.debian:")
    ]
    assert len(r.stdout.splitlines()) == 1, r.stdout


def test_link_to_a_file_outside_the_tree_is_skipped_with_a_note(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    _tree(root)
    outside = tmp_path / "elsewhere" / "Dockerfile"
    outside.parent.mkdir()
    outside.write_text(UPDATE_ALONE)
    (root / "linked").mkdir()
    os.symlink(outside, root / "linked" / "Dockerfile")
    r = dockfix("fix", "--write", ".", cwd=root)
    assert r.returncode == 0, r.stderr
    notes = [line for line in r.stderr.splitlines() if "linked/Dockerfile" in line]
    assert notes == [
        f"note: linked/Dockerfile: symlink to {outside}, outside the working directory; skipped"
    ]
    assert outside.read_text() == UPDATE_ALONE
    assert "6 files changed" in r.stderr
    # Named from elsewhere, the link is outside the working directory too: taken as named.
    (tmp_path / "third").mkdir()
    r = dockfix("check", str(root / "linked" / "Dockerfile"), cwd=tmp_path / "third")
    assert r.returncode == 1, r.stderr
    assert f"{root}/linked/Dockerfile:2:1: DF102" in r.stdout
    assert "note:" not in r.stderr


def test_file_named_through_a_linked_directory_is_taken_once(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    _tree(root)
    os.symlink("svc0", root / "svc0-link")
    r = dockfix("fix", "--write", "svc0", "svc0-link", cwd=root)
    assert r.returncode == 0, r.stderr
    assert "1 file changed" in r.stderr
    assert "changed on disk" not in r.stderr
    assert (root / "svc0" / "Dockerfile").read_text() == FIXED


def test_what_the_walk_knows_gives_the_paths_lstat_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk tells the run each file's real path so that it need not lstat every file:
    the files and the names they are shown under are those the lstat of each gives."""
    from dockfix.files.discovery import iter_dockerfile_paths
    from dockfix.run.runner import one_path_per_file

    root = tmp_path / "repo"
    _tree(root)
    os.symlink("svc0", root / "svc0-link")
    os.symlink(root, tmp_path / "repo-link")
    monkeypatch.chdir(root)
    for named in (["."], ["svc0-link", "svc1"], [str(tmp_path / "repo-link")], ["../repo"]):
        known: dict[str, tuple[str, bool]] = {}
        walked = list(iter_dockerfile_paths(named, real_paths=known))
        assert known  # the walk told something
        assert list(one_path_per_file(walked, [], known)) == list(one_path_per_file(walked, []))
