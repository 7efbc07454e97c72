"""DF101 copy-before-install: the whole build context is copied before the dependency install.

## What it does
Finds a `COPY . <dest>` (or `ADD . <dest>`) that comes before the `RUN` installing the
project's dependencies in the same stage, and rewrites it to copy only the files the install
reads (manifests, lock files, the package manager's project configuration), run the install,
then copy the rest. It knows pip (`-r`/`-c` requirement files, followed recursively), uv
(`uv sync`, `uv pip`), Poetry, Pipenv, npm, Yarn (classic and Berry), pnpm, Bun, Go modules
(`go mod download`), Cargo (`cargo fetch`), Bundler, Composer, Maven
(`mvn dependency:go-offline`), Gradle (`gradle dependencies`), `dotnet restore` and Mix
(`mix deps.get`). The files it names are read from the build context on disk: the
Dockerfile's directory, or the context given with `--context` or the configuration.

## Why is this bad
Docker reuses a layer only when everything it was built from is unchanged. After `COPY . .`
any edit to any file invalidates the copy, so the install below it runs again on every code
change: minutes of downloads and compilation in CI for a one-line change. Copying the
manifests first lets the install layer be reused until the dependencies change.

## Example
```dockerfile
FROM python:3.12-slim
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir -r requirements.txt
CMD ["gunicorn", "app:app"]
```

Use instead:
```dockerfile
FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
CMD ["gunicorn", "app:app"]
```

An install that also installs the project gets a flag to leave it out, and the original
command runs again after the full copy:
```dockerfile
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-install-project
COPY . .
RUN uv sync --frozen
```
A `RUN` that installs and then builds (`npm ci && npm run build`) is split at the `&&`,
with the full copy in between.

## Fix safety
The fix is **safe** when every file it names exists in the build context and is not excluded
by `.dockerignore`, the install reads nothing else from the copied tree, and only
instructions that cannot read the tree stand between the copy and the install (`ENV`, `ARG`,
`WORKDIR`, `USER`, `LABEL`, `EXPOSE`, … and `RUN`s of system package managers). The manifests
land at the paths the whole-tree copy gave them; `--chown`, `--chmod` and `--link` are carried
over; the destination keeps its spelling (made absolute when a `WORKDIR` between would change
it); `# hadolint ignore=` lines above the moved instructions go with them. When the install
also installs the project (`uv sync`, `poetry install`), it gets `--no-install-project` /
`--no-root` and the original command runs again right after the full copy. `cargo fetch`
needs a target to read a manifest, so the fix creates the package's `src/main.rs` /
`src/lib.rs` empty for the fetch; the full copy replaces them. A `RUN` is split only at an `&&`
followed by `&&` alone, with its flags and any `cd`/`export`/`set` repeated. Go's
`go mod download` is treated as read-only: it adds to `go.sum` only sums `go build` needs too.

It is **unsafe** (applied with `--unsafe-fixes`) when the install may rewrite a lock file
that exists in the context (`npm install`, `yarn` without `--frozen-lockfile`/`--immutable`,
`pnpm` without `--frozen-lockfile`, `uv sync` without `--locked`/`--frozen`, `pipenv install`
without `--deploy`, `bundle install` outside frozen or deployment mode, `cargo fetch` without
`--locked`, `mix deps.get`, `dotnet restore` without `--locked-mode`): after the split the later
copy puts the context's lock file back over the rewritten one. Gradle splits are always unsafe
(build scripts are code), and so is splitting a `RUN` whose download only fills a cache mount
(`go`, `cargo`, `mvn`, `gradle`, `dotnet`): the build step then relies on the mount surviving
between steps. `pip install .` of a project whose dependencies are declared statically
(`[project.dependencies]`, or a literal `install_requires` in `setup.py`) becomes an unsafe
fix that installs those dependencies, written into the `RUN`, before the code is copied; the
original `pip install .` still runs after the copy and installs anything that went missing.

No fix (display-only, with the reason) when the install reads what the manifests do not
provide: lifecycle scripts in `package.json` (`postinstall`, `prepare`, …), Composer scripts,
plugins or classmap autoloading, path dependencies, workspaces and monorepos (npm, Yarn,
pnpm, Bun, Cargo, Go, uv, Maven modules and parent POMs, .NET solutions and project
references, Mix umbrellas), `pip install .` with dynamic dependencies, a `Gemfile` that loads a
gemspec or other files; when a `RUN` or `COPY` between the copy and the install may read the
tree; when a required file is missing, a symbolic link, or excluded by `.dockerignore`; when
the context holds what the install writes (`node_modules`, `.venv`, `vendor`, `obj`, …), which
the later copy would lay over the installed files; when the rewrite would put two
single-command `RUN`s next to each other (hadolint DL3059) in a file that had none; and when
the build context is not on disk (standard input). `RUN`s with heredoc scripts or bind mounts
of the context are not analysed.

## Options
- `split-runs` (bool, default `true`): split a `RUN` that installs and then builds
  (`npm ci && npm run build`) at the `&&` after the install. With `false` such a `RUN` is
  reported without a fix.

## Resolves
none (hadolint, Trivy and Checkov have no rule for the order of copy and install).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, ClassVar

from dockfix.core.fixer import Finding, Fixer, Option, Resolves, Severity, register
from dockfix.fixers.copy_before_install._finding import build
from dockfix.fixers.copy_before_install._prefilter import may_install_after
from dockfix.fixers.copy_before_install._run import _RunResult, analyze_run
from dockfix.fixers.copy_before_install._site import _CopySource, _Site

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext
    from dockfix.syntax import Dockerfile, Instruction, Stage

__all__ = ["CopyBeforeInstall"]

# How the package reads: this module walks a stage from each whole-tree COPY that a RUN below
# may install from (_prefilter.py tells from the RUN's text); _run.py analyses each RUN after
# it and _analyzers.py hands each command to its ecosystem's module (python, node, go_rust,
# ruby_php, jvm_dotnet_elixir); _finding.py and _edits.py turn the result into a finding and
# its fix. _tree.py, _stage.py, _command.py, _site.py, _earlier.py hold what they share.


# Instructions that never read the files a COPY placed.
_TRANSPARENT = frozenset(
    {
        "ENV",
        "ARG",
        "LABEL",
        "EXPOSE",
        "USER",
        "WORKDIR",
        "STOPSIGNAL",
        "HEALTHCHECK",
        "CMD",
        "ENTRYPOINT",
        "SHELL",
        "MAINTAINER",
        "ONBUILD",
    }
)


@register
class CopyBeforeInstall(Fixer):
    code = "DF101"
    severity = Severity.WARNING
    name = "copy-before-install"
    summary = "The whole build context is copied before the dependency install"
    resolves = Resolves()
    options: ClassVar[Mapping[str, Option]] = {
        "split-runs": Option(
            bool,
            True,
            "Split a RUN that installs and then builds at the `&&` after the install.",
        ),
    }

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        if doc.escape == "`":
            return  # Windows images: paths and shells this fixer does not model
        for stage in doc.stages:
            windows: bool | None = None  # looked for at the first whole-tree copy
            for i, instr in enumerate(stage.instructions):
                if instr.keyword != "COPY" and instr.keyword != "ADD":
                    continue
                source = _whole_tree_copy(instr)
                if source is None:
                    continue
                if windows is None:
                    windows = _windows_stage(stage)
                if windows or not may_install_after(stage, i):
                    break  # Windows, or no RUN below may install: no finding from here on
                split_runs = bool(self.settings.get("split-runs", True))
                finding = _walk_stage(self, _Site(doc, ctx, stage, i, source, split_runs))
                if finding is not None:
                    yield finding


def _windows_stage(stage: Stage) -> bool:
    base = stage.base.lower()
    if "windows" in base or "nanoserver" in base or "servercore" in base:
        return True
    for instr in stage.instructions:
        if instr.keyword == "SHELL" and instr.json_args:
            exe = instr.json_args[0].lower()
            if "powershell" in exe or "pwsh" in exe or exe.endswith("cmd") or "cmd.exe" in exe:
                return True
    return False


def _whole_tree_copy(instr: Instruction) -> _CopySource | None:
    if instr.keyword not in ("COPY", "ADD") or instr.heredocs or instr.trigger is not None:
        return None
    if instr.flag("from") is not None:
        return None
    if instr.json_args is None and not instr.args.startswith("."):
        return None  # the first word is not `.` (args_words would tell, at more cost)
    args = instr.json_args if instr.json_args is not None else [w for w, _, _ in instr.args_words()]
    if len(args) != 2 or args[0] not in (".", "./"):
        return None
    return _CopySource(args[0], args[1])


def _walk_stage(fixer: Fixer, site: _Site) -> Finding | None:
    """The copy's finding: the RUNs after it, up to the last install before an instruction
    that may read the copied tree."""
    instrs = site.stage.instructions
    results: list[_RunResult] = []
    blocker: Instruction | None = None
    blocker_reason = ""
    for j in range(site.index + 1, len(instrs)):
        instr = instrs[j]
        kw = instr.keyword
        if kw in _TRANSPARENT:
            continue
        if kw != "RUN":
            blocker, blocker_reason = instr, f"the `{kw}` at line {instr.start_line}"
            break
        res = analyze_run(site, instr, j)
        results.append(res)
        if res.kind in ("transparent", "install"):
            continue
        if res.kind == "split":
            break
        results.pop()
        if res.kind == "mixed" and not any(r.kind == "install" for r in results):
            return fixer.finding(site.copy, site.message(res.label), reason=res.reason)
        blocker = instr
        blocker_reason = f"the RUN at line {instr.start_line} ({res.reason})"
        break
    installs = [r for r in results if r.kind in ("install", "split")]
    if not installs:
        if blocker is not None:
            return _later_install(fixer, site, blocker, blocker_reason)
        return None
    last = installs[-1]
    return build(fixer, site, results[: results.index(last) + 1])


def _later_install(fixer: Fixer, site: _Site, blocker: Instruction, why: str) -> Finding | None:
    """An install further down, past an instruction that may read the tree: report only."""
    instrs = site.stage.instructions
    for j in range(site.stage.local_index(blocker) + 1, len(instrs)):
        instr = instrs[j]
        if _whole_tree_copy(instr) is not None:
            return None
        if instr.keyword != "RUN":
            continue
        res = analyze_run(site, instr, j)
        if res.kind in ("install", "split", "mixed"):
            return fixer.finding(
                site.copy,
                site.message(res.label),
                reason=f"{why} comes between the copy and `{res.label}` (line "
                f"{instr.start_line}) and may read the copied files; move the install "
                "above it by hand",
            )
    return None
