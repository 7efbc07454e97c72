"""dockfix's built-in fixers: one module per anti-pattern, each registered with ``@register``."""
