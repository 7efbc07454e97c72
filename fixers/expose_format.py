"""DF513 expose-format: `EXPOSE` with a host port or IP (`8080:80`) or an upper-case protocol.

## What it does
Rewrites each `EXPOSE` port that carries a publishing part (`8080:80`, `127.0.0.1:8080:80`)
as the container port alone (`80`), and an upper-case protocol (`80/TCP`) in lower case.

## Why is this bad
`EXPOSE` documents the ports the container listens on; which host port they are published
on is decided by `docker run -p`, never by the image. BuildKit keeps only the container
port of `8080:80` and warns (check `ExposeInvalidFormat`), so the host port written there
misleads the reader; hadolint cannot even parse such a file. Protocols are lower case
everywhere else (check `ExposeProtoCasing`).

## Example
```dockerfile
FROM httpd:2.4
EXPOSE 8080:80 53/UDP
```
becomes, with `--unsafe-fixes` (without it, `EXPOSE 80 53/UDP`):
```dockerfile
FROM httpd:2.4
EXPOSE 80 53/udp
```

## Fix safety
Safe for the host port and IP: BuildKit exposes the container port only (`80/tcp`), the
same as before. **Unsafe** for the protocol's case: the image's `ExposedPorts` key changes
from `53/UDP` to `53/udp`. Ports written with variables are left alone, except the protocol
written after a port that is one variable (`${PORT}/TCP`), lower-cased the same way.

## Options
None.

## Resolves
BuildKit checks ExposeInvalidFormat, ExposeProtoCasing · hadolint: none (DL1000: it
cannot parse the file) · Trivy: none · Checkov: none.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from dockfix.core.fixer import Edit, Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.semantics.context import FixContext
from dockfix.syntax import Dockerfile, Instruction

# [ip:][hostPort]:containerPort[/proto], ports and ranges as digits.
_PUBLISHED = re.compile(r"(?:.*:)?[0-9-]*:([0-9]+(?:-[0-9]+)?(?:/[A-Za-z]+)?)")
_PROTO = re.compile(r"[0-9]+(?:-[0-9]+)?/([A-Za-z]+)")
# A port that is one variable (`$PORT`, `${PORT:-80}`), then a written protocol.
_VARIABLE_PORT_PROTO = re.compile(r"(\$[A-Za-z_][A-Za-z0-9_]*/|\$\{[^}/]*\}/)([A-Za-z]+)")


@register
class ExposeFormat(Fixer):
    code = "DF513"
    severity = Severity.WARNING
    name = "expose-format"
    summary = "EXPOSE with a host port or an upper-case protocol"
    resolves = Resolves(buildkit=("ExposeInvalidFormat", "ExposeProtoCasing"))

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for instr in doc.instructions:
            if instr.keyword != "EXPOSE" or instr.json_args is not None:
                continue
            for word, start, end in instr.args_words():
                if "$" in word:
                    finding = self._variable_port(instr, word, start, end)
                    if finding is not None:
                        yield finding
                    continue
                published = _PUBLISHED.fullmatch(word)
                proto = _PROTO.fullmatch(word)
                s, e = instr.source_span(start, end)
                if published:
                    port = published.group(1)  # its protocol's case is the next round's
                    message = f"`EXPOSE {word}`: the image exposes `{port}`, not a host port"
                    fix = Fix.safe(Edit(s, e, port), description=f"`{port}`")
                elif proto and not proto.group(1).islower():
                    message = f"`EXPOSE {word}`: write the protocol in lower case"
                    fix = Fix.unsafe(Edit(s, e, word.lower()), description=f"`{word.lower()}`")
                else:
                    continue
                finding = self.finding(instr, message, fix)
                finding.buildkit = ("ExposeInvalidFormat",) if published else ("ExposeProtoCasing",)
                yield finding

    def _variable_port(self, instr: Instruction, word: str, start: int, end: int) -> Finding | None:
        """An upper-case protocol written after a port held by a variable (`${PORT}/TCP`):
        the protocol is text, whatever the port expands to."""
        m = _VARIABLE_PORT_PROTO.fullmatch(word)
        if m is None or m.group(2).islower():
            return None
        lower = m.group(1) + m.group(2).lower()
        s, e = instr.source_span(start, end)
        finding = self.finding(
            instr,
            f"`EXPOSE {word}`: write the protocol in lower case",
            Fix.unsafe(Edit(s, e, lower), description=f"`{lower}`"),
        )
        finding.buildkit = ("ExposeProtoCasing",)
        return finding
