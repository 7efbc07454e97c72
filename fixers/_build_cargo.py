"""What a `cargo build` / `cargo install` of a stage writes, for DF301, DF302 and DF303:
the binaries its manifests name, where its target directory is (flags, environment,
`.cargo/config.toml`), and whether it links statically."""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dockfix.fixers._build_steps import Artifact, Command
from dockfix.fixers._image_paths import BaseImage, context_source
from dockfix.fixers._lazy import lazy_re
from dockfix.semantics.memo import per_context
from dockfix.semantics.semantic import resolve_path
from dockfix.syntax import Dockerfile, Instruction, Stage

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext


_CARGO_VALUE_FLAGS = frozenset(
    {
        "bin",
        "p",
        "package",
        "target",
        "target-dir",
        "profile",
        "manifest-path",
        "features",
        "F",
        "j",
        "jobs",
        "color",
        "config",
        "Z",
        "message-format",
        "exclude",
        "example",
        "test",
        "bench",
        "lockfile-path",
        "artifact-dir",
        "out-dir",
    }
)
_TARGET_TRIPLE = lazy_re(r"[A-Za-z0-9_.-]+")  # else a path to a target specification file
_CARGO_INSTALL_FLAGS = frozenset(
    {"path", "root", "git", "branch", "tag", "rev", "version", "vers", "index", "registry"}
)


@dataclass(eq=False)
class _CargoArgs:
    """What the options of a `cargo build`/`cargo install` choose."""

    bins: list[str] = field(default_factory=list)
    packages: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    target_dir: str | None = None
    profile: str = "dev"
    whole_workspace: bool = False
    install_path: str | None = None
    install_root: str | None = None


def cargo_build(
    doc: Dockerfile,
    st: Stage,
    cmd: Command,
    instr: Instruction,
    ctx: FixContext,
    base: BaseImage | None,
) -> tuple[list[Artifact], str | None]:
    install = cmd.argv[1] == "install"
    opts = _cargo_args(cmd.argv[2:], install)
    if isinstance(opts, str):
        return [], opts
    if install:
        return _installed(doc, st, cmd, instr, ctx, base, opts)
    return _built(doc, st, cmd, instr, ctx, base, opts)


def _cargo_args(args: list[str | None], install: bool) -> _CargoArgs | str:
    """The options of the command, or why its output cannot be known."""
    opts = _CargoArgs(profile="release" if install else "dev")
    value_flags = _CARGO_VALUE_FLAGS | (_CARGO_INSTALL_FLAGS if install else frozenset())
    i = 0
    while i < len(args):
        a = args[i]
        if a is None:
            return "a `cargo` argument uses a variable whose value is unknown"
        if a == "--":
            break
        if not a.startswith("-"):
            if install:
                return "the binaries of a crate installed from a registry are not known"
            return f"unexpected argument `{a}`"
        if a.startswith("--"):
            name, eq, value = a[2:].partition("=")
        else:
            name, value = a[1:2], a[2:]
            eq = "=" if value else ""
        if name in value_flags:
            if not eq:
                if i + 1 >= len(args) or args[i + 1] is None:
                    return f"`{a}` takes a variable whose value is unknown"
                value = args[i + 1] or ""
                i += 1
            problem = _value_option(opts, name, value)
            if problem:
                return problem
        elif name in ("release", "r"):
            opts.profile = "release"
        elif name == "debug" and install:
            opts.profile = "dev"
        elif name in ("workspace", "all", "bins"):
            opts.whole_workspace = opts.whole_workspace or name != "bins"
        elif name in ("lib", "examples", "tests", "benches"):
            return f"`--{name}` builds no service binary"
        i += 1
    return opts


