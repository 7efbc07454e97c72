"""DF101 for the JVM (Maven's dependency goals, Gradle's `dependencies`), .NET
(`dotnet restore`) and Elixir (`mix deps.get`)."""

from __future__ import annotations

import posixpath
import re

from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._package_managers import InstallMatch
from dockfix.fixers.copy_before_install._command import (
    _Cmd,
    _has,
    _parse_opts,
    _Plan,
    _Refusal,
    _values,
    _words,
)
from dockfix.fixers.copy_before_install._site import _Site
from dockfix.fixers.copy_before_install._tree import _join, _under

_MAVEN_GOALS: frozenset[str] = frozenset(
    {
        "dependency:go-offline",
        "dependency:resolve",
        "dependency:resolve-plugins",
        "dependency:resolve-sources",
        "de.qaware.maven:go-offline-maven-plugin:resolve-dependencies",
    }
)
# What makes a Gradle build read more than its own project's build files.
_GRADLE_INCLUDE = lazy_re(r"\binclude(Build)?\b")
_GRADLE_APPLY_FROM = lazy_re(r"\bapply\s*\(?\s*from\b")


def maven(site: _Site, cmd: _Cmd) -> _Plan | _Refusal | str:
    text = cmd.text.strip()
    argv = cmd.argv
    opts, goals = _parse_opts(
        argv[1:],
        _words(
            "-f --file -s --settings -gs --global-settings -t --toolchains -P "
            "--activate-profiles -pl --projects -T --threads -l --log-file -rf "
            "--resume-from -b --builder"
        ),
        0,
    )
    goal_names = [g for g, _ in goals]
    if not goal_names or not all(
        g in _MAVEN_GOALS
        or re.fullmatch(
            r"[\w.-]+:maven-dependency-plugin:[\w.-]+:"
            r"(go-offline|resolve|resolve-plugins)",
            g,
        )
        for g in goal_names
    ):
        return _Refusal(f"`{text}` builds the project, which needs all of its files", False)
    if _has(opts, "-pl", "--projects", "-rf", "--resume-from"):
        return f"`{text}` selects modules of a multi-module build"
    if "maven" in site.earlier:
        return _Refusal(f"`{text}` runs after an earlier Maven resolve", False)
    plan = _Plan(tool="maven")
    file_opt = _values(opts, "-f", "--file")
    if file_opt:
        p = cmd.path(file_opt[-1][0])
        if p is None:
            return f"`{text}` reads a POM dockfix cannot resolve"
        pom = p if p.endswith(".xml") else posixpath.join(p, "pom.xml")
    elif cmd.cwd is not None:
        pom = posixpath.join(cmd.cwd, "pom.xml")
    else:
        return f"`{text}` runs in a directory dockfix cannot resolve"
    project = posixpath.dirname(pom)
    plan.need(pom)
    plan.need(posixpath.join(project, ".mvn"), required=False, is_dir=True)
    err = _maven_files(cmd, opts, plan, text)
    if err:
        return err
    if site.tree.blind:
        return plan
    _read_pom(site, plan, pom, project)
    return plan


def _maven_files(cmd: _Cmd, opts: dict[str, list[tuple[str, int]]], plan: _Plan, text: str) -> str:
    """The wrapper, settings and toolchains Maven reads, the log and repository it writes;
    why not, when a path cannot be resolved."""
    argv = cmd.argv
    exe = argv[0]
    if exe.rsplit("/", 1)[-1] == "mvnw" and cmd.cwd is not None:
        plan.need(cmd.path(exe) or posixpath.join(cmd.cwd, "mvnw"))
    for v, _ in _values(opts, "-s", "--settings", "-gs", "--global-settings", "-t", "--toolchains"):
        p = cmd.path(v)
        if p is None:
            return f"`{text}` reads `{v}`, which dockfix cannot resolve"
        plan.need(p)
    for v, _ in _values(opts, "-l", "--log-file"):
        p = cmd.path(v)
        if p:
            plan.writes.append(p)
    for a in argv[1:]:
        mm = re.match(r"-Dmaven\.repo\.local=(.+)", a)
        if mm:
            p = cmd.path(mm.group(1))
            if p is None:
                return f"`{text}` writes to a repository dockfix cannot resolve"
            plan.writes.append(p)
    return ""


