"""dockfix: find Dockerfile anti-patterns and rewrite them.

Python API for callers such as bots::

    import dockfix
    doc = dockfix.parse(text)                  # lossless: str(doc) == text
    fixed, findings = dockfix.fix(text, path=Path("Dockerfile"))
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dockfix.syntax import Dockerfile, ParseError, parse

if TYPE_CHECKING:
    from dockfix.fixer import Finding

__version__ = "0.1.0"
__all__ = ["Dockerfile", "ParseError", "__version__", "fix", "parse"]


def fix(
    text: str,
    *,
    path: str | Path | None = None,
    context_dir: str | Path | None = None,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    unsafe_fixes: bool = False,
    offline: bool = False,
) -> tuple[str, list[Finding]]:
    """Fix ``text``; return the fixed text and the findings left on it (fixed ones excluded).

    ``path`` locates configuration and the default build context (its directory);
    ``context_dir`` overrides the context. Raises :class:`ParseError` when BuildKit would
    reject the input.
    """
    from dockfix.config import Config
    from dockfix.runner import RunOptions, fix_text_with

    opts = RunOptions(
        select=tuple(select) if select is not None else None,
        ignore=tuple(ignore or ()),
        unsafe_fixes=unsafe_fixes,
        offline=offline,
        context=str(context_dir) if context_dir is not None else None,
    )
    p = Path(path) if path is not None else None
    cfg = Config(root=p.parent if p is not None else Path.cwd())
    outcome = fix_text_with(text, p, opts, cfg)
    if outcome.error:
        raise ParseError(outcome.error)
    return outcome.fixed, outcome.findings
