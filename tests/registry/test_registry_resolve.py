"""Digest resolution against a real distribution registry (through a counting proxy)."""

from __future__ import annotations

import hashlib
import json

import pytest

import dockfix.registry.registry_client
from dockfix.registry.image_ref import ImageRef
from dockfix.registry.registry_client import (
    DigestVerificationError,
    NotFoundOrUnauthorized,
    RegistryUnavailable,
    Resolved,
)
from support.registry_server import (
    DOCKER_MANIFEST_LIST,
    DOCKER_MANIFEST_V2,
    OCI_IMAGE_INDEX,
    OCI_IMAGE_MANIFEST,
    ClientFactory,
    FaultProxy,
    Seeded,
)


def ref(proxy: FaultProxy, rest: str) -> ImageRef:
    return ImageRef.parse(f"{proxy.host}/{rest}")


def test_tag_resolves_to_index_digest(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory
) -> None:
    client = make_client(proxy.host)
    result = client.resolve(ref(proxy, "test/multi:1.0"))
    assert result == Resolved(
        seeded.multi.digest, OCI_IMAGE_INDEX, from_cache=False, fetched_at=result.fetched_at
    )
    assert result.is_index
    # the index, not a platform manifest
    assert result.digest not in seeded.multi.children.values()
    assert set(seeded.multi.children) == {"linux/amd64", "linux/arm64"}
    # one HEAD, nothing else (HEAD does not count against Docker Hub's pull limit)
    assert proxy.by_path() == {"HEAD /v2/test/multi/manifests/1.0": 1}
    assert client.request_count == 1


def test_single_manifest_image(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory
) -> None:
    result = make_client(proxy.host).resolve(ref(proxy, "test/single:1"))
    assert result.digest == seeded.single.digest
    assert result.media_type == OCI_IMAGE_MANIFEST
    assert not result.is_index


@pytest.mark.parametrize(
    ("rest", "attr", "media_type"),
    [
        ("test/dockerv2:1", "docker_v2", DOCKER_MANIFEST_V2),
        ("test/dlist:1", "docker_list", DOCKER_MANIFEST_LIST),
    ],
)
def test_docker_media_types(
    proxy: FaultProxy,
    seeded: Seeded,
    make_client: ClientFactory,
    rest: str,
    attr: str,
    media_type: str,
) -> None:
    result = make_client(proxy.host).resolve(ref(proxy, rest))
    assert result.digest == getattr(seeded, attr).digest
    assert result.media_type == media_type


def test_no_tag_means_latest(proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory) -> None:
    result = make_client(proxy.host).resolve(ref(proxy, "test/multi"))
    assert result.digest == seeded.multi.digest
    assert proxy.by_path() == {"HEAD /v2/test/multi/manifests/latest": 1}


def test_digest_reference_is_checked_by_digest(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory
) -> None:
    digest = seeded.multi.children["linux/arm64"]
    result = make_client(proxy.host).resolve(ref(proxy, f"test/multi@{digest}"))
    assert result.digest == digest
    assert result.media_type == OCI_IMAGE_MANIFEST
    assert proxy.count(path=f"/manifests/{digest}") == 1


def test_tag_and_digest_resolves_the_tag(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory
) -> None:
    stale = seeded.older.digest
    result = make_client(proxy.host).resolve(ref(proxy, f"test/multi:1.0@{stale}"))
    assert result.digest == seeded.multi.digest


def test_missing_repository(proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory) -> None:
    with pytest.raises(NotFoundOrUnauthorized) as excinfo:
        make_client(proxy.host).resolve(ref(proxy, "test/does-not-exist:1"))
    message = str(excinfo.value)
    assert "not found or not authorised" in message
    assert "test/does-not-exist" in message
    assert excinfo.value.status == 404
    assert excinfo.value.reference == f"{proxy.host}/test/does-not-exist:1"


def test_missing_tag(proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory) -> None:
    with pytest.raises(NotFoundOrUnauthorized, match="not found or not authorised") as excinfo:
        make_client(proxy.host).resolve(ref(proxy, "test/multi:9.9.9"))
    assert "test/multi:9.9.9" in str(excinfo.value)


def test_errors_are_memoised(proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory) -> None:
    client = make_client(proxy.host)
    for _ in range(3):
        with pytest.raises(NotFoundOrUnauthorized):
            client.resolve(ref(proxy, "test/nope:1"))
    assert proxy.request_count == 1


def test_head_refused_falls_back_to_verified_get(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory
) -> None:
    proxy.add_fault(action="status", status=405, method="HEAD", times=10)
    result = make_client(proxy.host).resolve(ref(proxy, "test/multi:1.0"))
    assert result.digest == seeded.multi.digest
    assert result.media_type == OCI_IMAGE_INDEX
    assert proxy.count(method="HEAD") == 1
    assert proxy.count(method="GET") == 1


def test_no_digest_header_computes_digest_of_body(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory
) -> None:
    proxy.strip_headers = {"Docker-Content-Digest"}
    result = make_client(proxy.host).resolve(ref(proxy, "test/dlist:1"))
    assert result.digest == seeded.docker_list.digest
    assert result.digest == "sha256:" + hashlib.sha256(seeded.docker_list.body).hexdigest()
    assert result.media_type == DOCKER_MANIFEST_LIST
    assert proxy.count(method="GET") == 1


def test_head_without_media_type_falls_back_to_get(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory
) -> None:
    proxy.strip_headers = {"Content-Type"}
    result = make_client(proxy.host).resolve(ref(proxy, "test/multi:1.0"))
    assert result.digest == seeded.multi.digest
    assert result.media_type == OCI_IMAGE_INDEX  # read from the manifest's mediaType
    assert [r.method for r in proxy.records] == ["HEAD", "GET"]


def test_tampered_manifest_is_rejected(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory
) -> None:
    proxy.add_fault(action="status", status=405, method="HEAD", times=10)

    def tamper(body: bytes) -> bytes:
        document = json.loads(body)
        document["annotations"] = {"evil": "yes"}
        return json.dumps(document).encode()

    proxy.mutate_body = tamper
    with pytest.raises(DigestVerificationError, match="does not match"):
        make_client(proxy.host).resolve(ref(proxy, "test/multi:1.0"))


def test_tampered_digest_lookup_is_rejected(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory
) -> None:
    # No digest header at all: the body must still hash to the digest we asked for.
    proxy.strip_headers = {"Docker-Content-Digest"}
    proxy.mutate_body = lambda body: body + b" "
    digest = seeded.single.digest
    with pytest.raises(DigestVerificationError):
        make_client(proxy.host).resolve(ref(proxy, f"test/single@{digest}"))


def test_plain_http_only_for_insecure_registries(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A remote registry (the loopback proxy, made to look remote: loopback registries are
    # plain HTTP) not listed as insecure: the client speaks TLS to the plain-HTTP proxy and
    # fails.
    monkeypatch.setattr(dockfix.registry.registry_client, "is_loopback_registry", lambda registry: False)
    client = make_client(max_tries=1)
    with pytest.raises(RegistryUnavailable, match="TLS with"):
        client.resolve(ref(proxy, "test/multi:1.0"))
    assert proxy.request_count == 0  # no plain-HTTP request was ever made
