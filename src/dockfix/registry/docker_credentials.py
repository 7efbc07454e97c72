"""Registry credentials from Docker's ``config.json``, looked up the way the Docker CLI does.

Location: ``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``.

Lookup for a registry host (``ghcr.io``, ``localhost:5000``; Docker Hub uses the key
``https://index.docker.io/v1/``):

1. ``credHelpers[<host>]`` names a helper: run ``docker-credential-<helper> get`` with the
   server address on stdin;
2. else ``credsStore`` names a helper for every registry: same;
3. else (or when the helper has nothing for that server) the ``auths`` entry whose key,
   stripped of scheme and path, is the host: ``auth`` (base64 ``user:password``) or
   ``username``/``password``; ``identitytoken`` (an OAuth refresh token) and
   ``registrytoken`` (a bearer token) are honoured too.

Secrets never appear in ``repr``/``str`` of :class:`Credentials`, nor in any exception
raised here.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "DOCKER_HUB_SERVER_ADDRESS",
    "CredentialHelperError",
    "Credentials",
    "DockerCredentialStore",
    "default_docker_config_path",
    "hostname_of",
    "server_address_for",
]


DOCKER_HUB_SERVER_ADDRESS = "https://index.docker.io/v1/"
"""The key Docker stores Docker Hub credentials under."""

_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_TOKEN_USERNAME = "<token>"  # a helper answering this username returns an identity token


class CredentialHelperError(Exception):
    """A ``docker-credential-*`` helper could not be run or gave an unusable answer."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """Credentials for one registry.  ``repr``/``str`` never show the secret values."""

    server: str
    source: str
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    identity_token: str | None = field(default=None, repr=False)
    registry_token: str | None = field(default=None, repr=False)

    @property
    def has_basic(self) -> bool:
        return bool(self.username) and self.password is not None

    @property
    def kind(self) -> str:
        if self.registry_token:
            return "registry-token"
        if self.identity_token:
            return "identity-token"
        return "basic" if self.has_basic else "empty"

    @property
    def is_empty(self) -> bool:
        return self.kind == "empty"

    def secrets(self) -> tuple[str, ...]:
        """Every secret string (for redaction checks); includes the base64 Basic form."""
        values = [v for v in (self.password, self.identity_token, self.registry_token) if v]
        if self.has_basic:
            pair = f"{self.username}:{self.password}".encode()
            values.append(base64.b64encode(pair).decode("ascii"))
        return tuple(values)

    def __repr__(self) -> str:
        return f"Credentials(server={self.server!r}, source={self.source!r}, kind={self.kind!r})"

    __str__ = __repr__


def default_docker_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``."""
    env = os.environ if environ is None else environ
    config_dir = env.get("DOCKER_CONFIG")
    if config_dir:
        return Path(config_dir) / "config.json"
    home = env.get("HOME")
    base = Path(home) if home else Path.home()
    return base / ".docker" / "config.json"


