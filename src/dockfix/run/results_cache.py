"""The results cache: a file whose inputs did not change is not checked again.

One entry per Dockerfile, kept in one of 256 shard files (``<cache-dir>/results-v4/<2 hex>``,
by a hash of the file's absolute path). The workers send the entries they computed back with
the reports, and the run writes them at its end, each shard it touched once (a new file per
entry cost more than half of a file's check on the benchmark's machine). A change re-checks
that file only, and rewrites one shard. An entry holds the file's outcome and what it was
computed from:

- the settings: dockfix's version and fixer set (the source of dockfix and of every fixer's
  module), the resolved configuration, the run's options, the selected codes, the build
  context and the working directory (see :func:`settings_key`);
- a digest of the file's text;
- every input its fixers read (:mod:`dockfix.files.input_log`): manifests, lock files,
  ``.dockerignore``, workflow files, directory listings, existence checks.

- the registry answers its fixers used (a digest, a media type, a version tag): offline, the
  digest cache's entries are read again and compared (an entry that went stale re-checks the
  file); online, the run's lookups answer them (a registry that moved a tag re-checks it).

Shard files carry a magic header and a checksum and are written to a temporary name then
renamed: a corrupt or truncated shard is reported (one warning) and ignored, and runs that
share the cache only ever replace whole shards (two runs writing the same shard at once may
lose the other's new entries, never corrupt it).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
import zlib
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from dockfix.core.engine import FixOutcome
from dockfix.files.input_log import SETTLED_NS, InputLog, skip_prefixes, still_valid
from dockfix.files.source_io import text_digest
from dockfix.run.config import Config
from dockfix.run.hadolint_config import HadolintConfig
from dockfix.run.runner import (
    FileSettings,
    RunOptions,
    SharedSettings,
    file_settings,
    fix_text_with,
    shared_settings,
)
from dockfix.run.shown import file_lines
from dockfix.run.wire import pack_outcome, stored_as_packed, unpack_outcome

CACHE_DIR_ENV = "DOCKFIX_CACHE_DIR"
# A new entry format or layout gets a new directory: an older release's files are never read
# as this one's (results-v1 held a directory per hash prefix where v2 has a shard file).
# (v3: the outcome pickled apart from the rest of its entry; a CRC-32 checksum.)
# (v4: what `check` shows of the file, made when it was checked.)
RESULTS_DIR = "results-v4"
_MAGIC = b"dockfix-results\x04"
_CHECK_SIZE = 4
_HEADER = len(_MAGIC) + _CHECK_SIZE


def default_cache_dir(environ: dict[str, str] | None = None) -> Path:
    """Where dockfix keeps its caches: ``$XDG_CACHE_HOME/dockfix`` or ``~/.cache/dockfix``."""
    from dockfix.registry.digest_cache import default_cache_path

    return default_cache_path(environ).parent


def cache_dir_for(configured: Path | None, environ: dict[str, str] | None = None) -> Path:
    """``$DOCKFIX_CACHE_DIR``, else the ``cache-dir`` setting, else :func:`default_cache_dir`."""
    env = os.environ if environ is None else environ
    if env.get(CACHE_DIR_ENV):
        return Path(os.path.abspath(env[CACHE_DIR_ENV]))
    if configured is not None:
        return Path(os.path.abspath(configured))
    return default_cache_dir(dict(env))


def results_dir(cache_dir: str | Path) -> Path:
    return Path(cache_dir) / RESULTS_DIR


def clean(cache_dir: Path) -> int | None:
    """Remove the results cache under ``cache_dir`` (and ``cache_dir`` if that leaves it
    empty); the number of files removed, None when there was none. Other caches (the
    digest cache) stay."""
    import shutil

    target = results_dir(cache_dir)
    # Older releases' results too (results-v1 …): nothing reads them any more.
    found = [d for d in cache_dir.glob("results-v*") if d.is_dir() and not d.is_symlink()]
    if not found:
        return None
    count = 0
    for d in sorted(found, key=lambda d: d != target):
        count += sum(len(files) for _, _, files in os.walk(d))
        shutil.rmtree(d)
    with contextlib.suppress(OSError):  # other caches, or the user's files: not ours
        cache_dir.rmdir()
    return count


# ---------------------------------------------------------------- keys
@lru_cache(maxsize=1)
def tool_fingerprint() -> str:
    """dockfix's version and the bytes of its modules and of every fixer's module (with the
    plug-in package's other modules): an upgrade, an edit or a new plug-in re-checks all.

    The fixers are known from their code table (see ``catalog.fixer_table``): the same in a
    worker that imported none of them as in a process that did."""
    import dockfix
    import dockfix.fixers
    from dockfix.core.catalog import fixer_table

    h = hashlib.blake2b(digest_size=16)
    h.update(f"{dockfix.__version__}\0{sys.version}\0".encode())
    # dockfix's own modules and the built-in fixers with their helpers, in subpackages too
    tops = (dockfix.__file__ or "", dockfix.fixers.__file__ or "")
    dirs = {
        d
        for top in tops
        for d, _subdirs, _files in os.walk(os.path.dirname(os.path.abspath(top)))
        if os.path.basename(d) != "__pycache__"
    }
    files: set[str] = set()
    for code, info in fixer_table().items():
        h.update(f"{code}\0{info.module}\0{info.qualname}\0".encode())
        # a plug-in's module (imported: plug-ins make the table come from the fixers)
        module_file = getattr(sys.modules.get(info.module), "__file__", None)
        if module_file:
            files.add(os.path.abspath(module_file))
            if "." in info.module:  # its package's helpers too
                dirs.add(os.path.dirname(os.path.abspath(module_file)))
    for d in dirs:
        try:
            names = os.listdir(d)
        except OSError:
            continue
        files.update(os.path.join(d, n) for n in names if n.endswith((".py", ".so", ".pyd")))
    for name in sorted(files):
        try:
            with open(name, "rb") as fh:
                h.update(name.encode() + b"\0" + hashlib.blake2b(fh.read()).digest())
        except OSError:
            h.update(name.encode() + b"\0?")
    return h.hexdigest()


# Settings shared by many files (a configuration with the run's options), by object identity:
# the objects are kept alive with their key so that an identity is never reused.
_BASE_KEYS: dict[tuple[int, int], tuple[object, object, str]] = {}


def _hadolint_key(hadolint: HadolintConfig | None) -> object:
    """The run's `.hadolint.yaml` settings in an order that is the same in every process (a
    frozenset's repr follows the process's string hashing)."""
    if hadolint is None:
        return None
    return (
        sorted(hadolint.ignored),
        sorted(hadolint.override.items()),
        hadolint.failure_threshold,
        hadolint.trusted_registries,
        None if hadolint.label_schema is None else sorted(hadolint.label_schema.items()),
        hadolint.strict_labels,
    )


def settings_key(settings: FileSettings, opts: RunOptions) -> str:
    """Everything but the file's text and inputs that decides its outcome."""
    cfg, ctx, fixers, unsafe = settings
    insecure = ctx.services.get("insecure_registries")
    codes = tuple(f.code for f in fixers)
    head, tail = _key_around_context(cfg, opts, codes, unsafe, ctx.refresh, insecure)
    return f"{head}{ctx.context_dir}{tail}"


