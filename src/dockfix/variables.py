"""Build-time variable expansion (``$V``, ``${V}``, ``${V:-d}``, ``${V-d}``, ``${V:+w}``, ``${V+w}``).

Only what fixers need to reason about a value's default: the result is the value the build
would see without ``--build-arg`` overrides, or None when it depends on an unknown variable.
"""

from __future__ import annotations

import re
from collections import ChainMap
from collections.abc import Mapping, MutableMapping
from typing import cast

_VAR = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-+])?(?P<word>[^}]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


def expand(text: str, variables: Mapping[str, str | None], escape: str = "\\") -> str | None:
    """``text`` with variables replaced by their values; None where one is unknown."""
    unknown = False

    def repl(m: re.Match[str]) -> str:
        nonlocal unknown
        if m.start() > 0 and text[m.start() - 1] == escape:
            return m.group(0)
        name = m.group("braced") or m.group("plain")
        op = m.group("op")
        value = variables.get(name)
        is_set = name in variables and value is not None
        if op is None:
            if not is_set:
                unknown = True
                return ""
            return value or ""
        word = m.group("word") or ""
        if op == ":-":
            return value if is_set and value else (expand(word, variables, escape) or "")
        if op == "-":
            return value or "" if is_set else (expand(word, variables, escape) or "")
        if op == ":+":
            return word if is_set and value else ""
        return word if is_set else ""

    out = _VAR.sub(repl, text)
    return None if unknown else out


def has_variables(text: str) -> bool:
    return "$" in text and _VAR.search(text) is not None


def layered(*scopes: Mapping[str, str | None]) -> MutableMapping[str, str | None]:
    """The scopes as one, the first winning; what is set goes into a new first layer. A view,
    not a copy: a stage's variables are looked at from every instruction, and a copy of them
    each time made a file's cost grow with its length times its number of variables."""
    layers = [cast("MutableMapping[str, str | None]", s) for s in scopes]
    return ChainMap({}, *layers)
