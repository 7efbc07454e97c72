"""DF403's knowledge of servers: the command-line options that name a log file (gunicorn,
uwsgi, celery …), and the servers a package manager installs (nginx, Apache) with the log
files their packages write and the configuration that may move them."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, NamedTuple

from dockfix.core.fixer import (
    Edit,
)
from dockfix.fixers._cmdline import (
    verified_edits,
)
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._log_redirects import STREAM_PATHS
from dockfix.semantics.semantic import descendants, stage_chain

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext
    from dockfix.semantics.shell import ShellScript
    from dockfix.syntax import Dockerfile, Instruction, Stage


# Server command-line options that name a log file: what the fix does with them.
#   dash: the value becomes "-" (the program's name for stdout/stderr)
#   drop: option and value are removed (the program logs to stderr by default)
#   display: reported only
_OPTIONS: dict[str, dict[str, str]] = {
    "gunicorn": {"--access-logfile": "dash", "--error-logfile": "dash", "--log-file": "dash"},
    "hypercorn": {"--access-logfile": "dash", "--error-logfile": "dash"},
    "uwsgi": {
        "--logto": "drop",
        "--logto2": "drop",
        "--daemonize": "display",
        "--daemonize2": "display",
        "--logger": "display",
        "--req-logger": "display",
    },
    "celery": {"--logfile": "drop", "-f": "drop"},
}

# Packaged servers: (server, package manager family) → log file → stream it should go to.
NGINX_LOGS = {
    "/var/log/nginx/access.log": "/dev/stdout",
    "/var/log/nginx/error.log": "/dev/stderr",
}

PACKAGED_LOGS: dict[tuple[str, str], dict[str, str]] = {
    ("nginx", "apt"): NGINX_LOGS,
    ("nginx", "apk"): NGINX_LOGS,
    ("nginx", "rpm"): NGINX_LOGS,
    ("apache", "apt"): {
        "/var/log/apache2/access.log": "/dev/stdout",
        "/var/log/apache2/error.log": "/dev/stderr",
        "/var/log/apache2/other_vhosts_access.log": "/dev/stdout",
    },
    ("apache", "apk"): {
        "/var/log/apache2/access.log": "/dev/stdout",
        "/var/log/apache2/error.log": "/dev/stderr",
    },
    ("apache", "rpm"): {
        "/var/log/httpd/access_log": "/dev/stdout",
        "/var/log/httpd/error_log": "/dev/stderr",
    },
}

_SERVER_PACKAGES: dict[str, dict[str, str]] = {
    "apt": {
        "nginx": "nginx",
        "nginx-light": "nginx",
        "nginx-full": "nginx",
        "nginx-extras": "nginx",
        "nginx-core": "nginx",
        "apache2": "apache",
    },
    "apk": {"nginx": "nginx", "apache2": "apache"},
    "rpm": {"nginx": "nginx", "httpd": "apache"},
}

# The words a RUN or a command line must have for `installed_servers` or `option_uses` to
# find anything (checked on the text first: most instructions have none).
SERVER_PACKAGES = tuple(sorted({name for names in _SERVER_PACKAGES.values() for name in names}))
SERVER_PROGRAMS = tuple(_OPTIONS)

_INSTALL_COMMANDS = (
    ("apt", ("apt-get", "install")),
    ("apt", ("apt", "install")),
    ("apk", ("apk", "add")),
    ("rpm", ("yum", "install")),
    ("rpm", ("dnf", "install")),
    ("rpm", ("microdnf", "install")),
)

# Where each server's configuration lives (a COPY there may change the log paths).
_CONFIG_DIRS = {"nginx": ("/etc/nginx",), "apache": ("/etc/apache2", "/etc/httpd")}

_NGINX_LOG_RE = lazy_re(r"^\s*(access_log|error_log)\s+([^\s;]+)", re.M)

_APACHE_LOG_RE = lazy_re(r"^\s*(ErrorLog|CustomLog|TransferLog)\s+(\"[^\"]*\"|\S+)", re.M | re.I)

MAX_CONFIG_BYTES = 1 << 20


# --- server options ------------------------------------------------------------------------------


class OptionUse(NamedTuple):
    program: str
    option: str
    value: str
    action: str
    option_index: int  # index of the option word in argv
    inline: bool  # `--opt=value` in one word


def option_uses(argv: list[str]) -> list[OptionUse]:
    """Log-file options of a known server anywhere in ``argv`` (after the program word)."""
    uses: list[OptionUse] = []
    program = ""
    for i, word in enumerate(argv):
        if not program:
            base = word.rsplit("/", 1)[-1]
            # The program word: first, or after `-m`/`--`/a wrapper (not an option's value).
            if base in _OPTIONS and (
                i == 0 or argv[i - 1] in ("-m", "--") or not argv[i - 1].startswith("-")
            ):
                program = base
            continue
        table = _OPTIONS[program]
        if word in table and i + 1 < len(argv):
            value = argv[i + 1]
            if value not in STREAM_PATHS and not _logger_not_file(word, value):
                uses.append(OptionUse(program, word, value, table[word], i, False))
        elif "=" in word and word.split("=", 1)[0] in table:
            option, value = word.split("=", 1)
            if value not in STREAM_PATHS and not _logger_not_file(option, value):
                uses.append(OptionUse(program, option, value, table[option], i, True))
    return uses


def _logger_not_file(option: str, value: str) -> bool:
    """uWSGI loggers other than `file:` (syslog, socket…) and `--logto host:port` (UDP) are
    not log files."""
    if option in ("--logger", "--req-logger"):
        return "file:" not in value
    return re.fullmatch(r"[\w.-]*:\d+", value) is not None


def shell_quote(value: str) -> str:
    return value if re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", value) else "'" + value + "'"


def expected_logical(instr: Instruction, changes: Sequence[tuple[int, int, str]]) -> str:
    """The instruction's arguments after replacing logical ranges (for verification)."""
    text = instr.logical
    for s, e, t in sorted(changes, reverse=True):
        text = text[:s] + t + text[e:]
    return text[instr.args_start :].strip()


