"""Compare two built images: their config and their final root filesystem.

Everything here is pure: the inputs are plain data (:class:`ImageConfig`, lists of
:class:`FileEntry`, byte counts), produced by :mod:`dockfix.proof.builders` or written by hand in
tests.  The caller says which changes it expects through :class:`AllowedChanges` (what the
applied fixers declare, e.g. "``User`` may change", "paths under ``/var/lib/apt/lists/``
may disappear"), and gets back a :class:`CompareReport` that keeps *every* difference,
each marked allowed (with the rule that allowed it) or unexpected.

Two builds of the very same Dockerfile never give byte-identical file systems: logs,
``*-old`` backups of dpkg's state and npm's log files carry timestamps.  :data:`BUILD_NOISE`
names those; the ``compare_*`` functions apply it unless told otherwise.

Path patterns are globs over absolute paths: ``*`` and ``?`` stay within one path
component, ``**`` crosses components.  ``/var/lib/apt/lists/**`` matches everything below
that directory but not the directory itself.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

__all__ = [
    "BUILD_NOISE",
    "CONFIG_FIELDS",
    "DEFAULT_CACHE_DIRS",
    "AllowedChanges",
    "ChangeKind",
    "CompareReport",
    "ConfigDifference",
    "FileDifference",
    "FileEntry",
    "FileType",
    "Healthcheck",
    "ImageConfig",
    "PathRule",
    "SizeChange",
    "apt_archives_removed",
    "apt_lists_removed",
    "caches_removed",
    "compare_configs",
    "compare_filesystems",
    "compare_images",
    "compare_sizes",
    "config_changes",
    "glob_to_regex",
    "owner_changed",
    "paths_added",
    "paths_changed",
    "paths_removed",
    "rootfs_size",
    "user_added",
]

FileType = Literal["file", "hardlink", "dir", "symlink", "char", "block", "fifo", "socket", "other"]
ChangeKind = Literal["added", "removed", "changed"]
_ALL_KINDS: frozenset[ChangeKind] = frozenset({"added", "removed", "changed"})

CONFIG_FIELDS: tuple[str, ...] = (
    "User",
    "Entrypoint",
    "Cmd",
    "Env",
    "WorkingDir",
    "ExposedPorts",
    "Labels",
    "Healthcheck",
    "StopSignal",
    "Volumes",
    "Shell",
    "OnBuild",
)
"""The image config fields compared, named as in Docker's image config."""


# --------------------------------------------------------------------------- data


@dataclass(frozen=True, order=True)
class FileEntry:
    """One path of a root file system.

    ``size`` is the byte count of a regular file and 0 for everything else (directory sizes
    depend on the file system that holds them).  ``mode`` holds the permission bits with
    set-uid, set-gid and sticky (``st_mode & 0o7777``).  ``link_target`` is the target of a
    symbolic link, or for a ``hardlink`` the path (``/…``) of the ``file`` entry it shares
    its data with: of the names of one inode, the first in path order is the ``file``, the
    others are ``hardlink`` entries of size 0, so sizes add up to what the image stores.
    """

    path: str
    type: FileType
    size: int = 0
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    link_target: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "type": self.type,
            "size": self.size,
            "mode": f"{self.mode:04o}",
            "uid": self.uid,
            "gid": self.gid,
            "link_target": self.link_target,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FileEntry:
        mode = data.get("mode", 0o644)
        return cls(
            path=str(data["path"]),
            type=cast(FileType, str(data["type"])),
            size=int(data.get("size", 0)),
            mode=int(mode, 8) if isinstance(mode, str) else int(mode),
            uid=int(data.get("uid", 0)),
            gid=int(data.get("gid", 0)),
            link_target=None if data.get("link_target") is None else str(data["link_target"]),
        )


