"""DF508 copy-dest-slash: `COPY a b /dest` with several sources and no `/` after the dest.

## What it does
Finds a `COPY` of two or more sources whose destination does not end with `/`, and adds the
`/` (shell form and JSON form).

## Why is this bad
Several sources can only go into a directory. Docker's documentation requires the
destination to end with `/` then, and the legacy builder rejects the instruction without
it ("When using COPY with more than one source file, the destination must be a directory
and end with a /"); with the slash a reader sees the destination is a directory.

## Example
```dockerfile
FROM nginx:1.25
COPY nginx.conf mime.types /etc/nginx
```
becomes, with `--unsafe-fixes`:
```dockerfile
FROM nginx:1.25
COPY nginx.conf mime.types /etc/nginx/
```

## Fix safety
**Unsafe**: where the destination already is a directory in the image, the files land in
the same places. Where it does not exist yet, the fixed instruction creates the directory
and copies every source into it, which the legacy builder refused to build and which may
differ from what BuildKit made of the instruction without the slash; a reviewer
should confirm the directory was meant.

Windows stages and destinations written with quotes are left alone.

## Options
None.

## Resolves
hadolint DL3021 · Trivy DS-0011 · Checkov: none.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.core.fixer import Edit, Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._cmdline import json_elements, windows_hint
from dockfix.semantics.context import FixContext
from dockfix.syntax import Dockerfile, Instruction


def _dest_end(instr: Instruction) -> tuple[str, int] | None:
    """The destination word and the logical offset where a `/` belongs; None when the COPY
    has fewer than two sources or cannot be read."""
    if instr.json_args is not None:
        elements = json_elements(instr.logical[instr.args_start :], instr.args_start)
        if elements is None or len(elements) < 3:
            return None
        last = elements[-1]
        return last.value, last.end - 1  # before the closing quote
    words = instr.args_words()
    if len(words) < 3:
        return None
    word, _, end = words[-1]
    if any(q in w for q in ("'", '"') for w, _, _ in words):
        return None  # BuildKit splits at spaces inside quotes too: left to a person
    return word, end


@register
class CopyDestSlash(Fixer):
    code = "DF508"
    severity = Severity.WARNING
    name = "copy-dest-slash"
    summary = "COPY of several sources to a destination without a trailing `/`"
    resolves = Resolves(hadolint=("DL3021",), trivy=("DS-0011",), checkov=())

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for instr in doc.instructions:
            if instr.keyword != "COPY" or instr.heredocs or instr.stage is None:
                continue
            if windows_hint(doc, instr.stage):
                continue  # `C:\app\` there, and a trailing backslash continues the line
            found = _dest_end(instr)
            if found is None or found[0].endswith(("/", "\\")):
                continue
            dest, at = found
            message = f"COPY of several sources to `{dest}`: a directory, write `{dest}/`"
            edit = Edit.insert(instr.source_span(at - 1, at)[1], "/")
            yield self.finding(
                instr, message, Fix.unsafe(edit, description=f"destination `{dest}/`")
            )
