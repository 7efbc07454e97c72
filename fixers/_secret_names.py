"""Variable names that look like secrets: read by DF515 (an ARG/ENV keeps them in the image)
and by the rules that write an ENV (DF528 must not write a secret into the image)."""

from __future__ import annotations

from dockfix.fixers._lazy import lazy_re

_SECRET_WORD = lazy_re(
    r"(?i)(?:^|_)(?:apikey|api_key|auth|credential|credentials|key|passwd|password|pat|"
    r"secret|token)(?:_|$)"
)
_PUBLIC = lazy_re(r"(?i)(?:^|_)public(?:_|$)")


def looks_secret(name: str) -> bool:
    return bool(_SECRET_WORD.search(name)) and not _PUBLIC.search(name)
