"""DF304's reading and writing of a single-stage Python image: what each `RUN` does (installs
the dependencies, installs Debian packages, creates users and directories, or something
else), where the dependencies go (a virtual environment the file creates, uv's project
environment, or `/opt/venv` made by the builder), and the edits that split the stage into a
builder and a `-slim` runtime.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from dockfix.core.edits import insert_before, replace_logical
from dockfix.core.fixer import Edit
from dockfix.core.suppression import is_pragma
from dockfix.fixers._build_steps import run_steps
from dockfix.fixers._package_managers import match_command
from dockfix.fixers._python_runtime import (
    BUILD_PROGRAMS,
    RuntimeBase,
    dist_name,
    install_problem,
    installs_into,
    venv_target,
)
from dockfix.fixers._runtime_stage import insert_lines_after, keyword_case
from dockfix.semantics.semantic import resolve_path
from dockfix.syntax import env_pairs

if TYPE_CHECKING:
    from dockfix.syntax import Dockerfile, Instruction, Stage

_DEFAULT_ENV = "/opt/venv"
_TOOLS = frozenset({"pip", "setuptools", "wheel", "poetry", "pipenv", "uv", "virtualenv"})
_SETUP_PROGRAMS = frozenset(
    {"useradd", "groupadd", "adduser", "addgroup", "mkdir", "chown", "chmod", "ln"}
)
_NEUTRAL_PROGRAMS = frozenset({"rm", "true", "set", "echo", "apt-mark"})
_APT = frozenset({"apt-get", "apt"})
_CARRIED = frozenset(
    {
        "ARG",
        "ENV",
        "LABEL",
        "WORKDIR",
        "EXPOSE",
        "STOPSIGNAL",
        "VOLUME",
        "HEALTHCHECK",
        "CMD",
        "ENTRYPOINT",
        "SHELL",
        "MAINTAINER",
        "USER",
        "COPY",
        "ADD",
    }
)


class PythonRun(NamedTuple):
    instr: Instruction
    kind: str  # "deps", "apt", "setup", "neutral" or "other"
    apt_packages: list[str]
    problem: str  # why the fix cannot be written, found while reading the RUN


class Environment(NamedTuple):
    path: str  # the environment's directory
    create: bool  # whether the builder must create it (`python -m venv`)
    uv: bool  # uv's project environment (`uv sync` makes it)


# --- reading the stage ----------------------------------------------------------------------


def read_run(doc: Dockerfile, stage: Stage, instr: Instruction) -> PythonRun:
    commands = run_steps(doc, stage, instr)
    if commands is None:
        return PythonRun(instr, "other", [], "")
    kinds: set[str] = set()
    packages: list[str] = []
    problem = ""
    for c in commands:
        argv = [w or "" for w in c.argv]
        if not argv or not argv[0]:
            kinds.add("other")
            continue
        program = argv[0].rsplit("/", 1)[-1]
        if program in _APT:
            if "install" in argv:
                packages += [w for w in argv[argv.index("install") + 1 :] if not w.startswith("-")]
                kinds.add("apt")
            continue
        if program in _SETUP_PROGRAMS:
            kinds.add("setup")
            continue
        if program in _NEUTRAL_PROGRAMS or venv_target(argv) is not None:
            kinds.add("neutral")
            continue
        if "setup.py" in argv and ("develop" in argv or "install" in argv):
            problem = problem or (
                f"`python setup.py {'develop' if 'develop' in argv else 'install'}` at line "
                f"{instr.start_line} installs outside a virtual environment's control"
            )
            continue
        match = match_command(argv)
        if match is None or match.manager.ecosystem != "python":
            kinds.add("other")
            continue
        if not match.is_install:
            kinds.add("neutral")  # `poetry config …`, `pip --version`
            continue
        problem = problem or install_problem(
            argv[match.args_index :], match.manager.name, instr.start_line
        )
        named = [w for w in argv[match.args_index :] if not w.startswith("-")]
        args = argv[match.args_index :]
        files = any(a.startswith(("-r", "--requirement", "-c", "--constraint")) for a in args)
        tool_only = match.manager.name == "pip" and not files and named
        if tool_only and all(dist_name(w) in _TOOLS for w in named):
            kinds.add("neutral")
        else:
            kinds.add("deps")
    for kind in ("deps", "other", "apt", "setup", "neutral"):
        if kind in kinds:
            if kind == "setup" and kinds & {"apt", "deps"}:
                return PythonRun(instr, "other", packages, problem)
            return PythonRun(instr, kind, packages, problem)
    return PythonRun(instr, "neutral", packages, problem)


def calls_build_program(r: PythonRun) -> bool:
    words = r.instr.logical[r.instr.args_start :].replace("&&", " ").replace(";", " ").split()
    return any(w.rsplit("/", 1)[-1] in BUILD_PROGRAMS for w in words)


def environment(
    doc: Dockerfile, stage: Stage, runs: list[PythonRun], before: list[Instruction]
) -> Environment | str:
    """Where the builder installs the dependencies."""
    found: list[Environment] = []
    for r in runs:
        if r.instr not in before:
            continue
        for c in run_steps(doc, stage, r.instr) or []:
            argv = [w or "" for w in c.argv]
            if not argv or not argv[0]:
                continue
            venv = venv_target(argv)
            if venv is not None:
                path = resolve_path(venv, c.cwd)
                if path is None:
                    return f"the directory of the virtual environment `{venv}` is unknown"
                found.append(Environment(path, False, False))
            elif argv[0].rsplit("/", 1)[-1] == "uv" and argv[1:2] == ["sync"]:
                target = c.env.get("UV_PROJECT_ENVIRONMENT") or ".venv"
                path = resolve_path(target, c.cwd)
                if path is None:
                    return "the directory `uv sync` installs into is unknown"
                found.append(Environment(path, False, True))
    paths = {e.path for e in found}
    if len(paths) > 1:
        return "the dependencies go to several environments: " + ", ".join(sorted(paths))
    if found:
        return (
            found[0]
            if found[0].uv
            or installs_into(doc, stage, [r.instr for r in runs if r.kind == "deps"], found[0].path)
            else (
                f"the file creates `{found[0].path}`, but the install does not run with it "
                "active (`PATH` or `VIRTUAL_ENV`), so where the packages go is unknown"
            )
        )
    for i in before:
        if i.keyword == "ENV" and any(name == "VIRTUAL_ENV" for name, _ in env_pairs(i)):
            return (
                f"`VIRTUAL_ENV` is set at line {i.start_line} but no RUN creates the "
                "environment before the install"
            )
    return Environment(_DEFAULT_ENV, True, False)


# --- writing the two stages -----------------------------------------------------------------


def split_edits(
    doc: Dockerfile,
    stage: Stage,
    runs: list[PythonRun],
    before: list[Instruction],
    after: list[Instruction],
    runtime: RuntimeBase,
    libraries: list[str],
    env: Environment,
) -> list[Edit] | str:
    """The edits that make ``stage`` a builder installing into ``env`` and start the
    runtime stage on ``runtime`` after ``before``; or why they cannot be written."""
    frm = stage.from_instruction
    kw = keyword_case(frm)
    words = frm.args_words()
    if not words:
        return "the FROM line cannot be read"
    _, image_start, image_end = words[0]
    edits: list[Edit] = []
    alias = stage.alias or "build"
    if stage.alias is None:
        edits.append(replace_logical(frm, image_end, image_end, f" {kw('AS')} {alias}"))
    env_line = f'{kw("ENV")} VIRTUAL_ENV={env.path} PATH="{env.path}/bin:$PATH"'
    if env.create:
        first = next(r.instr for r in runs if r.kind == "deps")
        edits.append(
            insert_before(doc, first, [f"{kw('RUN')} python -m venv {env.path}", env_line])
        )
    carried = _carried_lines(doc, runs, before, libraries, kw)
    if isinstance(carried, str):
        return carried
    flags = frm.logical[frm.args_start : image_start]
    lines = ["", f"{kw('FROM')} {flags}{runtime.text}", *carried]
    lines.append(f"{kw('COPY')} --from={alias} {env.path} {env.path}")
    on_path = any(
        name == "PATH" and f"{env.path}/bin" in (value or "")
        for i in (*before, *after)
        if i.keyword == "ENV"
        for name, value in env_pairs(i)
    )
    if env.create:
        lines.append(env_line)
    elif not on_path:
        lines.append(f'{kw("ENV")} PATH="{env.path}/bin:$PATH"')
    edits.append(insert_lines_after(doc, before[-1], lines))
    return edits


def _carried_lines(
    doc: Dockerfile,
    runs: list[PythonRun],
    before: list[Instruction],
    libraries: list[str],
    kw: Callable[[str], str],
) -> list[str] | str:
    """The runtime stage's copies of what ``before`` holds that the service needs: its
    settings, its user and directory setup, and one install of the runtime ``libraries`` in
    place of the first package install; or why an instruction cannot be carried."""
    lines: list[str] = []
    apt_written = False
    kinds = {r.instr: r for r in runs}
    for i in before:
        r = kinds.get(i)
        if r is not None and r.kind in ("apt", "deps") and r.apt_packages:
            if libraries and not apt_written:
                lines += _library_install(doc, i, libraries, kw)
                apt_written = True
            continue
        if r is not None and r.kind != "setup":
            continue
        if i.keyword in ("COPY", "ADD") and i.flag("from") is not None:
            continue  # uv's binary: the builder's tool
        if r is None and i.keyword not in _CARRIED:
            return f"`{i.keyword}` at line {i.start_line} cannot be carried into the runtime stage"
        lines.extend(c for c in doc.comment_lines_above(i) if is_pragma(c))
        lines.append(doc.source[i.start : i.end].rstrip("\r\n"))
    return lines


def _library_install(
    doc: Dockerfile, install: Instruction, libraries: list[str], kw: Callable[[str], str]
) -> list[str]:
    """The `apt-get install` of the runtime libraries, unpinned like the `-dev` packages it
    replaces: hadolint's DL3008 is ignored, with what the original install ignored."""
    codes = {"DL3008"}
    for c in doc.comment_lines_above(install):
        if c.lstrip().startswith("# hadolint ignore="):
            codes |= set(c.split("=", 1)[1].replace(" ", ",").split(","))
    return [
        f"# hadolint ignore={','.join(sorted(c for c in codes if c))}",
        f"{kw('RUN')} apt-get update && apt-get install -y --no-install-recommends "
        f"{' '.join(libraries)} && rm -rf /var/lib/apt/lists/*",
    ]
