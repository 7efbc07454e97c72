"""DF108 unpinned-packages: packages installed without a version.

## What it does
Reports, once per `RUN` (shell form, exec form, heredoc scripts, `ONBUILD RUN`), the packages
its commands install without a version, grouped by the tool that installs them: `apt-get
install` (also `apt` and `aptitude`), `apk add`, `pip install` (also `python -m pip`), `npm
install` (and its aliases `i`, `add`) and `gem install`. What counts as pinned is what hadolint
accepts: `curl=8.5.0-2` or `curl/bookworm-backports` and `.deb` files for apt; `curl=8.5.0-r0`,
`curl~8.5` and `.apk` files for apk; a version operator (`flask==3.0.3`, `flask>=3`), a VCS URL
with `@ref`, a path or a `.whl`/`.tar.gz` for pip (commands reading `-r`, `-c` or `.` are not
reported); `express@4.19.2`, a tarball, a folder or a git URL with `#ref` for npm;
`rails:7.1.3` or `-v`/`--version` for gem. A variable (`$PACKAGES`) counts as unpinned, as in
hadolint. Beyond hadolint, it reads heredoc scripts, commands behind `sudo`, `apt install` and
`npm i`; unlike it, an option's value is no package (`npm install --workspace @org/api`), and a
RUN under a PowerShell `SHELL` is not read. tonistiigi/xx's `xx-apk` and `xx-apt-get` count as
`apk` and `apt-get`. A `# hadolint ignore=` pragma or a `.hadolint.yaml` `ignored` entry
silences the finding of a RUN where it names the rule of one of its tools (`DL3013` for pip),
not the RUNs of the others.

## Why is this bad
Without a version, the image gets whatever the package index offers on the day it is built:
two builds of the same commit can install different versions, and an upgrade arrives unseen.

## Example
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl git \
 && rm -rf /var/lib/apt/lists/*
```
Use instead:
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u12 \
    git=1:2.39.5-0+deb12u2 \
 && rm -rf /var/lib/apt/lists/*
```

## Fix safety
No fix (display-only): dockfix has no resolver. The version a package manager can install
depends on the base image's package index on build day, which dockfix does not read; pinning
a version that later leaves the index breaks the build (Debian and Alpine drop superseded
versions from their indexes). Pin the versions your build was tested with, or pin the base
image by digest (DF202) and let a tool such as Renovate update both. A future resolver option
would make this rule fixable.

## Options
None.

## Resolves
hadolint DL3008 DL3018 DL3013 DL3016 DL3028 · Trivy: none · Checkov: none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

from dockfix.core.fixer import Finding, Fixer, Resolves, Severity, register
from dockfix.fixers._package_managers import (
    CROSS_WRAPPERS,
    PACKAGE_MANAGERS,
    PIP_PROGRAM,
    PYTHON_PROGRAM,
    match_command,
    system_manager,
)
from dockfix.fixers._run_script import analyse_run
from dockfix.fixers._run_text import runs_mentioning, words_pattern
from dockfix.semantics.context import FixContext
from dockfix.semantics.shell import OPTIONS_WITH_VALUE
from dockfix.syntax import Dockerfile, Instruction

_PIP_VCS = ("git+", "git:", "hg+", "svn+", "svn:", "bzr+")
_NPM_GIT = ("git://", "git+ssh://", "git+http://", "git+https://")
_PIP_OPERATORS = ("==", ">=", "<=", ">", "<", "!=", "~=")


def _apt_pinned(pkg: str) -> bool:
    return "=" in pkg or "/" in pkg or pkg.endswith(".deb")


def _apk_pinned(pkg: str) -> bool:
    return "=" in pkg or "~" in pkg or pkg.endswith(".apk")


def _pip_pinned(pkg: str) -> bool:
    if pkg.startswith(_PIP_VCS):
        return "@" in pkg.split("://", 1)[-1]
    return (
        any(op in pkg for op in _PIP_OPERATORS) or pkg.endswith((".whl", ".tar.gz")) or "/" in pkg
    )


def _npm_pinned(pkg: str) -> bool:
    if pkg.startswith(_NPM_GIT):
        return "#" in pkg
    if pkg.endswith((".tar", ".tar.gz", ".tgz")) or pkg.startswith(("/", "./", "../", "~/")):
        return True
    name = pkg.split("/", 1)[1] if pkg.startswith("@") and "/" in pkg else pkg
    return "@" in name


def _gem_pinned(pkg: str) -> bool:
    return ":" in pkg


class _Tool(NamedTuple):
    """How one installer names a version: what it installs with, what pins a package."""

    install: str  # the subcommand that installs named packages
    rule: str  # hadolint's rule for it
    example: str  # a pinned package, `{}` for the name
    pinned: Callable[[str], bool]


# Keyed by the package-manager table's names (`SYSTEM_PACKAGE_MANAGERS`, `PACKAGE_MANAGERS`);
# gem has no row there (no project install of its own: Bundler's is).
_TOOLS: dict[str, _Tool] = {
    "apt": _Tool("install", "DL3008", "{}=<version>", _apt_pinned),
    "apk": _Tool("add", "DL3018", "{}=<version>", _apk_pinned),
    "pip": _Tool("install", "DL3013", "{}==<version>", _pip_pinned),
    "npm": _Tool("install", "DL3016", "{}@<version>", _npm_pinned),
    "gem": _Tool("install", "DL3028", "{}:<version>", _gem_pinned),
}
# Options whose value is not a package, beyond those the shell model knows.
_VALUE_OPTIONS: dict[str, frozenset[str]] = {
    "pip": frozenset(
        {"-e", "--editable", "--src", "--platform", "--python-version", "--implementation"}
        | {"--abi", "--upgrade-strategy", "--progress-bar", "--no-binary", "--only-binary"}
        | {"--trusted-host", "--proxy", "-b", "--build"}
    ),
    "gem": frozenset({"-i", "--install-dir", "-n", "--bindir", "--source", "-s", "--platform"}),
}
# Every installer of `_TOOLS` names one of these (apt-get, apt, aptitude, xx-apk, pip3,
# `python -m pip` …): a RUN without them is not parsed.
_INSTALLER_WORDS = words_pattern("apt", "apk", "pip", "npm", "gem")
_NPM_PROGRAMS = frozenset(PACKAGE_MANAGERS["npm"].executables)
_PIP_SKIPS = ("-r", "--requirement", "-c", "--constraint", ".")


def _operands(args: list[str], takes: frozenset[str]) -> list[str]:
    """The words of ``args`` that are neither options nor option values."""
    out: list[str] = []
    i = 0
    while i < len(args):
        if args[i] == "--":
            out.extend(args[i + 1 :])
            break
        if args[i].startswith("-"):
            i += 2 if args[i] in takes else 1
            continue
        out.append(args[i])
        i += 1
    return out


def _installed(argv: list[str]) -> tuple[str, str, list[str]] | None:
    """(the tool's table name, the program as written, the unpinned packages it names) for a
    command that installs named packages; None for any other command."""
    if not argv:
        return None
    program = argv[0]
    runs = CROSS_WRAPPERS.get(program, program)  # `xx-apk add` installs for the target
    manager = system_manager(runs)
    if manager is not None and runs in manager.programs and manager.name in _TOOLS:
        key = manager.name
    elif program == "gem":
        key = "gem"
    else:
        return _project_installer(argv)
    args = argv[1:]
    if key == "gem" and "--" in args:
        args = args[: args.index("--")]  # what follows is for the gems' build scripts
    words = _operands(args, OPTIONS_WITH_VALUE.get(runs, _VALUE_OPTIONS.get(key, frozenset())))
    if not words or words[0] not in (
        (_TOOLS[key].install, "i") if key == "gem" else (_TOOLS[key].install,)
    ):
        return None
    if key == "gem" and any(a in ("-v", "--version") or a.startswith("--version=") for a in args):
        return None  # the version is given for all the gems named
    return key, program, [w for w in words[1:] if not _TOOLS[key].pinned(w)]


def _project_installer(argv: list[str]) -> tuple[str, str, list[str]] | None:
    """:func:`_installed` for pip and npm, recognised by the package-manager table."""
    if argv[0] not in _NPM_PROGRAMS and not (
        PIP_PROGRAM.match(argv[0]) or PYTHON_PROGRAM.match(argv[0])
    ):
        return None  # neither pip (`pip3`, `python -m pip`) nor npm: not looked up in the table
    match = match_command(argv)
    if match is None or not match.is_install or match.manager.name not in ("pip", "npm"):
        return None
    pm = match.manager
    if pm.name == "pip" and match.subcommand != ("install",):
        return None  # `pip download` and `pip wheel` put nothing in the image
    if match.subcommand and match.subcommand[0] in pm.frozen_subcommands:
        return None  # `npm ci` installs what the lock file says
    args = argv[match.args_index :]
    if pm.name == "pip" and any(
        a in _PIP_SKIPS or a.startswith(("--requirement=", "--constraint=")) for a in args
    ):
        return None  # the versions are the requirement files' (hadolint does the same)
    takes = OPTIONS_WITH_VALUE.get(pm.name, frozenset()) | _VALUE_OPTIONS.get(pm.name, frozenset())
    packages = [w for w in _operands(args, takes) if not _TOOLS[pm.name].pinned(w)]
    return pm.name, argv[match.exe_index], packages


def _named(packages: list[str]) -> str:
    shown = ", ".join(f"`{p}`" for p in packages[:5])
    return shown if len(packages) <= 5 else f"{shown} and {len(packages) - 5} more"


@register
class UnpinnedPackages(Fixer):
    code = "DF108"
    severity = Severity.INFO
    name = "unpinned-packages"
    summary = "Packages installed without a version"
    resolves = Resolves(
        hadolint=("DL3008", "DL3018", "DL3013", "DL3016", "DL3028"), trivy=(), checkov=()
    )

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        per_run: dict[int, tuple[Instruction, dict[tuple[str, str], list[str]]]] = {}
        for owner in runs_mentioning(doc, _INSTALLER_WORDS):
            for script in analyse_run(doc, owner).scripts:
                for cmd in script.parsed.commands:
                    found = _installed(cmd.argv)
                    if found is None or not found[2]:
                        continue
                    key, program, packages = found
                    _, tools = per_run.setdefault(owner.index, (owner, {}))
                    listed = tools.setdefault((key, program), [])
                    listed.extend(p for p in packages if p not in listed)
        for owner, tools in per_run.values():
            parts = [
                f"{_named(packages)} installed by {program} without a version "
                f"(`{_TOOLS[key].example.format(packages[0])}`)"
                for (key, program), packages in tools.items()
            ]
            finding = self.finding(
                owner,
                "; ".join(parts) + ": the image gets whatever the index has on build day",
                reason="no resolver: the version available depends on the base image's package "
                "index on build day, and a pinned version that later leaves the index (Debian "
                "and Alpine drop superseded ones) breaks the build",
            )
            # a pragma or `ignored` entry for one of these rules silences the RUN's finding
            finding.hadolint = tuple(dict.fromkeys(_TOOLS[key].rule for key, _ in tools))
            yield finding
