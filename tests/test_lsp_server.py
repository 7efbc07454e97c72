"""`dockfix server` end to end: a real LSP client (pytest-lsp) talks to the server started as
`python -m dockfix server` over stdio, and every edit it returns is applied to the text and
compared with what the command line writes for the same file."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

# DF102 (safe), DF105 and DF401 (unsafe), DF201 (unsafe), DF202 (display-only offline);
# CRLF line endings and an indented RUN.
SOURCE = (
    "FROM ubuntu:22.04\r\n"
    "  RUN apt-get update\r\n"
    "RUN apt-get install -y curl\r\n"
    "CMD python app.py\r\n"
)


SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "dockfix", "server"])


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient) -> AsyncIterator[None]:
    yield
    await lsp_client.shutdown_session()


async def start(client: LanguageClient, options: dict[str, object] | None = None) -> None:
    await client.initialize_session(
        types.InitializeParams(
            capabilities=pytest_lsp.client_capabilities("visual-studio-code"),
            initialization_options=options,
        )
    )


async def open_doc(
    client: LanguageClient, path: Path, text: str, language_id: str = "dockerfile"
) -> dict[str, types.Diagnostic]:
    """Open a document; its diagnostics by code."""
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language_id, version=1, text=text
            )
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return by_code(client.diagnostics[uri])


async def actions_at(
    client: LanguageClient, path: Path, diagnostic: types.Diagnostic, only: Sequence[str] | None
) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri()),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic], only=only),
        )
    )
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


async def titled(
    client: LanguageClient, path: Path, diagnostic: types.Diagnostic, prefix: str
) -> list[types.CodeAction]:
    """The quick fixes at a diagnostic whose title starts with ``prefix``."""
    actions = await actions_at(client, path, diagnostic, ["quickfix"])
    return [a for a in actions if a.title.startswith(prefix)]


def offset(text: str, pos: types.Position) -> int:
    """An LSP position in ``text`` (ASCII here, so UTF-16 units are characters)."""
    lines = text.splitlines(keepends=True)
    return sum(len(line) for line in lines[: pos.line]) + pos.character


def apply(text: str, edit: types.WorkspaceEdit, uri: str) -> str:
    assert edit.changes is not None
    for e in sorted(edit.changes[uri], key=lambda e: offset(text, e.range.start), reverse=True):
        text = text[: offset(text, e.range.start)] + e.new_text + text[offset(text, e.range.end) :]
    return text


def cli_fix(path: Path, text: str, *args: str) -> str:
    """What `dockfix fix` writes for ``text`` at ``path`` (standard input, same config)."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dockfix",
            "fix",
            "--write",
            "--offline",
            *args,
            "--stdin-filename",
            str(path),
            "-",
        ],
        input=text.encode(),
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return proc.stdout.decode()


def by_code(diagnostics: Sequence[types.Diagnostic]) -> dict[str, types.Diagnostic]:
    return {str(d.code): d for d in diagnostics}


@pytest.mark.asyncio
async def test_diagnostics_carry_code_range_severity_and_rule_text(
    client: LanguageClient, tmp_path: Path
) -> None:
    await start(client)
    diagnostics = await open_doc(client, tmp_path / "Dockerfile", SOURCE)
    assert set(diagnostics) == {"DF102", "DF105", "DF108", "DF201", "DF202", "DF401"}
    update = diagnostics["DF102"]
    assert (update.range.start.line, update.range.start.character) == (1, 0)
    assert (update.range.end.line, update.range.end.character) == (1, len("  RUN apt-get update"))
    assert update.severity == types.DiagnosticSeverity.Warning
    assert update.source == "dockfix"
    assert update.code_description is not None
    linked = Path(update.code_description.href.removeprefix("file://")).read_text()
    rule = subprocess.run(
        [sys.executable, "-m", "dockfix", "rule", "DF102"], capture_output=True, check=True
    )
    assert linked == rule.stdout.decode()
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=(tmp_path / "Dockerfile").as_uri()),
            position=types.Position(line=1, character=4),
        )
    )
    assert hover is not None and "# DF102 apt-update-alone" in str(hover.contents)


