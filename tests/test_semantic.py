"""The engine's shared model of a Dockerfile (dockfix.semantics.semantic) and its memo helpers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dockfix.registry.image_ref import ImageRef
from dockfix.semantics.memo import per_tree
from dockfix.semantics.semantic import (
    Mount,
    base_image,
    base_reference,
    copies_from,
    descendants,
    expand,
    mounts,
    scope_at,
    settings_after,
    settings_at,
    stage_chain,
    stage_named_by,
    user_at,
    workdir_at,
)
from dockfix.syntax import Dockerfile, parse

ROOT = Path(__file__).resolve().parent.parent


# --- expansion -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "scope", "expected"),
    [
        # a default that names an unknown variable is unknown, not empty
        ("${V:-$U}", {}, None),
        # a value that names other variables is expanded in turn (ENV B=$A/app)
        ("$B", {"A": "/srv", "B": "$A/app"}, "/srv/app"),
        # ... but not forever (ENV PATH=/x:$PATH with the base image's PATH unknown)
        ("$PATH", {"PATH": "/x:$PATH"}, None),
        # the word of ${V:+w} is expanded too
        ("${A:+$B}", {"A": "1", "B": "2"}, "2"),
        ("${A:+$B}", {"B": "2"}, ""),
        # ARG V without a value is unset
        ("${V-d}", {"V": None}, "d"),
        ("$V", {"V": None}, None),
        # what BuildKit leaves or the shell does is not a value a fixer can use
        ("$1/x", {}, None),
        ("${V%x}", {"V": "ax"}, None),
    ],
)
def test_expand(text: str, scope: dict[str, str | None], expected: str | None) -> None:
    assert expand(text, scope) == expected


def test_expand_with_the_files_escape_character() -> None:
    assert expand("`$V", {"V": "x"}, "`") is None
    assert expand("\\$V", {"V": "x"}, "`") == "\\x"


# --- scope and stages --------------------------------------------------------------------------

STAGES = """\
ARG IMG=golang:1.22
FROM ${IMG} AS build
ARG IMG
ENV OUT=/out
ENV BIN=$OUT/app
RUN go build -o $BIN
FROM build AS test
RUN go test
FROM debian:12 AS other
COPY --from=build /out/app /app
COPY --from=final /x /x
FROM scratch AS final
COPY --from=0 /out/app /app
"""


def test_scope_inherits_from_the_parent_stage_and_global_defaults() -> None:
    doc = parse(STAGES)
    build, test = doc.stages[0], doc.stages[1]
    run = test.instructions[0]
    scope = scope_at(test, run)
    assert scope["IMG"] == "golang:1.22"  # `ARG IMG` in the stage takes the global default
    assert expand("$BIN", scope) == "/out/app"
    assert "BIN" not in scope_at(build, build.instructions[1])  # before the ENV


def test_stage_graph() -> None:
    doc = parse(STAGES)
    build, test, other, final = doc.stages
    assert stage_chain(test) == [build, test]
    assert descendants(doc, build) == [test]
    assert stage_named_by(doc, "BUILD", other) is build
    assert stage_named_by(doc, "final", other) is None  # a later stage: an image name
    assert stage_named_by(doc, "$S", other) is None
    assert copies_from(doc, build) == [other.instructions[0], final.instructions[0]]


def test_base_image_of_a_chain() -> None:
    doc = parse(STAGES)
    _build, test, _other, final = doc.stages
    assert base_reference(doc, test) == "golang:1.22"
    ref = base_image(doc, test)
    assert ref is not None and ref.short_name == "golang" and ref.tag == "1.22"
    assert base_reference(doc, final) == "scratch"
    assert base_image(doc, final) is None


def test_mounts_are_read_once_with_keys_in_any_case() -> None:
    doc = parse(
        'FROM a\nRUN --mount=type=Cache,Target="/root/.cache" --mount=from=build,source=/out,'
        "target=/x --mount=src=.,dst=/src make\n"
    )
    run = doc.stages[0].instructions[0]
    assert mounts(run) == (
        Mount("cache", "/root/.cache", "", None),
        Mount("bind", "/x", "/out", "build"),
        Mount("bind", "/src", ".", None),
    )
    assert mounts(run) is mounts(run)


# --- USER and WORKDIR ----------------------------------------------------------------------


def test_user_and_workdir_follow_the_chain() -> None:
    doc = parse(
        "FROM debian AS base\nARG D=/srv\nWORKDIR $D\nUSER app:app\n"
        "FROM base\nWORKDIR sub\nRUN make\n"
    )
    child = doc.stages[1]
    run = child.instructions[-1]
    assert settings_at(doc, child, run) == ("app:app", "/srv/sub", "")
    assert workdir_at(doc, child, child.instructions[0]) == "/srv"
    assert settings_after(doc, child, child.instructions[0]).workdir == "/srv/sub"
    assert user_at(doc, doc.stages[0], doc.stages[0].instructions[0]) is None


def test_an_unresolved_workdir_is_reported_and_an_absolute_one_recovers() -> None:
    doc = parse("FROM debian\nWORKDIR $NOPE\nRUN a\nWORKDIR /app\nRUN b\n")
    stage = doc.stages[0]
    first, second = stage.instructions[1], stage.instructions[3]
    assert settings_at(doc, stage, first) == (None, None, "the WORKDIR cannot be resolved")
    assert workdir_at(doc, stage, second) == "/app"
    assert settings_at(doc, stage, second).unresolved  # the first one stays reported


def test_workdir_over_what_the_base_image_sets() -> None:
    doc = parse("FROM golang\nWORKDIR $GOPATH/src\nRUN go build\n")
    stage = doc.stages[0]
    run = stage.instructions[-1]
    assert workdir_at(doc, stage, run) is None
    assert workdir_at(doc, stage, run, "/go", {"GOPATH": "/go"}) == "/go/src"
    assert workdir_at(doc, stage, stage.instructions[0], None) is None  # image's own: unknown
    assert workdir_at(doc, parse("FROM x\nWORKDIR app\n").stages[0], None, None) is None


# --- memo --------------------------------------------------------------------------------------

calls: list[str] = []


@per_tree
def _first_keyword(doc: Dockerfile, offset: int) -> str:
    calls.append("first")
    return doc.instructions[offset].keyword


@per_tree
def _last_keyword(doc: Dockerfile, offset: int) -> str:
    calls.append("last")
    return doc.instructions[-1 - offset].keyword


def test_per_tree_computes_once_per_tree_and_arguments() -> None:
    calls.clear()
    doc = parse("FROM a\nRUN b\n")
    assert _first_keyword(doc, 0) == "FROM"
    assert _first_keyword(doc, 0) == "FROM"
    assert _last_keyword(doc, 0) == "RUN"  # same arguments, another function: no collision
    assert _first_keyword(doc, 1) == "RUN"
    assert _first_keyword(parse("FROM a\nRUN b\n"), 0) == "FROM"  # another tree
    assert calls == ["first", "last", "first", "first"]


# --- image references ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "short"),
    [
        ("docker.io/library/golang:1.22-alpine@sha256:" + "a" * 64, "golang"),
        ("oven/bun:1", "oven/bun"),
        ("localhost:5000/team/app:1", "team/app"),
        ("gcr.io/distroless/static-debian12", "distroless/static-debian12"),
        ("registry-1.docker.io/library/python", "python"),
        # not valid references, still read by the same rules
        ("python:3.12 ", "python"),
        ("ghcr.io/Team/App:V1", "team/app"),
    ],
)
def test_short_name(text: str, short: str) -> None:
    assert ImageRef.parse_loose(text).short_name == short


def test_parse_loose_keeps_the_parts_of_an_invalid_reference() -> None:
    ref = ImageRef.parse_loose("ghcr.io/Team/App:V1@sha256:x")
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        "ghcr.io",
        "Team/App",
        "V1",
        "sha256:x",
    )
    with pytest.raises(ValueError, match="invalid"):
        ImageRef.parse("ghcr.io/Team/App:V1@sha256:x")


# --- architecture ------------------------------------------------------------------------------


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: inside dockfix.fixers
                base = "dockfix.fixers" + (f".{base}" if base else "")
                found.update(f"{base}.{a.name}" for a in node.names)
            found.add(base)
    return found


def test_the_syntax_tree_imports_nothing_of_dockfix() -> None:
    imported = _imports(ROOT / "src" / "dockfix" / "syntax.py")
    assert not [m for m in imported if m == "dockfix" or m.startswith("dockfix.")]


def test_no_fixer_imports_another_fixer() -> None:
    top = ROOT / "fixers"
    # a fixer is a module or a package (`copy_before_install/`) whose name has no underscore
    fixers = {p.stem for p in top.glob("*.py")} | {p.parent.name for p in top.glob("*/__init__.py")}
    fixers = {f for f in fixers if not f.startswith("_")}
    offenders = []
    for path in sorted([*top.glob("*.py"), *top.glob("*/*.py")]):
        owner = path.stem if path.parent == top else path.parent.name
        for module in _imports(path):
            parts = module.split(".")
            if module.startswith("dockfix.fixers.") and parts[2] in fixers and parts[2] != owner:
                offenders.append(f"{path.relative_to(top)} imports {module}")
    assert offenders == []


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        # BuildKit expands a value when its instruction runs, against what was set before it.
        ("ENV A=1\nENV B=$A\nENV A=2\n", {"A": "2", "B": "1"}),
        ("ENV A=1\nENV A=2 B=$A\n", {"A": "2", "B": "1"}),
        ("ENV P=/a\nENV P=$P:/b\n", {"P": "/a:/b"}),
        ("ARG V=1\nARG W=$V/x\nARG V=2\n", {"V": "2", "W": "1/x"}),
        # Unknown when it is set (the base image's PATH): kept as written, for its known part.
        ("ENV PATH=/root/.bun/bin:$PATH\n", {"PATH": "/root/.bun/bin:$PATH"}),
    ],
)
def test_a_value_is_expanded_where_it_is_set(lines: str, expected: dict[str, str]) -> None:
    doc = parse("FROM a\n" + lines + "RUN true\n")
    stage = doc.stages[0]
    assert dict(scope_at(stage, stage.instructions[-1])) == expected
    scope = scope_at(stage, stage.instructions[-1])
    assert {name: expand(f"${name}", scope) for name in expected} == {
        name: None if "$" in value else value for name, value in expected.items()
    }


def test_variable_uses_reads_words_as_buildkits_lexer_does() -> None:
    from dockfix.semantics.semantic import variable_uses

    def uses(text: str, escape: str = "\\") -> list[tuple[str, bool]]:
        return [(u.name, u.guarded) for u in variable_uses(text, escape)]

    assert uses("$A/${B}:${C:-$D}") == [("A", False), ("B", False), ("C", True), ("D", False)]
    assert uses("${E+x} ${F:+y} ${G-z} ${H:?set it} ${I%.*}") == [
        ("E", True),
        ("F", True),
        ("G", True),
        ("H", False),
        ("I", False),
    ]
    assert uses("\\$ESCAPED '$SINGLE' \"$DOUBLE\" $1 ${@} cost$") == [("DOUBLE", False)]
    assert uses("`$ESCAPED \\$NOT_ESCAPED", escape="`") == [("NOT_ESCAPED", False)]
    found = variable_uses("x=${V:-d}y")
    assert [("x=${V:-d}y"[u.start : u.end]) for u in found] == ["${V:-d}"]
