"""Import-time helpers: module-level regexes compiled on first use.

Compiling every fixer's patterns at import cost ~12 ms of the one-file start-up budget, though
most runs use only a few of them.
"""

from __future__ import annotations

import re
from typing import Any, cast

# The methods fixers call on a pattern; the first access to any attribute compiles the pattern
# and binds these on the instance, so later calls cost a plain attribute lookup.
_METHODS = ("search", "match", "fullmatch", "sub", "subn", "finditer", "findall", "split")


class _LazyPattern:
    __slots__ = ("_args", *_METHODS)

    def __init__(self, pattern: str, flags: int) -> None:
        self._args = (pattern, flags)

    def __getattr__(self, name: str) -> Any:
        compiled = re.compile(*self._args)
        for method in _METHODS:
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return repr(re.compile(*self._args))


def lazy_re(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """A stand-in for ``re.compile(pattern, flags)`` that compiles when first used."""
    return cast("re.Pattern[str]", _LazyPattern(pattern, flags))
