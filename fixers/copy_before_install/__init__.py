"""DF101 copy-before-install: the whole build context is copied before the dependency install.

## What it does
Finds a `COPY . <dest>` (or `ADD . <dest>`) that comes before the `RUN` installing the
project's dependencies in the same stage, and rewrites it to copy only the files the install
reads (manifests, lock files, the package manager's project configuration), run the install,
then copy the rest. It knows pip (`-r`/`-c` requirement files, followed recursively), uv
(`uv sync`, `uv pip`), Poetry, Pipenv, npm, Yarn (classic and Berry), pnpm, Bun, Go modules
(`go mod download`), Cargo (`cargo fetch`), Bundler, Composer, Maven
(`mvn dependency:go-offline`), Gradle (`gradle dependencies`), `dotnet restore` and Mix
(`mix deps.get`). The files it names are read from the build context on disk: the
Dockerfile's directory, or the context given with `--context` or the configuration.

## Why is this bad
Docker reuses a layer only when everything it was built from is unchanged. After `COPY . .`
any edit to any file invalidates the copy, so the install below it runs again on every code
change: minutes of downloads and compilation in CI for a one-line change. Copying the
manifests first lets the install layer be reused until the dependencies change.

## Example
```dockerfile
FROM python:3.12-slim
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir -r requirements.txt
CMD ["gunicorn", "app:app"]
```

Use instead:
```dockerfile
FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
CMD ["gunicorn", "app:app"]
```

An install that also installs the project gets a flag to leave it out, and the original
command runs again after the full copy:
```dockerfile
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-install-project
COPY . .
RUN uv sync --frozen
```
A `RUN` that installs and then builds (`npm ci && npm run build`) is split at the `&&`,
with the full copy in between.

## Fix safety
The fix is **safe** when every file it names exists in the build context and is not excluded
by `.dockerignore`, the install reads nothing else from the copied tree, and only
instructions that cannot read the tree stand between the copy and the install (`ENV`, `ARG`,
`WORKDIR`, `USER`, `LABEL`, `EXPOSE`, … and `RUN`s of system package managers). The manifests
land at the paths the whole-tree copy gave them; `--chown`, `--chmod` and `--link` are carried
over; the destination keeps its spelling (made absolute when a `WORKDIR` between would change
it); `# hadolint ignore=` lines above the moved instructions go with them. When the install
also installs the project (`uv sync`, `poetry install`), it gets `--no-install-project` /
`--no-root` and the original command runs again right after the full copy. `cargo fetch`
needs a target to read a manifest, so the fix creates the package's `src/main.rs` /
`src/lib.rs` empty for the fetch; the full copy replaces them. A `RUN` is split only at an `&&`
followed by `&&` alone, with its flags and any `cd`/`export`/`set` repeated. Go's
`go mod download` is treated as read-only: it adds to `go.sum` only sums `go build` needs too.

It is **unsafe** (applied with `--unsafe-fixes`) when the install may rewrite a lock file
that exists in the context (`npm install`, `yarn` without `--frozen-lockfile`/`--immutable`,
`pnpm` without `--frozen-lockfile`, `uv sync` without `--locked`/`--frozen`, `pipenv install`
without `--deploy`, `bundle install` outside frozen or deployment mode, `cargo fetch` without
`--locked`, `mix deps.get`, `dotnet restore` without `--locked-mode`): after the split the later
copy puts the context's lock file back over the rewritten one. Gradle splits are always unsafe
(build scripts are code), and so is splitting a `RUN` whose download only fills a cache mount
(`go`, `cargo`, `mvn`, `gradle`, `dotnet`): the build step then relies on the mount surviving
between steps. `pip install .` of a project whose dependencies are declared statically
(`[project.dependencies]`, or a literal `install_requires` in `setup.py`) becomes an unsafe
fix that installs those dependencies, written into the `RUN`, before the code is copied; the
original `pip install .` still runs after the copy and installs anything that went missing.

No fix (display-only, with the reason) when the install reads what the manifests do not
provide: lifecycle scripts in `package.json` (`postinstall`, `prepare`, …), Composer scripts,
plugins or classmap autoloading, path dependencies, workspaces and monorepos (npm, Yarn,
pnpm, Bun, Cargo, Go, uv, Maven modules and parent POMs, .NET solutions and project
references, Mix umbrellas), `pip install .` with dynamic dependencies, a `Gemfile` that loads a
gemspec or other files; when a `RUN` or `COPY` between the copy and the install may read the
tree; when a required file is missing, a symbolic link, or excluded by `.dockerignore`; when
the context holds what the install writes (`node_modules`, `.venv`, `vendor`, `obj`, …), which
the later copy would lay over the installed files; when the rewrite would put two
single-command `RUN`s next to each other (hadolint DL3059) in a file that had none; and when
the build context is not on disk (standard input). `RUN`s with heredoc scripts or bind mounts
of the context are not analysed.

## Options
- `split-runs` (bool, default `true`): split a `RUN` that installs and then builds
  (`npm ci && npm run build`) at the `&&` after the install. With `false` such a `RUN` is
  reported without a fix.

## Resolves
none (hadolint, Trivy and Checkov have no rule for the order of copy and install).
"""

from __future__ import annotations

import json
import posixpath
import re
import stat
from collections import ChainMap
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from dockfix.fixer import Edit, Finding, Fix, Fixer, Option, Resolves, Severity, register
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._package_managers import (
    InstallMatch,
    match_command,
    truthy,
)
from dockfix.syntax import VariableHistory
from dockfix.variables import layered

if TYPE_CHECKING:
    from dockfix.context import FixContext
    from dockfix.shell import SimpleCommand, Word
    from dockfix.syntax import Dockerfile, Instruction, Stage

__all__ = ["CopyBeforeInstall"]

# Stand-in for the base image's WORKDIR, which the Dockerfile does not tell.
_IMAGE_WORKDIR = "/.dockfix-image-workdir"
# Stand-ins for a WORKDIR set from a build argument without a default: "/.dockfix-line-<n>".
_SYNTHETIC = "/.dockfix-"


def _synthetic_root(path: str) -> str | None:
    if not path.startswith(_SYNTHETIC):
        return None
    return "/" + path[1:].split("/", 1)[0]


# Instructions that never read the files a COPY placed.
_TRANSPARENT = frozenset(
    {
        "ENV",
        "ARG",
        "LABEL",
        "EXPOSE",
        "USER",
        "WORKDIR",
        "STOPSIGNAL",
        "HEALTHCHECK",
        "CMD",
        "ENTRYPOINT",
        "SHELL",
        "MAINTAINER",
        "ONBUILD",
    }
)
# Tools whose install only fills a download cache (not the image layer).
_FETCH_INTO_CACHE = frozenset({"go", "cargo", "maven", "gradle", "dotnet"})
_COPY_FLAGS_CARRIED = frozenset({"chown", "chmod", "link"})
_PRAGMA_RE = lazy_re(r"#\s*(?:hadolint|dockfix)\s+ignore\s*=|#\s*trivy:ignore|#\s*checkov:skip")
_HADOLINT_IGNORE_RE = lazy_re(r"(\s*#\s*hadolint\s+ignore\s*=\s*)(\S+)(.*)")
_VAR_RE = lazy_re(
    r"\\\$|\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)
# Characters a COPY source cannot carry unquoted (word splitting, globbing, expansion).
_UNSAFE_NAME_RE = lazy_re(r"[\s$*?\[\]{}\\'\"`#]")
_UV_IMAGE_RE = lazy_re(r"astral-sh/uv:(\d+)\.(\d+)\.(\d+)|\buv==(\d+)\.(\d+)\.(\d+)")


# --- paths and variables ----------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _join(cwd: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(cwd, path))


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _rel(path: str, root: str) -> str:
    if path == root:
        return ""
    return path[len(root.rstrip("/")) + 1 :]


def _expand(text: str, scope: Mapping[str, str | None]) -> str | None:
    """Expand ``$VAR``/``${VAR...}`` like BuildKit; None when a value is unknown.

    ``scope`` holds values already expanded (see :func:`_scope`); None marks a build argument
    without a default, whose value only the build knows.
    """
    unknown = False

    def repl(m: re.Match[str]) -> str:
        nonlocal unknown
        if m.group(0) == "\\$":
            return "$"
        name = m.group(1) or m.group(4)
        op, word = m.group(2), m.group(3) or ""
        declared = name in scope
        value = scope.get(name)
        if declared and value is None:
            unknown = True  # a build argument decides
            return ""
        if not declared:
            # Not set in this Dockerfile: it may come from the base image's environment.
            unknown = True
            return ""
        assert value is not None
        if op == ":-":
            return value or word
        if op == "-":
            return value
        if op == ":+":
            return word if value else ""
        if op == "+":
            return word
        return value

    out = _VAR_RE.sub(repl, text)
    return None if unknown else out


def _scope(doc: Dockerfile, stage: Stage, instr: Instruction | None) -> Mapping[str, str | None]:
    """ARG/ENV values in effect before ``instr`` (end of stage when None), expanded in order
    (a read-only view)."""
    return _scope_history(doc, stage).at(stage.position(instr))


def _scope_history(doc: Dockerfile, stage: Stage) -> VariableHistory:
    # Asked for every RUN and WORKDIR of a stage: one walk per tree.
    from dockfix.syntax import arg_pairs, env_pairs

    key = ("cbi-scope", stage)
    cached = doc.cache.get(key)
    if isinstance(cached, VariableHistory):
        return cached
    global_scope: dict[str, str | None] = {}
    for gi in doc.instructions:
        if gi.keyword == "FROM":
            break
        if gi.keyword == "ARG":
            for name, value in arg_pairs(gi):
                global_scope[name] = _expand(value, global_scope) if value is not None else None
    scope: dict[str, str | None] = {}
    if stage.parent is not None and stage.parent is not stage:
        scope.update(_scope(doc, stage.parent, None))
    history = doc.cache[key] = VariableHistory(scope)
    for i in stage.instructions:
        if i.keyword == "ARG":
            for name, value in arg_pairs(i):
                if value is None:
                    if name in scope:
                        continue
                    value = global_scope.get(name)
                    scope[name] = value
                else:
                    scope[name] = _expand(value, scope)
                history.set(name, i.index, scope[name])
        elif i.keyword == "ENV":
            for name, value in env_pairs(i):
                scope[name] = _expand(value, scope)
                history.set(name, i.index, scope[name])
    return history


def _copy_env(env: MutableMapping[str, str | None]) -> MutableMapping[str, str | None]:
    """A copy of a RUN's variables: what the RUN set copied, the stage's shared (a view)."""
    if isinstance(env, ChainMap) and len(env.maps) == 2:
        return ChainMap(dict(env.maps[0]), env.maps[1])
    return dict(env)


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _var_names(text: str) -> set[str]:
    return {m.group(1) or m.group(4) for m in _VAR_RE.finditer(text) if m.group(0) != "\\$"}


# --- the build context ----------------------------------------------------------------------


class _ContextUnavailable(Exception):
    """The context cannot be judged (e.g. the .dockerignore matcher is missing)."""


class _Tree:
    """The files a whole-tree COPY puts under ``dest``: context paths seen as container paths."""

    def __init__(self, ctx: FixContext | None, dest: str) -> None:
        self.ctx = ctx
        self.dest = dest
        self.blind = ctx is None or not ctx.has_context

    def rel(self, path: str) -> str | None:
        return _rel(path, self.dest) if _under(path, self.dest) else None

    def ambiguous(self, path: str) -> bool:
        """An absolute path compared with a destination under the unknown image WORKDIR."""
        root = _synthetic_root(self.dest)
        return root is not None and not _under(path, root)

    def _excluded(self, rel: str) -> bool:
        assert self.ctx is not None
        try:
            return self.ctx.is_excluded(rel)
        except ImportError as e:  # the .dockerignore matcher is not installed
            raise _ContextUnavailable("cannot evaluate .dockerignore") from e

    def state(self, path: str) -> str:
        """``file``, ``dir``, ``symlink``, ``missing``, ``excluded``, ``outside`` or ``unknown``."""
        rel = self.rel(path)
        if rel is None:
            return "outside"
        if self.blind or self.ctx is None:
            return "unknown"
        if self.ctx.context_dir is None:
            return "unknown"
        st = self.ctx.lstat(rel)
        if st is not None and stat.S_ISLNK(st.st_mode):
            return "excluded" if rel and self._excluded(rel) else "symlink"
        if st is None:
            return "missing"
        if rel and self._excluded(rel):
            return "excluded"
        return "dir" if stat.S_ISDIR(st.st_mode) else "file"

    def is_file(self, path: str) -> bool:
        return self.state(path) == "file"

    def read(self, path: str) -> str | None:
        if self.state(path) != "file" or self.ctx is None:
            return None
        rel = self.rel(path)
        return self.ctx.read_text(rel) if rel is not None else None

    def listdir(self, path: str) -> list[str]:
        rel = self.rel(path)
        if rel is None or self.blind or self.ctx is None:
            return []
        return self.ctx.list_dir(rel)

    def brings(self, path: str) -> bool:
        """Whether the whole-tree copy puts something at ``path`` (a file, or a non-empty dir)."""
        st = self.state(path)
        if st in ("file", "symlink"):
            return True
        if st != "dir":
            return False
        return any(self.state(posixpath.join(path, n)) != "excluded" for n in self.listdir(path))

    def find_up(self, start: str, names: tuple[str, ...]) -> str | None:
        """The nearest ``start``-or-parent path (inside the tree) holding one of ``names``."""
        d = start
        while _under(d, self.dest):
            for n in names:
                p = posixpath.join(d, n)
                if self.state(p) in ("file", "excluded", "symlink", "unknown"):
                    return p
            if d == self.dest:
                break
            d = posixpath.dirname(d)
        return None


# --- what a command needs and does -------------------------------------------------------------


@dataclass(slots=True, eq=False)
class _Need:
    path: str  # container path
    required: bool
    is_dir: bool = False


@dataclass(eq=False)
class _Plan:
    tool: str
    installs: bool = True  # a dependency install (not a helper such as apt-get)
    needs: list[_Need] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)
    stubs: list[str] = field(default_factory=list)  # files created empty and replaced later
    blockers: list[str] = field(default_factory=list)
    unsafe: list[str] = field(default_factory=list)
    # Replacements inside the RUN's logical line: (start, end, text).
    edits: list[tuple[int, int, str]] = field(default_factory=list)
    reinstall: bool = False  # run the original command again after the full copy
    hadolint_ignores: set[str] = field(default_factory=set)
    label: str = ""  # the command as written, for messages

    def need(self, path: str, required: bool = True, is_dir: bool = False) -> None:
        self.needs.append(_Need(path, required, is_dir))


