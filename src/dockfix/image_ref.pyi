"""The flat name of :mod:`dockfix.registry.image_ref`, kept for plug-ins (see ``_MOVED`` in __init__.py)."""

from dockfix.registry.image_ref import *  # noqa: F403