def _key_around_context(
    cfg: Config,
    opts: RunOptions,
    codes: tuple[str, ...],
    unsafe: bool,
    refresh: bool,
    insecure: object,
) -> tuple[str, str]:
    """:func:`settings_key` but for the build context: the text before it and after it."""
    known = _BASE_KEYS.get((id(cfg), id(opts)))
    if known is None:
        # (not `show`: how check shows a file is made from its outcome, whatever the format)
        plain_opts = opts._replace(image_lookups=None, cache_dir=None, hadolint=None, show=None)
        text = (
            f"{tool_fingerprint()}\0{os.getcwd()}\0{cfg!r}\0{plain_opts!r}"
            f"\0{_hadolint_key(opts.hadolint)!r}"
        )
        base = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
        if len(_BASE_KEYS) > 4096:
            _BASE_KEYS.clear()
        known = _BASE_KEYS[(id(cfg), id(opts))] = (cfg, opts, base)
    return f"{known[2]}\0{','.join(codes)}\0{unsafe}\0", f"\0{refresh}\0{insecure!r}"


# The key of the files that share their settings (see SharedSettings) around their build
# context: (the settings it was made from, the text before the context, the text after).
_SHARED_KEYS: dict[int, tuple[SharedSettings, str, str]] = {}


def _file_key(path: Path | None, opts: RunOptions, directory: str | None = None) -> str | None:
    """:func:`settings_key` of a file whose settings are shared with other files, without
    building the file's context; None when they are not. ``directory``: ``str(path.parent)``
    when the caller knows it (then ``path`` may be None)."""
    if directory is None:
        assert path is not None
        directory = str(path.parent)
    shared = shared_settings(directory, opts)
    if shared.codes is None:
        return None
    known = _SHARED_KEYS.get(id(shared))
    if known is None or known[0] is not shared:
        insecure = shared.services.get("insecure_registries")
        head, tail = _key_around_context(
            shared.cfg, opts, shared.codes, shared.unsafe, shared.refresh, insecure
        )
        if len(_SHARED_KEYS) >= 4096:
            _SHARED_KEYS.clear()
        known = _SHARED_KEYS[id(shared)] = (shared, head, tail)
    context_dir = Path(opts.context) if opts.context else directory  # as context_dir_of
    return f"{known[1]}{context_dir}{known[2]}"


