"""Suppression comments: ``# dockfix ignore=…`` and the hadolint pragmas users already have.

- ``# dockfix ignore=DF101,DF103`` (or ``# dockfix: ignore=…``) in the comment block directly
  above an instruction suppresses those codes for it; ``# dockfix global ignore=…`` anywhere
  suppresses them for the whole file. ``ALL`` suppresses every code. A code no fixer has
  suppresses nothing: :func:`unknown_codes` names it so that the run can warn.
- ``# hadolint ignore=DL3008 DL3009`` (and ``global ignore``) suppress a dockfix finding
  when its fixer declares that it resolves one of those hadolint rules, so existing pragmas
  keep working.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from dockfix.semantics.memo import per_tree
from dockfix.syntax import Dockerfile, Instruction


@lru_cache(maxsize=1)
def _pragma_re() -> re.Pattern[str]:
    # Compiled on first use: most files have no pragma, and a one-file run pays every import.
    return re.compile(
        r"#\s*(dockfix|hadolint)(?:\s*:\s*|\s+)(global\s+)?ignore\s*=\s*([A-Za-z0-9_,\s-]+?)\s*$",
        re.I,
    )


# BuildKit runs these only where `experimental=` enables them, and then whatever `skip` says.
EXPERIMENTAL_CHECKS = frozenset({"CopyIgnoredFile", "InvalidDefinitionDescription"})
# Every check BuildKit has (its build checks reference): a name in `# check=` outside them
# skips nothing, so the run warns about it.
BUILDKIT_CHECKS = EXPERIMENTAL_CHECKS | frozenset(
    {
        "StageNameCasing",
        "FromAsCasing",
        "NoEmptyContinuation",
        "ConsistentInstructionCasing",
        "DuplicateStageName",
        "ReservedStageName",
        "JSONArgsRecommended",
        "MaintainerDeprecated",
        "UndefinedArgInFrom",
        "WorkdirRelativePath",
        "UndefinedVar",
        "MultipleInstructionsDisallowed",
        "LegacyKeyValueFormat",
        "RedundantTargetPlatform",
        "SecretsUsedInArgOrEnv",
        "InvalidDefaultArgInFrom",
        "FromPlatformFlagConstDisallowed",
        "ExposeProtoCasing",
        "ExposeInvalidFormat",
        "InvalidBaseImagePlatform",
    }
)


class CheckSkips(NamedTuple):
    """What a ``# check=`` directive skips of BuildKit's build checks."""

    every: bool = False  # `skip=all`
    names: frozenset[str] = frozenset()  # `skip=A,B` (case-sensitive, as BuildKit reads them)
    # `experimental=…`: BuildKit runs these experimental checks whatever `skip` says
    kept: frozenset[str] = frozenset()
    kept_every: bool = False  # `experimental=all`

    def skips_any(self) -> bool:
        # A method, not __bool__: a compiled NamedTuple is a plain tuple, always true.
        return self.every or bool(self.names)

    def skips(self, check: str) -> bool:
        if check in EXPERIMENTAL_CHECKS and (self.kept_every or check in self.kept):
            return False
        return self.every or check in self.names


def check_skips(value: str) -> CheckSkips:
    """A ``# check=`` directive's value read as BuildKit reads it: up to three parts
    separated by ``;``, each ``key=value``; ``skip`` and ``experimental`` take ``all`` or
    names separated by commas. A part without ``=`` makes BuildKit refuse the build:
    nothing is skipped then."""
    every, names, kept, kept_every = False, frozenset[str](), frozenset[str](), False
    for part in value.strip().split(";", 2):
        key, sep, val = part.partition("=")
        if not sep:
            return CheckSkips()
        is_all = val.strip() == "all"
        listed = frozenset() if is_all else frozenset(n.strip() for n in val.split(",")) - {""}
        if key.strip() == "skip":
            every, names = is_all, listed
        elif key.strip() == "experimental":
            kept_every, kept = is_all, listed
    return CheckSkips(every, names, kept, kept_every)


