"""What a Dockerfile means at each instruction, worked out once per tree for every fixer.

A fixer asks this module instead of walking the file again:

- variables: :func:`scope_at` (ARG and ENV in scope, global ARG defaults, what a stage
  inherits from the stage it is built ``FROM``), :func:`expand` (BuildKit's expansion),
  :func:`variable_uses` (the variables a text names, as BuildKit's lexer reads it) and the
  arguments BuildKit defines itself (:data:`PLATFORM_ARGS`, :data:`PROXY_ARGS`);
- stages: :func:`stage_chain` (a stage and the stages it is built on), :func:`descendants`
  (the stages built on it), :func:`stage_named_by` (the stage a ``COPY --from`` or a
  ``RUN --mount=from=`` names) and :func:`copies_from` (the instructions that copy out of it);
- a RUN's ``--mount`` flags, read: :func:`mounts`;
- the base image: :func:`from_reference` (a stage's ``FROM`` with the global ARG defaults
  expanded), :func:`base_reference` (that of the root of its chain: the image it starts
  from) and :func:`base_image` (that reference parsed);
- the ``USER`` and ``WORKDIR`` in effect before an instruction: :func:`settings_at`,
  :func:`workdir_at`, :func:`user_at`.

It knows no anti-pattern and no public image: what a base image sets itself (its WORKDIR,
its ENV) is passed in by the fixer that has those facts. Answers that depend only on the tree
are memoised with :func:`dockfix.semantics.memo.per_tree`.
"""

from __future__ import annotations

import posixpath
from collections import ChainMap
from collections.abc import Mapping, MutableMapping
from typing import NamedTuple, cast

from dockfix.registry.image_ref import ImageRef
from dockfix.semantics.memo import per_instruction, per_tree
from dockfix.syntax import Dockerfile, Instruction, Stage, expand

__all__ = [
    "PLATFORM_ARGS",
    "PROXY_ARGS",
    "Mount",
    "Settings",
    "VariableUse",
    "base_image",
    "base_reference",
    "copies_from",
    "default_reference",
    "descendants",
    "expand",
    "from_reference",
    "is_within",
    "layered",
    "mounts",
    "resolve_path",
    "scope_at",
    "settings_after",
    "settings_at",
    "stage_chain",
    "stage_named_by",
    "unquote_word",
    "user_at",
    "variable_uses",
    "workdir_at",
]

Scope = Mapping[str, "str | None"]
_NO_ENV: tuple[tuple[str, str], ...] = ()


# --- variables ------------------------------------------------------------------------------


def scope_at(stage: Stage, instr: Instruction | None = None) -> Scope:
    """The ARG/ENV variables in scope before ``instr`` (the stage's end when None), with their
    values as written (:func:`expand` expands a value that names other variables). A view:
    to add to it, wrap it with :func:`layered`."""
    return stage.scope_at(instr)


# The platform arguments BuildKit defines in the global scope: a FROM reads them undeclared,
# a stage only after an `ARG NAME` without a value (Dockerfile reference, "Automatic
# platform ARGs in the global scope").
PLATFORM_ARGS = frozenset(
    {
        "TARGETPLATFORM",
        "TARGETOS",
        "TARGETARCH",
        "TARGETVARIANT",
        "BUILDPLATFORM",
        "BUILDOS",
        "BUILDARCH",
        "BUILDVARIANT",
    }
)
# The predefined ARGs usable without an ARG instruction (Dockerfile reference, "Predefined
# ARGs"), in both spellings.
PROXY_ARGS = frozenset(
    name
    for base in ("HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY")
    for name in (base, base.lower())
)


class VariableUse(NamedTuple):
    """A variable a text names: ``$NAME`` or ``${NAME…}`` at ``start:end``."""

    name: str
    start: int
    end: int
    # `${V:-w}`, `${V-w}`, `${V:+w}`, `${V+w}`: the text gives what to use when V is unset
    guarded: bool


_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME_REST = _NAME_START | frozenset("0123456789")


