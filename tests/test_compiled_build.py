"""What the compiled build (``DOCKFIX_COMPILE=1``, setup.py) relies on in the sources.

The compiled build itself is tested by running the whole suite against it
(``scripts/test-compiled``, called by CI); these checks run on every build.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _setup_lists() -> tuple[list[str], set[str]]:
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    values: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in ("COMPILED_MODULES", "INTERPRETED_FIXERS"):
                values[name] = ast.literal_eval(node.value)
    engine = values["COMPILED_MODULES"]
    interpreted = values["INTERPRETED_FIXERS"]
    assert isinstance(engine, list) and isinstance(interpreted, set)
    return engine, interpreted


def _engine_source(module: str) -> Path:
    """A COMPILED_MODULES entry (``core.engine``) as its file."""
    return ROOT / "src" / "dockfix" / f"{module.replace('.', '/')}.py"


def compiled_sources() -> list[Path]:
    engine, interpreted = _setup_lists()
    files = [_engine_source(m) for m in engine]
    fixers = ROOT / "fixers"
    files += [
        p
        for p in sorted(fixers.rglob("*.py"))
        if p.relative_to(fixers).with_suffix("").as_posix() not in interpreted
    ]
    return files


def test_the_compiled_modules_exist() -> None:
    engine, interpreted = _setup_lists()
    for module in engine:
        assert _engine_source(module).is_file(), module
    for module in interpreted:
        assert (ROOT / "fixers" / f"{module}.py").is_file(), module


def test_class_constants_of_compiled_classes_are_class_variables() -> None:
    """In a class that mypyc compiles to a native class, an attribute assigned in the class
    body without ``ClassVar`` is an instance default: it is built again for every instance
    (a frozenset, a compiled regex…) instead of once."""
    found = []
    for path in compiled_sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef) or node.bases or node.decorator_list:
                continue  # a subclass (of Fixer, NamedTuple…) or a dataclass: not this case
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) or (
                    isinstance(stmt, ast.AnnAssign)
                    and stmt.value is not None
                    and "ClassVar" not in ast.unparse(stmt.annotation)
                ):
                    found.append(f"{path.name}:{stmt.lineno} {node.name}")
    assert found == []


def test_compiled_modules_do_not_use_cached_property() -> None:
    """mypyc compiles ``functools.cached_property`` as a plain property: the value would be
    computed again at every access (a file read, a parse) in the compiled build only."""
    found = [
        f"{path.name}:{node.lineno}"
        for path in compiled_sources()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef)
        and any("cached_property" in ast.unparse(d) for d in node.decorator_list)
    ]
    assert found == []


def test_fixer_methods_define_no_functions() -> None:
    """mypyc cannot compile a function or lambda defined inside a method of a class whose base
    is interpreted (every Fixer subclass): the build fails. Module functions bound with
    ``functools.partial`` do the same job."""
    found = []
    for path in compiled_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef) and n.bases):
            for method in (n for n in cls.body if isinstance(n, ast.FunctionDef)):
                for node in ast.walk(method):
                    if node is not method and isinstance(node, ast.FunctionDef | ast.Lambda):
                        found.append(f"{path.name}:{node.lineno} in {cls.name}.{method.name}")
    assert found == []
