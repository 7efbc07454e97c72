"""What the bot path promises about dropping a commit holds, checked with real `git revert`.

Fixers change the same or neighbouring lines (DF103, DF105 and DF201 all edit one `RUN`;
DF101's moved `COPY` sits next to the `RUN` DF104 mounts a cache on), and such commits cannot
all revert on their own. Each commit that does not says which later ones it reverts with;
every other commit must revert alone.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

# Multi-stage services where DF101, DF104 and DF201 fire on neighbouring lines.
MULTISTAGE = {
    "services/py/Dockerfile": (
        "FROM python:3.12-slim AS build\n"
        "WORKDIR /app\n"
        "COPY . .\n"
        "RUN pip install -r requirements.txt\n"
        "RUN python -m compileall .\n"
        "\n"
        "FROM python:3.12-slim\n"
        "WORKDIR /app\n"
        "COPY --from=build /app /app\n"
        "RUN apt-get update && apt-get install -y curl\n"
        'CMD ["python", "app.py"]\n'
    ),
    "services/py/requirements.txt": "flask\n",
    "services/py/app.py": "print('hi')\n",
    "services/py/.dockerignore": ".git\n",
    "services/node/Dockerfile": (
        "FROM node:20 AS deps\n"
        "WORKDIR /src\n"
        "COPY . .\n"
        "RUN npm ci\n"
        "FROM node:20-slim\n"
        "COPY --from=deps /src /app\n"
        "WORKDIR /app\n"
        'CMD ["node", "server.js"]\n'
    ),
    "services/node/package.json": '{"name": "n", "version": "1.0.0"}\n',
    "services/node/package-lock.json": '{"lockfileVersion": 3}\n',
    "services/node/server.js": "console.log(1)\n",
    "services/node/.dockerignore": "node_modules\n",
}


def git(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=check)


def test_every_commit_reverts_as_its_message_says(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES, repo / "fixtures")
    for rel, text in MULTISTAGE.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    git("init", "-q", "-b", "main", cwd=repo)
    git("config", "user.email", "dev@example.invalid", cwd=repo)
    git("config", "user.name", "Dev", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "initial", cwd=repo)
    args = ["--offline", "--unsafe-fixes", "--select", "ALL", "--commit", "--branch", "fx"]
    r = subprocess.run(
        [sys.executable, "-m", "dockfix", "fix", *args, "--pr-body", "../pr.md", "."],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    tip = git("rev-parse", "fx", cwd=repo).stdout.strip()
    commits: dict[str, tuple[str, list[str]]] = {}
    for sha in git("rev-list", "--reverse", f"main..{tip}", cwd=repo).stdout.split():
        message = " ".join(git("log", "-1", "--format=%B", sha, cwd=repo).stdout.split())
        code = message.split()[1]
        m = re.search(r"revert it together with the (.*?) commits? \(newest first\)", message)
        commits[code] = (sha, m.group(1).split(", ") if m else [])
    assert {"DF101", "DF104", "DF201"} <= set(commits)
    multi = git("log", "--format=%s", f"main..{tip}", "--", "services", cwd=repo).stdout
    assert "DF101" in multi and "DF104" in multi and "DF201" in multi

    def reverts(shas: list[str]) -> bool:
        git("reset", "-q", "--hard", tip, cwd=repo)
        for sha in shas:
            if git("revert", "--no-edit", sha, cwd=repo, check=False).returncode != 0:
                git("revert", "--abort", cwd=repo, check=False)
                return False
        return True

    git("checkout", "-q", "--detach", tip, cwd=repo)
    body = (tmp_path / "pr.md").read_text()
    for code, (sha, later) in commits.items():
        if not later:
            assert reverts([sha]), f"{code} does not revert on its own"
            continue
        assert not reverts([sha]), f"{code} is said to need {later} but reverts alone"
        together = [commits[c][0] for c in reversed(later)]
        assert reverts([*together, sha]), f"{code} with {later}"
        assert f"- {code} `{sha[:12]}`: with {', '.join(later)}" in body
    assert any(later for _, later in commits.values()), "no commits on neighbouring lines?"
    assert "drop a commit to drop that change" not in body


def test_nothing_is_promised_where_git_cannot_check(tmp_path: Path) -> None:
    """git before 2.38 has no `merge-tree --write-tree`: the description says the reverts were
    not checked instead of promising them."""
    import os

    real_git = shutil.which("git")
    assert real_git
    fake = tmp_path / "bin" / "git"
    fake.parent.mkdir()
    fake.write_text(
        "#!/bin/sh\n"
        'case " $* " in *" merge-tree "*) echo "usage: git merge-tree" >&2; exit 129;; esac\n'
        f'exec {real_git} "$@"\n'
    )
    fake.chmod(0o755)
    repo = tmp_path / "repo"
    for rel in ("services/py/Dockerfile", "services/py/requirements.txt"):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(MULTISTAGE[rel])
    git("init", "-q", "-b", "main", cwd=repo)
    git("config", "user.email", "dev@example.invalid", cwd=repo)
    git("config", "user.name", "Dev", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "initial", cwd=repo)
    r = subprocess.run(
        [sys.executable, "-m", "dockfix", "fix", "--offline", "--commit", "--pr-body", "../pr.md"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}"},
    )
    assert r.returncode == 0, r.stderr
    assert "committed" in r.stderr
    body = (tmp_path / "pr.md").read_text()
    assert "reverts on its own was not checked" in body
    assert "drop a commit to drop that change" not in body