def json_after(instr: Instruction, changes: Sequence[tuple[int, int, str]]) -> list[str] | None:
    import json

    text = instr.logical
    for s, e, t in sorted(changes, reverse=True):
        text = text[:s] + t + text[e:]
    try:
        value = json.loads(text[instr.args_start :])
    except ValueError:
        return None
    return value if isinstance(value, list) else None


def removal_edits(
    doc: Dockerfile, instr: Instruction, ranges: Sequence[tuple[int, int, str]]
) -> list[Edit]:
    """Source edits for logical replacements (removals run from the end of the word before).

    A range that would take a comment line inside the continuation with it is narrowed to
    start at its first word; the caller re-parses to check the result.
    """
    edits = []
    for s, e, t in ranges:
        src_s, src_e = instr.source_span(s, e)
        if any(src_s <= ln.start < src_e for ln in instr.comments):
            while s < e and instr.logical[s] in " \t":
                s += 1
            src_s, src_e = instr.source_span(s, e)
        edits.append(Edit(src_s, src_e, t))
    return edits


def path_list(paths: Sequence[str]) -> str:
    return ", ".join(dict.fromkeys(paths))


# --- packaged servers ------------------------------------------------------------------------------


def runtime_stages(doc: Dockerfile) -> list[Stage]:
    """Stages whose image can run: the last one, any with CMD/ENTRYPOINT, and their bases."""
    out: list[Stage] = []
    for st in doc.stages:
        runs = st is doc.final_stage or any(
            i.keyword in ("CMD", "ENTRYPOINT") for i in st.instructions
        )
        if runs:
            for base in reversed(stage_chain(st)):
                if base not in out:
                    out.append(base)
    return [st for st in doc.stages if st in out]


def installed_servers(script: ShellScript) -> Iterator[tuple[str, str, bool]]:
    """(package family, server, via sudo) for each server package the script installs."""
    seen: set[tuple[str, str]] = set()
    for family, prefix in _INSTALL_COMMANDS:
        for cmd in script.find(*prefix):
            sudo = any(w.value.rsplit("/", 1)[-1] == "sudo" for w in cmd.words[:1])
            after = False
            for w in cmd.words:
                if not after:
                    after = w.value == prefix[1]
                    continue
                if w.value.startswith("-"):
                    continue
                name = re.split(r"[=<>~]", w.value, maxsplit=1)[0]
                if family == "rpm":
                    name = re.sub(r"-\d.*$", "", name)
                server = _SERVER_PACKAGES[family].get(name)
                if server and (family, server) not in seen:
                    seen.add((family, server))
                    yield family, server, sudo


