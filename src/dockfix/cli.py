"""The ``dockfix`` command line, shaped like ruff: ``check``, ``fix``, ``rule``.

Exit codes: ``check`` 0 no findings, 1 findings; ``fix`` (dry run) 0 no diff, 1 a diff;
``fix --write`` 0 (1 with ``--exit-non-zero-on-fix`` when something changed); 2 for any
error (a file that cannot be read or parsed, bad configuration), after every other file was
processed; 130 when interrupted (Ctrl-C).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dockfix import __version__

if TYPE_CHECKING:
    from dockfix.output.gitops import ChangedFiles

_COMMON = [
    # Not click's readability check: an unreadable file is one error line, the rest still run.
    click.argument("paths", nargs=-1, type=click.Path(path_type=str, readable=False)),
    click.option(
        "--select", help="Comma-separated codes, prefixes or names to enable (ALL for every fixer)."
    ),
    click.option("--ignore", help="Comma-separated codes, prefixes or names to disable."),
    click.option("--extend-select", help="Codes to enable in addition to the configured ones."),
    click.option(
        "--unsafe-fixes/--no-unsafe-fixes", default=None, help="Apply fixes marked unsafe too."
    ),
    click.option(
        "--offline", is_flag=True, help="No network lookups; network fixers use their cache only."
    ),
    click.option(
        "--jobs", "-j", type=int, default=0, help="Worker processes (default: one per core)."
    ),
    click.option(
        "--config",
        "config_file",
        type=click.Path(exists=True, dir_okay=False),
        help="Use this configuration file.",
    ),
    click.option(
        "--hadolint-config",
        type=click.Path(exists=True, dir_okay=False),
        help="Read hadolint's settings from this file (default: found as hadolint finds it).",
    ),
    click.option(
        "--no-hadolint-config", is_flag=True, help="Do not read hadolint's configuration."
    ),
    click.option(
        "--context",
        type=click.Path(file_okay=False),
        help="Build context directory (default: the Dockerfile's).",
    ),
    click.option(
        "--stdin-filename", help="The path to report for a Dockerfile read from standard input."
    ),
    click.option(
        "--force-exclude",
        is_flag=True,
        help="Apply the configured `exclude` to paths named on the command line too (pre-commit).",
    ),
    click.option(
        "--output-format",
        type=click.Choice(
            [
                *("full", "concise", "json", "json-lines", "sarif", "github"),
                *("checkstyle", "gitlab", "codeclimate", "junit", "rdjson"),  # report.CI_FORMATS
            ]
        ),
        default=None,
        help="How findings are printed.",
    ),
    click.option("--statistics", is_flag=True, help="Count findings per code."),
    click.option(
        "--exit-zero", is_flag=True, help="Exit 0 even when there are findings or a diff."
    ),
    click.option(
        "--insecure-registry", multiple=True, help="HOST:PORT reached over plain HTTP (repeatable)."
    ),
    click.option(
        "--changed-since",
        metavar="REF",
        help="Only Dockerfiles whose bytes or build context changed since this git revision.",
    ),
    click.option(
        "--no-cache",
        is_flag=True,
        help="Check every file again: neither read nor write the results cache.",
    ),
    click.option("--quiet", "-q", is_flag=True, help="Print only what the format requires."),
    click.option("--verbose", "-v", is_flag=True, help="Also print files without findings."),
]


_SARIF_ROOT = click.option(
    "--sarif-root",
    type=click.Path(exists=True, file_okay=False),
    help="Directory the paths of sarif and the CI formats are relative to (default: the files'"
    " git work tree).",
)


def _common(f: Any) -> Any:
    for deco in reversed(_COMMON):
        f = deco(f)
    return f


# What `check` and `fix` can show instead of (or besides) their usual output, as ruff does.
_SHOW = [
    click.option(
        "--show-fixes", is_flag=True, help="List the fixes applied (or that would be), per file."
    ),
    click.option(
        "--show-settings",
        is_flag=True,
        help="Print the resolved settings for the first file, and where each came from.",
    ),
    click.option(
        "--show-files", is_flag=True, help="Print the Dockerfiles discovery finds, then exit."
    ),
]


def _show(f: Any) -> Any:
    for deco in reversed(_SHOW):
        f = deco(f)
    return f


PROGRESS_MIN_FILES = 200  # a progress bar for shorter runs only flickers


def _split(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(v.strip() for v in value.split(",") if v.strip())


class _Run:
    """State shared by ``check`` and ``fix``: options, reports, exit status."""

    def __init__(
        self, kw: dict[str, Any], apply_fixes: bool, refresh: bool = False, cache: bool = True
    ) -> None:
        from dockfix.run.runner import RunOptions

        self.kw = kw
        self.opts = RunOptions(
            select=_split(kw["select"]),
            ignore=_split(kw["ignore"]) or (),
            extend_select=_split(kw["extend_select"]) or (),
            unsafe_fixes=kw["unsafe_fixes"],
            offline=kw["offline"],
            refresh=refresh,
            context=kw["context"],
            config_file=kw["config_file"],
            apply_fixes=apply_fixes,
            insecure_registries=tuple(kw["insecure_registry"]),
            hadolint=_hadolint_config(kw["hadolint_config"], kw["no_hadolint_config"]),
        )
        self.changed: ChangedFiles | None = None  # with --changed-since
        if cache and not kw["no_cache"]:
            self.opts = self.opts._replace(cache_dir=str(_cache_dir(kw["config_file"])))
        self.errors: list[str] = []
        self.notes: list[str] = []  # one line each, shown once per run (--commit runs often)
        # What the directory walk knows of each file it found (runner.one_path_per_file).
        self.real_paths: dict[str, tuple[str, bool]] = {}
        self._shown: set[str] = set()
        # What `fix` changes, by the Dockerfile's path: (path, original or None, new) of the
        # Dockerfile and of each other file its fixes edit; and the Dockerfiles written.
        self.file_edits: dict[str, list[tuple[str, str | None, str]]] = {}
        self.written: set[str] = set()
        # Each Dockerfile `fix` processed: (original, fixed) text, the texts the findings it
        # fixed and those left are on.
        self.texts: dict[str, tuple[str, str]] = {}
        # The files where fixes marked unsafe apply (--unsafe-fixes, else each file's
        # configuration, as the runner resolved it for the file).
        self.unsafe_paths: set[str] = set()

    def say_once(self, line: str) -> None:
        """Print a line on stderr unless this run did already (--commit runs once per fixer)."""
        if line not in self._shown:
            self._shown.add(line)
            click.echo(line, err=True)

    def validate(self) -> None:
        from dockfix.core.catalog import SelectionError, resolve_code
        from dockfix.run.config import ConfigError, load_config_file

        for group in (self.opts.select or (), self.opts.ignore, self.opts.extend_select):
            for tok in group:
                try:
                    resolve_code(tok)
                except SelectionError as exc:
                    raise click.UsageError(str(exc)) from None
        if self.opts.config_file:
            try:
                load_config_file(Path(self.opts.config_file))
            except ConfigError as exc:
                click.echo(f"error: {exc}", err=True)
                sys.exit(2)
        if self.kw.get("changed_since"):
            from dockfix.output.gitops import GitError, changed_since

            try:
                self.changed = changed_since(Path.cwd(), self.kw["changed_since"])
            except GitError as exc:
                click.echo(f"error: {exc}", err=True)
                sys.exit(2)

    def reports(self) -> list[Any]:
        """Every file's report."""
        out = []
        # closing(): on Ctrl-C the walk and its worker processes stop at once.
        with contextlib.closing(self._reports()) as reports:
            for rep in reports:
                if rep.outcome is not None and rep.outcome.unsafe:
                    self.unsafe_paths.add(rep.path)
                out.append(rep)
        for note in self.notes:
            self.say_once(f"note: {note}")
        if self.kw["verbose"]:
            for rep in out:
                n = len(rep.outcome.findings) if rep.outcome is not None else 0
                if rep.lines is not None:
                    n = sum(rep.lines.severities)
                status = "error" if rep.error else f"{n} findings"
                click.echo(f"{rep.path}: {status}{' (cached)' if rep.cached else ''}", err=True)
        return out

    def _reports(self) -> Generator[Any, None, None]:
        from dockfix.core.engine import FileReport
        from dockfix.run.config import ConfigError
        from dockfix.run.runner import display_path, fix_text_with, process_paths

        _tune_gc()
        paths: Sequence[str] = self.kw["paths"] or (".",)
        if "-" in paths:
            data = sys.stdin.buffer.read()
            name = self.kw["stdin_filename"]
            rep = FileReport(display_path(Path(name)) if name else "-", from_stdin=True)
            from dockfix.files.source_io import SourceError, decode

            try:
                text = decode(data)
                outcome = fix_text_with(text, Path(name) if name else None, self.opts)
                rep.outcome = outcome
                rep.error = outcome.error
            except (SourceError, ConfigError) as exc:
                rep.error = str(exc)
            yield rep
            paths = [p for p in paths if p != "-"]
            if not paths:
                return
        jobs = self.kw["jobs"] or None
        if sys.stderr.isatty() and not self.kw["quiet"]:
            from dockfix.run.runner import one_path_per_file

            # a progress bar needs the total first (a symlink and its target: one file)
            found = self._discover(paths)
            files = list(one_path_per_file(found, self.notes, self.real_paths))
            results = process_paths(files, self.opts, jobs, self.notes, self.real_paths)
            if len(files) >= PROGRESS_MIN_FILES:
                # files done / total on stderr; stdout (diffs, JSON) stays clean for pipes
                with click.progressbar(
                    results, length=len(files), label="dockfix", file=sys.stderr
                ) as bar:
                    yield from bar
            else:
                yield from results
        else:
            # Files are processed while the walk goes on.
            found = self._discover(paths)
            yield from process_paths(found, self.opts, jobs, self.notes, self.real_paths)

    def _discover(self, paths: Sequence[str]) -> Iterator[str]:
        found = self._discover_all(paths)
        if self.changed is None:
            return found
        return self._changed_only(self.changed, found)

    def _changed_only(self, changed: ChangedFiles, paths: Iterator[str]) -> Iterator[str]:
        """The Dockerfiles --changed-since keeps: its bytes or its build context changed."""
        from dockfix.run.config import ConfigError
        from dockfix.run.runner import config_for, context_dir_of

        for p in paths:
            if not changed.contains(p):
                self.errors.append(
                    f"{p}: outside the git work tree {changed.root}; "
                    "--changed-since cannot tell whether it changed"
                )
                continue
            path = Path(p)
            try:
                cfg = config_for(str(path.parent), self.opts.config_file)
            except ConfigError:
                yield p  # processing it reports the configuration error
                continue
            context = context_dir_of(path, cfg, self.opts) or path.parent
            if changed.touches(p, str(context)):
                yield p

    def _discover_all(self, paths: Sequence[str]) -> Iterator[str]:
        from dockfix.files.discovery import iter_dockerfile_paths
        from dockfix.run.config import Config, ConfigError, config_at, note_listing
        from dockfix.run.runner import config_for

        # The walk asks about every entry: each directory's configuration is looked up once,
        # and the usual one, without `exclude`, is remembered as None.
        by_dir: dict[str, Config | None] = {}

        def excluded(p: str) -> bool:
            # os.path.dirname of an absolute path the walk spelled (asked of every entry)
            cut = p.rfind("/")
            directory = p[:cut] if cut > 0 else os.path.dirname(p)
            try:
                cfg = by_dir[directory]
            except KeyError:
                try:
                    found = (
                        config_for(directory or ".", self.opts.config_file)
                        if self.opts.config_file or not os.path.isabs(directory)
                        else config_at(directory)
                    )
                except ConfigError:
                    found = None
                cfg = by_dir[directory] = found if found is not None and found.exclude else None
            return cfg is not None and cfg.is_excluded(p)

        seen: set[str] = set()  # `dockfix fix --write . Dockerfile` takes the file once
        for raw in paths:
            p = Path(raw)
            if self.kw["force_exclude"] and excluded(os.path.abspath(raw)):
                continue  # as ruff: `exclude` applies to what pre-commit names, too
            try:
                os.lstat(raw)
            except (FileNotFoundError, NotADirectoryError):
                self.errors.append(f"{raw}: no such file or directory")
                continue
            except OSError:
                pass  # a directory on its way cannot be searched: reading the file says so
            is_dir = os.path.isdir(raw)
            try:
                cfg = config_for(str(p if is_dir else p.parent), self.opts.config_file)
            except ConfigError as exc:
                self.errors.append(f"error: {exc}")
                continue
            skipped = {False: 0, True: 0}  # by "is a directory"

            def note_skipped(is_dir: bool, skipped: dict[bool, int] = skipped) -> None:
                skipped[is_dir] += 1

            found = False
            for found_path in iter_dockerfile_paths(
                [raw],
                respect_gitignore=cfg.respect_gitignore,
                excluded=excluded,
                seen=seen,
                listed=note_listing,
                unreadable=lambda d, why: self.errors.append(f"{d}: {why}"),
                skipped=note_skipped,
                real_paths=self.real_paths,
            ):
                found = True
                yield found_path
            if not found and is_dir:
                self.say_once(_nothing_found(raw, skipped[False], skipped[True]))


