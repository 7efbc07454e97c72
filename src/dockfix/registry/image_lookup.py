"""Registry lookups for the network fixers, done once per run for every file together.

A fixer that needs the registry (``Fixer.needs_network``) says which lookups a file needs
(``Fixer.image_queries(doc, ctx)`` → :class:`ImageQuery`).  Before any file is fixed the
runner collects the queries of every file, and :func:`resolve_image_queries` answers each
*unique* one once, concurrently (at most ``max_per_host`` requests at a time per registry),
through one :class:`~dockfix.registry.registry_client.RegistryClient` and the persistent
:class:`~dockfix.registry.digest_cache.DigestCache`.  The answers (:class:`ImageLookups`, a plain
picklable mapping) travel to the worker processes in ``RunOptions`` and reach the fixers as
``ctx.services["image_lookups"]``; fixers never open a connection themselves.

Kinds of query:

* ``digest`` — which manifest digest a tag points at now (``latest`` when untagged);
* ``kind`` — the media type of a digest a file already pins (is it a multi-arch index or one
  platform's manifest? only asked for ``--refresh``);
* ``version-tag`` — the most specific version tag sharing a moving tag's digest
  (``latest`` → ``3.13.1``), remembered in the cache as well, so a warm run lists no tags.

Fresh cache entries answer first, so a warm run (or any ``--offline`` run) builds no HTTP
client at all.  ``--offline`` answers from the cache only, entries older than the TTL
included (with their age, so a fixer can call such a pin unsafe); a query it cannot answer
is marked ``offline_miss``.  ``refresh`` (``fix --refresh``) skips the cache and asks the
registry what the tags point at now.  A registry error becomes the answer's ``error`` (one
line that names the image, never a credential).  :meth:`ImageLookups.host_warnings` says
once per registry host that failed as a whole ("registry-1.docker.io unreachable: 3 images
not pinned; use --offline to skip lookups"), :meth:`ImageLookups.failures` lists the other
failures, one per image.  Errors never stop the run.

Tuning from the environment (all optional): ``DOCKFIX_DIGEST_CACHE`` (the cache file, or
``off``), ``DOCKFIX_DIGEST_CACHE_TTL`` (seconds, default one day), ``DOCKFIX_REGISTRY_TIMEOUT``
(seconds per request, default 20) and ``DOCKFIX_REGISTRY_CONCURRENCY`` (requests at once per
registry, default 8).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

from dockfix.files.input_log import note_answer
from dockfix.registry.image_ref import ImageRef

if TYPE_CHECKING:
    from dockfix.registry.digest_cache import DigestCache
    from dockfix.registry.registry_client import RegistryClient

__all__ = [
    "ImageLookups",
    "ImageQuery",
    "LookupAnswer",
    "RegistrySettings",
    "resolve_image_queries",
    "short_digest",
]

QueryKind = Literal["digest", "kind", "version-tag"]
VERSION_TAG_SUFFIX = "#version-tag"
_INDEX_TYPES = frozenset(
    {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    }
)


def short_digest(digest: str) -> str:
    """``sha256:1a2b3c4d5e6f`` — the algorithm and 12 hex characters, as shown to people."""
    algorithm, _, hex_part = digest.partition(":")
    return f"{algorithm}:{hex_part[:12]}"


class ImageQuery(NamedTuple):
    """One lookup a fixer needs; ``reference`` is a parseable reference without variables."""

    kind: QueryKind
    reference: str

    @classmethod
    def digest_of(cls, ref: ImageRef) -> ImageQuery:
        """What ``ref``'s tag (``latest`` when it has none) points at now."""
        return cls("digest", ref.with_tag(ref.tag or "latest"))

    @classmethod
    def kind_of(cls, ref: ImageRef) -> ImageQuery:
        """The media type of the digest ``ref`` pins (index or single manifest)."""
        if ref.digest is None:
            raise ValueError(f"{ref.original} pins no digest")
        return cls("kind", f"{ref.name_as_written}@{ref.digest}")

    @classmethod
    def version_tag_of(cls, ref: ImageRef) -> ImageQuery:
        """The most specific version tag sharing the digest of ``ref``'s tag (or ``latest``)."""
        return cls("version-tag", ref.with_tag(ref.tag or "latest"))

    @property
    def key(self) -> tuple[str, str]:
        """Spellings of the same lookup (``python``, ``docker.io/library/python``) share it."""
        return self.kind, _reference_key(self.reference)


