"""DF504 legacy-key-value: `ENV key value` and `LABEL key value`, the legacy form.

## What it does
Rewrites an `ENV` or `LABEL` written in the legacy whitespace-separated form (`ENV PORT 8080`)
as `key=value` (`ENV PORT=8080`). A value with spaces outside quotes (`ENV MSG hello world`)
is double-quoted (`ENV MSG="hello world"`).

## Why is this bad
In the legacy form the value is the whole rest of the line, so one instruction sets one key
and `ENV A 1 B 2` silently sets `A` to `1 B 2`. Docker's documentation marks the form as
deprecated and BuildKit warns about it on every build (check `LegacyKeyValueFormat`); the
`key=value` form sets several keys at once and reads the same everywhere.

## Example
```dockerfile
FROM debian:bookworm-slim
ENV NODE_ENV production
LABEL org.opencontainers.image.title my app
```
Use instead:
```dockerfile
FROM debian:bookworm-slim
ENV NODE_ENV=production
LABEL org.opencontainers.image.title="my app"
```

## Fix safety
Safe: the key and the value BuildKit builds with are unchanged. BuildKit takes a legacy
value as the text after the key's first run of spaces, up to the end of the line, then
expands variables and removes quotes in it; the fix writes that text after `key=` so that
BuildKit reads it back as one word. Where it has spaces outside quotes it is wrapped in
double quotes, which keep `$` expansion as it was. The edited instruction is parsed again and
the fix dropped unless it is one `key=value` word with the same value text.

Display-only when the value has spaces and also quotes or the escape character (double
quotes would change how they are read), when the key holds quotes, `$` or the escape
character, and when a comment line sits between the key and its value.

## Options
None.

## Resolves
BuildKit check LegacyKeyValueFormat · hadolint: none · Trivy: none · Checkov: none.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial

from dockfix.core.fixer import Edit, Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._cmdline import verified_edits
from dockfix.semantics.context import FixContext
from dockfix.syntax import Dockerfile, Instruction, parse_words

# BuildKit splits a legacy `KEY name value` at the first run of these (parser's reWhitespace).
_LEGACY_SPLIT = re.compile(r"([^\t\v\f\r ]+)[\t\v\f\r ]+")
# Go's unicode.IsSpace, which BuildKit trims the line with (Python's also has \x1c-\x1f).
_GO_TRIM = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def _one_word(word: str, escape: str, new: Instruction) -> bool:
    """Whether the edited instruction holds exactly ``word`` as its one word."""
    return parse_words(new.logical[new.args_start :], escape) == [word]


def new_word(key: str, value: str, escape: str) -> str | None:
    """``key=value`` as one word of the same value text, quoted where needed; None if that
    cannot be written without changing how quotes or escapes in ``value`` read."""
    plain = f"{key}={value}"
    if parse_words(plain, escape) == [plain]:
        return plain
    if any(ch in value for ch in ('"', "'", escape)):
        return None
    quoted = f'{key}="{value}"'
    return quoted if parse_words(quoted, escape) == [quoted] else None


@register
class LegacyKeyValue(Fixer):
    code = "DF504"
    severity = Severity.STYLE
    name = "legacy-key-value"
    summary = "ENV/LABEL in the legacy `key value` form: `key=value`"
    resolves = Resolves(buildkit=("LegacyKeyValueFormat",))

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for instr in doc.instructions:
            if instr.keyword not in ("ENV", "LABEL") or instr.flags:
                continue
            rest = instr.logical[instr.args_start :]
            words = parse_words(rest, doc.escape)
            if not words or "=" in words[0]:
                continue
            m = _LEGACY_SPLIT.match(rest)
            if m is None or not rest[m.end() :].strip(_GO_TRIM):
                continue  # `ENV A` alone: BuildKit rejects it, nothing to rewrite
            yield self._finding(doc, instr, m, rest.rstrip(_GO_TRIM))

    def _finding(self, doc: Dockerfile, instr: Instruction, m: re.Match[str], rest: str) -> Finding:
        key, value = m.group(1), rest[m.end() :]
        message = f"`{instr.keyword} {key} …` is the legacy form: write `{key}=…`"
        if any(ch in key for ch in ('"', "'", "$", doc.escape)):
            return self.finding(instr, message, reason="the key is quoted or uses a variable")
        word = new_word(key, value, doc.escape)
        if word is None:
            return self.finding(
                instr, message, reason="the value has spaces and quotes: quote it by hand"
            )
        base = instr.args_start
        key_end = instr.source_span(base, base + m.end(1))[1]
        value_start = instr.to_source(base + m.end())
        value_end = instr.source_span(base + m.end(), base + len(rest))[1]
        if word.endswith(value):
            edits = [Edit(key_end, value_start, "=")]
        else:
            edits = [Edit(key_end, value_start, '="'), Edit.insert(value_end, '"')]
        if not verified_edits(doc, instr, edits, partial(_one_word, word, doc.escape)):
            return self.finding(
                instr, message, reason="comment lines sit between the key and its value"
            )
        return self.finding(instr, message, Fix.safe(*edits, description=f"write `{word}`"))