def _nothing_found(directory: str, files: int, dirs: int) -> str:
    """A directory named on the command line gave no Dockerfile: say so (exit status
    unchanged, as ruff does), so that a run where all was ignored never reads as clean."""
    parts = [f"{files} Dockerfile{'s' if files != 1 else ''}"] if files else []
    if dirs:
        parts.append(f"{dirs} director{'ies' if dirs != 1 else 'y'}")
    why = f" ({' and '.join(parts)} skipped by .gitignore / exclude)" if parts else ""
    return f"warning: no Dockerfiles found under {directory}{why}"


@functools.lru_cache(maxsize=4)
def _hadolint_config(path: str | None, skip: bool) -> Any:
    """The run's hadolint configuration (`--hadolint-config`, else found as hadolint finds
    it), its warnings shown once (`fix --verify` makes two runs of one configuration)."""
    from dockfix.run.hadolint_config import find_hadolint_config, load_hadolint_config
    from dockfix.run.runner import display_path

    if skip:
        return None
    found = Path(path) if path else find_hadolint_config()
    if found is None:
        return None
    hadolint = load_hadolint_config(found, display_path(found))
    for warning in hadolint.warnings:
        click.echo(f"warning: {warning}", err=True)
    return hadolint


def _cache_dir(config_file: str | None) -> Path:
    """The results cache's directory: ``$DOCKFIX_CACHE_DIR``, the working directory's
    ``cache-dir`` setting, or the default."""
    from dockfix.run.config import ConfigError
    from dockfix.run.results_cache import cache_dir_for
    from dockfix.run.runner import config_for

    try:
        configured = config_for(".", config_file).cache_dir
    except ConfigError:
        configured = None  # reported with the files
    return cache_dir_for(configured)


