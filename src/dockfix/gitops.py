"""The bot path: one git commit per fixer code, on a branch, with real git.

``dockfix fix --write --commit`` applies the selected fixers one code at a time, in code
order, and commits what each changed as ``dockfix: <CODE> <name> (<n> files)`` with the files
listed in the body, so a reviewer can drop one kind of change by dropping one commit. Only
files dockfix wrote are committed. A work tree with uncommitted changes to tracked files is
refused unless ``--allow-dirty`` is given.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path


class GitError(RuntimeError):
    pass


@dataclass
class CodeCommit:
    code: str
    name: str
    files: list[str] = field(default_factory=list)
    sha: str = ""


def git(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )
    if proc.returncode != 0:
        raise GitError(f"git {' '.join(args)}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


def work_tree_root(start: Path) -> Path:
    try:
        return Path(git("rev-parse", "--show-toplevel", cwd=start).strip())
    except (GitError, FileNotFoundError) as exc:
        raise GitError(f"--commit needs a git work tree ({exc})") from None


def dirty_files(root: Path) -> list[str]:
    """Tracked files with staged or unstaged changes (untracked files do not count)."""
    out = git("status", "--porcelain", "--untracked-files=no", cwd=root)
    return [line[3:] for line in out.splitlines() if line.strip()]


def checkout_branch(root: Path, name: str) -> None:
    """Create the branch at HEAD, or reset it to HEAD when it exists (bots re-run)."""
    git("checkout", "-q", "-B", name, cwd=root)


def _identity_env(root: Path) -> dict[str, str]:
    """Commit as the configured user; fall back to a dockfix identity where none is set."""
    env: dict[str, str] = {}
    try:
        git("config", "user.email", cwd=root)
    except GitError:
        env.update(
            GIT_AUTHOR_EMAIL="dockfix@users.noreply.invalid",
            GIT_COMMITTER_EMAIL="dockfix@users.noreply.invalid",
        )
    try:
        git("config", "user.name", cwd=root)
    except GitError:
        env.update(GIT_AUTHOR_NAME="dockfix", GIT_COMMITTER_NAME="dockfix")
    return env


def commit_files(root: Path, files: list[Path], code: str, name: str) -> CodeCommit:
    rel = sorted({os.path.relpath(f.resolve(), root.resolve()).replace(os.sep, "/") for f in files})
    info = CodeCommit(code, name, rel)
    if not rel:
        return info
    git("add", "--", *rel, cwd=root)
    subject = f"dockfix: {code} {name} ({len(rel)} file{'s' if len(rel) != 1 else ''})"
    body = "\n".join(f"- {r}" for r in rel)
    git(
        "commit",
        "-q",
        "--only",
        "-m",
        subject,
        "-m",
        body,
        "--",
        *rel,
        cwd=root,
        env=_identity_env(root),
    )
    info.sha = git("rev-parse", "HEAD", cwd=root).strip()
    return info
