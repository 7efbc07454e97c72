"""_verified_edits: edits inside one instruction are checked by parsing that instruction's
lines alone; the answer must be the one a parse of the whole edited file gives."""

from __future__ import annotations

import random
from functools import partial
from pathlib import Path

import pytest

from dockfix.core.edits import apply_edits
from dockfix.core.fixer import Edit
from dockfix.fixers._verified_edits import edited_alone, verified_edits, verified_whole
from dockfix.syntax import Instruction, parse_lossless

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
# What edits may write: line breaks, escapes (both characters), comments, quotes, heredoc
# openers, keywords, a byte-order mark, JSON brackets.
PIECES = (
    *("", " ", "\t", "\n", "\r\n", "\r", "\\", "\\\n", "`", "`\n", "\n\\", "\n\n", "#", "# c"),
    *("\n# c\n", '"', "'", "[", "]", '["a"]', "<<EOF", "<<-X", "=", "--from=a ", "x", "true"),
    *("RUN ", "FROM a", "ONBUILD ", "# escape=`", "\ufeff", "\u2028", "\x0c"),
)


def _words(new: Instruction) -> tuple[object, ...]:
    trigger = new.trigger.keyword if new.trigger is not None else None
    flags = [(f.name, f.value) for f in new.flags]
    return (new.keyword, new.logical, new.args, new.json_args, flags, trigger, new.heredocs)


def _record(seen: list[tuple[object, ...]], new: Instruction) -> bool:
    seen.append(_words(new))
    return True


def _random_edits(rng: random.Random, first: int, last: int) -> list[Edit]:
    edits = []
    at = first
    for _ in range(rng.randint(1, 2)):
        start = rng.randint(at, last)
        end = min(last, start + rng.randint(0, 6))
        edits.append(Edit(start, end, rng.choice(PIECES) + rng.choice(PIECES)))
        at = end
    return edits


@pytest.mark.parametrize("seed", range(4))
def test_the_instruction_alone_answers_as_the_whole_file(seed: int) -> None:
    rng = random.Random(seed)
    paths = sorted(FIXTURES.glob("*/*/Dockerfile"))
    alone_answers = 0
    for path in rng.sample(paths, 60):
        doc = parse_lossless(path.read_text(encoding="utf-8"))
        if doc.error is not None:
            continue
        for instr in doc.instructions:
            first = doc.lines[instr.start_line - 1].start
            last = doc.lines[instr.end_line - 1].end
            for _ in range(5):
                edits = _random_edits(rng, first, last)
                try:
                    text = apply_edits(doc.source, edits)
                except ValueError:
                    continue
                alone = edited_alone(doc, instr, edits, text)
                if alone is None:
                    continue
                alone_answers += 1
                seen: list[tuple[object, ...]] = []
                whole = verified_whole(doc, instr, text, partial(_record, seen))
                assert (alone[1], _words(alone[0])) == (whole, seen[0] if seen else None) or (
                    not alone[1] and not whole
                ), (path, instr.start_line, edits)
    assert alone_answers > 100  # most edits are answered without the whole file


def test_a_line_ending_in_an_escape_runs_on_into_the_next_instruction() -> None:
    doc = parse_lossless("FROM a\nRUN a\nRUN b\n")
    run = doc.instructions[1]
    # `RUN a \` swallows `RUN b`: one instruction fewer, refused
    edits = [Edit.insert(run.end, " \\")]
    assert not verified_edits(doc, run, edits, lambda new: True)
    # a line of its own holding only the escape joins the next one: the whole file decides
    edits = [Edit.insert(run.end, "\n\\")]
    assert edited_alone(doc, run, edits, apply_edits(doc.source, edits)) is None


def test_a_comment_line_dropped_from_a_continuation_is_refused() -> None:
    doc = parse_lossless("FROM a\nRUN a \\\n# keep me\n  && b\n")
    run = doc.instructions[1]
    comment = doc.lines[2]
    assert not verified_edits(doc, run, [Edit(comment.start, comment.next, "")], lambda n: True)
    assert verified_edits(doc, run, [Edit.insert(run.end, " && c")], lambda n: True)
