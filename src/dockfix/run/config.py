"""Configuration: ``[tool.dockfix]`` in ``pyproject.toml`` or the top level of ``dockfix.toml``.

The nearest file above a Dockerfile wins (``dockfix.toml`` before ``pyproject.toml`` in the
same directory, as ruff does with ``ruff.toml``); ``--config FILE`` overrides discovery.
Unknown keys are errors that name the key and the file.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from dockfix.core.fixer import FAILURE_THRESHOLDS, Severity

TOP_KEYS = {
    "extend",
    "select",
    "ignore",
    "extend-select",
    "unsafe-fixes",
    "exclude",
    "per-file-ignores",
    "context",
    "insecure-registries",
    "refresh",
    "respect-gitignore",
    "pr-body-limit",
    "min-docker-engine",
    "severity",
    "failure-threshold",
    "trusted-registries",
    "cache-dir",
    "unprivileged-port-start",
    "verify",
}


class ConfigError(ValueError):
    pass


# Docker Engine 23.0 made BuildKit the default builder, with a built-in Dockerfile frontend
# (1.4+) that knows RUN --mount and heredocs.
DEFAULT_MIN_DOCKER_ENGINE = (23, 0)


def _engine_version(value: Any, key: str, where: Path) -> tuple[int, ...]:
    # A TOML float would read 20.10 as 20.1: a string or an integer only.
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    parts = text.split(".")
    if not text or not all(p.isdigit() for p in parts):
        raise ConfigError(f'{where}: `{key}` must be a Docker Engine version such as "23.0"')
    return tuple(int(p) for p in parts)


@dataclass
class Config:
    path: Path | None = None  # the file it came from
    root: Path = field(default_factory=Path.cwd)  # directory the patterns are relative to
    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    unsafe_fixes: bool | None = None
    exclude: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    contexts: dict[str, str] = field(default_factory=dict)
    insecure_registries: list[str] = field(default_factory=list)
    refresh: bool = False
    respect_gitignore: bool = True
    pr_body_limit: int | None = None  # characters; read from the working directory's file
    # The oldest Docker Engine the Dockerfiles must build with: fixers use the syntax its
    # built-in Dockerfile frontend knows, and add a `# syntax=` directive only beyond it.
    min_docker_engine: tuple[int, ...] = DEFAULT_MIN_DOCKER_ENGINE
    # `net.ipv4.ip_unprivileged_port_start` where the images run; None: not known.
    unprivileged_port_start: int | None = None
    fixer_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    severity: dict[str, Severity] = field(default_factory=dict)  # by code: the configured ones
    failure_threshold: str | None = None
    trusted_registries: list[str] | None = None  # None: not set (hadolint's may apply)
    # The file each key was read from (keys as written in TOML, fixer tables by code): a key
    # inherited through `extend` comes from the base file, and its paths are relative to it.
    origins: dict[str, Path] = field(default_factory=dict)
    _roots: dict[str | None, str] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    cache_dir: Path | None = None  # the results cache (read from the working directory's file)
    # `dockfix verify`'s builder settings (the `[verify]` table), by constructor name.
    verify: dict[str, str] = field(default_factory=dict)
    # Fixer instances made for this configuration, by selected codes (see dockfix.run.runner).
    fixer_instances: dict[tuple[str, ...], tuple[Any, ...]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def root_of(self, key: str) -> Path:
        """The directory the paths of a key are relative to: its file's."""
        origin = self.origins.get(key)
        return origin.parent if origin is not None else self.root

    def _root_text(self, key: str | None) -> str:
        # Asked for every entry of a walk: a dictionary lookup once the key was seen.
        known = self._roots.get(key)
        if known is None:
            root = self.root if key is None else self.root_of(key)
            known = self._roots[key] = os.path.abspath(root)
        return known

    def relative(self, path: Path | str, key: str | None = None) -> str | None:
        # abspath, not resolve(): a pattern names the path as written, and a symlink loop
        # must be reported when the file is read, not crash here. Strings, not PurePath
        # arithmetic: this runs for every file and directory of a monorepo.
        full = os.path.abspath(path)
        root = self._root_text(key)
        if full == root:
            return "."
        prefix = root if root.endswith("/") else root + "/"
        return full[len(prefix) :] if full.startswith(prefix) else None

    def ignores_for(self, path: Path) -> list[str]:
        out: list[str] = []
        if not self.per_file_ignores:
            return out
        rel = self.relative(path, "per-file-ignores")
        if rel is None:
            return out
        for pattern, codes in self.per_file_ignores.items():
            if _glob_match(rel, pattern):
                out.extend(codes)
        return out

    def context_for(self, path: Path) -> Path | None:
        if not self.contexts:
            return None
        rel = self.relative(path, "context")
        if rel is None:
            return None
        for pattern, ctx in self.contexts.items():
            if _glob_match(rel, pattern):
                return Path(os.path.abspath(self.root_of("context") / ctx))
        return None

    def is_excluded(self, path: Path | str) -> bool:
        if not self.exclude:
            return False
        rel = self.relative(path, "exclude")
        return rel is not None and any(_glob_match(rel, p) for p in self.exclude)


