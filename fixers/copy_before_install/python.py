"""DF101 for Python: pip and `uv pip` (requirement files followed recursively, `pip install .`
of a project with static dependencies), `uv sync`, Poetry and Pipenv."""

from __future__ import annotations

import posixpath
import re
from typing import Any

from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._package_managers import InstallMatch, truthy
from dockfix.fixers.copy_before_install._command import (
    _Cmd,
    _has,
    _list,
    _load_toml,
    _parse_opts,
    _Plan,
    _Refusal,
    _shell_quote,
    _table,
    _values,
    _venv,
    _words,
)
from dockfix.fixers.copy_before_install._requirements import (
    _canonical,
    _is_local_requirement,
    requirements_file,
    static_dependencies,
)
from dockfix.fixers.copy_before_install._site import _Site
from dockfix.fixers.copy_before_install._tree import _join, _under

_UV_IMAGE_RE = lazy_re(r"astral-sh/uv:(\d+)\.(\d+)\.(\d+)|\buv==(\d+)\.(\d+)\.(\d+)")


_PIP_VALUE_OPTS: frozenset[str] = (
    _words("""-r --requirement -c --constraint --constraints -e --editable -i --index-url
    --extra-index-url -f --find-links -t --target --prefix --root --src --platform
    --python-version --implementation --abi --only-binary --no-binary --progress-bar
    --upgrade-strategy --trusted-host --cache-dir --log --log-file --timeout --retries
    --proxy --cert --client-cert --global-option --install-option --config-settings -C
    --report --exists-action --keyring-provider --root-user-action --use-feature
    --use-deprecated -w --wheel-dir -d --dest --group --python -p --override --overrides
    -b --build-constraint --build-constraints --extra --index --default-index --resolution
    --prerelease --index-strategy --python-platform --link-mode --reinstall-package
    --upgrade-package -P --no-build-package --no-binary-package --only-binary-package
    --refresh-package --exclude-newer --config-setting --torch-backend""")
)


# pip's options that name a file it reads, and a place it writes.
_PIP_FILE_OPTS = (
    "-r",
    "--requirement",
    "-c",
    "--constraint",
    "--constraints",
    "--override",
    "--overrides",
    "-b",
    "--build-constraint",
    "--build-constraints",
)
_PIP_OUTPUT_OPTS = (
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--src",
    "-w",
    "--wheel-dir",
    "-d",
    "--dest",
    "--report",
    "--log",
    "--log-file",
)
_Opts = dict[str, list[tuple[str, int]]]
_Project = tuple[str, int, int | None]  # (the argument, its argv index, the -e's index)


