"""A Markdown pull-request description for a fix run.

Deterministic (sorted, no timestamps, no absolute paths), so a bot that re-runs on the same
tree produces the same description and does not churn its PR. One section per rule: its
rationale once (each fix may carry its own, where the fixer's text would not match the edit,
e.g. DF103 on an `apk` line), then the files it changed. GitHub rejects descriptions over
65,536 characters, so :func:`pr_bodies` also gives a version cut to a limit, whose listings
end with "… and N more" and which names the file holding the full description.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from dockfix.core.catalog import all_fixers
from dockfix.core.fixer import Finding, Fixer
from dockfix.output.sarif import RULE_URL

if TYPE_CHECKING:
    from dockfix.output.gitops import CodeCommit

DEFAULT_LIMIT = 60_000  # characters; GitHub's limit is 65,536


def why(fixer: type[Fixer]) -> str:
    """The first paragraph of the fixer's "Why is this bad" section, on one line."""
    doc = fixer.documentation()
    m = re.search(r"^##\s*Why is this bad\s*\n(.*?)(?:\n\s*\n|\n##|\Z)", doc, re.S | re.M)
    return " ".join(m.group(1).split()) if m else fixer.summary


def rationale(finding: Finding, documented: str) -> str:
    """Why this change is made: the fix's own words, else ``documented`` (:func:`why`)."""
    if finding.fix is not None and finding.fix.rationale:
        return finding.fix.rationale
    return documented


def overflow_path(body: Path) -> Path:
    """Where the full description goes when the body is cut: ``pr.md`` → ``pr.full.md``."""
    stem = body.name[:-3] if body.name.endswith(".md") else body.name
    return body.with_name(stem + ".full.md")


def _link(fixer: type[Fixer]) -> str:
    return RULE_URL.format(module=fixer.__module__.rsplit(".", 1)[-1])


class _Section(NamedTuple):
    head: list[str]
    items: list[str]  # one line each; a cut body keeps the first ones
    tail: list[str]


def pr_bodies(
    applied: Sequence[Finding],
    left: Sequence[Finding],
    verify_section: str = "",
    commits: Sequence[CodeCommit] = (),
    limit: int = DEFAULT_LIMIT,
    overflow_name: str = "",
) -> tuple[str, str]:
    """(the description cut to ``limit`` characters, the full description); the same text
    twice when it fits. The cut one names ``overflow_name``, where the full one is put."""
    sections = _sections(applied, left, verify_section, commits)
    full = _render(sections, None, "")
    if len(full) <= limit:
        return full, full
    return _fit(sections, limit, overflow_name), full


def write_pr_body(
    path: Path,
    limit: int | None,
    applied: Sequence[Finding],
    left: Sequence[Finding],
    verify_section: str = "",
    commits: Sequence[CodeCommit] = (),
) -> None:
    """Write the description to ``path``, cut to ``limit`` (default 60,000); when cut, the
    full one goes to :func:`overflow_path`, which the cut one names."""
    overflow = overflow_path(path)
    body, full = pr_bodies(
        applied, left, verify_section, commits, limit or DEFAULT_LIMIT, overflow.name
    )
    path.write_text(body, encoding="utf-8")
    if body != full:
        overflow.write_text(full, encoding="utf-8")
    elif overflow.exists():
        overflow.unlink()  # an earlier run's: it would be uploaded with this body


def _sections(
    applied: Sequence[Finding],
    left: Sequence[Finding],
    verify_section: str,
    commits: Sequence[CodeCommit],
) -> list[_Section]:
    fixers = all_fixers()
    by_code: dict[str, list[Finding]] = defaultdict(list)
    for f in applied:
        by_code[f.code].append(f)
    head = ["## dockfix: Dockerfile fixes", ""]
    sections = [_Section(head, [], [])]
    if not applied:
        head += ["No fixes applied.", ""]
    else:
        nfiles = len({f.path for f in applied})
        head.append(f"{_count(len(applied), 'fix', 'fixes')} in {_count(nfiles, 'file')}.")
        head += ["", "| code | name | files | safety |", "| --- | --- | --- | --- |"]
        for code in sorted(by_code):
            fx = fixers.get(code)
            safeties = sorted({f.applicability.value for f in by_code[code]})
            name = f"[{fx.name}]({_link(fx)})" if fx else code
            files = len({f.path for f in by_code[code]})
            head.append(f"| {code} | {name} | {files} | {', '.join(safeties)} |")
        head.append("")
        for code in sorted(by_code):
            sections.extend(_rule_sections(code, fixers.get(code), by_code[code]))
    if left:
        items = []
        for f in sorted(left, key=Finding.sort_key):
            reason = f.reason or (
                "needs `--unsafe-fixes`" if f.fix is not None else "no automatic fix"
            )
            items.append(f"- `{f.path}:{f.line}` **{f.code}** {f.message} — {reason}")
        sections.append(_Section(["### Found but not fixed", ""], items, [""]))
    if verify_section:
        first, *rest = verify_section.rstrip().split("\n")
        sections.append(_Section([first], rest, [""]))
    sections.append(_Section(_commit_note(commits), [], []))
    return sections


