"""Retries, rate limits and timeouts, injected by a proxy in front of the real registry."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest

from dockfix.registry.image_ref import ImageRef
from dockfix.registry.registry_client import RateLimited, RegistryUnavailable
from support.registry_server import ClientFactory, FaultProxy, Seeded


def multi(proxy: FaultProxy) -> ImageRef:
    return ImageRef.parse(f"{proxy.host}/test/multi:1.0")


def test_429_honours_retry_after(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory
) -> None:
    proxy.add_fault(action="status", status=429, retry_after="1", times=1)
    started = time.monotonic()
    result = make_client(proxy.host).resolve(multi(proxy))
    elapsed = time.monotonic() - started
    assert result.digest == seeded.multi.digest
    assert elapsed >= 0.95  # waited as asked, not the 0.02 s test backoff
    assert [r.status for r in proxy.records] == [429, 200]


def test_429_with_too_long_retry_after_fails_fast(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory
) -> None:
    proxy.add_fault(action="status", status=429, retry_after="3600", times=1)
    started = time.monotonic()
    with pytest.raises(RateLimited, match="retry after 3600s") as excinfo:
        make_client(proxy.host, max_retry_after=5).resolve(multi(proxy))
    assert time.monotonic() - started < 2
    assert excinfo.value.retry_after == 3600
    assert proxy.request_count == 1


def test_429_http_date_retry_after(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory
) -> None:

    proxy.add_fault(
        action="status", status=429, retry_after=formatdate(time.time() + 1, usegmt=True)
    )
    result = make_client(proxy.host).resolve(multi(proxy))
    assert result.digest == seeded.multi.digest
    assert proxy.request_count == 2


def test_500_then_success(proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory) -> None:
    proxy.add_fault(action="status", status=500, times=2)
    client = make_client(proxy.host)
    result = client.resolve(multi(proxy))
    assert result.digest == seeded.multi.digest
    assert [r.status for r in proxy.records] == [500, 500, 200]
    assert client.request_count == 3


def test_persistent_503_gives_clean_error(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory
) -> None:
    proxy.add_fault(action="status", status=503, times=100)
    with pytest.raises(RegistryUnavailable, match="HTTP 503 after 3 tries") as excinfo:
        make_client(proxy.host).resolve(multi(proxy))
    assert excinfo.value.status == 503
    assert proxy.request_count == 3  # bounded


def test_dropped_connection_is_retried(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory
) -> None:
    proxy.add_fault(action="close", times=1)
    result = make_client(proxy.host).resolve(multi(proxy))
    assert result.digest == seeded.multi.digest
    assert proxy.request_count == 2


def test_hanging_upstream_times_out_cleanly(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory
) -> None:
    proxy.add_fault(action="hang", times=100, hang_seconds=20)
    client = make_client(proxy.host, timeout=0.4, max_tries=2)
    started = time.monotonic()
    with pytest.raises(RegistryUnavailable, match="Timeout") as excinfo:
        client.resolve(multi(proxy))
    elapsed = time.monotonic() - started
    assert elapsed < 3, elapsed
    assert "after 2 tries" in str(excinfo.value)
    assert excinfo.value.__cause__ is None  # no httpx internals chained in
    assert proxy.request_count == 2


def test_failures_of_one_reference_do_not_affect_others(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory
) -> None:
    proxy.add_fault(action="status", status=500, times=100, path="/test/single/")
    client = make_client(proxy.host)
    results = client.resolve_many([multi(proxy), ImageRef.parse(f"{proxy.host}/test/single:1")])
    assert not isinstance(results[multi(proxy)], Exception)
    assert isinstance(results[ImageRef.parse(f"{proxy.host}/test/single:1")], RegistryUnavailable)
