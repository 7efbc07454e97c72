"""What is known about a base image by its name, in one place for every fixer: its family
(Debian, Alpine, RHEL, distroless, Windows …), the users official images ship, whether it
must start as root, and what each family has (how to create a user, a shell with
`pipefail`, the package manager that gives the family away).

Facts about public images, not about the Dockerfile: :mod:`dockfix.semantics.semantic` gives the
reference (:func:`~dockfix.semantics.semantic.base_reference`), this module says what it is. They stay
out of the engine, which knows no public image and no anti-pattern.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from dockfix.registry.image_ref import ImageRef

NONROOT_UID = 65532  # distroless and Chainguard `nonroot`

# Official images whose entrypoint starts as root and switches to its own user.
_ENTRYPOINT_DROPS = frozenset(
    {
        "postgres",
        "redis",
        "mysql",
        "mariadb",
        "mongo",
        "rabbitmq",
        "cassandra",
        "couchdb",
        "consul",
        "vault",
        "hashicorp/consul",
        "hashicorp/vault",
        "zookeeper",
        "neo4j",
        "influxdb",
        "percona",
        "ghost",
        "redmine",
    }
)
_NOT_DEBIAN = frozenset(
    {
        "mysql",
        "percona",
        "elasticsearch",
        "kibana",
        "logstash",
        "consul",
        "vault",
        "hashicorp/consul",
        "hashicorp/vault",
        "sonarqube",
    }
)
# Servers whose master process needs root (binds :80, then workers switch user).
_ROOT_SERVERS = frozenset(
    {
        "nginx",
        "httpd",
        "wordpress",
        "drupal",
        "joomla",
        "nextcloud",
        "owncloud",
        "phpmyadmin",
        "mediawiki",
        "matomo",
        "friendica",
        "docker",
        "gitlab/gitlab-ce",
        "gitlab/gitlab-ee",
        "tomcat",
    }
)
# Images known to run as a non-root user by default.
_NONROOT_IMAGES = (
    "nginxinc/nginx-unprivileged",
    "jenkins/jenkins",
    "grafana/grafana",
    "prom/",
    "quay.io/prometheus/",
    "docker.elastic.co/",
    "quay.io/keycloak/",
    "jupyter/",
    "quay.io/jupyter/",
    "apache/airflow",
    "selenium/",
    "confluentinc/",
    "sonatype/nexus3",
    "elasticsearch",
    "kibana",
    "logstash",
    "solr",
    "sonarqube",
    "odoo",
    "haproxy",
    "memcached",
    "registry.access.redhat.com/ubi8/nodejs",
    "registry.access.redhat.com/ubi9/nodejs",
    "registry.access.redhat.com/ubi8/python",
    "registry.access.redhat.com/ubi9/python",
    "registry.access.redhat.com/ubi9/go-toolset",
    "registry.access.redhat.com/ubi8/go-toolset",
    "registry.access.redhat.com/ubi9/openjdk",
    "registry.access.redhat.com/ubi8/openjdk",
)
_DEBIAN_IMAGES = frozenset(
    {
        "debian",
        "ubuntu",
        "buildpack-deps",
        "python",
        "node",
        "openjdk",  # some variants only: see _openjdk_on_debian
        "golang",
        "ruby",
        "php",
        "perl",
        "rust",
        "eclipse-temurin",
        "maven",
        "gradle",
        "gcc",
        "r-base",
        "julia",
        "haskell",
        "elixir",
        "erlang",
        "clojure",
        "swift",
        "pypy",
        "mono",
        "dart",
        "bitnami/minideb",
        "rocker/r-ver",
        "continuumio/miniconda3",
        "condaforge/miniforge3",
        "tensorflow/tensorflow",
        "pytorch/pytorch",
        "mcr.microsoft.com/playwright",
        "mcr.microsoft.com/devcontainers/base",
        "kalilinux/kali-rolling",
        # servers whose default variant is Debian/Ubuntu (`-alpine` ones are told apart first)
        "nginx",
        "httpd",
        "wordpress",
        "tomcat",
    }
)
_DEBIAN_TAG_WORDS = (
    "bookworm",
    "bullseye",
    "buster",
    "trixie",
    "stretch",
    "jammy",
    "noble",
    "focal",
    "bionic",
    "slim",
    "ubuntu",
    "debian",
)
_RHEL_IMAGES = frozenset(
    {
        "centos",
        "rockylinux",
        "rockylinux/rockylinux",
        "almalinux",
        "oraclelinux",
        "fedora",
        "redhat/ubi8",
        "redhat/ubi9",
        "redhat/ubi10",
        "registry.access.redhat.com/ubi8",
        "registry.access.redhat.com/ubi9",
        "registry.access.redhat.com/ubi10",
        "registry.access.redhat.com/ubi8/ubi",
        "registry.access.redhat.com/ubi9/ubi",
        "quay.io/centos/centos",
    }
)
_RHEL_MINIMAL_IMAGES = frozenset(
    {
        "amazonlinux",
        "amazoncorretto",
        "public.ecr.aws/amazonlinux/amazonlinux",
        "mcr.microsoft.com/cbl-mariner/base/core",
        "mcr.microsoft.com/azurelinux/base/core",
    }
)


# --- what each family has ------------------------------------------------------------------

# How each family creates a system user and its group with a fixed UID/GID: (group command,
# user command), formatted with `name` and `uid`. Families without an entry have no tool for
# it in the image (distroless, scratch, minimal RPM images, BusyBox): a numeric USER needs none.
_USER_CREATION: dict[str, tuple[str, str]] = {
    "debian": (
        "groupadd --system --gid {uid} {name}",
        "useradd --system --uid {uid} --gid {uid} --no-log-init --create-home {name}",
    ),
    "alpine": (
        "addgroup -S -g {uid} {name}",
        "adduser -S -D -u {uid} -G {name} -h /home/{name} {name}",
    ),
    "rhel": ("groupadd -r -g {uid} {name}", "useradd -r -u {uid} -g {uid} -l -m {name}"),
}
# A shell with `-o pipefail` each family's images have (Alpine's BusyBox ash has it too).
_PIPEFAIL_SHELLS = {"debian": "/bin/bash", "rhel": "/bin/bash", "alpine": "/bin/ash"}
# The family a package manager's use in a RUN points to: (family, phrase for a message).
_PACKAGE_MANAGER_FAMILIES = {
    "apt-get": ("debian", "a Debian-like base"),
    "apt": ("debian", "a Debian-like base"),
    "apk": ("alpine", "an Alpine-like base"),
}


def user_creation(family: str, name: str, uid: int) -> tuple[str, str] | None:
    """(group command, user command) that create ``name`` with ``uid`` as UID and GID in an
    image of ``family``; None when the family has no tool for it."""
    found = _USER_CREATION.get(family)
    if found is None:
        return None
    group, user = found
    return group.format(name=name, uid=uid), user.format(name=name, uid=uid)


def pipefail_shell(family: str) -> str | None:
    """The path of a shell with `-o pipefail` in images of ``family``; None when unknown."""
    return _PIPEFAIL_SHELLS.get(family)


# The programs of that table: a command whose text names none of them runs none of them.
PACKAGE_MANAGER_PROGRAMS = tuple(_PACKAGE_MANAGER_FAMILIES)


def family_of_package_manager(program: str) -> tuple[str, str] | None:
    """(family, "a Debian-like base") for a package manager only that family has."""
    return _PACKAGE_MANAGER_FAMILIES.get(program)


# --- what an image is, by its name ------------------------------------------------------------

# Users official images create: repository -> {name: (uid, gid, home)}.
IMAGE_USERS: dict[str, dict[str, tuple[int, int, str]]] = {
    "node": {"node": (1000, 1000, "/home/node")},
    "oven/bun": {"bun": (1000, 1000, "/home/bun")},
    "gradle": {"gradle": (1000, 1000, "/home/gradle")},
}
# Runtime images whose own user DF201 runs the image as (a build image's, gradle's, is not
# reused: the final stage's application has nothing to do with it).
_RUNTIME_IMAGE_USERS = frozenset({"node", "oven/bun"})
# Words only Windows images have in their names and tags.
_WINDOWS_WORDS = ("windows", "nanoserver", "servercore", "ltsc20")


def is_windows(registry: str, path: str, tag: str) -> bool:
    """A Windows image, by name (lower case; ``registry`` "" for Docker Hub)."""
    full = f"{registry}/{path}" if registry else path
    return any(w in full or w in tag for w in _WINDOWS_WORDS) or (
        registry == "mcr.microsoft.com" and path.startswith("dotnet/framework")
    )


def may_be_windows(reference: str) -> bool:
    """Whether a reference as written (variables not expanded) suggests a Windows image;
    PowerShell's images come for Windows and Linux."""
    text = reference.lower()
    return any(w in text for w in _WINDOWS_WORDS) or "mcr.microsoft.com/powershell" in text


