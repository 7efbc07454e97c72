"""The files bots use: pre-commit hooks and the GitHub Action."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def hooks() -> dict[str, dict[str, object]]:
    data = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    return {h["id"]: h for h in data}


def test_hooks_present() -> None:
    h = hooks()
    assert set(h) == {"dockfix", "dockfix-check"}
    assert str(h["dockfix"]["entry"]).startswith("dockfix fix --write --exit-non-zero-on-fix")
    assert str(h["dockfix-check"]["entry"]).startswith("dockfix check")


@pytest.mark.parametrize(
    ("name", "taken"),
    [
        ("Dockerfile", True),
        ("svc/Dockerfile.prod", True),
        ("svc/api.dockerfile", True),
        ("dockerfile", True),
        ("Containerfile", True),
        ("build/app.Dockerfile", True),
        ("Dockerfile.dockerignore", False),
        ("docs/Dockerfile.md", False),
        ("Dockerfile.png", False),
        ("svc/Dockerfile.prod.yaml", False),
        ("README.md", False),
        ("dockerfiles/run.py", False),
    ],
)
def test_hook_file_pattern(name: str, taken: bool) -> None:
    from dockfix.files.discovery import is_dockerfile_name

    for hook in hooks().values():
        files = re.compile(str(hook["files"]))
        exclude = re.compile(str(hook["exclude"]))
        assert (bool(files.search(name)) and not exclude.search(name)) is taken
    assert is_dockerfile_name(name.rsplit("/", 1)[-1]) is taken


def test_action_runs_dockfix_and_uploads_or_opens_pr() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    scripts = " ".join(str(s.get("run", "")) for s in steps)
    uses = [str(s.get("uses", "")) for s in steps]
    assert "dockfix check --exit-zero --output-format sarif" in scripts
    assert "dockfix fix --commit --pr-body" in scripts
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    assert any(u.startswith("peter-evans/create-pull-request@") for u in uses)