SHARDS = 256


def _shard_path(cache_dir: str, abs_path: str) -> str:
    # strings, not pathlib: a warm run spends its time on such per-file overheads
    h = zlib.crc32(abs_path.encode("utf-8", "surrogateescape")) & 0xFF
    return os.path.join(cache_dir, RESULTS_DIR, f"{h:02x}")


def _checksum(payload: bytes) -> bytes:
    """What detects a damaged shard (a torn write, a truncated copy, flipped bits): CRC-32,
    which every worker computes over every shard it reads, at a fifth of a hash's cost. (The
    cache is no defence against someone who can write to it: its entries are pickles.)"""
    return zlib.crc32(payload).to_bytes(_CHECK_SIZE, "big")


# ---------------------------------------------------------------- shards
# A shard holds the entries of the Dockerfiles whose path hashes to it, each pickled on its
# own (a file's entry is unpickled only when that file is looked up). Each process reads a
# shard once while it does not change (its status is the key).
_LOADED: dict[str, tuple[tuple[int, ...], dict[str, bytes]]] = {}
_REPORTED: set[str] = set()  # damaged shards this process warned about
# Inside one_shard_read(): the shards already looked at, taken as they were then.
_BATCH: dict[str, dict[str, bytes]] | None = None


@contextlib.contextmanager
def one_shard_read() -> Iterator[None]:
    """Within this block (a worker's batch of files), a shard is looked at once, not once per
    file. A shard another run replaces meanwhile can only hold entries this one would miss:
    every entry is checked against the file and its inputs before it is used."""
    global _BATCH
    outer = _BATCH
    if outer is None:
        _BATCH = {}
        _CWD.clear()
    try:
        yield
    finally:
        _BATCH = outer


def _load_shard(shard: str) -> tuple[dict[str, bytes], str | None]:
    """A shard's entries (empty when there is none) and a warning when it is damaged (once
    per process and shard)."""
    if _BATCH is not None:
        seen = _BATCH.get(shard)
        if seen is not None:
            return seen, None
    try:
        st = os.stat(shard)
    except OSError:
        return {}, None
    stamp = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
    known = _LOADED.get(shard)
    if known is not None and known[0] == stamp:
        if _BATCH is not None:
            _BATCH[shard] = known[1]
        return known[1], None
    entries, problem = _read_shard(shard)
    _LOADED[shard] = (stamp, entries)
    if _BATCH is not None:
        _BATCH[shard] = entries
    if problem is None or shard in _REPORTED:
        return entries, None
    _REPORTED.add(shard)
    return entries, f"results cache file {shard} is {problem}; ignored, its files re-checked"


