"""``dockfix server``: the findings of ``dockfix check`` in an editor, over the Language Server
Protocol on standard input and output.

For each open Dockerfile (a name discovery takes, or any document the editor calls
``dockerfile``) the findings are published as diagnostics when it is opened, changed or saved,
and cleared when it is closed. Code actions: each finding's own fix (the engine's, verified as
``dockfix fix`` verifies it; an unsafe one says so and is never the preferred action), an
ignore comment for the finding's instruction, and ``source.fixAll.dockfix``: what ``dockfix
fix`` would write.

The configuration is the command line's (the nearest ``dockfix.toml`` or ``pyproject.toml``,
or ``--config``), read afresh for every check. Registry lookups answer from the digest cache
only, as with ``--offline``, unless the server was started with ``--allow-network`` or the
client's initialization options say ``{"allowNetwork": true}``.

Only this module imports pygls (the ``lsp`` extra); the CLI imports it when ``server`` runs.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from dockfix import __version__
from dockfix.core.catalog import all_fixers, rule_page
from dockfix.core.edits import apply_edits, ignore_pragma_edit
from dockfix.core.engine import FixOutcome, fix_one
from dockfix.core.fixer import Applicability, FileChange, Finding, Severity
from dockfix.files.discovery import is_dockerfile_name
from dockfix.files.source_io import SourceError, write_atomic
from dockfix.registry.digest_cache import default_cache_path
from dockfix.run.config import (
    Config,
    ConfigError,
    find_config,
    forget_found_configs,
    load_config_file,
)
from dockfix.run.runner import RunOptions, fix_text_with
from dockfix.syntax import Dockerfile, parse_lossless

SOURCE = "dockfix"
FIX_ALL = "source.fixAll.dockfix"
LANGUAGE_IDS = frozenset({"dockerfile", "containerfile"})

_SEVERITIES = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
    Severity.STYLE: types.DiagnosticSeverity.Hint,
}


def diagnostic_severity(finding: Finding) -> types.DiagnosticSeverity:
    """A finding's severity (hadolint's grades) in the editor's terms."""
    return _SEVERITIES[finding.severity]


class _Positions:
    """Character offsets of a text as LSP positions: lines split as LSP splits them, columns
    counted in the units the client negotiated (UTF-16 by default)."""

    def __init__(self, text: str, units: Callable[[str], int]) -> None:
        self.text = text
        self.units = units
        self.starts = [0, *(m.end() for m in re.finditer(r"\r\n|\r|\n", text))]

    def at(self, offset: int) -> types.Position:
        line = bisect.bisect_right(self.starts, offset) - 1
        start = self.starts[line]
        return types.Position(line=line, character=self.units(self.text[start:offset]))

    def range(self, start: int, end: int) -> types.Range:
        return types.Range(start=self.at(start), end=self.at(end))


def _changed_span(old: str, new: str) -> tuple[int, int, str]:
    """The one region where ``new`` differs from ``old``: (start, end in ``old``, new text), so
    an edit leaves the cursor and the rest of the buffer alone."""
    limit = min(len(old), len(new))
    start = 0
    while start < limit and old[start] == new[start]:
        start += 1
    tail = 0
    while tail < limit - start and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    end = len(old) - tail
    # never between the two characters of a CRLF: LSP has no position there
    if 0 < start < len(old) and old[start - 1] == "\r" and old[start] == "\n":
        start -= 1
    if 0 < end < len(old) and old[end - 1] == "\r" and old[end] == "\n":
        end += 1
        tail -= 1
    return start, end, new[start : len(new) - tail]