def _tune_gc() -> None:
    """Each file makes and drops a few thousand objects: collect the young ones less often and
    never rescan what was imported (as mypy does; about 3 % of a large run)."""
    import gc

    gc.freeze()
    gc.set_threshold(5000, 20, 100)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dockfix")
def main() -> None:
    """Find Dockerfile anti-patterns and rewrite them."""


@main.command()
@_common
@_SARIF_ROOT
@click.option(
    "--failure-threshold",
    type=click.Choice(["error", "warning", "info", "style", "none"]),
    default=None,
    help="Exit 1 only for findings of this severity or higher (default: style, every one).",
)
@_show
@click.option(
    "--add-noqa",
    is_flag=True,
    help="Write a `# dockfix ignore=` pragma for every finding (a baseline), then exit.",
)
def check(
    failure_threshold: str | None,
    add_noqa: bool,
    show_fixes: bool,
    show_settings: bool,
    show_files: bool,
    **kw: Any,
) -> None:
    """List findings (`path:line:col: CODE [*] severity: message`; [*] where a fix is
    available)."""
    from dockfix.core.engine import fixable_summary
    from dockfix.output.report import EDIT_FORMATS, render, statistics
    from dockfix.run.shown import shown_text

    _configured_threshold.cache_clear()  # a memo of this run (tests run several in a process)
    run = _Run(kw, apply_fixes=False)
    # Only these formats print the fixes' edits: the others need not carry them.
    run.opts = run.opts._replace(keep_edits=kw["output_format"] in EDIT_FORMATS)
    run.validate()
    _show_instead(run, show_settings, show_files)
    if add_noqa:
        _add_noqa(run)
    unsafe = run.unsafe_paths
    fmt = kw["output_format"] or "full"
    # The full and concise outputs are made file by file where each file is checked (in the
    # workers, while the others are still being checked): its findings stay there.
    shown = fmt in ("full", "concise") and not kw["statistics"] and not show_fixes
    if shown:
        run.opts = run.opts._replace(show=fmt)
    reports = run.reports()
    findings = []
    sources: dict[str, str] = {}
    files: list[tuple[str, Any]] = []  # (path, FileLines) when shown
    failing = count = now = more = 0
    for rep in reports:
        _run_warnings(run, rep)
        if rep.error:
            run.errors.append(rep.error_message())
            continue
        if rep.outcome is None:
            continue
        if shown:
            lines = rep.lines if rep.lines is not None else _file_lines(rep, fmt, run.opts)
            files.append((rep.path, lines))
            failing += _failing_counted(
                lines, _resolved(failure_threshold, lines.threshold, run.opts)
            )
            count += sum(lines.severities)
            now += lines.fixable[0]
            more += lines.fixable[1]
        else:
            findings.extend(rep.outcome.findings)
            sources[rep.path] = rep.outcome.original
            failing += _failing(
                rep.outcome.findings, _threshold(rep.path, failure_threshold, run.opts)
            )
        for w in rep.outcome.warnings:
            run.say_once(f"warning: {rep.path}: {w}")
    if not shown:
        count = len(findings)
        now, more = fixable_summary(findings, unsafe)
    if kw["statistics"]:
        click.echo(statistics(findings, unsafe), nl=False)
    elif shown:
        click.echo(shown_text(files), nl=False)
    else:
        click.echo(render(findings, fmt, unsafe, sources, kw["sarif_root"]), nl=False)
    if fmt in ("full", "concise") and not kw["quiet"]:
        nfiles = sum(1 for r in reports if not r.error)
        _summary_check(count, (now, more), nfiles, bool(run.errors))
        if failing < count:
            click.echo(f"{count - failing} below the failure threshold.", err=True)
    if show_fixes:
        from dockfix.core.engine import fix_applies

        _echo_fixes([f for f in findings if fix_applies(f, unsafe)], "Would fix")
    _finish(run.errors, 1 if failing and not kw["exit_zero"] else 0)


def _file_lines(rep: Any, fmt: str, opts: Any) -> Any:
    """A report's part of the full or concise output, made here (standard input's)."""
    from dockfix.run.shown import file_lines

    out = rep.outcome
    configured = _configured_threshold(os.path.dirname(rep.path) or ".", opts.config_file)
    return file_lines(out.findings, out.unsafe, out.original, fmt, configured)


