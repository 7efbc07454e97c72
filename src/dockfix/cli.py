"""The ``dockfix`` command line, shaped like ruff: ``check``, ``fix``, ``rule``.

Exit codes: ``check`` 0 no findings, 1 findings; ``fix`` (dry run) 0 no diff, 1 a diff;
``fix --write`` 0 (1 with ``--exit-non-zero-on-fix`` when something changed); 2 for any
error (a file that cannot be read or parsed, bad configuration), after every other file was
processed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import click

from dockfix import __version__

_COMMON = [
    click.argument("paths", nargs=-1, type=click.Path(path_type=str)),
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
        "--context",
        type=click.Path(file_okay=False),
        help="Build context directory (default: the Dockerfile's).",
    ),
    click.option(
        "--stdin-filename", help="The path to report for a Dockerfile read from standard input."
    ),
    click.option(
        "--output-format",
        type=click.Choice(["full", "concise", "json", "json-lines", "sarif", "github"]),
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
    click.option("--quiet", "-q", is_flag=True, help="Print only what the format requires."),
    click.option("--verbose", "-v", is_flag=True, help="Also print files without findings."),
]


_SARIF_ROOT = click.option(
    "--sarif-root",
    type=click.Path(exists=True, file_okay=False),
    help="Directory SARIF URIs are relative to (default: the files' git work tree).",
)


def _common(f: Any) -> Any:
    for deco in reversed(_COMMON):
        f = deco(f)
    return f


PROGRESS_MIN_FILES = 200  # a progress bar for shorter runs only flickers


def _split(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(v.strip() for v in value.split(",") if v.strip())


class _Run:
    """State shared by ``check`` and ``fix``: options, reports, exit status."""

    def __init__(self, kw: dict[str, Any], apply_fixes: bool, refresh: bool = False) -> None:
        from dockfix.runner import RunOptions

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
        )
        self.errors: list[str] = []
        self.notes: list[str] = []  # one line each, shown once per run (--commit runs often)
        self._shown_notes: set[str] = set()
        # What `fix` changes, by the Dockerfile's path: (path, original or None, new) of the
        # Dockerfile and of each other file its fixes edit; and the Dockerfiles written.
        self.file_edits: dict[str, list[tuple[str, str | None, str]]] = {}
        self.written: set[str] = set()

    def validate(self) -> None:
        from dockfix.catalog import SelectionError, resolve_code
        from dockfix.config import ConfigError, load_config_file

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

    def reports(self, each: Callable[[Any], None] | None = None) -> list[Any]:
        """Every file's report; ``each`` is called with each one as soon as it is done."""
        out = []
        for rep in self._reports():
            if each is not None:
                each(rep)
            out.append(rep)
        for note in self.notes:
            if note not in self._shown_notes:
                self._shown_notes.add(note)
                click.echo(f"note: {note}", err=True)
        if self.kw["verbose"]:
            for rep in out:
                n = len(rep.outcome.findings) if rep.outcome is not None else 0
                click.echo(f"{rep.path}: {'error' if rep.error else f'{n} findings'}", err=True)
        return out

    def _reports(self) -> Iterator[Any]:
        from dockfix.config import ConfigError
        from dockfix.runner import FileReport, display_path, fix_text_with, process_paths

        _tune_gc()
        paths: Sequence[str] = self.kw["paths"] or (".",)
        if "-" in paths:
            data = sys.stdin.buffer.read()
            name = self.kw["stdin_filename"]
            rep = FileReport(display_path(Path(name)) if name else "-", from_stdin=True)
            from dockfix.source_io import SourceError, decode

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
            from dockfix.runner import one_path_per_file

            # a progress bar needs the total first (a symlink and its target: one file)
            files = list(one_path_per_file(self._discover(paths), self.notes))
            results = process_paths(files, self.opts, jobs, self.notes)
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
            yield from process_paths(self._discover(paths), self.opts, jobs, self.notes)

    def _discover(self, paths: Sequence[str]) -> Iterator[str]:
        from dockfix.config import Config, ConfigError, note_listing
        from dockfix.discovery import iter_dockerfile_paths
        from dockfix.runner import _config_for

        # The walk asks about every entry: each directory's configuration is looked up once,
        # and the usual one, without `exclude`, is remembered as None.
        by_dir: dict[str, Config | None] = {}

        def excluded(p: str) -> bool:
            directory = os.path.dirname(p)
            try:
                cfg = by_dir[directory]
            except KeyError:
                try:
                    found = _config_for(directory or ".", self.opts.config_file)
                except ConfigError:
                    found = None
                cfg = by_dir[directory] = found if found is not None and found.exclude else None
            return cfg is not None and cfg.is_excluded(p)

        seen: set[str] = set()  # `dockfix fix --write . Dockerfile` takes the file once
        for raw in paths:
            p = Path(raw)
            if not p.exists() and not p.is_symlink():
                self.errors.append(f"{raw}: no such file or directory")
                continue
            try:
                cfg = _config_for(str(p if p.is_dir() else p.parent), self.opts.config_file)
            except ConfigError as exc:
                self.errors.append(f"error: {exc}")
                continue
            yield from iter_dockerfile_paths(
                [raw],
                respect_gitignore=cfg.respect_gitignore,
                excluded=excluded,
                seen=seen,
                listed=note_listing,
            )


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
def check(failure_threshold: str | None, **kw: Any) -> None:
    """List findings (`path:line:col: CODE [*] severity: message`; [*] where a fix is
    available)."""
    from dockfix.report import join_full_files, render, render_full_file, statistics

    run = _Run(kw, apply_fixes=False)
    run.validate()
    unsafe = bool(run.opts.unsafe_fixes)
    fmt = kw["output_format"] or "full"
    # The full output is rendered file by file while the others are still being checked.
    parts: list[tuple[str, str]] = []

    def render_one(rep: Any) -> None:
        if not rep.error and rep.outcome is not None and rep.outcome.findings:
            parts.append(
                (rep.path, render_full_file(rep.outcome.findings, unsafe, rep.outcome.original))
            )

    full = fmt == "full" and not kw["statistics"]
    reports = run.reports(render_one if full else None)
    findings = []
    sources: dict[str, str] = {}
    for rep in reports:
        _run_warnings(rep)
        if rep.error:
            run.errors.append(f"{rep.path}: {rep.error}")
            continue
        if rep.outcome is not None:
            findings.extend(rep.outcome.findings)
            sources[rep.path] = rep.outcome.original
            for w in rep.outcome.warnings:
                click.echo(f"warning: {rep.path}: {w}", err=True)
    if kw["statistics"]:
        click.echo(statistics(findings, unsafe), nl=False)
    elif full and len({path for path, _ in parts}) == len(parts):
        click.echo(join_full_files(parts), nl=False)
    else:
        click.echo(render(findings, fmt, unsafe, sources, kw["sarif_root"]), nl=False)
    failing = [f for f in findings if _fails(f, failure_threshold, run.opts.config_file)]
    if fmt in ("full", "concise") and not kw["quiet"]:
        _summary_check(findings, sum(1 for r in reports if not r.error), unsafe, bool(run.errors))
        if len(failing) < len(findings):
            click.echo(f"{len(findings) - len(failing)} below the failure threshold.", err=True)
    _finish(run.errors, 1 if failing and not kw["exit_zero"] else 0)


