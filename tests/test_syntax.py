"""The syntax tree: lossless round trip and agreement with BuildKit's own parser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buildkit_oracle import buildkit_spans, dockfix_spans, newer_parser_differs
from dockerfile_strategies import dockerfiles
from dockfix.syntax import (
    Instruction,
    ParseError,
    Stage,
    arg_pairs,
    env_pairs,
    expand,
    parse,
    parse_lossless,
)

CASES: list[str] = json.loads(
    (Path(__file__).parent / "data" / "parser_cases.json").read_text("utf-8")
)


@pytest.mark.parametrize("text", CASES)
def test_round_trip(text: str) -> None:
    assert str(parse_lossless(text)) == text


@pytest.mark.parametrize("text", [c for c in CASES if not newer_parser_differs(c)])
def test_agrees_with_buildkit(text: str) -> None:
    mine, theirs = dockfix_spans(text), buildkit_spans(text)
    if isinstance(theirs, str):
        assert isinstance(mine, str), f"BuildKit rejects ({theirs}), dockfix accepts"
    else:
        assert mine == theirs


def test_newer_parser_rules() -> None:
    # BuildKit master: `<< EOF` opens a heredoc, JSON with trailing text is shell form,
    # `# check=` is a directive, so a following `# escape=` applies.
    assert dockfix_spans("FROM a\nRUN << EOF\necho\nEOF\n") == [("FROM", 1, 1), ("RUN", 2, 4)]
    doc = parse('FROM a\nRUN ["cat"] <<EOF\nbody\nEOF\n')
    assert doc.instructions[1].json_args is None and doc.instructions[1].end_line == 4
    doc = parse("# check=skip=all\n# escape=`\nFROM a\nRUN echo `\n  b\n")
    assert doc.escape == "`" and doc.instructions[1].end_line == 5


def test_instruction_parts() -> None:
    doc = parse(
        "ARG BASE=python:3.12\nFROM --platform=$BUILDPLATFORM ${BASE} AS build\n"
        "RUN --mount=type=cache,target=/root/.cache/pip \\\n  # deps\n  pip install -r r.txt\n"
        "COPY --from=build --chown=app:app /a /b\nFROM scratch\nCOPY --from=0 /b /b\n"
        'ONBUILD RUN echo hi\nCMD ["app", "--flag"]\n'
    )
    run = doc.instructions[2]
    assert run.keyword == "RUN" and (run.start_line, run.end_line) == (3, 5)
    assert [(f.name, f.value) for f in run.flags] == [
        ("mount", "type=cache,target=/root/.cache/pip")
    ]
    assert run.args == "pip install -r r.txt"
    assert [c.number for c in run.comments] == [4]
    copy = doc.instructions[3]
    assert copy.flag("from") is not None and copy.flag("from").value == "build"  # type: ignore[union-attr]
    assert [s.alias for s in doc.stages] == ["build", None]
    assert doc.stages[0].platform == "$BUILDPLATFORM" and doc.stages[0].base == "${BASE}"
    assert doc.global_args == {"BASE": "python:3.12"}
    assert doc.stage_named("0") is doc.stages[0] and doc.stage_named("BUILD") is doc.stages[0]
    onbuild = doc.instructions[6]
    assert onbuild.trigger is not None and onbuild.trigger.keyword == "RUN"
    assert doc.instructions[7].json_args == ["app", "--flag"]


def test_source_mapping_across_continuations() -> None:
    text = "FROM a\nRUN apt-get update \\\n# c\n    && apt-get install x\n"
    doc = parse(text)
    run = doc.instructions[1]
    i = run.logical.index("install")
    s, e = run.source_span(i, i + len("install"))
    assert text[s:e] == "install"


def test_variables_in_scope() -> None:
    doc = parse("ARG V=1\nFROM a AS one\nARG V\nENV HOME=/home/app\nRUN x\nFROM one\nRUN y\n")
    one, two = doc.stages
    assert one.variables_at(one.instructions[2]) == {"V": "1", "HOME": "/home/app"}
    assert two.parent is one and two.variables_at()["HOME"] == "/home/app"


def _scope_by_walking(stage: Stage, instr: Instruction | None) -> dict[str, str | None]:
    """The scope as a walk of the stage reads it: what Stage.scope_at must answer."""
    scope: dict[str, str | None] = {}
    if stage.parent is not None:
        scope.update(_scope_by_walking(stage.parent, None))
    for i in stage.instructions:
        if i is instr:
            break
        before = dict(scope)  # a value is expanded where it is set, against what came before

        def settled(value: str, before: dict[str, str | None] = before) -> str:
            known = expand(value, before)
            return value if known is None else known

        if i.keyword == "ARG":
            for name, value in arg_pairs(i):
                if value is None and name in stage._global_args:
                    value = stage._global_args[name]
                elif value is not None:
                    value = settled(value)
                if name not in scope or value is not None or scope[name] is None:
                    scope[name] = value
        elif i.keyword == "ENV":
            scope.update((name, settled(value)) for name, value in env_pairs(i))
    return scope


def test_scope_views_answer_as_a_walk_of_the_stage() -> None:
    doc = parse(
        "ARG V=1\nARG W\nFROM a AS one\nARG V\nENV HOME=/home/app A=1\nARG W\nARG V=2\n"
        "RUN x\nENV A=3 A=4\nONBUILD RUN z\nFROM one\nARG V\nENV B=$A\nRUN y\nARG C\n"
    )
    for stage in doc.stages:
        for instr in [*stage.instructions, stage.from_instruction, None]:
            view = stage.scope_at(instr)
            expected = _scope_by_walking(stage, instr)
            assert dict(view) == expected and list(view) == list(expected)
            assert stage.variables_at(instr) == expected
            assert all(view.get(k) == v and k in view for k, v in expected.items())
            assert "NOPE" not in view and view.get("NOPE") is None
        trigger = next(i.trigger for i in doc.instructions if i.trigger is not None)
        assert dict(stage.scope_at(trigger)) == _scope_by_walking(stage, trigger)
    one = doc.stages[0]
    assert [one.local_index(i) for i in one.instructions] == list(range(len(one.instructions)))
    assert one.local_index(one.from_instruction) == -1


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "file with no instructions"),
        ("FROM a\nRUN <<EOF\nx\n", "unterminated heredoc"),
        ("# escape=x\nFROM a\n", "invalid escape token"),
        ("FROM a\nENV a\n", "ENV must have two arguments"),
        ("FROM a\nCMD [1]\n", "arrays must be comprised of strings only"),
    ],
)
def test_errors(text: str, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse(text)
    assert str(parse_lossless(text)) == text


# --- generated inputs ---------------------------------------------------------------------


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dockerfiles())
def test_generated_round_trip_and_agreement(text: str) -> None:
    assert str(parse_lossless(text)) == text
    if newer_parser_differs(text):
        return
    theirs = buildkit_spans(text)
    mine = dockfix_spans(text)
    if isinstance(theirs, str):
        assert isinstance(mine, str), f"BuildKit: {theirs}; dockfix accepted"
    else:
        assert mine == theirs


@settings(max_examples=500, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("FROMRUN aCPYD\\`#<>EOF\r\n\t\"'[]$={}-\ufeff\u00a0\x0b")),
        max_size=80,
    )
)
def test_arbitrary_text_round_trips_and_agrees(text: str) -> None:
    assert str(parse_lossless(text)) == text
    if newer_parser_differs(text):
        return
    theirs, mine = buildkit_spans(text), dockfix_spans(text)
    assert mine == theirs or (isinstance(mine, str) and isinstance(theirs, str))


def test_indented_instruction_offsets_and_edits() -> None:
    from dockfix.core.edits import apply_edits, delete_instruction, insert_after, insert_before

    text = "FROM x AS a\nWORKDIR /app\n  COPY . .\n  RUN make\n"
    doc = parse(text)
    copy = doc.instructions[2]
    assert text[copy.start : copy.end] == "  COPY . ."
    assert apply_edits(text, [insert_before(doc, copy, ["COPY go.mod ./"])]) == (
        "FROM x AS a\nWORKDIR /app\n  COPY go.mod ./\n  COPY . .\n  RUN make\n"
    )
    assert apply_edits(text, [insert_after(doc, copy, ["RUN x"])]) == (
        "FROM x AS a\nWORKDIR /app\n  COPY . .\n  RUN x\n  RUN make\n"
    )
    assert apply_edits(text, [delete_instruction(doc, copy)]) == "FROM x AS a\nWORKDIR /app\n  RUN make\n"
    bom = "\ufeffFROM a\nRUN b"
    d2 = parse(bom)
    assert apply_edits(bom, [insert_before(d2, d2.instructions[0], ["ARG X"])]) == "\ufeffARG X\nFROM a\nRUN b"
    assert apply_edits(bom, [delete_instruction(d2, d2.instructions[1])]) == "\ufeffFROM a"


def test_key_value_arguments_are_trimmed_before_splitting() -> None:
    # found by scripts/fuzz: BuildKit trims ENV/LABEL arguments first, so a lone escape
    # character left by a continuation is dropped, not read as a word
    text = "\ufeffLABEL \\ \\\n# c\n"
    assert dockfix_spans(text) == buildkit_spans(text) == [("LABEL", 1, 2)]


def test_instructions_keep_their_stage_while_held() -> None:
    """An instruction's stage lives as long as the instruction, even when the caller keeps
    only the instruction list (the API example's loop)."""
    import gc

    from dockfix.syntax import released_trees

    text = "FROM alpine AS base\nRUN true\nFROM base\nONBUILD RUN echo hi\nCMD [\"sh\"]\n"
    instructions = parse(text).instructions
    gc.collect()
    assert [i.stage.index if i.stage else None for i in instructions] == [0, 0, 1, 1, 1]
    assert instructions[3].trigger is not None and instructions[3].trigger.stage is not None
    # Inside released_trees() (what a run uses) the same tree is taken apart at the end.
    with released_trees():
        inside = parse(text).instructions
        assert all(i.stage is not None for i in inside)
    assert all(i.stage is None for i in inside)


def test_released_trees_are_per_thread() -> None:
    """A thread's released_trees() block leaves the trees other threads parse meanwhile
    alone (a server may check files from a thread pool)."""
    import threading

    from dockfix.syntax import Dockerfile, released_trees

    parsed = threading.Event()
    done = threading.Event()
    held: list[Dockerfile] = []

    def other() -> None:
        held.append(parse("FROM alpine\nRUN true\n"))
        parsed.set()
        done.wait(10)

    t = threading.Thread(target=other)
    with released_trees():
        t.start()
        assert parsed.wait(10)
        parse("FROM alpine\n")
    done.set()
    t.join(10)
    assert all(i.stage is not None for i in held[0].instructions)
