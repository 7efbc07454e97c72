"""Parse and normalise container image references the way Docker does.

The grammar and the Docker Hub normalisation follow ``distribution/reference``
(what ``docker pull`` uses)::

    reference  := name [ ":" tag ] [ "@" digest ]
    name       := [ domain "/" ] path-component [ "/" path-component ]*
    domain     := host [ ":" port ]          host: DNS name or [IPv6]
    path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
    tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
    digest     := algorithm ":" hex

The first ``/``-separated component is a domain only when it contains ``.`` or ``:``,
is ``localhost``, or contains an upper-case letter (current Docker); otherwise the
reference is on Docker Hub.  ``docker.io`` and ``index.docker.io`` both mean Docker Hub,
whose one-part names live under ``library/``.  ``registry-1.docker.io`` is, as in
Docker, an ordinary domain: it is not rewritten, but since it is the Hub's API host
``registry-1.docker.io/library/python`` shares the registry and cache key of ``python``.

:class:`ImageRef` keeps the text exactly as written (``original``) so a fixer can add a
digest without rewriting the user's spelling: ``golang:1.20`` becomes
``golang:1.20@sha256:…``, never ``index.docker.io/library/golang:1.20@…``.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

__all__ = [
    "DOCKER_HUB_API_HOST",
    "DOCKER_HUB_DOMAIN",
    "ImageRef",
    "VariableReferenceError",
    "has_variables",
    "validate_digest",
    "validate_tag",
]

DOCKER_HUB_DOMAIN = "docker.io"
"""The canonical domain of Docker Hub in normalised references."""

DOCKER_HUB_API_HOST = "registry-1.docker.io"
"""The host that serves Docker Hub's registry API (``/v2/…``)."""

_LEGACY_HUB_DOMAIN = "index.docker.io"
_HUB_DOMAINS = frozenset({DOCKER_HUB_DOMAIN, _LEGACY_HUB_DOMAIN})
_OFFICIAL_PREFIX = "library/"
_NAME_TOTAL_LENGTH_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|-+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_PATH = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6 = r"\[[a-fA-F0-9:]+\]"
_DOMAIN = rf"(?:{_DOMAIN_NAME}|{_IPV6})(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

_DOMAIN_RE = re.compile(rf"^{_DOMAIN}$", re.ASCII)
_PATH_RE = re.compile(rf"^{_PATH}$", re.ASCII)
_TAG_RE = re.compile(rf"^{_TAG}$", re.ASCII)
_DIGEST_RE = re.compile(rf"^{_DIGEST}$", re.ASCII)
_IDENTIFIER_RE = re.compile(r"^[a-f0-9]{64}$", re.ASCII)
_REFERENCE_RE = re.compile(
    rf"^(?P<name>(?:{_DOMAIN}/)?{_PATH})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$",
    re.ASCII,
)

# Digest algorithms that go-digest (and so Docker) accepts, with their hex length.
_DIGEST_HEX_LENGTH = {"sha256": 64, "sha384": 96, "sha512": 128}


class VariableReferenceError(ValueError):
    """The reference contains ``$`` (an ARG/ENV expansion) and cannot be parsed as-is."""


def has_variables(text: str) -> bool:
    """True when *text* uses a build variable (``$VAR`` / ``${VAR:-x}``), e.g. ARG-driven FROM."""
    return "$" in text


def validate_digest(digest: str) -> str:
    """Return *digest* if it is a well-formed digest Docker accepts, else raise ValueError."""
    if not _DIGEST_RE.match(digest):
        raise ValueError(f"invalid digest {digest!r}: expected <algorithm>:<hex>")
    algorithm, _, hex_part = digest.partition(":")
    length = _DIGEST_HEX_LENGTH.get(algorithm)
    if length is None:
        raise ValueError(f"invalid digest {digest!r}: unsupported digest algorithm {algorithm!r}")
    if len(hex_part) != length or not re.fullmatch(r"[a-f0-9]+", hex_part):
        raise ValueError(
            f"invalid digest {digest!r}: {algorithm} needs {length} lower-case hex characters"
        )
    return digest


def validate_tag(tag: str) -> str:
    """Return *tag* if it is a valid tag, else raise ValueError."""
    if not _TAG_RE.match(tag):
        raise ValueError(
            f"invalid tag {tag!r}: tags are 1-128 characters of [A-Za-z0-9_.-], "
            "not starting with '.' or '-'"
        )
    return tag


