"""The built-in fixers' code table (``fixers/_code_table.py``): current, and what lets a run
choose its fixers, and a warm run answer from the results cache, without importing them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from dockfix.core import catalog

TABLE = Path(catalog.__file__).resolve().parents[3] / "fixers" / "_code_table.py"


def test_the_code_table_is_current() -> None:
    import dockfix.fixers

    shipped = Path(dockfix.fixers.__file__ or "").parent / "_code_table.py"
    assert shipped.read_text(encoding="utf-8") == catalog.code_table_source(), (
        "fixers/_code_table.py is stale: run scripts/code-table"
    )


def test_the_table_says_what_the_fixers_say() -> None:
    from dockfix.core.catalog import _builtin_table, _info, all_fixers

    table = _builtin_table()
    assert table is not None
    assert table == {code: _info(cls) for code, cls in all_fixers().items()}


_NO_IMPORT = """
import sys
from dockfix.core.catalog import fixer_table, resolve_code, select_codes
default = select_codes(None)
assert "DF101" in default and "DF204" not in default, default  # off by default
assert resolve_code("copy-before-install") == ["DF101"]
assert select_codes(["DF204"]) == ["DF204"]
assert select_codes(["ALL"]) == default  # ALL names no fixer that is off by default
imported = sorted(m for m in sys.modules if m.startswith("dockfix.fixers."))
assert imported == ["dockfix.fixers._code_table"], imported
"""


def test_choosing_fixers_imports_none_of_them() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _NO_IMPORT], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_a_directly_registered_fixer_is_chosen_with_the_table(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from dockfix.core import fixer as fixer_module
    from dockfix.core.fixer import Fixer

    class Extra(Fixer):
        code = "ZZ901"
        name = "extra-rule"

        def check(self, doc, ctx):  # type: ignore[no-untyped-def]
            return []

    monkeypatch.setitem(fixer_module._REGISTRY, "ZZ901", Extra)
    monkeypatch.setattr(catalog.all_fixers, "cache_info", lambda: _Empty())
    assert "ZZ901" in catalog.fixer_table()
    assert catalog.resolve_code("extra-rule") == ["ZZ901"]


class _Empty:
    currsize = 0
