"""Files of the build context, found by the image path a stage's COPYs put them at: shared by
the rules that read a project's build files (DF305 package.json/tsconfig, DF306 pom.xml and
build.gradle, DF307 .csproj)."""

from __future__ import annotations

import json
import posixpath
import re
from typing import TYPE_CHECKING, Any, NamedTuple

from dockfix.fixers._image_paths import context_source

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext
    from dockfix.syntax import Dockerfile, Instruction, Stage


class ContextFiles(NamedTuple):
    """Reads files of the build context by the image path a stage's COPYs put them at."""

    doc: Dockerfile
    stage: Stage
    ctx: FixContext
    before: Instruction | None = None  # only the COPYs above it (None: the whole stage)

    def rel(self, image_path: str) -> str | None:
        found = context_source(self.doc, self.stage, image_path, self.ctx, self.before)
        if found is None:
            # `COPY pom.xml .` puts the file inside the working directory; context_source
            # reads a single-file COPY to a destination without `/` as the file's new name.
            parent = context_source(
                self.doc, self.stage, posixpath.dirname(image_path), self.ctx, self.before
            )
            if parent is not None and posixpath.basename(parent) == posixpath.basename(image_path):
                found = parent
        return found

    def text(self, image_path: str) -> str | None:
        rel = self.rel(image_path)
        return None if rel is None else self.ctx.read_text(rel)

    def exists(self, image_path: str) -> bool:
        rel = self.rel(image_path)
        return rel is not None and self.ctx.exists(rel)

    def json(self, image_path: str) -> dict[str, Any] | None:
        text = self.text(image_path)
        if text is None:
            return None
        try:
            data = json.loads(strip_json_comments(text))
        except ValueError:
            return None
        return data if isinstance(data, dict) else None


def strip_json_comments(text: str) -> str:
    """JSON with `//` and `/* */` comments and trailing commas (tsconfig's dialect) as JSON."""
    out: list[str] = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
            out.append(c)
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        else:
            out.append(c)
        i += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))
