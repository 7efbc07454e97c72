"""A lossless concrete syntax tree for Dockerfiles.

The tree follows how BuildKit's own parser (moby/buildkit ``frontend/dockerfile/parser``)
splits a file into instructions; ``../shared/dockerfile-syntax.md`` in the project records
every rule with the evidence. Where BuildKit master differs from the v0.12.5 parser we
follow master, because real builds that name ``# syntax=docker/dockerfile:1`` run the newest
frontend: ``# check=`` is a directive, JSON with trailing text is shell form, and
``<< EOF`` (a space after ``<<``) opens a heredoc.

Nothing is normalised: every node keeps offsets into the original text, and
``str(parse(text)) == text`` for every input, including inputs BuildKit rejects (those
raise :class:`ParseError` from :func:`parse`, while :func:`parse_lossless` still builds the
tree and records the error).

``dockerfile-parse`` (by containerbuildsystem) was studied for this: it is a fine reader of
simple files, but it reads heredoc bodies as instructions and drops comment lines inside a
continuation from an instruction's content, so its ranges cannot be used to rewrite a file.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = [
    "Directive",
    "Dockerfile",
    "Flag",
    "Heredoc",
    "Instruction",
    "ParseError",
    "PhysicalLine",
    "Stage",
    "VariableHistory",
    "parse",
    "parse_lossless",
]

MAX_LINE_BYTES = 65535
KNOWN_DIRECTIVES = ("syntax", "escape", "check")
# What BuildKit builds (frontend/dockerfile/instructions/parse.go); anything else the parser
# accepts and the build then rejects as an unknown instruction.
INSTRUCTIONS = frozenset(
    {"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL"}
    | {"MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"}
)
NOT_ONBUILD_TRIGGERS = frozenset({"ONBUILD", "FROM", "MAINTAINER"})
HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})
JSON_KEYWORDS = frozenset({"RUN", "CMD", "ENTRYPOINT", "SHELL", "ADD", "COPY", "VOLUME"})

# Go's unicode.IsSpace; Python's str.isspace() also counts \x1c-\x1f, which Go does not.
_GO_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_ASCII_SPACE = frozenset(" \t\v\f\r")
_DIRECTIVE_RE = re.compile(
    r"#[\t\n\f\r ]*([A-Za-z][A-Za-z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*\Z", re.S
)
_WHITESPACE_RE = re.compile(r"[\t\v\f\r ]+")
_HEREDOC_WORD_RE = re.compile(r"(\d*)<<(-?)([^<]*)\Z", re.S)


class ParseError(ValueError):
    """The whole file is rejected, as BuildKit's parser would reject it."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message if line is None else f"line {line}: {message}")
        self.reason = message
        self.line = line


_GO_SPACE_CHARS = "".join(sorted(_GO_SPACE))
_GO_WORD_RE = re.compile("[^" + re.escape(_GO_SPACE_CHARS) + "]+")


def _lstrip_go(s: str) -> str:
    return s.lstrip(_GO_SPACE_CHARS)


def _strip_go(s: str) -> str:
    return s.strip(_GO_SPACE_CHARS)


class PhysicalLine(NamedTuple):
    """One physical line: ``text[start:end]`` is its content, ``text[end:next]`` its line break.

    (A named tuple, not a frozen dataclass: made for every line of every parse, and half the
    cost to make.)"""

    number: int
    start: int
    end: int  # end of content, before any trailing \r and \n
    next: int  # start of the following line (== len(text) at EOF)


class Directive(NamedTuple):
    key: str  # lower case
    value: str
    line: int
    start: int
    end: int


class Flag(NamedTuple):
    """A ``--name=value`` word before an instruction's arguments."""

    name: str  # without the leading dashes, as written
    value: str | None  # unquoted value; None for a bare ``--flag``
    raw: str  # the word as written in the logical line
    logical_start: int
    logical_end: int

    @property
    def text(self) -> str:
        return self.raw


@dataclass(slots=True)
class Heredoc:
    name: str
    strip_tabs: bool  # <<-
    quoted: bool  # a quoted delimiter disables expansion of the body
    fd: int | None
    word_start: int  # logical offsets of the ``<<EOF`` word
    word_end: int
    body_start: int  # source offsets of the body (terminator line excluded)
    body_end: int
    terminator_line: int  # 1-based line of the terminator
    body: str = ""