@lru_cache(maxsize=4096)
def _reference_key(reference: str) -> str:
    """:attr:`ImageRef.key` of a reference (asked for each query of each file, and the files
    of a repository name the same few images)."""
    return ImageRef.parse(reference).key


class LookupAnswer(NamedTuple):
    """The answer to one :class:`ImageQuery` (picklable)."""

    digest: str | None = None  # the tag's digest (for ``version-tag``: the moving tag's)
    media_type: str = ""
    version_tag: str | None = None  # ``version-tag`` only: None when no tag matched
    error: str | None = None  # one line naming the image; credential-free
    offline_miss: bool = False
    # When the answer is a cache entry older than the TTL (only served offline): its age.
    stale_age: float | None = None
    # When the image's registry failed as a whole: what happened and what to do (said once
    # per host, see ImageLookups.warnings).
    host_problem: tuple[str, str] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.offline_miss and self.digest is not None

    @property
    def is_index(self) -> bool:
        return self.media_type in _INDEX_TYPES

    @property
    def kind_label(self) -> str:
        return "multi-arch index" if self.is_index else "single-platform image"


@dataclass(frozen=True)
class ImageLookups:
    """Every answer of a run, by :attr:`ImageQuery.key`."""

    answers: Mapping[tuple[str, str], LookupAnswer] = field(default_factory=dict)
    offline: bool = False
    # Problems met on the way that failed no lookup (a corrupt digest cache, an unreadable
    # config.json), one line each, for the run's warnings.
    notes: tuple[str, ...] = ()

    def get(self, query: ImageQuery) -> LookupAnswer | None:
        try:
            key = query.key
        except ValueError:
            return None
        answer = self.answers.get(key)
        note_answer(key, answer)  # the results cache keys the file's outcome on it
        return answer

    def failures(self) -> list[tuple[tuple[str, str], str]]:
        """(key, message) for each lookup that failed (not offline misses, not those of a
        registry that failed as a whole: see :meth:`host_warnings`), in key order."""
        return sorted(
            (key, answer.error)
            for key, answer in self.answers.items()
            if answer.error is not None and not answer.offline_miss and not answer.host_problem
        )

    def host_warnings(self) -> list[str]:
        """One line per registry host that failed as a whole, with the number of images
        left unpinned for it: ``registry-1.docker.io unreachable: 3 images not pinned; use
        --offline to skip lookups``."""
        images: dict[tuple[str, str], set[str]] = {}
        for (_, lookup_key), answer in self.answers.items():
            if answer.host_problem is not None:
                images.setdefault(answer.host_problem, set()).add(lookup_key)
        lines = []
        for (problem, advice), keys in sorted(images.items()):
            count = f"{len(keys)} image{'s' if len(keys) != 1 else ''}"
            lines.append(f"{problem}: {count} not pinned; {advice}")
        return lines

    def warnings(self) -> list[str]:
        """What to tell the user about the lookups as a whole: :meth:`host_warnings`, then
        the :attr:`notes`."""
        return [*self.host_warnings(), *self.notes]


class RegistrySettings(NamedTuple):
    cache_path: Path | None = None  # None: the user's cache directory
    use_cache: bool = True
    cache_ttl: float = 24 * 60 * 60.0
    timeout: float = 20.0
    max_per_host: int = 8

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> RegistrySettings:
        env = os.environ if environ is None else environ
        return _settings(*(env.get(name) for name in _SETTINGS_ENV))


_DEFAULTS = RegistrySettings._field_defaults

