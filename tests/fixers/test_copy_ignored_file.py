"""DF523 copy-ignored-file: COPY/ADD sources the build's ignore file excludes."""

from __future__ import annotations

from pathlib import Path

import pytest

import dockfix


def check(tmp_path: Path, dockerfile: str, ignore: str, name: str = ".dockerignore") -> list[str]:
    (tmp_path / name).write_text(ignore)
    found = dockfix.fix_outcome(
        dockerfile, path=tmp_path / "Dockerfile", select=["DF523"], offline=True
    ).findings
    assert all(f.fix is None and f.reason for f in found)
    return [f.message for f in found]


def test_excluded_file_and_file_under_an_excluded_directory(tmp_path: Path) -> None:
    src = (
        "FROM nginx:1.27-alpine\nCOPY README.md /srv/\nCOPY config/local/app.yaml /etc/\n"
        "COPY public/ /srv/\nCOPY --from=build /README.md /x\nADD https://e.com/a.md /a\n"
        "COPY . /src\n"
    )
    assert check(tmp_path, src, "*.md\nconfig/local\n") == [
        "`README.md` is excluded by .dockerignore: the build does not see it",
        "`config/local/app.yaml` is excluded by .dockerignore: the build does not see it",
    ]


def test_sources_with_variables_are_expanded(tmp_path: Path) -> None:
    src = "FROM alpine:3.20\nARG CONF=secrets/dev.env\nCOPY $CONF /etc/app.env\nCOPY $X /y\n"
    assert check(tmp_path, src, "secrets/\n") == [
        "`$CONF` (`secrets/dev.env`) is excluded by .dockerignore: the build does not see it"
    ]


def test_the_dockerfile_specific_ignore_file_wins(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("*.md\n")
    src = "FROM alpine:3.20\nCOPY README.md /\nCOPY docs/ /docs/\n"
    assert check(tmp_path, src, "docs\n", name="Dockerfile.dockerignore") == [
        "`docs/` is excluded by Dockerfile.dockerignore: the build does not see it"
    ]


@pytest.mark.parametrize("ignore", ["*\n!src\n", "docs\n!docs/keep.md\n", ""])
def test_silent_with_exceptions_or_nothing_excluded(tmp_path: Path, ignore: str) -> None:
    assert check(tmp_path, "FROM alpine:3.20\nCOPY docs/notes.md /n\n", ignore) == []


def test_without_an_ignore_file_nothing_is_reported(tmp_path: Path) -> None:
    found = dockfix.fix_outcome(
        "FROM alpine:3.20\nCOPY README.md /\n",
        path=tmp_path / "Dockerfile",
        select=["DF523"],
        offline=True,
    ).findings
    assert found == []
