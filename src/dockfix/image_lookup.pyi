"""The flat name of :mod:`dockfix.registry.image_lookup`, kept for plug-ins (see ``_MOVED`` in __init__.py)."""

from dockfix.registry.image_lookup import *  # noqa: F403
