"""The simple commands a stage's `RUN`s perform, with their environment and directory, and
the build artifacts they may leave: read by the Go, Cargo and Node build readers
(``_build_go``, ``_build_cargo``, ``_build_node``) for DF301, DF302 and DF303.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dockfix.fixers._image_paths import image_workdir_at
from dockfix.fixers._lazy import lazy_re
from dockfix.semantics.memo import per_tree
from dockfix.semantics.semantic import expand, mounts, resolve_path, scope_at, unquote_word
from dockfix.semantics.shell import (
    ShellScript,
    SimpleCommand,
    blank_heredoc_words,
    heredoc_shell_of,
    shell_of,
)
from dockfix.syntax import Dockerfile, Instruction, Stage


@dataclass(eq=False)
class Artifact:
    ecosystem: str  # "go" or "cargo"
    path: str  # where the build wrote it
    run: Instruction
    static: bool  # needs no libc (Go with CGO_ENABLED=0, Rust on a musl target)
    musl: bool = False  # linked against musl (built on Alpine without static linking)
    project_dir: str | None = None  # the directory the build ran in
    cargo_target_dir: str | None = None
    # Every path the binary persists at in the image: build output and cp/mv/install copies.
    locations: list[str] = field(default_factory=list)


# A heredoc body with a shebang line is run by that program: read only when it is a shell.
_SHELL_SHEBANG = lazy_re(r"\b(ba|da|a)?sh\b")


# --- the commands of a RUN ----------------------------------------------------------------


@dataclass(eq=False)
class Command:
    argv: list[str | None]  # None: a word whose value is unknown (an unset variable)
    env: dict[str, str | None]  # inline assignments, `export`s and the stage's ENV/ARG
    cwd: str | None  # absolute directory the command runs in
    top_level: bool
    source: SimpleCommand | None = None  # the parsed command (None for an exec-form RUN)


def run_steps(doc: Dockerfile, stage: Stage, instr: Instruction) -> list[Command] | None:
    """The simple commands of a RUN in order, with their environment and directory.

    None when the RUN's script cannot be read (a parse error, a non-shell heredoc). Asked by
    several fixers for the same RUN: worked out once per tree (the list is a copy, the
    commands are shared and never changed by their readers).
    """
    steps = _run_steps(doc, stage, instr)
    return list(steps) if steps is not None else None


@per_tree
def _run_steps(doc: Dockerfile, stage: Stage, instr: Instruction) -> list[Command] | None:
    scope = _expanded_scope(doc, stage, instr)
    cwd = image_workdir_at(doc, stage, instr)
    if instr.json_args is not None:
        argv: list[str | None] = list(instr.json_args)
        return [Command(argv, dict(scope), cwd, True)]
    scripts = _scripts(instr)
    if scripts is None:
        return None
    out: list[Command] = []
    env: dict[str, str | None] = dict(scope)
    for sh, text in scripts:
        exports = _exports(sh, text)
        for c in sh.commands:
            for pos, k, v in exports:
                if pos < c.start:
                    env[k] = expand(v, env)
            exports = [e for e in exports if e[0] >= c.start]
            cmd_env = dict(env)
            for a in c.assignments:
                k, _, v = a.value.partition("=")
                cmd_env[k] = expand(unquote_word(v), env)
            words: list[str | None] = []
            for word in c.words:
                words.append(expand(word.value, cmd_env) if "$" in word.value else word.value)
            if words and words[0] == "cd":
                target = words[1] if len(words) > 1 else None
                if not c.top_level or target is None or target.startswith("-"):
                    cwd = None
                else:
                    cwd = resolve_path(target, cwd)
                continue
            out.append(Command(words, cmd_env, cwd, c.top_level, c))
    return out


def _scripts(instr: Instruction) -> list[tuple[ShellScript, str]] | None:
    """The shell scripts a shell-form RUN runs, each with the text its offsets index: the
    command line, then the heredoc bodies it runs as scripts. None when one cannot be read."""
    script = shell_of(instr)
    if script is None or script.has_error:
        return None
    if not instr.heredocs:
        return [(script, instr.logical)]
    # The command line without its `<<EOF` words: empty (or `sh`/`bash`) means the heredoc
    # bodies are the script; anything else reads them as data.
    scripts = [(script, blank_heredoc_words(instr))]
    names = [c.name for c in script.commands if c.words]
    runs_bodies = not names or (
        len(names) == 1
        and names[0] in ("sh", "bash", "ash", "dash")
        and all(
            w.value.startswith("-") and "c" not in w.value for w in script.commands[0].words[1:]
        )
    )
    for number, h in enumerate(instr.heredocs if runs_bodies else []):
        first = h.body.lstrip().split("\n", 1)[0]
        if first.startswith("#!") and not _SHELL_SHEBANG.search(first):
            return None
        body = heredoc_shell_of(instr, number)
        if body.has_error:
            return None
        scripts.append((body, body.text))
    return scripts


def _exports(script: ShellScript, text: str) -> list[tuple[int, str, str]]:
    """The ``export X=1`` of a script: (offset, name, value). Not a simple command, so read
    from the chain's text."""
    exports: list[tuple[int, str, str]] = []
    for item in script.chain:
        if item.kind == "declaration_command":
            decl = text[item.start : item.end].split()
            if decl and decl[0] == "export":
                for w in decl[1:]:
                    if "=" in w:
                        k, v = w.split("=", 1)
                        exports.append((item.start, k, unquote_word(v)))
    return exports


def cache_mount_targets(doc: Dockerfile, stage: Stage, instr: Instruction) -> list[str]:
    """Absolute targets of the RUN's ``--mount=type=cache`` (and tmpfs) mounts."""
    out: list[str] = []
    cwd = image_workdir_at(doc, stage, instr)
    for mount in mounts(instr):
        if mount.type in ("cache", "tmpfs") and mount.target:
            p = resolve_path(mount.target, cwd)
            if p is not None:
                out.append(p)
    return out


@per_tree
def _expanded_scope(doc: Dockerfile, stage: Stage, instr: Instruction) -> dict[str, str | None]:
    """The variables in scope at ``instr`` with their values expanded (None where unknown)."""
    scope = scope_at(stage, instr)
    return {k: (expand(v, scope, doc.escape) if v is not None else None) for k, v in scope.items()}
