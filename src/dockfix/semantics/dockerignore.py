"""Docker's ``.dockerignore``: reading the file and deciding which context paths it excludes.

This follows the code that really runs, not a re-reading of the documentation:
moby/patternmatcher ``ignorefile.ReadAll`` (reading), ``patternmatcher.New`` (cleaning and
validation), ``Pattern.compile``/``Pattern.match`` (one pattern against one path) and
tonistiigi/fsutil ``filter.go`` (how BuildKit walks the context with
``MatchesUsingParentResults``). ``../shared/dockerfile-syntax.md`` section 8 summarises the
rules; the upstream ``TestMatches`` table is the reference test (tests/test_dockerignore.py).

Reading: a UTF-8 BOM is dropped from line 1; lines end at ``\\n`` with one ``\\r`` dropped; a
line whose first character is ``#`` is a comment; the rest is trimmed; ``!`` marks an
exception; the path is cleaned like Go's ``filepath.Clean`` and one leading ``/`` is removed.

Matching: a pattern is turned into one of four tests, as upstream does: exact text, prefix
(``dir/**``), suffix (a leading ``**`` followed by plain text) or a regular expression in Go's
RE2 syntax. The regular expression is built exactly as upstream builds it, then translated
into an equivalent Python expression, so even odd patterns (``[*]``, ``\\d``, ``[[:alpha:]]``)
behave as in a real build. The semantics are those of a Unix client (on Windows the
separator is ``\\`` and there are no escapes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

__all__ = ["DockerIgnore", "Pattern", "go_clean", "go_filepath_match", "read_patterns"]

MatchKind = Literal["exact", "prefix", "suffix", "regexp"]

# Go's unicode.IsSpace (strings.TrimSpace); Python's str.isspace() also counts \x1c-\x1f.
_GO_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# Characters upstream escapes when building the regular expression (regexp specials that
# have no meaning in a filepath pattern).
_REGEXP_ESCAPED = frozenset(".+()|{}$")
_MAX_RUNE = 0x10FFFF


def _go_trim_space(s: str) -> str:
    i, j = 0, len(s)
    while i < j and s[i] in _GO_SPACE:
        i += 1
    while j > i and s[j - 1] in _GO_SPACE:
        j -= 1
    return s[i:j]


def go_clean(path: str) -> str:
    """Go's ``path.Clean``: the shortest equivalent slash path (``""`` becomes ``"."``)."""
    if path == "":
        return "."
    rooted = path.startswith("/")
    out: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if out and out[-1] != "..":
                out.pop()
            elif not rooted:
                out.append("..")
            continue
        out.append(part)
    cleaned = "/".join(out)
    if rooted:
        return "/" + cleaned
    return cleaned or "."


def _go_dir(path: str) -> str:
    """Go's ``path.Dir``: everything before the last slash, cleaned."""
    return go_clean(path[: path.rfind("/") + 1])


def read_patterns(text: str) -> list[str]:
    """``ignorefile.ReadAll``: the file's patterns, cleaned, exceptions prefixed with ``!``."""
    out: list[str] = []
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # a final line break does not open another line
    for raw in lines:
        line = raw[:-1] if raw.endswith("\r") else raw
        if line.startswith("#"):
            continue
        pattern = _go_trim_space(line)
        if pattern == "":
            continue
        invert = pattern[0] == "!"
        if invert:
            pattern = _go_trim_space(pattern[1:])
        if pattern:
            pattern = go_clean(pattern)
            if len(pattern) > 1 and pattern[0] == "/":
                pattern = pattern[1:]
        out.append("!" + pattern if invert else pattern)
    return out


# --- Go's filepath.Match, used upstream only to reject malformed patterns ------------------


class _BadPattern(Exception):
    pass


def _scan_chunk(pattern: str) -> tuple[bool, str, str]:
    star = False
    while pattern.startswith("*"):
        pattern = pattern[1:]
        star = True
    in_range = False
    i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            if i + 1 < n:
                i += 1
        elif ch == "[":
            in_range = True
        elif ch == "]":
            in_range = False
        elif ch == "*" and not in_range:
            break
        i += 1
    return star, pattern[:i], pattern[i:]


