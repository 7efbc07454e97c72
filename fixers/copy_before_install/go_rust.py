"""DF101 for Go modules (`go mod download`) and Cargo (`cargo fetch`, with stub targets)."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from typing import Any

from dockfix.fixers._package_managers import InstallMatch
from dockfix.fixers.copy_before_install._command import (
    _Cmd,
    _has,
    _load_toml,
    _parse_opts,
    _Plan,
    _Refusal,
    _table,
    _values,
)
from dockfix.fixers.copy_before_install._site import _Site
from dockfix.fixers.copy_before_install._tree import _under


def go(site: _Site, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
    text = cmd.text.strip()
    flags = cmd.env.get("GOFLAGS") or ""
    if "-modfile" in flags or "-C" in cmd.argv[m.exe_index + 1 : m.args_index]:
        return f"`{text}` reads a go.mod dockfix cannot locate"
    if cmd.cwd is None:
        return f"`{text}` runs in a directory dockfix cannot resolve"
    gomod = site.tree.find_up(cmd.cwd, ("go.mod",)) or posixpath.join(cmd.cwd, "go.mod")
    project = posixpath.dirname(gomod)
    plan = _Plan(tool="go")
    plan.need(gomod)
    plan.need(posixpath.join(project, "go.sum"), required=False)
    gowork = cmd.env.get("GOWORK")
    if gowork and gowork != "off":
        plan.blockers.append("GOWORK names a Go workspace")
    if site.tree.blind:
        return plan
    if gowork != "off" and site.tree.find_up(project, ("go.work",)):
        plan.blockers.append("go.work makes this a Go workspace; every module's go.mod is needed")
    text_mod = site.tree.read(gomod) or ""
    for target in re.findall(r"=>\s*(\S+)", text_mod):
        if target.startswith((".", "/")):
            plan.blockers.append(f"go.mod replaces a module with the local path `{target}`")
    return plan


def cargo(site: _Site, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
    opts, _ = _parse_opts(
        cmd.argv[m.args_index :], frozenset({"--manifest-path", "--target", "--color", "-Z"}), 0
    )
    text = cmd.text.strip()
    manifest = _values(opts, "--manifest-path")
    if manifest:
        path = cmd.path(manifest[-1][0])
        start = posixpath.dirname(path) if path else None
    else:
        start = cmd.cwd
    if start is None or cmd.cwd is None:
        return f"`{text}` runs in a directory dockfix cannot resolve"
    toml_path = (
        posixpath.join(start, "Cargo.toml")
        if manifest
        else site.tree.find_up(start, ("Cargo.toml",)) or posixpath.join(start, "Cargo.toml")
    )
    project = posixpath.dirname(toml_path)
    plan = _Plan(tool="cargo")
    plan.need(toml_path)
    lock = posixpath.join(project, "Cargo.lock")
    plan.need(lock, required=False)
    d = project
    while _under(d, site.tree.dest):
        for n in (
            ".cargo/config.toml",
            ".cargo/config",
            "rust-toolchain.toml",
            "rust-toolchain",
        ):
            plan.need(posixpath.join(d, n), required=False)
        if d == site.tree.dest:
            break
        d = posixpath.dirname(d)
    if site.tree.blind:
        return plan
    data = _load_toml(site.tree.read(toml_path))
    if data is None:
        return plan
    _cargo_manifest_blockers(plan, data)
    # cargo reads a manifest only with at least one target: create the default target files
    # empty for the fetch; the full copy replaces them right after.
    stubs = [
        posixpath.join(project, f)
        for f in ("src/main.rs", "src/lib.rs")
        if site.tree.is_file(posixpath.join(project, f))
    ]
    if not stubs and not plan.blockers:
        plan.blockers.append("the package has no src/main.rs or src/lib.rs for cargo to find")
    plan.stubs = stubs
    frozen = _has(opts, "--locked", "--frozen")
    if site.tree.is_file(lock) and not frozen:
        plan.unsafe.append(
            "`cargo fetch` without --locked may update Cargo.lock; after the split the image "
            "keeps the context's Cargo.lock instead"
        )
    return plan


def _cargo_manifest_blockers(plan: _Plan, data: dict[str, Any]) -> None:
    """What in Cargo.toml makes the fetch need more than the manifests: a workspace, declared
    targets, path dependencies."""
    ws = _table(data, "workspace")
    if ws.get("members") or ws.get("default-members"):
        plan.blockers.append("Cargo.toml declares a workspace; every member's Cargo.toml is needed")
    if "workspace" in _table(data, "package"):
        plan.blockers.append("the package belongs to a Cargo workspace")
    for key in ("lib", "bin", "example", "test", "bench"):
        if key in data:
            plan.blockers.append(
                f"Cargo.toml declares [{key}] targets, whose source files cargo needs"
            )
    for table in _cargo_dependency_tables(data):
        for name, spec in table.items():
            if isinstance(spec, dict) and "path" in spec:
                plan.blockers.append(f"`{name}` is a path dependency")


def _cargo_dependency_tables(data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for key in ("dependencies", "dev-dependencies", "build-dependencies"):
        yield _table(data, key)
        yield _table(data, "workspace", key)
    for target in _table(data, "target").values():
        for key in ("dependencies", "dev-dependencies", "build-dependencies"):
            yield _table(target, key)
    for patch in _table(data, "patch").values():
        if isinstance(patch, dict):
            yield patch
    yield _table(data, "replace")


def other_subcommand(
    site: _Site, cmd: _Cmd, sub: str, rest: list[str], plan: _Plan
) -> _Plan | _Refusal | str | None:
    """Go and Cargo subcommands that are not the project install (None: not known)."""
    tool = plan.tool
    if (
        tool == "go"
        and sub == "install"
        and rest
        and all("@" in a for a in rest if not a.startswith("-"))
    ):
        return plan
    if tool == "go" and sub == "env":
        return plan
    if tool == "go" and sub == "mod" and rest[:1] == ["verify"]:
        d = site.tree.find_up(cmd.cwd, ("go.mod",)) if cmd.cwd else None
        if d is not None:
            plan.need(d)
            plan.need(posixpath.join(posixpath.dirname(d), "go.sum"), required=False)
        return plan
    if tool == "cargo" and sub == "install" and "--path" not in rest:
        return plan
    return None