_SETTINGS_ENV = (
    "DOCKFIX_DIGEST_CACHE",
    "DOCKFIX_DIGEST_CACHE_TTL",
    "DOCKFIX_REGISTRY_TIMEOUT",
    "DOCKFIX_REGISTRY_CONCURRENCY",
)


@lru_cache(maxsize=16)
def _settings(
    cache: str | None, ttl: str | None, timeout: str | None, concurrency: str | None
) -> RegistrySettings:
    """The settings for these environment values (asked for once per file checked)."""
    cache = (cache or "").strip()
    return RegistrySettings(
        cache_path=Path(cache) if cache and cache.lower() != "off" else None,
        use_cache=cache.lower() != "off",
        cache_ttl=_positive(ttl, _DEFAULTS["cache_ttl"]),
        timeout=_positive(timeout, _DEFAULTS["timeout"]),
        max_per_host=int(_positive(concurrency, _DEFAULTS["max_per_host"])),
    )


def _positive(text: str | None, default: float) -> float:
    try:
        value = float(text) if text else default
    except ValueError:
        return default
    return value if value > 0 else default


def current_answer(
    key: tuple[str, str], lookups: ImageLookups | None, offline: bool
) -> LookupAnswer | None:
    """The answer a file would get now: from the run's lookups, else (offline) from the
    digest cache, as :func:`resolve_image_queries` answers it."""
    if lookups is not None:
        return lookups.answers.get(key)
    if not offline:
        raise ValueError("online answers come from the run's lookups")
    if _BATCH_ANSWERS is not None and key in _BATCH_ANSWERS:
        return _BATCH_ANSWERS[key]
    settings = _BATCH_SETTINGS or RegistrySettings.from_environ()
    cache = _shared_cache(settings.cache_path, settings.cache_ttl) if settings.use_cache else None
    answer = _cached_answer(cache, key, offline)
    if _BATCH_ANSWERS is not None and (answer is None or answer.stale_age is None):
        _BATCH_ANSWERS[key] = answer  # (a stale answer's age goes on growing)
    return answer


def resolve_image_queries(
    queries: Iterable[ImageQuery],
    *,
    insecure_registries: Iterable[str] = (),
    offline: bool = False,
    refresh: bool = False,
    settings: RegistrySettings | None = None,
) -> ImageLookups:
    """Answer every unique query once (see the module docstring); never raises for a lookup.

    ``refresh``: ask the registry even where the cache has a fresh answer (offline: ignored)."""
    unique: dict[tuple[str, str], ImageQuery] = {}
    for query in queries:
        try:
            unique.setdefault(query.key, query)
        except ValueError:
            continue  # not a parseable reference: the fixer reports it without a lookup
    if not unique:
        return ImageLookups({}, offline)
    settings = settings or _BATCH_SETTINGS or RegistrySettings.from_environ()
    cache = None
    if settings.use_cache:
        if offline:
            cache = _shared_cache(settings.cache_path, settings.cache_ttl)
        else:
            from dockfix.registry.digest_cache import DigestCache

            cache = DigestCache(settings.cache_path, ttl=settings.cache_ttl)
    # Fresh cache entries answer first: a warm run (and any --offline run) needs no HTTP
    # client at all, not even its import.
    answers: dict[tuple[str, str], LookupAnswer] = {}
    missing: dict[tuple[str, str], ImageQuery] = {}
    refresh = refresh and not offline
    # Offline in a batch, with its settings: the answers already given (as current_answer).
    given = _BATCH_ANSWERS if offline and settings is _BATCH_SETTINGS else None
    for key, query in unique.items():
        if given is not None and key in given:
            cached = given[key]
        else:
            cached = None if refresh else _cached_answer(cache, key, offline)
            if given is not None and (cached is None or cached.stale_age is None):
                given[key] = cached
        if cached is not None:
            answers[key] = cached
        else:
            missing[key] = query
    if not missing:
        return ImageLookups(answers, offline, _taken(cache))
    from dockfix.registry.registry_client import RegistryClient

    client = RegistryClient(
        insecure_registries=insecure_registries,
        cache=cache,
        refresh=refresh,
        max_per_host=settings.max_per_host,
        timeout=settings.timeout,
    )
    try:
        answers.update(_resolve_all(client, None if refresh else cache, cache, missing))
    finally:
        client.close()  # also saves the cache
    return ImageLookups(answers, offline, (*_taken(cache), *client.take_warnings()))


