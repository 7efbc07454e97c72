"""The shell commands of a RUN (or shell-form CMD/ENTRYPOINT), parsed with tree-sitter-bash.

A real shell parser, not regular expressions: ``;``, ``||``, subshells, quotes and comments
are understood. Offsets are logical offsets of the instruction (``Instruction.logical``), so
``Instruction.source_span`` maps any word back to the file.

Only the top level of the script is flattened into a chain (``a && b; c``); commands inside
subshells, ``if``/``for`` bodies or pipelines are listed in ``commands`` with ``top_level``
False, so fixers can tell a plain chain from one they should not restructure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from dockfix.semantics.memo import per_instruction

if TYPE_CHECKING:
    from dockfix.syntax import Instruction

__all__ = [
    "ChainItem",
    "ShellScript",
    "SimpleCommand",
    "Word",
    "parse_shell",
    "shell_of",
    "syntax_tree",
    "words_text",
]

# Commands that run their arguments as a command: `sudo apt-get …`.
WRAPPERS = frozenset(
    {"sudo", "env", "nice", "nohup", "time", "exec", "command", "eatmydata", "xargs", "timeout"}
)
# Wrapper options that take the next word as their value, and wrappers whose first argument
# is not the command (`timeout 600 apt-get …`).
WRAPPER_VALUE_OPTIONS: dict[str, frozenset[str]] = {
    "sudo": frozenset({"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U"}),
    "env": frozenset({"-u", "-C", "-S"}),
    "nice": frozenset({"-n"}),
    "xargs": frozenset({"-n", "-I", "-L", "-P", "-d", "-a", "-s", "-E", "-i", "-l", "-e"}),
    "timeout": frozenset({"-s", "-k", "--signal", "--kill-after"}),
}
WRAPPERS_WITH_OPERAND = frozenset({"timeout"})

# Options that take the next word as their value, per program, so that
# `apt-get -o Dpkg::Options::=--force-confnew install` has the subcommand `install`.
OPTIONS_WITH_VALUE: dict[str, frozenset[str]] = {
    "apt-get": frozenset(
        [
            "--chdir",
            "--config-file",
            "--default-release",
            "--host-architecture",
            "--option",
            "--target-release",
            "-a",
            "-c",
            "-o",
            "-t",
        ]
    ),
    "apt": frozenset(["--config-file", "--option", "--target-release", "-a", "-c", "-o", "-t"]),
    "apk": frozenset(
        [
            "--arch",
            "--cache-dir",
            "--keys-dir",
            "--repositories-file",
            "--repository",
            "--root",
            "--virtual",
            "-X",
            "-p",
            "-t",
        ]
    ),
    "dnf": frozenset(
        [
            "--config",
            "--disablerepo",
            "--enablerepo",
            "--exclude",
            "--installroot",
            "--releasever",
            "--repo",
            "--repoid",
            "--setopt",
            "-c",
            "-x",
        ]
    ),
    "yum": frozenset(
        [
            "--config",
            "--disablerepo",
            "--enablerepo",
            "--exclude",
            "--installroot",
            "--releasever",
            "--setopt",
            "-c",
            "-x",
        ]
    ),
    "microdnf": frozenset(
        ["--config", "--disablerepo", "--enablerepo", "--installroot", "--releasever", "--setopt"]
    ),
    "zypper": frozenset(
        ["--cache-dir", "--repo", "--reposd-dir", "--root", "-C", "-D", "-R", "-r"]
    ),
    "pip": frozenset(
        [
            "--cache-dir",
            "--constraint",
            "--extra-index-url",
            "--find-links",
            "--index-url",
            "--prefix",
            "--requirement",
            "--root",
            "--target",
            "-c",
            "-f",
            "-i",
            "-r",
            "-t",
        ]
    ),
    "npm": frozenset(["--cache", "--prefix", "--workspace", "-w"]),
    "aptitude": frozenset(["--display-format", "--target-release", "-F", "-o", "-t", "-w"]),
}


class Word(NamedTuple):
    """A shell word (a named tuple: scripts have many, and it is the cheapest record to make)."""

    raw: str  # as written
    value: str  # with simple quoting removed
    start: int  # logical offsets
    end: int


@dataclass(slots=True)
class SimpleCommand:
    words: list[Word]  # name first, then arguments (assignments excluded)
    assignments: list[Word]
    start: int
    end: int
    top_level: bool  # part of the top-level chain, not nested in a compound or pipeline
    redirects: list[Word] = field(default_factory=list)
    # argv and subcommand, worked out on first use: fixers ask for them many times.
    _argv: tuple[str, ...] | None = field(default=None, repr=False, compare=False)
    _subcommand: tuple[str, str] | None = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.words[0].value if self.words else ""

    @property
    def argv(self) -> list[str]:
        """The words' values, with wrappers such as ``sudo`` and ``env X=1`` removed."""
        if self._argv is None:
            self._argv = tuple(self._unwrapped())
        return list(self._argv)

    def _unwrapped(self) -> list[str]:
        vals = [w.value for w in self.words]
        while vals and vals[0].rsplit("/", 1)[-1] in WRAPPERS:
            wrapper = vals[0].rsplit("/", 1)[-1]
            takes = WRAPPER_VALUE_OPTIONS.get(wrapper, frozenset())
            vals = vals[1:]
            while vals and (vals[0].startswith("-") or "=" in vals[0]):
                vals = vals[2:] if vals[0] in takes else vals[1:]
            if wrapper in WRAPPERS_WITH_OPERAND and vals:
                vals = vals[1:]  # the duration of `timeout`
        if vals:
            vals[0] = vals[0].rsplit("/", 1)[-1]
        return vals

    def subcommand(self) -> tuple[str, str]:
        """(program, first non-option argument), skipping option values: `apt-get -o X install`."""
        if self._subcommand is None:
            self._subcommand = self._find_subcommand()
        return self._subcommand

    def _find_subcommand(self) -> tuple[str, str]:
        argv = self.argv
        if not argv:
            return "", ""
        prog = argv[0]
        if prog.startswith("pip") and prog[3:].replace(".", "").isdigit():
            prog = "pip"
        takes = OPTIONS_WITH_VALUE.get(prog, frozenset())
        i = 1
        while i < len(argv):
            a = argv[i]
            if a.startswith("-"):
                i += 2 if a in takes else 1
                continue
            return argv[0], a
        return argv[0], ""


