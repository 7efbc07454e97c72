"""A real registry seeded for the digest-pinning fixers (DF202, DF203): tests and benchmark.

:func:`seed_pinning_images` pushes, over the registry's HTTP API (no Docker needed):

* ``library/python`` — ``3.13.1``, ``3.13``, ``3``, ``latest`` (one OCI index, 2 platforms),
  ``3.12.8``, ``3.12`` (an older index) and ``3.12-slim``, ``3.12.8-slim`` (a slim variant);
* ``library/alpine`` — ``3.20``, ``latest``: one OCI manifest (a single-platform image), plus
  an untagged index in the same repository (for refresh tests);
* ``tools/nover`` — ``latest``, ``edge``: an index no version tag shares;
* ``docker/dockerfile`` — ``1``, ``1.12``, ``1.12.0``, ``latest``: a frontend for ``# syntax=``;
* ``team/app`` — ``2.0``: a Docker manifest list.

:func:`start_registry` starts ``docker-registry`` for a test module (skipped locally when it
is missing, a failure when ``CI`` is set); :func:`isolate` points the digest cache and
Docker's config.json at a temporary directory and drops proxy variables.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .registry_server import (
    ImagePusher,
    PushedImage,
    RegistryServer,
    RegistryStartError,
    find_registry_binary,
)
from .system_packages import note_missing

__all__ = ["PinningImages", "isolate", "seed_pinning_images", "start_registry"]

_PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)
_DOCKFIX_VARIABLES = (
    "DOCKFIX_DIGEST_CACHE",
    "DOCKFIX_DIGEST_CACHE_TTL",
    "DOCKFIX_REGISTRY_TIMEOUT",
    "DOCKFIX_REGISTRY_CONCURRENCY",
)


@dataclass(frozen=True)
class PinningImages:
    python: PushedImage  # library/python: 3.13.1, 3.13, 3, latest
    python_old: PushedImage  # library/python: 3.12.8, 3.12
    python_slim: PushedImage  # library/python: 3.12-slim, 3.12.8-slim
    alpine: PushedImage  # library/alpine: 3.20, latest (single manifest)
    alpine_index: PushedImage  # library/alpine: an untagged index
    nover: PushedImage  # tools/nover: latest, edge
    frontend: PushedImage  # docker/dockerfile: 1, 1.12, 1.12.0, latest
    app_list: PushedImage  # team/app: 2.0 (Docker manifest list)


def seed_pinning_images(
    url: str, authorization: Callable[[str], str | None] | None = None
) -> PinningImages:
    pusher = ImagePusher(url, authorization)
    return PinningImages(
        python=pusher.push_index("library/python", ["3.13.1", "3.13", "3", "latest"], seed="313"),
        python_old=pusher.push_index("library/python", ["3.12.8", "3.12"], seed="312"),
        python_slim=pusher.push_index(
            "library/python", ["3.12-slim", "3.12.8-slim"], seed="312-slim"
        ),
        alpine=pusher.push_image("library/alpine", ["3.20", "latest"], seed="alpine"),
        alpine_index=pusher.push_index("library/alpine", [], seed="alpine-old"),
        nover=pusher.push_index("tools/nover", ["latest", "edge"], seed="nover"),
        frontend=pusher.push_index("docker/dockerfile", ["1", "1.12", "1.12.0", "latest"]),
        app_list=pusher.push_index("team/app", ["2.0"], fmt="docker", seed="app"),
    )


def start_registry(workdir: Path, **kwargs: Any) -> RegistryServer:
    """Start docker-registry; skip the test (fail it in CI) when it cannot run."""
    import pytest

    binary = find_registry_binary()
    reason = "docker-registry not installed (run .ci/install-registry-deps)"
    if binary is None:
        note_missing(["docker-registry"], "bash .ci/install-registry-deps", reason)
    else:
        try:
            return RegistryServer(workdir, binary=binary, **kwargs).start()
        except (RegistryStartError, OSError) as exc:
            reason = f"docker-registry could not start: {exc}"
    if os.environ.get("CI"):
        pytest.fail(f"registry tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)
    raise AssertionError("unreachable")


def isolate(monkeypatch: Any, directory: Path, docker_config: dict[str, Any] | None = None) -> Path:
    """A private digest cache and config.json under ``directory``; returns the cache file."""
    for name in (*_PROXY_VARIABLES, *_DOCKFIX_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(directory / "cache"))
    config = directory / "docker-config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "config.json").write_text(json.dumps(docker_config or {}))
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    return directory / "cache" / "dockfix" / "digests.json"
