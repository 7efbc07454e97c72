"""What ``--show-settings`` and ``--show-fixes`` print (as text; the CLI writes it)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dockfix.core.fixer import Finding
from dockfix.run.config import Config
from dockfix.run.runner import RunOptions, build_fixers, context_dir_of, display_path

COMMAND_LINE = "command line"
DEFAULT = "default"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "(unset)"
    return json.dumps(value, ensure_ascii=False)


def _settings(cfg: Config, opts: RunOptions, path: Path) -> list[tuple[str, Any, str]]:
    """(key, value, where it came from) for each setting that decides how ``path`` is run."""

    def source(key: str) -> str:
        origin = cfg.origins.get(key)
        return display_path(origin) if origin is not None else DEFAULT

    rows: list[tuple[str, Any, str]] = []
    if opts.select is not None:
        rows.append(("select", list(opts.select), COMMAND_LINE))
    else:
        rows.append(("select", cfg.select, source("select")))
    for key, own, given in (
        ("ignore", cfg.ignore, opts.ignore),
        ("extend-select", cfg.extend_select, opts.extend_select),
        ("insecure-registries", cfg.insecure_registries, opts.insecure_registries),
    ):
        sources = [source(key)] if key in cfg.origins else []
        if given:
            sources.append(COMMAND_LINE)
        rows.append((key, [*own, *given], " + ".join(sources) or DEFAULT))
    if opts.unsafe_fixes is not None:
        rows.append(("unsafe-fixes", opts.unsafe_fixes, COMMAND_LINE))
    else:
        rows.append(("unsafe-fixes", bool(cfg.unsafe_fixes), source("unsafe-fixes")))
    rows.append(("per-file-ignores (this file)", cfg.ignores_for(path), source("per-file-ignores")))
    context = context_dir_of(path, cfg, opts)
    if opts.context:
        where = COMMAND_LINE
    elif context != path.parent:
        where = source("context")
    else:
        where = "default: the Dockerfile's directory"
    rows.append(("context", display_path(context or path.parent), where))
    for key in ("exclude", "refresh", "respect-gitignore", "pr-body-limit", "failure-threshold"):
        rows.append((key, getattr(cfg, key.replace("-", "_")), source(key)))
    engine = ".".join(map(str, cfg.min_docker_engine))
    rows.append(("min-docker-engine", engine, source("min-docker-engine")))
    ports = cfg.unprivileged_port_start
    rows.append(
        (
            "unprivileged-port-start",
            "not known" if ports is None else ports,
            source("unprivileged-port-start"),
        )
    )
    for code, severity in sorted(cfg.severity.items()):
        rows.append((f"severity.{code}", severity.value, source("severity")))
    rows.append(("offline", opts.offline, COMMAND_LINE if opts.offline else DEFAULT))
    for code in sorted(cfg.fixer_options):
        for name, value in sorted(cfg.fixer_options[code].items()):
            rows.append((f"{code}.{name}", value, source(code)))
    codes = [f.code for f in build_fixers(cfg, opts, path)]
    rows.append(("enabled fixers", codes, "resolved from the above"))
    return rows


def settings_text(cfg: Config, opts: RunOptions, path: Path) -> str:
    rows = [(key, _value(value), where) for key, value, where in _settings(cfg, opts, path)]
    width = max(len(k) + len(v) for k, v, _ in rows) + 3
    files = sorted({display_path(p) for p in cfg.origins.values()})
    head = [
        f"Settings for {display_path(path)}",
        f"Configuration files: {', '.join(files) if files else 'none (defaults)'}",
    ]
    body = [f"{f'{k} = {v}':<{width}}# {where}" for k, v, where in rows]
    return "\n".join([*head, *body]) + "\n"


def fixes_text(fixed: Iterable[Finding], names: dict[str, str], verb: str) -> str:
    """ruff's listing: how many of each code were fixed in each file; ``verb``: "Fixed" or
    "Would fix"."""
    per_file: dict[str, Counter[str]] = {}
    for f in fixed:
        per_file.setdefault(f.path, Counter())[f.code] += 1
    total = sum(sum(c.values()) for c in per_file.values())
    if not total:
        return f"{verb} nothing.\n"
    out = [f"{verb} {total} finding{'s' if total != 1 else ''}:"]
    for path in sorted(per_file):
        out.append(f"- {path}:")
        for code, n in sorted(per_file[path].items()):
            out.append(f"    {n} × {code} ({names.get(code, '?')})")
    return "\n".join(out) + "\n"
