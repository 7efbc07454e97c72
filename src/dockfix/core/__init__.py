"""The engine: the fixer API, edits and their checks (round trip, BuildKit's parser),
suppression pragmas, the catalog of fixers, and the engine loop that applies fixes.
"""
