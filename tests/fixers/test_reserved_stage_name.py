"""DF522 reserved-stage-name: `scratch` and `context` as stage names."""

from __future__ import annotations

import pytest

import dockfix
from hadolint_runner import hadolint_counts_or_skip as hadolint_counts


def check(text: str) -> list[tuple[int, tuple[str, ...] | None]]:
    found = dockfix.fix_outcome(text, select=["DF522"], offline=True).findings
    assert all(f.fix is None and f.reason for f in found)
    return [(f.line, f.hadolint) for f in found]


@pytest.mark.parametrize(("alias", "hadolint"), [("scratch", 1), ("context", 1), ("Scratch", 0)])
def test_reserved_names_are_reported(alias: str, hadolint: int) -> None:
    src = f"FROM alpine:3.20 AS {alias}\nRUN true\n"
    assert check(src) == [(1, ("DL3063",) if hadolint else ())]
    assert hadolint_counts(src)["DL3063"] == hadolint


def test_from_scratch_and_other_names_are_not_reported() -> None:
    assert check("FROM alpine:3.20 AS certs\nFROM scratch\nCOPY --from=certs /a /a\n") == []
