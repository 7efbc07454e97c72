"""DF302 single-stage-toolchain: splitting a build-and-run toolchain image."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dockfix
from dockfix.core.buildkit_check import buildkit_rejects
from dockfix.core.catalog import all_fixers
from dockfix.core.fixer import Applicability, Finding
from dockfix.semantics.context import FixContext

CODE = "DF302"
# A build context with nothing in it (the default for inline tests).
# Removed when the test process exits.
_EMPTY_DIR = tempfile.TemporaryDirectory(prefix="dockfix-df302-")
EMPTY_CONTEXT = Path(_EMPTY_DIR.name)


def run(
    text: str, context: Path | None = EMPTY_CONTEXT, files: dict[str, str] | None = None,
    *, unsafe: bool = False, name: str = "Dockerfile",
) -> tuple[str, list[Finding]]:
    """Fix with DF302 only; the fixer must not raise (the engine would hide that)."""
    assert not files or context is not EMPTY_CONTEXT
    if context is not None:
        for rel, content in (files or {}).items():
            p = context / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(content)
    path = (context or Path("/nonexistent")) / name
    ctx = FixContext(path=path, context_dir=context)
    list(all_fixers()[CODE]().check(dockfix.parse(text), ctx))
    fixed, findings = dockfix.fix(
        text, path=path, context_dir=context, select=[CODE], unsafe_fixes=unsafe, offline=True
    )
    if fixed != text:
        assert buildkit_rejects(fixed) is None
        again, left = dockfix.fix(fixed, path=path, context_dir=context, select=[CODE],
                                  unsafe_fixes=unsafe, offline=True)
        assert again == fixed and left == [], "not idempotent"
    return fixed, findings


GO = """\
FROM golang:1.22-bookworm
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -o /out/server ./cmd/server
EXPOSE 8080
CMD ["/out/server"]
"""


def test_go_split_into_build_and_distroless_static() -> None:
    out, left = run(GO)
    assert out == GO
    assert [f.applicability for f in left] == [Applicability.UNSAFE]
    assert "keeps the whole Go toolchain" in left[0].message
    out, left = run(GO, unsafe=True)
    assert out == (
        "FROM golang:1.22-bookworm AS build\n"
        "WORKDIR /src\n"
        "COPY . .\n"
        "RUN CGO_ENABLED=0 go build -o /out/server ./cmd/server\n"
        "\n"
        "FROM gcr.io/distroless/static-debian12:nonroot\n"
        "WORKDIR /src\n"
        "COPY --from=build /out/server /out/server\n"
        "EXPOSE 8080\n"
        'CMD ["/out/server"]\n'
    )
    assert left == []


def test_cgo_left_on_gets_the_glibc_base_of_the_newest_debian() -> None:
    src = GO.replace("golang:1.22-bookworm", "golang:1.22").replace("CGO_ENABLED=0 ", "")
    out, _ = run(src, unsafe=True)
    assert "\nFROM gcr.io/distroless/base-debian13:nonroot\n" in out


def test_cgo_disabled_by_env_and_export() -> None:
    for build in ("ENV CGO_ENABLED=0\nRUN go build", "RUN export CGO_ENABLED=0 && go build"):
        src = GO.replace("RUN CGO_ENABLED=0 go build", build)
        out, _ = run(src, unsafe=True)
        assert "FROM gcr.io/distroless/static-debian12:nonroot" in out


def test_alpine_with_cgo_links_musl_and_is_display_only() -> None:
    src = GO.replace("golang:1.22-bookworm", "golang:1.22-alpine").replace("CGO_ENABLED=0 ", "")
    out, left = run(src, unsafe=True)
    assert out == src
    assert left[0].fix is None
    assert "musl" in left[0].reason


def test_named_stage_keeps_its_name_and_binary_on_path(tmp_path: Path) -> None:
    src = (
        "ARG GO_VERSION=1.22\n"
        "FROM golang:${GO_VERSION} AS dev\n"
        "WORKDIR /app\nCOPY . .\n"
        "RUN CGO_ENABLED=0 go install ./cmd/api\n"
        'CMD ["api"]\n'
    )
    out, _ = run(src, tmp_path, {"go.mod": "module example.com/api\n"}, unsafe=True)
    assert out == src.replace(
        'CMD ["api"]\n',
        "\nFROM gcr.io/distroless/static-debian13:nonroot\nWORKDIR /app\n"
        "COPY --from=dev /go/bin/api /usr/local/bin/api\n"
        'CMD ["api"]\n',
    )


def test_stage_name_does_not_collide() -> None:
    src = "FROM alpine:3.19 AS build\nRUN echo hi\n" + GO
    out, _ = run(src, unsafe=True)
    assert "FROM golang:1.22-bookworm AS builder\n" in out
    assert "COPY --from=builder /out/server /out/server\n" in out


def test_rust_cc_with_relative_entrypoint_and_carried_env(tmp_path: Path) -> None:
    files = {
        "Cargo.toml": '[package]\nname = "orders"\nversion = "0.1.0"\n',
        "src/main.rs": "fn main() {}\n",
    }
    src = (
        "FROM rust:1.85\n"
        "# hadolint ignore=DL3048\n"
        "ENV RUST_LOG=info\n"
        "WORKDIR /usr/src/orders\nCOPY . .\nRUN cargo build --release\n"
        'ENTRYPOINT ["./target/release/orders"]\n'
    )
    out, _ = run(src, tmp_path, files, unsafe=True)
    assert out.endswith(
        "RUN cargo build --release\n"
        "\n"
        "FROM gcr.io/distroless/cc-debian13:nonroot\n"
        "WORKDIR /usr/src/orders\n"
        "# hadolint ignore=DL3048\n"
        "ENV RUST_LOG=info\n"
        "COPY --from=build /usr/src/orders/target/release/orders "
        "/usr/src/orders/target/release/orders\n"
        'ENTRYPOINT ["./target/release/orders"]\n'
    )


def test_crlf_lowercase_and_missing_final_newline() -> None:
    src = (
        "from golang:1.22\r\nworkdir /src\r\ncopy . .\r\n"
        "run CGO_ENABLED=0 go build -o /bin/app .\r\ncmd [\"/bin/app\"]"
    )
    out, _ = run(src, unsafe=True)
    assert out == (
        "from golang:1.22 as build\r\nworkdir /src\r\ncopy . .\r\n"
        "run CGO_ENABLED=0 go build -o /bin/app .\r\n\r\n"
        "from gcr.io/distroless/static-debian13:nonroot\r\nworkdir /src\r\n"
        "copy --from=build /bin/app /bin/app\r\ncmd [\"/bin/app\"]"
    )


def test_build_as_last_line_without_newline() -> None:
    src = (
        'FROM golang:1.22\nWORKDIR /src\nCMD ["/bin/app"]\nCOPY . .\n'
        "RUN CGO_ENABLED=0 go build -o /bin/app ."
    )
    out, _ = run(src, unsafe=True)
    assert out.endswith(
        "RUN CGO_ENABLED=0 go build -o /bin/app .\n\n"
        "FROM gcr.io/distroless/static-debian13:nonroot\nWORKDIR /src\n"
        'CMD ["/bin/app"]\nCOPY --from=build /bin/app /bin/app'
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (("EXPOSE 8080\n", "EXPOSE 8080\nRUN mkdir /data\n"),
         "the RUN at line 6 runs after the build"),
        (('CMD ["/out/server"]', "CMD /out/server --port $PORT"), "shell-form `CMD`"),
        (('CMD ["/out/server"]', 'CMD ["go", "run", "./cmd/server"]'), "runs `go`"),
        (('CMD ["/out/server"]', 'CMD ["/out/server", "-config", "/src/config.yaml"]'),
         "uses `/src/config.yaml`"),
        (("EXPOSE 8080\n", "EXPOSE 8080\nUSER app\n"), "`USER app` names a user"),
        (("EXPOSE 8080\n", "EXPOSE 8080\nCOPY --chown=app:app conf /etc/app\n"),
         "`--chown=app:app`"),
        (("EXPOSE 8080\n", "EXPOSE 8080\nHEALTHCHECK CMD curl -f http://localhost:8080/\n"),
         "HEALTHCHECK at line 6"),
        (("EXPOSE 8080\n", "EXPOSE 80\n"), "port 80 as root"),
        (("WORKDIR /src\n", "WORKDIR /src\nENV PATH=/src/bin:$PATH\n"), "build variable"),
        (("EXPOSE 8080\n", "EXPOSE 8080\nENV CACHE=$GOPATH/cache\n"), "`$GOPATH` at line 6"),
        (("WORKDIR /src\n", "WORKDIR /src\nCOPY config.yaml /etc/svc/config.yaml\n"),
         "outside the source tree"),
        (("WORKDIR /src\n", "WORKDIR /src\nSHELL [\"/bin/bash\", \"-c\"]\n"), "`SHELL`"),
        (("WORKDIR /src\n", "WORKDIR /src\nRUN apt-get install -y libpq-dev\n"),
         "`libpq-dev`"),
    ],
)
def test_display_only_when_the_split_may_not_work(change: tuple[str, str], reason: str) -> None:
    src = GO.replace(*change).replace("CGO_ENABLED=0 ", "" if "libpq" in change[1] else
                                      "CGO_ENABLED=0 ")
    out, left = run(src, unsafe=True)
    assert out == src
    assert len(left) == 1 and left[0].fix is None
    assert reason in left[0].reason


def test_privileged_port_is_fine_when_the_runtime_user_stays_root() -> None:
    src = GO.replace("EXPOSE 8080\n", "EXPOSE 80\nUSER root\n")
    out, _ = run(src, unsafe=True)
    assert "FROM gcr.io/distroless/static-debian12:nonroot" in out


def test_args_used_after_the_build_are_declared_in_the_runtime_stage() -> None:
    src = GO.replace("WORKDIR /src\n", "WORKDIR /src\nARG VERSION=dev\nARG UNUSED=1\n").replace(
        "EXPOSE 8080\n", "EXPOSE 8080\nLABEL org.opencontainers.image.version=$VERSION\n")
    out, _ = run(src, unsafe=True)
    runtime = out.split("\n\n", 1)[1]
    assert "ARG VERSION=dev\n" in runtime and "UNUSED" not in runtime


def test_working_directory_of_a_golang_stage_without_workdir_is_kept() -> None:
    src = GO.replace("WORKDIR /src\n", "")
    out, _ = run(src, unsafe=True)
    assert "FROM gcr.io/distroless/static-debian12:nonroot\nWORKDIR /go\n" in out


def test_numeric_user_before_the_build_is_carried() -> None:
    src = GO.replace("WORKDIR /src\n", "WORKDIR /src\nUSER 1000:1000\n")
    out, _ = run(src, unsafe=True)
    assert "WORKDIR /src\nUSER 1000:1000\nCOPY --from=build /out/server /out/server\n" in out


def test_without_a_build_context_the_split_is_display_only() -> None:
    out, left = run(GO, None, unsafe=True)
    assert out == GO
    assert "build context is not available" in left[0].reason


def test_templates_in_the_source_tree_are_display_only(tmp_path: Path) -> None:
    files = {"go.mod": "module x\n", "templates/index.html": "", "cmd/server/main.go": ""}
    out, left = run(GO, tmp_path, files, unsafe=True)
    assert out == GO
    assert "`templates`" in left[0].reason


@pytest.mark.parametrize(
    ("base", "build", "cmd", "code"),
    [
        ("node:20", "npm ci && npm run build", '["node", "dist/main.js"]', "DF305"),
        ("maven:3.9-eclipse-temurin-21", "mvn -B package", '["java", "-jar", "app.jar"]', "DF306"),
        ("gradle:8-jdk21", "gradle bootJar --no-daemon", '["java", "-jar", "a.jar"]', "DF306"),
        ("mcr.microsoft.com/dotnet/sdk:8.0", "dotnet publish -c Release -o out",
         '["dotnet", "out/Api.dll"]', "DF307"),
    ],
)
def test_other_ecosystems_are_left_to_their_own_rules(
    base: str, build: str, cmd: str, code: str
) -> None:
    src = f"FROM {base}\nWORKDIR /app\nCOPY . .\nRUN {build}\nCMD {cmd}\n"
    assert run(src, unsafe=True) == (src, [])
    _, findings = dockfix.fix(src, path=EMPTY_CONTEXT / "Dockerfile", context_dir=EMPTY_CONTEXT,
                              select=["DF302", code], offline=True)
    assert [f.code for f in findings] == [code]


@pytest.mark.parametrize(
    "src",
    [
        GO.replace('CMD ["/out/server"]\n', ""),  # no start command: a build image
        GO.replace("RUN CGO_ENABLED=0 go build -o /out/server ./cmd/server", "RUN make"),
        "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"server.js\"]\n",
        "FROM golang:1.22 AS b\nRUN go build -o /x .\nFROM b\nCMD [\"/x\"]\n",
        "FROM python:3.12\nRUN pip install .\nCMD [\"app\"]\n",
        "FROM gcr.io/distroless/static-debian12\nCOPY app /app\nCMD [\"/app\"]\n",
        # Windows: a Linux runtime would not run the binary
        "FROM golang:1.22-windowsservercore-ltsc2022\nWORKDIR C:\\src\nCOPY . .\n"
        "RUN go build -o C:\\out\\server.exe .\nCMD [\"C:\\\\out\\\\server.exe\"]\n",
        "# escape=`\nFROM golang:1.22\nWORKDIR /src\nCOPY . .\n"
        "RUN CGO_ENABLED=0 go build -o /out/server .\nCMD [\"/out/server\"]\n",
    ],
)
def test_no_finding(src: str) -> None:
    assert run(src, unsafe=True) == (src, [])


@pytest.mark.parametrize("name", ["Dockerfile.dev", "dev.Dockerfile", "Dockerfile.development"])
def test_development_dockerfiles_are_not_reported(tmp_path: Path, name: str) -> None:
    assert run(GO, tmp_path, {}, unsafe=True, name=name) == (GO, [])


def test_output_keeps_root_user_fixer_quiet() -> None:
    """The `:nonroot` distroless base runs as uid 65532: DF201 must find nothing to add."""
    fixers = all_fixers()
    if "DF201" not in fixers:
        pytest.skip("DF201 is not available")
    out, _ = run(GO, unsafe=True)
    fixed, left = dockfix.fix(out, select=["DF201"], unsafe_fixes=True, offline=True)
    assert fixed == out and left == []


_NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=10)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    out_dir=st.lists(_NAME, min_size=1, max_size=3),
    binary=_NAME,
    keyword_case=st.sampled_from(["upper", "lower"]),
    eol=st.sampled_from(["\n", "\r\n"]),
)
def test_runtime_stage_copies_exactly_the_binary_cmd_runs(
    out_dir: list[str], binary: str, keyword_case: str, eol: str
) -> None:
    path = "/" + "/".join([*out_dir, binary])
    lines = ["FROM golang:1.22", "WORKDIR /src", "COPY . .",
             f"RUN CGO_ENABLED=0 go build -o {path} .", f'CMD ["{path}"]']
    if keyword_case == "lower":
        lines = [ln.split(" ", 1)[0].lower() + " " + ln.split(" ", 1)[1] for ln in lines]
    src = eol.join(lines) + eol
    out, _ = run(src, unsafe=True)
    doc = dockfix.parse(out)
    final = doc.stages[-1]
    assert final.base == "gcr.io/distroless/static-debian13:nonroot"
    copies = [i for i in final.instructions if i.keyword == "COPY"]
    assert [c.args for c in copies] == [f"{path} {path}"]
    assert copies[0].flag("from") is not None and copies[0].flag("from").value == "build"
    assert eol == "\n" or "\n" not in out.replace("\r\n", "")


_LEDGER = (
    "FROM {image}\nWORKDIR /usr/src/ledger\nCOPY . .\nRUN cargo install --path . --locked\n"
    'EXPOSE 8080\nCMD ["ledger"]\n'
)
_LOCK = 'version = 3\n\n[[package]]\nname = "{crate}"\nversion = "0.6.1"\n'


@pytest.mark.parametrize(
    ("image", "crate", "manifest_extra", "why"),
    [
        # diesel's postgres backend: pq-sys links the full image's libpq.so.5
        ("rust:1.79-bookworm", "pq-sys", "", "Cargo.lock lists `pq-sys`, which links"),
        ("rust:1.79", "curl-sys", "", "`libcurl`; the distroless runtime does not have it"),
        ("rust:1.79", "libsqlite3-sys", "", "`libsqlite3`"),
        # built into the binary, or no system library to find on -slim: the split is offered
        ("rust:1.79", "libsqlite3-sys", 'rusqlite = { version = "0.31", features = ["bundled"] }', None),
        ("rust:1.79-slim-bookworm", "pq-sys", "", None),
    ],
)
def test_a_crate_linking_a_library_of_the_full_rust_image_is_display_only(
    tmp_path: Path, image: str, crate: str, manifest_extra: str, why: str | None
) -> None:
    files = {
        "Cargo.toml": f'[package]\nname = "ledger"\nversion = "0.3.0"\n\n[dependencies]\n{manifest_extra}\n',
        "Cargo.lock": _LOCK.format(crate=crate),
        "src/main.rs": "fn main() {}\n",
    }
    src = _LEDGER.format(image=image)
    out, findings = run(src, tmp_path, files, unsafe=True)
    if why is None:
        assert out != src
        return
    assert out == src
    assert why in findings[0].reason


def test_a_volume_the_service_writes_to_keeps_the_finding_display_only() -> None:
    # run as root, the original writes its SQLite file in the volume; uid 65532 could not
    src = GO.replace("EXPOSE 8080\n", "VOLUME /var/lib/linkshort\nEXPOSE 8080\n")
    out, findings = run(src, unsafe=True)
    assert out == src
    assert "`VOLUME /var/lib/linkshort` at line 5" in findings[0].reason
    # with the runtime part run as root again, the volume stays writable
    as_root = src.replace('CMD ["/out/server"]', 'USER root\nCMD ["/out/server"]')
    out, _ = run(as_root, unsafe=True)
    assert out != as_root