class ChainItem(NamedTuple):
    """One element of the top-level chain: the operator before it and what it runs."""

    op: str | None  # None for the first item; '&&', '||', ';', '&', '\n'
    op_start: int  # logical offset of the operator (== start for the first item)
    start: int
    end: int
    command: SimpleCommand | None  # None when the item is compound (pipeline, subshell, if…)
    kind: str  # tree-sitter node type


@dataclass(slots=True)
class ShellScript:
    text: str
    offset: int  # logical offset of ``text`` in the instruction
    chain: list[ChainItem]
    commands: list[SimpleCommand]
    has_error: bool
    comments: list[tuple[int, int]]  # logical ranges of shell comments

    def find(self, *argv_prefix: str) -> list[SimpleCommand]:
        """Commands of a program (and subcommand): ``find("apt-get", "install")``."""
        out = []
        for c in self.commands:
            if _matches(c, argv_prefix):
                out.append(c)
        return out


def _matches(cmd: SimpleCommand, prefix: tuple[str, ...]) -> bool:
    prog, sub = cmd.subcommand()
    if not prefix or prog != prefix[0]:
        return False
    return len(prefix) == 1 or sub == prefix[1]


@lru_cache(maxsize=1)
def _parser() -> Any:
    import tree_sitter

    return tree_sitter.Parser(tree_sitter.Language(_bash_language()))


def syntax_tree(data: bytes) -> Any:
    """tree-sitter-bash's tree of a script (UTF-8), for questions about node kinds that
    :class:`ShellScript` does not model (redirections, pipelines into ``tee``)."""
    return _parser().parse(data)


def _bash_language() -> object:
    """The bash grammar. ``tree_sitter_bash/__init__`` imports ``importlib.resources`` (several
    milliseconds, for its highlight queries) before the grammar: load the grammar's extension
    module on its own when it is where that package keeps it, else import the package."""
    import importlib.machinery
    import importlib.util
    import os
    import sys

    spec = importlib.util.find_spec("tree_sitter_bash")
    folder = spec.submodule_search_locations if spec is not None else None
    if folder:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(next(iter(folder)), "_binding" + suffix)
            if not os.path.isfile(path):
                continue
            name = "tree_sitter_bash._binding"
            if name in sys.modules:
                return sys.modules[name].language()
            binding = importlib.util.spec_from_file_location(name, path)
            if binding is None or binding.loader is None:
                break
            module = importlib.util.module_from_spec(binding)
            binding.loader.exec_module(module)
            return module.language()
    import tree_sitter_bash

    return tree_sitter_bash.language()


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"" and raw.count(raw[0]) == 2:
        return raw[1:-1]
    if "\\" in raw and "'" not in raw and '"' not in raw:
        out = []
        i = 0
        while i < len(raw):
            if raw[i] == "\\" and i + 1 < len(raw):
                i += 1
            out.append(raw[i])
            i += 1
        return "".join(out)
    return raw


