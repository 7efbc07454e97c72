"""Helpers of the build environment fixture, importable by the tests of this directory."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from dockfix.proof.builders import BuildahBuilder, overlay_works

HERE = Path(__file__).resolve().parent
APPS_DIR = HERE / "apps"
SPLIT_APPS_DIR = HERE / "split-apps"  # built by the rewrite tests only, see README.md


def require(missing: list[str]) -> None:
    """Skip (or, under CI, fail) when parts of the build environment are missing."""
    if not missing:
        return
    message = "build environment incomplete: " + "; ".join(missing)
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@dataclass
class BuildEnv:
    """What the tests get: where the registry is and how to make a builder that uses it."""

    root: Path
    registry_host: str
    registries_conf: Path
    policy: Path
    storage_root: Path
    run_root: Path
    cache_dir: Path
    driver: str = "vfs"
    """buildah storage driver of :meth:`builder` (see :func:`choose_driver`)."""
    build_args: dict[str, str] = field(default_factory=dict)
    """Proxy settings of this environment, to pass to every build."""
    images: dict[str, tuple[str, ...]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def builder(self, **options: Any) -> BuildahBuilder:
        settings: dict[str, Any] = {
            "storage_root": str(self.storage_root),
            "run_root": str(self.run_root),
            "storage_driver": self.driver,
            "isolation": "chroot",
            "registries_conf": str(self.registries_conf),
            "signature_policy": str(self.policy),
        }
        settings.update(options)
        return BuildahBuilder(**settings)

    def buildah(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = self.buildah_base() + list(args)
        env = {**os.environ, "CONTAINERS_REGISTRIES_CONF": str(self.registries_conf)}
        return subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)

    def buildah_base(self) -> list[str]:
        return [
            BuildahBuilder.default_executable(),
            "--root",
            str(self.storage_root),
            "--runroot",
            str(self.run_root),
            "--storage-driver",
            self.driver,
        ]


def _unmount_below(path: Path) -> None:
    """Lazily unmount whatever is still mounted under ``path`` (overlay leftovers)."""
    prefix = str(path.resolve()) + "/"
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return
    points = [line.split()[1] for line in mounts if len(line.split()) > 1]
    for point in sorted((p for p in points if p.startswith(prefix)), reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)


def cleanup_storage(env: BuildEnv) -> None:
    env.buildah("rm", "--all")
    env.buildah("rmi", "--all", "--force")
    for path in (env.storage_root, env.run_root):
        _unmount_below(path)
        shutil.rmtree(path, ignore_errors=True)


def choose_driver(workdir: Path) -> str:
    """``$DOCKFIX_BUILDAH_DRIVER``, else ``overlay`` where it works here, else ``vfs``.

    vfs copies the whole root file system for every step (a cached one too): on a 2-core
    machine the suite takes about five times as long with it.  The tests that must run on
    vfs whatever this says ask for it themselves.
    """
    forced = os.environ.get("DOCKFIX_BUILDAH_DRIVER")
    if forced:
        return forced
    return "overlay" if overlay_works(BuildahBuilder.default_executable(), workdir) else "vfs"


def copy_app(name: str, dest: Path) -> Path:
    """A fresh copy of fixture app ``name`` (tests change files in the copy, never in place)."""
    target = dest / name
    source = APPS_DIR / name
    shutil.copytree(source if source.is_dir() else SPLIT_APPS_DIR / name, target)
    return target
