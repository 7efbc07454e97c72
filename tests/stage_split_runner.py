"""Runs one of the stage-split rules (DF305 Node, DF306 Java, DF307 .NET) on a Dockerfile with
a build context written to a directory, and checks what every such fix must keep: BuildKit
accepts the output, a second run changes nothing and reports nothing, and the same holds
with every other fixer applied in the same run (DF201 adds its `USER` to the new stage)."""

from __future__ import annotations

from pathlib import Path

import dockfix
from dockfix.core.buildkit_check import buildkit_rejects
from dockfix.core.fixer import Finding


def run_rule(
    code: str, text: str, context: Path, files: dict[str, str], *, unsafe: bool = True
) -> tuple[str, list[Finding]]:
    for rel, content in files.items():
        p = context / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)
    path = context / "Dockerfile"
    fixed, findings = dockfix.fix(
        text, path=path, context_dir=context, select=[code], unsafe_fixes=unsafe, offline=True
    )
    if fixed != text:
        assert buildkit_rejects(fixed) is None
        again, left = dockfix.fix(
            fixed, path=path, context_dir=context, select=[code], unsafe_fixes=unsafe, offline=True
        )
        assert again == fixed and left == [], "not idempotent"
        every, _ = dockfix.fix(
            text, path=path, context_dir=context, unsafe_fixes=True, offline=True
        )
        assert buildkit_rejects(every) is None
        twice, _ = dockfix.fix(
            every, path=path, context_dir=context, unsafe_fixes=True, offline=True
        )
        assert twice == every, "all fixers together are not idempotent"
        assert code not in {
            f.code for f in dockfix.fix(every, path=path, context_dir=context, offline=True)[1]
        }
    return fixed, findings
