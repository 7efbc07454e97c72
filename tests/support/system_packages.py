"""Debian packages some tests need, and the one line that says which are missing.

Tests that cannot run without a system package (Docker's registry server, buildah …) skip
(fail under ``CI``); before skipping they call :func:`note_missing`. At the end of the session
``tests/conftest.py`` prints :func:`summary_line`: how many tests were skipped for missing
packages, which packages, and the command that installs them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

__all__ = ["apt_packages", "note_missing", "summary_line"]

# install command -> the missing packages it installs
_MISSING: dict[str, set[str]] = {}
# skip reasons given for missing packages
_REASONS: set[str] = set()
_APT_INSTALL = re.compile(r"apt-get install ([A-Za-z0-9][A-Za-z0-9.+-]*)")


def note_missing(packages: Iterable[str], install: str, reason: str) -> None:
    """``packages`` are missing; ``install`` installs them; tests skip with ``reason``."""
    found = set(packages)
    if found:
        _MISSING.setdefault(install, set()).update(found)
        _REASONS.add(reason)


def apt_packages(parts: Iterable[str]) -> list[str]:
    """The packages named in ``"buildah (apt-get install buildah)"``-style descriptions."""
    return [m.group(1) for part in parts for m in _APT_INSTALL.finditer(part)]


def summary_line(skip_reasons: Sequence[str]) -> str | None:
    """One line for the end of the session, or None when no test was skipped for a package."""
    skipped = sum(1 for text in skip_reasons if any(r in text for r in _REASONS))
    if not skipped or not _MISSING:
        return None
    packages = sorted({p for group in _MISSING.values() for p in group})
    commands = " && ".join(sorted(_MISSING))
    return (
        f"{skipped} test{'s' if skipped != 1 else ''} skipped for missing Debian packages "
        f"({', '.join(packages)}): install them with `{commands}` (root or sudo)"
    )
