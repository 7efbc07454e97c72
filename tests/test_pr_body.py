"""The PR description: one rationale per rule (the one that fits the edit), files listed per
rule, and a size GitHub accepts, with the full listing in a file next to it."""

from __future__ import annotations

import re
from pathlib import Path

from test_bot_path import dockfix

MANY_FIXES = (
    "FROM debian:12\n"
    "MAINTAINER dev@example.com\n"
    "RUN apt-get update\n"
    "RUN apt-get install -y curl\n"
    "COPY . /app\n"
    "ADD app.sh /app.sh\n"
    "ENTRYPOINT /app.sh\n"
)


def _services(root: Path, n: int) -> list[str]:
    paths = []
    for i in range(n):
        d = root / "services" / f"team-{i % 7}" / f"service-{i:03d}"
        d.mkdir(parents=True)
        (d / "Dockerfile").write_text(MANY_FIXES)
        (d / "app.sh").write_text("#!/bin/sh\n")
        paths.append(f"services/team-{i % 7}/service-{i:03d}/Dockerfile")
    return paths


def test_large_run_is_cut_to_the_limit_with_the_full_listing_beside(tmp_path: Path) -> None:
    paths = _services(tmp_path, 120)
    r = dockfix("fix", "--offline", "--unsafe-fixes", "--pr-body", "pr.md", ".", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    body = (tmp_path / "pr.md").read_text(encoding="utf-8")
    full = (tmp_path / "pr.full.md").read_text(encoding="utf-8")
    assert len(body) <= 60_000 < len(full)
    assert len(body) < 65_536
    assert "the full listing is in `pr.full.md`" in body
    assert re.search(r"- … and \d+ more \(see `pr\.full\.md`\)", body)
    # Each rule's rationale once (7 rules fire in every file), in both versions.
    for text in (body, full):
        whys = [line for line in text.splitlines() if line.startswith("Why: ")]
        assert len(whys) == 7 and len(set(whys)) == 7
        assert text.count("Each `RUN` is a cached layer.") == 1
    # The full listing names every file under every rule.
    for path in paths:
        assert full.count(f"- `{path}`: ") == 7, path
    assert "more (see" not in full


def test_limit_from_the_option_and_the_configuration(tmp_path: Path) -> None:
    _services(tmp_path, 30)
    r = dockfix(
        "fix", "--offline", "--pr-body-limit", "4000", "--pr-body", "a.md", ".", cwd=tmp_path
    )
    assert r.returncode == 1, r.stderr
    assert len((tmp_path / "a.md").read_text(encoding="utf-8")) <= 4000
    assert (tmp_path / "a.full.md").exists()
    # Too small even for the rationales: the text itself is cut, still naming the full file.
    r = dockfix(
        "fix", "--offline", "--pr-body-limit", "1000", "--pr-body", "a.md", ".", cwd=tmp_path
    )
    body = (tmp_path / "a.md").read_text(encoding="utf-8")
    assert len(body) <= 1000 and body.rstrip().endswith("the full description is in `a.full.md`)")
    (tmp_path / "dockfix.toml").write_text("pr-body-limit = 5000\n")
    r = dockfix("fix", "--offline", "--pr-body", "a.md", ".", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    body = (tmp_path / "a.md").read_text(encoding="utf-8")
    assert 4000 < len(body) <= 5000
    # A body that fits has no overflow file: an earlier one is removed, not left to upload.
    r = dockfix(
        "fix", "--offline", "--pr-body-limit", "900000", "--pr-body", "a.md", ".", cwd=tmp_path
    )
    assert r.returncode == 1, r.stderr
    assert not (tmp_path / "a.full.md").exists()
    assert "full listing" not in (tmp_path / "a.md").read_text(encoding="utf-8")


def test_rationale_matches_the_edit(tmp_path: Path) -> None:
    """DF103 on `apk add` adds `--no-cache`: its rationale is apk's, not `apt-get update`'s."""
    (tmp_path / "alpine").mkdir()
    (tmp_path / "alpine" / "Dockerfile").write_text("FROM alpine:3.20\nRUN apk add git\n")
    (tmp_path / "debian").mkdir()
    (tmp_path / "debian" / "Dockerfile").write_text(
        "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends git\n"
    )
    r = dockfix(
        "fix",
        "--offline",
        "--unsafe-fixes",
        "--select",
        "DF103",
        "--pr-body",
        "pr.md",
        ".",
        cwd=tmp_path,
    )
    assert r.returncode == 1, r.stderr
    body = (tmp_path / "pr.md").read_text(encoding="utf-8")
    whys = [line for line in body.splitlines() if line.startswith("Why: ")]
    assert any("apk" in w and "apt" not in w for w in whys), whys
    why_for: dict[str, str] = {}
    why = ""
    for line in body.splitlines():
        if line.startswith("Why: "):
            why = line
        elif line.startswith("- `") and "DF" not in line:
            why_for[line.split("`")[1]] = why
    assert "--no-cache" in body
    assert "apk" in why_for["alpine/Dockerfile"]
    assert "apt" not in why_for["alpine/Dockerfile"]
    assert "`apt-get update`" in why_for["debian/Dockerfile"]
    assert body.count("Why: ") == 2


def test_action_uploads_the_overflow_file() -> None:
    """The Action's pr mode writes the body where it uploads the cut-off part from."""
    import yaml

    from dockfix.output.prbody import overflow_path

    action = (Path(__file__).resolve().parents[1] / "action.yml").read_text()
    steps = yaml.safe_load(action)["runs"]["steps"]
    body = '"$RUNNER_TEMP/dockfix-pr.md"'
    assert any(body in str(s.get("run", "")) for s in steps)
    full = overflow_path(Path("dockfix-pr.md")).name
    uploads = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    assert [s["with"]["path"] for s in uploads] == ["${{ runner.temp }}/" + full]
