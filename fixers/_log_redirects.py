"""DF403's reading of a shell command: which log files its redirections and `tee`s write, and
the character ranges to remove so that the output reaches the container's streams."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass


# Paths that already are the container's output streams (or discard output on purpose).
STREAM_PATHS = frozenset(
    {
        "-",
        "/dev/stdout",
        "/dev/stderr",
        "/dev/null",
        "/dev/console",
        "/dev/fd/1",
        "/dev/fd/2",
        "/proc/self/fd/1",
        "/proc/self/fd/2",
        "/proc/1/fd/1",
        "/proc/1/fd/2",
    }
)


# --- redirections in a shell command -----------------------------------------------------------


@dataclass(eq=False)
class _RedirectPlan:
    targets: list[str]  # log files written
    removals: list[tuple[int, int]]  # character ranges of the text to remove
    reason: str = ""  # why no fix (display-only)
    kind: str = "redirection"


class _Source:
    """The shell text tree-sitter read: node texts, and node spans in characters."""

    def __init__(self, text: str) -> None:
        self.data = text.encode("utf-8", "surrogatepass")
        table: list[int] = []
        for i, ch in enumerate(text):
            table.extend([i] * len(ch.encode("utf-8", "surrogatepass")))
        table.append(len(text))
        self.table = table

    def span(self, node: Any) -> tuple[int, int]:
        return self.table[node.start_byte], self.table[node.end_byte]

    def text(self, node: Any) -> str:
        return str(self.data[node.start_byte : node.end_byte].decode("utf-8", "surrogatepass"))


def redirect_plan(text: str) -> _RedirectPlan:
    """Which log files a shell command writes, and what to remove to stop it."""
    from dockfix.semantics.shell import syntax_tree

    src = _Source(text)
    tree = syntax_tree(src.data)
    targets, dynamic, tee_nodes = _written_files(tree.root_node, src)
    if not targets:
        return _RedirectPlan([], [])
    if dynamic:
        return _RedirectPlan(targets, [], "the target of a redirection comes from a variable")
    if tree.root_node.has_error:
        return _RedirectPlan(targets, [], "shell syntax the fixer does not model")
    statements = [c for c in tree.root_node.named_children if c.type != "comment"]
    if len(statements) != 1 or any(c.type == "&" for c in tree.root_node.children):
        return _RedirectPlan(
            targets,
            [],
            "the command line has several statements or a "
            "background job; remove the redirection by hand",
        )
    top = statements[0]
    if top.type == "redirected_statement" and not tee_nodes:
        return _redirection_removal(top, targets, src)
    if top.type == "pipeline" and len(tee_nodes) == 1:
        return _tee_removal(top, tee_nodes[0], targets, src)
    return _RedirectPlan(
        targets,
        [],
        "the redirection is inside a compound command or before the command; remove it by hand",
    )


def _written_files(root: Any, src: _Source) -> tuple[list[str], bool, list[Any]]:
    """The files the redirections and `tee`s write, whether a target is a variable, and the
    `tee` commands."""
    targets: list[str] = []
    dynamic = False
    tee_nodes: list[Any] = []
    for node in _walk(root):
        if node.type == "file_redirect":
            kind, target = _classify_redirect(node, src.text)
            if kind == "file":
                targets.append(target)
            elif kind == "dynamic":
                dynamic = True
                targets.append(target)
        elif node.type == "command":
            name = node.child_by_field_name("name")
            if name is not None and src.text(name).rsplit("/", 1)[-1] == "tee":
                tee_nodes.append(node)
                targets.extend(_tee_files(node, src.text))
    return targets, dynamic, tee_nodes


def _redirection_removal(top: Any, targets: list[str], src: _Source) -> _RedirectPlan:
    """`cmd > FILE 2>&1`: the redirections to files go (with a `2>&1` after one of stdout)."""
    body = top.child_by_field_name("body")
    if body is None or body.type not in ("command", "list"):
        return _RedirectPlan(targets, [], "the redirection applies to a compound command")
    if body.type == "list" and not _is_and_or_chain(body):
        return _RedirectPlan(targets, [], "the redirection applies to a compound command")
    removals: list[tuple[int, int]] = []
    prev_end = src.span(body)[1]
    removed_stdout = False
    for child in top.children:
        if child.type != "file_redirect":
            continue
        kind, _ = _classify_redirect(child, src.text)
        # tree-sitter counts words after `> FILE` as more destinations; in the shell they
        # are arguments of the command, so only the operator and its first word go.
        dests = child.children_by_field_name("destination")
        core_end = src.span(dests[0])[1] if dests else src.span(child)[1]
        if kind == "file" or (kind == "dup_err_to_out" and removed_stdout):
            removals.append((prev_end, core_end))
            if kind == "file" and _redirect_fd(child, src.text) in ("", "1", "&"):
                removed_stdout = True
        prev_end = src.span(child)[1]
    return _RedirectPlan(targets, _merge(removals))


def _tee_removal(top: Any, tee: Any, targets: list[str], src: _Source) -> _RedirectPlan:
    """`cmd | tee FILE`: the pipe to a plain `tee` goes."""
    parts = list(top.named_children)
    ops = [c for c in top.children if not c.is_named]
    if len(parts) == 2 and parts[1].start_byte == tee.start_byte and [o.type for o in ops] == ["|"]:
        first = parts[0]
        if first.type == "redirected_statement" and any(
            _classify_redirect(r, src.text)[0] in ("file", "dynamic")
            for r in first.children
            if r.type == "file_redirect"
        ):
            return _RedirectPlan(targets, [], "the command both redirects and pipes to tee")
        if first.type in ("command", "redirected_statement") and _plain_tee(tee, src.text):
            return _RedirectPlan(
                targets, [(src.span(first)[1], src.span(tee)[1])], kind="`| tee` to a file"
            )
    return _RedirectPlan(targets, [], "`tee` is used in a way the fixer does not rewrite")


def _walk(node: Any) -> Iterator[Any]:
    yield node
    for child in node.children:
        yield from _walk(child)


def _is_and_or_chain(node: Any) -> bool:
    if node.type == "command":
        return True
    if node.type != "list":
        return False
    ops = [c.type for c in node.children if not c.is_named]
    return all(o in ("&&", "||") for o in ops) and all(
        _is_and_or_chain(c) for c in node.named_children
    )


def _redirect_fd(node: Any, node_text: Any) -> str:
    fd = node.child_by_field_name("descriptor")
    op = next((c for c in node.children if not c.is_named), None)
    if op is not None and node_text(op).startswith("&"):
        return "&"
    return node_text(fd) if fd is not None else ""


def _classify_redirect(node: Any, node_text: Any) -> tuple[str, str]:
    """('file' | 'dynamic' | 'dup_err_to_out' | 'other', target text) of a file_redirect."""
    op_node = next((c for c in node.children if not c.is_named), None)
    op = node_text(op_node) if op_node is not None else ""
    fd = _redirect_fd(node, node_text)
    dest = node.child_by_field_name("destination")
    dest_text = node_text(dest) if dest is not None else ""
    if op == ">&" and fd == "2" and dest_text == "1":
        return "dup_err_to_out", ""
    if op not in (">", ">>", ">|", "&>", "&>>") or fd not in ("", "1", "2", "&"):
        return "other", ""
    if dest is None:
        return "other", ""
    value = _literal(dest, node_text)
    if value is None:
        return "dynamic", dest_text
    if value in STREAM_PATHS:
        return "other", ""
    return "file", value


def _literal(node: Any, node_text: Any) -> str | None:
    """The value of a plain word or quoted string without expansions, else None."""
    text = node_text(node)
    if node.type == "word" and not any(c in text for c in "$`\\*?[{~"):
        return str(text)
    if node.type == "raw_string":
        return str(text[1:-1])
    if node.type == "string" and all(c.type in ('"', "string_content") for c in node.children):
        inner = text[1:-1]
        if not any(c in inner for c in "$`\\"):
            return str(inner)
    return None


def _tee_files(node: Any, node_text: Any) -> list[str]:
    files = []
    for arg in node.children_by_field_name("argument"):
        value = _literal(arg, node_text)
        if value is None:
            files.append(node_text(arg))
        elif not value.startswith("-") and value not in STREAM_PATHS:
            files.append(value)
    return files


def _plain_tee(node: Any, node_text: Any) -> bool:
    """`tee [-a|-i|-p] FILE` writing one literal file (no redirection of its own)."""
    args = node.children_by_field_name("argument")
    files = 0
    for arg in args:
        value = _literal(arg, node_text)
        if value is None:
            return False
        if value.startswith("-"):
            if value not in ("-a", "--append", "-i", "--ignore-interrupts", "-p"):
                return False
        else:
            files += 1
    return files == 1 and all(c.type != "file_redirect" for c in node.children)


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(ranges):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out