@dataclass(eq=False, slots=True)
class Instruction:
    """One instruction: its physical lines, its logical (joined) line and its parts.

    ``logical`` is the instruction text as BuildKit sees it: continuation characters removed,
    comment and blank lines inside the continuation dropped, heredoc bodies excluded.
    ``segments`` map it back to the source: logical text is the concatenation of
    ``source[s:e]`` for each segment, so every logical offset has a source offset.
    """

    source: str
    keyword_raw: str
    logical: str
    segments: list[tuple[int, int, int]]  # (logical_start, source_start, source_end)
    start_line: int
    end_line: int
    header_end_line: int  # last line before heredoc bodies
    start: int  # source offset of the first line's start (leading whitespace included, BOM not)
    end: int  # source offset of the end of the last line's content (line break excluded)
    next: int  # source offset after the last line's break
    header_end: int  # source offset of the end of the header's last line content
    keyword_start: int  # logical offset
    flags: list[Flag] = field(default_factory=list)
    args_start: int = 0  # logical offset where the arguments begin
    json_args: list[str] | None = None
    heredocs: list[Heredoc] = field(default_factory=list)
    trigger: Instruction | None = None  # ONBUILD's instruction
    stage: Stage | None = None
    comments: list[PhysicalLine] = field(default_factory=list)  # comment lines inside the span
    index: int = 0
    # Derived data computed once per tree by whoever needs it (e.g. the parsed shell script).
    cache: dict[object, object] = field(default_factory=dict, repr=False)

    keyword: str = field(init=False, default="")  # upper case; set once, read very often

    def __post_init__(self) -> None:
        self.keyword = self.keyword_raw.upper()

    @property
    def text(self) -> str:
        """The instruction's source text, heredoc bodies included, final line break excluded."""
        return self.source[self.start : self.end]

    @property
    def args(self) -> str:
        """The argument text after the flags (logical, trailing whitespace removed)."""
        return _strip_go(self.logical[self.args_start :])

    @property
    def is_json(self) -> bool:
        return self.json_args is not None

    @property
    def heredoc_keyword(self) -> str:
        """The keyword that decides heredoc and JSON handling (ONBUILD's trigger keyword)."""
        return self.trigger.keyword if self.trigger is not None else self.keyword

    def flag(self, name: str) -> Flag | None:
        """The last flag of that name (``from`` for ``--from=…``), or None."""
        found = None
        for f in self.flags:
            if f.name == name:
                found = f
        return found

    def flag_values(self, name: str) -> list[str]:
        return [f.value or "" for f in self.flags if f.name == name]

    def to_source(self, logical_offset: int) -> int:
        """The source offset of a logical offset (an offset at the end maps past the last char)."""
        segs = self.segments
        if not segs:
            return self.start
        keys = [s[0] for s in segs]
        i = bisect_right(keys, logical_offset) - 1
        if i < 0:
            i = 0
        lstart, sstart, send = segs[i]
        pos = sstart + (logical_offset - lstart)
        if pos > send:
            pos = send
        return pos

    def source_span(self, logical_start: int, logical_end: int) -> tuple[int, int]:
        """Source offsets covering a logical range; the end maps just after its last char."""
        if logical_end <= logical_start:
            p = self.to_source(logical_start)
            return p, p
        return self.to_source(logical_start), self.to_source(logical_end - 1) + 1

    def args_words(self) -> list[tuple[str, int, int]]:
        """Whitespace-separated argument words with their logical offsets."""
        cached = self.cache.get("args-words")
        if not isinstance(cached, list):
            found = _GO_WORD_RE.finditer(self.logical, self.args_start)
            cached = self.cache["args-words"] = [(m.group(), m.start(), m.end()) for m in found]
        return list(cached)  # a copy: callers may change their list

    def __str__(self) -> str:
        return self.source[self.start : self.next]

    def __repr__(self) -> str:
        return f"<Instruction {self.keyword} {self.start_line}-{self.end_line}>"


@dataclass(eq=False)
class Stage:
    """A build stage: a FROM and the instructions after it."""

    index: int
    from_instruction: Instruction
    base: str  # image reference or stage name, as written (variables not expanded)
    alias: str | None  # as written
    platform: str | None
    instructions: list[Instruction] = field(default_factory=list)
    parent: Stage | None = None  # when ``base`` names an earlier stage

    @property
    def name(self) -> str | None:
        return self.alias.lower() if self.alias else None

    def variables_at(self, instruction: Instruction | None = None) -> dict[str, str | None]:
        """ARG/ENV names in scope before ``instruction`` (end of stage when None), raw values."""
        return dict(self.scope_at(instruction))

    def scope_at(self, instruction: Instruction | None = None) -> Mapping[str, str | None]:
        """What :meth:`variables_at` returns, as a read-only view (no copy; each look-up a
        binary search)."""
        history = self._history
        if history is None:
            history = self._history = _stage_history(self)
        return history.at(self.position(instruction))

    def position(self, instruction: Instruction | None) -> int:
        """Where ``instruction`` is for :class:`VariableHistory`: its index in the file when
        it belongs to the stage, after every instruction otherwise (None: the stage's end)."""
        if instruction is not None and self.local_index(instruction) >= 0:
            return instruction.index
        return sys.maxsize

    def local_index(self, instruction: Instruction) -> int:
        """``instructions.index(instruction)`` by binary search; -1 when it is not there."""
        indices = self._indices
        if indices is None or len(indices) != len(self.instructions):
            indices = self._indices = [i.index for i in self.instructions]
        k = bisect_left(indices, instruction.index)
        if k < len(indices) and self.instructions[k] is instruction:
            return k
        return -1

    _global_args: dict[str, str | None] = field(default_factory=dict)
    _history: VariableHistory | None = field(default=None, repr=False)
    _indices: list[int] | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"<Stage {self.index} {self.base!r} as {self.alias!r}>"


class VariableHistory:
    """Every value each variable takes in a stage, with where it takes it: the variables at
    any position, found by binary search, from one walk of the stage. (Variables are asked
    for at every instruction: a copy of them each time would make a file's cost grow with
    its length times its number of variables.)"""

    def __init__(self, initial: Mapping[str, str | None] | None = None) -> None:
        # name -> (positions, values): the name holds values[k] from positions[k] on
        self.values: dict[str, tuple[list[int], list[str | None]]] = {}
        self.by_lower: dict[str, list[str]] = {}  # the names, by their lower case
        for name, value in (initial or {}).items():
            self.set(name, -1, value)

    def set(self, name: str, position: int, value: str | None) -> None:
        """``name`` holds ``value`` after ``position`` (positions only grow)."""
        found = self.values.get(name)
        if found is None:
            self.values[name] = ([position], [value])
            self.by_lower.setdefault(name.lower(), []).append(name)
        elif found[0][-1] == position:  # set twice at one position: the last value counts
            found[1][-1] = value
        else:
            found[0].append(position)
            found[1].append(value)

    def at(self, position: int) -> Mapping[str, str | None]:
        """The variables set before ``position``, as a read-only view."""
        return _ScopeView(self, position)