@functools.lru_cache(maxsize=65536)
def _configured_threshold(directory: str, config_file: str | None) -> str | None:
    """The `failure-threshold` of a directory's configuration (asked once per directory, not
    once per finding)."""
    from dockfix.run.config import ConfigError
    from dockfix.run.runner import config_for

    try:
        return config_for(directory, config_file).failure_threshold
    except ConfigError:
        return None  # reported with the file


def _threshold(path: str, threshold: str | None, opts: Any) -> str:
    """The failure threshold of a file's findings: --failure-threshold, else the
    `failure-threshold` of its configuration, else hadolint's (default: every finding fails)."""
    if threshold is not None:
        return threshold
    return _resolved(
        None, _configured_threshold(os.path.dirname(path) or ".", opts.config_file), opts
    )


def _resolved(threshold: str | None, configured: str | None, opts: Any) -> str:
    """:func:`_threshold` when the configuration's is known (``configured``)."""
    if threshold is None:
        threshold = configured
    if threshold is None and opts.hadolint is not None:
        threshold = opts.hadolint.failure_threshold
    return threshold or "style"


def _failing(findings: list[Any], threshold: str) -> int:
    """How many of one file's findings fail `check` (see :func:`_threshold`)."""
    from dockfix.core.fixer import fails

    if threshold == "style":
        return len(findings)  # the default: every finding fails
    return sum(1 for f in findings if fails(f.severity, threshold))


def _failing_counted(lines: Any, threshold: str) -> int:
    """:func:`_failing` from a file's counts by severity (``FileLines``)."""
    from dockfix.core.fixer import Severity, fails

    if threshold == "style":
        return sum(lines.severities)
    return sum(
        n for sev, n in zip(Severity, lines.severities, strict=True) if fails(sev, threshold)
    )


def _run_warnings(run: _Run, rep: Any) -> None:
    """Warnings about the whole run (they come with its first report): said before the rest,
    once (--commit runs once per fixer)."""
    for w in rep.run_warnings:
        run.say_once(f"warning: {w}")


def _echo_fixes(fixed: list[Any], verb: str) -> None:
    from dockfix.core.catalog import all_fixers
    from dockfix.output.show import fixes_text

    names = {code: fixer.name for code, fixer in all_fixers().items()}
    click.echo(fixes_text(fixed, names, verb), nl=False, err=True)


def _show_instead(run: _Run, show_settings: bool, show_files: bool) -> None:
    """--show-files, --show-settings: print what was asked and exit (nothing is checked)."""
    if not (show_settings or show_files):
        return
    paths = [p for p in run.kw["paths"] or (".",) if p != "-"]
    files = list(run._discover(paths))
    if show_files:
        for p in files:
            click.echo(p)
    if show_settings:
        from dockfix.output.show import settings_text
        from dockfix.run.config import ConfigError
        from dockfix.run.runner import config_for

        if not files:
            run.errors.append("error: --show-settings: no Dockerfile found")
        else:
            path = Path(files[0])
            try:
                cfg = config_for(str(path.parent), run.opts.config_file)
                click.echo(settings_text(cfg, run.opts, path), nl=False)
            except ConfigError as exc:
                run.errors.append(f"error: {exc}")
    _finish(run.errors, 0)


def _add_noqa(run: _Run) -> None:
    """check --add-noqa: write a pragma for every finding left, then exit 0 (2 on errors)."""
    from dockfix.output.baseline import add_ignore_pragmas
    from dockfix.run.runner import write_fixed_text

    if "-" in run.kw["paths"]:
        raise click.UsageError("--add-noqa edits files; it does not read standard input")
    added = 0
    for rep in run.reports():
        _run_warnings(run, rep)
        if rep.error:
            run.errors.append(f"{rep.path}: {rep.error}")
            continue
        out = rep.outcome
        if out is None or not out.findings:
            continue
        for w in out.warnings:
            click.echo(f"warning: {rep.path}: {w}", err=True)
        text, n, problem = add_ignore_pragmas(out.original, out.findings)
        if problem is not None:
            run.errors.append(f"{rep.path}: ignore pragmas not added: {problem}")
            continue
        out.fixed = text
        write_fixed_text(rep)
        if rep.write_errors:
            run.errors.extend(rep.write_errors)
        else:
            added += n
    if not run.kw["quiet"]:
        click.echo(f"Added {added} ignore pragma{'s' if added != 1 else ''}.", err=True)
    _finish(run.errors, 0)


def _summary_check(count: int, fixable: tuple[int, int], nfiles: int, errors: bool) -> None:
    """``count`` findings, ``fixable``: how many `fix` fixes, and more with --unsafe-fixes."""
    if not count:
        what = "No findings" if errors or not nfiles else "All checks passed"
        click.echo(f"{what} ({nfiles} file{'s' if nfiles != 1 else ''} checked).", err=True)
        return
    now, more = fixable
    msg = f"Found {count} finding{'s' if count != 1 else ''} in {nfiles} file{'s' if nfiles != 1 else ''}."
    if now:
        msg += f"\n[*] {now} fixable with `dockfix fix`."
    if more:
        msg += f"\n[-] {more} more fixable with `dockfix fix --unsafe-fixes`."
    click.echo(msg, err=True)


# What `fix --verify` counts as a failed verification (a build that breaks, an undeclared
# difference, an image that no longer starts or serves).
VERIFY_FAILURES = ("defect", "differs", "does-not-start")


def _stop_unless_verified(run: _Run, verified: list[Any], what: str) -> None:
    """Before a write: when a fixed file failed its verification, say so and exit 2 with
    nothing ``what`` (a fix that breaks the build or the start never reaches the tree)."""
    failed = [r.path for r in verified if r.status in VERIFY_FAILURES]
    if not failed:
        return
    for r in verified:
        click.echo(r.format_text(), err=True)
    run.errors.extend(f"{path}: verification failed; nothing {what}" for path in failed)
    _finish(run.errors, 2)


def _finish(errors: list[str], status: int) -> None:
    for e in dict.fromkeys(errors):  # each once: --commit walks the tree once per fixer
        click.echo(e, err=True)
    sys.exit(2 if errors else status)


