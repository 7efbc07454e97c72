"""DF101 for JavaScript: npm, Yarn (classic and Berry), pnpm and Bun; package.json's
lifecycle scripts, workspaces and local dependencies."""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator
from typing import Any

from dockfix.fixers._package_managers import InstallMatch, truthy
from dockfix.fixers.copy_before_install._command import (
    _Cmd,
    _has,
    _load_json,
    _parse_opts,
    _Plan,
    _Refusal,
    _table,
    _values,
    _words,
)
from dockfix.fixers.copy_before_install._site import _Site
from dockfix.fixers.copy_before_install._tree import _join

_NODE_LIFECYCLE: tuple[str, ...] = (
    "preinstall",
    "install",
    "postinstall",
    "prepublish",
    "preprepare",
    "prepare",
    "postprepare",
)


def node_project(site: _Site, cmd: _Cmd, explicit: str | None) -> tuple[str, str] | None:
    """(package.json, its directory) for a Node install run from ``cmd``'s directory
    (or the one its ``--cwd``/``--prefix`` names); None when it cannot be resolved."""
    start = site.project_dir(cmd, explicit)
    if start is None:
        return None
    pkg_json = site.tree.find_up(start, ("package.json",)) or posixpath.join(start, "package.json")
    return pkg_json, posixpath.dirname(pkg_json)


def node_package(
    site: _Site,
    plan: _Plan,
    project: str,
    *,
    ignore_scripts: bool,
    tool: str,
    lifecycle: tuple[str, ...] | None = None,
) -> dict[str, Any] | None:
    """Read package.json and record what makes the install need more than manifests."""
    pkg_path = posixpath.join(project, "package.json")
    if site.tree.blind:
        return None
    text = site.tree.read(pkg_path)
    pkg = _load_json(text)
    if pkg is None:
        if text is not None:
            plan.blockers.append("package.json does not parse")
        return None
    if pkg.get("workspaces"):
        plan.blockers.append(
            "package.json declares workspaces; the install needs every member's "
            "package.json (a monorepo)"
        )
    raw_scripts = pkg.get("scripts")
    scripts: dict[str, Any] = raw_scripts if isinstance(raw_scripts, dict) else {}
    if not ignore_scripts:
        for name in lifecycle or _NODE_LIFECYCLE:
            if name in scripts:
                plan.blockers.append(
                    f"`{tool}` runs the `{name}` script from package.json "
                    f"(`{scripts[name]}`), which may read the project"
                )
        if (
            "install" not in scripts
            and "preinstall" not in scripts
            and site.tree.is_file(posixpath.join(project, "binding.gyp"))
        ):
            plan.blockers.append("binding.gyp makes the install build the native addon")
    for key in (
        "dependencies",
        "devDependencies",
        "optionalDependencies",
        "overrides",
        "resolutions",
    ):
        for name, spec in _flatten_deps(pkg.get(key)):
            s = spec.strip()
            if s.startswith(
                ("file:", "link:", "portal:", "workspace:", "./", "../", "/", "~/")
            ) or (s.endswith((".tgz", ".tar.gz")) and "://" not in s):
                plan.blockers.append(f"`{name}` is a local dependency (`{s}`)")
    return pkg


def npmrc_ignores_scripts(site: _Site, project: str) -> bool:
    text = site.tree.read(posixpath.join(project, ".npmrc")) or ""
    return bool(re.search(r"(?m)^\s*ignore-scripts\s*=\s*true\s*$", text))


_NPM_VALUE_OPTS: frozenset[str] = (
    _words("""--prefix -C -w --workspace --omit --include --registry --cache --loglevel
    --install-strategy --userconfig --globalconfig --before --tag --only --also
    --audit-level --cpu --os --libc""")
)


