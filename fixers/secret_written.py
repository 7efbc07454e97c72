"""DF526 secret-written: a secret-looking `ARG`/`ENV` whose value is written in the Dockerfile.

## What it does
Reports, as an error, `ARG` defaults and `ENV` values written in the Dockerfile for a name
that looks like a secret (`ENV NEXT_PRIVATE_ENCRYPTION_KEY="CAFEBABE"`, `ARG
DB_PASSWORD=changeme`; the names DF515 reads). A value that only names another variable
(`ENV API_TOKEN=$NPM_TOKEN`) is DF515's, and so is one that cannot be the secret itself: an
absolute path of plain names (`ENV POSTGRES_PASSWORD_FILE=/run/secrets/db`, the official
images' convention), a URL with neither credentials nor a query, `true`/`false`/`on`/`off`,
an OpenPGP key fingerprint under a `GPG`/`PGP` name (`ENV GPG_KEY 7169…`, public).

## Why is this bad
The value is in the repository, in its history and in every clone, and in the image: `ENV`
values are in the image configuration (`docker inspect`), `ARG` defaults in its history.
Whoever can read either has the secret; removing the line later does not take it back.
BuildKit warns about it (check `SecretsUsedInArgOrEnv`).

## Example
```dockerfile
FROM node:20-alpine
ENV NEXT_PRIVATE_ENCRYPTION_KEY="CAFEBABE"
```
Use instead: rotate the key, then pass the new one when the container starts (`docker run -e`,
the orchestrator's secrets), and to the build, when the build needs it, with a secret mount:
```dockerfile
FROM node:20-alpine
RUN --mount=type=secret,id=NEXT_PRIVATE_ENCRYPTION_KEY,env=NEXT_PRIVATE_ENCRYPTION_KEY npm run build
```

## Fix safety
No fix (display-only): the value must be rotated (it is already published), and where the new
one comes from (a secret store, the CI job, the container's environment) is a decision this
tool cannot make. Removing the line alone would change the image and leave the secret in the
history.

## Options
None.

## Resolves
hadolint DL3064 · BuildKit check SecretsUsedInArgOrEnv · Trivy: none · Checkov: none.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.core.fixer import Finding, Fixer, Resolves, Severity, register
from dockfix.fixers._secret_names import secret_pairs
from dockfix.semantics.context import FixContext
from dockfix.syntax import Dockerfile


@register
class SecretWritten(Fixer):
    code = "DF526"
    acts_on = frozenset({"ARG", "ENV"})
    severity = Severity.ERROR
    name = "secret-written"
    summary = "A secret-looking ARG/ENV value is written in the Dockerfile"
    resolves = Resolves(
        hadolint=("DL3064",), trivy=(), checkov=(), buildkit=("SecretsUsedInArgOrEnv",)
    )
    security = True

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for instr in doc.instructions:
            for name, _, written in secret_pairs(instr):
                if not written:
                    continue
                stored = "history" if instr.keyword == "ARG" else "configuration"
                message = (
                    f"`{name}` has a secret-looking value written in the Dockerfile: it is in "
                    f"the repository and in the image's {stored}"
                )
                reason = (
                    "rotate it; then pass the new value at run time, and to the build with "
                    "`RUN --mount=type=secret` and `docker build --secret`"
                )
                yield self.finding(instr, message, reason=reason)
