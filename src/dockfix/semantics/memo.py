"""Answers computed once per tree, per checked file or per instruction, shared by every fixer
that asks.

``@per_tree`` memoises a function whose first argument is the :class:`Dockerfile`: the answer
is kept by the tree (it goes when the tree goes), keyed by the function itself and its other
arguments, so two helpers cannot collide on a name and the answer keeps its type.
``@per_context`` does the same for a function of the :class:`FixContext` (answers about the
build context: a parsed manifest, whether a path is a directory), and ``@per_instruction`` for
a function of one :class:`Instruction` (its words, its parsed shell script: an answer that must
not refer back to the instruction, or the tree would be kept alive by a cycle).

The other arguments must be hashable; stages, instructions and contexts are (by identity).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar, cast

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext
    from dockfix.syntax import Dockerfile, Instruction

__all__ = ["per_context", "per_instruction", "per_tree"]

P = ParamSpec("P")
R = TypeVar("R")
Owner = TypeVar("Owner")

_MISSING = object()


def _memoised(
    fn: Callable[Concatenate[Owner, P], R], store_of: Callable[[Owner], dict[object, object]]
) -> Callable[Concatenate[Owner, P], R]:
    def memoised(owner: Owner, /, *args: P.args, **kwargs: P.kwargs) -> R:
        # the function alone when it has no other argument (asked for every RUN by every fixer)
        key: object = memoised
        if args or kwargs:
            key = (memoised, args, tuple(kwargs.items())) if kwargs else (memoised, args)
        store = store_of(owner)
        found = store.get(key, _MISSING)
        if found is _MISSING:
            found = store[key] = fn(owner, *args, **kwargs)
        return cast("R", found)

    return memoised


def _tree_store(doc: Dockerfile) -> dict[object, object]:
    return doc.cache


def _context_store(ctx: FixContext) -> dict[object, object]:
    return ctx.memo


def _instruction_store(instr: Instruction) -> dict[object, object]:
    return instr.cache


def per_tree(
    fn: Callable[Concatenate[Dockerfile, P], R],
) -> Callable[Concatenate[Dockerfile, P], R]:
    """``fn(doc, *args)`` computed once per tree and ``args``."""
    return _memoised(fn, _tree_store)


def per_context(
    fn: Callable[Concatenate[FixContext, P], R],
) -> Callable[Concatenate[FixContext, P], R]:
    """``fn(ctx, *args)`` computed once per checked file and ``args``."""
    return _memoised(fn, _context_store)


def per_instruction(
    fn: Callable[Concatenate[Instruction, P], R],
) -> Callable[Concatenate[Instruction, P], R]:
    """``fn(instr, *args)`` computed once per instruction and ``args``."""
    return _memoised(fn, _instruction_store)
