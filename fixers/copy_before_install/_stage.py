"""What the stage says before an instruction: ARG/ENV values (expanded like BuildKit), the
WORKDIR and $HOME. Each is computed once per stage and tree.

Why DF101 does not ask :mod:`dockfix.semantics.semantic` for these (yet): its answers differ from the
model's on purpose, and a thin adapter over the model cannot recover them:

- values are expanded where the ARG/ENV sets them (``ENV B=$A`` keeps the ``$A`` of that
  moment; ``scope_at`` keeps ``$A`` and :func:`dockfix.semantics.semantic.expand` reads it later);
- an ARG without a default, or a variable the file does not set, makes a value unknown even
  under ``${V:-word}``: a ``--build-arg`` or the base image may set it (the model takes the
  value the build has without overrides);
- ``\\$`` is a literal ``$`` (the model gives up);
- a WORKDIR whose value is unknown is a marker equal only to itself, and a relative WORKDIR
  after it stays under it (the model's workdir is None from there on);
- $HOME follows the USER as written (the model's user is expanded).

``tests/fixers/test_copy_before_install.py::test_stage_answers_kept`` pins these answers.
"""

from __future__ import annotations

import posixpath
import re
from collections import ChainMap
from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING

from dockfix.fixers._lazy import lazy_re
from dockfix.fixers.copy_before_install._tree import _IMAGE_WORKDIR, _SYNTHETIC, _join
from dockfix.semantics.memo import per_tree
from dockfix.semantics.semantic import unquote_word
from dockfix.syntax import VariableHistory

if TYPE_CHECKING:
    from dockfix.syntax import Dockerfile, Instruction, Stage


_VAR_RE = lazy_re(
    r"\\\$|\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)


def _expand(text: str, scope: Mapping[str, str | None]) -> str | None:
    """Expand ``$VAR``/``${VAR...}`` like BuildKit; None when a value is unknown.

    ``scope`` holds values already expanded (see :func:`_scope`); None marks a build argument
    without a default, whose value only the build knows.
    """
    unknown = False

    def repl(m: re.Match[str]) -> str:
        nonlocal unknown
        if m.group(0) == "\\$":
            return "$"
        name = m.group(1) or m.group(4)
        op, word = m.group(2), m.group(3) or ""
        declared = name in scope
        value = scope.get(name)
        if declared and value is None:
            unknown = True  # a build argument decides
            return ""
        if not declared:
            # Not set in this Dockerfile: it may come from the base image's environment.
            unknown = True
            return ""
        assert value is not None
        if op == ":-":
            return value or word
        if op == "-":
            return value
        if op == ":+":
            return word if value else ""
        if op == "+":
            return word
        return value

    out = _VAR_RE.sub(repl, text)
    return None if unknown else out


def _scope(doc: Dockerfile, stage: Stage, instr: Instruction | None) -> Mapping[str, str | None]:
    """ARG/ENV values in effect before ``instr`` (end of stage when None), expanded in order
    (a read-only view)."""
    return _scope_history(doc, stage).at(stage.position(instr))


@per_tree
def _scope_history(doc: Dockerfile, stage: Stage) -> VariableHistory:
    # Asked for every RUN and WORKDIR of a stage: one walk per tree.
    from dockfix.syntax import arg_pairs, env_pairs

    global_scope: dict[str, str | None] = {}
    for gi in doc.instructions:
        if gi.keyword == "FROM":
            break
        if gi.keyword == "ARG":
            for name, value in arg_pairs(gi):
                global_scope[name] = _expand(value, global_scope) if value is not None else None
    scope: dict[str, str | None] = {}
    if stage.parent is not None and stage.parent is not stage:
        scope.update(_scope(doc, stage.parent, None))
    history = VariableHistory(scope)
    for i in stage.instructions:
        if i.keyword == "ARG":
            for name, value in arg_pairs(i):
                if value is None:
                    if name in scope:
                        continue
                    value = global_scope.get(name)
                    scope[name] = value
                else:
                    scope[name] = _expand(value, scope)
                history.set(name, i.index, scope[name])
        elif i.keyword == "ENV":
            for name, value in env_pairs(i):
                scope[name] = _expand(value, scope)
                history.set(name, i.index, scope[name])
    return history


def _copy_env(env: MutableMapping[str, str | None]) -> MutableMapping[str, str | None]:
    """A copy of a RUN's variables: what the RUN set copied, the stage's shared (a view)."""
    if isinstance(env, ChainMap) and len(env.maps) == 2:
        return ChainMap(dict(env.maps[0]), env.maps[1])
    return dict(env)


def _var_names(text: str) -> set[str]:
    return {m.group(1) or m.group(4) for m in _VAR_RE.finditer(text) if m.group(0) != "\\$"}


def _default_home(doc: Dockerfile, stage: Stage, index: int) -> str | None:
    """$HOME for the user a RUN runs as: /root unless a USER instruction changed the user."""
    return _stage_homes(doc, stage)[index]


@per_tree
def _stage_homes(doc: Dockerfile, stage: Stage) -> list[str | None]:
    """:func:`_default_home` before each instruction of the stage and at its end; once per
    tree (a walk back from every RUN made a file's cost quadratic)."""
    parent = stage.parent
    home = _stage_homes(doc, parent)[-1] if parent is not None and parent is not stage else "/root"
    homes: list[str | None] = []
    for instr in stage.instructions:
        homes.append(home)
        if instr.keyword == "USER":
            user = instr.args.split(":", 1)[0].strip()
            home = "/root" if user in ("root", "0") else None
    homes.append(home)
    return homes


def _initial_workdir(stage: Stage, doc: Dockerfile) -> str | None:
    if stage.parent is not None and stage.parent is not stage:
        return _workdir_at(stage.parent, len(stage.parent.instructions), doc)
    return "/" if stage.base.lower() == "scratch" else _IMAGE_WORKDIR


def _workdir_at(stage: Stage, index: int, doc: Dockerfile) -> str | None:
    """The WORKDIR before the stage's instruction ``index`` (its end for the length)."""
    return _stage_workdirs(doc, stage)[index]


@per_tree
def _stage_workdirs(doc: Dockerfile, stage: Stage) -> list[str | None]:
    """The WORKDIR before each instruction of the stage and at its end, once per tree."""
    cwd = _initial_workdir(stage, doc)
    out: list[str | None] = []
    for instr in stage.instructions:
        out.append(cwd)
        if instr.keyword != "WORKDIR":
            continue
        value = _expand(unquote_word(instr.args), _scope(doc, stage, instr))
        if value is None:
            # Unknown (a build argument): equal only to itself.
            cwd = f"{_SYNTHETIC}line-{instr.start_line}"
        elif value.startswith("/"):
            cwd = posixpath.normpath(value)
        elif cwd is not None:
            cwd = _join(cwd, value)
    out.append(cwd)
    return out
