"""Property tests: every fixer on generated and mutated Dockerfiles never breaks a file."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, example, given, settings

import dockfix
from buildkit_oracle import buildkit_spans, dockfix_spans, newer_parser_differs
from dockerfile_strategies import any_dockerfile
from dockfix.build_rules import build_error
from dockfix.core.buildkit_check import buildkit_rejects
from dockfix.syntax import ParseError, parse_lossless


def check_one(text: str) -> bool:
    """The fuzz contract, shared with scripts/fuzz. Returns True when the oracle (BuildKit
    v0.12.5) splits the input otherwise than dockfix on an input where it is known to differ
    from the BuildKit dockfix follows (`newer_parser_differs`): that disagreement is no defect.
    """
    doc = parse_lossless(text)
    assert str(doc) == text
    theirs, mine = buildkit_spans(text), dockfix_spans(text)
    agree = mine == theirs or (isinstance(mine, str) and isinstance(theirs, str))
    known = not agree and newer_parser_differs(text)
    assert agree or known, (mine, theirs)
    if doc.error is not None:
        return known
    problem = build_error(doc)
    if problem is not None:
        # (an unknown instruction, `COPY file` …) BuildKit's parser takes it, its build does
        # not; nor does dockfix, which says why
        with pytest.raises(ParseError, match=re.escape(problem.reason)):
            dockfix.fix(text, select=["ALL"], offline=True)
        return known
    fixed, _ = dockfix.fix(text, select=["ALL"], unsafe_fixes=True, offline=True)
    if fixed != text:
        # BuildKit accepts the output whenever it accepted the input (the packaged v0.12.5
        # parser rejects a few inputs newer BuildKit accepts, such as `RUN [1] x`).
        assert buildkit_rejects(fixed) is None or isinstance(theirs, str)
    again, _ = dockfix.fix(fixed, select=["ALL"], unsafe_fixes=True, offline=True)
    assert again == fixed, "not idempotent"
    return known


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(any_dockerfile)
# Found by this test: a USER appended after a continuation that runs to the end of the file
# became FROM's (or RUN's) arguments.
@example("\ufeffFROM\\\n# c\n\n")
@example("FROM alpine:3.20\nRUN echo hi \\\n\n")
# A false alarm of scripts/fuzz --seed 4242: v0.12.5 reads `COPY [...]` followed by a carriage
# return and a heredoc as JSON (no heredoc), BuildKit master and dockfix as shell form (and
# reject it when the heredoc is not terminated).
@example('FROM alpine:3.20\nCOPY ["a", "b"]\r <<EOF\nx\nEOF\n')
@example('FROM alpine:3.20\nCOPY ["a", "b"]\r <<EOF\nx\n')
def test_fix_never_breaks_a_file(text: str) -> None:
    check_one(text)