@main.command()
@_common
@_SARIF_ROOT
@_show
@click.option(
    "--diff", "mode", flag_value="diff", default=True, help="Print a unified diff (the default)."
)
@click.option(
    "--diff-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the diff (of what is written, with --write) to this file, not to stdout.",
)
@click.option("--write", "-w", "mode", flag_value="write", help="Edit the files in place.")
@click.option(
    "--exit-non-zero-on-fix", is_flag=True, help="With --write: exit 1 when a file changed."
)
@click.option(
    "--refresh", is_flag=True, help="Update digests already pinned to what the tag points at now."
)
@click.option(
    "--commit", is_flag=True, help="Write, then commit each fixer's changes separately (git)."
)
@click.option(
    "--branch",
    help="With --commit: create this branch first (an existing one is refused).",
)
@click.option(
    "--force-branch",
    is_flag=True,
    help="With --branch: replace an existing branch of that name (says what it was).",
)
@click.option(
    "--allow-dirty",
    is_flag=True,
    help="With --commit: run on a work tree with uncommitted changes.",
)
@click.option(
    "--pr-body",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a Markdown PR description here.",
)
@click.option(
    "--pr-body-limit",
    type=click.IntRange(min=1000),
    default=None,
    help="Longest PR description, in characters (default 60000); the rest goes to <body>.full.md.",
)
@click.option(
    "--verify",
    "verify_builds",
    is_flag=True,
    help="Build each changed file before and after (like `dockfix verify`) and report it.",
)
@click.option(
    "--verify-run",
    is_flag=True,
    help="As --verify, and also start both images (like `dockfix verify --run`): a fix after "
    "which the image no longer starts or serves fails the run.",
)
def fix(
    mode: str,
    exit_non_zero_on_fix: bool,
    refresh: bool,
    commit: bool,
    branch: str | None,
    force_branch: bool,
    allow_dirty: bool,
    pr_body: Path | None,
    pr_body_limit: int | None,
    verify_builds: bool,
    verify_run: bool,
    show_fixes: bool,
    show_settings: bool,
    show_files: bool,
    **kw: Any,
) -> None:
    """Apply fixes: print a diff (dry run, default) or edit in place with --write."""
    from dockfix.core.engine import fixable_summary
    from dockfix.output.report import (
        EDIT_FORMATS,
        STRUCTURED_FORMATS,
        render,
        render_fix,
        statistics,
    )

    # Only a dry run reads the results cache: --write and --commit check every file.
    run = _Run(kw, apply_fixes=True, refresh=refresh, cache=mode == "diff" and not commit)
    # The findings left unfixed carry their fixes' edits only where the format prints them.
    run.opts = run.opts._replace(keep_edits=kw["output_format"] in EDIT_FORMATS)
    run.validate()
    _show_instead(run, show_settings, show_files)
    if branch and not commit:
        raise click.UsageError("--branch goes with --commit")
    if force_branch and not branch:
        raise click.UsageError("--force-branch goes with --branch")
    unsafe = run.unsafe_paths
    verified: list[Any] = []
    commits: list[Any] = []
    run_options = None
    if verify_run:
        from dockfix.proof.image_run import RunOptions

        verify_builds, run_options = True, RunOptions()
    if commit:
        mode = "write"
        if verify_builds:
            # the whole fix, in memory, before anything is committed: what the branch will hold
            verified = _verify_reports(
                kw, None, (), None, False, False, run.reports(), run_options=run_options
            )[1]
            _stop_unless_verified(run, verified, "written or committed")
        applied, left, changed, commits = _fix_with_commits(
            run, branch, force_branch, allow_dirty, kw
        )
    else:
        reports = run.reports()
        if verify_builds:
            verified = _verify_reports(
                kw, None, (), None, False, False, reports, run_options=run_options
            )[1]
            if mode == "write":
                _stop_unless_verified(run, verified, "written")
        applied, left, changed = _fix_pass(run, reports, mode, kw)
    for r in verified:
        click.echo(r.format_text(), err=True)
        if r.status in VERIFY_FAILURES:
            run.errors.append(f"{r.path}: verification failed ({r.status})")
    fmt = kw["output_format"]
    if fmt in STRUCTURED_FORMATS:
        dry_run = mode == "diff"
        doc = render_fix(
            fmt, applied, left, run.file_edits, run.written, dry_run, kw["sarif_root"], run.texts
        )
        click.echo(doc, nl=False)
    elif fmt is not None:
        click.echo(render(left, fmt, unsafe, {}), nl=False)
    if kw["diff_file"] is not None:
        _write_diff_file(run, kw["diff_file"], mode)
    if kw["statistics"]:
        click.echo(statistics(left, unsafe), nl=False, err=mode == "diff" or fmt is not None)
    if pr_body is not None:
        import contextlib

        from dockfix.output.prbody import write_pr_body
        from dockfix.proof.verify import pr_section
        from dockfix.run.config import ConfigError
        from dockfix.run.runner import config_for

        if pr_body_limit is None:
            with contextlib.suppress(ConfigError):  # a bad file is reported with the files
                pr_body_limit = config_for(".", run.opts.config_file).pr_body_limit
        write_pr_body(pr_body, pr_body_limit, applied, left, pr_section(verified), commits)
    if not kw["quiet"]:
        if run.opts.offline:
            _offline_skips(left)
        _, more = fixable_summary(left, unsafe)
        msg = f"{len(applied)} fixed, {len(left)} left"
        if more:
            msg += f" ({more} more with `--unsafe-fixes`)"
        verb = "would change" if mode == "diff" else "changed"
        click.echo(f"{msg}; {changed} file{'s' if changed != 1 else ''} {verb}.", err=True)
    if show_fixes:
        _echo_fixes(applied, "Would fix" if mode == "diff" else "Fixed")
    if kw["exit_zero"]:
        status = 0
    elif mode == "diff":
        status = 1 if changed else 0
    else:
        status = 1 if (exit_non_zero_on_fix and changed) else 0
    _finish(run.errors, status)


def _offline_skips(left: list[Any]) -> None:
    """What ``--offline`` left unfixed and why (``check`` shows it with each finding): the
    network fixers' findings whose reason says so in the words they share with this function
    (:mod:`dockfix.registry.offline`), not any reason that mentions offline."""
    from dockfix.core.catalog import all_fixers
    from dockfix.registry.offline import left_offline

    fixers = all_fixers()
    for f in left:
        fixer = fixers.get(f.code)
        if fixer is not None and fixer.needs_network and not f.fixable and left_offline(f.reason):
            where = f"{f.path}:{f.line}:{f.column}"
            click.echo(f"{where}: {f.code} {f.message} (not fixed: {f.reason})", err=True)


