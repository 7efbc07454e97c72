"""Unified diffs that ``git apply`` and ``patch -p1`` take as they are.

``difflib`` does the matching; this module adds what it leaves out: ``a/``/``b/`` headers,
``/dev/null`` for new files, and ``\\ No newline at end of file`` markers. Lines keep their
own endings, so CRLF files produce CRLF diff lines, as git does.
"""

from __future__ import annotations

import difflib
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator, Sequence

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
    for line in _unified_lines(a, b, fromfile, f"b/{path}", context):
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


# Above this many lines, difflib's matcher is given the file piece by piece (_matching_blocks).
LARGE = 2000


def _unified_lines(
    a: list[str], b: list[str], fromfile: str, tofile: str, context: int
) -> Iterator[str]:
    """``difflib.unified_diff``'s lines; for large files from :class:`_Matcher`."""
    if len(a) + len(b) <= LARGE:
        yield from difflib.unified_diff(a, b, fromfile, tofile, n=context, lineterm="\n")
        return
    groups = list(_matcher(a, b).get_grouped_opcodes(context))
    if not groups:
        return
    yield f"--- {fromfile}\n"
    yield f"+++ {tofile}\n"
    for group in groups:
        first, last = group[0], group[-1]
        yield f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n"
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                yield from (" " + line for line in a[i1:i2])
                continue
            if tag in ("replace", "delete"):
                yield from ("-" + line for line in a[i1:i2])
            if tag in ("replace", "insert"):
                yield from ("+" + line for line in b[j1:j2])


def _matcher(a: list[str], b: list[str]) -> difflib.SequenceMatcher[str]:
    """difflib's matcher of two files' lines; for large files one that groups the hunks from
    the blocks :func:`_matching_blocks` gives (made empty: its index of the whole file is not
    needed)."""
    if len(a) + len(b) <= LARGE:
        return difflib.SequenceMatcher(None, a, b)
    matcher: difflib.SequenceMatcher[str] = difflib.SequenceMatcher(None, [], [])
    setattr(matcher, "matching_blocks", _matching_blocks(a, b))  # noqa: B010
    return matcher


def _range(start: int, stop: int) -> str:
    """A hunk's range as unified diffs write it (difflib's rules)."""
    beginning = start + 1
    length = stop - start
    if length == 1:
        return f"{beginning}"
    if not length:
        beginning -= 1
    return f"{beginning},{length}"


def _matching_blocks(a: list[str], b: list[str]) -> list[difflib.Match]:
    """``difflib.SequenceMatcher(None, a, b).get_matching_blocks()`` for large files, in time
    close to linear.

    difflib looks for the longest common block of the whole range, then again on each side:
    on a long file with changes all over it, and lines repeated just below its junk threshold,
    that grows with the square of the length (a 16,000-line diff took minutes). Lines that
    occur once in each file, in the same order, are matched first (as patience diff does);
    difflib matches the pieces between them."""
    blocks: list[tuple[int, int, int]] = []
    i0 = j0 = 0
    for i, j in [*_unique_anchors(a, b), (len(a), len(b))]:
        if i > i0 and j > j0:
            piece = difflib.SequenceMatcher(None, a[i0:i], b[j0:j], autojunk=False)
            blocks += [(i0 + x, j0 + y, n) for x, y, n in piece.get_matching_blocks() if n]
        if i < len(a):
            blocks.append((i, j, 1))
        i0, j0 = i + 1, j + 1
    merged: list[tuple[int, int, int]] = []
    for i, j, n in blocks:  # adjacent blocks as one, as difflib gives them
        if merged and merged[-1][0] + merged[-1][2] == i and merged[-1][1] + merged[-1][2] == j:
            pi, pj, pn = merged[-1]
            merged[-1] = (pi, pj, pn + n)
        else:
            merged.append((i, j, n))
    merged.append((len(a), len(b), 0))
    return [difflib.Match(i, j, n) for i, j, n in merged]


def _unique_anchors(a: Sequence[str], b: Sequence[str]) -> list[tuple[int, int]]:
    """Pairs (i, j) with ``a[i] == b[j]`` a line found once in each file, the longest
    sequence of them increasing in both (patience sorting: n log n)."""
    count_a = Counter(a)
    count_b = Counter(b)
    where_b = {line: j for j, line in enumerate(b) if count_b[line] == 1}
    pairs = [
        (i, where_b[line]) for i, line in enumerate(a) if count_a[line] == 1 and line in where_b
    ]
    # longest increasing subsequence of the j's
    tails: list[int] = []  # tails[k]: the pair that ends the best run of k + 1 so far
    tail_js: list[int] = []  # its j
    back: list[int] = []  # the pair before each pair in its run
    for k, (_, j) in enumerate(pairs):
        pos = bisect_left(tail_js, j)
        back.append(tails[pos - 1] if pos else -1)
        if pos == len(tails):
            tails.append(k)
            tail_js.append(j)
        else:
            tails[pos] = k
            tail_js[pos] = j
    out: list[tuple[int, int]] = []
    k = tails[-1] if tails else -1
    while k >= 0:
        out.append(pairs[k])
        k = back[k]
    out.reverse()
    return out


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
        for tag, i1, i2, j1, j2 in _matcher(a, b).get_opcodes()
        if tag != "equal"
    ]
