"""The RUNs of a DF201 (root-user) chain that may run a given program (`chown`, `useradd`, a
package manager): the text test made before their scripts are parsed and analysed.

Most RUNs name none of those programs; :mod:`_run_text` holds each RUN's text once per tree
(other fixers ask for it too), so the test is a dictionary look-up and a substring search.
"""

from __future__ import annotations

from collections.abc import Sequence

from dockfix.fixers._run_text import may_name, run_texts
from dockfix.semantics.memo import per_tree
from dockfix.semantics.shell import words_text
from dockfix.syntax import Dockerfile, Instruction


@per_tree
def _texts(doc: Dockerfile) -> dict[int, str]:
    """Each RUN's text (backslashes dropped), by the instruction's identity."""
    return {id(owner): text for owner, text in run_texts(doc)}


def runs_naming(
    doc: Dockerfile, instrs: Sequence[Instruction], names: Sequence[str]
) -> list[Instruction]:
    """The RUNs of ``instrs`` whose text names one of ``names`` (the others run none)."""
    texts = _texts(doc)
    out: list[Instruction] = []
    for instr in instrs:
        if instr.keyword != "RUN":
            continue
        text = texts.get(id(instr))
        if text is None:  # not an instruction of ``doc``: read it here
            text = words_text(instr)
        if may_name(text, names):
            out.append(instr)
    return out
