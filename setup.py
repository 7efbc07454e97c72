"""Optional compiled build: ``DOCKFIX_COMPILE=1 pip install .`` compiles the hot modules with
mypyc (as black and mypy ship). Without the variable, the install is pure Python, as the
metadata in pyproject.toml describes; the compiled modules behave the same and CI runs the
whole test suite against both builds.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).resolve().parent
STAGE = Path("build") / "mypyc-src"  # relative: mypyc names its C files after these paths

# What runs once per file: the workers' engine, and the main process's walk, unpacking and
# rendering. The rest (CLI, configuration, registry and build code) runs once per run or
# waits on I/O; `runner`, `config` and `image_lookup` also define what is pickled to the
# workers, and a compiled frozen dataclass does not unpickle.
COMPILED_MODULES = [
    "syntax", "build_rules", "semantics.shell", "semantics.semantic", "semantics.memo",
    "core.edits", "core.suppression", "core.invariants", "core.engine", "registry.image_ref",
    "semantics.dockerignore", "semantics.context", "files.discovery", "run.wire", "run.shown",
    "output.report", "output.diffing",
]
# Fixer modules left interpreted, as paths below fixers/ without `.py`: `_lazy` builds patterns
# through __getattr__, which a compiled class does not fall back to. Every other module is
# compiled, those of a fixer that is a package (`copy_before_install/…`) too. (A fixer must not
# define functions inside its methods: mypyc cannot compile those in a class whose base, Fixer,
# is interpreted; tests/test_compiled_build.)
INTERPRETED_FIXERS = {"__init__", "_lazy"}
MYPY_CONFIG = "[mypy]\nignore_missing_imports = True\n"


def _stage() -> tuple[list[str], list[str]]:
    """Lay the sources out as the installed package (``dockfix/fixers/…``), so mypyc names
    the modules as they are imported. Returns (every module, the modules to compile)."""
    if STAGE.exists():
        shutil.rmtree(STAGE)
    shutil.copytree(ROOT / "src" / "dockfix", STAGE / "dockfix",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "fixers", STAGE / "dockfix" / "fixers",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (STAGE / "mypy.ini").write_text(MYPY_CONFIG, encoding="utf-8")
    every = sorted(str(p) for p in STAGE.glob("dockfix/**/*.py"))
    chosen = [str(STAGE / "dockfix" / f"{m.replace('.', '/')}.py") for m in COMPILED_MODULES]
    fixers = STAGE / "dockfix" / "fixers"
    chosen += sorted(
        str(p) for p in fixers.rglob("*.py")
        if p.relative_to(fixers).with_suffix("").as_posix() not in INTERPRETED_FIXERS
    )
    return every, chosen


def _extensions() -> list[object]:
    if os.environ.get("DOCKFIX_COMPILE", "") in ("", "0"):
        return []
    from mypyc.build import mypycify

    every, chosen = _stage()
    return list(mypycify(
        [f"--config-file={STAGE / 'mypy.ini'}", *every],
        only_compile_paths=chosen,
        opt_level="3",
        target_dir=str(Path("build") / "mypyc"),
    ))


setup(ext_modules=_extensions())
