"""Running the engine over many files: discover → read → parse → fix → (write).

Each file is independent: a file that cannot be read, decoded or parsed gets one error line and
the others are still processed. Large runs fan out to worker processes; results come back in
the order the files were discovered, so output is deterministic whatever the parallelism.

When a network fixer is enabled, a prefetch phase runs first: the registry lookups of every file
are collected (in the workers too), each unique one is answered once for the whole run
(:mod:`dockfix.registry.image_lookup`), and the answers travel with the options to every file. A failed
lookup is one warning, on the first file that needs it; a registry that failed as a whole
(unreachable, TLS) is one warning for the run, on the first report (``run_warnings``). Neither
makes the run fail.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import os
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from dockfix.core.catalog import all_fixers, select_codes
from dockfix.core.engine import FileLines, FileReport, FixOutcome, fix_document
from dockfix.core.fixer import FileChange, Finding, Fix, Fixer, Severity
from dockfix.core.suppression import unknown_checks, unknown_codes
from dockfix.files.source_io import (
    Source,
    SourceError,
    read_source,
    status_stamp,
    text_digest,
    write_atomic,
)
from dockfix.run.config import Config, ConfigError, find_config, load_config_file
from dockfix.run.shown import file_lines
from dockfix.run.wire import Packed, pack_report, packed_hit, unpack_report
from dockfix.semantics.context import FixContext
from dockfix.syntax import Dockerfile, parse_lossless, released_trees

if TYPE_CHECKING:
    from concurrent.futures import Executor, Future

    from dockfix.files.input_log import InputLog
    from dockfix.registry.image_lookup import ImageLookups, ImageQuery
    from dockfix.run.hadolint_config import HadolintConfig
    from dockfix.run.results_cache import Lookup, ShownRecord

PARALLEL_THRESHOLD = 200  # below this, starting workers costs more than it saves


class RunOptions(NamedTuple):
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    unsafe_fixes: bool | None = None
    offline: bool = False
    refresh: bool = False
    context: str | None = None
    config_file: str | None = None
    apply_fixes: bool = True
    insecure_registries: tuple[str, ...] = ()
    only_code: str | None = None  # restrict the configured selection to one code (--commit)
    # The registry answers for the network fixers, looked up once for the whole run (None:
    # not yet; fix_text_with then looks up what its one file needs).
    image_lookups: ImageLookups | None = None
    # hadolint's configuration for the run (`.hadolint.yaml`), None when there is none.
    hadolint: HadolintConfig | None = None
    # The results cache's directory (None: every file is checked; see dockfix.run.results_cache).
    cache_dir: str | None = None
    # Whether the findings' edits come back from worker processes: `check` needs them only
    # for the formats that print them (json, json-lines, rdjson), `fix` always.
    keep_edits: bool = True
    # `check`'s output format when it is shown file by file (full, concise): each file's part
    # is made where the file is checked (FileReport.lines), and its findings stay there.
    show: str | None = None


def display_path(path: Path) -> str:
    # The common cases without relpath()'s work: a relative path as the walk spells it, a
    # path under the working directory.
    text = path.as_posix()
    if not path.is_absolute() and ".." not in text.split("/"):
        return text
    full = os.path.abspath(path)
    cwd = os.getcwd()
    prefix = cwd if cwd.endswith("/") else cwd + "/"
    if full.startswith(prefix):
        return full[len(prefix) :]
    try:
        rel = os.path.relpath(full, cwd)
    except ValueError:
        return path.as_posix()
    return Path(rel).as_posix() if not rel.startswith("..") else path.as_posix()


def config_for(directory: str, config_file: str | None) -> Config:
    """The configuration that applies to the files of ``directory`` (``--config``'s file when
    given), found once per directory for the run."""
    known = _KNOWN_CONFIGS.get(directory)
    if known is not None and config_file is None:
        return known
    return _find_config_for(directory, config_file)


@lru_cache(maxsize=65536)  # one per directory of a monorepo's Dockerfiles
def _find_config_for(directory: str, config_file: str | None) -> Config:
    if config_file:
        return load_config_file(Path(config_file))
    return find_config(directory)


# The configurations of a worker's current chunk, found by the main process while it walked
# the tree (by directory, as process_path spells it): not looked up twice.
_KNOWN_CONFIGS: dict[str, Config] = {}


def _configs_of(paths: Sequence[str], opts: RunOptions) -> dict[str, Config]:
    """The configuration of each path's directory, where the main process knows it already."""
    if opts.config_file:
        return {}
    out: dict[str, Config] = {}
    cwd = os.getcwd()  # once for the chunk, not once per folder
    for p in paths:
        directory = os.path.dirname(p) or "."
        if directory not in out:
            try:
                out[directory] = find_config(directory, cwd)
            except ConfigError:
                continue  # the worker reports it with the file
    return out


