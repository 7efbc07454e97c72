"""The flat name of :mod:`dockfix.semantics.context`, kept for plug-ins (see ``_MOVED`` in __init__.py)."""

from dockfix.semantics.context import *  # noqa: F403