@dataclass(frozen=True)
class Healthcheck:
    """Docker's ``Healthcheck`` config; durations in nanoseconds as Docker stores them."""

    test: tuple[str, ...]
    interval: int = 0
    timeout: int = 0
    start_period: int = 0
    start_interval: int = 0
    retries: int = 0

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Healthcheck:
        def num(*keys: str) -> int:
            for key in keys:
                if data.get(key) is not None:
                    return int(data[key])
            return 0

        return cls(
            test=tuple(str(t) for t in (data.get("Test") or data.get("test") or ())),
            interval=num("Interval", "interval"),
            timeout=num("Timeout", "timeout"),
            start_period=num("StartPeriod", "start_period"),
            start_interval=num("StartInterval", "start_interval"),
            retries=num("Retries", "retries"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "Test": list(self.test),
            "Interval": self.interval,
            "Timeout": self.timeout,
            "StartPeriod": self.start_period,
            "StartInterval": self.start_interval,
            "Retries": self.retries,
        }


def _str_tuple(value: Any) -> tuple[str, ...] | None:
    """A command list; an empty one is no command (Docker treats ``[]`` as unset)."""
    if not value:
        return None
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _key_set(value: Any) -> frozenset[str]:
    if not value:
        return frozenset()
    if isinstance(value, Mapping):
        return frozenset(str(k) for k in value)
    return frozenset(str(v) for v in value)


@dataclass(frozen=True)
class ImageConfig:
    """The parts of an image's runtime config that a Dockerfile decides.

    ``entrypoint``/``cmd``/``shell`` are ``None`` when unset or empty;
    ``env`` keeps the order of the image's ``Env`` list, a later duplicate winning.
    """

    user: str = ""
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    working_dir: str = ""
    exposed_ports: frozenset[str] = frozenset()
    labels: Mapping[str, str] = field(default_factory=dict)
    healthcheck: Healthcheck | None = None
    stop_signal: str = ""
    volumes: frozenset[str] = frozenset()
    shell: tuple[str, ...] | None = None
    on_build: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any] | None) -> ImageConfig:
        """Read the ``config`` object of a Docker or OCI image config (``User``, ``Env``…).

        Accepts the whole image config too (it then reads its ``config``/``Config``).
        """
        if config is None:
            return cls()
        if "config" in config and isinstance(config["config"], Mapping):
            config = config["config"]
        elif "Config" in config and isinstance(config["Config"], Mapping):
            config = config["Config"]
        env: dict[str, str] = {}
        for item in config.get("Env") or ():
            key, sep, value = str(item).partition("=")
            env[key] = value if sep else ""
        labels = {str(k): str(v) for k, v in (config.get("Labels") or {}).items()}
        health = config.get("Healthcheck")
        return cls(
            user=str(config.get("User") or ""),
            entrypoint=_str_tuple(config.get("Entrypoint")),
            cmd=_str_tuple(config.get("Cmd")),
            env=env,
            working_dir=str(config.get("WorkingDir") or ""),
            exposed_ports=_key_set(config.get("ExposedPorts")),
            labels=labels,
            healthcheck=Healthcheck.from_mapping(health) if health else None,
            stop_signal=str(config.get("StopSignal") or ""),
            volumes=_key_set(config.get("Volumes")),
            shell=_str_tuple(config.get("Shell")),
            on_build=tuple(str(v) for v in (config.get("OnBuild") or ())),
        )

    def field_value(self, name: str) -> Any:
        """The comparable value of the config field ``name`` (one of :data:`CONFIG_FIELDS`)."""
        values: dict[str, Any] = {
            "User": self.user,
            "Entrypoint": self.entrypoint,
            "Cmd": self.cmd,
            "Env": dict(self.env),
            "WorkingDir": self.working_dir,
            "ExposedPorts": self.exposed_ports,
            "Labels": dict(self.labels),
            "Healthcheck": self.healthcheck,
            "StopSignal": self.stop_signal,
            "Volumes": self.volumes,
            "Shell": self.shell,
            "OnBuild": self.on_build,
        }
        if name not in values:
            raise KeyError(f"unknown config field {name!r}; known: {', '.join(CONFIG_FIELDS)}")
        return values[name]

    def to_dict(self) -> dict[str, Any]:
        return {name: _jsonable(self.field_value(name)) for name in CONFIG_FIELDS}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Healthcheck):
        return value.to_dict()
    if isinstance(value, FileEntry):
        return value.to_dict()
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------- allowed


