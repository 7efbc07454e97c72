"""dockfix: find Dockerfile anti-patterns and rewrite them.

Python API for callers such as bots::

    import dockfix
    doc = dockfix.parse(text)                  # lossless: str(doc) == text
    fixed, findings = dockfix.fix(text, path=Path("Dockerfile"))
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dockfix.syntax import Dockerfile, ParseError, parse

if TYPE_CHECKING:
    from collections.abc import Sequence

    from dockfix.core.engine import FixOutcome
    from dockfix.core.fixer import Finding

__version__ = "0.1.0"
__all__ = ["Dockerfile", "ParseError", "__version__", "fix", "fix_outcome", "parse"]


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
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[str, list[Finding]]:
    """Fix ``text``; return the fixed text and the findings left on it (fixed ones excluded).

    ``path`` locates the configuration (the nearest ``dockfix.toml`` or ``pyproject.toml``
    above it) and the default build context (its directory); ``context_dir`` overrides the
    context; ``options`` sets fixer options by code or name (``{"root-user": {"uid": 2000}}``).
    Network fixers look images up unless ``offline`` (then they use only their cache);
    ``refresh`` lets them update digests already pinned, and ``insecure_registries``
    (``HOST:PORT``) may be reached over plain HTTP.
    Raises :class:`ParseError` when BuildKit would reject the input. :func:`fix_outcome` gives
    the whole result, other files' changes and warnings included.
    """
    outcome = fix_outcome(
        text,
        path=path,
        context_dir=context_dir,
        select=select,
        ignore=ignore,
        unsafe_fixes=unsafe_fixes,
        offline=offline,
        refresh=refresh,
        insecure_registries=insecure_registries,
        options=options,
    )
    return outcome.fixed, outcome.findings


def fix_outcome(
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
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> FixOutcome:
    """Like :func:`fix`, returning the engine's :class:`~dockfix.core.engine.FixOutcome`."""
    from dataclasses import replace

    from dockfix.core.catalog import all_fixers
    from dockfix.run.config import find_config
    from dockfix.run.runner import RunOptions, fix_text_with

    opts = RunOptions(
        select=tuple(select) if select is not None else None,
        ignore=tuple(ignore or ()),
        unsafe_fixes=unsafe_fixes,
        offline=offline,
        refresh=refresh,
        insecure_registries=tuple(insecure_registries),
        context=str(context_dir) if context_dir is not None else None,
    )
    p = Path(path) if path is not None else None
    cfg = find_config(p.parent if p is not None else Path.cwd())
    if options:
        fixers = all_fixers()
        by_name = {f.name: c for c, f in fixers.items()}
        merged = {k: dict(v) for k, v in cfg.fixer_options.items()}
        for key, values in options.items():
            code = by_name.get(key, key.upper())
            if code not in fixers:
                raise ValueError(f"unknown fixer `{key}`")
            merged.setdefault(code, {}).update(values)
        cfg = replace(cfg, fixer_options=merged)
    outcome = fix_text_with(text, p, opts, cfg)
    if outcome.error:
        raise ParseError(outcome.error, outcome.error_line)
    return outcome
