"""BuildKit's own parser as the last gate before a rewritten file is written.

The PyPI package ``dockerfile`` embeds moby/buildkit's Go parser. It is optional at run time
(``pip install dockfix[buildkit]``); dockfix's own parser, which follows the same rules, is
always applied first. The test suite always has it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _module() -> Any:
    try:
        import dockerfile
    except ImportError:
        return None
    return dockerfile


def available() -> bool:
    return _module() is not None


def go_runtime_loaded() -> bool:
    """Whether this process has loaded BuildKit's parser. Its Go runtime starts threads when
    it loads and does not survive ``fork()``: a forked child that calls it can hang."""
    import sys

    return "dockerfile" in sys.modules


def buildkit_rejects(text: str) -> str | None:
    """BuildKit's error message for a file it rejects; None when it accepts it or is absent."""
    mod = _module()
    if mod is None:
        return None
    try:
        mod.parse_string(text)
    except mod.GoParseError as exc:
        return str(exc)
    return None
