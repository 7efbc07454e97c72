"""DF501 add-for-copy: ADD → COPY only where ADD cannot fetch or unpack anything."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
from pathlib import Path

import dockerfile
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import dockfix
from dockfix.core.fixer import Applicability, Finding
from dockfix.fixers.add_for_copy import AddForCopy, _sniff
from dockfix.semantics.context import FixContext
from dockfix.syntax import parse
from hadolint_runner import hadolint_codes_or_skip as hadolint_codes

CODE = "DF501"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "DF501-add-for-copy"


def findings(text: str, context_dir: Path | None = None) -> list[Finding]:
    return list(AddForCopy().check(parse(text), FixContext(context_dir=context_dir)))


def run(text: str, *, unsafe: bool = False, context_dir: Path | None = None) -> str:
    """The file after the engine applies DF501's fixes."""
    fixed, _ = dockfix.fix(
        text, select=[CODE], unsafe_fixes=unsafe, context_dir=context_dir, offline=True
    )
    return fixed


def assert_good_output(
    before: str, after: str, context_dir: Path | None = None, *, unsafe: bool = True
) -> None:
    """BuildKit parses it, hadolint reports nothing new, fixing again changes nothing."""
    dockerfile.parse_string(after)
    assert hadolint_codes(after) <= hadolint_codes(before)
    assert run(after, unsafe=unsafe, context_dir=context_dir) == after


def tar_bytes(name: str = "a.txt", data: bytes = b"hello\n") -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as t:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return raw.getvalue()


# --- conversions ------------------------------------------------------------------------------


def test_local_files_and_directories_become_copy() -> None:
    src = (
        "FROM python:3.12-slim\n"
        "WORKDIR /app\n"
        "ADD requirements.txt ./\n"
        "ADD --chown=app:app --chmod=644 config.yaml /etc/app/\n"
        "ADD --link src/ ./src/\n"
        "ADD . /app/\n"
    )
    out = run(src)
    assert out == src.replace("ADD", "COPY")
    assert all(f.applicability is Applicability.SAFE for f in findings(src))
    assert_good_output(src, out, unsafe=False)


def test_keyword_case_is_kept() -> None:
    src = "from alpine:3.20\nadd app.py /app/\nAdd run.sh /app/\n"
    assert run(src) == "from alpine:3.20\ncopy app.py /app/\nCopy run.sh /app/\n"


def test_json_form_heredoc_and_onbuild() -> None:
    src = (
        "FROM alpine:3.20\n"
        'ADD ["my file.txt", "/data/"]\n'
        "ADD <<EOF /etc/motd\nhello\nEOF\n"
        "ONBUILD ADD . /usr/src/app/\n"
    )
    assert run(src) == (
        "FROM alpine:3.20\n"
        'COPY ["my file.txt", "/data/"]\n'
        "COPY <<EOF /etc/motd\nhello\nEOF\n"
        "ONBUILD COPY . /usr/src/app/\n"
    )


def test_crlf_bom_and_no_final_newline() -> None:
    src = "\ufeffFROM alpine:3.20\r\nADD app.py /app/"
    assert run(src) == "\ufeffFROM alpine:3.20\r\nCOPY app.py /app/"


def test_continuation_lines_are_untouched() -> None:
    src = "FROM alpine:3.20\nADD \\\n  # the app\n  app.py \\\n  /app/\n"
    assert run(src) == "FROM alpine:3.20\nCOPY \\\n  # the app\n  app.py \\\n  /app/\n"


def test_workdir_from_parent_stage_counts_for_relative_destinations() -> None:
    src = "FROM alpine:3.20 AS base\nWORKDIR /app\nFROM base\nADD app.py .\n"
    out = run(src)
    assert out.endswith("COPY app.py .\n")
    assert_good_output(src, out)


# --- what the context says ---------------------------------------------------------------------------


def test_context_file_that_is_a_tarball_keeps_add(tmp_path: Path) -> None:
    (tmp_path / "bundle").write_bytes(gzip.compress(tar_bytes()))
    (tmp_path / "rootfs").write_bytes(tar_bytes())
    (tmp_path / "notes").write_text("just text\n")
    src = "FROM alpine:3.20\nADD bundle /opt/\nADD rootfs /\nADD notes /opt/\n"
    out = run(src, context_dir=tmp_path)
    assert out == "FROM alpine:3.20\nADD bundle /opt/\nADD rootfs /\nCOPY notes /opt/\n"
    assert [f.line for f in findings(src, tmp_path)] == [4]


def test_unknown_name_without_the_file_is_unsafe(tmp_path: Path) -> None:
    src = "FROM alpine:3.20\nADD build/server /usr/local/bin/\n"
    finding = findings(src, tmp_path)[0]
    assert finding.applicability is Applicability.UNSAFE
    assert "build/server" in finding.fix.description  # type: ignore[union-attr]
    assert run(src, context_dir=tmp_path) == src
    assert run(src, unsafe=True, context_dir=tmp_path).endswith(
        "COPY build/server /usr/local/bin/\n"
    )


def test_directory_in_context_is_safe(tmp_path: Path) -> None:
    (tmp_path / "rootfs").mkdir()
    (tmp_path / "rootfs" / "etc.tar").write_bytes(tar_bytes())  # ADD never unpacks inside dirs
    src = "FROM alpine:3.20\nADD rootfs /\n"
    assert run(src, context_dir=tmp_path) == "FROM alpine:3.20\nCOPY rootfs /\n"


