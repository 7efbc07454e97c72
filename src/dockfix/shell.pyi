"""The flat name of :mod:`dockfix.semantics.shell`, kept for plug-ins (see ``_MOVED`` in __init__.py)."""

from dockfix.semantics.shell import *  # noqa: F403
