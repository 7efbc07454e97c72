"""DF202 unpinned-image: an image reference without a digest.

## What it does
Finds every image a build pulls by tag alone — `FROM` (with or without `--platform` and
`AS`), `COPY --from=<image>`, `RUN --mount=…,from=<image>` and the `# syntax=` frontend — asks
the image's registry which manifest the tag points at now, and writes that digest after the
tag: `python:3.12-slim` becomes `python:3.12-slim@sha256:…`. The tag stays for people; the
digest is what BuildKit pulls. The reference keeps its spelling (no `docker.io/library/`
added) and nothing else on the line moves.

For a multi-platform image the digest is that of the **index** (OCI image index or Docker
manifest list), which every platform can pull; an image published for one platform only has
no index and is pinned by its manifest digest (the fix description says which). `FROM
${BASE}` with `ARG BASE=python:3.12` before the first `FROM` is pinned inside the ARG default,
when that ARG serves whole-reference `FROM`s and nothing else.

With `dockfix fix --refresh` (or `refresh = true` in the configuration), references already
pinned are checked too, and their digest is updated to what the tag points at now.

## Why is this bad
A tag moves: `python:3.12-slim` is rebuilt for every Debian security update and every Python
patch release, so the same Dockerfile builds a different image from one day to the next, and
a build that passed yesterday can fail today. A digest names exactly one image: builds are
reproducible, and a base image update becomes a visible, reviewable change.

## Example
```dockerfile
# syntax=docker/dockerfile:1
FROM --platform=$BUILDPLATFORM golang:1.22 AS build
COPY --from=ghcr.io/astral-sh/uv:0.4 /uv /bin/uv
```
Use instead:
```dockerfile
# syntax=docker/dockerfile:1@sha256:…
FROM --platform=$BUILDPLATFORM golang:1.22@sha256:… AS build
COPY --from=ghcr.io/astral-sh/uv:0.4@sha256:… /uv /bin/uv
```

## Fix safety
Safe: the digest written is the one the tag points at now (looked up this run, or cached less
than the cache TTL ago), so the build pulls exactly what it pulls today. The pin on the
`# syntax=` line is the form BuildKit's reference documents
(`# syntax=example.com/user/repo:tag@sha256:…`).

A refresh (`--refresh`) changes the image the build pulls; it is only proposed when you ask
for it, and is applied as safe then, since that change is what the flag requests. It is
unsafe when the tag now points at a single-platform image where an index was pinned (other
platforms would stop building). Offline, a digest cached longer ago than the TTL is applied
only with `--unsafe-fixes`: the tag may have moved since.

Display-only (no fix) when the digest cannot be known or would be wrong:
- `--offline` and the answer is not in the cache ("skipped: offline, not in cache");
- the registry refuses or fails (401/403/404 "not found or not authorised", 429, 5xx,
  timeouts): one warning per image, the other images are still pinned, and the run does not
  fail — like Renovate, a lookup problem is reported, not fatal;
- the reference is built from a variable, e.g. `FROM python:${PY}-slim`: a digest fits one
  value of `PY` only and would be wrong when `--build-arg PY=…` overrides it;
- `ARG BASE=…` is also used elsewhere (another instruction mentions `$BASE`, or a stage
  re-declares it so its `RUN`s see it), or is declared twice;
- with `--refresh`, the file pins one platform's manifest where the tag now has an index:
  that platform digest is kept, never replaced by the index.

Left alone: `scratch`, stage names (`FROM build`, `COPY --from=0`, `FROM ${TARGET}` whose
default names a stage), variables in `--from` (they usually select stages), `FROM $BASE`
whose ARG has no default (the image is chosen outside the file, by `--build-arg`), `ONBUILD`
triggers (they run in another build), and digests already written (without `--refresh`),
including references pinned by digest alone (no tag to follow).

## Options
None. The run-wide registry settings are described in the README (“Digest pinning”): the
digest cache (`--offline` answers from it only), `--refresh`, `--insecure-registry`.

## Resolves
hadolint: none · Trivy: none · Checkov: none (no linter checks for digests; DF203 covers the
`latest` rules).
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.core.fixer import Edit, Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._digest_lookups import NOT_LOOKED_UP, lookup_reason, lookups_of, stale_note
from dockfix.fixers._image_refs import ImageSite, image_sites
from dockfix.registry.image_lookup import ImageLookups, ImageQuery, short_digest
from dockfix.registry.image_ref import ImageRef
from dockfix.semantics.context import FixContext
from dockfix.syntax import Dockerfile


@register
class UnpinnedImage(Fixer):
    code = "DF202"
    severity = Severity.WARNING
    security = True
    name = "unpinned-image"
    summary = "An image is pulled by tag alone, without a digest"
    resolves = Resolves()
    needs_network = True

    def image_queries(self, doc: Dockerfile, ctx: FixContext) -> Iterator[ImageQuery]:
        for site in image_sites(doc):
            ref = site.ref
            if ref is None:
                continue
            if ref.digest is None:
                yield ImageQuery.digest_of(ref)
            elif ctx.refresh and ref.tag is not None:
                yield ImageQuery.digest_of(ref)
                yield ImageQuery.kind_of(ref)

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        lookups = lookups_of(ctx)
        for site in image_sites(doc):
            ref = site.ref
            if ref is None:
                if site.problem and "@" not in site.text:
                    yield self.finding(
                        site.line,
                        f"{site.label} is not pinned to a digest",
                        reason=site.problem,
                    )
                continue
            if ref.digest is None:
                yield self._pin(site, ref, lookups)
            elif ctx.refresh and ref.tag is not None:
                finding = self._refresh(site, ref, lookups)
                if finding is not None:
                    yield finding

    def _pin(self, site: ImageSite, ref: ImageRef, lookups: ImageLookups | None) -> Finding:
        message = f"{site.label} is not pinned to a digest"
        answer = lookups.get(ImageQuery.digest_of(ref)) if lookups is not None else None
        reason = lookup_reason(answer)
        if reason is not None or answer is None or answer.digest is None:
            return self.finding(site.line, message, reason=reason or NOT_LOOKED_UP)
        tag = ref.without_digest() + ("" if ref.tag else " (latest)")
        description = f"pin {tag} to {short_digest(answer.digest)} ({answer.kind_label})"
        edit = Edit(site.start, site.end, ref.with_digest(answer.digest))
        if answer.stale_age is not None:
            return self.finding(
                site.line, message, Fix.unsafe(edit, description=description + stale_note(answer))
            )
        return self.finding(site.line, message, Fix.safe(edit, description=description))

    def _refresh(
        self, site: ImageSite, ref: ImageRef, lookups: ImageLookups | None
    ) -> Finding | None:
        assert ref.digest is not None
        now = lookups.get(ImageQuery.digest_of(ref)) if lookups is not None else None
        reason = lookup_reason(now)
        if reason is not None or now is None or now.digest is None:
            return self.finding(
                site.line,
                f"{site.label} could not be checked for a newer digest",
                reason=reason or NOT_LOOKED_UP,
            )
        if now.digest == ref.digest:
            return None
        old, new = short_digest(ref.digest), short_digest(now.digest)
        message = f"{site.label}: `{ref.tag}` now points at {new}, not {old}"
        if now.stale_age is not None:
            return self.finding(
                site.line,
                message,
                reason="a refresh needs the registry's answer of today; the cached one is "
                "older than the cache TTL" + stale_note(now),
            )
        pinned = lookups.get(ImageQuery.kind_of(ref)) if lookups is not None else None
        pinned_reason = lookup_reason(pinned)
        if pinned_reason is not None or pinned is None:
            return self.finding(
                site.line,
                message,
                reason="cannot tell whether the pinned digest is a multi-arch index or one "
                f"platform's manifest, so it is kept ({pinned_reason})",
            )
        if now.is_index and not pinned.is_index:
            return self.finding(
                site.line,
                message,
                reason="the file pins one platform's manifest and the tag now has a multi-arch "
                "index: the platform digest is kept (pick that platform's new manifest by hand)",
            )
        edit = Edit(site.start, site.end, ref.with_digest(now.digest))
        description = f"refresh {ref.without_digest()} from {old} to {new} ({now.kind_label})"
        if pinned.is_index and not now.is_index:
            return self.finding(
                site.line,
                message,
                Fix.unsafe(
                    edit,
                    description=description + "; the tag no longer has a multi-arch index, so "
                    "platforms other than the image's one would stop building",
                ),
            )
        return self.finding(site.line, message, Fix.safe(edit, description=description))
