"""DF301 copy-whole-build-dir: narrowing `COPY --from` of a build tree to its artifact."""

from __future__ import annotations

import posixpath
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

CODE = "DF301"
RUST_MAIN = "fn main() {}\n"
# A build context with nothing in it (the default for inline tests).
# Removed when the test process exits.
_EMPTY_DIR = tempfile.TemporaryDirectory(prefix="dockfix-df301-")
EMPTY_CONTEXT = Path(_EMPTY_DIR.name)


def cargo_toml(name: str, bins: tuple[str, ...] = ()) -> str:
    text = f'[package]\nname = "{name}"\nversion = "0.1.0"\n'
    for b in bins:
        text += f'\n[[bin]]\nname = "{b}"\npath = "src/bin/{b}.rs"\n'
    return text


def run(
    text: str,
    context: Path | None = EMPTY_CONTEXT,
    files: dict[str, str] | None = None,
    *,
    unsafe: bool = False,
) -> tuple[str, list[Finding]]:
    """Fix with DF301 only; the fixer must not raise (the engine would hide that)."""
    assert not files or context is not EMPTY_CONTEXT
    if context is not None:
        for rel, content in (files or {}).items():
            p = context / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(content)
    path = context / "Dockerfile" if context else None
    ctx = FixContext(path=path, context_dir=context)
    list(all_fixers()[CODE]().check(dockfix.parse(text), ctx))

    def fix(source: str) -> tuple[str, list[Finding]]:
        return dockfix.fix(
            source,
            path=path,
            context_dir=context,
            select=[CODE],
            unsafe_fixes=unsafe,
            offline=True,
        )

    fixed, findings = fix(text)
    if fixed != text:
        assert buildkit_rejects(fixed) is None
        again, left = fix(fixed)
        assert again == fixed and left == [], "not idempotent"
    return fixed, findings


RUST_BUILDER = """\
FROM rust:1.85 AS builder
WORKDIR /build
COPY . .
RUN cargo build --release
"""


# --- Cargo ---------------------------------------------------------------------------------


def test_cargo_target_dir_narrowed_to_the_manifest_binary(tmp_path: Path) -> None:
    src = RUST_BUILDER + (
        "FROM gcr.io/distroless/cc-debian12:nonroot\n"
        "COPY --from=builder /build/target /app\n"
        'ENTRYPOINT ["/app/release/api"]\n'
    )
    files = {"Cargo.toml": cargo_toml("api"), "src/main.rs": RUST_MAIN}
    out, left = run(src, tmp_path, files)
    assert out == src  # unsafe: not applied by default
    assert [f.applicability for f in left] == [Applicability.UNSAFE]
    assert "Cargo's whole target directory" in left[0].message
    out, left = run(src, tmp_path, unsafe=True)
    assert out == src.replace(
        "COPY --from=builder /build/target /app",
        "COPY --from=builder /build/target/release/api /app/release/api",
    )
    assert left == []


def test_bin_names_from_manifest_bins_and_src_bin(tmp_path: Path) -> None:
    files = {
        "Cargo.toml": cargo_toml("svc", ("api",)),
        "src/main.rs": RUST_MAIN,
        "src/bin/api.rs": RUST_MAIN,
        "src/bin/seed.rs": RUST_MAIN,
    }
    src = RUST_BUILDER + (
        "FROM debian:bookworm-slim\n"
        "COPY --from=builder /build/target/release /usr/local/bin\n"
        'CMD ["seed"]\n'
    )
    out, _ = run(src, tmp_path, files, unsafe=True)
    assert "COPY --from=builder /build/target/release/seed /usr/local/bin/seed\n" in out


def test_several_binaries_without_a_named_one_is_display_only(tmp_path: Path) -> None:
    files = {"Cargo.toml": cargo_toml("svc", ("api", "worker")), "src/main.rs": RUST_MAIN}
    src = RUST_BUILDER + (
        "FROM debian:bookworm-slim\n"
        "COPY --from=builder /build/target/release /usr/local/bin\n"
        'CMD ["/bin/sh", "-c", "exec \\"$ROLE\\""]\n'
    )
    out, left = run(src, tmp_path, files, unsafe=True)
    assert out == src
    assert left[0].fix is None
    assert "several binaries (api, worker, svc)" in left[0].reason


def test_explicit_bin_needs_no_manifest() -> None:
    src = (
        "FROM rust:1.85 AS b\nWORKDIR /src\nCOPY . .\n"
        "RUN cargo build --release --bin api\n"
        "FROM debian:bookworm-slim\nCOPY --from=b /src/target/ /opt/\n"
        'CMD ["/opt/release/api"]\n'
    )
    out, _ = run(src, unsafe=True)
    assert "COPY --from=b /src/target/release/api /opt/release/api\n" in out