def _value_option(opts: _CargoArgs, name: str, value: str) -> str:
    """Record an option that takes a value; why the output cannot be known, "" when it can."""
    if name == "bin":
        opts.bins.append(value)
    elif name in ("p", "package"):
        opts.packages.append(value)
    elif name == "target":
        opts.targets.append(value)
    elif name == "target-dir":
        opts.target_dir = value
    elif name == "profile":
        opts.profile = value
    elif name == "path":
        opts.install_path = value
    elif name == "root":
        opts.install_root = value
    elif name in ("git", "index", "registry"):
        return "the binaries of a crate installed from elsewhere are not known"
    elif name in ("manifest-path", "artifact-dir", "out-dir"):
        return f"`--{name}` moves the build"
    elif name == "config" and ("target" in value or "profile" in value or "install" in value):
        return "`--config` changes the build's target or output"
    elif name in ("example", "test", "bench"):
        return f"`--{name}` builds no service binary"
    return ""


def _installed(
    doc: Dockerfile,
    st: Stage,
    cmd: Command,
    instr: Instruction,
    ctx: FixContext,
    base: BaseImage | None,
    opts: _CargoArgs,
) -> tuple[list[Artifact], str | None]:
    """What `cargo install --path` writes."""
    if opts.install_path is None:
        return [], "the binaries of a crate installed from a registry are not known"
    root = opts.install_root
    if root is None:
        for key in ("CARGO_INSTALL_ROOT", "CARGO_HOME"):
            if key in cmd.env:
                root = cmd.env[key]
                if root is None:
                    return [], f"{key}'s value is unknown"
                break
    if root is None and base is not None and base.is_official and base.name == "rust":
        root = "/usr/local/cargo"  # CARGO_HOME of the official image
    bin_dir = resolve_path(posixpath.join(root, "bin"), cmd.cwd) if root else None
    crate_dir = resolve_path(opts.install_path, cmd.cwd)
    if bin_dir is None or crate_dir is None:
        return [], "the directory `cargo install` writes to is unknown"
    bins = opts.bins
    if not bins:
        manifest = _read_toml(doc, st, posixpath.join(crate_dir, "Cargo.toml"), ctx)
        found = _package_bins(doc, st, crate_dir, manifest, ctx) if manifest else None
        if not found:
            return [], "the crate's binaries cannot be listed from the build context"
        bins = found
    musl = bool(base and base.is_alpine)
    return [
        Artifact("cargo", posixpath.join(bin_dir, b), instr, False, musl, crate_dir, None)
        for b in bins
    ], None


def _built(
    doc: Dockerfile,
    st: Stage,
    cmd: Command,
    instr: Instruction,
    ctx: FixContext,
    base: BaseImage | None,
    opts: _CargoArgs,
) -> tuple[list[Artifact], str | None]:
    """What `cargo build` writes: the binaries of the crate or workspace under its target
    directory (flags, environment and `.cargo/config.toml` move it)."""
    cwd = cmd.cwd
    if cwd is None:
        return [], "the directory cargo runs in is unknown"
    env = cmd.env
    # Cargo's own configuration files can move the output too.
    config = _cargo_config(doc, st, cwd, ctx)
    if config is None:
        return [], "a `.cargo/config` in the context sets options dockfix cannot read"
    targets = _build_targets(opts, env, config)
    if isinstance(targets, str):
        return [], targets
    manifest = _read_toml(doc, st, posixpath.join(cwd, "Cargo.toml"), ctx)
    root_dir, root_manifest = _workspace_root(doc, st, cwd, manifest, ctx)
    target_root, problem = _target_root(opts.target_dir, env, config, cwd, root_dir)
    if target_root is None:
        return [], problem
    profile_dir = {"dev": "debug", "test": "debug", "release": "release", "bench": "release"}.get(
        opts.profile, opts.profile
    )
    out_dir = posixpath.join(target_root, *targets, profile_dir)
    bins = opts.bins
    if not bins:
        if manifest is None:
            return [], "the binary's name is in a Cargo.toml that is not in the build context"
        found = _cargo_bins(
            doc,
            st,
            cwd,
            manifest,
            root_dir,
            root_manifest,
            opts.packages,
            opts.whole_workspace,
            ctx,
        )
        if found is None:
            return [], "the crate's binaries cannot be listed from the build context"
        bins = found
    if not bins:
        return [], "the build produces no binary"
    # A musl target links statically by default; on Alpine the host target is musl too, but
    # crates may link Alpine's shared libraries, so only an explicit target counts as static.
    static = any("musl" in t for t in targets)
    musl = static or bool(base and base.is_alpine and not targets)
    return [
        Artifact("cargo", posixpath.join(out_dir, b), instr, static, musl, cwd, target_root)
        for b in bins
    ], None