@functools.lru_cache(maxsize=1024)
def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """Compile a path glob: ``**`` crosses ``/``, ``*`` and ``?`` do not; ``[...]`` sets."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif ch == "*":
            out.append("[^/]*")
            i += 1
        elif ch == "?":
            out.append("[^/]")
            i += 1
        elif ch == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                out.append(re.escape(ch))
                i += 1
            else:
                body = pattern[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end + 1
        else:
            out.append(re.escape(ch))
            i += 1
    return re.compile("".join(out) + r"\Z")


@dataclass(frozen=True)
class PathRule:
    """Paths matching ``pattern`` may change in the ways listed in ``kinds``."""

    pattern: str
    kinds: frozenset[ChangeKind]
    reason: str

    def matches(self, path: str, kind: ChangeKind) -> bool:
        return kind in self.kinds and glob_to_regex(self.pattern).match(path) is not None


@dataclass(frozen=True)
class AllowedChanges:
    """The changes a set of fixers declares; combine declarations with ``|``.

    ``config_fields``: whole config fields that may differ (``"User"``, ``"Cmd"``…).
    ``env_keys``/``label_keys``: single ``Env``/``Labels`` keys that may be added, removed
    or changed (a whole ``"Env"`` in ``config_fields`` allows every key).
    ``path_rules``: which paths may be added, removed or changed in the root file system.
    """

    config_fields: frozenset[str] = frozenset()
    env_keys: frozenset[str] = frozenset()
    label_keys: frozenset[str] = frozenset()
    path_rules: tuple[PathRule, ...] = ()
    reasons: Mapping[str, str] = field(default_factory=dict)
    """Optional explanation per config field or ``Env:KEY``/``Labels:KEY``, for reports."""

    def __post_init__(self) -> None:
        unknown = set(self.config_fields) - set(CONFIG_FIELDS)
        if unknown:
            raise ValueError(f"unknown config field(s): {', '.join(sorted(unknown))}")

    def __or__(self, other: AllowedChanges) -> AllowedChanges:
        extra_rules = tuple(r for r in other.path_rules if r not in self.path_rules)
        return AllowedChanges(
            config_fields=self.config_fields | other.config_fields,
            env_keys=self.env_keys | other.env_keys,
            label_keys=self.label_keys | other.label_keys,
            path_rules=self.path_rules + extra_rules,
            reasons={**self.reasons, **other.reasons},
        )

    @staticmethod
    def merge(parts: Iterable[AllowedChanges]) -> AllowedChanges:
        result = AllowedChanges()
        for part in parts:
            result = result | part
        return result

    def path_rule(self, path: str, kind: ChangeKind) -> PathRule | None:
        """The first rule allowing ``kind`` of change at ``path``, or ``None``."""
        for rule in self.path_rules:
            if rule.matches(path, kind):
                return rule
        return None

    def config_reason(self, name: str, key: str | None = None) -> str | None:
        """Why a change of config field ``name`` (or one of its keys) is allowed, else ``None``."""
        if name in self.config_fields:
            return self.reasons.get(name, f"{name} may change")
        if key is not None:
            if name == "Env" and key in self.env_keys:
                return self.reasons.get(f"Env:{key}", f"Env {key} may change")
            if name == "Labels" and key in self.label_keys:
                return self.reasons.get(f"Labels:{key}", f"label {key} may change")
        return None


def _rules(kinds: Iterable[ChangeKind], patterns: Iterable[str], reason: str) -> AllowedChanges:
    kind_set = frozenset(kinds)
    return AllowedChanges(path_rules=tuple(PathRule(p, kind_set, reason) for p in patterns))


def paths_removed(*patterns: str, reason: str = "declared removal") -> AllowedChanges:
    return _rules(("removed",), patterns, reason)


def paths_added(*patterns: str, reason: str = "declared addition") -> AllowedChanges:
    return _rules(("added",), patterns, reason)


def paths_changed(
    *patterns: str,
    kinds: Iterable[ChangeKind] = _ALL_KINDS,
    reason: str = "declared change",
) -> AllowedChanges:
    return _rules(kinds, patterns, reason)


def config_changes(
    *fields: str,
    env_keys: Iterable[str] = (),
    label_keys: Iterable[str] = (),
    reason: str | None = None,
) -> AllowedChanges:
    """Allow whole config ``fields`` and single ``Env``/``Labels`` keys to differ."""
    reasons: dict[str, str] = {}
    if reason is not None:
        reasons.update({f: reason for f in fields})
        reasons.update({f"Env:{k}": reason for k in env_keys})
        reasons.update({f"Labels:{k}": reason for k in label_keys})
    return AllowedChanges(
        config_fields=frozenset(fields),
        env_keys=frozenset(env_keys),
        label_keys=frozenset(label_keys),
        reasons=reasons,
    )


def apt_lists_removed() -> AllowedChanges:
    """``rm -rf /var/lib/apt/lists/*`` after ``apt-get install``, and apt's binary caches."""
    reason = "apt package lists removed"
    return paths_removed(
        "/var/lib/apt/lists/**",
        "/var/cache/apt/*.bin",
        "/var/cache/apt/archives/*.deb",
        "/var/cache/apt/archives/partial/**",
        reason=reason,
    )


def user_added(name: str, *, home: str | None = None) -> AllowedChanges:
    """A system user ``name`` created (``useradd``/``adduser``/busybox ``adduser``)."""
    reason = f"user {name} added"
    account_files = [
        f"/etc/{base}{suffix}"
        for base in ("passwd", "group", "shadow", "gshadow", "subuid", "subgid")
        for suffix in ("", "-")
    ]
    home_dir = home if home is not None else f"/home/{name}"
    return paths_changed(
        *account_files,
        "/var/log/lastlog",
        "/var/log/faillog",
        f"/var/mail/{name}",
        f"/var/spool/mail/{name}",
        kinds=("added", "changed"),
        reason=reason,
    ) | paths_added(home_dir, f"{home_dir}/**", reason=reason)


DEFAULT_CACHE_DIRS: tuple[str, ...] = (
    "/root/.cache",
    "/root/.npm",
    "/root/.yarn",
    "/usr/local/share/.cache",
    "/home/*/.cache",
    "/home/*/.npm",
)