def _read_pom(site: _Site, plan: _Plan, pom: str, project: str) -> None:
    """What in the POM makes the resolve need more than the POM: modules, a parent in the
    project, profiles activated by files, a .mvn directory above it."""
    text_pom = site.tree.read(pom)
    if text_pom is None:
        return
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(text_pom)
    except ElementTree.ParseError:
        plan.blockers.append("pom.xml does not parse")
        return
    ns = {"m": root.tag[1:].split("}")[0]} if root.tag.startswith("{") else {}
    pre = "m:" if ns else ""
    if root.findall(f"{pre}modules/{pre}module", ns):
        plan.blockers.append("pom.xml is a multi-module build; every module's POM is needed")
    parent = root.find(f"{pre}parent", ns)
    if parent is not None:
        rp = parent.find(f"{pre}relativePath", ns)
        rel = "../pom.xml" if rp is None else (rp.text or "").strip()
        if rel:
            target = _join(project, rel)
            if not target.endswith(".xml"):
                target = posixpath.join(target, "pom.xml")
            if site.tree.state(target) not in ("missing", "outside"):
                plan.blockers.append("the POM inherits from a parent POM in the project")
    if root.findall(f".//{pre}activation/{pre}file", ns):
        plan.blockers.append("a profile is activated by the presence of project files")
    if site.tree.find_up(posixpath.dirname(project), (".mvn",)) and not site.tree.brings(
        posixpath.join(project, ".mvn")
    ):
        plan.blockers.append("a .mvn directory above the project configures Maven")


_GRADLE_TASKS: frozenset[str] = frozenset(
    {"dependencies", "androidDependencies", "buildEnvironment"}
)


def gradle(site: _Site, cmd: _Cmd) -> _Plan | _Refusal | str:
    text = cmd.text.strip()
    argv = cmd.argv
    opts, tasks = _parse_opts(
        argv[1:],
        _words(
            "-p --project-dir -b --build-file -c --settings-file -g --gradle-user-home "
            "-x --exclude-task --console --warning-mode -I --init-script "
            "--dependency-verification --priority -D -P"
        ),
        0,
    )
    names = [t for t, _ in tasks]
    if not names or not all(t in _GRADLE_TASKS for t in names):
        return _Refusal(f"`{text}` builds the project, which needs all of its files", False)
    if "gradle" in site.earlier:
        return _Refusal(f"`{text}` runs after an earlier Gradle resolve", False)
    if _has(opts, "-b", "--build-file", "-c", "--settings-file", "-I", "--init-script"):
        return f"`{text}` names build files dockfix does not follow"
    pdir = _values(opts, "-p", "--project-dir")
    project = site.project_dir(cmd, pdir[-1][0] if pdir else None)
    if project is None:
        return f"`{text}` runs in a directory dockfix cannot resolve"
    plan = _Plan(tool="gradle")
    build = [posixpath.join(project, n) for n in ("build.gradle", "build.gradle.kts")]
    if site.tree.blind:
        plan.need(build[0], required=False)
        return plan
    present = [b for b in build if site.tree.state(b) != "missing"]
    plan.need(present[0] if present else build[0])
    for b in present[1:]:
        plan.need(b)
    _gradle_project(site, cmd, project, present, plan)
    plan.unsafe.append(
        "Gradle build scripts are code and may read other project files while resolving"
    )
    if _has(opts, "--write-locks"):
        plan.unsafe.append("--write-locks rewrites the lock files the later copy replaces")
    return plan


def _gradle_project(
    site: _Site, cmd: _Cmd, project: str, build_files: list[str], plan: _Plan
) -> None:
    """The rest of a Gradle project the resolve reads and writes, and what blocks moving it
    before the full copy (a build that reads other projects or scripts)."""
    for n in (
        "settings.gradle",
        "settings.gradle.kts",
        "gradle.properties",
        "gradle.lockfile",
        "settings-gradle.lockfile",
    ):
        plan.need(posixpath.join(project, n), required=False)
    plan.need(posixpath.join(project, "gradle"), required=False, is_dir=True)
    if cmd.argv[0].rsplit("/", 1)[-1] == "gradlew":
        plan.need(cmd.path(cmd.argv[0]) or posixpath.join(project, "gradlew"))
    plan.writes.append(posixpath.join(project, ".gradle"))
    plan.writes.append(posixpath.join(project, "build"))
    if site.tree.brings(posixpath.join(project, "buildSrc")):
        plan.blockers.append("buildSrc is compiled before the build and needs its sources")
    for s in ("settings.gradle", "settings.gradle.kts"):
        t = site.tree.read(posixpath.join(project, s)) or ""
        if _GRADLE_INCLUDE.search(t):
            plan.blockers.append("settings.gradle includes other projects (a multi-project build)")
    for b in build_files:
        t = site.tree.read(b) or ""
        if _GRADLE_APPLY_FROM.search(t):
            plan.blockers.append(f"{posixpath.basename(b)} applies other script files")


