"""Which packages an install command names without a version, read as hadolint reads them
(DL3008, DL3018, DL3013, DL3016, DL3028, DL3033, DL3037, DL3041; uv has no hadolint rule):
DF108 reports them, DF106 does not rewrite an `apt install` into an `apt-get install` hadolint
would then report."""

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


# The architectures an RPM spec may end with (`curl-8.6.0-1.el9.x86_64`, `tzdata.noarch`).
_RPM_ARCHES = (".x86_64", ".aarch64", ".noarch", ".i686", ".ppc64le", ".s390x", ".src")


def _rpm_pinned(pkg: str) -> bool:
    """dnf, yum, microdnf and zypper: a version after the name (`curl-8.6.0`,
    `curl-8.6.0-1.el9`, `nginx-1:1.20.1`), a version relation (`curl = 8.6.0`, `curl>=8`), or
    no package of the index: an `.rpm` file or URL, a group (`@development-tools`)."""
    if any(op in pkg for op in "=<>") or pkg.endswith(".rpm") or "://" in pkg:
        return True
    if pkg.startswith("@"):
        return True
    for arch in _RPM_ARCHES:
        if pkg.endswith(arch):
            pkg = pkg[: -len(arch)]
            break
    # a name has no word starting with a digit after its last `-` (`python3-pip`,
    # `java-17-openjdk`), a version or a release does (`8.6.0`, `1.el9`)
    head, _, last = pkg.rpartition("-")
    return bool(head) and last[:1].isdigit()


class PinRule(NamedTuple):
    """How one installer names a version: what it installs with, what pins a package."""

    # The subcommands (their last word: `install` of `uv pip install`) that install the
    # packages named after them; () for npm: the table's installs that read no lock file.
    installs: tuple[str, ...]
    rule: str  # hadolint's rule for it ("" where hadolint has none)
    example: str  # a pinned package, `{}` for the name
    pinned: Callable[[str], bool]


# Keyed by the package-manager table's names (`SYSTEM_PACKAGE_MANAGERS`, `PACKAGE_MANAGERS`);
# gem has no row there (no project install of its own: Bundler's is).
PIN_RULES: dict[str, PinRule] = {
    "apt": PinRule(("install",), "DL3008", "{}=<version>", _apt_pinned),
    "apk": PinRule(("add",), "DL3018", "{}=<version>", _apk_pinned),
    "dnf": PinRule(("install",), "DL3041", "{}-<version>", _rpm_pinned),
    "microdnf": PinRule(("install",), "DL3041", "{}-<version>", _rpm_pinned),
    "yum": PinRule(("install",), "DL3033", "{}-<version>", _rpm_pinned),
    "zypper": PinRule(("install", "in"), "DL3037", "{}=<version>", _rpm_pinned),
    "pip": PinRule(("install",), "DL3013", "{}==<version>", _pip_pinned),
    "uv-pip": PinRule(("install",), "", "{}==<version>", _pip_pinned),
    "uv": PinRule(("add",), "", "{}==<version>", _pip_pinned),
    "npm": PinRule((), "DL3016", "{}@<version>", _npm_pinned),
    "gem": PinRule(("install", "i"), "DL3028", "{}:<version>", _gem_pinned),
}
# Options whose value is not a package, beyond those the shell model knows.
_UV_VALUE_OPTIONS = frozenset(
    {"-r", "--requirement", "-c", "--constraint", "--override", "-p"}
    | {"--python", "-i", "--index-url", "--extra-index-url", "--index", "--default-index"}
    | {"-f", "--find-links", "--target", "--prefix", "--python-version", "--python-platform"}
    | {"--resolution", "--prerelease", "--index-strategy", "--keyring-provider", "-C"}
    | {"--config-setting", "--no-binary", "--only-binary", "--link-mode", "--exclude-newer"}
    | {"-P", "--upgrade-package", "--reinstall-package", "--cache-dir", "--config-file"}
    | {"--directory", "--project", "--extra", "--group", "--optional", "--package"}
    | {"--script", "--bounds", "--tag", "--branch", "--rev", "-m", "--marker"}
)
_RPM_VALUE_OPTIONS = frozenset(
    {"--from-repo", "--forcearch", "--advisory", "--advisories", "--bz", "--bzs", "--cve"}
    | {"--cves", "--secseverity", "--downloaddir", "--destdir", "-d", "--debuglevel", "-e"}
    | {"--errorlevel", "--color", "--rpmverbosity", "--comment", "--disableplugin"}
    | {"--enableplugin", "--repofrompath", "--excludepkgs"}
)
_VALUE_OPTIONS: dict[str, frozenset[str]] = {
    "pip": frozenset(
        {"-e", "--editable", "--src", "--platform", "--python-version", "--implementation"}
        | {"--abi", "--upgrade-strategy", "--progress-bar", "--no-binary", "--only-binary"}
        | {"--trusted-host", "--proxy", "-b", "--build"}
    ),
    "uv-pip": _UV_VALUE_OPTIONS | {"-e", "--editable"},  # a flag of `uv add`
    "uv": _UV_VALUE_OPTIONS,
    "dnf": _RPM_VALUE_OPTIONS,
    "yum": _RPM_VALUE_OPTIONS,
    "microdnf": _RPM_VALUE_OPTIONS,
    "gem": frozenset({"-i", "--install-dir", "-n", "--bindir", "--source", "-s", "--platform"}),
}
# zypper's options mean other things before and after the subcommand (`-C` is `--cache-dir`
# before it, `--capability` after): these take a value after it.
_ZYPPER_INSTALL_VALUE_OPTIONS = frozenset({"-t", "--type", "-r", "--repo", "--from", "--download"})
_NPM_PROGRAMS = frozenset(PACKAGE_MANAGERS["npm"].executables)
_UV_PROGRAMS = frozenset(PACKAGE_MANAGERS["uv"].executables)
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


