"""A small OCI distribution client for the digest-pinning fixers.

What it does
------------
* ``resolve(ref)``: ``HEAD /v2/<name>/manifests/<tag>`` with an ``Accept`` header listing
  the OCI image index, the Docker manifest list, the OCI image manifest and the Docker v2
  manifest, and reads ``Docker-Content-Digest``.  For a multi-arch image that is the
  digest of the *index* (what every platform can pull), never a platform manifest.  If the
  registry refuses HEAD (405/501) or sends no usable digest header it falls back to GET and
  computes the digest of the exact bytes received; a digest header that disagrees with the
  bytes is an error.  A digest is returned only when the registry vouched for it (HEAD) or
  this module verified it (GET).
* ``list_tags(ref)``: ``GET /v2/<name>/tags/list`` following ``Link: <…>; rel="next"``
  pagination (optionally asking for pages of ``n``).
* ``most_specific_tag(ref)``: which version tag shares the digest of e.g. ``latest`` (see
  :func:`version_candidates` for the heuristic).

Authentication
--------------
Anonymous first.  On 401 the ``WWW-Authenticate`` challenge is parsed:

* ``Bearer realm=…,service=…,scope=…``: a token is fetched from the realm (``GET`` with
  ``service``/``scope``; with an identity token from config.json an OAuth2
  ``POST grant_type=refresh_token`` as Docker does), ``token`` or ``access_token`` is used
  and cached per (registry, scope) until ``expires_in`` (default 60 s) runs out.
* ``Basic``: the registry's own credentials are sent.

Credentials come from Docker's config.json (:mod:`dockfix.registry.docker_credentials`) and are only
ever sent to the host they are for.  Docker itself sends a registry's Basic credentials to
whatever token realm the registry names; this client is stricter: it sends them to the
realm only when the realm has the *same scheme, host and port* as the registry (GHCR, Quay,
GCR/Artifact Registry, ACR, Harbor and ECR Public work this way; gitlab.com does not), or
to a realm host explicitly trusted for that registry (``token_realm_hosts``; by default only
``https://auth.docker.io``, Docker's own token service for Docker Hub).  Otherwise the
token is requested anonymously and, if that is not enough, the error says the credentials
were withheld.  Credentials never go over plain HTTP to a registry that is neither listed as
insecure nor on this machine (loopback), and redirects to another origin are followed without
the ``Authorization`` header.  Secrets never appear in exceptions, logs or ``repr``.

Robustness
----------
Each unique lookup key (:attr:`ImageRef.key`) is resolved once per client (concurrent
callers share the in-flight request); at most ``max_per_host`` requests run at once per
host; connection errors, timeouts and 5xx are retried with exponential backoff
(``max_tries`` in all); 429 waits for ``Retry-After`` when it is at most
``max_retry_after`` seconds.  A host that gave no answer after all tries (connection errors,
timeouts), or asked to wait longer than that, is not asked again by this client: later
requests to it fail at once, so a dead registry costs one round of timeouts per run, not one
per image.  401/403/404 raise :class:`NotFoundOrUnauthorized` ("not found
or not authorised": Docker Hub answers 401 for repositories that do not exist).

Caching
-------
With a :class:`~dockfix.registry.digest_cache.DigestCache`, fresh entries (younger than its TTL)
answer without any request; ``offline=True`` answers only from the cache, stale entries
included (``Resolved.stale``), and never opens a connection.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import json
import logging
import random
import re
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from dockfix.registry.digest_cache import DigestCache
from dockfix.registry.docker_credentials import (
    CredentialHelperError,
    Credentials,
    DockerCredentialStore,
)
from dockfix.registry.image_ref import DOCKER_HUB_API_HOST, ImageRef, validate_digest

__all__ = [
    "DEFAULT_TOKEN_REALM_HOSTS",
    "DOCKER_MANIFEST_LIST",
    "DOCKER_MANIFEST_V2",
    "INDEX_MEDIA_TYPES",
    "MANIFEST_ACCEPT",
    "OCI_IMAGE_INDEX",
    "OCI_IMAGE_MANIFEST",
    "DigestVerificationError",
    "NotFoundOrUnauthorized",
    "OfflineCacheMiss",
    "RateLimited",
    "RegistryClient",
    "RegistryError",
    "RegistryProtocolError",
    "RegistryUnavailable",
    "Resolved",
    "is_loopback_registry",
    "parse_version_tag",
    "version_candidates",
]

# Debugging only (requests and retries, never a credential): warnings a user should see are
# returned (see take_warnings), since only the CLI writes to the terminal.
logger = logging.getLogger("dockfix.registry")

OCI_IMAGE_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_IMAGE_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
_DOCKER_SCHEMA1 = (
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
)
INDEX_MEDIA_TYPES = frozenset({OCI_IMAGE_INDEX, DOCKER_MANIFEST_LIST})
MANIFEST_ACCEPT = ", ".join(
    (OCI_IMAGE_INDEX, DOCKER_MANIFEST_LIST, OCI_IMAGE_MANIFEST, DOCKER_MANIFEST_V2)
)

_MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # the OCI distribution spec's suggested limit
_MAX_JSON_BYTES = 16 * 1024 * 1024
_MAX_REDIRECTS = 5
_MAX_TAG_PAGES = 1000
_DEFAULT_TOKEN_LIFETIME = 60.0
DEFAULT_TOKEN_REALM_HOSTS: Mapping[str, tuple[str, ...]] = {
    DOCKER_HUB_API_HOST: ("auth.docker.io",),
}
"""Token services on another host that may receive a registry's credentials (HTTPS only)."""
_RETRY_STATUSES = frozenset({500, 502, 503, 504})
_DENIED_STATUSES = frozenset({401, 403, 404})
_USER_AGENT = "dockfix-registry-client/0.1"

