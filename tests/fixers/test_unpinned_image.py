"""DF202 unpinned-image, against Docker's real registry server (tests/support), no HTTP mocks.

Every reference names the registry through a counting, fault-injecting proxy
(``127.0.0.1:<port>/library/python:3.12``), so the tests also see how many requests a run
makes. Each test gets its own digest cache and config.json (``isolate``).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dockfix
from dockfix.core.buildkit_check import buildkit_rejects
from dockfix.core.fixer import Applicability, Finding
from dockfix.run.runner import RunOptions, fix_text_with, process_paths
from hadolint_runner import hadolint_codes
from support.pinning import PinningImages, isolate, seed_pinning_images, start_registry
from support.registry_server import FaultProxy

CODE = "DF202"


@pytest.fixture
def cache_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolate(monkeypatch, tmp_path)


@pytest.fixture
def host(proxy: FaultProxy, cache_file: Path) -> str:
    return proxy.host


def fix(
    text: str, host: str, *, unsafe: bool = False, offline: bool = False, refresh: bool = False
) -> tuple[str, list[Finding]]:
    return dockfix.fix(
        text,
        select=[CODE],
        unsafe_fixes=unsafe,
        offline=offline,
        refresh=refresh,
        insecure_registries=[host],
    )


def outcome(text: str, host: str, **kw: object):  # type: ignore[no-untyped-def]
    return fix_text_with(
        text,
        None,
        RunOptions(select=(CODE,), insecure_registries=(host,), **kw),  # type: ignore[arg-type]
    )


# ------------------------------------------------------------------------------- change cases
def test_pins_the_index_digest_and_keeps_flags_alias_and_spelling(
    host: str, images: PinningImages, proxy: FaultProxy
) -> None:
    text = f"from --platform=$BUILDPLATFORM {host}/library/python:3.12-slim   AS build\nRUN true\n"
    out = outcome(text, host)
    digest = images.python_slim.digest
    assert out.fixed == (
        f"from --platform=$BUILDPLATFORM {host}/library/python:3.12-slim@{digest}   AS build\n"
        "RUN true\n"
    )
    (applied,) = out.applied
    assert applied.fix is not None and applied.fix.applicability is Applicability.SAFE
    assert applied.fix.description == (
        f"pin {host}/library/python:3.12-slim to sha256:{digest[7:19]} (multi-arch index)"
    )
    assert "is not pinned to a digest" in applied.message
    assert proxy.count(method="HEAD") == 1 and proxy.request_count == 1
    assert fix(out.fixed, host) == (out.fixed, [])  # idempotent: nothing left, nothing asked
    assert proxy.request_count == 1


def test_single_platform_image_is_pinned_by_its_manifest(host: str, images: PinningImages) -> None:
    out = outcome(f"FROM {host}/library/alpine:3.20\n", host)
    assert out.fixed == f"FROM {host}/library/alpine:3.20@{images.alpine.digest}\n"
    description = out.applied[0].fix.description  # type: ignore[union-attr]
    assert description.endswith("(single-platform image)")


def test_docker_manifest_list_digest(host: str, images: PinningImages) -> None:
    fixed, left = fix(f"FROM {host}/team/app:2.0\n", host)
    assert fixed == f"FROM {host}/team/app:2.0@{images.app_list.digest}\n"
    assert left == []


def test_copy_from_and_mount_from_images_but_not_stages(host: str, images: PinningImages) -> None:
    text = (
        f"FROM {host}/library/python:3.13 AS Build\n"
        "RUN echo build\n"
        f"FROM {host}/library/alpine:3.20\n"
        "COPY --from=build /app /app\n"
        "COPY --from=0 /etc/os-release /tmp/\n"
        f"COPY --link --from={host}/team/app:2.0 /bin/app /bin/app\n"
        "RUN --mount=type=bind,from=BUILD,target=/b true\n"
        f"RUN --mount=type=cache,target=/root/.cache --mount=type=bind,from={host}/library/"
        "python:3.12,source=/usr,target=/py \\\n    ls /py\n"
    )
    fixed, left = fix(text, host)
    assert fixed == (
        f"FROM {host}/library/python:3.13@{images.python.digest} AS Build\n"
        "RUN echo build\n"
        f"FROM {host}/library/alpine:3.20@{images.alpine.digest}\n"
        "COPY --from=build /app /app\n"
        "COPY --from=0 /etc/os-release /tmp/\n"
        f"COPY --link --from={host}/team/app:2.0@{images.app_list.digest} /bin/app /bin/app\n"
        "RUN --mount=type=bind,from=BUILD,target=/b true\n"
        f"RUN --mount=type=cache,target=/root/.cache --mount=type=bind,from={host}/library/"
        f"python:3.12@{images.python_old.digest},source=/usr,target=/py \\\n    ls /py\n"
    )
    assert left == []
    assert buildkit_rejects(fixed) is None


def test_syntax_directive_gets_the_frontend_digest(host: str, images: PinningImages) -> None:
    text = f"# syntax = {host}/docker/dockerfile:1\n# escape=\\\nFROM {host}/library/alpine:3.20\n"
    fixed, left = fix(text, host)
    assert (
        fixed.splitlines()[0] == f"# syntax = {host}/docker/dockerfile:1@{images.frontend.digest}"
    )
    assert fixed.splitlines()[1:] == [
        "# escape=\\",
        f"FROM {host}/library/alpine:3.20@{images.alpine.digest}",
    ]
    assert left == []
    assert dockfix.parse(fixed).directive("syntax").value.endswith(images.frontend.digest)  # type: ignore[union-attr]


def test_untagged_reference_is_pinned_as_latest(host: str, images: PinningImages) -> None:
    out = outcome(f"FROM {host}/library/python\n", host)
    assert out.fixed == f"FROM {host}/library/python@{images.python.digest}\n"
    assert "(latest)" in out.applied[0].fix.description  # type: ignore[union-attr]


def test_arg_default_used_only_by_whole_from_references(host: str, images: PinningImages) -> None:
    text = (
        f'ARG BASE="{host}/library/python:3.12"\n'
        "ARG TOOLS=1\n"
        "FROM ${BASE} AS build\n"
        "RUN make\n"
        "FROM $BASE\n"
        "COPY --from=build /out /out\n"
    )
    out = outcome(text, host)
    assert out.fixed == text.replace(
        f'"{host}/library/python:3.12"', f'"{host}/library/python:3.12@{images.python_old.digest}"'
    )
    (applied,) = out.applied
    assert applied.line == 3  # reported where the image is used, edited where it is written
    assert "default of ARG BASE on line 1" in applied.message


# ------------------------------------------------------------------------------- display-only
@pytest.mark.parametrize(
    ("text", "why"),
    [
        (
            "ARG BASE={h}/library/python:3.12\nFROM ${{BASE}}\nARG BASE\nRUN echo $BASE\n",
            "ARG BASE is also used on line 3",
        ),
        (
            "ARG BASE={h}/library/python:3.12\nFROM ${{BASE}}\nLABEL base=${{BASE:-none}}\n",
            "ARG BASE is also used on line 3",
        ),
        (
            "ARG BASE={h}/library/python:3.12\nFROM $BASE AS a\nFROM ${{BASE}}-slim\n",
            "ARG BASE is also used on line 3",
        ),
        ("ARG BASE=a\nARG BASE=b\nFROM $BASE\n", "declared more than once (lines 1, 2)"),
        ("ARG PY=3.12\nFROM {h}/library/python:${{PY}}-slim\n", "built from ARG PY"),
        ("ARG REG\nFROM ${{REG}}/library/python:3.12\n", "wrong whenever the ARG is overridden"),
        ('FROM scratch\nCOPY --from="{h}/library/alpine:3.20" / /\n', "quoted or escaped"),
    ],
)
def test_references_that_cannot_be_pinned_honestly(
    host: str, proxy: FaultProxy, text: str, why: str
) -> None:
    source = text.format(h=host)
    fixed, left = fix(source, host)
    assert fixed == source
    assert left and all(f.code == CODE and f.fix is None for f in left)
    assert why in left[0].reason
    assert proxy.request_count == 0  # nothing to look up


@pytest.mark.parametrize(
    "text",
    [
        "FROM scratch\nCOPY --from=0 / /\n",
        "ARG VARIANT=prod\nFROM scratch AS prod\nFROM ${{VARIANT}}\n",
        "ARG BASE\nFROM ${{BASE}}\n",
        "FROM {h}/library/python:3.12@{d} AS b\nFROM b\nCOPY --from=B / /\n",
        "FROM {h}/library/python:3.12@{d}\nONBUILD COPY --from={h}/library/alpine:3.20 / /\n",
        "FROM {h}/library/python:3.12@{d}\nARG SRC=b\nCOPY --from=$SRC / /\n",
        "FROM {h}/library/python:${{PY}}@{d}\n",
    ],
)
def test_left_alone_without_any_request(
    host: str, proxy: FaultProxy, images: PinningImages, text: str
) -> None:
    source = text.format(h=host, d=images.python_old.children["linux/amd64"])
    assert fix(source, host) == (source, [])
    assert proxy.request_count == 0


# ------------------------------------------------------------------------------- refresh
def test_refresh_updates_an_old_index_digest_only_when_asked(
    host: str, images: PinningImages
) -> None:
    text = f"FROM {host}/library/python:3.13@{images.python_old.digest}\n"
    assert fix(text, host) == (text, [])
    out = outcome(text, host, refresh=True)
    assert out.fixed == f"FROM {host}/library/python:3.13@{images.python.digest}\n"
    (applied,) = out.applied
    assert applied.fix is not None and applied.fix.applicability is Applicability.SAFE
    assert applied.fix.description == (
        f"refresh {host}/library/python:3.13 from sha256:{images.python_old.digest[7:19]} "
        f"to sha256:{images.python.digest[7:19]} (multi-arch index)"
    )
    assert fix(out.fixed, host, refresh=True) == (out.fixed, [])


def test_refresh_keeps_a_platform_digest(host: str, images: PinningImages) -> None:
    platform = images.python_old.children["linux/arm64"]
    text = f"FROM --platform=linux/arm64 {host}/library/python:3.13@{platform}\n"
    fixed, left = fix(text, host, refresh=True, unsafe=True)
    assert fixed == text
    (finding,) = left
    assert finding.fix is None and "one platform's manifest" in finding.reason


def test_refresh_from_an_index_to_a_single_manifest_is_unsafe(
    host: str, images: PinningImages
) -> None:
    text = f"FROM {host}/library/alpine:3.20@{images.alpine_index.digest}\n"
    fixed, left = fix(text, host, refresh=True)
    assert fixed == text and left[0].fix is not None
    assert left[0].fix.applicability is Applicability.UNSAFE
    fixed, left = fix(text, host, refresh=True, unsafe=True)
    assert fixed == f"FROM {host}/library/alpine:3.20@{images.alpine.digest}\n" and left == []


# ------------------------------------------------------------------------------- registry faults
def test_missing_images_warn_once_and_the_others_are_pinned(
    host: str, images: PinningImages
) -> None:
    text = (
        f"FROM {host}/library/python:3.99 AS a\n"
        f"FROM {host}/nobody/here:1 AS b\n"
        f"COPY --from={host}/library/python:3.99 / /\n"
        f"FROM {host}/library/alpine:3.20\n"
    )
    out = outcome(text, host)
    assert out.fixed == text.replace("alpine:3.20", f"alpine:3.20@{images.alpine.digest}")
    assert len(out.warnings) == 2  # one per image, not per use
    assert all("not found or not authorised" in w for w in out.warnings)
    assert {f.line for f in out.findings} == {1, 2, 3}
    for finding in out.findings:
        assert finding.fix is None and "not found or not authorised" in finding.reason


def test_transient_errors_are_retried(host: str, proxy: FaultProxy, images: PinningImages) -> None:
    proxy.add_fault(action="status", status=500, times=1, path="/alpine/")
    proxy.add_fault(action="status", status=429, retry_after="1", times=1, path="/python/")
    text = f"FROM {host}/library/alpine:3.20\nFROM {host}/library/python:3.13\n"
    fixed, left = fix(text, host)
    assert fixed == (
        f"FROM {host}/library/alpine:3.20@{images.alpine.digest}\n"
        f"FROM {host}/library/python:3.13@{images.python.digest}\n"
    )
    assert left == [] and proxy.request_count == 4


def test_persistent_5xx_is_a_display_only_finding(
    host: str, proxy: FaultProxy, images: PinningImages
) -> None:
    proxy.add_fault(action="status", status=503, times=100, path="/alpine/")
    text = f"FROM {host}/library/alpine:3.20\nFROM {host}/library/python:3.13\n"
    out = outcome(text, host)
    assert out.fixed.endswith(f"python:3.13@{images.python.digest}\n")
    assert out.warnings == [out.findings[0].reason]
    assert "HTTP 503 after 3 tries" in out.findings[0].reason


def test_a_hanging_registry_costs_one_round_of_timeouts(
    host: str, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKFIX_REGISTRY_TIMEOUT", "0.3")
    monkeypatch.setenv("DOCKFIX_REGISTRY_CONCURRENCY", "2")
    proxy.add_fault(action="hang", times=1000, hang_seconds=10)
    text = "".join(f"FROM {host}/library/python:3.{minor}\n" for minor in range(8))
    started = time.monotonic()
    out = outcome(text, host)
    elapsed = time.monotonic() - started
    assert out.fixed == text
    assert len(out.findings) == 8 and all(f.fix is None for f in out.findings)
    # Only the images already waiting when the first one gave up were tried (at most the
    # client's 4 threads x 3 tries); the others were skipped at once, not timed out in turn.
    assert proxy.request_count <= 4 * 3
    assert elapsed < 6, elapsed
    assert sum("skipped" in f.reason for f in out.findings) >= 6


def test_credentials_never_appear_in_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, password = "pinner", "Pin-Secret-PW-4711"
    server = start_registry(tmp_path / "auth", auth="htpasswd", users={user: password})
    try:
        pair = base64.b64encode(f"{user}:{password}".encode()).decode()
        images = seed_pinning_images(server.url, lambda repo: f"Basic {pair}")
        isolate(monkeypatch, tmp_path, {"auths": {server.host: {"auth": pair}}})
        text = f"FROM {server.host}/library/alpine:3.20\nFROM {server.host}/private/none:1\n"
        out = outcome(text, server.host)
        assert out.fixed.startswith(
            f"FROM {server.host}/library/alpine:3.20@{images.alpine.digest}"
        )
        shown = json.dumps([out.fixed, out.warnings, [(f.message, f.reason) for f in out.findings]])
        assert "not found or not authorised" in shown
        assert password not in shown and pair not in shown
        cache = (tmp_path / "cache" / "dockfix" / "digests.json").read_text()
        assert password not in cache and pair not in cache
    finally:
        server.stop()


# ------------------------------------------------------------------------------- offline & cache
def test_offline_uses_only_the_cache(
    host: str, proxy: FaultProxy, images: PinningImages, cache_file: Path
) -> None:
    text = f"FROM {host}/library/alpine:3.20\nFROM {host}/library/python:3.13\n"
    fixed, left = fix(text, host, offline=True)
    assert fixed == text
    assert [f.reason for f in left] == ["skipped: offline, not in cache"] * 2
    assert proxy.request_count == 0 and not cache_file.exists()

    online, _ = fix(text, host)
    assert proxy.request_count == 2 and cache_file.exists()
    proxy.reset_counts()
    assert fix(text, host, offline=True) == (online, [])
    assert fix(text, host) == (online, [])  # fresh cache entries: no request online either
    assert proxy.request_count == 0


def test_offline_with_a_stale_cache_entry_is_unsafe(
    host: str, proxy: FaultProxy, images: PinningImages, cache_file: Path
) -> None:
    text = f"FROM {host}/library/alpine:3.20\n"
    online, _ = fix(text, host)
    data = json.loads(cache_file.read_text())
    for entry in data["entries"].values():
        entry["fetched_at"] -= 3 * 86400
    cache_file.write_text(json.dumps(data))
    fixed, left = fix(text, host, offline=True)
    assert fixed == text and left[0].fix is not None
    assert left[0].fix.applicability is Applicability.UNSAFE
    assert "cache entry 3 days old" in left[0].fix.description
    assert fix(text, host, offline=True, unsafe=True) == (online, [])


def _monorepo(root: Path, host: str, files: int) -> list[str]:
    images = [f"{host}/library/python:3.13", f"{host}/library/alpine:3.20", f"{host}/team/app:2.0"]
    paths = []
    for i in range(files):
        service = root / "services" / f"svc-{i:02d}"
        service.mkdir(parents=True)
        text = (
            f"FROM {images[i % 3]} AS build\nRUN make\n"
            f"FROM {images[(i + 1) % 3]}\nCOPY --from=build /out /out\n"
        )
        (service / "Dockerfile").write_bytes(text.encode())
        paths.append(str(service / "Dockerfile"))
    return paths


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_run_asks_once_per_unique_image_and_a_warm_run_not_at_all(
    host: str,
    proxy: FaultProxy,
    images: PinningImages,
    tmp_path: Path,
    jobs: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dockfix.run.runner

    monkeypatch.setattr(dockfix.run.runner, "PARALLEL_THRESHOLD", 10)  # worker processes for 24 files
    paths = _monorepo(tmp_path / "repo", host, 24)
    opts = RunOptions(select=(CODE,), insecure_registries=(host,))
    reports = list(process_paths(paths, opts, jobs=jobs))
    assert proxy.request_count == 3  # 48 references, 3 images
    assert all(r.outcome is not None and len(r.outcome.applied) == 2 for r in reports)
    assert all(r.outcome.findings == [] for r in reports if r.outcome is not None)
    proxy.reset_counts()
    warm = list(process_paths(paths, opts, jobs=jobs))
    assert proxy.request_count == 0
    assert [r.outcome.fixed for r in warm if r.outcome] == [
        r.outcome.fixed for r in reports if r.outcome
    ]


def test_cli_warns_once_per_image_and_does_not_fail(
    host: str, proxy: FaultProxy, images: PinningImages, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    for name in ("a", "b", "c"):
        (repo / name).mkdir(parents=True)
        (repo / name / "Dockerfile").write_text(
            f"FROM {host}/library/alpine:3.20\nFROM {host}/library/gone:1\n"
        )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dockfix",
            "fix",
            "--select",
            CODE,
            "--insecure-registry",
            host,
            ".",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr  # a diff, not an error
    assert proc.stdout.count(f"+FROM {host}/library/alpine:3.20@{images.alpine.digest}") == 3
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "library/gone:1: not found or not authorised" in warnings[0]
    assert proxy.count(path="/library/alpine/") == 1 and proxy.count(path="/library/gone/") == 1


# ------------------------------------------------------------------------------- file shape
@pytest.mark.parametrize(
    ("prefix", "eol", "final"),
    [("\ufeff", "\r\n", True), ("", "\r\n", False), ("", "\n", False)],
    ids=["bom-crlf", "crlf-no-final-newline", "no-final-newline"],
)
def test_bytes_outside_the_reference_are_kept(
    host: str, images: PinningImages, prefix: str, eol: str, final: bool
) -> None:
    lines = [
        f"# syntax={host}/docker/dockerfile:1",
        "# hadolint ignore=DL3008",
        "FROM \\",
        "  # the base image",
        f"  {host}/library/python:3.13 \\",
        "  AS build",
    ]
    text = prefix + eol.join(lines) + (eol if final else "")
    fixed, left = fix(text, host)
    expected = text.replace("dockerfile:1", f"dockerfile:1@{images.frontend.digest}").replace(
        "python:3.13 ", f"python:3.13@{images.python.digest} "
    )
    assert fixed == expected and left == []
    assert buildkit_rejects(fixed) is None


def test_hadolint_reports_nothing_new(host: str, images: PinningImages) -> None:
    text = (
        f"FROM {host}/library/python:latest AS a\nFROM {host}/library/alpine\n"
        "USER 1000\nCOPY --from=a /x /y\n"
    )
    before = hadolint_codes(text)
    if before is None:
        pytest.skip("hadolint is not installed")
    fixed, _ = fix(text, host)
    after = hadolint_codes(fixed)
    assert after is not None and after <= before
    assert {"DL3006", "DL3007"} <= before and not {"DL3006", "DL3007"} & after


# ------------------------------------------------------------------------------- properties
_SPACES = st.sampled_from([" ", "  ", "\t"])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    keyword=st.sampled_from(["FROM", "from", "From"]),
    platform=st.booleans(),
    alias=st.sampled_from(["", "build", "Build", "latest"]),
    tag=st.sampled_from(["3.13", "3.12-slim", "3", "latest"]),
    gap=_SPACES,
    continuation=st.booleans(),
    eol=st.sampled_from(["\n", "\r\n"]),
)
def test_the_fix_only_appends_the_tags_digest(
    host: str,
    images: PinningImages,
    keyword: str,
    platform: bool,
    alias: str,
    tag: str,
    gap: str,
    continuation: bool,
    eol: str,
) -> None:
    digest = {"3.12-slim": images.python_slim.digest}.get(tag, images.python.digest)
    flags = f"--platform=linux/amd64{gap}" if platform else ""
    ref = f"{host}/library/python:{tag}"
    tail = (f"{gap}\\{eol}  AS {alias}" if continuation else f"{gap}AS {alias}") if alias else ""
    text = f"{keyword} {flags}{ref}{tail}{eol}RUN echo ok{eol}"
    fixed, left = fix(text, host)
    assert fixed == text.replace(ref, f"{ref}@{digest}", 1)
    assert left == []
    assert fix(fixed, host) == (fixed, [])