def _stage_history(stage: Stage) -> VariableHistory:
    """``Stage.variables_at``'s answers for every instruction of the stage."""
    scope: dict[str, str | None] = {}
    if stage.parent is not None:
        scope.update(stage.parent.scope_at(None))
    history = VariableHistory(scope)
    doc_globals = stage._global_args
    for instr in stage.instructions:
        if instr.keyword == "ARG":
            before = dict(scope)
            for name, arg_value in _arg_pairs(instr):
                if arg_value is None and name in doc_globals:
                    arg_value = doc_globals[name]
                elif arg_value is not None:
                    arg_value = _settled(arg_value, before)
                if name not in scope or arg_value is not None or scope[name] is None:
                    scope[name] = arg_value
                    history.set(name, instr.index, arg_value)
        elif instr.keyword == "ENV":
            before = dict(scope)
            for name, env_value in _env_pairs(instr):
                scope[name] = _settled(env_value, before)
                history.set(name, instr.index, scope[name])
    return history


def _settled(value: str, before: Mapping[str, str | None]) -> str:
    """A value as the instruction that sets it leaves it: BuildKit expands it then, against
    the variables before that instruction (`ENV A=1` / `ENV B=$A` / `ENV A=2` leaves B=1;
    `ENV P=$P:/x` extends the earlier P). Kept as written when that is not known here
    (`ENV PATH=/root/.bun/bin:$PATH` on the base image's PATH): fixers read the known part.
    (Left imprecise: such a value, expanded after a later `ENV` sets what it names, takes
    that later value.)"""
    if "$" not in value:
        return value
    known = expand(value, before)
    return value if known is None else known


class _ScopeView(Mapping[str, "str | None"]):
    """The variables in scope at one position of a stage (see :class:`VariableHistory`)."""

    __slots__ = ("_history", "_position")

    def __init__(self, history: VariableHistory, position: int) -> None:
        self._history = history
        self._position = position

    def __getitem__(self, name: str) -> str | None:
        found = self._history.values.get(name)
        if found is None:
            raise KeyError(name)
        k = bisect_left(found[0], self._position)
        if k == 0:
            raise KeyError(name)
        return found[1][k - 1]

    def __iter__(self) -> Iterator[str]:
        position = self._position
        # first-set order, as a dict filled by walking the stage would have
        return iter([n for n, (at, _) in self._history.values.items() if at[0] < position])

    def keys_like(self, lower: str) -> list[str]:
        """The names that are ``lower`` in lower case, in the order of iteration."""
        position = self._position
        values = self._history.values
        return [n for n in self._history.by_lower.get(lower, ()) if values[n][0][0] < position]

    def __len__(self) -> int:
        position = self._position
        return sum(1 for at, _ in self._history.values.values() if at[0] < position)


