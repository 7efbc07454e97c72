"""Many references, few images: each unique lookup goes to the registry exactly once."""

from __future__ import annotations

import pytest

from dockfix.registry.image_ref import ImageRef
from dockfix.registry.registry_client import Resolved
from support.registry_server import ClientFactory, FaultProxy, Seeded


def test_many_references_few_images(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory
) -> None:
    refs: list[ImageRef] = []
    for i in range(4):
        image = seeded.workers[i]
        # The same lookup, spelled and pinned in different ways, many times over.
        for _ in range(10):
            refs.append(ImageRef.parse(f"{proxy.host}/test/c{i}:1"))
        refs.append(ImageRef.parse(f"{proxy.host}/test/c{i}:1@{image.digest}"))
        refs.append(ImageRef.parse(f"{proxy.host}/test/c{i}:1@{seeded.older.digest}"))
    client = make_client(proxy.host)
    results = client.resolve_many(refs)
    assert set(results) == set(refs)
    for ref, answer in results.items():
        assert isinstance(answer, Resolved), answer
        index = int(ref.repository.removeprefix("test/c"))
        assert answer.digest == seeded.workers[index].digest
    assert proxy.request_count == 4
    assert client.request_count == 4
    # and a later call for the same references costs nothing
    client.resolve_many(refs)
    assert proxy.request_count == 4


@pytest.mark.parametrize("limit", [1, 3])
def test_per_host_limit(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory, limit: int
) -> None:
    proxy.add_fault(action="delay", hang_seconds=0.15, times=1000)
    tags = ["1", "1.0", "1.0.2", "v1.0.2", "latest", "0.9"]
    refs = [ImageRef.parse(f"{proxy.host}/test/multi:{tag}") for tag in tags]
    client = make_client(proxy.host, max_per_host=limit)
    results = client.resolve_many(refs)
    assert all(isinstance(r, Resolved) for r in results.values())
    assert proxy.request_count == len(tags)
    assert proxy.max_in_flight <= limit
    if limit > 1:
        assert proxy.max_in_flight > 1  # really concurrent