def is_distroless(registry: str, path: str) -> bool:
    """Google's distroless images (``gcr.io/distroless/…``)."""
    return registry == "gcr.io" and path.startswith("distroless/")


def is_alpine(path: str, tag: str) -> bool:
    """Alpine itself, or an image's Alpine variant (``-alpine``, ``alpine3.19``)."""
    return path.rsplit("/", 1)[-1] == "alpine" or "alpine" in tag


class Base(NamedTuple):
    """What is known about the final stage's base image."""

    ref: str  # as resolved (``scratch``, ``python:3.12-slim``), "" when unknown
    family: str  # debian, alpine, rhel, numeric, nonroot-uid, windows
    nonroot_default: bool = False
    uid: int | None = None  # a UID the image already has a user for
    user: str = ""  # that user's name, when the image has one
    why: str = ""  # how the family was decided, for the message
    blocked: str = ""  # a reason the image must stay root
    blocked_by_entrypoint: bool = False  # only while the base's own ENTRYPOINT is used


def _split_ref(ref: str) -> tuple[str, str, str]:
    """(registry or "" for Docker Hub, repository without ``library/``, tag), lower case."""
    parsed = ImageRef.parse_loose(ref.lower())
    registry = "" if parsed.is_docker_hub else (parsed.domain or "")
    return registry, parsed.short_name, parsed.tag or ""


