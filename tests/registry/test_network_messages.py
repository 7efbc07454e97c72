"""What a run with registry lookups says and does: `--refresh` past the digest cache, one line per
unreachable registry, loopback registries over plain HTTP, TLS errors that name the option.

Real servers only: Docker's registry on 127.0.0.1 (tests/support) and a closed loopback port
for a registry that does not answer. The CLI runs as a subprocess, with a private digest cache.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from dockfix.registry.image_ref import ImageRef
from dockfix.registry.registry_client import RegistryUnavailable, is_loopback_registry
from support.registry_server import (
    ClientFactory,
    FaultProxy,
    ImagePusher,
    RegistryServer,
    free_port,
)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    drop = {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"}
    out = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("DOCKFIX_")}
    out["DOCKFIX_DIGEST_CACHE"] = str(tmp_path / "digests.json")
    out["DOCKER_CONFIG"] = str(tmp_path / "docker-config")
    out["DOCKFIX_STRICT"] = "1"
    return out


def run_dockfix(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dockfix", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def unique_repo() -> str:
    return f"net/{uuid.uuid4().hex[:10]}"


# ------------------------------------------------------------------------------- --refresh
def test_refresh_asks_the_registry_even_with_a_fresh_cache_entry(
    plain_registry: RegistryServer, tmp_path: Path, env: dict[str, str]
) -> None:
    pusher = ImagePusher(plain_registry.url)
    repo = unique_repo()
    first = pusher.push_image(repo, ["1"], seed=f"{repo}-first")
    # (--insecure-registry: independent of the loopback rule, tested below)
    pin = ("fix", "--select", "DF202", "--insecure-registry", plain_registry.host)
    ref = f"{plain_registry.host}/{repo}:1"
    (tmp_path / "pinned").mkdir()
    (tmp_path / "unpinned").mkdir()
    pinned = tmp_path / "pinned" / "Dockerfile"
    pinned.write_text(f"FROM {ref}\n")
    done = run_dockfix(tmp_path, env, *pin, "--write", "pinned")
    assert done.returncode == 0, done.stderr
    assert pinned.read_text() == f"FROM {ref}@{first.digest}\n"

    # The tag moves; the cache entry written a moment ago is fresh (TTL one day).
    second = pusher.push_image(repo, ["1"], seed=f"{repo}-second")
    assert second.digest != first.digest
    (tmp_path / "unpinned" / "Dockerfile").write_text(f"FROM {ref}\n")
    cached = run_dockfix(tmp_path, env, *pin, "unpinned")
    assert f"+FROM {ref}@{first.digest}" in cached.stdout, cached.stderr  # without --refresh
    assert run_dockfix(tmp_path, env, *pin, "pinned").stdout == ""

    refreshed = run_dockfix(tmp_path, env, *pin, "--refresh", "pinned")
    assert refreshed.returncode == 1, refreshed.stderr
    assert f"-FROM {ref}@{first.digest}\n+FROM {ref}@{second.digest}\n" in refreshed.stdout
    # ... and the cache now holds the new answer.
    after = run_dockfix(tmp_path, env, *pin, "unpinned")
    assert f"+FROM {ref}@{second.digest}" in after.stdout, after.stderr


# ------------------------------------------------------------------------------- no network
def test_an_unreachable_registry_is_one_line_at_the_top(
    tmp_path: Path, env: dict[str, str]
) -> None:
    host = f"127.0.0.1:{free_port()}"  # nothing listens there: connection refused
    for name, image in (("a", "python:3.12"), ("b", "node:22"), ("c", "python:3.12")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "Dockerfile").write_text(
            f"FROM {host}/library/{image}\nFROM {host}/tools/{name}:1\n"
        )
    for command, status in (("check", 1), ("fix", 0)):
        proc = run_dockfix(tmp_path, env, command, "--select", "DF202", ".")
        assert proc.returncode == status, proc.stderr  # findings / no diff; never an error
        lines = proc.stderr.splitlines()
        warnings = [line for line in lines if line.startswith("warning:")]
        assert warnings == [
            f"warning: {host} unreachable: 5 images not pinned; use --offline to skip lookups"
        ], proc.stderr
        assert lines[0] == warnings[0]


def test_fix_offline_says_which_findings_it_skipped_and_why(
    tmp_path: Path, env: dict[str, str]
) -> None:
    # (DF104's display-only finding, because of the exec-form RUN, is not about --offline)
    (tmp_path / "Dockerfile").write_text(
        'FROM python:3.12-slim\nRUN pip install x\nRUN ["pip", "install", "y"]\n'
    )
    proc = run_dockfix(tmp_path, env, "fix", "--offline", "--select", "DF202,DF104", ".")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == [
        "Dockerfile:1:1: DF202 `python:3.12-slim` (FROM) is not pinned to a digest "
        "(not fixed: skipped: offline, not in cache)",
        "0 fixed, 2 left; 0 files would change.",
    ]


# ------------------------------------------------------------------------------- plain HTTP
@pytest.mark.parametrize(
    ("registry", "loopback"),
    [
        ("localhost", True),
        ("localhost:5000", True),
        ("LocalHost:5000", True),
        ("127.0.0.1", True),
        ("127.0.0.1:5000", True),
        ("127.8.9.10:443", True),
        ("[::1]:5000", True),
        ("::1", True),
        ("registry-1.docker.io", False),
        ("localhost.example.com:5000", False),
        ("128.0.0.1:5000", False),
        ("[::2]:5000", False),
        ("ghcr.io", False),
    ],
)
def test_which_registries_are_loopback(registry: str, loopback: bool) -> None:
    assert is_loopback_registry(registry) is loopback


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
def test_a_loopback_registry_is_reached_over_plain_http_without_the_option(
    plain_registry: RegistryServer, tmp_path: Path, env: dict[str, str], name: str
) -> None:
    pusher = ImagePusher(plain_registry.url)
    repo = unique_repo()
    image = pusher.push_image(repo, ["2"], seed=repo)
    ref = f"{name}:{plain_registry.port}/{repo}:2"
    (tmp_path / "Dockerfile").write_text(f"FROM {ref}\n")
    proc = run_dockfix(tmp_path, env, "fix", "--select", "DF202", ".")
    assert proc.returncode == 1, proc.stderr
    assert f"+FROM {ref}@{image.digest}\n" in proc.stdout
    assert "warning" not in proc.stderr


def test_a_tls_error_names_the_insecure_registry_option(
    proxy: FaultProxy, make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The proxy serves plain HTTP on loopback; made to look like a remote registry, it gets
    # TLS, which fails at the handshake: once, without retries, naming the option.
    monkeypatch.setattr(
        "dockfix.registry.registry_client.is_loopback_registry", lambda registry: False
    )
    client = make_client()
    with pytest.raises(RegistryUnavailable) as info:
        client.resolve(ImageRef.parse(f"{proxy.host}/test/multi:1.0"))
    message = str(info.value)
    assert f"TLS with {proxy.host} failed" in message
    assert message.endswith(f"if it serves plain HTTP, use --insecure-registry {proxy.host}")
    assert proxy.request_count == 0
    assert info.value.host_problem == (
        f"{proxy.host}: TLS failed",
        f"if it serves plain HTTP, use --insecure-registry {proxy.host}",
    )


def test_an_untrusted_certificate_names_ssl_cert_file_and_the_option(
    tmp_path: Path, make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    pem = tmp_path / "server.pem"
    pem.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = f"127.0.0.1:{server.server_address[1]}"
    monkeypatch.setattr(
        "dockfix.registry.registry_client.is_loopback_registry", lambda registry: False
    )
    try:
        with pytest.raises(RegistryUnavailable) as info:
            make_client().resolve(ImageRef.parse(f"{host}/team/app:1"))
    finally:
        server.shutdown()
        server.server_close()
    assert str(info.value).endswith(
        f"if its CA is private, name it in SSL_CERT_FILE; "
        f"if it serves plain HTTP, use --insecure-registry {host}"
    )


def test_a_corrupt_digest_cache_is_a_warning_line_of_the_cli(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """The digest cache's problems reach the user as the CLI's `warning:` lines (with the
    file's path when they come with one file's lookups), once, not through Python's logging."""
    host = f"127.0.0.1:{free_port()}"  # nothing listens there: connection refused
    (tmp_path / "Dockerfile").write_text(f"FROM {host}/tools/a:1\n")
    cache = Path(env["DOCKFIX_DIGEST_CACHE"])
    cache.write_text("{not json")
    online = run_dockfix(tmp_path, env, "check", "--select", "DF202", ".")
    assert online.returncode == 1, online.stderr
    assert f"warning: ignoring corrupt digest cache {cache}\n" in online.stderr
    assert online.stderr.count("ignoring") == 1, online.stderr
    cache.write_text("{not json")  # the online run saved a good one
    offline = run_dockfix(tmp_path, env, "check", "--offline", "--select", "DF202", ".")
    assert offline.returncode == 1, offline.stderr
    lines = [line for line in offline.stderr.splitlines() if "digest cache" in line]
    assert lines == [f"warning: Dockerfile: ignoring corrupt digest cache {cache}"]