def _split_domain(name: str) -> tuple[str | None, str]:
    """Split the name part into (domain as written or None, remainder), as Docker does."""
    first, sep, rest = name.partition("/")
    if not sep:
        return None, name
    if any(c in first for c in ".:") or first == "localhost" or first.lower() != first:
        return first, rest
    return None, name


class ImageRef(NamedTuple):
    """A parsed image reference.

    ``registry`` is the API host to talk to (``registry-1.docker.io`` for Docker Hub,
    lower-cased), ``repository`` the normalised repository path (``library/python``),
    ``domain`` the domain exactly as written (``None`` when the reference had none) and
    ``original`` the complete text as written.
    """

    original: str
    domain: str | None
    registry: str
    repository: str
    tag: str | None
    digest: str | None
    name_as_written: str

    @classmethod
    def parse(cls, text: str) -> ImageRef:
        """Parse *text*; raise :class:`ValueError` (with the reason) when it is not valid."""
        if cls is ImageRef and isinstance(text, str):
            return _parse_cached(text)  # several fixers parse the same references
        return cls._parse(text)

    @classmethod
    def parse_loose(cls, text: str) -> ImageRef:
        """Parse *text* as :meth:`parse` does, or, when it is not a valid reference (upper case,
        a variable, a stray character), split it by the same rules without checking each part:
        for reading the name of an image a fixer has facts about, never for a registry."""
        try:
            return cls.parse(text)
        except ValueError:
            return _split_loosely(text)

    @classmethod
    def _parse(cls, text: str) -> ImageRef:
        if not isinstance(text, str):
            raise TypeError(f"image reference must be a string, not {type(text).__name__}")
        if has_variables(text):
            raise VariableReferenceError(
                f"invalid reference {text!r}: it uses a build variable ($...); "
                "expand ARG/ENV values before parsing"
            )
        if text == "":
            raise ValueError("invalid reference: empty string")
        if _IDENTIFIER_RE.match(text):
            raise ValueError(
                f"invalid reference {text!r}: cannot specify 64-byte hexadecimal strings "
                "(that is an image ID, not a name)"
            )
        match = _REFERENCE_RE.match(text)
        if match is None:
            raise ValueError(_explain_invalid(text))
        name = match.group("name")
        tag = match.group("tag")
        digest = match.group("digest")
        if digest is not None:
            try:
                validate_digest(digest)
            except ValueError as exc:
                raise ValueError(f"invalid reference {text!r}: {exc}") from None
        domain, path = _split_domain(name)
        if domain is None:
            # The regexp alone would accept "Foo/bar" as domain "Foo"; _split_domain only
            # treats it that way for upper case, so re-check that the path is valid.
            if not _PATH_RE.match(path):
                raise ValueError(_explain_invalid(text))
        elif not _DOMAIN_RE.match(domain) or not _PATH_RE.match(path):
            raise ValueError(_explain_invalid(text))
        if domain is None or domain in _HUB_DOMAINS:
            canonical_domain = DOCKER_HUB_DOMAIN
            registry = DOCKER_HUB_API_HOST
            if "/" not in path:
                path = _OFFICIAL_PREFIX + path
        else:
            canonical_domain = domain
            registry = domain.lower()
        if len(canonical_domain) + 1 + len(path) > _NAME_TOTAL_LENGTH_MAX:
            raise ValueError(
                f"invalid reference {text!r}: repository name must not be more than "
                f"{_NAME_TOTAL_LENGTH_MAX} characters"
            )
        return cls(
            original=text,
            domain=domain,
            registry=registry,
            repository=path,
            tag=tag,
            digest=digest,
            name_as_written=name,
        )

    @staticmethod
    def has_variables(text: str) -> bool:
        """True when *text* uses a build variable (see :func:`has_variables`)."""
        return has_variables(text)

    # ----------------------------------------------------------------- properties
    @property
    def is_docker_hub(self) -> bool:
        """True for Docker Hub references (implicit, ``docker.io`` or ``index.docker.io``)."""
        return self.domain is None or self.domain in _HUB_DOMAINS

    @property
    def short_name(self) -> str:
        """The repository without registry and ``library/``, lower case: ``golang`` for
        ``docker.io/library/golang:1.22``, ``oven/bun`` for ``oven/bun:1``, ``distroless/static``
        for ``gcr.io/distroless/static``."""
        path = self.repository.lower()
        return path[len(_OFFICIAL_PREFIX) :] if path.startswith(_OFFICIAL_PREFIX) else path

    @property
    def canonical_name(self) -> str:
        """Docker's fully qualified name, e.g. ``docker.io/library/python``."""
        domain = DOCKER_HUB_DOMAIN if self.is_docker_hub else (self.domain or "")
        return f"{domain}/{self.repository}"

    @property
    def canonical(self) -> str:
        """Docker's fully qualified reference, e.g. ``docker.io/library/python:3@sha256:…``."""
        text = self.canonical_name
        if self.tag is not None:
            text += f":{self.tag}"
        if self.digest is not None:
            text += f"@{self.digest}"
        return text

    @property
    def manifest_reference(self) -> str:
        """What to put after ``/manifests/``: the tag, else the digest, else ``latest``.

        A reference carrying both a tag and a digest resolves the *tag*, since the
        digest-pinning fixers want to know what the tag points at now.
        """
        if self.tag is not None:
            return self.tag
        if self.digest is not None:
            return self.digest
        return "latest"

    @property
    def key(self) -> str:
        """Normalised lookup key ``<registry>/<repository>:<tag>`` or ``…@<digest>``.

        Spellings of the same lookup share a key: ``python``, ``python:latest`` and
        ``docker.io/library/python:latest`` all give
        ``registry-1.docker.io/library/python:latest``.
        """
        reference = self.manifest_reference
        sep = "@" if reference == self.digest else ":"
        return f"{self.registry}/{self.repository}{sep}{reference}"

    @property
    def repository_key(self) -> tuple[str, str]:
        """(registry, repository), e.g. for grouping or tag-list memoisation."""
        return self.registry, self.repository

    # ----------------------------------------------------------------- rendering
    def with_digest(self, digest: str) -> str:
        """The reference as the user wrote it, with *digest* pinned (replacing any digest).

        ``golang:1.20`` -> ``golang:1.20@sha256:…``; the domain, the tag and the spelling
        of the name are kept.
        """
        validate_digest(digest)
        base = self.name_as_written
        if self.tag is not None:
            base += f":{self.tag}"
        return f"{base}@{digest}"

    def without_digest(self) -> str:
        """The reference as written, minus any ``@digest``."""
        if self.tag is None:
            return self.name_as_written
        return f"{self.name_as_written}:{self.tag}"

    def with_tag(self, tag: str, *, digest: str | None = None) -> str:
        """The reference as written with its tag replaced (or added) by *tag*.

        Any existing digest is dropped (it belonged to the old tag) unless a new *digest*
        is given.
        """
        validate_tag(tag)
        text = f"{self.name_as_written}:{tag}"
        if digest is not None:
            validate_digest(digest)
            text += f"@{digest}"
        return text

    def __str__(self) -> str:
        return self.original


