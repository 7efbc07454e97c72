"""A RUN's text as its shell reads the words, for the cheap test a fixer makes before it asks
for the RUN's parsed scripts.

Most RUNs of a file never name the program a fixer acts on (`apt-get`, `apk`, `pip` …); a
substring test on the text answers that in a fraction of what parsing and analysing the shell
costs. The test must never miss a command the analysis would find: the text covers the command
line (for exec form, the JSON array's decoded strings), every heredoc body, and drops the
backslashes the shell model removes from a word (`apt-g\\et` reads as `apt-get`); quotes stay
out of the way, since the model keeps a partly quoted word as written (`up"date"` is not
`update` to it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from dockfix.fixers._lazy import lazy_re
from dockfix.semantics.memo import per_tree
from dockfix.semantics.shell import words_text
from dockfix.syntax import Dockerfile, Instruction, Stage

# What, besides a backslash, can make a command's word differ from the text it is written with.
_REWRITING = ("$", "'", '"', "`")


def words_pattern(*words: str) -> re.Pattern[str]:
    """The pattern a fixer passes to :func:`runs_mentioning`: any of ``words``, anywhere."""
    return lazy_re("|".join(re.escape(w) for w in words))


@per_tree
def run_texts(doc: Dockerfile) -> tuple[tuple[Instruction, str], ...]:
    """Every RUN and ``ONBUILD RUN`` of the file with its text: command line, exec-form
    strings and heredoc bodies, backslashes removed."""
    out: list[tuple[Instruction, str]] = []
    for owner in doc.instructions:
        instr = owner.trigger if owner.trigger is not None else owner
        if instr.keyword != "RUN" or owner.keyword not in ("RUN", "ONBUILD"):
            continue
        out.append((owner, _text(owner)))
    return tuple(out)


def _text(owner: Instruction) -> str:
    text = words_text(owner)
    return text.replace("\\", "") if "\\" in text else text


def runs_mentioning(doc: Dockerfile, words: re.Pattern[str]) -> list[Instruction]:
    """The RUNs (``ONBUILD RUN`` included) whose text matches ``words`` (a
    :func:`words_pattern`), in file order: the others run none of the words, nor name them."""
    search = words.search
    return [owner for owner, text in run_texts(doc) if search(text)]


def may_name(text: str, names: Sequence[str]) -> bool:
    """Whether a shell word of ``text`` may name one of ``names``: a word's value is its text
    without its outer quotes or its backslashes, so the text without backslashes has it."""
    if "\\" in text:
        text = text.replace("\\", "")
    return any(name in text for name in names)


def stage_may_mention(stage: Stage, names: tuple[str, ...]) -> bool:
    """Whether a RUN of ``stage`` may run a command whose words contain one of ``names``
    (expanded: a variable, quotes or a backquote in its text may make any word)."""
    for instr in stage.instructions:
        if instr.keyword == "RUN":
            text = _text(instr)
            if any(n in text for n in names) or any(c in text for c in _REWRITING):
                return True
    return False