def hostname_of(address: str) -> str:
    """Docker's ``ConvertToHostname``: drop the scheme and anything after the host."""
    text = address
    for prefix in ("http://", "https://"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    return text.split("/", 1)[0]


def server_address_for(registry: str) -> str:
    """The server address Docker uses for *registry* (the Hub has a special one)."""
    if registry.lower() in _HUB_HOSTS:
        return DOCKER_HUB_SERVER_ADDRESS
    return registry


def _lookup_keys(registry: str) -> list[str]:
    """Hostnames under which credentials for *registry* may be filed."""
    if registry.lower() in _HUB_HOSTS:
        return [DOCKER_HUB_SERVER_ADDRESS, "index.docker.io", "docker.io", "registry-1.docker.io"]
    return [registry]


class DockerCredentialStore:
    """Reads Docker's config.json (lazily, once) and answers credentials per registry host.

    Thread-safe; helper answers are memoised per server address for the store's lifetime.
    """

    def __init__(
        self,
        config_path: str | os.PathLike[str] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        helper_timeout: float = 30.0,
    ) -> None:
        # None: the process environment at the time of each lookup (PATH for helpers).
        self._environ = dict(environ) if environ is not None else None
        self._config_path = (
            Path(config_path)
            if config_path is not None
            else default_docker_config_path(self._environ)
        )
        self._helper_timeout = helper_timeout
        self._lock = threading.Lock()
        self._lookup_lock = threading.Lock()  # one helper call at a time, each answer once
        self._config: dict[str, Any] | None = None
        self._memo: dict[str, Credentials | None] = {}
        # Problems with config.json, one line each (never a credential): the caller reports them.
        self.warnings: list[str] = []

    @property
    def config_path(self) -> Path:
        return self._config_path

    def __repr__(self) -> str:
        return f"DockerCredentialStore(config_path={str(self._config_path)!r})"

    # ----------------------------------------------------------------- public
    def get(self, registry: str) -> Credentials | None:
        """Credentials for *registry* (``host[:port]``), or None.

        Raises :class:`CredentialHelperError` when a configured helper fails (other than
        answering "credentials not found").
        """
        with self._lookup_lock:
            with self._lock:
                if registry in self._memo:
                    return self._memo[registry]
            creds = self._lookup(registry)
            with self._lock:
                self._memo[registry] = creds
            return creds

    # ----------------------------------------------------------------- internals
    def _load(self) -> dict[str, Any]:
        with self._lock:
            if self._config is not None:
                return self._config
        config: dict[str, Any] = {}
        try:
            raw = self._config_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raw = None
        except OSError as exc:
            self.warnings.append(f"cannot read {self._config_path}: {exc.strerror}")
            raw = None
        if raw is not None:
            try:
                loaded = json.loads(raw)
            except ValueError:
                # Do not echo the parser message: it may quote a slice of the file.
                self.warnings.append(f"ignoring {self._config_path}: not valid JSON")
            else:
                if isinstance(loaded, dict):
                    config = loaded
                else:
                    self.warnings.append(f"ignoring {self._config_path}: not a JSON object")
        with self._lock:
            self._config = config
        return config

    def _lookup(self, registry: str) -> Credentials | None:
        config = self._load()
        keys = _lookup_keys(registry)
        server = server_address_for(registry)

        helpers = config.get("credHelpers")
        helper: str | None = None
        if isinstance(helpers, dict):
            for key, value in helpers.items():
                if isinstance(value, str) and value and (key in keys or hostname_of(key) in keys):
                    helper = value
                    break
        if helper is None:
            store = config.get("credsStore")
            if isinstance(store, str) and store:
                helper = store
        if helper is not None:
            creds = self._from_helper(helper, server)
            if creds is not None:
                return creds
        return self._from_auths(config, keys, server)

    def _from_auths(
        self, config: Mapping[str, Any], keys: list[str], server: str
    ) -> Credentials | None:
        auths = config.get("auths")
        if not isinstance(auths, dict):
            return None
        entry: Any = None
        for key in keys:  # exact key first, as Docker does
            if key in auths:
                entry = auths[key]
                break
        else:
            for key, value in auths.items():
                if hostname_of(key) in keys:
                    entry = value
                    break
        if not isinstance(entry, dict):
            return None
        username = _str_or_none(entry.get("username"))
        password = _str_or_none(entry.get("password"))
        encoded = _str_or_none(entry.get("auth"))
        if encoded:
            try:
                decoded = base64.b64decode(encoded, validate=False).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                self.warnings.append(f"ignoring malformed 'auth' value for {server} in config.json")
                decoded = ""
            user, sep, secret = decoded.partition(":")
            if sep and user:
                username, password = user, secret
            elif decoded:
                self.warnings.append(f"ignoring malformed 'auth' value for {server} in config.json")
        creds = Credentials(
            server=server,
            source="config.json auths",
            username=username,
            password=password,
            identity_token=_str_or_none(entry.get("identitytoken")),
            registry_token=_str_or_none(entry.get("registrytoken")),
        )
        return None if creds.is_empty else creds

    def _from_helper(self, helper: str, server: str) -> Credentials | None:
        program = f"docker-credential-{helper}"
        if "/" in helper or os.sep in helper:
            raise CredentialHelperError(f"invalid credential helper name {helper!r}")
        try:
            proc = subprocess.run(
                [program, "get"],
                input=server.encode("utf-8"),
                capture_output=True,
                timeout=self._helper_timeout,
                env=self._environ,
                check=False,
            )
        except FileNotFoundError:
            raise CredentialHelperError(
                f"credential helper {program} (configured in config.json) is not on PATH"
            ) from None
        except subprocess.TimeoutExpired:
            raise CredentialHelperError(
                f"credential helper {program} did not answer within {self._helper_timeout:g}s"
            ) from None
        except OSError as exc:
            raise CredentialHelperError(
                f"credential helper {program} could not be run: {exc.strerror}"
            ) from None
        if proc.returncode != 0:
            # Helpers report a missing entry on stdout with this well-known text.
            if b"credentials not found" in proc.stdout.lower():
                return None
            raise CredentialHelperError(
                f"credential helper {program} failed for {server} (exit {proc.returncode})"
            )
        try:
            answer = json.loads(proc.stdout.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise CredentialHelperError(
                f"credential helper {program} gave a non-JSON answer for {server}"
            ) from None
        if not isinstance(answer, dict):
            raise CredentialHelperError(
                f"credential helper {program} gave an unexpected answer for {server}"
            )
        username = _str_or_none(answer.get("Username"))
        secret = _str_or_none(answer.get("Secret"))
        if not secret:
            return None
        source = f"credential helper {program}"
        if username == _TOKEN_USERNAME:
            return Credentials(server=server, source=source, identity_token=secret)
        return Credentials(server=server, source=source, username=username, password=secret)


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value != "" else None
