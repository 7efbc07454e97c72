"""DF101 for Ruby (Bundler: the Gemfile, frozen and deployment modes) and PHP (Composer:
scripts, autoloading, plugins, path repositories)."""

from __future__ import annotations

import posixpath
import re
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


def bundle_config(site: _Site, cmd: _Cmd, rest: list[str], plan: _Plan) -> _Plan:
    if "--local" in rest and not cmd.env.get("BUNDLE_APP_CONFIG") and cmd.cwd:
        plan.writes.append(_join(cmd.cwd, ".bundle"))
    words = [w for w in rest if not w.startswith("-") and w != "set"]
    if len(words) >= 2 and words[0] in ("frozen", "deployment") and truthy(words[1]):
        site.bundle_frozen = True
    if len(words) >= 2 and words[0] == "path" and cmd.cwd:
        p = cmd.path(words[1])
        if p:
            plan.writes.append(p)
    return plan


_GEMFILE_BLOCKERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?m)^\s*gemspec\b"), "the Gemfile loads the project's gemspec"),
    (
        re.compile(r"\bpath\s*[:=(]|:path\s*=>|^\s*path\s+['\"]", re.M),
        "the Gemfile uses path gems",
    ),
    (re.compile(r"\beval_gemfile\b"), "the Gemfile evaluates another Gemfile"),
    (
        re.compile(r"\b(File|Dir|IO|Pathname)\s*\.|\brequire_relative\b|\bload\s*[('\"]|`"),
        "the Gemfile reads other files",
    ),
)


