"""The dependency installs that ran before a whole-tree COPY, in its stage and the stages it
builds on: a later install by the same tool is the second half of an existing split."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._package_managers import match_command
from dockfix.fixers.copy_before_install._command import _argv_words
from dockfix.fixers.copy_before_install._requirements import _canonical
from dockfix.semantics.memo import per_tree
from dockfix.semantics.semantic import stage_chain

if TYPE_CHECKING:
    from dockfix.syntax import Dockerfile, Instruction, Stage

_BUNDLE_FROZEN = lazy_re(
    r"bundle\s+config\s+(set\s+)?(--\w+\s+)*(frozen|deployment)\s+['\"]?(true|1)"
)


class _Earlier:
    """Package managers that already installed from manifests before a copy (incl. parents),
    as :func:`_run_installs` names them, for the RUNs before the copy. Looked up where asked,
    not gathered for every copy (that made a file's cost quadratic), and the stage's RUNs are
    read only when an install after the copy asks (most copies have none)."""

    def __init__(self, doc: Dockerfile, stage: Stage, before: int) -> None:
        self._doc = doc
        self._stage = stage
        self._before = before  # the copy's index in the stage
        self._read = False
        self._own = _StageInstalls()
        self._parents: list[_StageInstalls] = []

    def _installs(self) -> tuple[_StageInstalls, list[_StageInstalls]]:
        if not self._read:
            built_on = stage_chain(self._stage)[-2::-1][:19]  # the nearest first, up to 20
            self._parents = [_stage_installs(self._doc, st) for st in built_on]
            self._own = _stage_installs(self._doc, self._stage)
            self._read = True
        return self._own, self._parents

    def __contains__(self, key: str) -> bool:
        own, parents = self._installs()
        if own.first.get(key, self._before) < self._before:
            return True
        return any(key in p.first for p in parents)

    def covers(self, key: str, items: set[str]) -> bool:
        """Whether every one of ``items`` was installed under ``key`` before the copy."""
        own_installs, parents = self._installs()
        own = own_installs.items.get(key, {})
        return all(
            own.get(x, self._before) < self._before
            or any(x in p.items.get(key, ()) for p in parents)
            for x in items
        )


@dataclass(eq=False)
class _StageInstalls:
    """What the RUNs of one stage install, with the index of the first RUN that does."""

    first: dict[str, int] = field(default_factory=dict)  # key -> index
    items: dict[str, dict[str, int]] = field(default_factory=dict)  # key -> item -> index


def _earlier_installs(doc: Dockerfile, stage: Stage, index: int) -> _Earlier:
    """Package managers that already installed from manifests before this copy (incl. parents).

    A later install of the same tool after a whole-tree copy is then the project half of an
    existing split (``uv sync --no-install-project`` … ``COPY . .`` … ``uv sync``).
    """
    return _Earlier(doc, stage, index)


@per_tree
def _stage_installs(doc: Dockerfile, stage: Stage) -> _StageInstalls:
    """:class:`_StageInstalls` of a stage, once per tree."""
    out = _StageInstalls()
    for k, instr in enumerate(stage.instructions):
        if instr.keyword != "RUN":
            continue
        for name, items in _run_installs(instr).items():
            out.first.setdefault(name, k)
            known = out.items.setdefault(name, {})
            for x in items:
                known.setdefault(x, k)
    return out


def _run_installs(instr: Instruction) -> dict[str, set[str]]:
    """What one RUN installs from manifests, by package manager (see _earlier_installs)."""
    from dockfix.semantics.shell import shell_of

    out: dict[str, set[str]] = {}
    script = shell_of(instr) if instr.json_args is None else None
    commands = (
        [instr.json_args]
        if instr.json_args is not None
        else [_argv_words(c)[0] for c in (script.commands if script else [])]
    )
    for argv in commands:
        if not argv:
            continue
        if _BUNDLE_FROZEN.search(" ".join(argv)):
            out["bundle-frozen"] = {"yes"}
        exe = argv[0].rsplit("/", 1)[-1]
        if exe in ("mvn", "mvnw") and any(a.startswith("dependency:") for a in argv):
            out.setdefault("maven", set())
            continue
        if exe in ("gradle", "gradlew") and "dependencies" in argv:
            out.setdefault("gradle", set())
            continue
        m = match_command(argv)
        if m is None or not m.is_install:
            continue
        rest = argv[m.args_index :]
        name = m.manager.name
        if name in ("pip", "uv-pip"):
            specs = out.setdefault("pip-specs", set())
            positional = [a for a in rest if not a.startswith("-")]
            specs.update(_canonical(a) for a in positional)
            if any(
                a.startswith(("-r", "--requirement", "-c", "--constraint", "--group")) for a in rest
            ) or (name == "uv-pip" and m.subcommand[-1] == "sync"):
                out.setdefault("pip", set())
            continue
        if any(a in ("-g", "--global") for a in rest):
            continue
        out.setdefault(name, set())
    return out
