"""DF515 secret-in-arg-env: a secret passed in through `ARG` or `ENV`.

## What it does
Reports `ARG` and `ENV` instructions whose name looks like a secret (`NPM_TOKEN`,
`DATABASE_PASSWORD`, `AWS_SECRET_ACCESS_KEY`: a word such as `token`, `password`, `secret`,
`key`, `auth`, `credentials`, `apikey` between underscores), saying so plainly when the
Dockerfile itself holds a value for it.

## Why is this bad
Build arguments are recorded in the image's history (`docker history` shows them) and `ENV`
values are part of the image's configuration: whoever can pull the image can read them, and
a value written in the Dockerfile is in the repository too. BuildKit warns about it (check
`SecretsUsedInArgOrEnv`). Secrets belong in a secret mount, which is never stored in a layer:
`RUN --mount=type=secret,id=npm_token,env=NPM_TOKEN npm ci` with
`docker build --secret id=npm_token,env=NPM_TOKEN`.

## Example
```dockerfile
FROM node:20-alpine
ARG NPM_TOKEN
RUN echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > .npmrc && npm ci
```
Use instead:
```dockerfile
FROM node:20-alpine
RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci
```

## Fix safety
No fix (display-only): a secret mount needs the build command to pass the secret
(`docker build --secret …`, the CI job's settings), which this tool cannot change; a value
written in the Dockerfile must also be rotated, as it is already in the repository's history.
Names that only contain such a word inside another (`KEYBOARD`, `AUTHOR`) and names with
`public` (`PUBLIC_KEY`) are not reported.

## Options
None.

## Resolves
hadolint DL3064 · BuildKit check SecretsUsedInArgOrEnv · Trivy: none · Checkov: none.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from dockfix.context import FixContext
from dockfix.fixer import Finding, Fixer, Resolves, Severity, register
from dockfix.fixers._secret_names import looks_secret
from dockfix.syntax import Dockerfile, Instruction, arg_pairs, env_pairs

_VARIABLE = re.compile(r"^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$")


def _pairs(instr: Instruction) -> list[tuple[str, str | None]]:
    if instr.keyword == "ARG":
        return arg_pairs(instr)
    return [(k, v) for k, v in env_pairs(instr)]


@register
class SecretInArgEnv(Fixer):
    code = "DF515"
    severity = Severity.WARNING
    name = "secret-in-arg-env"
    summary = "A secret passed through ARG or ENV is stored in the image"
    resolves = Resolves(
        hadolint=("DL3064",), trivy=(), checkov=(), buildkit=("SecretsUsedInArgOrEnv",)
    )
    security = True

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for instr in doc.instructions:
            if instr.keyword not in ("ARG", "ENV"):
                continue
            for name, value in _pairs(instr):
                if not looks_secret(name):
                    continue
                stored = "the image history" if instr.keyword == "ARG" else "the image config"
                literal = bool(value) and not _VARIABLE.match(value or "")
                if literal:
                    message = (
                        f"`{name}` has a secret-looking value written in the Dockerfile: it is "
                        f"in the repository and in {stored}"
                    )
                    reason = "rotate it, then pass it with a secret mount (`--mount=type=secret`)"
                else:
                    message = f"`{name}` looks like a secret: {instr.keyword} keeps it in {stored}"
                    reason = (
                        "use `RUN --mount=type=secret,id=…` and `docker build --secret`; the "
                        "build command must change too"
                    )
                yield self.finding(instr, message, reason=reason)
