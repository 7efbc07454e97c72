"""DF502 maintainer: the deprecated `MAINTAINER` instruction.

## What it does
Rewrites `MAINTAINER <text>` as `LABEL org.opencontainers.image.authors="<text>"` (the
OCI annotation Docker's documentation recommends), in the same place and letter case.
The text is quoted for LABEL's word parsing with the file's escape character: `"`, `$`
and the escape character itself are escaped, so the label's value is exactly the text
MAINTAINER had — `MAINTAINER` never expands variables, `LABEL` does.

## Why is this bad
`MAINTAINER` has been deprecated since Docker 1.13. It sets the image's legacy `Author`
field, which tools that read OCI labels (registries, scanners, `docker inspect` label
queries) do not see; BuildKit warns about it (check `MaintainerDeprecated`).

## Example
```dockerfile
FROM debian:bookworm-slim
MAINTAINER Jane Doe <jane@example.com>
```
becomes, with `--unsafe-fixes`:
```dockerfile
FROM debian:bookworm-slim
LABEL org.opencontainers.image.authors="Jane Doe <jane@example.com>"
```

## Fix safety
**Unsafe**: the built image's metadata changes. `MAINTAINER` sets the top-level `Author`
field of the image config and no label; after the fix `Author` is empty (or inherited
from the base image) and the image carries the label instead — which images built
`FROM` it also inherit. Anything reading `.Author` (`docker inspect -f '{{.Author}}'`)
sees the change. Several MAINTAINERs in a stage keep their "last one wins" order.

Display-only when the stage (or a stage it is built FROM) already sets the label with
`LABEL`: the two values would override each other and only a person can merge them; and
when comment lines sit inside the instruction's continuation lines.

## Options
- `label` (str, default `org.opencontainers.image.authors`): the label key to write;
  `maintainer` is the older convention hadolint's documentation shows.

## Resolves
hadolint DL4000 · Trivy DS-0022 · Checkov CKV_DOCKER_6 · BuildKit check MaintainerDeprecated
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from dockfix.core.fixer import Edit, Finding, Fix, Fixer, Option, Resolves, Severity, register
from dockfix.fixers._cmdline import match_keyword_case, verified_edits
from dockfix.semantics.semantic import stage_chain

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext
from dockfix.syntax import Dockerfile, Instruction, Stage

_DEFAULT_LABEL = "org.opencontainers.image.authors"


def _one_label(value: str, escape: str, new: Instruction) -> bool:
    """Whether the edited instruction is a LABEL of one key whose value reads as ``value``."""
    from dockfix.syntax import parse_words

    words = parse_words(new.logical[new.args_start :], escape)
    return (
        new.keyword == "LABEL"
        and len(words) == 1
        and process_double_quoted(words[0].split("=", 1)[1], escape) == value
    )


@register
class Maintainer(Fixer):
    code = "DF502"
    acts_on = frozenset({"MAINTAINER"})
    severity = Severity.STYLE
    name = "maintainer"
    summary = "MAINTAINER is deprecated: use LABEL org.opencontainers.image.authors"
    resolves = Resolves(
        hadolint=("DL4000",),
        trivy=("DS-0022",),
        checkov=("CKV_DOCKER_6",),
        buildkit=("MaintainerDeprecated",),
    )
    image_changes = ("label:org.opencontainers.image.authors", "label:maintainer")
    options: ClassVar[Mapping[str, Option]] = {
        "label": Option(
            str,
            _DEFAULT_LABEL,
            "label key written in place of MAINTAINER",
            choices=(_DEFAULT_LABEL, "maintainer"),
        ),
    }

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        key = str(self.settings.get("label", _DEFAULT_LABEL))
        for instr in doc.instructions:
            if instr.keyword != "MAINTAINER" or instr.stage is None or not instr.args:
                continue
            if instr.flags:  # BuildKit rejects flags on MAINTAINER: not a file to touch
                continue
            yield self._check_one(doc, instr, instr.stage, key)

    def _check_one(self, doc: Dockerfile, instr: Instruction, stage: Stage, key: str) -> Finding:
        value = instr.args
        message = "MAINTAINER is deprecated"
        existing = _label_set(stage, key, doc.escape)
        if existing is not None:
            return self.finding(
                instr,
                message,
                reason=f"the LABEL on line {existing.start_line} already sets {key}; merge the "
                "two by hand",
            )
        if instr.comments:
            return self.finding(
                instr, message, reason="comment lines inside the instruction would be lost"
            )
        keyword = match_keyword_case(instr.keyword_raw, "LABEL")
        text = f"{keyword} {key}={label_value(value, doc.escape)}"
        start = instr.to_source(instr.keyword_start)
        end = instr.source_span(instr.keyword_start, len(instr.logical.rstrip()))[1]
        edit = Edit(start, end, text)

        if not verified_edits(doc, instr, [edit], partial(_one_label, value, doc.escape)):
            return self.finding(instr, message, reason="the value could not be quoted for LABEL")
        return self.finding(
            instr,
            message,
            Fix.unsafe(
                edit,
                description=f"replace with LABEL {key}; the image's legacy Author field is no "
                "longer set",
            ),
        )


def label_value(value: str, escape: str) -> str:
    """``value`` double-quoted so that BuildKit's LABEL processing yields it unchanged.

    Inside double quotes BuildKit's word processor unescapes only `"`, `$` and the escape
    character itself (other escape sequences stay literal), and expands `$`.
    """
    out = []
    for ch in value:
        if ch in ('"', "$", escape):
            out.append(escape)
        out.append(ch)
    return '"' + "".join(out) + '"'


def process_double_quoted(word: str, escape: str) -> str | None:
    """BuildKit's processing of a word that is one double-quoted string without `$` use.

    Returns None for anything else (an unescaped `$`, text outside the quotes).
    """
    if len(word) < 2 or word[0] != '"' or word[-1] != '"':
        return None
    out = []
    i = 1
    end = len(word) - 1
    while i < end:
        ch = word[i]
        if ch == '"' or ch == "$":
            return None
        if ch == escape:
            if i + 1 == end:
                return None  # the closing quote would be escaped: unterminated
            if word[i + 1] in ('"', "$", escape):
                out.append(word[i + 1])
                i += 2
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def _label_set(stage: Stage, key: str, escape: str) -> Instruction | None:
    """A LABEL in the stage or the stages it is built FROM that sets ``key``."""
    from dockfix.syntax import parse_words

    for st in reversed(stage_chain(stage)):
        for instr in st.instructions:
            if instr.keyword != "LABEL":
                continue
            words = parse_words(instr.logical[instr.args_start :], escape)
            if words and "=" not in words[0]:
                keys = [words[0]]  # legacy `LABEL key value`
            else:
                keys = [w.split("=", 1)[0] for w in words]
            if any(k.strip("\"'") == key for k in keys):
                return instr
    return None
