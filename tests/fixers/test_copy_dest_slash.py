"""DF508 copy-dest-slash: a `/` after the destination of a COPY of several sources."""

from __future__ import annotations

import pytest

import dockfix
from dockfix.core.fixer import Applicability, Finding
from hadolint_runner import hadolint_counts_or_skip as hadolint_counts


def fix(text: str, unsafe: bool = True) -> tuple[str, list[Finding]]:
    return dockfix.fix(text, select=["DF508"], unsafe_fixes=unsafe)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("COPY nginx.conf mime.types /etc/nginx", "COPY nginx.conf mime.types /etc/nginx/"),
        ('COPY ["a.txt", "b.txt", "/srv"]', 'COPY ["a.txt", "b.txt", "/srv/"]'),
        ("COPY --chown=1000:1000 a b \\\n    /app", "COPY --chown=1000:1000 a b \\\n    /app/"),
        ("COPY --from=build /out/a /out/b .", "COPY --from=build /out/a /out/b ./"),
        ("COPY a b $APP_HOME", "COPY a b $APP_HOME/"),
    ],
)
def test_slash_added(before: str, after: str) -> None:
    src = f"FROM debian:12 AS build\nFROM debian:12\n{before}\n"
    out, left = fix(src)
    assert out == src.replace(before, after) and left == []
    assert hadolint_counts(src)["DL3021"] == 1 and hadolint_counts(out)["DL3021"] == 0
    assert fix(out) == (out, [])


def test_unsafe_only() -> None:
    src = "FROM debian:12\nCOPY a b /d\n"
    out, left = fix(src, unsafe=False)
    assert out == src and left[0].applicability is Applicability.UNSAFE


@pytest.mark.parametrize(
    "line",
    [
        "COPY a /d",
        "COPY a b /d/",
        'COPY a b "/my dir"',
        "ADD a b /d",
        "COPY <<EOF a /d\nx\nEOF",
        'COPY ["a", "/d"]',
    ],
)
def test_no_finding(line: str) -> None:
    src = f"FROM debian:12\n{line}\n"
    assert fix(src) == (src, [])


def test_windows_stage_left_alone() -> None:
    src = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nCOPY a b C:\\app\n"
    assert fix(src) == (src, [])
