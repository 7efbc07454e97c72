"""Authentication against real registries: htpasswd Basic and Bearer tokens."""

from __future__ import annotations

import base64
import logging
import os
import stat
import time
from pathlib import Path

import pytest

from dockfix.registry.docker_credentials import DockerCredentialStore
from dockfix.registry.image_ref import ImageRef
from dockfix.registry.registry_client import NotFoundOrUnauthorized, RegistryError
from support.registry_server import (
    BASIC_PASSWORD,
    BASIC_USER,
    REFRESH_TOKEN,
    TOKEN_PASSWORD,
    TOKEN_USER,
    BasicSetup,
    ClientFactory,
    DockerConfig,
    FaultProxy,
    TokenSetup,
)

SECRETS = (
    BASIC_PASSWORD,
    TOKEN_PASSWORD,
    REFRESH_TOKEN,
    base64.b64encode(f"{BASIC_USER}:{BASIC_PASSWORD}".encode()).decode(),
    base64.b64encode(f"{TOKEN_USER}:{TOKEN_PASSWORD}".encode()).decode(),
)


def b64(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def assert_no_secrets(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, "a credential leaked into output"
        assert "Basic " not in text and "Bearer ey" not in text


# ---------------------------------------------------------------------------- Basic
def test_basic_auth_from_config_auths(
    basic_registry: BasicSetup, docker_config: DockerConfig, make_client: ClientFactory
) -> None:
    host = basic_registry.server.host
    docker_config.write({"auths": {host: {"auth": b64(BASIC_USER, BASIC_PASSWORD)}}})
    client = make_client(host)
    result = client.resolve(ImageRef.parse(f"{host}/private/app:1.0"))
    assert result.digest == basic_registry.image.digest
    assert client.request_count == 2  # anonymous probe (401 Basic challenge), then with creds
    # The challenge is remembered: the next lookup sends credentials at once.
    with pytest.raises(NotFoundOrUnauthorized):
        client.resolve(ImageRef.parse(f"{host}/private/app:missing"))
    assert client.request_count == 3


def test_basic_auth_username_password_fields_and_url_key(
    basic_registry: BasicSetup, docker_config: DockerConfig, make_client: ClientFactory
) -> None:
    host = basic_registry.server.host
    docker_config.write(
        {"auths": {f"https://{host}/v1/": {"username": BASIC_USER, "password": BASIC_PASSWORD}}}
    )
    result = make_client(host).resolve(ImageRef.parse(f"{host}/private/app:1.0"))
    assert result.digest == basic_registry.image.digest


def test_basic_auth_without_credentials(
    basic_registry: BasicSetup, make_client: ClientFactory
) -> None:
    host = basic_registry.server.host
    with pytest.raises(NotFoundOrUnauthorized, match="not found or not authorised") as excinfo:
        make_client(host).resolve(ImageRef.parse(f"{host}/private/app:1.0"))
    assert excinfo.value.status == 401


def test_basic_auth_wrong_password_does_not_leak(
    basic_registry: BasicSetup,
    docker_config: DockerConfig,
    make_client: ClientFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    host = basic_registry.server.host
    wrong = BASIC_PASSWORD + "-wrong"
    docker_config.write({"auths": {host: {"auth": b64(BASIC_USER, wrong)}}})
    caplog.set_level(logging.DEBUG, logger="dockfix")
    client = make_client(host)
    with pytest.raises(NotFoundOrUnauthorized, match="not found or not authorised") as excinfo:
        client.resolve(ImageRef.parse(f"{host}/private/app:1.0"))
    error = excinfo.value
    texts = [str(error), repr(error), repr(client), caplog.text, repr(error.args)]
    for text in texts:
        assert wrong not in text
        assert b64(BASIC_USER, wrong) not in text
    assert_no_secrets(*texts)


# ---------------------------------------------------------------------------- Bearer
def test_bearer_token_auth_with_basic_credentials(
    token_registry: TokenSetup, docker_config: DockerConfig, make_client: ClientFactory
) -> None:
    host = token_registry.front.host
    issuer = token_registry.issuer
    docker_config.write({"auths": {host: {"auth": b64(TOKEN_USER, TOKEN_PASSWORD)}}})
    client = make_client(host)
    before = len(issuer.requests)
    result = client.resolve(ImageRef.parse(f"{host}/private/app:2.0"))
    assert result.digest == token_registry.private.digest
    assert result.is_index
    new = issuer.requests[before:]
    assert [(r.method, r.had_authorization, r.subject, r.status) for r in new] == [
        ("GET", True, TOKEN_USER, 200)
    ]
    assert new[0].scopes == ["repository:private/app:pull"]
    # same scope: the cached token is reused, and sent up front (no second 401)
    requests = client.request_count
    assert client.resolve(ImageRef.parse(f"{host}/private/app:2.1")).digest == result.digest
    assert len(issuer.requests) == before + 1
    assert client.request_count == requests + 1


def test_bearer_anonymous_token_for_public_repository(
    token_registry: TokenSetup, make_client: ClientFactory
) -> None:
    host = token_registry.front.host
    issuer = token_registry.issuer
    before = len(issuer.requests)
    result = make_client(host).resolve(ImageRef.parse(f"{host}/public/hello:1"))
    assert result.digest == token_registry.public.digest
    assert [(r.had_authorization, r.subject) for r in issuer.requests[before:]] == [(False, None)]


def test_bearer_anonymous_private_repository_is_refused(
    token_registry: TokenSetup, make_client: ClientFactory
) -> None:
    host = token_registry.front.host
    with pytest.raises(NotFoundOrUnauthorized, match="not found or not authorised"):
        make_client(host).resolve(ImageRef.parse(f"{host}/private/app:2.0"))


def test_bearer_wrong_password(
    token_registry: TokenSetup,
    docker_config: DockerConfig,
    make_client: ClientFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    host = token_registry.front.host
    wrong = "Wr0ng-" + TOKEN_PASSWORD
    docker_config.write({"auths": {host: {"username": TOKEN_USER, "password": wrong}}})
    caplog.set_level(logging.DEBUG, logger="dockfix")
    client = make_client(host)
    with pytest.raises(NotFoundOrUnauthorized, match=r"token service .* refused") as excinfo:
        client.resolve(ImageRef.parse(f"{host}/private/app:2.0"))
    texts = [str(excinfo.value), repr(excinfo.value), caplog.text, repr(client)]
    assert all(wrong not in t and b64(TOKEN_USER, wrong) not in t for t in texts)
    assert_no_secrets(*texts)


def test_identity_token_uses_oauth_refresh_grant(
    token_registry: TokenSetup, docker_config: DockerConfig, make_client: ClientFactory
) -> None:
    host = token_registry.front.host
    issuer = token_registry.issuer
    docker_config.write({"auths": {host: {"auth": "", "identitytoken": REFRESH_TOKEN}}})
    before = len(issuer.requests)
    result = make_client(host).resolve(ImageRef.parse(f"{host}/private/app:2.0"))
    assert result.digest == token_registry.private.digest
    assert [(r.method, r.subject) for r in issuer.requests[before:]] == [("POST", TOKEN_USER)]


def test_access_token_field_and_expiry(
    token_registry: TokenSetup,
    docker_config: DockerConfig,
    make_client: ClientFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host = token_registry.front.host
    issuer = token_registry.issuer
    monkeypatch.setattr(issuer, "token_field", "access_token")
    monkeypatch.setattr(issuer, "expires_in", 1)
    docker_config.write({"auths": {host: {"auth": b64(TOKEN_USER, TOKEN_PASSWORD)}}})
    client = make_client(host)
    before = len(issuer.requests)
    assert client.resolve(ImageRef.parse(f"{host}/private/app:2.0")).digest
    assert len(issuer.requests) == before + 1
    time.sleep(1.0)  # the 1 s token has expired: a new one is fetched before the request
    assert client.resolve(ImageRef.parse(f"{host}/private/app:2.1")).digest
    assert len(issuer.requests) == before + 2


def test_credentials_not_sent_to_token_realm_on_another_origin(
    token_registry: TokenSetup,
    docker_config: DockerConfig,
    make_client: ClientFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Talk to the registry itself: its realm is the front proxy, a different port/origin.
    host = token_registry.server.host
    issuer = token_registry.issuer
    docker_config.write({"auths": {host: {"auth": b64(TOKEN_USER, TOKEN_PASSWORD)}}})
    before = len(issuer.requests)
    caplog.set_level(logging.DEBUG, logger="dockfix")
    with pytest.raises(NotFoundOrUnauthorized, match="were not sent") as excinfo:
        make_client(host).resolve(ImageRef.parse(f"{host}/private/app:2.0"))
    new = issuer.requests[before:]
    assert new and not any(r.had_authorization for r in new)
    assert_no_secrets(str(excinfo.value), caplog.text)


def test_redirect_to_another_origin_drops_credentials(
    basic_registry: BasicSetup, docker_config: DockerConfig, make_client: ClientFactory
) -> None:
    upstream = basic_registry.server.host
    with FaultProxy(upstream) as other, FaultProxy(upstream) as front:
        front.add_fault(action="redirect", status=307, location=other.url, times=100)
        docker_config.write({"auths": {front.host: {"auth": b64(BASIC_USER, BASIC_PASSWORD)}}})
        with pytest.raises(NotFoundOrUnauthorized):
            make_client(front.host, other.host).resolve(
                ImageRef.parse(f"{front.host}/private/app:1.0")
            )
        assert any(r.had_authorization for r in front.records)  # we did authenticate there
        assert other.records and not any(r.had_authorization for r in other.records)


# ---------------------------------------------------------------------------- helpers
def _write_helper(directory: Path, name: str, body: str) -> None:
    path = directory / f"docker-credential-{name}"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@pytest.fixture
def helper_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "bin"
    directory.mkdir()
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ.get('PATH', '')}")
    return directory


def test_cred_helpers(
    basic_registry: BasicSetup,
    docker_config: DockerConfig,
    make_client: ClientFactory,
    helper_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    host = basic_registry.server.host
    log = helper_dir / "calls.log"
    _write_helper(
        helper_dir,
        "test",
        f"""[ "$1" = get ] || exit 3
server=$(cat)
printf '%s\\n' "$server" >> "{log}"
if [ "$server" = "{host}" ]; then
  printf '{{"ServerURL":"%s","Username":"{BASIC_USER}","Secret":"{BASIC_PASSWORD}"}}' "$server"
else
  echo "credentials not found in native keychain"; exit 1
fi
""",
    )
    docker_config.write({"credHelpers": {host: "test"}, "auths": {host: {}}})
    caplog.set_level(logging.DEBUG, logger="dockfix")
    client = make_client(host, credentials=DockerCredentialStore(docker_config.path))
    result = client.resolve(ImageRef.parse(f"{host}/private/app:1.0"))
    assert result.digest == basic_registry.image.digest
    assert log.read_text().splitlines() == [host]  # asked once, with the server on stdin
    with pytest.raises(NotFoundOrUnauthorized) as excinfo:
        client.resolve(ImageRef.parse(f"{host}/private/app:gone"))
    assert log.read_text().splitlines() == [host]  # memoised
    assert_no_secrets(str(excinfo.value), caplog.text, repr(client))


def test_creds_store_identity_token(
    token_registry: TokenSetup,
    docker_config: DockerConfig,
    make_client: ClientFactory,
    helper_dir: Path,
) -> None:
    host = token_registry.front.host
    _write_helper(
        helper_dir,
        "store",
        f"""server=$(cat)
[ "$server" = "{host}" ] || {{ echo "credentials not found in native keychain"; exit 1; }}
printf '{{"ServerURL":"%s","Username":"<token>","Secret":"{REFRESH_TOKEN}"}}' "$server"
""",
    )
    docker_config.write({"credsStore": "store", "auths": {host: {}}})
    issuer = token_registry.issuer
    before = len(issuer.requests)
    result = make_client(host).resolve(ImageRef.parse(f"{host}/private/app:2.0"))
    assert result.digest == token_registry.private.digest
    assert [(r.method, r.subject) for r in issuer.requests[before:]] == [("POST", TOKEN_USER)]


def test_missing_helper_is_reported_not_fatal(
    token_registry: TokenSetup,
    docker_config: DockerConfig,
    make_client: ClientFactory,
    helper_dir: Path,
) -> None:
    host = token_registry.front.host
    docker_config.write({"credsStore": "does-not-exist"})
    client = make_client(host)
    # public images still resolve anonymously
    assert client.resolve(ImageRef.parse(f"{host}/public/hello:1")).digest
    with pytest.raises(NotFoundOrUnauthorized) as excinfo:
        client.resolve(ImageRef.parse(f"{host}/private/app:2.0"))
    assert "docker-credential-does-not-exist" in str(excinfo.value)
    assert "not on PATH" in str(excinfo.value)


def test_failing_helper_output_is_not_echoed(
    basic_registry: BasicSetup,
    docker_config: DockerConfig,
    make_client: ClientFactory,
    helper_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    host = basic_registry.server.host
    _write_helper(helper_dir, "broken", f'echo "{BASIC_PASSWORD}"; exit 2\n')
    docker_config.write({"credHelpers": {host: "broken"}})
    caplog.set_level(logging.DEBUG, logger="dockfix")
    with pytest.raises(RegistryError) as excinfo:
        make_client(host).resolve(ImageRef.parse(f"{host}/private/app:1.0"))
    assert "docker-credential-broken" in str(excinfo.value)
    assert_no_secrets(str(excinfo.value), caplog.text)


def test_a_broken_docker_config_is_a_warning_the_client_hands_over(tmp_path: Path) -> None:
    """Problems with config.json are returned to the caller (the CLI prints them), once."""
    from dockfix.registry.registry_client import RegistryClient

    config = tmp_path / "config.json"
    config.write_text('{"auths": {"r.example": {"auth": "bm9jb2xvbg=="}}}')  # "nocolon"
    store = DockerCredentialStore(config)
    assert store.get("r.example") is None
    client = RegistryClient(credentials=store)
    try:
        assert client.take_warnings() == [
            "ignoring malformed 'auth' value for r.example in config.json"
        ]
        assert client.take_warnings() == []
    finally:
        client.close()
    config.write_text("[1, 2")
    broken = DockerCredentialStore(config)
    assert broken.get("r.example") is None
    assert broken.warnings == [f"ignoring {config}: not valid JSON"]