class DockfixServer(LanguageServer):
    def __init__(self, *, allow_network: bool = False, config_file: str | None = None) -> None:
        super().__init__(
            "dockfix", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental
        )
        self.allow_network = allow_network
        self.config_file = config_file
        self.checked: set[str] = set()  # the open documents dockfix checks, by URI

    # --- running the engine -----------------------------------------------------------------
    def config_for(self, path: Path | None) -> Config:
        forget_found_configs()
        if self.config_file:
            return load_config_file(Path(self.config_file))
        return find_config(path.parent if path is not None else Path.cwd())

    def outcome(self, uri: str, text: str, *, apply: bool) -> FixOutcome:
        """``dockfix check`` (or ``fix``, with ``apply``) on an editor's text; raises
        ConfigError."""
        path = _path_of(uri)
        opts = RunOptions(
            offline=not self.allow_network, apply_fixes=apply, config_file=self.config_file
        )
        return fix_text_with(text, path, opts, self.config_for(path))

    def log(self, uri: str, message: str) -> None:
        self.window_log_message(
            types.LogMessageParams(type=types.MessageType.Warning, message=f"{uri}: {message}")
        )

    def units(self) -> Callable[[str], int]:
        return self.workspace.position_codec.client_num_units

    # --- diagnostics --------------------------------------------------------------------------
    def publish(self, uri: str) -> None:
        document = self.workspace.get_text_document(uri)
        text = document.source
        positions = _Positions(text, self.units())
        try:
            out = self.outcome(uri, text, apply=False)
        except ConfigError as exc:
            diagnostics = [_file_diagnostic(f"configuration error: {exc}")]
        else:
            for warning in out.warnings:
                self.log(uri, warning)
            if out.error:
                diagnostics = [_file_diagnostic(out.error)]
            else:
                tree = parse_lossless(text)
                diagnostics = [_diagnostic(f, _span(tree, f), positions) for f in out.findings]
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri, diagnostics=diagnostics, version=document.version
            )
        )

    def clear(self, uri: str) -> None:
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )

    # --- code actions -------------------------------------------------------------------------
    def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        if uri not in self.checked:
            return []
        document = self.workspace.get_text_document(uri)
        text = document.source
        only = params.context.only
        actions: list[types.CodeAction] = []
        try:
            if _wanted(types.CodeActionKind.QuickFix, only):
                actions.extend(self.quick_fixes(uri, document.version, text, params.range))
            if _wanted(FIX_ALL, only):
                actions.extend(self.fix_all(uri, document.version, text))
        except ConfigError:
            return []  # the diagnostic on the file says why
        return actions

    def quick_fixes(
        self, uri: str, version: int | None, text: str, where: types.Range
    ) -> list[types.CodeAction]:
        out = self.outcome(uri, text, apply=False)
        tree = parse_lossless(text)
        positions = _Positions(text, self.units())
        fixes: list[types.CodeAction] = []
        ignores: list[types.CodeAction] = []
        for f in out.findings:
            span = _span(tree, f)
            diagnostic = _diagnostic(f, span, positions)
            if not _overlaps(diagnostic.range, where):
                continue
            if f.fix is not None and f.fixable:
                fixed, refused = fix_one(tree, f)
                if refused is not None:
                    self.log(uri, f"{f.code} proposed a fix that was not offered: {refused}")
                else:
                    unsafe = f.fix.applicability is Applicability.UNSAFE
                    what = f.fix.description or f.message
                    fixes.append(
                        types.CodeAction(
                            title=f"Fix {f.code}: {what}" + (" (unsafe)" if unsafe else ""),
                            kind=types.CodeActionKind.QuickFix,
                            diagnostics=[diagnostic],
                            is_preferred=not unsafe,
                            edit=self.edit(uri, version, text, fixed, f.fix.file_changes),
                        )
                    )
            instr = tree.instruction_at_line(f.line)
            pragma = None if instr is None else ignore_pragma_edit(tree, instr, [f.code])
            if pragma is not None:
                ignored = apply_edits(text, [pragma])
                ignores.append(
                    types.CodeAction(
                        title=f"Ignore {f.code} for this instruction (# dockfix ignore={f.code})",
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[diagnostic],
                        edit=self.edit(uri, version, text, ignored),
                    )
                )
        return fixes + ignores

    def fix_all(self, uri: str, version: int | None, text: str) -> list[types.CodeAction]:
        out = self.outcome(uri, text, apply=True)
        if out.error or not out.changed:
            return []
        unsafe = any(f.applicability is Applicability.UNSAFE for f in out.applied)
        title = "dockfix: apply all " + ("fixes (unsafe included)" if unsafe else "safe fixes")
        return [
            types.CodeAction(
                title=title,
                kind=FIX_ALL,
                edit=self.edit(uri, version, text, out.fixed, out.file_changes),
            )
        ]

    def edit(
        self,
        uri: str,
        version: int | None,
        old: str,
        new: str,
        file_changes: Sequence[FileChange] = (),
    ) -> types.WorkspaceEdit:
        """The document's change, and the other files a fix writes (a new ``.dockerignore``)."""
        edits = [self.text_edit(old, new)] if new != old else []
        if not file_changes:
            return types.WorkspaceEdit(changes={uri: edits})
        changes: list[Any] = []
        if edits:
            changes.append(_document_edit(uri, version, edits))
        for ch in file_changes:
            other = from_fs_path(str(ch.path.absolute())) or ch.path.as_uri()
            if ch.original is None:
                changes.append(types.CreateFile(uri=other))
            changes.append(
                _document_edit(other, None, [self.text_edit(ch.original or "", ch.content)])
            )
        return types.WorkspaceEdit(document_changes=changes)

    def text_edit(self, old: str, new: str) -> types.TextEdit:
        start, end, replacement = _changed_span(old, new)
        return types.TextEdit(
            range=_Positions(old, self.units()).range(start, end), new_text=replacement
        )

    # --- the rule text behind each diagnostic's link --------------------------------------------
    def hover(self, params: types.HoverParams) -> types.Hover | None:
        uri = params.text_document.uri
        if uri not in self.checked:
            return None
        text = self.workspace.get_text_document(uri).source
        try:
            out = self.outcome(uri, text, apply=False)
        except ConfigError:
            return None
        line = params.position.line + 1
        codes = sorted({f.code for f in out.findings if f.line <= line <= (f.end_line or f.line)})
        if not codes:
            return None
        return types.Hover(
            contents=types.MarkupContent(
                kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(map(rule_text, codes))
            )
        )


