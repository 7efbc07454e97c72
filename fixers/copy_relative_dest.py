"""DF525 copy-relative-dest: `COPY` to a relative destination in a stage without `WORKDIR`.

## What it does
Finds `COPY` instructions whose destination is relative (`app.jar`, `.`, `config/`) in a
stage where no `WORKDIR` was set (neither in the stage nor in the stages it is built `FROM`),
and writes the absolute path BuildKit resolves it to: `/app.jar` from `scratch`, distroless
and official images that set no working directory, `/go/app` on `golang`. A trailing `/` (or
a destination of `.`) keeps meaning "into this directory".

## Why is this bad
Without a `WORKDIR` in the file, a relative destination is joined to the working directory
of the base image, which the Dockerfile does not show and the image's maintainers may change
in any release: the files land elsewhere, and the `CMD` that names `/app.jar` no longer finds
them. hadolint reports it (DL3045).

## Example
```dockerfile
FROM eclipse-temurin:21-jre
COPY --from=build /workspace/target/app.jar app.jar
ENTRYPOINT ["java", "-jar", "/app.jar"]
```
Use instead:
```dockerfile
FROM eclipse-temurin:21-jre
COPY --from=build /workspace/target/app.jar /app.jar
ENTRYPOINT ["java", "-jar", "/app.jar"]
```

## Fix safety
Safe: the path written is the one BuildKit copies to today, so the image is the same. The
working directory is taken from `scratch` (`/`), the distroless images (`/`) and a table of
official images whose image configuration is known (`/` for `debian`, `node`, `python`,
`nginx`, `eclipse-temurin` …, `/go` for `golang`, `/data` for `redis`). **Unsafe** when the
base image is named by an ARG (`FROM ${BASE}`, read at its default): a build passing another
`--build-arg BASE=…` copies into that image's working directory.

Display-only, naming what was checked, when the working directory is not known offline: any
other base image may set its own (its image configuration's `WorkingDir`), so the path cannot
be written for it; set `WORKDIR /…` first, or write the absolute destination yourself. Also
display-only: destinations with quotes, variables or `.`/`..` segments, the JSON form,
`ONBUILD COPY` (it runs in an image built later, in that image's directory) and Windows
stages. Like hadolint, `ADD` is not reported, and any earlier `WORKDIR` in the stage's
chain (even a relative one) is taken as setting the directory.

## Options
None.

## Resolves
hadolint DL3045 · Trivy: none · Checkov: none.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from dockfix.core.fixer import Edit, Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._cmdline import windows_hint
from dockfix.fixers._from_args import base_chosen_by_arg
from dockfix.fixers._image_paths import base_image, image_workdir_at
from dockfix.semantics.context import FixContext
from dockfix.semantics.memo import per_tree
from dockfix.semantics.semantic import resolve_path, stage_chain, unquote_word, workdir_at
from dockfix.syntax import Dockerfile, Instruction, Stage

# A destination word read as written: no quotes, variables, wildcards or escapes.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_./@+,:=-]+")
# What hadolint takes as absolute: `/…`, `C:\…`, `C:/…`, or a variable.
_ABSOLUTE = re.compile(r"/|.:[\\/]|\$")


def _is_relative(dest: str) -> bool:
    return bool(dest) and not _ABSOLUTE.match(unquote_word(dest))


@per_tree
def _workdir_set(doc: Dockerfile, stage: Stage) -> frozenset[int]:
    """Lines of the stage's instructions that come after a WORKDIR of its chain."""
    lines: set[int] = set()
    seen = False
    for st in stage_chain(stage):
        for i in st.instructions:
            if st is stage and seen:
                lines.add(i.start_line)
            seen = seen or i.keyword == "WORKDIR"
    return frozenset(lines)


def _dest_word(instr: Instruction) -> tuple[str, int, int] | None:
    """The destination word of a shell-form COPY with its logical offsets."""
    words = instr.args_words()
    if instr.heredocs or len(words) < 2:
        return None
    return words[-1]


