"""The fix loop: run fixers, apply their non-overlapping edits, re-parse, verify, repeat.

The engine knows nothing about any anti-pattern. It guarantees what every fixer relies on:
- edits are applied as ranges, so bytes outside them are identical;
- the result parses (with dockfix's parser, and with BuildKit's own when installed) and keeps
  the structural invariants (directives, pragmas, heredoc bodies); a fixer whose edits break
  them is reported and its fix dropped, the file keeps the last good text;
- fixing repeats until nothing changes (at most ``MAX_ROUNDS`` rounds).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from dockfix.build_rules import build_error
from dockfix.core.buildkit_check import buildkit_rejects
from dockfix.core.edits import TakenEdits, apply_edits
from dockfix.core.fixer import Applicability, Edit, FileChange, Finding, Fixer
from dockfix.core.invariants import check_invariants
from dockfix.core.suppression import Suppressions
from dockfix.semantics.context import FixContext
from dockfix.semantics.shell import words_text
from dockfix.syntax import Dockerfile, parse_lossless

MAX_ROUNDS = 10
# DOCKFIX_STRICT=1 (the test suite sets it): a fixer that raises fails loudly instead of
# being reported as a warning and skipped.
STRICT = os.environ.get("DOCKFIX_STRICT") == "1"


@dataclass
class FixOutcome:
    original: str
    fixed: str
    findings: list[Finding] = field(default_factory=list)  # left on the fixed text
    applied: list[Finding] = field(default_factory=list)  # findings whose fix was applied
    file_changes: list[FileChange] = field(default_factory=list)
    error: str | None = None  # the file could not be processed at all
    warnings: list[str] = field(default_factory=list)
    error_line: int | None = None  # where the error is, when it is on one line
    # Whether fixes marked unsafe apply to this file: `--unsafe-fixes`, else its
    # configuration's `unsafe-fixes` (resolved once, by the runner; what `check` counts
    # as fixable is what `fix` applies).
    unsafe: bool = False

    @property
    def changed(self) -> bool:
        return self.fixed != self.original or bool(self.file_changes)


class FileLines(NamedTuple):
    """One file's part of `check`'s full or concise output, made where the file was checked
    (a worker process, from a results-cache hit or a new check), with what `check` counts of
    its findings: the findings themselves need not travel to the process that shows them."""

    fmt: str  # "full" or "concise"
    parts: tuple[str, ...]  # each finding as the format shows it, after its path, in order
    order: tuple[tuple[int, int, str], ...]  # each part's (line, column, code)
    severities: tuple[int, int, int, int]  # the findings per severity: error … style
    fixable: tuple[int, int]  # fixable by `fix`, and more with --unsafe-fixes
    threshold: str | None  # the `failure-threshold` of the file's configuration


@dataclass
class FileReport:
    """One file's result in a run over many files (:mod:`dockfix.run.runner`): its outcome, or
    why it could not be processed, and what writing it did."""

    path: str  # as displayed (relative to the working directory when possible)
    outcome: FixOutcome | None = None
    error: str | None = None
    mode: int | None = None
    written: bool = False
    write_errors: list[str] = field(default_factory=list)
    from_stdin: bool = False  # `-`: the fixed text goes to standard output, never to a file
    # Warnings about the whole run (a registry that could not be reached), on its first report.
    run_warnings: list[str] = field(default_factory=list)
    cached: bool = False  # the outcome came from the results cache: the file was not re-checked
    # A new results-cache entry for the file (absolute path, entry), saved at the end of the run.
    cache_entry: tuple[str, bytes] | None = None
    # What `check` shows of it (RunOptions.show): then its outcome carries no findings.
    lines: FileLines | None = None

    def error_message(self) -> str:
        """The error as one line: ``path:line: reason`` where it has a line (as findings)."""
        line = self.outcome.error_line if self.outcome is not None else None
        return f"{self.path}:{line}: {self.error}" if line else f"{self.path}: {self.error}"


def collect_findings(
    doc: Dockerfile, fixers: Sequence[Fixer], ctx: FixContext, warnings: list[str]
) -> list[Finding]:
    """Every unsuppressed finding of every fixer on one parsed file.

    ``ctx.services["hadolint_ignored"]`` (hadolint's `ignored:` setting) acts as a
    ``# hadolint global ignore=`` line in every file."""
    sup = Suppressions.of(doc)
    ignored: frozenset[str] = ctx.services.get("hadolint_ignored", frozenset())
    found: list[Finding] = []
    keywords: frozenset[str] | None = None
    mentioned: frozenset[str] | None = None
    for fixer in fixers:
        if fixer.acts_on:
            if keywords is None:
                keywords = instruction_keywords(doc)
            if keywords.isdisjoint(fixer.acts_on):
                continue  # nothing it reports on (Fixer.acts_on)
        if fixer.mentions:
            if mentioned is None:
                mentioned = mentioned_words(doc, fixers)
            if mentioned.isdisjoint(fixer.mentions):
                continue  # names nothing it acts on (Fixer.mentions)
        try:
            results = list(fixer.check(doc, ctx))
        except Exception as exc:  # a fixer bug must not stop the run
            if STRICT:
                raise
            warnings.append(
                f"{fixer.code} failed on this file ({type(exc).__name__}: {exc}); skipped"
            )
            continue
        if not sup.any_pragma and not ignored:
            found.extend(results)
            continue
        for f in results:
            hadolint = f.hadolint if f.hadolint is not None else fixer.resolves.hadolint
            if ignored and any(h in ignored for h in hadolint):
                continue
            if sup.any_pragma and sup.suppressed(
                doc,
                doc.instruction_at_line(f.line),
                f.code,
                hadolint,
                f.buildkit if f.buildkit is not None else fixer.resolves.buildkit,
            ):
                continue
            found.append(f)
    found.sort(key=lambda f: (f.line, f.column, f.code))
    return found


# Whether fixes marked unsafe apply: one value for every finding, or the paths of the files
# where they do (each file's outcome says, as its configuration resolved it).
UnsafeFor = bool | AbstractSet[str]


def instruction_keywords(doc: Dockerfile) -> frozenset[str]:
    """The keywords of a file's instructions and of its ONBUILD triggers."""
    found = {i.keyword for i in doc.instructions}
    if "ONBUILD" in found:
        found.update(i.trigger.keyword for i in doc.instructions if i.trigger is not None)
    return frozenset(found)


# What a shell removes from a word before it runs it: quotes and backslashes (`ap"t"-get` and
# `apt\-get` run apt-get). Dropped from the text that Fixer.mentions is tested against.
_SHELL_QUOTING = str.maketrans("", "", "\"'\\")


def mention_text(doc: Dockerfile) -> str:
    """The text :attr:`Fixer.mentions` is tested against: every instruction's logical line
    (continuations joined as BuildKit joins them), its exec form's decoded words, and its
    heredoc bodies (continuations joined as the shell joins them), lower-cased, quotes and
    backslashes dropped. A word a command
    reaches the shell as is in it whatever quoting or line breaks spelled it."""
    text = "\n".join(words_text(instr) for instr in doc.instructions)
    return text.lower().translate(_SHELL_QUOTING)


def mentioned_words(doc: Dockerfile, fixers: Sequence[Fixer]) -> frozenset[str]:
    """The words of the fixers' :attr:`Fixer.mentions` that :func:`mention_text` holds: each
    word looked for once per file, however many fixers name it."""
    key = tuple(fixers)
    words = _MENTIONS.get(key)
    if words is None:
        if len(_MENTIONS) >= 64:
            _MENTIONS.clear()
        words = _MENTIONS[key] = frozenset(w for fixer in fixers for w in fixer.mentions)
    text = mention_text(doc)
    return frozenset([word for word in words if word in text])


# The words of the fixers (the files of a run share them), by the fixers themselves (by
# identity: the key keeps them alive, so no identity is reused).
_MENTIONS: dict[tuple[Fixer, ...], frozenset[str]] = {}


def unsafe_applies(f: Finding, unsafe: UnsafeFor) -> bool:
    """Whether fixes marked unsafe apply to ``f``'s file."""
    return unsafe if isinstance(unsafe, bool) else f.path in unsafe


def fix_applies(f: Finding, unsafe: UnsafeFor) -> bool:
    """Whether `dockfix fix` applies this finding's fix (with ``--unsafe-fixes`` when ``unsafe``)."""
    if f.fix is None or f.fix.applicability is Applicability.DISPLAY_ONLY:
        return False
    return f.fix.applicability is Applicability.SAFE or unsafe_applies(f, unsafe)


def _verify(
    old_doc: Dockerfile, new_text: str, edits: Sequence[Edit]
) -> tuple[Dockerfile, str | None]:
    new_doc = parse_lossless(new_text)
    if new_doc.error is not None:
        return new_doc, f"the result does not parse ({new_doc.error})"
    problem = check_invariants(old_doc, new_doc, edits)
    if problem:
        return new_doc, problem
    # The file came in accepted by the build (fix_document checked): so must it go out.
    rejected = build_error(new_doc)
    if rejected is not None:
        return new_doc, f"the build would reject the result ({rejected})"
    return new_doc, None


def fix_document(
    text: str,
    fixers: Sequence[Fixer],
    ctx: FixContext,
    *,
    apply: bool = True,
    unsafe: bool = False,
    doc: Dockerfile | None = None,
) -> FixOutcome:
    """Fix one text; ``doc`` is its tree when the caller parsed it already."""
    out = FixOutcome(original=text, fixed=text, unsafe=unsafe)
    if doc is None or doc.source is not text:
        doc = parse_lossless(text)
    problem = doc.error or build_error(doc)
    if problem is not None:
        out.error = f"BuildKit would reject this file: {problem.reason}"
        out.error_line = problem.line
        return out
    active = list(fixers)
    restructuring = {f.code for f in active if f.restructures}
    changes: dict[Path, FileChange] = {}
    rounds = 0
    while True:
        findings = collect_findings(doc, active, ctx, out.warnings)
        todo = [f for f in findings if fix_applies(f, unsafe)] if apply else []
        if not todo or rounds >= MAX_ROUNDS:
            if todo:
                out.warnings.append(f"fixes did not converge after {MAX_ROUNDS} rounds")
            out.findings = findings
            break
        rounds += 1
        chosen: list[Finding] = []
        taken = TakenEdits()
        first_restructure = next((f for f in todo if f.code in restructuring), None)
        if first_restructure is not None:
            todo = [first_restructure]  # alone: the next round sees the new stages
        for f in todo:
            assert f.fix is not None
            if taken.overlaps(f.fix.edits):
                continue  # applied in a later round, on the new text
            chosen.append(f)
            taken.add(f.fix.edits)
        new_text, new_doc, bad = _apply_group(doc, chosen)
        if bad:
            # Find the fixer that broke the file, drop it for this file, keep the rest.
            good: list[Finding] = []
            for f in chosen:
                _trial, _trial_doc, err = _apply_group(doc, [*good, f])
                if err:
                    out.warnings.append(
                        f"{f.code} proposed a fix that was not applied: {err}; please report this"
                    )
                    active = [x for x in active if x.code != f.code]
                else:
                    good.append(f)
            chosen = good
            new_text, new_doc, bad = _apply_group(doc, chosen)
            if bad or not chosen:
                out.findings = findings
                # (equivalent without it: `good` passed as a whole, so `bad` cannot hold here,
                # and with nothing chosen the round below changes nothing and stops the same)
                break  # pragma: no mutate
        for f in chosen:
            assert f.fix is not None
            for ch in f.fix.file_changes:
                prev = changes.get(ch.path)
                if prev is not None and prev.content != ch.content:
                    out.warnings.append(
                        f"{f.code}: conflicting changes to {ch.path}; kept the first"
                    )
                    continue
                changes[ch.path] = ch
        out.applied.extend(chosen)
        if new_text == doc.source and not any(f.fix and f.fix.file_changes for f in chosen):
            out.findings = findings
            break
        if new_text == doc.source:
            # Only file changes: they do not change the Dockerfile, so stop re-running them.
            active = [x for x in active if x.code not in {f.code for f in chosen}]
        doc = new_doc
    out.fixed = doc.source
    out.file_changes = [changes[p] for p in sorted(changes)]
    if out.fixed != text:
        rejected = buildkit_rejects(out.fixed)
        if rejected and not buildkit_rejects(text):
            out.warnings.append(
                f"BuildKit's parser rejects the fixed text ({rejected}); kept the original"
            )
            out.fixed = text
            out.applied = []
            out.file_changes = []
    return out


def fix_one(doc: Dockerfile, finding: Finding) -> tuple[str, str | None]:
    """The text with one finding's fix applied, verified as :func:`fix_document` verifies a
    round (it parses, keeps the invariants, BuildKit's parser accepts it): ``(text, None)``,
    or ``(doc.source, why it was refused)``. For an editor's quick fix of one finding."""
    new_text, _new_doc, err = _apply_group(doc, [finding])
    if err is None and new_text != doc.source:
        rejected = buildkit_rejects(new_text)
        if rejected and not buildkit_rejects(doc.source):
            err = f"BuildKit's parser rejects the fixed text ({rejected})"
    return (doc.source, err) if err else (new_text, None)


def _apply_group(doc: Dockerfile, chosen: Iterable[Finding]) -> tuple[str, Dockerfile, str | None]:
    edits: list[Edit] = []
    for f in chosen:
        assert f.fix is not None
        edits.extend(f.fix.edits)
    return apply_checked(doc, edits)


def apply_checked(doc: Dockerfile, edits: Sequence[Edit]) -> tuple[str, Dockerfile, str | None]:
    """Apply edits to a tree's text and check the result (it parses, the invariants hold):
    (new text, its tree, the problem or None). Every edit dockfix makes goes through here."""
    if not edits:
        return doc.source, doc, None
    try:
        new_text = apply_edits(doc.source, edits)
    except ValueError as exc:
        return doc.source, doc, str(exc)
    new_doc, err = _verify(doc, new_text, edits)
    return new_text, new_doc, err


def fixable_summary(findings: Iterable[Finding], unsafe: UnsafeFor) -> tuple[int, int]:
    """(fixable now, fixable with --unsafe-fixes) among findings."""
    now = more = 0
    for f in findings:
        if f.fix is None:
            continue
        if fix_applies(f, unsafe):
            now += 1
        elif f.fix.applicability is Applicability.UNSAFE:
            more += 1
    return now, more