def _fix_pass(
    run: _Run, reports: list[Any], mode: str, kw: dict[str, Any]
) -> tuple[list[Any], list[Any], int]:
    """Show or write one run's results; returns (applied, left, files changed)."""
    from dockfix.run.runner import display_path, write_file_change, write_fixed_text

    applied: list[Any] = []
    left: list[Any] = []
    changed = 0
    proposed: dict[Path, str] = {}
    for rep in reports:
        _run_warnings(run, rep)
        if rep.error:
            run.errors.append(rep.error_message())
            continue
        out = rep.outcome
        if out is None:
            continue
        for w in out.warnings:
            run.say_once(f"warning: {rep.path}: {w}")
        left.extend(out.findings)
        applied.extend(out.applied)
        run.texts[rep.path] = (run.texts.get(rep.path, (out.original, ""))[0], out.fixed)
        # Several Dockerfiles of one context may propose the same new file: take it once.
        fresh = []
        for ch in out.file_changes:
            if proposed.get(ch.path) == ch.content:
                continue
            if ch.path in proposed:
                click.echo(
                    f"warning: {display_path(ch.path)}: conflicting changes; kept the first",
                    err=True,
                )
                continue
            proposed[ch.path] = ch.content
            fresh.append(ch)
        out.file_changes = fresh
        if out.changed:
            # --commit runs one pass per code: a file's change is from before the first pass
            # to after the last
            edits = {p: (p, old, new) for p, old, new in run.file_edits.get(rep.path, ())}
            for shown, old, new in [
                (rep.path, out.original, out.fixed),
                *((display_path(ch.path), ch.original, ch.content) for ch in fresh),
            ]:
                edits[shown] = (shown, edits[shown][1] if shown in edits else old, new)
            run.file_edits[rep.path] = list(edits.values())
        if rep.from_stdin and mode == "write":
            # as black and ruff do: standard input in, the (fixed) text out, changed or not
            if _diff_to_stdout(kw):
                sys.stdout.write(out.fixed)
            changed += out.fixed != out.original
            continue
        if not out.changed:
            continue
        if mode == "diff":
            changed += 1
            continue
        write_fixed_text(rep)
        for ch in fresh:
            write_file_change(ch, rep)
        run.errors.extend(rep.write_errors)
        if not rep.written:
            # Nothing of it reached the disk: its fixes are still to do, the file unchanged.
            del applied[len(applied) - len(out.applied) :]
            left.extend(out.applied)
            continue
        changed += 1
        if not rep.write_errors:
            run.written.add(rep.path)
        if not kw["quiet"] and not rep.write_errors:
            codes = ", ".join(sorted({f.code for f in out.applied}))
            click.echo(f"fixed {rep.path} ({len(out.applied)}: {codes})", err=True)
    if mode == "diff" and _diff_to_stdout(kw):
        sys.stdout.write(_diff_text(run, mode))
    return applied, left, changed


def _diff_to_stdout(kw: dict[str, Any]) -> bool:
    """Whether `fix` prints its diff (or the fixed standard input): not when a structured
    format owns standard output, nor when the diff goes to --diff-file."""
    from dockfix.output.report import STRUCTURED_FORMATS

    return kw.get("output_format") not in STRUCTURED_FORMATS and kw.get("diff_file") is None


def _diff_text(run: _Run, mode: str) -> str:
    """The unified diff of what `fix` would change (with --write: of what it wrote)."""
    from dockfix.output.diffing import unified_diff

    return "".join(
        unified_diff(old, new, shown)
        for dockerfile, edits in run.file_edits.items()
        if mode == "diff" or dockerfile in run.written
        for shown, old, new in edits
    )


def _write_diff_file(run: _Run, path: Path, mode: str) -> None:
    try:
        path.write_text(_diff_text(run, mode), encoding="utf-8")
    except OSError as exc:
        run.errors.append(f"{path}: cannot write the diff: {exc.strerror}")


def _fix_with_commits(
    run: _Run, branch: str | None, force_branch: bool, allow_dirty: bool, kw: dict[str, Any]
) -> tuple[list[Any], list[Any], int, list[Any]]:
    """One pass and one commit per fixer code, in code order; returns (applied, left, files
    changed, the commits)."""
    from dockfix.core.catalog import all_fixers
    from dockfix.output.gitops import (
        GitError,
        LeftAlone,
        commit_files,
        current_branch,
        dirty_files,
        note_revert_dependencies,
        operation_in_progress,
        start_branch,
        tracked_files,
        work_tree_root,
    )

    try:
        root = work_tree_root(Path.cwd())
        dirty = dirty_files(root)
        if dirty and not allow_dirty:
            click.echo(
                f"error: the work tree has uncommitted changes ({', '.join(dirty[:5])}); "
                "commit or stash them, or pass --allow-dirty",
                err=True,
            )
            sys.exit(2)
        busy = operation_in_progress(root)
        if busy:
            click.echo(
                f"error: the work tree is in the middle of {busy}; finish or abort it first",
                err=True,
            )
            sys.exit(2)
        if not branch and current_branch(root) is None:
            click.echo(
                "error: HEAD is detached: commits made there are lost at the next checkout; "
                "pass --branch NAME",
                err=True,
            )
            sys.exit(2)
        if branch:
            replaced = start_branch(root, branch, force_branch)
            if replaced:
                click.echo(replaced, err=True)
        keep = LeftAlone(root, tracked_files(root), set(dirty))
    except GitError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    base_opts = run.opts
    applied: list[Any] = []
    changed_files: set[str] = set()
    commits: list[Any] = []
    for code, fixer in all_fixers().items():
        run.opts = base_opts._replace(only_code=code)
        reports = keep.filter(run.reports())
        pass_applied, _, _ = _fix_pass(run, reports, "write", {**kw, "quiet": True})
        files: list[Path] = []
        for rep in reports:
            if rep.outcome is not None and rep.written:
                if rep.outcome.fixed != rep.outcome.original:
                    files.append(Path(rep.path))
                files.extend(ch.path for ch in rep.outcome.file_changes)
        if not files:
            continue
        applied.extend(pass_applied)
        try:
            info = commit_files(root, files, code, fixer.name)
        except GitError as exc:
            run.errors.append(f"error: {exc}")
            break
        commits.append(info)
        changed_files.update(info.files)
    for note in keep.notes:
        click.echo(f"note: {note}", err=True)
    try:
        note_revert_dependencies(root, commits)
    except GitError as exc:
        run.errors.append(f"error: {exc}")
    if not kw["quiet"]:
        from dockfix.output.gitops import revert_note

        for info in commits:
            n = len(info.files)
            click.echo(
                f"committed {info.sha[:12]} dockfix: {info.code} {info.name} "
                f"({n} file{'s' if n != 1 else ''})",
                err=True,
            )
            if info.revert_with:
                click.echo(f"  {revert_note(info)}", err=True)
    # What is left, on the final tree.
    run.opts = base_opts._replace(apply_fixes=False)
    left = [f for rep in run.reports() if rep.outcome is not None for f in rep.outcome.findings]
    run.opts = base_opts
    return applied, left, len(changed_files), commits