def caches_removed(*dirs: str, reason: str = "package manager cache removed") -> AllowedChanges:
    """Cache directories (default: pip's, npm's, yarn's) and their contents may disappear,
    or be left empty: a cache mount leaves its mount point (an empty ``/root/.cache/pip``)
    where the original had a full cache or none."""
    chosen = dirs or DEFAULT_CACHE_DIRS
    patterns = [p for d in chosen for p in (d.rstrip("/"), d.rstrip("/") + "/**")]
    return paths_changed(*patterns, reason=reason) | apt_archives_removed()


def apt_archives_removed() -> AllowedChanges:
    return paths_removed(
        "/var/cache/apt/archives/*.deb",
        "/var/cache/apt/*.bin",
        reason="apt download cache removed",
    )


def owner_changed(*patterns: str, reason: str = "ownership changed") -> AllowedChanges:
    """Files matching ``patterns`` may change owner or mode (e.g. ``COPY --chown``)."""
    return paths_changed(*patterns, kinds=("changed",), reason=reason)


BUILD_NOISE: AllowedChanges = _rules(
    _ALL_KINDS,
    (
        # Package managers' own logs and backups: timestamps, so sizes and names vary.
        "/var/log/apt/**",
        "/var/log/dpkg.log",
        "/var/log/alternatives.log",
        "/var/log/lastlog",
        "/var/log/faillog",
        "/var/log/wtmp",
        "/var/log/btmp",
        "/var/cache/ldconfig/aux-cache",
        "/var/cache/debconf/*-old",
        "/var/lib/dpkg/*-old",
        "/var/lib/dpkg/triggers/Lock",
        "/root/.npm/_logs",
        "/root/.npm/_logs/**",
        "/home/*/.npm/_logs",
        "/home/*/.npm/_logs/**",
        "/root/.npm/_update-notifier-last-checked",
        # npm's download cache also keeps the registry's metadata documents, which change
        # whenever a package publishes (TypeScript does every night): two builds of one
        # lock file minutes apart cached different documents. What npm installed is compared
        # in node_modules.
        "/root/.npm/_cacache/**",
        "/home/*/.npm/_cacache/**",
        # Scratch space and the mount points of RUN steps.
        "/tmp/**",
        "/var/tmp/**",
        "/run/**",
        "/proc/**",
        "/sys/**",
        "/dev/**",
    ),
    "changes between any two builds (package manager logs, scratch space)",
)
"""What differs between two builds of the same Dockerfile, allowed unless told otherwise."""


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class ConfigDifference:
    """One config field (or one ``Env``/``Labels`` key, in ``key``) that differs."""

    field: str
    key: str | None
    before: Any
    after: Any
    allowed_by: str | None = None

    @property
    def allowed(self) -> bool:
        return self.allowed_by is not None

    @property
    def name(self) -> str:
        return self.field if self.key is None else f"{self.field}[{self.key}]"

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "key": self.key,
            "before": _jsonable(self.before),
            "after": _jsonable(self.after),
            "allowed": self.allowed,
            "allowed_by": self.allowed_by,
        }