class Dockerfile:
    """The parsed file: an ordered partition of the source into instructions and trivia."""

    def __init__(
        self,
        source: str,
        lines: list[PhysicalLine],
        instructions: list[Instruction],
        directives: list[Directive],
        escape: str,
        error: ParseError | None,
    ) -> None:
        self.source = source
        self.lines = lines
        self.instructions = instructions
        self.directives = directives
        self.escape = escape
        self.error = error
        self.stages: list[Stage] = []
        self.global_args: dict[str, str | None] = {}
        # Derived data computed once per tree by whoever needs it (fixers share analyses).
        self.cache: dict[object, object] = {}
        self._line_owner: list[int] | None = None
        _build_stages(self)

    # --- text properties -------------------------------------------------------------
    def __str__(self) -> str:
        return self.source

    @property
    def has_bom(self) -> bool:
        return self.source.startswith("\ufeff")

    @property
    def eol(self) -> str:
        """The file's line ending: the first line break found (``\\n`` when there is none)."""
        for ln in self.lines:
            if ln.next > ln.end:  # pragma: no mutate (`>=` differs on a last line only)
                brk = self.source[ln.end : ln.next]
                return "\r\n" if brk.endswith("\r\n") else "\n"
        return "\n"

    @property
    def ends_with_newline(self) -> bool:
        return self.source.endswith("\n")

    def directive(self, key: str) -> Directive | None:
        for d in self.directives:
            if d.key == key:
                return d
        return None

    def line(self, number: int) -> PhysicalLine:
        return self.lines[number - 1]

    def line_text(self, number: int) -> str:
        ln = self.lines[number - 1]
        return self.source[ln.start : ln.end].rstrip("\r")

    def walk(self) -> Iterator[Instruction]:
        """Every instruction, with ONBUILD triggers after their ONBUILD."""
        for instr in self.instructions:
            yield instr
            if instr.trigger is not None:
                yield instr.trigger

    def instruction_at_line(self, number: int) -> Instruction | None:
        if self._line_owner is None:
            owner = [-1] * (len(self.lines) + 2)
            for i, instr in enumerate(self.instructions):
                for n in range(instr.start_line, instr.end_line + 1):
                    owner[n] = i
            self._line_owner = owner
        if 0 < number < len(self._line_owner):
            i = self._line_owner[number]
            return self.instructions[i] if i >= 0 else None
        return None

    def comment_lines_above(self, instr: Instruction) -> list[str]:
        """The contiguous comment lines directly above an instruction (nearest last)."""
        out: list[str] = []
        n = instr.start_line - 1
        last_directive = self.directives[-1].line if self.directives else 0
        while n > last_directive:
            text = self.line_text(n)
            if n == 1 and self.has_bom:
                text = text[1:]  # the BOM is not text of the line: a pragma may follow it
            text = _lstrip_go(text)
            if not text.startswith("#") or self.instruction_at_line(n) is not None:
                break
            out.append(text)
            n -= 1
        out.reverse()
        return out

    def take_apart(self) -> None:
        """Unlink instructions from their stages (see :func:`released_trees`); the tree is
        not to be used afterwards."""
        for instr in self.instructions:
            instr.stage = None
            if instr.trigger is not None:
                instr.trigger.stage = None
        self.cache.clear()

    @property
    def final_stage(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    def stage_named(self, name: str) -> Stage | None:
        """A stage by alias (case-insensitive) or by index (``--from=0``)."""
        if name.isdigit():
            i = int(name)
            return self.stages[i] if i < len(self.stages) else None
        low = name.lower()
        for st in self.stages:
            if st.name == low:
                return st
        return None


# --- splitting the text ------------------------------------------------------------------


def _split_lines(text: str) -> list[PhysicalLine]:
    lines: list[PhysicalLine] = []
    pos = 0
    for number, part in enumerate(text.split("\n"), 1):
        nxt = pos + len(part) + 1
        end = nxt - 1 if not part.endswith("\r") else pos + len(part.rstrip("\r"))
        lines.append(PhysicalLine(number, pos, end, nxt))
        pos = nxt
    # the part after the last line break: a last line without one, or nothing
    last = lines[-1]
    if last.start == len(text):
        lines.pop()
    else:
        lines[-1] = last._replace(next=len(text))
    return lines


def _continues(line: str, escape: str) -> int:
    """If ``line`` ends in a continuation, the index where it starts; else -1."""
    j = len(line)
    while j > 0 and line[j - 1] in " \t":
        j -= 1
    if j == 0 or line[j - 1] != escape:
        return -1
    k = j - 1
    if k > 0 and line[k - 1] == escape:
        return -1
    return k


def parse(text: str) -> Dockerfile:
    """Parse a Dockerfile; raise :class:`ParseError` where BuildKit rejects the file."""
    doc = parse_lossless(text)
    if doc.error is not None:
        raise doc.error
    return doc


# `_ARENA.trees`: the trees parsed inside released_trees() by this thread, taken apart when it
# ends (a plain threading.local, not a subclass: compiled builds keep its per-thread lookup).
_ARENA = threading.local()


@contextlib.contextmanager
def released_trees() -> Iterator[None]:
    """Take apart the trees this thread parses inside this block when it ends, for callers
    that keep none of them (a run over many files keeps only texts and findings).

    An instruction and its stage refer to each other: left alone, every tree is a reference
    cycle that only the garbage collector frees, and its scans cost a large run about 5 %.
    Taken apart, a tree is freed at once. Trees parsed outside such a block, or by another
    thread, keep their links for as long as anyone holds them."""
    if getattr(_ARENA, "trees", None) is not None:
        yield  # an outer block takes them apart
        return
    arena: list[Dockerfile] = []
    _ARENA.trees = arena
    try:
        yield
    finally:
        _ARENA.trees = None
        for doc in arena:
            doc.take_apart()


def parse_lossless(text: str) -> Dockerfile:
    """Parse a Dockerfile into a tree that always round-trips; errors are recorded, not raised."""
    lines = _split_lines(text)
    error: ParseError | None = None
    directives: list[Directive] = []
    escape = "\\"
    instructions: list[Instruction] = []

    def fail(msg: str, line: int | None = None) -> None:
        nonlocal error
        if error is None:
            error = ParseError(msg, line)

    # Cheap pre-test: a line needs over 16383 characters to exceed 65535 UTF-8 bytes.
    for ln in lines if len(text) > MAX_LINE_BYTES // 4 else ():  # pragma: no mutate
        if (
            ln.next - ln.start > MAX_LINE_BYTES // 4  # pragma: no mutate (only a pre-test)
            and len(text[ln.start : ln.next].rstrip("\n").encode("utf-8", "surrogatepass"))
            > MAX_LINE_BYTES
        ):
            fail(f"dockerfile line greater than max allowed size of {MAX_LINE_BYTES}", ln.number)
            break  # pragma: no mutate (fail() keeps the first error: this only saves time)

    def content(ln: PhysicalLine) -> tuple[int, str]:
        start = ln.start
        if ln.number == 1 and text.startswith("\ufeff"):
            start += 1
        return start, text[start : ln.end]

    # Parser directives: only the first lines of the file.
    i = 0
    seen: set[str] = set()
    while i < len(lines):
        start, raw = content(lines[i])
        stripped = _lstrip_go(raw)
        m = _DIRECTIVE_RE.match(stripped)
        if not m or m.group(1).lower() not in KNOWN_DIRECTIVES:
            break
        key = m.group(1).lower()
        if key in seen:
            fail(f"only one {key} parser directive can be used", lines[i].number)
        seen.add(key)
        value = m.group(2)
        if key == "escape":
            if value not in ("`", "\\"):
                fail(f"invalid escape token '{value}' does not match ` or \\", lines[i].number)
            else:
                escape = value
        directives.append(Directive(key, value, lines[i].number, lines[i].start, lines[i].end))
        i += 1

    count = len(lines)
    bom = text.startswith("\ufeff")
    while i < count:
        ln = lines[i]
        start = ln.start + 1 if bom and i == 0 else ln.start
        raw = text[start : ln.end]
        body = raw.lstrip(_GO_SPACE_CHARS)
        if not body or body[0] == "#":
            i += 1
            continue
        # An instruction starts here.
        seg_start = start + len(raw) - len(body)
        last = i
        comments: list[PhysicalLine] = []
        if _continues(body, escape) < 0:  # one line, the most common instruction
            logical = body
            segments = [(0, seg_start, seg_start + len(body))]
        else:
            logical, segments, last = _join_continued(
                text, lines, i, body, seg_start, escape, comments, bom
            )
        header_end_line = last
        instr = _make_instruction(text, lines, i, last, logical, segments, comments)
        # Heredocs
        err = _parse_parts(instr, escape)
        if err is not None:
            fail(err, ln.number)
        hd_owner = instr.trigger if instr.trigger is not None else instr
        if hd_owner.heredocs:
            j = last + 1
            for hd in hd_owner.heredocs:
                if j >= count:
                    fail("unterminated heredoc", ln.number)
                    hd.body_start = hd.body_end = len(text)
                    hd.terminator_line = count
                    last = count - 1
                    break
                hd.body_start = lines[j].start
                found = False
                while j < count:
                    lj = lines[j]
                    cand = text[lj.start : lj.end]
                    if hd.strip_tabs:
                        cand = cand.lstrip("\t")
                    if cand == hd.name:
                        hd.body_end = lj.start
                        hd.terminator_line = lj.number
                        hd.body = text[hd.body_start : hd.body_end]
                        found = True
                        last = j
                        j += 1
                        break
                    j += 1
                if not found:
                    fail("unterminated heredoc", ln.number)
                    hd.body_end = len(text)
                    hd.body = text[hd.body_start :]
                    hd.terminator_line = count
                    last = count - 1
                    break
            if hd_owner is not instr:
                instr.heredocs = hd_owner.heredocs
        instr.end_line = lines[last].number
        instr.end = lines[last].end
        instr.next = lines[last].next
        instr.header_end_line = lines[header_end_line].number
        instr.header_end = lines[header_end_line].end
        instr.index = len(instructions)
        instructions.append(instr)
        i = last + 1

    if not instructions and error is None:
        fail("file with no instructions")
    doc = Dockerfile(text, lines, instructions, directives, escape, error)
    arena: list[Dockerfile] | None = getattr(_ARENA, "trees", None)
    if arena is not None:
        arena.append(doc)
    return doc


def _join_continued(
    text: str,
    lines: list[PhysicalLine],
    first: int,
    body: str,
    seg_start: int,
    escape: str,
    comments: list[PhysicalLine],
    bom: bool,
) -> tuple[str, list[tuple[int, int, int]], int]:
    """An instruction continued over several lines, from ``body`` (its first line from the
    keyword on): its logical line, segments and last line index. Comment lines inside the
    continuation go to ``comments``; they and blank lines are dropped from the logical line."""
    segments: list[tuple[int, int, int]] = []
    logical_parts: list[str] = []
    count = len(lines)
    length = 0
    cur = body
    last = first
    while True:
        k = _continues(cur, escape)
        if k < 0:
            segments.append((length, seg_start, seg_start + len(cur)))
            logical_parts.append(cur)
            break
        part = cur[:k]
        segments.append((length, seg_start, seg_start + k))
        logical_parts.append(part)
        length += len(part)
        # read following lines: comments and blank lines are consumed and dropped
        j = last + 1
        nxt_text: str | None = None
        while j < count:
            ln = lines[j]
            s2 = ln.start + 1 if bom and j == 0 else ln.start
            r2 = text[s2 : ln.end]
            t2 = _lstrip_go(r2)
            if t2 == "" or t2.startswith("#"):
                if t2.startswith("#"):
                    comments.append(ln)
                j += 1
                continue
            nxt_text = r2
            seg_start = s2
            break
        if nxt_text is None:
            last = j - 1  # EOF while continuing: the span runs to the end of the file
            break
        last = j
        cur = nxt_text
    return "".join(logical_parts), segments, last


def _make_instruction(
    text: str,
    lines: list[PhysicalLine],
    first: int,
    last: int,
    logical: str,
    segments: list[tuple[int, int, int]],
    comments: list[PhysicalLine],
) -> Instruction:
    # The logical line is trimmed; the keyword runs to the first ASCII whitespace.
    lead = len(logical) - len(_lstrip_go(logical))
    n = len(logical.rstrip(_GO_SPACE_CHARS))  # BuildKit trims the logical line first
    k = lead
    while k < n and logical[k] not in _ASCII_SPACE:
        k += 1
    end_line = lines[last]
    return Instruction(
        text,
        logical[lead:k],
        logical,
        segments,
        first + 1,
        end_line.number,
        end_line.number,
        lines[first].start + (1 if first == 0 and text.startswith("\ufeff") else 0),
        end_line.end,
        end_line.next,
        end_line.end,
        lead,
        args_start=k,
        comments=comments,
    )


# --- the parts of an instruction ----------------------------------------------------------


def _extract_flags(logical: str, pos: int) -> tuple[list[Flag], int]:
    """BuildKit's ``extractBuilderFlags``: leading ``--`` words; returns flags and args start."""
    flags: list[Flag] = []
    n = len(logical.rstrip(_GO_SPACE_CHARS))  # BuildKit trims the line before reading flags
    i = pos
    while True:
        while i < n and logical[i] in _GO_SPACE:
            i += 1
        if i >= n:
            return flags, n
        if not (logical[i] == "-" and i + 1 < n and logical[i + 1] == "-"):
            return flags, i
        start = i
        word: list[str] = []
        quote = ""
        blank_ok = False  # pragma: no mutate (a flag word starts with `--`: never blank)
        while i < n:
            ch = logical[i]
            if quote:
                if ch == quote:
                    quote = ""
                    i += 1
                    continue
                if ch == "\\":
                    if i + 1 == n:
                        i += 1
                        continue
                    i += 1
                    ch = logical[i]
                word.append(ch)
                i += 1
                continue
            if ch in _GO_SPACE:
                break
            if ch in "'\"":
                quote = ch
                blank_ok = True
                i += 1
                continue
            if ch == "\\":
                if i + 1 == n:
                    i += 1
                    continue
                i += 1
                ch = logical[i]
            word.append(ch)
            i += 1
        w = "".join(word)
        if w == "--":
            return flags, i
        if blank_ok or w:
            body = w[2:]
            if "=" in body:
                name, value = body.split("=", 1)
                flags.append(Flag(name, value, logical[start:i], start, i))
            else:
                flags.append(Flag(body, None, logical[start:i], start, i))


def _json_array(text: str) -> tuple[list[str] | None, str | None]:
    """JSON form: (strings, None); shell form: (None, None); invalid array: (None, error)."""
    s = _lstrip_go(text)
    if not s.startswith("["):
        return None, None
    try:
        value, end = _JSON.raw_decode(s)
    except (ValueError, RecursionError):
        return None, None
    if not isinstance(value, list):
        return None, None
    if _strip_go(s[end:]):
        return None, None  # trailing text: shell form since Dockerfile 1.9
    if not all(isinstance(v, str) for v in value):
        return None, "when using JSON array syntax, arrays must be comprised of strings only"
    return value, None


def _reject_constant(name: str) -> object:
    raise ValueError(name)


# (stateless once made: one for every JSON form)
_JSON = json.JSONDecoder(parse_constant=_reject_constant)


def _parse_parts(instr: Instruction, escape: str) -> str | None:
    """Fill flags, args, JSON form, heredoc words and ONBUILD's trigger; return an error."""
    logical = instr.logical
    flags, args_start = _extract_flags(logical, instr.args_start)
    instr.flags = flags
    instr.args_start = args_start
    kw = instr.keyword
    rest = logical[args_start:]
    if kw == "ONBUILD":
        sub_lead = args_start
        if _strip_go(rest):
            # The trigger shares the logical line and its source mapping.
            k = sub_lead
            n = len(logical)
            while k < n and logical[k] in _GO_SPACE:  # pragma: no mutate (rest is not blank)
                k += 1
            e = k
            while e < n and logical[e] not in _ASCII_SPACE:
                e += 1
            trig = Instruction(
                source=instr.source,
                keyword_raw=logical[k:e],
                logical=logical,
                segments=instr.segments,
                start_line=instr.start_line,
                end_line=instr.end_line,
                header_end_line=instr.header_end_line,
                start=instr.start,
                end=instr.end,
                next=instr.next,
                header_end=instr.header_end,
                keyword_start=k,
                args_start=e,
                comments=instr.comments,
            )
            err = _parse_parts(trig, escape)
            instr.trigger = trig
            return err
        return None
    if kw in JSON_KEYWORDS:
        arr, err = _json_array(rest)
        if err:
            return err
        instr.json_args = arr
    elif kw == "HEALTHCHECK":
        words = rest.split(None, 1)
        if len(words) == 2 and words[0].upper() == "CMD":
            arr, err = _json_array(words[1])
            if err:
                return err
            instr.json_args = arr
    elif kw in ("ENV", "LABEL"):
        err = _check_key_values(kw, rest, escape)
        if err:
            return err
    # no heredoc word without "<<": skip the shell split
    if kw in HEREDOC_KEYWORDS and instr.json_args is None and "<<" in logical:
        instr.heredocs = _heredoc_words(logical, instr.keyword_start)
    return None


def _check_key_values(kw: str, rest: str, escape: str) -> str | None:
    rest = _strip_go(rest)  # BuildKit trims the arguments before splitting them
    words = parse_words(rest, escape)
    if not words:
        return None
    if "=" not in words[0]:
        if len(_WHITESPACE_RE.split(_strip_go(rest), maxsplit=1)) < 2:
            return f"{kw} must have two arguments"
        return None
    for w in words:
        if "=" not in w:
            return f'Syntax error - can\'t find = in "{w}". Must be of the form: name=value'
    return None


def parse_words(rest: str, escape: str) -> list[str]:
    """BuildKit's ``parseWords`` for ENV/LABEL/ARG: quote-aware, quotes kept in the words."""
    if escape not in rest and "'" not in rest and '"' not in rest:
        return _GO_WORD_RE.findall(rest)  # nothing quoted: the words between blanks
    words: list[str] = []
    word: list[str] = []
    in_space = True
    quote = ""
    blank_ok = False
    i = 0
    n = len(rest)
    while i < n:
        ch = rest[i]
        if in_space:
            if ch in _GO_SPACE:
                i += 1
                continue
            in_space = False
        if not quote:
            if ch in _GO_SPACE:
                if blank_ok or word:
                    words.append("".join(word))
                word = []
                blank_ok = False
                in_space = True
                i += 1
                continue
            if ch in "'\"":
                quote = ch
                blank_ok = True
            if ch == escape:
                if i + 1 == n:
                    i += 1  # an escape at the very end is dropped
                    continue
                word.append(ch)
                i += 1
                ch = rest[i]
            word.append(ch)
            i += 1
            continue
        if ch == quote:
            quote = ""
        elif ch == escape and quote != "'":
            if i + 1 == n:
                quote = ""
                i += 1
                continue
            word.append(ch)
            i += 1
            ch = rest[i]
        word.append(ch)
        i += 1
    if blank_ok or word:
        words.append("".join(word))
    return words


def _heredoc_words(logical: str, start: int) -> list[Heredoc]:
    words = _shell_words(logical, start)
    if words is None:
        return []
    out: list[Heredoc] = []
    k = 0
    while k < len(words):
        w, ws, we = words[k]
        m = _HEREDOC_WORD_RE.match(w)
        if m:
            fd_s, dash, rest = m.groups()
            if rest == "" and dash == "" and k + 1 < len(words):
                # ``<< EOF``: accepted since Dockerfile 1.16 (not with ``<<-``).
                nw, _, ne = words[k + 1]
                if "<" not in nw:
                    rest = nw
                    we = ne
                    k += 1
            name, quoted = _unquote(rest)
            if name:
                out.append(
                    Heredoc(
                        name=name,
                        strip_tabs=dash == "-",
                        quoted=quoted,
                        fd=int(fd_s) if fd_s else None,
                        word_start=ws,
                        word_end=we,
                        body_start=0,
                        body_end=0,
                        terminator_line=0,
                    )
                )
        k += 1
    return out


def _unquote(word: str) -> tuple[str, bool]:
    out: list[str] = []
    quoted = False
    i = 0
    n = len(word)
    while i < n:
        ch = word[i]
        if ch == "'":
            quoted = True
            j = word.find("'", i + 1)
            if j < 0:
                j = n
            out.append(word[i + 1 : j])
            i = j + 1
        elif ch == '"':
            quoted = True
            i += 1
            while i < n and word[i] != '"':
                if word[i] == "\\" and i + 1 < n:  # pragma: no mutate (the lexer checked it)
                    i += 1
                out.append(word[i])
                i += 1
            i += 1
        elif ch == "\\":
            quoted = True
            if i + 1 < n:
                out.append(word[i + 1])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out), quoted