def _get_esc(chunk: str) -> tuple[str, str]:
    if chunk == "" or chunk[0] in "-]":
        raise _BadPattern
    if chunk[0] == "\\":
        chunk = chunk[1:]
        if chunk == "":
            raise _BadPattern
    r, rest = chunk[0], chunk[1:]
    if rest == "":
        raise _BadPattern
    return r, rest


def _match_chunk(chunk: str, s: str) -> tuple[str, bool]:
    """Go's ``matchChunk``: the rest of ``s`` and success; validates the whole chunk."""
    failed = False
    while chunk:
        if not failed and s == "":
            failed = True
        ch = chunk[0]
        if ch == "[":
            r = ""
            if not failed:
                r, s = s[0], s[1:]
            chunk = chunk[1:]
            negated = False
            if chunk.startswith("^"):
                negated = True
                chunk = chunk[1:]
            matched = False
            nrange = 0
            while True:
                if chunk.startswith("]") and nrange > 0:
                    chunk = chunk[1:]
                    break
                lo, chunk = _get_esc(chunk)
                hi = lo
                if chunk[0] == "-":
                    hi, chunk = _get_esc(chunk[1:])
                if r and lo <= r <= hi:
                    matched = True
                nrange += 1
            if matched == negated:
                failed = True
        elif ch == "?":
            if not failed:
                if s[0] == "/":
                    failed = True
                s = s[1:]
            chunk = chunk[1:]
        else:
            if ch == "\\":
                chunk = chunk[1:]
                if chunk == "":
                    raise _BadPattern
            if not failed:
                if chunk[0] != s[0]:
                    failed = True
                s = s[1:]
            chunk = chunk[1:]
    if failed:
        return "", False
    return s, True


def go_filepath_match(pattern: str, name: str) -> bool:
    """Go's ``filepath.Match`` on Unix; raises ValueError for a malformed pattern."""
    try:
        return _go_match(pattern, name)
    except _BadPattern:
        raise ValueError(f"syntax error in pattern {pattern!r}") from None


def _go_match(pattern: str, name: str) -> bool:
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and chunk == "":
            return "/" not in name
        t, ok = _match_chunk(chunk, name)
        if ok and (t == "" or pattern):
            name = t
            continue
        found = False
        if star:
            i = 0
            while i < len(name) and name[i] != "/":
                t, ok = _match_chunk(chunk, name[i + 1 :])
                if ok:
                    if pattern == "" and t:
                        i += 1
                        continue
                    name = t
                    found = True
                    break
                i += 1
        if found:
            continue
        # Before answering "no", the rest of the pattern must still be well formed.
        while pattern:
            _, chunk, pattern = _scan_chunk(pattern)
            _match_chunk(chunk, "")
        return False
    return name == ""


# --- Go RE2 (the subset a compiled pattern can contain) to Python re -------------------------

_Ranges = list[tuple[int, int]]

