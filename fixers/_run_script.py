"""Shared by DF103, DF105 and DF201: the shell scripts of a RUN and safe edits to them.

A RUN holds shell code in up to three places, and each is edited differently:

- the command line (shell form): logical offsets, mapped to the file with
  ``Instruction.source_span``. ``<<EOF`` words are blanked out before parsing (their bodies
  are stdin data for the command), which keeps every offset and gives tree-sitter a plain
  chain to read;
- a heredoc body that *is* the script: ``RUN <<EOF`` (run by the default shell unless its
  shebang names another interpreter) or ``RUN bash -e <<EOF``. Offsets are source offsets;
- the string of an exec-form ``["sh", "-c", "…"]``: read for analysis, never edited.

Everything else (exec form of a program, a non-POSIX ``SHELL``, a Python heredoc) is opaque:
fixers cannot see what it runs.
"""

from __future__ import annotations

import itertools
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dockfix.core.fixer import Edit
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._run_shell import (
    errexit_flags,
    normalise_body,
    reads_stdin_script,
    set_errexit,
    shebang,
    shell_argv,
)
from dockfix.semantics.memo import per_tree
from dockfix.semantics.semantic import mounts
from dockfix.semantics.shell import (
    OPTIONS_WITH_VALUE,
    WRAPPERS,
    ChainItem,
    ShellScript,
    SimpleCommand,
    heredoc_shell_of,
    parse_shell,
    shell_of,
)

if TYPE_CHECKING:
    from dockfix.syntax import Dockerfile, Heredoc, Instruction

# Wrappers whose first word after their options is the command they run (`timeout 60 cmd`
# and `xargs cmd` are left to SimpleCommand.argv).
PLAIN_WRAPPERS = WRAPPERS - {"xargs", "timeout"}
POSIX_SHELLS = frozenset({"sh", "bash", "dash", "ash", "ksh", "zsh", "mksh", "busybox"})
# `sh` is dash in Debian and Ubuntu images (where apt runs) and busybox ash in Alpine: neither
# expands braces.
BRACE_SHELLS = frozenset({"bash", "ksh", "zsh", "mksh"})

# Chain items after which `&& cmd` may be written (a function definition or an assignment
# alone would change meaning or parse differently).
_APPENDABLE_KINDS = frozenset(
    {
        "command",
        "pipeline",
        "subshell",
        "compound_statement",
        "if_statement",
        "for_statement",
        "while_statement",
        "case_statement",
        "negated_command",
        "redirected_statement",
        "c_style_for_statement",
        "test_command",
    }
)


@dataclass(eq=False)
class Script:
    """One parsed piece of shell code of a RUN."""

    instr: Instruction  # the RUN (or ONBUILD's RUN trigger: logical offsets are shared)
    owner: Instruction  # the instruction in the file (the ONBUILD itself for a trigger)
    parsed: ShellScript
    kind: str  # "line" | "body" | "exec"
    heredoc: Heredoc | None = None
    errexit: bool = False  # `set -e` from the SHELL, the interpreter flags or a shebang
    has_data_heredocs: bool = False  # a "line" script whose heredocs feed commands
    shell: str = "sh"  # the interpreter's name ("" for an exec form run without a shell)

    @property
    def expands_braces(self) -> bool:
        """Whether `{a,b}` in a word becomes two words (bash, zsh, ksh; not dash or ash)."""
        return self.shell in BRACE_SHELLS

    @property
    def editable(self) -> bool:
        return self.kind in ("line", "body") and not self.parsed.has_error

    def to_source(self, offset: int) -> int:
        """The file offset of a script offset (start of a character)."""
        if self.kind == "body":
            assert self.heredoc is not None
            return self.heredoc.body_start + offset
        return self.instr.to_source(offset)

    def end_to_source(self, end: int) -> int:
        """The file offset just after the script character before ``end``."""
        if self.kind == "body":
            assert self.heredoc is not None
            return self.heredoc.body_start + end
        return self.instr.to_source(end - 1) + 1

    def text(self, start: int, end: int) -> str:
        if self.kind == "body":
            return self.parsed.text[start:end]
        return self.instr.logical[start:end]


@dataclass(eq=False)
class RunAnalysis:
    instr: Instruction
    owner: Instruction
    scripts: list[Script] = field(default_factory=list)
    opaque: str = ""  # why some of the RUN cannot be read, "" when all of it can

    def commands(self) -> Iterator[tuple[Script, SimpleCommand]]:
        for s in self.scripts:
            for c in s.parsed.commands:
                yield s, c

    @property
    def text(self) -> str:
        """Everything the RUN contains, for plain-text searches."""
        return self.instr.logical + "".join(h.body for h in self.instr.heredocs)