_CHAIN_OPS = {"&&", "||", ";", "&", "\n", ";;"}


def parse_shell(text: str, offset: int = 0) -> ShellScript:
    """Parse shell text; offsets in the result are ``offset`` + character index in ``text``."""
    plain = _plain_script(text, offset)
    return plain if plain is not None else _tree_sitter_script(text, offset)


def _tree_sitter_script(text: str, offset: int) -> ShellScript:
    """:func:`parse_shell` by tree-sitter-bash's tree (any script)."""
    data = text.encode("utf-8", "surrogatepass")
    tree = _parser().parse(data)
    builder = _ScriptBuilder(text, data, offset)
    root = tree.root_node
    pending_op: str | None = None
    pending_start = offset
    pos = builder.pos
    chain = builder.chain
    for child in root.children:
        t = child.type
        if t in _CHAIN_OPS:
            pending_op = t
            pending_start = pos(child.start_byte)
            continue
        if t == "comment":
            builder.comments.append((pos(child.start_byte), pos(child.end_byte)))
            continue
        if chain and pending_op is None:
            # tree-sitter separates statements by newlines without a node
            pending_op = "\n"
            pending_start = pos(child.start_byte)
        builder.flatten(
            child, pending_op if chain else None, pending_start if chain else pos(child.start_byte)
        )
        pending_op = None
    commands = builder.commands
    commands.sort(key=lambda c: c.start)
    return ShellScript(text, offset, chain, commands, root.has_error, builder.comments)


# What a plain script is made of (see :func:`_plain_script`): words of these characters, blanks,
# newlines and the operators `&&`, `||` and `;`. No quoting, expansion, redirection, pipe,
# glob bracket, brace, comment or tilde: each word is its own value.
_PLAIN_WORD_CHARS = "A-Za-z0-9_.,:=+*/-"
_PLAIN_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.,:=+*/- \t\n&|;"
)
_PLAIN_TOKEN = re.compile(f"[{_PLAIN_WORD_CHARS}]+|&&|\\|\\||[;\n&|]")
# (`_` is a special parameter to tree-sitter; a value starting with `=` is its `==`)
_PLAIN_ASSIGNMENT = re.compile(f"(?!_=)[A-Za-z_][A-Za-z0-9_]*=(?!=)[{_PLAIN_WORD_CHARS}]+")
# A command's name: tree-sitter reads some other names as its own syntax (`-`, `a+:`, `x:y`
# after an assignment), and a Dockerfile's commands need none of them.
_PLAIN_NAME = re.compile("[A-Za-z0-9_./][A-Za-z0-9_./-]*")
# Words tree-sitter-bash reads as its own syntax where a command's name would be (reserved
# words, declarations): a script naming one goes to the real parser.
_GRAMMAR_WORDS = frozenset(
    {"if", "then", "elif", "else", "fi", "case", "esac", "for", "select", "while", "until"}
    | {"do", "done", "in", "function", "time", "coproc", "declare", "typeset", "export"}
    | {"readonly", "local", "unset", "unsetenv"}
)


def _plain_script(text: str, offset: int) -> ShellScript | None:
    """A plain script (most RUNs: `apt-get update && apt-get install -y curl`) read without
    tree-sitter: the same :class:`ShellScript` the parser's tree gives, at a fraction of the
    cost of walking that tree. None for anything else (quotes, `$`, pipes, redirections,
    compound commands, an assignment alone, a misplaced operator), which the parser reads.
    ``tests/test_shell_plain.py`` checks it against tree-sitter."""
    if not _PLAIN_CHARS.issuperset(text):
        return None
    commands: list[SimpleCommand] = []
    chain: list[ChainItem] = []
    words: list[Word] = []
    assigns: list[Word] = []
    op: str | None = None  # the operator before the next command (None: a newline, or none)
    op_start = offset
    for m in _PLAIN_TOKEN.finditer(text):
        token = m.group()
        first = token[0]
        if first not in "&|;\n":
            if first == "=":
                return None  # `==` is a test operator to tree-sitter, even as an argument
            s, e = m.span()
            if words:
                words.append(Word(token, token, offset + s, offset + e))
            elif "=" in token:
                if _PLAIN_ASSIGNMENT.fullmatch(token) is None:
                    return None
                assigns.append(Word(token, token, offset + s, offset + e))
            elif token in _GRAMMAR_WORDS or _PLAIN_NAME.fullmatch(token) is None:
                return None
            else:
                words.append(Word(token, token, offset + s, offset + e))
            continue
        if token == "&" or token == "|":
            return None
        if words:
            _add_command(commands, chain, words, assigns, op, op_start)
            words, assigns = [], []
            op = None
        elif assigns or first != "\n" or op == "&&" or op == "||":
            return None  # an operator after no command, an assignment alone
        if first != "\n":
            op, op_start = token, offset + m.start()
    if words:
        _add_command(commands, chain, words, assigns, op, op_start)
    elif assigns or op == "&&" or op == "||" or not commands:
        return None
    return ShellScript(text, offset, chain, commands, False, [])