@lru_cache(maxsize=1024)
def _selected(
    select: tuple[str, ...] | None, ignore: tuple[str, ...], extend: tuple[str, ...]
) -> list[str]:
    return select_codes(select, ignore, extend)


def build_fixers(cfg: Config, opts: RunOptions, path: Path | None) -> list[Fixer]:
    return list(_instances(cfg, selected_codes(cfg, opts, path)))


def selected_codes(cfg: Config, opts: RunOptions, path: Path | None) -> tuple[str, ...]:
    """The codes of the fixers that check ``path`` (imports none of them: see
    ``catalog.fixer_table``)."""
    select = list(opts.select) if opts.select is not None else cfg.select
    ignore = [*cfg.ignore, *opts.ignore]
    if path is not None:
        ignore.extend(cfg.ignores_for(path))
    codes = _selected(
        tuple(select) if select is not None else None,
        tuple(ignore),
        (*cfg.extend_select, *opts.extend_select),
    )
    if opts.only_code is not None:
        codes = [c for c in codes if c == opts.only_code]
    return tuple(codes)


def _instances(cfg: Config, codes: tuple[str, ...]) -> tuple[Fixer, ...]:
    # Fixers keep no state between files, so one set of instances serves every file that
    # shares a configuration and a selection.
    made = cfg.fixer_instances.get(codes)
    if made is None:
        fixers = all_fixers()
        made = tuple(fixers[c](cfg.fixer_options.get(c)) for c in codes)
        cfg.fixer_instances[codes] = made
    return made


def _services(cfg: Config, opts: RunOptions) -> dict[str, Any]:
    services: dict[str, Any] = {
        "insecure_registries": tuple(sorted({*cfg.insecure_registries, *opts.insecure_registries})),
    }
    if opts.image_lookups is not None:
        services["image_lookups"] = opts.image_lookups
    hadolint = opts.hadolint
    if hadolint is not None and hadolint.ignored:
        services["hadolint_ignored"] = hadolint.ignored  # read by the engine, as a global pragma
    # dockfix's own setting wins over hadolint's trustedRegistries.
    if cfg.trusted_registries is not None:
        services["trusted_registries"] = tuple(cfg.trusted_registries)
    elif hadolint is not None and hadolint.trusted_registries is not None:
        services["trusted_registries"] = hadolint.trusted_registries
    if hadolint is not None and hadolint.label_schema is not None:
        services["label_schema"] = hadolint.label_schema
        services["strict_labels"] = hadolint.strict_labels
    return services


def context_dir_of(path: Path | None, cfg: Config, opts: RunOptions) -> Path | None:
    """A Dockerfile's build context: ``--context``, the configuration's ``context`` for it,
    or its directory."""
    if opts.context:
        return Path(opts.context)
    if path is not None:
        return cfg.context_for(path) or path.parent
    return None


class FileSettings(NamedTuple):
    """What decides how one file is checked, before its text is read."""

    cfg: Config
    ctx: FixContext
    fixers: list[Fixer]
    unsafe: bool


class SharedSettings(NamedTuple):
    """What the files under one configuration share in a run: resolved once per
    configuration (a monorepo's thousands of service folders share a few), not per file."""

    opts: RunOptions  # the run's options they were resolved for
    cfg: Config
    services: dict[str, Any]  # copied into each file's context (a file may add to it)
    unsafe: bool  # --unsafe-fixes, else the configuration's `unsafe-fixes`
    refresh: bool
    # The codes of the fixers, the same for every file; None when the configuration's
    # `per-file-ignores` or `context` patterns make them (or the build context) depend on the
    # file. (Codes, not fixers: a results-cache hit needs no fixer imported.)
    codes: tuple[str, ...] | None


# By the configuration's identity (the entry keeps it alive, so the identity is not reused).
_SHARED: dict[int, SharedSettings] = {}


def shared_settings(directory: str, opts: RunOptions) -> SharedSettings:
    """The settings the files of ``directory`` share with every file under its configuration
    (see :class:`SharedSettings`)."""
    cfg = config_for(directory, opts.config_file)
    known = _SHARED.get(id(cfg))
    if known is not None and known.opts is opts and known.cfg is cfg:
        return known
    unsafe = opts.unsafe_fixes if opts.unsafe_fixes is not None else bool(cfg.unsafe_fixes)
    per_file = bool(cfg.per_file_ignores or cfg.contexts)
    made = SharedSettings(
        opts,
        cfg,
        _services(cfg, opts),
        unsafe,
        opts.refresh or cfg.refresh,
        None if per_file else selected_codes(cfg, opts, None),
    )
    if len(_SHARED) >= 4096:
        _SHARED.clear()
    _SHARED[id(cfg)] = made
    return made