# --- reading a RUN --------------------------------------------------------------------------


def analyse_run(doc: Dockerfile, owner: Instruction) -> RunAnalysis:
    """The scripts of a RUN (or of ``ONBUILD RUN``), computed once per instruction."""
    # Kept by the tree, not by the instruction: the analysis refers to its instruction, and a
    # cycle would leave the whole tree to the garbage collector.
    return _analysed_run(doc, owner)


@per_tree
def _analysed_run(doc: Dockerfile, owner: Instruction) -> RunAnalysis:
    instr = owner.trigger if owner.trigger is not None else owner
    out = RunAnalysis(instr, owner)
    shell = shell_argv(doc, owner.stage, owner)
    shell_name = shell[0].replace("\\", "/").rsplit("/", 1)[-1].lower() if shell else ""
    if shell_name not in POSIX_SHELLS:
        out.opaque = f"RUN runs under SHELL {shell!r}, not a POSIX shell"
        return out
    shell_errexit = errexit_flags([w for w in shell[1:] if w != "-c"])
    if instr.json_args is not None:
        _read_exec_form(out, instr.json_args)
        return out
    parsed_line = shell_of(instr)
    assert parsed_line is not None  # shell form
    body_script, interp, interp_errexit = _heredoc_script(parsed_line, instr)
    if body_script is None:
        errexit = set_errexit(parsed_line, shell_errexit)
        data = bool(instr.heredocs)  # heredocs the command line's commands read
        out.scripts.append(
            Script(instr, owner, parsed_line, "line", None, errexit, data, shell_name)
        )
        return out
    interp = interp or shell_name
    interp_errexit = shell_errexit if interp_errexit is None else interp_errexit
    _read_heredoc_script(out, body_script, interp, interp_errexit)
    return out


def _read_exec_form(out: RunAnalysis, argv: list[str]) -> None:
    """An exec-form RUN: the string of `["sh", "-c", "…"]` read as a script; any other
    program's words read as one command line (a shell run another way is opaque)."""
    instr, owner = out.instr, out.owner
    name = argv[0].rsplit("/", 1)[-1] if argv else ""
    if name in POSIX_SHELLS and len(argv) >= 3 and argv[1].startswith("-") and "c" in argv[1]:
        script = parse_shell(argv[2])
        errexit = errexit_flags([argv[1].replace("c", "")]) if argv[1] != "-c" else False
        out.scripts.append(Script(instr, owner, script, "exec", errexit=errexit, shell=name))
        return
    joined = " ".join(shlex.quote(a) for a in argv)
    out.scripts.append(Script(instr, owner, parse_shell(joined), "exec", shell=""))
    if name in POSIX_SHELLS:
        out.opaque = "exec-form RUN runs a shell script this tool cannot read"


def _heredoc_script(
    parsed_line: ShellScript, instr: Instruction
) -> tuple[Heredoc | None, str, bool | None]:
    """The heredoc that is the RUN's script (`RUN <<EOF`, `RUN bash -e <<EOF`), with the
    shell that reads it and its errexit when the command line names one ("", None: the
    SHELL's); None when the heredocs are data for the command line's commands."""
    if len(instr.heredocs) != 1:
        return None, "", None
    if not parsed_line.text.strip():
        return instr.heredocs[0], "", None
    if (
        len(parsed_line.chain) == 1
        and parsed_line.chain[0].command is not None
        and not parsed_line.has_error
    ):
        argv = parsed_line.chain[0].command.argv
        if argv and argv[0] in POSIX_SHELLS and reads_stdin_script(argv[1:]):
            return instr.heredocs[0], argv[0].rsplit("/", 1)[-1], errexit_flags(argv[1:])
    return None, "", None


def _read_heredoc_script(
    out: RunAnalysis, body_script: Heredoc, interp: str, interp_errexit: bool
) -> None:
    """The RUN's one heredoc as its script, unless its shebang names another interpreter."""
    body = normalise_body(body_script.body)
    bang = shebang(body)
    if bang is not None:
        prog = bang[0].rsplit("/", 1)[-1] if bang else ""
        args = bang[1:]
        if prog == "env" and args:
            prog, args = args[0].rsplit("/", 1)[-1], args[1:]
        if prog not in POSIX_SHELLS:
            out.opaque = f"the heredoc script runs with `{' '.join(bang)}`"
            return
        interp_errexit = errexit_flags(args)
        interp = prog
    parsed_body = heredoc_shell_of(out.instr, 0)  # the one heredoc is the script
    errexit = set_errexit(parsed_body, interp_errexit)
    out.scripts.append(
        Script(
            out.instr, out.owner, parsed_body, "body", body_script, errexit=errexit, shell=interp
        )
    )


