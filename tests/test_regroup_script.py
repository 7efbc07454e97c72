"""scripts/regroup-modules: moves src/dockfix's modules into their subpackages and rewrites
every old module path; run again after a merge, it fixes what the merge brought in.

The old paths below are spelt through ``{d}`` (``{d}.shell``) so that the script, which
rewrites this file too, leaves them alone.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "regroup-modules"
ROOT = SCRIPT.parent.parent
D = "dockfix"  # in an old path

# A small tree with the old layout, written as real code names the modules.
OLD_TREE = {
    "src/{d}/__init__.py": '"""dockfix."""\n',
    "src/{d}/syntax.py": '"""The tree."""\n',
    "src/{d}/shell.py": '"""Shell."""\n\n\ndef parse_shell() -> None:\n    pass\n',
    "src/{d}/runner.py": '"""Runner."""\n\nfrom {d}.shell import parse_shell\n',
    "src/{d}/registry_client.py": '"""Registry."""\n',
    "src/{d}/sarif.py": '"""SARIF."""\n',
    "src/{d}/cli.py": '"""CLI."""\n\nfrom {d} import __version__, runner\n',
    "fixers/x.py": (
        "from {d}.semantics import something_else\n"
        "from {d}.shell import parse_shell\n"
        "from {d}.syntax import Dockerfile\n\n"
        "import {d}.runner\n\n"
        "RUNNER = {d}.runner\n"
    ),
    "tests/test_x.py": (
        "from unittest import mock\n\n\n"
        "def test() -> None:\n"
        '    with mock.patch("{d}.registry_client.is_loopback_registry"):\n'
        "        from {d} import runner, syntax  # the two\n"
        '    out = "{d}.sarif"  # a file name, not the module\n'
    ),
    "README.md": (
        "See `src/{d}/shell.py`; run `python -m {d}.runner`; the config is `{d}.toml`;\n"
        "write `$RUNNER_TEMP/{d}.sarif`.\n"
    ),
    "setup.py": 'COMPILED_MODULES = [\n    "syntax", "shell",\n]\n',
    "scripts/mutation": 'MODULES = ("syntax", "shell")\n',
    "pyproject.toml": '[tool.setuptools]\npackages = [\n    "{d}",\n    "{d}.fixers",\n]\n',
}


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout


def _regroup(repo: Path, *args: str) -> str:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=repo, check=True,
                          capture_output=True, text=True, timeout=120).stdout


def _old_tree(repo: Path) -> None:
    _git(repo, "init", "-q")
    for rel, text in OLD_TREE.items():
        path = repo / rel.format(d=D)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.format(d=D))
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "old layout")


def test_the_script_moves_the_modules_and_rewrites_every_reference(tmp_path: Path) -> None:
    _old_tree(tmp_path)
    printed = _regroup(tmp_path)
    assert f"git mv src/{D}/shell.py src/dockfix/semantics/shell.py" in printed
    assert "rewrite fixers/x.py (3 lines)" in printed
    src = tmp_path / "src" / "dockfix"
    assert sorted(p.relative_to(src).as_posix() for p in src.rglob("*.py")) == [
        "__init__.py", "cli.py", "output/__init__.py", "output/sarif.py",
        "registry/__init__.py", "registry/registry_client.py", "run/__init__.py",
        "run/runner.py", "semantics/__init__.py", "semantics/shell.py", "syntax.py",
    ]
    assert (src / "semantics" / "__init__.py").read_text().startswith('"""What a Dockerfile')
    assert "from dockfix.semantics.shell import parse_shell" in (src / "run" / "runner.py").read_text()
    assert "from dockfix import __version__\nfrom dockfix.run import runner\n" in (
        src / "cli.py"
    ).read_text()
    fixer = (tmp_path / "fixers" / "x.py").read_text()
    assert "from dockfix.semantics import something_else\n" in fixer  # a package: kept
    assert "from dockfix.semantics.shell import parse_shell\n" in fixer
    assert "import dockfix.run.runner\n" in fixer and "RUNNER = dockfix.run.runner\n" in fixer
    test = (tmp_path / "tests" / "test_x.py").read_text()
    assert 'mock.patch("dockfix.registry.registry_client.is_loopback_registry")' in test
    assert "from dockfix import syntax  # the two\n" in test
    assert "from dockfix.run import runner\n" in test
    assert '"dockfix.sarif"' in test
    readme = (tmp_path / "README.md").read_text()
    assert "`src/dockfix/semantics/shell.py`" in readme
    assert "`python -m dockfix.run.runner`" in readme
    assert "`dockfix.toml`" in readme and "$RUNNER_TEMP/dockfix.sarif" in readme
    assert '"syntax", "semantics.shell",' in (tmp_path / "setup.py").read_text()
    assert '("syntax", "semantics.shell")' in (tmp_path / "scripts" / "mutation").read_text()
    packages = (tmp_path / "pyproject.toml").read_text()
    assert '"dockfix",\n    "dockfix.files",\n    "dockfix.registry",' in packages
    assert packages.count('"dockfix.output"') == 1
    # staged as moves: git sees renames, so a branch's edits of the old file merge into the new
    assert f"R  src/{D}/shell.py -> src/dockfix/semantics/shell.py" in _git(
        tmp_path, "status", "--short"
    )

    _git(tmp_path, "add", "-A")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert _regroup(tmp_path).strip() == "nothing names an old module path"
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert after == before


def test_a_merge_that_brings_an_old_import_is_fixed_by_running_it_again(tmp_path: Path) -> None:
    _old_tree(tmp_path)
    _regroup(tmp_path)
    # a branch made before the move adds a module of its own, still on the old paths
    (tmp_path / "fixers" / "y.py").write_text(f"from {D}.shell import parse_shell\n")
    (tmp_path / "src" / "dockfix" / "pm_table.py").write_text('"""New."""\n')
    _git(tmp_path, "add", "-A")
    printed = _regroup(tmp_path)
    assert "git mv" not in printed
    assert "rewrite fixers/y.py (1 line)" in printed
    assert "not placed: src/dockfix/pm_table.py" in printed
    assert (tmp_path / "fixers" / "y.py").read_text() == (
        "from dockfix.semantics.shell import parse_shell\n"
    )


def test_this_repository_names_no_old_module_path() -> None:
    """What the lead runs after merging other branches: on this tree it has nothing to do."""
    assert _regroup(ROOT, "--dry-run").strip() == "nothing names an old module path"
