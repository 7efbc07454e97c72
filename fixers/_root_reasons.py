"""Why an image must keep running as root, or cannot be given a user without more care (for
DF201, root-user): it switches user itself (`gosu`, `su-exec`, s6-overlay), runs a server
that starts as root by design, keeps its tools or data under `/root`, has `ONBUILD`
triggers, or binds a port below 1024.
"""

from __future__ import annotations

import posixpath
from typing import NamedTuple

from dockfix.fixers._base_images import Base
from dockfix.fixers._image_paths import DISTROLESS_PATH
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._run_script import POSIX_SHELLS
from dockfix.fixers._write_paths import WriteAnalysis
from dockfix.semantics.context import FixContext
from dockfix.semantics.semantic import expand, layered, scope_at, workdir_at
from dockfix.syntax import Dockerfile, Instruction, Stage

ROOT_HOME_DATA = lazy_re(
    r"(?:^|[\s=:'\"])(?:/root/|~/)|\$HOME\b|\$\{HOME\}|pip3?\s+install\s+(?:\S+\s+)*--user\b"
    r"|nltk\.download|playwright\s+install|spacy\s+download|huggingface-cli\s+download"
)
_ROOT_SERVER_WORD = lazy_re(
    r"(?:^|[\s/;&|'\"])(nginx|httpd|apache2ctl|apachectl|apache2|sshd)(?=$|[\s;&|'\"])"
)
_DROP_PRIVILEGES = lazy_re(
    r"\b(gosu|su-exec|setpriv|runuser|s6-setuidgid|setuidgid|chpst\s+-u)\b"
    r"|\bchroot\s+--userspec\b|\bsu\s+-c\b"
    # `su [options] USER -c CMD`, options with a value included (`-s /bin/sh`, `-g GROUP`)
    r"|\bsu\s+(?:(?:-s|--shell|-g|--group|-G|--supp-group|-w|--whitelist-environment)\s+\S+\s+"
    r"|-\S*\s+)*\S+\s+-c\b"
)
_PORT = lazy_re(r"(\d+)")
_ASPNET_IMAGE = lazy_re(r"mcr\.microsoft\.com/dotnet/(?:core/)?aspnet:(\d+)\.")
_ROOT_ONLY_TOOLS = lazy_re(r"\b(?:npx\s+(?:-y\s+)?)?playwright\s+install\b")
# Words each of those patterns needs: a chain whose text has none of them (the usual case)
# is ruled out by one cheap search instead of the full pattern on every instruction.
_MAY_DROP_PRIVILEGES = lazy_re(r"gosu|su-exec|setpriv|runuser|setuidgid|chpst|chroot|su\s")
_ROOT_HOME_WORDS = (
    "/root/",
    "~/",
    "$HOME",
    "${HOME}",
    "--user",
    "nltk.download",
    "playwright",
    "spacy",
    "huggingface-cli",
)

# Server programs that start as root by design and drop to their own user for the workers.
_ROOT_SERVER_PROGRAMS = frozenset(
    {"httpd", "apache2", "apache2ctl", "apachectl", "nginx", "catalina.sh", "sshd"}
)


def command_instructions(instrs: list[Instruction]) -> list[Instruction]:
    """The ENTRYPOINT and CMD the image starts with."""
    entrypoint = cmd = None
    for i in instrs:
        if i.keyword == "ENTRYPOINT":
            entrypoint = i
        elif i.keyword == "CMD":
            cmd = i
    return [i for i in (entrypoint, cmd) if i is not None]


class ChainText(NamedTuple):
    """The final stage's chain (its instructions, oldest first), the text of each (heredoc
    bodies included) and all of it joined."""

    instrs: list[Instruction]
    texts: list[str]
    joined: str


def chain_text(instrs: list[Instruction]) -> ChainText:
    texts = [
        i.logical + "".join([h.body for h in i.heredocs]) if i.heredocs else i.logical
        for i in instrs
    ]
    return ChainText(instrs, texts, "\n".join(texts))


