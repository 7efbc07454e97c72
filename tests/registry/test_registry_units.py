"""Pure unit tests: version heuristic, challenge parsing, config.json lookup."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from dockfix.registry.docker_credentials import (
    DOCKER_HUB_SERVER_ADDRESS,
    Credentials,
    DockerCredentialStore,
    default_docker_config_path,
    hostname_of,
)
from dockfix.registry.registry_client import (
    RegistryClient,
    _parse_challenges,
    _parse_retry_after,
    parse_version_tag,
    version_candidates,
)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("3", ((3,), "")),
        ("3.12.1", ((3, 12, 1), "")),
        ("v1.2", ((1, 2), "")),
        ("3.12-slim", ((3, 12), "slim")),
        ("3.12.1-slim-bookworm", ((3, 12, 1), "slim-bookworm")),
        ("latest", None),
        ("3.14.0rc1", None),
        ("slim", None),
        ("3.", None),
    ],
)
def test_parse_version_tag(tag: str, expected: tuple[tuple[int, ...], str] | None) -> None:
    assert parse_version_tag(tag) == expected


def test_version_candidates_newest_first_same_variant() -> None:
    tags = [
        "latest",
        "3",
        "3.12",
        "3.12.7",
        "3.13",
        "3.13.1",
        "3.13.1-slim",
        "2.7.18",
        "3.14.0rc1",
        "alpine",
        "3.13-alpine",
        "v3.13.1",
    ]
    assert version_candidates(tags, "latest") == [
        "3.13.1",
        "v3.13.1",
        "3.13",
        "3.12.7",
        "3.12",
        "3",
        "2.7.18",
    ]
    assert version_candidates(tags, None, limit=2) == ["3.13.1", "v3.13.1"]
    assert version_candidates(tags, "3-slim") == ["3.13.1-slim"]
    assert version_candidates(tags, "alpine") == ["3.13-alpine"]
    assert version_candidates(tags, "3.13") == [
        "3.13.1",
        "v3.13.1",
        "3.12.7",
        "3.12",
        "3",
        "2.7.18",
    ]


def test_challenge_parsing() -> None:
    [bearer] = _parse_challenges(
        [
            'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
            'scope="repository:library/python:pull,push"'
        ]
    )
    assert bearer.scheme == "bearer"
    assert bearer.params == {
        "realm": "https://auth.docker.io/token",
        "service": "registry.docker.io",
        "scope": "repository:library/python:pull,push",
    }
    challenges = _parse_challenges(['Basic realm="x y", Bearer realm=https://a/t,service=s'])
    assert [(c.scheme, dict(c.params)) for c in challenges] == [
        ("basic", {"realm": "x y"}),
        ("bearer", {"realm": "https://a/t", "service": "s"}),
    ]
    assert _parse_challenges(["Negotiate abc"]) == []
    [escaped] = _parse_challenges(['Bearer realm="a\\"b"'])
    assert escaped.params["realm"] == 'a"b'


def test_retry_after_parsing() -> None:
    assert _parse_retry_after("5") == 5.0
    assert _parse_retry_after(None) is None
    assert _parse_retry_after("soon") is None
    assert _parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_credentials_repr_hides_secrets() -> None:
    creds = Credentials(
        server="r", source="s", username="u", password="hunter2-pw", identity_token="idtok-123"
    )
    for text in (repr(creds), str(creds), f"{creds}", repr([creds])):
        assert "hunter2-pw" not in text and "idtok-123" not in text
    assert "hunter2-pw" in creds.secrets()
    assert base64.b64encode(b"u:hunter2-pw").decode() in creds.secrets()


def test_client_repr_has_no_secrets(tmp_path: Path) -> None:
    client = RegistryClient(credentials=DockerCredentialStore(tmp_path / "none.json"))
    assert "password" not in repr(client).lower()
    client.close()


def _store(tmp_path: Path, config: object) -> DockerCredentialStore:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return DockerCredentialStore(path)


def test_hub_credentials_use_docker_key(tmp_path: Path) -> None:
    auth = base64.b64encode(b"hubuser:hubpass").decode()
    store = _store(tmp_path, {"auths": {DOCKER_HUB_SERVER_ADDRESS: {"auth": auth}}})
    creds = store.get("registry-1.docker.io")
    assert creds is not None and creds.username == "hubuser" and creds.password == "hubpass"
    assert creds.server == DOCKER_HUB_SERVER_ADDRESS
    assert store.get("ghcr.io") is None


def test_auths_matched_by_hostname(tmp_path: Path) -> None:
    store = _store(
        tmp_path,
        {
            "auths": {
                "https://myreg:5000/v2/": {"username": "u", "password": "p"},
                "ghcr.io": {"registrytoken": "rt"},
            }
        },
    )
    creds = store.get("myreg:5000")
    assert creds is not None and creds.kind == "basic"
    token = store.get("ghcr.io")
    assert token is not None and token.kind == "registry-token"
    assert store.get("myreg") is None


@pytest.mark.parametrize("content", ["{broken", "[]", '{"auths": []}', '{"auths": {"h": 1}}'])
def test_malformed_config_is_ignored(tmp_path: Path, content: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(content)
    assert DockerCredentialStore(path).get("h") is None


def test_malformed_auth_value(tmp_path: Path) -> None:
    assert _store(tmp_path, {"auths": {"h": {"auth": "!!!notbase64"}}}).get("h") is None


def test_docker_config_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "dc"))
    assert default_docker_config_path() == tmp_path / "dc" / "config.json"
    monkeypatch.delenv("DOCKER_CONFIG")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_docker_config_path() == tmp_path / ".docker" / "config.json"


def test_hostname_of() -> None:
    assert hostname_of("https://index.docker.io/v1/") == "index.docker.io"
    assert hostname_of("http://localhost:5000") == "localhost:5000"
    assert hostname_of("ghcr.io") == "ghcr.io"


def test_realm_credentials_policy(tmp_path: Path) -> None:
    import httpx

    auth = base64.b64encode(b"hubuser:hubpass").decode()
    store = _store(
        tmp_path,
        {"auths": {DOCKER_HUB_SERVER_ADDRESS: {"auth": auth}, "ghcr.io": {"auth": auth}}},
    )
    client = RegistryClient(credentials=store)
    hub, ghcr = "registry-1.docker.io", "ghcr.io"

    def allowed(registry: str, realm: str) -> bool:
        return client._realm_credentials(registry, httpx.URL(realm)) is not None

    assert allowed(hub, "https://auth.docker.io/token")  # Docker's own token service
    assert not allowed(hub, "http://auth.docker.io/token")  # never over plain HTTP
    assert not allowed(hub, "https://auth.docker.io.evil.example/token")
    assert allowed(ghcr, "https://ghcr.io/token")  # same origin
    assert not allowed(ghcr, "https://ghcr.io:8443/token")  # another port is another origin
    assert not allowed(ghcr, "http://ghcr.io/token")
    assert not allowed(ghcr, "https://auth.docker.io/token")  # Hub's exception is Hub's only
    client.close()

    trusting = RegistryClient(credentials=store, token_realm_hosts={ghcr: ["auth.example"]})
    assert trusting._realm_credentials(ghcr, httpx.URL("https://auth.example/t")) is not None
    assert trusting._realm_credentials(hub, httpx.URL("https://auth.docker.io/t")) is None
    trusting.close()