def _shell_words(line: str, pos: int) -> list[tuple[str, int, int]] | None:
    """Split like BuildKit's lexer with quotes kept raw; None where the lexer fails."""
    words: list[tuple[str, int, int]] = []
    n = len(line)
    i = pos
    while True:
        while i < n and line[i] in _GO_SPACE:
            i += 1
        if i >= n:
            return words
        start = i
        while i < n and line[i] not in _GO_SPACE:
            ch = line[i]
            if ch == "\\":
                i += 2
                continue
            if ch == "'":
                j = line.find("'", i + 1)
                if j < 0:
                    return None
                i = j + 1
                continue
            if ch == '"':
                i += 1
                while True:
                    if i >= n:
                        return None
                    c = line[i]
                    if c == '"':
                        i += 1
                        break
                    if c == "\\":
                        i += 2
                        continue
                    if c == "$":
                        r = _dollar(line, i)
                        if r is None:
                            return None
                        i = r
                        continue
                    i += 1
                continue
            if ch == "$":
                r = _dollar(line, i)
                if r is None:
                    return None
                i = r
                continue
            i += 1
        words.append((line[start:i], start, min(i, n)))


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def _dollar(line: str, i: int) -> int | None:
    """Skip a ``$`` expression at ``i``; None on the lexer's errors."""
    n = len(line)
    i += 1
    if i >= n:
        return i
    if line[i] != "{":
        while i < n and line[i] in _NAME_CHARS:
            i += 1
        return i
    r = _brace_name(line, i + 1)
    if r is None:
        return None
    i = r
    depth = 1
    while i < n:
        c = line[i]
        if c == "\\":
            i += 2
            continue
        # `${` or `$` last: unterminated (None) whether or not it counts as a nested `${`
        if c == "$" and i + 1 < n and line[i + 1] == "{":  # pragma: no mutate
            r = _brace_name(line, i + 2)
            if r is None:
                return None  # a nested `${}`, `${:`, `${\\` … is the lexer's error too
            depth += 1
            i = r
            continue
        if c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _brace_name(line: str, i: int) -> int | None:
    """After ``${``: the end of the name when a ``}`` or a modifier follows it, else None
    (BuildKit's "bad substitution" / "unsupported modifier")."""
    n = len(line)
    if i >= n or line[i] in "{}:":
        return None
    if line[i] in _SPECIAL_PARAMS:
        i += 1
    elif line[i] in "0123456789":  # `${1}`: a positional name is its digits only
        while i < n and line[i] in "0123456789":
            i += 1
    else:
        while i < n and line[i] in _NAME_CHARS:
            i += 1
    if i >= n or line[i] not in _AFTER_NAME:
        return None
    return i