# --- the image switches user itself ---------------------------------------------------------


def drops_privileges(doc: Dockerfile, ctx: FixContext, final: Stage, chain: ChainText) -> str:
    """Why the image (``chain``: the final stage's) must start as root, or ""."""
    instrs = chain.instrs
    if _MAY_DROP_PRIVILEGES.search(chain.joined):
        for instr, text in zip(instrs, chain.texts, strict=True):
            m = _DROP_PRIVILEGES.search(text)
            if m:
                return (
                    f"line {instr.start_line} uses `{m.group(0).split()[0]}`: the image "
                    "switches user itself, and running it as non-root would break that"
                )
    entry = [i for i in instrs if i.keyword in ("ENTRYPOINT", "CMD")]
    for instr in entry[-2:]:
        why = _command_needs_root(doc, ctx, final, instrs, instr)
        if why:
            return why
    if any(i.keyword == "ONBUILD" for i in instrs):
        return (
            "the image has ONBUILD triggers: they run in the child images' builds as this "
            "image's user, and installing or copying as non-root there would fail"
        )
    return ""


def _command_needs_root(
    doc: Dockerfile, ctx: FixContext, final: Stage, instrs: list[Instruction], instr: Instruction
) -> str:
    """Why the start command ``instr`` needs root, or ""."""
    argv = instr.json_args if instr.json_args is not None else instr.args.split()
    prog = argv[0] if argv else ""
    if prog.rsplit("/", 1)[-1] in POSIX_SHELLS and len(argv) > 1 and not argv[1].startswith("-"):
        prog = argv[1]  # ["sh", "/entrypoint.sh"]
    if prog == "/init":
        return "the entrypoint is s6-overlay's `/init`, which manages users itself"
    if prog.rsplit("/", 1)[-1] in _ROOT_SERVER_PROGRAMS:
        return (
            f"`{prog}` starts as root by design and runs its workers as its own user; "
            "use its unprivileged setup instead of a USER line"
        )
    if any(a == "/root" or a.startswith("/root/") for a in argv):
        return (
            "the command runs a file under /root, which a non-root user cannot read; "
            "move it before adding a USER"
        )
    script = entrypoint_script(doc, ctx, final, instrs, instr, prog)
    if script is not None:
        m = _DROP_PRIVILEGES.search(script[1])
        if m:
            return (
                f"the entrypoint script `{script[0]}` uses `{m.group(0).split()[0]}`: "
                "it switches user itself, and running it as non-root would break that"
            )
        server = _ROOT_SERVER_WORD.search(script[1])
        if server:
            return (
                f"the entrypoint script `{script[0]}` starts `{server.group(1)}`, which "
                "starts as root by design and runs its workers as its own user"
            )
    # `sh -c "nginx -g 'daemon off;'"`, `CMD service nginx start && …`
    server = _ROOT_SERVER_WORD.search(" ".join(argv))
    if server:
        return (
            f"the command starts `{server.group(1)}`, which starts as root by design and "
            "runs its workers as its own user"
        )
    return ""


def entrypoint_script(
    doc: Dockerfile,
    ctx: FixContext,
    final: Stage,
    instrs: list[Instruction],
    entry: Instruction,
    prog: str,
) -> tuple[str, str] | None:
    """(path, text) of the script the entrypoint runs, read from the build context."""
    if not prog or "$" in prog or not ctx.has_context:
        return None
    if "/" in prog:
        workdir = workdir_at(doc, final, entry)
        if workdir is None:
            return None
        targets = {posixpath.normpath(posixpath.join(workdir, prog))}
    else:  # looked up on the PATH
        targets = {f"{d}/{prog}" for d in DISTROLESS_PATH}  # the usual PATH
    for instr in instrs:
        if instr.keyword not in ("COPY", "ADD") or instr.flag("from") is not None:
            continue
        words = instr.json_args or [w for w, _, _ in instr.args_words()]
        if len(words) < 2 or instr.stage is None:
            continue
        *sources, dest = words
        wd = workdir_at(doc, instr.stage, instr)
        if wd is None:
            continue
        dest_abs = posixpath.join(wd, dest) if not dest.startswith("/") else dest
        for src in sources:
            if any(c in src for c in "*?[") or "://" in src:
                continue
            full = (
                dest_abs.rstrip("/") + "/" + posixpath.basename(src)
                if dest.endswith("/")
                else dest_abs
            )
            if posixpath.normpath(full) in targets:
                text = ctx.read_text(src)
                if text is not None:
                    return src, text
    return None