@pytest.mark.parametrize(
    ("build", "artifact"),
    [
        (
            "cargo build --release --target aarch64-unknown-linux-gnu --bin api",
            "/src/target/aarch64-unknown-linux-gnu/release/api",
        ),
        ("cargo build --profile dist --bin api", "/src/target/dist/api"),
        ("cargo build --bin api", "/src/target/debug/api"),
        ("CARGO_TARGET_DIR=/cache/t cargo build -r --bin api", "/cache/t/release/api"),
        ("cargo build --release --target-dir out --bin api", "/src/out/release/api"),
    ],
)
def test_target_triple_profile_and_target_dir(build: str, artifact: str) -> None:
    tree = posixpath.dirname(posixpath.dirname(artifact))
    if "aarch64" in artifact:
        tree = posixpath.dirname(tree)
    src = (
        f"FROM rust:1.85 AS b\nWORKDIR /src\nCOPY . .\nRUN {build}\n"
        f"FROM debian:bookworm-slim\nCOPY --from=b {tree} /app\n"
        f'CMD ["/app{artifact[len(tree) :]}"]\n'
    )
    out, left = run(src, unsafe=True)
    assert f"COPY --from=b {artifact} /app{artifact[len(tree) :]}\n" in out, left


def test_cargo_target_dir_env_and_cargo_config(tmp_path: Path) -> None:
    files = {
        "Cargo.toml": cargo_toml("api"),
        "src/main.rs": RUST_MAIN,
        ".cargo/config.toml": '[build]\ntarget-dir = "build-out"\n',
    }
    src = RUST_BUILDER.replace("/build\n", "/w\n") + (
        "FROM debian:bookworm-slim\nCOPY --from=builder /w/build-out /app\n"
        'CMD ["/app/release/api"]\n'
    )
    out, _ = run(src, tmp_path, files, unsafe=True)
    assert "COPY --from=builder /w/build-out/release/api /app/release/api\n" in out
    src_env = src.replace("RUN cargo", "ENV CARGO_TARGET_DIR=/t\nRUN cargo").replace(
        "/w/build-out /app", "/t /app"
    )
    out, _ = run(src_env, tmp_path, unsafe=True)
    assert "COPY --from=builder /t/release/api /app/release/api\n" in out


def test_workspace_member_package_selected_with_p(tmp_path: Path) -> None:
    files = {
        "Cargo.toml": '[workspace]\nmembers = ["crates/*"]\n',
        "crates/api/Cargo.toml": cargo_toml("api"),
        "crates/api/src/main.rs": RUST_MAIN,
        "crates/jobs/Cargo.toml": cargo_toml("jobs"),
        "crates/jobs/src/main.rs": RUST_MAIN,
    }
    src = RUST_BUILDER.replace("--release", "--release -p jobs") + (
        "FROM debian:bookworm-slim\nCOPY --from=builder /build/target/release /srv\n"
        'CMD ["/srv/jobs"]\n'
    )
    out, _ = run(src, tmp_path, files, unsafe=True)
    assert "COPY --from=builder /build/target/release/jobs /srv/jobs\n" in out


def test_member_crate_built_in_its_directory_uses_the_workspace_target(tmp_path: Path) -> None:
    files = {
        "Cargo.toml": '[workspace]\nmembers = ["api"]\n',
        "api/Cargo.toml": cargo_toml("api"),
        "api/src/main.rs": RUST_MAIN,
    }
    src = (
        "FROM rust:1.85 AS b\nWORKDIR /ws\nCOPY . .\nRUN cd api && cargo build --release\n"
        'FROM debian:bookworm-slim\nCOPY --from=b /ws/target /app\nCMD ["/app/release/api"]\n'
    )
    out, _ = run(src, tmp_path, files, unsafe=True)
    assert "COPY --from=b /ws/target/release/api /app/release/api\n" in out


def test_manifest_missing_from_context_is_display_only(tmp_path: Path) -> None:
    src = RUST_BUILDER + "FROM debian:bookworm-slim\nCOPY --from=builder /build/target /app\n"
    out, left = run(src, tmp_path, {}, unsafe=True)
    assert out == src
    assert "Cargo.toml that is not in the build context" in left[0].reason