@dataclass(slots=True, eq=False)
class _Refusal:
    """The command cannot run before the full copy. ``install``: it is a dependency install
    that cannot be split (reported); otherwise it just reads the tree and the walk stops."""

    reason: str
    install: bool = True
    label: str = ""


@dataclass(eq=False)
class _Cmd:
    argv: list[str]
    words: list[Word | None]  # parallel to argv; None in exec form
    cwd: str | None
    env: MutableMapping[str, str | None]
    node: SimpleCommand | None
    exec_form: bool
    text: str  # the command as written (logical)
    home: str | None = "/root"  # $HOME when the environment does not set it

    def word_span(self, i: int) -> tuple[int, int] | None:
        w = self.words[i] if i < len(self.words) else None
        return (w.start, w.end) if w is not None else None

    def path(self, value: str) -> str | None:
        """A path argument as a container path (None when a variable or the cwd is unknown)."""
        v = _expand(value, self.env) if "$" in value else value
        if v is not None and (v == "~" or v.startswith("~/")):
            home = self.env.get("HOME") if "HOME" in self.env else self.home
            v = None if home is None else home + v[1:]
        if v is None or v.startswith("~"):
            return None
        if v.startswith("/"):
            return posixpath.normpath(v)
        if self.cwd is None:
            return None
        return _join(self.cwd, v)


def _parse_opts(
    args: list[str], value_opts: frozenset[str], offset: int = 0
) -> tuple[dict[str, list[tuple[str, int]]], list[tuple[str, int]]]:
    """Options (name → [(value, argv index)]) and positional words; indexes are ``offset``-based."""
    opts: dict[str, list[tuple[str, int]]] = {}
    pos: list[tuple[str, int]] = []
    i = 0
    while i < len(args):
        a = args[i]
        idx = offset + i
        if a == "--":
            pos.extend((x, offset + j) for j, x in enumerate(args[i + 1 :], i + 1))
            break
        if a.startswith("--") and "=" in a:
            name, val = a.split("=", 1)
            opts.setdefault(name, []).append((val, idx))
        elif a in value_opts:
            val = args[i + 1] if i + 1 < len(args) else ""
            opts.setdefault(a, []).append((val, idx))
            i += 1
        elif len(a) > 2 and a[0] == "-" and a[1] != "-" and a[:2] in value_opts:
            opts.setdefault(a[:2], []).append((a[2:], idx))
        elif a.startswith("-") and a != "-":
            opts.setdefault(a, []).append(("", idx))
        else:
            pos.append((a, idx))
        i += 1
    return opts, pos


def _values(opts: dict[str, list[tuple[str, int]]], *names: str) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for n in names:
        out.extend(opts.get(n, []))
    return sorted(out, key=lambda t: t[1])


def _has(opts: dict[str, list[tuple[str, int]]], *names: str) -> bool:
    return any(n in opts for n in names)