# --- tools and data under /root ---------------------------------------------------------------


def root_home_tools(chain: ChainText) -> str:
    """Why tools the image runs live where only root can reach them, or ""."""
    instrs = chain.instrs
    for instr in instrs:
        if instr.keyword != "ENV" or instr.stage is None or "PATH" not in instr.args:
            continue
        path = scope_at(instr.stage).get("PATH") or ""
        for part in path.split(":"):
            if part == "/root" or part.startswith("/root/"):
                return (
                    f"line {instr.start_line} puts `{part}` on the PATH: /root is readable by "
                    "root only, so the new user could not run those tools; install them "
                    "outside /root first"
                )
    if "playwright" not in chain.joined or any(
        i.keyword == "ENV" and "PLAYWRIGHT_BROWSERS_PATH" in i.args for i in instrs
    ):
        return ""
    for instr, text in zip(instrs, chain.texts, strict=True):
        m = _ROOT_ONLY_TOOLS.search(text) if instr.keyword == "RUN" else None
        if m:
            return (
                f"line {instr.start_line} runs `{m.group(0)}` as root: the browsers land "
                "in /root/.cache, which the new user cannot read; set "
                "PLAYWRIGHT_BROWSERS_PATH to a shared directory first"
            )
    return ""


def root_home_data(chain: ChainText) -> str:
    """A note naming the first instruction that stores data in root's HOME, or ""."""
    if not any(w in chain.joined for w in _ROOT_HOME_WORDS):
        return ""
    for i, text in zip(chain.instrs, chain.texts, strict=True):
        if i.keyword in ("RUN", "COPY", "ADD", "ENV") and ROOT_HOME_DATA.search(text):
            # Downloads, `pip --user`, tool caches: unreadable for the new user (/root is 0700).
            return (
                f"line {i.start_line} puts data under root's HOME (/root), which the new "
                "user cannot read"
            )
    return ""


# --- ports below 1024 -------------------------------------------------------------------------


def privileged_ports(
    doc: Dockerfile, base: Base, instrs: list[Instruction], writes: WriteAnalysis
) -> list[str]:
    """The ports below 1024 the server binds, each with where it was seen."""
    ports = [f"{p} (EXPOSE)" for p in _exposed_below_1024(doc, instrs)]
    ports += [f"{p} ({how})" for p, how in writes.ports]
    ports += _aspnet_default_port(base, instrs)
    return ports


def port_number(text: str) -> int:
    m = _PORT.match(text)
    return int(m.group(0)) if m else 0


def _exposed_below_1024(doc: Dockerfile, instrs: list[Instruction]) -> list[str]:
    out: list[str] = []
    for instr in instrs:
        if instr.keyword != "EXPOSE":
            continue
        words = [w for w, _, _ in instr.args_words()]
        scope = (
            layered(scope_at(instr.stage, instr) if instr.stage else {}, doc.global_args)
            if any("$" in w for w in words)
            else None
        )
        for word in words:
            value = expand(word, scope) if scope is not None and "$" in word else word
            if value is None:
                continue
            m = _PORT.match(value)
            if m and 0 < int(m.group(1)) < 1024:
                out.append(value)
    return out


def _aspnet_default_port(base: Base, instrs: list[Instruction]) -> list[str]:
    """ASP.NET images before .NET 8 listen on port 80 unless the file says otherwise."""
    m = _ASPNET_IMAGE.match(base.ref.lower())
    if m is None or int(m.group(1)) >= 8:
        return []
    if any(
        i.keyword == "ENV" and ("ASPNETCORE_URLS" in i.args or "ASPNETCORE_HTTP_PORTS" in i.args)
        for i in instrs
    ):
        return []
    return [f"80 (ASP.NET images before .NET 8 listen on port 80: `{base.ref}`)"]


