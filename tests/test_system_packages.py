"""The README's test command on a machine without the Debian packages some tests need: the
session says which packages are missing and how to install them, in one line at the end."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def session(tmp_path: Path, *selection: str) -> list[str]:
    """A pytest session over ``selection`` whose PATH holds no program at all (CI unset: the
    registry and build tests then skip instead of failing)."""
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "DOCKFIX_REGISTRY_BINARY")}
    env["PATH"] = str(empty)
    pytest_args = ["-q", "-p", "no:randomly", "-p", "no:cacheprovider", *selection]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *pytest_args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr  # skipped, not failed
    return proc.stdout.splitlines()


def test_skips_for_missing_packages_end_with_one_line_naming_them(tmp_path: Path) -> None:
    lines = session(
        tmp_path,
        "tests/registry/test_registry_resolve.py",
        "tests/buildenv/test_builders.py::test_build_args_and_target_reach_the_build",
    )
    about = [line for line in lines if "missing Debian packages" in line]
    assert len(about) == 1 and lines[-1] == about[0], lines[-5:]
    line = about[0]
    stats = next(s for s in lines if re.fullmatch(r"\d+ skipped in [\d.]+s", s))
    assert line.startswith(f"{stats.split()[0]} tests skipped for missing Debian packages (")
    for package in ("buildah", "skopeo", "mmdebstrap", "docker-registry"):
        assert package in line
    assert "`bash .ci/install-build-deps && bash .ci/install-registry-deps`" in line


def test_no_line_when_nothing_was_skipped_for_a_package(tmp_path: Path) -> None:
    lines = session(tmp_path, "tests/registry/test_image_ref.py")
    assert not [line for line in lines if "Debian packages" in line]
