"""Writing the scan step into the workflow as text, at the indentation of the neighbouring
steps, and reading the result back to check it is the original plus the new step."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dockfix.fixers.ci_image_scan._sites import (
    Site,
    Workflow,
)
from dockfix.fixers.ci_image_scan._yaml import (
    _get,
    _is_map,
    _is_scalar,
    _is_seq,
    _items,
)

if TYPE_CHECKING:
    pass


@dataclass(eq=False)
class _Lines:
    text: str
    starts: list[int]

    @classmethod
    def of(cls, text: str) -> _Lines:
        starts = [0]
        starts.extend(i + 1 for i, ch in enumerate(text) if ch == "\n")
        return cls(text, starts)

    def line_of(self, index: int) -> int:
        import bisect

        return bisect.bisect_right(self.starts, index) - 1

    def content(self, n: int) -> str:
        start = self.starts[n]
        end = self.starts[n + 1] if n + 1 < len(self.starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def next_start(self, n: int) -> int:
        return self.starts[n + 1] if n + 1 < len(self.starts) else len(self.text)

    @property
    def count(self) -> int:
        return len(self.starts)


def _last_leaf(node: Any) -> tuple[Any, tuple[str | int, ...]]:
    """The last value written inside a block node, and its key path from that node."""
    path: list[str | int] = []
    while (_is_map(node) or _is_seq(node)) and not node.flow_style and node.value:
        if _is_map(node):
            key, node = node.value[-1]
            path.append(key.value)
        else:
            path.append(len(node.value) - 1)
            node = node.value[-1]
    return node, tuple(path)


def _block_chomping(text: str, leaf: Any) -> str | None:
    """`+`, `-` or `` (clip) for a `|`/`>` block scalar; None for other nodes."""
    if not _is_scalar(leaf) or leaf.style not in ("|", ">"):
        return None
    indicator = re.match(r"[|>][0-9+-]*", text[leaf.start_mark.index :])
    spec = indicator.group(0) if indicator else ""
    return "+" if "+" in spec else "-" if "-" in spec else ""


def _insertion_point(lines: _Lines, step: Any, dash_col: int) -> int | None:
    """Where the step's text ends: the start of the line after its last value."""
    leaf, _ = _last_leaf(step)
    end = int(leaf.end_mark.index)
    chomping = _block_chomping(lines.text, leaf)
    if chomping is not None:
        if chomping == "+":
            pos = end  # keep-chomped: its trailing blank lines are part of the value
            if pos < len(lines.text) and lines.text[pos - 1] != "\n":
                return None
        else:
            # The scalar's end mark lies after trailing blank lines: back up to its last text.
            n = lines.line_of(max(end - 1, 0))
            while (
                n > 0 and not lines.content(n).strip() and lines.starts[n] > leaf.start_mark.index
            ):
                n -= 1
            pos = lines.next_start(n)
    else:
        pos = lines.next_start(lines.line_of(end))
    # Comment lines indented under the step (not under the next one) stay with it.
    n = lines.line_of(pos) if pos < len(lines.text) else lines.count
    while n < lines.count and pos < len(lines.text):
        probe = n
        while probe < lines.count and not lines.content(probe).strip():
            probe += 1
        if probe >= lines.count:
            break
        text = lines.content(probe)
        stripped = text.lstrip(" ")
        if stripped.startswith("#") and len(text) - len(stripped) > dash_col:
            pos = lines.next_start(probe)
            n = probe + 1
            continue
        break
    return pos


def _yaml_value(value: str) -> str | None:
    """``value`` written as a YAML scalar that reads back as the same string."""
    from ruamel.yaml import YAML

    safe = YAML(typ="safe", pure=True)
    candidates = [value, "'" + value.replace("'", "''") + "'"]
    for cand in candidates:
        if "\n" in cand or "\r" in cand:
            return None
        try:
            loaded = safe.load(f"k: {cand}\n")
        except Exception:  # not a valid scalar in that spelling
            continue
        if isinstance(loaded, dict) and loaded.get("k") == value:
            return cand
    return None


@dataclass(eq=False)
class _Insertion:
    site: Site
    at: int
    text: str
    step: dict[str, Any]
    # A block scalar that ended the file without a line break gains one (its value a "\n"):
    # the key path to it inside the build step.
    grows: tuple[str | int, ...] | None = None


def _plan(
    wf: Workflow, site: Site, action: str, severity: str, ignore_unfixed: bool
) -> _Insertion | str:
    """The text to insert after the build step, or why it cannot be written."""
    if wf.aliased:
        return "the workflow uses YAML anchors and aliases; an edit could change other jobs"
    steps = _get(_get(_get(wf.root, "jobs"), site.job_id), "steps")
    step = site.step
    if steps.flow_style or step.flow_style:
        return "the workflow's steps are written in flow style (`[…]`/`{…}`)"
    assert site.image_ref is not None
    lines = _Lines.of(wf.text)
    key = step.start_mark
    before = wf.text[lines.starts[lines.line_of(key.index)] : key.index]
    dash = re.fullmatch(r"( *)-( +)", before)
    if dash is None:
        return "the build step is not written as `- key: value` on its first line"
    dash_col = len(dash.group(1))
    key_col = key.column
    sub = _with_indent(wf.root, step)
    at = _insertion_point(lines, step, dash_col)
    if at is None:
        return "the end of the build step could not be located"
    next_index = site.index + 1
    if next_index < len(steps.value):
        nxt = steps.value[next_index].start_mark.index
        if at > lines.starts[lines.line_of(nxt)]:
            return "the end of the build step could not be located"
    if at <= key.index:
        return "the end of the build step could not be located"
    ref = _yaml_value(site.image_ref)
    if ref is None:
        return f"the image reference `{site.image_ref}` cannot be written as a YAML value"
    eol = _eol_near(wf.text, lines.starts[lines.line_of(key.index)])
    lead = f"{' ' * dash_col}-{dash.group(2)}"  # the build step's `- `, as written
    written = _step_lines(wf, site, action, severity, ignore_unfixed, ref, lead, key_col, sub)
    if isinstance(written, str):
        return written
    out, expected = written
    # A blank line right after a keep-chomped (`|+`) scalar would become part of its value.
    separated = _steps_separated(lines, steps, site.index, at) and (
        _block_chomping(wf.text, _last_leaf(step)[0]) != "+"
    )
    block = eol.join(out)
    if at == len(wf.text) and not wf.text.endswith("\n"):
        text = eol + (eol if separated else "") + block
    else:
        text = (eol if separated else "") + block + eol
    grows = None
    if at == len(wf.text) and not wf.text.endswith("\n"):
        leaf, path = _last_leaf(step)
        if leaf.end_mark.index == len(wf.text) and _block_chomping(wf.text, leaf) in ("+", ""):
            grows = path
    return _Insertion(site, at, text, expected, grows)