# --- software unpacked where it runs ---------------------------------------------------------

# `tar … -C DIR` / `tar … --directory=DIR` and `unzip … -d DIR`, within one command.
_UNPACK_INTO = lazy_re(
    r"\b(?:tar\b[^;&|\n]*?\s(?:-C|--directory)(?:=|\s+)|unzip\b[^;&|\n]*?\s-d\s*)"
    r"""(["']?)([^\s"';&|]+)\1"""
)
# Where unpacked files are programs and data only read at run time: a toolchain under
# /usr/local (Go, Node), the system's directories, or a scratch directory moved on later.
_READ_ONLY_TREES = (
    "/usr/local/bin/",
    "/usr/local/sbin/",
    "/usr/local/lib/",
    "/usr/local/share/",
    "/usr/local/include/",
    "/usr/local/go/",
    "/bin/",
    "/sbin/",
    "/lib/",
    "/etc/",
    "/tmp/",
    "/var/tmp/",
)


def _read_only_tree(where: str) -> bool:
    if where == "/usr/local":
        return True
    if where.startswith("/usr/") and not where.startswith("/usr/local/"):
        return True
    return (where + "/").startswith(_READ_ONLY_TREES)


def unpacked_software(doc: Dockerfile, chain: ChainText) -> str:
    """Why the image may need to write beside software it unpacks into its own directory and
    runs from there (`tar -C /opt` with `/opt/kafka/bin` on the PATH), or "": servers
    installed from an archive (Kafka, Tomcat, Solr …) write their logs, temporary and data
    files under their own tree by default, which a new non-root user could not, and nothing
    in the file says where. (A tool unpacked there and linked onto the PATH is not asked.)"""
    if ("tar" not in chain.joined and "unzip" not in chain.joined) or not chain.instrs:
        return ""
    runs_from = _run_from_dirs(doc, chain)
    for instr, text in zip(chain.instrs, chain.texts, strict=True):
        if instr.keyword != "RUN" or instr.stage is None:
            continue
        for m in _UNPACK_INTO.finditer(text):
            target = expand(m.group(2), scope_at(instr.stage, instr))
            if target is None or not target.startswith("/"):
                continue
            where = posixpath.normpath(target)
            if _read_only_tree(where):
                continue
            used = next((d for d in runs_from if d == where or d.startswith(where + "/")), "")
            if not used:
                continue
            return (
                f"line {instr.start_line} unpacks software into `{where}` and the image runs "
                f"it from `{used}`: servers installed from an archive usually write logs, "
                "temporary and data files under their own tree, which a new user could not; "
                "give that tree to the user the image runs as (or prove the change by running "
                "it: `dockfix fix --verify-run`)"
            )
    return ""


def _run_from_dirs(doc: Dockerfile, chain: ChainText) -> list[str]:
    """Where the final stage runs programs from: its PATH's directories (as ENV set them),
    its WORKDIR and the directory of an absolute CMD/ENTRYPOINT program."""
    final = chain.instrs[-1].stage
    if final is None:
        return []
    scope = scope_at(final)
    # Part by part: `${PATH}` itself is the base image's, unknown here.
    parts = (expand(part, scope) for part in (scope.get("PATH") or "").split(":"))
    found = [posixpath.normpath(d) for d in parts if d and d.startswith("/")]
    workdir = workdir_at(doc, final, None)
    if workdir and workdir != "/":
        found.append(posixpath.normpath(workdir))
    for instr in chain.instrs:
        if instr.keyword in ("CMD", "ENTRYPOINT") and instr.json_args:
            program = instr.json_args[0]
            if program.startswith("/"):
                found.append(posixpath.dirname(posixpath.normpath(program)))
    return found