def _read_shard(shard: str) -> tuple[dict[str, bytes], str | None]:
    try:
        with open(shard, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return {}, None
    except OSError as exc:
        return {}, f"unreadable ({exc.strerror})"
    if len(data) < _HEADER or not data.startswith(_MAGIC):
        return {}, "corrupt (truncated)" if _MAGIC.startswith(data[: len(_MAGIC)]) else (
            "corrupt (not a cache file)"
        )
    if _checksum(data[_HEADER:]) != data[len(_MAGIC) : _HEADER]:
        return {}, "corrupt (checksum mismatch)"
    try:
        entries = pickle.loads(data[_HEADER:])
    except Exception:  # a checksummed payload that does not load: another format
        entries = None
    if not isinstance(entries, dict):
        return {}, "corrupt (unreadable)"
    return entries, None


def save(cache_dir: str, new: list[tuple[str, bytes]]) -> str | None:
    """Write a run's new entries, each shard once (merged with what is on disk, written to a
    temporary file then renamed: a concurrent run loses at most the other's new entries);
    a warning when the cache cannot be written."""
    by_shard: dict[str, list[tuple[str, bytes]]] = {}
    for abs_path, entry in new:
        by_shard.setdefault(_shard_path(cache_dir, abs_path), []).append((abs_path, entry))
    if not by_shard:
        return None
    top = results_dir(cache_dir)
    try:
        if not top.is_dir():
            top.mkdir(parents=True, exist_ok=True)
            (top / "CACHEDIR.TAG").write_text(
                "Signature: 8a477f597d28d172789f06886806bc55\n"
                "# dockfix's results cache (`dockfix clean` removes it)\n"
            )
        for shard, items in by_shard.items():
            entries = dict(_read_shard(shard)[0])  # a damaged shard is replaced
            entries.update(items)
            payload = pickle.dumps(entries, protocol=pickle.HIGHEST_PROTOCOL)
            check = _checksum(payload)
            tmp = f"{shard}.{os.getpid()}.tmp"
            try:
                with open(tmp, "wb") as fh:
                    fh.write(_MAGIC + check + payload)
                os.replace(tmp, shard)
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
    except OSError as exc:
        return f"cannot write the results cache in {top}: {exc.strerror}; results not kept"
    return None


def restored_outcome(stored: bytes, text: str, shown: str) -> FixOutcome:
    """A stored outcome (see :class:`Lookup`) of a file whose text is ``text``, its findings
    naming the file as ``shown``."""
    return unpack_outcome(stored_as_packed(stored, text), shown)


def _entry(entries: dict[str, bytes], abs_path: str) -> tuple[Any, ...] | None:
    data = entries.get(abs_path)
    if data is None:
        return None
    try:
        fields = pickle.loads(data)  # checksummed with its shard
    except Exception:
        return None
    ok = isinstance(fields, tuple) and len(fields) == 7 and isinstance(fields[3], bytes)
    return fields if ok else None


_CWD: list[tuple[str, str]] = []  # (the working directory, as a prefix) once per batch


def _cwd_prefix() -> str:
    if _BATCH is not None and _CWD:
        return _CWD[0][1]
    cwd = os.getcwd()
    prefix = cwd if cwd.endswith("/") else cwd + "/"
    _CWD[:] = [(cwd, prefix)]
    return prefix


class Lookup:
    """What looking a file up found: its entry, read once, asked first whether the file's
    status is what it was (see :meth:`unchanged_status`), then, once the file is read,
    whether its text is (:meth:`compare_text`); and what computing and storing the outcome
    again needs otherwise."""

    def __init__(self, path: Path | None, opts: RunOptions, path_str: str = "") -> None:
        """``path_str``: ``path`` as the walk spelled it, when it is a plain relative path
        (see ``runner.plain_relative``): what a warm run needs of it without pathlib (then
        ``path`` may be None)."""
        assert opts.cache_dir is not None
        self._opts = opts
        directory = abs_path = None
        if path_str:
            cut = path_str.rfind("/")
            directory = path_str[:cut] if cut > 0 else "."
            abs_path = _cwd_prefix() + path_str
        key = _file_key(path, opts, directory)
        self.settings = None
        if key is None or abs_path is None:
            whole = path if path is not None else Path(path_str)
            abs_path = abs_path or os.path.abspath(whole)
            if key is None:  # (read_from_path: it was read, or its status taken: it exists)
                self.settings = file_settings(whole, opts, read_from_path=True)
                key = settings_key(self.settings, opts)
        self.key = key
        self.abs_path = abs_path
        entries, self.warning = _load_shard(_shard_path(opts.cache_dir, self.abs_path))
        self._fields = _entry(entries, self.abs_path)
        self._inputs_same: bool | None = None  # asked once, whichever question comes first
        self.digest = ""
        # The outcome as stored (pickled on its own): unpickled by whoever shows it, so that a
        # worker passes a hit on without unpickling and pickling it again.
        self.stored: bytes | None = None
        # What `check` shows of the file (see shown_record), when it was stored with it.
        self.shown: ShownRecord | None = None

    def unchanged_status(self, status: tuple[int, ...]) -> ShownRecord | None:
        """What `check` shows of the file (``opts.show``) when its status is what it was when
        it was checked and read, and nothing else it depends on changed: a warm run does not
        read it. None when the text must be read and compared."""
        fields, show = self._fields, self._opts.show
        if fields is None or fields[6] != status or show is None:
            return None
        record: ShownRecord | None = fields[5]
        if record is None or show not in record[3] or not self._same_inputs():
            return None
        return record

    def compare_text(self, text: str) -> None:
        """With the file's text: :attr:`stored` and :attr:`shown` when the entry holds it."""
        self.digest = text_digest(text)
        fields = self._fields
        if fields is not None and fields[1] == self.digest and self._same_inputs():
            self.stored, self.shown = fields[3], fields[5]

    def _same_inputs(self) -> bool:
        """The settings, the registry answers and every input are those of the entry."""
        if self._inputs_same is None:
            fields = self._fields
            assert fields is not None
            self._inputs_same = (
                fields[0] == self.key
                and _same_answers(fields[4], self._opts)
                and still_valid(fields[2])
            )
        return self._inputs_same


def cached_outcome(
    text: str,
    path: Path,
    opts: RunOptions,
    shown: str,
    found: Lookup | None = None,
    status: tuple[int, ...] = (),
) -> tuple[FixOutcome, bool, tuple[str, bytes] | None]:
    """The file's outcome from the cache when nothing it depends on changed (and True), else
    computed (and False, with the entry to store: see :func:`save`). ``found``: the file's
    :class:`Lookup`, when the caller made it already (its text compared); ``status``: the
    file's (``source_io.status_stamp``) when it was read, which a later run may compare
    instead of its text (:meth:`Lookup.unchanged_status`)."""
    if found is None:
        found = Lookup(path, opts)
        found.compare_text(text)
    if found.stored is not None:
        return restored_outcome(found.stored, text, shown), True, None
    key, settings, abs_path, digest, warning = (
        found.key,
        found.settings,
        found.abs_path,
        found.digest,
        found.warning,
    )
    log = InputLog()
    outcome = fix_text_with(
        text, path, opts, shown=shown, read_from_path=True, settings=settings, inputs=log
    )
    deps_now = log.dependencies(abs_path, _skip(opts.cache_dir))
    new = None
    if deps_now is not None:
        packed_now = pack_outcome(outcome, opts.keep_edits)
        fixed = None if outcome.fixed == outcome.original else outcome.fixed
        stored = pickle.dumps((fixed, *packed_now[2:]), protocol=pickle.HIGHEST_PROTOCOL)
        shown_now = shown_record(outcome, opts.show) if opts.show is not None else None
        settled = _settled(status)
        fields = (key, digest, deps_now, stored, log.answers, shown_now, settled)
        new = (abs_path, pickle.dumps(fields, protocol=pickle.HIGHEST_PROTOCOL))
    if warning:
        outcome.warnings.append(warning)
    return outcome, False, new


# (warnings, error line, whether unsafe fixes apply, and by format: FileLines' parts, order,
# severities and fixable counts)
ShownRecord = tuple[list[str], int | None, bool, dict[str, tuple[Any, ...]]]


def shown_record(outcome: FixOutcome, fmt: str) -> ShownRecord | None:
    """What `check` shows of a file's outcome in ``fmt`` (a format it shows file by file),
    with the rest of the outcome it reads: a later run's hit in that format is shown without
    its findings rebuilt (in another, from the stored outcome). None for a file that failed
    (shown from its outcome)."""
    if outcome.error is not None:
        return None
    lines = file_lines(outcome.findings, outcome.unsafe, outcome.original, fmt, None)
    by_format = {fmt: (lines.parts, lines.order, lines.severities, lines.fixable)}
    return (list(outcome.warnings), outcome.error_line, outcome.unsafe, by_format)


def _settled(status: tuple[int, ...]) -> tuple[int, ...]:
    """``status`` when the file was last changed long enough ago that a change now would show
    in it (another change time); else ``()``, and a later run compares the text."""
    import time

    if not status or time.time_ns() - max(status[2], status[3]) < SETTLED_NS:
        return ()
    return status


def _same_answers(answers: dict[tuple[str, str], Any], opts: RunOptions) -> bool:
    if not answers:
        return True
    from dockfix.registry.image_lookup import current_answer

    try:
        return all(
            current_answer(k, opts.image_lookups, opts.offline) == then
            for k, then in answers.items()
        )
    except ValueError:
        return False


@lru_cache(maxsize=8)
def _skip(cache_dir: str) -> tuple[str, ...]:
    return skip_prefixes(cache_dir, str(default_cache_dir()))
