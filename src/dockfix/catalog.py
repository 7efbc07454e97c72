"""Which fixers exist and which are selected.

Built-in fixers are the modules of the package ``dockfix.fixers``; third-party packages add
theirs through the entry-point group ``dockfix.fixers`` (each entry point names a module or a
Fixer class). Both register with :func:`dockfix.fixer.register`.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from functools import lru_cache

from dockfix.fixer import Fixer, registered_fixers

ENTRY_POINT_GROUP = "dockfix.fixers"


class SelectionError(ValueError):
    pass


@lru_cache(maxsize=1)
def all_fixers() -> dict[str, type[Fixer]]:
    """Every known fixer by code, sorted by code."""
    import dockfix.fixers as builtin

    for info in pkgutil.iter_modules(builtin.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{builtin.__name__}.{info.name}")
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        loaded = ep.load()
        if isinstance(loaded, type) and issubclass(loaded, Fixer):
            from dockfix.fixer import register

            register(loaded)
    return dict(sorted(registered_fixers().items()))


def resolve_code(token: str) -> list[str]:
    """Codes matching a selector: ``ALL``, a code, a code prefix (``DF1``) or a fixer name."""
    fixers = all_fixers()
    tok = token.strip()
    if not tok:
        return []
    if tok.upper() == "ALL":
        return list(fixers)
    up = tok.upper()
    matched = [c for c in fixers if c.startswith(up)]
    if not matched:
        matched = [c for c, f in fixers.items() if f.name == tok.lower()]
    if not matched:
        raise SelectionError(f"unknown rule selector `{token}`")
    return matched


def select_codes(
    select: Iterable[str] | None,
    ignore: Iterable[str] | None = None,
    extend_select: Iterable[str] | None = None,
) -> list[str]:
    """The enabled codes: ``select`` (default: every fixer enabled by default) minus ``ignore``.

    A fixer that is off by default is enabled only when a selector names it explicitly
    (its code or name, not ``ALL`` or a prefix).
    """
    fixers = all_fixers()
    chosen: set[str] = set()
    tokens = list(select) if select is not None else None
    if tokens is None:
        chosen = {c for c, f in fixers.items() if f.default_enabled}
    for tok in [*(tokens or []), *(extend_select or [])]:
        codes = resolve_code(tok)
        explicit = len(codes) == 1 and (
            tok.upper() == codes[0] or tok.lower() == fixers[codes[0]].name
        )
        chosen.update(c for c in codes if fixers[c].default_enabled or explicit)
    for tok in ignore or []:
        chosen.difference_update(resolve_code(tok))
    return sorted(chosen)
