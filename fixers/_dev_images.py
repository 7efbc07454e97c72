"""Which Dockerfiles build development images: the multi-stage rewrites (DF302, DF304-DF307) leave
them alone, since their compilers and tools are there on purpose."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from dockfix.fixers._lazy import lazy_re

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext

_DEV_FILE = lazy_re(r"(^|[./_-])(dev|devel|development)([./_-]|$)", re.I)
_DOCKERFILE_WORD = lazy_re(r"dockerfile", re.I)


def is_dev_file(ctx: FixContext) -> bool:
    """`Dockerfile.dev`, `dev.Dockerfile`, `Dockerfile-development`, files in `.devcontainer/`."""
    if ctx.path is None:
        return False
    name = ctx.path.name
    if ".devcontainer" in os.fspath(ctx.path).replace(os.sep, "/").split("/"):
        return True
    stem = _DOCKERFILE_WORD.sub("", name)
    return bool(_DEV_FILE.search(stem))