def variable_uses(text: str, escape: str = "\\") -> list[VariableUse]:
    """The variables ``text`` names where BuildKit expands it (the words of ENV, LABEL, COPY
    …), in order: not after the escape character, not inside single quotes; the variables
    inside a ``${V:-word}`` word too. ``$1`` and ``$@`` name no variable."""
    out: list[VariableUse] = []
    _scan_uses(text, 0, len(text), escape, out)
    return out


def _scan_uses(text: str, i: int, stop: int, escape: str, out: list[VariableUse]) -> int:
    """Scan ``text[i:stop]`` up to an unmatched ``}`` (returned) or ``stop``."""
    quote = ""
    while i < stop:
        c = text[i]
        if c == escape and quote != "'":
            i += 2
        elif quote == "'":
            quote = "" if c == "'" else quote
            i += 1
        elif c in "'\"" and (not quote or quote == c):
            quote = "" if quote else c
            i += 1
        elif c == "}" and not quote:
            return i
        elif c == "$":
            i = _scan_dollar(text, i, stop, escape, out)
        else:
            i += 1
    return stop


def _scan_dollar(text: str, i: int, stop: int, escape: str, out: list[VariableUse]) -> int:
    start = i
    i += 1
    braced = i < stop and text[i] == "{"
    if braced:
        i += 1
    j = i
    if j < stop and text[j] in _NAME_START:
        while j < stop and text[j] in _NAME_REST:
            j += 1
    name = text[i:j]
    if not braced:
        if name:
            out.append(VariableUse(name, start, j, False))
        return max(j, start + 1)
    if not name:
        return j  # `${1}`, `${@}`: no variable; an error BuildKit reports itself
    op = text[j : j + 2] if text[j : j + 1] == ":" else text[j : j + 1]
    guarded = op in (":-", ":+", "-", "+")
    index = len(out)
    end = _scan_uses(text, j, stop, escape, out) if text[j : j + 1] != "}" else j
    out.insert(index, VariableUse(name, start, min(end + 1, stop), guarded))
    return end + 1


def layered(*scopes: Mapping[str, str | None]) -> MutableMapping[str, str | None]:
    """The scopes as one, the first winning; what is set goes into a new first layer. A view,
    not a copy: a stage's variables are looked at from every instruction, and a copy of them
    each time made a file's cost grow with its length times its number of variables."""
    layers = [cast("MutableMapping[str, str | None]", s) for s in scopes]
    return ChainMap({}, *layers)


def unquote_word(word: str) -> str:
    """A word quoted whole (``"/srv/app"``) without its quotes."""
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "'\"":
        return word[1:-1]
    return word


def resolve_path(path: str, cwd: str | None) -> str | None:
    """An absolute, normalised image path; None when relative to an unknown directory."""
    if not path:
        return None
    if path.startswith("/"):
        return posixpath.normpath(path).replace("//", "/")
    if cwd is None:
        return None
    return posixpath.normpath(posixpath.join(cwd, path))


def is_within(path: str, root: str) -> bool:
    """Whether ``path`` is ``root`` or inside it (both absolute and normalised)."""
    if root == "/":
        return True
    return path == root or path.startswith(root + "/")


# --- stages ---------------------------------------------------------------------------------


def stage_chain(stage: Stage) -> list[Stage]:
    """The stages ``stage`` is built on and ``stage`` itself, the root first."""
    chain = [stage]
    seen = {id(stage)}
    parent = stage.parent
    while parent is not None and id(parent) not in seen:
        seen.add(id(parent))
        chain.append(parent)
        parent = parent.parent
    chain.reverse()
    return chain


@per_tree
def descendants(doc: Dockerfile, stage: Stage) -> list[Stage]:
    """The later stages built ``FROM`` ``stage``, directly or through others, in file order."""
    family = {id(stage)}
    out: list[Stage] = []
    for st in doc.stages[stage.index + 1 :]:
        if st.parent is not None and id(st.parent) in family:
            family.add(id(st))
            out.append(st)
    return out


