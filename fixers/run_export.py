"""DF528 run-export: a `RUN` whose whole script is `export X=…`, which sets nothing.

## What it does
Finds `RUN` instructions whose script is nothing but `export NAME=value` commands (one or
several, joined with `&&`, `;` or new lines) and replaces the RUN with the instruction that
does what the author meant: `ENV NAME=value` (and `ARG DEBIAN_FRONTEND=noninteractive` for
`DEBIAN_FRONTEND`, a setting for the build only). A RUN that does anything else after its
`export` is left alone: there the variable serves the commands of that RUN.

## Why is this bad
Each `RUN` is a new shell: what it exports dies with it when the step ends. The later `RUN`s,
the `CMD` and the container never see the variable, so the line reads as configuration but
configures nothing, and the build silently runs without it (a `PATH` entry missing, a
`DEBIAN_FRONTEND` that never applied). BuildKit still runs the step and records it in the
image's history.

## Example
```dockerfile
FROM debian:bookworm-slim
RUN export LANG=C.UTF-8
RUN export PATH=$PATH:/opt/tools/bin
```
Use instead:
```dockerfile
FROM debian:bookworm-slim
ENV LANG=C.UTF-8
ENV PATH=$PATH:/opt/tools/bin
```

## Fix safety
**Unsafe**: the build does nothing with such a RUN today, so any rewrite changes the image.
With `ENV` the variable is set for every later instruction of the stage, in the stages built
`FROM` it and in the running container; that is what an `export` in a shell script means, and
what the author expected, but a later `RUN` or the application now behaves differently (which
is the point). `DEBIAN_FRONTEND` becomes an `ARG`: it is for the build's `apt-get`, and an
`ENV` would keep it in the container, where interactive tools then stop asking. The other way
to keep the build exactly as it is, deleting the RUN, is named in the message.

The value is rewritten only where `ENV` reads it exactly as the shell did: literal text, quoted
or not, and `$NAME`/`${NAME}` of a variable an `ARG` or `ENV` of the file declares, or `PATH`
(both the shell and BuildKit read the image's environment). Otherwise the finding has no fix,
with the reason: command substitution (`$(pwd)`), special parameters, `~`, globbing, a variable
the file does not declare (`$HOME` is the shell's own), a value that names a variable exported
earlier in the same RUN (one `ENV` expands every value with the variables before it), a
secret-looking name (`ENV` would store it in the image: use a secret mount), or shell comments
inside the RUN. `ONBUILD RUN export …` is left alone.

## Options
None.

## Resolves
hadolint: none · Trivy: none · Checkov: none.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from dockfix.core.edits import indent_of, keyword_style
from dockfix.core.fixer import Edit, Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._run_script import Script, analyse_run
from dockfix.fixers._secret_names import looks_secret
from dockfix.semantics.context import FixContext
from dockfix.semantics.semantic import scope_at
from dockfix.syntax import Dockerfile, Instruction

# Variables for the build's commands only: an ARG sets them for the later RUNs of the stage
# and leaves them out of the container.
BUILD_ONLY = frozenset({"DEBIAN_FRONTEND"})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BARE = re.compile(r"[A-Za-z0-9_./:,@%+=${}-]+")
# Chain operators after which the next export runs whatever the previous one did.
_SEQUENCE = frozenset({None, "&&", ";", "\n"})


class Export(NamedTuple):
    name: str
    raw: str  # the value as written in the shell


class Piece(NamedTuple):
    text: str  # literal text, or the variable's name
    variable: bool
    braced: bool = False


def split_declaration(text: str) -> list[str] | None:
    """The words of `export A=1 B="x y"` (quotes kept, `$(…)` and `` `…` `` whole); None when
    a quote is left open."""
    words: list[str] = []
    current: list[str] = []
    quote = ""
    depth = 0  # open `$(`
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and quote != "'" and i + 1 < len(text):
            current += [c, text[i + 1]]
            i += 2
            continue
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"`":
            quote = c
        elif text.startswith("$(", i):
            depth += 1
        elif c == ")" and depth:
            depth -= 1
        elif c in " \t\n" and not depth:
            if current:
                words.append("".join(current))
                current = []
            i += 1
            continue
        current.append(c)
        i += 1
    if quote or depth:
        return None
    if current:
        words.append("".join(current))
    return words


def value_pieces(raw: str) -> list[Piece] | str:
    """The shell value ``raw`` as literal text and variable references, or why ENV cannot
    read it the same way."""
    if raw.startswith("~"):
        return "`~`, which only the shell expands"
    pieces: list[Piece] = []
    literal: list[str] = []
    i, quote = 0, ""
    while i < len(raw):
        c = raw[i]
        if quote == "'":
            if c == "'":
                quote = ""
            else:
                literal.append(c)
            i += 1
        elif c == "'" and not quote:
            quote = "'"
            i += 1
        elif c == '"':
            quote = "" if quote == '"' else '"'
            i += 1
        else:
            read = _value_piece(raw, i, quote, literal, pieces)
            if isinstance(read, str):
                return read
            i = read
    if quote:
        return "an unterminated quote"
    _end_literal(literal, pieces)
    return pieces


def _value_piece(
    raw: str, i: int, quote: str, literal: list[str], pieces: list[Piece]
) -> int | str:
    """Read the character at ``i`` (outside single quotes; in double quotes when ``quote``):
    into ``literal``, or a variable reference into ``pieces``. Where the next one starts, or
    why ENV cannot read it the same way."""
    c = raw[i]
    if c == "\\":
        if i + 1 >= len(raw):
            return "a trailing backslash"
        nxt = raw[i + 1]
        if nxt == "\n":
            return "a line continuation"
        if quote and nxt not in '$`"\\':
            literal.append(c)
        literal.append(nxt)
        return i + 2
    if c == "`":
        return "command substitution (`` ` ``), run by the RUN's shell"
    if c == "$":
        ref = _variable_at(raw, i)
        if isinstance(ref, str):
            return ref
        if ref is not None:
            _end_literal(literal, pieces)
            name, end, braced = ref
            pieces.append(Piece(name, True, braced))
            return end
    elif not quote and c in "*?[":
        return "glob patterns (`*`, `?`, `[`)"
    elif not quote and c == "~" and raw[i - 1] in ":=":
        return "`~`, which only the shell expands"
    literal.append(c)
    return i + 1


def _end_literal(literal: list[str], pieces: list[Piece]) -> None:
    """The literal text read so far becomes a piece."""
    if literal:
        pieces.append(Piece("".join(literal), False))
        literal.clear()


def _variable_at(raw: str, i: int) -> tuple[str, int, bool] | str | None:
    """(name, end, braced) of the `$NAME`/`${NAME}` at ``raw[i]``; None for a literal `$`;
    the reason when it is another expansion."""
    rest = raw[i + 1 :]
    if rest.startswith("("):
        return "command substitution (`$(…)`), run by the RUN's shell"
    if rest.startswith("{"):
        close = rest.find("}")
        name = rest[1:close] if close > 0 else ""
        if not _NAME.fullmatch(name):
            return f"the shell expansion `${{{name}…}}`"
        return name, i + 2 + close, True
    m = _NAME.match(rest)
    if m:
        return m.group(0), i + 1 + m.end(), False
    if rest[:1] and rest[0] in "@*#?-$!0123456789":
        return f"the shell's special parameter `${rest[0]}`"
    return None


def env_value(pieces: list[Piece], escape: str) -> str:
    """The pieces as one ENV value word: bare where BuildKit reads it so, else double-quoted
    with `"`, `$` and the escape character escaped."""
    out: list[str] = []
    for k, p in enumerate(pieces):
        if p.variable:
            follows = pieces[k + 1].text[:1] if k + 1 < len(pieces) else ""
            glued = bool(follows) and not pieces[k + 1].variable and _NAME.match(follows + "x")
            out.append(f"${{{p.text}}}" if p.braced or glued else f"${p.text}")
        else:
            out.append("".join(escape + ch if ch in ('"', "$", escape) else ch for ch in p.text))
    text = "".join(out)
    if text and _BARE.fullmatch(text) and escape not in text:
        return text
    return f'"{text}"'


def _sent_to_background(text: str, end: int) -> bool:
    """Whether the script's last item ends with `&` (a trailing operator is not in the chain)."""
    tail = text[end:].lstrip(" \t")
    return tail.startswith("&") and not tail.startswith("&&")