_PERL_CLASSES: dict[str, _Ranges] = {
    "d": [(0x30, 0x39)],
    "s": [(0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x20)],
    "w": [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
}
_POSIX_CLASSES: dict[str, _Ranges] = {
    "alnum": [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
    "alpha": [(0x41, 0x5A), (0x61, 0x7A)],
    "ascii": [(0x00, 0x7F)],
    "blank": [(0x09, 0x09), (0x20, 0x20)],
    "cntrl": [(0x00, 0x1F), (0x7F, 0x7F)],
    "digit": [(0x30, 0x39)],
    "graph": [(0x21, 0x7E)],
    "lower": [(0x61, 0x7A)],
    "print": [(0x20, 0x7E)],
    "punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
    "space": [(0x09, 0x0D), (0x20, 0x20)],
    "upper": [(0x41, 0x5A)],
    "word": [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
    "xdigit": [(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
}


class _RegexpError(ValueError):
    pass


def _complement(ranges: _Ranges) -> _Ranges:
    out: _Ranges = []
    nxt = 0
    for lo, hi in sorted(ranges):
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = max(nxt, hi + 1)
    if nxt <= _MAX_RUNE:
        out.append((nxt, _MAX_RUNE))
    return out


def _class_py(ranges: _Ranges) -> str:
    """A Python character class for code point ranges (every character written escaped)."""
    if not ranges:
        return "(?!)"  # the empty set: matches nothing
    parts = []
    for lo, hi in sorted(ranges):
        parts.append(f"\\U{lo:08x}" if lo == hi else f"\\U{lo:08x}-\\U{hi:08x}")
    return "[" + "".join(parts) + "]"


def _perl_class(t: str) -> tuple[_Ranges, str] | None:
    """``\\d \\D \\s \\S \\w \\W`` at the start of ``t``: their ranges and the rest."""
    if len(t) >= 2 and t[0] == "\\" and t[1].lower() in _PERL_CLASSES:
        ranges = _PERL_CLASSES[t[1].lower()]
        return (_complement(ranges) if t[1].isupper() else list(ranges)), t[2:]
    return None


def _unhex(c: str) -> int:
    return int(c, 16) if c and c in "0123456789abcdefABCDEF" else -1


def _parse_escape(s: str) -> tuple[str, str]:
    """RE2 ``parseEscape`` on ``s`` starting with a backslash: the character and the rest."""
    t = s[1:]
    if t == "":
        raise _RegexpError("trailing backslash at end of expression")
    c, t = t[0], t[1:]
    if c < "\x80" and not c.isalnum():
        return c, t  # escaped punctuation is itself
    if c in "1234567" and (t == "" or not "0" <= t[0] <= "7"):
        pass  # a backreference: not supported
    elif c in "01234567":
        value = ord(c) - 0x30
        for _ in range(2):
            if t == "" or not "0" <= t[0] <= "7":
                break
            value = value * 8 + ord(t[0]) - 0x30
            t = t[1:]
        return chr(value), t
    elif c == "x" and t:
        c, t = t[0], t[1:]
        if c == "{":
            value, nhex = 0, 0
            while t:
                c, t = t[0], t[1:]
                if c == "}":
                    if nhex and value <= _MAX_RUNE:
                        return chr(value), t
                    break
                v = _unhex(c)
                if v < 0:
                    break
                value = value * 16 + v
                if value > _MAX_RUNE:
                    break
                nhex += 1
        else:
            x = _unhex(c)
            y = _unhex(t[0]) if t else -1
            t = t[1:]
            if x >= 0 and y >= 0:
                return chr(x * 16 + y), t
    elif c in "afnrtv":
        return {"a": "\a", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}[c], t
    raise _RegexpError(f"invalid escape sequence: `{s[: len(s) - len(t)]}`")


def _parse_class(s: str) -> tuple[str, str]:
    """RE2 ``parseClass`` on ``s`` starting with ``[``: the Python class and the rest."""
    t = s[1:]
    negated = False
    if t.startswith("^"):
        negated = True
        t = t[1:]
    ranges: _Ranges = []
    first = True  # `]` is literal as the first character
    while t == "" or t[0] != "]" or first:
        first = False
        if len(t) > 2 and t[0] == "[" and t[1] == ":":
            end = t.find(":]", 2)
            if end >= 0:
                name = t[2:end]
                neg = name.startswith("^")
                posix = _POSIX_CLASSES.get(name[1:] if neg else name)
                if posix is None:
                    raise _RegexpError(f"invalid character class range: `{t[: end + 2]}`")
                ranges.extend(_complement(posix) if neg else posix)
                t = t[end + 2 :]
                continue
        if len(t) >= 2 and t[0] == "\\" and t[1] in "pP":
            raise _RegexpError("Unicode classes (\\p) are not supported by dockfix")
        perl = _perl_class(t)
        if perl is not None:
            ranges.extend(perl[0])
            t = perl[1]
            continue
        if t == "":
            raise _RegexpError(f"missing closing ]: `{s}`")
        start = t
        lo, t = _parse_escape(t) if t[0] == "\\" else (t[0], t[1:])
        hi = lo
        if len(t) >= 2 and t[0] == "-" and t[1] != "]":
            t = t[1:]
            if t == "":
                raise _RegexpError(f"missing closing ]: `{s}`")
            hi, t = _parse_escape(t) if t[0] == "\\" else (t[0], t[1:])
            if hi < lo:
                raise _RegexpError(
                    f"invalid character class range: `{start[: len(start) - len(t)]}`"
                )
        ranges.append((ord(lo), ord(hi)))
    t = t[1:]  # the closing ]
    return _class_py(_complement(ranges) if negated else ranges), t


def _go_regexp_to_python(expr: str) -> str:
    """Translate the RE2 expression upstream builds into an equivalent Python expression."""
    out: list[str] = []
    t = expr
    while t:
        ch = t[0]
        if ch == "[":
            py, t = _parse_class(t)
            out.append(py)
            continue
        if ch == "\\":
            nxt = t[1] if len(t) >= 2 else ""
            if nxt == "A":
                out.append(r"\A")
                t = t[2:]
            elif nxt == "z":
                out.append(r"\Z")
                t = t[2:]
            elif nxt in ("b", "B"):
                out.append("\\" + nxt)
                t = t[2:]
            elif nxt == "C":
                raise _RegexpError("invalid escape sequence: `\\C`")
            elif nxt == "Q":
                literal, _, t = t[2:].partition("\\E")
                out.append(re.escape(literal))
            elif nxt in ("p", "P"):
                raise _RegexpError("Unicode classes (\\p) are not supported by dockfix")
            else:
                perl = _perl_class(t)
                if perl is not None:
                    out.append(_class_py(perl[0]))
                    t = perl[1]
                else:
                    c, t = _parse_escape(t)
                    out.append(re.escape(c))
            continue
        if ch == "^":
            out.append(r"\A")
        elif ch == "$":
            out.append(r"\Z")
        elif ch == "(":
            out.append("(?:")
        elif ch in ").*?|":
            out.append(ch)  # only produced by the pattern compiler itself
        else:
            out.append(re.escape(ch))
        t = t[1:]
    return "".join(out)


# --- one pattern ---------------------------------------------------------------------------


def _compile(pattern: str) -> tuple[MatchKind, str]:
    """Upstream's ``Pattern.compile``: the match kind and, for ``regexp``, the RE2 text."""
    reg = "^"
    kind: MatchKind = "exact"
    chars = pattern[1:] if pattern.startswith("\ufeff") else pattern  # text/scanner skips a BOM
    n = len(chars)
    pos = 0
    i = 0  # iterations, not characters: `**` counts once
    while pos < n:
        ch = chars[pos]
        pos += 1
        if ch == "*":
            if pos < n and chars[pos] == "*":
                pos += 1
                if pos < n and chars[pos] == "/":
                    pos += 1  # `**/` is treated as `**`
                if pos >= n:
                    if kind == "exact":
                        kind = "prefix"
                    else:
                        reg += ".*"
                        kind = "regexp"
                else:
                    reg += "(.*/)?"
                    kind = "regexp"
                if i == 0:
                    kind = "suffix"
            else:
                reg += "[^/]*"
                kind = "regexp"
        elif ch == "?":
            reg += "[^/]"
            kind = "regexp"
        elif ch in _REGEXP_ESCAPED:
            reg += "\\" + ch
        elif ch == "\\":
            if pos < n:
                reg += "\\" + chars[pos]
                pos += 1
                kind = "regexp"
            else:
                reg += "\\"
        elif ch in "[]":
            reg += ch
            kind = "regexp"
        else:
            reg += ch
        i += 1
    if kind == "regexp":
        reg += "$"
    return kind, reg


@dataclass(frozen=True)
class Pattern:
    """One cleaned pattern of the file (``text`` without the ``!`` of an exception)."""

    text: str
    exception: bool
    kind: MatchKind = field(compare=False)
    _regexp: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def parse(cls, raw: str) -> Pattern:
        """``patternmatcher.New`` for one pattern: trim, clean, ``!``, validate, compile."""
        return _parse_pattern(raw)

    def matches(self, path: str) -> bool:
        """Whether the pattern matches this exact slash path (upstream ``Pattern.match``)."""
        if self.kind == "exact":
            return path == self.text
        if self.kind == "prefix":
            return path.startswith(self.text[:-2])
        if self.kind == "suffix":
            suffix = self.text[2:]
            if path.endswith(suffix):
                return True
            return suffix.startswith("/") and path == suffix[1:]
        assert self._regexp is not None
        return self._regexp.match(path) is not None

    def __str__(self) -> str:
        return "!" + self.text if self.exception else self.text


@lru_cache(maxsize=4096)
def _parse_pattern(raw: str) -> Pattern:
    # A pattern is immutable, and the same ones (`.git`, `node_modules`, `**/*.md`) recur in
    # the ignore files of a monorepo's services: each is parsed and compiled once per process.
    p = go_clean(_go_trim_space(raw))
    exception = p.startswith("!")
    if exception:
        if len(p) == 1:
            raise ValueError('illegal exclusion pattern: "!"')
        p = p[1:]
    try:
        _go_match(p, ".")
    except _BadPattern:
        raise ValueError(f"syntax error in pattern {p!r}") from None
    kind, go_regexp = _compile(p)
    compiled = None
    if kind == "regexp":
        try:
            compiled = re.compile(_go_regexp_to_python(go_regexp), re.ASCII)
        except _RegexpError as e:
            # Upstream compiles lazily: the build fails once the pattern is evaluated.
            raise ValueError(f"pattern {p!r} is not a valid expression: {e}") from None
    return Pattern(p, exception, kind, compiled)


class DockerIgnore:
    """The patterns of one ignore file and the paths they keep out of the build context."""

    def __init__(self, patterns: Sequence[Pattern]) -> None:
        self.patterns: tuple[Pattern, ...] = tuple(patterns)

    @classmethod
    def from_text(cls, text: str) -> DockerIgnore:
        """Read an ignore file's text; ValueError (naming the line) on a pattern Docker rejects."""
        return cls.from_patterns(read_patterns(text))

    @classmethod
    def from_patterns(cls, patterns: Iterable[str]) -> DockerIgnore:
        """Patterns as ``ReadAll`` returns them (``!`` for exceptions); ValueError when bad."""
        out: list[Pattern] = []
        for raw in patterns:
            if _go_trim_space(raw) == "":
                continue
            try:
                out.append(Pattern.parse(raw))
            except ValueError as e:
                raise ValueError(f".dockerignore: {e}") from None
        return cls(out)

    @property
    def has_exceptions(self) -> bool:
        """Whether any pattern is a ``!`` exception (BuildKit's CopyIgnoredFile check is off)."""
        return any(p.exception for p in self.patterns)

    def excludes(self, rel_path: str) -> bool:
        """Whether a context path (``a/b``, ``./a/b/``, ``/a/b``) is left out of the build.

        Decided as BuildKit's context transfer does: the path's directories are matched from
        the top down, a pattern that matched a directory holds for everything inside it, and
        the last pattern that applies wins. The context root is never excluded; paths that
        leave the context (``../x``) are not in it and are reported as not excluded.
        """
        path = go_clean(rel_path).lstrip("/") or "."
        if path == "." or path == ".." or path.startswith("../"):
            return False
        return self.matches_using_parent_results(path)

    # --- upstream's matcher functions on raw slash paths (the reference tests use them) ---
    def matches_exact(self, path: str) -> bool:
        """``PatternMatcher.MatchesExact``: no parent directories considered."""
        matched = False
        for p in self.patterns:
            if p.exception != matched:
                continue
            if p.matches(path):
                matched = not p.exception
        return matched

    def matches_or_parent_matches(self, path: str) -> bool:
        """``PatternMatcher.MatchesOrParentMatches``: a pattern also matches via any parent."""
        parent = _go_dir(path)
        parents = parent.split("/")
        matched = False
        for p in self.patterns:
            if p.exception != matched:
                continue
            hit = p.matches(path)
            if not hit and parent != ".":
                hit = any(p.matches("/".join(parents[: i + 1])) for i in range(len(parents)))
            if hit:
                matched = not p.exception
        return matched

    def matches_using_parent_results(self, path: str) -> bool:
        """``MatchesUsingParentResults`` applied from the top directory down, as fsutil walks."""
        parent = _go_dir(path)
        info: list[bool] | None = None
        if parent != ".":
            dirs = parent.split("/")
            for i in range(len(dirs)):
                _, info = self._match_with_parent("/".join(dirs[: i + 1]), info)
        return self._match_with_parent(path, info)[0]

    def _match_with_parent(
        self, path: str, parent_info: list[bool] | None
    ) -> tuple[bool, list[bool]]:
        matched = False
        info = [False] * len(self.patterns)
        for i, p in enumerate(self.patterns):
            hit = parent_info[i] if parent_info is not None else False
            if not hit:
                if p.exception != matched:
                    continue  # upstream leaves this pattern's parent result unset
                hit = p.matches(path)
            info[i] = hit
            if hit:
                matched = not p.exception
        return matched, info

    def __repr__(self) -> str:
        return f"DockerIgnore({[str(p) for p in self.patterns]!r})"
