"""The YAML of a workflow: ruamel.yaml's composed node tree (with source marks) and the
readers of its nodes."""

from __future__ import annotations

from typing import Any

# --- YAML nodes (ruamel.yaml's composed nodes: `.id` is "scalar", "mapping" or "sequence") --


def _is_map(node: Any) -> bool:
    return getattr(node, "id", None) == "mapping"


def _is_seq(node: Any) -> bool:
    return getattr(node, "id", None) == "sequence"


def _is_scalar(node: Any) -> bool:
    return getattr(node, "id", None) == "scalar"


def _get(node: Any, key: str) -> Any:
    if not _is_map(node):
        return None
    for k, v in node.value:
        if _is_scalar(k) and k.value == key:
            return v
    return None


def _text(node: Any) -> str | None:
    return node.value if _is_scalar(node) else None


def _items(node: Any) -> list[tuple[str, Any]]:
    if not _is_map(node):
        return []
    return [(k.value, v) for k, v in node.value if _is_scalar(k)]


def _env(node: Any) -> dict[str, str]:
    return {k: v.value for k, v in _items(node) if _is_scalar(v)}


def _is_true(node: Any) -> bool | None:
    """True/False for a literal boolean input (absent: False), None for anything else."""
    if node is None:
        return False
    t = _text(node)
    if t is None:
        return None
    low = t.strip().lower()
    if low == "true":
        return True
    if low in ("false", ""):
        return False
    return None


def compose(text: str) -> Any:
    """The YAML document's node tree with source marks, or None when it is not valid YAML."""
    from ruamel.yaml import YAML

    try:
        # The safe composer: the round-trip one marks folds in `>` scalars with `\a`.
        return YAML(typ="safe", pure=True).compose(text)
    except Exception:  # any YAML error: not a workflow we can read
        return None


def _has_shared_nodes(root: Any) -> bool:
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        if _is_map(node):
            for k, v in node.value:
                stack.extend((k, v))
        elif _is_seq(node):
            stack.extend(node.value)
    return False
