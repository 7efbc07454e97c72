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
path = st.lists(
    st.sampled_from(["a", "b", "build", "x.log", "node_modules", "#", "ab"]), min_size=1, max_size=4
).map("/".join)


@settings(max_examples=400, deadline=None)
@given(st.lists(pattern, max_size=6), st.lists(path, min_size=1, max_size=8), st.booleans())
def test_joined_patterns_answer_as_pathspec(
    lines: list[str], paths: list[str], as_dir: bool
) -> None:
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


def _by_git(root: Path, names: list[str]) -> list[str]:
    """Which of ``names`` (files under ``root``, a new git repository) git does not ignore."""
    listed = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    return sorted(p for p in listed if p in names)


def _tree(root: Path, names: list[str], gitignore: str) -> None:
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    (root / ".gitignore").write_text(gitignore)
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("FROM scratch\n")


def test_walk_skips_what_git_ignores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk's .gitignore rules agree with git itself (`git ls-files --others
    --exclude-standard`) on negations, directory patterns, anchors, `**`, escapes and nested
    .gitignore files."""
    names = [
        "Dockerfile",
        "build/Dockerfile",
        "build/keep/Dockerfile",
        "top-only/Dockerfile",
        "sub/top-only/Dockerfile",
        "docs/a/b/Dockerfile.gen",
        "docs/Dockerfile.gen",
        "#hash/Dockerfile",
        "nested/other/Dockerfile",
        "nested/svc/Dockerfile",
        "nested/svc/local.Dockerfile",
        "spaced/Dockerfile",
        "svc/x.tmp.Dockerfile",
        "svc/keep.tmp.Dockerfile",
        "svc/app.log/Dockerfile",
    ]
    _tree(
        tmp_path,
        names,
        "*.log\nbuild/\n!build/keep/\n/top-only\ndocs/**/Dockerfile.gen\n\\#hash\n"
        "nested/*\n!nested/svc\nspaced \n*.tmp.Dockerfile\n!keep.tmp.Dockerfile\n",
    )
    (tmp_path / "nested" / "svc" / ".gitignore").write_text("local.Dockerfile\n")
    by_git = _by_git(tmp_path, names)
    monkeypatch.chdir(tmp_path)
    assert sorted(iter_dockerfile_paths(["."])) == by_git
    assert 4 <= len(by_git) < len(names)


@pytest.mark.parametrize(
    "gitignore",
    [
        "*.log\nbuild/\n/top-only\ndocs/**/Dockerfile.gen\n\\#hash\nnested/*\nspaced \n",
        "deps/\n*.tmp.Dockerfile\n**/gen/**\n[Bb]in/\n",
    ],
)
def test_walk_without_negations_agrees_with_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gitignore: str
) -> None:
    """The same with the joined expression (no negated pattern)."""
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
    _tree(tmp_path, names, gitignore)
    by_git = _by_git(tmp_path, names)
    monkeypatch.chdir(tmp_path)
    assert sorted(iter_dockerfile_paths(["."])) == by_git
    assert 2 <= len(by_git) < len(names)
