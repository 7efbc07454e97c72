"""Every fixer is documented like a ruff rule, and its documented example is what it does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import dockfix
from dockfix.catalog import all_fixers

FIXERS = all_fixers()
SECTIONS = ("What it does", "Why is this bad", "Example", "Fix safety", "Options", "Resolves")


@pytest.mark.parametrize("code", list(FIXERS))
def test_documentation_sections(code: str) -> None:
    fx = FIXERS[code]
    doc = fx.documentation()
    headings = re.findall(r"^## (.+?)\s*$", doc, re.M)
    for section in SECTIONS:
        assert section in headings, f"{code}: no `## {section}` section"
    # the rules it declares are named in its docs, so a reader sees what it replaces
    for rule in (*fx.resolves.hadolint, *fx.resolves.trivy, *fx.resolves.checkov):
        assert rule in doc, f"{code}: declares {rule} but its docs do not mention it"
    assert re.fullmatch(r"[A-Z]+[0-9]+", code) and re.fullmatch(r"[a-z0-9-]+", fx.name)
    assert fx.summary and fx.summary[0].isupper(), f"{code}: summary should start a sentence"


def _example(code: str) -> tuple[str, str] | None:
    doc = FIXERS[code].documentation()
    m = re.search(r"^## Example\s*\n(.*?)(?=^## |\Z)", doc, re.S | re.M)
    assert m is not None
    blocks = re.findall(r"```dockerfile\n(.*?)```", m.group(1), re.S)
    return (blocks[0], blocks[1]) if len(blocks) >= 2 else None


@pytest.mark.parametrize("code", list(FIXERS))
def test_documented_example_is_what_the_fixer_does(code: str) -> None:
    example = _example(code)
    if example is None:
        pytest.skip(f"{code}'s example is not a Dockerfile before/after pair")
    before, after = example
    out = dockfix.fix_outcome(before, select=[code], unsafe_fixes=True, offline=True)
    # the example shows the anti-pattern: the rule reports it (or fixes it)
    assert out.applied or out.findings, f"{code} finds nothing in its own example"
    if out.fixed != before:  # fixers that need a build context only report here
        assert out.fixed == after


def test_a_compiled_rule_module_is_documented_from_its_source(tmp_path: Path) -> None:
    """A module compiled by mypyc has no docstring at run time: the rule's page comes from the
    source file installed beside the extension."""
    import importlib.machinery
    import sys
    import types

    from dockfix.fixer import Fixer

    (tmp_path / "compiled_rule.py").write_text('"""## What it does\n\nIt works."""\n')
    module = types.ModuleType("compiled_rule")
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]  # .cpython-311-x86_64-linux-gnu.so
    module.__file__ = str(tmp_path / f"compiled_rule{suffix}")
    module.__doc__ = None
    sys.modules["compiled_rule"] = module
    try:
        rule = type("CompiledRule", (Fixer,), {"__module__": "compiled_rule", "summary": "S"})
        assert rule.documentation() == "## What it does\n\nIt works."
        (tmp_path / "compiled_rule.py").unlink()  # no source installed: the summary at least
        assert rule.documentation() == "S"
    finally:
        del sys.modules["compiled_rule"]
