"""A real registry for tests: Docker's distribution 2.8 (Debian package ``docker-registry``).

* :class:`RegistryServer` runs ``docker-registry serve <config>`` on a free loopback port
  with a temporary storage directory, without auth, with htpasswd Basic auth, or with
  token auth.
* :class:`TokenIssuer` is a minimal token service: it signs RS256 JWTs with a self-signed
  certificate that the registry trusts through ``rootcertbundle`` (the certificate travels
  in the JWT ``x5c`` header).  It checks Basic credentials or an OAuth2 refresh token
  (``grant_type=refresh_token``, what Docker does with an identity token) and grants
  ``pull``/``push``; anonymous callers get ``pull`` on ``public/*`` only.
* :class:`FaultProxy` sits in front of a registry: it forwards requests, counts them and
  can answer 429 (with ``Retry-After``), 5xx, hang or drop the connection for the first N
  matching requests.  It can also serve the token issuer at ``/token`` so registry and
  token service share one origin (as on ghcr.io).
* :class:`ImagePusher` pushes real images over the registry HTTP API: a tiny gzip layer,
  a config, an OCI or Docker schema 2 manifest, and OCI indexes / Docker manifest lists.

Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import gzip
import hashlib
import http.client
import importlib
import io
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import tarfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

__all__ = [
    "BASIC_PASSWORD",
    "BASIC_USER",
    "DOCKER_MANIFEST_LIST",
    "DOCKER_MANIFEST_V2",
    "OCI_IMAGE_INDEX",
    "OCI_IMAGE_MANIFEST",
    "REFRESH_TOKEN",
    "TOKEN_PASSWORD",
    "TOKEN_USER",
    "BasicSetup",
    "ClientFactory",
    "DockerConfig",
    "FaultProxy",
    "FaultRule",
    "ImagePusher",
    "PushedImage",
    "RegistryServer",
    "RegistryStartError",
    "Seeded",
    "TokenIssuer",
    "TokenSetup",
    "find_registry_binary",
    "free_port",
    "make_htpasswd",
]

OCI_IMAGE_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_IMAGE_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_IMAGE_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_IMAGE_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"

LOOPBACK = "127.0.0.1"
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


class RegistryStartError(RuntimeError):
    """The registry binary is missing or the server did not come up."""


def find_registry_binary() -> str | None:
    """Path of ``docker-registry`` (Debian) or ``registry`` (upstream name), if installed."""
    override = os.environ.get("DOCKFIX_REGISTRY_BINARY")
    if override:
        return override if os.access(override, os.X_OK) else None
    for name in ("docker-registry", "registry"):
        path = shutil.which(name)
        if path:
            return path
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# ====================================================================== htpasswd
def make_htpasswd(users: Mapping[str, str]) -> str:
    """An htpasswd file body with bcrypt hashes (the only kind distribution accepts).

    Uses the ``bcrypt`` package when importable, else ``htpasswd`` from apache2-utils.
    Cost 4 (the minimum) keeps the registry's per-request check fast.
    """
    lines = []
    try:
        bcrypt: Any = importlib.import_module("bcrypt")
    except ImportError:
        bcrypt = None
    for user, password in users.items():
        if bcrypt is not None:
            hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
            lines.append(f"{user}:{hashed}")
            continue
        tool = shutil.which("htpasswd")
        if tool is None:
            raise RegistryStartError(
                "need the 'bcrypt' Python package or 'htpasswd' (apache2-utils) for htpasswd"
            )
        out = subprocess.run(
            [tool, "-nbB", "-C", "4", user, password],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        lines.append(out)
    return "\n".join(lines) + "\n"


# ====================================================================== token issuer
def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class TokenRequestRecord:
    method: str
    had_authorization: bool
    subject: str | None
    scopes: list[str]
    status: int


class TokenIssuer:
    """A tiny Docker token service (``GET``/``POST /token``)."""

    def __init__(
        self,
        directory: Path,
        *,
        users: Mapping[str, str] | None = None,
        refresh_tokens: Mapping[str, str] | None = None,
        service: str = "dockfix-test-registry",
        issuer: str = "dockfix-test-issuer",
        public_prefixes: Sequence[str] = ("public/",),
        expires_in: int = 300,
        token_field: Literal["token", "access_token", "both"] = "token",
    ) -> None:
        self.users = dict(users or {})
        self.refresh_tokens = dict(refresh_tokens or {})
        self.service = service
        self.issuer = issuer
        self.public_prefixes = tuple(public_prefixes)
        self.expires_in = expires_in
        self.token_field = token_field
        self.requests: list[TokenRequestRecord] = []
        self._lock = threading.Lock()
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = dt.datetime.now(dt.UTC)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dockfix test token signer")])
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self._key, hashes.SHA256())
        )
        directory.mkdir(parents=True, exist_ok=True)
        self.rootcertbundle = directory / "token-signer.pem"
        self.rootcertbundle.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))

    # ---------------------------------------------------------------- minting
    def mint(self, subject: str, access: Sequence[Mapping[str, Any]], lifetime: int = 0) -> str:
        now = int(time.time())
        header = {
            "typ": "JWT",
            "alg": "RS256",
            "x5c": [base64.b64encode(self._cert.public_bytes(serialization.Encoding.DER)).decode()],
        }
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.service,
            "exp": now + (lifetime or self.expires_in),
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": [dict(a) for a in access],
        }
        signing_input = (
            _b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + _b64url(json.dumps(claims, separators=(",", ":")).encode())
        )
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + _b64url(signature)

    def full_access_token(self, repository: str) -> str:
        return self.mint(
            "pusher", [{"type": "repository", "name": repository, "actions": ["pull", "push"]}]
        )

    # ---------------------------------------------------------------- HTTP
    def handle(
        self, method: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        params = urllib.parse.parse_qs(query, keep_blank_values=True)
        if method == "POST":
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
            for key, values in form.items():
                params.setdefault(key, []).extend(values)
        scopes = params.get("scope", [])
        authorization = headers.get("authorization") or headers.get("Authorization")
        subject: str | None = None
        denied = False
        if method == "POST":
            if params.get("grant_type", [""])[0] == "refresh_token":
                subject = self.refresh_tokens.get(params.get("refresh_token", [""])[0])
                denied = subject is None
            elif params.get("grant_type", [""])[0] == "password":
                user = params.get("username", [""])[0]
                denied = self.users.get(user) != params.get("password", [None])[0]
                subject = None if denied else user
            else:
                denied = True
        elif authorization:
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() != "basic":
                denied = True
            else:
                try:
                    user, _, password = base64.b64decode(value).decode().partition(":")
                except (ValueError, UnicodeDecodeError):
                    user, password = "", ""
                if self.users.get(user) == password and user:
                    subject = user
                else:
                    denied = True
        if denied:
            self._record(method, authorization, None, scopes, 401)
            return 401, {"Content-Type": "application/json"}, b'{"details":"denied"}'
        access = []
        for scope in scopes:
            parts = scope.split(":")
            if len(parts) < 3 or parts[0] != "repository":
                continue
            name, actions = ":".join(parts[1:-1]), parts[-1].split(",")
            if subject is None:
                if not name.startswith(self.public_prefixes):
                    continue
                actions = [a for a in actions if a == "pull"]
            access.append({"type": "repository", "name": name, "actions": actions})
        token = self.mint(subject or "", access)
        payload: dict[str, Any] = {
            "expires_in": self.expires_in,
            "issued_at": dt.datetime.now(dt.UTC).isoformat(),
        }
        if self.token_field in ("token", "both"):
            payload["token"] = token
        if self.token_field in ("access_token", "both"):
            payload["access_token"] = token
        self._record(method, authorization, subject, scopes, 200)
        return 200, {"Content-Type": "application/json"}, json.dumps(payload).encode()

    def _record(
        self,
        method: str,
        authorization: str | None,
        subject: str | None,
        scopes: list[str],
        st: int,
    ) -> None:
        with self._lock:
            self.requests.append(
                TokenRequestRecord(method, authorization is not None, subject, list(scopes), st)
            )


# ====================================================================== fault proxy
@dataclass
class FaultRule:
    """Misbehave for the first *times* requests matching *path* (regex) and *method*.

    ``action``:

    * ``"status"`` answers ``status`` (with ``Retry-After: retry_after`` if given);
    * ``"hang"`` holds the connection open for ``hang_seconds`` (or until the proxy stops)
      and then closes it without an answer;
    * ``"close"`` drops the connection at once;
    * ``"redirect"`` answers ``status`` (default 307 here) with ``Location: location`` +
      the original path and query;
    * ``"delay"`` waits ``hang_seconds`` and then forwards the request normally.
    """

    action: Literal["status", "hang", "close", "redirect", "delay"] = "status"
    status: int = 500
    retry_after: str | None = None
    times: int = 1
    path: str | None = None
    method: str | None = None
    hang_seconds: float = 30.0
    location: str = ""
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.hits >= self.times:
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        return self.path is None or re.search(self.path, path) is not None


@dataclass
class ProxyRecord:
    method: str
    path: str
    status: int | None  # None: hung or dropped
    had_authorization: bool


class FaultProxy:
    """A counting, fault-injecting HTTP proxy in front of one upstream (loopback only)."""

    def __init__(
        self,
        upstream: str | None = None,
        token_issuer: TokenIssuer | None = None,
        *,
        paginate_tags: int | None = None,
    ) -> None:
        self.upstream = upstream  # "127.0.0.1:5000"
        self.token_issuer = token_issuer
        # distribution 2.8 ignores ``n``/``last`` on tags/list; with paginate_tags set the
        # proxy pages the upstream's answer as the OCI distribution spec describes.
        self.paginate_tags = paginate_tags
        # Response headers to remove (e.g. Docker-Content-Digest) and a manifest rewriter.
        self.strip_headers: set[str] = set()
        self.mutate_body: Callable[[bytes], bytes] | None = None
        self.max_in_flight = 0
        self._in_flight = 0
        self.rules: list[FaultRule] = []
        self.records: list[ProxyRecord] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- control
    def start(self) -> FaultProxy:
        proxy = self

        class Handler(_ProxyHandler):
            owner = proxy

        server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def add_fault(self, rule: FaultRule | None = None, **kwargs: Any) -> FaultRule:
        rule = rule if rule is not None else FaultRule(**kwargs)
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear_faults(self) -> None:
        with self._lock:
            self.rules.clear()

    def reset_counts(self) -> None:
        with self._lock:
            self.records.clear()

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.records)

    def count(self, *, method: str | None = None, path: str | None = None) -> int:
        with self._lock:
            return sum(
                1
                for r in self.records
                if (method is None or r.method == method)
                and (path is None or re.search(path, r.path))
            )

    def by_path(self) -> Counter[str]:
        with self._lock:
            return Counter(f"{r.method} {r.path}" for r in self.records)

    # ---------------------------------------------------------------- internals
    def _take_rule(self, method: str, path: str) -> FaultRule | None:
        with self._lock:
            for rule in self.rules:
                if rule.matches(method, path):
                    rule.hits += 1
                    return FaultRule(**{**rule.__dict__})
        return None

    def _record(self, record: ProxyRecord) -> None:
        with self._lock:
            self.records.append(record)


class _ProxyHandler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"
    server_version = "dockfix-fault-proxy"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        # In flight: from the request's arrival until just before its answer is written,
        # so the count never lags behind a client that already has its answer.
        owner = self.owner
        self._counted = True
        with owner._lock:
            owner._in_flight += 1
            owner.max_in_flight = max(owner.max_in_flight, owner._in_flight)
        try:
            self._handle_counted()
        finally:
            self._answered()

    def _answered(self) -> None:
        if getattr(self, "_counted", False):
            self._counted = False
            with self.owner._lock:
                self.owner._in_flight -= 1

    def _handle_counted(self) -> None:
        owner = self.owner
        method = self.command
        split = urllib.parse.urlsplit(self.path)
        path = split.path
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        had_auth = "Authorization" in self.headers

        rule = owner._take_rule(method, path)
        if rule is not None and rule.action == "delay":
            owner._stopping.wait(rule.hang_seconds)
            rule = None
        if rule is not None:
            if rule.action == "hang":
                owner._record(ProxyRecord(method, path, None, had_auth))
                owner._stopping.wait(rule.hang_seconds)
                self.close_connection = True
                return
            if rule.action == "close":
                owner._record(ProxyRecord(method, path, None, had_auth))
                self.close_connection = True
                return
            if rule.action == "redirect":
                owner._record(ProxyRecord(method, path, rule.status, had_auth))
                self._reply(rule.status, {"Location": rule.location + self.path}, b"")
                return
            headers = {"Content-Type": "application/json"}
            if rule.retry_after is not None:
                headers["Retry-After"] = rule.retry_after
            payload = json.dumps(
                {"errors": [{"code": "INJECTED", "message": f"injected {rule.status}"}]}
            ).encode()
            owner._record(ProxyRecord(method, path, rule.status, had_auth))
            self._reply(rule.status, headers, payload)
            return

        if path == "/token" and owner.token_issuer is not None:
            status, headers, payload = owner.token_issuer.handle(
                method, split.query, {k: v for k, v in self.headers.items()}, body
            )
            owner._record(ProxyRecord(method, path, status, had_auth))
            self._reply(status, headers, payload)
            return

        if owner.upstream is None:
            owner._record(ProxyRecord(method, path, 502, had_auth))
            self._reply(502, {"Content-Type": "text/plain"}, b"no upstream")
            return
        host, _, port = owner.upstream.rpartition(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            forward = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            forward["Host"] = owner.upstream
            if body:
                forward["Content-Length"] = str(len(body))
            conn.request(method, self.path, body=body or None, headers=forward)
            response = conn.getresponse()
            payload = response.read()
            headers_out = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
            content_length = response.getheader("Content-Length")
            status = response.status
        finally:
            conn.close()
        if (
            owner.paginate_tags is not None
            and method == "GET"
            and status == 200
            and path.endswith("/tags/list")
        ):
            payload, link = _paginate(payload, split.query, path, owner.paginate_tags)
            headers_out = [(k, v) for k, v in headers_out if k.lower() != "link"]
            if link:
                headers_out.append(("Link", link))
        if owner.strip_headers:
            drop = {h.lower() for h in owner.strip_headers}
            headers_out = [(k, v) for k, v in headers_out if k.lower() not in drop]
        if owner.mutate_body is not None and method == "GET" and "/manifests/" in path:
            payload = owner.mutate_body(payload)
        owner._record(ProxyRecord(method, path, status, had_auth))
        self._answered()
        self.send_response(status)
        for key, value in headers_out:
            self.send_header(key, value)
        if method == "HEAD":
            self.send_header("Content-Length", content_length or "0")
        else:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(payload)

    def _reply(self, status: int, headers: Mapping[str, str], payload: bytes) -> None:
        self._answered()
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


def _paginate(payload: bytes, query: str, path: str, default_n: int) -> tuple[bytes, str]:
    """Page a full tag list: lexical order, ``last`` exclusive, ``n`` at most; Link if more."""
    document = json.loads(payload)
    tags = sorted(document.get("tags") or [])
    params = urllib.parse.parse_qs(query)
    n = int(params.get("n", [str(default_n)])[0])
    last = params.get("last", [None])[0]
    if last is not None:
        tags = [t for t in tags if t > last]
    page, more = tags[:n], len(tags) > n
    document["tags"] = page
    link = ""
    if more and page:
        next_query = urllib.parse.urlencode({"n": n, "last": page[-1]})
        link = f'<{path}?{next_query}>; rel="next"'
    return json.dumps(document).encode(), link


# ====================================================================== registry server
AuthMode = Literal["none", "htpasswd", "token"]


class RegistryServer:
    """``docker-registry serve`` on a free loopback port with its own storage directory."""

    def __init__(
        self,
        workdir: Path,
        *,
        auth: AuthMode = "none",
        users: Mapping[str, str] | None = None,
        token_issuer: TokenIssuer | None = None,
        token_realm: str | None = None,
        binary: str | None = None,
    ) -> None:
        self.workdir = workdir
        self.auth = auth
        self.users = dict(users or {})
        self.token_issuer = token_issuer
        self.token_realm = token_realm
        self.binary = binary or find_registry_binary()
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "registry.log"
        if auth == "token" and (token_issuer is None or token_realm is None):
            raise ValueError("token auth needs a token_issuer and a token_realm")

    @property
    def host(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def _config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": True}},
            "storage": {
                "filesystem": {"rootdirectory": str(self.workdir / "storage")},
                "delete": {"enabled": True},
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            "http": {
                "addr": f"{LOOPBACK}:{self.port}",
                "secret": secrets.token_hex(16),
                "headers": {"X-Content-Type-Options": ["nosniff"]},
            },
        }
        if self.auth == "htpasswd":
            htpasswd = self.workdir / "htpasswd"
            htpasswd.write_text(make_htpasswd(self.users))
            config["auth"] = {"htpasswd": {"realm": "dockfix-test", "path": str(htpasswd)}}
        elif self.auth == "token":
            assert self.token_issuer is not None
            config["auth"] = {
                "token": {
                    "realm": self.token_realm,
                    "service": self.token_issuer.service,
                    "issuer": self.token_issuer.issuer,
                    "rootcertbundle": str(self.token_issuer.rootcertbundle),
                }
            }
        return config

    def start(self, timeout: float = 20.0) -> RegistryServer:
        if self.binary is None:
            raise RegistryStartError(
                "docker-registry is not installed (apt-get install docker-registry)"
            )
        self.workdir.mkdir(parents=True, exist_ok=True)
        last_error = ""
        for _attempt in range(3):  # the free port may be taken between probe and bind
            self.port = free_port()
            config_path = self.workdir / "config.yml"
            # YAML is a superset of JSON: no YAML library needed.
            config_path.write_text(json.dumps(self._config(), indent=2))
            env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(
                    [self.binary, "serve", str(config_path)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=env,
                    cwd=self.workdir,
                )
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                if self._ping():
                    return self
                time.sleep(0.05)
            code = self.process.poll()
            state = f"exited with code {code}" if code is not None else f"no answer in {timeout}s"
            last_error = f"{state}; log: {self._log_tail().strip() or '(empty)'}"
            self.stop()
        raise RegistryStartError(f"{self.binary} did not start ({last_error})")

    def _ping(self) -> bool:
        try:
            conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=1)
            conn.request("GET", "/v2/")
            status = conn.getresponse().status
            conn.close()
        except OSError:
            return False
        return status in (200, 401)

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    def __enter__(self) -> RegistryServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ====================================================================== pushing images
@dataclass(frozen=True)
class PushedImage:
    digest: str
    media_type: str
    body: bytes
    children: Mapping[str, str] = field(default_factory=dict)  # "linux/arm64" -> digest


def _layer_tarball(seed: str) -> tuple[bytes, str]:
    """A deterministic gzip tarball with one small file; returns (blob, diff_id)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        content = f"dockfix test layer {seed}\n".encode()
        info = tarfile.TarInfo(name=f"dockfix/{seed}.txt")
        info.size = len(content)
        info.mtime = 0
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(content))
    uncompressed = raw.getvalue()
    compressed = gzip.compress(uncompressed, mtime=0)
    return compressed, sha256_digest(uncompressed)


