"""FixContext's index of the build context: each question is asked of the file system once per
checked file (through the os functions the results cache records), answered as pathlib would
answer it, and never carried over to the next file checked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockfix.files.input_log import InputLog, recording
from dockfix.run.runner import FileReport, RunOptions, process_paths
from dockfix.semantics.context import FixContext


def test_a_listing_is_read_once_per_checked_file_and_anew_for_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a").write_text("x")
    listed: list[str] = []
    real = os.listdir

    def counting(path: str) -> list[str]:
        listed.append(path)
        return real(path)

    monkeypatch.setattr(os, "listdir", counting)
    ctx = FixContext(context_dir=tmp_path)
    names = ctx.list_dir("")
    names.append("changed by the caller")
    assert ctx.list_dir("") == ["a"]
    assert listed == [str(tmp_path)]
    (tmp_path / "b").write_text("y")
    assert FixContext(context_dir=tmp_path).list_dir("") == ["a", "b"]


@pytest.mark.parametrize(
    "rel", ["", ".", "a", "/a", "a/", "a//b", "./a", "a/./b", "a/.", "a/../b", "//a/", "./"]
)
def test_context_reads_name_the_path_pathlib_names(tmp_path: Path, rel: str) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").write_text("b")
    (tmp_path / "a" / "b").write_text("a/b")
    ctx = FixContext(context_dir=tmp_path)
    expected = ctx.context_path(rel)
    assert expected is not None
    try:
        want = os.lstat(expected)
    except OSError:
        assert ctx.lstat(rel) is None
    else:
        got = ctx.lstat(rel)
        assert got is not None and (got.st_ino, got.st_mode) == (want.st_ino, want.st_mode)


def test_a_symlink_named_with_a_trailing_slash_is_the_link_itself(tmp_path: Path) -> None:
    # pathlib drops the slash, so lstat sees the link (a plain join would follow it).
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to("real")
    st = FixContext(context_dir=tmp_path).lstat("link/")
    assert st is not None and (st.st_mode & 0o170000) == 0o120000


def test_each_file_reads_its_own_ignore_file_even_when_an_equal_one_was_parsed(
    tmp_path: Path,
) -> None:
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / ".dockerignore").write_text("*.log\n")
    first = FixContext(context_dir=tmp_path / "one")
    assert first.is_excluded("x.log") and not first.is_excluded("x.txt")
    log = InputLog()
    with recording(log):
        second = FixContext(context_dir=tmp_path / "two")
        assert second.is_excluded("x.log")
    assert str(tmp_path / "two" / ".dockerignore") in log.opened
    (tmp_path / "two" / ".dockerignore").write_text("*.txt\n")
    third = FixContext(context_dir=tmp_path / "two")
    assert third.is_excluded("x.txt") and not third.is_excluded("x.log")


ROOT_USER = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["python", "app.py"]\n'


def _df201_messages(cache: Path) -> tuple[list[str], bool]:
    options = RunOptions(offline=True, cache_dir=str(cache), select=("DF201",))
    [report] = list(process_paths(["svc/Dockerfile"], options))
    assert isinstance(report, FileReport) and report.outcome is not None
    return [f.message for f in report.outcome.findings], report.cached


def test_a_changed_source_file_in_the_walked_context_rechecks_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = tmp_path / "repo" / "svc"
    (svc / "src").mkdir(parents=True)
    (svc / "Dockerfile").write_text(ROOT_USER)
    (svc / "app.py").write_text("print('hello')\n")
    (svc / "src" / "util.py").write_text("X = 1\n")
    monkeypatch.chdir(svc.parent)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("DOCKFIX_CACHE_DIR", raising=False)
    cache = tmp_path / "cache"
    cold, _ = _df201_messages(cache)
    assert _df201_messages(cache) == (cold, True)
    (svc / "src" / "util.py").write_text("open('/srv/data/out.txt', 'w')\n")
    changed, cached = _df201_messages(cache)
    assert not cached and changed != cold and "/srv/data" in changed[0]
    (svc / "src" / "extra").mkdir()  # a new directory in the walked tree
    assert _df201_messages(cache)[1] is False
