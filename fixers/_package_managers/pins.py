"""Which packages an install command names without a version, read as hadolint reads them
(DL3008, DL3018, DL3013, DL3016, DL3028): DF108 reports them, DF106 does not rewrite an `apt
install` into an `apt-get install` hadolint would then report."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from dockfix.fixers._package_managers.commands import PIP_PROGRAM, PYTHON_PROGRAM, match_command
from dockfix.fixers._package_managers.installers import PACKAGE_MANAGERS
from dockfix.fixers._package_managers.system import CROSS_WRAPPERS, system_manager
from dockfix.semantics.shell import OPTIONS_WITH_VALUE

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


class PinRule(NamedTuple):
    """How one installer names a version: what it installs with, what pins a package."""

    install: str  # the subcommand that installs named packages
    rule: str  # hadolint's rule for it
    example: str  # a pinned package, `{}` for the name
    pinned: Callable[[str], bool]


# Keyed by the package-manager table's names (`SYSTEM_PACKAGE_MANAGERS`, `PACKAGE_MANAGERS`);
# gem has no row there (no project install of its own: Bundler's is).
PIN_RULES: dict[str, PinRule] = {
    "apt": PinRule("install", "DL3008", "{}=<version>", _apt_pinned),
    "apk": PinRule("add", "DL3018", "{}=<version>", _apk_pinned),
    "pip": PinRule("install", "DL3013", "{}==<version>", _pip_pinned),
    "npm": PinRule("install", "DL3016", "{}@<version>", _npm_pinned),
    "gem": PinRule("install", "DL3028", "{}:<version>", _gem_pinned),
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


class UnpinnedInstall(NamedTuple):
    """An install command and the packages it names without a version (maybe none)."""

    tool: str  # its key in PIN_RULES: "apt", "apk", "pip", "npm", "gem"
    program: str  # as written: "apt-get", "xx-apk", "pip3"
    packages: list[str]


def unpinned_install(argv: list[str]) -> UnpinnedInstall | None:
    """The install a command runs, with the packages it names unpinned; None for a command
    that installs no named package."""
    if not argv:
        return None
    program = argv[0]
    runs = CROSS_WRAPPERS.get(program, program)  # `xx-apk add` installs for the target
    manager = system_manager(runs)
    if manager is not None and runs in manager.programs and manager.name in PIN_RULES:
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
        (PIN_RULES[key].install, "i") if key == "gem" else (PIN_RULES[key].install,)
    ):
        return None
    if key == "gem" and any(a in ("-v", "--version") or a.startswith("--version=") for a in args):
        return None  # the version is given for all the gems named
    return UnpinnedInstall(key, program, [w for w in words[1:] if not PIN_RULES[key].pinned(w)])


def _project_installer(argv: list[str]) -> UnpinnedInstall | None:
    """:func:`unpinned_install` for pip and npm, recognised by the package-manager table."""
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
    packages = [w for w in _operands(args, takes) if not PIN_RULES[pm.name].pinned(w)]
    return UnpinnedInstall(pm.name, argv[match.exe_index], packages)