def _fails(finding: Any, threshold: str | None, config_file: str | None) -> bool:
    """Whether a finding fails `check`: its severity against --failure-threshold, else against
    the `failure-threshold` of its file's configuration (default: every finding fails)."""
    from dockfix.config import ConfigError
    from dockfix.fixer import fails
    from dockfix.runner import _config_for

    if threshold is None:
        try:
            cfg = _config_for(os.path.dirname(finding.path) or ".", config_file)
        except ConfigError:
            cfg = None  # reported with the file
        threshold = cfg.failure_threshold if cfg is not None else None
    return fails(finding.severity, threshold or "style")


def _run_warnings(rep: Any) -> None:
    """Warnings about the whole run (they come with its first report): said before the rest."""
    for w in rep.run_warnings:
        click.echo(f"warning: {w}", err=True)


def _summary_check(findings: list[Any], nfiles: int, unsafe: bool, errors: bool) -> None:
    from dockfix.engine import fixable_summary

    if not findings:
        what = "No findings" if errors else "All checks passed"
        click.echo(f"{what} ({nfiles} file{'s' if nfiles != 1 else ''} checked).", err=True)
        return
    now, more = fixable_summary(findings, unsafe)
    msg = f"Found {len(findings)} finding{'s' if len(findings) != 1 else ''} in {nfiles} files."
    if now:
        msg += f"\n[*] {now} fixable with `dockfix fix`."
    if more:
        msg += f"\n[-] {more} more fixable with `dockfix fix --unsafe-fixes`."
    click.echo(msg, err=True)


