"""The public API a fixer is written against.

A fixer is a class with a code (``DF102``), a name (``apt-update-alone``), the rules of other
tools it resolves, and a ``check`` method that yields :class:`Finding` objects. A finding may
carry a :class:`Fix`: text edits to the Dockerfile, and possibly whole-file changes to other
files (a new ``.dockerignore``), with an :class:`Applicability`. The fixer's documentation is
its module docstring (What it does / Why is this bad / Example / Fix safety / Options).

Fixers never write anything: the engine applies fixes, re-parses, verifies and writes.
"""

from __future__ import annotations

import enum
import inspect
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, TypeVar

if TYPE_CHECKING:
    from dockfix.registry.image_lookup import ImageQuery
    from dockfix.semantics.context import FixContext
    from dockfix.syntax import Dockerfile, Instruction

__all__ = [
    "Applicability",
    "Edit",
    "FileChange",
    "Finding",
    "Fix",
    "Fixer",
    "Option",
    "Resolves",
    "Severity",
    "register",
    "registered_fixers",
]


class Applicability(enum.Enum):
    SAFE = "safe"  # keeps the build's meaning; applied by `fix`
    UNSAFE = "unsafe"  # may change behaviour; applied only with --unsafe-fixes
    DISPLAY_ONLY = "display-only"  # shown, never applied

    def __str__(self) -> str:
        return self.value


class Severity(enum.Enum):
    """How much a finding matters, as hadolint grades it; ``check --failure-threshold`` says
    from which severity on a finding fails the run."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    STYLE = "style"

    def __str__(self) -> str:
        return self.value


# From the most to the least severe; `none` as a failure threshold: no finding fails.
SEVERITY_ORDER: tuple[Severity, ...] = (
    Severity.ERROR,
    Severity.WARNING,
    Severity.INFO,
    Severity.STYLE,
)
FAILURE_THRESHOLDS: tuple[str, ...] = (*(s.value for s in SEVERITY_ORDER), "none")

# SARIF `security-severity` (a CVSS-like score) of a security fixer's findings, by severity:
# GitHub code scanning shows 7.0-8.9 as high, 4.0-6.9 as medium and 0.1-3.9 as low.
SECURITY_SEVERITY: Mapping[Severity, str] = {
    Severity.ERROR: "7.5",
    Severity.WARNING: "5.0",
    Severity.INFO: "3.0",
    Severity.STYLE: "1.0",
}


def fails(severity: Severity, threshold: str) -> bool:
    """Whether a finding of ``severity`` fails a run whose failure threshold is ``threshold``
    (a severity's value, or ``none``)."""
    if threshold == "none":
        return False
    limit = _THRESHOLD_RANK.get(threshold)
    if limit is None:
        raise ValueError(f"{threshold!r} is not a failure threshold")
    return _RANK[severity] <= limit


# By rank, most severe first (asked for every finding of a large run).
_RANK: Mapping[Severity, int] = {s: i for i, s in enumerate(SEVERITY_ORDER)}
_THRESHOLD_RANK: Mapping[str, int] = {s.value: i for i, s in enumerate(SEVERITY_ORDER)}


class Edit(NamedTuple):
    """Replace ``source[start:end]`` of the Dockerfile with ``text`` (offsets in characters)."""

    start: int
    end: int
    text: str

    @classmethod
    def insert(cls, at: int, text: str) -> Edit:
        return cls(at, at, text)

    @classmethod
    def delete(cls, start: int, end: int) -> Edit:
        return cls(start, end, "")


class FileChange(NamedTuple):
    """Write a whole file other than the Dockerfile; ``original`` None means it is created."""

    path: Path
    content: str
    original: str | None = None


class Fix:
    """A finding's fix: edits to the Dockerfile, whole-file changes to other files, and whether
    `dockfix fix` applies it (:class:`Applicability`).

    :meth:`later` defers the edits: ``build`` makes them only when something reads
    :attr:`edits` (`fix` applying it, an output format that shows edits, an editor's quick
    fix). `check` counts fixable findings from the applicability alone, so a fixer whose
    applicability is known before its edits are built saves building them in every `check`.
    """

    __slots__ = ("_build", "_edits", "applicability", "description", "file_changes", "rationale")
    # What a fix is made of, as a NamedTuple names its fields (the wire format packs these).
    _fields: ClassVar[tuple[str, ...]] = (
        "edits",
        "applicability",
        "description",
        "file_changes",
        "rationale",
    )

    def __init__(
        self,
        edits: tuple[Edit, ...],
        applicability: Applicability,
        description: str = "",
        file_changes: tuple[FileChange, ...] = (),
        # Why this change, in one or two sentences, where the fixer's "Why is this bad" text
        # does not fit the edit made (the PR description shows it; empty: that text).
        rationale: str = "",
        build: Callable[[], Iterable[Edit]] | None = None,
    ) -> None:
        self._edits = edits
        self._build = build
        self.applicability = applicability
        self.description = description
        self.file_changes = file_changes
        self.rationale = rationale

    @property
    def edits(self) -> tuple[Edit, ...]:
        if self._build is not None:
            self._edits = tuple(self._build())
            self._build = None  # built once; the callable may hold the whole tree
        return self._edits

    @property
    def deferred(self) -> bool:
        """Whether the edits are not built yet."""
        return self._build is not None

    @classmethod
    def safe(cls, *edits: Edit, description: str = "", rationale: str = "") -> Fix:
        return cls(tuple(edits), Applicability.SAFE, description, rationale=rationale)

    @classmethod
    def unsafe(cls, *edits: Edit, description: str = "", rationale: str = "") -> Fix:
        return cls(tuple(edits), Applicability.UNSAFE, description, rationale=rationale)

    @classmethod
    def later(
        cls,
        applicability: Applicability,
        build: Callable[[], Iterable[Edit]],
        description: str = "",
        rationale: str = "",
    ) -> Fix:
        """A fix whose edits ``build()`` makes when they are first read. Only for a fix whose
        applicability does not depend on its edits: ``build`` must not fail, and must return
        the same edits whenever it is called on the same tree."""
        return cls((), applicability, description, rationale=rationale, build=build)

    def _values(self) -> tuple[object, ...]:
        return (self.edits, self.applicability, self.description, self.file_changes, self.rationale)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Fix) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        edits = "<deferred>" if self.deferred else repr(self._edits)
        return (
            f"Fix(edits={edits}, applicability={self.applicability!r}, "
            f"description={self.description!r}, file_changes={self.file_changes!r}, "
            f"rationale={self.rationale!r})"
        )


