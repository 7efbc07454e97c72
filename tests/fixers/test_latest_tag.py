"""DF203 latest-tag, against Docker's real registry server (tests/support), no HTTP mocks."""

from __future__ import annotations

from pathlib import Path

import pytest

import dockfix
from dockfix.core.fixer import Applicability, Finding
from dockfix.run.runner import RunOptions, fix_text_with
from hadolint_runner import hadolint_codes
from support.pinning import PinningImages, isolate
from support.registry_server import FaultProxy

CODE = "DF203"


@pytest.fixture
def host(proxy: FaultProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    isolate(monkeypatch, tmp_path)
    return proxy.host


def fix(
    text: str,
    host: str,
    *,
    select: tuple[str, ...] = (CODE,),
    unsafe: bool = False,
    offline: bool = False,
    refresh: bool = False,
) -> tuple[str, list[Finding]]:
    return dockfix.fix(
        text,
        select=list(select),
        unsafe_fixes=unsafe,
        offline=offline,
        refresh=refresh,
        insecure_registries=[host],
    )


def applied(text: str, host: str) -> list[Finding]:
    out = fix_text_with(text, None, RunOptions(select=(CODE,), insecure_registries=(host,)))
    return out.applied


# ------------------------------------------------------------------------------- change cases
@pytest.mark.parametrize("spelling", ["library/python", "library/python:latest"])
def test_latest_becomes_the_most_specific_version_tag_with_its_digest(
    host: str, images: PinningImages, spelling: str
) -> None:
    text = f"FROM {host}/{spelling} AS app\nRUN true\n"
    fixed, left = fix(text, host)
    assert fixed == f"FROM {host}/library/python:3.13.1@{images.python.digest} AS app\nRUN true\n"
    assert left == []
    (finding,) = applied(text, host)
    assert finding.fix is not None and finding.fix.applicability is Applicability.SAFE
    assert finding.fix.description == (
        f"use {host}/library/python:3.13.1, the image `latest` is today, pinned to "
        f"sha256:{images.python.digest[7:19]} (multi-arch index)"
    )
    expected = "has no tag, so it means `latest`" if ":" not in spelling else "moving `latest`"
    assert expected in finding.message


def test_copy_from_mount_from_and_syntax_line(host: str, images: PinningImages) -> None:
    text = (
        f"# syntax={host}/docker/dockerfile\n"
        f"FROM {host}/library/alpine:3.20\n"
        f"COPY --from={host}/library/python:latest /usr/local/bin/python3 /usr/bin/\n"
        f"RUN --mount=from={host}/library/python,target=/py ls /py\n"
    )
    fixed, left = fix(text, host)
    python = f"{host}/library/python:3.13.1@{images.python.digest}"
    assert fixed == (
        f"# syntax={host}/docker/dockerfile:1.12.0@{images.frontend.digest}\n"
        f"FROM {host}/library/alpine:3.20\n"
        f"COPY --from={python} /usr/local/bin/python3 /usr/bin/\n"
        f"RUN --mount=from={python},target=/py ls /py\n"
    )
    assert left == []


def test_no_version_tag_pins_latest_and_says_so(host: str, images: PinningImages) -> None:
    text = f"FROM {host}/tools/nover\nFROM {host}/tools/nover:latest\n"
    fixed, left = fix(text, host)
    assert fixed == (
        f"FROM {host}/tools/nover@{images.nover.digest}\n"
        f"FROM {host}/tools/nover:latest@{images.nover.digest}\n"
    )
    assert left == []
    description = applied(text, host)[0].fix.description  # type: ignore[union-attr]
    assert "no version tag shares its digest, so it stays `latest`, pinned" in description


def test_single_platform_latest(host: str, images: PinningImages) -> None:
    # alpine's only version tag is 3.20, which shares latest's manifest.
    fixed, _ = fix(f"FROM {host}/library/alpine\n", host)
    assert fixed == f"FROM {host}/library/alpine:3.20@{images.alpine.digest}\n"


def test_arg_default_is_rewritten(host: str, images: PinningImages) -> None:
    text = f"ARG BASE={host}/library/python\nFROM ${{BASE}}\nRUN true\n"
    fixed, left = fix(text, host)
    assert fixed == text.replace("python\n", f"python:3.13.1@{images.python.digest}\n", 1)
    assert left == []


def test_together_with_df202(host: str, images: PinningImages, proxy: FaultProxy) -> None:
    text = f"FROM {host}/library/python\nFROM {host}/library/python:3.12-slim\n"
    fixed, left = fix(text, host, select=("DF202", CODE))
    assert fixed == (
        f"FROM {host}/library/python:3.13.1@{images.python.digest}\n"
        f"FROM {host}/library/python:3.12-slim@{images.python_slim.digest}\n"
    )
    assert left == []
    assert fix(fixed, host, select=("DF202", CODE)) == (fixed, [])


def test_a_pin_of_todays_latest_gets_its_version_an_old_pin_does_not(
    host: str, images: PinningImages
) -> None:
    today = f"FROM {host}/library/python@{images.python.digest}\n"
    fixed, _ = fix(today, host)
    assert fixed == f"FROM {host}/library/python:3.13.1@{images.python.digest}\n"
    old = f"FROM {host}/library/python:latest@{images.python_old.digest}\n"
    assert fix(old, host) == (old, [])


# ------------------------------------------------------------------------------- no change
@pytest.mark.parametrize(
    "text",
    [
        "FROM {h}/library/python:3.12-slim\n",
        "FROM scratch AS latest\nFROM {h}/library/alpine:3.20\nCOPY --from=latest / /\n",
        "FROM {h}/library/python:3.13@{d} AS build\nFROM build\n",
        "ARG V=3.13\nFROM {h}/library/python:${{V}}\n",
    ],
)
def test_no_finding(host: str, images: PinningImages, proxy: FaultProxy, text: str) -> None:
    source = text.format(h=host, d=images.python.digest)
    assert fix(source, host) == (source, [])
    assert proxy.count(path="/tags/list") == 0


def test_arg_used_elsewhere_is_display_only(host: str, proxy: FaultProxy) -> None:
    text = f"ARG BASE={host}/library/python\nFROM $BASE\nARG BASE\nLABEL base=$BASE\n"
    fixed, left = fix(text, host)
    assert fixed == text
    (finding,) = left
    assert finding.fix is None and "ARG BASE is also used on line 3" in finding.reason
    assert proxy.request_count == 0


def test_hadolint_pragma_suppresses(host: str, proxy: FaultProxy) -> None:
    text = f"# hadolint ignore=DL3007\nFROM {host}/library/python:latest\n"
    assert fix(text, host) == (text, [])


# ------------------------------------------------------------------------------- registry
def test_tag_list_refused_is_display_only_and_digest_pins_still_work(
    host: str, proxy: FaultProxy, images: PinningImages
) -> None:
    proxy.add_fault(action="status", status=401, times=100, path="/tags/list")
    text = f"FROM {host}/library/python\nFROM {host}/library/alpine:3.20\n"
    fixed, left = fix(text, host, select=("DF202", CODE))
    assert fixed == (
        f"FROM {host}/library/python@{images.python.digest}\n"
        f"FROM {host}/library/alpine:3.20@{images.alpine.digest}\n"
    )
    assert left == []  # the pin is today's latest; the version is unknown: nothing more


def test_tag_list_refused_alone(host: str, proxy: FaultProxy) -> None:
    proxy.add_fault(action="status", status=401, times=100, path="/tags/list")
    text = f"FROM {host}/library/python\n"
    fixed, left = fix(text, host)
    assert fixed == text
    (finding,) = left
    assert finding.fix is None and "not found or not authorised" in finding.reason


def test_offline_cold_then_warm_with_no_request_at_all(
    host: str, proxy: FaultProxy, images: PinningImages
) -> None:
    text = f"FROM {host}/library/python\nFROM {host}/tools/nover\n"
    fixed, left = fix(text, host, offline=True)
    assert fixed == text
    assert [f.reason for f in left] == ["skipped: offline, not in cache"] * 2
    assert proxy.request_count == 0
    online, _ = fix(text, host)
    assert proxy.count(path="/tags/list") == 2
    proxy.reset_counts()
    # The version tag search is remembered too: a warm run lists no tags, online or offline.
    assert fix(text, host, offline=True) == (online, [])
    assert fix(text, host) == (online, [])
    assert proxy.request_count == 0


def test_hadolint_rules_resolved_and_nothing_new(host: str, images: PinningImages) -> None:
    text = f"FROM {host}/library/python AS a\nFROM {host}/library/alpine:latest\nUSER 1000\n"
    before = hadolint_codes(text)
    if before is None:
        pytest.skip("hadolint is not installed")
    fixed, left = fix(text, host)
    assert left == []
    after = hadolint_codes(fixed)
    assert after is not None and after <= before
    assert {"DL3006", "DL3007"} <= before and not {"DL3006", "DL3007"} & after


def test_crlf_and_bom_kept(host: str, images: PinningImages) -> None:
    text = f"\ufeffFROM {host}/library/python\r\nRUN true"
    fixed, _ = fix(text, host)
    assert fixed == f"\ufeffFROM {host}/library/python:3.13.1@{images.python.digest}\r\nRUN true"