def _rule_sections(code: str, fx: type[Fixer] | None, found: list[Finding]) -> list[_Section]:
    """A rule's heading, then per rationale (most often one) the rationale and its files."""
    by_why: dict[str, dict[str, list[Finding]]] = defaultdict(lambda: defaultdict(list))
    documented = why(fx) if fx is not None else ""
    for f in found:
        by_why[rationale(f, documented)][f.path].append(f)
    title = f"[{fx.name}]({_link(fx)})" if fx is not None else code
    nfiles = len({f.path for f in found})
    out = []
    for i, text in enumerate(sorted(by_why)):
        head = [f"### {code} {title} ({_count(nfiles, 'file')})", ""] if i == 0 else []
        if text:
            head += [f"Why: {text}", ""]
        items = []
        for path, mine in sorted(by_why[text].items()):
            changes = "; ".join(
                f"line {f.line}: {(f.fix.description if f.fix else '') or f.message}"
                f" ({f.applicability.value})"
                for f in sorted(mine, key=lambda x: (x.line, x.column))
            )
            items.append(f"- `{path}`: {changes}")
        out.append(_Section(head, items, [""]))
    return out


def _commit_note(commits: Sequence[CodeCommit]) -> list[str]:
    """What is promised about dropping commits: only what was checked."""
    made = [c for c in commits if c.sha]
    if not made:
        return ["<sub>Generated by dockfix.</sub>"]
    if any(c.revert_with is None for c in made):
        return [
            "<sub>Generated by dockfix. Each commit holds one kind of change; whether each "
            "reverts on its own was not checked (that needs git 2.38 or later).</sub>"
        ]
    tied = [c for c in made if c.revert_with]
    if not tied:
        return [
            "<sub>Generated by dockfix. Each commit holds one kind of change and reverts on its "
            "own: drop a commit to drop that change.</sub>"
        ]
    out = [
        "Each commit holds one kind of change. Some change the same or neighbouring lines, so "
        "these revert only together with later ones (newest first):",
        "",
    ]
    for c in tied:
        out.append(f"- {c.code} `{c.sha[:12]}`: with {', '.join(c.revert_with or [])}")
    out += ["", "The other commits revert on their own.", "", "<sub>Generated by dockfix.</sub>"]
    return out


def _count(n: int, one: str, many: str = "") -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _render(sections: Sequence[_Section], kept: Sequence[int] | None, overflow: str) -> str:
    """The sections, each with its first ``kept[i]`` items (all when ``kept`` is None) and a
    line naming ``overflow`` where some were left out."""
    out: list[str] = []
    for i, s in enumerate(sections):
        out += s.head
        n = len(s.items) if kept is None else kept[i]
        out += s.items[:n]
        if n < len(s.items):
            out.append(f"- … and {len(s.items) - n} more (see `{overflow}`)")
        out += s.tail
    return "\n".join(out) + "\n"


def _fit(sections: Sequence[_Section], limit: int, overflow: str) -> str:
    """Keep of each section's items a fair share of what the limit leaves."""
    note = _Section(
        [
            f"> This description is cut to {limit:,} characters; the full listing is in "
            f"`{overflow}`.",
            "",
        ],
        [],
        [],
    )
    sections = [sections[0], note, *sections[1:]]
    nothing = [0] * len(sections)
    budget = limit - len(_render(sections, nothing, overflow))
    kept = list(nothing)
    waiting = [i for i, s in enumerate(sections) if s.items]
    for order, i in enumerate(waiting):
        share = budget // (len(waiting) - order)
        used = 0
        for item in sections[i].items:
            if used + len(item) + 1 > share:
                break
            used += len(item) + 1
            kept[i] += 1
        budget -= used
    body = _render(sections, kept, overflow)
    if len(body) > limit:  # the headings alone are too long: cut the text itself
        tail = f"\n… (cut; the full description is in `{overflow}`)\n"
        body = body[: max(0, limit - len(tail))] + tail
    return body
