"""Commands that are not a dependency install but may stand beside one: system package
managers, file utilities, user management, downloads, virtualenvs. Fine before the full copy
when they read and write nothing of the copied tree."""

from __future__ import annotations

import re

from dockfix.fixers._package_managers import system_manager
from dockfix.fixers.copy_before_install._command import _Cmd, _glob_prefix, _Plan, _Refusal, _venv
from dockfix.fixers.copy_before_install._site import _Site
from dockfix.fixers.copy_before_install._tree import _join


def helper(site: _Site, cmd: _Cmd) -> _Plan | _Refusal | str:
    argv = cmd.argv
    exe = argv[0].rsplit("/", 1)[-1]
    reader = f"`{cmd.text.strip()}`"
    plan = _Plan(tool=exe, installs=False)
    args = argv[1:]
    if system_manager(exe) is not None or exe == "tdnf":
        for a in args:
            if not a.startswith("-") and ("/" in a or a.endswith((".deb", ".rpm", ".apk"))):
                return reader
        return plan
    if exe in ("echo", "true", ":", "sleep"):
        return plan
    if exe in ("rm", "mkdir", "chmod", "chown", "touch", "ln"):
        operands = [a for a in args if not a.startswith("-")]
        if exe in ("chmod", "chown"):
            operands = operands[1:]
        for a in operands:
            p = cmd.path(_glob_prefix(a))
            if p is None or not p.startswith("/") or site.touches_tree(p):
                return reader
            if not a.startswith(("/", "~", "$", '"$')):
                return reader  # relative to the working directory, which is in the tree
        return plan
    if exe in ("useradd", "adduser", "groupadd", "addgroup", "usermod"):
        for i, a in enumerate(args):
            if a in ("-d", "--home-dir", "-h", "--home") and i + 1 < len(args):
                p = cmd.path(args[i + 1])
                if p is None or site.touches_tree(p):
                    return reader
        return plan
    if exe in ("gem",) and args[:1] in (["install"], ["update"]):
        if any("/" in a or a.endswith(".gem") for a in args[1:] if not a.startswith("-")):
            return reader
        return plan
    if exe == "corepack" and args[:1] in (["enable"], ["disable"], ["prepare"]):
        if args[:1] == ["prepare"] and not any("@" in a for a in args[1:]):
            return reader  # `corepack prepare` without a version reads package.json
        return plan
    if exe == "rustup":
        if cmd.cwd is not None:
            for n in ("rust-toolchain.toml", "rust-toolchain"):
                plan.need(_join(cmd.cwd, n), required=False)
        return plan
    if exe in ("git",) and args[:2] == ["config", "--global"]:
        return plan
    if exe in ("curl", "wget"):
        return download(site, cmd, plan)
    if re.fullmatch(r"python(\d+(\.\d+)*)?", exe) and args[:2] == ["-m", "venv"]:
        return _venv(cmd, plan, [a for a in args[2:] if not a.startswith("-")])
    if exe == "virtualenv":
        return _venv(cmd, plan, [a for a in args if not a.startswith("-")])
    return reader


def download(site: _Site, cmd: _Cmd, plan: _Plan) -> _Plan | _Refusal | str:
    args = cmd.argv[1:]
    exe = cmd.argv[0].rsplit("/", 1)[-1]
    out_opts = ("-o", "--output") if exe == "curl" else ("-O", "--output-document", "-P")
    target = None
    for i, a in enumerate(args):
        if a in out_opts and i + 1 < len(args):
            target = args[i + 1]
        elif a.startswith(tuple(o + "=" for o in out_opts if o.startswith("--"))):
            target = a.split("=", 1)[1]
        elif a in ("-T", "--upload-file", "-d", "--data", "--data-binary", "-F", "--form"):
            return f"`{cmd.text.strip()}`"
        elif exe == "wget" and a.startswith("-") and not a.startswith("--") and "O" in a:
            target = args[i + 1] if i + 1 < len(args) else None
    if exe == "wget" and target is None:
        return f"`{cmd.text.strip()}`"  # wget writes into the working directory
    if target is not None and target != "-":
        p = cmd.path(target)
        if p is None or not target.startswith("/") or site.touches_tree(p):
            return f"`{cmd.text.strip()}`"
    return plan
