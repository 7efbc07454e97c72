"""DF107 npm-ci: `npm install` of a project whose lock file is in the image: `npm ci`.

## What it does
Finds `npm install` (`npm i`) in a `RUN` that installs a project's dependencies (no package
names, not `-g`) in a directory where the lock file (`package-lock.json` or
`npm-shrinkwrap.json`) is in the image: a `COPY` above the RUN brought it from the build
context next to the `package.json` the RUN installs (the directory is the `WORKDIR` in effect,
followed through `cd`). It rewrites the command to `npm ci`. A production install keeps its
meaning: `--production` and `--only=production` become `--omit=dev` where the image's npm is
7 or newer (the official `node` image from Node 15 on); on an older or unknown npm the flag
stays as written (npm 6 does not know `--omit`, and every npm reads `--production`).
`NODE_ENV=production` needs nothing: `npm ci` reads it as `npm install` does.

Reported without a fix, naming what was checked: a lock file in the build context that no
`COPY` above the RUN puts in the image; a workspace package whose lock file is at the
workspace root; no lock file at all; a directory or build context that cannot be read.

## Why is this bad
`npm install` resolves the version ranges of `package.json` again and may rewrite the lock
file: two builds of the same commit can install different packages, and the lock file a team
reviewed is not what the image runs. `npm ci` installs exactly what the lock file says, fails
when it disagrees with `package.json`, and never writes it.

## Example
```dockerfile
FROM node:20-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --production
COPY . .
CMD ["node", "server.js"]
```
Use instead:
```dockerfile
FROM node:20-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev
COPY . .
CMD ["node", "server.js"]
```

## Fix safety
**Unsafe**: `npm ci` fails the build where the lock file does not match `package.json` (where
`npm install` quietly updated it), and it deletes `node_modules` before installing, so modules
put there earlier in the stage are gone. The packages installed are the lock file's, which is
the point, but they may differ from what `npm install` resolved before. `npm install` with
`--no-package-lock`, `--package-lock=false`, `npm_config_package_lock=false` or a `.npmrc`
that turns the lock off is reported without a fix: it never read the lock. So is a `node`
image before Node 10, whose npm may predate `npm ci` (5.7). An `npm install` of named packages (`npm install
express`) is not this rule's case (hadolint DL3016 asks to pin those).

## Options
None.

## Resolves
hadolint: none · Trivy: none · Checkov: none.
"""

from __future__ import annotations

import fnmatch
import json
import posixpath
import re
from collections.abc import Iterator, Mapping
from typing import NamedTuple

from dockfix.core.fixer import Edit, Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._build_steps import Command, run_steps
from dockfix.fixers._context_files import ContextFiles
from dockfix.fixers._image_paths import image_workdir_at
from dockfix.fixers._run_commands import program_index, run_commands, uneditable
from dockfix.fixers._run_script import Script
from dockfix.semantics.context import FixContext
from dockfix.semantics.semantic import base_image, mounts, resolve_path
from dockfix.semantics.shell import SimpleCommand, Word
from dockfix.syntax import Dockerfile, Instruction, Stage

