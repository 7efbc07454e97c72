"""DF206 floating-tag: an image tag that is not `latest` but moves just as well.

## What it does
Reports image references (`FROM`, `COPY --from=<image>`, `RUN --mount=…,from=<image>`, and
whole-reference `ARG` defaults used by a `FROM`) whose tag follows a release line instead of
naming one, without asking a registry:

- a tag without any version number: a channel (`node:lts`, `ubuntu:rolling`,
  `debian:stable-slim`, `alpine:edge`, `nginx:mainline`), a branch whose builds a CI job
  pushes under its name (`ghcr.io/acme/api:main`), or a variant alone (`python:slim`,
  `node:alpine`), or an application image tagged with a distribution's codename only
  (`python:bookworm`: the codename names the Debian release under Python, not Python's
  version);
- a major-only version (`golang:1-alpine`, `alpine:3`, `python:3`, `node:20`,
  `maven:3-eclipse-temurin-21`): the tag follows every minor release of that major.

The rule for "versioned enough": the tag starts with a version of at least two numeric parts
(`3.12`, `1.22-alpine`, `24.04`, `v2.1`), or with one number of four digits or more (a
year or a date: `2023`, `20240115`), or names the release of an image whose single number *is*
the release (`debian:12`, `fedora:40`, `amazonlinux:2`, `postgres:16`,
`eclipse-temurin:21-jre`: later updates of those are patch releases); a tag without a version
that holds a digit (`alpine3.20`, `ltsc2022`, a Git hash) or a distribution's codename on that
distribution's own image (`debian:bookworm-slim`, `ubuntu:noble`) is left alone. Patch
releases of a `major.minor` tag are what it is meant to follow; DF202's digest pins the rest.

Images published without version tags (`gcr.io/distroless/static-debian12:nonroot`,
`cgr.dev/chainguard/…`) are left alone: their release is in the name and only a digest
(DF202) pins them. `latest` and a missing tag are DF203's; references pinned by digest are never reported (the
digest decides what is pulled); references built from variables are DF202's to report; the
`# syntax=` line is left alone (`docker/dockerfile:1` is the form Docker documents: the
frontend keeps the version 1 syntax compatible).

## Why is this bad
`python:slim` is `latest` under another name: it is a new Python minor release the day one
ships. `golang:1-alpine` moves from Go 1.22 to 1.23, `alpine:3` from 3.19 to 3.20 (another
musl, other package versions), `node:lts` to the next LTS major. The Dockerfile does not say
which version it was written for, and a rebuild picks up a new one without any change in the
repository.

## Example
```dockerfile
FROM golang:1-alpine AS build
FROM node:lts
```
Use instead:
```dockerfile
FROM golang:1.23-alpine AS build
FROM node:22.12
```

## Fix safety
No fix (display-only): which version to write is the version the project is tested with,
which the file does not say; the version a floating tag points at today needs the registry,
and writing it would change what later builds pull. DF202 (digest pinning) applies on top
once the version is chosen.

## Options
None.

## Resolves
hadolint: none (DL3006 and DL3007 report a missing tag and `latest`: DF203) · Trivy: none
(DS-0001 is `latest`: DF203) · Checkov: none (CKV_DOCKER_7 is `latest`: DF203).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from dockfix.core.fixer import Finding, Fixer, Resolves, Severity, register
from dockfix.fixers._image_refs import ImageSite, image_sites
from dockfix.fixers._lazy import lazy_re
from dockfix.registry.image_ref import ImageRef, has_variables
from dockfix.semantics.context import FixContext
from dockfix.syntax import Dockerfile

_VERSION = lazy_re(r"v?(\d+)((?:\.\d+)*)(?=$|[-_+])")
# Tags that follow a release channel.
_CHANNELS = frozenset(
    {
        "lts",
        "stable",
        "rolling",
        "edge",
        "mainline",
        "current",
        "testing",
        "unstable",
        "sid",
        "nightly",
        "latest",
        "devel",
        "dev",
        "beta",
        "rc",
        "canary",
        "next",
        "experimental",
        "preview",
        "insiders",
    }
)
# Tags a CI job writes after the branch it built (`ghcr.io/acme/api:main`).
_BRANCHES = frozenset({"main", "master", "develop", "development", "trunk", "head"})
# Variants that select a flavour of the image, never a version.
_VARIANTS = frozenset(
    {
        "slim",
        "alpine",
        "busybox",
        "glibc",
        "musl",
        "fpm",
        "apache",
        "cli",
        "zts",
        "jdk",
        "jre",
        "full",
        "minimal",
        "onbuild",
        "windowsservercore",
        "nanoserver",
        "perl",
        "otp",
    }
)
# Images whose tags are distribution releases: a codename there is the release.
_DISTRIBUTIONS = frozenset({"debian", "ubuntu", "buildpack-deps", "devcontainers/base"})
# Repositories that publish no version tags (`gcr.io/distroless/static-debian12:nonroot`: the
# release is in the name, the tag is a variant): only a digest pins them (DF202).
_UNVERSIONED = ("distroless/", "chainguard/")
# Images whose one number is the release, later updates being patch releases.
_RELEASE_NUMBER_IMAGES = frozenset(
    {
        "debian",
        "fedora",
        "amazonlinux",
        "postgres",
        "eclipse-temurin",
        "amazoncorretto",
        "openjdk",
        "ibm-semeru-runtimes",
        "sapmachine",
    }
)


def floating_reason(ref: ImageRef) -> str | None:
    """Why the tag of ``ref`` moves, or None when it names a release (or is DF203's)."""
    tag = ref.tag
    if ref.digest is not None or tag is None or tag == "latest":
        return None
    name = ref.short_name
    if name.startswith(_UNVERSIONED):
        return None
    version = _VERSION.match(tag)
    if version is not None:
        major, rest = version.group(1), version.group(2)
        if rest or len(major) >= 4 or name in _RELEASE_NUMBER_IMAGES:
            return None
        return f"the major-only version `{version.group(0)}` follows every {major}.x release"
    parts = [p for p in re.split(r"[-_.]", tag.lower()) if p]
    channels = [p for p in parts if p in _CHANNELS]
    if channels:
        return f"`{channels[0]}` is a release channel, not a version"
    branches = [p for p in parts if p in _BRANCHES]
    if branches:
        return f"`{branches[0]}` follows a branch's builds, not a version"
    if any(any(c.isdigit() for c in p) for p in parts):
        return None
    unknown = [p for p in parts if p not in _VARIANTS]
    if not unknown:
        return f"`{tag}` names a variant without a version: it follows the newest release"
    if name in _DISTRIBUTIONS:
        return None  # `bookworm`, `noble`: the codename is the release
    return f"the tag `{tag}` has no version number"


@register
class FloatingTag(Fixer):
    code = "DF206"
    severity = Severity.INFO
    name = "floating-tag"
    summary = "An image tag that follows a release line (`python:slim`, `golang:1-alpine`)"
    resolves = Resolves()

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for site in image_sites(doc):
            if site.where == "# syntax":
                continue
            ref = site.ref if site.ref is not None else _parse(site)
            if ref is None:
                continue
            why = floating_reason(ref)
            if why is None:
                continue
            yield self.finding(
                site.line,
                f"{site.label} floats: {why}",
                reason="the version to write is the one the project is tested with, which the "
                "file does not say; pin it by hand (major.minor at least, e.g. "
                f"`{ref.name_as_written}:<major.minor>{_variant_suffix(ref)}`)",
            )


def _parse(site: ImageSite) -> ImageRef | None:
    if has_variables(site.text):
        return None
    try:
        return ImageRef.parse(site.text)
    except ValueError:
        return None


def _variant_suffix(ref: ImageRef) -> str:
    """The variant part a pinned tag keeps (`-alpine` of `1-alpine`, `-slim` of `slim`)."""
    tag = ref.tag or ""
    version = _VERSION.match(tag)
    rest = tag[version.end() :] if version is not None else tag
    rest = "-".join(p for p in re.split(r"-", rest) if p and p.lower() not in _CHANNELS | _BRANCHES)
    return f"-{rest}" if rest else ""