@dataclass(slots=True)
class Finding:
    code: str
    message: str
    line: int
    column: int = 1
    end_line: int | None = None
    end_column: int | None = None
    fix: Fix | None = None
    # Why a finding has no applicable fix (shown with display-only findings).
    reason: str = ""
    path: str = ""  # the file as displayed; filled by the runner, not by the fixer
    # The hadolint rules this finding matches, when narrower than the fixer's `resolves`:
    # a `# hadolint ignore=` pragma suppresses the finding only for these.
    hadolint: tuple[str, ...] | None = None
    # The fixer's default, or the configured one (set by the runner for the file's config).
    severity: Severity = Severity.WARNING
    # The BuildKit checks this finding matches, when narrower than the fixer's `resolves`: a
    # `# check=skip=` directive switches it off only for these.
    buildkit: tuple[str, ...] | None = None

    @property
    def applicability(self) -> Applicability:
        return self.fix.applicability if self.fix else Applicability.DISPLAY_ONLY

    @property
    def fixable(self) -> bool:
        return self.fix is not None and self.fix.applicability is not Applicability.DISPLAY_ONLY

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.code)


class Resolves(NamedTuple):
    """Rules of other tools that a fixer's fix resolves (also used to honour their pragmas)."""

    hadolint: tuple[str, ...] = ()
    trivy: tuple[str, ...] = ()
    checkov: tuple[str, ...] = ()
    # BuildKit's build checks (`docker build --check`), by their names: `# check=skip=` names
    # them, and a skipped check switches off the fixers that resolve it.
    buildkit: tuple[str, ...] = ()


class Option(NamedTuple):
    """A fixer option, set in config as ``[tool.dockfix.<fixer-name>] <key> = value``."""

    type: type
    default: Any
    help: str
    choices: tuple[Any, ...] = ()