_SPECIAL_PARAMS = frozenset("@*#?-$!")  # one character each; digits are a name too
_AFTER_NAME = frozenset("}:+-?#%/")


# --- stages and variables ------------------------------------------------------------------


# `${V%x}`, `${V#x}`, `${V/a/b}` are not matched: they stay, and make the value unknown
_VAR = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-+])(?P<word>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)
_EXPANSION_DEPTH = 8  # values that name variables are expanded too, this deep at most


def expand(
    text: str, variables: Mapping[str, str | None], escape: str = "\\", depth: int = 0
) -> str | None:
    """``text`` with ``$V``, ``${V}``, ``${V:-w}``, ``${V-w}``, ``${V:+w}``, ``${V+w}`` replaced
    as BuildKit does, or None when the result depends on what cannot be known here.

    The result is the value the build sees without ``--build-arg`` overrides. A variable is
    set when ``variables`` holds a value for it (``ARG V`` without one holds None: unset); a
    value that names other variables is expanded in turn. None when a plain ``$V`` is unset
    (an override or the base image may give it a value), and when anything else with ``$``
    is left: an escaped ``\\$``, ``$1``, ``${V%x}``, a nesting too deep (``ENV P=$P:/x``).
    """
    if "$" not in text:
        return text
    if depth > _EXPANSION_DEPTH:
        return None
    out: list[str] = []
    pos = 0
    for m in _VAR.finditer(text):
        if m.start() > 0 and text[m.start() - 1] == escape:
            return None
        out.append(text[pos : m.start()])
        pos = m.end()
        name = m.group("braced") or m.group("plain")
        op = m.group("op")
        value = variables.get(name)
        if op is None:
            chosen = value
        elif op in (":-", "-"):
            chosen = m.group("word") if value is None or (op == ":-" and value == "") else value
        elif value is not None and (op == "+" or value != ""):
            chosen = m.group("word")
        else:
            chosen = ""
        if chosen is None:
            return None
        sub = expand(chosen, variables, escape, depth + 1)
        if sub is None:
            return None
        out.append(sub)
    out.append(text[pos:])
    result = "".join(out)
    return None if "$" in result else result


