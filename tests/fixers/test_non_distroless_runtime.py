"""DF303 non-distroless-runtime: display-only guidance towards distroless runtimes."""

from __future__ import annotations

from pathlib import Path

import pytest

import dockfix
from dockfix.core.catalog import all_fixers
from dockfix.core.fixer import Applicability, Finding
from dockfix.semantics.context import FixContext
from fixture_cases import ROOT

CODE = "DF303"

GO_BUILD = """\
FROM golang:1.22 AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -o /out/api ./cmd/api
"""
RUST_BUILD = """\
FROM rust:1.85-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --bin api
"""


def run(text: str, context: Path | None = None) -> list[Finding]:
    """The findings; the text must never change, even with unsafe fixes."""
    ctx = FixContext(context_dir=context)
    list(all_fixers()[CODE]().check(dockfix.parse(text), ctx))
    fixed, findings = dockfix.fix(text, context_dir=context, select=[CODE], unsafe_fixes=True,
                                  offline=True)
    assert fixed == text
    assert all(f.applicability is Applicability.DISPLAY_ONLY and f.fix is None for f in findings)
    return findings


@pytest.mark.parametrize(
    ("build", "runtime", "image"),
    [
        (GO_BUILD, "alpine:3.19", "gcr.io/distroless/static-debian13"),
        (GO_BUILD.replace("CGO_ENABLED=0 ", ""), "debian:bookworm-slim",
         "gcr.io/distroless/base-debian13"),
        (GO_BUILD.replace("golang:1.22", "golang:1.22-bookworm").replace("CGO_ENABLED=0 ", ""),
         "ubuntu:22.04", "gcr.io/distroless/base-debian12"),
        (RUST_BUILD, "debian:bookworm-slim", "gcr.io/distroless/cc-debian12"),
        (RUST_BUILD.replace("--bin api", "--target x86_64-unknown-linux-musl --bin api"),
         "alpine:3.20", "gcr.io/distroless/static-debian12"),
    ],
)
def test_points_to_the_matching_distroless_image(build: str, runtime: str, image: str) -> None:
    artifact = "/out/api" if "golang" in build else (
        "/src/target/x86_64-unknown-linux-musl/release/api" if "musl" in build
        else "/src/target/release/api"
    )
    src = build + f"\nFROM {runtime}\nCOPY --from=build {artifact} /usr/local/bin/api\n" \
        'ENTRYPOINT ["api"]\n'
    findings = run(src)
    assert len(findings) == 1
    f = findings[0]
    assert f.line == src.splitlines().index(f"FROM {runtime}") + 1
    assert f"`{image}:nonroot`" in f.message
    assert f"`{image}:debug-nonroot`" in f.reason


def test_harmless_setup_runs_user_and_metadata_are_allowed() -> None:
    src = GO_BUILD + (
        "FROM alpine:3.19\n"
        "RUN apk add --no-cache ca-certificates tzdata \\\n"
        " && addgroup -S app && adduser -S -G app app\n"
        "COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/\n"
        "COPY --from=build /out/api /app/api\n"
        "COPY config.yaml /app/config.yaml\n"
        "WORKDIR /app\nENV PORT=8080\nEXPOSE 8080\nUSER app\nHEALTHCHECK NONE\n"
        'CMD ["/app/api"]\n'
    )
    assert len(run(src)) == 1


def test_copy_into_a_directory_destination() -> None:
    src = GO_BUILD + "FROM debian:12\nCOPY --from=build /out/api /srv/\nCMD [\"/srv/api\"]\n"
    assert len(run(src)) == 1


def test_arg_driven_runtime_base() -> None:
    src = "ARG BASE=alpine:3.19\n" + GO_BUILD + (
        "FROM ${BASE}\nCOPY --from=build /out/api /api\nENTRYPOINT [\"/api\"]\n"
    )
    assert "`alpine:3.19`" in run(src)[0].message


@pytest.mark.parametrize(
    "runtime",
    [
        # the distro is used
        "FROM alpine:3.19\nRUN apk add --no-cache curl\nCOPY --from=build /out/api /api\n"
        'CMD ["/api"]\n',
        "FROM debian:bookworm-slim\nCOPY --from=build /out/api /api\n"
        "HEALTHCHECK CMD wget -qO- localhost:8080 || exit 1\nCMD [\"/api\"]\n",
        "FROM debian:bookworm-slim\nCOPY --from=build /out/api /api\nCMD /api --port $PORT\n",
        "FROM alpine:3.19\nCOPY --from=build /out/api /api\nCOPY run.sh /run.sh\n"
        'ENTRYPOINT ["/run.sh"]\n',
        "FROM alpine:3.19\nCOPY --from=build /out/api /api\nCOPY --from=build /src/web /web\n"
        'CMD ["/api"]\n',
        "FROM alpine:3.19\nCOPY --from=build /out/api /api\nSHELL [\"/bin/ash\", \"-c\"]\n"
        'CMD ["/api"]\n',
        "FROM alpine:3.19\nRUN --mount=type=cache,target=/var/cache/apk apk add tzdata\n"
        'COPY --from=build /out/api /api\nCMD ["/api"]\n',
        # already minimal, or not a distro
        "FROM gcr.io/distroless/static-debian12\nCOPY --from=build /out/api /api\n"
        'CMD ["/api"]\n',
        'FROM scratch\nCOPY --from=build /out/api /api\nCMD ["/api"]\n',
        'FROM python:3.12-slim\nCOPY --from=build /out/api /api\nCMD ["/api"]\n',
        # a binary run by name from a directory outside distroless's PATH
        "FROM alpine:3.19\nCOPY --from=build /out/api /opt/bin/api\nENV PATH=/opt/bin:$PATH\n"
        'CMD ["api"]\n',
    ],
)
def test_no_finding_when_the_stage_needs_its_distro(runtime: str) -> None:
    assert run(GO_BUILD + runtime) == []


def test_musl_linked_binary_is_not_reported() -> None:
    build = GO_BUILD.replace("golang:1.22", "golang:1.22-alpine").replace("CGO_ENABLED=0 ", "")
    src = build + 'FROM alpine:3.19\nCOPY --from=build /out/api /api\nCMD ["/api"]\n'
    assert run(src) == []


def test_rust_on_alpine_without_musl_target_is_not_reported() -> None:
    build = RUST_BUILD.replace("rust:1.85-bookworm", "rust:1.85-alpine")
    src = build + 'FROM alpine:3.19\nCOPY --from=build /src/target/release/api /api\nCMD ["/api"]\n'
    assert run(src) == []


def test_fixtures_with_findings() -> None:
    """The positive fixtures report exactly once, at the runtime FROM; the others never."""
    for case in sorted((ROOT / "DF303-non-distroless-runtime").iterdir()):
        text = (case / "Dockerfile").read_bytes().decode("utf-8")
        findings = run(text, case)
        if case.name.startswith("no-change-"):
            assert findings == [], case.name
        else:
            assert len(findings) == 1, case.name
            doc = dockfix.parse(text)
            assert findings[0].line == doc.stages[-1].from_instruction.start_line


def test_a_gradle_settings_file_is_no_runtime_asset() -> None:
    """`settings.gradle` configures the build, `settings.py` the application: only the second
    is copied into a runtime stage (review-ms found the first taken for a runtime file)."""
    from dockfix.fixers._image_paths import runtime_assets

    names = ["settings.gradle", "settings.gradle.kts", "settings.py", "config.yml", "build.gradle"]
    assert runtime_assets(names) == ["settings.py", "config.yml"]
