"""The PR-bot path, for real with git: commits per code, a branch, a PR body, a push."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

SERVICES = {
    "services/api/Dockerfile": 'FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl\nCMD ["api"]\n',
    "services/worker/Dockerfile": 'FROM alpine:3.20\r\nRUN apk update\r\nRUN apk add git\r\nCMD ["w"]\r\n',
    "services/web/Dockerfile": 'FROM debian:bookworm\nRUN apt-get update && apt-get install -y nginx\nCMD ["nginx"]\n',
    "services/broken/Dockerfile": "FROM debian\nRUN apt-get update\nUSER app\nRUN apt-get install -y x\n",
}


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


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
    root = tmp_path / "monorepo"
    root.mkdir()
    git("init", "-q", "-b", "main", cwd=root)
    git("config", "user.email", "dev@example.invalid", cwd=root)
    git("config", "user.name", "Dev", cwd=root)
    for rel, text in SERVICES.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(text.encode())
    (root / "README.md").write_text("monorepo\n")
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "initial", cwd=root)
    return root


def test_commit_per_code_branch_pr_body_and_push(repo: Path, tmp_path: Path) -> None:
    r = dockfix(
        "fix",
        "--select",
        "DF102",
        "--commit",
        "--branch",
        "dockfix/fixes",
        "--pr-body",
        "../body.md",
        ".",
        cwd=repo,
    )
    assert r.returncode == 0, r.stderr
    assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=repo).strip() == "dockfix/fixes"
    log = git("log", "--format=%s%n%b%x00", "main..HEAD", cwd=repo).split("\x00")
    commits = [c.strip() for c in log if c.strip()]
    assert len(commits) == 1
    subject, *body = commits[0].splitlines()
    assert subject == "dockfix: DF102 apt-update-alone (2 files)"
    assert "- services/api/Dockerfile" in body and "- services/worker/Dockerfile" in body
    changed = git("diff", "--name-only", "main..HEAD", cwd=repo).split()
    assert sorted(changed) == ["services/api/Dockerfile", "services/worker/Dockerfile"]
    assert git("status", "--porcelain", cwd=repo) == ""
    assert (
        repo / "services/worker/Dockerfile"
    ).read_bytes() == b'FROM alpine:3.20\r\nRUN apk update && apk add git\r\nCMD ["w"]\r\n'

    body_md = (tmp_path / "body.md").read_text()
    assert "| DF102 | [apt-update-alone](" in body_md
    assert "### DF102 [apt-update-alone](" in body_md
    assert "- `services/api/Dockerfile`: line 2: " in body_md
    assert body_md.count("Why: Each `RUN` is a cached layer.") == 1
    assert re.search(
        r"`services/broken/Dockerfile:2` \*\*DF102\*\* .* the user changes on line 3", body_md
    )

    # Re-running from main (the branch is replaced, as asked): same PR body (deterministic).
    git("checkout", "-q", "main", cwd=repo)
    r2 = dockfix(
        "fix",
        "--select",
        "DF102",
        "--commit",
        "--branch",
        "dockfix/fixes",
        "--force-branch",
        "--pr-body",
        "../body2.md",
        ".",
        cwd=repo,
    )
    assert r2.returncode == 0, r2.stderr
    assert (tmp_path / "body2.md").read_text() == body_md

    remote = tmp_path / "remote.git"
    git("init", "-q", "--bare", str(remote), cwd=tmp_path)
    git("remote", "add", "origin", str(remote), cwd=repo)
    git("push", "-q", "origin", "dockfix/fixes", cwd=repo)
    assert git("rev-parse", "dockfix/fixes", cwd=remote) == git("rev-parse", "HEAD", cwd=repo)


def test_refuses_dirty_tree(repo: Path) -> None:
    (repo / "README.md").write_text("edited\n")
    r = dockfix("fix", "--commit", ".", cwd=repo)
    assert r.returncode == 2
    assert "uncommitted changes (README.md)" in r.stderr
    r = dockfix("fix", "--select", "DF102", "--commit", "--allow-dirty", ".", cwd=repo)
    assert r.returncode == 0, r.stderr
    # The user's own edit is not committed by dockfix.
    assert "README.md" not in git("show", "--name-only", "--format=", "HEAD", cwd=repo)
    assert git("status", "--porcelain", cwd=repo).strip() == "M README.md"


def test_commit_outside_git_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(SERVICES["services/api/Dockerfile"])
    r = dockfix("fix", "--commit", ".", cwd=tmp_path)
    assert r.returncode == 2 and "--commit needs a git work tree" in r.stderr


def _tip(repo: Path, ref: str) -> str:
    return git("rev-parse", ref, cwd=repo).strip()


def _fix_on_branch(repo: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return dockfix(
        "fix", "--select", "DF102", "--commit", "--branch", "dockfix/fixes", *extra, ".", cwd=repo
    )


def test_existing_branch_is_never_moved_without_force_branch(repo: Path) -> None:
    """A branch of that name with its own work is refused; --force-branch names what it
    replaces (the old tip stays in the reflog)."""
    git("checkout", "-q", "-b", "dockfix/fixes", cwd=repo)
    (repo / "NOTES.md").write_text("someone's own work\n")
    git("add", "NOTES.md", cwd=repo)
    git("commit", "-q", "-m", "own work on the branch", cwd=repo)
    own = _tip(repo, "dockfix/fixes")
    git("checkout", "-q", "main", cwd=repo)

    r = _fix_on_branch(repo)
    assert r.returncode == 2
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert "dockfix/fixes" in lines[0] and "--force-branch" in lines[0]
    assert _tip(repo, "dockfix/fixes") == own
    assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=repo).strip() == "main"
    assert git("status", "--porcelain", cwd=repo) == ""  # nothing written either

    r = _fix_on_branch(repo, "--force-branch")
    assert r.returncode == 0, r.stderr
    replaced = [ln for ln in r.stderr.splitlines() if "replaced branch" in ln]
    assert replaced == [
        f'replaced branch `dockfix/fixes` (was {own[:7]} "own work on the branch"; its commit'
        f" not on HEAD stays in the reflog: `git branch dockfix/fixes-old {own[:7]}`)"
    ], r.stderr
    assert git("merge-base", "main", "dockfix/fixes", cwd=repo).strip() == _tip(repo, "main")
    assert "NOTES.md" not in git("ls-tree", "-r", "--name-only", "dockfix/fixes", cwd=repo)


def test_on_the_branch_already_commits_on_top(repo: Path) -> None:
    git("checkout", "-q", "-b", "dockfix/fixes", cwd=repo)
    (repo / "NOTES.md").write_text("own work\n")
    git("add", "NOTES.md", cwd=repo)
    git("commit", "-q", "-m", "own work", cwd=repo)
    own = _tip(repo, "HEAD")
    r = _fix_on_branch(repo)
    assert r.returncode == 0, r.stderr
    assert git("rev-parse", "HEAD~1", cwd=repo).strip() == own
    assert "replaced" not in r.stderr


def test_detached_head_needs_a_branch(repo: Path) -> None:
    git("checkout", "-q", "--detach", "HEAD", cwd=repo)
    start = _tip(repo, "HEAD")
    r = dockfix("fix", "--select", "DF102", "--commit", ".", cwd=repo)
    assert r.returncode == 2
    assert "HEAD is detached" in r.stderr and "--branch" in r.stderr
    assert _tip(repo, "HEAD") == start and git("status", "--porcelain", cwd=repo) == ""
    r = _fix_on_branch(repo)
    assert r.returncode == 0, r.stderr
    assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=repo).strip() == "dockfix/fixes"
    assert git("rev-parse", "HEAD~1", cwd=repo).strip() == start


def test_untracked_and_dirty_dockerfiles_are_left_alone(repo: Path) -> None:
    """An untracked Dockerfile committed onto the branch would vanish from the work tree at
    the next checkout of main; a file with uncommitted edits would carry them into a dockfix
    commit. Both are left as they are, with one line each."""
    new = repo / "services" / "new" / "Dockerfile"
    new.parent.mkdir()
    new.write_text(SERVICES["services/api/Dockerfile"])
    api = repo / "services" / "api" / "Dockerfile"
    edited = SERVICES["services/api/Dockerfile"] + "EXPOSE 8080\n"
    api.write_text(edited)
    r = dockfix("fix", "--select", "DF102", "--commit", "--allow-dirty", ".", cwd=repo)
    assert r.returncode == 0, r.stderr
    assert "skipped services/new/Dockerfile: git does not track it" in r.stderr
    assert "skipped services/api/Dockerfile: it has uncommitted changes" in r.stderr
    assert new.read_text() == SERVICES["services/api/Dockerfile"]
    assert api.read_text() == edited
    committed = git("show", "--name-only", "--format=", "HEAD", cwd=repo).split()
    assert committed == ["services/worker/Dockerfile"]
    git("checkout", "-q", "HEAD~1", cwd=repo)  # the untracked file survives a checkout
    assert new.read_text() == SERVICES["services/api/Dockerfile"]


def test_refused_in_the_middle_of_a_rebase(repo: Path) -> None:
    """A rebase stopped to edit a commit: clean tree, detached HEAD. Commits made there, even
    on a new branch, would be mixed into the rebase."""
    (repo / "README.md").write_text("second\n")
    git("commit", "-q", "-am", "second", cwd=repo)
    subprocess.run(
        ["git", "rebase", "-q", "-i", "HEAD~1"],
        cwd=repo,
        env={**os.environ, "GIT_SEQUENCE_EDITOR": "sed -i s/^pick/edit/"},
        capture_output=True,
        check=True,
    )
    stopped = _tip(repo, "HEAD")
    r = _fix_on_branch(repo)
    assert r.returncode == 2
    assert (
        r.stderr == "error: the work tree is in the middle of a rebase; finish or abort it first\n"
    )
    assert _tip(repo, "HEAD") == stopped and git("status", "--porcelain", cwd=repo) == ""
    assert "dockfix/fixes" not in git("branch", "--list", cwd=repo)


def test_dirty_file_with_a_space_in_its_name_is_left_alone(repo: Path) -> None:
    odd = repo / "services" / "my api" / "Dockerfile"
    odd.parent.mkdir()
    odd.write_text(SERVICES["services/api/Dockerfile"])
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "odd name", cwd=repo)
    edited = SERVICES["services/api/Dockerfile"] + "EXPOSE 80\n"
    odd.write_text(edited)
    r = dockfix("fix", "--select", "DF102", "--commit", "--allow-dirty", ".", cwd=repo)
    assert r.returncode == 0, r.stderr
    assert "skipped services/my api/Dockerfile: it has uncommitted changes" in r.stderr
    assert odd.read_text() == edited
    assert "my api" not in git("show", "--name-only", "--format=", "HEAD", cwd=repo)


def test_file_names_are_not_pathspec_patterns(repo: Path) -> None:
    """`svc[12]/Dockerfile` as a git pathspec also matches `svc1/Dockerfile`, whose
    uncommitted edits must stay out of dockfix's commit."""
    for name in ("svc[12]", "svc1"):
        (repo / name).mkdir()
        (repo / name / "Dockerfile").write_text(SERVICES["services/api/Dockerfile"])
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "more", cwd=repo)
    edited = "FROM debian:bookworm\n# the user's edit\n"
    (repo / "svc1" / "Dockerfile").write_text(edited)
    r = dockfix("fix", "--select", "DF102", "--commit", "--allow-dirty", "svc[12]", cwd=repo)
    assert r.returncode == 0, r.stderr
    assert git("show", "--name-only", "--format=", "HEAD", cwd=repo).split() == [
        "svc[12]/Dockerfile"
    ]
    assert git("show", "HEAD:svc1/Dockerfile", cwd=repo) == SERVICES["services/api/Dockerfile"]
    assert (repo / "svc1" / "Dockerfile").read_text() == edited