def _image_matches(full: str, pattern: str) -> bool:
    """``full`` is ``pattern``, or lies under it when it ends in ``/``; Red Hat's language
    images match by prefix (``ubi9/python`` covers ``ubi9/python-311``)."""
    if pattern.endswith("/") or pattern.startswith("registry.access.redhat.com/"):
        return full.startswith(pattern)
    return full == pattern


def _dotnet_app_user(path: str, tag: str) -> bool:
    if not re.match(r"dotnet/(nightly/)?(aspnet|runtime|runtime-deps|sdk)$", path):
        return False
    m = re.match(r"(\d+)\.", tag or "")
    return m is not None and int(m.group(1)) >= 8


class _Name(NamedTuple):
    ref: str  # as written
    registry: str  # "" for Docker Hub
    path: str  # repository without `library/`
    tag: str
    full: str  # registry/path, path alone on Docker Hub
    short: str  # the last path component


@functools.lru_cache(maxsize=512)
def classify(ref: str) -> Base:
    """What the base image is known to be (a monorepo's files share a few bases: cached)."""
    registry, path, tag = _split_ref(ref)
    full = f"{registry}/{path}" if registry else path
    name = _Name(ref, registry, path, tag, full, path.rsplit("/", 1)[-1])
    if full == "scratch":
        return Base(ref, "nonroot-uid", uid=NONROOT_UID, why="`scratch` has no user database")
    if is_windows(registry, path, tag):
        return Base(ref, "windows")
    return _non_root_user(name) or _starts_as_root(name) or _distribution(name)


def _non_root_user(n: _Name) -> Base | None:
    """Images that run as a non-root user, or ship one to run as (distroless, Chainguard,
    .NET 8+, Bitnami, images known to set a non-root `USER`)."""
    ref, registry, path, tag = n.ref, n.registry, n.path, n.tag
    # Bun's distroless variant is `gcr.io/distroless/base-nossl`, left running as root.
    if is_distroless(registry, path) or (n.full == "oven/bun" and "distroless" in tag):
        if "nonroot" in tag:
            return Base(ref, "nonroot-uid", nonroot_default=True)
        return Base(
            ref,
            "nonroot-uid",
            uid=NONROOT_UID,
            user="nonroot",
            why="distroless images have no `useradd`",
        )
    if registry == "cgr.dev":
        if n.short in ("wolfi-base", "chainguard-base", "busybox"):
            return Base(ref, "alpine", why="Wolfi images come with BusyBox's `adduser`")
        return Base(ref, "nonroot-uid", nonroot_default=True, uid=NONROOT_UID, user="nonroot")
    if "nonroot" in tag or "chiseled" in tag or "distroless" in tag:
        return Base(ref, "nonroot-uid", nonroot_default=True)
    if registry == "mcr.microsoft.com" and _dotnet_app_user(path, tag):
        # .NET 8+ images ship the user `app` (UID 1654, `$APP_UID`); creating another
        # `app` would fail the build (found on real Dockerfiles).
        return Base(
            ref,
            "nonroot-uid",
            uid=1654,
            user="app",
            why="the .NET 8+ image's `app` user is UID 1654",
        )
    if path.startswith("bitnami/") and path != "bitnami/minideb":
        return Base(
            ref, "nonroot-uid", nonroot_default=True, uid=1001, why="Bitnami images run as UID 1001"
        )
    if any(_image_matches(n.full, p) for p in _NONROOT_IMAGES):
        return Base(ref, "numeric", nonroot_default=True)
    return None


