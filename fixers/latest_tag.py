"""DF203 latest-tag: an image referenced as `latest`, or with no tag at all (which means `latest`).

## What it does
Finds image references whose tag is `latest` or missing — in `FROM`, `COPY --from=<image>`,
`RUN --mount=…,from=<image>`, the `# syntax=` line, and `ARG` defaults used as a whole `FROM`
reference — and asks the registry which version tags share the digest `latest` has now. The
reference is rewritten to the most specific of them, pinned with that digest:
`FROM python` becomes `FROM python:3.13.1@sha256:…`. Candidates are the version-looking tags
without a variant suffix (`3.13.1`, `3.13`, `3`, `v2.1.0`; not `3.13-slim`), newest first, at
most 32 (one `HEAD` each, which Docker Hub does not count as a pull); among those sharing the
digest the most specific wins (most version parts). When none does, the reference is pinned
as it is (`python@sha256:…`), and the fix says so.

A reference that already pins the digest `latest` has today (e.g. `python@sha256:…` written
by DF202) gets its version tag added; one that pins an older digest is left alone (its
version cannot be known; for `python:latest@sha256:…`, `--refresh` lets DF202 update the
digest first).

## Why is this bad
`latest` is whatever was pushed last: the next build may get a new major version, a different
Debian release, a different libc. Nobody reading `FROM python` can tell which Python the
image runs, and nothing shows when it changes.

## Example
```dockerfile
FROM node AS assets
FROM python:latest
COPY --from=assets /app/dist /srv/static
```
Use instead:
```dockerfile
FROM node:23.5.0@sha256:… AS assets
FROM python:3.13.1@sha256:…
COPY --from=assets /app/dist /srv/static
```

## Fix safety
Safe: the version tag written shares, by digest, the image `latest` points at now, and the
digest is pinned with it, so today's build pulls exactly the same image. What changes is the
future: the reference stops floating, which is the point of the rule. The digest comes from
this run's lookup or a cache entry younger than the TTL; offline, an older cached answer is
applied only with `--unsafe-fixes`.

Display-only when the registry cannot answer (`--offline` without a cache entry: "skipped:
offline, not in cache"; not found or not authorised; rate limited; unavailable), and when the
reference cannot be edited honestly (quoted flags, an `ARG` used elsewhere; see DF202).
References built from variables (`FROM python${SUFFIX}`) are DF202's to report: their tag is
not known.

## Options
None. Registry access, the cache, `--offline` and `--insecure-registry` are shared with DF202
(README, “Digest pinning”).

## Resolves
hadolint: DL3006, DL3007 · Trivy: DS-0001 · Checkov: CKV_DOCKER_7.
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


def _floats(ref: ImageRef) -> bool:
    return ref.tag is None or ref.tag == "latest"


def _message(site: ImageSite, ref: ImageRef) -> str:
    if ref.tag is None:
        return f"{site.label} has no tag, so it means `latest`"
    return f"{site.label} uses the moving `latest` tag"


@register
class LatestTag(Fixer):
    code = "DF203"
    severity = Severity.WARNING
    security = True
    name = "latest-tag"
    summary = "An image uses `latest` or no tag"
    resolves = Resolves(
        hadolint=("DL3006", "DL3007"), trivy=("DS-0001",), checkov=("CKV_DOCKER_7",)
    )
    needs_network = True

    def image_queries(self, doc: Dockerfile, ctx: FixContext) -> Iterator[ImageQuery]:
        for site in image_sites(doc):
            if site.ref is not None and _floats(site.ref):
                yield ImageQuery.digest_of(site.ref)
                yield ImageQuery.version_tag_of(site.ref)

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        lookups = lookups_of(ctx)
        for site in image_sites(doc):
            found = self._check_site(site, lookups)
            if found is not None:
                yield found

    def _check_site(self, site: ImageSite, lookups: ImageLookups | None) -> Finding | None:
        found = self._site_finding(site, lookups)
        if found is not None:
            # hadolint's rule for the case: DL3006 without a tag, DL3007 for `latest`
            shown = site.ref or _parse(site.text)
            found.hadolint = ("DL3006",) if shown is None or shown.tag is None else ("DL3007",)
        return found

    def _site_finding(self, site: ImageSite, lookups: ImageLookups | None) -> Finding | None:
        ref = site.ref
        if ref is None:
            shown = _parse(site.text)
            if site.problem and shown is not None and _floats(shown) and not shown.digest:
                return self.finding(site.line, _message(site, shown), reason=site.problem)
            return None
        if not _floats(ref):
            return None
        answer = lookups.get(ImageQuery.version_tag_of(ref)) if lookups is not None else None
        reason = lookup_reason(answer)
        if ref.digest is not None:
            # Pinned already: only name the version when the pin is today's `latest`.
            if (
                reason is None
                and answer is not None
                and answer.digest == ref.digest
                and answer.version_tag
            ):
                edit = Edit(
                    site.start, site.end, ref.with_tag(answer.version_tag, digest=ref.digest)
                )
                return self.finding(
                    site.line,
                    f"{_message(site, ref)}; the pinned image is tagged `{answer.version_tag}`",
                    Fix.safe(
                        edit,
                        description=f"name the version: {ref.name_as_written}:"
                        f"{answer.version_tag} (same digest {short_digest(ref.digest)})",
                    ),
                )
            return None
        if reason is not None or answer is None or answer.digest is None:
            return self.finding(site.line, _message(site, ref), reason=reason or NOT_LOOKED_UP)
        digest = answer.digest
        if answer.version_tag:
            new_text = ref.with_tag(answer.version_tag, digest=digest)
            description = (
                f"use {ref.name_as_written}:{answer.version_tag}, the image `latest` is "
                f"today, pinned to {short_digest(digest)} ({answer.kind_label})"
            )
        else:
            new_text = ref.with_digest(digest)
            description = (
                f"pin {ref.without_digest()} (latest) to {short_digest(digest)} "
                f"({answer.kind_label}); no version tag shares its digest, so it stays "
                "`latest`, pinned"
            )
        edit = Edit(site.start, site.end, new_text)
        if answer.stale_age is not None:
            fix = Fix.unsafe(edit, description=description + stale_note(answer))
        else:
            fix = Fix.safe(edit, description=description)
        return self.finding(site.line, _message(site, ref), fix)


def _parse(text: str) -> ImageRef | None:
    try:
        return ImageRef.parse(text)
    except ValueError:
        return None