def test_a_failed_verification_commits_nothing(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fix --commit --verify-run`: when a fixed image no longer starts, no branch is made, no
    file written, and the run says so (exit 2), so a bot never pushes a fix that breaks."""
    from click.testing import CliRunner

    from dockfix import cli

    class Broken:
        path, status = "services/api/Dockerfile", "does-not-start"

        def format_text(self) -> str:
            return f"{self.path}: the fixed image does not start"

    monkeypatch.setattr(cli, "_verify_reports", lambda *a, **kw: (None, [Broken()]))
    monkeypatch.chdir(repo)
    head = git("rev-parse", "HEAD", cwd=repo)
    r = CliRunner().invoke(
        cli.main, ["fix", "--offline", "--commit", "--branch", "dockfix/fixes", "--verify-run", "."]
    )
    assert r.exit_code == 2, r.output
    assert "services/api/Dockerfile: verification failed; nothing written or committed" in r.output
    assert git("rev-parse", "HEAD", cwd=repo) == head
    assert git("branch", "--list", "dockfix/fixes", cwd=repo) == ""
    assert git("status", "--porcelain", cwd=repo) == ""


def test_a_failed_verification_writes_nothing(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from dockfix import cli

    class Broken:
        path, status = "services/web/Dockerfile", "defect"

        def format_text(self) -> str:
            return f"{self.path}: the fixed file does not build"

    monkeypatch.setattr(cli, "_verify_reports", lambda *a, **kw: (None, [Broken()]))
    monkeypatch.chdir(repo)
    r = CliRunner().invoke(cli.main, ["fix", "--offline", "--write", "--verify", "."])
    assert r.exit_code == 2, r.output
    assert "services/web/Dockerfile: verification failed; nothing written" in r.output
    assert git("status", "--porcelain", cwd=repo) == ""
