"""Session fixture ``buildenv``: a registry with base images, and buildah set up to use it.

It starts Docker's registry (``tests/support/registry_server.py``) on loopback, makes or
reuses the base images (see ``base_images.py``), pushes them there under Docker Hub's
official names, and writes a ``registries.conf`` that sends ``docker.io`` to that
registry: a fixture Dockerfile's ``FROM python:3.11-slim`` builds unchanged.

Missing tools skip these tests with a reason, except under CI (env ``CI`` set), where they
fail: CI must install them (``.ci/install-build-deps``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
for _path in (str(HERE.parent), str(HERE)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import base_images as bi  # noqa: E402
from buildenv_helpers import BuildEnv, choose_driver, cleanup_storage, require  # noqa: E402

from dockfix.proof.builders import BuildahBuilder  # noqa: E402

_SUMMARY: list[str] = []


@pytest.fixture(scope="session")
def buildenv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuildEnv]:
    missing = bi.missing_parts()
    try:
        from support.registry_server import RegistryServer, find_registry_binary
    except ImportError as exc:  # pragma: no cover - depends on the machine
        missing.append(f"tests/support/registry_server.py not importable ({exc})")
    else:
        if find_registry_binary() is None:
            missing.append("docker-registry (apt-get install docker-registry)")
    if missing:
        from support.system_packages import apt_packages, note_missing

        reason = "build environment incomplete: " + "; ".join(missing)
        note_missing(apt_packages(missing), "bash .ci/install-build-deps", reason)
    require(missing)

    root = tmp_path_factory.mktemp("buildenv")
    started = time.monotonic()
    server = RegistryServer(root / "registry")
    server.start()
    env = BuildEnv(
        root=root,
        registry_host=server.host,
        registries_conf=bi.write_registries_conf(root / "registries.conf", server.host),
        policy=bi.write_policy_json(root / "policy.json"),
        storage_root=root / "storage",
        run_root=root / "run",
        cache_dir=bi.default_cache_dir(),
        driver=choose_driver(root),
        build_args=bi.proxy_build_args(),
    )
    try:
        factory = bi.ImageFactory(
            cache_dir=env.cache_dir,
            workdir=root / "base-images",
            buildah_base=env.buildah_base(),
            host=bi.HostInputs.detect(),
        )
        t0 = time.monotonic()
        archives = factory.ensure(bi.ALL_IMAGES)
        env.timings["base images ready"] = time.monotonic() - t0
        t0 = time.monotonic()
        for image in bi.ALL_IMAGES:
            bi.push_archive(
                archives[image.name],
                server.host,
                image.tags,
                policy=env.policy,
                log=factory.workdir / "push.log",
            )
            env.images[image.name] = image.tags
        env.timings["push to registry"] = time.monotonic() - t0
        env.timings.update(factory.timings)
        env.timings["fixture setup"] = time.monotonic() - started
        sizes = {image.name: archives[image.name].stat().st_size for image in bi.ALL_IMAGES}
        _SUMMARY.append(f"buildah storage driver for the tests: {env.driver}")
        _SUMMARY.append(
            f"base images {'built: ' + ', '.join(factory.built) if factory.built else 'from cache'}"
            f" ({env.cache_dir})"
        )
        _SUMMARY.append(
            "archive sizes: "
            + ", ".join(f"{name} {size / 2**20:.0f} MiB" for name, size in sizes.items())
        )
        _SUMMARY.append("timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in env.timings.items()))
        yield env
    finally:
        cleanup_storage(env)
        server.stop()


@pytest.fixture(scope="session")
def buildah_builder(buildenv: BuildEnv) -> BuildahBuilder:
    return buildenv.builder()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _SUMMARY:
        terminalreporter.section("build environment")
        for line in _SUMMARY:
            terminalreporter.write_line(line)
    python_runtime = sys.modules.get("test_python_runtime")
    if python_runtime is not None and getattr(python_runtime, "SUMMARY", None):
        terminalreporter.section("DF304: Python images before and after")
        for line in python_runtime.SUMMARY:
            terminalreporter.write_line(line)
    verified = sys.modules.get("test_verify")
    if verified is not None and getattr(verified, "SUMMARY", None):
        terminalreporter.section("dockfix verify: before and after")
        for block in verified.SUMMARY:
            for line in block.splitlines():
                terminalreporter.write_line(line)
    multistage = sys.modules.get("test_multistage_apps")
    if multistage is not None and getattr(multistage, "SIZES", None):
        terminalreporter.section("multi-stage rewrites: size before/after")
        for app, before, after in multistage.SIZES:
            terminalreporter.write_line(
                f"{app}: {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB "
                f"({100 * (before - after) / before:.0f} % smaller)"
            )