def already_linked(doc: Dockerfile, stage: Stage, logs: dict[str, str]) -> bool:
    """Whether RUNs of the stage, its bases or the stages built on it already point every
    log file at a stream."""
    stages = [*reversed(stage_chain(stage)), *descendants(doc, stage)]
    runs = [i.logical for st in stages for i in st.instructions if i.keyword == "RUN"]
    return all(any(path in r and "/dev/std" in r for r in runs) for path in logs)


def config_problem(ctx: FixContext, stage: Stage, server: str, logs: dict[str, str]) -> str:
    """Why the packaged log paths may not be the ones in use ('' when they are)."""
    dirs = _CONFIG_DIRS[server]
    for st in reversed(stage_chain(stage)):
        for instr in st.instructions:
            if instr.keyword not in ("COPY", "ADD") or instr.heredocs:
                continue
            words = instr.json_args or [w for w, _, _ in instr.args_words()]
            if len(words) < 2:
                continue
            dest = words[-1]
            if not any(dest == d or dest.startswith(d + "/") for d in dirs):
                continue
            where = f"the {instr.keyword} on line {instr.start_line}"
            if instr.flag("from") is not None or not ctx.has_context:
                return (
                    f"{where} replaces the server configuration and its log paths cannot "
                    "be read here"
                )
            for src in words[:-1]:
                if any(c in src for c in "$*?[\"'"):
                    return f"{where} copies {src}, which cannot be resolved"
                found = _config_log_paths(ctx, src, server)
                if found is None:
                    return f"{where} copies {src}, which is not in the build context"
                # Relative paths are under the server root, whose logs/ is the log directory.
                log_dir = posixpath.dirname(next(iter(logs)))
                found = [
                    posixpath.join(log_dir, p[len("logs/") :]) if p.startswith("logs/") else p
                    for p in found
                ]
                other = [p for p in found if p not in logs and not is_stream(p)]
                if other:
                    how = (
                        f" (the finding on line {instr.start_line} does, with --unsafe-fixes)"
                        if server == "nginx" and not any("$" in p for p in other)
                        else ""
                    )
                    return (
                        f"the copied configuration logs to {path_list(other)}; point those at "
                        f"/dev/stdout or /dev/stderr{how}"
                    )
    return ""


def is_stream(value: str) -> bool:
    v = value.strip('"')
    return v in STREAM_PATHS or v in ("off", "stderr") or v.startswith(("syslog:", "|", "memory:"))


def _config_log_paths(ctx: FixContext, src: str, server: str) -> list[str] | None:
    """Log paths named in a copied config file or directory; None when unreadable."""
    root = ctx.context_path(posixpath.normpath("/" + src).lstrip("/"))
    if root is None or not root.exists():
        return None
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    paths: list[str] = []
    for f in files:
        try:
            if f.stat().st_size > MAX_CONFIG_BYTES:
                return None
            text = f.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        if server == "nginx":
            paths.extend(m.group(2) for m in _NGINX_LOG_RE.finditer(text))
        else:
            for m in _APACHE_LOG_RE.finditer(text):
                value = m.group(2).strip('"')
                value = value.replace("${APACHE_LOG_DIR}", "/var/log/apache2")
                paths.append(value)
    return paths


def append_commands(
    doc: Dockerfile, instr: Instruction, script: ShellScript, commands: list[str]
) -> list[Edit] | None:
    """Edits that append `&& cmd` for each command to a RUN, in the RUN's own layout."""
    from dockfix.core.edits import indent_of

    if instr.heredocs or script.has_error or script.comments or not script.chain:
        return None
    last_item = script.chain[-1]
    if last_item.op == "&":
        return None
    logical_end = len(instr.logical.rstrip(" \t"))
    at = instr.source_span(logical_end - 1, logical_end)[1]
    esc = doc.escape
    eol = doc.eol
    if instr.header_end_line == instr.start_line:
        text = "".join(f" && {c}" for c in commands)
    else:
        last_line = doc.line_text(instr.header_end_line)
        indent = last_line[: len(last_line) - len(last_line.lstrip(" \t"))]
        indent = indent or indent_of(doc, instr) + "    "
        if last_line.lstrip(" \t").startswith("&&"):
            text = "".join(f" {esc}{eol}{indent}&& {c}" for c in commands)
        else:
            text = "".join(f" && {esc}{eol}{indent}{c}" for c in commands)
    edits = [Edit.insert(at, text)]
    expected = " ".join((instr.args + "".join(f" && {c}" for c in commands)).split())
    if not verified_edits(doc, instr, edits, lambda new: " ".join(new.args.split()) == expected):
        return None
    return edits