def file_settings(
    path: Path | None, opts: RunOptions, cfg: Config | None = None, read_from_path: bool = False
) -> FileSettings:
    """``read_from_path``: the file was just read from ``path`` (so its directory exists)."""
    if cfg is None:
        shared = shared_settings(str(path.parent if path is not None else Path.cwd()), opts)
        cfg, services = shared.cfg, dict(shared.services)
        unsafe, refresh = shared.unsafe, shared.refresh
        fixers = (
            list(_instances(cfg, shared.codes))
            if shared.codes is not None
            else build_fixers(cfg, opts, path)
        )
    else:
        unsafe = opts.unsafe_fixes if opts.unsafe_fixes is not None else bool(cfg.unsafe_fixes)
        services, refresh = _services(cfg, opts), opts.refresh or cfg.refresh
        fixers = build_fixers(cfg, opts, path)
    context_dir = context_dir_of(path, cfg, opts)
    known_dir = read_from_path and path is not None and context_dir == path.parent
    ctx = FixContext(
        path=path,
        context_dir=context_dir,
        offline=opts.offline,
        refresh=refresh,
        min_docker_engine=cfg.min_docker_engine,
        unprivileged_port_start=cfg.unprivileged_port_start,
        services=services,
        context_is_dir=known_dir,
    )
    return FileSettings(cfg, ctx, fixers, unsafe)


def fix_text_with(
    text: str,
    path: Path | None,
    opts: RunOptions,
    cfg: Config | None = None,
    shown: str | None = None,
    read_from_path: bool = False,
    settings: FileSettings | None = None,
    inputs: InputLog | None = None,
) -> FixOutcome:
    """Fix one text; ``read_from_path``: it was just read from ``path`` (so its directory
    exists). ``inputs``: record there what the fixers read (for the results cache)."""
    if settings is None:
        settings = file_settings(path, opts, cfg, read_from_path)
    cfg, ctx, fixers, unsafe = settings
    lookup_warnings: list[str] = []
    doc = parse_lossless(text)
    looks_up = any(f.needs_network and f.wants_lookups(ctx) for f in fixers)
    if opts.image_lookups is None and looks_up:
        # A single text (standard input, the Python API) or an offline run: look up what this
        # file needs (offline: from the cache only).
        from dockfix.registry.image_lookup import resolve_image_queries

        queries = _image_queries(doc, fixers, ctx) if doc.error is None else []
        lookups = resolve_image_queries(
            queries,
            insecure_registries=ctx.services["insecure_registries"],
            offline=opts.offline,
            refresh=ctx.refresh,
        )
        ctx.services["image_lookups"] = lookups
        lookup_warnings = lookups.warnings() + [m for _, m in lookups.failures()]
    if inputs is None:
        outcome = fix_document(text, fixers, ctx, apply=opts.apply_fixes, unsafe=unsafe, doc=doc)
    else:
        from dockfix.files.input_log import recording

        with recording(inputs):
            outcome = fix_document(
                text, fixers, ctx, apply=opts.apply_fixes, unsafe=unsafe, doc=doc
            )
    outcome.warnings[:0] = lookup_warnings
    if outcome.error is None:
        outcome.warnings.extend(
            f"line {line}: unknown rule code {code} in suppression comment"
            for line, code in unknown_codes(doc, all_fixers())
        )
        outcome.warnings.extend(
            f"line {line}: unknown BuildKit check {name} in `# check=` (names are case-sensitive)"
            for line, name in unknown_checks(doc)
        )
    if shown is None:
        shown = display_path(path) if path is not None else "-"
    fixer_classes = all_fixers()
    for f in [*outcome.findings, *outcome.applied]:
        f.path = shown
        f.severity = severity_of(f, fixer_classes.get(f.code), cfg, opts.hadolint)[0]
    return outcome


def severity_of(
    finding: Finding | None,
    fixer: type[Fixer] | None,
    cfg: Config,
    hadolint: HadolintConfig | None,
) -> tuple[Severity, str]:
    """A finding's (or, with ``finding`` None, a rule's) severity and where it comes from:
    dockfix's `[severity]` table, else hadolint's `override` for the rules it matches, else
    the fixer's default."""
    code = finding.code if finding is not None else fixer.code if fixer is not None else ""
    configured = cfg.severity.get(code)
    if configured is not None:
        return configured, f"`severity` in {cfg.path}"
    if hadolint is not None and hadolint.override:
        matched = finding.hadolint if finding is not None else None
        if matched is None:
            matched = fixer.resolves.hadolint if fixer is not None else ()
        overridden = hadolint.severity_for(matched)
        if overridden is not None:
            listed = " ".join(c for c in matched if c in hadolint.override)
            return overridden, f"`override` in {hadolint.path} ({listed})"
    if fixer is not None:
        return fixer.severity, "the rule's default"
    return (finding.severity if finding is not None else Severity.WARNING), "the rule's default"


