"""DF529 invalid-label-key: a LABEL key outside the label key format.

## What it does
Reports each `LABEL` key (in `ONBUILD LABEL` too) that breaks the format hadolint's DL3048
checks, naming the rule it breaks: it must start with a lower-case letter and end with a
lower-case letter or a digit; it may hold only lower-case letters, digits, `.`, `-`, `_` and
`/` (hadolint 2.15 accepts the last two, checked against the binary); it may not hold `..` or
`--`; and it may not be in a namespace Docker reserves for itself
(`com.docker.*`, `io.docker.*`, `org.dockerproject.*`), except the labels Docker asks a Docker
Desktop extension to set (`com.docker.desktop.extension.*`, `com.docker.extension.*`), which
hadolint reports too. Quotes around a key are not part of it.
A key written with a variable (`LABEL $KEY=…`) is not judged: its value is only known at build
time (hadolint reports it, since `$` is not a key character). hadolint 2.15 does not look
inside `ONBUILD`; dockfix does, as the key reaches the images built from this one.

## Why is this bad
Label keys are read by other tools (registries, scanners, `docker inspect --format`,
Kubernetes tooling): the reverse-DNS, lower-case convention keeps keys of different vendors
apart and predictable. A mixed-case key (`Version`, `Build.Date`) is a key
another tool will not find under the name it looks for, and keys in Docker's own namespaces
may clash with the ones Docker sets.

## Example
```dockerfile
FROM python:3.12-slim
LABEL Maintainer="ops@example.com" com.docker.compose.project=shop
```
Use instead:
```dockerfile
FROM python:3.12-slim
LABEL org.opencontainers.image.authors="ops@example.com" com.example.project=shop
```

## Fix safety
No fix (display-only): renaming a label changes the image's metadata, and the tools and
queries that read the old key (`docker inspect`, `--filter label=…`) must change with it.

## Options
None.

## Resolves
hadolint DL3048 · Trivy: none · Checkov: none.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.core.fixer import Finding, Fixer, Resolves, Severity, register
from dockfix.semantics.context import FixContext
from dockfix.semantics.semantic import unquote_word
from dockfix.syntax import Dockerfile, Instruction, env_pairs

_RESERVED_NAMESPACES = ("com.docker.", "io.docker.", "org.dockerproject.")
# Keys in Docker's namespace that Docker asks for: an extension's metadata, which Docker
# Desktop reads from these labels (the Extensions SDK's image labels).
_DOCKER_ASKS_FOR = ("com.docker.desktop.extension.", "com.docker.extension.")
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_DIGITS = frozenset("0123456789")
_KEY_CHARS = _LOWER | _DIGITS | frozenset(".-_/")


def key_problem(key: str) -> str | None:
    """Which part of the label key format ``key`` breaks, None when it keeps them all."""
    if not key or key[0] not in _LOWER:
        return "it must start with a lower-case letter"
    bad = sorted({c for c in key if c not in _KEY_CHARS})
    if bad:
        shown = " ".join(f"`{c}`" for c in bad)
        return f"only lower-case letters, digits, `.`, `-`, `_` and `/` are allowed, not {shown}"
    if key[-1] not in _LOWER | _DIGITS:
        return "it must end with a lower-case letter or a digit"
    if ".." in key or "--" in key:
        return "it may not hold `..` or `--`"
    for namespace in _RESERVED_NAMESPACES:
        if key.startswith(namespace) and not key.startswith(_DOCKER_ASKS_FOR):
            return f"the namespace `{namespace[:-1]}` is reserved for Docker"
    return None


def label_instructions(doc: Dockerfile) -> Iterator[tuple[Instruction, Instruction]]:
    """(the LABEL, the line it is reported at): `ONBUILD LABEL` at its ONBUILD."""
    for instr in doc.instructions:
        if instr.keyword == "LABEL":
            yield instr, instr
        elif instr.trigger is not None and instr.trigger.keyword == "LABEL":
            yield instr.trigger, instr


@register
class InvalidLabelKey(Fixer):
    code = "DF529"
    severity = Severity.STYLE  # hadolint's level for DL3048
    name = "invalid-label-key"
    summary = "A LABEL key breaks the label key format"
    resolves = Resolves(hadolint=("DL3048",))
    acts_on = frozenset({"LABEL"})

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for label, at in label_instructions(doc):
            for raw, _ in env_pairs(label):
                key = unquote_word(raw)
                if "$" in key:
                    continue
                problem = key_problem(key)
                if problem is None:
                    continue
                yield self.finding(
                    at,
                    f"label key `{key}`: {problem}",
                    reason="renaming a label changes the image's metadata; the tools and "
                    "queries reading the old key must change with it",
                )
