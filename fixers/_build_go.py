"""What a `go build` / `go install` of a stage writes, for DF301, DF302 and DF303."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, NamedTuple

from dockfix.fixers._build_steps import Artifact, Command, run_steps
from dockfix.fixers._image_paths import (
    SYSTEM_DIRS,
    BaseImage,
    context_source,
    copy_parts,
    image_workdir_after,
    image_workdir_at,
)
from dockfix.fixers._lazy import lazy_re
from dockfix.semantics.semantic import is_within, resolve_path, stage_chain
from dockfix.syntax import Dockerfile, Instruction, Stage

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext


_GO_VALUE_FLAGS = frozenset(
    {
        "o",
        "p",
        "C",
        "asmflags",
        "buildmode",
        "compiler",
        "gccgoflags",
        "gcflags",
        "installsuffix",
        "ldflags",
        "mod",
        "modfile",
        "overlay",
        "pgo",
        "pkgdir",
        "tags",
        "toolexec",
        "coverpkg",
        "covermode",
        "exec",
        "buildvcs",
        "json",
        "cover",
    }
)
_MODULE_LINE = lazy_re(r"(?m)^\s*module\s+\"?([^\s\"]+)")
_MAJOR_VERSION = lazy_re(r"v[0-9]+")  # the `/v2` of a module path names no binary
_GO_BOOL_FLAGS = frozenset(
    {
        "a",
        "n",
        "race",
        "msan",
        "asan",
        "v",
        "work",
        "x",
        "trimpath",
        "linkshared",
        "modcacherw",
        "cover",
        "json",
        "buildvcs",
    }
)


class _GoArgs(NamedTuple):
    """A `go build` / `go install` command line, read."""

    output: str | None  # the `-o` value (None: no `-o`)
    packages: list[str]


def go_build(
    doc: Dockerfile,
    st: Stage,
    cmd: Command,
    instr: Instruction,
    ctx: FixContext,
    base: BaseImage | None,
) -> tuple[list[Artifact], str | None]:
    parsed = _go_args(cmd.argv[2:])
    if isinstance(parsed, str):
        return [], parsed
    output, packages = parsed
    has_output = output is not None
    if cmd.argv[1] == "install":
        if has_output:
            return [], "`go install` does not take `-o`"
        if len(packages) != 1:
            return [], "`go install` of several packages writes several binaries"
        gobin = _gobin(cmd, base)
        if not gobin or not gobin.startswith("/"):
            return [], "the directory `go install` writes to (GOBIN/GOPATH) is unknown"
        output, has_output = gobin + "/", True
        packages = [packages[0].split("@", 1)[0]]
    goos = cmd.env.get("GOOS")
    if goos not in (None, "linux"):
        return [], f"the binary is built for GOOS={goos}"
    static = cmd.env.get("CGO_ENABLED") == "0"
    musl = bool(base and base.is_alpine) and not static
    if len(packages) > 1 and not all(p.endswith(".go") for p in packages):
        return [], "`go build` of several packages writes no single binary"
    if any("..." in p for p in packages):
        return [], "`go build` of a package pattern writes no single binary"
    path, why = _binary_path(doc, st, ctx, cmd.cwd, output, packages)
    if path is None:
        return [], why
    return [Artifact("go", path, instr, static, musl, cmd.cwd)], None


def _go_args(args: list[str | None]) -> _GoArgs | str:
    """The `-o` value and the packages of a `go build` command line; why not, as a string."""
    output: str | None = None
    packages: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a is None:
            return "a `go build` argument uses a variable whose value is unknown"
        if a.startswith("-") and a not in ("-", "--"):
            name, eq, value = a.lstrip("-").partition("=")
            takes_value = name in _GO_VALUE_FLAGS and not (name in _GO_BOOL_FLAGS and not eq)
            if name == "C":
                return "`go build -C` changes the directory"
            if takes_value and not eq:
                if i + 1 >= len(args):
                    return f"`-{name}` without a value"
                nxt = args[i + 1]
                if nxt is None:
                    return f"`-{name}` uses a variable whose value is unknown"
                value = nxt
                i += 1
            if name == "o":
                output = value
            i += 1
            continue
        packages.append(a)
        i += 1
    return _GoArgs(output, packages)


def _gobin(cmd: Command, base: BaseImage | None) -> str | None:
    """The directory `go install` writes to: GOBIN, else GOPATH's bin."""
    gobin = cmd.env.get("GOBIN")
    gopath = cmd.env.get("GOPATH")
    if gobin is None and "GOBIN" not in cmd.env:
        if gopath is None and "GOPATH" not in cmd.env:
            # The official golang image sets GOPATH=/go.
            official = base is not None and base.is_official and base.name == "golang"
            gopath = "/go" if official else None
        gobin = posixpath.join(gopath, "bin") if gopath else None
    return gobin