def rule_text(code: str) -> str:
    """What ``dockfix rule CODE`` prints."""
    fixer = all_fixers().get(code)
    return rule_page(fixer) if fixer is not None else f"# {code}\n"


def rule_uri(code: str) -> str | None:
    """A file holding ``dockfix rule CODE``'s text (written once per version, in the user's
    cache directory), for the link in each diagnostic; None if it cannot be written."""
    path = default_cache_path().parent / "rules" / __version__ / f"{code}.md"
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, rule_text(code), expected_digest=None)
        except (OSError, SourceError):
            if not path.exists():
                return None
    return path.as_uri()


def _path_of(uri: str) -> Path | None:
    fs = to_fs_path(uri)
    return Path(fs) if fs else None


def _span(tree: Dockerfile, f: Finding) -> tuple[int, int]:
    """A finding's character range in the text it was found on."""
    count = len(tree.lines)
    if not count:
        return 0, 0
    first = tree.line(min(max(f.line, 1), count))
    start = min(first.start + max(f.column - 1, 0), first.end)
    last = tree.line(min(max(f.end_line or f.line, f.line, 1), count))
    end = last.end if f.end_column is None else min(last.start + f.end_column - 1, last.end)
    if start == 0 and tree.has_bom:
        start = 1
    return start, max(end, start)


def _diagnostic(f: Finding, span: tuple[int, int], positions: _Positions) -> types.Diagnostic:
    message = f.message
    if f.reason and not f.fixable:
        message += f"\nNot fixed: {f.reason}"
    link = rule_uri(f.code)
    return types.Diagnostic(
        range=positions.range(*span),
        message=message,
        severity=diagnostic_severity(f),
        code=f.code,
        code_description=types.CodeDescription(href=link) if link else None,
        source=SOURCE,
    )


def _file_diagnostic(message: str) -> types.Diagnostic:
    at = types.Position(line=0, character=0)
    return types.Diagnostic(
        range=types.Range(start=at, end=at),
        message=message,
        severity=types.DiagnosticSeverity.Error,
        source=SOURCE,
    )


def _document_edit(
    uri: str, version: int | None, edits: list[types.TextEdit]
) -> types.TextDocumentEdit:
    return types.TextDocumentEdit(
        text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
        edits=list(edits),
    )


def _overlaps(a: types.Range, b: types.Range) -> bool:
    return (a.start.line, a.start.character) <= (b.end.line, b.end.character) and (
        b.start.line,
        b.start.character,
    ) <= (a.end.line, a.end.character)


def _wanted(kind: str, only: Sequence[str] | None) -> bool:
    """Whether the client asked for actions of ``kind`` (``only`` lists kinds or prefixes)."""
    if not only:
        return True
    name = _kind_name(kind)
    return any(name == k or name.startswith(k + ".") for k in map(_kind_name, only))


def _kind_name(kind: str) -> str:
    return kind.value if isinstance(kind, types.CodeActionKind) else kind


def _is_dockerfile(uri: str, language_id: str | None) -> bool:
    name = uri.rstrip("/").rsplit("/", 1)[-1]
    return (language_id or "").lower() in LANGUAGE_IDS or is_dockerfile_name(name)


def make_server(*, allow_network: bool = False, config_file: str | None = None) -> DockfixServer:
    server = DockfixServer(allow_network=allow_network, config_file=config_file)

    @server.feature(types.INITIALIZE)
    def initialize(ls: DockfixServer, params: types.InitializeParams) -> None:
        options = params.initialization_options
        if isinstance(options, dict) and options.get("allowNetwork") is True:
            ls.allow_network = True

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: DockfixServer, params: types.DidOpenTextDocumentParams) -> None:
        doc = params.text_document
        if _is_dockerfile(doc.uri, doc.language_id):
            ls.checked.add(doc.uri)
            ls.publish(doc.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: DockfixServer, params: types.DidChangeTextDocumentParams) -> None:
        if params.text_document.uri in ls.checked:
            ls.publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: DockfixServer, params: types.DidSaveTextDocumentParams) -> None:
        if params.text_document.uri in ls.checked:
            ls.publish(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: DockfixServer, params: types.DidCloseTextDocumentParams) -> None:
        if params.text_document.uri in ls.checked:
            ls.checked.discard(params.text_document.uri)
            ls.clear(params.text_document.uri)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]),
    )
    def code_action(ls: DockfixServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        return ls.code_actions(params)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: DockfixServer, params: types.HoverParams) -> types.Hover | None:
        return ls.hover(params)

    return server


def serve(*, allow_network: bool = False, config_file: str | None = None) -> None:
    """Answer one client on standard input and output until it exits."""
    make_server(allow_network=allow_network, config_file=config_file).start_io()