@dataclass
class Suppressions:
    dockfix_global: set[str] = field(default_factory=set)
    hadolint_global: set[str] = field(default_factory=set)
    # BuildKit checks the `# check=` directive skips.
    buildkit_skipped: CheckSkips = field(default_factory=CheckSkips)
    # False when the file has no pragma at all (most files): nothing is suppressed.
    any_pragma: bool = True

    @classmethod
    def of(cls, doc: Dockerfile) -> Suppressions:
        """The file's global suppressions (read once per tree)."""
        return _global_suppressions(doc)

    def suppressed(
        self,
        doc: Dockerfile,
        instr: Instruction | None,
        code: str,
        hadolint: tuple[str, ...],
        buildkit: tuple[str, ...] = (),
    ) -> bool:
        if not self.any_pragma:
            return False
        if "ALL" in self.dockfix_global or code in self.dockfix_global:
            return True
        if buildkit and any(self.buildkit_skipped.skips(c) for c in buildkit):
            return True
        if any(h in self.hadolint_global for h in hadolint):
            return True
        if instr is None:
            return False
        for line in doc.comment_lines_above(instr):
            m = _pragma_re().match(line)
            if not m or m.group(2):
                continue
            codes = _codes(m.group(3))
            if m.group(1).lower() == "dockfix":
                if code in codes or "ALL" in codes:
                    return True
            elif any(h in codes for h in hadolint):
                return True
        return False


def unknown_codes(doc: Dockerfile, known: Collection[str]) -> list[tuple[int, str]]:
    """(line, code) of each code in a ``# dockfix`` pragma that is neither ``ALL`` nor in
    ``known``: a typo that would otherwise leave the finding in place without a word."""
    if "ignore" not in doc.source.lower():
        return []
    out: list[tuple[int, str]] = []
    for number, m in _pragma_lines(doc):
        if m.group(1).lower() == "dockfix":
            bad = _codes(m.group(3)) - {"ALL", *known}
            out.extend((number, code) for code in sorted(bad))
    return out


def unknown_checks(doc: Dockerfile) -> list[tuple[int, str]]:
    """(line, name) of each name in the ``# check=`` directive's ``skip`` or ``experimental``
    that is no BuildKit check (``jsonargsrecommended``: names are case-sensitive)."""
    directive = doc.directive("check")
    if directive is None:
        return []
    skips = check_skips(directive.value)
    named = sorted((skips.names | skips.kept) - BUILDKIT_CHECKS)
    return [(directive.line, name) for name in named]


def _pragma_lines(doc: Dockerfile) -> Iterator[tuple[int, re.Match[str]]]:
    """(line number, match) of each pragma line, anywhere in the file."""
    for ln in doc.lines:
        text = doc.source[ln.start : ln.end].lstrip(" \t\ufeff")
        if not text.startswith("#") or "ignore" not in text.lower():
            continue
        m = _pragma_re().match(text)
        if m:
            yield ln.number, m


def _codes(text: str) -> set[str]:
    return {c.upper() for c in re.split(r"[\s,]+", text) if c}


def is_pragma(line: str) -> bool:
    return _pragma_re().match(line.lstrip(" \t")) is not None


class Pragma(NamedTuple):
    """An ignore pragma read from a comment line; ``codes_span``: where its codes are written."""

    tool: str  # "dockfix" or "hadolint"
    is_global: bool
    codes: frozenset[str]
    codes_span: tuple[int, int]


def read_pragma(line: str) -> Pragma | None:
    """The ignore pragma on a comment line (leading blanks allowed), or None."""
    stripped = line.lstrip(" \t\ufeff")
    m = _pragma_re().match(stripped)
    if m is None:
        return None
    skip = len(line) - len(stripped)
    return Pragma(
        m.group(1).lower(),
        bool(m.group(2)),
        frozenset(_codes(m.group(3))),
        (m.start(3) + skip, m.end(3) + skip),
    )


@per_tree
def _global_suppressions(doc: Dockerfile) -> Suppressions:
    s = Suppressions()
    check = doc.directive("check")
    if check is not None:
        s.buildkit_skipped = check_skips(check.value)
    # Pragmas are read in any case (the pattern is case-insensitive), so the quick test is too.
    if "ignore" not in doc.source.lower():
        s.any_pragma = s.buildkit_skipped.skips_any()
        return s
    for _, m in _pragma_lines(doc):
        if m.group(2):
            target = s.dockfix_global if m.group(1).lower() == "dockfix" else s.hadolint_global
            target.update(_codes(m.group(3)))
    return s