def _build_targets(
    opts: _CargoArgs, env: dict[str, str | None], config: dict[str, str]
) -> list[str] | str:
    """The `--target` triples the build compiles for (none: the host's), or why they are
    not known."""
    targets = opts.targets
    if not targets:
        t = env.get("CARGO_BUILD_TARGET") if "CARGO_BUILD_TARGET" in env else config.get("target")
        if "CARGO_BUILD_TARGET" in env and t is None:
            return "CARGO_BUILD_TARGET's value is unknown"
        if t:
            targets = [t]
    if len(targets) > 1:
        return "several `--target`s build several binaries"
    if any(not _TARGET_TRIPLE.fullmatch(t) for t in targets):
        return "the `--target` names a target file"
    return targets


def _workspace_root(
    doc: Dockerfile, st: Stage, cwd: str, manifest: dict[str, Any] | None, ctx: FixContext
) -> tuple[str, dict[str, Any] | None]:
    """The directory and manifest of the workspace the crate in ``cwd`` belongs to (the
    crate's own when it is not a member)."""
    if manifest is not None and "workspace" not in manifest:
        # A member crate: the target dir is the workspace root's.
        d = cwd
        while d != "/":
            d = posixpath.dirname(d)
            parent = _read_toml(doc, st, posixpath.join(d, "Cargo.toml"), ctx)
            if parent is not None and "workspace" in parent:
                return d, parent
    return cwd, manifest


def _target_root(
    target_dir: str | None,
    env: dict[str, str | None],
    config: dict[str, str],
    cwd: str,
    root_dir: str,
) -> tuple[str | None, str]:
    """(the build's target directory, "") or (None, why it is unknown)."""
    if target_dir is None:
        for key in ("CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"):
            if key in env:
                if env[key] is None:
                    return None, f"{key}'s value is unknown"
                target_dir = env[key]
                break
    if target_dir is None and config.get("target-dir"):
        target_dir = resolve_path(config["target-dir"], config["base"])
    if not target_dir:
        return posixpath.join(root_dir, "target"), ""
    found = resolve_path(target_dir, cwd)
    return (found, "") if found is not None else (None, "the target directory is unknown")


def _read_toml(
    doc: Dockerfile, st: Stage, image_path: str, ctx: FixContext
) -> dict[str, Any] | None:
    rel = context_source(doc, st, image_path, ctx)
    if rel is None:
        return None
    return _parsed_toml(ctx, rel)


@per_context
def _parsed_toml(ctx: FixContext, rel: str) -> dict[str, Any] | None:
    """A context file read as TOML (several crates and fixers read the same manifest)."""
    text = ctx.read_text(rel)
    if text is None:
        return None
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def _cargo_config(doc: Dockerfile, st: Stage, cwd: str, ctx: FixContext) -> dict[str, str] | None:
    """``build.target``/``build.target-dir`` from `.cargo/config(.toml)` files above ``cwd``."""
    out: dict[str, str] = {}
    d = cwd
    while True:
        for name in ("config.toml", "config"):
            data = None
            path = posixpath.join(d, ".cargo", name)
            rel = context_source(doc, st, path, ctx)
            if rel is not None and ctx.read_text(rel) is not None:
                data = _read_toml(doc, st, path, ctx)
                if data is None:
                    return None
            if data is None:
                continue
            build = data.get("build", {})
            if not isinstance(build, dict):
                return None
            for key in ("target", "target-dir"):
                if key in build and key not in out:
                    if not isinstance(build[key], str):
                        return None
                    out[key] = build[key]
                    if key == "target-dir":
                        out["base"] = d
            break
        if d == "/":
            return out
        d = posixpath.dirname(d)


