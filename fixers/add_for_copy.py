"""DF501 add-for-copy: `ADD` of local files or directories, where `COPY` says what is meant.

## What it does
Rewrites `ADD` to `COPY` (keeping the keyword's letter case: `add` → `copy`) when every
source is a local file, a local directory or a heredoc, and none is a tar archive that
`ADD` would unpack. Flags valid on both (`--chown`, `--chmod`, `--link`, `--exclude`) stay;
an `ADD` with `--checksum`, `--keep-git-dir` or `--unpack`, or with a URL or git source,
is left alone: only `ADD` can do those.

`ADD` unpacks a local source whose *content* is a tar archive (plain, gzip, bzip2, xz or
zstd), whatever its name. So when the build context is known, each source file is opened
and sniffed the way BuildKit does (compression magic, then a tar header with a valid
checksum). Without the file, the name decides, conservatively.

## Why is this bad
`ADD` fetches URLs and unpacks archives; `COPY` only copies. Using `ADD` for plain files
hides which of those the author wanted, and a file that later becomes a tarball gets
unpacked by surprise (a known way to smuggle files into an image).

## Example
```dockerfile
FROM python:3.12-slim
WORKDIR /app
ADD requirements.txt ./
ADD --chown=app:app src/ ./src/
```
becomes
```dockerfile
FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt ./
COPY --chown=app:app src/ ./src/
```

## Fix safety
For a local source `COPY` behaves exactly like `ADD` except that it never unpacks, so the
fix is **safe** when no source can be an archive: a directory (`.`, `src/`), a heredoc, a
context file whose content is not a tar archive, or — when the file is not in the checkout
(it may be generated before the build) — a name with a well-known non-archive extension
(`.py`, `.json`, `.conf`, `.jar`…). A source with any other name that cannot be read
(`bin/server`, `rootfs`) gets an **unsafe** fix: it might be a tarball. Wildcards need the
build context: without one, or when nothing matches, the finding is display-only; a
pattern such as `dist/*` whose future matches cannot be known is unsafe. Sources named like
archives (`.tar.gz`, `.tgz`, `.xz`…) or sniffed as archives keep `ADD` (no finding).

Display-only as well: sources with variables (`$FILE`) or quotes/escapes; several sources
with a destination not ending in `/` (`COPY` would get hadolint DL3021); a relative
destination with no `WORKDIR` set in the stage (`COPY` would get hadolint DL3045); an
archive that cannot be sniffed. `ONBUILD ADD` runs in another build context, so only names
count there.

## Options
None.

## Resolves
hadolint DL3020 · Trivy DS-0005 · Checkov CKV_DOCKER_4
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from dockfix.core.fixer import Edit, Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._cmdline import match_keyword_case, verified_edits
from dockfix.semantics.semantic import stage_chain

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext
from dockfix.syntax import Dockerfile, Instruction

# Flags that mean the same on COPY. Anything else (ADD-only or unknown) keeps ADD.
_COPY_FLAGS = frozenset({"chown", "chmod", "link", "exclude"})
# Names that look like archives or compressed files (hadolint's list plus newer formats).
_ARCHIVE_SUFFIXES = (
    ".tar", ".tgz", ".taz", ".tbz", ".tbz2", ".tb2", ".tz2", ".txz", ".tlz", ".tpz", ".tzst",
    ".tzs", ".tz", ".gz", ".bz2", ".xz", ".lz", ".lzma", ".z", ".zst", ".lz4", ".lzo", ".sz",
)  # fmt: skip


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Names no one gives a tarball: safe to copy without looking at them.
_PLAIN_SUFFIXES = _word_set(
    """
    .py .pyi .pth .js .mjs .cjs .ts .tsx .jsx .json .jsonc .json5 .yaml .yml .toml .ini .cfg
    .conf .config .cnf .properties .env .txt .md .rst .adoc .sh .bash .zsh .fish .ps1 .psm1
    .bat .cmd .html .htm .css .scss .sass .less .xml .xsl .xsd .svg .png .jpg .jpeg .gif
    .ico .webp .woff .woff2 .ttf .otf .eot .sql .rb .erb .go .mod .sum .rs .java .kt .kts
    .scala .groovy .gradle .php .pl .pm .lua .r .c .h .cc .cpp .hpp .cs .csproj .fs .vb .sln
    .swift .dart .ex .exs .erl .hs .clj .jar .war .ear .zip .whl .egg .crt .pem .key .pub
    .cer .der .csr .asc .gpg .lock .csv .tsv .tmpl .tpl .j2 .jinja .jinja2 .template .mustache
    .service .socket .timer .rules .repo .list .sources .pref .vcl .lic .license .patch .diff
    .ipynb .proto .graphql .gql .tf .hcl .nix .cabal .npmrc .yarnrc .babelrc .editorconfig
    """
)
_PLAIN_NAMES = _word_set(
    """
    dockerfile makefile gemfile rakefile procfile vagrantfile jenkinsfile brewfile pipfile
    license licence copying notice readme authors changelog version manifest requirements
    gemfile.lock pipfile.lock go.mod go.sum cargo.toml cargo.lock package.json .dockerignore
    .gitignore .gitattributes .env .npmrc .yarnrc .bashrc .profile .vimrc .htaccess
    crontab supervisord.conf nginx.conf entrypoint.sh docker-entrypoint.sh
    """
)
_SNIFF_BYTES = 1 << 20


@register
class AddForCopy(Fixer):
    code = "DF501"
    acts_on = frozenset({"ADD"})
    severity = Severity.WARNING
    name = "add-for-copy"
    summary = "ADD of local files or directories: COPY does the same without unpacking archives"
    resolves = Resolves(hadolint=("DL3020",), trivy=("DS-0005",), checkov=("CKV_DOCKER_4",))

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for instr in doc.instructions:
            target = instr.trigger if instr.trigger is not None else instr
            if target.keyword != "ADD":
                continue
            finding = self._check_add(doc, ctx, instr, target)
            if finding is not None:
                yield finding

    def _check_add(
        self, doc: Dockerfile, ctx: FixContext, instr: Instruction, add: Instruction
    ) -> Finding | None:
        if any(f.name not in _COPY_FLAGS for f in add.flags):
            return None  # --checksum, --keep-git-dir, --unpack or unknown: ADD's own job
        words = _sources_and_dest(add)
        if words is None or len(words[0]) + len(add.heredocs) == 0:
            return None
        sources, dest = words
        onbuild = add is not instr
        verdicts = [_classify(src, ctx, use_context=not onbuild) for src in sources]
        if any(v == "keep" for v, _ in verdicts):
            return None
        message = "ADD of local files or directories: use COPY"
        problems = [why for v, why in verdicts if v == "display"]
        problems += _hadolint_problems(add, len(sources) + len(add.heredocs), dest)
        if problems:
            return self.finding(instr, message, reason="; ".join(problems))
        unsure = [why for v, why in verdicts if v == "unsafe"]
        kw_start = add.keyword_start
        new_keyword = match_keyword_case(add.keyword_raw, "COPY")
        s, e = add.source_span(kw_start, kw_start + len(add.keyword_raw))
        edit = Edit(s, e, new_keyword)
        if not verified_edits(doc, instr, [edit], _copy_keyword):
            return self.finding(instr, message, reason="the keyword could not be rewritten")
        if unsure:
            fix = Fix.unsafe(
                edit,
                description=f"use {new_keyword}: {'; '.join(unsure)} — ADD would unpack it if "
                "it is a tar archive",
            )
        else:
            fix = Fix.safe(edit, description=f"use {new_keyword}: no source is an archive")
        return self.finding(instr, message, fix)


def _copy_keyword(new: Instruction) -> bool:
    target = new.trigger if new.trigger is not None else new
    return target.keyword == "COPY"


def _sources_and_dest(add: Instruction) -> tuple[list[str], str] | None:
    """Source words (heredoc words excluded) and the destination, as written."""
    if add.json_args is not None:
        if len(add.json_args) < 2:
            return None
        return list(add.json_args[:-1]), add.json_args[-1]
    heredoc_spans = [(h.word_start, h.word_end) for h in add.heredocs]
    words = [
        w
        for w, s, e in add.args_words()
        if not any(hs <= s < he or hs < e <= he for hs, he in heredoc_spans)
    ]
    if not words:
        return None
    if add.heredocs and len(words) == 1:
        return [], words[0]
    if len(words) < 2:
        return None
    return words[:-1], words[-1]


def _classify(src: str, ctx: FixContext, *, use_context: bool) -> tuple[str, str]:
    """('safe' | 'unsafe' | 'display' | 'keep', why) for one source of the ADD."""
    if "://" in src or src.startswith("git@"):
        return "keep", "remote source"
    if "$" in src:
        return "display", f"the source {src} uses a variable"
    if any(c in src for c in "\"'\\`"):
        return "display", f"the source {src} is quoted or escaped"
    if _archive_name(src):
        return "keep", "archive name"
    rel = posixpath.normpath("/" + src).lstrip("/")
    if src.endswith("/") or rel in ("", "."):
        return "safe", "directory"
    has_context = use_context and ctx.has_context
    if any(c in src for c in "*?["):
        return _classify_pattern(src, rel, ctx, has_context)
    if has_context:
        path = ctx.context_path(rel)
        if path is not None and path.exists():
            return _classify_path(src, path)
    if _plain_name(src):
        return "safe", "plain file name"
    return "unsafe", f"{src} is not in the build context and its name does not tell"


def _classify_pattern(src: str, rel: str, ctx: FixContext, has_context: bool) -> tuple[str, str]:
    if "[" in src:
        return "display", f"the pattern {src} uses brackets"
    if not has_context or ctx.context_dir is None:
        return "display", f"which files {src} matches cannot be known without the build context"
    import glob

    matches = sorted(glob.glob(rel, root_dir=ctx.context_dir, include_hidden=True))
    if not matches:
        return "display", f"{src} matches nothing in the checkout (files may be generated)"
    for m in matches:
        verdict = _classify_path(m, ctx.context_dir / m)
        if verdict[0] != "safe":
            return verdict
    if _plain_name(src):
        return "safe", "every match is a plain file"
    return "unsafe", f"files matching {src} may be added before the build"


def _classify_path(src: str, path: Path) -> tuple[str, str]:
    if path.is_dir():
        return "safe", "directory"
    if _archive_name(src):
        return "keep", "archive name"
    sniffed = _sniff(path)
    if sniffed == "archive":
        return "keep", "tar archive"
    if sniffed == "unknown":
        return "display", f"whether {src} is a tar archive (which ADD unpacks) cannot be told"
    return "safe", "not an archive"


def _archive_name(src: str) -> bool:
    return src.lower().rstrip("/").endswith(_ARCHIVE_SUFFIXES)


def _plain_name(src: str) -> bool:
    base = src.rstrip("/").rsplit("/", 1)[-1].lower()
    if base in _PLAIN_NAMES:
        return True
    dot = base.rfind(".")
    return dot >= 0 and base[dot:] in _PLAIN_SUFFIXES


def _hadolint_problems(add: Instruction, source_count: int, dest: str) -> list[str]:
    """Reasons hadolint would flag the COPY this ADD becomes (rules it skips on ADD)."""
    problems = []
    bare = dest.strip("\"'")
    if source_count > 1 and not bare.endswith("/"):
        problems.append(
            "several sources need a destination ending in `/` (hadolint DL3021 on COPY)"
        )
    absolute = bare.startswith(("/", "$")) or bare[1:3] in (":\\", ":/")
    if not absolute and not _workdir_set(add):
        problems.append(
            "COPY to a relative destination without WORKDIR gets hadolint DL3045: set "
            "WORKDIR or use an absolute destination first"
        )
    return problems


def _workdir_set(add: Instruction) -> bool:
    """A WORKDIR earlier in the stage or anywhere in the stages it is built FROM."""
    stage = add.stage
    if stage is None:
        return False
    for st in reversed(stage_chain(stage)):
        for instr in st.instructions:
            if st is stage and (instr is add or instr.trigger is add):
                break
            if instr.keyword == "WORKDIR":
                return True
    return False


def _sniff(path: Path) -> str:
    """'archive', 'plain' or 'unknown': what BuildKit's unpack check would decide.

    BuildKit decompresses gzip/bzip2/xz/zstd by magic number and unpacks when the first
    512-byte block is a tar header with a valid checksum.
    """
    try:
        with path.open("rb") as f:
            head = f.read(_SNIFF_BYTES)
            complete = not f.read(1)
    except OSError:
        return "unknown"
    if head.startswith((b"\x28\xb5\x2f\xfd",)) or (
        len(head) >= 4 and 0x184D2A50 <= int.from_bytes(head[:4], "little") <= 0x184D2A5F
    ):
        return "archive"  # zstd: no decompressor in the standard library; assume a tarball
    block: bytes | None
    if head.startswith(b"\x1f\x8b\x08"):
        block = _decompress(head, "gzip", complete)
    elif head.startswith(b"BZh"):
        block = _decompress(head, "bzip2", complete)
    elif head.startswith(b"\xfd7zXZ\x00"):
        block = _decompress(head, "xz", complete)
    else:
        block = head
    if block is None:
        return "unknown"
    return "archive" if _tar_header(block) else "plain"


def _decompress(data: bytes, kind: str, complete: bool) -> bytes | None:
    """The first 512 decompressed bytes (fewer when the stream is that short); None if unsure."""
    import bz2
    import lzma
    import zlib

    try:
        if kind == "gzip":
            out = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, 512)
        elif kind == "bzip2":
            out = bz2.BZ2Decompressor().decompress(data, 512)
        else:
            out = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data, 512)
    except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError):
        return None
    if len(out) < 512 and not complete:
        return None  # more input might have produced a header
    return out


def _tar_header(block: bytes) -> bool:
    """Go's archive/tar accepts the block as a header: not all zero, checksum matches."""
    if len(block) < 512:
        return False
    block = block[:512]
    if not any(block):
        return False
    # Go's parseOctal: trim spaces and NULs at both ends, then stop at the first NUL.
    field = block[148:156].strip(b" \x00").split(b"\x00", 1)[0]
    if not field or field.strip(b"01234567"):  # not all octal digits
        return False
    stored = int(field, 8)
    unsigned = sum(block[:148]) + 8 * 0x20 + sum(block[156:])
    signed = sum(b - 256 if b > 127 else b for b in block[:148] + block[156:]) + 8 * 0x20
    return stored in (unsigned, signed)
