"""DF401 shell-form-entrypoint: CMD or ENTRYPOINT in shell form runs the program under a shell.

## What it does
Finds `CMD` and `ENTRYPOINT` instructions written in shell form (`CMD python app.py`) and
rewrites them in exec (JSON) form (`CMD ["python", "app.py"]`) when the command line is
provably a single simple command of plain words. A real shell parser (tree-sitter-bash)
and a strict word lexer must both agree that the line has no variables, command
substitutions, globs, brace or tilde expansion, redirections, pipes, `&&`/`;`, assignments
(`FOO=1 app`), comments or shell keywords/builtins. Quotes that only group words are fine:
`"a b"` becomes the one argument `a b`. A leading `exec` is dropped (`exec app` already
replaced the shell with `app`). Line continuations and comment lines inside the
instruction are kept: each word is rewritten where it stands.

## Why is this bad
A shell-form command runs as `/bin/sh -c "…"`. The shell is PID 1, and depending on the
shell the program is its child: `docker stop` sends SIGTERM to the shell, which does not
forward it, and the program is killed after the stop timeout without a chance to shut
down cleanly. An ENTRYPOINT in shell form also ignores `CMD` and `docker run` arguments.

## Example
```dockerfile
FROM python:3.12-slim
CMD gunicorn --bind 0.0.0.0:8000 "app:create_app()"
```
becomes, with `--unsafe-fixes`:
```dockerfile
FROM python:3.12-slim
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:create_app()"]
```

## Fix safety
The exec form starts the program directly instead of through `/bin/sh -c`; the program is
looked up in the same `PATH`. Whether that keeps the container's behaviour depends on what
the file cannot show, so the fix is **unsafe** except where it provably changes nothing:
- `CMD`: the shell-form CMD reaches the image's ENTRYPOINT as `/bin/sh -c "…"`; in exec
  form the ENTRYPOINT receives the words themselves. With an exec-form ENTRYPOINT in the
  stage, or none in the file (the base image may have one: `docker-entrypoint.sh`
  scripts test `$1`), the fix is unsafe. The program also becomes PID 1: it now receives
  signals and must reap zombies — the point of the change, but a change.
- `CMD` is **safe** when it has no effect on the image: a later CMD in the same stage
  overrides it, or the stage's ENTRYPOINT is in shell form (which ignores CMD).
- `ENTRYPOINT`: in exec form, CMD and `docker run` arguments are appended to it. A CMD
  in the stage or in a stage built FROM it would start reaching the program, so the
  finding is display-only; without one the fix is unsafe (callers may pass arguments that
  were silently ignored before).
- Display-only: a `SHELL` other than a plain POSIX shell (`["/bin/bash", "-o", "pipefail",
  "-c"]` is fine), signs of a Windows image (backtick escape, Windows base or platform:
  `cmd /S /C` splits words differently), `ENV BASH_ENV`/`ENV ENV` (a shell would read that
  file first), shell builtins (`cd`, `echo`, `source`…), words split across continuation
  lines, and `ONBUILD` triggers.

## Options
None.

## Resolves
hadolint DL3025 · BuildKit check JSONArgsRecommended · Trivy: none · Checkov: none
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from dockfix.core.fixer import Edit, Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._cmdline import (
    SHELL_BUILTINS,
    SHELL_KEYWORDS,
    PlainWord,
    display_finding,
    json_string,
    plain_words,
    posix_shell_problem,
    shell_in_effect,
    verified_edits,
    windows_hint,
)
from dockfix.semantics.semantic import descendants, stage_chain

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext
from dockfix.syntax import Dockerfile, Instruction, Stage


@register
class ShellFormEntrypoint(Fixer):
    code = "DF401"
    acts_on = frozenset({"CMD", "ENTRYPOINT"})
    severity = Severity.WARNING
    name = "shell-form-entrypoint"
    summary = "CMD/ENTRYPOINT in shell form: the program runs under /bin/sh and may miss signals"
    resolves = Resolves(hadolint=("DL3025",), buildkit=("JSONArgsRecommended",))
    image_changes = ("config:Cmd", "config:Entrypoint")

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for instr in doc.instructions:
            if instr.keyword == "ONBUILD" and instr.trigger is not None:
                trig = instr.trigger
                if trig.keyword in ("CMD", "ENTRYPOINT") and trig.json_args is None:
                    yield self.finding(
                        instr,
                        f"ONBUILD {trig.keyword} in shell form",
                        reason="an ONBUILD trigger runs in images built FROM this one, whose "
                        "ENTRYPOINT and CMD this file cannot see",
                    )
                continue
            if instr.keyword not in ("CMD", "ENTRYPOINT") or instr.json_args is not None:
                continue
            if instr.stage is None or not instr.args or instr.flags:
                continue  # `CMD --x …` is an unknown flag to BuildKit: not a file to touch
            yield self._check_one(doc, instr, instr.stage)

    def _check_one(self, doc: Dockerfile, instr: Instruction, stage: Stage) -> Finding:
        kw = instr.keyword
        shell = shell_in_effect(stage, instr)
        if shell is None:
            # a Windows image runs shell form with cmd; it has no /bin/sh
            runner = "cmd /S /C" if windows_hint(doc, stage) else "/bin/sh -c"
        elif shell[1] is None:  # not JSON: BuildKit refuses it at build time; name it as written
            runner = f"`SHELL {shell[0].args.strip()}`"
        else:
            runner = _shell_named(shell[1])
        message = (
            f"{kw} in shell form runs the program under {runner}, which may keep signals from it"
        )
        if instr.args.split(None, 1)[:1] == ["exec"]:
            # `exec` already hands PID 1 to the program; what is left is the shell form itself
            message = f"{kw} in shell form starts under {runner} (`exec` hands over PID 1)"
            if kw == "ENTRYPOINT":
                message += ", and ignores the arguments of CMD and `docker run`"

        display = partial(display_finding, self, instr, message)

        problem = _shell_problem(doc, instr, stage)
        if problem:
            return display(problem)
        words = plain_words(instr.logical[instr.args_start :], instr.args_start)
        if isinstance(words, str):
            reason = f"the command uses {words}, which needs a shell"
            if instr.args.startswith("["):
                reason = "the arguments look like a JSON list but are not valid JSON " + (
                    "(strings need double quotes); BuildKit runs them as a shell command"
                )
            return display(reason)
        exec_word = None
        if words[0].raw == "exec":
            exec_word, words = words[0], words[1:]
            if not words or words[0].value.startswith("-"):
                return display("`exec` with options or without a command needs a shell")
        program = words[0].value
        if program in SHELL_BUILTINS or program in SHELL_KEYWORDS:
            return display(f"`{program}` is a shell builtin; it has no executable to run")
        if not program:
            return display("the command name is an empty string")
        edits = _json_edits(doc, instr, words, exec_word)
        argv = [w.value for w in words]
        if edits is None or not _verify(doc, instr, edits, argv):
            return display("a word is split across continuation lines; rewrite it by hand")
        applicability, why = _applicability(doc, instr, stage)
        description = f"rewrite {kw} in exec form: {_render(argv)}"
        if applicability == "display":
            return display(why)
        fix = (Fix.safe if applicability == "safe" else Fix.unsafe)(
            *edits, description=f"{description} ({why})"
        )
        return self.finding(instr, message, fix)


def _shell_named(argv: list[str]) -> str:
    """A SHELL's program and options, quoted, without the script text a shell such as
    PowerShell is given (`["powershell", "-Command", "$ErrorActionPreference = …"]`)."""
    shown = list(itertools.takewhile(lambda word: not any(c.isspace() for c in word), argv))
    return f"`{' '.join(shown)}{' …' if len(shown) < len(argv) else ''}`"


def _shell_problem(doc: Dockerfile, instr: Instruction, stage: Stage) -> str:
    """Why the shell that runs the shell form cannot be assumed to be /bin/sh -c."""
    from dockfix.syntax import env_pairs

    hint = windows_hint(doc, stage)
    shell = shell_in_effect(stage, instr)
    if hint:
        runner = "cmd /S /C" if shell is None or shell[1] is None else _shell_named(shell[1])
        return f"{hint}; Windows runs shell form with {runner}, which quotes differently"
    if shell is not None:
        problem = posix_shell_problem(shell[1])
        if problem:
            return f"{problem} (line {shell[0].start_line})"
    for st in reversed(stage_chain(stage)):
        for other in st.instructions:
            if st is stage and other is instr:
                break
            if other.keyword == "ENV":
                for name, _ in env_pairs(other):
                    if name in ("BASH_ENV", "ENV"):
                        return f"ENV {name} makes the shell read a file before the command"
    return ""


def _json_edits(
    doc: Dockerfile, instr: Instruction, words: list[PlainWord], exec_word: PlainWord | None
) -> list[Edit] | None:
    """Edits that turn each kept word into a JSON string where it stands.

    Returns None when a word runs across a line break (a continuation inside a word),
    which cannot be rewritten in place without moving text between lines.
    """
    src = doc.source
    edits: list[Edit] = []
    if exec_word is not None:
        # Remove `exec` and the blanks after it when they are on the same line.
        s, e = instr.source_span(exec_word.start, exec_word.end)
        first_word_start = instr.source_span(words[0].start, words[0].end)[0]
        if "\n" in src[s:first_word_start]:
            while src[e] in " \t":  # `CMD exec \` → `CMD \`
                e += 1
            edits.append(Edit.delete(s, e))
        else:
            edits.append(Edit.delete(s, first_word_start))
    last = len(words) - 1
    for k, w in enumerate(words):
        s, e = instr.source_span(w.start, w.end)
        if "\n" in src[s:e] or src[s:e] != w.raw:
            return None
        text = json_string(w.value) + ("]" if k == last else ",")
        if k == 0:
            text = "[" + text
        edits.append(Edit(s, e, text))
    return edits


def _verify(doc: Dockerfile, instr: Instruction, edits: list[Edit], argv: list[str]) -> bool:
    return verified_edits(doc, instr, edits, lambda new: new.json_args == argv)


def _applicability(doc: Dockerfile, instr: Instruction, stage: Stage) -> tuple[str, str]:
    """('safe' | 'unsafe' | 'display', why) for converting this instruction."""
    if instr.keyword == "ENTRYPOINT":
        for st in [stage, *descendants(doc, stage)]:
            for other in st.instructions:
                if other.keyword == "CMD":
                    return (
                        "display",
                        f"the CMD on line {other.start_line} is ignored by a shell-form "
                        "ENTRYPOINT; in exec form it would be passed to the program as arguments",
                    )
        return (
            "unsafe",
            "arguments from `docker run` or a CMD in derived images now reach the program, "
            "and it becomes PID 1",
        )
    # CMD
    later = [o for o in stage.instructions if o.keyword == "CMD" and o.index > instr.index]
    if later:
        return "safe", f"the CMD on line {later[-1].start_line} overrides this one"
    for st in reversed(stage_chain(stage)):
        entry = [o for o in st.instructions if o.keyword == "ENTRYPOINT"]
        if entry:
            last = entry[-1]
            if last.json_args is None:
                return "safe", f"the shell-form ENTRYPOINT on line {last.start_line} ignores CMD"
            return (
                "unsafe",
                f"the ENTRYPOINT on line {last.start_line} receives the words instead of "
                "/bin/sh -c and the command line",
            )
    return (
        "unsafe",
        "the program becomes PID 1, and an ENTRYPOINT in the base image would receive the "
        "words instead of /bin/sh -c and the command line",
    )


def _render(argv: list[str]) -> str:
    return "[" + ", ".join(json_string(a) for a in argv) + "]"