def _exports(script: Script) -> list[Export] | None:
    """The exports of a script that consists of `export NAME=value` only; None otherwise."""
    parsed = script.parsed
    if parsed.has_error or not parsed.chain or any(c.top_level for c in parsed.commands):
        return None  # (a command inside `$(…)` of a value is read as the value's problem)
    out: list[Export] = []
    for item in parsed.chain:
        if item.kind != "declaration_command" or item.op not in _SEQUENCE:
            return None
        if item is parsed.chain[-1] and _sent_to_background(parsed.text, item.end - parsed.offset):
            return None
        words = split_declaration(
            parsed.text[item.start - parsed.offset : item.end - parsed.offset]
        )
        if not words or words[0] != "export" or len(words) < 2:
            return None
        for word in words[1:]:
            name, eq, raw = word.partition("=")
            if not eq or not _NAME.fullmatch(name):
                return None  # `export -p`, `export NAME` alone: not this rule's case
            out.append(Export(name, raw))
    return out


@register
class RunExport(Fixer):
    code = "DF528"
    mentions = ("export",)
    acts_on = frozenset({"RUN"})
    severity = Severity.WARNING
    name = "run-export"
    summary = "A RUN that only exports variables: they are gone when the RUN ends"
    resolves = Resolves()
    image_changes = ("config:Env",)  # the variable is now set (an ARG sets nothing)

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for instr in doc.instructions:
            if instr.keyword != "RUN" or instr.stage is None:
                continue
            analysis = analyse_run(doc, instr)
            if analysis.opaque or len(analysis.scripts) != 1:
                continue
            script = analysis.scripts[0]
            if "export" not in script.parsed.text:
                continue  # the word `export` starts every declaration this rule reads
            exports = _exports(script)
            if exports:
                yield self._finding(doc, instr, script, exports)

    def _finding(
        self, doc: Dockerfile, instr: Instruction, script: Script, exports: list[Export]
    ) -> Finding:
        names = ", ".join(f"`{e.name}`" for e in exports)
        message = (
            f"`RUN export` sets {names} only inside this RUN: later instructions and the "
            "container never see it (or delete the RUN: the build does the same without it)"
        )
        why, lines = _replacement(doc, instr, script, exports)
        if why:
            return self.finding(instr, message, reason=why)
        indent = indent_of(doc, instr)
        start = instr.start + (len(indent) if doc.source.startswith(indent, instr.start) else 0)
        edit = Edit(start, instr.end, (doc.eol + indent).join(lines))
        described = " and ".join(f"`{line}`" for line in lines)
        return self.finding(instr, message, Fix.unsafe(edit, description=described))


