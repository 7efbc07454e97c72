"""DF518 undefined-var: variables BuildKit expands that nothing defines."""

from __future__ import annotations

import dockerfile  # type: ignore[import-untyped]
import pytest

import dockfix
from dockfix.core.fixer import Finding


def check(text: str) -> list[Finding]:
    outcome = dockfix.fix_outcome(text, select=["DF518"], offline=True)
    return outcome.findings


def fix(text: str) -> tuple[str, list[Finding]]:
    return dockfix.fix(text, select=["DF518"], unsafe_fixes=True, offline=True)


def test_global_arg_not_declared_again_gets_an_arg_after_the_from() -> None:
    src = (
        "ARG VERSION=1.4.2\nFROM alpine:3.20 AS app\nRUN true\n"
        "LABEL version=$VERSION\nCOPY app-${VERSION}.tar.gz /opt/\n"
    )
    [label, copy] = check(src)
    assert label.line == 4 and "global ARG" in label.message and label.fix is not None
    assert "stage `app`" in label.message
    # one declaration per stage and name: the second use says the first one's fix covers it
    assert copy.fix is None and "first use" in copy.reason
    out, left = fix(src)
    assert out == src.replace("AS app\n", "AS app\nARG VERSION\n") and left == []
    dockerfile.parse_string(out)
    assert fix(out) == (out, [])


def test_platform_argument_in_a_stage_needs_its_arg() -> None:
    src = (
        "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nARG TARGETARCH\n"
        "RUN GOARCH=$TARGETARCH go build -o /out/app-$TARGETARCH .\n"
        "FROM alpine:3.20\nCOPY --from=build /out/app-$TARGETARCH /app\n"
    )
    [found] = check(src)
    assert found.line == 5 and "global scope only" in found.message
    out, _ = fix(src)
    assert out.endswith(
        "FROM alpine:3.20\nARG TARGETARCH\nCOPY --from=build /out/app-$TARGETARCH /app\n"
    )


@pytest.mark.parametrize(
    "line",
    [
        "RUN echo $UNSET_IN_SHELL",  # the shell's, not BuildKit's
        'CMD ["sh", "-c", "exec app --port $PORT"]',
        "ENTRYPOINT exec app $ARGS",
        "HEALTHCHECK CMD wget -q -O- http://localhost:$PORT/ || exit 1",
        "ENV HOME_DIR=\\$HOME",  # escaped
        "LABEL motd='hello $USER'",  # single quotes
        "LABEL created=${BUILD_DATE:-unknown} rev=${SHA-none} x=${A:+yes} y=${B+set}",
        "ENV PATH=/opt/bin:$PATH",  # BuildKit's default PATH
        "COPY --chown=app:app . /srv/app",
        "WORKDIR $APP_HOME",  # ENV below
        "ONBUILD COPY $SRC /app",  # expanded in the child build
        "RUN --mount=type=secret,id=npm,env=NPM_TOKEN npm ci",
    ],
)
def test_not_reported(line: str) -> None:
    src = f"FROM alpine:3.20\nENV APP_HOME=/srv/app\nARG http_proxy\n{line}\n"
    assert check(src) == []


def test_heredoc_body_is_not_read() -> None:
    src = "FROM alpine:3.20\nCOPY <<EOF /etc/motd\nhello $USER\nEOF\n"
    assert check(src) == []
    assert [f.message for f in check(src.replace("/etc/motd", "/etc/$DIR/motd"))] == [
        "`$DIR` is not defined here"
    ]


def test_other_variables_are_display_only_and_say_what_was_checked() -> None:
    src = "FROM bitnami/postgresql:16\nCOPY conf/pg.conf $PG_BASE/conf/\nUSER ${APP_UID}\n"
    found = check(src)
    assert [f.line for f in found] == [2, 3]
    assert all(f.fix is None for f in found)
    assert "base image may set it with ENV" in found[0].reason
    assert fix(src)[0] == src


def test_env_expands_against_the_variables_before_it_as_buildkit_does() -> None:
    # BuildKit expands all of an ENV's words before setting any of them
    [found] = check("FROM alpine:3.20\nENV APP=/srv/app DATA=$APP/data\n")
    assert "`$APP`" in found.message
    assert check("FROM alpine:3.20\nENV APP=/srv/app\nENV DATA=$APP/data\n") == []


def test_variables_of_the_parent_stage_and_stage_args_count() -> None:
    src = (
        "ARG PY=3.12\nFROM python:${PY}-slim AS base\nARG PY\nENV APP=/srv\n"
        "FROM base AS app\nWORKDIR $APP\nLABEL python=$PY\n"
        "COPY --chmod=${MODE} run.sh /\n"
    )
    [found] = check(src)
    assert found.line == 8 and "`$MODE`" in found.message


def test_check_skip_directive_switches_it_off() -> None:
    src = "# check=skip=UndefinedVar\nFROM alpine:3.20\nUSER $APP_UID\n"
    assert check(src) == []


def test_new_args_join_the_args_below_the_from_in_the_order_of_use() -> None:
    src = (
        "ARG VERSION=1\nARG COMMIT=x\nFROM alpine:3.20\nARG LABEL_PREFIX=org.example.$VERSION\n"
        "LABEL version=$VERSION revision=$COMMIT\n"
    )
    out, left = fix(src)
    # after the ARG whose value names VERSION: declared above it, it would change its value
    assert out == src.replace("$VERSION\nLABEL", "$VERSION\nARG VERSION\nARG COMMIT\nLABEL")
    assert left == []


def test_a_secret_looking_global_arg_is_not_declared_in_the_stage() -> None:
    # the new ARG would itself be DF515's finding (a secret kept in the image's history)
    src = "ARG NPM_TOKEN\nFROM node:20-alpine\nCOPY .npmrc.$NPM_TOKEN /root/.npmrc\n"
    [found] = check(src)
    assert found.fix is None and "secret" in found.reason
    assert dockfix.fix(src, select=["DF518", "DF515"], unsafe_fixes=True)[0] == src


def test_a_run_mount_option_is_expanded_by_buildkit() -> None:
    """BuildKit expands the `--mount` options of a RUN (its UndefinedVar check names them),
    not the command, which is the shell's."""
    src = "FROM alpine:3.20\nRUN --mount=type=cache,target=$CACHE_DIR echo $NOT_CHECKED\n"
    assert [f.message for f in check(src)] == ["`$CACHE_DIR` is not defined here"]
    declared = src.replace("RUN", "ARG CACHE_DIR=/cache\nRUN")
    assert check(declared) == []
