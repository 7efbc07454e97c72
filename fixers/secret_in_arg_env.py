"""DF515 secret-in-arg-env: a secret passed in through `ARG` or `ENV`.

## What it does
Reports `ARG` and `ENV` instructions whose name looks like a secret (`NPM_TOKEN`,
`DATABASE_PASSWORD`, `AWS_SECRET_ACCESS_KEY`: a word such as `token`, `password`, `secret`,
`key`, `auth`, `credentials`, `apikey` between underscores). A value written in the Dockerfile
itself is DF526's (an error), unless it cannot be the secret (a path, a URL without
credentials, an on/off word, a key fingerprint: see DF526): reported here, by the name, as
BuildKit's check does, saying there is nothing to rotate.

A build argument without a value that only `RUN`s of its stage read becomes a secret mount:
the `ARG` goes, and each `RUN` after it in the stage and in the stages built `FROM` it (every
one of them saw the variable in its environment: BuildKit hands a stage's build arguments to
the stages built on it) gets `--mount=type=secret,id=NAME,env=NAME`, which sets the same
variable for that `RUN` only, from the secret the build command passes.

## Why is this bad
Build arguments are recorded in the image's history (`docker history` shows them) and `ENV`
values are part of the image's configuration: whoever can pull the image can read them.
BuildKit warns about it (check `SecretsUsedInArgOrEnv`). Secrets belong in a secret mount,
which is never stored in a layer nor in the history.

## Example
```dockerfile
# syntax=docker/dockerfile:1
FROM node:20-alpine
WORKDIR /app
ARG NPM_TOKEN
COPY package.json package-lock.json ./
RUN echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > .npmrc && npm ci && rm .npmrc
```
Use instead (and build with `docker build --secret id=NPM_TOKEN,env=NPM_TOKEN .`):
```dockerfile
# syntax=docker/dockerfile:1
FROM node:20-alpine
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=NPM_TOKEN,env=NPM_TOKEN echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > .npmrc && npm ci && rm .npmrc
```

## Fix safety
Unsafe: the build command must change. `--build-arg NPM_TOKEN=…` no longer reaches the build;
it must pass `--secret id=NPM_TOKEN,env=NPM_TOKEN` (from the environment variable of the same
name; `--secret id=NPM_TOKEN,src=token.txt` from a file; in CI, the build action's `secrets`
input). Without it the variable is unset in the `RUN`, as an `ARG` nobody passes is. The fix's
description, shown in the pull request body, says so.

`env=` in a secret mount came with the Dockerfile frontend 1.10 (BuildKit 0.16). The file's
`# syntax=` directive must name `docker/dockerfile:1` (the newest 1.x) or 1.10 or later; a
file without one gets `# syntax=docker/dockerfile:1@sha256:…`, pinned like DF202's, unless the
configured `min-docker-engine` is 28.0 or later (whose built-in frontend is newer than 1.10).
When that digest is not known (offline, not in cache), or the directive names an older
frontend, the finding is display-only.

Display-only, naming the use found, when the variable is not only read by `RUN`s: an
instruction of the stage, or of a stage built `FROM` it, expands it (`ENV`, `LABEL`, `COPY`, a
`--mount` option …), an `ONBUILD` trigger names it, it is declared before the first `FROM`
too (a `FROM` may read it), declared again later (that declaration is fixed first), or
declared with other names in one `ARG`. Also display-only: an `ENV` (its value is also there
when the container runs), an `ARG` with a default (the default is in the file), Windows
stages. Names that only contain such a word inside another (`KEYBOARD`, `AUTHOR`) and names
with `public` (`PUBLIC_KEY`) are not reported.

## Options
The run-wide `min-docker-engine` (default `"23.0"`) decides whether a `# syntax=` directive
is needed.

## Resolves
hadolint DL3064 · BuildKit check SecretsUsedInArgOrEnv · Trivy: none · Checkov: none.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from dockfix.core.edits import add_syntax_directive
from dockfix.core.fixer import Edit, Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._cmdline import windows_hint
from dockfix.fixers._removals import delete_with_pragmas
from dockfix.fixers._run_flags import flags_text, frontend_problem, frontend_query, pinned_frontend
from dockfix.fixers._secret_names import not_a_secret, secret_pairs
from dockfix.registry.image_lookup import ImageQuery
from dockfix.semantics.context import FixContext
from dockfix.semantics.semantic import descendants
from dockfix.syntax import Dockerfile, Instruction, Stage, arg_pairs

# `env=` in secret mounts: docker/dockerfile 1.10 (BuildKit 0.16); Docker Engine 28.0 is the
# first whose built-in frontend is certainly newer (BuildKit 0.20, frontend 1.14).
_ENV_MOUNT_SINCE = (1, 10)
_ENV_MOUNT_BUILT_IN_SINCE = (28, 0)
_FEATURE = "`env=` in secret mounts"


def _needs_directive(doc: Dockerfile, ctx: FixContext) -> bool:
    return doc.directive("syntax") is None and ctx.min_docker_engine < _ENV_MOUNT_BUILT_IN_SINCE


def _expands(doc: Dockerfile, instr: Instruction, name: str) -> bool:
    """Whether the Dockerfile expands ``$name`` in ``instr`` (a RUN's flags only: its command
    is the shell's)."""
    pattern = re.compile(r"\$\{?" + re.escape(name) + r"\b")
    target = instr.trigger if instr.trigger is not None else instr
    if target.keyword == "RUN" and instr.trigger is None:
        return any(pattern.search(f.value or "") for f in target.flags)
    return bool(pattern.search(doc.source[instr.start : instr.end]))


def _has_secret_env(run: Instruction, name: str) -> bool:
    """Whether the RUN already mounts a secret as ``name``."""
    for value in run.flag_values("mount"):
        fields = dict(part.strip().partition("=")[::2] for part in value.split(","))
        if fields.get("type") == "secret" and fields.get("env") == name:
            return True
    return False


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
    # Only for the pinned `# syntax=` directive that `env=` in a secret mount may need.
    needs_network = True

    def wants_lookups(self, ctx: FixContext) -> bool:
        return ctx.min_docker_engine < _ENV_MOUNT_BUILT_IN_SINCE

    def image_queries(self, doc: Dockerfile, ctx: FixContext) -> Iterator[ImageQuery]:
        if _needs_directive(doc, ctx) and any(
            i.keyword == "ARG" and any(not written for _, _, written in secret_pairs(i))
            for i in doc.instructions
        ):
            yield frontend_query()

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for instr in doc.instructions:
            for name, value, written in secret_pairs(instr):
                if written:
                    continue  # DF526: a value written in the file
                harmless = not_a_secret(name, value) if value else None
                if harmless:
                    kind = (
                        "ENV keeps it in the image config"
                        if instr.keyword == "ENV"
                        else ("ARG keeps it in the image history")
                    )
                    reason = (
                        f"the value written, `{value}`, is {harmless}, not the secret itself: "
                        "BuildKit's check goes by the name alone; nothing to rotate"
                    )
                    yield self.finding(
                        instr, f"`{name}` looks like a secret: {kind}", reason=reason
                    )
                    continue
                if instr.keyword == "ENV":
                    message = f"`{name}` looks like a secret: ENV keeps it in the image config"
                    reason = (
                        "an ENV is also set when the container runs: pass the secret at run "
                        "time, and to the build with `RUN --mount=type=secret,id=…`"
                    )
                    yield self.finding(instr, message, reason=reason)
                    continue
                yield self._arg_finding(doc, ctx, instr, name)

    def _arg_finding(
        self, doc: Dockerfile, ctx: FixContext, instr: Instruction, name: str
    ) -> Finding:
        message = f"`{name}` looks like a secret: ARG keeps it in the image history"
        stage = instr.stage
        if stage is None:
            why = "declared before the first FROM: pass it to the RUNs that need it as a secret"
            return self.finding(instr, message, reason=why + _BY_HAND)
        why = _blocker(doc, stage, instr, name)
        if not why:
            why = windows_hint(doc, stage)
        if not why:
            why = frontend_problem(doc, _ENV_MOUNT_SINCE, _FEATURE)
        directive: str | None = None
        if not why and _needs_directive(doc, ctx):
            engine = ".".join(map(str, ctx.min_docker_engine))
            directive, why = pinned_frontend(
                ctx,
                f"min-docker-engine is {engine}: {_FEATURE} needs `# syntax=docker/dockerfile:1`",
            )
        if why:
            return self.finding(instr, message, reason=why + _BY_HAND)
        runs = _runs_after(doc, stage, instr)
        flag = f"--mount=type=secret,id={name},env={name}"
        edits = [delete_with_pragmas(doc, instr)]
        for run in runs:
            if not _has_secret_env(run, name):
                edits.append(
                    Edit.insert(run.to_source(run.args_start), flags_text(doc, run, [flag]))
                )
        if directive is not None:
            syntax = add_syntax_directive(doc, directive)
            if syntax is not None:
                edits.append(syntax)
        where = _lines(runs)
        description = (
            f"`{name}` as a secret mount (`env={name}`) on {where}; "
            f"the build must now pass `--secret id={name},env={name}` instead of "
            f"`--build-arg {name}`"
        )
        return self.finding(instr, message, Fix.unsafe(*edits, description=description))


_BY_HAND = (
    "; by hand: `RUN --mount=type=secret,id=…,env=…` and `docker build --secret`, the build "
    "command must change too"
)


def _lines(runs: list[Instruction]) -> str:
    if not runs:
        return "no RUN (none reads it): the ARG removed"
    numbers = ", ".join(str(r.start_line) for r in runs)
    return f"the RUN on line {numbers}" if len(runs) == 1 else f"the RUNs on lines {numbers}"


def _after(doc: Dockerfile, stage: Stage, arg: Instruction) -> Iterator[Instruction]:
    """The instructions that see the ARG's value: the rest of its stage, and the stages built
    FROM it (BuildKit hands a stage's state, build arguments included, to them)."""
    yield from stage.instructions[stage.instructions.index(arg) + 1 :]
    for st in descendants(doc, stage):
        yield from st.instructions


def _runs_after(doc: Dockerfile, stage: Stage, arg: Instruction) -> list[Instruction]:
    return [i for i in _after(doc, stage, arg) if i.keyword == "RUN"]


def _blocker(doc: Dockerfile, stage: Stage, arg: Instruction, name: str) -> str:
    """Why the ARG cannot become a secret mount ("" when only RUNs of its stage read it)."""
    if len(arg_pairs(arg)) > 1:
        return "declared with other names in one ARG"
    if arg_pairs(arg)[0][1] is not None:
        return "it has a default value"
    if name in doc.global_args:
        return "also declared before the first FROM, where a FROM may read it"
    for i in _after(doc, stage, arg):
        if i.keyword == "ARG" and any(n == name for n, _ in arg_pairs(i)):
            return f"declared again on line {i.start_line}"
        if _expands(doc, i, name):
            keyword = i.keyword if i.trigger is None else f"ONBUILD {i.trigger.keyword}"
            return f"{keyword} on line {i.start_line} reads it"
    return ""