def test_wildcards_need_the_context(tmp_path: Path) -> None:
    src = "FROM alpine:3.20\nADD *.conf /etc/app/\n"
    assert "build context" in findings(src)[0].reason
    (tmp_path / "a.conf").write_text("a=1\n")
    assert run(src, context_dir=tmp_path) == "FROM alpine:3.20\nCOPY *.conf /etc/app/\n"
    (tmp_path / "b.conf").write_bytes(tar_bytes())  # a tarball named .conf: ADD unpacks it
    assert findings(src, tmp_path) == []
    nothing = "FROM alpine:3.20\nADD *.ini /etc/app/\n"
    assert "matches nothing" in findings(nothing, tmp_path)[0].reason


def test_open_ended_wildcard_is_unsafe(tmp_path: Path) -> None:
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "app").write_text("#!/bin/sh\n")
    src = "FROM alpine:3.20\nADD dist/* /opt/\n"
    assert findings(src, tmp_path)[0].applicability is Applicability.UNSAFE


def test_onbuild_ignores_this_context(tmp_path: Path) -> None:
    (tmp_path / "payload").write_text("not a tar here, but the child's context may differ\n")
    src = "FROM alpine:3.20\nONBUILD ADD payload /opt/\n"
    assert findings(src, tmp_path)[0].applicability is Applicability.UNSAFE


# --- left alone ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "ADD https://example.com/tool /usr/local/bin/tool",
        "ADD --checksum=sha256:0123 https://example.com/t.tgz /tmp/",
        "ADD --keep-git-dir=true https://github.com/moby/buildkit.git#v0.13.2 /src",
        "ADD git@github.com:moby/buildkit.git /src",
        "ADD --unpack=true https://example.com/t.tgz /opt/",
        "ADD rootfs.tar.gz /",
        "ADD jdk.tgz /opt/",
        "ADD app.tar.zst /opt/",
        "ADD data.XZ /opt/",
        "ADD app.py vendor.tar /opt/",
        "ADD --some-future-flag app.py /opt/",
        "COPY app.py /opt/",
    ],
)
def test_no_finding(line: str) -> None:
    assert findings(f"FROM alpine:3.20\n{line}\n") == []


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("ADD $JAR_FILE /app.jar", "variable"),
        ("ADD ${SRC:-app.py} /app/", "variable"),
        ('ADD "my file.txt" /data/', "quoted"),
        ("ADD a.py b.py /app", "DL3021"),
        ("ADD app.py app/", "DL3045"),
        ("ADD app.py .", "DL3045"),
    ],
)
def test_display_only(line: str, reason: str) -> None:
    src = f"FROM alpine:3.20\n{line}\n"
    finding = findings(src)[0]
    assert finding.applicability is Applicability.DISPLAY_ONLY
    assert reason in finding.reason
    assert run(src, unsafe=True) == src


def test_fixes_never_add_hadolint_rules() -> None:
    src = (
        "FROM alpine:3.20\nADD app.py /app/\nADD app.py .\nADD a.py b.py /app\n"
        "ADD data.tar /x/\nRUN tar -xf /x/data.tar\n"
    )
    out = run(src, unsafe=True)
    # only the first ADD is fixed: a COPY of the next two would get DL3045 / DL3021, and the
    # tarball is ADD's own job (it unpacks it)
    assert out == src.replace("ADD app.py /app/", "COPY app.py /app/")
    assert_good_output(src, out)


# --- the archive sniffer -----------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    st.from_regex(r"[a-z]{1,10}(/[a-z]{1,10})?", fullmatch=True),
    st.binary(max_size=2000),
    st.sampled_from(["none", "gzip", "bzip2", "xz"]),
)
def test_sniffer_recognises_every_tarball(name: str, data: bytes, compression: str) -> None:
    import tempfile

    raw = tar_bytes(name, data)
    packed = {
        "none": raw,
        "gzip": gzip.compress(raw),
        "bzip2": bz2.compress(raw),
        "xz": lzma.compress(raw),
    }[compression]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "blob"
        path.write_bytes(packed)
        assert _sniff(path) == "archive"


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=4000), st.booleans())
def test_sniffer_calls_other_content_plain(data: bytes, compress: bool) -> None:
    import tempfile

    # Compression magic makes the sniffer decompress (or, for zstd, assume a tarball).
    magic = (b"\x28\xb5\x2f\xfd", b"\x1f\x8b\x08", b"BZh", b"\xfd7zXZ\x00")
    skippable_zstd = (
        len(data) >= 4 and 0x184D2A50 <= int.from_bytes(data[:4], "little") <= 0x184D2A5F
    )
    assume(not data.startswith(magic) and not skippable_zstd)
    if compress:
        data = gzip.compress(data)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "blob"
        path.write_bytes(data)
        # Random bytes pass the tar checksum with negligible probability.
        assert _sniff(path) == "plain"


def test_sniffer_edge_cases(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    zeros = tmp_path / "zeros"
    zeros.write_bytes(bytes(1024))
    zstd = tmp_path / "zstd"
    zstd.write_bytes(b"\x28\xb5\x2f\xfd" + bytes(20))
    broken_gz = tmp_path / "broken"
    broken_gz.write_bytes(b"\x1f\x8b\x08" + b"not deflate data at all" * 3)
    assert _sniff(empty) == "plain"
    assert _sniff(zeros) == "plain"  # Go's tar reader returns EOF: not unpacked
    assert _sniff(zstd) == "archive"  # cannot decompress: assume the worst
    assert _sniff(broken_gz) == "unknown"
