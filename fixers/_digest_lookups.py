"""The registry's answers, as the digest fixers (DF202 unpinned-image, DF203 latest-tag) read
them: the run's look-ups (a service the runner fills before the fixers run), why an answer
gives no digest, and how old an answer from the offline cache is."""

from __future__ import annotations

from dockfix.registry.image_lookup import ImageLookups, LookupAnswer
from dockfix.registry.offline import NOT_IN_CACHE, STALE_ANSWER
from dockfix.semantics.context import FixContext

__all__ = ["NOT_LOOKED_UP", "OFFLINE_MISS", "lookup_reason", "lookups_of", "stale_note"]

OFFLINE_MISS = f"skipped: {NOT_IN_CACHE}"
NOT_LOOKED_UP = "skipped: the registry was not asked for this file"


def lookup_reason(answer: LookupAnswer | None) -> str | None:
    """Why an answer gives no digest (display-only reason), or None when it does."""
    if answer is None:
        return NOT_LOOKED_UP
    if answer.offline_miss:
        return OFFLINE_MISS
    if answer.error is not None:
        return answer.error
    if answer.digest is None:
        return NOT_LOOKED_UP
    return None


def stale_note(answer: LookupAnswer) -> str:
    days = (answer.stale_age or 0) / 86400
    age = f"{days:.0f} days" if days >= 1.5 else f"{(answer.stale_age or 0) / 3600:.0f} hours"
    return f"; {STALE_ANSWER} {age} old: the tag may have moved since"


def lookups_of(ctx: FixContext) -> ImageLookups | None:
    lookups = ctx.services.get("image_lookups")
    return lookups if isinstance(lookups, ImageLookups) else None