def _arg_pairs(instr: Instruction) -> list[tuple[str, str | None]]:
    # Read for every scope question about the stage: split once per tree.
    cached = instr.cache.get("arg-pairs")
    if isinstance(cached, list):
        return cached
    out: list[tuple[str, str | None]] = []
    instr.cache["arg-pairs"] = out
    for w in parse_words(instr.logical[instr.args_start :], "\\"):
        if "=" in w:
            k, v = w.split("=", 1)
            out.append((k, _strip_quotes(v)))
        else:
            out.append((w, None))
    return out


def _env_pairs(instr: Instruction) -> list[tuple[str, str]]:
    cached = instr.cache.get("env-pairs")
    if isinstance(cached, list):
        return cached
    pairs = _read_env_pairs(instr)
    instr.cache["env-pairs"] = pairs
    return pairs


def _read_env_pairs(instr: Instruction) -> list[tuple[str, str]]:
    rest = instr.logical[instr.args_start :]
    words = parse_words(rest, "\\")
    if not words:
        return []
    if "=" not in words[0]:
        parts = _strip_go(rest).split(None, 1)
        return [(parts[0], parts[1] if len(parts) > 1 else "")]
    out: list[tuple[str, str]] = []
    for w in words:
        if "=" in w:
            k, v = w.split("=", 1)
            out.append((k, _strip_quotes(v)))
    return out


