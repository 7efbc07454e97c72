"""DF304 single-stage-python: a Python service image keeps the compilers that built its wheels.

## What it does
Finds a single-stage image on the official `python` image that installs the service's
dependencies (`pip install -r requirements*.txt`, `poetry install`, `uv sync`,
`pipenv install`, `pip install .`) and either installs build-only Debian packages for it
(`gcc`, `build-essential`, `*-dev` headers, `git`, `pkg-config`…) or starts from the full
`python:<version>` image. It offers the split into two stages:

- the `FROM` gets a stage name (`AS build`); before the first dependency install the builder
  creates a virtual environment, `RUN python -m venv /opt/venv` with
  `ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"`, into which pip, Poetry (which uses
  an active `VIRTUAL_ENV`, also with `virtualenvs.create false`) and Pipenv install. `uv sync`
  keeps uv's own environment (`.venv` in the project, or `UV_PROJECT_ENVIRONMENT`), and an
  environment the file already creates (`python -m venv`, `virtualenv`, `uv venv`) is kept;
- a runtime stage on the `-slim` variant of the same tag (`3.12` → `3.12-slim`,
  `3.12-bookworm` → `3.12-slim-bookworm`, `${PYTHON_VERSION}` → `${PYTHON_VERSION}-slim`)
  starts right after the last dependency install. It repeats, in their order, the
  instructions written before that point that the running service needs (`ARG`, `ENV`,
  `LABEL`, `WORKDIR`, `COPY`/`ADD` from the context, `EXPOSE`, `USER root`, `RUN`s that only
  create users or directories, …), installs instead of the build packages only the Debian
  packages the service uses at run time: the ones that are not build tools, and the runtime
  library of each `-dev` package (`libpq-dev` → `libpq5`, `libjpeg-dev` → `libjpeg62-turbo`,
  `libxml2-dev` → `libxml2`, `libxslt1-dev` → `libxslt1.1`, `default-libmysqlclient-dev` →
  `libmariadb3`…; the table is `fixers/_python_runtime.py`; headers of libraries the Python
  image links anyway, like `libssl-dev` or `libffi-dev`, need nothing), then copies the
  environment from the builder and puts its `bin` on `PATH`;
- everything after the last install (`COPY . .`, `RUN python manage.py collectstatic`,
  `EXPOSE`, `USER`, `HEALTHCHECK`, `CMD`…) now belongs to the runtime stage without being moved.

No `USER` is added: DF201 makes the new final stage non-root in the same run.

## Why is this bad
Compilers, headers and `git` are some 200 MB that the service never runs, and the full
`python` image is close to 1 GB against about 130 MB for `-slim`: slower pulls and cold
starts, and hundreds of packages whose CVEs scanners report. Compiled wheels only need the
shared libraries they link.

## Example
```dockerfile
FROM python:3.12-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
```
Use instead:
```dockerfile
FROM python:3.12-slim-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends gcc libpq-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN python -m venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
RUN pip install --no-cache-dir -r requirements.txt

FROM python:3.12-slim-bookworm
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
COPY --from=build /opt/venv /opt/venv
ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"
COPY . .
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
```

## Fix safety
Always unsafe: the service then runs from a virtual environment on the `-slim` image, which
lacks the compilers, headers and tools of the original (and, from a full `python` image,
`curl`, `git` and many libraries); `--no-install-recommends` is used for the runtime
libraries; the runtime `apt-get install` is unpinned like the `-dev` packages it replaces.

Display-only, with the reason, when the result cannot be known to work: a base that is not
the official `python` image, a tag without a Python version or pinned by digest, an Alpine
tag; a `-dev` package not in the table, pinned to a version, or whose runtime library was
renamed between Debian releases while the tag names no release; editable installs
(`pip install -e`, `setup.py develop`), `pip install --user/--target/--prefix`,
`uv pip install --system`; a `RUN` before the last install that does more than install
packages or create users and directories; a `USER` other than root before it; a
`COPY --from` other than uv's binary; compilers, `git` or package installs in a later `RUN`
or in the start command (also in a start script read from the build context: packages
compiled at run time); `uv run`/`poetry run`/`pipenv run` as the start command; on a full
`python` base, a dependency that links a system library or runs a program of the full image
(`psycopg2`, psycopg 3 without `[binary]`, `mysqlclient`, `python-ldap`, `pyodbc`,
`python-magic`, `Wand`, `GitPython`…) with no matching `apt-get install`, or no build
context to read the dependency list from. Files that are already multi-stage are not
reported; neither are images whose only gain would be the venv (a `-slim` base without build
packages), nor development images (`Dockerfile.dev`, `*.dev.Dockerfile`, `.devcontainer/`).

## Options
None.

## Resolves
hadolint: none · Trivy: none · Checkov: none.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from dockfix.core.fixer import Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._cmdline import display_finding
from dockfix.fixers._dev_images import is_dev_file
from dockfix.fixers._image_paths import base_image, context_source, image_workdir_at, start_command
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._python_runtime import (
    BUILD_PROGRAMS,
    FULL_IMAGE_TOOLS,
    full_base_problem,
    full_base_tools_problem,
    is_build_only,
    runtime_libraries,
    slim_variant,
)
from dockfix.fixers._run_text import stage_may_mention
from dockfix.fixers._stage_split_python import (
    PythonRun,
    calls_build_program,
    environment,
    read_run,
    split_edits,
)
from dockfix.semantics.semantic import resolve_path

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext
    from dockfix.syntax import Dockerfile, Instruction, Stage

_RUNTIME_INSTALLERS = ("pip", "poetry", "uv", "pipenv", "setup.py", "build_ext", "cythonize")
# The image's own Python and where pip puts a package's scripts and modules there: after the
# split the packages are in the virtual environment, which neither sees.
_SYSTEM_INSTALLED = lazy_re(
    r"^(/usr/local/bin/[\w.-]+|/usr/bin/python[\d.]*"
    r"|/usr/local/lib/python[\d.]+/(site|dist)-packages/.*)$"
)
_UV_BINARIES = frozenset({"/uv", "/uvx", "/bin/uv", "/bin/uvx", "/usr/local/bin/uv"})


@register
class SingleStagePython(Fixer):
    code = "DF304"
    restructures = True
    severity = Severity.INFO
    name = "single-stage-python"
    summary = "A Python service image keeps the build tools its dependencies were compiled with"
    resolves = Resolves()
    image_changes = ("files:/**", "config:Env", "config:WorkingDir", "config:User", "config:Labels")

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        if len(doc.stages) != 1 or doc.escape != "\\":
            return
        stage = doc.stages[0]
        base = base_image(doc, stage)
        if base is None or "python" not in base.name or base.is_windows or is_dev_file(ctx):
            return
        entry, cmd = start_command(stage)
        if entry is None and cmd is None:
            return  # a base or tool image, not a service
        full_base = "slim" not in base.tag and not base.is_alpine
        if not full_base and not stage_may_mention(stage, ("apt",)):
            return  # a -slim base and no build package to drop: spare reading every RUN
        runs = [read_run(doc, stage, i) for i in stage.instructions if i.keyword == "RUN"]
        installs = [r for r in runs if r.kind == "deps"]
        if not installs:
            return
        split = installs[-1].instr
        cut = stage.instructions.index(split) + 1
        before, after = stage.instructions[:cut], stage.instructions[cut:]
        packages = [p for r in runs if r.instr in before for p in r.apt_packages]
        build_only = [p for p in packages if is_build_only(p.split("=")[0])]
        if not build_only and not full_base:
            return
        kept = ", ".join(f"`{p}`" for p in build_only[:4]) or "the full image's build tools"
        message = (
            f"the image that runs the service installs its Python dependencies on "
            f"`{base.reference}` and keeps {kept}"
        )
        yield self._rewrite(doc, stage, base.reference, runs, before, after, packages, ctx, message)

    def _rewrite(
        self,
        doc: Dockerfile,
        stage: Stage,
        expanded: str,
        runs: list[PythonRun],
        before: list[Instruction],
        after: list[Instruction],
        packages: list[str],
        ctx: FixContext,
        message: str,
    ) -> Finding:
        display = partial(display_finding, self, stage.from_instruction, message)
        runtime = slim_variant(stage.base, expanded)
        if isinstance(runtime, str):
            return display(runtime)
        problem = (
            self._runs_problem(runs, before, after)
            or self._settings_problem(stage, before)
            or self._start_problem(doc, stage, ctx, _slim_lacks(expanded, packages))
            or _system_python_problem(doc, stage, after, ctx)
            or full_base_problem(expanded, packages, ctx)
            or full_base_tools_problem(expanded, after, packages)
        )
        if problem:
            return display(problem)
        libraries = runtime_libraries(packages, runtime.release)
        if isinstance(libraries, str):
            return display(libraries)
        env = environment(doc, stage, runs, before)
        if isinstance(env, str):
            return display(env)
        edits = split_edits(doc, stage, runs, before, after, runtime, libraries, env)
        if isinstance(edits, str):
            return display(edits)
        fix = Fix.unsafe(
            *edits,
            description=(
                f"install into `{env.path}` in a builder stage and run from `{runtime.text}`"
            ),
        )
        return self.finding(stage.from_instruction, message, fix)

    def _runs_problem(
        self, runs: list[PythonRun], before: list[Instruction], after: list[Instruction]
    ) -> str | None:
        for r in runs:
            if r.problem:
                return r.problem
            if r.instr in before and r.kind == "other":
                return (
                    f"the RUN at line {r.instr.start_line} does more than install packages or "
                    "create users and directories; what it makes may be needed at run time"
                )
            if r.instr in after:
                late = [p for p in r.apt_packages if is_build_only(p.split("=")[0])]
                if late or (r.kind == "other" and calls_build_program(r)):
                    return (
                        f"the RUN at line {r.instr.start_line} runs after the dependency install "
                        "and uses build tools the runtime stage would not have"
                    )
        return None

    def _settings_problem(self, stage: Stage, before: list[Instruction]) -> str | None:
        for i in before:
            if i.keyword == "ONBUILD":
                return f"`ONBUILD` at line {i.start_line} would run in both stages"
            if i.keyword == "USER" and i.args.split(":")[0].strip() not in ("root", "0"):
                return (
                    f"`USER {i.args.strip()}` at line {i.start_line} installs the dependencies "
                    "as another user; where they go cannot be known"
                )
            if i.keyword in ("COPY", "ADD") and i.flag("from") is not None:
                words = i.json_args or [w for w, _, _ in i.args_words()]
                if not set(words[:-1]) <= _UV_BINARIES:
                    return (
                        f"the COPY --from at line {i.start_line} brings files from another "
                        "image that the service may need at run time"
                    )
        return None

    def _start_problem(
        self, doc: Dockerfile, stage: Stage, ctx: FixContext, lacking: frozenset[str]
    ) -> str | None:
        """Why the start command or its scripts need what stays in the builder: the
        package tools and compilers, or ``lacking`` (the full image's tools that -slim has
        not)."""
        for i in start_command(stage):
            if i is None:
                continue
            words = i.json_args if i.json_args is not None else i.args.split()
            if words and words[0] in ("uv", "poetry", "pipenv") and "run" in words[1:3]:
                return (
                    f"the start command runs `{words[0]} run`, and `{words[0]}` stays in the "
                    "builder stage"
                )
            texts = [(f"the start command (line {i.start_line})", " ".join(words))]
            for script in (w for w in words if w.endswith(".sh")):
                path = resolve_path(script, image_workdir_at(doc, stage, None))
                rel = context_source(doc, stage, path, ctx) if path and ctx.has_context else None
                body = ctx.read_text(rel) if rel is not None else None
                if body is None:
                    return (
                        f"the start script `{script}` cannot be read from the build context, "
                        "so whether it installs or compiles packages at start is unknown"
                    )
                texts.append((f"the start script `{script}`", body))
            for where, text in texts:
                tokens = {w.strip("\"'();&|") for w in text.split()}
                for word in (*_RUNTIME_INSTALLERS, *BUILD_PROGRAMS):
                    if word in tokens:
                        return (
                            f"{where} runs `{word}`: packages installed or compiled at start "
                            "need the builder's tools"
                        )
                for word in sorted(tokens & lacking):
                    return f"{where} runs `{word}`, which the -slim image does not have"
                for word in sorted(tokens):
                    # (a file the Dockerfile copies there itself stays where it is)
                    copied = ctx.has_context and context_source(doc, stage, word, ctx)
                    if _SYSTEM_INSTALLED.match(word) and not copied:
                        return (
                            f"{where} names `{word}`, the image's Python or what pip installed "
                            "there; after the split the packages are in the virtual environment"
                        )
        return None


def _system_python_problem(
    doc: Dockerfile, stage: Stage, after: list[Instruction], ctx: FixContext
) -> str | None:
    """A `RUN` or `HEALTHCHECK` after the install that runs the image's Python by its path
    (`/usr/local/bin/python manage.py migrate`): it would not see the virtual environment."""
    for i in after:
        if i.keyword not in ("RUN", "HEALTHCHECK"):
            continue
        for word in sorted({w.strip("\"'[],();&|") for w in i.logical[i.args_start :].split()}):
            copied = ctx.has_context and context_source(doc, stage, word, ctx)
            if _SYSTEM_INSTALLED.match(word) and not copied:
                return (
                    f"the {i.keyword} at line {i.start_line} names `{word}`, the image's Python "
                    "or what pip installed there; after the split the packages are in the "
                    "virtual environment"
                )
    return None


def _slim_lacks(expanded: str, packages: list[str]) -> frozenset[str]:
    """The full image's tools that the -slim runtime lacks (none from a -slim base), less
    those the file installs itself."""
    if "slim" in expanded.rpartition(":")[2]:
        return frozenset()
    return FULL_IMAGE_TOOLS - {p.split("=")[0] for p in packages}
