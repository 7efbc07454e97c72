"""The flat name of :mod:`dockfix.semantics.semantic`, kept for plug-ins (see ``_MOVED`` in __init__.py)."""

from dockfix.semantics.semantic import *  # noqa: F403