def stage_named_by(doc: Dockerfile, name: str | None, user: Stage | None = None) -> Stage | None:
    """The stage a ``--from`` names (alias or index), or None for an image or a variable. With
    ``user``, only a stage before it counts (BuildKit refers to earlier stages only)."""
    if not name or "$" in name:
        return None
    found = doc.stage_named(name)
    if found is not None and user is not None and found.index >= user.index:
        return None
    return found


@per_tree
def copies_from(doc: Dockerfile, stage: Stage) -> list[Instruction]:
    """The ``COPY --from`` instructions of later stages that name ``stage``."""
    out: list[Instruction] = []
    for st in doc.stages[stage.index + 1 :]:
        for i in st.instructions:
            f = i.flag("from") if i.keyword == "COPY" else None
            if f is not None and stage_named_by(doc, f.value, st) is stage:
                out.append(i)
    return out


class Mount(NamedTuple):
    """One ``--mount`` of a RUN, its fields unquoted (keys are case-insensitive)."""

    type: str  # lower case; "bind" when not given
    target: str  # `target`, `dst` or `destination`; "" when not given
    source: str  # `source` or `src`; "" when not given
    from_: str | None  # `from` (a stage or an image), None when not given


@per_instruction
def mounts(instr: Instruction) -> tuple[Mount, ...]:
    """The ``--mount`` flags of a RUN, in order."""
    out: list[Mount] = []
    for value in instr.flag_values("mount"):
        fields: dict[str, str] = {}
        for part in value.split(","):
            key, _, val = part.partition("=")
            fields[key.strip().lower()] = val.strip().strip("\"'")
        target = fields.get("target") or fields.get("dst") or fields.get("destination") or ""
        source = fields.get("source") or fields.get("src") or ""
        kind = fields.get("type", "bind").lower()
        out.append(Mount(kind, target, source, fields.get("from")))
    return tuple(out)


# --- the base image ---------------------------------------------------------------------------


def from_reference(doc: Dockerfile, stage: Stage) -> str | None:
    """The stage's ``FROM`` with the global ARG defaults expanded (an image, ``scratch`` or a
    stage name); None when it depends on an unknown value."""
    return expand(stage.base, doc.global_args, doc.escape)


def default_reference(
    doc: Dockerfile, stage: Stage, undeclared: frozenset[str] = frozenset()
) -> str | None:
    """The stage's ``FROM`` as a build without ``--build-arg`` reads it: global ARGs at their
    defaults, one without a default empty, as are the ``undeclared`` names (BuildKit expands
    a name no global ARG declares to nothing); None when it depends on something else (a
    platform argument)."""
    scope: dict[str, str | None] = {k: v or "" for k, v in doc.global_args.items()}
    scope.update((name, "") for name in undeclared if name not in scope)
    return expand(stage.base, scope, doc.escape)


@per_tree
def base_reference(doc: Dockerfile, stage: Stage) -> str | None:
    """:func:`from_reference` of the root of the stage's chain (the image it starts from,
    ``scratch`` included); None when it is empty or depends on an unknown value."""
    root = stage_chain(stage)[0]
    if not root.base:
        return None
    return from_reference(doc, root)


@per_tree
def base_image(doc: Dockerfile, stage: Stage) -> ImageRef | None:
    """:func:`base_reference` parsed; None for ``scratch``, an unknown or an invalid one."""
    text = base_reference(doc, stage)
    if text is None or text.lower() == "scratch":
        return None
    try:
        return ImageRef.parse(text)
    except ValueError:
        return None


# --- USER and WORKDIR -------------------------------------------------------------------------


class Settings(NamedTuple):
    """What the USER and WORKDIR instructions before an instruction leave in effect."""

    user: str | None  # the last USER, expanded; None without one or when it is unresolved
    workdir: str | None  # absolute; None when unknown (a WORKDIR that cannot be resolved)
    unresolved: str  # the first USER or WORKDIR that cannot be resolved, "" when none


