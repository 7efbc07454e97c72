"""How a command runs a dependency installer: ``match_command`` recognises the tool of
``PACKAGE_MANAGERS`` a command's argv runs (``python -m pip``, ``uv pip`` …) and whether it
installs; ``truthy`` reads a boolean environment variable as the tools do."""

from __future__ import annotations

from typing import NamedTuple

from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._package_managers.installers import PACKAGE_MANAGERS, PackageManager

# pip's and python's program names (`pip3`, `pip3.12`, `python3.12`).
PIP_PROGRAM = lazy_re(r"pip(?:\d+(?:\.\d+)*)?\Z")
PYTHON_PROGRAM = lazy_re(r"python(?:\d+(?:\.\d+)*)?\Z")


class InstallMatch(NamedTuple):
    """A command recognised as a package manager invocation."""

    manager: PackageManager
    subcommand: tuple[str, ...]  # the words that matched (empty for a bare ``yarn``)
    exe_index: int  # index in argv of the executable word (``pip`` in ``python -m pip``)
    args_index: int  # index in argv of the first word after the subcommand
    is_install: bool  # one of ``install_subcommands`` (else another subcommand of the tool)


def _exe_name(word: str) -> str:
    return word.rsplit("/", 1)[-1]


def _subcommand_at(argv: list[str], start: int, pm: PackageManager) -> int:
    """Index of the first argv word after the executable's global options."""
    i = start
    while i < len(argv):
        w = argv[i]
        if not w.startswith("-") or w == "-":
            return i
        if w in pm.global_value_options:
            i += 2
            continue
        i += 1
    return i


def _by_executable() -> dict[str, tuple[PackageManager, ...]]:
    rows: dict[str, list[PackageManager]] = {}
    for pm in PACKAGE_MANAGERS.values():
        for exe in pm.executables:
            rows.setdefault(exe, []).append(pm)
    return {exe: tuple(pms) for exe, pms in rows.items()}


# The rows of each executable, in the table's order (`uv` runs two tools): every RUN's every
# command is looked up, by several fixers.
_BY_EXECUTABLE = _by_executable()


def match_command(argv: list[str]) -> InstallMatch | None:
    """Recognise a package manager in a command's argv (wrappers like ``sudo`` removed).

    ``python -m pip install`` and ``uv pip install`` are recognised; Maven goals and Gradle
    tasks are matched by the fixer itself since they may come in any order.
    """
    if not argv:
        return None
    exe = _exe_name(argv[0])
    exe_index = 0
    candidates: list[PackageManager]
    if PYTHON_PROGRAM.match(exe) and len(argv) >= 3 and argv[1] == "-m":
        module = argv[2]
        exe_index = 2
        if module == "pip":
            candidates = [PACKAGE_MANAGERS["pip"]]
        elif module in ("poetry", "pipenv", "uv"):
            candidates = [PACKAGE_MANAGERS[module]]
            if module == "uv":
                candidates = [PACKAGE_MANAGERS["uv-pip"], PACKAGE_MANAGERS["uv"]]
        else:
            return None
    elif PIP_PROGRAM.match(exe):
        candidates = [PACKAGE_MANAGERS["pip"]]
    else:
        candidates = list(_BY_EXECUTABLE.get(exe, ()))
        if exe.endswith(".phar") and exe != "composer.phar":
            return None
    if not candidates:
        return None
    for pm in candidates:
        sub = _subcommand_at(argv, exe_index + 1, pm)
        words = argv[sub:]
        for form in pm.install_subcommands:
            if form == ():
                # A bare install: no subcommand word, only options (``yarn --frozen-lockfile``).
                if not words:
                    return InstallMatch(pm, (), exe_index, sub, True)
                continue
            if words and words[0] == form[0] and tuple(words[: len(form)]) == form:
                return InstallMatch(pm, form, exe_index, sub + len(form), True)
    pm = candidates[-1]
    sub = _subcommand_at(argv, exe_index + 1, pm)
    return InstallMatch(pm, tuple(argv[sub : sub + 1]), exe_index, sub + 1, False)


def truthy(value: str | None) -> bool:
    """How package managers read boolean environment variables."""
    return value is not None and value.strip().strip("'\"").lower() in (
        "1",
        "true",
        "yes",
        "on",
    )