def process_path(path_str: str, opts: RunOptions) -> FileReport:
    with released_trees():  # the report keeps texts and findings, no tree
        report = _process_path(path_str, opts)
        if report.outcome is not None:
            settle_deferred_fixes(report.outcome, opts.keep_edits)
        _show_lines(report, path_str, opts)
        return report


def _show_lines(report: FileReport, path_str: str, opts: RunOptions) -> None:
    """With ``opts.show``: the report's part of `check`'s output (FileReport.lines), made
    here, in place of its findings and texts (which `check` then never reads)."""
    out = report.outcome
    if opts.show is None or out is None or report.error:
        return
    threshold = _failure_threshold(path_str, opts)
    report.lines = file_lines(out.findings, out.unsafe, out.original, opts.show, threshold)
    report.outcome = _without_findings(out.warnings, out.error_line, out.unsafe)


def _without_findings(warnings: list[str], error_line: int | None, unsafe: bool) -> FixOutcome:
    """What a shown report (FileReport.lines) keeps of its outcome: what `check` reads of it
    besides the findings."""
    return FixOutcome("", "", [], [], [], None, warnings, error_line, unsafe)


def settle_deferred_fixes(outcome: FixOutcome, keep_edits: bool) -> None:
    """Build the deferred edits (``Fix.later``) of an outcome's findings while their tree is
    whole, or, when nothing will read them (``keep_edits`` False), drop their builders: a
    builder holds its tree, which :func:`released_trees` takes apart when the file is done."""
    for f in (*outcome.findings, *outcome.applied):
        fix = f.fix
        if fix is None or not fix.deferred:
            continue
        if keep_edits:
            fix.edits  # noqa: B018 (reading them builds them)
        else:
            f.fix = Fix((), fix.applicability, fix.description, fix.file_changes, fix.rationale)


def _failure_threshold(path_str: str, opts: RunOptions) -> str | None:
    """The `failure-threshold` of the configuration of a file (one that was checked)."""
    try:
        return config_for(os.path.dirname(path_str) or ".", opts.config_file).failure_threshold
    except ConfigError:
        return None  # (the file failed with that error)


def _process_path(path_str: str, opts: RunOptions) -> FileReport:
    report, src = _read(path_str)
    if src is not None:
        _process_source(report, src, opts)
    return report


def plain_relative(path_str: str) -> bool:
    """Whether a path is relative and spelled as pathlib spells it (no empty, ``.`` or ``..``
    component): as the directory walk spells the files it finds. Such a path is displayed as
    it is, and its directory and absolute path are plain string operations."""
    if path_str.startswith("/"):
        return False
    parts = path_str.split("/")
    return "" not in parts and "." not in parts and ".." not in parts


def _read(path_str: str) -> tuple[FileReport, Source | None]:
    path = Path(path_str)
    report = FileReport(path_str if plain_relative(path_str) else display_path(path))
    try:
        src = read_source(path)
    except SourceError as exc:
        report.error = str(exc)
        return report, None
    report.mode = src.mode
    return report, src


def _process_source(
    report: FileReport, src: Source, opts: RunOptions, found: Lookup | None = None
) -> None:
    path = src.path
    try:
        if opts.cache_dir is not None:
            from dockfix.run.results_cache import cached_outcome

            report.outcome, report.cached, report.cache_entry = cached_outcome(
                src.text, path, opts, report.path, found, src.status
            )
        else:
            report.outcome = fix_text_with(
                src.text, path, opts, shown=report.path, read_from_path=True
            )
    except ConfigError as exc:
        report.error = f"configuration error: {exc}"
        return
    if report.outcome.error:
        report.error = report.outcome.error