@main.command()
@_common
@click.option(
    "--builder",
    "builder_name",
    help="buildah, docker (buildx) or podman; default: the first found.",
)
@click.option("--build-arg", multiple=True, help="KEY=VALUE for both builds (repeatable).")
@click.option("--target", help="The stage to build.")
@click.option(
    "--cache-check", is_flag=True, help="Also count the steps reused after a code-only change."
)
@click.option(
    "--keep-images", is_flag=True, help="Keep the built images (tagged dockfix-verify-…)."
)
@click.option(
    "--run",
    "run_images",
    is_flag=True,
    help="Also start both images (own network namespace, loopback only) and compare: "
    "still running, same ports answering, or the same exit code.",
)
@click.option(
    "--run-seconds",
    type=click.FloatRange(min=1),
    default=10.0,
    show_default=True,
    help="How long a service must keep running before its ports are probed.",
)
@click.option("--env", "run_env", multiple=True, help="KEY=VALUE for both runs (repeatable).")
@click.option(
    "--run-arg", multiple=True, help="An extra option of the builder's run command (repeatable)."
)
@click.option(
    "--probe",
    multiple=True,
    help="A port or a loopback URL to probe besides the EXPOSEd ports (repeatable).",
)
@click.option("--storage-driver", help="Builder storage driver (default: overlay where it works).")
@click.option("--storage-root", help="Builder storage root (buildah/podman --root).")
@click.option("--run-root", help="Builder run root (buildah/podman --runroot).")
@click.option(
    "--registries-conf",
    type=click.Path(dir_okay=False),
    help="A containers registries.conf for pulling base images.",
)
@click.option(
    "--signature-policy", type=click.Path(dir_okay=False), help="A containers policy.json."
)
@click.option(
    "--pr-body",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the results as a Markdown PR section.",
)
def verify(
    builder_name: str | None,
    build_arg: tuple[str, ...],
    target: str | None,
    cache_check: bool,
    keep_images: bool,
    run_images: bool,
    run_seconds: float,
    run_env: tuple[str, ...],
    run_arg: tuple[str, ...],
    probe: tuple[str, ...],
    storage_driver: str | None,
    storage_root: str | None,
    run_root: str | None,
    registries_conf: str | None,
    signature_policy: str | None,
    pr_body: Path | None,
    **kw: Any,
) -> None:
    """Build each fixable Dockerfile before and after its fixes and compare the images.

    With --run, start both images too: a fixed image that builds but does not start or
    serve like the original fails (exit 1). Builder settings also come from the
    configuration's `[verify]` table (builder, buildah, storage-driver, storage-root,
    run-root, registries-conf, signature-policy) and the DOCKFIX_BUILDAH_* variables.
    Exit 2 when nothing could be verified.
    """
    from dockfix.proof.image_run import RunOptions

    settings = {
        "storage_driver": storage_driver,
        "storage_root": storage_root,
        "run_root": run_root,
        "registries_conf": registries_conf,
        "signature_policy": signature_policy,
    }
    run_options = None
    if run_images:
        run_options = RunOptions(
            seconds=run_seconds,
            env=_key_values("--env", run_env),
            run_args=run_arg,
            probes=probe,
        )
    run, checked = _verify_reports(
        kw,
        builder_name,
        build_arg,
        target,
        cache_check,
        keep_images,
        settings={k: v for k, v in settings.items() if v},
        run_options=run_options,
    )
    fmt = kw["output_format"] or "full"
    if fmt == "json":
        import json

        click.echo(json.dumps([r.to_dict() for r in checked], indent=2, ensure_ascii=False))
    else:
        for r in checked:
            click.echo(r.format_text() + "\n")
    if pr_body is not None:
        from dockfix.proof.verify import pr_section

        pr_body.write_text(pr_section(checked), encoding="utf-8")
    bad = [r for r in checked if not r.ok]
    if not kw["quiet"]:
        done = sum(1 for r in checked if r.status == "verified")
        click.echo(
            f"{done} verified, {len(bad)} with problems, {len(checked)} files with fixes.", err=True
        )
    for r in checked:
        if r.status == "error":
            run.errors.append(f"{r.path}: {r.message}")
    if not any(r.compared for r in checked) and not run.errors:
        why = "no file has fixes" if not checked else "no original builds here"
        run.errors.append(f"error: nothing could be verified ({why})")
    failed = ("defect", "differs", "does-not-start")
    _finish(run.errors, 1 if any(r.status in failed for r in checked) else 0)


