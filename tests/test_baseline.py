"""`dockfix check --add-noqa`: a baseline of ignore pragmas, after which `check` passes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dockfix.core.edits import ignore_pragma_edit
from dockfix.core.fixer import Finding
from dockfix.output.baseline import add_ignore_pragmas
from dockfix.run.runner import RunOptions, fix_text_with
from dockfix.syntax import parse_lossless
from hadolint_runner import hadolint_codes_or_skip
from support.cli import run_dockfix

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SELECT = ["DF102", "DF105", "DF201", "DF502"]
SRC = "FROM debian:bookworm\nMAINTAINER me\nRUN apt-get update\nRUN apt-get install -y curl\n"


def baseline(text: str, select: list[str] = SELECT) -> tuple[str, int]:
    out, added, problem = add_ignore_pragmas(text, _check_findings(text, select))
    assert problem is None, problem
    return out, added


def _check_findings(text: str, select: list[str]) -> list[Finding]:
    """What `dockfix check` reports: every finding, none fixed."""
    opts = RunOptions(select=tuple(select), offline=True, apply_fixes=False)
    return fix_text_with(text, None, opts).findings


def left_after(text: str, select: list[str] = SELECT) -> list[str]:
    return sorted(f.code for f in _check_findings(text, select))


def test_each_instruction_gets_its_codes_sorted_and_check_passes_after() -> None:
    out, added = baseline(SRC)
    assert out == (
        "# dockfix ignore=DF201\nFROM debian:bookworm\n"
        "# dockfix ignore=DF502\nMAINTAINER me\n"
        "# dockfix ignore=DF102\nRUN apt-get update\n"
        "# dockfix ignore=DF105\nRUN apt-get install -y curl\n"
    )
    assert added == 4
    assert left_after(out) == []
    assert baseline(out) == (out, 0)  # idempotent


def test_crlf_indentation_and_bom_are_kept() -> None:
    text = "\ufeffFROM debian:bookworm\r\n    RUN apt-get update\r\nRUN apt-get install -y x\r\n"
    out, _ = baseline(text)
    assert out == (
        "\ufeff# dockfix ignore=DF201\r\nFROM debian:bookworm\r\n"
        "    # dockfix ignore=DF102\r\n    RUN apt-get update\r\n"
        "# dockfix ignore=DF105\r\nRUN apt-get install -y x\r\n"
    )
    assert left_after(out) == []


def test_an_existing_dockfix_pragma_is_extended_not_doubled() -> None:
    text = "FROM debian:bookworm\n# keep this\n# dockfix ignore=DF999\n#  note\nMAINTAINER me\n"
    out, added = baseline(text, ["DF201", "DF502"])
    assert "# dockfix ignore=DF502,DF999\n#  note\nMAINTAINER me\n" in out
    assert out.count("dockfix ignore") == 2 and added == 2


def test_the_spelling_of_an_existing_pragma_around_its_codes_stays() -> None:
    text = "FROM debian:bookworm\n  #  DOCKFIX IGNORE = DF999\nMAINTAINER me\n"
    out, _ = baseline(text, ["DF502"])
    assert "  #  DOCKFIX IGNORE = DF502,DF999\nMAINTAINER me\n" in out


def test_a_hadolint_pragma_stays_directly_above_its_instruction() -> None:
    # hadolint reads only the line directly above: the dockfix pragma goes above it, and the
    # hadolint line is left as it is (dockfix never adds its codes to it).
    text = "FROM debian:bookworm\n# hadolint ignore=DL3009\nRUN apt-get update\n"
    out, _ = baseline(text, ["DF102"])
    assert out.endswith("# dockfix ignore=DF102\n# hadolint ignore=DL3009\nRUN apt-get update\n")


def test_real_hadolint_still_honours_its_pragma_after_the_baseline() -> None:
    text = "FROM debian:bookworm\n# hadolint ignore=DL3009\nRUN apt-get update\n"
    assert "DL3009" not in hadolint_codes_or_skip(text)
    out, _ = baseline(text, ["DF102"])
    assert "DL3009" not in hadolint_codes_or_skip(out)
    # inserting directly above the RUN (below the hadolint line) would have re-opened it
    wrong = text.replace("RUN", "# dockfix ignore=DF102\nRUN")
    assert "DL3009" in hadolint_codes_or_skip(wrong)


def test_a_multi_line_instruction_and_a_heredoc_get_the_pragma_above_their_first_line() -> None:
    text = (
        "FROM debian:bookworm\n"
        "RUN apt-get update \\\n    && true\n"
        "RUN <<EOF\napt-get install -y curl\nEOF\n"
    )
    out, _ = baseline(text, ["DF102", "DF105"])
    assert "# dockfix ignore=DF102\nRUN apt-get update \\\n    && true\n" in out
    assert "# dockfix ignore=DF105\nRUN <<EOF\napt-get install -y curl\nEOF\n" in out
    assert left_after(out, ["DF102", "DF105"]) == []


def test_a_finding_on_the_syntax_directive_gets_a_global_pragma_below_the_directives() -> None:
    text = "# syntax=docker/dockerfile:1\n# escape=\\\nFROM debian:bookworm\n"
    out, added, problem = add_ignore_pragmas(
        text, [Finding("DF202", "x", 1), Finding("DF202", "y", 3), Finding("DF201", "z", 3)]
    )
    assert problem is None and added == 2
    assert out == (
        "# syntax=docker/dockerfile:1\n# escape=\\\n"
        "# dockfix global ignore=DF202\n# dockfix ignore=DF201\nFROM debian:bookworm\n"
    )
    assert parse_lossless(out).directive("syntax") is not None


def test_the_reusable_edit_names_nothing_when_every_code_is_ignored_already() -> None:
    doc = parse_lossless("FROM a\n# dockfix ignore=DF201,DF202\nRUN x\n")
    assert ignore_pragma_edit(doc, doc.instructions[1], ["DF202"]) is None


def test_round_trip_on_every_shipped_fixture(tmp_path: Path) -> None:
    tree = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, tree)
    args = ("check", "--select", "ALL", "--offline", ".")
    before = run_dockfix(*args, cwd=tree)
    assert before.returncode == 1
    r = run_dockfix(*args, "--add-noqa", cwd=tree)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    added = int(r.stderr.split("Added ")[1].split()[0])
    assert added > 100
    after = run_dockfix(*args, cwd=tree)
    assert after.returncode == 0, after.stdout
    snapshot = {p: p.read_bytes() for p in tree.rglob("*") if p.is_file()}
    again = run_dockfix(*args, "--add-noqa", cwd=tree)
    assert "Added 0 ignore pragmas." in again.stderr
    assert {p: p.read_bytes() for p in tree.rglob("*") if p.is_file()} == snapshot
    # CRLF files stay CRLF
    for p in tree.rglob("*Dockerfile"):
        data = p.read_bytes()
        original = (FIXTURES / p.relative_to(tree)).read_bytes()
        if b"\r\n" in original:
            assert data.count(b"\n") == data.count(b"\r\n")


def test_add_noqa_refuses_standard_input(tmp_path: Path) -> None:
    r = run_dockfix("check", "--add-noqa", "-", cwd=tmp_path)
    assert r.returncode == 2 and "standard input" in r.stderr


def test_a_file_that_cannot_be_written_is_one_error_line_others_still_get_pragmas(
    tmp_path: Path,
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "Dockerfile").write_text(SRC)
    (tmp_path / "b" / "Dockerfile").write_text(SRC)
    (tmp_path / "a" / "Dockerfile").chmod(0o444)
    r = run_dockfix("check", "--select", ",".join(SELECT), "--add-noqa", ".", cwd=tmp_path)
    assert r.returncode == 2
    assert "a/Dockerfile: file is read-only" in r.stderr
    assert "# dockfix ignore=DF502" in (tmp_path / "b" / "Dockerfile").read_text()
    assert (tmp_path / "a" / "Dockerfile").read_text() == SRC


@pytest.mark.parametrize(
    ("text", "findings", "expected"),
    [
        # ONBUILD: above the ONBUILD line; no final line break: none added
        (
            "FROM a\nONBUILD RUN apt-get update",
            [("DF102", 2)],
            "FROM a\n# dockfix ignore=DF102\nONBUILD RUN apt-get update",
        ),
        # a comment inside a continued instruction belongs to it: the pragma goes above it all
        (
            "FROM a\nRUN x \\\n# inner\n  && y\n",
            [("DF102", 4)],
            "FROM a\n# dockfix ignore=DF102\nRUN x \\\n# inner\n  && y\n",
        ),
        # a global pragma already there takes the new code
        (
            "# syntax=x\n# dockfix global ignore=DF101\nFROM a\n",
            [("DF204", 0)],
            "# syntax=x\n# dockfix global ignore=DF101,DF204\nFROM a\n",
        ),
        # a blank line between a comment and the instruction: the pragma goes below it
        (
            "FROM a\n# c\n\nRUN z\n",
            [("DF102", 4)],
            "FROM a\n# c\n\n# dockfix ignore=DF102\nRUN z\n",
        ),
    ],
)
def test_pragma_placement(text: str, findings: list[tuple[str, int]], expected: str) -> None:
    out, _, problem = add_ignore_pragmas(text, [Finding(c, "m", line) for c, line in findings])
    assert (out, problem) == (expected, None)
