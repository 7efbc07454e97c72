"""The package's layers, as README.md ("Architecture") draws them: each part of src/dockfix (a
subpackage or a module at the top) imports only parts of a lower layer, never a sibling of its
own layer nor anything above. Read from the sources with ``ast``: every import counts, those
inside functions and under ``TYPE_CHECKING`` too (a type is a dependency as well). That the
tree imports nothing of dockfix, and no fixer another, tests/test_semantic.py checks.
"""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import dockfix

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "dockfix"

# Part -> layer. A part is a subpackage of dockfix, a module at its top, or the fixers.
LAYERS = {
    "syntax": 0,  # the lossless tree: imports nothing of dockfix
    "files": 0,  # reading, finding and watching files
    "build_rules": 1,  # what the build rejects in a file its parser accepts (reads the tree)
    "registry": 1,  # image references, the registry client, credentials, digest cache, lookups
    "semantics": 2,  # shell, variables, the model of a Dockerfile, build context, memo
    "core": 3,  # the fixer API, edits, invariants, suppression, catalog, engine
    "fixers": 4,  # the built-in fixers (and what plug-ins may import: layers 0-3)
    "proof": 4,  # dockfix verify: builds, image comparison, image runs
    "run": 4,  # configuration, workers, the results cache
    "output": 5,  # diffs, reports, baselines, git
    "__init__": 6,  # dockfix.fix / dockfix.parse
    "lsp_server": 6,  # dockfix server
    "cli": 7,
    "__main__": 8,
}
# Imports that cross upwards on purpose, none of them to use a fixer's code: the catalog loads
# the fixer package (its modules register the built-in fixers); input_log and results_cache
# read its directory (which files are dockfix's own).
ALLOWED = {
    ("core", "fixers"),
    ("files", "fixers"),
    ("run", "fixers"),
}


def _part_of_file(path: Path) -> str:
    if path.is_relative_to(ROOT / "fixers"):
        return "fixers"
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _part_of_module(name: str) -> str | None:
    """``dockfix.core.engine`` -> ``core``; None for the bare package and its version (every
    submodule's parent, imported before any of them anyway)."""
    parts = name.split(".")
    if parts[0] != "dockfix" or len(parts) == 1 or parts[1] == "__version__":
        return None
    if parts[1] == "fixers" or (PACKAGE / parts[1]).is_dir() or (PACKAGE / f"{parts[1]}.py").is_file():
        return parts[1]
    return "__init__"  # a name defined in dockfix/__init__.py (`from dockfix import fix`)


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "dockfix":
                found += [(node.lineno, f"dockfix.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


def _sources() -> list[Path]:
    return sorted([*PACKAGE.rglob("*.py"), *(ROOT / "fixers").rglob("*.py")])


def test_every_part_has_a_layer() -> None:
    parts = {_part_of_file(p) for p in _sources()}
    assert sorted(parts - LAYERS.keys()) == [], "give the new part a layer in LAYERS and README.md"


def test_each_part_imports_only_lower_layers() -> None:
    wrong = []
    for path in _sources():
        part = _part_of_file(path)
        for line, module in _imports(path):
            target = _part_of_module(module)
            if target is None or target == part or (part, target) in ALLOWED:
                continue
            if LAYERS[target] >= LAYERS[part]:
                rel = path.relative_to(ROOT)
                wrong.append(f"{rel}:{line} ({part}, layer {LAYERS[part]}) imports {module}"
                             f" ({target}, layer {LAYERS[target]})")
    assert wrong == []


def test_the_layer_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The check above reads lazy and TYPE_CHECKING imports, and `from dockfix import M`."""
    source = tmp_path / "m.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from dockfix.run.runner import RunOptions\n"
        "def f():\n    from dockfix import cli\n"
    )
    assert [_part_of_module(m) for _, m in _imports(source)] == [None, "run", "cli"]


def test_every_package_of_the_tree_is_installed() -> None:
    """pyproject.toml lists the packages one by one (two source roots): a subpackage missing
    there is missing from every install but the editable one the tests run on."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join((prefix, *init.parent.relative_to(top).parts))
        for prefix, top in (("dockfix", PACKAGE), ("dockfix.fixers", ROOT / "fixers"))
        for init in top.rglob("__init__.py")
    }
    assert sorted(on_disk - listed) == []


# ---------------------------------------------------------------- the fixer API's old paths
def test_the_fixer_api_keeps_its_flat_import_paths() -> None:
    """A plug-in written before the regrouping (`Fixer` from the flat `fixer`) gets the
    very module the engine uses, with its own name and spec."""
    for old, new in dockfix._MOVED.items():
        module = importlib.import_module(f"dockfix.{old}")
        assert module is importlib.import_module(new)
        assert module.__name__ == new and module.__spec__ is not None
        assert module.__spec__.name == new
        assert getattr(dockfix, old) is module


def test_a_plug_in_on_the_flat_paths_runs_in_a_fresh_interpreter(tmp_path: Path) -> None:
    plugin = tmp_path / "flat_plugin.py"
    # spelt so that scripts/regroup-modules, which rewrites old paths, leaves these alone
    fixer, edits, shell = (f"dockfix.{name}" for name in ("fixer", "edits", "shell"))
    plugin.write_text(
        f"from {fixer} import Fix, Fixer, register\n"
        f"from {edits} import apply_edits\n"
        f"from {shell} import parse_shell\n"
        "import dockfix.core.edits, dockfix.core.fixer, dockfix.semantics.shell\n"
        "assert Fixer is dockfix.core.fixer.Fixer\n"
        "assert apply_edits is dockfix.core.edits.apply_edits\n"
        "assert parse_shell is dockfix.semantics.shell.parse_shell\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, str(plugin)], capture_output=True, text=True,
                          cwd=tmp_path)
    assert (done.returncode, done.stdout.strip()) == (0, "ok"), done.stderr


def test_an_unknown_flat_name_is_still_an_import_error() -> None:
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("dockfix.no_such_module")


def test_each_flat_path_has_a_stub_for_type_checkers() -> None:
    """mypy does not run the import hook: ``dockfix/fixer.pyi`` tells it where the names are."""
    stubs = {p.stem: p.read_text(encoding="utf-8") for p in PACKAGE.glob("*.pyi")}
    assert sorted(stubs) == sorted(dockfix._MOVED)
    for old, new in dockfix._MOVED.items():
        assert re.search(rf"^from {re.escape(new)} import \*", stubs[old], re.M), old


def test_no_source_of_the_repository_uses_a_flat_path() -> None:
    """Inside the repository every import names the module where it is (the flat names are
    for plug-ins written before): scripts/regroup-modules rewrites those a merge brings in."""
    flat = {f"dockfix.{old}" for old in dockfix._MOVED}
    files = [*_sources(), *(ROOT / "tests").rglob("*.py")]
    found = [
        f"{path.relative_to(ROOT)}:{line} {module}"
        for path in files
        for line, module in _imports(path)
        if module in flat or any(module.startswith(f"{f}.") for f in flat)
    ]
    assert found == []
