"""The persistent digest cache and offline mode, counted at the proxy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockfix.registry.digest_cache import DigestCache, default_cache_path
from dockfix.registry.image_ref import ImageRef
from dockfix.registry.registry_client import OfflineCacheMiss, Resolved
from support.registry_server import ClientFactory, FaultProxy, Seeded


def refs(proxy: FaultProxy) -> list[ImageRef]:
    return [
        ImageRef.parse(f"{proxy.host}/{rest}")
        for rest in ("test/multi:1.0", "test/single:1", "test/dlist:1", "test/dockerv2:1")
    ]


def test_second_run_makes_zero_requests(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory, tmp_path: Path
) -> None:
    path = tmp_path / "cache" / "digests.json"
    first = make_client(proxy.host, cache=DigestCache(path)).resolve_many(refs(proxy))
    assert proxy.request_count == 4
    assert all(isinstance(r, Resolved) and not r.from_cache for r in first.values())
    assert path.exists()
    assert not list(path.parent.glob(".digests-*"))  # no temp files left behind

    proxy.reset_counts()
    client = make_client(proxy.host, cache=DigestCache(path))
    second = client.resolve_many(refs(proxy))
    assert proxy.request_count == 0
    assert client.request_count == 0
    for ref in refs(proxy):
        answer, before = second[ref], first[ref]
        assert isinstance(answer, Resolved) and isinstance(before, Resolved)
        assert answer.from_cache and not answer.stale
        assert (answer.digest, answer.media_type) == (before.digest, before.media_type)


def test_cache_file_format(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory, tmp_path: Path
) -> None:
    path = tmp_path / "digests.json"
    ref = ImageRef.parse(f"{proxy.host}/test/multi:1.0")
    make_client(proxy.host, cache=DigestCache(path)).resolve(ref)
    data = json.loads(path.read_text())
    assert data["version"] == 1
    entry = data["entries"][ref.key]
    assert entry["digest"] == seeded.multi.digest
    assert entry["media_type"] == "application/vnd.oci.image.index.v1+json"
    assert isinstance(entry["fetched_at"], float)


def test_stale_entries_are_refreshed(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory, tmp_path: Path
) -> None:
    path = tmp_path / "digests.json"
    ref = ImageRef.parse(f"{proxy.host}/test/multi:1.0")
    old = DigestCache(path)
    old.put(ref.key, seeded.older.digest, "application/vnd.oci.image.index.v1+json", 1000.0)
    old.save()
    result = make_client(proxy.host, cache=DigestCache(path)).resolve(ref)
    assert not result.from_cache
    assert result.digest == seeded.multi.digest  # the tag moved since it was cached
    assert proxy.request_count == 1
    hit = DigestCache(path).get(ref.key)
    assert hit is not None and hit.entry.digest == seeded.multi.digest and not hit.stale


def test_offline_answers_from_cache_only(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory, tmp_path: Path
) -> None:
    path = tmp_path / "digests.json"
    fresh, stale, missing = (
        ImageRef.parse(f"{proxy.host}/test/multi:1.0"),
        ImageRef.parse(f"{proxy.host}/test/single:1"),
        ImageRef.parse(f"{proxy.host}/test/dlist:1"),
    )
    make_client(proxy.host, cache=DigestCache(path)).resolve(fresh)
    cache = DigestCache(path)
    cache.put(stale.key, seeded.single.digest, "application/vnd.oci.image.manifest.v1+json", 5.0)
    cache.save()
    proxy.reset_counts()

    client = make_client(proxy.host, cache=DigestCache(path), offline=True)
    results = client.resolve_many([fresh, stale, missing])
    fresh_answer, stale_answer = results[fresh], results[stale]
    assert isinstance(fresh_answer, Resolved) and fresh_answer.from_cache
    assert not fresh_answer.stale
    assert isinstance(stale_answer, Resolved) and stale_answer.stale
    assert stale_answer.digest == seeded.single.digest
    assert isinstance(results[missing], OfflineCacheMiss)
    assert "offline" in str(results[missing])
    with pytest.raises(OfflineCacheMiss):
        client.list_tags(fresh)
    assert proxy.request_count == 0
    assert client.request_count == 0


def test_offline_without_any_server(make_client: ClientFactory, tmp_path: Path) -> None:
    path = tmp_path / "digests.json"
    ref = ImageRef.parse("ghcr.io/example/app:1")  # never contacted
    cache = DigestCache(path)
    cache.put(ref.key, "sha256:" + "c" * 64, "application/vnd.oci.image.index.v1+json")
    cache.save()
    result = make_client(cache=DigestCache(path), offline=True).resolve(ref)
    assert result.from_cache and result.digest == "sha256:" + "c" * 64


def test_default_cache_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_path() == tmp_path / "xdg" / "dockfix" / "digests.json"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_path() == tmp_path / "home" / ".cache" / "dockfix" / "digests.json"
    assert DigestCache().path == default_cache_path()


def test_corrupt_cache_is_ignored_and_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "digests.json"
    path.write_text("{not json")
    cache = DigestCache(path)
    assert cache.get("x") is None
    cache.put("x", "sha256:" + "d" * 64, "m")
    cache.save()
    assert json.loads(path.read_text())["entries"]["x"]["digest"] == "sha256:" + "d" * 64


def test_concurrent_writers_merge(tmp_path: Path) -> None:
    path = tmp_path / "digests.json"
    a, b = DigestCache(path), DigestCache(path)
    a.put("a", "sha256:" + "1" * 64, "m")
    b.put("b", "sha256:" + "2" * 64, "m")
    a.save()
    b.save()
    merged = DigestCache(path)
    assert {key for key in merged} == {"a", "b"}