def _packed_path(path_str: str, opts: RunOptions) -> Packed:
    """:func:`process_path`'s report, packed for the main process (see ``wire``). A results
    cache hit is sent on as the cache stored it: a warm run's worker never rebuilds its
    findings as objects only to take them apart again."""
    with released_trees():
        plain = path_str if plain_relative(path_str) else ""
        found: Lookup | None = None
        if opts.cache_dir is not None and opts.show is not None and plain:
            found, quick = _unread_hit(path_str, opts)
            if quick is not None:
                return quick
        report, src = _read(path_str)
        if src is not None and opts.cache_dir is not None:
            from dockfix.run.results_cache import Lookup, restored_outcome

            try:
                if found is None:  # (the entry asked about the file's status is asked again)
                    found = Lookup(src.path, opts, plain)
                found.compare_text(src.text)
            except ConfigError:
                found = None  # computing it reports the error
            if found is not None and found.stored is not None:
                # (edits are stored only when kept: the key covers RunOptions.keep_edits)
                if opts.show is None:
                    return packed_hit(report.path, report.mode, src.text, found.stored)
                report.cached = True
                if found.shown is not None and opts.show in found.shown[3]:  # no finding rebuilt
                    return _shown_hit(report, found.shown, path_str, opts)
                report.outcome = restored_outcome(found.stored, src.text, report.path)
                report.error = report.outcome.error
                _show_lines(report, path_str, opts)
                return pack_report(report, opts.keep_edits)
            if found is not None:
                _process_source(report, src, opts, found)
                _show_lines(report, path_str, opts)
                return pack_report(report, opts.keep_edits)
        if src is not None:
            _process_source(report, src, opts)
        _show_lines(report, path_str, opts)
        return pack_report(report, opts.keep_edits)


def _unread_hit(path_str: str, opts: RunOptions) -> tuple[Lookup | None, Packed | None]:
    """The file's results-cache lookup, and its hit shown (``opts.show``) without reading
    the file when its status is what it was when it was checked (see
    ``Lookup.unchanged_status``); no hit: the caller reads the file and compares its text."""
    from dockfix.run.results_cache import Lookup

    try:
        st = os.stat(path_str)
        found = Lookup(None, opts, path_str)
    except (OSError, ConfigError):
        return None, None  # reading it says why, or tells
    shown = found.unchanged_status(status_stamp(st))
    if shown is None:
        return found, None
    report = FileReport(path_str, mode=stat.S_IMODE(st.st_mode), cached=True)
    return found, _shown_hit(report, shown, path_str, opts)


def _shown_hit(report: FileReport, shown: ShownRecord, path_str: str, opts: RunOptions) -> Packed:
    """A hit's report as the results cache stored what `check` shows of it (``opts.show``)."""
    assert opts.show is not None
    warnings, error_line, unsafe, by_format = shown
    report.outcome = _without_findings(list(warnings), error_line, unsafe)
    parts, order, severities, fixable = by_format[opts.show]
    threshold = _failure_threshold(path_str, opts)
    report.lines = FileLines(opts.show, parts, order, severities, fixable, threshold)
    return pack_report(report, opts.keep_edits)


def _process_chunk(
    args: tuple[list[str], RunOptions, dict[str, Config]],
) -> list[FileReport]:
    from dockfix.registry.image_lookup import one_cache_read

    paths, opts, configs = args
    _KNOWN_CONFIGS.clear()
    _KNOWN_CONFIGS.update(configs)
    try:
        with one_cache_read(), _one_shard_read(opts):
            return [process_path(p, opts) for p in paths]
    finally:
        _KNOWN_CONFIGS.clear()


def _packed_chunk(args: tuple[list[str], RunOptions, dict[str, Config]]) -> list[Packed]:
    """:func:`_process_chunk` in a worker: the reports as plain tuples (see ``wire``)."""
    from dockfix.registry.image_lookup import one_cache_read

    paths, opts, configs = args
    _KNOWN_CONFIGS.clear()
    _KNOWN_CONFIGS.update(configs)
    try:
        with one_cache_read(), _one_shard_read(opts):
            return [_packed_path(p, opts) for p in paths]
    finally:
        _KNOWN_CONFIGS.clear()


def _one_shard_read(opts: RunOptions) -> contextlib.AbstractContextManager[None]:
    """With the results cache: each of its shards looked at once for a batch of files."""
    if opts.cache_dir is None:
        return contextlib.nullcontext()
    from dockfix.run.results_cache import one_shard_read

    return one_shard_read()


def _image_queries(doc: Dockerfile, fixers: Sequence[Fixer], ctx: FixContext) -> list[ImageQuery]:
    queries: list[ImageQuery] = []
    for fixer in fixers:
        if not (fixer.needs_network and fixer.wants_lookups(ctx)):
            continue
        try:
            queries.extend(fixer.image_queries(doc, ctx))
        except Exception:  # a fixer bug: check() will fail on this file too and say so
            continue
    return queries


def _network_fixers(path: Path, opts: RunOptions) -> tuple[list[Fixer], Config | None]:
    """The network fixers enabled for one file that may look something up for it (none when
    its configuration is broken)."""
    try:
        cfg = config_for(str(path.parent), opts.config_file)
        fixers = [f for f in build_fixers(cfg, opts, path) if f.needs_network]
    except ConfigError:
        return [], None
    if not fixers:
        return [], cfg
    ctx = _lookup_context(path, cfg, opts)
    return [f for f in fixers if f.wants_lookups(ctx)], cfg


