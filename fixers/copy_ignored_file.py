"""DF523 copy-ignored-file: a COPY or ADD source that `.dockerignore` keeps out of the context.

## What it does
Reports each source of a `COPY`/`ADD` from the build context (not `--from`, not a URL or a
heredoc) that the build's ignore file excludes: `<Dockerfile>.dockerignore` next to the
Dockerfile, else `.dockerignore` at the context root, read as BuildKit reads it. A source is
excluded when a pattern matches it or one of its parent directories (`COPY config/app.yaml`
under `config/`). Variables in a source are expanded with the stage's ARG and ENV defaults;
a source that depends on an unknown value is left alone. As BuildKit's check does, nothing is
reported when the ignore file has `!` exceptions (a directory may be excluded while files
inside it are sent), nor for the context root itself (`COPY . .`).

## Why is this bad
What `.dockerignore` excludes is never sent to the builder: copying it fails the build with
"not found" (a single file), or copies less than the line says (a directory or a pattern).
Either the ignore file or the COPY is wrong, and only the author knows which. BuildKit warns
about it (experimental check `CopyIgnoredFile`).

## Example
With a `.dockerignore` holding `*.md` and `config/local*`:
```dockerfile
FROM nginx:1.27-alpine
COPY README.md /usr/share/nginx/html/
```
Use instead (or let `README.md` into the context):
```dockerfile
FROM nginx:1.27-alpine
COPY docs/index.html /usr/share/nginx/html/
```

## Fix safety
No fix (display-only): whether to let the file into the context (and every build after it) or
to stop copying it is the author's choice.

## Options
None.

## Resolves
BuildKit check CopyIgnoredFile (experimental) · hadolint: none · Trivy: none · Checkov: none.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.core.fixer import Finding, Fixer, Resolves, Severity, register
from dockfix.fixers._image_paths import copy_parts
from dockfix.semantics.context import FixContext
from dockfix.semantics.dockerignore import go_clean
from dockfix.semantics.semantic import expand, scope_at
from dockfix.syntax import Dockerfile


@register
class CopyIgnoredFile(Fixer):
    code = "DF523"
    severity = Severity.WARNING
    name = "copy-ignored-file"
    summary = "A COPY or ADD source that .dockerignore excludes"
    resolves = Resolves(buildkit=("CopyIgnoredFile",))
    acts_on = frozenset({"COPY", "ADD"})

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        ignore = ctx.dockerignore
        if ignore is None or ignore.has_exceptions:
            return
        name = ctx.dockerignore_file.name if ctx.dockerignore_file else ".dockerignore"
        for stage in doc.stages:
            for instr in stage.instructions:
                if instr.keyword not in ("COPY", "ADD") or instr.flag("from") is not None:
                    continue
                parts = copy_parts(instr)
                if parts is None:
                    continue
                scope = scope_at(stage, instr)
                for source in parts.sources:
                    if "://" in source or source.startswith("git@"):
                        continue  # ADD of a URL or a Git repository
                    value = expand(source, scope, doc.escape) if "$" in source else source
                    if value is None:
                        continue
                    rel = go_clean(value).lstrip("/")
                    if rel in (".", "") or rel == ".." or rel.startswith("../"):
                        continue
                    if not ignore.matches_or_parent_matches(rel):
                        continue
                    shown = f"`{source}`" if value == source else f"`{source}` (`{value}`)"
                    yield self.finding(
                        instr,
                        f"{shown} is excluded by {name}: the build does not see it",
                        reason=(
                            f"let it into the context (a `!{rel}` line in {name}) or stop "
                            f"copying it; checked the patterns of {name} against `{rel}` and "
                            "its parent directories"
                        ),
                    )
