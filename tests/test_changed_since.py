"""`--changed-since REF`: only the Dockerfiles whose bytes or build context changed, real git."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from support.cli import git, run_dockfix

DOCKERFILE = "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl\n"


def dockfix(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_dockfix(*args, "--select", "DF102", cwd=cwd)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "monorepo"
    for name in ("web", "api", "worker"):
        (root / "services" / name).mkdir(parents=True)
        (root / "services" / name / "Dockerfile").write_text(DOCKERFILE)
        (root / "services" / name / "package.json").write_text("{}\n")
    git("init", "-q", "-b", "main", cwd=root)
    git("config", "user.email", "dev@example.invalid", cwd=root)
    git("config", "user.name", "Dev", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "initial", cwd=root)
    return root


def checked(r: subprocess.CompletedProcess[str]) -> list[str]:
    """The files a `check --output-format concise` run reported."""
    return sorted({line.split(":")[0] for line in r.stdout.splitlines() if ": DF" in line})


def test_a_change_beside_a_dockerfile_selects_that_dockerfile_only(repo: Path) -> None:
    (repo / "services" / "api" / "package.json").write_text('{"name": "api"}\n')
    git("commit", "-qam", "api deps", cwd=repo)
    r = dockfix("check", "--output-format", "concise", "--changed-since", "HEAD~1", ".", cwd=repo)
    assert r.returncode == 1, r.stderr
    assert checked(r) == ["services/api/Dockerfile"]
    files = dockfix("check", "--changed-since", "HEAD~1", "--show-files", ".", cwd=repo)
    assert files.stdout == "services/api/Dockerfile\n" and files.returncode == 0
    # and `fix` takes the same files
    d = dockfix("fix", "--changed-since", "HEAD~1", ".", cwd=repo)
    assert "+++ b/services/api/Dockerfile" in d.stdout and "services/web" not in d.stdout


def test_uncommitted_edits_and_untracked_files_count(repo: Path) -> None:
    (repo / "services" / "web" / "Dockerfile").write_text(DOCKERFILE + "CMD x\n")
    (repo / "services" / "worker" / ".dockerignore").write_text("node_modules\n")
    r = dockfix("check", "--output-format", "concise", "--changed-since", "HEAD", ".", cwd=repo)
    assert checked(r) == ["services/web/Dockerfile", "services/worker/Dockerfile"]


def test_nothing_changed_checks_nothing_and_passes(repo: Path) -> None:
    r = dockfix("check", "--changed-since", "main", ".", cwd=repo)
    assert r.returncode == 0 and "(0 files checked)" in r.stderr


def test_a_rename_selects_the_renamed_dockerfile_and_the_context_it_left(repo: Path) -> None:
    git("mv", "services/web/Dockerfile", "services/api/web.Dockerfile", cwd=repo)
    git("commit", "-qm", "move", cwd=repo)
    log = git("diff", "--name-status", "--find-renames", "HEAD~1", cwd=repo)
    assert log.startswith("R100")
    r = dockfix("check", "--show-files", "--changed-since", "HEAD~1", ".", cwd=repo)
    assert r.stdout.splitlines() == ["services/api/Dockerfile", "services/api/web.Dockerfile"]


def test_a_context_setting_decides_which_changes_count(repo: Path) -> None:
    (repo / "shared").mkdir()
    (repo / "shared" / "lib.txt").write_text("v1\n")
    (repo / "dockfix.toml").write_text('[context]\n"services/worker/*" = "."\n')
    git("add", "-A", cwd=repo)
    git("commit", "-qm", "shared", cwd=repo)
    (repo / "shared" / "lib.txt").write_text("v2\n")
    r = dockfix("check", "--show-files", "--changed-since", "HEAD", ".", cwd=repo)
    assert r.stdout == "services/worker/Dockerfile\n"


def test_an_unknown_revision_is_one_line_and_exit_2(repo: Path) -> None:
    r = dockfix("check", "--changed-since", "no-such-branch", ".", cwd=repo)
    assert r.returncode == 2
    assert r.stderr == "error: --changed-since: unknown revision `no-such-branch`\n"
    r = dockfix("check", "--changed-since", "--output=x", ".", cwd=repo)
    assert r.returncode == 2 and "unknown revision `--output=x`" in r.stderr
    assert not (repo / "x").exists()


def test_outside_a_work_tree_or_a_path_outside_it_is_an_error(repo: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "Dockerfile").write_text(DOCKERFILE)
    r = dockfix("check", "--changed-since", "HEAD", ".", cwd=elsewhere)
    assert r.returncode == 2 and r.stderr.strip() == "error: --changed-since needs a git work tree"
    (repo / "services" / "api" / "Dockerfile").write_text(DOCKERFILE + "CMD x\n")
    r = dockfix("check", "--changed-since", "HEAD", ".", str(elsewhere / "Dockerfile"), cwd=repo)
    assert r.returncode == 2
    assert "Dockerfile: outside the git work tree" in r.stderr
    assert "services/api/Dockerfile:2:1: DF102" in r.stdout