def _lookup_context(path: Path, cfg: Config, opts: RunOptions) -> FixContext:
    """What the network fixers know about a file when they say which lookups it needs."""
    return FixContext(
        path=path,
        offline=opts.offline,
        refresh=opts.refresh or cfg.refresh,
        min_docker_engine=cfg.min_docker_engine,
        services=_services(cfg, opts),
    )


class _FileQueries(NamedTuple):
    queries: list[ImageQuery]
    insecure_registries: list[str]  # what the file's configuration lists
    refresh: bool = False  # its configuration says `refresh = true`


def _queries_for_path(path_str: str, opts: RunOptions) -> _FileQueries:
    """The registry lookups one file needs, and what its configuration says about them."""
    path = Path(path_str)
    fixers, cfg = _network_fixers(path, opts)
    if not fixers or cfg is None:
        return _FileQueries([], [])
    try:
        src = read_source(path)
    except SourceError:
        return _FileQueries([], [])  # reported when the file is processed
    doc = parse_lossless(src.text)
    if doc.error is not None:
        return _FileQueries([], [])
    ctx = _lookup_context(path, cfg, opts)
    queries = _image_queries(doc, fixers, ctx)
    return _FileQueries(queries, list(cfg.insecure_registries), ctx.refresh)


def _collect_chunk(args: tuple[list[str], RunOptions]) -> list[_FileQueries]:
    paths, opts = args
    return [_queries_for_path(p, opts) for p in paths]


def _prefetch(
    paths: Sequence[str], opts: RunOptions, pool: Executor | None, chunk_size: int
) -> tuple[RunOptions, dict[int, list[str]], list[str]]:
    """Look up every file's registry queries at once; returns the options carrying the answers,
    by file index the warnings to show (each failed lookup once, on its first file), and the
    run's warnings (once per registry host that failed as a whole)."""
    from dockfix.registry.image_lookup import ImageLookups, resolve_image_queries

    # Only files with a network fixer enabled are read and parsed (in the workers if many).
    wanted = [i for i, p in enumerate(paths) if _network_fixers(Path(p), opts)[0]]
    if not wanted:
        # Nothing to look up: say so, so that no file looks up on its own.
        return opts._replace(image_lookups=ImageLookups({}, opts.offline)), {}, []
    names = [paths[i] for i in wanted]
    if pool is None or len(names) < PARALLEL_THRESHOLD:
        per_file = [_queries_for_path(p, opts) for p in names]
    else:
        chunks = [names[i : i + chunk_size] for i in range(0, len(names), chunk_size)]
        per_file = [
            item
            for batch in pool.map(_collect_chunk, [(c, opts) for c in chunks])
            for item in batch
        ]
    # One client for the run: the plain-HTTP registries are those the command line and any of
    # the files' configurations list.
    insecure = {*opts.insecure_registries}
    first_user: dict[tuple[str, str], int] = {}
    for index, (queries, file_insecure, _) in zip(wanted, per_file, strict=True):
        insecure.update(file_insecure)
        for query in queries:
            try:
                first_user.setdefault(query.key, index)
            except ValueError:
                continue
    lookups = resolve_image_queries(
        [q for file in per_file for q in file.queries],
        insecure_registries=sorted(insecure),
        offline=opts.offline,
        refresh=opts.refresh or any(file.refresh for file in per_file),
    )
    warnings: dict[int, list[str]] = {}
    for key, message in lookups.failures():
        warnings.setdefault(first_user.get(key, 0), []).append(message)
    return opts._replace(image_lookups=lookups), warnings, lookups.warnings()


def one_path_per_file(
    paths: Iterable[str],
    notes: list[str],
    real_paths: Mapping[str, tuple[str, bool]] | None = None,
) -> Iterator[str]:
    """Each file once, under its real path when that is inside the working directory: a
    symlink ``Dockerfile -> docker/Dockerfile.debian`` and the file itself (or one file named
    through a linked directory and directly) are one file, diffed and written once.

    A link in the working directory to a file outside it is skipped, with a note: its diff
    would not apply to the tree, and a write would change a file elsewhere. (A link outside
    the working directory, named on the command line, is taken as named.) A dangling link is
    passed on as it is (reading it says why it fails).

    ``real_paths``: what the directory walk already knows of a path (its real path, and
    whether that is its absolute path; ``discovery.iter_dockerfile_paths``), so that a
    monorepo's files need no lstat each here."""
    seen: set[str] = set()
    known = real_paths if real_paths is not None else {}
    prefix = os.path.join(os.getcwd(), "")
    real_dirs: dict[str, str] = {}  # by directory as spelled: each worked out once
    for p in paths:
        walked = known.get(p)
        if walked is not None:
            real, is_abs = walked
            if real in seen:
                continue
            seen.add(real)
            yield p if is_abs or not real.startswith(prefix) else display_path(Path(real))
            continue
        if os.path.islink(p):  # one lstat: most paths are not links
            real = os.path.realpath(p)
            if not os.path.exists(real):
                real = os.path.abspath(p)
            elif not real.startswith(prefix) and os.path.abspath(p).startswith(prefix):
                notes.append(f"{p}: symlink to {real}, outside the working directory; skipped")
                continue
        else:
            directory, name = os.path.split(p)
            real = os.path.join(_real_dir(directory, real_dirs), name)
        if real in seen:
            continue
        seen.add(real)
        if real.startswith(prefix) and real != os.path.abspath(p):
            p = display_path(Path(real))
        yield p


