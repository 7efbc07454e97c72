"""Tag listing (with pagination) and resolving moving tags to version tags."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dockfix.registry.image_ref import ImageRef
from dockfix.registry.registry_client import NotFoundOrUnauthorized, RegistryProtocolError, Resolved
from support import registry_server
from support.registry_server import ClientFactory, FaultProxy, RegistryServer, Seeded

MULTI_TAGS = {
    "1",
    "1.0",
    "1.0.2",
    "v1.0.2",
    "latest",
    "0.9",
    "0.9.1",
    "1-slim",
    "1.0-slim",
    "1.0.2-slim",
}


@pytest.fixture
def paging_proxy(plain_registry: RegistryServer, seeded: Seeded) -> Iterator[FaultProxy]:
    """Distribution 2.8 ignores ``n`` on tags/list; this proxy pages per the OCI spec."""
    with FaultProxy(plain_registry.host, paginate_tags=5) as front:
        yield front


def test_list_tags_unpaginated(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory
) -> None:
    tags = make_client(proxy.host).list_tags(ImageRef.parse(f"{proxy.host}/test/multi"))
    assert set(tags) == MULTI_TAGS
    assert len(tags) == len(MULTI_TAGS)
    assert proxy.by_path() == {"GET /v2/test/multi/tags/list": 1}


def test_list_tags_follows_link_pagination(
    paging_proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory
) -> None:
    client = make_client(paging_proxy.host)
    tags = client.list_tags(ImageRef.parse(f"{paging_proxy.host}/test/paged:p00"))
    assert tags == sorted(seeded.paged_tags)  # 23 tags, lexical order, nothing twice
    assert paging_proxy.count(path="/tags/list") == 5  # 5 + 5 + 5 + 5 + 3
    # memoised per repository
    assert client.list_tags(ImageRef.parse(f"{paging_proxy.host}/test/paged")) == tags
    assert paging_proxy.count(path="/tags/list") == 5


def test_list_tags_with_page_size(
    paging_proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory
) -> None:
    client = make_client(paging_proxy.host)
    tags = client.list_tags(ImageRef.parse(f"{paging_proxy.host}/test/paged"), page_size=10)
    assert tags == sorted(seeded.paged_tags)
    assert paging_proxy.count(path="/tags/list") == 3


def test_list_tags_missing_repository(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory
) -> None:
    with pytest.raises(NotFoundOrUnauthorized, match="not found or not authorised"):
        make_client(proxy.host).list_tags(ImageRef.parse(f"{proxy.host}/test/none"))


def test_pagination_to_another_host_is_refused(
    paging_proxy: FaultProxy,
    seeded: Seeded,
    make_client: ClientFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = registry_server._paginate

    def elsewhere(payload: bytes, query: str, path: str, n: int) -> tuple[bytes, str]:
        body, link = real(payload, query, path, n)
        return body, link.replace("</v2/", "<http://127.0.0.2:1/v2/")

    monkeypatch.setattr(registry_server, "_paginate", elsewhere)
    client = make_client(paging_proxy.host)
    with pytest.raises(RegistryProtocolError, match="another host"):
        client.list_tags(ImageRef.parse(f"{paging_proxy.host}/test/paged"))
    assert paging_proxy.count(path="/tags/list") == 1


def test_index_digest_for_tags(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory
) -> None:
    client = make_client(proxy.host)
    answers = client.index_digest_for_tags(
        ImageRef.parse(f"{proxy.host}/test/multi:latest"), ["1.0", "0.9", "nope"]
    )
    assert isinstance(answers["1.0"], Resolved)
    assert answers["1.0"].digest == seeded.multi.digest
    assert isinstance(answers["0.9"], Resolved)
    assert answers["0.9"].digest == seeded.older.digest
    assert isinstance(answers["nope"], NotFoundOrUnauthorized)


def test_latest_resolves_to_most_specific_version_tag(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory
) -> None:
    client = make_client(proxy.host)
    latest = ImageRef.parse(f"{proxy.host}/test/multi:latest")
    assert client.most_specific_tag(latest) == "1.0.2"
    assert client.tags_sharing_digest(latest) == ["1.0.2", "v1.0.2", "1.0", "1"]
    # Candidates: 1.0.2, v1.0.2, 1.0, 1, 0.9.1, 0.9 (never -slim variants, never latest);
    # plus one HEAD for latest itself and one tag listing.
    assert proxy.count(method="HEAD") == 7
    assert proxy.count(path="/tags/list") == 1
    # With the keyed spelling kept: the answer can be rendered as the user wrote it.
    assert latest.with_tag("1.0.2", digest=seeded.multi.digest).startswith(proxy.host)


def test_implicit_latest_and_variants(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory
) -> None:
    client = make_client(proxy.host)
    assert client.most_specific_tag(ImageRef.parse(f"{proxy.host}/test/multi")) == "1.0.2"
    slim = ImageRef.parse(f"{proxy.host}/test/multi:1-slim")
    assert client.most_specific_tag(slim) == "1.0.2-slim"
    assert client.most_specific_tag(ImageRef.parse(f"{proxy.host}/test/multi:0.9")) == "0.9.1"


def test_no_matching_version_tag(
    proxy: FaultProxy, seeded: Seeded, make_client: ClientFactory
) -> None:
    # test/paged has only non-version tags (p00...): nothing to suggest.
    client = make_client(proxy.host)
    assert client.most_specific_tag(ImageRef.parse(f"{proxy.host}/test/paged:p01")) is None