def bundler(site: _Site, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
    opts, pos = _parse_opts(
        cmd.argv[m.args_index :],
        _words(
            "--jobs -j --retry --path --without --with --gemfile --trust-policy "
            "--shebang --target-rbconfig --binstubs --standalone"
        ),
        0,
    )
    text = cmd.text.strip()
    if pos:
        return _Refusal(f"`{text}` is not a plain install", False)
    if _has(opts, "--binstubs", "--standalone"):
        return f"`{text}` writes binstubs into the project"
    gemfile = _gemfile(site, cmd, opts)
    if gemfile is None:
        return f"`{text}` runs in a directory dockfix cannot resolve"
    project = posixpath.dirname(gemfile)
    lock = gemfile[: -len(".rb")] + ".locked" if gemfile.endswith(".rb") else gemfile + ".lock"
    plan = _Plan(tool="bundler")
    plan.need(gemfile)
    plan.need(lock, required=False)
    if not cmd.env.get("BUNDLE_APP_CONFIG"):
        plan.need(posixpath.join(project, ".bundle/config"), required=False)
    deployment = _has(opts, "--deployment") or truthy(cmd.env.get("BUNDLE_DEPLOYMENT"))
    frozen = (
        deployment
        or _has(opts, "--frozen")
        or truthy(cmd.env.get("BUNDLE_FROZEN"))
        or site.bundle_frozen
        or "bundle-frozen" in site.earlier
    )
    bundle_path = _values(opts, "--path")
    path_value = bundle_path[-1][0] if bundle_path else cmd.env.get("BUNDLE_PATH")
    if path_value:
        p = _join(project, path_value) if not path_value.startswith("/") else path_value
        plan.writes.append(p)
    elif deployment:
        plan.writes.append(posixpath.join(project, "vendor/bundle"))
    if site.tree.blind:
        return plan
    frozen = _read_gemfile(site, plan, gemfile, project) or frozen
    if site.tree.is_file(lock) and not frozen:
        plan.unsafe.append(
            "`bundle install` outside frozen or deployment mode may rewrite Gemfile.lock "
            "(platforms, BUNDLED WITH); after the split the image keeps the context's "
            "Gemfile.lock instead (set BUNDLE_FROZEN=true or BUNDLE_DEPLOYMENT=1)"
        )
    return plan


def _gemfile(site: _Site, cmd: _Cmd, opts: dict[str, list[tuple[str, int]]]) -> str | None:
    """The Gemfile `bundle install` reads (--gemfile, $BUNDLE_GEMFILE, or found upwards)."""
    gemfile_opt = _values(opts, "--gemfile")
    explicit = gemfile_opt[-1][0] if gemfile_opt else cmd.env.get("BUNDLE_GEMFILE")
    if explicit:
        gemfile = cmd.path(explicit)
    elif cmd.cwd is not None:
        gemfile = site.tree.find_up(cmd.cwd, ("Gemfile", "gems.rb")) or posixpath.join(
            cmd.cwd, "Gemfile"
        )
    else:
        gemfile = None
    return gemfile


def _read_gemfile(site: _Site, plan: _Plan, gemfile: str, project: str) -> bool:
    """What in the Gemfile makes the install need more than the manifests; whether
    .bundle/config sets frozen or deployment mode."""
    frozen = False
    config = site.tree.read(posixpath.join(project, ".bundle/config")) or ""
    if re.search(r"(?m)^BUNDLE_(FROZEN|DEPLOYMENT):\s*['\"]?(true|1)", config):
        frozen = True
    gem_text = site.tree.read(gemfile) or ""
    code = re.sub(r"(?m)#.*$", "", gem_text)
    for rx, why in _GEMFILE_BLOCKERS:
        if rx.search(code):
            plan.blockers.append(why)
    for ref in re.findall(r"\bruby\s+file:\s*['\"]([^'\"]+)['\"]", code):
        plan.need(_join(project, ref))
    return frozen


_COMPOSER_SCRIPT_EVENTS: frozenset[str] = (
    _words("""pre-install-cmd post-install-cmd pre-autoload-dump post-autoload-dump
    pre-package-install post-package-install pre-operations-exec pre-pool-create
    pre-dependencies-solving post-dependencies-solving""")
)


def composer(site: _Site, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
    opts, pos = _parse_opts(
        cmd.argv[m.args_index :],
        _words("-d --working-dir --ignore-platform-req --apcu-autoloader-prefix"),
        0,
    )
    text = cmd.text.strip()
    if pos:
        return _Refusal(f"`{text}` is not a plain install", False)
    wd = _values(opts, "-d", "--working-dir")
    project = site.project_dir(cmd, wd[-1][0] if wd else None)
    if project is None:
        return f"`{text}` runs in a directory dockfix cannot resolve"
    name = cmd.env.get("COMPOSER") or "composer.json"
    manifest = _join(project, name)
    plan = _Plan(tool="composer")
    plan.need(manifest)
    plan.need(
        manifest[: -len(".json")] + ".lock" if manifest.endswith(".json") else manifest + ".lock",
        required=False,
    )
    plan.need(posixpath.join(project, "auth.json"), required=False)
    if site.tree.blind:
        plan.writes.append(posixpath.join(project, "vendor"))
        return plan
    data = _load_json(site.tree.read(manifest)) or {}
    config = _table(data, "config")
    vendor = cmd.env.get("COMPOSER_VENDOR_DIR") or str(config.get("vendor-dir", "vendor"))
    plan.writes.append(_join(project, vendor))
    _composer_blockers(plan, opts, data, config)
    return plan


def _composer_blockers(
    plan: _Plan,
    opts: dict[str, list[tuple[str, int]]],
    data: dict[str, Any],
    config: dict[str, Any],
) -> None:
    """What makes `composer install` read the project: scripts, classmap or optimized
    autoloading, plugins, path and artifact repositories."""
    if not _has(opts, "--no-scripts"):
        events = sorted(set(_table(data, "scripts")) & _COMPOSER_SCRIPT_EVENTS)
        if events:
            plan.blockers.append(f"composer.json runs `{events[0]}` scripts during the install")
    if not _has(opts, "--no-autoloader"):
        sections = [_table(data, "autoload")]
        if not _has(opts, "--no-dev"):
            sections.append(_table(data, "autoload-dev"))
        if any(s.get("classmap") for s in sections):
            plan.blockers.append("the autoloader scans the classmap directories")
        optimize = _has(
            opts,
            "-o",
            "--optimize-autoloader",
            "-a",
            "--classmap-authoritative",
            "--apcu-autoloader",
        ) or any(
            config.get(k)
            for k in ("optimize-autoloader", "classmap-authoritative", "apcu-autoloader")
        )
        if optimize:
            plan.blockers.append("the optimized autoloader scans the project's classes")
    plugins = config.get("allow-plugins")
    if not _has(opts, "--no-plugins") and (
        plugins is True or (isinstance(plugins, dict) and any(plugins.values()))
    ):
        plan.blockers.append("Composer plugins run during the install and may read the project")
    for repo in data.get("repositories", []) if isinstance(data.get("repositories"), list) else []:
        if isinstance(repo, dict) and repo.get("type") in ("path", "artifact"):
            plan.blockers.append(f"a `{repo.get('type')}` repository reads local files")


def other_subcommand(
    site: _Site, cmd: _Cmd, sub: str, rest: list[str], plan: _Plan
) -> _Plan | _Refusal | str | None:
    """Bundler and Composer subcommands that are not the project install (None: not known)."""
    tool = plan.tool
    if (
        tool == "composer"
        and sub in ("global", "self-update", "selfupdate", "clear-cache", "clearcache", "config")
        and (sub != "config" or "--global" in rest or "-g" in rest)
    ):
        return plan
    if tool == "bundler" and sub == "config":
        return bundle_config(site, cmd, rest, plan)
    if (
        tool == "bundler"
        and sub == "exec"
        and rest[:2] == ["bootsnap", "precompile"]
        and "--gemfile" in rest
        and all(a.startswith("-") for a in rest[2:])
        and cmd.cwd is not None
    ):
        # Rails' own Dockerfile runs this with the install: it compiles the gems only.
        gemfile = site.tree.find_up(cmd.cwd, ("Gemfile", "gems.rb"))
        plan.need(gemfile or posixpath.join(cmd.cwd, "Gemfile"))
        plan.writes.append(posixpath.join(cmd.cwd, "tmp/cache"))
        return plan
    return None