def _key_values(option: str, items: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.UsageError(f"{option} {item!r}: expected KEY=VALUE")
        out[key] = value
    return out


def _verify_reports(
    kw: dict[str, Any],
    builder_name: str | None,
    build_arg: tuple[str, ...],
    target: str | None,
    cache_check: bool,
    keep_images: bool,
    reports: list[Any] | None = None,
    *,
    settings: Mapping[str, str] | None = None,
    run_options: Any = None,
) -> tuple[_Run, list[Any]]:
    from dockfix.proof.builders import BuilderError, find_builder
    from dockfix.proof.verify import VerifyResult, verify_outcome
    from dockfix.run.config import ConfigError
    from dockfix.run.runner import config_for, process_path

    args = _key_values("--build-arg", build_arg)
    run = _Run(kw, apply_fixes=True)
    run.validate()
    try:
        configured = dict(config_for(".", kw["config_file"]).verify)
    except ConfigError:
        configured = {}  # reported with the files
    configured.update(settings or {})
    builder_name = builder_name or configured.pop("builder", None)
    configured.pop("builder", None)
    if "buildah" in configured:
        configured["executable"] = configured.pop("buildah")
    try:
        builder = find_builder(builder_name, **configured)
    except BuilderError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if reports is None:
        reports = run.reports()
    checked: list[VerifyResult] = []
    for rep in reports:
        if rep.error:
            run.errors.append(rep.error_message())
            continue
        if rep.outcome is None or not rep.outcome.changed:
            continue
        path = Path(rep.path)
        context = Path(kw["context"]) if kw.get("context") else path.parent
        if not kw["quiet"]:
            click.echo(f"building {rep.path} before and after ({builder})…", err=True)
        try:
            checked.append(
                verify_outcome(
                    path,
                    rep.path,
                    rep.outcome,
                    builder,
                    context_dir=context,
                    build_args=args,
                    target=target,
                    cache_check=cache_check,
                    keep_images=keep_images,
                    run=run_options,
                    variant=_only(run, rep.path, process_path),
                )
            )
        except BuilderError as exc:
            checked.append(VerifyResult(rep.path, status="error", message=str(exc)))
    return run, checked


def _only(run: _Run, path: str, process_path: Any) -> Any:
    """The fix of ``path`` with one code alone (to tell which fix breaks a start)."""

    def outcome_of(code: str) -> Any:
        opts = run.opts._replace(select=(code,), extend_select=(), cache_dir=None)
        return process_path(path, opts).outcome

    return outcome_of


@main.command()
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Use this configuration file (for its `cache-dir`).",
)
def clean(config_file: str | None) -> None:
    """Remove the results cache (the digest cache stays: see `--refresh`)."""
    from dockfix.run.results_cache import clean as remove_results
    from dockfix.run.results_cache import results_dir

    cache_dir = _cache_dir(config_file)
    try:
        removed = remove_results(cache_dir)
    except OSError as exc:
        click.echo(f"error: cannot remove {results_dir(cache_dir)}: {exc.strerror}", err=True)
        sys.exit(2)
    if removed is None:
        click.echo(f"No results cache at {results_dir(cache_dir)}.", err=True)
    else:
        click.echo(f"Removed {results_dir(cache_dir)} ({removed} files).", err=True)


@main.command()
@click.argument("code", required=False)
@click.option("--all", "show_all", is_flag=True, help="List every fixer.")
@click.option(
    "--hadolint-config",
    type=click.Path(exists=True, dir_okay=False),
    help="Show the rule as this hadolint configuration sets it.",
)
@click.option("--no-hadolint-config", is_flag=True, help="Do not read hadolint's configuration.")
def rule(
    code: str | None, show_all: bool, hadolint_config: str | None, no_hadolint_config: bool
) -> None:
    """Print a fixer's documentation (`dockfix rule DF102`), or list them all."""
    from dockfix.core.catalog import all_fixers, rule_page

    fixers = all_fixers()
    if show_all or not code:
        for c, f in fixers.items():
            off = "" if f.default_enabled else "  (off unless selected)"
            click.echo(f"{c}  {f.name:<28} {f.severity.value:<8} {f.summary}{off}")
        return
    key = code.upper()
    fx = fixers.get(key) or next((f for f in fixers.values() if f.name == code.lower()), None)
    if fx is None:
        click.echo(f"error: unknown rule `{code}`", err=True)
        sys.exit(2)
    hadolint = _hadolint_config(hadolint_config, no_hadolint_config)
    click.echo(rule_page(fx, _rule_settings(fx, hadolint)), nl=False)


@main.command()
@click.option(
    "--allow-network",
    is_flag=True,
    help="Let network fixers query registries (default: the digest cache only, as --offline).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Use this configuration file for every document.",
)
@click.option("--stdio", is_flag=True, hidden=True, help="Accepted for editors that pass it.")
def server(allow_network: bool, config_file: str | None, stdio: bool) -> None:
    """Run the language server (LSP, on stdin/stdout) for editors."""
    try:
        from dockfix.lsp_server import serve
    except ImportError as exc:
        if exc.name not in ("pygls", "lsprotocol") and "pygls" not in str(exc):
            raise
        click.echo(
            "error: `dockfix server` needs pygls; install it with: pip install 'dockfix[lsp]'",
            err=True,
        )
        sys.exit(2)
    serve(allow_network=allow_network, config_file=config_file)


def _rule_settings(fx: Any, hadolint: Any) -> str:
    """How the configuration of the working directory sets a rule, saying where each value
    came from."""
    from dockfix.run.config import ConfigError, find_config
    from dockfix.run.runner import severity_of

    try:
        cfg = find_config(".")
    except ConfigError as exc:
        click.echo(f"warning: {exc}", err=True)
        from dockfix.run.config import Config

        cfg = Config()
    severity, source = severity_of(None, fx, cfg, hadolint)
    security = " (security)" if fx.security else ""
    lines = [
        f"Severity: {severity}{security}, from {source}; set it with `[tool.dockfix.severity]`."
    ]
    ignored = sorted(set(fx.resolves.hadolint) & hadolint.ignored) if hadolint else []
    if ignored:
        whole = len(ignored) == len(set(fx.resolves.hadolint))
        lines.append(
            f"{'Off' if whole else 'Partly off'}: `ignored` in {hadolint.path} lists "
            f"{' '.join(ignored)}, which it resolves"
            + ("." if whole else "; its findings matching the other rules are reported.")
        )
    return "\n".join(lines) + "\n"


def _caused_by_interrupt(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(16):  # chains are short; a bound keeps a cyclic chain from looping
        if seen is None:
            return False
        if isinstance(seen, (KeyboardInterrupt, click.exceptions.Abort)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def entry() -> None:
    """The `dockfix` program: :func:`main`, then an immediate exit once the output is flushed.

    Nothing is left to clean up by then (files are written and closed, worker processes have
    stopped), and an interpreter shutdown would free a large run's objects one by one, which
    takes longer than the rest of the exit (mypy exits the same way)."""
    try:
        # Not click's standalone mode, which turns Ctrl-C into exit 1, the status of findings.
        code: object = main.main(standalone_mode=False)
    except click.exceptions.Abort:
        code = 130  # interrupted (128 + SIGINT), as shells report it
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except SystemExit as exc:
        code = exc.code
    except SystemError as exc:
        # Ctrl-C that lands while a C extension runs (BuildKit's Go parser, a compiled module)
        # surfaces as "returned a result with an exception set", the KeyboardInterrupt its cause.
        if not _caused_by_interrupt(exc):
            raise
        code = 130
    if isinstance(code, int):
        status = code
    elif code is None:
        status = 0
    else:  # sys.exit("message"), as Python itself reports it
        print(code, file=sys.stderr)
        status = 1
    for stream in (sys.stdout, sys.stderr):
        # A closed pipe (`dockfix check | head`): nothing more can be written.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)