def _starts_as_root(n: _Name) -> Base | None:
    """Images that must start as root: their entrypoint or server switches user itself."""
    ref, full, tag = n.ref, n.full, n.tag
    if n.path.startswith("linuxserver/") or n.registry == "lscr.io":
        return Base(
            ref,
            "numeric",
            blocked="LinuxServer.io images start as root and switch to PUID/PGID in their s6 init",
        )
    if full in _ENTRYPOINT_DROPS:
        family = (
            "alpine" if is_alpine(n.path, tag) else "numeric" if full in _NOT_DEBIAN else "debian"
        )
        return Base(
            ref,
            family,
            why=f"`{ref}` is {family.capitalize()}-based",
            blocked=f"the `{n.short}` image's entrypoint starts as root and "
            "switches to its own user; running it as non-root breaks that",
            blocked_by_entrypoint=True,
        )
    if full in _ROOT_SERVERS or (full == "php" and ("apache" in tag or "fpm" in tag)):
        return Base(
            ref,
            _distribution(n).family,  # (what its shell has: DF505 asks)
            blocked=f"the `{n.short}` server starts as root by design and "
            "runs its workers as an unprivileged user; use an unprivileged variant instead",
        )
    return None


def _distribution(n: _Name) -> Base:
    """The family of the distribution the image is built on (how to create a user there)."""
    ref, registry, path, tag, full = n.ref, n.registry, n.path, n.tag, n.full
    if full in _RUNTIME_IMAGE_USERS:
        user, (uid, _, _) = next(iter(IMAGE_USERS[full].items()))
        family = "alpine" if is_alpine(path, tag) else "debian"
        return Base(
            ref, family, uid=uid, user=user, why=f"the {n.short} image's `{user}` user is UID {uid}"
        )
    if full == "busybox" and not is_alpine(path, tag):
        # BusyBox builds differ in their applets (Debian's has no `addgroup`/`adduser`, and a
        # `busybox` image may be built from it): a numeric user needs none of them.
        return Base(ref, "numeric", why="a BusyBox image may lack the `adduser` applet")
    if is_alpine(path, tag):
        return Base(ref, "alpine", why=f"`{ref}` is Alpine-based")
    if (
        full in _RHEL_MINIMAL_IMAGES
        or "minimal" in path
        or "micro" in path
        or (full in _RHEL_IMAGES and ("minimal" in tag or "slim" in tag or "micro" in tag))
        or _minimal_rpm_variant(tag)
    ):
        return Base(ref, "numeric", why=f"`{ref}` has no `useradd`")
    if full in _RHEL_IMAGES:
        return Base(ref, "rhel", why=f"`{ref}` is RHEL-family")
    if full in _DEBIAN_IMAGES or (
        registry == "mcr.microsoft.com"
        and path.startswith("dotnet/")
        and not any(w in tag for w in ("azurelinux", "cbl-mariner"))
    ):
        if full == "openjdk" and not _openjdk_on_debian(tag):
            return Base(ref, "numeric", why=f"the family of `{ref}` is not known")
        return Base(ref, "debian", why=f"`{ref}` is Debian/Ubuntu-based")
    if any(w in tag for w in ("ubi8", "ubi9", "rockylinux", "centos")):
        return Base(ref, "rhel", why=f"`{ref}` is RHEL-family")
    if any(w in tag for w in _DEBIAN_TAG_WORDS if w != "slim"):
        # a tag naming its distribution (`nvidia/cuda:12.1.1-runtime-ubuntu22.04`)
        return Base(ref, "debian", why=f"`{ref}` is Debian/Ubuntu-based (its tag says so)")
    return Base(ref, "numeric", why=f"the family of `{ref}` is not known")


def _minimal_rpm_variant(tag: str) -> bool:
    """A tag naming a variant built on Amazon Linux (`maven:3-amazoncorretto-21`) or UBI
    minimal (`eclipse-temurin:21-jre-ubi9-minimal`): neither has `useradd` on the PATH."""
    return "corretto" in tag or ("ubi" in tag and "minimal" in tag)


def _openjdk_on_debian(tag: str) -> bool:
    """The official openjdk images: the `-slim` variants, the Debian-named ones and the
    default variant of 8 and 11 are Debian; the default of 12 and later is Oracle Linux
    (slim: no `useradd`)."""
    if any(w in tag for w in _DEBIAN_TAG_WORDS):  # codenames and `slim`
        return "oraclelinux" not in tag
    return re.match(r"(8|11)(u\d+)?(\.[\d.]+)?(-jdk|-jre)?$", tag) is not None