def _finish(errors: list[str], status: int) -> None:
    for e in errors:
        click.echo(e, err=True)
    sys.exit(2 if errors else status)


@main.command()
@_common
@_SARIF_ROOT
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
    **kw: Any,
) -> None:
    """Apply fixes: print a diff (dry run, default) or edit in place with --write."""
    from dockfix.engine import fixable_summary
    from dockfix.report import STRUCTURED_FORMATS, render, render_fix, statistics

    run = _Run(kw, apply_fixes=True, refresh=refresh)
    run.validate()
    if branch and not commit:
        raise click.UsageError("--branch goes with --commit")
    if force_branch and not branch:
        raise click.UsageError("--force-branch goes with --branch")
    unsafe = bool(run.opts.unsafe_fixes)
    verified: list[Any] = []
    commits: list[Any] = []
    if commit:
        mode = "write"
        if verify_builds:
            # the whole fix, in memory, before anything is committed: what the branch will hold
            verified = _verify_reports(kw, None, (), None, False, False, run.reports())[1]
        applied, left, changed, commits = _fix_with_commits(
            run, branch, force_branch, allow_dirty, kw
        )
    else:
        reports = run.reports()
        if verify_builds:
            verified = _verify_reports(kw, None, (), None, False, False, reports)[1]
        applied, left, changed = _fix_pass(run, reports, mode, kw)
    for r in verified:
        click.echo(r.format_text(), err=True)
        if r.status in ("defect", "differs"):
            run.errors.append(f"{r.path}: verification failed ({r.status})")
    fmt = kw["output_format"]
    if fmt in STRUCTURED_FORMATS:
        dry_run = mode == "diff"
        doc = render_fix(fmt, applied, left, run.file_edits, run.written, dry_run, kw["sarif_root"])
        click.echo(doc, nl=False)
    elif fmt is not None:
        click.echo(render(left, fmt, unsafe, {}), nl=False)
    if kw["diff_file"] is not None:
        _write_diff_file(run, kw["diff_file"], mode)
    if kw["statistics"]:
        click.echo(statistics(left, unsafe), nl=False, err=mode == "diff" or fmt is not None)
    if pr_body is not None:
        import contextlib

        from dockfix.config import ConfigError
        from dockfix.prbody import write_pr_body
        from dockfix.runner import _config_for
        from dockfix.verify import pr_section

        if pr_body_limit is None:
            with contextlib.suppress(ConfigError):  # a bad file is reported with the files
                pr_body_limit = _config_for(".", run.opts.config_file).pr_body_limit
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
    if kw["exit_zero"]:
        status = 0
    elif mode == "diff":
        status = 1 if changed else 0
    else:
        status = 1 if (exit_non_zero_on_fix and changed) else 0
    _finish(run.errors, status)


def _offline_skips(left: list[Any]) -> None:
    """What ``--offline`` left unfixed and why (``check`` shows it with each finding)."""
    from dockfix.catalog import all_fixers

    fixers = all_fixers()
    for f in left:
        fixer = fixers.get(f.code)
        if fixer is not None and fixer.needs_network and not f.fixable and "offline" in f.reason:
            where = f"{f.path}:{f.line}:{f.column}"
            click.echo(f"{where}: {f.code} {f.message} (not fixed: {f.reason})", err=True)


