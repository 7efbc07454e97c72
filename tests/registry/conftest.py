"""Fixtures: real ``docker-registry`` servers (session-scoped), seeded with real images.

Without the binary, or when it cannot start, the registry tests are skipped locally and
FAIL when ``CI`` is set (CI installs it with ``.ci/install-registry-deps``).
"""

from __future__ import annotations

import base64
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# tests/ holds the shared helpers (``support``); src/ is a fallback when dockfix is not
# installed (e.g. running from a plain checkout).
_TESTS_DIR = Path(__file__).resolve().parents[1]
if str(_TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(_TESTS_DIR))
try:
    import dockfix.registry.registry_client  # noqa: F401
except ImportError:
    sys.path.insert(0, str(_TESTS_DIR.parent / "src"))

from dockfix.registry.docker_credentials import DockerCredentialStore  # noqa: E402
from dockfix.registry.registry_client import RegistryClient  # noqa: E402
from support.registry_server import (  # noqa: E402
    BASIC_PASSWORD,
    BASIC_USER,
    REFRESH_TOKEN,
    TOKEN_PASSWORD,
    TOKEN_USER,
    BasicSetup,
    ClientFactory,
    DockerConfig,
    FaultProxy,
    ImagePusher,
    RegistryServer,
    RegistryStartError,
    Seeded,
    TokenIssuer,
    TokenSetup,
    find_registry_binary,
)
from support.system_packages import note_missing  # noqa: E402


def unavailable(reason: str) -> None:
    """Skip locally, fail in CI: a missing registry must not silently pass CI."""
    if os.environ.get("CI"):
        pytest.fail(f"registry tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def registry_binary() -> str:
    binary = find_registry_binary()
    if binary is None:
        reason = "docker-registry not installed (run .ci/install-registry-deps)"
        note_missing(["docker-registry"], "bash .ci/install-registry-deps", reason)
        unavailable(reason)
        raise AssertionError("unreachable")
    return binary


def _start(server: RegistryServer) -> RegistryServer:
    try:
        return server.start()
    except (RegistryStartError, OSError) as exc:
        unavailable(f"docker-registry could not start: {exc}")
        raise AssertionError("unreachable") from exc


# ---------------------------------------------------------------------------- plain registry
@pytest.fixture(scope="session")
def plain_registry(
    registry_binary: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RegistryServer]:
    server = _start(RegistryServer(tmp_path_factory.mktemp("plain"), binary=registry_binary))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def seeded(plain_registry: RegistryServer) -> Seeded:
    pusher = ImagePusher(plain_registry.url)
    multi = pusher.push_index("test/multi", ["1", "1.0", "1.0.2", "v1.0.2", "latest"], seed="m1")
    older = pusher.push_index("test/multi", ["0.9", "0.9.1"], seed="m0")
    slim = pusher.push_index("test/multi", ["1-slim", "1.0-slim", "1.0.2-slim"], seed="slim")
    single = pusher.push_image("test/single", ["1"], seed="single")
    docker_v2 = pusher.push_image("test/dockerv2", ["1"], fmt="docker", seed="d2")
    docker_list = pusher.push_index("test/dlist", ["1"], fmt="docker", seed="dl")
    paged_image = pusher.push_image("test/paged", [], seed="paged")
    paged_tags = tuple(f"p{i:02d}" for i in range(23))
    pusher.retag("test/paged", paged_image, paged_tags)
    workers = tuple(pusher.push_image(f"test/c{i}", ["1"], seed=f"c{i}") for i in range(4))
    return Seeded(multi, older, slim, single, docker_v2, docker_list, paged_tags, workers)


@pytest.fixture
def proxy(plain_registry: RegistryServer, seeded: Seeded) -> Iterator[FaultProxy]:
    """A fresh counting/fault-injecting proxy in front of the plain registry."""
    with FaultProxy(plain_registry.host) as front:
        yield front


# ---------------------------------------------------------------------------- htpasswd
@pytest.fixture(scope="session")
def basic_registry(
    registry_binary: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BasicSetup]:
    server = _start(
        RegistryServer(
            tmp_path_factory.mktemp("basic"),
            auth="htpasswd",
            users={BASIC_USER: BASIC_PASSWORD},
            binary=registry_binary,
        )
    )
    pair = base64.b64encode(f"{BASIC_USER}:{BASIC_PASSWORD}".encode()).decode()
    pusher = ImagePusher(server.url, lambda repo: f"Basic {pair}")
    image = pusher.push_image("private/app", ["1.0"], seed="basic")
    yield BasicSetup(server, image)
    server.stop()


# ---------------------------------------------------------------------------- token auth
@pytest.fixture(scope="session")
def token_registry(
    registry_binary: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TokenSetup]:
    workdir = tmp_path_factory.mktemp("token")
    issuer = TokenIssuer(
        workdir / "issuer",
        users={TOKEN_USER: TOKEN_PASSWORD},
        refresh_tokens={REFRESH_TOKEN: TOKEN_USER},
    )
    front = FaultProxy(token_issuer=issuer).start()
    try:
        server = _start(
            RegistryServer(
                workdir / "registry",
                auth="token",
                token_issuer=issuer,
                token_realm=f"{front.url}/token",
                binary=registry_binary,
            )
        )
    except BaseException:
        front.stop()
        raise
    front.upstream = server.host
    pusher = ImagePusher(server.url, lambda repo: f"Bearer {issuer.full_access_token(repo)}")
    private = pusher.push_index("private/app", ["2.0", "2.1"], seed="tok")
    public = pusher.push_image("public/hello", ["1"], seed="pub")
    yield TokenSetup(issuer, front, server, private, public)
    server.stop()
    front.stop()


# ---------------------------------------------------------------------------- clients
@pytest.fixture
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DockerConfig:
    directory = tmp_path / "docker-config"
    directory.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(directory))
    config = DockerConfig(directory)
    config.write({})
    return config


@pytest.fixture
def make_client(docker_config: DockerConfig) -> Iterator[ClientFactory]:
    """Build clients with test-friendly defaults (short backoff, private config.json)."""
    clients: list[RegistryClient] = []

    def factory(*insecure: str, **kwargs: Any) -> RegistryClient:
        kwargs.setdefault("insecure_registries", set(insecure))
        kwargs.setdefault("credentials", DockerCredentialStore(docker_config.path))
        kwargs.setdefault("backoff", 0.02)
        kwargs.setdefault("timeout", 5.0)
        kwargs.setdefault("trust_env", False)  # no HTTP(S)_PROXY from the environment
        client = RegistryClient(**kwargs)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()
