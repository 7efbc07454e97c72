"""A cheap test of what a stage's `RUN`s can run, read from their text before any analysis:
the multi-stage rules (DF304, DF305) skip the expansion of every RUN's commands on the files
where the program they look for cannot appear.

The test only answers "no" when it is certain: a command's words are substrings of the RUN's
text (its command line with continuations joined, and its heredoc bodies) unless something
in the text rewrites them, a variable (`$`), an escape (`\\`) or quotes. A RUN with any of
those may run anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dockfix.syntax import Instruction, Stage

# What can make a command's word differ from the text it is written with.
_REWRITING = ("$", "\\", "'", '"', "`")


def run_may_mention(instr: Instruction, names: tuple[str, ...]) -> bool:
    """Whether a command of the RUN ``instr`` may contain one of ``names`` in its words."""
    text = instr.logical + "".join(h.body for h in instr.heredocs)
    return any(n in text for n in names) or any(c in text for c in _REWRITING)


def stage_may_mention(stage: Stage, names: tuple[str, ...]) -> bool:
    """Whether a RUN of ``stage`` may run a command whose words contain one of ``names``."""
    return any(run_may_mention(i, names) for i in stage.instructions if i.keyword == "RUN")