def _load_toml(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def _load_json(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _table(d: Any, *keys: str) -> dict[str, Any]:
    for k in keys:
        if not isinstance(d, dict):
            return {}
        d = d.get(k)
    return d if isinstance(d, dict) else {}


def _shell_quote(spec: str) -> str | None:
    if re.fullmatch(r"[A-Za-z0-9_.,:=@%+/-]+", spec):
        return spec
    if "'" not in spec:
        return f"'{spec}'"
    if not re.search(r'["$`\\!]', spec):
        return f'"{spec}"'
    return None


def _glob_prefix(path: str) -> str:
    """The part of a path before its first component with glob characters."""
    parts = path.split("/")
    for i, part in enumerate(parts):
        if any(c in part for c in "*?["):
            return "/".join(parts[:i]) or ("/" if path.startswith("/") else ".")
    return path


def _shell_unquote(raw: str) -> str:
    """Shell quote removal (variables are left for :func:`_expand`)."""
    if "'" not in raw and '"' not in raw and "\\" not in raw:
        return raw  # most words: nothing to remove
    out: list[str] = []
    i = 0
    n = len(raw)
    while i < n:
        c = raw[i]
        if c == "'":
            j = raw.find("'", i + 1)
            j = n if j < 0 else j
            out.append(raw[i + 1 : j])
            i = j + 1
        elif c == '"':
            i += 1
            while i < n and raw[i] != '"':
                if raw[i] == "\\" and i + 1 < n and raw[i + 1] in '$`"\\\n':
                    i += 1
                out.append(raw[i])
                i += 1
            i += 1
        elif c == "\\" and i + 1 < n:
            out.append(raw[i + 1])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


_LOCAL_ARCHIVE = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar")


class _Requirements:
    """The requirements of a `[project]` table, the project's own extras expanded, each once.

    A class, not a recursive nested function: such a closure holds itself in a cell, a
    cycle that would leave the whole analysis to the garbage collector."""

    def __init__(self, name: str, optional: dict[str, Any]) -> None:
        self.name = name
        self.optional = optional
        self.deps: list[str] = []
        self.seen: set[str] = set()

    def add(self, specs: Any, depth: int = 0) -> str:
        """Take ``specs``; a reason when they are not a plain list of static requirements."""
        if not isinstance(specs, list) or depth > 5:
            return "its dependencies are not a plain list"
        name, optional = self.name, self.optional
        for s in specs:
            if not isinstance(s, str):
                return "its dependencies are not a plain list"
            if _req_name(s) == name and name:
                inner = re.findall(r"\[([^\]]*)\]", s.split(";", 1)[0])
                for x in (x for e in inner for x in e.split(",") if x.strip()):
                    err = self.add(
                        optional.get(_canonical(x)) or optional.get(x.strip()), depth + 1
                    )
                    if err:
                        return err
                continue
            if _is_local_requirement(s):
                return f"it depends on the local path `{s}`"
            if s not in self.seen:
                self.seen.add(s)
                self.deps.append(s)
        return ""


def _is_local_requirement(spec: str) -> bool:
    s = spec.strip()
    if s.startswith("file:"):
        return True
    if "@" in s and not s.startswith((".", "/")):
        url = s.split("@", 1)[1].strip()
        return url.startswith("file:")
    if "://" in s or s.startswith(("git+", "hg+", "svn+", "bzr+")):
        return False
    base = s.split("[", 1)[0].split(";", 1)[0].strip()
    return (
        base in (".", "..")
        or base.startswith((".", "/", "~"))
        or "/" in base
        or base.endswith(_LOCAL_ARCHIVE)
    )


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


_REQ_NAME_RE = lazy_re(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _req_name(spec: str) -> str:
    m = _REQ_NAME_RE.match(spec)
    return _canonical(m.group(1)) if m else ""


# --- the fixer ----------------------------------------------------------------------------------


@register
class CopyBeforeInstall(Fixer):
    code = "DF101"
    severity = Severity.WARNING
    name = "copy-before-install"
    summary = "The whole build context is copied before the dependency install"
    resolves = Resolves()
    uses_context = True
    options: ClassVar[Mapping[str, Option]] = {
        "split-runs": Option(
            bool,
            True,
            "Split a RUN that installs and then builds at the `&&` after the install.",
        ),
    }

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        if doc.escape == "`":
            return  # Windows images: paths and shells this fixer does not model
        for stage in doc.stages:
            if _windows_stage(stage):
                continue
            for i, instr in enumerate(stage.instructions):
                source = _whole_tree_copy(instr)
                if source is None:
                    continue
                finding = _Check(self, doc, ctx, stage, i, source).run()
                if finding is not None:
                    yield finding


def _windows_stage(stage: Stage) -> bool:
    base = stage.base.lower()
    if "windows" in base or "nanoserver" in base or "servercore" in base:
        return True
    for instr in stage.instructions:
        if instr.keyword == "SHELL" and instr.json_args:
            exe = instr.json_args[0].lower()
            if "powershell" in exe or "pwsh" in exe or exe.endswith("cmd") or "cmd.exe" in exe:
                return True
    return False


@dataclass(slots=True, eq=False)
class _CopySource:
    src: str
    dest: str  # as written


def _whole_tree_copy(instr: Instruction) -> _CopySource | None:
    if instr.keyword not in ("COPY", "ADD") or instr.heredocs or instr.trigger is not None:
        return None
    if instr.flag("from") is not None:
        return None
    args = instr.json_args if instr.json_args is not None else [w for w, _, _ in instr.args_words()]
    if len(args) != 2 or args[0] not in (".", "./"):
        return None
    return _CopySource(args[0], args[1])


def _default_home(doc: Dockerfile, stage: Stage, index: int) -> str | None:
    """$HOME for the user a RUN runs as: /root unless a USER instruction changed the user."""
    return _stage_homes(doc, stage)[index]


def _stage_homes(doc: Dockerfile, stage: Stage) -> list[str | None]:
    """:func:`_default_home` before each instruction of the stage and at its end; once per
    tree (a walk back from every RUN made a file's cost quadratic)."""
    key = ("cbi-homes", stage)
    cached = doc.cache.get(key)
    if isinstance(cached, list):
        return cached
    parent = stage.parent
    home = _stage_homes(doc, parent)[-1] if parent is not None and parent is not stage else "/root"
    homes: list[str | None] = []
    for instr in stage.instructions:
        homes.append(home)
        if instr.keyword == "USER":
            user = instr.args.split(":", 1)[0].strip()
            home = "/root" if user in ("root", "0") else None
    homes.append(home)
    doc.cache[key] = homes
    return homes


def _initial_workdir(stage: Stage, doc: Dockerfile) -> str | None:
    if stage.parent is not None and stage.parent is not stage:
        return _workdir_at(stage.parent, len(stage.parent.instructions), doc)
    return "/" if stage.base.lower() == "scratch" else _IMAGE_WORKDIR


def _workdir_at(stage: Stage, index: int, doc: Dockerfile) -> str | None:
    """The WORKDIR before the stage's instruction ``index`` (its end for the length)."""
    return _stage_workdirs(stage, doc)[index]


def _stage_workdirs(stage: Stage, doc: Dockerfile) -> list[str | None]:
    """The WORKDIR before each instruction of the stage and at its end, once per tree."""
    key = ("cbi-workdirs", stage)
    cached = doc.cache.get(key)
    if isinstance(cached, list):
        return cached
    cwd = _initial_workdir(stage, doc)
    out: list[str | None] = []
    for instr in stage.instructions:
        out.append(cwd)
        if instr.keyword != "WORKDIR":
            continue
        value = _expand(_unquote(instr.args), _scope(doc, stage, instr))
        if value is None:
            # Unknown (a build argument): equal only to itself.
            cwd = f"{_SYNTHETIC}line-{instr.start_line}"
        elif value.startswith("/"):
            cwd = posixpath.normpath(value)
        elif cwd is not None:
            cwd = _join(cwd, value)
    out.append(cwd)
    doc.cache[key] = out
    return out


@dataclass(eq=False)
class _RunResult:
    instr: Instruction
    kind: str  # install | transparent | reader | split | mixed
    plans: list[_Plan] = field(default_factory=list)
    split_at: int = 0  # chain index of the first command after the install (split)
    state: list[str] = field(default_factory=list)  # cd/set/export texts to repeat
    reason: str = ""
    label: str = ""  # the install, as written (for messages)
    script: Any = None


class _Check:
    """One whole-tree COPY and the installs after it."""

    def __init__(
        self,
        fixer: CopyBeforeInstall,
        doc: Dockerfile,
        ctx: FixContext,
        stage: Stage,
        index: int,
        source: _CopySource,
    ) -> None:
        self.fixer = fixer
        self.doc = doc
        self.ctx = ctx
        self.stage = stage
        self.index = index
        self.copy = stage.instructions[index]
        self.source = source
        self.cwd = _workdir_at(stage, index, doc)
        scope = _scope(doc, stage, self.copy)
        dest = _expand(_unquote(source.dest), scope)
        self.dest: str | None = None
        if dest is not None:
            if dest.startswith("/"):
                self.dest = posixpath.normpath(dest)
            elif self.cwd is not None:
                self.dest = _join(self.cwd, dest)
        self.tree = _Tree(ctx, self.dest or "/")
        self.earlier = _earlier_installs(doc, stage, index)
        self.generated: set[str] = set()
        self.bundle_frozen = False

    # --- walking the stage ----------------------------------------------------------------
    def run(self) -> Finding | None:
        instrs = self.stage.instructions
        results: list[_RunResult] = []
        blocker: Instruction | None = None
        blocker_reason = ""
        for j in range(self.index + 1, len(instrs)):
            instr = instrs[j]
            kw = instr.keyword
            if kw in _TRANSPARENT:
                continue
            if kw != "RUN":
                blocker, blocker_reason = instr, f"the `{kw}` at line {instr.start_line}"
                break
            res = self.analyze_run(instr, j)
            results.append(res)
            if res.kind in ("transparent", "install"):
                continue
            if res.kind == "split":
                break
            results.pop()
            if res.kind == "mixed" and not any(r.kind == "install" for r in results):
                return self.fixer.finding(self.copy, self.message(res.label), reason=res.reason)
            blocker = instr
            blocker_reason = f"the RUN at line {instr.start_line} ({res.reason})"
            break
        installs = [r for r in results if r.kind in ("install", "split")]
        if not installs:
            if blocker is not None:
                return self.later_install(blocker, blocker_reason)
            return None
        last = installs[-1]
        return self.build(results[: results.index(last) + 1])

    def later_install(self, blocker: Instruction, why: str) -> Finding | None:
        """An install further down, past an instruction that may read the tree: report only."""
        instrs = self.stage.instructions
        for j in range(self.stage.local_index(blocker) + 1, len(instrs)):
            instr = instrs[j]
            if _whole_tree_copy(instr) is not None:
                return None
            if instr.keyword != "RUN":
                continue
            res = self.analyze_run(instr, j)
            if res.kind in ("install", "split", "mixed"):
                return self.fixer.finding(
                    self.copy,
                    self.message(res.label),
                    reason=f"{why} comes between the copy and `{res.label}` (line "
                    f"{instr.start_line}) and may read the copied files; move the install "
                    "above it by hand",
                )
        return None

    def message(self, label: str) -> str:
        label = " ".join(label.split()) or "the dependency install"
        return (
            f"`{self.copy.keyword} {self.source.src} {self.source.dest}` comes before `{label}`: "
            "every change to any file reinstalls the dependencies"
        )

    # --- one RUN --------------------------------------------------------------------------------
    def analyze_run(self, instr: Instruction, index: int) -> _RunResult:
        from dockfix.shell import shell_of

        res = _RunResult(instr, "reader")
        if instr.heredocs:
            res.reason = "a heredoc script"
            return res
        for f in instr.flags:
            if f.name == "mount" and _bind_from_context(f.value or ""):
                res.reason = "it bind-mounts the build context"
                return res
        cwd = _workdir_at(self.stage, index, self.doc)
        env = layered(_scope(self.doc, self.stage, instr))
        home = _default_home(self.doc, self.stage, index)
        if instr.json_args is not None:
            argv = list(instr.json_args)
            if not argv:
                return res
            cmd = _Cmd(argv, [None] * len(argv), cwd, env, None, True, " ".join(argv), home)
            plan = self.plan_command(cmd)
            res.label = cmd.text
            if isinstance(plan, _Refusal):
                res.reason = plan.reason
                res.kind = "mixed" if plan.install else "reader"
                return res
            res.plans = [plan]
            if plan.edits or plan.stubs or plan.reinstall or plan.hadolint_ignores:
                res.kind = "mixed"
                res.reason = "the exec-form install would need rewriting; use the shell form"
                return res
            res.kind = "install" if plan.installs and self.reads_tree(plan) else "transparent"
            return res
        script = shell_of(instr)
        res.script = script
        if script is None or script.has_error or script.comments:
            res.reason = "not a plain command chain"
            return res
        plans: list[_Plan] = []
        state: list[tuple[int, str]] = []
        k = 0
        reason = ""
        refused: _Refusal | None = None
        for idx, item in enumerate(script.chain):
            if item.op != "&" and item.command is None and item.kind == "declaration_command":
                # `export A=1 B=2`: a state change repeated before the commands that move.
                decl = instr.logical[item.start : item.end].strip()
                decl_words = decl.split()
                if decl_words[:1] == ["export"] and not re.search(r"[`(]|\$\(", decl):
                    for w in decl_words[1:]:
                        name, sep, value = _shell_unquote(w).partition("=")
                        if sep:
                            env[name] = _expand(value, env) if "$" in value else value
                    state.append((idx, decl))
                    k = idx + 1
                    continue
            if item.op == "&" or item.command is None:
                reason = f"`{instr.logical[item.start : item.end].strip()}`"
                break
            node = item.command
            text = instr.logical[node.start : node.end]
            if any(
                r.raw.replace(" ", "")
                not in ("2>&1", ">/dev/null", "1>/dev/null", "2>/dev/null", "&>/dev/null")
                for r in node.redirects
            ):
                reason = f"`{text.strip()}`"
                break
            argv, words = _argv_words(node)
            if not argv:  # `X=1` alone sets a shell variable for the rest of the RUN
                for a in node.assignments:
                    name, _, value = a.value.partition("=")
                    env[name] = _unquote(value)
                state.append((idx, text.strip()))
                k = idx + 1
                continue
            cmd = _Cmd(argv, list(words), cwd, _copy_env(env), node, False, text, home)
            for a in node.assignments:
                name, _, value = a.value.partition("=")
                cmd.env[name] = _unquote(value)
            st = self.state_command(cmd)
            if st is not None:
                if st is False or st is True:
                    reason = f"`{text.strip()}`"
                    break
                cwd, env = st
                state.append((idx, text.strip()))
                k = idx + 1
                continue
            plan = self.plan_command(cmd)
            if isinstance(plan, _Refusal):
                refused = plan
                reason = plan.reason if plan.install else f"`{text.strip()}`"
                break
            plan.label = text.strip()
            plans.append(plan)
            for w in plan.writes:
                self.generated.add(w)
            k = idx + 1
        res.plans = plans
        res.state = [t for _, t in state]
        # An install RUN: it installs, and it (or a command feeding it) reads the tree.
        reads = [p for p in plans if self.reads_tree(p)]
        if not any(p.installs for p in plans):
            reads = []
        res.label = reads[0].label if reads else (refused.label if refused else "")
        if k == len(script.chain):
            res.kind = "install" if reads else "transparent"
            return res
        res.reason = reason
        if not reads:
            # An install that cannot be split (e.g. `pip install .` with dynamic metadata) is
            # reported; anything else just reads the tree.
            res.kind = "mixed" if refused is not None and refused.install else "reader"
            return res
        # The install is followed by other commands: split at the `&&` after the install, before
        # any `cd`/`export` that only served the commands after it.
        last_plan = max(
            i
            for i, it in enumerate(script.chain[:k])
            if it.command is not None
            and any(
                p.label == instr.logical[it.command.start : it.command.end].strip() for p in plans
            )
        )
        k = last_plan + 1
        res.state = [t for i, t in state if i < k]
        ops = [it.op for it in script.chain[k:]]
        if not self.fixer.settings.get("split-runs", True):
            res.kind = "mixed"
            res.reason = (
                f"the install shares its RUN with {reason}, which needs the full tree "
                "(split-runs is off)"
            )
            return res
        if any(op != "&&" for op in ops):
            res.kind = "mixed"
            res.reason = (
                f"the install shares its RUN with {reason}, which needs the full tree, and the "
                "commands are not joined by `&&` alone; split the RUN by hand"
            )
            return res
        res.kind = "split"
        res.split_at = k
        return res

    def reads_tree(self, plan: _Plan) -> bool:
        return any(
            self.dest is not None and (_under(n.path, self.dest) or self.tree.ambiguous(n.path))
            for n in plan.needs
        ) or bool(plan.blockers)

    def state_command(
        self, cmd: _Cmd
    ) -> tuple[str | None, MutableMapping[str, str | None]] | bool | None:
        """``cd``/``set``/``export``/``source``: the new (cwd, env), False when unknown, else None."""
        name = cmd.argv[0]
        if name == "cd":
            if len(cmd.argv) != 2:
                return False
            target = cmd.path(cmd.argv[1])
            return (target, cmd.env) if target is not None else False
        if name == "set":
            return (cmd.cwd, cmd.env)
        if name == "export":
            env = _copy_env(cmd.env)
            for a in cmd.argv[1:]:
                if a.startswith("-"):
                    return False
                k, sep, v = a.partition("=")
                env[k] = _unquote(v) if sep else env.get(k)
            return (cmd.cwd, env)
        if name in ("source", "."):
            if len(cmd.argv) < 2:
                return False
            p = cmd.path(cmd.argv[1])
            if p is None or not p.startswith("/") or self.touches_tree(p):
                return False
            return (cmd.cwd, cmd.env)
        return None

    def touches_tree(self, path: str) -> bool:
        if self.dest is None:
            return True
        return _under(path, self.dest) or _under(self.dest, path) or self.tree.ambiguous(path)

    # --- one command ----------------------------------------------------------------------------
    def plan_command(self, cmd: _Cmd) -> _Plan | _Refusal:
        argv = cmd.argv
        exe = argv[0].rsplit("/", 1)[-1]
        if exe in ("mvn", "mvnw"):
            return _refusal(self.maven(cmd), True, cmd)
        if exe in ("gradle", "gradlew"):
            return _refusal(self.gradle(cmd), True, cmd)
        m = match_command(argv)
        if m is None:
            return _refusal(self.helper(cmd), False, cmd)
        if not m.is_install:
            return _refusal(self.other_subcommand(cmd, m), False, cmd)
        analyzer = {
            "pip": self.pip,
            "uv-pip": self.pip,
            "uv": self.uv_sync,
            "poetry": self.poetry,
            "pipenv": self.pipenv,
            "npm": self.npm,
            "yarn": self.yarn,
            "pnpm": self.pnpm,
            "bun": self.bun,
            "go": self.go,
            "cargo": self.cargo,
            "bundler": self.bundler,
            "composer": self.composer,
            "dotnet": self.dotnet,
            "mix": self.mix,
        }[m.manager.name]
        if m.manager.name not in ("pip", "uv-pip") and m.manager.name in self.earlier:
            return _Refusal(
                f"`{cmd.text.strip()}` runs after an earlier `{m.manager.name}` install of the "
                "manifests, so it installs the project from the full tree",
                False,
            )
        return _refusal(analyzer(cmd, m), True, cmd)

    def project_dir(self, cmd: _Cmd, explicit: str | None) -> str | None:
        if explicit:
            return cmd.path(explicit)
        return cmd.cwd

    def node_project(self, cmd: _Cmd, explicit: str | None) -> tuple[str, str] | None:
        """(package.json, its directory) for a Node install run from ``cmd``'s directory
        (or the one its ``--cwd``/``--prefix`` names); None when it cannot be resolved."""
        start = self.project_dir(cmd, explicit)
        if start is None:
            return None
        pkg_json = self.tree.find_up(start, ("package.json",)) or posixpath.join(
            start, "package.json"
        )
        return pkg_json, posixpath.dirname(pkg_json)

    # --- helpers: commands that need nothing from the project ---------------------------------
    def helper(self, cmd: _Cmd) -> _Plan | _Refusal | str:
        argv = cmd.argv
        exe = argv[0].rsplit("/", 1)[-1]
        reader = f"`{cmd.text.strip()}`"
        plan = _Plan(tool=exe, installs=False)
        args = argv[1:]
        if exe in ("apt-get", "apt", "apk", "yum", "dnf", "microdnf", "zypper", "tdnf"):
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
                if p is None or not p.startswith("/") or self.touches_tree(p):
                    return reader
                if not a.startswith(("/", "~", "$", '"$')):
                    return reader  # relative to the working directory, which is in the tree
            return plan
        if exe in ("useradd", "adduser", "groupadd", "addgroup", "usermod"):
            for i, a in enumerate(args):
                if a in ("-d", "--home-dir", "-h", "--home") and i + 1 < len(args):
                    p = cmd.path(args[i + 1])
                    if p is None or self.touches_tree(p):
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
            return self.download(cmd, plan)
        if re.fullmatch(r"python(\d+(\.\d+)*)?", exe) and args[:2] == ["-m", "venv"]:
            return self.venv(cmd, plan, [a for a in args[2:] if not a.startswith("-")])
        if exe == "virtualenv":
            return self.venv(cmd, plan, [a for a in args if not a.startswith("-")])
        return reader

    def download(self, cmd: _Cmd, plan: _Plan) -> _Plan | _Refusal | str:
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
            if p is None or not target.startswith("/") or self.touches_tree(p):
                return f"`{cmd.text.strip()}`"
        return plan

    def venv(self, cmd: _Cmd, plan: _Plan, targets: list[str]) -> _Plan | _Refusal | str:
        if len(targets) != 1:
            return f"`{cmd.text.strip()}`"
        p = cmd.path(targets[0])
        if p is None:
            return f"`{cmd.text.strip()}`"
        plan.writes.append(p)
        return plan

    def other_subcommand(self, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
        """Subcommands of package managers that are not the project install."""
        reader = f"`{cmd.text.strip()}`"
        argv = cmd.argv
        rest = argv[m.args_index :]
        sub = m.subcommand[0] if m.subcommand else ""
        tool = m.manager.name
        plan = _Plan(tool=tool, installs=False)
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
        if tool in ("pip", "uv-pip") and sub in ("cache", "config"):
            return plan
        if tool in ("uv", "uv-pip") and sub == "cache":
            return plan
        if tool == "uv" and sub == "venv":
            targets = [a for a in rest if not a.startswith("-")]
            if cmd.cwd is not None:
                plan.need(_join(cmd.cwd, ".python-version"), required=False)
            return self.venv(cmd, plan, targets or [".venv"])
        if tool == "uv" and sub == "python" and rest[:1] == ["install"] and len(rest) > 1:
            return plan
        if tool == "uv" and sub == "tool" and rest[:1] == ["install"]:
            return plan
        if tool == "poetry" and sub == "config" and "--local" not in rest:
            return plan
        if tool == "poetry" and sub == "export" and cmd.cwd is not None:
            # `poetry export -o requirements.txt`, typically followed by `pip install -r`.
            pyproject = self.tree.find_up(cmd.cwd, ("pyproject.toml",))
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
                    return reader
                plan.writes.append(out)
            return plan
        if tool == "poetry" and sub == "self":
            return plan
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
            d = self.tree.find_up(cmd.cwd, ("go.mod",)) if cmd.cwd else None
            if d is not None:
                plan.need(d)
                plan.need(posixpath.join(posixpath.dirname(d), "go.sum"), required=False)
            return plan
        if tool == "cargo" and sub == "install" and "--path" not in rest:
            return plan
        if (
            tool == "composer"
            and sub
            in ("global", "self-update", "selfupdate", "clear-cache", "clearcache", "config")
            and (sub != "config" or "--global" in rest or "-g" in rest)
        ):
            return plan
        if tool == "bundler" and sub == "config":
            return self.bundle_config(cmd, rest, plan)
        if (
            tool == "bundler"
            and sub == "exec"
            and rest[:2] == ["bootsnap", "precompile"]
            and "--gemfile" in rest
            and all(a.startswith("-") for a in rest[2:])
            and cmd.cwd is not None
        ):
            # Rails' own Dockerfile runs this with the install: it compiles the gems only.
            gemfile = self.tree.find_up(cmd.cwd, ("Gemfile", "gems.rb"))
            plan.need(gemfile or posixpath.join(cmd.cwd, "Gemfile"))
            plan.writes.append(posixpath.join(cmd.cwd, "tmp/cache"))
            return plan
        if tool == "mix" and sub in ("local.hex", "local.rebar"):
            return plan
        if tool == "dotnet" and sub == "tool" and ("-g" in rest or "--global" in rest):
            return plan
        return reader

    # --- Python --------------------------------------------------------------------------------
    _PIP_VALUE_OPTS: ClassVar[frozenset[str]] = _words("""-r --requirement -c --constraint --constraints -e --editable -i --index-url
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
    _PIP_BOOTSTRAP: ClassVar[frozenset[str]] = frozenset(
        {
            "pip",
            "setuptools",
            "wheel",
            "uv",
            "poetry",
            "pipenv",
            "virtualenv",
            "pip-tools",
            "poetry-plugin-export",
            "hatch",
            "pdm",
            "build",
        }
    )

    def pip(self, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
        uv = m.manager.name == "uv-pip"
        sub = m.subcommand[-1]
        args = cmd.argv[m.args_index :]
        opts, pos = _parse_opts(args, self._PIP_VALUE_OPTS, m.args_index)
        plan = _Plan(tool="uv pip" if uv else "pip")
        if cmd.cwd is None:
            return f"`{cmd.text.strip()}` runs in a directory dockfix cannot resolve"
        files = _values(
            opts,
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
        if uv and sub == "sync":
            files += pos
            pos = []
        for value, _ in files:
            if value == "-" or value.startswith("/dev/"):
                continue
            p = cmd.path(value)
            if p is None:
                return f"`{cmd.text.strip()}` reads `{value}`, which dockfix cannot resolve"
            if p in self.generated:
                continue
            plan.need(p)
            err = self.requirements_file(p, plan, cmd.cwd, 0)
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
                if p is None or self.touches_tree(p):
                    return f"`{cmd.text.strip()}` finds packages in the local directory `{value}`"
        for value, _ in _values(
            opts,
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
        ):
            p = cmd.path(value)
            if p is None:
                return f"`{cmd.text.strip()}` writes to `{value}`, which dockfix cannot resolve"
            plan.writes.append(p)
        projects: list[tuple[str, int, int | None]] = []  # (path, argv index, -e index)
        for value, idx in _values(opts, "-e", "--editable"):
            if _is_local_requirement(value):
                # `-e X` is two words, `-eX` and `--editable=X` one.
                value_idx = idx + 1 if cmd.argv[idx] in ("-e", "--editable") else idx
                projects.append((value, value_idx, idx))
            else:
                plan.writes.append(_join(cmd.cwd, "src"))  # editable VCS checkouts
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
        tree_projects = []
        for value, idx, e_idx in projects:
            base = value.split("[", 1)[0]
            if "*" in base:
                p = cmd.path(posixpath.dirname(base) or ".")
            else:
                p = cmd.path(base.removeprefix("file:").removeprefix("//"))
            if p is None or self.touches_tree(p):
                tree_projects.append((value, idx, e_idx, p))
        if not tree_projects:
            if files and "pip" in self.earlier:
                return _Refusal(
                    f"`{cmd.text.strip()}` runs after an earlier pip install of requirement "
                    "files, so it is treated as part of an existing split",
                    False,
                )
            return plan
        if _has(opts, "--no-deps") or "pip" in self.earlier:
            # Only the project (its dependencies came earlier): the second half of a split.
            return _Refusal(f"`{cmd.text.strip()}` installs only the project", False)
        if len(tree_projects) > 1 or files or sub != "install":
            return f"`{cmd.text.strip()}` installs the project itself, which needs all of its files"
        value, idx, e_idx, p = tree_projects[0]
        return self.pip_project(cmd, plan, value, idx, e_idx, p, names)

    def requirements_file(self, path: str, plan: _Plan, cwd: str, depth: int) -> str:
        text = self.tree.read(path)
        if text is None or depth > 8:
            return ""
        rel = self.tree.rel(path) or path
        lines: list[str] = []
        buf = ""
        for raw in text.splitlines():
            line = raw
            if line.endswith("\\"):
                buf += line[:-1] + " "
                continue
            lines.append(buf + line)
            buf = ""
        if buf:
            lines.append(buf)
        here = posixpath.dirname(path)
        for line in lines:
            line = re.sub(r"(^|\s)#.*", "", line).strip()
            if not line:
                continue
            parts = line.split(None, 1)
            head = parts[0]
            value = parts[1].strip() if len(parts) > 1 else ""
            for opt in ("--requirement", "--constraint", "--editable", "--find-links"):
                if head.startswith(opt + "="):
                    head, value = opt, head.split("=", 1)[1]
            for short, long_ in (
                ("-r", "--requirement"),
                ("-c", "--constraint"),
                ("-e", "--editable"),
                ("-f", "--find-links"),
            ):
                if head.startswith(short) and len(head) > 2 and not head.startswith("--"):
                    head, value = long_, head[2:]
                elif head == short:
                    head = long_
            if head in ("--requirement", "--constraint"):
                if "$" in value:
                    return f"`{rel}` includes `{value}`, which dockfix cannot resolve"
                if "://" in value:
                    continue
                nested = _join(here, value)
                plan.need(nested)
                err = self.requirements_file(nested, plan, cwd, depth + 1)
                if err:
                    return err
            elif head == "--editable":
                if _is_local_requirement(value):
                    return f"`{rel}` installs the local path `{value}`"
                plan.writes.append(_join(cwd, "src"))
            elif head == "--find-links":
                if "://" not in value:
                    return f"`{rel}` finds packages in the local directory `{value}`"
            elif head.startswith("-"):
                continue
            elif _is_local_requirement(line):
                return f"`{rel}` installs the local path `{line.split()[0]}`"
        return ""

    def pip_project(
        self,
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
        if path is None or self.tree.rel(path) is None or cmd.exec_form:
            return what
        if self.tree.blind:
            plan.need(posixpath.join(path, "pyproject.toml"), required=False)
            return plan
        extras = re.findall(r"\[([^\]]*)\]", value)
        wanted = {_canonical(x) for e in extras for x in e.split(",") if x.strip()}
        declared = self.static_dependencies(path, wanted)
        if isinstance(declared, str):
            return f"{what}; {declared}"
        deps, sources = declared
        if not deps:
            return f"{what}; it declares no dependencies to install first"
        if self.earlier.covers("pip-specs", {_canonical(d) for d in deps}):
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
            f"{', '.join(self.tree.rel(s) or s for s in sources)} from a list written into the "
            f"Dockerfile{names_note}; keep it in sync (the `pip install` of the project after "
            "the copy still installs any dependency that goes missing)"
        )
        return plan

    def static_dependencies(
        self, project: str, extras: set[str]
    ) -> tuple[list[str], list[str]] | str:
        pyproject = posixpath.join(project, "pyproject.toml")
        data = _load_toml(self.tree.read(pyproject))
        if data is None and self.tree.is_file(pyproject):
            return "pyproject.toml does not parse"
        proj = _table(data, "project")
        if proj:
            dynamic = _list(proj.get("dynamic"))
            if "dependencies" in dynamic or (extras and "optional-dependencies" in dynamic):
                return "its dependencies are dynamic (computed by the build backend)"
            name = _canonical(str(proj.get("name", "")))
            optional = proj.get("optional-dependencies")
            if not isinstance(optional, dict):
                optional = {}
            pick = _Requirements(name, optional)
            err = pick.add(proj.get("dependencies", []))
            canon_optional = {_canonical(k): v for k, v in optional.items()}
            for x in sorted(extras):
                if x not in canon_optional:
                    return f"the extra `{x}` is not declared statically"
                err = err or pick.add(canon_optional[x])
            if err:
                return err
            return pick.deps, [pyproject]
        if _table(data, "tool", "poetry"):
            return "its dependencies are declared for Poetry, not in [project]"
        setup_py = posixpath.join(project, "setup.py")
        text = self.tree.read(setup_py)
        if text is None:
            return "it has no static [project.dependencies] or setup.py"
        if self.tree.is_file(posixpath.join(project, "setup.cfg")):
            return "setup.cfg may declare more dependencies"
        literal = _setup_py_requirements(text, extras)
        if isinstance(literal, str):
            return literal
        bad = [s for s in literal if _is_local_requirement(s)]
        if bad:
            return f"it depends on the local path `{bad[0]}`"
        return literal, [setup_py]

    def uv_version_ok(self) -> bool:
        for m in _UV_IMAGE_RE.finditer(self.doc.source):
            nums = [int(x) for x in (m.groups()[:3] if m.group(1) else m.groups()[3:])]
            if tuple(nums) < (0, 3, 3):
                return False
        return True

    _UV_VALUE_OPTS: ClassVar[frozenset[str]] = _words("""--project --directory --package --extra --group --only-group --no-group --python -p
        --index --default-index --index-url --extra-index-url --find-links -f
        --no-install-package --upgrade-package -P --reinstall-package --resolution --prerelease
        --index-strategy --keyring-provider --link-mode --config-setting -C --exclude-newer
        --python-platform --cache-dir --config-file --refresh-package --no-build-package
        --no-binary-package --only-binary-package --script --output-format --color""")

    def uv_sync(self, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
        argv = cmd.argv
        opts, _ = _parse_opts(argv[m.exe_index + 1 :], self._UV_VALUE_OPTS, m.exe_index + 1)
        text = cmd.text.strip()
        plan = _Plan(tool="uv")
        if _has(opts, "--package", "--all-packages", "--script"):
            return f"`{text}` installs workspace packages or a script"
        explicit = None
        for name in ("--directory", "--project"):
            for v, _ in opts.get(name, []):
                explicit = (
                    v if explicit is None or v.startswith("/") else posixpath.join(explicit, v)
                )
        start = self.project_dir(cmd, explicit)
        if start is None:
            return f"`{text}` runs in a directory dockfix cannot resolve"
        pyproject = self.tree.find_up(start, ("pyproject.toml",)) or posixpath.join(
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
        if self.tree.blind:
            return plan
        data = _load_toml(self.tree.read(pyproject))
        if data is None:
            return plan  # missing: reported when the needs are resolved
        if _table(data, "tool", "uv", "workspace"):
            plan.blockers.append("it is a uv workspace; every member's pyproject.toml is needed")
        d = posixpath.dirname(project)
        while _under(d, self.tree.dest) and d != project:
            parent = _load_toml(self.tree.read(posixpath.join(d, "pyproject.toml")))
            if _table(parent, "tool", "uv", "workspace"):
                plan.blockers.append("the project is a member of a uv workspace")
                break
            if d == self.tree.dest:
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
        uv_tool = _table(data, "tool", "uv")
        package = uv_tool.get("package")
        installs_project = package is not False and (
            bool(data.get("build-system")) or package is True
        )
        name = _canonical(str(proj.get("name", ""))) if proj else ""
        skipped = _has(opts, "--no-install-project", "--no-install-workspace", "--only-dev") or any(
            _canonical(v) == name for v, _ in opts.get("--no-install-package", [])
        )
        if installs_project and not skipped:
            if not self.uv_version_ok():
                plan.blockers.append("the uv version pinned here predates --no-install-project")
            elif cmd.node is not None:
                plan.edits.append((cmd.node.end, cmd.node.end, " --no-install-project"))
                plan.reinstall = True
            else:
                plan.edits.append((0, 0, ""))  # exec form: needs rewriting
        lock = posixpath.join(project, "uv.lock")
        if not frozen and self.tree.is_file(lock):
            plan.unsafe.append(
                "`uv sync` without --locked or --frozen may rewrite uv.lock; after the split "
                "the image keeps the context's uv.lock instead"
            )
        return plan

    _POETRY_VALUE_OPTS: ClassVar[frozenset[str]] = _words("-C --directory -P --project --with --without --only -E --extras")

    def poetry(self, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
        opts, _ = _parse_opts(cmd.argv[m.exe_index + 1 :], self._POETRY_VALUE_OPTS, 0)
        text = cmd.text.strip()
        if _has(opts, "--only-root"):
            return _Refusal(f"`{text}` installs only the project", False)
        explicit = None
        for name in ("-C", "--directory", "-P", "--project"):
            for v, _ in opts.get(name, []):
                explicit = v
        start = self.project_dir(cmd, explicit)
        if start is None:
            return f"`{text}` runs in a directory dockfix cannot resolve"
        plan = _Plan(tool="poetry")
        pyproject = self.tree.find_up(start, ("pyproject.toml",)) or posixpath.join(
            start, "pyproject.toml"
        )
        project = posixpath.dirname(pyproject)
        plan.need(pyproject)
        plan.need(posixpath.join(project, "poetry.lock"), required=False)
        plan.need(posixpath.join(project, "poetry.toml"), required=False)
        plan.writes.append(posixpath.join(project, ".venv"))
        if self.tree.blind:
            return plan
        data = _load_toml(self.tree.read(pyproject))
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

    _PIPENV_VALUE_OPTS: ClassVar[frozenset[str]] = _words(
        "--python --categories -r --requirements --extra-pip-args --pypi-mirror"
    )

    def pipenv(self, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
        sub = m.subcommand[0]
        opts, pos = _parse_opts(cmd.argv[m.args_index :], self._PIPENV_VALUE_OPTS, 0)
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
                pipfile = self.tree.find_up(start, ("Pipfile",)) or posixpath.join(start, "Pipfile")
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
        if self.tree.blind:
            return plan
        data = _load_toml(self.tree.read(pipfile))
        for section, deps in (data or {}).items():
            if section in ("source", "requires", "scripts", "pipenv") or not isinstance(deps, dict):
                continue
            for name, spec in deps.items():
                if isinstance(spec, dict) and (
                    "path" in spec or ("file" in spec and "://" not in str(spec["file"]))
                ):
                    plan.blockers.append(f"`{name}` in the Pipfile is a local path")
        if not frozen and self.tree.is_file(lock):
            plan.unsafe.append(
                "`pipenv install` without --deploy may re-lock and rewrite Pipfile.lock; after "
                "the split the image keeps the context's Pipfile.lock instead"
            )
        return plan

    # --- JavaScript ----------------------------------------------------------------------------
    _NODE_LIFECYCLE: ClassVar[tuple[str, ...]] = (
        "preinstall",
        "install",
        "postinstall",
        "prepublish",
        "preprepare",
        "prepare",
        "postprepare",
    )

    def node_package(
        self,
        plan: _Plan,
        project: str,
        *,
        ignore_scripts: bool,
        tool: str,
        lifecycle: tuple[str, ...] | None = None,
    ) -> dict[str, Any] | None:
        """Read package.json and record what makes the install need more than manifests."""
        pkg_path = posixpath.join(project, "package.json")
        if self.tree.blind:
            return None
        text = self.tree.read(pkg_path)
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
            for name in lifecycle or self._NODE_LIFECYCLE:
                if name in scripts:
                    plan.blockers.append(
                        f"`{tool}` runs the `{name}` script from package.json "
                        f"(`{scripts[name]}`), which may read the project"
                    )
            if (
                "install" not in scripts
                and "preinstall" not in scripts
                and self.tree.is_file(posixpath.join(project, "binding.gyp"))
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

    def npmrc_ignores_scripts(self, project: str) -> bool:
        text = self.tree.read(posixpath.join(project, ".npmrc")) or ""
        return bool(re.search(r"(?m)^\s*ignore-scripts\s*=\s*true\s*$", text))

    _NPM_VALUE_OPTS: ClassVar[frozenset[str]] = _words("""--prefix -C -w --workspace --omit --include --registry --cache --loglevel
        --install-strategy --userconfig --globalconfig --before --tag --only --also
        --audit-level --cpu --os --libc""")

    def npm(self, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
        sub = m.subcommand[0]
        opts, pos = _parse_opts(cmd.argv[m.args_index :], self._NPM_VALUE_OPTS, 0)
        text = cmd.text.strip()
        if pos:
            return _Refusal(f"`{text}` adds packages to package.json", False)
        if _has(opts, "-g", "--global") or any(
            v == "global" for v, _ in opts.get("--location", [])
        ):
            return _Refusal(f"`{text}` installs the project globally", False)
        if _has(opts, "-w", "--workspace", "--workspaces", "-ws"):
            return f"`{text}` installs workspaces (a monorepo)"
        prefix = _values(opts, "--prefix", "-C")
        found = self.node_project(cmd, prefix[-1][0] if prefix else None)
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
        if self.tree.blind:
            return plan
        ignore = (
            any(v in ("", "true") for v, _ in opts.get("--ignore-scripts", []))
            or any(
                truthy(cmd.env.get(v))
                for v in ("npm_config_ignore_scripts", "NPM_CONFIG_IGNORE_SCRIPTS")
            )
            or self.npmrc_ignores_scripts(project)
        )
        self.node_package(plan, project, ignore_scripts=ignore, tool=f"npm {sub}")
        has_lock = self.tree.is_file(lock) or self.tree.is_file(shrinkwrap)
        if ci and not has_lock and self.tree.state(lock) != "excluded":
            plan.blockers.append("`npm ci` needs package-lock.json, and the context has none")
        if ci and self.tree.state(lock) == "excluded":
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

    _YARN_VALUE_OPTS: ClassVar[frozenset[str]] = _words(
        "--cwd --network-timeout --modules-folder --cache-folder --mutex --registry --mode"
    )

    def yarn(self, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
        opts, pos = _parse_opts(cmd.argv[m.exe_index + 1 :], self._YARN_VALUE_OPTS, 0)
        text = cmd.text.strip()
        pos = [p for p in pos if p[0] != "install"]
        if pos:
            return _Refusal(f"`{text}` is not a plain install", False)
        cwd_opt = _values(opts, "--cwd")
        found = self.node_project(cmd, cwd_opt[-1][0] if cwd_opt else None)
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
        if self.tree.blind:
            plan.need(posixpath.join(project, ".yarnrc.yml"), required=False)
            return plan
        rc_yml_path = posixpath.join(project, ".yarnrc.yml")
        rc_yml = self.tree.read(rc_yml_path)
        pkg = _load_json(self.tree.read(pkg_json)) or {}
        manager = str(pkg.get("packageManager", ""))
        lock_text = self.tree.read(lock) or ""
        berry = (
            rc_yml is not None
            or bool(re.match(r"yarn@([2-9]|\d{2,})", manager))
            or "__metadata:" in lock_text[:2000]
        )
        frozen_flag = _has(opts, "--frozen-lockfile", "--pure-lockfile", "--immutable")
        if berry:
            plan.need(rc_yml_path, required=False)
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
            if self.tree.brings(posixpath.join(project, ".yarn/cache")):
                plan.blockers.append(
                    "the project commits its Yarn cache (.yarn/cache, zero-installs), which the "
                    "install reads and rewrites"
                )
            self.node_package(
                plan,
                project,
                ignore_scripts=False,
                tool="yarn install",
                lifecycle=("preinstall", "install", "postinstall", "prepare"),
            )
            frozen = (
                frozen_flag
                or truthy(cmd.env.get("YARN_ENABLE_IMMUTABLE_INSTALLS"))
                or bool(re.search(r"(?m)^enableImmutableInstalls:\s*true", rc_yml or ""))
            )
        else:
            plan.need(posixpath.join(project, ".yarnrc"), required=False)
            plan.need(posixpath.join(project, ".npmrc"), required=False)
            rc = self.tree.read(posixpath.join(project, ".yarnrc")) or ""
            mpath = re.search(r'(?m)^\s*yarn-path\s+"?([^"\n]+)"?', rc)
            if mpath:
                plan.need(_join(project, mpath.group(1).strip()))
            if re.search(r"(?m)^\s*yarn-offline-mirror\s", rc):
                plan.blockers.append("the install reads the offline mirror named in .yarnrc")
            ignore = (
                _has(opts, "--ignore-scripts")
                or self.npmrc_ignores_scripts(project)
                or bool(re.search(r"(?m)^\s*ignore-scripts\s+true", rc))
            )
            self.node_package(
                plan,
                project,
                ignore_scripts=ignore,
                tool="yarn install",
                lifecycle=("preinstall", "install", "postinstall", "prepublish", "prepare"),
            )
            frozen = (
                frozen_flag
                or truthy(cmd.env.get("YARN_FROZEN_LOCKFILE"))
                or bool(re.search(r"(?m)^\s*(--install\.)?frozen-lockfile\s+true", rc))
            )
        if self.tree.is_file(lock) and not frozen:
            plan.unsafe.append(
                f"`{text}` may rewrite yarn.lock; after the split the image keeps the context's "
                "yarn.lock instead (use --frozen-lockfile, or --immutable with Yarn 2+)"
            )
        return plan

    _PNPM_VALUE_OPTS: ClassVar[frozenset[str]] = _words("-C --dir --filter -F --store-dir --reporter")

    def pnpm(self, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
        sub = m.subcommand[0]
        opts, pos = _parse_opts(cmd.argv[m.args_index :], self._PNPM_VALUE_OPTS, 0)
        text = cmd.text.strip()
        if pos:
            return _Refusal(f"`{text}` adds packages to package.json", False)
        if _has(opts, "-g", "--global"):
            return _Refusal(f"`{text}` installs the project globally", False)
        if _has(opts, "-r", "--recursive", "--filter", "-F"):
            return f"`{text}` installs workspace packages (a monorepo)"
        gdir = _values(opts, "-C", "--dir")
        start = self.project_dir(cmd, gdir[-1][0] if gdir else None)
        if start is None:
            return f"`{text}` runs in a directory dockfix cannot resolve"
        fetch = sub == "fetch"
        names = ("pnpm-lock.yaml",) if fetch else ("package.json",)
        found = self.tree.find_up(start, names) or posixpath.join(start, names[0])
        project = posixpath.dirname(found)
        lock = posixpath.join(project, "pnpm-lock.yaml")
        plan = _Plan(tool="pnpm")
        if not fetch:  # `pnpm fetch` reads the lock file only
            plan.need(found)
        else:
            # ... but corepack picks the pnpm version from package.json's `packageManager`:
            # without it the early fetch could run another pnpm than the rest of the build.
            manifest = posixpath.join(project, "package.json")
            if '"packageManager"' in (self.tree.read(manifest) or ""):
                plan.need(manifest)
        plan.need(lock, required=fetch)
        plan.need(posixpath.join(project, ".npmrc"), required=False)
        plan.need(posixpath.join(project, "pnpm-workspace.yaml"), required=False)
        if fetch:
            return plan
        plan.writes.append(posixpath.join(project, "node_modules"))
        if self.tree.blind:
            return plan
        ws = self.tree.read(posixpath.join(project, "pnpm-workspace.yaml")) or ""
        if re.search(r"(?m)^packages\s*:", ws):
            plan.blockers.append("pnpm-workspace.yaml lists workspace packages (a monorepo)")
        if re.search(r"(?m)^patchedDependencies\s*:", ws):
            plan.blockers.append("pnpm-workspace.yaml patches dependencies")
        pnpmfile = posixpath.join(project, ".pnpmfile.cjs")
        if self.tree.is_file(pnpmfile) and not _has(opts, "--ignore-pnpmfile"):
            if re.search(r"require\(\s*['\"]\.", self.tree.read(pnpmfile) or ""):
                plan.blockers.append(".pnpmfile.cjs loads other project files")
            plan.need(pnpmfile)
        ignore = _has(opts, "--ignore-scripts") or self.npmrc_ignores_scripts(project)
        pkg = self.node_package(
            plan,
            project,
            ignore_scripts=ignore,
            tool="pnpm install",
            lifecycle=("preinstall", "install", "postinstall", "prepare"),
        )
        for rel in _table(pkg, "pnpm", "patchedDependencies").values():
            if isinstance(rel, str):
                plan.need(_join(project, rel))
        frozen = _has(opts, "--frozen-lockfile") or truthy(
            cmd.env.get("npm_config_frozen_lockfile")
        )
        if self.tree.is_file(lock) and not frozen:
            plan.unsafe.append(
                f"`{text}` may rewrite pnpm-lock.yaml; after the split the image keeps the "
                "context's lock file instead (use --frozen-lockfile)"
            )
        return plan

    def bun(self, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
        sub = m.subcommand[0]
        opts, pos = _parse_opts(cmd.argv[m.args_index :], frozenset({"--cwd", "--backend"}), 0)
        text = cmd.text.strip()
        if pos:
            return _Refusal(f"`{text}` adds packages to package.json", False)
        if _has(opts, "-g", "--global"):
            return _Refusal(f"`{text}` installs the project globally", False)
        cwd_opt = _values(opts, "--cwd")
        found = self.node_project(cmd, cwd_opt[-1][0] if cwd_opt else None)
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
        if self.tree.blind:
            return plan
        pkg = self.node_package(
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
        bunfig = self.tree.read(posixpath.join(project, "bunfig.toml")) or ""
        frozen = (
            sub == "ci"
            or _has(opts, "--frozen-lockfile")
            or bool(re.search(r"(?m)^\s*frozenLockfile\s*=\s*true", bunfig))
        )
        if any(self.tree.is_file(lk) for lk in locks) and not frozen:
            plan.unsafe.append(
                f"`{text}` may rewrite the bun lock file; after the split the image keeps the "
                "context's lock file instead (use --frozen-lockfile)"
            )
        return plan

    # --- Go, Rust -------------------------------------------------------------------------------
    def go(self, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
        text = cmd.text.strip()
        flags = cmd.env.get("GOFLAGS") or ""
        if "-modfile" in flags or "-C" in cmd.argv[m.exe_index + 1 : m.args_index]:
            return f"`{text}` reads a go.mod dockfix cannot locate"
        if cmd.cwd is None:
            return f"`{text}` runs in a directory dockfix cannot resolve"
        gomod = self.tree.find_up(cmd.cwd, ("go.mod",)) or posixpath.join(cmd.cwd, "go.mod")
        project = posixpath.dirname(gomod)
        plan = _Plan(tool="go")
        plan.need(gomod)
        plan.need(posixpath.join(project, "go.sum"), required=False)
        gowork = cmd.env.get("GOWORK")
        if gowork and gowork != "off":
            plan.blockers.append("GOWORK names a Go workspace")
        if self.tree.blind:
            return plan
        if gowork != "off" and self.tree.find_up(project, ("go.work",)):
            plan.blockers.append(
                "go.work makes this a Go workspace; every module's go.mod is needed"
            )
        text_mod = self.tree.read(gomod) or ""
        for target in re.findall(r"=>\s*(\S+)", text_mod):
            if target.startswith((".", "/")):
                plan.blockers.append(f"go.mod replaces a module with the local path `{target}`")
        return plan

    def cargo(self, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
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
            else self.tree.find_up(start, ("Cargo.toml",)) or posixpath.join(start, "Cargo.toml")
        )
        project = posixpath.dirname(toml_path)
        plan = _Plan(tool="cargo")
        plan.need(toml_path)
        lock = posixpath.join(project, "Cargo.lock")
        plan.need(lock, required=False)
        d = project
        while _under(d, self.tree.dest):
            for n in (
                ".cargo/config.toml",
                ".cargo/config",
                "rust-toolchain.toml",
                "rust-toolchain",
            ):
                plan.need(posixpath.join(d, n), required=False)
            if d == self.tree.dest:
                break
            d = posixpath.dirname(d)
        if self.tree.blind:
            return plan
        data = _load_toml(self.tree.read(toml_path))
        if data is None:
            return plan
        ws = _table(data, "workspace")
        if ws.get("members") or ws.get("default-members"):
            plan.blockers.append(
                "Cargo.toml declares a workspace; every member's Cargo.toml is needed"
            )
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
        # cargo reads a manifest only with at least one target: create the default target files
        # empty for the fetch; the full copy replaces them right after.
        stubs = [
            posixpath.join(project, f)
            for f in ("src/main.rs", "src/lib.rs")
            if self.tree.is_file(posixpath.join(project, f))
        ]
        if not stubs and not plan.blockers:
            plan.blockers.append("the package has no src/main.rs or src/lib.rs for cargo to find")
        plan.stubs = stubs
        frozen = _has(opts, "--locked", "--frozen")
        if self.tree.is_file(lock) and not frozen:
            plan.unsafe.append(
                "`cargo fetch` without --locked may update Cargo.lock; after the split the image "
                "keeps the context's Cargo.lock instead"
            )
        return plan

    # --- Ruby, PHP ------------------------------------------------------------------------------
    def bundle_config(self, cmd: _Cmd, rest: list[str], plan: _Plan) -> _Plan:
        if "--local" in rest and not cmd.env.get("BUNDLE_APP_CONFIG") and cmd.cwd:
            plan.writes.append(_join(cmd.cwd, ".bundle"))
        words = [w for w in rest if not w.startswith("-") and w != "set"]
        if len(words) >= 2 and words[0] in ("frozen", "deployment") and truthy(words[1]):
            self.bundle_frozen = True
        if len(words) >= 2 and words[0] == "path" and cmd.cwd:
            p = cmd.path(words[1])
            if p:
                plan.writes.append(p)
        return plan

    _GEMFILE_BLOCKERS: ClassVar[tuple[tuple[re.Pattern[str], str], ...]] = (
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

    def bundler(self, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
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
        gemfile_opt = _values(opts, "--gemfile")
        explicit = gemfile_opt[-1][0] if gemfile_opt else cmd.env.get("BUNDLE_GEMFILE")
        if explicit:
            gemfile = cmd.path(explicit)
        elif cmd.cwd is not None:
            gemfile = self.tree.find_up(cmd.cwd, ("Gemfile", "gems.rb")) or posixpath.join(
                cmd.cwd, "Gemfile"
            )
        else:
            gemfile = None
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
            or self.bundle_frozen
            or "bundle-frozen" in self.earlier
        )
        bundle_path = _values(opts, "--path")
        path_value = bundle_path[-1][0] if bundle_path else cmd.env.get("BUNDLE_PATH")
        if path_value:
            p = _join(project, path_value) if not path_value.startswith("/") else path_value
            plan.writes.append(p)
        elif deployment:
            plan.writes.append(posixpath.join(project, "vendor/bundle"))
        if self.tree.blind:
            return plan
        config = self.tree.read(posixpath.join(project, ".bundle/config")) or ""
        if re.search(r"(?m)^BUNDLE_(FROZEN|DEPLOYMENT):\s*['\"]?(true|1)", config):
            frozen = True
        gem_text = self.tree.read(gemfile) or ""
        code = re.sub(r"(?m)#.*$", "", gem_text)
        for rx, why in self._GEMFILE_BLOCKERS:
            if rx.search(code):
                plan.blockers.append(why)
        for ref in re.findall(r"\bruby\s+file:\s*['\"]([^'\"]+)['\"]", code):
            plan.need(_join(project, ref))
        if self.tree.is_file(lock) and not frozen:
            plan.unsafe.append(
                "`bundle install` outside frozen or deployment mode may rewrite Gemfile.lock "
                "(platforms, BUNDLED WITH); after the split the image keeps the context's "
                "Gemfile.lock instead (set BUNDLE_FROZEN=true or BUNDLE_DEPLOYMENT=1)"
            )
        return plan

    _COMPOSER_SCRIPT_EVENTS: ClassVar[frozenset[str]] = _words("""pre-install-cmd post-install-cmd pre-autoload-dump post-autoload-dump
        pre-package-install post-package-install pre-operations-exec pre-pool-create
        pre-dependencies-solving post-dependencies-solving""")

    def composer(self, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
        opts, pos = _parse_opts(
            cmd.argv[m.args_index :],
            _words("-d --working-dir --ignore-platform-req --apcu-autoloader-prefix"),
            0,
        )
        text = cmd.text.strip()
        if pos:
            return _Refusal(f"`{text}` is not a plain install", False)
        wd = _values(opts, "-d", "--working-dir")
        project = self.project_dir(cmd, wd[-1][0] if wd else None)
        if project is None:
            return f"`{text}` runs in a directory dockfix cannot resolve"
        name = cmd.env.get("COMPOSER") or "composer.json"
        manifest = _join(project, name)
        plan = _Plan(tool="composer")
        plan.need(manifest)
        plan.need(
            manifest[: -len(".json")] + ".lock"
            if manifest.endswith(".json")
            else manifest + ".lock",
            required=False,
        )
        plan.need(posixpath.join(project, "auth.json"), required=False)
        if self.tree.blind:
            plan.writes.append(posixpath.join(project, "vendor"))
            return plan
        data = _load_json(self.tree.read(manifest)) or {}
        config = _table(data, "config")
        vendor = cmd.env.get("COMPOSER_VENDOR_DIR") or str(config.get("vendor-dir", "vendor"))
        plan.writes.append(_join(project, vendor))
        if not _has(opts, "--no-scripts"):
            events = sorted(set(_table(data, "scripts")) & self._COMPOSER_SCRIPT_EVENTS)
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
        for repo in (
            data.get("repositories", []) if isinstance(data.get("repositories"), list) else []
        ):
            if isinstance(repo, dict) and repo.get("type") in ("path", "artifact"):
                plan.blockers.append(f"a `{repo.get('type')}` repository reads local files")
        return plan

    # --- Java, .NET, Elixir ---------------------------------------------------------------------
    _MAVEN_GOALS: ClassVar[frozenset[str]] = frozenset(
        {
            "dependency:go-offline",
            "dependency:resolve",
            "dependency:resolve-plugins",
            "dependency:resolve-sources",
            "de.qaware.maven:go-offline-maven-plugin:resolve-dependencies",
        }
    )

    def maven(self, cmd: _Cmd) -> _Plan | _Refusal | str:
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
            g in self._MAVEN_GOALS
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
        if "maven" in self.earlier:
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
        exe = argv[0]
        if exe.rsplit("/", 1)[-1] == "mvnw" and cmd.cwd is not None:
            plan.need(cmd.path(exe) or posixpath.join(cmd.cwd, "mvnw"))
        for v, _ in _values(
            opts, "-s", "--settings", "-gs", "--global-settings", "-t", "--toolchains"
        ):
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
        if self.tree.blind:
            return plan
        text_pom = self.tree.read(pom)
        if text_pom is None:
            return plan
        from xml.etree import ElementTree

        try:
            root = ElementTree.fromstring(text_pom)
        except ElementTree.ParseError:
            plan.blockers.append("pom.xml does not parse")
            return plan
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
                if self.tree.state(target) not in ("missing", "outside"):
                    plan.blockers.append("the POM inherits from a parent POM in the project")
        if root.findall(f".//{pre}activation/{pre}file", ns):
            plan.blockers.append("a profile is activated by the presence of project files")
        if self.tree.find_up(posixpath.dirname(project), (".mvn",)) and not self.tree.brings(
            posixpath.join(project, ".mvn")
        ):
            plan.blockers.append("a .mvn directory above the project configures Maven")
        return plan

    _GRADLE_TASKS: ClassVar[frozenset[str]] = frozenset({"dependencies", "androidDependencies", "buildEnvironment"})

    def gradle(self, cmd: _Cmd) -> _Plan | _Refusal | str:
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
        if not names or not all(t in self._GRADLE_TASKS for t in names):
            return _Refusal(f"`{text}` builds the project, which needs all of its files", False)
        if "gradle" in self.earlier:
            return _Refusal(f"`{text}` runs after an earlier Gradle resolve", False)
        if _has(opts, "-b", "--build-file", "-c", "--settings-file", "-I", "--init-script"):
            return f"`{text}` names build files dockfix does not follow"
        pdir = _values(opts, "-p", "--project-dir")
        project = self.project_dir(cmd, pdir[-1][0] if pdir else None)
        if project is None:
            return f"`{text}` runs in a directory dockfix cannot resolve"
        plan = _Plan(tool="gradle")
        build = [posixpath.join(project, n) for n in ("build.gradle", "build.gradle.kts")]
        if self.tree.blind:
            plan.need(build[0], required=False)
            return plan
        present = [b for b in build if self.tree.state(b) != "missing"]
        plan.need(present[0] if present else build[0])
        for b in present[1:]:
            plan.need(b)
        for n in (
            "settings.gradle",
            "settings.gradle.kts",
            "gradle.properties",
            "gradle.lockfile",
            "settings-gradle.lockfile",
        ):
            plan.need(posixpath.join(project, n), required=False)
        plan.need(posixpath.join(project, "gradle"), required=False, is_dir=True)
        if argv[0].rsplit("/", 1)[-1] == "gradlew":
            plan.need(cmd.path(argv[0]) or posixpath.join(project, "gradlew"))
        plan.writes.append(posixpath.join(project, ".gradle"))
        plan.writes.append(posixpath.join(project, "build"))
        if self.tree.brings(posixpath.join(project, "buildSrc")):
            plan.blockers.append("buildSrc is compiled before the build and needs its sources")
        for s in ("settings.gradle", "settings.gradle.kts"):
            t = self.tree.read(posixpath.join(project, s)) or ""
            if re.search(r"\binclude(Build)?\b", t):
                plan.blockers.append(
                    "settings.gradle includes other projects (a multi-project build)"
                )
        for b in present:
            t = self.tree.read(b) or ""
            if re.search(r"\bapply\s*\(?\s*from\b", t):
                plan.blockers.append(f"{posixpath.basename(b)} applies other script files")
        plan.unsafe.append(
            "Gradle build scripts are code and may read other project files while resolving"
        )
        if _has(opts, "--write-locks"):
            plan.unsafe.append("--write-locks rewrites the lock files the later copy replaces")
        return plan

    def dotnet(self, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
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
        if self.tree.blind:
            if target.endswith(("proj",)):
                plan.need(target)
            else:
                plan.need(posixpath.join(target, "x.csproj"), required=False)
            return plan
        if target.endswith(("proj",)):
            proj = target
        else:
            entries = self.tree.listdir(target)
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
        lock = (
            cmd.path(lock_opt[-1][0]) if lock_opt else posixpath.join(project, "packages.lock.json")
        )
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
        files = [proj]
        d = project
        while _under(d, self.tree.dest):
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
                if self.tree.state(p) != "missing":
                    plan.need(p, required=False)
                    if n.endswith((".props", ".targets")):
                        files.append(p)
            if d == self.tree.dest:
                break
            d = posixpath.dirname(d)
        locked = _has(opts, "--locked-mode")
        for f in files:
            t = self.tree.read(f) or ""
            if re.search(r"<ProjectReference\b", t):
                plan.blockers.append(f"{posixpath.basename(f)} references other projects")
            for imp in re.findall(r"<Import\b[^>]*Project\s*=\s*\"([^\"]*)\"", t):
                if "GetPathOfFileAbove" not in imp:
                    plan.blockers.append(f"{posixpath.basename(f)} imports `{imp}`")
            if re.search(r"<RestoreLockedMode>\s*true", t, re.I):
                locked = True
        if lock and self.tree.is_file(lock) and not locked:
            plan.unsafe.append(
                "`dotnet restore` without --locked-mode may rewrite packages.lock.json; after "
                "the split the image keeps the context's lock file instead"
            )
        return plan

    def mix(self, cmd: _Cmd, m: InstallMatch) -> _Plan | _Refusal | str:
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
        if self.tree.blind:
            return plan
        code = re.sub(r"(?m)#.*$", "", self.tree.read(mix_exs) or "")
        if re.search(r"\bapps_path\b|\bin_umbrella\b", code):
            plan.blockers.append("the project is an umbrella; every app's mix.exs is needed")
        if re.search(r"\bpath:\s", code):
            plan.blockers.append("mix.exs has path dependencies")
        if re.search(r"\b(File|Path|Code)\.|\bSystem\.cmd\b", code):
            plan.blockers.append("mix.exs reads other files")
        if self.tree.is_file(lock) and not _has(opts, "--check-locked"):
            plan.unsafe.append(
                "`mix deps.get` may update mix.lock; after the split the image keeps the "
                "context's mix.lock instead"
            )
        return plan

    # --- turning the analysis into a finding -------------------------------------------------
    def build(self, results: list[_RunResult]) -> Finding | None:
        installs = [r for r in results if r.kind in ("install", "split")]
        label = installs[0].label
        message = self.message(label)
        if self.tree.blind:
            return self.fixer.finding(
                self.copy,
                message,
                reason="the build context is not on disk (standard input or no --context), so "
                "dockfix cannot see which manifests exist",
            )
        if self.dest is None:
            return self.fixer.finding(
                self.copy,
                message,
                reason="the copy's destination depends on a value dockfix cannot resolve",
            )
        blockers = [
            f"the copy uses --{f.name}"
            for f in self.copy.flags
            if f.name not in _COPY_FLAGS_CARRIED
        ]
        for r in results:
            for p in r.plans:
                blockers.extend(p.blockers)
        try:
            files, dirs = self.resolve_needs(results, blockers)
            self.check_writes(results, blockers)
        except _ContextUnavailable as e:
            blockers.append(str(e))
            files, dirs = [], []
        if blockers:
            return self.fixer.finding(self.copy, message, reason=_join_reasons(blockers))
        if not files and not dirs:
            return None
        unsafe = _dedupe([u for r in results for p in r.plans for u in p.unsafe])
        for r in results:
            if (
                r.kind == "split"
                and any(
                    f.name == "mount" and "type=cache" in (f.value or "") for f in r.instr.flags
                )
                and any(p.tool in _FETCH_INTO_CACHE for p in r.plans)
            ):
                unsafe.append(
                    "the download lands in the RUN's cache mount; split from the build, the "
                    "build step relies on the cache mount still holding it (a layer restored "
                    "from a remote cache does not bring the mount back)"
                )
        try:
            edits = self.edits(results, files, dirs)
        except _NoFix as e:
            return self.fixer.finding(self.copy, message, reason=str(e))
        names = ", ".join([f"`{f}`" for f in files] + [f"`{d}/`" for d in dirs])
        description = f"copy {names} first, install, then copy the rest"
        fixed = _apply(self.doc.source, edits)
        if fixed is None:
            return self.fixer.finding(
                self.copy, message, reason="the rewrite would not parse; please report this file"
            )
        if not _dl3059_hits(self.doc) and _dl3059_hits(fixed):
            return self.fixer.finding(
                self.copy,
                message,
                reason="the rewrite would leave two short RUN instructions next to each other "
                "(hadolint DL3059); split it by hand",
            )
        if unsafe:
            why = "; ".join(unsafe)
            fix = Fix.unsafe(*edits, description=f"{description} (unsafe: {why})")
            return self.fixer.finding(self.copy, message, fix, reason=why)
        return self.fixer.finding(self.copy, message, Fix.safe(*edits, description=description))

    def resolve_needs(
        self, results: list[_RunResult], blockers: list[str]
    ) -> tuple[list[str], list[str]]:
        """The context paths to copy first (files, directories), blockers appended."""
        assert self.dest is not None
        files: list[str] = []
        dirs: list[str] = []
        seen: set[str] = set()
        generated: set[str] = set()
        for r in results:
            for p in r.plans:
                for n in p.needs:
                    if n.path in seen or n.path in generated:
                        continue
                    seen.add(n.path)
                    if self.tree.ambiguous(n.path):
                        blockers.append(
                            f"`{n.path}` is absolute, but where the copy goes depends on the "
                            "base image's WORKDIR or a build argument"
                        )
                        continue
                    rel = self.tree.rel(n.path)
                    if rel is None:
                        continue
                    st = self.tree.state(n.path)
                    want = "dir" if n.is_dir else "file"
                    if st == want:
                        if _UNSAFE_NAME_RE.search(rel) or not rel:
                            blockers.append(f"`{rel}` cannot be named in a COPY as is")
                        elif n.is_dir:
                            dirs.append(rel)
                        else:
                            files.append(rel)
                    elif not n.required:
                        continue
                    elif st == "missing":
                        blockers.append(f"`{rel}` is not in the build context")
                    elif st == "excluded":
                        blockers.append(f"`.dockerignore` excludes `{rel}`")
                    elif st == "symlink":
                        blockers.append(f"`{rel}` is a symbolic link")
                    else:
                        blockers.append(f"`{rel}` is a {st}, not a {want}")
                generated.update(p.writes)
        return files, dirs

    def check_writes(self, results: list[_RunResult], blockers: list[str]) -> None:
        assert self.dest is not None
        for r in results:
            for p in r.plans:
                for w in p.writes:
                    if not w or w in p.stubs:
                        continue
                    if self.tree.ambiguous(w):
                        blockers.append(f"`{p.tool}` writes to `{w}`, which dockfix cannot place")
                        continue
                    rel = self.tree.rel(w)
                    if rel is None:
                        if _under(self.dest, w):
                            blockers.append(f"`{p.tool}` writes over the copied tree at `{w}`")
                        continue
                    if self.tree.brings(w):
                        blockers.append(
                            f"the build context contains `{rel}`, which `{p.tool}` writes; "
                            "copied after the install it would lay over what was installed "
                            f"(exclude `{rel}` in .dockerignore)"
                        )

    # --- edits -----------------------------------------------------------------------------------
    def edits(self, results: list[_RunResult], files: list[str], dirs: list[str]) -> list[Edit]:
        from dockfix.edits import indent_of

        assert self.dest is not None
        doc = self.doc
        eol = doc.eol
        copy = self.copy
        indent = indent_of(doc, copy)
        kw = "copy" if copy.keyword_raw.islower() else "COPY"
        flags = " ".join(f.raw for f in copy.flags)
        pragmas = [c for c in doc.comment_lines_above(copy) if _PRAGMA_RE.match(c)]
        # Group the manifests by the directory they land in.
        groups: dict[str, list[str]] = {}
        for f in files:
            groups.setdefault(posixpath.dirname(f), []).append(f)
        lines: list[str] = []
        for sub in sorted(groups, key=lambda s: (s != "", s)):
            lines.append(self.copy_line(kw, flags, groups[sub], sub))
        for d in dirs:
            lines.append(self.copy_line(kw, flags, [d], d))
        text = lines[0]
        for extra in lines[1:]:
            text += "".join(f"{eol}{indent}{p}" for p in pragmas) + f"{eol}{indent}{extra}"
        edits = [Edit(copy.start, copy.end, indent + text)]
        # Commands of the install RUNs that change.
        for r in results:
            for p in r.plans:
                for s, e, t in p.edits:
                    if r.instr.json_args is not None:
                        raise _NoFix("the exec-form install would need rewriting")
                    a, b = r.instr.source_span(s, e)
                    edits.append(Edit(a, b, t))
                if p.stubs:
                    node_start = _plan_node_start(r, p)
                    if node_start is None:
                        raise _NoFix("cannot place the target stubs for cargo")
                    cwd = _run_cwd_for(self, r, p)
                    rels = [posixpath.relpath(s, cwd) for s in p.stubs]
                    dirs_needed = sorted({posixpath.dirname(x) for x in rels} - {""})
                    stub = f"mkdir -p {' '.join(dirs_needed)} && " if dirs_needed else ""
                    stub += f"touch {' '.join(rels)} && "
                    at = r.instr.to_source(node_start)
                    edits.append(Edit(at, at, stub))
                if p.hadolint_ignores:
                    pragma = self.hadolint_pragma(r.instr, p.hadolint_ignores)
                    if pragma is not None:
                        edits.append(pragma)
        last = results[-1]
        self.check_workdirs(last.instr, [posixpath.dirname(f) for f in files] + dirs)
        moved = self.moved_copy(last.instr)
        run_pragmas = [c for c in doc.comment_lines_above(last.instr) if _PRAGMA_RE.match(c)]
        reinstall = [p for r in results for p in r.plans if p.reinstall]
        for r in results:
            if r is not last and any(p.reinstall for p in r.plans):
                raise _NoFix("the project install would have to move past another RUN")
        run_kw = last.instr.keyword_raw
        run_flags = " ".join(f.raw for f in last.instr.flags)
        head = run_kw + (" " + run_flags if run_flags else "") + " "
        prefix = "".join(s + " && " for s in last.state)
        again = "".join(_command_text(last, p) + " && " for p in reinstall)
        run_indent = indent_of(doc, last.instr)
        if last.kind == "split":
            chain = last.script.chain
            prev = chain[last.split_at - 1]
            nxt = chain[last.split_at]
            a = last.instr.source_span(prev.start, prev.end)[1]
            b = last.instr.to_source(nxt.start)
            comments = [
                doc.line_text(n).strip()
                for n in range(last.instr.start_line, last.instr.end_line + 1)
                if a <= doc.line(n).start < b and doc.line_text(n).strip().startswith("#")
            ]
            block = [*comments, *pragmas, moved, *run_pragmas]
            text = "".join(f"{eol}{run_indent}{x}" for x in block)
            edits.append(Edit(a, b, text + f"{eol}{run_indent}{head}{prefix}{again}"))
        else:
            block = [*pragmas, moved]
            if reinstall:
                body = prefix + " && ".join(_command_text(last, p) for p in reinstall)
                block += [*run_pragmas, head + body]
            edits.append(_insert_after(doc, last.instr, block))
        return edits

    def check_workdirs(self, last: Instruction, targets: list[str]) -> None:
        """A WORKDIR inside the tree, between the copy and the install, now creates its
        directory before the copy does: as root, where the copy's --chown/--chmod would have
        applied (BuildKit leaves an existing directory's owner alone)."""
        assert self.dest is not None
        if not any(f.name in ("chown", "chmod") for f in self.copy.flags):
            return
        created = set()
        for t in targets:
            while t:
                created.add(t)
                t = posixpath.dirname(t)
        instrs = self.stage.instructions
        for j in range(self.index + 1, self.stage.local_index(last)):
            if instrs[j].keyword != "WORKDIR":
                continue
            path = _workdir_at(self.stage, j + 1, self.doc)
            rel = self.tree.rel(path) if path else None
            if rel and rel not in created:
                raise _NoFix(
                    f"the WORKDIR at line {instrs[j].start_line} would create `{rel}` before "
                    "the copy, without the copy's --chown/--chmod"
                )

    def copy_line(self, kw: str, flags: str, sources: list[str], sub: str) -> str:
        dest = self.source.dest
        base = dest.rstrip("/") or "/"
        if base in (".", "./"):
            target = "./" + (sub + "/" if sub else "")
        elif base == "/":
            target = "/" + (sub + "/" if sub else "")
        else:
            target = base + "/" + (sub + "/" if sub else "")
        if self.copy.json_args is not None:
            args = json.dumps([*sources, target])
        else:
            args = " ".join([*sources, target])
        return kw + (" " + flags if flags else "") + " " + args

    def moved_copy(self, insert_after: Instruction) -> str:
        """The original COPY for its new place (destination made absolute when needed)."""
        assert self.dest is not None
        copy = self.copy
        from dockfix.edits import indent_of

        text = self.doc.source[copy.start + len(indent_of(self.doc, copy)) : copy.end]
        stage = self.stage
        later = stage.local_index(insert_after)
        scope_then = _scope(self.doc, stage, copy)
        scope_now = _scope(self.doc, stage, insert_after)
        for name in _var_names(" ".join(f.raw for f in copy.flags)):
            if scope_then.get(name) != scope_now.get(name):
                raise _NoFix(f"`${name}` used by the copy changes before the install")
        dest = self.source.dest
        cwd_now = _workdir_at(stage, later, self.doc)
        changed = any(scope_then.get(n) != scope_now.get(n) for n in _var_names(dest))
        relative = not (_expand(_unquote(dest), scope_then) or "").startswith("/")
        if not changed and (not relative or cwd_now == self.cwd):
            return text
        if _synthetic_root(self.dest) is not None:
            raise _NoFix(
                "a WORKDIR between the copy and the install changes its destination, which "
                "depends on the base image's WORKDIR or a build argument"
            )
        kw = copy.keyword_raw
        flags = " ".join(f.raw for f in copy.flags)
        if copy.json_args is not None:
            args = json.dumps([self.source.src, self.dest])
        else:
            args = f"{self.source.src} {self.dest}"
        return kw + (" " + flags if flags else "") + " " + args

    def hadolint_pragma(self, instr: Instruction, codes: set[str]) -> Edit | None:
        doc = self.doc
        from dockfix.edits import indent_of

        indent = indent_of(doc, instr)
        n = instr.start_line - 1
        if n >= 1 and doc.instruction_at_line(n) is None:
            line = doc.line(n)
            m = _HADOLINT_IGNORE_RE.fullmatch(doc.line_text(n))
            if m:
                have = set(m.group(2).split(","))
                add = sorted(codes - have)
                if not add:
                    return None
                end = line.start + len(m.group(1)) + len(m.group(2))
                return Edit(end, end, "," + ",".join(add))
        return Edit(
            instr.start,
            instr.start,
            f"{indent}# hadolint ignore={','.join(sorted(codes))}{doc.eol}",
        )


def _refusal(result: _Plan | _Refusal | str, install: bool, cmd: _Cmd) -> _Plan | _Refusal:
    if isinstance(result, str):
        return _Refusal(result, install, cmd.text.strip())
    if isinstance(result, _Refusal) and not result.label:
        result.label = cmd.text.strip()
    return result


class _NoFix(Exception):
    """The fix cannot be written; the message is the display-only reason."""


def _insert_after(doc: Dockerfile, instr: Instruction, lines: list[str]) -> Edit:
    from dockfix.edits import indent_of

    indent = indent_of(doc, instr)
    eol = doc.eol
    body = "".join(f"{indent}{line}{eol}" for line in lines)
    if instr.next == instr.end:  # the last line has no line break: keep it that way
        return Edit.insert(instr.end, eol + body[: -len(eol)])
    return Edit.insert(instr.next, body)


def _apply(source: str, edits: list[Edit]) -> Dockerfile | None:
    """The edited file's tree, or None when the edits do not apply or the result does not
    parse."""
    from dockfix.edits import apply_edits
    from dockfix.syntax import parse_lossless

    try:
        fixed = parse_lossless(apply_edits(source, edits))
    except ValueError:
        return None
    return fixed if fixed.error is None else None


def _dl3059_hits(doc: Dockerfile) -> int:
    """hadolint DL3059: consecutive single-command RUNs with the same flags (comments between)."""
    from dockfix.shell import shell_of

    hits = 0
    prev: tuple[tuple[str, ...], int] | None = None
    for instr in doc.instructions:
        if instr.keyword != "RUN":
            prev = None
            continue
        flags = tuple(sorted(f.raw for f in instr.flags))
        script = shell_of(instr)
        count = len(script.commands) if script is not None else 1
        # hadolint counts one more than the simple commands: only single-command RUNs match.
        if prev is not None and prev[0] == flags and count <= 1 and prev[1] <= 1:
            hits += 1
        prev = (flags, count)
    return hits


def _plan_node_start(r: _RunResult, p: _Plan) -> int | None:
    node = _plan_node(r, p)
    return node.start if node is not None else None


def _plan_node(r: _RunResult, p: _Plan) -> SimpleCommand | None:
    if r.script is None:
        return None
    for item in r.script.chain:
        node: SimpleCommand | None = item.command
        if node is not None and r.instr.logical[node.start : node.end].strip() == p.label:
            return node
    return None


def _run_cwd_for(check: _Check, r: _RunResult, p: _Plan) -> str:
    """The working directory when the plan's command runs (after the RUN's `cd`s)."""
    index = check.stage.local_index(r.instr)
    cwd = _workdir_at(check.stage, index, check.doc) or "/"
    env = layered(_scope(check.doc, check.stage, r.instr))
    node = _plan_node(r, p)
    if r.script is None or node is None:
        return cwd
    for item in r.script.chain:
        if item.command is node:
            break
        c = item.command
        if c is None:
            continue
        argv, _ = _argv_words(c)
        if argv[:1] == ["cd"] and len(argv) == 2:
            target = _expand(argv[1], env) if "$" in argv[1] else argv[1]
            if target is not None:
                cwd = _join(cwd, target)
    return cwd


def _command_text(r: _RunResult, p: _Plan) -> str:
    node = _plan_node(r, p)
    if node is None:
        raise _NoFix("cannot repeat the project install")
    return r.instr.logical[node.start : node.end].strip()


def _argv_words(node: SimpleCommand) -> tuple[list[str], list[Word]]:
    """argv and its words with wrappers (``sudo``, ``env X=1``) removed, like ``argv``."""
    from dockfix.shell import WRAPPERS

    words = list(node.words)
    while words and words[0].value.rsplit("/", 1)[-1] in WRAPPERS:
        words = words[1:]
        while words and (words[0].value.startswith("-") or "=" in words[0].value):
            words = words[1:]
    return [_shell_unquote(w.raw) for w in words], words


def _bind_from_context(spec: str) -> bool:
    parts = dict(p.partition("=")[::2] for p in spec.split(","))
    kind = parts.get("type", "bind")
    return kind == "bind" and "from" not in parts


def _join_reasons(reasons: list[str]) -> str:
    return "; ".join(_dedupe(reasons))


def _dedupe(items: Iterable[str]) -> list[str]:
    out: list[str] = []
    for x in items:
        if x not in out:
            out.append(x)
    return out


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


def _callee_name(func: Any) -> str:
    import libcst as cst

    if isinstance(func, cst.Name):
        return func.value
    return func.attr.value if isinstance(func, cst.Attribute) else ""


def _setup_py_requirements(text: str, extras: set[str]) -> list[str] | str:
    """A literal ``install_requires`` (plus requested extras) from setup.py, read with libcst."""
    import libcst as cst

    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError:
        return "setup.py does not parse"
    # `setup(...)` and `setuptools.setup(...)`, wherever they are
    calls: list[cst.Call] = []
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Call) and _callee_name(node.func) == "setup":
            calls.append(node)
        stack.extend(node.children)
    if len(calls) != 1:
        return "setup.py does not call setup() exactly once"
    call = calls[0]
    if any(a.star for a in call.args):
        return "setup() receives **kwargs"
    kwargs = {a.keyword.value: a.value for a in call.args if a.keyword is not None}

    def strings(node: cst.BaseExpression) -> list[str] | None:
        if not isinstance(node, cst.List | cst.Tuple):
            return None
        out = []
        for el in node.elements:
            v = el.value
            if isinstance(v, cst.SimpleString | cst.ConcatenatedString):
                s = v.evaluated_value
                if not isinstance(s, str):
                    return None
                out.append(s)
            else:
                return None
        return out

    deps: list[str] = []
    if "install_requires" in kwargs:
        got = strings(kwargs["install_requires"])
        if got is None:
            return "install_requires in setup.py is not a literal list"
        deps.extend(got)
    if extras:
        ex = kwargs.get("extras_require")
        if not isinstance(ex, cst.Dict):
            return "extras_require in setup.py is not a literal dict"
        table: dict[str, list[str]] = {}
        for el in ex.elements:
            if not isinstance(el, cst.DictElement) or not isinstance(el.key, cst.SimpleString):
                return "extras_require in setup.py is not a literal dict"
            got = strings(el.value)
            key = el.key.evaluated_value
            if got is None or not isinstance(key, str):
                return "extras_require in setup.py is not a literal dict"
            table[_canonical(key)] = got
        for x in sorted(extras):
            if x not in table:
                return f"the extra `{x}` is not declared in setup.py"
            deps.extend(d for d in table[x] if d not in deps)
    return deps


def _install_labels(instr: Instruction, earlier: _Earlier) -> list[str]:
    """The dependency installs a RUN runs (as written), by command recognition only."""
    from dockfix.shell import shell_of

    out: list[str] = []
    if instr.json_args is not None:
        m = match_command(instr.json_args)
        if m is not None and m.is_install:
            out.append(" ".join(instr.json_args))
        return out
    script = shell_of(instr)
    if script is None:
        return out
    for c in script.commands:
        argv, _ = _argv_words(c)
        m = match_command(argv)
        exe = argv[0].rsplit("/", 1)[-1] if argv else ""
        if (m is not None and m.is_install and m.manager.name not in earlier) or (
            exe in ("mvn", "mvnw") and any(a.startswith("dependency:") for a in argv)
        ):
            if (
                m is not None
                and m.manager.name in ("pip", "uv-pip")
                and not any(
                    a in ("-r", "--requirement") or a.startswith(("-r", "--requirement="))
                    for a in argv
                )
            ):
                continue
            out.append(instr.logical[c.start : c.end].strip())
    return out


class _Earlier:
    """Package managers that already installed from manifests before a copy (incl. parents),
    as :func:`_run_installs` names them, for the RUNs before the copy. Looked up where asked,
    not gathered for every copy (that made a file's cost quadratic)."""

    def __init__(self, own: _StageInstalls, before: int, parents: list[_StageInstalls]) -> None:
        self._own = own
        self._before = before  # the copy's index in the stage
        self._parents = parents

    def __contains__(self, key: str) -> bool:
        if self._own.first.get(key, self._before) < self._before:
            return True
        return any(key in p.first for p in self._parents)

    def covers(self, key: str, items: set[str]) -> bool:
        """Whether every one of ``items`` was installed under ``key`` before the copy."""
        own = self._own.items.get(key, {})
        return all(
            own.get(x, self._before) < self._before
            or any(x in p.items.get(key, ()) for p in self._parents)
            for x in items
        )


@dataclass(eq=False)
class _StageInstalls:
    """What the RUNs of one stage install, with the index of the first RUN that does."""

    first: dict[str, int] = field(default_factory=dict)  # key -> index
    items: dict[str, dict[str, int]] = field(default_factory=dict)  # key -> item -> index


def _earlier_installs(doc: Dockerfile, stage: Stage, index: int) -> _Earlier:
    """Package managers that already installed from manifests before this copy (incl. parents).

    A later install of the same tool after a whole-tree copy is then the project half of an
    existing split (``uv sync --no-install-project`` … ``COPY . .`` … ``uv sync``).
    """
    parents: list[_StageInstalls] = []
    st = stage.parent
    while st is not None and len(parents) < 19:  # as far back as 20 stages
        parents.append(_stage_installs(doc, st))
        st = st.parent if st.parent is not st else None
    return _Earlier(_stage_installs(doc, stage), index, parents)


def _stage_installs(doc: Dockerfile, stage: Stage) -> _StageInstalls:
    """:class:`_StageInstalls` of a stage, once per tree."""
    key = ("cbi-installs", stage)
    cached = doc.cache.get(key)
    if isinstance(cached, _StageInstalls):
        return cached
    out = _StageInstalls()
    for k, instr in enumerate(stage.instructions):
        if instr.keyword != "RUN":
            continue
        for name, items in _run_installs(instr).items():
            out.first.setdefault(name, k)
            known = out.items.setdefault(name, {})
            for x in items:
                known.setdefault(x, k)
    doc.cache[key] = out
    return out


def _run_installs(instr: Instruction) -> dict[str, set[str]]:
    """What one RUN installs from manifests, by package manager (see _earlier_installs)."""
    from dockfix.shell import shell_of

    out: dict[str, set[str]] = {}
    script = shell_of(instr) if instr.json_args is None else None
    commands = (
        [instr.json_args]
        if instr.json_args is not None
        else [_argv_words(c)[0] for c in (script.commands if script else [])]
    )
    for argv in commands:
        if not argv:
            continue
        if re.search(
            r"bundle\s+config\s+(set\s+)?(--\w+\s+)*(frozen|deployment)\s+"
            r"['\"]?(true|1)",
            " ".join(argv),
        ):
            out["bundle-frozen"] = {"yes"}
        exe = argv[0].rsplit("/", 1)[-1]
        if exe in ("mvn", "mvnw") and any(a.startswith("dependency:") for a in argv):
            out.setdefault("maven", set())
            continue
        if exe in ("gradle", "gradlew") and "dependencies" in argv:
            out.setdefault("gradle", set())
            continue
        m = match_command(argv)
        if m is None or not m.is_install:
            continue
        rest = argv[m.args_index :]
        name = m.manager.name
        if name in ("pip", "uv-pip"):
            specs = out.setdefault("pip-specs", set())
            positional = [a for a in rest if not a.startswith("-")]
            specs.update(_canonical(a) for a in positional)
            if any(
                a.startswith(("-r", "--requirement", "-c", "--constraint", "--group"))
                for a in rest
            ) or (name == "uv-pip" and m.subcommand[-1] == "sync"):
                out.setdefault("pip", set())
            continue
        if any(a in ("-g", "--global") for a in rest):
            continue
        out.setdefault(name, set())
    return out
