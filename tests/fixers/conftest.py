"""Fixtures shared by the digest-pinning fixers' tests: Docker's real registry server, seeded
with the test images, behind a request-counting proxy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.pinning import PinningImages, seed_pinning_images, start_registry
from support.registry_server import FaultProxy, RegistryServer


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    server = start_registry(tmp_path_factory.mktemp("registry"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def images(registry: RegistryServer) -> PinningImages:
    return seed_pinning_images(registry.url)


@pytest.fixture
def proxy(registry: RegistryServer, images: PinningImages) -> Iterator[FaultProxy]:
    with FaultProxy(registry.host) as front:
        yield front