def _taken(cache: DigestCache | None) -> tuple[str, ...]:
    """The cache's warnings, once (an offline view is shared by the files of a process)."""
    if cache is None or not cache.warnings:
        return ()
    taken = tuple(cache.warnings)
    cache.warnings.clear()
    return taken


def _resolve_all(
    client: RegistryClient,
    readable: DigestCache | None,
    cache: DigestCache | None,
    unique: Mapping[tuple[str, str], ImageQuery],
) -> dict[tuple[str, str], LookupAnswer]:
    """``readable``: the cache to answer from (None for a refresh); ``cache``: to write to."""
    from concurrent.futures import ThreadPoolExecutor

    refs = {key: ImageRef.parse(query.reference) for key, query in unique.items()}
    # 1. Digests, also those of the moving tags behind version-tag queries, all at once (the
    #    client shares one request between spellings of the same lookup).
    try:
        resolved: Mapping[ImageRef, object] = client.resolve_many(refs.values())
    except Exception as exc:  # a bug in a lookup must not stop the run
        failed = LookupAnswer(error=f"registry lookups failed ({type(exc).__name__}: {exc})")
        return dict.fromkeys(refs, failed)
    answers = {key: _answer(resolved[ref]) for key, ref in refs.items() if key[0] != "version-tag"}
    # 2. Version tags: a tag list and a few HEADs per repository, repositories in parallel.
    version_keys = [key for key in refs if key[0] == "version-tag"]
    if version_keys:
        with ThreadPoolExecutor(max_workers=min(8, len(version_keys))) as pool:
            futures = {
                key: pool.submit(
                    _version_tag, client, readable, cache, refs[key], _answer(resolved[refs[key]])
                )
                for key in version_keys
            }
            for key, future in futures.items():
                answers[key] = future.result()
    return answers


def _cached_answer(
    cache: DigestCache | None, key: tuple[str, str], offline: bool
) -> LookupAnswer | None:
    """The cache's answer; None when the registry must be asked. Offline, stale entries
    answer too (with their age) and a miss is an ``offline_miss`` answer."""
    kind, lookup_key = key
    miss = LookupAnswer(error=f"{lookup_key}: offline mode and not in cache", offline_miss=True)
    hit = cache.get(lookup_key) if cache is not None else None
    if hit is None or (hit.stale and not offline):
        return miss if offline else None
    age = time.time() - hit.entry.fetched_at if hit.stale else None
    if kind != "version-tag":
        return LookupAnswer(hit.entry.digest, hit.entry.media_type, stale_age=age)
    assert cache is not None
    version = cache.get(lookup_key + VERSION_TAG_SUFFIX)
    if (
        version is None
        or version.entry.digest != hit.entry.digest
        or (version.stale and not offline)
    ):
        return miss if offline else None
    tag = version.entry.tag or None
    return LookupAnswer(hit.entry.digest, hit.entry.media_type, tag, stale_age=age)