def _real_dir(directory: str, known: dict[str, str]) -> str:
    """``os.path.realpath(directory)``, worked out from its parent's when it is no link
    itself: one lstat per directory of a monorepo's tree, instead of one per component."""
    real = known.get(directory)
    if real is None:
        parent, name = os.path.split(directory)
        if name in ("", ".", "..") or parent == directory or os.path.islink(directory):
            real = os.path.realpath(directory or ".")
        else:
            real = os.path.join(_real_dir(parent, known), name)
        known[directory] = real
    return real


def process_paths(
    paths: Iterable[str],
    opts: RunOptions,
    jobs: int | None = None,
    notes: list[str] | None = None,
    real_paths: Mapping[str, tuple[str, bool]] | None = None,
) -> Iterator[FileReport]:
    """Reports in input order (see :func:`_process_paths`); with the results cache, the new
    entries are written once the last report is taken (a failure to: one line in ``notes``).
    ``real_paths``: see :func:`one_path_per_file`."""
    notes = notes if notes is not None else []
    reports = _process_paths(paths, opts, jobs, notes, real_paths)
    if opts.cache_dir is None:
        yield from reports
        return
    new: list[tuple[str, bytes]] = []
    for report in reports:
        if report.cache_entry is not None:
            new.append(report.cache_entry)
            report.cache_entry = None
        yield report
    from dockfix.run.results_cache import save

    failed = save(opts.cache_dir, new)
    if failed:
        notes.append(failed)