def dotnet(site: _Site, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
    opts, pos = _parse_opts(
        cmd.argv[m.args_index :],
        _words(
            "-r --runtime -s --source --configfile --packages --lock-file-path -v "
            "--verbosity -a --arch --os"
        ),
        0,
    )
    text = cmd.text.strip()
    if cmd.cwd is None:
        return f"`{text}` runs in a directory dockfix cannot resolve"
    plan = _Plan(tool="dotnet")
    target = cmd.path(pos[0][0]) if pos else cmd.cwd
    if target is None or len(pos) > 1:
        return f"`{text}` restores a project dockfix cannot resolve"
    if target.endswith((".sln", ".slnx", ".slnf")):
        return f"`{text}` restores a solution; every project file is needed"
    if site.tree.blind:
        if target.endswith(("proj",)):
            plan.need(target)
        else:
            plan.need(posixpath.join(target, "x.csproj"), required=False)
        return plan
    if target.endswith(("proj",)):
        proj = target
    else:
        entries = site.tree.listdir(target)
        projects = [e for e in entries if e.endswith((".csproj", ".fsproj", ".vbproj"))]
        sln = [e for e in entries if e.endswith((".sln", ".slnx"))]
        if sln:
            return f"`{text}` restores a solution; every project file is needed"
        if len(projects) != 1:
            return f"`{text}` finds {len(projects)} project files in its directory"
        proj = posixpath.join(target, projects[0])
    project = posixpath.dirname(proj)
    plan.need(proj)
    plan.writes.append(posixpath.join(project, "obj"))
    lock_opt = _values(opts, "--lock-file-path")
    lock = cmd.path(lock_opt[-1][0]) if lock_opt else posixpath.join(project, "packages.lock.json")
    if lock:
        plan.need(lock, required=False)
    for v, _ in _values(opts, "--configfile"):
        p = cmd.path(v)
        if p is None:
            return f"`{text}` reads `{v}`, which dockfix cannot resolve"
        plan.need(p)
    for v, _ in _values(opts, "--packages"):
        p = cmd.path(v)
        if p:
            plan.writes.append(p)
    locked = _read_msbuild_files(site, plan, proj, project) or _has(opts, "--locked-mode")
    if lock and site.tree.is_file(lock) and not locked:
        plan.unsafe.append(
            "`dotnet restore` without --locked-mode may rewrite packages.lock.json; after "
            "the split the image keeps the context's lock file instead"
        )
    return plan


def _read_msbuild_files(site: _Site, plan: _Plan, proj: str, project: str) -> bool:
    """The MSBuild and NuGet files above the project that the restore reads, what in them
    needs more (project references, imports); whether one turns on RestoreLockedMode."""
    files = [proj]
    d = project
    while _under(d, site.tree.dest):
        for n in (
            "Directory.Build.props",
            "Directory.Build.targets",
            "Directory.Packages.props",
            "global.json",
            "NuGet.config",
            "nuget.config",
            "NuGet.Config",
        ):
            p = posixpath.join(d, n)
            if site.tree.state(p) != "missing":
                plan.need(p, required=False)
                if n.endswith((".props", ".targets")):
                    files.append(p)
        if d == site.tree.dest:
            break
        d = posixpath.dirname(d)
    locked = False
    for f in files:
        t = site.tree.read(f) or ""
        if re.search(r"<ProjectReference\b", t):
            plan.blockers.append(f"{posixpath.basename(f)} references other projects")
        for imp in re.findall(r"<Import\b[^>]*Project\s*=\s*\"([^\"]*)\"", t):
            if "GetPathOfFileAbove" not in imp:
                plan.blockers.append(f"{posixpath.basename(f)} imports `{imp}`")
        if re.search(r"<RestoreLockedMode>\s*true", t, re.I):
            locked = True
    return locked


def mix(site: _Site, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
    opts, _ = _parse_opts(cmd.argv[m.args_index :], frozenset({"--only"}), 0)
    text = cmd.text.strip()
    if cmd.cwd is None:
        return f"`{text}` runs in a directory dockfix cannot resolve"
    plan = _Plan(tool="mix")
    mix_exs = posixpath.join(cmd.cwd, "mix.exs")
    lock = posixpath.join(cmd.cwd, "mix.lock")
    plan.need(mix_exs)
    plan.need(lock, required=False)
    plan.writes.append(_join(cmd.cwd, cmd.env.get("MIX_DEPS_PATH") or "deps"))
    if site.tree.blind:
        return plan
    code = re.sub(r"(?m)#.*$", "", site.tree.read(mix_exs) or "")
    if re.search(r"\bapps_path\b|\bin_umbrella\b", code):
        plan.blockers.append("the project is an umbrella; every app's mix.exs is needed")
    if re.search(r"\bpath:\s", code):
        plan.blockers.append("mix.exs has path dependencies")
    if re.search(r"\b(File|Path|Code)\.|\bSystem\.cmd\b", code):
        plan.blockers.append("mix.exs reads other files")
    if site.tree.is_file(lock) and not _has(opts, "--check-locked"):
        plan.unsafe.append(
            "`mix deps.get` may update mix.lock; after the split the image keeps the "
            "context's mix.lock instead"
        )
    return plan


def other_subcommand(
    site: _Site, cmd: _Cmd, sub: str, rest: list[str], plan: _Plan
) -> _Plan | _Refusal | str | None:
    """Mix and dotnet subcommands that are not the project install (None: not known)."""
    tool = plan.tool
    if tool == "mix" and sub in ("local.hex", "local.rebar"):
        return plan
    if tool == "dotnet" and sub == "tool" and ("-g" in rest or "--global" in rest):
        return plan
    return None
