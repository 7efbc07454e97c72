"""The flat name of :mod:`dockfix.semantics.memo`, kept for plug-ins (see ``_MOVED`` in __init__.py)."""

from dockfix.semantics.memo import *  # noqa: F403
