"""`dockfix fix --offline` lists the findings the run left unfixed because it was offline: the
network fixers say so with the words of `dockfix.registry.offline`, not with any reason that
mentions offline."""

from __future__ import annotations

from pathlib import Path

import pytest

import dockfix
from dockfix.cli import _offline_skips
from dockfix.core.fixer import Finding

_DIGEST = "sha256:" + "a" * 64


def _listed(findings: list[Finding], capsys: pytest.CaptureFixture[str]) -> list[str]:
    _offline_skips(findings)
    return capsys.readouterr().err.splitlines()


def test_the_network_fixers_offline_reasons_are_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # an empty digest cache: DF202 and DF203 cannot look `node:latest` up, DF515 cannot pin
    # the `# syntax=` frontend its fix needs
    monkeypatch.setenv("DOCKFIX_DIGEST_CACHE", str(tmp_path / "digests.json"))
    src = f"FROM python:3.12-slim@{_DIGEST}\nFROM node:latest\nARG NPM_TOKEN\nRUN npm ci\n"
    outcome = dockfix.fix_outcome(
        src, path=tmp_path / "Dockerfile", select=["DF202", "DF203", "DF515"], offline=True
    )
    listed = [line.removeprefix(f"{tmp_path}/") for line in _listed(outcome.findings, capsys)]
    assert [line.split(" ", 2)[:2] for line in listed] == [
        ["Dockerfile:2:1:", "DF202"],
        ["Dockerfile:2:1:", "DF203"],
        ["Dockerfile:3:1:", "DF515"],
    ]
    assert all("offline, not in cache" in line for line in listed)


def test_a_reason_that_mentions_offline_otherwise_is_not_listed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # DF104 needs the network (for the frontend's digest), but this reason is about a later
    # `yarn install --offline`: the run being offline changed nothing
    kept = Finding(
        "DF104",
        "yarn downloads without a cache mount on /usr/local/share/.cache/yarn",
        4,
        reason="the RUN on line 6 installs from Yarn's cache (--offline)",
        path="Dockerfile",
    )
    missed = Finding(
        "DF202",
        "`node:22` (FROM) is not pinned to a digest",
        1,
        reason="skipped: offline, not in cache",
        path="Dockerfile",
    )
    assert _listed([kept, missed], capsys) == [
        "Dockerfile:1:1: DF202 `node:22` (FROM) is not pinned to a digest "
        "(not fixed: skipped: offline, not in cache)"
    ]
