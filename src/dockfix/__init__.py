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
    from collections.abc import Sequence

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
    refresh: bool = False,
    insecure_registries: Sequence[str] = (),
) -> tuple[str, list[Finding]]:
    """Fix ``text``; return the fixed text and the findings left on it (fixed ones excluded).

    ``path`` locates the configuration (the nearest ``dockfix.toml`` or ``pyproject.toml``
    above it) and the default build context (its directory);
    ``context_dir`` overrides the context. ``offline`` keeps the digest-pinning fixers to
    their cache, ``refresh`` lets them update digests already pinned, and
    ``insecure_registries`` (``HOST:PORT``) may be reached over plain HTTP. Raises
    :class:`ParseError` when BuildKit would reject the input.
    """
    from dockfix.runner import RunOptions, fix_text_with

    opts = RunOptions(
        select=tuple(select) if select is not None else None,
        ignore=tuple(ignore or ()),
        unsafe_fixes=unsafe_fixes,
        offline=offline,
        refresh=refresh,
        context=str(context_dir) if context_dir is not None else None,
        insecure_registries=tuple(insecure_registries),
    )
    p = Path(path) if path is not None else None
    # With a path, the nearest configuration applies (fixer options included), as on the CLI.
    outcome = fix_text_with(text, p, opts)
    if outcome.error:
        raise ParseError(outcome.error)
    return outcome.fixed, outcome.findings
