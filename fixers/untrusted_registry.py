"""DF205 untrusted-registry: an image pulled from a registry outside the trusted list.

## What it does
Off until trusted registries are configured: `trusted-registries = [...]` in dockfix's
configuration, or `trustedRegistries:` in hadolint's `.hadolint.yaml` (dockfix's setting wins
when both are set). Then it reports every image the build pulls from another registry: in
`FROM`, `COPY --from=<image>`, `RUN --mount=…,from=<image>`, the `# syntax=` frontend line and
the default of a global `ARG` used as a whole `FROM` reference.

A registry is the reference's domain as written (`gcr.io/p/app` → `gcr.io`; with a port,
`localhost:5000`). A reference without a domain (`python:3.12`) is Docker Hub, trusted when
the list names `docker.io` or `hub.docker.com`. An entry `*.example.com` trusts every
subdomain of `example.com` (not `example.com` itself). Letter case does not matter. These are
hadolint's rules for DL3026, so the same lines are reported, with three deliberate
differences: `COPY --from`-style checks also cover the `# syntax=` image and `ARG` defaults
(BuildKit pulls them too); `localhost:5000/app` counts as the registry `localhost:5000`
(hadolint does not see a registry there); and a mis-cased stage name (`FROM Build` after
`AS build`) is a stage, as BuildKit reads it, not a Docker Hub image.

Stage names, `scratch` and `FROM $BASE` whose `ARG` has no default are not reported: the
image is chosen by whoever runs the build (`--build-arg`), so the file cannot be judged. A
reference whose registry part is built from a variable (`FROM ${REGISTRY}/app`) is not
reported either, for the same reason.

## Why is this bad
A team that mirrors and scans its base images in its own registry wants every build to pull
from there: an image from elsewhere skips that scan, may disappear or change without notice,
and is a supply-chain risk.

## Example
With `trusted-registries = ["registry.example.com"]`, both images are reported:
```dockerfile
FROM python:3.12-slim
COPY --from=ghcr.io/astral-sh/uv:0.5 /uv /bin/uv
```
Use instead, after mirroring them: `FROM registry.example.com/mirror/python:3.12-slim` and
`COPY --from=registry.example.com/mirror/uv:0.5 /uv /bin/uv`.

## Fix safety
Display-only: only a person knows where the trusted copy of an image lives, and whether it is
the same image.

## Options
None; the list is the top-level setting `trusted-registries` (or hadolint's
`trustedRegistries`).

## Resolves
hadolint DL3026
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.core.fixer import Finding, Fixer, Resolves, Severity, register
from dockfix.fixers._image_refs import ImageSite, image_sites
from dockfix.registry.image_ref import has_variables
from dockfix.semantics.context import FixContext
from dockfix.syntax import Dockerfile

_DOCKER_HUB_NAMES = frozenset({"docker.io", "hub.docker.com"})


def registry_of(site: ImageSite) -> tuple[bool, str | None]:
    """(known, the domain as written in lower case; None for Docker Hub's implicit one)."""
    if site.ref is not None:
        return True, site.ref.domain.lower() if site.ref.domain is not None else None
    # A reference with variables (`python:${PY}-slim`): the registry is known when the text
    # before the first variable holds the whole name.
    fixed = site.text.split("$", 1)[0]
    first, sep, _ = fixed.partition("/")
    if not sep:
        complete = not has_variables(site.text) or any(c in fixed for c in ":@")
        return complete, None
    if any(c in first for c in ".:") or first == "localhost" or first.lower() != first:
        return True, first.lower()
    return True, None


def is_trusted(domain: str | None, trusted: tuple[str, ...]) -> bool:
    if domain is None:
        return any(t in _DOCKER_HUB_NAMES for t in trusted)
    for entry in trusted:
        if entry == domain:
            return True
        if entry.startswith("*.") and domain.endswith(entry[1:]):
            return True
    return False


@register
class UntrustedRegistry(Fixer):
    code = "DF205"
    severity = Severity.ERROR  # hadolint's level for DL3026
    security = True
    name = "untrusted-registry"
    summary = "An image is pulled from a registry that is not in the trusted list"
    resolves = Resolves(hadolint=("DL3026",))

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        trusted: tuple[str, ...] | None = ctx.services.get("trusted_registries")
        if trusted is None:
            return
        listed = ", ".join(trusted) or "none"
        for site in image_sites(doc):
            known, domain = registry_of(site)
            if not known or is_trusted(domain, trusted):
                continue
            registry = domain or "docker.io"
            yield self.finding(
                site.line,
                f"{site.label} is pulled from {registry}, which is not a trusted registry",
                reason=f"checked against the trusted registries ({listed}); mirror the image "
                "to one of them and reference the copy",
            )
