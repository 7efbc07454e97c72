"""Which fixers exist and which are selected.

Built-in fixers are the modules of the package ``dockfix.fixers``; third-party packages add
theirs through the entry-point group ``dockfix.fixers`` (each entry point names a module or a
Fixer class). Both register with :func:`dockfix.core.fixer.register`.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from functools import lru_cache

from dockfix.core.fixer import Fixer, registered_fixers

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
    for target in _entry_point_targets():
        module_name, _, attr = target.partition(":")
        loaded: object = importlib.import_module(module_name.strip())
        for part in attr.strip().split(".") if attr.strip() else []:
            loaded = getattr(loaded, part)
        if isinstance(loaded, type) and issubclass(loaded, Fixer):
            from dockfix.core.fixer import register

            register(loaded)
    return dict(sorted(registered_fixers().items()))


def _entry_point_targets() -> list[str]:
    """``module[:attr]`` of every ``dockfix.fixers`` entry point of the installed packages.

    Reads the distributions' ``entry_points.txt`` directly: importing ``importlib.metadata``
    costs more than the whole one-file run budget of a pre-commit hook.
    """
    import os
    import sys

    targets: list[str] = []
    seen: set[str] = set()
    for base in sys.path:
        try:
            names = os.listdir(base or ".")
        except OSError:
            continue
        for name in names:
            if not name.endswith((".dist-info", ".egg-info")):
                continue
            dist = name.split("-", 1)[0].lower().replace("_", "-")
            if dist in seen:
                continue  # the first on sys.path wins, as importlib.metadata does
            seen.add(dist)
            try:
                with open(
                    os.path.join(base or ".", name, "entry_points.txt"), encoding="utf-8"
                ) as fh:
                    text = fh.read()
            except OSError:
                continue
            if ENTRY_POINT_GROUP not in text:
                continue
            section = ""
            for line in text.splitlines():
                line = line.strip()
                if line.startswith("[") and line.endswith("]"):
                    section = line[1:-1].strip()
                elif (
                    section == ENTRY_POINT_GROUP and "=" in line and not line.startswith(("#", ";"))
                ):
                    targets.append(line.split("=", 1)[1].strip().split()[0])
    return targets


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


def rule_page(fixer: type[Fixer], settings: str | None = None) -> str:
    """A fixer's documentation as ``dockfix rule CODE`` prints it (and the editor links to);
    ``settings``: how a configuration sets the rule (default: the rule's own severity)."""
    if settings is None:
        security = " (security)" if fixer.security else ""
        settings = (
            f"Severity: {fixer.severity}{security}, from the rule's default; set it with "
            "`[tool.dockfix.severity]`.\n"
        )
    return f"# {fixer.code} {fixer.name}\n\n{settings}\n{fixer.documentation()}\n"
