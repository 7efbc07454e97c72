"""A third-party fixer package whose fixers break files on purpose, one safety net each.

:func:`install` writes it into a site directory as an installed distribution that declares
the ``dockfix.fixers`` entry-point group, so dockfix loads it exactly as it loads a real
plug-in. Each fixer stops proposing once its fix is in the text, so a net that is missing
shows up as a changed file rather than as fixes that never converge.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from dockfix.core.fixer import Edit, Finding, Fix, Fixer
from dockfix.core.suppression import is_pragma
from dockfix.semantics.context import FixContext
from dockfix.syntax import Dockerfile, Heredoc, Instruction

MODULE = "dockfix_misbehaving"


def _heredocs(doc: Dockerfile) -> Iterator[tuple[Instruction, Heredoc]]:
    for instr in doc.instructions:
        for h in instr.heredocs:
            yield instr, h


def _word_at(instr: Instruction, h: Heredoc) -> int:
    """Source offset of a heredoc word's ``<<``."""
    return instr.to_source(h.word_start)


class DashHeredoc(Fixer):
    """Turns ``<<EOF`` into ``<<-EOF``: one edit of the header, the body's bytes untouched."""

    code = "BAD101"
    name = "dash-heredoc"
    summary = "a heredoc that does not strip tabs"

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for instr, h in _heredocs(doc):
            if not h.strip_tabs and h.fd is None:
                at = _word_at(instr, h) + 2
                yield self.finding(instr, "use <<-", Fix.safe(Edit.insert(at, "-")))


class QuoteHeredoc(Fixer):
    """Quotes an unquoted delimiter (``<<EOF`` to ``<<'EOF'``), which stops expansion."""

    code = "BAD102"
    name = "quote-heredoc"
    summary = "a heredoc delimiter that is not quoted"

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for instr, h in _heredocs(doc):
            if not h.quoted:
                s = instr.to_source(h.word_end - len(h.name))
                fix = Fix.safe(Edit(s, s + len(h.name), f"'{h.name}'"))
                yield self.finding(instr, "quote it", fix)


class UnquoteHeredoc(Fixer):
    """Removes the quotes of ``<<'EOF'``, which turns expansion on."""

    code = "BAD103"
    name = "unquote-heredoc"
    summary = "a heredoc delimiter that is quoted"

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for instr, h in _heredocs(doc):
            if h.quoted:
                s = _word_at(instr, h) + 2 + (1 if h.strip_tabs else 0)
                e = instr.to_source(h.word_end)
                yield self.finding(instr, "unquote it", Fix.safe(Edit(s, e, h.name)))


class SplitPragma(Fixer):
    """Inserts a LABEL directly above an instruction that has a pragma directly above it."""

    code = "BAD104"
    name = "split-pragma"
    summary = "an instruction with a pragma"

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for instr in doc.instructions:
            above = doc.comment_lines_above(instr)
            if instr.keyword != "LABEL" and above and is_pragma(above[-1]):
                fix = Fix.safe(Edit.insert(instr.start, f"LABEL plugin=1{doc.eol}"))
                yield self.finding(instr, "label it", fix)


class CloseHeredocEarly(Fixer):
    """Inserts the delimiter as the body's first line: the body is re-read as instructions."""

    code = "BAD105"
    name = "close-heredoc-early"
    summary = "a heredoc with a body"

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for instr, h in _heredocs(doc):
            if h.body:
                fix = Fix.safe(Edit.insert(h.body_start, f"{h.name}{doc.eol}"))
                yield self.finding(instr, "close it", fix)


class SpaceHeredoc(Fixer):
    """Writes ``<< EOF`` for ``<<EOF``: dockfix reads both as a heredoc (as BuildKit master
    does); the BuildKit parser of the ``dockerfile`` package reads the body as instructions."""

    code = "BAD106"
    name = "space-heredoc"
    summary = "a heredoc word without a space"

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for instr, h in _heredocs(doc):
            at = _word_at(instr, h) + 2
            if not h.strip_tabs and doc.source[at] != " ":
                yield self.finding(instr, "space it", Fix.safe(Edit.insert(at, " ")))


class OverlappingEdits(Fixer):
    """One fix whose two edits overlap: lower-cases ``FROM`` twice."""

    code = "BAD107"
    name = "overlapping-edits"
    summary = "an upper-case FROM"

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for instr in doc.instructions:
            if instr.keyword_raw == "FROM":
                s = instr.start
                fix = Fix.safe(Edit(s, s + 4, "from"), Edit(s + 2, s + 4, "om"))
                yield self.finding(instr, "lower it", fix)


class CommentAboveDirectives(Fixer):
    """Inserts a comment at the top of the file, above its parser directives."""

    code = "BAD108"
    name = "comment-above-directives"
    summary = "a file without a banner"

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        banner = f"# generated by a plug-in{doc.eol}"
        if not doc.source.startswith(banner):
            yield self.finding(1, "add a banner", Fix.safe(Edit.insert(0, banner)))


class AppendUser(Fixer):
    """Appends ``USER 1000`` as a new line after the last instruction's line break."""

    code = "BAD109"
    name = "append-user"
    summary = "a file without USER"

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        last = doc.instructions[-1]
        if "USER" not in doc.source:
            fix = Fix.safe(Edit.insert(last.next, f"USER 1000{doc.eol}"))
            yield self.finding(last, "add a user", fix)


class LabelBeforeFrom(Fixer):
    """Inserts a LABEL above the first FROM: BuildKit's parser takes it, its build does not."""

    code = "BAD110"
    name = "label-before-from"
    summary = "a file"

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        first = doc.instructions[0]
        yield self.finding(
            first, "label it", Fix.safe(Edit.insert(first.start, f"LABEL a=1{doc.eol}"))
        )


FIXERS = (
    DashHeredoc,
    QuoteHeredoc,
    UnquoteHeredoc,
    SplitPragma,
    CloseHeredocEarly,
    SpaceHeredoc,
    OverlappingEdits,
    CommentAboveDirectives,
    AppendUser,
    LabelBeforeFrom,
)


def install(site: Path) -> None:
    """Install this module into ``site`` as the distribution ``misbehaving-fixers``."""
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{MODULE}.py").write_text(Path(__file__).read_text(encoding="utf-8"))
    info = site / "misbehaving_fixers-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: misbehaving-fixers\nVersion: 1.0\n"
    )
    points = "".join(f"{cls.name} = {MODULE}:{cls.__name__}\n" for cls in FIXERS)
    (info / "entry_points.txt").write_text(f"[dockfix.fixers]\n{points}")
