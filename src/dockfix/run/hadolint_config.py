"""hadolint's configuration (``.hadolint.yaml``), read so that a team's settings carry over.

Found as hadolint 2.15 finds it (checked against the binary): the first of ``.hadolint.yaml``
and ``.hadolint.yml`` in the working directory (not its parents, not the git root), then in
``$XDG_CONFIG_HOME`` (default ``~/.config``) as ``hadolint.yaml``/``hadolint.yml``, then
``~/.hadolint/hadolint.yaml``/``.yml``, then ``~/.hadolint.yaml``/``.yml``. One file serves the
whole run, as it does for hadolint.

dockfix reads ``ignored``, ``override``, ``failure-threshold``, ``trustedRegistries``,
``label-schema`` and ``strict-labels``; the other keys hadolint knows are accepted and left to hadolint. A malformed value is one warning
and that key is skipped; a file that is not YAML is one warning and no setting — never an
error, since the file belongs to another tool. Nothing here writes to the terminal: the
warnings travel with the configuration for the CLI to show.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dockfix.core.fixer import FAILURE_THRESHOLDS, SEVERITY_ORDER, Severity

# Keys hadolint reads that dockfix has no use for: accepted without a warning.
_HADOLINT_ONLY_KEYS = frozenset(
    {
        "disable-ignore-pragma",
        "file-path-in-report",
        "format",
        "no-color",
        "no-fail",
        "output-file",
        "verbose",
    }
)
_LEVELS = {s.value: s for s in Severity}
# The value formats hadolint's `label-schema` knows (any other is an error to hadolint).
LABEL_TYPES = frozenset({"text", "url", "semver", "hash", "rfc3339", "spdx", "email"})


@dataclass(frozen=True)
class HadolintConfig:
    path: str  # as found (shown in warnings and by `dockfix rule`)
    ignored: frozenset[str] = frozenset()
    override: Mapping[str, Severity] = field(default_factory=dict)  # hadolint code -> severity
    failure_threshold: str | None = None
    trusted_registries: tuple[str, ...] | None = None  # None: not configured
    label_schema: Mapping[str, str] | None = None  # label -> format; None: not configured
    strict_labels: bool = False
    warnings: tuple[str, ...] = ()

    def severity_for(self, hadolint: Iterable[str]) -> Severity | None:
        """The overridden severity of a finding matching these hadolint rules: the most severe
        of their overrides (hadolint would report each rule at its own), None without one."""
        found = [self.override[c] for c in hadolint if c in self.override]
        return min(found, key=SEVERITY_ORDER.index) if found else None


def candidate_paths(cwd: str, environ: Mapping[str, str]) -> list[Path]:
    """Where hadolint looks, in its order (see the module docstring)."""
    home = Path(environ.get("HOME") or os.path.expanduser("~"))
    xdg = environ.get("XDG_CONFIG_HOME") or str(home / ".config")
    places = [
        (Path(cwd), ".hadolint"),
        (Path(xdg), "hadolint"),
        (home / ".hadolint", "hadolint"),
        (home, ".hadolint"),
    ]
    return [directory / f"{stem}.{ext}" for directory, stem in places for ext in ("yaml", "yml")]


def find_hadolint_config(
    cwd: str | None = None, environ: Mapping[str, str] | None = None
) -> Path | None:
    for path in candidate_paths(cwd or os.getcwd(), os.environ if environ is None else environ):
        if os.path.isfile(path):  # never raises: an unreadable home is a place without one
            return path
    return None


def load_hadolint_config(path: Path, shown: str | None = None) -> HadolintConfig:
    """The settings of one file; every problem becomes a warning naming the file."""
    name = shown or str(path)
    try:
        data = _read_yaml(path)
    except OSError as exc:
        return HadolintConfig(name, warnings=(f"{name}: cannot read: {exc.strerror}; ignored",))
    except ValueError as exc:
        return HadolintConfig(name, warnings=(f"{name}: not valid YAML ({exc}); ignored",))
    if data is None:
        return HadolintConfig(name)
    if not isinstance(data, dict):
        return HadolintConfig(
            name, warnings=(f"{name}: expected a mapping of settings at the top; ignored",)
        )
    warnings: list[str] = []
    ignored: frozenset[str] = frozenset()
    override: dict[str, Severity] = {}
    threshold: str | None = None
    trusted: tuple[str, ...] | None = None
    schema: dict[str, str] | None = None
    strict = False
    for key, value in data.items():
        if value is None:
            continue  # `ignored:` with nothing under it: not set, as hadolint reads it
        if key == "ignored":
            codes = _codes(value)
            if codes is None:
                warnings.append(f"{name}: `ignored` must be a list of rule codes; skipped")
            else:
                ignored = frozenset(codes)
        elif key == "override":
            override = _override(value, name, warnings)
        elif key == "failure-threshold":
            text = str(value).lower() if isinstance(value, str) else None
            if text == "ignore":  # hadolint's level below style: nothing reaches it
                text = "none"
            if text not in FAILURE_THRESHOLDS:
                allowed = ", ".join((*FAILURE_THRESHOLDS, "ignore"))
                warnings.append(f"{name}: `failure-threshold` must be one of {allowed}; skipped")
            else:
                threshold = text
        elif key == "trustedRegistries":
            registries = [value] if isinstance(value, str) else _strings(value)
            if registries is None:
                warnings.append(
                    f"{name}: `trustedRegistries` must be a list of registry names; skipped"
                )
            else:
                trusted = tuple(r.strip().lower() for r in registries if r.strip())
        elif key == "label-schema":
            schema = _label_schema(value)
            if schema is None:
                allowed = ", ".join(sorted(LABEL_TYPES))
                warnings.append(
                    f"{name}: `label-schema` must map label names to one of {allowed}; skipped"
                )
        elif key == "strict-labels":
            if isinstance(value, bool):
                strict = value
            else:
                warnings.append(f"{name}: `strict-labels` must be true or false; skipped")
        elif key not in _HADOLINT_ONLY_KEYS:
            warnings.append(f"{name}: unknown key `{key}`; skipped")
    return HadolintConfig(
        name, ignored, override, threshold, trusted, schema, strict, tuple(warnings)
    )


def _read_yaml(path: Path) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    with path.open("rb") as fh:
        data = fh.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8: {exc.reason}") from None
    try:
        return YAML(typ="safe", pure=True).load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ValueError(f"{where}{problem}") from None


def _strings(value: Any) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _label_schema(value: Any) -> dict[str, str] | None:
    if not isinstance(value, dict):
        return None
    schema = {str(k): v for k, v in value.items()}
    if not all(isinstance(v, str) and v in LABEL_TYPES for v in schema.values()):
        return None
    return schema


def _codes(value: Any) -> list[str] | None:
    strings = _strings(value)
    return None if strings is None else [s.strip().upper() for s in strings if s.strip()]


def _override(value: Any, name: str, warnings: list[str]) -> dict[str, Severity]:
    if not isinstance(value, dict):
        warnings.append(f"{name}: `override` must map error/warning/info/style to rule lists")
        return {}
    out: dict[str, Severity] = {}
    # hadolint applies the lists from the least to the most severe: a code listed twice takes
    # the more severe level.
    for level in sorted(value, key=lambda k: -_rank(k)):
        severity = _LEVELS.get(str(level).lower())
        codes = _codes(value[level])
        if severity is None:
            allowed = ", ".join(_LEVELS)
            warnings.append(f"{name}: `override.{level}`: unknown level (one of {allowed})")
        elif codes is None:
            warnings.append(f"{name}: `override.{level}` must be a list of rule codes; skipped")
        else:
            out.update(dict.fromkeys(codes, severity))
    return out


def _rank(level: Any) -> int:
    severity = _LEVELS.get(str(level).lower())
    return SEVERITY_ORDER.index(severity) if severity is not None else len(SEVERITY_ORDER)