class ImagePusher:
    """Push blobs, manifests and indexes to a registry over its HTTP API (no Docker)."""

    def __init__(
        self, base_url: str, authorization: Callable[[str], str | None] | None = None
    ) -> None:
        self.base = urllib.parse.urlsplit(base_url)
        self.authorization = authorization

    def _headers(self, repo: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.authorization is not None:
            value = self.authorization(repo)
            if value:
                headers["Authorization"] = value
        return headers

    def _call(
        self,
        method: str,
        url: str,
        repo: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> http.client.HTTPResponse:
        target = urllib.parse.urlsplit(url)
        host = target.hostname or self.base.hostname or LOOPBACK
        port = target.port or self.base.port or 80
        conn = http.client.HTTPConnection(host, port, timeout=30)
        path = target.path + (f"?{target.query}" if target.query else "")
        conn.request(method, path, body=body, headers=self._headers(repo, headers))
        response = conn.getresponse()
        response.read()
        conn.close()
        return response

    def push_blob(self, repo: str, data: bytes) -> str:
        digest = sha256_digest(data)
        start = self._call("POST", f"{self.base.geturl()}/v2/{repo}/blobs/uploads/", repo)
        if start.status != 202:
            raise RuntimeError(f"blob upload start for {repo}: HTTP {start.status}")
        location = start.getheader("Location") or ""
        location = urllib.parse.urljoin(self.base.geturl() + "/", location)
        sep = "&" if "?" in location else "?"
        done = self._call(
            "PUT",
            f"{location}{sep}digest={urllib.parse.quote(digest)}",
            repo,
            body=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        if done.status != 201:
            raise RuntimeError(f"blob upload for {repo}: HTTP {done.status}")
        return digest

    def put_manifest(self, repo: str, reference: str, body: bytes, media_type: str) -> str:
        response = self._call(
            "PUT",
            f"{self.base.geturl()}/v2/{repo}/manifests/{reference}",
            repo,
            body=body,
            headers={"Content-Type": media_type},
        )
        if response.status != 201:
            raise RuntimeError(f"manifest PUT {repo}:{reference}: HTTP {response.status}")
        digest = sha256_digest(body)
        announced = response.getheader("Docker-Content-Digest")
        if announced and announced != digest:
            raise RuntimeError(f"registry computed {announced}, expected {digest}")
        return digest

    def push_image(
        self,
        repo: str,
        tags: Sequence[str] = (),
        *,
        fmt: Literal["oci", "docker"] = "oci",
        seed: str = "default",
        os_name: str = "linux",
        arch: str = "amd64",
    ) -> PushedImage:
        """Push a one-layer image and tag it; returns its manifest digest."""
        layer, diff_id = _layer_tarball(f"{seed}-{os_name}-{arch}")
        config = json.dumps(
            {
                "architecture": arch,
                "os": os_name,
                "created": "2024-01-01T00:00:00Z",
                "config": {"Labels": {"dockfix.test.seed": seed}},
                "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "dockfix test"}],
            },
            sort_keys=True,
        ).encode()
        layer_digest = self.push_blob(repo, layer)
        config_digest = self.push_blob(repo, config)
        media_type = OCI_IMAGE_MANIFEST if fmt == "oci" else DOCKER_MANIFEST_V2
        manifest = {
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": {
                "mediaType": OCI_IMAGE_CONFIG if fmt == "oci" else DOCKER_IMAGE_CONFIG,
                "digest": config_digest,
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": OCI_LAYER_GZIP if fmt == "oci" else DOCKER_LAYER_GZIP,
                    "digest": layer_digest,
                    "size": len(layer),
                }
            ],
        }
        body = json.dumps(manifest, indent=3).encode()
        digest = sha256_digest(body)
        self.put_manifest(repo, digest, body, media_type)
        for tag in tags:
            self.put_manifest(repo, tag, body, media_type)
        return PushedImage(digest, media_type, body)

    def push_index(
        self,
        repo: str,
        tags: Sequence[str] = (),
        *,
        fmt: Literal["oci", "docker"] = "oci",
        seed: str = "default",
        platforms: Sequence[tuple[str, str]] = (("linux", "amd64"), ("linux", "arm64")),
    ) -> PushedImage:
        """Push one image per platform and an index (or manifest list) over them."""
        entries = []
        children: dict[str, str] = {}
        for os_name, arch in platforms:
            image = self.push_image(repo, (), fmt=fmt, seed=seed, os_name=os_name, arch=arch)
            children[f"{os_name}/{arch}"] = image.digest
            platform: dict[str, str] = {"architecture": arch, "os": os_name}
            if arch == "arm64":
                platform["variant"] = "v8"
            entries.append(
                {
                    "mediaType": image.media_type,
                    "digest": image.digest,
                    "size": len(image.body),
                    "platform": platform,
                }
            )
        media_type = OCI_IMAGE_INDEX if fmt == "oci" else DOCKER_MANIFEST_LIST
        body = json.dumps(
            {"schemaVersion": 2, "mediaType": media_type, "manifests": entries}, indent=3
        ).encode()
        digest = sha256_digest(body)
        self.put_manifest(repo, digest, body, media_type)
        for tag in tags:
            self.put_manifest(repo, tag, body, media_type)
        return PushedImage(digest, media_type, body, children)

    def retag(self, repo: str, image: PushedImage, tags: Sequence[str]) -> None:
        for tag in tags:
            self.put_manifest(repo, tag, image.body, image.media_type)


@contextlib.contextmanager
def running(*servers: RegistryServer | FaultProxy) -> Iterator[None]:
    """Start servers in order and stop them in reverse order."""
    started: list[RegistryServer | FaultProxy] = []
    try:
        for server in servers:
            server.start()
            started.append(server)
        yield
    finally:
        for server in reversed(started):
            server.stop()


# ====================================================================== fixture data
# Credentials of the test servers (fake, only ever sent to loopback test servers).
BASIC_USER = "alice"
BASIC_PASSWORD = "s3cret-Basic-PW-9f2c"
TOKEN_USER = "bob"
TOKEN_PASSWORD = "t0ken-User-PW-77ab"
REFRESH_TOKEN = "refresh-Identity-Token-5d1e0c"


@dataclass(frozen=True)
class Seeded:
    """What the session's plain registry holds."""

    multi: PushedImage  # test/multi: 1, 1.0, 1.0.2, v1.0.2, latest (OCI index amd64+arm64)
    older: PushedImage  # test/multi: 0.9, 0.9.1
    slim: PushedImage  # test/multi: 1-slim, 1.0-slim, 1.0.2-slim
    single: PushedImage  # test/single:1 (one OCI manifest)
    docker_v2: PushedImage  # test/dockerv2:1 (Docker schema 2)
    docker_list: PushedImage  # test/dlist:1 (Docker manifest list)
    paged_tags: tuple[str, ...]  # test/paged
    workers: tuple[PushedImage, ...]  # test/c0..c3:1


@dataclass(frozen=True)
class BasicSetup:
    server: RegistryServer  # htpasswd auth
    image: PushedImage  # private/app:1.0


@dataclass(frozen=True)
class TokenSetup:
    issuer: TokenIssuer
    front: FaultProxy  # registry + /token on one origin: use front.host as the registry
    server: RegistryServer  # the registry itself (its token realm is on another origin)
    private: PushedImage  # private/app:2.0, private/app:2.1
    public: PushedImage  # public/hello:1


ClientFactory = Callable[..., Any]
"""``make_client(*insecure_hosts, **RegistryClient_kwargs) -> RegistryClient`` fixture type."""


class DockerConfig:
    """A private DOCKER_CONFIG directory for one test."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "config.json"

    def write(self, config: Mapping[str, Any]) -> None:
        self.path.write_text(json.dumps(config))
