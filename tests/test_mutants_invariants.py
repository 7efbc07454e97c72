"""check_invariants on hand-made edits (cases scripts/mutation found untested)."""

from __future__ import annotations

from dockfix.core.edits import apply_edits
from dockfix.core.fixer import Edit
from dockfix.core.invariants import check_invariants
from dockfix.syntax import parse


def check(text: str, *edits: Edit) -> str | None:
    new = parse(apply_edits(text, edits))
    return check_invariants(parse(text), new, edits)


PRAGMA = "FROM a\n# keep: reason\n# hadolint ignore=DL3008\nRUN apt-get install x\nCMD y\n"
RUN_AT = PRAGMA.index("RUN")


def test_an_instruction_inserted_between_a_pragma_and_its_instruction_is_refused() -> None:
    assert check(PRAGMA, Edit.insert(RUN_AT, "USER 1\n")) == (
        "pragma `# hadolint ignore=DL3008` is no longer directly above its instruction"
    )
    # above the comment block, or after the instruction: the pragma keeps its instruction
    assert check(PRAGMA, Edit.insert(PRAGMA.index("# keep"), "USER 1\n")) is None
    assert check(PRAGMA, Edit.insert(PRAGMA.index("CMD"), "USER 1\n")) is None


def test_a_pragma_or_instruction_an_edit_rewrites_is_the_fixer_s_business() -> None:
    pragma_line = PRAGMA.index("# hadolint")
    assert check(PRAGMA, Edit.delete(pragma_line, RUN_AT)) is None  # the pragma removed
    assert check(PRAGMA, Edit(RUN_AT, RUN_AT + 3, "USER 1\nRUN")) is None  # its start rewritten
    end = PRAGMA.index("CMD")
    assert check(PRAGMA, Edit.delete(RUN_AT, end)) is None  # the instruction removed


def test_instructions_outside_the_edits_must_stay_the_same() -> None:
    text = "FROM a\nRUN b \\\n"
    assert check(text, Edit.insert(len(text), "USER 1\n")) == (
        "RUN on line 2 changed although no edit covers it"
    )
    text = "FROM a\nRUN b\nCMD c\n"
    assert check(text, Edit.insert(0, "ARG X=1\n")) is None  # moved, not changed
    run_end = text.index("\nCMD")
    assert check(text, Edit.insert(run_end, " && d")) is None  # appended to the line
    assert check(text, Edit(text.index("b"), run_end, "e")) is None  # covered by the edit


def test_directives_must_stay_first() -> None:
    text = "# syntax=docker/dockerfile:1\nFROM a\n"
    assert check(text, Edit.insert(0, "# note\n")) == (
        "directive `# syntax=docker/dockerfile:1` is no longer a parser directive"
    )
    assert check(text, Edit(9, 28, "docker/dockerfile:1.7")) is None  # the edit rewrote it


def test_heredoc_bodies_are_found_again_after_edits_before_them() -> None:
    text = "FROM a\nRUN b\nRUN <<EOF\necho\nEOF\nRUN <<E2\nEOF\nE2\n"
    assert check(text, Edit.insert(0, "ARG X\n")) is None
    assert check(text, Edit.delete(7, 13)) is None  # `RUN b` removed: the bodies move back
    body = text.index("echo")
    assert check(text, Edit(body, body + 4, "true")) is None  # the body edited on purpose


def test_an_empty_heredoc_body_is_edited_by_an_edit_of_its_terminator() -> None:
    # The empty body sits where its terminator starts: rewriting from there on edits the body
    # on purpose; an insertion there is no edit of it (like one at a body's start), refused.
    text = "FROM a\nRUN <<EOF\nEOF\n"
    body = text.rindex("EOF\n")
    assert check(text, Edit(body, body + 3, "echo hi\nEOF")) is None
    assert check(text, Edit.insert(body, "echo hi\n")) == (
        "heredoc body <<EOF (line 2) changed or was re-read"
    )


def test_a_line_inserted_after_a_dangling_continuation_is_refused() -> None:
    """A last instruction whose continuation only empty or comment lines follow runs to the
    end of the file: DF201's `USER` appended there became the RUN's (or FROM's) arguments,
    even when the same fix also rewrote the instruction before its continuation."""
    text = "FROM alpine:3.20\nRUN echo hi \\\n\n"
    escape = text.index("\\")
    absorbed = (
        "text inserted after line 3 would be read as part of the RUN on line 2 (its last "
        "line ends with a continuation that only empty or comment lines follow)"
    )
    assert check(text, Edit.insert(escape, "&& id "), Edit.insert(len(text), "USER 1\n")) == (
        absorbed
    )
    assert check(text, Edit.insert(len(text), "USER 1\n")) is not None
    assert check(text, Edit.delete(escape + 2, len(text))) is None  # the empty line removed
    # the continuation itself rewritten: the fixer's business, and BuildKit's gate
    assert check(text, Edit(escape, len(text), "\nUSER 1\n")) is None
    text = "FROM alpine \\\n# c\n\n"
    assert check(text, Edit.insert(len(text), "USER 1\n")) is not None