@pytest.mark.asyncio
async def test_quick_fix_is_the_engine_fix_and_unsafe_ones_say_so(
    client: LanguageClient, tmp_path: Path
) -> None:
    await start(client)
    path = tmp_path / "Dockerfile"
    diagnostics = await open_doc(client, path, SOURCE)
    safe = await titled(client, path, diagnostics["DF102"], "Fix DF102")
    assert len(safe) == 1 and safe[0].is_preferred and "(unsafe)" not in safe[0].title
    assert safe[0].edit is not None
    fixed = apply(SOURCE, safe[0].edit, path.as_uri())
    assert fixed == cli_fix(path, SOURCE, "--select", "DF102")
    assert fixed != SOURCE
    unsafe = await titled(client, path, diagnostics["DF105"], "Fix DF105")
    assert len(unsafe) == 1 and unsafe[0].title.endswith("(unsafe)")
    assert not unsafe[0].is_preferred
    assert unsafe[0].edit is not None
    assert apply(SOURCE, unsafe[0].edit, path.as_uri()) == cli_fix(
        path, SOURCE, "--select", "DF105", "--unsafe-fixes"
    )
    # display-only offline: nothing to apply, only the ignore comment
    assert await titled(client, path, diagnostics["DF202"], "Fix DF202") == []


@pytest.mark.asyncio
async def test_fix_all_equals_dockfix_fix(client: LanguageClient, tmp_path: Path) -> None:
    await start(client)
    path = tmp_path / "Dockerfile"
    diagnostics = await open_doc(client, path, SOURCE)
    actions = await actions_at(client, path, diagnostics["DF102"], ["source.fixAll"])
    assert [a.kind for a in actions] == ["source.fixAll.dockfix"]
    assert actions[0].edit is not None
    fixed = apply(SOURCE, actions[0].edit, path.as_uri())
    assert fixed == cli_fix(path, SOURCE)
    assert "apt-get update && apt-get install" in fixed and "\r\n" in fixed


@pytest.mark.asyncio
async def test_ignore_comment_silences_the_code_on_recheck(
    client: LanguageClient, tmp_path: Path
) -> None:
    await start(client)
    path = tmp_path / "Dockerfile"
    diagnostics = await open_doc(client, path, SOURCE)
    ignore = await titled(client, path, diagnostics["DF102"], "Ignore DF102")
    assert len(ignore) == 1 and ignore[0].edit is not None
    text = apply(SOURCE, ignore[0].edit, path.as_uri())
    # the instruction's indentation and the file's CRLF
    assert text.splitlines(keepends=True)[1:3] == [
        "  # dockfix ignore=DF102\r\n",
        "  RUN apt-get update\r\n",
    ]
    # sent as an editor sends it: the range that changed, as the action's edit gives it
    assert ignore[0].edit.changes is not None
    [edit] = ignore[0].edit.changes[path.as_uri()]
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=path.as_uri(), version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(range=edit.range, text=edit.new_text)
            ],
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    after = by_code(client.diagnostics[path.as_uri()])
    assert "DF102" not in after
    assert {"DF105", "DF201"} <= set(after)
    assert (after["DF105"].range.start.line, after["DF105"].range.start.character) == (3, 0)


@pytest.mark.asyncio
async def test_configuration_beside_the_document_and_its_edits(
    client: LanguageClient, tmp_path: Path
) -> None:
    (tmp_path / "dockfix.toml").write_text('ignore = ["DF201"]\n')
    await start(client)
    path = tmp_path / "svc.dockerfile"
    codes = set(await open_doc(client, path, SOURCE))
    assert "DF201" not in codes and "DF102" in codes
    # an edited configuration applies from the next check on, without a restart
    (tmp_path / "dockfix.toml").write_text('ignore = ["DF201", "DF102"]\n')
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(path.as_uri()))
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert {"DF201", "DF102"}.isdisjoint(by_code(client.diagnostics[path.as_uri()]))


@pytest.mark.asyncio
async def test_documents_by_language_id_and_close_clears(
    client: LanguageClient, tmp_path: Path
) -> None:
    await start(client)
    notes = tmp_path / "notes.txt"
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=notes.as_uri(), language_id="plaintext", version=1, text=SOURCE
            )
        )
    )
    build = tmp_path / "build.txt"  # not a Dockerfile name, but the editor says it is one
    assert "DF102" in await open_doc(client, build, SOURCE, language_id="dockerfile")
    assert notes.as_uri() not in client.diagnostics  # notifications arrive in order
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(build.as_uri()))
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(client.diagnostics[build.as_uri()]) == []