# --- destination semantics ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "dest", "new_source", "new_dest"),
    [
        (
            "/build/target/release",
            "/usr/local/bin",
            "/build/target/release/api",
            "/usr/local/bin/api",
        ),
        (
            "/build/target/release/",
            "/usr/local/bin/",
            "/build/target/release/api",
            "/usr/local/bin/api",
        ),
        ("build/target", ".", "build/target/release/api", "./release/api"),
        ("/build/target", "./", "/build/target/release/api", "./release/api"),
        ("/build/target", "bin", "/build/target/release/api", "bin/release/api"),
        ("/build", "/", "/build/target/release/api", "/target/release/api"),
    ],
)
def test_the_artifact_keeps_its_path_in_the_image(
    source: str, dest: str, new_source: str, new_dest: str
) -> None:
    src = (
        "FROM rust:1.85 AS builder\nWORKDIR /build\nCOPY . .\n"
        "RUN cargo build --release --bin api\n"
        f"FROM debian:bookworm-slim\nWORKDIR /app\nCOPY --from=builder {source} {dest}\n"
    )
    out, _ = run(src, unsafe=True)
    assert out.endswith(f"COPY --from=builder {new_source} {new_dest}\n")


def test_json_form_is_rewritten_as_json() -> None:
    src = (
        "FROM golang:1.22 AS b\nWORKDIR /src\nCOPY . .\nRUN go build -o bin/app ./cmd/app\n"
        'FROM alpine:3.19\nCOPY --from=b ["/src", "/srv/app"]\nCMD ["/srv/app/bin/app"]\n'
    )
    out, _ = run(src, unsafe=True)
    assert 'COPY --from=b ["/src/bin/app", "/srv/app/bin/app"]\n' in out


def test_continuation_and_comment_inside_the_copy_survive() -> None:
    src = (
        "FROM golang:1.22 AS b\nWORKDIR /src\nCOPY . .\nRUN go build -o app .\n"
        "FROM alpine:3.19\nCOPY --from=b \\\n# the whole tree\n    /src \\\n    /app\n"
        'CMD ["/app/app"]\n'
    )
    out, _ = run(src, unsafe=True)
    assert "COPY --from=b \\\n# the whole tree\n    /src/app \\\n    /app/app\n" in out


def test_crlf_bom_and_missing_final_newline_are_kept() -> None:
    src = (
        "\ufefffrom golang:1.22 as b\r\nworkdir /src\r\ncopy . .\r\n"
        "run go build -o server ./cmd/server\r\n"
        'from alpine:3.19\r\ncopy --from=b /src /app\r\ncmd ["/app/server"]'
    )
    out, _ = run(src, unsafe=True)
    assert out == src.replace("copy --from=b /src /app", "copy --from=b /src/server /app/server")


def test_numeric_from_reference() -> None:
    src = (
        "FROM golang:1.22\nWORKDIR /go/src/app\nCOPY . .\nRUN go build -o /go/src/app/svc .\n"
        'FROM alpine:3.19\nCOPY --from=0 /go /go\nCMD ["/go/src/app/svc"]\n'
    )
    out, _ = run(src, unsafe=True)
    assert "COPY --from=0 /go/src/app/svc /go/src/app/svc\n" in out


# --- Go -------------------------------------------------------------------------------------


def test_go_binary_name_from_module_path_with_major_version(tmp_path: Path) -> None:
    files = {"go.mod": "module github.com/acme/shop/v2\n\ngo 1.22\n", "main.go": "package main\n"}
    src = (
        "FROM golang:1.22 AS b\nWORKDIR /src\nCOPY . .\nRUN go build\n"
        'FROM alpine:3.19\nCOPY --from=b /src /app\nCMD ["/app/shop"]\n'
    )
    out, _ = run(src, tmp_path, files, unsafe=True)
    assert "COPY --from=b /src/shop /app/shop\n" in out


def test_go_output_dir_with_slash_and_cd() -> None:
    src = (
        "FROM golang:1.22 AS b\nWORKDIR /src\nCOPY . .\n"
        "RUN cd services && go build -o ../bin/ ./cmd/gateway\n"
        'FROM alpine:3.19\nCOPY --from=b /src /app\nCMD ["/app/bin/gateway"]\n'
    )
    out, _ = run(src, unsafe=True)
    assert "COPY --from=b /src/bin/gateway /app/bin/gateway\n" in out


def test_go_output_from_arg_default() -> None:
    src = (
        "ARG APP=billing\nFROM golang:1.22 AS b\nARG APP\nWORKDIR /src\nCOPY . .\n"
        "RUN go build -o /src/$APP ./cmd/$APP\n"
        'FROM alpine:3.19\nCOPY --from=b /src /app\nCMD ["/app/billing"]\n'
    )
    out, _ = run(src, unsafe=True)
    assert "COPY --from=b /src/billing /app/billing\n" in out