# --- commands --------------------------------------------------------------------------------

# Options of apt-get / apt / apk / dnf / yum / zypper that take a separate argument.


def subcommand(cmd: SimpleCommand) -> tuple[str, str, int] | None:
    """(program, subcommand, index of the subcommand word in ``cmd.words``) or None.

    Wrappers (``sudo``, ``env X=1``) are skipped; options before the subcommand and their
    arguments (``apt-get -o Foo=1 install``) too.
    """
    words = cmd.words
    k = 0
    while k < len(words):
        name = words[k].value.rsplit("/", 1)[-1]
        if name in PLAIN_WRAPPERS:
            k += 1
            while k < len(words) and (words[k].value.startswith("-") or "=" in words[k].value):
                k += 1
            continue
        break
    if k >= len(words):
        return None
    prog = words[k].value.rsplit("/", 1)[-1]
    takes_arg = OPTIONS_WITH_VALUE.get(prog, frozenset())
    j = k + 1
    while j < len(words):
        v = words[j].value
        if v.startswith("-"):
            j += 2 if v in takes_arg else 1
            continue
        return prog, v, j
    return prog, "", -1


# --- edits -----------------------------------------------------------------------------------


def _comment_free_tail(script: Script, start: int) -> str:
    """The script text from ``start`` to its end, with shell comments removed."""
    end = script.parsed.offset + len(script.parsed.text)
    text = script.text(start, end)
    for c0, c1 in sorted(script.parsed.comments, reverse=True):
        if c0 >= start:
            a, b = c0 - start, c1 - start
            text = text[:a] + text[b:]
    return text


def last_appendable_item(script: Script) -> tuple[ChainItem | None, str]:
    """The chain item a new `&& cmd` can follow, or None with the reason."""
    chain = script.parsed.chain
    if not script.editable:
        return None, "the script could not be parsed"
    if not chain:
        return None, "the script is empty"
    last = chain[-1]
    if last.kind not in _APPENDABLE_KINDS:
        return None, f"the script ends with a {last.kind.replace('_', ' ')}"
    tail = _comment_free_tail(script, last.end)
    if tail.strip(" \t\r\n;"):
        return None, "the script ends by sending a command to the background"
    if last.command is not None and last.command.argv[:1] in (["exit"], ["exec"]):
        return None, f"the script ends with `{last.command.argv[0]}`"
    return last, ""


def _line_bounds(doc: Dockerfile, offset: int) -> tuple[int, int, int]:
    """(line start, content end, line number) of the physical line holding a file offset."""
    lo, hi = 0, len(doc.lines) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if doc.lines[mid].start <= offset:
            lo = mid
        else:
            hi = mid - 1
    ln = doc.lines[lo]
    start = ln.start + (1 if ln.number == 1 and doc.has_bom else 0)
    return start, ln.end, ln.number


def _leading_ws(text: str) -> str:
    return text[: len(text) - len(text.lstrip(" \t"))]


def _line_style(doc: Dockerfile, script: Script) -> tuple[str, str, str] | None:
    """(`leading`|`trailing`, operator, indentation) of the chain's line breaks, if any."""
    instr = script.instr
    logical = instr.logical
    found: tuple[str, str, str] | None = None
    for item in script.parsed.chain[1:]:
        op = item.op
        if op not in ("&&", ";") or logical[item.op_start : item.op_start + len(op)] != op:
            continue
        op_src = instr.to_source(item.op_start)
        ls, le, _ = _line_bounds(doc, op_src)
        before = doc.source[ls:op_src]
        if not before.strip(" \t"):
            found = ("leading", op, before)
            continue
        after = doc.source[op_src + len(op) : le].strip(" \t")
        if after == doc.escape:
            nxt = instr.to_source(item.start)
            ns, _, _ = _line_bounds(doc, nxt)
            found = ("trailing", op, _leading_ws(doc.source[ns:nxt]))
    return found


