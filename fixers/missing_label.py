"""DF530 missing-label: labels that break the label schema configured for hadolint.

## What it does
Off until a `label-schema` is configured in hadolint's `.hadolint.yaml` (a mapping of label
names to the format of their value: `text`, `url`, `semver`, `hash`, `rfc3339`, `spdx`,
`email`). Then it reports, each finding naming the schema's requirement:

- a label of the schema missing from a stage that can be the built image: the final stage,
  and any other stage no later stage builds `FROM` or copies from (a `--target`). Labels are
  inherited through the stages a stage is built `FROM`, as BuildKit passes them on (hadolint
  DL3049, reported at the stage's `FROM` line, one finding per label);
- with `strict-labels: true`, a `LABEL` setting a label the schema does not name (DL3050);
- a schema label set to an empty value (DL3051), to a value that is not a git commit hash (7
  or 40 lower-case hex digits) where the schema says `hash` (DL3055), or that is not a
  semantic version (`1.4.0`, `2.0.0-rc.1+build.5`) where it says `semver` (DL3056), that is
  not an RFC 3339 time (`2024-05-02T09:30:00Z`) where it says `rfc3339` (DL3053), or that is
  not an absolute URL by RFC 3986 (`https://github.com/example/app`, not
  `github.com/example/app`) where it says `url` (DL3052).

The formats `spdx` and `email` (DL3054, DL3058) are not checked: hadolint's parsers for them
(a list of license names; an e-mail parser) cannot be matched exactly, and a near match would
report other values than hadolint does. Every finding is at `info`, DL3049's level (hadolint
reports the value rules at `warning`; its `override` naming one applies to that case). A key or value written with a variable (`$VERSION`) is not
judged: it is only known at build time (hadolint judges the text as written).

These are one anti-pattern, labels that break the schema the team configured, so one rule:
the finding names the hadolint rule of its case (`# hadolint ignore=DL3049` and
`.hadolint.yaml`'s `ignored` act on that case only). Where it differs from hadolint 2.15: a
stage that another stage is built `FROM` is not reported (its labels pass to that stage, the
one that is built), where hadolint reports such a stage unless the stage built from it sets
the label and has no name of its own.

## Why is this bad
A team that requires labels (`org.opencontainers.image.source`, `version`, `maintainer`)
reads them from every image it ships: registries link the source, scanners and inventories
find the owner and the version. An image without them, or with a value in the wrong format,
is one those tools cannot place.

## Example
With `label-schema: {org.opencontainers.image.source: url, version: semver}`:
```dockerfile
FROM python:3.12-slim
LABEL version="1.4"
```
is reported twice (`org.opencontainers.image.source` is missing; `1.4` is no semantic
version). Use instead `LABEL org.opencontainers.image.source="https://github.com/example/billing"
version="1.4.0"`.

## Fix safety
No fix (display-only): a label's value (the source URL, the version, the owner) is known
only to the people who build the image.

## Options
None; the schema is hadolint's `label-schema` (and `strict-labels`) in `.hadolint.yaml`.

## Resolves
hadolint DL3049, DL3050, DL3051, DL3052, DL3053, DL3055, DL3056 · Trivy: none · Checkov: none.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from functools import partial

from dockfix.core.fixer import Finding, Fixer, Resolves, Severity, register
from dockfix.fixers._lazy import lazy_re
from dockfix.semantics.context import FixContext
from dockfix.semantics.semantic import copies_from, stage_chain, unquote_word
from dockfix.syntax import Dockerfile, Instruction, Stage, env_pairs

_HASH = lazy_re(r"[0-9a-f]{7}|[0-9a-f]{40}")
# Semantic versioning as hadolint's parser reads it: leading zeros and an empty pre-release
# or build part (`1.2.3-`) accepted, an empty identifier (`1.2.3-a..b`) refused.
_IDENTIFIERS = r"(?:[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
_SEMVER = lazy_re(rf"[0-9]+\.[0-9]+\.[0-9]+(?:-{_IDENTIFIERS})?(?:\+{_IDENTIFIERS})?")
# RFC 3339 as hadolint 2.15's time parser reads it (checked against the binary): any year
# (`24`, `-2024`), `t`/`z` in either case, an offset with or without its colon and not range
# checked, a second of 60, blanks around the value; the date and the time must exist.
_RFC3339 = lazy_re(
    r"\s*(-?[0-9]+)-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]*)?"
    r"(?:[Zz]|[+-][0-9]{2}:?[0-9]{2})\s*"
)
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def is_rfc3339(value: str) -> bool:
    m = _RFC3339.fullmatch(value)
    if m is None:
        return False
    year, month, day, hour, minute, second = (int(g) for g in m.groups())
    if not 1 <= month <= 12 or hour > 23 or minute > 59 or second > 60:
        return False
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return 1 <= day <= (_DAYS[month - 1] if month != 2 or leap else 28)


# An absolute URI by RFC 3986's grammar (section 3; `url` in hadolint's schema). A host is an
# IP literal in brackets or a registered name (which an IPv4 address also is).
_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = r"!$&'()*+,;="
_PCT = r"%[0-9A-Fa-f]{2}"
_PCHAR = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_H16 = r"[0-9A-Fa-f]{1,4}"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_LS32 = rf"(?:{_H16}:{_H16}|{_OCTET}(?:\.{_OCTET}){{3}})"


def _ipv6() -> str:
    """RFC 3986's IPv6address: up to 5 - k groups before `::` when k come after it."""
    forms = [rf"(?:{_H16}:){{6}}{_LS32}", rf"::(?:{_H16}:){{5}}{_LS32}"]
    for after in range(4, -1, -1):  # the groups between `::` and the last 32 bits
        head = rf"(?:(?:{_H16}:){{0,{4 - after}}}{_H16})?"
        forms.append(rf"{head}::(?:{_H16}:){{{after}}}{_LS32}")
    forms.append(rf"(?:(?:{_H16}:){{0,5}}{_H16})?::{_H16}")
    forms.append(rf"(?:(?:{_H16}:){{0,6}}{_H16})?::")
    return "|".join(forms)


