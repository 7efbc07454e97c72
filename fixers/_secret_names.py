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
# Values that name where a secret is, or switch a feature, and cannot be the secret itself:
# an absolute path of plain names (`POSTGRES_PASSWORD_FILE=/run/secrets/db`; base64 text has
# `+` or `=`), a URL with neither credentials nor a query, an on/off word.
_PATH = re.compile(r"^(?:/[\w.-]+)+/?$|^[A-Za-z]:\\[\w.\\ -]*$")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/@?#\s]+(?:/[^?#@\s]*)?$")
_SWITCH = re.compile(r"(?i)^(?:true|false|yes|no|on|off|enabled|disabled)$")
# An OpenPGP key's fingerprint (python's official image: `ENV GPG_KEY 7169…`) is public:
# a long key ID or a fingerprint, `0x` in front or not (rabbitmq's `OPENSSL_PGP_KEY_IDS`),
# or in gpg's groups of four.
_PGP_NAME = lazy_re(r"(?i)(?:^|_)(?:gpg|pgp)(?:_|$)")
_KEY_ID = (
    r"(?:(?:0x)?(?:[0-9A-Fa-f]{16}|[0-9A-Fa-f]{40})|[0-9A-Fa-f]{4}(?: {1,2}[0-9A-Fa-f]{4}){9})"
)
_FINGERPRINTS = re.compile(rf"^{_KEY_ID}(?:[ ,]+{_KEY_ID})*$")


def looks_secret(name: str) -> bool:
    return bool(_SECRET_WORD.search(name)) and not _PUBLIC.search(name)


def not_a_secret(name: str, value: str) -> str | None:
    """What the value written for a secret-looking name is when it cannot be the secret
    itself (a path, a URL, an on/off switch, a key fingerprint); None when it may be."""
    if _PATH.match(value):
        return "a path"
    if _URL.match(value):
        return "a URL without credentials"
    if _SWITCH.match(value):
        return "an on/off switch"
    if _PGP_NAME.search(name) and _FINGERPRINTS.match(value):
        return "an OpenPGP key fingerprint, which is public"
    return None


def secret_pairs(instr: Instruction) -> Iterator[tuple[str, str | None, bool]]:
    """(name, value, whether the secret is written in the file) of each secret-looking name
    an ARG or ENV sets; a value that only names another variable, or that cannot be the
    secret itself (`not_a_secret`), is not the secret written."""
    if instr.keyword == "ARG":
        pairs: list[tuple[str, str | None]] = arg_pairs(instr)
    elif instr.keyword == "ENV":
        pairs = [(k, v) for k, v in env_pairs(instr)]
    else:
        return
    for name, value in pairs:
        if looks_secret(name):
            written = bool(value) and not _VARIABLE.match(value or "")
            yield name, value, written and not_a_secret(name, value or "") is None