def _split_loosely(text: str) -> ImageRef:
    """``name[:tag][@digest]`` split without validation (see :meth:`ImageRef.parse_loose`)."""
    rest, at, digest = text.partition("@")
    last = rest.rsplit("/", 1)[-1]
    name, tag = rest, None
    if ":" in last:
        tag = last.split(":", 1)[1]
        name = rest[: len(rest) - len(last)] + last.split(":", 1)[0]
    domain, path = _split_domain(name)
    if domain is None or domain.lower() in _HUB_DOMAINS:
        registry = DOCKER_HUB_API_HOST
        if "/" not in path:
            path = _OFFICIAL_PREFIX + path
    else:
        registry = domain.lower()
    return ImageRef(text, domain, registry, path, tag, digest if at else None, name)


def _explain_invalid(text: str) -> str:
    """Build a helpful ValueError message for a reference that did not parse."""
    _, remainder = _split_domain(text)
    remote = remainder.split("@", 1)[0].split(":", 1)[0]
    if remote.lower() != remote:
        return f"invalid reference {text!r}: repository name must be lowercase"
    if any(c.isspace() for c in text):
        return f"invalid reference {text!r}: whitespace is not allowed"
    if text.count("@") > 1:
        return f"invalid reference {text!r}: more than one '@'"
    if "@" in text and not _DIGEST_RE.match(text.rsplit("@", 1)[1]):
        return f"invalid reference {text!r}: malformed digest"
    return f"invalid reference format: {text!r}"


@functools.lru_cache(maxsize=4096)
def _parse_cached(text: str) -> ImageRef:
    # ImageRef is frozen, so one parsed value can be shared; errors are not cached (raised anew)
    return ImageRef._parse(text)
