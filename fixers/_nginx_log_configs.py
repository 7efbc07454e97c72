"""DF403 on nginx configurations copied from the build context: the `access_log` and
`error_log` directives that write files, and the stage that runs nginx with them."""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING, NamedTuple

from dockfix.fixers._image_paths import copy_parts, image_workdir_at
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._log_servers import (
    MAX_CONFIG_BYTES,
    NGINX_LOGS,
    SERVER_PACKAGES,
    installed_servers,
    is_stream,
)
from dockfix.fixers._run_text import may_name
from dockfix.semantics.semantic import base_image, resolve_path, stage_chain

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext
    from dockfix.syntax import Dockerfile, Instruction, Stage


# `access_log PATH …;` / `error_log PATH …;` at the start of a line (commented ones are not).
_NGINX_DIRECTIVE_RE = lazy_re(
    r"^[ \t]*(access_log|error_log)[ \t]+(\"[^\"\n]*\"|'[^'\n]*'|[^\s;{}]+)", re.M
)

# Images that run nginx and link its packaged log files to the container's streams.
_NGINX_IMAGES = frozenset({"nginx", "nginxinc/nginx-unprivileged"})

_MAX_CONFIG_FILES = 64


# --- nginx configuration copied from the build context ---------------------------------------------


class LogDirective(NamedTuple):
    name: str  # access_log | error_log
    value: str  # the path as nginx reads it (quotes removed)
    start: int  # character offsets of the path word in the file
    end: int


def directive_start(d: LogDirective) -> int:
    return d.start


def may_run_nginx(doc: Dockerfile) -> bool:
    """Whether an instruction names nginx (escapes dropped): a stage can run nginx only then,
    from an image whose name or ARG default says so or from a package a RUN installs."""
    for instr in doc.instructions:
        text = instr.logical
        if "\\" in text or "`" in text:
            text = text.replace("\\", "").replace("`", "")
        if "nginx" in text.lower():
            return True
    return False


def runs_nginx(doc: Dockerfile, stage: Stage) -> bool:
    """The official nginx image, or an nginx package installed in the stage's chain."""
    from dockfix.semantics.shell import shell_of

    ref = base_image(doc, stage)
    if ref is not None and ref.short_name in _NGINX_IMAGES:
        return True
    for st in stage_chain(stage):
        for instr in st.instructions:
            if instr.keyword != "RUN" or not may_name(instr.logical, SERVER_PACKAGES):
                continue
            script = shell_of(instr)
            if script is not None and any(s == "nginx" for _, s, _ in installed_servers(script)):
                return True
    return False


def copied_nginx_configs(
    doc: Dockerfile, ctx: FixContext, stage: Stage, instr: Instruction
) -> list[tuple[str, list[LogDirective]]]:
    """(context-relative file, its log directives that write files) for each nginx
    configuration file a COPY/ADD of the build context puts under /etc/nginx."""
    if instr.keyword not in ("COPY", "ADD") or instr.flag("from") is not None:
        return []
    parts = copy_parts(instr)
    if parts is None or any("$" in w for w in [*parts.sources, parts.dest]):
        return []
    dest = resolve_path(parts.dest, image_workdir_at(doc, stage, instr))
    if dest is None or not (dest == "/etc/nginx" or dest.startswith("/etc/nginx/")):
        return []
    out = []
    for rel in _context_files(ctx, parts.sources):
        directives = _file_log_directives(ctx, rel)
        if directives:
            out.append((rel, directives))
    return out


def _context_files(ctx: FixContext, sources: list[str]) -> list[str]:
    """The context files the sources name (directories walked, wildcards matched)."""
    root = ctx.context_path("")
    if root is None:
        return []
    files: list[str] = []
    for src in sources:
        rel = posixpath.normpath("/" + src).lstrip("/")
        matches = sorted(root.glob(rel)) if any(c in rel for c in "*?[") else [root / rel]
        for match in matches:
            if match.is_dir():
                files.extend(p.relative_to(root).as_posix() for p in sorted(match.rglob("*")))
            elif match.is_file():
                files.append(match.relative_to(root).as_posix())
    return [f for f in dict.fromkeys(files) if (root / f).is_file()][:_MAX_CONFIG_FILES]


def _file_log_directives(ctx: FixContext, rel: str) -> list[LogDirective]:
    path = ctx.context_path(rel)
    try:
        if path is None or path.stat().st_size > MAX_CONFIG_BYTES:
            return []
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    out = []
    for m in _NGINX_DIRECTIVE_RE.finditer(text):
        word = m.group(2)
        value = word[1:-1] if word[:1] in "\"'" else word
        # The packaged paths are the official image's symlinks, or DF403's `ln -sf` on the
        # install RUN; `off`, `syslog:`, `memory:` and the streams are not files.
        if value == "off" or is_stream(value) or value in NGINX_LOGS:
            continue
        out.append(LogDirective(m.group(1), value, m.start(2), m.end(2)))
    return out
