"""Which variable names look like secrets (`NPM_TOKEN`, `DB_PASSWORD`): DF515 reports them in
ARG and ENV (DF526 when the file writes their value), DF518 does not declare one in a stage,
and DF528 never writes one into an ENV."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from dockfix.fixers._lazy import lazy_re
from dockfix.syntax import arg_pairs, env_pairs

if TYPE_CHECKING:
    from dockfix.syntax import Instruction

_SECRET_WORD = lazy_re(
    r"(?i)(?:^|_)(?:apikey|api_key|auth|credential|credentials|key|passwd|password|pat|"
    r"secret|token)(?:_|$)"
)
_PUBLIC = lazy_re(r"(?i)(?:^|_)public(?:_|$)")
_VARIABLE = re.compile(r"^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$")


def looks_secret(name: str) -> bool:
    return bool(_SECRET_WORD.search(name)) and not _PUBLIC.search(name)


def secret_pairs(instr: Instruction) -> Iterator[tuple[str, str | None, bool]]:
    """(name, value, whether the value is written in the file) of each secret-looking name
    an ARG or ENV sets; a value that only names another variable is not written."""
    if instr.keyword == "ARG":
        pairs: list[tuple[str, str | None]] = arg_pairs(instr)
    elif instr.keyword == "ENV":
        pairs = [(k, v) for k, v in env_pairs(instr)]
    else:
        return
    for name, value in pairs:
        if looks_secret(name):
            yield name, value, bool(value) and not _VARIABLE.match(value or "")