def append_command(doc: Dockerfile, script: Script, command: str) -> tuple[Edit | None, str]:
    """An edit that runs ``command`` after the script's last command, keeping its exit status.

    ``a; b`` becomes ``a; b && command`` (b's failure still fails the RUN). Multi-line RUNs
    get a new continuation line in the file's style; a RUN whose line ends in a shell comment
    gets the command before the comment, which would otherwise swallow it.
    """
    last, why = last_appendable_item(script)
    if last is None:
        return None, why
    at = script.end_to_source(last.end)
    _, le, line_no = _line_bounds(doc, at)
    rest = doc.source[at:le]
    inline = Edit.insert(at, f" && {command}")
    if script.kind == "body":
        return _append_in_body(doc, script, last, at, line_no, command) or inline, ""
    instr = script.instr
    if (
        instr.start_line == instr.header_end_line  # one line: append in place
        or rest.strip(" \t")  # a `;` or a shell comment follows on the line
        or line_no != instr.header_end_line
        or script.has_data_heredocs  # heredoc bodies follow the command line
        or script.owner is not instr  # ONBUILD RUN
    ):
        return inline, ""
    eol = doc.eol
    esc = doc.escape
    style = _line_style(doc, script)
    if style is None:
        # The chain breaks lines only inside its last command (a package list): a new
        # continuation line one level deeper than the instruction.
        first_ls, _, _ = _line_bounds(doc, instr.start)
        base = _leading_ws(doc.source[first_ls : instr.start])
        ls, _, _ = _line_bounds(doc, at)
        body_indent = _leading_ws(doc.source[ls:le])
        indent = base + ("\t" if body_indent.startswith("\t") else "    ")
        if len(body_indent) < len(indent):
            indent = body_indent or indent
        return Edit.insert(le, f" {esc}{eol}{indent}&& {command}"), ""
    kind, op, indent = style
    sep = op if (op == "&&" or script.errexit) else "&&"
    if kind == "leading":
        return Edit.insert(le, f" {esc}{eol}{indent}{sep} {command}"), ""
    space = "" if sep == ";" else " "
    return Edit.insert(le, f"{space}{sep} {esc}{eol}{indent}{command}"), ""


def _append_in_body(
    doc: Dockerfile, script: Script, last: ChainItem, at: int, line_no: int, command: str
) -> Edit | None:
    """A new last line in a heredoc script, where `set -e` makes that equivalent to `&&`."""
    assert script.heredoc is not None
    if not script.errexit:
        return None
    ln = doc.line(line_no)
    body_end = script.heredoc.body_end
    if doc.source[at : ln.end].strip(" \t\r") or ln.next > body_end:
        return None
    if doc.source[ln.next : body_end].strip(" \t\r\n"):
        return None  # something (a comment) follows: keep it last
    start = script.to_source(last.start)
    ss, _, _ = _line_bounds(doc, start)
    indent = _leading_ws(doc.source[ss:start])
    eol = doc.source[ln.end : ln.next] or doc.eol
    # Inserted before the line break, so the edit lies inside the body, not at its end.
    return Edit.insert(ln.end, f"{eol}{indent}{command}")


def chain_item_of(script: Script, cmd: SimpleCommand) -> ChainItem | None:
    return next((it for it in script.parsed.chain if it.command is cmd), None)


# --- flags, paths, stages --------------------------------------------------------------------


def mount_targets(instr: Instruction) -> list[tuple[str, str]]:
    """(type, target) of every ``--mount`` of a RUN (type defaults to bind)."""
    return [(m.type, m.target) for m in mounts(instr)]


def paths_related(a: str, b: str) -> bool:
    """Whether one path is the other or contains it."""
    a = a.rstrip("/") or "/"
    b = b.rstrip("/") or "/"
    return a == b or a.startswith(b.rstrip("/") + "/") or b.startswith(a.rstrip("/") + "/")


def brace_expand(word: str) -> list[str]:
    """The words bash makes of ``word``'s brace lists (`/var/{cache,lib}/apt` is two words);
    `${VAR}`, `{}` and sequences such as `{1..3}` are left as they are."""
    depth = 0
    start = 0
    commas: list[int] = []
    for i, ch in enumerate(word):
        if ch == "{" and (depth or word[i - 1 : i] != "$"):
            if depth == 0:
                start, commas = i, []
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0 and commas:
                bounds = [start, *commas, i]
                head, tail = word[:start], word[i + 1 :]
                return [
                    expanded
                    for a, b in itertools.pairwise(bounds)
                    for expanded in brace_expand(head + word[a + 1 : b] + tail)
                ]
        elif ch == "," and depth == 1:
            commas.append(i)
    return [word]


_SCRIPT_RE = lazy_re(r"(^|/)[\w.-]+\.(sh|bash)$")


def runs_local_script(analysis: RunAnalysis) -> str | None:
    """The first command that runs a script file (which may do anything), or None."""
    for _, c in analysis.commands():
        argv = c.argv
        if not argv:
            continue
        name = c.words[0].value if c.words else ""
        if _SCRIPT_RE.search(name) or name.startswith("./"):
            return name
        if argv[0] in POSIX_SHELLS:
            rest = [a for a in argv[1:] if not a.startswith(("-", "+"))]
            if (
                rest
                and "-c" not in argv[1:]
                and not any(a.startswith("-") and "c" in a for a in argv[1:])
            ):
                return " ".join(argv[:2])
    return None
