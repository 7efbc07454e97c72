"""The words by which a finding's reason says that `--offline` left it unfixed.

The fixers that need the registry put them in the reason of a finding they could not fix
because the run was offline (no cached answer, or only an answer older than the cache TTL);
`dockfix fix --offline` lists exactly those findings. A reason that speaks of offline in other
words (`the RUN on line 6 installs from Yarn's cache (--offline)`) is not one of them.
"""

from __future__ import annotations

__all__ = ["NOT_IN_CACHE", "STALE_ANSWER", "left_offline"]

# An offline run had no cached answer for the look-up.
NOT_IN_CACHE = "offline, not in cache"
# An offline run answered from a cache entry older than the TTL ("… 3 days old").
STALE_ANSWER = "offline, from a cache entry"


def left_offline(reason: str) -> bool:
    """Whether a finding's reason says the run's `--offline` left it unfixed."""
    return NOT_IN_CACHE in reason or STALE_ANSWER in reason