class _Listener:
    """A TCP port that counts the connections made to it (a registry that never answers)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()


@pytest.mark.parametrize("allow_network", [False, True])
@pytest.mark.asyncio
async def test_registry_lookups_stay_offline_unless_allowed(
    client: LanguageClient, tmp_path: Path, allow_network: bool
) -> None:
    registry = _Listener()
    host = f"127.0.0.1:{registry.port}"
    (tmp_path / "dockfix.toml").write_text(f'insecure-registries = ["{host}"]\n')
    await start(client, {"allowNetwork": True} if allow_network else None)
    text = f"FROM {host}/team/app:1.0\nUSER app\n"
    diagnostics = await open_doc(client, tmp_path / "Dockerfile", text)
    assert "DF202" in diagnostics
    registry.sock.close()
    # the positive case shows the listener would have seen a lookup
    assert (registry.connections > 0) is allow_network
    if not allow_network:
        assert "offline" in diagnostics["DF202"].message


def test_server_without_pygls_says_how_to_install_it() -> None:
    code = (
        "import sys; sys.modules['pygls'] = None; sys.argv = ['dockfix', 'server'];"
        "from dockfix.cli import entry; entry()"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, check=False, timeout=60
    )
    assert proc.returncode == 2
    assert "pip install 'dockfix[lsp]'" in proc.stderr.decode()


def test_version_does_not_import_the_server() -> None:
    code = (
        "import sys; sys.argv = ['dockfix', '--version'];"
        "from dockfix.cli import main\n"
        "try: main()\n"
        "except SystemExit: pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pygls', 'lsprotocol')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, timeout=60)
    assert proc.stdout.decode().splitlines()[-1] == "[]"


@pytest.mark.asyncio
async def test_a_fix_that_creates_another_file(client: LanguageClient, tmp_path: Path) -> None:
    (tmp_path / "dockfix.toml").write_text('extend-select = ["DF204"]\n')
    (tmp_path / ".git").mkdir()
    (tmp_path / ".env").write_text("TOKEN=x\n")
    await start(client)
    path = tmp_path / "Dockerfile"
    text = "FROM python:3.12\nCOPY . /app\n"
    diagnostics = await open_doc(client, path, text)
    [action] = await titled(client, path, diagnostics["DF204"], "Fix DF204")
    assert action.title.endswith("(unsafe)")
    assert action.edit is not None and action.edit.document_changes is not None
    create, write = action.edit.document_changes
    ignore_file = tmp_path / ".dockerignore"
    assert isinstance(create, types.CreateFile) and create.uri == ignore_file.as_uri()
    assert isinstance(write, types.TextDocumentEdit)
    assert write.text_document.uri == ignore_file.as_uri()
    [insert] = write.edits
    assert not ignore_file.exists()
    path.write_text(text)
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "dockfix",
            "fix",
            "--write",
            "--offline",
            "--unsafe-fixes",
            "--select",
            "DF204",
            str(path),
        ],
        capture_output=True,
        check=False,
        timeout=120,
        input=b"",
    )
    assert ignore_file.read_text() == insert.new_text, cli.stderr


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # merged into the pragma already there (codes sorted), its spacing and line ending kept
        (
            "FROM a\r\n# dockfix ignore=DF105 \r\nRUN apt-get update\r\n",
            "FROM a\r\n# dockfix ignore=DF102,DF105 \r\nRUN apt-get update\r\n",
        ),
        # a new line above the hadolint pragma: hadolint's pragma stays next to its instruction
        (
            "FROM a\n\t# hadolint ignore=DL3009\n\tRUN apt-get update\n",
            "FROM a\n\t# dockfix ignore=DF102\n\t# hadolint ignore=DL3009\n\tRUN apt-get update\n",
        ),
        # a global pragma is not merged into: the new line goes directly above the instruction
        (
            "# dockfix global ignore=DF201\nRUN apt-get update\n",
            "# dockfix global ignore=DF201\n# dockfix ignore=DF102\nRUN apt-get update\n",
        ),
    ],
)
def test_ignore_comment_edit(before: str, after: str) -> None:
    from dockfix.core.edits import apply_edits, ignore_pragma_edit
    from dockfix.syntax import parse_lossless

    doc = parse_lossless(before)
    edit = ignore_pragma_edit(doc, doc.instructions[-1], ["DF102"])
    assert edit is not None
    assert apply_edits(before, [edit]) == after


@pytest.mark.asyncio
async def test_severity_from_the_configuration(client: LanguageClient, tmp_path: Path) -> None:
    (tmp_path / "dockfix.toml").write_text('[severity]\nDF102 = "error"\nDF105 = "style"\n')
    await start(client)
    diagnostics = await open_doc(client, tmp_path / "Dockerfile", SOURCE)
    assert diagnostics["DF102"].severity == types.DiagnosticSeverity.Error
    assert diagnostics["DF105"].severity == types.DiagnosticSeverity.Hint
    assert diagnostics["DF401"].severity == types.DiagnosticSeverity.Warning