def _answer(result: object) -> LookupAnswer:
    from dockfix.registry.registry_client import RegistryError, RegistryUnavailable, Resolved

    if isinstance(result, Resolved):
        return LookupAnswer(result.digest, result.media_type)
    if isinstance(result, RegistryUnavailable) and result.host_problem is not None:
        return LookupAnswer(error=_one_line(str(result)), host_problem=result.host_problem)
    if isinstance(result, RegistryError):
        return LookupAnswer(error=_one_line(str(result)))
    return LookupAnswer(error=f"unexpected lookup result {type(result).__name__}")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _version_tag(
    client: RegistryClient,
    readable: DigestCache | None,
    cache: DigestCache | None,
    ref: ImageRef,
    base: LookupAnswer,
) -> LookupAnswer:
    """Which version tag shares ``ref``'s digest (``base``) now; cached per digest."""
    from dockfix.registry.registry_client import RegistryError

    if not base.ok or base.digest is None:
        return base
    key = ref.key + VERSION_TAG_SUFFIX
    hit = readable.get(key) if readable is not None else None
    if hit is not None and hit.entry.digest == base.digest and not hit.stale:
        return LookupAnswer(base.digest, base.media_type, hit.entry.tag or None)
    try:
        matches = client.tags_sharing_digest(ref, digest=base.digest)
    except RegistryError as exc:
        return LookupAnswer(error=_one_line(str(exc)))
    except Exception as exc:  # a lookup must never stop the run
        return LookupAnswer(error=f"{ref.original}: listing tags failed ({type(exc).__name__})")
    tag = matches[0] if matches else None
    if cache is not None:
        # "" records that no tag matched, so a warm run does not list the tags again.
        cache.put(key, base.digest, base.media_type, tag=tag or "")
        with contextlib.suppress(OSError):  # the client reports an unwritable cache already
            cache.save()
    return LookupAnswer(base.digest, base.media_type, tag)


_OFFLINE_CACHES: dict[tuple[str, float, int, int], DigestCache] = {}
# Inside one_cache_read(): the cache views already checked, by (path as configured, ttl), and
# the settings read from the environment (which a batch does not change).
_BATCH_VIEWS: dict[tuple[Path | None, float], DigestCache] | None = None
_BATCH_SETTINGS: RegistrySettings | None = None
# And the offline answers given so far (the results cache asks for the same few images for
# file after file): one view of the cache gives each the same answer.
_BATCH_ANSWERS: dict[tuple[str, str], LookupAnswer | None] | None = None


@contextlib.contextmanager
def one_cache_read() -> Iterator[None]:
    """Within this block, offline lookups check the cache file once (not once per file): a
    batch of files is answered from one view of it."""
    global _BATCH_VIEWS, _BATCH_SETTINGS, _BATCH_ANSWERS
    outer, outer_settings, outer_answers = _BATCH_VIEWS, _BATCH_SETTINGS, _BATCH_ANSWERS
    if outer is None:
        _BATCH_VIEWS, _BATCH_SETTINGS = {}, RegistrySettings.from_environ()
        _BATCH_ANSWERS = {}
    try:
        yield
    finally:
        _BATCH_VIEWS, _BATCH_SETTINGS, _BATCH_ANSWERS = outer, outer_settings, outer_answers


@lru_cache(maxsize=8)
def _default_cache_path(xdg: str | None, home: str | None) -> Path:
    """The default cache file for these environment values (worked out once per process)."""
    from dockfix.registry.digest_cache import default_cache_path

    env = {k: v for k, v in (("XDG_CACHE_HOME", xdg), ("HOME", home)) if v is not None}
    return default_cache_path(env)


def _shared_cache(path: Path | None, ttl: float) -> DigestCache:
    """One read-only view of the cache file per process for offline runs (many files, one
    file read); online runs make their own, since they write."""
    from dockfix.registry.digest_cache import DigestCache

    batch_key = (path, ttl)
    if _BATCH_VIEWS is not None and batch_key in _BATCH_VIEWS:
        return _BATCH_VIEWS[batch_key]
    where = path if path is not None else _default_cache_path(
        os.environ.get("XDG_CACHE_HOME"), os.environ.get("HOME")
    )
    try:
        st = os.stat(where)
        stamp = (st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = (0, -1)
    key = (str(where), ttl, *stamp)  # a rewritten cache file is read again
    cache = _OFFLINE_CACHES.get(key)
    if cache is None:
        cache = _OFFLINE_CACHES[key] = DigestCache(path, ttl=ttl)
    if _BATCH_VIEWS is not None:
        _BATCH_VIEWS[batch_key] = cache
    return cache