def test_unknown_variable_in_output_is_display_only() -> None:
    src = (
        "FROM golang:1.22 AS b\nARG APP\nWORKDIR /src\nCOPY . .\n"
        "RUN go build -o /src/$APP .\n"
        "FROM alpine:3.19\nCOPY --from=b /src /app\n"
    )
    out, left = run(src, unsafe=True)
    assert out == src
    assert left[0].fix is None
    assert "variable whose value is unknown" in left[0].reason


def test_project_tree_without_a_build_context_is_display_only() -> None:
    src = (
        "FROM golang:1.22 AS b\nWORKDIR /src\nCOPY . .\nRUN go build -o app .\n"
        'FROM alpine:3.19\nCOPY --from=b /src /srv\nCMD ["/srv/app"]\n'
    )
    out, left = run(src, None, unsafe=True)
    assert out == src
    assert "build context is not available" in left[0].reason
    # Cargo's target directory holds only build outputs: no context needed.
    src = (
        "FROM rust:1.85 AS b\nWORKDIR /src\nCOPY . .\nRUN cargo build -r --bin api\n"
        'FROM debian:12\nCOPY --from=b /src/target /srv\nCMD ["/srv/release/api"]\n'
    )
    out, _ = run(src, None, unsafe=True)
    assert "COPY --from=b /src/target/release/api /srv/release/api\n" in out


def test_dedicated_output_dir_is_not_a_build_tree() -> None:
    src = (
        "FROM golang:1.22 AS b\nWORKDIR /src\nCOPY . .\nRUN go build -o /out/app .\n"
        'FROM alpine:3.19\nCOPY --from=b /out /usr/local/bin\nCMD ["app"]\n'
    )
    assert run(src, unsafe=True) == (src, [])


# --- what stops the narrowing ---------------------------------------------------------------


GO_TREE = (
    "FROM golang:1.22 AS b\nWORKDIR /src\nCOPY . .\nRUN CGO_ENABLED=0 go build -o server .\n"
    "FROM alpine:3.19\n"
)


@pytest.mark.parametrize(
    ("runtime", "reason"),
    [
        (
            'COPY --from=b /src /app\nCMD ["/app/server", "-c", "/app/config.yaml"]\n',
            "uses `/app/config.yaml` from the copied tree",
        ),
        (
            'COPY --from=b /src /app\nWORKDIR /app\nCMD ["./server", "--env", ".env"]\n',
            "uses `/app/.env`",
        ),
        ("COPY --from=b /src /app /extra/\n", "several sources"),
        ("COPY --from=b --parents /src /app\n", "`--parents`"),
        (
            "COPY --from=b /src /app\nFROM alpine:3.19\nCOPY --from=1 /app/migrations /m\n",
            "uses `/app/migrations`",
        ),
    ],
)
def test_display_only_cases(runtime: str, reason: str) -> None:
    src = GO_TREE + runtime
    out, left = run(src, unsafe=True)
    assert out == src
    assert left and left[0].fix is None
    assert reason in left[0].reason


def test_labels_and_env_names_are_not_paths() -> None:
    src = GO_TREE + (
        "COPY --from=b /src /app\nWORKDIR /app\n"
        "LABEL org.opencontainers.image.title=server.v1\nENV APP_NAME=svc.prod\n"
        'CMD ["/app/server"]\n'
    )
    out, _ = run(src, unsafe=True)
    assert "COPY --from=b /src/server /app/server\n" in out


def test_runtime_assets_in_the_tree_are_display_only(tmp_path: Path) -> None:
    files = {"go.mod": "module x\n", "main.go": "package main\n", "migrations/1.sql": ""}
    src = GO_TREE + 'COPY --from=b /src /app\nCMD ["/app/server"]\n'
    out, left = run(src, tmp_path, files, unsafe=True)
    assert out == src
    assert "`migrations`" in left[0].reason


def test_dockerignored_assets_do_not_count(tmp_path: Path) -> None:
    files = {
        "go.mod": "module x\n",
        "main.go": "package main\n",
        "static/a.css": "",
        ".dockerignore": "static\n",
    }
    src = GO_TREE + 'COPY --from=b /src /app\nCMD ["/app/server"]\n'
    out, _ = run(src, tmp_path, files, unsafe=True)
    assert "COPY --from=b /src/server /app/server\n" in out


