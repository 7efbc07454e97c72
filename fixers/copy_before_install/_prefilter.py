"""Whether a RUN may hold a dependency install, from its text alone (no shell parse).

A whole-tree copy gets a finding only when a RUN after it, in its stage, runs a dependency
install: a package manager's install subcommand (``npm ci``, ``go mod download``, a bare
``yarn``) or a build tool that resolves dependencies (``mvn``, ``gradle``). The analysis of
a copy with no such RUN below it always ends without a finding, so the copy is skipped
before it: most copies in a monorepo are followed by builds (``npm run build``, ``go
build``), and the walk parses every RUN.

The test may say yes wrongly (``echo npm ci``), never no wrongly: a command's words are its
text with some quotes and backslashes removed, and words are delimited by characters none of
the names below contain, so once every quote and backslash is taken out of the text, each
word of the install (the program's last path part, its subcommand) is still one of the
pieces the text splits into at any other character than a letter, digit, ``.``, ``:``, ``-``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._package_managers import PACKAGE_MANAGERS, PIP_PROGRAM
from dockfix.fixers.copy_before_install._analyzers import BUILD_TOOLS

if TYPE_CHECKING:
    from dockfix.syntax import Instruction, Stage


def _install_words() -> dict[str, list[frozenset[str]]]:
    """Program name -> the words of each of its install subcommands (empty: the program
    alone may install). ``python -m pip`` names ``pip`` as a word too."""
    out: dict[str, list[frozenset[str]]] = {}
    for pm in PACKAGE_MANAGERS.values():
        for exe in pm.executables:
            forms = out.setdefault(exe, [])
            forms.extend(frozenset(form) for form in pm.install_subcommands)
    for exe in BUILD_TOOLS:
        out[exe] = [frozenset()]  # goals and tasks in any order: the analyzer decides
    return out


_INSTALL_WORDS = _install_words()
_SEPARATORS = lazy_re(r"[^\w.:-]+")
_QUOTING = str.maketrans("", "", "'\"\\")


def may_install(instr: Instruction) -> bool:
    """Whether the RUN ``instr`` may run a dependency install (False: it surely does not)."""
    if instr.json_args is not None:
        text = " ".join(instr.json_args)
    else:
        text = instr.logical[instr.args_start :].translate(_QUOTING)
    words = set(_SEPARATORS.split(text))
    for word in words:
        forms = _INSTALL_WORDS.get(word)
        if forms is None and word.startswith("pip") and PIP_PROGRAM.match(word):
            forms = _INSTALL_WORDS["pip"]  # pip3.12
        if forms is not None and any(form <= words for form in forms):
            return True
    return False


def may_install_after(stage: Stage, index: int) -> bool:
    """Whether a RUN after the stage's instruction ``index`` may install."""
    instrs = stage.instructions
    for j in range(index + 1, len(instrs)):
        instr = instrs[j]
        if instr.keyword == "RUN" and may_install(instr):
            return True
    return False