def _absolute(dest: str, workdir: str) -> str | None:
    """The absolute destination BuildKit copies ``dest`` to; None for `.`/`..` segments."""
    into_dir = dest in (".", "./") or dest.endswith("/")
    inner = dest[2:] if dest.startswith("./") else dest
    if any(part in (".", "..") for part in inner.split("/")) and dest != ".":
        return None
    target = resolve_path(inner if inner else ".", workdir)
    if target is None:
        return None
    return target if target == "/" or not into_dir else target + "/"


@register
class CopyRelativeDest(Fixer):
    code = "DF525"
    acts_on = frozenset({"COPY"})
    severity = Severity.WARNING
    name = "copy-relative-dest"
    summary = "COPY to a relative destination with no WORKDIR: it depends on the base image"
    resolves = Resolves(hadolint=("DL3045",), trivy=(), checkov=())

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for instr in doc.instructions:
            target = instr.trigger if instr.trigger is not None else instr
            stage = instr.stage
            if target.keyword != "COPY" or stage is None:
                continue
            if instr.start_line in _workdir_set(doc, stage):
                continue
            finding = self._finding(doc, stage, instr, target)
            if finding is not None:
                yield finding

    def _finding(
        self, doc: Dockerfile, stage: Stage, instr: Instruction, copy: Instruction
    ) -> Finding | None:
        if copy.json_args is not None:
            dest = copy.json_args[-1] if len(copy.json_args) >= 2 else ""
            if not _is_relative(dest):
                return None
            return self.finding(
                instr, _message(dest), reason="JSON form: write the absolute destination by hand"
            )
        word = _dest_word(copy)
        if word is None or not _is_relative(word[0]):
            return None
        dest, start, end = word
        quoted = any(q in copy.args for q in "'\"")
        message = _message("" if quoted else dest)
        if instr is not copy:
            reason = "ONBUILD COPY runs in the working directory of the image built FROM this one"
            return self.finding(instr, message, reason=reason)
        windows = windows_hint(doc, stage)
        if windows:
            return self.finding(instr, message, reason=f"{windows}: its directory is not known")
        if quoted or not _PLAIN_PATH.fullmatch(dest) or doc.escape in dest:
            return self.finding(instr, message, reason="the destination holds quotes or variables")
        workdir = image_workdir_at(doc, stage, instr)
        if workdir is None:
            return self.finding(instr, message, reason=_unknown_workdir(doc, stage))
        absolute = _absolute(dest, workdir)
        if absolute is None:
            return self.finding(instr, message, reason="the destination has `.` or `..` parts")
        s, e = instr.source_span(start, end)
        edit = Edit(s, e, absolute)
        variable = base_chosen_by_arg(doc, stage)
        if variable and workdir_at(doc, stage, instr, None) is None:
            fix = Fix.unsafe(
                edit,
                description=f"destination `{absolute}`, in the default image of ARG {variable}",
                rationale=(
                    f"`{absolute}` is the WORKDIR of ARG {variable}'s default image; a build "
                    f"given another `--build-arg {variable}` copies into that image's WORKDIR."
                ),
            )
        else:
            fix = Fix.safe(edit, description=f"destination `{absolute}`")
        return self.finding(instr, message, fix)


def _message(dest: str) -> str:
    named = f" `{dest}`" if dest else ""
    return f"`COPY` to the relative destination{named} with no WORKDIR set in the stage"


def _unknown_workdir(doc: Dockerfile, stage: Stage) -> str:
    base = base_image(doc, stage)
    name = f"`{base.reference}`" if base is not None else "the base image"
    return (
        f"no WORKDIR in the stage or the stages it is built from, and {name} may set its own "
        "(its image configuration is not known offline): add `WORKDIR /…` or write the "
        "absolute destination"
    )
