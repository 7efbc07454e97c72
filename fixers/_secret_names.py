"""Which variable names look like secrets (`NPM_TOKEN`, `DB_PASSWORD`): DF515 reports them in
ARG and ENV, DF518 does not declare one in a stage, and DF528 never writes one into an ENV."""

from __future__ import annotations

from dockfix.fixers._lazy import lazy_re

_SECRET_WORD = lazy_re(
    r"(?i)(?:^|_)(?:apikey|api_key|auth|credential|credentials|key|passwd|password|pat|"
    r"secret|token)(?:_|$)"
)
_PUBLIC = lazy_re(r"(?i)(?:^|_)public(?:_|$)")


def looks_secret(name: str) -> bool:
    return bool(_SECRET_WORD.search(name)) and not _PUBLIC.search(name)
