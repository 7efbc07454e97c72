"""DF101's pre-filter: a RUN it passes over surely runs no dependency install.

The filter reads the RUN's text without parsing it; the analysis it saves reads the parsed
commands. These tests hold it to the analysis: whenever a parsed command of a RUN is one the
analysis plans as an install (a package manager's install subcommand, or a build tool that
resolves dependencies), the filter must have said "may install"."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dockfix
from dockfix.fixers._package_managers import PACKAGE_MANAGERS, match_command
from dockfix.fixers.copy_before_install._analyzers import BUILD_TOOLS
from dockfix.fixers.copy_before_install._command import _argv_words
from dockfix.fixers.copy_before_install._prefilter import may_install
from dockfix.semantics.shell import shell_of
from dockfix.syntax import Instruction, parse_lossless

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = sorted(
    {exe for pm in PACKAGE_MANAGERS.values() for exe in pm.executables}
    | {"pip3.12", "python3 -m pip", "python -m uv", "python3.11 -m poetry"}
)


def analysed_as_install(instr: Instruction) -> bool:
    """Whether one of the RUN's commands reaches an install analyzer or a build tool."""
    if instr.json_args is not None:
        argvs = [list(instr.json_args)]
    else:
        script = shell_of(instr)
        argvs = [_argv_words(c)[0] for c in script.commands] if script is not None else []
    for argv in argvs:
        if not argv:
            continue
        if argv[0].rsplit("/", 1)[-1] in BUILD_TOOLS:
            return True
        m = match_command(argv)
        if m is not None and m.is_install:
            return True
    return False


def runs_of(text: str) -> list[Instruction]:
    doc = parse_lossless(text)
    if doc.error is not None:
        return []
    return [i for i in doc.instructions if i.keyword == "RUN" and not i.heredocs]


def test_no_install_passed_over_in_the_fixtures() -> None:
    seen = 0
    for path in sorted((ROOT / "fixtures").rglob("*")) + sorted((ROOT / "tests").rglob("*")):
        if not path.is_file() or "ockerfile" not in path.name:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for instr in runs_of(text):
            seen += 1
            if analysed_as_install(instr):
                assert may_install(instr), (path, instr.logical)
    assert seen > 500


def _quoted(word: str, how: list[int]) -> str:
    """``word`` spelt with shell quoting: a quote or backslash before some of its letters."""
    out: list[str] = []
    for i, c in enumerate(word):
        kind = how[i % len(how)]
        out.append({0: c, 1: f"'{c}'", 2: f'"{c}"', 3: f"\\{c}"}[kind] if c.isalnum() else c)
    return "".join(out)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    program=st.sampled_from(PROGRAMS),
    how=st.lists(st.integers(0, 3), min_size=1, max_size=6),
    prefix=st.sampled_from(["", "/usr/bin/", "sudo ", "env CI=1 ", "cd /app && ", "true;"]),
    form=st.sampled_from(["shell", "exec"]),
    args=st.sampled_from(
        [
            "install",
            "ci",
            "clean-install",
            "mod download",
            "restore",
            "deps.get",
            "",
            "--cwd x i",
            "pip sync",
        ]
    ),
    quote_args=st.booleans(),
)
def test_quoted_programs_are_not_passed_over(
    program: str, how: list[int], prefix: str, form: str, args: str, quote_args: bool
) -> None:
    words = [_quoted(w, how) for w in program.split()]
    if quote_args:
        args = " ".join(_quoted(w, how[::-1]) for w in args.split())
    if form == "exec":
        argv = [prefix.strip() + program.split()[0], *program.split()[1:], *args.split()]
        line = "RUN [" + ", ".join(f'"{a}"' for a in argv) + "]"
    else:
        line = f"RUN {prefix}{' '.join(words)} {args}"
    for instr in runs_of(f"FROM python:3.12\n{line}\n"):
        if analysed_as_install(instr):
            assert may_install(instr), line


def test_words_that_only_contain_a_program_name_are_passed_over() -> None:
    text = (
        "FROM python:3.12\n"
        "RUN echo django cargo-culted mongo && ./gosu-x && make npm.o\n"
        'RUN ["/bin/golang-build", "x"]\n'
        "RUN npm run build && go build ./cmd/app && cargo build --release\n"
        "RUN yarn build\n"
    )
    assert [may_install(i) for i in runs_of(text)] == [False, False, False, True]


def test_quoted_install_still_found(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"name": "web", "version": "1.0.0"}\n')
    (tmp_path / "package-lock.json").write_text('{"name": "web", "lockfileVersion": 3}\n')
    src = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN \"n\"p'm' ci\n"
    fixed, _ = dockfix.fix(
        src, path=tmp_path / "Dockerfile", context_dir=tmp_path, select=["DF101"]
    )
    assert fixed.index("COPY package.json package-lock.json ./") < fixed.index("COPY . .")