_T = TypeVar("_T")


# ====================================================================== results & errors
@dataclass(frozen=True, slots=True)
class Resolved:
    """A resolved manifest digest.

    ``media_type`` tells an index (multi-platform) from a single manifest; ``from_cache``
    says it came from the persistent cache; ``stale`` that the cache entry was older than
    its TTL (offline mode only); ``fetched_at`` is when the registry was asked (epoch s).
    """

    digest: str
    media_type: str
    from_cache: bool = False
    stale: bool = False
    fetched_at: float | None = None

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_MEDIA_TYPES


class RegistryError(Exception):
    """Base class; ``reference`` is the reference as written, ``status`` the HTTP status."""

    def __init__(
        self, message: str, *, reference: str | None = None, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.reference = reference
        self.status = status

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __str__(self) -> str:
        return self.message


class NotFoundOrUnauthorized(RegistryError):
    """401/403/404: the repository or tag does not exist, or we may not see it."""


class RateLimited(RegistryError):
    """429 and the registry asked to wait longer than allowed (or kept refusing)."""

    def __init__(
        self,
        message: str,
        *,
        reference: str | None = None,
        status: int | None = 429,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, reference=reference, status=status)
        self.retry_after = retry_after


class RegistryUnavailable(RegistryError):
    """Connection errors, timeouts or 5xx answers, after all retries.

    ``host_problem``, when the whole host failed (no answer at all, or a failed TLS
    handshake): what went wrong with it and what to do, e.g. ``("registry-1.docker.io
    unreachable", "use --offline to skip lookups")``, so a run can say it once per host.
    """

    def __init__(
        self,
        message: str,
        *,
        reference: str | None = None,
        status: int | None = None,
        host_problem: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(message, reference=reference, status=status)
        self.host_problem = host_problem


class RegistryProtocolError(RegistryError):
    """The registry answered something this client cannot use."""


class DigestVerificationError(RegistryError):
    """The manifest bytes do not match the digest the registry announced or we asked for."""


class OfflineCacheMiss(RegistryError):
    """Offline mode and the answer is not in the cache."""


# ====================================================================== version heuristic
_VERSION_TAG_RE = re.compile(
    r"^v?(?P<numbers>\d+(?:\.\d+)*)(?:-(?P<suffix>[0-9A-Za-z][0-9A-Za-z._-]*))?$", re.ASCII
)


def parse_version_tag(tag: str) -> tuple[tuple[int, ...], str] | None:
    """``"3.12.1-slim"`` -> ``((3, 12, 1), "slim")``; None if the tag is not version-like.

    Version-like: an optional ``v``, dot-separated integers, and optionally ``-`` and a
    variant suffix.  Pre-releases written without a dash (``3.14.0rc1``) are not
    version-like, so they never win over a release.
    """
    match = _VERSION_TAG_RE.match(tag)
    if match is None:
        return None
    numbers = tuple(int(part) for part in match.group("numbers").split("."))
    return numbers, match.group("suffix") or ""


def _variant_of(tag: str | None) -> str:
    if tag is None or tag == "latest":
        return ""
    parsed = parse_version_tag(tag)
    if parsed is not None:
        return parsed[1]
    return tag  # e.g. "alpine": look for "<version>-alpine"


def version_candidates(
    tags: Iterable[str], reference_tag: str | None, *, limit: int = 32
) -> list[str]:
    """Version-looking tags that could share *reference_tag*'s digest, newest first.

    The heuristic used to turn ``latest`` into a version tag:

    * only version-like tags (:func:`parse_version_tag`) of the same *variant* are
      candidates: no suffix for ``latest`` (or no tag), the same suffix for a version tag
      (``3-slim`` -> ``*-slim``), the tag itself as suffix for a word (``alpine`` ->
      ``*-alpine``);
    * they are sorted by version, highest first (``3.13.1`` > ``3.13`` > ``3.12.8`` > ``3``)
      because a moving tag normally points at the newest release, and only the first
      *limit* are kept (each costs one HEAD, which Docker Hub does not count against the
      pull rate limit);
    * the caller resolves them and keeps those with the same digest; among those the most
      specific wins: most numeric components, then the highest version.
    """
    variant = _variant_of(reference_tag)
    parsed: list[tuple[tuple[int, ...], str]] = []
    for tag in dict.fromkeys(tags):
        if tag == reference_tag:
            continue
        info = parse_version_tag(tag)
        if info is not None and info[1] == variant:
            parsed.append((info[0], tag))
    parsed.sort(key=lambda item: (item[0], len(item[1]) * -1, item[1]), reverse=True)
    return [tag for _, tag in parsed[: max(limit, 0)]]


def _specificity(tag: str) -> tuple[int, tuple[int, ...], int]:
    info = parse_version_tag(tag)
    if info is None:
        return (0, (), 0)
    # Prefer more components, then the higher version, then no leading "v".
    return (len(info[0]), info[0], 0 if tag.startswith("v") else 1)


# ====================================================================== internals
@dataclass(frozen=True, slots=True)
class _Reply:
    status: int
    headers: httpx.Headers
    body: bytes
    url: httpx.URL


@dataclass(frozen=True, slots=True)
class _Challenge:
    scheme: str  # "bearer" or "basic"
    params: Mapping[str, str]


@dataclass(slots=True)
class _Token:
    value: str
    expires_at: float  # time.monotonic()


_AUTH_PARAM_RE = re.compile(
    r'\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(?:,|$)'
)


def _parse_challenges(values: Sequence[str]) -> list[_Challenge]:
    """Parse ``WWW-Authenticate`` header values into challenges (Bearer/Basic only)."""
    challenges: list[_Challenge] = []
    for value in values:
        rest = value.strip()
        while rest:
            match = re.match(r"([A-Za-z][A-Za-z0-9_-]*)\s*", rest)
            if match is None:
                break
            scheme = match.group(1).lower()
            rest = rest[match.end() :]
            params: dict[str, str] = {}
            while True:
                param = _AUTH_PARAM_RE.match(rest)
                if param is None:
                    break
                raw = param.group(2)
                value_text = (
                    re.sub(r"\\(.)", r"\1", raw) if raw is not None else (param.group(3) or "")
                )
                params[param.group(1).lower()] = value_text
                rest = rest[param.end() :]
            if scheme in ("bearer", "basic"):
                challenges.append(_Challenge(scheme, params))
            rest = rest.lstrip(", ")
    return challenges


def _parse_retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _media_type(headers: httpx.Headers) -> str:
    value = str(headers.get("content-type") or "")
    return value.split(";", 1)[0].strip().lower()


_LINK_NEXT_RE = re.compile(r'<([^>]*)>\s*;[^,]*?rel\s*=\s*"?next"?', re.IGNORECASE)


def _origin(url: httpx.URL) -> tuple[str, str, int]:
    port = url.port
    if port is None:
        port = 443 if url.scheme == "https" else 80
    return url.scheme, url.host.lower(), port


class RegistryClient:
    """Resolve image references to manifest digests against OCI/Docker registries.

    Thread-safe.  Use as a context manager, or call :meth:`close` (which also saves the
    cache).

    Parameters:
        insecure_registries: ``host[:port]`` values spoken to over plain HTTP (exact match
            with :attr:`ImageRef.registry`); loopback registries (``localhost``,
            ``127.0.0.0/8``, ``::1``) are too, as Docker does; every other registry uses
            verified TLS.
        cache: persistent digest cache; None for none.
        offline: answer only from *cache* (stale entries too); never touch the network.
        refresh: ask the registry even when the cache holds a fresh answer (the new answer
            replaces it), as ``dockfix fix --refresh`` wants what the tags point at now.
        max_per_host: concurrent requests per host.
        timeout: seconds for connect/read/write/pool, per request.
        max_tries: attempts per request for connection errors, timeouts, 5xx and 429.
        backoff: first retry delay in seconds (doubling, plus up to 10 % jitter).
        max_retry_after: longest ``Retry-After`` (seconds) waited for; longer -> RateLimited.
        credentials: where credentials come from (default: Docker's config.json).
        max_workers: threads for :meth:`resolve_many` (default ``2 * max_per_host``, <= 32).
        ssl_context: custom TLS context (e.g. a private CA); verification stays on.
        trust_env: honour ``HTTPS_PROXY``/``NO_PROXY``/``SSL_CERT_FILE`` as httpx does.
        token_realm_hosts: per registry, token-service hosts on *another* origin that may
            receive its credentials (HTTPS only).  Default: only Docker Hub's
            ``auth.docker.io``.  E.g. add ``{"registry.gitlab.com": ["gitlab.com"]}``.
        sleep: the sleep function used between retries (for tests).
    """

    def __init__(
        self,
        *,
        insecure_registries: Iterable[str] = (),
        cache: DigestCache | None = None,
        offline: bool = False,
        refresh: bool = False,
        max_per_host: int = 8,
        timeout: float = 20.0,
        max_tries: int = 3,
        backoff: float = 0.5,
        max_retry_after: float = 60.0,
        credentials: DockerCredentialStore | None = None,
        max_workers: int | None = None,
        ssl_context: ssl.SSLContext | None = None,
        user_agent: str = _USER_AGENT,
        trust_env: bool = True,
        token_realm_hosts: Mapping[str, Iterable[str]] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_per_host < 1:
            raise ValueError("max_per_host must be at least 1")
        if max_tries < 1:
            raise ValueError("max_tries must be at least 1")
        self._insecure = frozenset(host.lower() for host in insecure_registries)
        self._cache = cache
        self._offline = offline
        self._refresh = refresh and not offline
        self._max_per_host = max_per_host
        self._timeout = timeout
        self._max_tries = max_tries
        self._backoff = backoff
        self._max_retry_after = max_retry_after
        self._store = credentials if credentials is not None else DockerCredentialStore()
        self._max_workers = max_workers or min(32, max_per_host * 2)
        self._ssl_context = ssl_context
        self._user_agent = user_agent
        self._trust_env = trust_env
        realms = DEFAULT_TOKEN_REALM_HOSTS if token_realm_hosts is None else token_realm_hosts
        self._realm_hosts = {
            registry.lower(): frozenset(host.lower() for host in hosts)
            for registry, hosts in realms.items()
        }
        self._sleep = sleep

        self._lock = threading.Lock()
        self._http: httpx.Client | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._requests: Counter[str] = Counter()
        self._resolve_memo: dict[str, Future[Resolved]] = {}
        self._tags_memo: dict[tuple[str, str, int | None], Future[list[str]]] = {}
        self._challenges: dict[str, _Challenge] = {}
        self._tokens: dict[tuple[str, str], _Token] = {}
        self._token_locks: dict[tuple[str, str], threading.Lock] = {}
        self._creds: dict[str, Credentials | None] = {}
        self._cred_notes: dict[str, str] = {}
        self._secrets: set[str] = set()
        # Hosts that did not answer (or rate-limited us for too long): why, for the message.
        self._given_up: dict[str, str] = {}
        # Of those, the ones that failed as a whole: (what happened, what to do).
        self._host_problems: dict[str, tuple[str, str]] = {}
        self._closed = False
        # Problems that do not fail a lookup (the digest cache could not be saved), one line
        # each; :meth:`take_warnings` hands them, with the credential store's, to the caller.
        self.warnings: list[str] = []

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Save the cache and release connections and threads."""
        with self._lock:
            http, self._http = self._http, None
            executor, self._executor = self._executor, None
            self._closed = True
        if executor is not None:
            executor.shutdown(wait=True)
        if http is not None:
            http.close()
        self._save_cache()

    def take_warnings(self) -> list[str]:
        """The warnings so far (this client's and its credential store's), once."""
        taken = [*self.warnings, *self._store.warnings]
        self.warnings.clear()
        self._store.warnings.clear()
        return taken

    def __repr__(self) -> str:
        return (
            f"RegistryClient(insecure_registries={sorted(self._insecure)!r}, "
            f"offline={self._offline!r}, max_per_host={self._max_per_host!r}, "
            f"cache={self._cache!r})"
        )

    # ------------------------------------------------------------------ counters
    @property
    def request_count(self) -> int:
        """HTTP requests sent so far (every attempt, token requests included)."""
        with self._lock:
            return sum(self._requests.values())

    @property
    def requests_by_host(self) -> dict[str, int]:
        with self._lock:
            return dict(self._requests)

    def reset_request_count(self) -> None:
        with self._lock:
            self._requests.clear()

    @property
    def offline(self) -> bool:
        return self._offline

    # ------------------------------------------------------------------ public API
    def resolve(self, ref: ImageRef) -> Resolved:
        """The manifest digest *ref*'s tag (or ``latest``, or its digest) points at now.

        Raises a :class:`RegistryError` subclass.
        """
        try:
            return self._resolve(ref)
        finally:
            self._save_cache()

    def resolve_many(self, refs: Iterable[ImageRef]) -> dict[ImageRef, Resolved | RegistryError]:
        """Resolve all *refs* concurrently; every ref gets a result or its error."""
        unique = list(dict.fromkeys(refs))
        results: dict[ImageRef, Resolved | RegistryError] = {}
        try:
            if len(unique) <= 1 or self._offline:
                for ref in unique:
                    try:
                        results[ref] = self._resolve(ref)
                    except RegistryError as exc:
                        results[ref] = exc
                return results
            executor = self._get_executor()
            futures = {ref: executor.submit(self._resolve, ref) for ref in unique}
            for ref, future in futures.items():
                try:
                    results[ref] = future.result()
                except RegistryError as exc:
                    results[ref] = exc
            return results
        finally:
            self._save_cache()

    def list_tags(self, ref: ImageRef, *, page_size: int | None = None) -> list[str]:
        """All tags of *ref*'s repository, in the registry's order, following pagination.

        *page_size* asks for pages of at most that many tags (``?n=``); by default the
        registry chooses.  Memoised per repository for the client's lifetime.
        """
        if self._offline:
            raise OfflineCacheMiss(
                f"{ref.original}: offline mode: listing tags needs the registry",
                reference=ref.original,
            )
        key = (ref.registry, ref.repository, page_size)
        return self._memoised(self._tags_memo, key, lambda: self._list_tags(ref, page_size))

    def index_digest_for_tags(
        self, ref: ImageRef, tags: Iterable[str]
    ) -> dict[str, Resolved | RegistryError]:
        """Resolve several *tags* of *ref*'s repository (keeping *ref*'s spelling).

        The digests are index digests for multi-arch images (see :meth:`resolve`).
        """
        tag_refs = {tag: ImageRef.parse(ref.with_tag(tag)) for tag in dict.fromkeys(tags)}
        resolved = self.resolve_many(tag_refs.values())
        return {tag: resolved[tag_ref] for tag, tag_ref in tag_refs.items()}

    def tags_sharing_digest(
        self,
        ref: ImageRef,
        *,
        digest: str | None = None,
        candidates: Iterable[str] | None = None,
        max_candidates: int = 32,
    ) -> list[str]:
        """Candidate tags whose digest equals *digest* (default: what *ref* resolves to).

        Without *candidates*, they are chosen by :func:`version_candidates` from the tag
        list.  The result is ordered most specific first.
        """
        target = digest if digest is not None else self.resolve(ref).digest
        if candidates is None:
            candidates = version_candidates(self.list_tags(ref), ref.tag, limit=max_candidates)
        answers = self.index_digest_for_tags(ref, candidates)
        matches = [
            tag
            for tag, answer in answers.items()
            if isinstance(answer, Resolved) and answer.digest == target
        ]
        return sorted(matches, key=_specificity, reverse=True)

    def most_specific_tag(self, ref: ImageRef, *, max_candidates: int = 32) -> str | None:
        """The most specific version tag sharing *ref*'s digest (``latest`` -> ``3.13.1``).

        None when no candidate matches.  See :func:`version_candidates` for the heuristic.
        """
        matches = self.tags_sharing_digest(ref, max_candidates=max_candidates)
        return matches[0] if matches else None

    # ------------------------------------------------------------------ resolution
    def _resolve(self, ref: ImageRef) -> Resolved:
        return self._memoised(self._resolve_memo, ref.key, lambda: self._resolve_uncached(ref))

    def _memoised(self, memo: dict[Any, Future[_T]], key: object, work: Callable[[], _T]) -> _T:
        with self._lock:
            future = memo.get(key)
            owner = future is None
            if future is None:
                future = Future()
                memo[key] = future
        if not owner:
            return future.result()
        try:
            value = work()
        except RegistryError as exc:
            exc.args = (self._redact(exc.message),)
            future.set_exception(exc)
            raise
        except BaseException as exc:
            future.set_exception(exc)
            with self._lock:  # do not memoise bugs or interrupts
                memo.pop(key, None)
            raise
        future.set_result(value)
        return value

    def _resolve_uncached(self, ref: ImageRef) -> Resolved:
        key = ref.key
        hit = self._cache.get(key) if self._cache is not None else None
        if hit is not None and (self._offline or not (hit.stale or self._refresh)):
            return Resolved(
                digest=hit.entry.digest,
                media_type=hit.entry.media_type,
                from_cache=True,
                stale=hit.stale,
                fetched_at=hit.entry.fetched_at,
            )
        if self._offline:
            raise OfflineCacheMiss(
                f"{ref.original}: offline mode and no cached digest for {key}",
                reference=ref.original,
            )
        resolved = self._fetch_digest(ref)
        if self._cache is not None:
            self._cache.put(key, resolved.digest, resolved.media_type, resolved.fetched_at)
        return resolved

    def _fetch_digest(self, ref: ImageRef) -> Resolved:
        reference = ref.manifest_reference
        by_digest = reference == ref.digest
        url = f"{self._base_url(ref.registry)}/v2/{ref.repository}/manifests/{reference}"
        scope = f"repository:{ref.repository}:pull"
        what = ref.original
        headers = {"Accept": MANIFEST_ACCEPT}

        reply = self._request("HEAD", url, ref.registry, scope, headers, what)
        self._raise_for_denied(reply, ref, reference)
        if reply.status == 200:
            announced = reply.headers.get("docker-content-digest")
            if announced and _is_valid_digest(announced):
                if by_digest and announced != ref.digest:
                    raise DigestVerificationError(
                        f"{what}: registry {ref.registry} answered digest {announced} "
                        f"for {ref.digest}",
                        reference=what,
                    )
                media_type = _media_type(reply.headers)
                if media_type in _DOCKER_SCHEMA1:
                    raise RegistryProtocolError(
                        f"{what}: {ref.registry} only has a legacy schema 1 manifest, "
                        "which cannot be pinned safely",
                        reference=what,
                    )
                if media_type:
                    return Resolved(announced, media_type, fetched_at=time.time())
                logger.debug("HEAD %s gave no media type; falling back to GET", url)
            else:
                logger.debug("HEAD %s gave no usable digest header; falling back to GET", url)
        elif reply.status not in (405, 501):
            raise RegistryProtocolError(
                f"{what}: unexpected HTTP {reply.status} from {ref.registry} for HEAD "
                f"{ref.repository}:{reference}",
                reference=what,
                status=reply.status,
            )

        reply = self._request(
            "GET", url, ref.registry, scope, headers, what, max_bytes=_MAX_MANIFEST_BYTES
        )
        self._raise_for_denied(reply, ref, reference)
        if reply.status != 200:
            raise RegistryProtocolError(
                f"{what}: unexpected HTTP {reply.status} from {ref.registry} for GET "
                f"{ref.repository}:{reference}",
                reference=what,
                status=reply.status,
            )
        return self._verify_manifest(reply, ref, what)

    def _verify_manifest(self, reply: _Reply, ref: ImageRef, what: str) -> Resolved:
        announced = reply.headers.get("docker-content-digest")
        expected = announced if announced and _is_valid_digest(announced) else None
        if ref.digest is not None and ref.manifest_reference == ref.digest:
            expected = ref.digest
        algorithm = expected.split(":", 1)[0] if expected else "sha256"
        computed = f"{algorithm}:{hashlib.new(algorithm, reply.body).hexdigest()}"
        if expected is not None and computed != expected:
            raise DigestVerificationError(
                f"{what}: manifest from {ref.registry} does not match its digest "
                f"(expected {expected}, content hashes to {computed})",
                reference=what,
            )
        media_type = _media_type(reply.headers)
        body_type = ""
        document: Any = None
        try:
            document = json.loads(reply.body)
        except ValueError:
            document = None
        if isinstance(document, dict):
            value = document.get("mediaType")
            if isinstance(value, str):
                body_type = value
            elif document.get("schemaVersion") == 1:
                body_type = _DOCKER_SCHEMA1[0]
        if media_type in ("", "application/json", "application/octet-stream"):
            media_type = body_type
            if not media_type and isinstance(document, dict):
                if "manifests" in document:
                    media_type = OCI_IMAGE_INDEX
                elif "layers" in document or "config" in document:
                    media_type = OCI_IMAGE_MANIFEST
        if not isinstance(document, dict):
            raise RegistryProtocolError(
                f"{what}: {ref.registry} sent a manifest that is not a JSON object",
                reference=what,
            )
        if media_type in _DOCKER_SCHEMA1 or body_type in _DOCKER_SCHEMA1:
            raise RegistryProtocolError(
                f"{what}: {ref.registry} only has a legacy schema 1 manifest, "
                "which cannot be pinned safely",
                reference=what,
            )
        return Resolved(computed, media_type, fetched_at=time.time())

    def _raise_for_denied(self, reply: _Reply, ref: ImageRef, reference: str) -> None:
        if reply.status not in _DENIED_STATUSES:
            return
        codes = _error_codes(reply.body)
        detail = f"; {', '.join(codes)}" if codes else ""
        note = self._cred_notes.get(ref.registry)
        extra = f"; {note}" if note else ""
        raise NotFoundOrUnauthorized(
            f"{ref.original}: not found or not authorised ({ref.registry} answered "
            f"HTTP {reply.status} for {ref.repository}:{reference}{detail}{extra})",
            reference=ref.original,
            status=reply.status,
        )

    # ------------------------------------------------------------------ tags
    def _list_tags(self, ref: ImageRef, page_size: int | None) -> list[str]:
        base = self._base_url(ref.registry)
        url = httpx.URL(f"{base}/v2/{ref.repository}/tags/list")
        if page_size is not None:
            url = url.copy_merge_params({"n": str(page_size)})
        scope = f"repository:{ref.repository}:pull"
        origin = _origin(httpx.URL(base))
        tags: list[str] = []
        seen_urls: set[str] = set()
        for _ in range(_MAX_TAG_PAGES):
            seen_urls.add(str(url))
            reply = self._request(
                "GET",
                str(url),
                ref.registry,
                scope,
                {"Accept": "application/json"},
                ref.original,
                max_bytes=_MAX_JSON_BYTES,
            )
            if reply.status in _DENIED_STATUSES:
                self._raise_for_denied(reply, ref, "tags/list")
            if reply.status != 200:
                raise RegistryProtocolError(
                    f"{ref.original}: unexpected HTTP {reply.status} from {ref.registry} "
                    "listing tags",
                    reference=ref.original,
                    status=reply.status,
                )
            try:
                document = json.loads(reply.body)
            except ValueError:
                document = None
            if not isinstance(document, dict):
                raise RegistryProtocolError(
                    f"{ref.original}: {ref.registry} sent an invalid tag list",
                    reference=ref.original,
                )
            page = document.get("tags") or []
            if not isinstance(page, list):
                raise RegistryProtocolError(
                    f"{ref.original}: {ref.registry} sent an invalid tag list",
                    reference=ref.original,
                )
            tags.extend(tag for tag in page if isinstance(tag, str))
            link = _LINK_NEXT_RE.search(",".join(reply.headers.get_list("link")))
            if link is None:
                break
            next_url = reply.url.join(link.group(1))
            if _origin(next_url) != origin:
                raise RegistryProtocolError(
                    f"{ref.original}: tag list pagination points at another host "
                    f"({next_url.host}); refusing to follow it",
                    reference=ref.original,
                )
            if str(next_url) in seen_urls:
                break
            url = next_url
        else:
            raise RegistryProtocolError(
                f"{ref.original}: more than {_MAX_TAG_PAGES} pages of tags",
                reference=ref.original,
            )
        return list(dict.fromkeys(tags))

    # ------------------------------------------------------------------ HTTP plumbing
    def _plain_http(self, registry: str) -> bool:
        return registry.lower() in self._insecure or is_loopback_registry(registry)

    def _base_url(self, registry: str) -> str:
        scheme = "http" if self._plain_http(registry) else "https"
        return f"{scheme}://{registry}"

    def _get_http(self) -> httpx.Client:
        with self._lock:
            if self._closed:
                raise RuntimeError("RegistryClient is closed")
            if self._http is None:
                verify: ssl.SSLContext | bool = (
                    self._ssl_context if self._ssl_context is not None else True
                )
                self._http = httpx.Client(
                    timeout=httpx.Timeout(self._timeout),
                    follow_redirects=False,
                    verify=verify,
                    trust_env=self._trust_env,
                    headers={"User-Agent": self._user_agent},
                    limits=httpx.Limits(
                        max_connections=max(self._max_workers, self._max_per_host) * 2,
                        max_keepalive_connections=self._max_per_host * 2,
                    ),
                )
            return self._http

    def _get_executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("RegistryClient is closed")
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=self._max_workers, thread_name_prefix="dockfix-registry"
                )
            return self._executor

    def _slot(self, host: str) -> threading.BoundedSemaphore:
        with self._lock:
            slot = self._slots.get(host)
            if slot is None:
                slot = threading.BoundedSemaphore(self._max_per_host)
                self._slots[host] = slot
            return slot

    def _request(
        self,
        method: str,
        url: str,
        registry: str,
        scope: str,
        headers: Mapping[str, str],
        what: str,
        *,
        max_bytes: int = 0,
    ) -> _Reply:
        """Send to the registry with authentication (one challenge round) and redirects."""
        authorization = self._authorization(registry, scope, what, fetch=True)
        reply = self._send_with_redirects(
            method, url, registry, headers, authorization, what, max_bytes
        )
        if reply.status != 401:
            return reply
        challenges = _parse_challenges(reply.headers.get_list("www-authenticate"))
        challenge = next((c for c in challenges if c.scheme == "bearer"), None) or next(
            (c for c in challenges if c.scheme == "basic"), None
        )
        if challenge is None:
            return reply
        with self._lock:
            self._challenges[registry] = challenge
            if authorization is not None and authorization.startswith("Bearer "):
                # The token we sent was refused (expired, or too narrow): get a fresh one.
                self._tokens.pop((registry, scope), None)
        retry_authorization = self._authorization(registry, scope, what, fetch=True)
        if retry_authorization is None or retry_authorization == authorization:
            return reply
        return self._send_with_redirects(
            method, url, registry, headers, retry_authorization, what, max_bytes
        )

    def _send_with_redirects(
        self,
        method: str,
        url: str,
        registry: str,
        headers: Mapping[str, str],
        authorization: str | None,
        what: str,
        max_bytes: int,
    ) -> _Reply:
        registry_origin = _origin(httpx.URL(self._base_url(registry)))
        current = httpx.URL(url)
        for _ in range(_MAX_REDIRECTS + 1):
            send_headers = dict(headers)
            # Credentials (and tokens) only ever go to the registry's own origin.
            if authorization is not None and _origin(current) == registry_origin:
                send_headers["Authorization"] = authorization
            reply = self._send_with_retries(method, current, send_headers, what, max_bytes)
            if reply.status not in (301, 302, 303, 307, 308):
                return reply
            location = reply.headers.get("location")
            if not location:
                return reply
            target = current.join(location)
            if target.scheme not in ("http", "https") or (
                target.scheme == "http"
                and current.scheme == "https"
                and target.netloc.decode("ascii").lower() not in self._insecure
            ):
                raise RegistryProtocolError(
                    f"{what}: refusing redirect from {current.host} to an insecure URL",
                    reference=what,
                )
            if reply.status == 303:
                method = "GET"
            current = target
        raise RegistryProtocolError(f"{what}: too many redirects", reference=what)

    def _send_with_retries(
        self,
        method: str,
        url: httpx.URL,
        headers: Mapping[str, str],
        what: str,
        max_bytes: int,
        *,
        form: Mapping[str, str] | None = None,
    ) -> _Reply:
        host = url.netloc.decode("ascii").lower()
        http = self._get_http()
        for attempt in range(1, self._max_tries + 1):
            last_try = attempt == self._max_tries
            try:
                with self._slot(host):
                    # Checked after waiting for a slot: requests queued behind the ones that
                    # found the host dead fail at once instead of timing out in turn.
                    with self._lock:
                        given_up = self._given_up.get(host)
                        if given_up is None:
                            self._requests[host] += 1
                    if given_up is not None:
                        raise RegistryUnavailable(
                            f"{what}: skipped: {host} {given_up}",
                            reference=what,
                            host_problem=self._host_problems.get(host),
                        )
                    request = http.build_request(
                        method, url, headers=headers, data=dict(form) if form else None
                    )
                    response = http.send(request, stream=True)
                    try:
                        body = self._read_body(response, method, max_bytes, what, host)
                    finally:
                        response.close()
            except httpx.RequestError as exc:
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                logger.debug("%s %s failed (%s), attempt %d", method, url, reason, attempt)
                tls = _tls_failure(exc)
                if tls is not None:
                    # A handshake fails the same way every time: no retry.
                    advice = f"if it serves plain HTTP, use --insecure-registry {host}"
                    if isinstance(tls, ssl.SSLCertVerificationError):
                        advice = f"if its CA is private, name it in SSL_CERT_FILE; {advice}"
                    with self._lock:
                        self._given_up.setdefault(host, f"failed TLS earlier ({reason})")
                        self._host_problems.setdefault(host, (f"{host}: TLS failed", advice))
                    raise RegistryUnavailable(
                        f"{what}: TLS with {host} failed ({reason}); {advice}",
                        reference=what,
                        host_problem=self._host_problems[host],
                    ) from None
                if last_try:
                    with self._lock:
                        self._given_up.setdefault(host, f"gave no answer earlier ({reason})")
                        self._host_problems.setdefault(
                            host, (f"{host} unreachable", "use --offline to skip lookups")
                        )
                    raise RegistryUnavailable(
                        f"{what}: could not get an answer from {host} ({reason}) "
                        f"after {attempt} tries",
                        reference=what,
                        host_problem=self._host_problems[host],
                    ) from None
                self._sleep(self._backoff_delay(attempt))
                continue
            status = response.status_code
            logger.debug("%s %s -> %d", method, url, status)
            if status == 429:
                delay = _parse_retry_after(response.headers.get("retry-after"))
                if delay is not None and delay > self._max_retry_after:
                    with self._lock:
                        self._given_up.setdefault(
                            host, f"rate limited this run (retry after {delay:.0f}s)"
                        )
                    raise RateLimited(
                        f"{what}: rate limited by {host}: it asks to retry after "
                        f"{delay:.0f}s, more than the allowed {self._max_retry_after:g}s",
                        reference=what,
                        retry_after=delay,
                    )
                if last_try:
                    raise RateLimited(
                        f"{what}: rate limited by {host} (HTTP 429) after {attempt} tries",
                        reference=what,
                        retry_after=delay,
                    )
                self._sleep(delay if delay is not None else self._backoff_delay(attempt))
                continue
            if status in _RETRY_STATUSES:
                if last_try:
                    raise RegistryUnavailable(
                        f"{what}: {host} answered HTTP {status} after {attempt} tries",
                        reference=what,
                        status=status,
                    )
                self._sleep(self._backoff_delay(attempt))
                continue
            return _Reply(status, response.headers, body, url)
        raise AssertionError("unreachable")  # pragma: no cover

    def _read_body(
        self, response: httpx.Response, method: str, max_bytes: int, what: str, host: str
    ) -> bytes:
        if method == "HEAD" or response.status_code in (204, 304):
            return b""
        limit = max_bytes if max_bytes > 0 else 64 * 1024
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                if response.status_code >= 400 or response.status_code in range(300, 400):
                    break  # error/redirect bodies are only informative
                raise RegistryProtocolError(
                    f"{what}: answer from {host} is larger than {limit} bytes", reference=what
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _backoff_delay(self, attempt: int) -> float:
        base: float = self._backoff * (2 ** (attempt - 1))
        return base + random.uniform(0, base / 10)

    # ------------------------------------------------------------------ authentication
    def _credentials(self, registry: str) -> Credentials | None:
        with self._lock:
            if registry in self._creds:
                return self._creds[registry]
        try:
            creds = self._store.get(registry)
        except CredentialHelperError as exc:
            creds = None
            with self._lock:
                self._cred_notes[registry] = str(exc)
        with self._lock:
            self._creds[registry] = creds
            if creds is not None:
                self._secrets.update(creds.secrets())
        return creds

    def _authorization(self, registry: str, scope: str, what: str, *, fetch: bool) -> str | None:
        """The Authorization header value to send to *registry* for *scope*, if any."""
        with self._lock:
            challenge = self._challenges.get(registry)
            token = self._tokens.get((registry, scope))
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            creds = self._credentials(registry)
            if creds is None or not creds.has_basic:
                return None
            if not self._may_send_to_registry(registry):
                return None
            return _basic_header(creds)
        creds = self._credentials(registry)
        if creds is not None and creds.registry_token and self._may_send_to_registry(registry):
            return f"Bearer {creds.registry_token}"
        if token is not None and token.expires_at > time.monotonic():
            return f"Bearer {token.value}"
        if not fetch:
            return None
        token = self._fetch_token(registry, scope, challenge, what)
        return f"Bearer {token.value}" if token is not None else None

    def _may_send_to_registry(self, registry: str) -> bool:
        # Over plain HTTP only to a registry listed as insecure, or on this machine.
        return self._base_url(registry).startswith("https://") or self._plain_http(registry)

    def _realm_credentials(self, registry: str, realm: httpx.URL) -> Credentials | None:
        creds = self._credentials(registry)
        if creds is None:
            return None
        registry_origin = _origin(httpx.URL(self._base_url(registry)))
        realm_origin = _origin(realm)
        if realm_origin == registry_origin and self._may_send_to_registry(registry):
            return creds
        trusted = self._realm_hosts.get(registry.lower(), frozenset())
        if realm.scheme == "https" and realm.netloc.decode("ascii").lower() in trusted:
            return creds
        note = (
            f"credentials for {registry} were not sent to the token service at "
            f"{realm.scheme}://{realm.netloc.decode('ascii')} (a different origin)"
        )
        with self._lock:
            self._cred_notes[registry] = note
        return None

    def _fetch_token(
        self, registry: str, scope: str, challenge: _Challenge, what: str
    ) -> _Token | None:
        key = (registry, scope)
        with self._lock:
            lock = self._token_locks.setdefault(key, threading.Lock())
        with lock:
            with self._lock:
                token = self._tokens.get(key)
            if token is not None and token.expires_at > time.monotonic():
                return token
            realm_text = challenge.params.get("realm", "")
            try:
                realm = httpx.URL(realm_text)
            except (httpx.InvalidURL, TypeError):
                realm = None
            if realm is None or realm.scheme not in ("http", "https") or not realm.host:
                raise RegistryProtocolError(
                    f"{what}: {registry} names an invalid token realm", reference=what
                )
            creds = self._realm_credentials(registry, realm)
            params: dict[str, str] = {}
            service = challenge.params.get("service")
            if service:
                params["service"] = service
            params["scope"] = scope
            headers = {"Accept": "application/json"}
            form: dict[str, str] | None = None
            method = "GET"
            if creds is not None and creds.identity_token:
                method = "POST"
                form = {
                    "grant_type": "refresh_token",
                    "refresh_token": creds.identity_token,
                    "client_id": "dockfix",
                    **params,
                }
                url = realm
            else:
                url = realm.copy_merge_params(params)
                if creds is not None and creds.has_basic:
                    headers["Authorization"] = _basic_header(creds)
            reply = self._send_with_retries(method, url, headers, what, _MAX_JSON_BYTES, form=form)
            if reply.status in (401, 403):
                who = f"the credentials from {creds.source}" if creds else "anonymous access"
                note = self._cred_notes.get(registry)
                extra = f"; {note}" if note and creds is None else ""
                raise NotFoundOrUnauthorized(
                    f"{what}: not found or not authorised (token service "
                    f"{realm.host} refused {who} with HTTP {reply.status}{extra})",
                    reference=what,
                    status=reply.status,
                )
            if reply.status != 200:
                raise RegistryProtocolError(
                    f"{what}: token service {realm.host} answered HTTP {reply.status}",
                    reference=what,
                    status=reply.status,
                )
            try:
                document = json.loads(reply.body)
            except ValueError:
                document = None
            value = None
            lifetime = _DEFAULT_TOKEN_LIFETIME
            if isinstance(document, dict):
                for field_name in ("token", "access_token"):
                    candidate = document.get(field_name)
                    if isinstance(candidate, str) and candidate:
                        value = candidate
                        break
                expires_in = document.get("expires_in")
                if (
                    isinstance(expires_in, int | float)
                    and not isinstance(expires_in, bool)
                    and expires_in > 0
                ):
                    lifetime = float(expires_in)
            if value is None:
                raise RegistryProtocolError(
                    f"{what}: token service {realm.host} sent no token", reference=what
                )
            margin = min(30.0, lifetime * 0.1)
            token = _Token(value, time.monotonic() + lifetime - margin)
            with self._lock:
                self._tokens[key] = token
                self._secrets.add(value)
            return token

    def _redact(self, message: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            if len(secret) >= 4 and secret in message:
                message = message.replace(secret, "***")
        return message

    def _save_cache(self) -> None:
        if self._cache is not None and self._cache.dirty:
            try:
                self._cache.save()
            except OSError as exc:
                self.warnings.append(f"could not save the digest cache: {exc.strerror}")


def is_loopback_registry(registry: str) -> bool:
    """``localhost``, ``127.0.0.0/8`` or ``::1``, with or without a port (``[::1]:5000``):
    a registry on this machine, which Docker reaches over plain HTTP without being told.
    Names are not resolved: a name other than ``localhost`` counts as remote."""
    host = registry.lower()
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else host
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    if host == "localhost":
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _tls_failure(exc: BaseException) -> ssl.SSLError | None:
    """The failed TLS handshake (or certificate check) in the exception's chain, if any."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _basic_header(creds: Credentials) -> str:
    pair = f"{creds.username}:{creds.password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _is_valid_digest(value: str) -> bool:
    try:
        validate_digest(value)
    except ValueError:
        return False
    return True


def _error_codes(body: bytes) -> list[str]:
    """The ``errors[].code`` values of a registry error body (no free text: it could echo)."""
    if not body:
        return []
    try:
        document = json.loads(body)
    except ValueError:
        return []
    if not isinstance(document, dict):
        return []
    errors = document.get("errors")
    if not isinstance(errors, list):
        return []
    codes = []
    for error in errors:
        if isinstance(error, dict):
            code = error.get("code")
            if isinstance(code, str) and re.fullmatch(r"[A-Z_]{1,64}", code):
                codes.append(code)
    return codes