def _strip_quotes(v: str) -> str:
    if "$" not in v and "\\" not in v:
        return _unquote(v)[0]  # `"a"b'c'` is `abc`: all BuildKit's lexer does to it
    # `$` stays for the caller to expand: only a value quoted whole loses its quotes
    if v[0] == v[-1] and v[0] in "'\"":
        return v[1:-1]
    return v


def arg_pairs(instr: Instruction) -> list[tuple[str, str | None]]:
    """``ARG a=1 b`` → ``[("a", "1"), ("b", None)]`` (quotes removed from values)."""
    return list(_arg_pairs(instr))


def env_pairs(instr: Instruction) -> list[tuple[str, str]]:
    """``ENV a=1 b=2`` and legacy ``ENV a 1`` as name/value pairs."""
    return list(_env_pairs(instr))


def _build_stages(doc: Dockerfile) -> None:
    stage: Stage | None = None
    global_args: dict[str, str | None] = {}
    for instr in doc.instructions:
        if instr.keyword == "FROM":
            words = [w for w, _, _ in instr.args_words()]
            base = words[0] if words else ""
            alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            plat = instr.flag("platform")
            resolved = base
            if "$" in base:
                resolved = expand(base, global_args, doc.escape) or base
            parent = doc.stage_named(resolved) if resolved and not resolved.isdigit() else None
            stage = Stage(
                index=len(doc.stages),
                from_instruction=instr,
                base=base,
                alias=alias,
                platform=plat.value if plat else None,
                parent=parent,
            )
            stage._global_args = global_args
            doc.stages.append(stage)
            instr.stage = stage
            continue
        if stage is None:
            if instr.keyword == "ARG":
                for name, value in _arg_pairs(instr):
                    global_args[name] = value
            continue
        instr.stage = stage
        if instr.trigger is not None:
            instr.trigger.stage = stage
        stage.instructions.append(instr)
    doc.global_args = global_args
