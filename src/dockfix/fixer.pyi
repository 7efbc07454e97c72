"""The flat name of :mod:`dockfix.core.fixer`, kept for plug-ins (see ``_MOVED`` in __init__.py)."""

from dockfix.core.fixer import *  # noqa: F403
