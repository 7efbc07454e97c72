"""dockfix's built-in fixers: one module per anti-pattern, each registered with ``@register``.

Every run imports every fixer, so their helper records are cheap to define: immutable ones
are ``NamedTuple``s, mutable ones ``@dataclass(eq=False)`` (compared by identity).
"""
