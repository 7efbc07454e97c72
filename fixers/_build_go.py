"""What a `go build` / `go install` of a stage writes, for DF301, DF302 and DF303."""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING

from dockfix.fixers._build_steps import Artifact, Command, run_steps
from dockfix.fixers._image_paths import (
    SYSTEM_DIRS,
    BaseImage,
    context_source,
    copy_parts,
    image_workdir_after,
    image_workdir_at,
)
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


def go_build(
    doc: Dockerfile,
    st: Stage,
    cmd: Command,
    instr: Instruction,
    ctx: FixContext,
    base: BaseImage | None,
) -> tuple[list[Artifact], str | None]:
    output: str | None = None
    has_output = False
    packages: list[str] = []
    args = cmd.argv[2:]
    i = 0
    while i < len(args):
        a = args[i]
        if a is None:
            return [], "a `go build` argument uses a variable whose value is unknown"
        if a.startswith("-") and a not in ("-", "--"):
            name, eq, value = a.lstrip("-").partition("=")
            takes_value = name in _GO_VALUE_FLAGS and not (name in _GO_BOOL_FLAGS and not eq)
            if name == "C":
                return [], "`go build -C` changes the directory"
            if takes_value and not eq:
                if i + 1 >= len(args):
                    return [], f"`-{name}` without a value"
                nxt = args[i + 1]
                if nxt is None:
                    return [], f"`-{name}` uses a variable whose value is unknown"
                value = nxt
                i += 1
            if name == "o":
                output = value
                has_output = True
            i += 1
            continue
        packages.append(a)
        i += 1
    install = cmd.argv[1] == "install"
    if install:
        if has_output:
            return [], "`go install` does not take `-o`"
        if len(packages) != 1:
            return [], "`go install` of several packages writes several binaries"
        gobin = cmd.env.get("GOBIN")
        gopath = cmd.env.get("GOPATH")
        if gobin is None and "GOBIN" not in cmd.env:
            if gopath is None and "GOPATH" not in cmd.env:
                # The official golang image sets GOPATH=/go.
                official = base is not None and base.is_official and base.name == "golang"
                gopath = "/go" if official else None
            gobin = posixpath.join(gopath, "bin") if gopath else None
        if not gobin or not gobin.startswith("/"):
            return [], "the directory `go install` writes to (GOBIN/GOPATH) is unknown"
        output, has_output = gobin + "/", True
        packages = [packages[0].split("@", 1)[0]]
    goos = cmd.env.get("GOOS")
    if goos not in (None, "linux"):
        return [], f"the binary is built for GOOS={goos}"
    cgo = cmd.env.get("CGO_ENABLED")
    static = cgo == "0"
    musl = bool(base and base.is_alpine) and not static
    if len(packages) > 1 and not all(p.endswith(".go") for p in packages):
        return [], "`go build` of several packages writes no single binary"
    if any("..." in p for p in packages):
        return [], "`go build` of a package pattern writes no single binary"
    cwd = cmd.cwd
    if has_output and output is not None and not output.endswith("/"):
        out_path = resolve_path(output, cwd)
        if out_path is None:
            return [], "the `-o` path is relative to an unknown directory"
        path = out_path
        if path in SYSTEM_DIRS or _is_known_dir(doc, st, path):
            binary = _go_binary_name(doc, st, packages, cwd, ctx)
            if binary is None:
                return [], "the binary's name follows the package path, which is unknown"
            path = posixpath.join(path, binary)
    else:
        binary = _go_binary_name(doc, st, packages, cwd, ctx)
        if binary is None:
            return [], "the binary's name follows the package path, which is unknown"
        out_dir = resolve_path(output, cwd) if output else cwd
        if out_dir is None:
            return [], "the build directory is unknown"
        path = posixpath.join(out_dir, binary)
    return [Artifact("go", path, instr, static, musl, cwd)], None


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
                m = re.search(r"(?m)^\s*module\s+\"?([^\s\"]+)", text)
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
    if len(parts) >= 2 and re.fullmatch(r"v[0-9]+", parts[-1]):
        parts = parts[:-1]
    return parts[-1] if parts else None


# Cargo ------------------------------------------------------------------------------------