def _glob_match(rel: str, pattern: str) -> bool:
    pattern = pattern.rstrip("/")
    if fnmatch.fnmatchcase(rel, pattern) or fnmatch.fnmatchcase(rel, pattern + "/*"):
        return True
    if pattern.startswith("**/") and fnmatch.fnmatchcase(rel, pattern[3:]):
        return True
    # a pattern without a slash matches a file name or a directory at any depth, like git
    if "/" not in pattern:
        parts = rel.split("/")
        return any(fnmatch.fnmatchcase(p, pattern) for p in parts)
    return False


def _read_config_bytes(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc


def _load_toml(path: Path, data: bytes | None = None) -> dict[str, Any]:
    import tomllib

    if data is None:
        data = _read_config_bytes(path)
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: not UTF-8 ({exc.reason})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc


def _str_list(value: Any, key: str, where: Path) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: `{key}` must be a list of strings")
    return list(value)


def _bool(value: Any, key: str, where: Path) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: `{key}` must be true or false")
    return value


def config_from_table(table: dict[str, Any], path: Path) -> Config:
    from dockfix.core.catalog import all_fixers

    fixers = all_fixers()
    by_name = {f.name: c for c, f in fixers.items()}
    cfg = Config(path=path, root=path.parent)
    for key, value in table.items():
        if key == "extend":
            continue  # read by load_config_file
        cfg.origins[key] = path
        if key == "select":
            cfg.select = _str_list(value, key, path)
        elif key == "ignore":
            cfg.ignore = _str_list(value, key, path)
        elif key == "extend-select":
            cfg.extend_select = _str_list(value, key, path)
        elif key == "unsafe-fixes":
            cfg.unsafe_fixes = _bool(value, key, path)
        elif key == "exclude":
            cfg.exclude = _str_list(value, key, path)
        elif key == "insecure-registries":
            cfg.insecure_registries = _str_list(value, key, path)
        elif key == "trusted-registries":
            cfg.trusted_registries = [r.lower() for r in _str_list(value, key, path)]
        elif key == "refresh":
            cfg.refresh = _bool(value, key, path)
        elif key == "respect-gitignore":
            cfg.respect_gitignore = _bool(value, key, path)
        elif key == "pr-body-limit":
            if not isinstance(value, int) or isinstance(value, bool) or value < 1000:
                raise ConfigError(f"{path}: `pr-body-limit` must be a number of characters >= 1000")
            cfg.pr_body_limit = value
        elif key == "min-docker-engine":
            cfg.min_docker_engine = _engine_version(value, key, path)
        elif key == "per-file-ignores":
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: `per-file-ignores` must be a table of glob = [codes]")
            cfg.per_file_ignores = {
                k: _str_list(v, f"per-file-ignores.{k}", path) for k, v in value.items()
            }
        elif key == "context":
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                raise ConfigError(
                    f"{path}: `context` must be a table of Dockerfile glob = directory"
                )
            cfg.contexts = dict(value)
        elif key == "severity":
            cfg.severity = _severities(value, path)
        elif key == "failure-threshold":
            if value not in FAILURE_THRESHOLDS:
                raise ConfigError(
                    f"{path}: `failure-threshold` must be one of {', '.join(FAILURE_THRESHOLDS)}"
                )
            cfg.failure_threshold = value
        elif key == "unprivileged-port-start":
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 65535:
                raise ConfigError(
                    f"{path}: `unprivileged-port-start` must be a port number (0 to 65535)"
                )
            cfg.unprivileged_port_start = value
        elif key == "cache-dir":
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{path}: `cache-dir` must be a directory path")
            cfg.cache_dir = path.parent / os.path.expanduser(value)
        elif key == "verify":
            cfg.verify = _verify_settings(value, path)
        elif key in by_name or key.upper() in fixers:
            code = by_name.get(key, key.upper())
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: `{key}` must be a table of options for {code}")
            cfg.fixer_options[code] = _fixer_options(fixers[code], value, key, path)
            del cfg.origins[key]
            cfg.origins[code] = path
        else:
            raise ConfigError(f"{path}: unknown key `{key}`")
    from dockfix.core.catalog import SelectionError, resolve_code

    for sel in [*(cfg.select or []), *cfg.ignore, *cfg.extend_select]:
        try:
            resolve_code(sel)
        except SelectionError as exc:
            raise ConfigError(f"{path}: {exc}") from exc
    return cfg


# `[verify]` keys: the builder settings `dockfix verify` also takes as options.
VERIFY_KEYS = ("builder", "buildah", "storage-driver")
VERIFY_PATH_KEYS = ("storage-root", "run-root", "registries-conf", "signature-policy")


def _verify_settings(table: Any, path: Path) -> dict[str, str]:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: `verify` must be a table of builder settings")
    out: dict[str, str] = {}
    for key, value in table.items():
        if key not in VERIFY_KEYS + VERIFY_PATH_KEYS:
            known = ", ".join(VERIFY_KEYS + VERIFY_PATH_KEYS)
            raise ConfigError(f"{path}: unknown key `verify.{key}` (known: {known})")
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{path}: `verify.{key}` must be a string")
        if key in VERIFY_PATH_KEYS or (key == "buildah" and "/" in value):
            value = str(path.parent / os.path.expanduser(value))
        out[key.replace("-", "_")] = value
    return out


def _severities(table: Any, path: Path) -> dict[str, Severity]:
    """``{ "DF201" = "error", "DF4" = "info" }``: a selector (code, prefix, name, ALL) per
    severity; a more specific selector wins over a broader one, whatever their order."""
    from dockfix.core.catalog import SelectionError, resolve_code

    if not isinstance(table, dict):
        raise ConfigError(f"{path}: `severity` must be a table of rule = severity")
    allowed = ", ".join(s.value for s in Severity)
    resolved: list[tuple[list[str], Severity]] = []
    for selector, value in table.items():
        if value not in {s.value for s in Severity}:
            raise ConfigError(f"{path}: `severity.{selector}` must be one of {allowed}")
        try:
            resolved.append((resolve_code(selector), Severity(value)))
        except SelectionError as exc:
            raise ConfigError(f"{path}: `severity`: {exc}") from exc
    out: dict[str, Severity] = {}
    for codes, severity in sorted(resolved, key=lambda item: -len(item[0])):
        out.update(dict.fromkeys(codes, severity))
    return out


def _fixer_options(fixer: Any, values: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        opt = fixer.options.get(name)
        if opt is None:
            known = ", ".join(sorted(fixer.options)) or "none"
            raise ConfigError(
                f"{path}: unknown option `{key}.{name}` (options of {fixer.code}: {known})"
            )
        if opt.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, opt.type) or (opt.type is int and isinstance(value, bool)):
            raise ConfigError(f"{path}: `{key}.{name}` must be of type {opt.type.__name__}")
        if opt.choices and value not in opt.choices:
            raise ConfigError(
                f"{path}: `{key}.{name}` must be one of {', '.join(map(str, opt.choices))}"
            )
        out[name] = value
    return out


def _table_of(path: Path) -> dict[str, Any] | None:
    """A file's dockfix table; None for a pyproject.toml without one."""
    if path.name == "pyproject.toml":
        raw = _read_config_bytes(path)
        if b"dockfix" not in raw:
            # Most of a monorepo's pyproject.toml files are other tools' business: no table
            # can be named without the word, so skip parsing them.
            return None
        data = _load_toml(path, raw)
        table = data.get("tool", {}).get("dockfix")
        if table is None:
            return None
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: `[tool.dockfix]` must be a table")
        return table
    return _load_toml(path)


def load_config_file(path: Path) -> Config:
    table = _table_of(path)
    if table is None:
        return Config(path=None, root=path.parent)
    cfg = config_from_table(table, path)
    if "extend" in table:
        base = _extended(path, table["extend"], (os.path.realpath(path),))
        cfg = _merged(base, cfg)
    return cfg


def _extended(path: Path, value: Any, chain: tuple[str, ...]) -> Config:
    """The configuration ``path`` extends (itself merged with what it extends), read relative
    to ``path``; ``chain``: the files on the way, to refuse a cycle."""
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{path}: `extend` must be the path of a configuration file")
    base = Path(os.path.normpath(path.parent / os.path.expanduser(value)))
    if os.path.realpath(base) in chain:
        files = " -> ".join([*chain, os.path.realpath(base)])
        raise ConfigError(f"{path}: `extend` makes a cycle ({files})")
    if not base.is_file():
        raise ConfigError(f"{path}: `extend`: no such file {base}")
    table = _table_of(base)
    if table is None:
        return Config(path=None, root=path.parent)
    cfg = config_from_table(table, base)
    if "extend" in table:
        cfg = _merged(_extended(base, table["extend"], (*chain, os.path.realpath(base))), cfg)
    return cfg


# Configuration keys and the Config attribute holding each.
_ATTRIBUTES = {
    "select": "select",
    "ignore": "ignore",
    "extend-select": "extend_select",
    "unsafe-fixes": "unsafe_fixes",
    "exclude": "exclude",
    "per-file-ignores": "per_file_ignores",
    "context": "contexts",
    "insecure-registries": "insecure_registries",
    "refresh": "refresh",
    "respect-gitignore": "respect_gitignore",
    "pr-body-limit": "pr_body_limit",
    "min-docker-engine": "min_docker_engine",
    "severity": "severity",
    "failure-threshold": "failure_threshold",
    "trusted-registries": "trusted_registries",
    "cache-dir": "cache_dir",
    "unprivileged-port-start": "unprivileged_port_start",
    "verify": "verify",
}


def _merged(base: Config, own: Config) -> Config:
    """``own`` over ``base``, as ruff's ``extend``: a key ``own`` sets replaces the base's value
    (lists and tables too), except ``extend-select``, which adds to it, and the tables of a
    fixer's options and of severities, merged entry by entry (by code)."""
    out = Config(path=own.path, root=own.root)
    for cfg in (base, own):
        for key, origin in cfg.origins.items():
            attr = _ATTRIBUTES.get(key)
            if attr is None:  # a fixer's options, by code
                out.fixer_options.setdefault(key, {}).update(cfg.fixer_options[key])
            elif key == "severity":  # a table by code, merged code by code
                out.severity = {**out.severity, **cfg.severity}
            elif key == "verify":  # builder settings, merged setting by setting
                out.verify = {**out.verify, **cfg.verify}
            elif key == "extend-select":
                out.extend_select = [*out.extend_select, *cfg.extend_select]
            else:
                setattr(out, attr, getattr(cfg, attr))
            out.origins[key] = origin
    return out


def find_config(directory: Path | str, cwd: str | None = None) -> Config:
    """The nearest configuration at or above ``directory`` (defaults when there is none);
    ``cwd``: the working directory, when the caller asked for it already."""
    if cwd is None:
        return _find_config(os.path.abspath(directory))
    return _find_config(os.path.normpath(os.path.join(cwd, directory)))


def config_at(directory: str) -> Config:
    """:func:`find_config` of an absolute, normalised directory (as a directory walk spells
    it): no path arithmetic, which a walk over a monorepo would do for every entry."""
    return _find_config(directory)


CONFIG_FILES = ("dockfix.toml", "pyproject.toml")
# Directories a walk has listed (absolute path -> whether a name of CONFIG_FILES is there, in
# any letter case): a directory without one needs no stat call to say so.
_LISTED: dict[str, bool] = {}


def note_listing(directory: str, names: list[str]) -> None:
    """What a directory walk saw in ``directory`` (absolute): its non-directory names."""
    if len(_LISTED) >= 65536:
        _LISTED.clear()
    _LISTED[directory] = any(n.lower() in CONFIG_FILES for n in names)


@lru_cache(maxsize=65536)
def _find_config(directory: str) -> Config:
    # One directory at a time, memoised: a monorepo's 10,000 service folders share parents,
    # so each folder costs two stat calls instead of a walk to the root, and none when the
    # walk's listing shows neither file.
    if _LISTED.get(directory, True):
        found = _config_in(directory)
        if found is not None:
            return found
    parent = os.path.dirname(directory)
    if parent == directory:
        return Config(path=None, root=Path.cwd())
    return _find_config(parent)


def forget_found_configs() -> None:
    """Look configuration files up afresh: a long-running caller (``dockfix server``) sees a
    ``dockfix.toml`` the user has just edited."""
    _find_config.cache_clear()
    _LISTED.clear()


def _config_in(directory: str) -> Config | None:
    df = os.path.join(directory, "dockfix.toml")
    if os.path.isfile(df):
        return load_config_file(Path(df))
    pp = os.path.join(directory, "pyproject.toml")
    if os.path.isfile(pp):
        cfg = load_config_file(Path(pp))
        if cfg.path is not None:
            return cfg
    return None
