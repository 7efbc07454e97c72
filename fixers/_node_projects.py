"""What a Node project's files say about its build: shared by the Node rewrite (DF305).

Reads the build context the way npm, TypeScript and Next.js do: `package.json` (scripts,
workspaces), the lock file (which package manager), `tsconfig*.json` (`outDir`, with comments,
trailing commas and `extends`), `next.config.*` (`output: "standalone"`), and the flags of the
usual compilers (`tsc`, `babel`, `swc`, `esbuild`, `tsup`, `nest build`). Every answer is
either a fact read from a file or the reason it cannot be known, naming what was checked.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from typing import TYPE_CHECKING, Any, NamedTuple

from dockfix.fixers._context_files import ContextFiles
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._package_managers import yarn_release

if TYPE_CHECKING:
    pass

# Commands that build a static site: the result is served, not run by Node.
STATIC_BUILDERS = (
    ("vite", "build"),
    ("react-scripts", "build"),
    ("ng", "build"),
    ("vue-cli-service", "build"),
    ("astro", "build"),
    ("gatsby", "build"),
)
# Commands that serve a directory of static files.
STATIC_SERVERS = frozenset({"serve", "http-server", "static-server", "live-server"})
# Runners that compile TypeScript at start: the sources and compiler must stay.
SOURCE_RUNNERS = frozenset({"ts-node", "tsx", "nodemon", "ts-node-dev", "babel-node"})
_SCRIPT_SPLIT = lazy_re(r"&&|\|\||;|\|")
_STANDALONE = lazy_re(r"""\boutput\s*:\s*["'`]standalone["'`]""")
NEXT_CONFIGS = ("next.config.js", "next.config.mjs", "next.config.cjs", "next.config.ts")


def package_manager(files: ContextFiles, project: str, installers: set[str]) -> tuple[str, bool]:
    """(`npm`, `yarn` (classic), `yarn-berry` or `pnpm`, True), or (why not, False)."""
    lock = {
        name: files.exists(posixpath.join(project, name))
        for name in ("package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml")
    }
    if "bun" in installers or files.exists(posixpath.join(project, "bun.lockb")):
        return "the project installs with Bun, whose production install is not handled", False
    tools = installers & {"npm", "yarn", "pnpm"}
    if len(tools) > 1:
        return "the stage installs with " + " and ".join(sorted(tools)), False
    tool = next(iter(tools), None)
    if tool is None:
        if lock["pnpm-lock.yaml"]:
            tool = "pnpm"
        elif lock["yarn.lock"]:
            tool = "yarn"
        elif lock["package-lock.json"] or lock["npm-shrinkwrap.json"]:
            tool = "npm"
        else:
            return (
                "no install command and no lock file (package-lock.json, yarn.lock, "
                "pnpm-lock.yaml) says which package manager the project uses",
                False,
            )
    if tool == "yarn":
        rc = files.text(posixpath.join(project, ".yarnrc.yml"))
        release = yarn_release(
            files.text(posixpath.join(project, "package.json")),
            rc,
            files.text(posixpath.join(project, "yarn.lock")),
        )
        if release is not None and release.berry:
            if rc is None or not re.search(r"^nodeLinker:\s*[\"']?node-modules", rc, re.M):
                return (
                    "Yarn Berry installs with Plug'n'Play unless `.yarnrc.yml` sets "
                    "`nodeLinker: node-modules`; the PnP install layout is not handled",
                    False,
                )
            return "yarn-berry", True
    return tool, True


PRUNE_COMMANDS = {
    "npm": "npm prune --omit=dev",
    "yarn": "yarn install --production --frozen-lockfile --prefer-offline",
    "yarn-berry": "yarn workspaces focus --all --production",
    "pnpm": "pnpm prune --prod",
}


class BuildOutput(NamedTuple):
    dirs: list[str]  # relative to the project directory
    standalone: bool  # Next.js `output: "standalone"`
    static: bool  # a static site builder (vite, react-scripts …)


def script_words(script: str) -> list[list[str]] | None:
    """The simple commands of an npm script (split on `&&`, `;`, `|`); None if unreadable."""
    out = []
    for part in _SCRIPT_SPLIT.split(script):
        try:
            words = shlex.split(part)
        except ValueError:
            return None
        while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
            words = words[1:]  # NODE_ENV=production tsc
        words = without_runner(words)
        if words:
            out.append(words)
    return out


def without_runner(words: list[str]) -> list[str]:
    """The command `npx tsc …`, `pnpm exec nest build …` runs: `tsc …`, `nest build …`."""
    if words[:1] in (["npx"], ["pnpx"]):
        words = words[1:]
        while words and words[0].startswith("-"):
            words = words[1:]
    elif words[:2] in (["pnpm", "exec"], ["yarn", "exec"], ["npm", "exec"]):
        words = words[2:]
    return words


def run_script_name(words: list[str]) -> str | None:
    """The package.json script a `npm run X` / `yarn X` / `pnpm X` command runs."""
    if not words:
        return None
    prog = posixpath.basename(words[0])
    rest = [w for w in words[1:] if not w.startswith("-")]
    if prog in ("npm", "pnpm", "yarn", "bun") and rest[:1] in (["run"], ["run-script"]):
        return rest[1] if len(rest) > 1 else None
    if prog in ("npm", "pnpm", "yarn", "bun") and rest[:1] in (["start"], ["test"]):
        return rest[0]
    if prog in ("yarn", "pnpm") and rest and rest[0] not in ("install", "add", "exec", "dlx"):
        return rest[0]
    return None


def build_output(
    files: ContextFiles, project: str, scripts: dict[str, Any], words: list[str], depth: int = 0
) -> BuildOutput | str:
    """Where the build command ``words`` writes, read from its flags and configuration files;
    or why that is unknown."""
    name = run_script_name(words)
    if name is not None:
        script = scripts.get(name)
        if not isinstance(script, str):
            return f"package.json has no `{name}` script"
        commands = script_words(script)
        if commands is None or depth > 4:
            return f"the `{name}` script of package.json cannot be read"
        dirs: list[str] = []
        standalone = static = False
        for cmd in commands:
            if cmd[0] in (
                "rimraf",
                "rm",
                "del",
                "del-cli",
                "shx",
                "mkdir",
                "cp",
                "copyfiles",
                "prisma",
                "echo",
                "cross-env",
            ):
                if cmd[0] == "cross-env":
                    cmd = [w for w in cmd[1:] if "=" not in w]
                    if not cmd:
                        continue
                else:
                    continue
            if cmd[0] in ("tsc", "tsc-alias") and "--noEmit" in cmd:
                continue
            got = build_output(files, project, scripts, cmd, depth + 1)
            if isinstance(got, str):
                return got
            dirs += [d for d in got.dirs if d not in dirs]
            standalone |= got.standalone
            static |= got.static
        if not dirs:
            return f"the `{name}` script (`{script}`) writes no output this rule can name"
        return BuildOutput(dirs, standalone, static)
    return _tool_output(files, project, words)


def _flag(words: list[str], *names: str) -> str | None:
    for i, w in enumerate(words):
        for n in names:
            if w == n and i + 1 < len(words):
                return words[i + 1]
            if n.startswith("--") and w.startswith(n + "="):
                return w[len(n) + 1 :]
    return None


def _tool_output(files: ContextFiles, project: str, words: list[str]) -> BuildOutput | str:
    prog = posixpath.basename(words[0])
    sub = words[1] if len(words) > 1 else ""
    if (prog, sub) in STATIC_BUILDERS:
        site = _flag(words, "--outDir", "--output-path", "--dest") or (
            "build" if prog == "react-scripts" else "dist"
        )
        return BuildOutput([posixpath.normpath(site)], False, True)
    if prog == "next" and sub == "build":
        for cfg in NEXT_CONFIGS:
            text = files.text(posixpath.join(project, cfg))
            if text is not None:
                if _STANDALONE.search(text):
                    return BuildOutput([".next/standalone", ".next/static"], True, False)
                return (
                    f'{cfg} does not set `output: "standalone"`, so `next start` needs the '
                    "whole `.next` directory and the `next` package"
                )
        return 'no next.config.js/.mjs/.ts sets `output: "standalone"`'
    if prog == "tsc":
        out = _flag(words, "--outDir")
        if out is not None:
            return BuildOutput([posixpath.normpath(out)], False, False)
        config = _flag(words, "-p", "--project", "-b", "--build") or "tsconfig.json"
        if config.startswith("-"):
            config = "tsconfig.json"
        return _tsconfig_out(files, project, config)
    if prog == "nest" and sub == "build":
        has_build = files.exists(posixpath.join(project, "tsconfig.build.json"))
        default = "tsconfig.build.json" if has_build else "tsconfig.json"
        return _tsconfig_out(files, project, _flag(words, "-p", "--path") or default)
    if prog in ("babel", "swc"):
        out = _flag(words, "-d", "--out-dir")
        if out is None:
            return f"`{prog}` without `--out-dir` writes no directory this rule can name"
        return BuildOutput([posixpath.normpath(out)], False, False)
    if prog == "esbuild":
        out = _flag(words, "--outdir")
        outfile = _flag(words, "--outfile")
        if out is None and outfile is not None:
            out = posixpath.dirname(posixpath.normpath(outfile))
        if not out or out == ".":
            return "`esbuild` writes no separate output directory (`--outdir`/`--outfile`)"
        return BuildOutput([posixpath.normpath(out)], False, False)
    if prog == "tsup":
        out = _flag(words, "-d", "--out-dir") or "dist"
        return BuildOutput([posixpath.normpath(out)], False, False)
    shown = " ".join(w for w in words[:2] if not w.startswith("-"))
    return f"`{shown}` writes where its own configuration says, which is not read"


def _tsconfig_out(files: ContextFiles, project: str, config: str) -> BuildOutput | str:
    path = posixpath.normpath(posixpath.join(project, config))
    if not path.endswith(".json"):
        path = posixpath.join(path, "tsconfig.json")
    for _ in range(5):
        data = files.json(path)
        if data is None:
            return f"`{posixpath.relpath(path, project)}` is not in the build context or not valid"
        options = data.get("compilerOptions") or {}
        if isinstance(options, dict) and options.get("noEmit") is True:
            return BuildOutput([], False, False)  # a type check
        out = options.get("outDir") if isinstance(options, dict) else None
        if isinstance(out, str):
            full = posixpath.normpath(posixpath.join(posixpath.dirname(path), out))
            rel = posixpath.relpath(full, project)
            if rel.startswith("..") or rel == ".":
                return f"`outDir` of `{posixpath.relpath(path, project)}` is not inside the project"
            return BuildOutput([rel], False, False)
        base = data.get("extends")
        if not isinstance(base, str) or not base.startswith("."):
            return (
                f"`{posixpath.relpath(path, project)}` sets no `compilerOptions.outDir`, so tsc "
                "writes next to the sources"
            )
        path = posixpath.normpath(posixpath.join(posixpath.dirname(path), base))
        if not path.endswith(".json"):
            path += ".json"
    return "the tsconfig `extends` chain is too long"


def start_words(argv: list[str], scripts: dict[str, Any]) -> list[str] | str:
    """The command the start command finally runs (`npm start` → the `start` script)."""
    words = argv
    for _ in range(4):
        name = run_script_name(words)
        if name is None:
            return words
        if isinstance(scripts.get(f"pre{name}"), str):
            return f"the `pre{name}` script of package.json runs at start"
        script = scripts.get(name)
        if not isinstance(script, str):
            return f"package.json has no `{name}` script"
        commands = script_words(script)
        if commands is None or len(commands) != 1:
            return f"the `{name}` script (`{script}`) is not one command"
        words = commands[0]
    return "the start scripts call each other too deep"


def slim_reference(reference: str, tag: str) -> str:
    """The `-slim` variant of an official `node` image reference (same registry, same
    version); a digest-pinned or already small (`-slim`, `-alpine`) reference as it is."""
    if "@" in reference or "slim" in tag or "alpine" in tag:
        return reference
    name = reference
    colon = reference.rfind(":")
    if colon > reference.rfind("/"):
        name = reference[:colon]
    return f"{name}:slim" if tag == "latest" else f"{name}:{tag}-slim"
