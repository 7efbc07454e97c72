"""Where a Dockerfile names an image, for the digest-pinning fixers (DF202, DF203).

:func:`image_sites` lists every place a build pulls an image from a registry:

* ``FROM`` (``--platform`` and ``AS`` are left alone: only the reference word is edited);
* ``COPY --from=<image>`` and ``RUN --mount=…,from=<image>`` when the value is not a stage
  (by name, case-insensitive, or by number);
* the ``# syntax=`` frontend image: BuildKit's reference documents a digest there
  (``# syntax=example.com/user/repo:tag@sha256:…``);
* ``FROM ${BASE}`` whose global ``ARG BASE=<image>`` default is used by nothing but whole-word
  ``FROM`` references: the reference to edit is then the ARG default.

``scratch``, stage names, ONBUILD triggers, values built from variables in ``--from`` (they
usually name stages) and ``FROM $BASE`` whose ARG has no default (the image is chosen outside
the file) are not image references here.  A reference that cannot be edited
honestly (``FROM python:${PY}-slim``, an ARG that other instructions use too, a quoted flag)
is a site with a ``problem`` and no ``ref``: the fixers report it display-only.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from dockfix.fixers._lazy import lazy_re
from dockfix.registry.image_ref import ImageRef, has_variables
from dockfix.semantics.memo import per_tree
from dockfix.syntax import Dockerfile, Flag, Instruction

__all__ = ["ImageSite", "image_sites"]

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_WHOLE_VARIABLE = lazy_re(rf"\$(?:\{{({_NAME})\}}|({_NAME}))")
_ANY_VARIABLE = lazy_re(rf"\$\{{?({_NAME})")
_SYNTAX_LINE = lazy_re(r"[\t ]*#[\t ]*syntax[\t ]*=[\t ]*(\S(?:.*\S)?)[\t ]*", re.IGNORECASE)


class ImageSite(NamedTuple):
    """One image reference: where it is, its text as written and, when editable, its span."""

    where: str  # "FROM", "COPY --from", "RUN --mount from", "# syntax" (for messages)
    line: int  # the line the finding is reported on
    text: str  # the reference as written (the ARG default for an ARG-driven FROM)
    start: int = -1  # source offsets of ``text``; -1 when it cannot be edited
    end: int = -1
    ref: ImageRef | None = None  # None: display-only, see ``problem``
    problem: str = ""
    via_arg: str | None = None  # the global ARG whose default holds the reference
    arg_line: int = 0  # where that ARG is declared

    @property
    def label(self) -> str:
        """How messages name it: `` `python:3.12` (COPY --from)``, or with the ARG it is in."""
        if self.via_arg:
            return f"`{self.text}` (FROM, default of ARG {self.via_arg} on line {self.arg_line})"
        return f"`{self.text}` ({self.where})"


def image_sites(doc: Dockerfile) -> list[ImageSite]:
    """Every image reference of the file (shared by DF202 and DF203: computed once per tree)."""
    return list(_found_sites(doc))


@per_tree
def _found_sites(doc: Dockerfile) -> tuple[ImageSite, ...]:
    return tuple(_image_sites(doc))


def _image_sites(doc: Dockerfile) -> list[ImageSite]:
    stages = {st.name for st in doc.stages if st.name}
    sites: list[ImageSite] = []
    syntax = _syntax_site(doc)
    if syntax is not None:
        sites.append(syntax)
    seen_args: set[str] = set()
    for instr in doc.instructions:
        keyword = instr.keyword
        if keyword == "FROM":
            site = _from_site(doc, instr, stages)
            if site is not None and not (site.via_arg and site.via_arg in seen_args):
                if site.via_arg:
                    seen_args.add(site.via_arg)
                sites.append(site)
        elif keyword == "COPY":
            flag = instr.flag("from")
            if flag is not None and flag.value is not None:
                site = _flag_site(doc, instr, flag, "COPY --from", flag.value, 0, stages)
                if site is not None:
                    sites.append(site)
        elif keyword == "RUN":
            for flag in instr.flags:
                if flag.name == "mount" and flag.value:
                    site = _mount_site(doc, instr, flag, stages)
                    if site is not None:
                        sites.append(site)
    return sites


# ------------------------------------------------------------------------------ the sites
def _syntax_site(doc: Dockerfile) -> ImageSite | None:
    directive = doc.directive("syntax")
    if directive is None:
        return None
    line = doc.line(directive.line)
    start = line.start + (1 if directive.line == 1 and doc.has_bom else 0)
    match = _SYNTAX_LINE.fullmatch(doc.source[start : line.end])
    if match is None or match.group(1) != directive.value:
        return None
    ref = _parse(directive.value)
    if ref is None:
        return None
    return ImageSite(
        "# syntax",
        directive.line,
        directive.value,
        start + match.start(1),
        start + match.end(1),
        ref,
    )


def _from_site(doc: Dockerfile, instr: Instruction, stages: set[str]) -> ImageSite | None:
    words = instr.args_words()
    if not words:
        return None
    word, lstart, lend = words[0]
    if word.lower() == "scratch" or word.lower() in stages or word.isdigit():
        return None
    if has_variables(word):
        return _arg_driven_site(doc, instr, word, stages)
    return _site(doc, instr, "FROM", word, lstart, lend)


def _flag_site(
    doc: Dockerfile,
    instr: Instruction,
    flag: Flag,
    where: str,
    value: str,
    offset_in_value: int,
    stages: set[str],
) -> ImageSite | None:
    """A reference inside a flag value (``--from=``, or a field of ``--mount=``)."""
    if not value or value.isdigit() or value.lower() in stages or value.lower() == "scratch":
        return None
    if has_variables(value):
        return None  # a variable --from usually selects a stage: nothing to pin
    if flag.raw != f"--{flag.name}={flag.value}":
        if _parse(value) is None:
            return None
        return ImageSite(
            where,
            instr.start_line,
            value,
            problem="the flag is quoted or escaped, which dockfix does not edit; pin it by hand",
        )
    lstart = flag.logical_start + len(flag.raw) - len(flag.value or "") + offset_in_value
    return _site(doc, instr, where, value, lstart, lstart + len(value))


def _mount_site(
    doc: Dockerfile, instr: Instruction, flag: Flag, stages: set[str]
) -> ImageSite | None:
    value = flag.value or ""
    offset = 0
    for field in value.split(","):
        key, sep, field_value = field.partition("=")
        if sep and key.strip().lower() == "from":
            return _flag_site(
                doc,
                instr,
                flag,
                "RUN --mount from",
                field_value,
                offset + len(key) + 1,
                stages,
            )
        offset += len(field) + 1
    return None


def _site(
    doc: Dockerfile, instr: Instruction, where: str, word: str, lstart: int, lend: int
) -> ImageSite | None:
    ref = _parse(word)
    if ref is None:
        return None  # not an image reference BuildKit could pull: another rule's business
    start, end = instr.source_span(lstart, lend)
    if doc.source[start:end] != word:
        return ImageSite(
            where,
            instr.start_line,
            word,
            problem="the reference is split across lines; join it to let dockfix pin it",
        )
    return ImageSite(where, instr.start_line, word, start, end, ref)


def _arg_driven_site(
    doc: Dockerfile, instr: Instruction, word: str, stages: set[str]
) -> ImageSite | None:
    if "@" in word:
        return None  # pinned by a digest written next to the variable: nothing to add
    whole = _WHOLE_VARIABLE.fullmatch(word)
    if whole is None:
        names = list(dict.fromkeys(_ANY_VARIABLE.findall(word)))
        listed = " and ".join(f"ARG {n}" for n in names) or "a build variable"
        return ImageSite(
            "FROM",
            instr.start_line,
            word,
            problem=(
                f"the reference is built from {listed}: a digest fits one value only and "
                "would be wrong whenever the ARG is overridden (--build-arg); pin it by hand "
                "or move the whole reference into an ARG default"
            ),
        )
    name = whole.group(1) or whole.group(2)
    declarations = _global_declarations(doc, name)
    if not declarations:
        return None  # BuildKit refuses an undeclared ARG in FROM: not an image to pin
    if len(declarations) > 1:
        lines = ", ".join(str(d[0].start_line) for d in declarations)
        return _arg_problem(instr, word, f"ARG {name} is declared more than once (lines {lines})")
    arg_instr, arg_word, arg_lstart = declarations[0]
    return _arg_default_site(doc, instr, word, name, arg_instr, arg_word, arg_lstart, stages)


def _arg_default_site(
    doc: Dockerfile,
    instr: Instruction,
    word: str,
    name: str,
    arg_instr: Instruction,
    arg_word: str,
    arg_lstart: int,
    stages: set[str],
) -> ImageSite | None:
    """The image in the default of the one global `ARG name=…` a `FROM $name` reads (the word
    ``arg_word`` at logical offset ``arg_lstart`` of ``arg_instr``), where a digest goes."""
    _, sep, raw_value = arg_word.partition("=")
    if not sep:
        return None  # no default: the image is chosen outside the file (--build-arg)
    value, value_offset = _unquote(raw_value)
    if value is None:
        return _arg_problem(
            instr, word, f"the default of ARG {name} is quoted in a way dockfix does not edit"
        )
    if value.lower() in stages or value.lower() == "scratch" or not value:
        return None
    if has_variables(value):
        return _arg_problem(instr, word, f"the default of ARG {name} uses other build variables")
    if _parse(value) is None:
        return None
    other_use = _other_use(doc, name, arg_instr, arg_lstart, len(arg_word))
    if other_use is not None:
        return ImageSite(
            "FROM",
            instr.start_line,
            value,
            problem=(
                f"ARG {name} is also used on line {other_use}: a digest written into its "
                "default would change that use too; pin the reference by hand"
            ),
            via_arg=name,
            arg_line=arg_instr.start_line,
        )
    lstart = arg_lstart + len(name) + 1 + value_offset
    site = _site(doc, arg_instr, "FROM", value, lstart, lstart + len(value))
    if site is None:
        return None
    return ImageSite(
        "FROM",
        instr.start_line,
        value,
        site.start,
        site.end,
        site.ref,
        site.problem,
        via_arg=name,
        arg_line=arg_instr.start_line,
    )


def _arg_problem(instr: Instruction, word: str, why: str) -> ImageSite:
    return ImageSite("FROM", instr.start_line, word, problem=why)


# ------------------------------------------------------------------------------ helpers
def _parse(text: str) -> ImageRef | None:
    try:
        return ImageRef.parse(text)
    except ValueError:
        return None


def _unquote(raw: str) -> tuple[str | None, int]:
    """An ARG default as written → (value, offset of the value in ``raw``); None if unsure."""
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        inner = raw[1:-1]
        return (None, 0) if any(c in inner for c in "'\"\\") else (inner, 1)
    if any(c in raw for c in "'\"\\"):
        return None, 0
    return raw, 0


def _global_declarations(doc: Dockerfile, name: str) -> list[tuple[Instruction, str, int]]:
    """The ``ARG name[=…]`` words before the first FROM: (instruction, word, logical start)."""
    found = []
    for instr in doc.instructions:
        if instr.keyword == "FROM":
            break
        if instr.keyword != "ARG":
            continue
        for word, lstart, _ in instr.args_words():
            if word == name or word.startswith(name + "="):
                found.append((instr, word, lstart))
    return found


def _mentions(text: str, name: str) -> bool:
    """``$name`` or ``${name…}`` in ``text`` (escaped ``\\$name`` counts too: be cautious)."""
    escaped = re.escape(name)
    pattern = rf"\$(?:\{{{escaped}|{escaped})(?![A-Za-z0-9_])"
    return re.search(pattern, text) is not None


def _other_use(
    doc: Dockerfile, name: str, arg_instr: Instruction, arg_lstart: int, arg_len: int
) -> int | None:
    """The line of a use of ARG ``name`` other than whole-reference FROMs, if any.

    A stage that re-declares the ARG counts as a use: its RUNs see the value in their
    environment, so a digest in the default would reach scripts too.
    """
    for instr in doc.instructions:
        logical = instr.logical
        if instr is arg_instr:
            rest = logical[:arg_lstart] + logical[arg_lstart + arg_len :]
            if _mentions(rest, name):
                return instr.start_line
            continue
        if instr.keyword == "FROM":
            words = instr.args_words()
            if words and _WHOLE_VARIABLE.fullmatch(words[0][0]):
                whole = _WHOLE_VARIABLE.fullmatch(words[0][0])
                assert whole is not None
                if (whole.group(1) or whole.group(2)) == name:
                    logical = logical[: words[0][1]] + logical[words[0][2] :]
            if _mentions(logical, name):
                return instr.start_line
            continue
        if (
            instr.keyword == "ARG"
            and instr.stage is not None
            and any(w == name or w.startswith(name + "=") for w, _, _ in instr.args_words())
        ):
            return instr.start_line
        if _mentions(logical, name) or any(_mentions(h.body, name) for h in instr.heredocs):
            return instr.start_line
    return None
