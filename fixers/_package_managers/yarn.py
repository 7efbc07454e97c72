"""Which Yarn a project runs, from its files and the commands that switch releases."""

from __future__ import annotations

import re
from typing import NamedTuple

from dockfix.fixers._lazy import lazy_re


class YarnRelease(NamedTuple):
    """Which Yarn a project runs: Yarn 1 ("classic") and Yarn 2+ ("berry") share only the name."""

    berry: bool
    major: int | None  # None: a Yarn 2+ whose release nothing names
    source: str  # what says so, for messages


_PACKAGE_MANAGER_YARN = lazy_re(r'"packageManager"\s*:\s*"yarn@([^"]*)"')
_YARN_PATH = lazy_re(r"^\s*yarnPath\s*:\s*['\"]?\S*?yarn-(\d+)[\w.-]*\.c?js", re.MULTILINE)
_GLOBAL_CACHE = lazy_re(r"^\s*enableGlobalCache\s*:\s*['\"]?(true|false)\b", re.MULTILINE)
# `yarn set version` / corepack names for releases: only `classic` says which major.
_BERRY_TAGS = frozenset({"berry", "stable", "latest", "canary", "rc"})


def _named_release(spec: str, source: str) -> YarnRelease | None:
    """The release a version specifier names (`1.22.19`, `4.5.0`, `classic`, `stable`)."""
    head = spec.split(".", 1)[0].split("+", 1)[0]
    if spec == "classic":
        return YarnRelease(False, 1, source)
    if head.isdigit():
        major = int(head)
        return YarnRelease(major >= 2, major, source)
    if spec in _BERRY_TAGS:
        return YarnRelease(True, None, source)
    return None


def yarn_release(
    package_json: str | None, yarnrc_yml: str | None, yarn_lock: str | None
) -> YarnRelease | None:
    """The Yarn a project's files ask for; None when they do not say."""
    m = _PACKAGE_MANAGER_YARN.search(package_json or "")
    if m is not None:
        found = _named_release(m.group(1), f"package.json asks for `yarn@{m.group(1)}`")
        if found is not None:
            return found
    if yarnrc_yml is not None:
        m = _YARN_PATH.search(yarnrc_yml)
        if m is not None:
            return YarnRelease(True, int(m.group(1)), "the `yarnPath` of .yarnrc.yml")
        return YarnRelease(True, None, "the project has a .yarnrc.yml")  # Yarn 1 ignores it
    if yarn_lock is not None and "__metadata:" in yarn_lock:
        return YarnRelease(True, None, "yarn.lock is in the Yarn 2+ format")
    if yarn_lock is not None and "yarn lockfile v1" in yarn_lock:
        return YarnRelease(False, 1, "yarn.lock is in the Yarn 1 format")
    return None


def yarn_switch(argv: list[str]) -> YarnRelease | str | None:
    """What a command does to the Yarn that later commands run: a release it installs,
    "corepack" when it lets corepack choose (from package.json), None when nothing."""
    if argv[:1] == ["corepack"]:
        names = [a for a in argv[2:] if not a.startswith("-")]
        if argv[1:2] == ["enable"] and (not names or "yarn" in names):
            return "corepack"
        if argv[1:2] in (["prepare"], ["use"], ["install"]):
            for name in names:
                if name.startswith("yarn@"):
                    return _named_release(name[5:], f"`corepack {argv[1]} {name}`") or "corepack"
        return None
    if argv[:3] == ["yarn", "set", "version"] or argv[:3] == [
        "yarn",
        "policies",
        "set-version",
    ]:
        spec = next((a for a in argv[3:] if not a.startswith("-")), "")
        return _named_release(spec, f"`{' '.join(argv[:3])} {spec}`") or "corepack"
    return None


def yarn_global_cache(release: YarnRelease, yarnrc_yml: str | None) -> bool | None:
    """Whether Yarn 2+ caches in its global folder (4 and later, unless `enableGlobalCache:
    false`) or in the project's `.yarn/cache` (2 and 3); None when that is unknown."""
    m = _GLOBAL_CACHE.search(yarnrc_yml or "")
    if m is not None:
        return m.group(1) == "true"
    if release.major is None:
        return None
    return release.major >= 4
