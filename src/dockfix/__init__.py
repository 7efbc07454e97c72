"""dockfix: find Dockerfile anti-patterns and rewrite them.

Python API for callers such as bots::

    import dockfix
    doc = dockfix.parse(text)                  # lossless: str(doc) == text
    fixed, findings = dockfix.fix(text, path=Path("Dockerfile"))
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from dockfix.syntax import Dockerfile, ParseError, parse

if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.machinery import ModuleSpec

    from dockfix.core.engine import FixOutcome
    from dockfix.core.fixer import Finding

__version__ = "0.1.0"
__all__ = ["Dockerfile", "ParseError", "__version__", "fix", "fix_outcome", "parse"]

# The fixer API's modules by the flat names they had before they moved into subpackages: a
# plug-in written then (`Fixer` imported from the flat `fixer`) gets the very module the engine
# uses. The stubs beside this file (fixer.pyi …) tell type checkers the same.
_MOVED = {
    "fixer": "dockfix.core.fixer",
    "edits": "dockfix.core.edits",
    "context": "dockfix.semantics.context",
    "memo": "dockfix.semantics.memo",
    "shell": "dockfix.semantics.shell",
    "semantic": "dockfix.semantics.semantic",
    "image_ref": "dockfix.registry.image_ref",
    "image_lookup": "dockfix.registry.image_lookup",
}


class _MovedModules:
    """Finds ``dockfix.<flat name>`` as the module it moved to (an import hook: no file at the
    old path, so nothing to keep in step with it)."""

    def __init__(self) -> None:
        self._own_specs: dict[str, ModuleSpec | None] = {}

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> ModuleSpec | None:
        package, _, name = fullname.rpartition(".")
        if package != __name__ or name not in _MOVED:
            return None
        from importlib.machinery import ModuleSpec

        return ModuleSpec(fullname, self)  # type: ignore[arg-type]

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        import importlib

        module = importlib.import_module(_MOVED[spec.name.rpartition(".")[2]])
        self._own_specs[module.__name__] = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # the import system stamped the flat name's spec on the module: give its own back
        if module.__name__ in self._own_specs:
            module.__spec__ = self._own_specs.pop(module.__name__)


sys.meta_path.append(_MovedModules())


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