INSTALL = frozenset(
    {"install", "i", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal", "isntall"}
)
LOCK_FILES = ("npm-shrinkwrap.json", "package-lock.json")  # npm prefers the shrinkwrap
# npm options that take the next word as their value when written without `=`.
_VALUE_OPTIONS = frozenset(
    {
        "--prefix",
        "-C",
        "--loglevel",
        "--registry",
        "--cache",
        "--userconfig",
        "--omit",
        "--include",
        "--only",
        "-w",
        "--workspace",
        "--install-strategy",
        "--fetch-retries",
        "--fetch-timeout",
    }
)
_NO_LOCK = frozenset({"--no-package-lock", "--package-lock=false", "--package-lock-only"})
# Release names of Node's LTS lines (the official image tags them: `node:hydrogen`).
_CODENAMES = {
    "argon": 4,
    "boron": 6,
    "carbon": 8,
    "dubnium": 10,
    "erbium": 12,
    "fermium": 14,
    "gallium": 16,
    "hydrogen": 18,
    "iron": 20,
    "jod": 22,
    "krypton": 24,
}
_MAJOR = re.compile(r"v?([0-9]+)(?:[.-]|$)")
_LOCK_ENV = ("npm_config_package_lock", "NPM_CONFIG_PACKAGE_LOCK")
_NPMRC_NO_LOCK = re.compile(r"^\s*package-lock\s*=\s*false\s*$", re.M)


class NpmInstall(NamedTuple):
    sub: Word  # the `install` word
    production: list[tuple[int, int]]  # word index ranges of `--production`, `--only=prod`
    omits_dev: bool  # `--omit=dev` already
    no_lock: str  # the option that turns the lock off, "" when none
    prefix: str | None  # `--prefix DIR`


def npm_install(cmd: SimpleCommand, k: int) -> NpmInstall | None:
    """The project install ``npm install`` at word ``k``; None for another npm command, a
    global install or an install of named packages."""
    words = cmd.words
    sub: Word | None = None
    production: list[tuple[int, int]] = []
    omits_dev = False
    no_lock = ""
    prefix: str | None = None
    i = k + 1
    while i < len(words):
        w = words[i].value
        name, _, value = w.partition("=")
        takes_next = w in _VALUE_OPTIONS and i + 1 < len(words)
        if takes_next:
            value = words[i + 1].value
        if w.startswith("-"):
            if w in ("-g", "--global", "--global=true"):
                return None
            if w in ("--production", "--production=true"):
                production.append((i, i))
            elif name == "--only" and value in ("prod", "production"):
                production.append((i, i + 1 if takes_next else i))
            elif name == "--omit" and value == "dev":
                omits_dev = True
            elif w in _NO_LOCK:
                no_lock = w
            elif name in ("--prefix", "-C"):
                prefix = value
            i += 2 if takes_next else 1
            continue
        if sub is None:
            if w not in INSTALL:
                return None
            sub = words[i]
        else:
            return None  # a package name: `npm install express`
        i += 1
    if sub is None:
        return None
    return NpmInstall(sub, production, omits_dev, no_lock, prefix)


def npm_generation(doc: Dockerfile, stage: Stage) -> int | None:
    """The major npm version class of the stage's base image: 7 (7 or newer), 6, 5; None
    when the base is not the official `node` image or its tag names no version."""
    ref = base_image(doc, stage)
    if ref is None or not ref.is_docker_hub or ref.repository != "library/node":
        return None
    tag = ref.tag or ("latest" if ref.digest is None else "")
    if not tag:
        return None
    head = tag.split("-", 1)[0]
    major = _CODENAMES.get(head)
    m = _MAJOR.match(head)
    if m:
        major = int(m.group(1))
    if major is None:
        # `latest`, `lts`, `current`, `slim`, `alpine`, `bookworm`: today's releases
        return 7
    if major >= 15:
        return 7
    return 6 if major >= 10 else 5


@register
class NpmCi(Fixer):
    code = "DF107"
    acts_on = frozenset({"RUN"})
    mentions = ("npm",)
    severity = Severity.WARNING
    name = "npm-ci"
    summary = "A project with a lock file installed by `npm install`: `npm ci` installs the lock"
    resolves = Resolves()
    image_changes = ("files:/**",)  # the lock's versions, where npm install resolved others

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for owner, script, cmd in run_commands(doc):
            if owner.trigger is not None or owner.stage is None:
                continue  # ONBUILD: the stage it runs in is another file's
            k = program_index(cmd, "npm")
            if k is None:
                continue
            found = npm_install(cmd, k)
            if found is not None:
                yield self._finding(doc, ctx, owner, script, cmd, found)

    def _finding(
        self,
        doc: Dockerfile,
        ctx: FixContext,
        owner: Instruction,
        script: Script,
        cmd: SimpleCommand,
        found: NpmInstall,
    ) -> Finding:
        assert owner.stage is not None
        stage = owner.stage
        written = f"npm {found.sub.value}"
        message = f"`{written}` resolves the dependencies again: use `npm ci`"
        step = _step_of(doc, stage, owner, cmd)
        cwd = step.cwd if step is not None else None
        if cwd is not None and found.prefix is not None:
            cwd = resolve_path(found.prefix, cwd) if "$" not in found.prefix else None
        if cwd is None:
            return self.finding(
                owner,
                message,
                reason="the directory it installs in is not known (a `cd` or `WORKDIR` this "
                "rule cannot follow)",
            )
        env = step.env if step is not None else {}
        lock, reason = _lock_read(doc, ctx, owner, found, env, cwd)
        if not reason:
            reason = uneditable(script, "write `npm ci`")
        generation = npm_generation(doc, stage) if not reason else None
        if generation is not None and generation < 6:
            reason = "this `node` image ships npm 5 or an early 6; `npm ci` needs npm 5.7"
        if reason:
            return self.finding(owner, message, reason=reason)
        edits, flag = _ci_edits(script, cmd, found, generation)
        description = f"`npm ci{flag}` (the lock file is {posixpath.join(cwd, lock)})"
        return self.finding(owner, message, Fix.unsafe(*edits, description=description))


def _lock_read(
    doc: Dockerfile,
    ctx: FixContext,
    owner: Instruction,
    found: NpmInstall,
    env: Mapping[str, str | None],
    cwd: str,
) -> tuple[str, str]:
    """(the lock file beside ``cwd``/package.json, "") when the install would read it; else
    ("", why it does not)."""
    no_lock = found.no_lock or next(
        (f"{k}=false" for k in _LOCK_ENV if (env.get(k) or "").lower() == "false"), ""
    )
    if no_lock:
        return "", f"`{no_lock}`: this install never reads a lock file"
    if not ctx.has_context:
        return "", f"no build context to look for the lock file beside {cwd}/package.json"
    assert owner.stage is not None
    files = ContextFiles(doc, owner.stage, ctx, owner)
    lock = next(
        (
            n
            for n in LOCK_FILES
            if files.exists(posixpath.join(cwd, n)) or _bind_mounted(doc, owner, cwd, n, ctx)
        ),
        None,
    )
    if lock is None:
        return "", _why_no_lock(files, cwd)
    npmrc = files.text(posixpath.join(cwd, ".npmrc")) or ""
    if _NPMRC_NO_LOCK.search(npmrc):
        return "", "`.npmrc` sets `package-lock=false`: npm reads no lock file"
    return lock, ""


def _ci_edits(
    script: Script, cmd: SimpleCommand, found: NpmInstall, generation: int | None
) -> tuple[list[Edit], str]:
    """The edits to `npm ci` (`--production` becomes `--omit=dev` on npm 7 and later), and
    the flags the description names."""
    edits = [Edit(script.to_source(found.sub.start), script.end_to_source(found.sub.end), "ci")]
    flag = ""
    if len(found.production) == 1 and generation == 7 and not found.omits_dev:
        first, last = found.production[0]
        s = script.to_source(cmd.words[first].start)
        e = script.end_to_source(cmd.words[last].end)
        edits.append(Edit(s, e, "--omit=dev"))
        flag = " --omit=dev"
    elif found.production:
        flag = " " + " ".join(cmd.words[a].value for a, _ in found.production)
    return edits, flag


def _bind_mounted(
    doc: Dockerfile, owner: Instruction, cwd: str, name: str, ctx: FixContext
) -> bool:
    """Whether a `--mount=type=bind` of the build context puts the file ``name`` at ``cwd``
    for this RUN (`--mount=type=bind,source=package-lock.json,target=package-lock.json`)."""
    assert owner.stage is not None
    workdir = image_workdir_at(doc, owner.stage, owner)  # a relative target's directory
    for m in mounts(owner):
        if m.type != "bind" or m.from_ is not None or not m.target or "$" in m.target + m.source:
            continue
        target = resolve_path(m.target, workdir)
        source = posixpath.normpath(m.source.lstrip("/")) if m.source.strip("/") else "."
        if target == posixpath.join(cwd, name):
            rel = source
        elif target == cwd:
            rel = name if source == "." else posixpath.join(source, name)
        else:
            continue
        if ctx.exists(rel) and not ctx.is_excluded(rel):
            return True
    return False


def _step_of(
    doc: Dockerfile, stage: Stage, owner: Instruction, cmd: SimpleCommand
) -> Command | None:
    """The RUN's step (directory, environment) of the parsed command ``cmd``."""
    for step in run_steps(doc, stage, owner) or []:
        if step.source is cmd:
            return step
    return None


def _why_no_lock(files: ContextFiles, cwd: str) -> str:
    """Why no lock file is in the image at ``cwd``, naming what was checked."""
    checked = " or ".join(f"`{n}`" for n in reversed(LOCK_FILES))
    manifest = files.rel(posixpath.join(cwd, "package.json"))
    if manifest is None:
        return (
            f"no `package.json` from the build context is at {cwd} when the RUN runs, and "
            f"no {checked} beside it"
        )
    project = posixpath.dirname(manifest)
    ctx = files.ctx
    for name in LOCK_FILES:
        rel = posixpath.join(project, name) if project else name
        if ctx.exists(rel):
            if ctx.is_excluded(rel):
                return f"`{rel}` is excluded by `.dockerignore`, so it is not in the image"
            return (
                f"`{rel}` is in the build context but no COPY above the RUN puts it in {cwd}: "
                "copy it with `package.json`, then use `npm ci`"
            )
    parent = project
    while parent:
        parent = posixpath.dirname(parent)
        root = posixpath.join(parent, "package.json") if parent else "package.json"
        if not _workspace_of(files.ctx.read_text(root), posixpath.relpath(project, parent or ".")):
            continue
        for name in LOCK_FILES:
            rel = posixpath.join(parent, name) if parent else name
            if ctx.exists(rel):
                where = f"`{parent}`" if parent else "the build context's root"
                return (
                    f"`{manifest}` is a workspace of `{root}`, whose lock file is `{rel}`: "
                    f"install from the workspace root ({where}) with "
                    f"`npm ci --workspace {posixpath.relpath(project, parent or '.')}`"
                )
    return f"no {checked} beside `{manifest}` in the build context"


def _workspace_of(manifest: str | None, member: str) -> bool:
    """Whether the package.json text ``manifest`` lists ``member`` (a relative directory) among
    its `workspaces` patterns."""
    if manifest is None or '"workspaces"' not in manifest:
        return False
    try:
        data = json.loads(manifest)
    except ValueError:
        return False
    patterns = data.get("workspaces") if isinstance(data, dict) else None
    if isinstance(patterns, dict):  # Yarn's `{"packages": [...]}` form, which npm reads too
        patterns = patterns.get("packages")
    if not isinstance(patterns, list):
        return False
    return any(
        isinstance(p, str) and fnmatch.fnmatchcase(member, posixpath.normpath(p)) for p in patterns
    )