def _process_paths(
    paths: Iterable[str],
    opts: RunOptions,
    jobs: int | None,
    notes: list[str],
    real_paths: Mapping[str, tuple[str, bool]] | None = None,
) -> Iterator[FileReport]:
    """Reports in input order; worker processes only for runs large enough to pay for them.

    ``paths`` may be a generator (the directory walk): offline, the workers start on the first
    files while the walk goes on. A run with registry lookups reads every path first, to look
    each image up once for the whole run. Symlinks: see :func:`one_path_per_file` (its notes
    go to ``notes``)."""
    workers = jobs if jobs and jobs > 0 else (os.cpu_count() or 1)
    it = one_path_per_file(paths, notes, real_paths)
    head = list(itertools.islice(it, PARALLEL_THRESHOLD))
    parallel = workers > 1 and len(head) >= PARALLEL_THRESHOLD
    # Offline there is nothing to share between files: each file answers from the cache as it
    # is processed, and no file is read twice.
    prefetch = opts.image_lookups is None and not opts.offline
    warnings: dict[int, list[str]] = {}  # by file index: lookup failures to show there
    run_warnings: list[str] = []  # registries that failed as a whole: said first
    if not parallel:
        source: Iterable[str] = itertools.chain(head, it)
        if prefetch:
            names = [*head, *it]
            opts, warnings, run_warnings = _prefetch(names, opts, None, 0)
            source = names
        batches = _chunks(iter(source), STREAM_CHUNK)
        yield from _with_warnings(
            (report for batch in batches for report in _process_chunk((batch, opts, {}))),
            warnings,
            run_warnings,
        )
        return
    from concurrent.futures import ProcessPoolExecutor

    context = _worker_context()
    if context.get_start_method() == "fork" and opts.cache_dir is None:
        # Imported once, here, for the forked workers to inherit, not once in each. Not with
        # the results cache: there the main process, which walks and shows, is what a warm
        # run waits for, and the workers import them while it walks.
        all_fixers()
    with (
        ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_start_worker,
            initargs=(os.getpid(),),
        ) as pool,
        _cancelled_on_exit(pool),
    ):
        if prefetch:
            names = [*head, *it]
            size = max(16, len(names) // (workers * 8))
            opts, warnings, run_warnings = _prefetch(names, opts, pool, size)
            chunks: Iterable[list[str]] = (names[i : i + size] for i in range(0, len(names), size))
            sizing = None
        else:
            sizing = _ChunkSize()
            chunks = sizing.chunks(itertools.chain(head, it))
        reports = _run_chunks(pool, chunks, opts, sizing)
        yield from _with_warnings(reports, warnings, run_warnings)


def _start_worker(parent: int) -> None:
    """In a worker: Ctrl-C reaches the whole process group, but the main process alone stops
    the run (a worker's traceback would only bury its message). A worker outlives an
    interrupted main process only briefly: it exits once it finds itself orphaned."""
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()


def _exit_when_orphaned(parent: int) -> None:
    import time

    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(1)


@contextlib.contextmanager
def _cancelled_on_exit(pool: Executor) -> Iterator[None]:
    """Stopped early (Ctrl-C, a closed generator): drop the chunks not started, rather than
    wait for the whole run."""
    try:
        yield
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise


def _worker_context() -> Any:
    """How to start workers: forked (cheap: they inherit the imports) unless this process has
    loaded BuildKit's Go parser, whose runtime a forked child cannot use (a long-lived caller
    of the Python API, the test suite); then started afresh."""
    import multiprocessing

    from dockfix.core.buildkit_check import go_runtime_loaded

    if go_runtime_loaded() or "fork" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    return multiprocessing.get_context("fork")


# Files per task (and per view of the digest cache): small enough to keep every worker busy
# to the end of the run.
STREAM_CHUNK = 48


def _chunks(paths: Iterator[str], size: int) -> Iterator[list[str]]:
    while chunk := list(itertools.islice(paths, size)):
        yield chunk


# A chunk grows to this many files while the chunks that came back were all results-cache
# hits (a warm run): each chunk costs its worker some fixed work (its settings' keys, a view
# of the digest cache) and the main process a round trip, and a hit costs little.
HIT_CHUNK = 512


class _ChunkSize:
    """The size of the next chunk: :data:`STREAM_CHUNK`, doubled after each chunk whose
    files all came from the results cache (up to :data:`HIT_CHUNK`), back at the start after
    one that checked a file."""

    def __init__(self) -> None:
        self.size = STREAM_CHUNK

    def saw(self, reports: list[FileReport]) -> None:
        if all(r.cached for r in reports):
            self.size = min(self.size * 2, HIT_CHUNK)
        else:
            self.size = STREAM_CHUNK

    def chunks(self, paths: Iterator[str]) -> Iterator[list[str]]:
        while chunk := list(itertools.islice(paths, self.size)):
            yield chunk


def _run_chunks(
    pool: Executor,
    chunks: Iterable[list[str]],
    opts: RunOptions,
    sizing: _ChunkSize | None = None,
) -> Iterator[FileReport]:
    """Submit each chunk as it comes (the walk may still be going) and yield the reports in
    order, each chunk's as soon as it and those before it are done; ``sizing``, when it makes
    the chunks, is told of each chunk's reports."""
    pending: collections.deque[Future[list[Packed]]] = collections.deque()

    def done() -> list[FileReport]:
        reports = list(map(unpack_report, pending.popleft().result()))
        if sizing is not None:
            sizing.saw(reports)
        return reports

    for chunk in chunks:
        pending.append(pool.submit(_packed_chunk, (chunk, opts, _configs_of(chunk, opts))))
        while pending and pending[0].done():
            yield from done()
    while pending:
        yield from done()


def _with_warnings(
    reports: Iterable[FileReport], warnings: dict[int, list[str]], run_warnings: list[str]
) -> Iterator[FileReport]:
    """Attach the run's lookup warnings to the first file that can show them, and the
    warnings about the whole run to the first report."""
    pending: list[str] = []
    for index, report in enumerate(reports):
        if index == 0:
            report.run_warnings[:0] = run_warnings
        pending.extend(warnings.pop(index, ()))
        if pending and report.outcome is not None:
            report.outcome.warnings[:0] = pending
            pending = []
        yield report


def write_fixed_text(report: FileReport) -> None:
    """Write one report's fixed Dockerfile atomically (its other file changes are separate)."""
    out = report.outcome
    if out is None or out.fixed == out.original:
        return
    try:
        # The file must still hold what was read: the digest of the original text is the
        # digest of those bytes (strict UTF-8 round-trips).
        expected = text_digest(out.original)
        write_atomic(Path(report.path), out.fixed, expected_digest=expected, mode=report.mode)
        report.written = True
    except SourceError as exc:
        report.write_errors.append(f"{report.path}: {exc}")


def write_file_change(ch: FileChange, report: FileReport) -> None:
    expected = None
    if ch.original is not None:
        expected = text_digest(ch.original)
    mode = None
    if ch.original is None:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    try:
        write_atomic(ch.path, ch.content, expected_digest=expected, mode=mode)
        report.written = True
    except SourceError as exc:
        report.write_errors.append(f"{display_path(ch.path)}: {exc}")
