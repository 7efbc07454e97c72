"""DF518 undefined-var: a `$VAR` that no ARG or ENV defines where BuildKit expands it.

## What it does
Reports a variable used in an instruction whose arguments BuildKit expands itself (`ENV`,
`LABEL`, `COPY`, `ADD` with their `--chown`/`--chmod`, `EXPOSE`, `WORKDIR`, `USER`, `VOLUME`,
`STOPSIGNAL`, and the `--mount` options of a `RUN`) when nothing defines it before that
instruction: no `ARG` or `ENV` of the stage or of the stages it is built `FROM`, not one of
BuildKit's predefined proxy arguments (`HTTP_PROXY`, `no_proxy` …), not `PATH`. A `$VAR` in
the command of a `RUN`, `CMD`, `ENTRYPOINT` or `HEALTHCHECK` is the shell's business and is never reported, nor one after the escape
character (`\\$VAR`), inside single quotes, or in a heredoc body. `${VAR:-default}`,
`${VAR-default}`, `${VAR:+word}` and `${VAR+word}` say what to use when `VAR` is unset and are
not reported (BuildKit's check names them too).

The message says what was checked and, for the two classic mistakes, what happened:
- a global `ARG` (declared before the first `FROM`) that the stage does not declare again:
  only `FROM` lines see it, so here it expands to an empty string;
- a platform argument (`TARGETARCH`, `BUILDPLATFORM` …), which BuildKit defines in the global
  scope only: a stage reads it after `ARG TARGETARCH`.

## Why is this bad
An undefined variable expands to an empty string without an error: `COPY bin/$TARGETARCH/app
/app` copies `bin//app`, `LABEL version=$VERSION` writes an empty label, `WORKDIR
/srv/$APP` works in `/srv/`. The build goes on, and the image is not the one the file
describes. BuildKit warns about it (check `UndefinedVar`).

## Example
```dockerfile
ARG VERSION=1.4.2
FROM alpine:3.20
LABEL org.opencontainers.image.version=$VERSION
```
Use instead:
```dockerfile
ARG VERSION=1.4.2
FROM alpine:3.20
ARG VERSION
LABEL org.opencontainers.image.version=$VERSION
```

## Fix safety
For a global `ARG` or a platform argument the stage does not declare: **unsafe**, `ARG NAME`
inserted after the stage's `FROM` and the `ARG`s right below it (once per stage and name, at
its first use). It changes the build's meaning on purpose: the variable gets the global
default (or the platform) where it was empty, in this instruction and in every later one of
the stage, `RUN` included. A secret-looking name (`NPM_TOKEN`, as DF515 reads names) is not
declared: it would be kept in the image's history. Other variables: no fix (display-only):
whether the base image sets it with `ENV` (BuildKit reads the image's configuration; dockfix
offline does not), whether it is a typo or a missing `ARG`, and which value it should have,
only a person knows.

## Options
None.

## Resolves
BuildKit check UndefinedVar · hadolint: none · Trivy: none · Checkov: none.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.core.edits import insert_after, keyword_style
from dockfix.core.fixer import Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._secret_names import looks_secret
from dockfix.semantics.context import FixContext
from dockfix.semantics.semantic import PLATFORM_ARGS, PROXY_ARGS, scope_at, variable_uses
from dockfix.syntax import Dockerfile, Instruction, Stage

# The instructions whose arguments BuildKit expands (and checks); FROM has its own checks.
_EXPANDED = frozenset(
    {"ENV", "LABEL", "COPY", "ADD", "EXPOSE", "WORKDIR", "USER", "VOLUME", "STOPSIGNAL"}
)
# RUN's command is the shell's; BuildKit expands its `--mount` options only.
_CHECKED = _EXPANDED | {"RUN"}
# BuildKit's default PATH is set in every stage whose image has none.
_ALWAYS_SET = PROXY_ARGS | {"PATH"}


def _used_names(instr: Instruction, escape: str) -> list[str]:
    """The unguarded variables the instruction's expanded words name, once each, in order."""
    texts = [instr.args]  # the command line only: heredoc bodies are not in it
    if instr.keyword == "RUN":
        texts = [f.value or "" for f in instr.flags if f.name == "mount"]
    if instr.keyword in ("COPY", "ADD"):
        texts += [f.value or "" for f in instr.flags if f.name in ("chown", "chmod")]
    names: dict[str, None] = {}
    for text in texts:
        for use in variable_uses(text, escape):
            if not use.guarded:
                names.setdefault(use.name, None)
    return list(names)


def _arg_block_end(stage: Stage) -> Instruction:
    """The stage's FROM, or the last of the ARGs right below it: a new ARG joins them, after
    any whose value may name the variable (declared before them, it would change them)."""
    last = stage.from_instruction
    for instr in stage.instructions:
        if instr.keyword != "ARG":
            break
        last = instr
    return last


def _why(doc: Dockerfile, stage: Stage, name: str) -> tuple[str, bool]:
    """What the variable is, and whether declaring it in the stage gives it a value."""
    where = f"stage `{stage.alias}`" if stage.alias else "this stage"
    if name in doc.global_args and looks_secret(name):
        return (
            f"a global ARG that {where} does not declare again, and it looks like a secret: "
            "declared in the stage, it would be kept in the image's history; pass it with "
            "`RUN --mount=type=secret` instead",
            False,
        )
    if name in doc.global_args:
        return (
            f"a global ARG (declared before the first FROM) that {where} does not declare "
            f"again: only FROM lines see it, here it is empty; `ARG {name}` in the stage gives "
            "it the global value",
            True,
        )
    if name in PLATFORM_ARGS:
        return (
            f"defined by BuildKit in the global scope only: {where} reads it after "
            f"`ARG {name}`, here it is empty",
            True,
        )
    return (
        f"no ARG or ENV defines `${name}` before this line in {where} or the stages it is "
        "built on, and it is not a predefined argument; the base image may set it with ENV "
        "(not known offline)",
        False,
    )


@register
class UndefinedVar(Fixer):
    code = "DF518"
    mentions = ("$",)
    severity = Severity.WARNING
    name = "undefined-var"
    summary = "A variable no ARG or ENV defines where BuildKit expands it"
    resolves = Resolves(buildkit=("UndefinedVar",))
    acts_on = _CHECKED

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for stage in doc.stages:
            declared: set[str] = set()  # names this fixer declares in the stage
            for instr in stage.instructions:
                if instr.keyword not in _CHECKED or "$" not in instr.logical:
                    continue
                scope = scope_at(stage, instr)
                for name in _used_names(instr, doc.escape):
                    if name in scope or name in _ALWAYS_SET:
                        continue
                    message, fixable = _why(doc, stage, name)
                    if not fixable:
                        yield self.finding(
                            instr,
                            f"`${name}` is not defined here",
                            reason=message,
                        )
                        continue
                    if name in declared:
                        yield self.finding(
                            instr,
                            f"`${name}` is not defined here",
                            reason=f"{message}; the fix of its first use in the stage declares it",
                        )
                        continue
                    declared.add(name)
                    line = f"{keyword_style(doc, 'ARG')} {name}"
                    edit = insert_after(doc, _arg_block_end(stage), [line])
                    yield self.finding(
                        instr,
                        f"`${name}` is not defined here, {message}",
                        Fix.unsafe(
                            edit,
                            description=f"declare `{line}` at the top of the stage",
                            rationale=(
                                f"`${name}` expanded to an empty string in this stage; "
                                "declared, it takes the value the build gives it."
                            ),
                        ),
                    )
