"""Kept only for the fixers not yet moved to :mod:`dockfix.semantic` (DF101, DF201): import
``expand`` and ``layered`` from there. Remove once nothing imports this module."""

from dockfix.semantic import expand, layered

__all__ = ["expand", "layered"]