def _replacement(
    doc: Dockerfile, instr: Instruction, script: Script, exports: list[Export]
) -> tuple[str, list[str]]:
    """("", the new instruction lines) or (why the RUN cannot be rewritten, [])."""
    if script.parsed.comments or instr.comments:
        return "the RUN holds comments that the rewrite would drop", []
    assert instr.stage is not None
    scope = scope_at(instr.stage, instr)
    exported: set[str] = set()
    build_only: list[str] = []
    env: list[str] = []
    for e in exports:
        if looks_secret(e.name):
            return (
                f"`{e.name}` looks like a secret: ENV would keep it in the image; pass it with "
                "`RUN --mount=type=secret` where it is used",
                [],
            )
        pieces = value_pieces(e.raw)
        if isinstance(pieces, str):
            return (
                f"the value of `{e.name}` uses {pieces}, which ENV does not read the same way",
                [],
            )
        for p in pieces:
            if not p.variable:
                continue
            if p.text in exported:
                return (
                    f"`{e.name}` reads `${p.text}` exported before it in the same RUN; one ENV "
                    "expands every value with the variables set before it",
                    [],
                )
            if p.text != "PATH" and p.text not in scope:
                return (
                    f"`${p.text}` is not declared by an ARG or ENV of the file, so the value "
                    "ENV would read is not known to be the shell's",
                    [],
                )
        exported.add(e.name)
        pair = f"{e.name}={env_value(pieces, doc.escape)}"
        (build_only if e.name in BUILD_ONLY else env).append(pair)
    lines = [f"{keyword_style(doc, 'ARG')} {pair}" for pair in build_only]
    if env:
        lines.append(f"{keyword_style(doc, 'ENV')} {' '.join(env)}")
    return "", lines