def _fix_pass(
    run: _Run, reports: list[Any], mode: str, kw: dict[str, Any]
) -> tuple[list[Any], list[Any], int]:
    """Show or write one run's results; returns (applied, left, files changed)."""
    from dockfix.runner import display_path, write_file_change, write_fixed_text

    applied: list[Any] = []
    left: list[Any] = []
    changed = 0
    proposed: dict[Path, str] = {}
    for rep in reports:
        _run_warnings(rep)
        if rep.error:
            run.errors.append(f"{rep.path}: {rep.error}")
            continue
        out = rep.outcome
        if out is None:
            continue
        for w in out.warnings:
            click.echo(f"warning: {rep.path}: {w}", err=True)
        left.extend(out.findings)
        applied.extend(out.applied)
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
        changed += 1
        if mode == "diff":
            continue
        write_fixed_text(rep)
        for ch in fresh:
            write_file_change(ch, rep)
        run.errors.extend(rep.write_errors)
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
    from dockfix.report import STRUCTURED_FORMATS

    return kw.get("output_format") not in STRUCTURED_FORMATS and kw.get("diff_file") is None


def _diff_text(run: _Run, mode: str) -> str:
    """The unified diff of what `fix` would change (with --write: of what it wrote)."""
    from dockfix.diffing import unified_diff

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
    from dockfix.catalog import all_fixers
    from dockfix.gitops import (
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
        from dockfix.gitops import revert_note

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
    pr_body: Path | None,
    **kw: Any,
) -> None:
    """Build each fixable Dockerfile before and after its fixes and compare the images."""
    run, checked = _verify_reports(kw, builder_name, build_arg, target, cache_check, keep_images)
    fmt = kw["output_format"] or "full"
    if fmt == "json":
        import json

        click.echo(json.dumps([r.to_dict() for r in checked], indent=2, ensure_ascii=False))
    else:
        for r in checked:
            click.echo(r.format_text() + "\n")
    if pr_body is not None:
        from dockfix.verify import pr_section

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
    _finish(run.errors, 1 if any(r.status in ("defect", "differs") for r in checked) else 0)


def _verify_reports(
    kw: dict[str, Any],
    builder_name: str | None,
    build_arg: tuple[str, ...],
    target: str | None,
    cache_check: bool,
    keep_images: bool,
    reports: list[Any] | None = None,
) -> tuple[_Run, list[Any]]:
    from dockfix.builders import BuilderError, find_builder
    from dockfix.verify import VerifyResult, verify_outcome

    args: dict[str, str] = {}
    for item in build_arg:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.UsageError(f"--build-arg {item!r}: expected KEY=VALUE")
        args[key] = value
    run = _Run(kw, apply_fixes=True)
    run.validate()
    try:
        builder = find_builder(builder_name)
    except BuilderError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if reports is None:
        reports = run.reports()
    checked: list[VerifyResult] = []
    for rep in reports:
        if rep.error:
            run.errors.append(f"{rep.path}: {rep.error}")
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
                )
            )
        except BuilderError as exc:
            checked.append(VerifyResult(rep.path, status="error", message=str(exc)))
    return run, checked


@main.command()
@click.argument("code", required=False)
@click.option("--all", "show_all", is_flag=True, help="List every fixer.")
def rule(code: str | None, show_all: bool) -> None:
    """Print a fixer's documentation (`dockfix rule DF102`), or list them all."""
    from dockfix.catalog import all_fixers, rule_page

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
    click.echo(rule_page(fx), nl=False)


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


def entry() -> None:
    """The `dockfix` program: :func:`main`, then an immediate exit once the output is flushed.

    Nothing is left to clean up by then (files are written and closed, worker processes have
    stopped), and an interpreter shutdown would free a large run's objects one by one, which
    takes longer than the rest of the exit (mypy exits the same way)."""
    try:
        main()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    if isinstance(code, int):
        status = code
    elif code is None:
        status = 0
    else:  # sys.exit("message"), as Python itself reports it
        print(code, file=sys.stderr)
        status = 1
    import contextlib

    for stream in (sys.stdout, sys.stderr):
        # A closed pipe (`dockfix check | head`): nothing more can be written.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)