_HOST = (
    rf"(?:\[(?:{_ipv6()}|v[0-9A-Fa-f]+\.[{_UNRESERVED}{_SUB_DELIMS}:]+)\]"
    rf"|(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*)"
)
_AUTHORITY = rf"(?:(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*@)?{_HOST}(?::[0-9]*)?"
_URI = lazy_re(
    rf"[A-Za-z][A-Za-z0-9+\-.]*:"
    rf"(?://{_AUTHORITY}(?:/{_PCHAR}*)*|/(?:{_PCHAR}+(?:/{_PCHAR}*)*)?|{_PCHAR}+(?:/{_PCHAR}*)*|)"
    rf"(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?"
)


def matches_pattern(pattern: re.Pattern[str], value: str) -> bool:
    return pattern.fullmatch(value) is not None


# schema format -> (value check, hadolint rule, what a value must be)
_FORMATS: dict[str, tuple[Callable[[str], bool], str, str]] = {
    "hash": (partial(matches_pattern, _HASH), "DL3055", "a git commit hash"),
    "semver": (partial(matches_pattern, _SEMVER), "DL3056", "a semantic version"),
    "rfc3339": (is_rfc3339, "DL3053", "an RFC 3339 time"),
    "url": (partial(matches_pattern, _URI), "DL3052", "an absolute URL"),
}


def labels_of(instr: Instruction) -> list[tuple[str, str]]:
    """The (key, value) pairs of a LABEL, quotes around the key removed."""
    return [(unquote_word(k), v) for k, v in env_pairs(instr)]


def labels_set(stage: Stage) -> set[str]:
    """The labels a stage's image has from the file: its own and those of its parents."""
    return {
        key
        for st in stage_chain(stage)
        for instr in st.instructions
        if instr.keyword == "LABEL"
        for key, _ in labels_of(instr)
    }


def built_stages(doc: Dockerfile) -> list[Stage]:
    """The stages that can be the built image: none builds on them or copies from them."""
    parents = {id(st.parent) for st in doc.stages if st.parent is not None}
    return [
        st
        for st in doc.stages
        if st is doc.final_stage or (id(st) not in parents and not copies_from(doc, st))
    ]


@register
class MissingLabel(Fixer):
    code = "DF530"
    severity = Severity.INFO  # hadolint's level for DL3049 and DL3050
    name = "missing-label"
    summary = "A label the configured label schema requires is missing or malformed"
    resolves = Resolves(
        hadolint=("DL3049", "DL3050", "DL3051", "DL3052", "DL3053", "DL3055", "DL3056")
    )

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        schema: Mapping[str, str] | None = ctx.services.get("label_schema")
        if schema is None:
            return
        strict: bool = ctx.services.get("strict_labels", False)
        reason = "a label's value is known only to the people who build the image"
        for stage in built_stages(doc):
            present = labels_set(stage)
            for label, kind in schema.items():
                if label in present:
                    continue
                finding = self.finding(
                    stage.from_instruction,
                    f"label `{label}` is missing: the label-schema requires it ({kind})",
                    reason=reason,
                )
                finding.hadolint = ("DL3049",)
                yield finding
        for instr in doc.instructions:
            if instr.keyword == "LABEL":
                yield from self._check_values(instr, schema, strict, reason)

    def _check_values(
        self, instr: Instruction, schema: Mapping[str, str], strict: bool, reason: str
    ) -> Iterator[Finding]:
        extra = [k for k, _ in labels_of(instr) if k not in schema and "$" not in k]
        if strict and extra:
            names = ", ".join(f"`{k}`" for k in extra)
            finding = self.finding(
                instr,
                f"{names} not in the label-schema (strict-labels: only its labels are allowed)",
                reason="whether to drop the label or add it to the schema is the team's choice",
            )
            finding.hadolint = ("DL3050",)
            yield finding
        for key, value in labels_of(instr):
            kind = schema.get(key)
            if kind is None or "$" in value:
                continue
            if not value:
                message, rule = (
                    f"label `{key}` is empty: the label-schema requires a value",
                    "DL3051",
                )
            elif kind in _FORMATS and not _FORMATS[kind][0](value):
                _, rule, what = _FORMATS[kind]
                message = f"label `{key}`: `{value}` is not {what} (the label-schema says `{kind}`)"
            else:
                continue
            finding = self.finding(instr, message, reason=reason)
            finding.hadolint = (rule,)
            yield finding