class Fixer:
    """Base class of every fixer. Subclasses set the class attributes and write ``check``."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]  # one line: what the finding means
    resolves: ClassVar[Resolves] = Resolves()
    options: ClassVar[Mapping[str, Option]] = {}
    needs_network: ClassVar[bool] = False
    # The default severity of its findings (configurable per rule: `[tool.dockfix.severity]`).
    severity: ClassVar[Severity] = Severity.WARNING
    # Its findings are about the image's security: SARIF tags the rule `security` and gives it
    # a `security-severity` (SECURITY_SEVERITY), so code scanning shows a security alert.
    security: ClassVar[bool] = False
    # Off unless selected by code (fixers that edit files other than Dockerfiles).
    default_enabled: ClassVar[bool] = True
    # The instruction keywords (upper case) the fixer reports on, ONBUILD triggers included:
    # the engine does not run it on a file that has none of them. Empty: every file.
    acts_on: ClassVar[frozenset[str]] = frozenset()
    # Words (lower case) of which the file must name one for the fixer to report anything,
    # anywhere in its instructions or heredocs, as the engine reads them for this test
    # (:func:`dockfix.core.engine.mention_text`: lower-cased, line continuations joined, quotes
    # and backslashes dropped, so `ap"t-get"` and `apt\<newline>-get` still name `apt-get`).
    # A file naming none is not given to the fixer. Empty: every file.
    mentions: ClassVar[tuple[str, ...]] = ()
    # Its fix changes the file's structure (splits a stage in two): the engine applies it alone
    # and first in its round, so the other fixes are worked out on the new stages (a non-root
    # user belongs in the new runtime stage, not in the builder).
    restructures: ClassVar[bool] = False
    # What a built image may differ in after this fixer's fix, for `dockfix verify`:
    # "config:<Field>" (User, Cmd, Entrypoint, Healthcheck, …), "label:<key>", "env:<key>",
    # "apt-lists-removed", "caches-removed[:dir,…]", "user-added", "owner:<glob>",
    # "removed:<glob>", "added:<glob>", "files:<glob>" (any change). Empty: the same image.
    image_changes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        values = {k: o.default for k, o in self.options.items()}
        if settings:
            values.update(settings)
        self.settings: dict[str, Any] = values

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterable[Finding]:
        raise NotImplementedError

    def image_queries(self, doc: Dockerfile, ctx: FixContext) -> Iterable[ImageQuery]:
        """Registry lookups ``check`` will need (fixers with ``needs_network`` only).

        The runner collects them from every file first and answers each unique one once for
        the whole run; ``check`` then reads ``ctx.services["image_lookups"]``
        (:class:`dockfix.registry.image_lookup.ImageLookups`) and never opens a connection itself.
        """
        return ()

    def wants_lookups(self, ctx: FixContext) -> bool:
        """Whether :meth:`image_queries` may ask anything for a file with this context (its
        configuration): only then does the runner read and parse files ahead of the run.
        By default, ``needs_network``."""
        return self.needs_network

    # --- helpers for fixers -------------------------------------------------------------
    def finding(
        self,
        at: Instruction | int,
        message: str,
        fix: Fix | None = None,
        *,
        reason: str = "",
        column: int = 1,
    ) -> Finding:
        """A finding located at an instruction (its first line) or at a line number."""
        if isinstance(at, int):
            line, end_line = at, at
        else:
            line, end_line = at.start_line, at.end_line
        return Finding(
            self.code, message, line, column, end_line, None, fix, reason, severity=self.severity
        )

    @classmethod
    def documentation(cls) -> str:
        module = sys.modules.get(cls.__module__)
        doc = _module_docstring(module) if module is not None else None
        own = cls.__dict__.get("__doc__")  # not Fixer's, which inspect.getdoc would inherit
        return doc or (inspect.cleandoc(own) if own else "") or cls.summary


def _module_docstring(module: Any) -> str | None:
    """A module's docstring, cleaned like ``inspect.getdoc``. A module compiled to a C
    extension (the mypyc build) has none at run time, so read it from the source file that is
    installed beside it."""
    import importlib.machinery

    filename = getattr(module, "__file__", None) or ""
    if not filename.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)):
        return inspect.getdoc(module)  # source or bytecode: the docstring is there
    import ast

    stem = Path(filename).name.split(".", 1)[0]
    try:
        source = Path(filename).with_name(stem + ".py").read_text(encoding="utf-8")
    except OSError:
        return None
    return ast.get_docstring(ast.parse(source))


_F = TypeVar("_F", bound=type[Fixer])
_REGISTRY: dict[str, type[Fixer]] = {}


def register(cls: _F) -> _F:
    """Class decorator: make a fixer known to the engine under its code."""
    code = cls.code
    existing = _REGISTRY.get(code)
    if existing is not None and existing is not cls and existing.__qualname__ != cls.__qualname__:
        raise ValueError(
            f"fixer code {code} is registered twice ({existing.__module__}, {cls.__module__})"
        )
    _REGISTRY[code] = cls
    return cls


def registered_fixers() -> dict[str, type[Fixer]]:
    return dict(_REGISTRY)


def iter_findings(items: Iterable[Finding | None]) -> Iterator[Finding]:
    for f in items:
        if f is not None:
            yield f
