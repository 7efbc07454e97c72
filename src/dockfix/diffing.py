"""Unified diffs that ``git apply`` and ``patch -p1`` take as they are.

``difflib`` does the matching; this module adds what it leaves out: ``a/``/``b/`` headers,
``/dev/null`` for new files, and ``\\ No newline at end of file`` markers. Lines keep their
own endings, so CRLF files produce CRLF diff lines, as git does.
"""

from __future__ import annotations

import difflib

NO_EOL = "\\ No newline at end of file\n"


def _lines(text: str) -> list[str]:
    # Split after "\n" only: a lone "\r" is not a line break for git or for BuildKit.
    out = text.split("\n")
    lines = [line + "\n" for line in out[:-1]]
    if out[-1]:
        lines.append(out[-1])
    return lines


def unified_diff(old: str | None, new: str, path: str, context: int = 3) -> str:
    """A diff from ``old`` (None: a new file) to ``new`` for ``path`` (POSIX, relative)."""
    a = _lines(old) if old is not None else []
    b = _lines(new)
    if a == b:
        return ""
    fromfile = f"a/{path}" if old is not None else "/dev/null"
    out: list[str] = []
    if old is None:
        out.append(f"diff --git a/{path} b/{path}\n")
        out.append("new file mode 100644\n")
    for line in difflib.unified_diff(a, b, fromfile, f"b/{path}", n=context, lineterm="\n"):
        if line.startswith(("---", "+++")):
            out.append(line.rstrip("\n") + "\n")
            continue
        if line.startswith("@@"):
            out.append(line)
            continue
        if not line.endswith("\n"):
            out.append(line + "\n")
            out.append(NO_EOL)
        else:
            out.append(line)
    return "".join(out)


def replacements(old: str | None, new: str) -> list[tuple[int, int, str]]:
    """What turns ``old`` (None: a new file) into ``new``, as (character offset in ``old``,
    characters removed, text inserted), line by line as :func:`unified_diff` matches them."""
    a = _lines(old) if old is not None else []
    b = _lines(new)
    starts = [0]
    for line in a:
        starts.append(starts[-1] + len(line))
    return [
        (starts[i1], starts[i2] - starts[i1], "".join(b[j1:j2]))
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b).get_opcodes()
        if tag != "equal"
    ]