@dataclass(frozen=True)
class FileDifference:
    """A path added, removed, or changed in ``attributes`` (type/size/mode/uid/gid/link)."""

    path: str
    kind: ChangeKind
    before: FileEntry | None
    after: FileEntry | None
    attributes: tuple[str, ...] = ()
    allowed_by: str | None = None

    @property
    def allowed(self) -> bool:
        return self.allowed_by is not None

    def describe(self) -> str:
        if self.kind == "added" and self.after is not None:
            return f"+ {self.path} ({_describe_entry(self.after)})"
        if self.kind == "removed" and self.before is not None:
            return f"- {self.path} ({_describe_entry(self.before)})"
        assert self.before is not None and self.after is not None
        parts = []
        for attr in self.attributes:
            b, a = _attr(self.before, attr), _attr(self.after, attr)
            parts.append(f"{attr} {b} -> {a}")
        return f"~ {self.path} ({', '.join(parts)})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "attributes": list(self.attributes),
            "before": None if self.before is None else self.before.to_dict(),
            "after": None if self.after is None else self.after.to_dict(),
            "allowed": self.allowed,
            "allowed_by": self.allowed_by,
        }


def _attr(entry: FileEntry, attr: str) -> str:
    if attr == "mode":
        return f"{entry.mode:04o}"
    if attr == "link_target":
        return repr(entry.link_target)
    return str(getattr(entry, attr))


def _describe_entry(entry: FileEntry) -> str:
    text = f"{entry.type} {entry.mode:04o} {entry.uid}:{entry.gid}"
    if entry.type == "file":
        text += f" {entry.size} B"
    if entry.link_target is not None:
        text += f" -> {entry.link_target}"
    return text