def settings_at(
    doc: Dockerfile,
    stage: Stage,
    instr: Instruction | None,
    initial_workdir: str | None = "/",
    base_env: Mapping[str, str] | None = None,
) -> Settings:
    """The :class:`Settings` before ``instr`` in ``stage``'s chain (its end for None or an
    instruction outside the chain). The chain starts in ``initial_workdir`` (the base image's
    WORKDIR, None when unknown); values are expanded over the variables in scope, then over
    ``base_env`` (what the base image sets, which the file does not show)."""
    # What the base image sets matters only to a USER or WORKDIR that names a variable: without
    # one, every base_env shares the walk of the stage (and its memo) with the callers that
    # pass none.
    env = tuple(base_env.items()) if base_env and _settings_expand(doc, stage) else _NO_ENV
    states, end = _settings(doc, stage, initial_workdir, env)
    if instr is None:
        return end
    return states.get(instr, end)


def settings_after(
    doc: Dockerfile,
    stage: Stage,
    instr: Instruction,
    initial_workdir: str | None = "/",
    base_env: Mapping[str, str] | None = None,
) -> Settings:
    """The :class:`Settings` right after ``instr``, an instruction of ``stage``."""
    before = settings_at(doc, stage, instr, initial_workdir, base_env)
    if instr.keyword not in ("USER", "WORKDIR"):
        return before
    return _after(before, stage, instr, base_env or {}, doc.escape)


def workdir_at(
    doc: Dockerfile,
    stage: Stage,
    instr: Instruction | None,
    initial_workdir: str | None = "/",
    base_env: Mapping[str, str] | None = None,
) -> str | None:
    """The absolute WORKDIR before ``instr`` (see :func:`settings_at`); None when unknown."""
    return settings_at(doc, stage, instr, initial_workdir, base_env).workdir


def user_at(
    doc: Dockerfile,
    stage: Stage,
    instr: Instruction | None,
    base_env: Mapping[str, str] | None = None,
) -> str | None:
    """The expanded USER before ``instr`` (see :func:`settings_at`); None when no USER sets
    it (the base image's user) or when it cannot be resolved."""
    return settings_at(doc, stage, instr, "/", base_env).user


@per_tree
def _settings_expand(doc: Dockerfile, stage: Stage) -> bool:
    """Whether a USER or WORKDIR of the stage's chain names a variable (``$``)."""
    parent = stage.parent
    if parent is not None and parent.index < stage.index and _settings_expand(doc, parent):
        return True
    return any(i.keyword in ("USER", "WORKDIR") and "$" in i.logical for i in stage.instructions)


@per_tree
def _settings(
    doc: Dockerfile,
    stage: Stage,
    initial_workdir: str | None,
    base_env: tuple[tuple[str, str], ...],
) -> tuple[dict[Instruction, Settings], Settings]:
    """The settings before each instruction of the chain, and at the stage's end: one walk
    per stage (a walk per question made a file's cost grow with its length squared)."""
    parent = stage.parent
    if parent is not None and parent.index < stage.index:
        inherited, state = _settings(doc, parent, initial_workdir, base_env)
        states = dict(inherited)
    else:
        states, state = {}, Settings(None, initial_workdir, "")
    env = dict(base_env)
    for i in stage.instructions:
        states[i] = state
        if i.keyword in ("USER", "WORKDIR"):
            state = _after(state, stage, i, env, doc.escape)
    return states, state


def _after(
    state: Settings, stage: Stage, instr: Instruction, base_env: Scope, escape: str
) -> Settings:
    scope = stage.scope_at(instr)
    env = layered(scope, base_env) if base_env else scope
    raw = instr.args.strip()
    if instr.keyword == "USER":
        user = expand(raw, env, escape)
        problem = "" if user is not None else "the USER cannot be resolved"
        return Settings(user, state.workdir, state.unresolved or problem)
    workdir: str | None = None
    if raw and not raw.startswith("["):
        value = expand(unquote_word(raw), env, escape)
        workdir = resolve_path(value, state.workdir) if value is not None else None
    problem = "" if workdir is not None else "the WORKDIR cannot be resolved"
    return Settings(state.user, workdir, state.unresolved or problem)