def _cargo_bins(
    doc: Dockerfile,
    st: Stage,
    cwd: str,
    manifest: dict[str, Any],
    root_dir: str,
    root_manifest: dict[str, Any] | None,
    packages: list[str],
    whole: bool,
    ctx: FixContext,
) -> list[str] | None:
    members: dict[str, tuple[str, dict[str, Any]]] = {}  # package name -> (dir, manifest)
    ws = (root_manifest or {}).get("workspace")
    if isinstance(ws, dict):
        for pattern in ws.get("members", []) or []:
            if not isinstance(pattern, str):
                return None
            for mdir in _expand_member(doc, st, root_dir, pattern, ctx):
                m = _read_toml(doc, st, posixpath.join(mdir, "Cargo.toml"), ctx)
                if m is None:
                    return None
                name = (m.get("package") or {}).get("name")
                if isinstance(name, str):
                    members[name] = (mdir, m)
    if root_manifest is not None and isinstance(root_manifest.get("package"), dict):
        name = root_manifest["package"].get("name")
        if isinstance(name, str):
            members.setdefault(name, (root_dir, root_manifest))
    own = (manifest.get("package") or {}).get("name")
    if isinstance(own, str):
        members.setdefault(own, (cwd, manifest))
    if packages:
        selected = []
        for p in packages:
            if p not in members:
                return None
            selected.append(members[p])
    elif whole or "package" not in manifest:
        default = (ws or {}).get("default-members") if isinstance(ws, dict) else None
        if default and not whole:
            selected = [v for v in members.values() if posixpath.relpath(v[0], root_dir) in default]
        else:
            selected = list(members.values())
    else:
        selected = [(cwd, manifest)]
    bins: list[str] = []
    for mdir, m in selected:
        found = _package_bins(doc, st, mdir, m, ctx)
        if found is None:
            return None
        bins.extend(b for b in found if b not in bins)
    return bins


def _expand_member(
    doc: Dockerfile, st: Stage, root: str, pattern: str, ctx: FixContext
) -> list[str]:
    if not any(c in pattern for c in "*?["):
        return [posixpath.normpath(posixpath.join(root, pattern))]
    parent, _, leaf = pattern.rstrip("/").rpartition("/")
    if any(c in parent for c in "*?["):
        return []
    base = posixpath.join(root, parent) if parent else root
    rel = context_source(doc, st, base, ctx)
    if rel is None:
        return []
    return [
        posixpath.join(base, n)
        for n in ctx.list_dir(rel)
        if fnmatch.fnmatchcase(n, leaf) and ctx.exists(posixpath.join(rel, n, "Cargo.toml"))
    ]


def _package_bins(
    doc: Dockerfile, st: Stage, pkg_dir: str, manifest: dict[str, Any], ctx: FixContext
) -> list[str] | None:
    package = manifest.get("package")
    if not isinstance(package, dict):
        return []
    name = package.get("name")
    explicit = manifest.get("bin", []) or []
    if not isinstance(explicit, list):
        return None
    bins: list[str] = []
    claimed: set[str] = set()
    for b in explicit:
        if not isinstance(b, dict) or not isinstance(b.get("name"), str):
            return None
        bins.append(b["name"])
        if isinstance(b.get("path"), str):
            claimed.add(posixpath.normpath(b["path"]))
    if package.get("autobins", True) is False:
        return bins
    main_rel = context_source(doc, st, posixpath.join(pkg_dir, "src/main.rs"), ctx)
    has_main = main_rel is not None and ctx.exists(main_rel)
    if has_main and "src/main.rs" not in claimed and isinstance(name, str) and name not in bins:
        bins.append(name)
    bin_rel = context_source(doc, st, posixpath.join(pkg_dir, "src/bin"), ctx)
    for entry in ctx.list_dir(bin_rel) if bin_rel is not None else []:
        assert bin_rel is not None
        if entry.endswith(".rs"):
            stem, path = entry[:-3], f"src/bin/{entry}"
        elif ctx.exists(posixpath.join(bin_rel, entry, "main.rs")):
            stem, path = entry, f"src/bin/{entry}/main.rs"
        else:
            continue
        if path not in claimed and stem not in bins:
            bins.append(stem)
    return bins


# Node -------------------------------------------------------------------------------------
