"""Third-party fixers: a package that declares the `dockfix.fixers` entry-point group."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PLUGIN = '''
"""ORG001 no-org-label: images must say which team owns them.

## What it does
Reports a final stage without an `org.example.team` label.
## Why is this bad
Nobody knows whom to page.
## Example
## Fix safety
Display-only.
## Options
None.
## Resolves
none
"""
from dockfix.core.fixer import Fixer, register


@register
class NoOrgLabel(Fixer):
    code = "ORG001"
    name = "no-org-label"
    summary = "The image has no owning team label"
    uses_context = True  # no longer read by dockfix: a plug-in that still sets it keeps working

    def check(self, doc, ctx):
        st = doc.final_stage
        if st is not None and "org.example.team" not in doc.source:
            yield self.finding(st.from_instruction, "no `org.example.team` label", reason="the team is not known")
'''


def test_entry_point_fixer_is_loaded(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "orgfixers-1.0.dist-info").mkdir(parents=True)
    (site / "orgfixers-1.0.dist-info" / "entry_points.txt").write_text(
        "[console_scripts]\nx = y:z\n\n[dockfix.fixers]\nno-org-label = orgfixers:NoOrgLabel\n"
    )
    (site / "orgfixers-1.0.dist-info" / "METADATA").write_text("Name: orgfixers\nVersion: 1.0\n")
    (site / "orgfixers.py").write_text(PLUGIN)
    (tmp_path / "Dockerfile").write_text('FROM debian:bookworm\nCMD ["x"]\n')
    env = {**os.environ, "PYTHONPATH": str(site)}
    run = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "dockfix", *a],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    r = run("rule", "--all")
    assert "ORG001  no-org-label" in r.stdout
    r = run("check", "--select", "ORG001", ".")
    assert r.returncode == 1
    assert "Dockerfile:1:1: ORG001 warning: no `org.example.team` label" in r.stdout
    assert "Nobody knows whom to page." in run("rule", "ORG001").stdout
