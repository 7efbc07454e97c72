"""The flat name of :mod:`dockfix.core.edits`, kept for plug-ins (see ``_MOVED`` in __init__.py)."""

from dockfix.core.edits import *  # noqa: F403