def _binary_path(
    doc: Dockerfile,
    st: Stage,
    ctx: FixContext,
    cwd: str | None,
    output: str | None,
    packages: list[str],
) -> tuple[str | None, str]:
    """Where the binary lands, or None and why that is unknown."""
    unknown_name = "the binary's name follows the package path, which is unknown"
    if output is not None and not output.endswith("/"):
        path = resolve_path(output, cwd)
        if path is None:
            return None, "the `-o` path is relative to an unknown directory"
        if path in SYSTEM_DIRS or _is_known_dir(doc, st, path):
            binary = _go_binary_name(doc, st, packages, cwd, ctx)
            if binary is None:
                return None, unknown_name
            path = posixpath.join(path, binary)
        return path, ""
    binary = _go_binary_name(doc, st, packages, cwd, ctx)
    if binary is None:
        return None, unknown_name
    out_dir = resolve_path(output, cwd) if output else cwd
    if out_dir is None:
        return None, "the build directory is unknown"
    return posixpath.join(out_dir, binary), ""


def _is_known_dir(doc: Dockerfile, stage: Stage, path: str) -> bool:
    """Whether a WORKDIR, `mkdir` or COPY destination of the chain made ``path`` a directory."""
    for st in stage_chain(stage):
        for i in st.instructions:
            made: list[str | None] = []
            if i.keyword == "WORKDIR":
                made.append(image_workdir_after(doc, st, i))
            elif i.keyword in ("COPY", "ADD"):
                parts = copy_parts(i)
                if parts is not None:
                    d = resolve_path(parts.dest, image_workdir_at(doc, st, i))
                    # A destination inside ``path`` makes it a directory; so does `dest/`.
                    if d is not None and (parts.dest.endswith("/") or d != path):
                        made.append(d)
            elif i.keyword == "RUN":
                for c in run_steps(doc, st, i) or []:
                    if c.argv and c.argv[0] == "mkdir":
                        made.extend(
                            resolve_path(a, c.cwd)
                            for a in c.argv[1:]
                            if a is not None and not a.startswith("-")
                        )
            if any(m is not None and is_within(m, path) for m in made):
                return True
    return False


def _go_binary_name(
    doc: Dockerfile, st: Stage, packages: list[str], cwd: str | None, ctx: FixContext
) -> str | None:
    """The name `go build` gives a single main package's binary."""
    if packages and packages[0].endswith(".go"):
        return posixpath.basename(packages[0])[:-3]
    pkg = packages[0] if packages else "."
    if pkg.startswith((".", "/")):
        if cwd is None:
            return None
        pkg_dir = resolve_path(pkg, cwd)
        if pkg_dir is None:
            return None
        # Find the module root above the package dir and its module path.
        d = pkg_dir
        while True:
            rel = context_source(doc, st, posixpath.join(d, "go.mod"), ctx)
            text = ctx.read_text(rel) if rel is not None else None
            if text is not None:
                m = _MODULE_LINE.search(text)
                if m is None:
                    return None
                sub = pkg_dir[len(d) :].strip("/")
                import_path = m.group(1) + ("/" + sub if sub else "")
                return _last_non_version(import_path)
            if d == "/":
                break
            d = posixpath.dirname(d)
        # No go.mod found: an explicit relative directory still names the binary.
        if pkg not in (".", "./"):
            return _last_non_version(pkg_dir)
        return None
    return _last_non_version(pkg)


def _last_non_version(import_path: str) -> str | None:
    parts = [p for p in import_path.strip("/").split("/") if p]
    if len(parts) >= 2 and _MAJOR_VERSION.fullmatch(parts[-1]):
        parts = parts[:-1]
    return parts[-1] if parts else None


# Cargo ------------------------------------------------------------------------------------