def _subcommand_index(args: list[str], takes: frozenset[str]) -> int:
    """The index in ``args`` of the first word that is neither an option nor its value."""
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] != "--":
        i += 2 if args[i] in takes else 1
    return i


class UnpinnedInstall(NamedTuple):
    """An install command and the packages it names without a version (maybe none)."""

    tool: str  # its key in PIN_RULES: "apt", "apk", "dnf", "zypper", "pip", "uv", "npm" …
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
    known = OPTIONS_WITH_VALUE.get(runs, frozenset())
    takes = known | _VALUE_OPTIONS.get(key, frozenset())
    sub = _subcommand_index(args, takes)
    if sub >= len(args) or args[sub] not in PIN_RULES[key].installs:
        return None
    if key == "zypper":
        takes = _ZYPPER_INSTALL_VALUE_OPTIONS
        if _zypper_type(args[sub + 1 :]) not in ("package", "srcpackage"):
            return None  # a pattern, patch or product: no package version to name
    words = _operands(args[sub + 1 :], takes)
    if key == "gem" and any(a in ("-v", "--version") or a.startswith("--version=") for a in args):
        return None  # the version is given for all the gems named
    # A variable (`$PHPIZE_DEPS`) names packages this file does not show: pinned or not.
    unpinned = [w for w in words if "$" not in w and not PIN_RULES[key].pinned(w)]
    return UnpinnedInstall(key, program, unpinned)


def _zypper_type(args: list[str]) -> str:
    """The kind of thing `zypper install` installs (`-t pattern`): `package` by default."""
    kind = "package"
    for i, arg in enumerate(args):
        if arg in ("-t", "--type") and i + 1 < len(args):
            kind = args[i + 1]
        elif arg.startswith("--type="):
            kind = arg.partition("=")[2]
    return kind


def _project_installer(argv: list[str]) -> UnpinnedInstall | None:
    """:func:`unpinned_install` for pip, uv and npm, recognised by the package-manager table."""
    if argv[0] not in _NPM_PROGRAMS | _UV_PROGRAMS and not (
        PIP_PROGRAM.match(argv[0]) or PYTHON_PROGRAM.match(argv[0])
    ):
        return None  # neither pip (`pip3`, `python -m pip`), uv nor npm: not looked up
    match = match_command(argv)
    if match is None or match.manager.name not in PIN_RULES or not match.subcommand:
        return None
    pm = match.manager
    installs = PIN_RULES[pm.name].installs
    if installs and match.subcommand[-1] not in installs:
        return None  # `pip download`, `uv pip sync`: nothing named is put in the image
    if not installs and (not match.is_install or match.subcommand[0] in pm.frozen_subcommands):
        return None  # `npm ci` installs what the lock file says
    args = argv[match.args_index :]
    if pm.name != "npm" and any(
        a in _PIP_SKIPS or a.startswith(("--requirement=", "--constraint=")) for a in args
    ):
        return None  # the versions are the requirement files' (hadolint does the same)
    takes = OPTIONS_WITH_VALUE.get(pm.name, frozenset()) | _VALUE_OPTIONS.get(pm.name, frozenset())
    packages = [w for w in _operands(args, takes) if not PIN_RULES[pm.name].pinned(w)]
    return UnpinnedInstall(pm.name, argv[match.exe_index], packages)