def npm(site: _Site, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
    sub = m.subcommand[0]
    opts, pos = _parse_opts(cmd.argv[m.args_index :], _NPM_VALUE_OPTS, 0)
    text = cmd.text.strip()
    if pos:
        return _Refusal(f"`{text}` adds packages to package.json", False)
    if _has(opts, "-g", "--global") or any(v == "global" for v, _ in opts.get("--location", [])):
        return _Refusal(f"`{text}` installs the project globally", False)
    if _has(opts, "-w", "--workspace", "--workspaces", "-ws"):
        return f"`{text}` installs workspaces (a monorepo)"
    prefix = _values(opts, "--prefix", "-C")
    found = node_project(site, cmd, prefix[-1][0] if prefix else None)
    if found is None:
        return f"`{text}` runs in a directory dockfix cannot resolve"
    pkg_json, project = found
    ci = sub in m.manager.frozen_subcommands
    plan = _Plan(tool="npm")
    plan.need(pkg_json)
    lock = posixpath.join(project, "package-lock.json")
    shrinkwrap = posixpath.join(project, "npm-shrinkwrap.json")
    plan.need(lock, required=False)
    plan.need(shrinkwrap, required=False)
    plan.need(posixpath.join(project, ".npmrc"), required=False)
    plan.writes.append(posixpath.join(project, "node_modules"))
    if site.tree.blind:
        return plan
    ignore = (
        any(v in ("", "true") for v, _ in opts.get("--ignore-scripts", []))
        or any(
            truthy(cmd.env.get(v))
            for v in ("npm_config_ignore_scripts", "NPM_CONFIG_IGNORE_SCRIPTS")
        )
        or npmrc_ignores_scripts(site, project)
    )
    node_package(site, plan, project, ignore_scripts=ignore, tool=f"npm {sub}")
    has_lock = site.tree.is_file(lock) or site.tree.is_file(shrinkwrap)
    if ci and not has_lock and site.tree.state(lock) != "excluded":
        plan.blockers.append("`npm ci` needs package-lock.json, and the context has none")
    if ci and site.tree.state(lock) == "excluded":
        plan.blockers.append("`.dockerignore` excludes package-lock.json, which `npm ci` needs")
    frozen = (
        ci
        or _has(opts, "--no-package-lock")
        or any(v == "false" for v, _ in opts.get("--package-lock", []))
    )
    if has_lock and not frozen:
        plan.unsafe.append(
            f"`{text}` may rewrite package-lock.json; after the split the image keeps the "
            "context's lock file instead (`npm ci` never rewrites it)"
        )
    return plan


_YARN_VALUE_OPTS: frozenset[str] = _words(
    "--cwd --network-timeout --modules-folder --cache-folder --mutex --registry --mode"
)


def yarn(site: _Site, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
    opts, pos = _parse_opts(cmd.argv[m.exe_index + 1 :], _YARN_VALUE_OPTS, 0)
    text = cmd.text.strip()
    pos = [p for p in pos if p[0] != "install"]
    if pos:
        return _Refusal(f"`{text}` is not a plain install", False)
    cwd_opt = _values(opts, "--cwd")
    found = node_project(site, cmd, cwd_opt[-1][0] if cwd_opt else None)
    if found is None:
        return f"`{text}` runs in a directory dockfix cannot resolve"
    pkg_json, project = found
    plan = _Plan(tool="yarn")
    plan.need(pkg_json)
    lock = posixpath.join(project, "yarn.lock")
    plan.need(lock, required=False)
    modules = _values(opts, "--modules-folder")
    plan.writes.append(
        cmd.path(modules[-1][0]) or "" if modules else posixpath.join(project, "node_modules")
    )
    if site.tree.blind:
        plan.need(posixpath.join(project, ".yarnrc.yml"), required=False)
        return plan
    rc_yml_path = posixpath.join(project, ".yarnrc.yml")
    rc_yml = site.tree.read(rc_yml_path)
    pkg = _load_json(site.tree.read(pkg_json)) or {}
    manager = str(pkg.get("packageManager", ""))
    lock_text = site.tree.read(lock) or ""
    berry = (
        rc_yml is not None
        or bool(re.match(r"yarn@([2-9]|\d{2,})", manager))
        or "__metadata:" in lock_text[:2000]
    )
    frozen_flag = _has(opts, "--frozen-lockfile", "--pure-lockfile", "--immutable")
    if berry:
        frozen = _yarn_berry(site, cmd, plan, project, pkg, rc_yml) or frozen_flag
    else:
        frozen = _yarn_classic(site, cmd, opts, plan, project) or frozen_flag
    if site.tree.is_file(lock) and not frozen:
        plan.unsafe.append(
            f"`{text}` may rewrite yarn.lock; after the split the image keeps the context's "
            "yarn.lock instead (use --frozen-lockfile, or --immutable with Yarn 2+)"
        )
    return plan


def _yarn_berry(
    site: _Site, cmd: _Cmd, plan: _Plan, project: str, pkg: dict[str, Any], rc_yml: str | None
) -> bool:
    """Yarn 2+ (Berry): its configuration, Plug'n'Play files, patches and committed cache;
    whether the install is immutable by configuration."""
    plan.need(posixpath.join(project, ".yarnrc.yml"), required=False)
    plan.need(posixpath.join(project, ".env.yarn"), required=False)
    for rel in _yarnrc_paths(rc_yml or ""):
        plan.need(_join(project, rel))
    for rel in _patch_paths(json.dumps(pkg)):
        plan.need(_join(project, rel))
    for out in (
        ".pnp.cjs",
        ".pnp.loader.mjs",
        ".yarn/install-state.gz",
        ".yarn/unplugged",
        ".yarn/build-state.yml",
    ):
        plan.writes.append(posixpath.join(project, out))
    if site.tree.brings(posixpath.join(project, ".yarn/cache")):
        plan.blockers.append(
            "the project commits its Yarn cache (.yarn/cache, zero-installs), which the "
            "install reads and rewrites"
        )
    node_package(
        site,
        plan,
        project,
        ignore_scripts=False,
        tool="yarn install",
        lifecycle=("preinstall", "install", "postinstall", "prepare"),
    )
    return truthy(cmd.env.get("YARN_ENABLE_IMMUTABLE_INSTALLS")) or bool(
        re.search(r"(?m)^enableImmutableInstalls:\s*true", rc_yml or "")
    )


def _yarn_classic(
    site: _Site, cmd: _Cmd, opts: dict[str, list[tuple[str, int]]], plan: _Plan, project: str
) -> bool:
    """Yarn 1: .yarnrc and .npmrc, its lifecycle scripts; whether the lock file is frozen by
    configuration."""
    plan.need(posixpath.join(project, ".yarnrc"), required=False)
    plan.need(posixpath.join(project, ".npmrc"), required=False)
    rc = site.tree.read(posixpath.join(project, ".yarnrc")) or ""
    mpath = re.search(r'(?m)^\s*yarn-path\s+"?([^"\n]+)"?', rc)
    if mpath:
        plan.need(_join(project, mpath.group(1).strip()))
    if re.search(r"(?m)^\s*yarn-offline-mirror\s", rc):
        plan.blockers.append("the install reads the offline mirror named in .yarnrc")
    ignore = (
        _has(opts, "--ignore-scripts")
        or npmrc_ignores_scripts(site, project)
        or bool(re.search(r"(?m)^\s*ignore-scripts\s+true", rc))
    )
    node_package(
        site,
        plan,
        project,
        ignore_scripts=ignore,
        tool="yarn install",
        lifecycle=("preinstall", "install", "postinstall", "prepublish", "prepare"),
    )
    return truthy(cmd.env.get("YARN_FROZEN_LOCKFILE")) or bool(
        re.search(r"(?m)^\s*(--install\.)?frozen-lockfile\s+true", rc)
    )


_PNPM_VALUE_OPTS: frozenset[str] = _words("-C --dir --filter -F --store-dir --reporter")


def pnpm(site: _Site, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
    sub = m.subcommand[0]
    opts, pos = _parse_opts(cmd.argv[m.args_index :], _PNPM_VALUE_OPTS, 0)
    text = cmd.text.strip()
    if pos:
        return _Refusal(f"`{text}` adds packages to package.json", False)
    if _has(opts, "-g", "--global"):
        return _Refusal(f"`{text}` installs the project globally", False)
    if _has(opts, "-r", "--recursive", "--filter", "-F"):
        return f"`{text}` installs workspace packages (a monorepo)"
    gdir = _values(opts, "-C", "--dir")
    start = site.project_dir(cmd, gdir[-1][0] if gdir else None)
    if start is None:
        return f"`{text}` runs in a directory dockfix cannot resolve"
    fetch = sub == "fetch"
    names = ("pnpm-lock.yaml",) if fetch else ("package.json",)
    found = site.tree.find_up(start, names) or posixpath.join(start, names[0])
    project = posixpath.dirname(found)
    lock = posixpath.join(project, "pnpm-lock.yaml")
    plan = _Plan(tool="pnpm")
    if not fetch:  # `pnpm fetch` reads the lock file only
        plan.need(found)
    else:
        # ... but corepack picks the pnpm version from package.json's `packageManager`:
        # without it the early fetch could run another pnpm than the rest of the build.
        manifest = posixpath.join(project, "package.json")
        if '"packageManager"' in (site.tree.read(manifest) or ""):
            plan.need(manifest)
    plan.need(lock, required=fetch)
    plan.need(posixpath.join(project, ".npmrc"), required=False)
    plan.need(posixpath.join(project, "pnpm-workspace.yaml"), required=False)
    if fetch:
        return plan
    plan.writes.append(posixpath.join(project, "node_modules"))
    if site.tree.blind:
        return plan
    _pnpm_project_files(site, opts, plan, project)
    frozen = _has(opts, "--frozen-lockfile") or truthy(cmd.env.get("npm_config_frozen_lockfile"))
    if site.tree.is_file(lock) and not frozen:
        plan.unsafe.append(
            f"`{text}` may rewrite pnpm-lock.yaml; after the split the image keeps the "
            "context's lock file instead (use --frozen-lockfile)"
        )
    return plan


def _pnpm_project_files(
    site: _Site, opts: dict[str, list[tuple[str, int]]], plan: _Plan, project: str
) -> None:
    """What `pnpm install` reads beside package.json: the workspace file, .pnpmfile.cjs,
    patches, lifecycle scripts."""
    ws = site.tree.read(posixpath.join(project, "pnpm-workspace.yaml")) or ""
    if re.search(r"(?m)^packages\s*:", ws):
        plan.blockers.append("pnpm-workspace.yaml lists workspace packages (a monorepo)")
    if re.search(r"(?m)^patchedDependencies\s*:", ws):
        plan.blockers.append("pnpm-workspace.yaml patches dependencies")
    pnpmfile = posixpath.join(project, ".pnpmfile.cjs")
    if site.tree.is_file(pnpmfile) and not _has(opts, "--ignore-pnpmfile"):
        if re.search(r"require\(\s*['\"]\.", site.tree.read(pnpmfile) or ""):
            plan.blockers.append(".pnpmfile.cjs loads other project files")
        plan.need(pnpmfile)
    ignore = _has(opts, "--ignore-scripts") or npmrc_ignores_scripts(site, project)
    pkg = node_package(
        site,
        plan,
        project,
        ignore_scripts=ignore,
        tool="pnpm install",
        lifecycle=("preinstall", "install", "postinstall", "prepare"),
    )
    for rel in _table(pkg, "pnpm", "patchedDependencies").values():
        if isinstance(rel, str):
            plan.need(_join(project, rel))


def bun(site: _Site, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
    sub = m.subcommand[0]
    opts, pos = _parse_opts(cmd.argv[m.args_index :], frozenset({"--cwd", "--backend"}), 0)
    text = cmd.text.strip()
    if pos:
        return _Refusal(f"`{text}` adds packages to package.json", False)
    if _has(opts, "-g", "--global"):
        return _Refusal(f"`{text}` installs the project globally", False)
    cwd_opt = _values(opts, "--cwd")
    found = node_project(site, cmd, cwd_opt[-1][0] if cwd_opt else None)
    if found is None:
        return f"`{text}` runs in a directory dockfix cannot resolve"
    pkg_json, project = found
    plan = _Plan(tool="bun")
    plan.need(pkg_json)
    locks = [posixpath.join(project, n) for n in ("bun.lock", "bun.lockb")]
    for lk in locks:
        plan.need(lk, required=False)
    plan.need(posixpath.join(project, "bunfig.toml"), required=False)
    plan.need(posixpath.join(project, ".npmrc"), required=False)
    plan.writes.append(posixpath.join(project, "node_modules"))
    if site.tree.blind:
        return plan
    pkg = node_package(
        site,
        plan,
        project,
        ignore_scripts=_has(opts, "--ignore-scripts"),
        tool="bun install",
        lifecycle=("preinstall", "install", "postinstall", "prepare"),
    )
    for rel in (
        (pkg or {}).get("patchedDependencies", {}).values()
        if isinstance((pkg or {}).get("patchedDependencies"), dict)
        else []
    ):
        if isinstance(rel, str):
            plan.need(_join(project, rel))
    bunfig = site.tree.read(posixpath.join(project, "bunfig.toml")) or ""
    frozen = (
        sub == "ci"
        or _has(opts, "--frozen-lockfile")
        or bool(re.search(r"(?m)^\s*frozenLockfile\s*=\s*true", bunfig))
    )
    if any(site.tree.is_file(lk) for lk in locks) and not frozen:
        plan.unsafe.append(
            f"`{text}` may rewrite the bun lock file; after the split the image keeps the "
            "context's lock file instead (use --frozen-lockfile)"
        )
    return plan


def other_subcommand(
    site: _Site, cmd: _Cmd, sub: str, rest: list[str], plan: _Plan
) -> _Plan | _Refusal | str | None:
    """npm, Yarn, pnpm and Bun subcommands that are not the project install (None: not known)."""
    tool = plan.tool
    global_flag = any(a in ("-g", "--global", "--location=global") for a in rest)
    if tool in ("npm", "pnpm", "bun") and sub in ("install", "i", "add") and global_flag:
        return plan
    if tool == "npm" and sub in ("config", "set", "cache"):
        return plan
    if tool == "pnpm" and (sub in ("store",) or (sub == "config" and global_flag)):
        return plan
    if tool == "yarn" and sub == "global":
        return plan
    if tool == "yarn" and sub == "cache" and rest[:1] == ["clean"]:
        return plan
    if tool == "yarn" and sub == "config" and any(a in ("-H", "--home") for a in rest):
        return plan
    if tool == "bun" and sub == "pm" and rest[:1] == ["cache"]:
        return plan
    return None


def _flatten_deps(value: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    if not isinstance(value, dict):
        return
    for k, v in value.items():
        if isinstance(v, str):
            yield prefix + k, v
        elif isinstance(v, dict):
            yield from _flatten_deps(v, prefix + k + ">")


def _yarnrc_paths(text: str) -> list[str]:
    """Files a Berry .yarnrc.yml points at: yarnPath and plugin paths."""
    out = [m.strip().strip("'\"") for m in re.findall(r"(?m)^yarnPath:\s*(.+)$", text)]
    out += [m.strip().strip("'\"") for m in re.findall(r"(?m)^\s*-?\s*path:\s*(.+)$", text)]
    return [p for p in out if p]


def _patch_paths(text: str) -> list[str]:
    """Patch files named by ``patch:`` dependencies (``#~/.yarn/patches/x.patch``)."""
    out = []
    for m in re.findall(r"patch:[^\"]*?#(?:~/)?((?:\./)?[^\"&:]+\.patch)", text):
        out.append(m)
    return out
