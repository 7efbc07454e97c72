"""Which analyzer reads which command: the table of the package managers' dependency
installs (one module per ecosystem), the build tools recognised by their executable, and the
package managers' other subcommands."""

from __future__ import annotations

from collections.abc import Callable

from dockfix.fixers._package_managers import InstallMatch, match_command
from dockfix.fixers.copy_before_install._command import _Cmd, _Plan, _Refusal, _refusal
from dockfix.fixers.copy_before_install._other_commands import helper
from dockfix.fixers.copy_before_install._site import _Site
from dockfix.fixers.copy_before_install.go_rust import cargo, go
from dockfix.fixers.copy_before_install.go_rust import other_subcommand as go_rust_other
from dockfix.fixers.copy_before_install.jvm_dotnet_elixir import dotnet, gradle, maven, mix
from dockfix.fixers.copy_before_install.jvm_dotnet_elixir import (
    other_subcommand as jvm_dotnet_elixir_other,
)
from dockfix.fixers.copy_before_install.node import bun, npm, pnpm, yarn
from dockfix.fixers.copy_before_install.node import other_subcommand as node_other
from dockfix.fixers.copy_before_install.python import other_subcommand as python_other
from dockfix.fixers.copy_before_install.python import pip, pipenv, poetry, uv_sync
from dockfix.fixers.copy_before_install.ruby_php import bundler, composer
from dockfix.fixers.copy_before_install.ruby_php import other_subcommand as ruby_php_other

_Install = Callable[[_Site, _Cmd, InstallMatch], "_Plan | _Refusal | str"]
_Other = Callable[[_Site, _Cmd, str, list[str], _Plan], "_Plan | _Refusal | str | None"]

# The dependency install of each package manager (as `_package_managers` names them).
INSTALLS: dict[str, _Install] = {
    "pip": pip,
    "uv-pip": pip,
    "uv": uv_sync,
    "poetry": poetry,
    "pipenv": pipenv,
    "npm": npm,
    "yarn": yarn,
    "pnpm": pnpm,
    "bun": bun,
    "go": go,
    "cargo": cargo,
    "bundler": bundler,
    "composer": composer,
    "dotnet": dotnet,
    "mix": mix,
}
# Build tools whose dependency resolution is a goal or task, recognised by the executable.
BUILD_TOOLS: dict[str, Callable[[_Site, _Cmd], _Plan | _Refusal | str]] = {
    "mvn": maven,
    "mvnw": maven,
    "gradle": gradle,
    "gradlew": gradle,
}
# The package managers' subcommands that are not the project install.
OTHER_SUBCOMMANDS: dict[str, _Other] = {
    "pip": python_other,
    "uv-pip": python_other,
    "uv": python_other,
    "poetry": python_other,
    "npm": node_other,
    "yarn": node_other,
    "pnpm": node_other,
    "bun": node_other,
    "go": go_rust_other,
    "cargo": go_rust_other,
    "bundler": ruby_php_other,
    "composer": ruby_php_other,
    "mix": jvm_dotnet_elixir_other,
    "dotnet": jvm_dotnet_elixir_other,
}


def plan_command(site: _Site, cmd: _Cmd) -> _Plan | _Refusal:
    """What one command needs and does, by the analyzer of its tool."""
    exe = cmd.argv[0].rsplit("/", 1)[-1]
    build_tool = BUILD_TOOLS.get(exe)
    if build_tool is not None:
        return _refusal(build_tool(site, cmd), True, cmd)
    m = match_command(cmd.argv)
    if m is None:
        return _refusal(helper(site, cmd), False, cmd)
    if not m.is_install:
        return _refusal(other_subcommand(site, cmd, m), False, cmd)
    analyzer = INSTALLS[m.manager.name]
    if m.manager.name not in ("pip", "uv-pip") and m.manager.name in site.earlier:
        return _Refusal(
            f"`{cmd.text.strip()}` runs after an earlier `{m.manager.name}` install of the "
            "manifests, so it installs the project from the full tree",
            False,
        )
    return _refusal(analyzer(site, cmd, m), True, cmd)


def other_subcommand(site: _Site, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
    """Subcommands of package managers that are not the project install."""
    rest = cmd.argv[m.args_index :]
    sub = m.subcommand[0] if m.subcommand else ""
    plan = _Plan(tool=m.manager.name, installs=False)
    analyzer = OTHER_SUBCOMMANDS.get(m.manager.name)
    found = analyzer(site, cmd, sub, rest, plan) if analyzer is not None else None
    return f"`{cmd.text.strip()}`" if found is None else found
