"""One whole-tree COPY (`COPY . <dest>`) and what the analysis of the installs after it
shares: the copied tree, the installs before it, the files the commands analysed so far
write."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dockfix.fixers.copy_before_install._command import _Cmd
from dockfix.fixers.copy_before_install._earlier import _earlier_installs
from dockfix.fixers.copy_before_install._stage import _expand, _scope, _workdir_at
from dockfix.fixers.copy_before_install._tree import _join, _Tree, _under
from dockfix.semantics.semantic import unquote_word

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext
    from dockfix.syntax import Dockerfile, Stage


@dataclass(slots=True, eq=False)
class _CopySource:
    src: str
    dest: str  # as written


class _Site:
    """One whole-tree COPY as the analysis of the installs after it sees it: where it puts
    the build context, and what the commands analysed so far have learned."""

    def __init__(
        self,
        doc: Dockerfile,
        ctx: FixContext,
        stage: Stage,
        index: int,
        source: _CopySource,
        split_runs: bool,
    ) -> None:
        self.doc = doc
        self.ctx = ctx
        self.stage = stage
        self.index = index
        self.copy = stage.instructions[index]
        self.source = source
        self.cwd = _workdir_at(stage, index, doc)
        scope = _scope(doc, stage, self.copy)
        dest = _expand(unquote_word(source.dest), scope)
        self.dest: str | None = None
        if dest is not None:
            if dest.startswith("/"):
                self.dest = posixpath.normpath(dest)
            elif self.cwd is not None:
                self.dest = _join(self.cwd, dest)
        self.tree = _Tree(ctx, self.dest or "/")
        self.earlier = _earlier_installs(doc, stage, index)  # read when an install asks
        self.generated: set[str] = set()
        self.bundle_frozen = False
        self.split_runs = split_runs  # the `split-runs` option

    def message(self, label: str) -> str:
        label = " ".join(label.split()) or "the dependency install"
        return (
            f"`{self.copy.keyword} {self.source.src} {self.source.dest}` comes before `{label}`: "
            "every change to any file reinstalls the dependencies"
        )

    def touches_tree(self, path: str) -> bool:
        if self.dest is None:
            return True
        return _under(path, self.dest) or _under(self.dest, path) or self.tree.ambiguous(path)

    def project_dir(self, cmd: _Cmd, explicit: str | None) -> str | None:
        if explicit:
            return cmd.path(explicit)
        return cmd.cwd
