"""The walk's `.gitignore` matching: a file without negated patterns is matched with one
joined expression; the answers are pathspec's and git's."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pathspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dockfix.files.discovery import _AnyPattern, _ignore_spec, iter_dockerfile_paths

PIECES = ["a", "b", "build", "*", "**", "?", "[ab]", ".log", "/", "\\#", "x y", "node_modules"]
pattern = st.lists(st.sampled_from(PIECES), min_size=1, max_size=4).map("".join)
path = st.lists(st.sampled_from(["a", "b", "build", "x.log", "node_modules", "#", "ab"]), min_size=1, max_size=4).map("/".join)


@settings(max_examples=400, deadline=None)
@given(st.lists(pattern, max_size=6), st.lists(path, min_size=1, max_size=8), st.booleans())
def test_joined_patterns_answer_as_pathspec(lines: list[str], paths: list[str], as_dir: bool) -> None:
    spec = pathspec.GitIgnoreSpec.from_lines(lines)
    joined = _AnyPattern.of(spec)
    assert joined is not None  # no negation: always joined
    for p in paths:
        p = p + "/" if as_dir else p
        assert joined.match_file(p) == spec.match_file(p), (lines, p)


def test_a_negated_pattern_keeps_pathspec() -> None:
    assert not isinstance(_ignore_spec("*.log\n!keep.log\n"), _AnyPattern)
    assert isinstance(_ignore_spec("*.log\nbuild/\n# comment\n\n"), _AnyPattern)
    assert not _ignore_spec("# only a comment\n").match_file("Dockerfile")


@pytest.mark.parametrize(
    "gitignore",
    [
        "*.log\nbuild/\n/top-only\ndocs/**/Dockerfile.gen\n\\#hash\nnested/*\nspaced \n",
        "deps/\n*.tmp.Dockerfile\n**/gen/**\n[Bb]in/\n",
    ],
)
def test_walk_agrees_with_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gitignore: str) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / ".gitignore").write_text(gitignore)
    names = [
        "Dockerfile",
        "build/Dockerfile",
        "top-only/Dockerfile",
        "sub/top-only/Dockerfile",
        "docs/a/b/Dockerfile.gen",
        "#hash/Dockerfile",
        "nested/other/Dockerfile",
        "spaced/Dockerfile",
        "svc/x.tmp.Dockerfile",
        "svc/app.log/Dockerfile",
        "svc/deps/Dockerfile",
        "a/gen/b/Dockerfile",
        "bin/Dockerfile",
        "Bin/Dockerfile",
    ]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("FROM scratch\n")
    listed = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    by_git = sorted(p for p in listed if p in names)
    monkeypatch.chdir(tmp_path)
    assert sorted(iter_dockerfile_paths(["."])) == by_git
    assert 2 <= len(by_git) < len(names)