@dataclass(frozen=True)
class SizeChange:
    before: int
    after: int

    @property
    def delta(self) -> int:
        return self.after - self.before

    @property
    def percent(self) -> float | None:
        """Change relative to ``before`` in percent; ``None`` when ``before`` is 0."""
        if self.before == 0:
            return None
        return 100.0 * self.delta / self.before

    def describe(self) -> str:
        pct = self.percent
        pct_text = "n/a" if pct is None else f"{pct:+.1f}%"
        before, after = _human(self.before), _human(self.after)
        return f"{before} -> {after} ({_signed_human(self.delta)}, {pct_text})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "before": self.before,
            "after": self.after,
            "delta": self.delta,
            "percent": None if self.percent is None else round(self.percent, 2),
        }


def _human(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _signed_human(n: int) -> str:
    return ("+" if n >= 0 else "-") + _human(abs(n))


@dataclass(frozen=True)
class CompareReport:
    """Every difference found, each allowed or not, and the sizes before and after."""

    config: tuple[ConfigDifference, ...] = ()
    files: tuple[FileDifference, ...] = ()
    image_size: SizeChange | None = None
    rootfs_size: SizeChange | None = None

    @property
    def unexpected_config(self) -> tuple[ConfigDifference, ...]:
        return tuple(d for d in self.config if not d.allowed)

    @property
    def unexpected_files(self) -> tuple[FileDifference, ...]:
        return tuple(d for d in self.files if not d.allowed)

    @property
    def equal(self) -> bool:
        """True when every difference found was allowed."""
        return not self.unexpected_config and not self.unexpected_files

    @property
    def identical(self) -> bool:
        """True when nothing differs at all, allowed or not."""
        return not self.config and not self.files

    def to_dict(self) -> dict[str, Any]:
        return {
            "equal": self.equal,
            "identical": self.identical,
            "config": [d.to_dict() for d in self.config],
            "files": [d.to_dict() for d in self.files],
            "image_size": None if self.image_size is None else self.image_size.to_dict(),
            "rootfs_size": None if self.rootfs_size is None else self.rootfs_size.to_dict(),
        }

    def format_text(self, *, max_items: int = 20, show_allowed: bool = False) -> str:
        lines = ["equal apart from declared changes" if self.equal else "UNEXPECTED DIFFERENCES"]
        cfg = self.config if show_allowed else self.unexpected_config
        for c in cfg:
            mark = f"  (allowed: {c.allowed_by})" if c.allowed else ""
            before, after = _jsonable(c.before), _jsonable(c.after)
            lines.append(f"  config {c.name}: {before!r} -> {after!r}{mark}")
        files = self.files if show_allowed else self.unexpected_files
        for f in files[:max_items]:
            mark = f"  (allowed: {f.allowed_by})" if f.allowed else ""
            lines.append(f"  {f.describe()}{mark}")
        if len(files) > max_items:
            lines.append(f"  … and {len(files) - max_items} more file differences")
        allowed_files = len(self.files) - len(self.unexpected_files)
        allowed_cfg = len(self.config) - len(self.unexpected_config)
        if not show_allowed and (allowed_files or allowed_cfg):
            lines.append(
                f"  ({allowed_cfg} config and {allowed_files} file differences were declared)"
            )
        if self.image_size is not None:
            lines.append(f"  image size: {self.image_size.describe()}")
        if self.rootfs_size is not None:
            lines.append(f"  files size: {self.rootfs_size.describe()}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- compare


def _with_noise(allowed: AllowedChanges | None, noise: AllowedChanges | None) -> AllowedChanges:
    result = allowed if allowed is not None else AllowedChanges()
    if noise is not None:
        result = result | noise
    return result


def compare_configs(
    before: ImageConfig,
    after: ImageConfig,
    allowed: AllowedChanges | None = None,
) -> tuple[ConfigDifference, ...]:
    """Differences between two configs, field by field (``Env`` and ``Labels`` by key)."""
    rules = allowed if allowed is not None else AllowedChanges()
    diffs: list[ConfigDifference] = []
    for name in CONFIG_FIELDS:
        b, a = before.field_value(name), after.field_value(name)
        if name in ("Env", "Labels"):
            b_map = cast(dict[str, str], b)
            a_map = cast(dict[str, str], a)
            for key in _ordered_union(b_map, a_map):
                bv, av = b_map.get(key), a_map.get(key)
                if bv != av:
                    diffs.append(
                        ConfigDifference(name, key, bv, av, rules.config_reason(name, key))
                    )
        elif b != a:
            diffs.append(ConfigDifference(name, None, b, a, rules.config_reason(name)))
    return tuple(diffs)


def _ordered_union(first: Mapping[str, Any], second: Mapping[str, Any]) -> list[str]:
    keys = list(first)
    keys.extend(k for k in second if k not in first)
    return keys


_COMPARED_ATTRIBUTES: tuple[str, ...] = ("type", "size", "mode", "uid", "gid", "link_target")


def _normalise_path(path: str) -> str:
    path = "/" + path.strip("/")
    return re.sub(r"/+", "/", path)


def _index(entries: Iterable[FileEntry]) -> dict[str, FileEntry]:
    return {_normalise_path(e.path): e for e in entries}


def compare_filesystems(
    before: Iterable[FileEntry],
    after: Iterable[FileEntry],
    allowed: AllowedChanges | None = None,
    *,
    noise: AllowedChanges | None = BUILD_NOISE,
) -> tuple[FileDifference, ...]:
    """Paths added, removed or changed between two root file system listings, sorted by path.

    ``noise`` (default :data:`BUILD_NOISE`) is allowed on top of ``allowed``; pass ``None``
    to allow nothing beyond ``allowed``.
    """
    rules = _with_noise(allowed, noise)
    b_index, a_index = _index(before), _index(after)
    diffs: list[FileDifference] = []
    for path in sorted(b_index.keys() | a_index.keys()):
        b, a = b_index.get(path), a_index.get(path)
        if b is None and a is not None:
            diffs.append(FileDifference(path, "added", None, a, (), _reason(rules, path, "added")))
        elif a is None and b is not None:
            diffs.append(
                FileDifference(path, "removed", b, None, (), _reason(rules, path, "removed"))
            )
        elif a is not None and b is not None:
            attrs = tuple(
                attr for attr in _COMPARED_ATTRIBUTES if getattr(a, attr) != getattr(b, attr)
            )
            if attrs:
                diffs.append(
                    FileDifference(path, "changed", b, a, attrs, _reason(rules, path, "changed"))
                )
    return tuple(diffs)


def _reason(rules: AllowedChanges, path: str, kind: ChangeKind) -> str | None:
    rule = rules.path_rule(path, kind)
    return None if rule is None else rule.reason


def compare_sizes(before: int, after: int) -> SizeChange:
    return SizeChange(before, after)


def rootfs_size(entries: Iterable[FileEntry]) -> int:
    """Total bytes of the regular files in a listing."""
    return sum(e.size for e in entries if e.type == "file")


def compare_images(
    *,
    config_before: ImageConfig,
    config_after: ImageConfig,
    files_before: Sequence[FileEntry],
    files_after: Sequence[FileEntry],
    allowed: AllowedChanges | None = None,
    size_before: int | None = None,
    size_after: int | None = None,
    noise: AllowedChanges | None = BUILD_NOISE,
) -> CompareReport:
    """The whole comparison of an original image and its fixed rebuild."""
    image_size = None
    if size_before is not None and size_after is not None:
        image_size = SizeChange(size_before, size_after)
    return CompareReport(
        config=compare_configs(config_before, config_after, allowed),
        files=compare_filesystems(files_before, files_after, allowed, noise=noise),
        image_size=image_size,
        rootfs_size=SizeChange(rootfs_size(files_before), rootfs_size(files_after)),
    )
