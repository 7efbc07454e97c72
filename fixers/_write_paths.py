"""Where an image's application writes at run time, and the ports it binds (for DF201).

A non-root user can only run an application that owns what it writes. This module reads
what a Dockerfile and its build context say about that, without running anything:

- the Dockerfile: `VOLUME`s, `ENV` variables that name data, log or media locations
  (`DATA_FOLDER=/data`, `DATABASE_URL=sqlite:////data/app.db`), paths the start command
  writes (`--access-logfile /logs/access.log`, `>> /var/log/app.log`), the working
  directory (`/` without a `WORKDIR`), ownership the file already hands out
  (`chown -R 1000:2000 /code/media`);
- the start script the command runs (`boot.sh`), when the build context holds it;
- the application's source files the image copies from the context (Python, JavaScript,
  Go, Ruby): file handlers, `open(…, "w")`, `os.makedirs`, SQLite paths, Django's
  `MEDIA_ROOT`, upload directories, `ListenAndServe(":80")` (:mod:`_write_sources`).

Writes it sees through a computed path are listed as unknown, as is everything a compiled
program or an unread source does. The result says what was checked, so a message can name it.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._run_script import analyse_run
from dockfix.fixers._user_commands import runs_naming
from dockfix.fixers._write_sources import SQLITE_URL, absolute, scan_source
from dockfix.semantics.semantic import expand, layered, scope_at, stage_chain, workdir_at
from dockfix.semantics.shell import ShellScript, parse_shell, shell_of

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext
    from dockfix.syntax import Dockerfile, Instruction, Stage

# Directories anyone may write, or that are not on the image's file system at run time.
_NOT_IMAGE = ("/tmp", "/var/tmp", "/dev", "/proc", "/sys", "/run", "/dev/shm")
_SHARED_DIRS = frozenset(
    {
        "/var/log",
        "/var/lib",
        "/var",
        "/var/cache",
        "/etc",
        "/opt",
        "/srv",
        "/usr",
        "/usr/local",
        "/home",
    }
)
_SOURCE_SUFFIXES = (".py", ".js", ".mjs", ".cjs", ".ts", ".go", ".rb")
_SHELL_SUFFIXES = (".sh", ".bash")
_MAX_FILES = 400
_MAX_BYTES = 256 * 1024
_PATTERN_CHARS = frozenset("*?[$")  # a source with a wildcard or a variable
_SKIP_DIRS = frozenset({"node_modules", ".git", "__pycache__", "venv", ".venv", "vendor", "dist"})

_DATA_ENV = lazy_re(
    r"^(?:[A-Z0-9]+_)*(?:DATA|UPLOADS?|MEDIA|LOGS?|STORAGE|STATE|DB|DATABASE|SQLITE)"
    r"_(?:DIR|DIRECTORY|FOLDER|PATH|ROOT|FILE|URL|URI|HOME)$"
)
_FILE_LIKE = lazy_re(r"\.(?:log|db|sqlite3?|pid|lock|json|txt|csv)$")
# Options of servers and tools whose value is a file they write.
_WRITE_OPTIONS = frozenset(
    {
        "--access-logfile",
        "--error-logfile",
        "--log-file",
        "--logfile",
        "--logto",
        "--pid",
        "--pidfile",
        "--pid-file",
        "--daemonize",
    }
)
_REDIRECT = lazy_re(r"(?<![<>&0-9])(?:[12]?>>?|&>>?)\s*([^\s;&|<>()'\"]+)")
_BIND_OPTION = lazy_re(
    r"(?:^|\s)(?:--bind|-b|--listen|--host)(?:=|\s+)\S*:(\d+)\b|--port(?:=|\s+)(\d+)\b"
)


@dataclass(eq=False)
class Write:
    path: str  # absolute, normalised: a directory the user must be able to write into
    how: str  # where it was seen, for the message ("ENV DATA_FOLDER", "app.py")
    file: bool = False  # a single file (in a directory the system shares: `/var/log`)


@dataclass(eq=False)
class WriteAnalysis:
    writes: list[Write] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # what was read
    unknown: list[str] = field(default_factory=list)  # what could not be known
    ports: list[tuple[int, str]] = field(default_factory=list)  # below 1024, and where seen
    handed: tuple[str, str, int] | None = None  # (uid:gid, path, line) of an existing chown
    workdir: str = "/"
    code_dirs: list[str] = field(default_factory=list)  # where context files land

    def add(self, path: str, how: str, file: bool = False) -> None:
        path = posixpath.normpath(path)
        if any(path == d or path.startswith(d + "/") for d in _NOT_IMAGE):
            return
        if not any(w.path == path for w in self.writes):
            self.writes.append(Write(path, how, file))

    def write(self, path: str, kind: str, how: str) -> None:
        """A write of ``kind`` ("file", "dir", "?": by its name) at ``path``: the directory
        must be writable (log rotation and SQLite's journal create files next to a file),
        except in a directory the system shares (`/var/log`), where the file alone is given."""
        path = posixpath.normpath(path)
        if kind == "dir" or (kind == "?" and not _FILE_LIKE.search(path)):
            self.add(path, how)
        elif posixpath.dirname(path) in _SHARED_DIRS:
            self.add(path, how, file=True)
        else:
            self.add(posixpath.dirname(path) or "/", how)


def image_files(
    doc: Dockerfile,
    ctx: FixContext,
    instrs: list[Instruction],
    limit: int = _MAX_FILES,
    missing: list[str] | None = None,
) -> dict[str, str]:
    """Image path -> context path of the files COPY/ADD bring in from the build context
    (at most ``limit``; directories walked, `.dockerignore` respected); sources the context
    lacks or that use wildcards or variables are added to ``missing``."""
    out: dict[str, str] = {}
    if not ctx.has_context:
        return out
    for instr in instrs:
        if instr.keyword not in ("COPY", "ADD") or instr.flag("from") is not None:
            continue
        words = instr.json_args or [w for w, _, _ in instr.args_words()]
        if len(words) < 2:
            continue
        *sources, dest = words
        wd = workdir_at(doc, instr.stage, instr) if instr.stage is not None else None
        if wd is None or "$" in dest:
            continue
        dest_abs = absolute(dest, wd)
        into_dir = dest.endswith("/") or len(sources) > 1 or dest in (".", "./")
        for src in sources:
            if not _PATTERN_CHARS.isdisjoint(src) or "://" in src:
                if missing is not None and "://" not in src:
                    missing.append(src)
                continue
            rel = posixpath.normpath(src.lstrip("/")) if src.strip("/.") else "."
            st = ctx.lstat(rel)
            if st is None:
                if missing is not None:
                    missing.append(src)
                continue
            if not (st.st_mode & 0o040000):  # a file
                target = (
                    dest_abs.rstrip("/") + "/" + posixpath.basename(rel) if into_dir else dest_abs
                )
                out[posixpath.normpath(target)] = rel
                continue
            _walk(ctx, rel, dest_abs, out, limit)
            if len(out) >= limit:
                return out
    return out


def _walk(ctx: FixContext, rel: str, dest: str, out: dict[str, str], limit: int) -> None:
    stack = [(rel, dest)]
    while stack and len(out) < limit:
        here, there = stack.pop()
        for name in ctx.list_dir("" if here == "." else here):
            if name in _SKIP_DIRS:
                continue
            child = name if here == "." else f"{here}/{name}"
            if ctx.is_excluded(child):
                continue
            st = ctx.lstat(child)
            if st is None:
                continue
            if st.st_mode & 0o040000:
                stack.append((child, f"{there}/{name}"))
            elif st.st_mode & 0o100000:
                out[posixpath.normpath(f"{there}/{name}")] = child
                if len(out) >= limit:
                    return


def _command_script(instr: Instruction) -> ShellScript:
    """A shell-form CMD/ENTRYPOINT's script: the tree's own parse (other fixers ask for it
    too) unless heredoc words make that differ from the arguments' text."""
    if not instr.heredocs:
        parsed = shell_of(instr)
        if parsed is not None:
            return parsed
    return parse_shell(instr.args)


def command_argv(doc: Dockerfile, instr: Instruction) -> list[str]:
    """The words of a CMD/ENTRYPOINT (exec form as is, shell form split by the shell)."""
    if instr.json_args is not None:
        return list(instr.json_args)
    return [w.value for c in _command_script(instr).commands for w in c.words]


def _scan_shell(
    text: str, cwd: str, how: str, found: WriteAnalysis, parsed: ShellScript | None = None
) -> None:
    """What a shell script writes; ``parsed``: ``text`` already parsed."""
    for m in _REDIRECT.finditer(text):
        target = m.group(1)
        if target.startswith(("/dev/", "&")):
            continue
        target = _expanded_target(target.strip("\"'"), how, found)
        if target is not None:
            found.write(absolute(target, cwd), "file", how)
    try:
        script = parsed if parsed is not None else parse_shell(text)
    except Exception:  # a script tree-sitter cannot read: its redirects were still seen
        return
    for cmd in script.commands:
        _scan_argv(cmd.argv, cwd, how, found)


def _scan_argv(argv: list[str], cwd: str, how: str, found: WriteAnalysis) -> None:
    if not argv:
        return
    prog = argv[0].rsplit("/", 1)[-1]
    if prog in ("mkdir", "touch", "tee"):
        for a in argv[1:]:
            target = None if a.startswith("-") else _expanded_target(a, how, found)
            if target is not None:
                found.write(absolute(target, cwd), "file" if prog != "mkdir" else "dir", how)
        return
    for k, a in enumerate(argv):
        opt, eq, value = a.partition("=")
        if opt in _WRITE_OPTIONS:
            value = value if eq else (argv[k + 1] if k + 1 < len(argv) else "")
            if value and value != "-" and not value.startswith("/dev/"):
                target = _expanded_target(value, how, found)
                if target is not None:
                    found.write(absolute(target, cwd), "file", how)
    line = " ".join(argv)
    for m in _BIND_OPTION.finditer(line):
        port = int(m.group(1) or m.group(2))
        if 0 < port < 1024:
            found.ports.append((port, how))


# `${DATA_DIR:-/app/data}`: the path a start writes to when the variable is not set.
_DEFAULTED = lazy_re(r"\$\{[A-Za-z_]\w*:?[-=]([^${}]+)\}")


def _expanded_target(word: str, how: str, found: WriteAnalysis) -> str | None:
    """The path a start-up command writes to, as written or by a variable's default value
    (`${DATA_DIR:-/app/data}`, which it writes when nothing sets the variable); a path made
    of other variables cannot be known here, and is said so (None)."""
    if "$" not in word:
        return word
    defaulted = _DEFAULTED.fullmatch(word)
    if defaulted is not None:
        return defaulted.group(1)
    found.unknown.append(f"{how} writes to `{word}`, a path set at run time")
    return None


def _env_writes(doc: Dockerfile, instrs: list[Instruction], cwd: str, found: WriteAnalysis) -> None:
    for instr in instrs:
        if instr.keyword != "ENV" or instr.stage is None:
            continue
        names = [n for n in _env_names(instr) if _DATA_ENV.match(n)]
        if not names:
            continue  # the usual ENV: nothing that names a data location
        scope = layered(scope_at(instr.stage), doc.global_args)
        for name in names:
            raw = scope.get(name)
            if raw is None:
                continue
            value = expand(raw, scope) if "$" in raw else raw
            if not value:
                continue
            value = value.strip("\"'")
            url = SQLITE_URL.search(value)
            if url:
                found.write(absolute(url.group(1), cwd), "file", f"ENV {name}")
            elif value.startswith("/"):
                kind = "file" if _FILE_LIKE.search(value) else "dir"
                found.write(value, kind, f"ENV {name}")


def _env_names(instr: Instruction) -> list[str]:
    words = [w for w, _, _ in instr.args_words()]
    if len(words) >= 2 and "=" not in words[0]:
        return [words[0]]  # `ENV NAME value`
    return [w.split("=", 1)[0] for w in words if "=" in w]


def existing_chown(doc: Dockerfile, instrs: list[Instruction]) -> tuple[str, str, int] | None:
    """(uid:gid, path, line) of a RUN `chown` that hands a path to a numeric non-root user."""
    for instr in runs_naming(doc, instrs, ("chown",)):
        for _, cmd in analyse_run(doc, instr).commands():
            argv = cmd.argv
            if not argv or argv[0] != "chown":
                continue
            operands = [a for a in argv[1:] if not a.startswith("-")]
            if len(operands) < 2:
                continue
            owner = operands[0].replace(".", ":")
            uid, _, gid = owner.partition(":")
            if uid.isdigit() and uid != "0" and (not gid or gid.isdigit()):
                return (f"{uid}:{gid or uid}", operands[1], instr.start_line)
    return None


def analyse(
    doc: Dockerfile,
    ctx: FixContext,
    final: Stage,
    command: list[Instruction],
    chain: list[Instruction] | None = None,
) -> WriteAnalysis:
    """What the final stage (and the stages it is built FROM) and the build context say about
    where the application writes; ``command`` the CMD/ENTRYPOINT in effect, ``chain`` the
    instructions of those stages when the caller has them. Sources that other stages compile
    (a Go server's `ListenAndServe(":80")`) are read too."""
    instrs = (
        chain if chain is not None else [i for st in stage_chain(final) for i in st.instructions]
    )
    workdir = workdir_at(doc, final, None)
    found = WriteAnalysis(workdir=workdir or "?")
    if workdir is None:
        found.unknown.append("the WORKDIR (it uses a variable)")
    cwd = workdir or "/"
    found.handed = existing_chown(doc, instrs)
    for instr in instrs:
        if instr.keyword == "VOLUME":
            words = instr.json_args or [w for w, _, _ in instr.args_words()]
            for w in words:
                if w.startswith("/") and "$" not in w:
                    found.add(w, f"VOLUME on line {instr.start_line}")
    found.checked.append("VOLUME and ENV")
    _env_writes(doc, instrs, cwd, found)
    unread: list[str] = []
    files = image_files(doc, ctx, instrs, missing=unread) if ctx.has_context else {}
    found.code_dirs = sorted({posixpath.dirname(p) for p in files})
    _command_writes(doc, ctx, command, cwd, files, found)
    sources = _sources(doc, ctx, instrs, cwd, files)
    for image_path, rel in sources:
        data = ctx.read_bytes(rel, _MAX_BYTES)
        if data is None or b"\0" in data[:1024]:
            continue
        name = f"`{rel}`"
        seen = scan_source(data.decode("utf-8", "replace"), image_path, cwd)
        for path, kind in seen.writes:
            found.write(path, kind, name)
        if seen.computed_line:
            found.unknown.append(
                f"{name} line {seen.computed_line} writes to a path computed at run time"
            )
        found.ports += [(port, name) for port in seen.ports]
    if sources:
        found.checked.append(f"{len(sources)} source file{'s' if len(sources) > 1 else ''}")
    _unknowns(ctx, instrs, files, unread, found)
    return found


def _command_writes(
    doc: Dockerfile,
    ctx: FixContext,
    command: list[Instruction],
    cwd: str,
    files: dict[str, str],
    found: WriteAnalysis,
) -> None:
    """What the start command writes, and the start scripts it runs (from the context)."""
    scripts_read: list[str] = []
    by_name: dict[str, str] | None = None  # the first file of each name, when a word asks
    for instr in command:
        argv = command_argv(doc, instr)
        how = f"the {instr.keyword}"
        if instr.json_args is None:
            _scan_shell(instr.args, cwd, how, found, _command_script(instr))
        else:
            _scan_argv(argv, cwd, how, found)
            if len(argv) >= 3 and argv[0].rsplit("/", 1)[-1] in ("sh", "bash") and argv[1] == "-c":
                _scan_shell(argv[2], cwd, how, found)
        found.checked.append(how)
        for word in argv:
            target = absolute(word, cwd) if "/" in word else None
            rel = files.get(target) if target else None
            if rel is None and target is not None:
                rel = next((r for p, r in files.items() if p.endswith("/" + word)), None)
            elif rel is None and word:
                if by_name is None:
                    by_name = _first_by_name(files)
                rel = by_name.get(word)
            if rel is None or (not rel.endswith(_SHELL_SUFFIXES) and not _is_shell(ctx, rel)):
                continue
            text = ctx.read_text(rel)
            if text is not None and rel not in scripts_read:
                scripts_read.append(rel)
                _scan_shell(text, cwd, f"`{rel}`", found)
    found.checked.extend(f"`{s}`" for s in scripts_read)


def _first_by_name(files: dict[str, str]) -> dict[str, str]:
    """The context path of the first image path (in ``files``' order) of each file name."""
    out: dict[str, str] = {}
    for image_path, rel in files.items():
        _, slash, name = image_path.rpartition("/")
        if slash:  # `p.endswith("/" + name)`
            out.setdefault(name, rel)
    return out


def _sources(
    doc: Dockerfile, ctx: FixContext, instrs: list[Instruction], cwd: str, files: dict[str, str]
) -> list[tuple[str, str]]:
    """(image path, context path) of the source files the image copies, and of those other
    stages compile (their relative paths resolve against the final WORKDIR)."""
    sources = [(p, r) for p, r in sorted(files.items()) if r.endswith(_SOURCE_SUFFIXES)]
    lineage = {id(i) for i in instrs}
    others = [
        i
        for i in doc.instructions
        if i.keyword in ("COPY", "ADD") and id(i) not in lineage and i.stage is not None
    ]
    if others and ctx.has_context:
        built = image_files(doc, ctx, others)
        seen = {r for _, r in sources}
        sources += [
            (absolute(posixpath.basename(p), cwd), r)
            for p, r in sorted(built.items())
            if r.endswith(_SOURCE_SUFFIXES) and r not in seen
        ]
    return sources


def _unknowns(
    ctx: FixContext,
    instrs: list[Instruction],
    files: dict[str, str],
    unread: list[str],
    found: WriteAnalysis,
) -> None:
    """What could not be read: files beyond the limit, sources the context lacks, programs
    from other stages or images."""
    if len(files) >= _MAX_FILES:
        found.unknown.append(f"files beyond the first {_MAX_FILES} copied from the context")
    if unread:
        named = ", ".join(f"`{u}`" for u in unread[:3]) + (" …" if len(unread) > 3 else "")
        found.unknown.append(f"what the copied {named} write (not read from the context)")
    if not ctx.has_context:
        found.unknown.append("the application's own files (no build context)")
    elif any(i.keyword in ("COPY", "ADD") and i.flag("from") is not None for i in instrs):
        found.unknown.append("programs copied from other stages or images")


def _is_shell(ctx: FixContext, rel: str) -> bool:
    head = ctx.read_bytes(rel, 64) or b""
    return head.startswith(b"#!") and (b"sh" in head.split(b"\n", 1)[0])