def _add_command(
    commands: list[SimpleCommand],
    chain: list[ChainItem],
    words: list[Word],
    assigns: list[Word],
    op: str | None,
    op_start: int,
) -> None:
    start = assigns[0].start if assigns else words[0].start
    cmd = SimpleCommand(words, assigns, start, words[-1].end, True)
    commands.append(cmd)
    if not chain:
        op, op_start = None, start
    elif op is None:
        op, op_start = "\n", start  # statements on separate lines: no operator node
    chain.append(ChainItem(op, op_start, start, cmd.end, cmd, "command"))


class _ScriptBuilder:
    """The walk of one tree-sitter tree into commands, chain items and comments.

    Methods, not nested functions: recursive closures reach themselves through their cells,
    and that cycle would leave every parse to the garbage collector instead of freeing it
    with its script."""

    def __init__(self, text: str, data: bytes, offset: int) -> None:
        self.data = data
        self.offset = offset
        self.commands: list[SimpleCommand] = []
        self.comments: list[tuple[int, int]] = []
        self.chain: list[ChainItem] = []
        # tree-sitter reports byte offsets; map them to character offsets.
        self.table: list[int] | None = None
        if len(data) != len(text):
            table: list[int] = []
            for i, ch in enumerate(text):
                table.extend([i] * len(ch.encode("utf-8", "surrogatepass")))
            table.append(len(text))
            self.table = table

    def pos(self, b: int) -> int:
        table = self.table
        return self.offset + (b if table is None else table[b])

    def word_of(self, node: Any) -> Word:
        raw = self.data[node.start_byte : node.end_byte].decode("utf-8", "surrogatepass")
        return Word(raw, _unquote(raw), self.pos(node.start_byte), self.pos(node.end_byte))

    def visit(self, node: Any, top: bool) -> None:
        t = node.type
        pos = self.pos
        if t == "comment":
            self.comments.append((pos(node.start_byte), pos(node.end_byte)))
            return
        kids = node.children  # (a new list of new nodes at each access: read once)
        if t == "command":
            word_of = self.word_of
            words: list[Word] = []
            assigns: list[Word] = []
            redirects: list[Word] = []
            for c in kids:
                if c.type == "variable_assignment":
                    assigns.append(word_of(c))
                elif c.type == "command_name":
                    words.append(word_of(c))
                elif c.type in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
                    redirects.append(word_of(c))
                elif c.type == "comment":
                    self.comments.append((pos(c.start_byte), pos(c.end_byte)))
                else:
                    words.append(word_of(c))
            self.commands.append(
                SimpleCommand(
                    words, assigns, pos(node.start_byte), pos(node.end_byte), top, redirects
                )
            )
            for c in kids:
                if c.child_count and c.type not in (
                    "command_name",
                    "word",
                    "string",
                    "raw_string",
                    "variable_assignment",
                ):
                    self.visit(c, False)
            return
        for c in kids:
            # A leaf holds no command; only a comment among them is worth a visit.
            if c.child_count or c.type == "comment":
                self.visit(c, False)

    def flatten(self, node: Any, op: str | None, op_start: int) -> None:
        pos = self.pos
        # `list` nodes are left-nested binary chains: (a && b) || c
        if node.type == "list":
            kids = node.children
            self.flatten(kids[0], op, op_start)
            i = 1
            while i < len(kids):
                o = kids[i]
                nxt = kids[i + 1] if i + 1 < len(kids) else None
                if nxt is not None:
                    self.flatten(nxt, o.type, pos(o.start_byte))
                i += 2
            return
        if node.type == "command":
            self.visit(node, True)
            self.chain.append(
                ChainItem(
                    op,
                    op_start,
                    pos(node.start_byte),
                    pos(node.end_byte),
                    self.commands[-1],
                    "command",
                )
            )
            return
        self.visit(node, False)
        self.chain.append(
            ChainItem(op, op_start, pos(node.start_byte), pos(node.end_byte), None, node.type)
        )


