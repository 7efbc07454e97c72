"""DF521 duplicate-stage-name and its hadolint rule (DL3024, names as written)."""

from __future__ import annotations

import dockfix
from hadolint_runner import hadolint_counts_or_skip as hadolint_counts


def check(text: str) -> list[tuple[int, tuple[str, ...] | None]]:
    found = dockfix.fix_outcome(text, select=["DF521"], offline=True).findings
    assert all(f.fix is None and f.reason for f in found)
    return [(f.line, f.hadolint) for f in found]


def test_second_stage_of_a_name_is_reported_with_the_first_ones_line() -> None:
    src = "FROM node:20 AS build\nRUN true\nFROM golang:1.22 AS build\nRUN true\n"
    assert check(src) == [(3, ("DL3024",))]
    assert hadolint_counts(src)["DL3024"] == 1
    [found] = dockfix.fix_outcome(src, select=["DF521"], offline=True).findings
    assert "line 1" in found.message


def test_names_are_compared_in_lower_case_as_buildkit_reads_them() -> None:
    src = "FROM node:20 AS build\nFROM golang:1.22 AS Build\nFROM alpine:3.20 AS BUILD\n"
    # hadolint compares them as written: a `# hadolint ignore=DL3024` does not cover these
    assert check(src) == [(2, ()), (3, ())]
    assert hadolint_counts(src)["DL3024"] == 0


def test_unique_and_unnamed_stages_are_not_reported() -> None:
    assert check("FROM a:1 AS one\nFROM b:1 AS two\nFROM c:1\nFROM d:1\n") == []