@pytest.mark.parametrize(
    "copy",
    [
        "COPY --from=b / /\n",  # flattening
        "COPY --from=nginx:1.27 /etc/nginx /etc/nginx\n",  # an image, not a stage
        "COPY --from=b /src/server /usr/local/bin/server\n",  # already narrow
        "COPY --from=b /src/*.go /app/\n",  # a wildcard: not the tree
        "COPY /src /app\n",  # from the context
    ],
)
def test_no_finding(copy: str) -> None:
    src = GO_TREE + copy
    assert run(src, unsafe=True) == (src, [])


def test_suppression_pragma() -> None:
    src = GO_TREE + "# dockfix ignore=DF301\nCOPY --from=b /src /app\n"
    assert run(src, unsafe=True) == (src, [])


# --- Node -----------------------------------------------------------------------------------


NODE_BUILD = """\
FROM node:20 AS build
WORKDIR /app
COPY . .
RUN npm ci && npm run build && npm prune --omit=dev
FROM node:20-slim
WORKDIR /app
"""


def test_node_dist_node_modules_and_package_json() -> None:
    src = NODE_BUILD + 'COPY --from=build /app .\nCMD ["node", "dist/main.js"]\n'
    out, _ = run(src, unsafe=True)
    assert out == NODE_BUILD + (
        "COPY --from=build /app/package.json ./package.json\n"
        "COPY --from=build /app/node_modules ./node_modules\n"
        "COPY --from=build /app/dist ./dist\n"
        'CMD ["node", "dist/main.js"]\n'
    )


def test_node_env_production_install_counts_as_pruned() -> None:
    src = (
        NODE_BUILD.replace(" && npm prune --omit=dev", "").replace(
            "RUN npm ci", "RUN npm run build\nENV NODE_ENV=production\nRUN npm ci"
        )
        + 'COPY --from=build /app /app\nCMD ["node", "/app/build/index.js"]\n'
    )
    out, _ = run(src, unsafe=True)
    assert "COPY --from=build /app/build /app/build\n" in out


@pytest.mark.parametrize(
    ("cmd", "reason"),
    [
        ('CMD ["node", "src/main.js"]', "not known to be the build's output"),
        ('CMD ["npm", "start"]', "does not start from one build output directory"),
    ],
)
def test_node_output_must_be_known(cmd: str, reason: str) -> None:
    src = NODE_BUILD + f"COPY --from=build /app .\n{cmd}\n"
    out, left = run(src, unsafe=True)
    assert out == src
    assert reason in left[0].reason


# --- properties -----------------------------------------------------------------------------

_SEGMENT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    workdir=st.lists(_SEGMENT, min_size=1, max_size=3),
    dest=st.lists(_SEGMENT, min_size=0, max_size=3),
    absolute=st.booleans(),
    slash=st.booleans(),
    binary=_SEGMENT,
)
def test_narrowed_copy_puts_the_binary_where_the_tree_had_it(
    workdir: list[str], dest: list[str], absolute: bool, slash: bool, binary: str
) -> None:
    """Whatever the destination spelling, the binary lands at the same absolute path."""
    runtime_wd = "/" + "/".join(workdir)
    dest_text = ("/" if absolute else "") + "/".join(dest)
    if not dest_text or dest_text == "/":
        dest_text = "/" if absolute else "."
    if slash and not dest_text.endswith("/"):
        dest_text += "/"
    src = (
        "FROM golang:1.22 AS b\nWORKDIR /src\nCOPY . .\n"
        f"RUN CGO_ENABLED=0 go build -o out/{binary} .\n"
        f"FROM alpine:3.19\nWORKDIR {runtime_wd}\nCOPY --from=b /src {dest_text}\n"
    )
    out, _ = run(src, unsafe=True)
    old_dest = posixpath.normpath(posixpath.join(runtime_wd, dest_text))
    line = out.splitlines()[-1]
    _, _, new_source, new_dest = line.split(" ")
    assert new_source == f"/src/out/{binary}"
    assert posixpath.normpath(posixpath.join(runtime_wd, new_dest)) == posixpath.join(
        old_dest, "out", binary
    )
    assert not new_dest.endswith("/")  # a file destination, not a directory


def test_a_single_file_below_the_cargo_target_is_already_the_artifact() -> None:
    # found on real Dockerfiles: `cargo build --lib` then one `.so` copied out
    src = (
        "FROM rust:1.80 AS build\nWORKDIR /src\nCOPY . .\nRUN cargo build --release --lib\n"
        'FROM debian:bookworm-slim\nCOPY --from=build /src/target/release/libx.so /app/libx.so\nCMD ["/app/run"]\n'
    )
    assert dockfix.fix(src, select=["DF301"]) == (src, [])
    tree = src.replace("/src/target/release/libx.so /app/libx.so", "/src/target/release /app")
    assert dockfix.fix(tree, select=["DF301"])[1]