def pip(site: _Site, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
    """`pip install`, `uv pip install|sync`: the requirement files (followed recursively), the
    places it writes, and a project it installs from the tree (see :func:`pip_project`)."""
    uv = m.manager.name == "uv-pip"
    sub = m.subcommand[-1]
    args = cmd.argv[m.args_index :]
    opts, pos = _parse_opts(args, _PIP_VALUE_OPTS, m.args_index)
    plan = _Plan(tool="uv pip" if uv else "pip")
    if cmd.cwd is None:
        return f"`{cmd.text.strip()}` runs in a directory dockfix cannot resolve"
    files = _values(opts, *_PIP_FILE_OPTS)
    if uv and sub == "sync":
        files += pos
        pos = []
    err = _pip_files(site, cmd, cmd.cwd, opts, files, plan)
    if err:
        return err
    targets = _pip_targets(cmd, cmd.cwd, opts, pos, plan)
    if isinstance(targets, _Refusal):
        return targets
    projects, names = targets
    tree_projects = []
    for value, idx, e_idx in projects:
        base = value.split("[", 1)[0]
        if "*" in base:
            p = cmd.path(posixpath.dirname(base) or ".")
        else:
            p = cmd.path(base.removeprefix("file:").removeprefix("//"))
        if p is None or site.touches_tree(p):
            tree_projects.append((value, idx, e_idx, p))
    if not tree_projects:
        if files and "pip" in site.earlier:
            return _Refusal(
                f"`{cmd.text.strip()}` runs after an earlier pip install of requirement "
                "files, so it is treated as part of an existing split",
                False,
            )
        return plan
    if _has(opts, "--no-deps") or "pip" in site.earlier:
        # Only the project (its dependencies came earlier): the second half of a split.
        return _Refusal(f"`{cmd.text.strip()}` installs only the project", False)
    if len(tree_projects) > 1 or files or sub != "install":
        return f"`{cmd.text.strip()}` installs the project itself, which needs all of its files"
    value, idx, e_idx, p = tree_projects[0]
    return pip_project(site, cmd, plan, value, idx, e_idx, p, names)


def _pip_files(
    site: _Site, cmd: _Cmd, cwd: str, opts: _Opts, files: list[tuple[str, int]], plan: _Plan
) -> str:
    """The files pip reads and the places it writes, into ``plan``; why not, when it cannot."""
    for value, _ in files:
        if value == "-" or value.startswith("/dev/"):
            continue
        p = cmd.path(value)
        if p is None:
            return f"`{cmd.text.strip()}` reads `{value}`, which dockfix cannot resolve"
        if p in site.generated:
            continue
        plan.need(p)
        err = requirements_file(site.tree, p, plan, cwd, 0)
        if err:
            return err
    for value, _ in _values(opts, "--group"):
        path = value.rsplit(":", 1)[0] if ":" in value else "pyproject.toml"
        p = cmd.path(path)
        if p is None:
            return f"`{cmd.text.strip()}` reads `{path}`, which dockfix cannot resolve"
        plan.need(p)
    for value, _ in _values(opts, "-f", "--find-links"):
        if "://" not in value:
            p = cmd.path(value)
            if p is None or site.touches_tree(p):
                return f"`{cmd.text.strip()}` finds packages in the local directory `{value}`"
    for value, _ in _values(opts, *_PIP_OUTPUT_OPTS):
        p = cmd.path(value)
        if p is None:
            return f"`{cmd.text.strip()}` writes to `{value}`, which dockfix cannot resolve"
        plan.writes.append(p)
    return ""


def _pip_targets(
    cmd: _Cmd, cwd: str, opts: _Opts, pos: list[tuple[str, int]], plan: _Plan
) -> tuple[list[_Project], list[str]] | _Refusal:
    """What pip installs: local projects (editable or not) and requirement names."""
    projects: list[_Project] = []
    for value, idx in _values(opts, "-e", "--editable"):
        if _is_local_requirement(value):
            # `-e X` is two words, `-eX` and `--editable=X` one.
            value_idx = idx + 1 if cmd.argv[idx] in ("-e", "--editable") else idx
            projects.append((value, value_idx, idx))
        else:
            plan.writes.append(_join(cwd, "src"))  # editable VCS checkouts
    names: list[str] = []
    for value, idx in pos:
        if "$" in value:
            return _Refusal(
                f"`{cmd.text.strip()}` installs `{value}`, which dockfix cannot resolve", False
            )
        if _is_local_requirement(value):
            projects.append((value, idx, None))
        else:
            names.append(value)
    return projects, names


def pip_project(
    site: _Site,
    cmd: _Cmd,
    plan: _Plan,
    value: str,
    idx: int,
    e_idx: int | None,
    path: str | None,
    names: list[str],
) -> _Plan | _Refusal | str:
    """`pip install .`: install the statically declared dependencies first (unsafe)."""
    what = f"`{cmd.text.strip()}` installs the project itself, which needs all of its files"
    if path is None or site.tree.rel(path) is None or cmd.exec_form:
        return what
    if site.tree.blind:
        plan.need(posixpath.join(path, "pyproject.toml"), required=False)
        return plan
    extras = re.findall(r"\[([^\]]*)\]", value)
    wanted = {_canonical(x) for e in extras for x in e.split(",") if x.strip()}
    declared = static_dependencies(site.tree, path, wanted)
    if isinstance(declared, str):
        return f"{what}; {declared}"
    deps, sources = declared
    if not deps:
        return f"{what}; it declares no dependencies to install first"
    if site.earlier.covers("pip-specs", {_canonical(d) for d in deps}):
        return _Refusal(f"{what}; its dependencies are installed by an earlier RUN", False)
    quoted = [_shell_quote(d) for d in deps]
    if any(q is None for q in quoted):
        return f"{what}; a dependency contains a quote"
    # Replace the project argument (and a separate -e before it) with the dependencies.
    first = e_idx if e_idx is not None else idx
    span_a = cmd.word_span(first)
    span_b = cmd.word_span(idx)
    if span_a is None or span_b is None:
        return what
    plan.edits.append((span_a[0], span_b[1], " ".join(q for q in quoted if q)))
    plan.reinstall = True
    for s in sources:
        plan.need(s)
    if any(not re.search(r"[<>=~!@]", d.split(";", 1)[0]) for d in deps):
        plan.hadolint_ignores.add("DL3013")  # versions are governed by the project file
    names_note = f" (and {', '.join(names)})" if names else ""
    plan.unsafe.append(
        "installs the dependencies declared in "
        f"{', '.join(site.tree.rel(s) or s for s in sources)} from a list written into the "
        f"Dockerfile{names_note}; keep it in sync (the `pip install` of the project after "
        "the copy still installs any dependency that goes missing)"
    )
    return plan


def uv_version_ok(site: _Site) -> bool:
    for m in _UV_IMAGE_RE.finditer(site.doc.source):
        nums = [int(x) for x in (m.groups()[:3] if m.group(1) else m.groups()[3:])]
        if tuple(nums) < (0, 3, 3):
            return False
    return True


_UV_VALUE_OPTS: frozenset[str] = (
    _words("""--project --directory --package --extra --group --only-group --no-group --python -p
    --index --default-index --index-url --extra-index-url --find-links -f
    --no-install-package --upgrade-package -P --reinstall-package --resolution --prerelease
    --index-strategy --keyring-provider --link-mode --config-setting -C --exclude-newer
    --python-platform --cache-dir --config-file --refresh-package --no-build-package
    --no-binary-package --only-binary-package --script --output-format --color""")
)


def uv_sync(site: _Site, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
    argv = cmd.argv
    opts, _ = _parse_opts(argv[m.exe_index + 1 :], _UV_VALUE_OPTS, m.exe_index + 1)
    text = cmd.text.strip()
    plan = _Plan(tool="uv")
    if _has(opts, "--package", "--all-packages", "--script"):
        return f"`{text}` installs workspace packages or a script"
    explicit = None
    for name in ("--directory", "--project"):
        for v, _ in opts.get(name, []):
            explicit = v if explicit is None or v.startswith("/") else posixpath.join(explicit, v)
    start = site.project_dir(cmd, explicit)
    if start is None:
        return f"`{text}` runs in a directory dockfix cannot resolve"
    pyproject = site.tree.find_up(start, ("pyproject.toml",)) or posixpath.join(
        start, "pyproject.toml"
    )
    project = posixpath.dirname(pyproject)
    frozen = _has(opts, "--frozen", "--locked") or any(
        truthy(cmd.env.get(v)) for v in ("UV_FROZEN", "UV_LOCKED")
    )
    plan.need(pyproject)
    plan.need(posixpath.join(project, "uv.lock"), required=frozen)
    for n in (".python-version", ".python-versions", "uv.toml"):
        plan.need(posixpath.join(project, n), required=False)
    venv = cmd.env.get("UV_PROJECT_ENVIRONMENT")
    plan.writes.append(_join(project, venv) if venv else posixpath.join(project, ".venv"))
    if site.tree.blind:
        return plan
    data = _load_toml(site.tree.read(pyproject))
    if data is None:
        return plan  # missing: reported when the needs are resolved
    _uv_project_blockers(site, plan, data, project)
    proj = _table(data, "project")
    uv_tool = _table(data, "tool", "uv")
    package = uv_tool.get("package")
    installs_project = package is not False and (bool(data.get("build-system")) or package is True)
    name = _canonical(str(proj.get("name", ""))) if proj else ""
    skipped = _has(opts, "--no-install-project", "--no-install-workspace", "--only-dev") or any(
        _canonical(v) == name for v, _ in opts.get("--no-install-package", [])
    )
    if installs_project and not skipped:
        if not uv_version_ok(site):
            plan.blockers.append("the uv version pinned here predates --no-install-project")
        elif cmd.node is not None:
            plan.edits.append((cmd.node.end, cmd.node.end, " --no-install-project"))
            plan.reinstall = True
        else:
            plan.edits.append((0, 0, ""))  # exec form: needs rewriting
    lock = posixpath.join(project, "uv.lock")
    if not frozen and site.tree.is_file(lock):
        plan.unsafe.append(
            "`uv sync` without --locked or --frozen may rewrite uv.lock; after the split "
            "the image keeps the context's uv.lock instead"
        )
    return plan


def _uv_project_blockers(site: _Site, plan: _Plan, data: dict[str, Any], project: str) -> None:
    """What makes `uv sync` need more than the manifests: a workspace (this project's or one
    above it), local sources, dynamic dependencies."""
    if _table(data, "tool", "uv", "workspace"):
        plan.blockers.append("it is a uv workspace; every member's pyproject.toml is needed")
    d = posixpath.dirname(project)
    while _under(d, site.tree.dest) and d != project:
        parent = _load_toml(site.tree.read(posixpath.join(d, "pyproject.toml")))
        if _table(parent, "tool", "uv", "workspace"):
            plan.blockers.append("the project is a member of a uv workspace")
            break
        if d == site.tree.dest:
            break
        d = posixpath.dirname(d)
    for name, src in _table(data, "tool", "uv", "sources").items():
        for s in src if isinstance(src, list) else [src]:
            if isinstance(s, dict) and ("path" in s or "workspace" in s):
                plan.blockers.append(f"the source of `{name}` is a local path or workspace")
    proj = _table(data, "project")
    dynamic = _list(proj.get("dynamic"))
    if "dependencies" in dynamic or "optional-dependencies" in dynamic:
        plan.blockers.append("its dependencies are dynamic: uv must build the project")


_POETRY_VALUE_OPTS: frozenset[str] = _words(
    "-C --directory -P --project --with --without --only -E --extras"
)


def poetry(site: _Site, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
    opts, _ = _parse_opts(cmd.argv[m.exe_index + 1 :], _POETRY_VALUE_OPTS, 0)
    text = cmd.text.strip()
    if _has(opts, "--only-root"):
        return _Refusal(f"`{text}` installs only the project", False)
    explicit = None
    for name in ("-C", "--directory", "-P", "--project"):
        for v, _ in opts.get(name, []):
            explicit = v
    start = site.project_dir(cmd, explicit)
    if start is None:
        return f"`{text}` runs in a directory dockfix cannot resolve"
    plan = _Plan(tool="poetry")
    pyproject = site.tree.find_up(start, ("pyproject.toml",)) or posixpath.join(
        start, "pyproject.toml"
    )
    project = posixpath.dirname(pyproject)
    plan.need(pyproject)
    plan.need(posixpath.join(project, "poetry.lock"), required=False)
    plan.need(posixpath.join(project, "poetry.toml"), required=False)
    plan.writes.append(posixpath.join(project, ".venv"))
    if site.tree.blind:
        return plan
    data = _load_toml(site.tree.read(pyproject))
    if data is None:
        return plan
    poetry = _table(data, "tool", "poetry")
    groups = [_table(poetry, "dependencies"), _table(poetry, "dev-dependencies")]
    groups += [_table(g, "dependencies") for g in _table(poetry, "group").values()]
    for deps in groups:
        for name, spec in deps.items():
            for s in spec if isinstance(spec, list) else [spec]:
                if isinstance(s, dict) and "path" in s:
                    plan.blockers.append(f"`{name}` is a path dependency")
    for s in _list(_table(data, "project").get("dependencies")):
        if isinstance(s, str) and _is_local_requirement(s):
            plan.blockers.append(f"`{s}` is a local path dependency")
    package_mode = poetry.get("package-mode", True) is not False
    if package_mode and not _has(opts, "--no-root"):
        if cmd.node is None:
            plan.edits.append((0, 0, ""))
        else:
            plan.edits.append((cmd.node.end, cmd.node.end, " --no-root"))
            plan.reinstall = True
    return plan


_PIPENV_VALUE_OPTS: frozenset[str] = _words(
    "--python --categories -r --requirements --extra-pip-args --pypi-mirror"
)


def pipenv(site: _Site, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
    sub = m.subcommand[0]
    opts, pos = _parse_opts(cmd.argv[m.args_index :], _PIPENV_VALUE_OPTS, 0)
    text = cmd.text.strip()
    if pos or _has(opts, "-r", "--requirements"):
        return _Refusal(f"`{text}` adds packages to the Pipfile", False)
    plan = _Plan(tool="pipenv")
    explicit = cmd.env.get("PIPENV_PIPFILE")
    if explicit:
        pipfile = cmd.path(explicit)
    else:
        start = cmd.cwd
        pipfile = None
        if start is not None:
            pipfile = site.tree.find_up(start, ("Pipfile",)) or posixpath.join(start, "Pipfile")
    if pipfile is None:
        return f"`{text}` runs in a directory dockfix cannot resolve"
    project = posixpath.dirname(pipfile)
    frozen = sub == "sync" or _has(opts, "--deploy", "--ignore-pipfile")
    lock = pipfile + ".lock"
    plan.need(pipfile)
    plan.need(lock, required=frozen)
    if not truthy(cmd.env.get("PIPENV_DONT_LOAD_ENV")):
        plan.need(posixpath.join(project, ".env"), required=False)
    plan.writes.append(posixpath.join(project, ".venv"))
    if site.tree.blind:
        return plan
    data = _load_toml(site.tree.read(pipfile))
    for section, deps in (data or {}).items():
        if section in ("source", "requires", "scripts", "pipenv") or not isinstance(deps, dict):
            continue
        for name, spec in deps.items():
            if isinstance(spec, dict) and (
                "path" in spec or ("file" in spec and "://" not in str(spec["file"]))
            ):
                plan.blockers.append(f"`{name}` in the Pipfile is a local path")
    if not frozen and site.tree.is_file(lock):
        plan.unsafe.append(
            "`pipenv install` without --deploy may re-lock and rewrite Pipfile.lock; after "
            "the split the image keeps the context's Pipfile.lock instead"
        )
    return plan


def other_subcommand(
    site: _Site, cmd: _Cmd, sub: str, rest: list[str], plan: _Plan
) -> _Plan | _Refusal | str | None:
    """pip, uv and Poetry subcommands that are not the project install (None: not known)."""
    tool = plan.tool
    if tool in ("pip", "uv-pip") and sub in ("cache", "config"):
        return plan
    if tool in ("uv", "uv-pip") and sub == "cache":
        return plan
    if tool == "uv" and sub == "venv":
        targets = [a for a in rest if not a.startswith("-")]
        if cmd.cwd is not None:
            plan.need(_join(cmd.cwd, ".python-version"), required=False)
        return _venv(cmd, plan, targets or [".venv"])
    if tool == "uv" and sub == "python" and rest[:1] == ["install"] and len(rest) > 1:
        return plan
    if tool == "uv" and sub == "tool" and rest[:1] == ["install"]:
        return plan
    if tool == "poetry" and sub == "config" and "--local" not in rest:
        return plan
    if tool == "poetry" and sub == "export" and cmd.cwd is not None:
        # `poetry export -o requirements.txt`, typically followed by `pip install -r`.
        pyproject = site.tree.find_up(cmd.cwd, ("pyproject.toml",))
        project = posixpath.dirname(pyproject) if pyproject else cmd.cwd
        plan.need(posixpath.join(project, "pyproject.toml"))
        plan.need(posixpath.join(project, "poetry.lock"), required=False)
        plan.need(posixpath.join(project, "poetry.toml"), required=False)
        opts, _ = _parse_opts(
            rest, _words("-o --output -f --format --with --without --only -E --extras")
        )
        for v, _ in _values(opts, "-o", "--output"):
            out = cmd.path(v)
            if out is None:
                return f"`{cmd.text.strip()}`"
            plan.writes.append(out)
        return plan
    if tool == "poetry" and sub == "self":
        return plan
    return None
