"""What an application's source files write and which ports they bind (for DF201's write
analysis, :mod:`_write_paths`): file handlers, `open(…, "w")`, `os.makedirs`, SQLite paths,
Django's `MEDIA_ROOT`, upload directories, `ListenAndServe(":80")` — in Python, JavaScript,
Go and Ruby, read with patterns, without running anything.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from dockfix.fixers._lazy import lazy_re

SQLITE_URL = lazy_re(r"sqlite3?:///([^'\"\s?]+)")
_PATH_PART = lazy_re(r"\s*/\s*(['\"])([^'\"\n]+)\1")
_LITERAL = r"""(['"`])([^'"`\n$]+?)\1"""
_DIRNAME = r"(?:path\.(?:join|resolve)\(\s*__dirname\s*,\s*)"
_BASE_DIR = r"(?:os\.path\.join\(\s*BASE_DIR\s*,\s*|BASE_DIR\s*/\s*)"
# (pattern, what it writes: "file" or "dir", relative to: "cwd" | "here" | "base")
_SOURCE_WRITES: tuple[tuple[str, str, str], ...] = (
    (r"\bopen\(\s*" + _LITERAL + r"\s*,\s*(?:mode\s*=\s*)?['\"][wax]", "file", "cwd"),
    (r"\bos\.(?:makedirs|mkdir)\(\s*" + _LITERAL, "dir", "cwd"),
    (r"\b(?:Rotating|TimedRotating|Watched)?FileHandler\(\s*" + _LITERAL, "file", "cwd"),
    (r"\bsqlite3\.connect\(\s*" + _LITERAL, "file", "cwd"),
    (r"\bPath\(\s*" + _LITERAL + r"\s*\)\s*\.(?:mkdir|write_text|write_bytes|touch)", "dir", "cwd"),
    (r"\b(?:MEDIA_ROOT|UPLOAD_FOLDER|LOG_DIR)\s*=\s*" + _BASE_DIR + _LITERAL, "dir", "base"),
    (r"['\"]NAME['\"]\s*:\s*" + _BASE_DIR + _LITERAL, "file", "base"),
    (r"\b(?:MEDIA_ROOT|UPLOAD_FOLDER|LOG_DIR)\s*=\s*" + _LITERAL, "dir", "cwd"),
    (
        r"\b(?:writeFile|appendFile|mkdir|createWriteStream|open)(?:Sync)?\(\s*"
        + _DIRNAME
        + _LITERAL,
        "?",
        "here",
    ),
    (
        r"\b(?:writeFile|appendFile|mkdir|createWriteStream)(?:Sync)?\(\s*" + _LITERAL,
        "?",
        "cwd",
    ),
    (r"\bdest\s*:\s*" + _LITERAL, "dir", "cwd"),  # multer's upload directory
    (r"\bnew\s+(?:sqlite3\.)?Database\(\s*" + _DIRNAME + "?" + _LITERAL, "file", "cwd"),
    (r"\bos\.(?:Create|MkdirAll|Mkdir|OpenFile|WriteFile)\(\s*" + _LITERAL, "?", "cwd"),
    (r"\bFile\.(?:open|write)\(\s*" + _LITERAL + r"\s*,\s*['\"][wa]", "file", "cwd"),
)
_SOURCE_WRITE_PATTERNS = tuple((lazy_re(p), kind, rel) for p, kind, rel in _SOURCE_WRITES)
# Text each pattern above needs (one of), in order: a source without it is not searched with
# the pattern (most sources name few of them; a pattern's search costs a pass over the text).
_SOURCE_WRITE_NEEDS: tuple[tuple[str, ...], ...] = (
    ("open(",),
    ("os.makedirs(", "os.mkdir("),
    ("FileHandler(",),
    ("sqlite3.connect(",),
    ("Path(",),
    ("MEDIA_ROOT", "UPLOAD_FOLDER", "LOG_DIR"),
    ("NAME",),
    ("MEDIA_ROOT", "UPLOAD_FOLDER", "LOG_DIR"),
    ("__dirname",),
    ("writeFile", "appendFile", "mkdir", "createWriteStream"),
    ("dest",),
    ("Database(",),
    ("os.",),
    ("File.",),
)
# Writes through a path the code computes: their place cannot be known here.
_COMPUTED_WRITE = lazy_re(
    r"\bopen\(\s*[A-Za-z_][\w.]*\s*,\s*(?:mode\s*=\s*)?['\"][wax]"
    r"|\b(?:writeFile|appendFile|createWriteStream)(?:Sync)?\(\s*(?!['\"`]|path\.join\(\s*__dirname)"
    r"[A-Za-z_]"
    r"|\bos\.(?:Create|WriteFile|OpenFile)\(\s*[A-Za-z_]"
    # Python: a database, a directory or a file at a path held in a variable
    # (`DATA = Path(os.environ.get("DATA_DIR", "/app/data"))`, then `DATA.mkdir()`)
    r"|\bsqlite3\.connect\(\s*[A-Za-z_]"
    r"|\bos\.(?:makedirs|mkdir)\(\s*[A-Za-z_]"
    r"|\b[A-Za-z_][\w.]*\.(?:mkdir\((?!\s*['\"`])|write_text\(|write_bytes\(|touch\()"
)
_PORT_PATTERNS: tuple[str, ...] = (
    r"ListenAndServe(?:TLS)?\(\s*\"[^\"]*:(\d+)\"",
    r"\.run\([^)\n]*\bport\s*=\s*(\d+)",
    r"\.listen\(\s*(\d+)\s*[,)]",
)
_PORT_PATTERNS_RE = tuple(lazy_re(p) for p in _PORT_PATTERNS)
_PORT_NEEDS = ("ListenAndServe", ".run(", ".listen(")  # what each port pattern needs
_COMPUTED_WRITE_NEEDS = (
    "open(",
    "writeFile",
    "appendFile",
    "createWriteStream",
    "os.",
    "connect(",
    ".mkdir(",
    ".write_text(",
    ".write_bytes(",
    ".touch(",
)


@dataclass(eq=False)
class SourceWrites:
    """What one source file writes."""

    writes: list[tuple[str, str]]  # (absolute path, "file" | "dir" | "?": by its name)
    computed_line: int | None  # the first line that writes to a path computed at run time
    ports: list[int]  # below 1024


def absolute(path: str, cwd: str) -> str:
    """``path`` in the image, relative ones resolved against ``cwd``, normalised."""
    return posixpath.normpath(posixpath.join(cwd, path))


def scan_source(text: str, image_path: str, cwd: str) -> SourceWrites:
    """What the source file ``text``, copied to ``image_path``, writes and binds; relative
    paths resolve against ``cwd`` (the WORKDIR), its own directory or Django's BASE_DIR."""
    found = SourceWrites([], None, [])
    here = posixpath.dirname(image_path)
    base = posixpath.dirname(here)  # Django's BASE_DIR: the settings package's parent
    for (pattern, kind, relative_to), needs in zip(
        _SOURCE_WRITE_PATTERNS, _SOURCE_WRITE_NEEDS, strict=True
    ):
        if not any(n in text for n in needs):
            continue
        for m in pattern.finditer(text):
            path = m.group(2)
            pos = m.end()
            while relative_to == "base" and (more := _PATH_PART.match(text, pos)):
                path += "/" + more.group(2)  # `BASE_DIR / "db" / "app.sqlite3"`
                pos = more.end()
            if "://" in path or path in ("-", "") or path.startswith("/dev/"):
                continue
            start = {"cwd": cwd, "here": here, "base": base}[relative_to]
            full = absolute(path, start)
            if full == start and relative_to != "cwd":
                continue
            found.writes.append((full, kind))
    for m in SQLITE_URL.finditer(text) if "sqlite" in text else ():
        found.writes.append((absolute(m.group(1), cwd), "file"))
    computed = (
        _COMPUTED_WRITE.search(text) if any(n in text for n in _COMPUTED_WRITE_NEEDS) else None
    )
    if computed:
        found.computed_line = text.count("\n", 0, computed.start()) + 1
    for port_pattern, port_needs in zip(_PORT_PATTERNS_RE, _PORT_NEEDS, strict=True):
        if port_needs not in text:
            continue
        for m in port_pattern.finditer(text):
            port = int(m.group(1))
            if 0 < port < 1024:
                found.ports.append(port)
    return found