def _step_lines(
    wf: Workflow,
    site: Site,
    action: str,
    severity: str,
    ignore_unfixed: bool,
    ref: str,
    lead: str,
    key_col: int,
    sub: int,
) -> tuple[list[str], dict[str, Any]] | str:
    """The scan step's lines (without line ends) and what it must read back as; or why it
    cannot be written. ``lead``: the build step's `- `; ``sub``: the indent of `with:` keys."""
    step = site.step
    ind = " " * key_col
    body: list[tuple[str, str]] = []
    expected: dict[str, Any] = {}
    if _get(step, "name") is not None:
        body.append(("name", "Scan image for vulnerabilities"))
        expected["name"] = "Scan image for vulnerabilities"
    cond = _get(step, "if")
    if cond is not None:
        if not _is_scalar(cond) or cond.start_mark.line != cond.end_mark.line:
            return "the build step's `if:` spans several lines"
        body.append(("if", wf.text[cond.start_mark.index : cond.end_mark.index]))
        expected["if"] = _SAME_AS_BUILD_IF
    body.append(("uses", action))
    expected["uses"] = action.split(" #", 1)[0].strip()
    out = [f"{lead}{k}: {v}" if i == 0 else f"{ind}{k}: {v}" for i, (k, v) in enumerate(body)]
    inputs: list[tuple[str, str, Any]] = [
        ("image-ref", ref, site.image_ref),
        ("severity", severity, severity),
        ("exit-code", "1", 1),
    ]
    if ignore_unfixed:
        inputs.append(("ignore-unfixed", "true", True))
    out.append(f"{ind}with:")
    out.extend(f"{ind}{' ' * sub}{k}: {v}" for k, v, _ in inputs)
    expected["with"] = {k: loaded for k, _, loaded in inputs}
    return out, expected


def _eol_near(text: str, line_start: int) -> str:
    """The line ending of the line at ``line_start``, else the file's first one, else LF."""
    nl = text.find("\n", line_start)
    if nl < 0:
        nl = text.find("\n")
    return "\r\n" if nl > 0 and text[nl - 1] == "\r" else "\n"


def _with_indent(root: Any, step: Any) -> int:
    """The indentation of `with:` inputs: the build step's, else another step's, else 2."""
    candidates = [step]
    for _, job in _items(_get(root, "jobs")):
        steps = _get(job, "steps")
        if _is_seq(steps):
            candidates.extend(steps.value)
    for cand in candidates:
        with_ = _get(cand, "with")
        if _is_map(with_) and not with_.flow_style and with_.value and _is_map(cand):
            offset = int(with_.value[0][0].start_mark.column - cand.start_mark.column)
            if offset > 0:
                return offset
    return 2


_SAME_AS_BUILD_IF = object()  # placeholder: the inserted `if:` reads back as the build's


def _steps_separated(lines: _Lines, steps: Any, index: int, at: int) -> bool:
    """Whether the workflow separates steps with a blank line (kept for the new step)."""
    if index + 1 < len(steps.value):
        n = lines.line_of(at) if at < len(lines.text) else lines.count
        return n < lines.count and not lines.content(n).strip()
    if index > 0:
        n = lines.line_of(steps.value[index].start_mark.index)
        return n > 0 and not lines.content(n - 1).strip()
    return False


def _apply(wf: Workflow, plans: list[_Insertion]) -> str | None:
    """The workflow with the steps inserted, verified by reading it back; None if it differs."""
    from ruamel.yaml import YAML

    text = wf.text
    for p in sorted(plans, key=lambda p: p.at, reverse=True):
        text = text[: p.at] + p.text + text[p.at :]
    safe = YAML(typ="safe", pure=True)
    try:
        before = safe.load(wf.text)
        after = safe.load(text)
    except Exception:  # the original reads differently with the safe loader: do not guess
        return None
    expected = copy.deepcopy(before)
    try:
        for p in plans:
            steps = expected["jobs"][p.site.job_id]["steps"]
            build = before["jobs"][p.site.job_id]["steps"][p.site.index]
            step = {
                k: (build.get("if") if v is _SAME_AS_BUILD_IF else v) for k, v in p.step.items()
            }
            if p.grows is not None:
                _append_newline(steps[p.site.index], p.grows)
            steps.insert(p.site.index + 1, step)
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    # Other steps were not moved: inserting into a job shifts only that job's later steps.
    return text if after == expected else None


def _append_newline(data: Any, path: tuple[str | int, ...]) -> None:
    for key in path[:-1]:
        data = data[key]
    if isinstance(data[path[-1]], str):
        data[path[-1]] += "\n"