def shell_of(instr: Instruction) -> ShellScript | None:
    """The shell script of a shell-form RUN/CMD/ENTRYPOINT (ONBUILD's trigger included).

    None for exec form. Heredoc bodies are not included: a RUN whose command is a heredoc
    script yields the command line only (e.g. ``<<EOF``), which fixers should treat as opaque.
    """
    target = instr.trigger if instr.trigger is not None else instr
    if target.json_args is not None:
        return None
    return _parsed_instruction(target)


@per_instruction
def _parsed_instruction(target: Instruction) -> ShellScript:
    """Several fixers ask for the same RUN: parsed once per tree (instructions are immutable)."""
    start = target.args_start
    return parse_shell(blank_heredoc_words(target)[start:], start)


def blank_heredoc_words(instr: Instruction) -> str:
    """The instruction's logical text with its ``<<EOF`` words blanked (offsets kept).

    tree-sitter reads ``<<EOF`` as a redirect that swallows the rest of the line; blanked,
    the commands around it parse as written."""
    if not instr.heredocs:
        return instr.logical
    chars = list(instr.logical)
    for h in instr.heredocs:
        for k in range(h.word_start, min(h.word_end, len(chars))):
            chars[k] = " "
    return "".join(chars)


def heredoc_shell_of(instr: Instruction, number: int = 0) -> ShellScript:
    """A heredoc body of ``instr`` read as a shell script (offsets relative to the body).

    BuildKit drops the CR of CRLF body lines; a space stands in for it, so offsets still
    match the body. Parsed once per tree, like :func:`shell_of`."""
    return _parsed_heredoc(instr, number)


@per_instruction
def _parsed_heredoc(instr: Instruction, number: int) -> ShellScript:
    return parse_shell(instr.heredocs[number].body.replace("\r\n", " \n"), 0)


class Pipeline(NamedTuple):
    """A pipeline `a | b` anywhere in a script (inside `$(…)`, subshells, `if` bodies too)."""

    parts: list[str]  # each command's text, in order
    negated: bool  # `! a | b`, or inside a `! …`: its status is inverted
    start: int  # offsets in the parsed text
    end: int


def pipelines(text: str) -> list[Pipeline]:
    """Every pipeline of shell ``text`` (offsets are character indices into ``text``)."""
    if "|" not in text:
        return []  # no pipeline without a `|` (nor a parse of the text to find none)
    data = text.encode("utf-8", "surrogatepass")
    out: list[Pipeline] = []
    stack = [_parser().parse(data).root_node]
    while stack:
        node = stack.pop()
        if node.type == "pipeline":
            parts = [
                data[c.start_byte : c.end_byte].decode("utf-8", "surrogatepass")
                for c in node.named_children
            ]
            # tree-sitter reads `! a | b` as a pipeline whose first part is `! a`
            negated = bool(node.named_children) and node.named_children[0].type == (
                "negated_command"
            )
            up = node.parent
            while up is not None and not negated:
                negated = up.type == "negated_command"
                up = up.parent
            start = len(data[: node.start_byte].decode("utf-8", "surrogatepass"))
            end = len(data[: node.end_byte].decode("utf-8", "surrogatepass"))
            out.append(Pipeline(parts, negated, start, end))
        stack.extend(reversed(node.children))
    return out


def words_text(instr: Instruction) -> str:
    """The text an instruction's commands are read from, for a cheap "does it name X" test
    before any parse: its logical line (continuations joined as BuildKit joins them), its
    exec form's decoded strings (`"\\u0077get"` runs wget) and its heredoc bodies, with the
    continuations inside them joined as the shell joins them. ONBUILD's trigger is read."""
    form = instr.trigger if instr.trigger is not None else instr
    parts = [instr.logical]
    if form.json_args is not None:
        parts.append(" ".join(form.json_args))  # the words as the command line spells them
    for heredoc in form.heredocs:
        parts.append(heredoc.body.replace("\\\r\n", "").replace("\\\n", ""))
    return "\n".join(parts)
