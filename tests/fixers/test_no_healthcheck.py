"""DF402 no-healthcheck: display-only by default, an exec-form probe when configured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dockfix
from dockfix.core.buildkit_check import buildkit_rejects
from dockfix.core.catalog import all_fixers
from dockfix.core.engine import fix_document
from dockfix.core.fixer import Applicability, Finding
from dockfix.run.runner import RunOptions, fix_text_with
from dockfix.semantics.context import FixContext
from fixture_cases import ROOT
from hadolint_runner import hadolint_codes

CODE = "DF402"


def run(
    text: str, *, unsafe: bool = True, **options: Any
) -> tuple[str, list[Finding]]:
    """Fix with DF402 configured with ``options``; the fixer must not raise."""
    fixer = all_fixers()[CODE](options or None)
    ctx = FixContext(offline=True)
    out = fix_document(text, [fixer], ctx, unsafe=unsafe)
    assert out.warnings == []
    if out.fixed != text:
        assert buildkit_rejects(out.fixed) is None
        again = fix_document(out.fixed, [fixer], ctx, unsafe=unsafe)
        assert again.fixed == out.fixed and again.findings == [], "not idempotent"
    return out.fixed, out.findings


def healthcheck_argv(text: str) -> list[str]:
    found = [i for i in dockfix.parse(text).instructions if i.keyword == "HEALTHCHECK"]
    assert len(found) == 1
    assert found[0].json_args is not None
    return found[0].json_args


PY = """\
FROM python:3.13-slim
WORKDIR /app
COPY . .
EXPOSE 8000
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
"""


def test_unconfigured_is_display_only() -> None:
    out, left = run(PY)
    assert out == PY
    assert len(left) == 1 and left[0].fix is None
    assert left[0].line == 1
    assert "set the `url` option" in left[0].reason


def test_configured_probe_uses_python_before_cmd() -> None:
    out, left = run(PY, unsafe=False, url="/healthz")
    assert out == PY  # unsafe: needs --unsafe-fixes
    assert left[0].applicability is Applicability.UNSAFE
    out, left = run(PY, url="/healthz")
    assert out == PY.replace(
        "EXPOSE 8000\n",
        "EXPOSE 8000\n"
        'HEALTHCHECK --interval=30s --timeout=3s CMD ["python3", "-c", "import urllib.request; '
        "urllib.request.urlopen('http://localhost:8000/healthz', timeout=2)\"]\n",
    )
    assert left == []


@pytest.mark.parametrize(
    ("base", "run_line", "tool"),
    [
        ("debian:bookworm-slim", "RUN apt-get update && apt-get install -y --no-install-recommends"
         " curl=7.88.1-10+deb12u8 && rm -rf /var/lib/apt/lists/*", "curl"),
        ("alpine:3.19", "RUN apk add --no-cache wget", "wget"),
        ("ubuntu:24.04", "RUN apt-get install -y wget curl && apt-get purge -y curl", "wget"),
        ("python:3.12-alpine", "RUN true", "python3"),
        ("node:20-slim", "RUN true", "node"),
        ("alpine:3.19", "RUN true", "wget"),
        ("busybox:1.36", "RUN true", "wget"),
        ("golang:1.22", "RUN true", "curl"),
        ("gcr.io/distroless/python3-debian12:nonroot", "COPY . /app", "python3"),
        ("gcr.io/distroless/nodejs20-debian12", "COPY . /app", "/nodejs/bin/node"),
        ("gcr.io/distroless/base-debian12:debug-nonroot", "COPY . /app", "wget"),
    ],
)
def test_probe_tool_comes_from_what_the_image_has(base: str, run_line: str, tool: str) -> None:
    src = f"FROM {base}\n{run_line}\nEXPOSE 8080\nCMD [\"/srv\"]\n"
    out, left = run(src, url="/healthz")
    assert left == []
    argv = healthcheck_argv(out)
    assert argv[0] == tool
    assert "http://localhost:8080/healthz" in argv[-1]


@pytest.mark.parametrize(
    "base",
    ["scratch", "gcr.io/distroless/static-debian12:nonroot", "gcr.io/distroless/cc-debian12",
     "debian:bookworm-slim", "ubuntu:24.04", "golang:1.22-bookworm-slim" , "example.com/base:1"],
)
def test_no_known_tool_is_display_only(base: str) -> None:
    src = f"FROM {base}\nEXPOSE 8080\nCMD [\"/srv\"]\n"
    out, left = run(src, url="/healthz")
    assert out == src
    assert "no curl, wget or language runtime" in left[0].reason


def test_curl_added_in_the_parent_stage_counts() -> None:
    src = (
        "FROM debian:bookworm-slim AS base\nRUN apt-get install -y curl\n"
        "FROM base\nEXPOSE 80\nCMD [\"/srv\"]\n"
    )
    out, _ = run(src, url="/")
    assert healthcheck_argv(out)[0] == "curl"


@pytest.mark.parametrize(
    ("options", "expose", "url"),
    [
        ({"url": "/ready", "port": 9000}, "EXPOSE 8080 9000", "http://localhost:9000/ready"),
        ({"url": "http://127.0.0.1:8081/live"}, "EXPOSE 8080 8081",
         "http://127.0.0.1:8081/live"),
        ({"url": "/ready"}, "EXPOSE 8080/tcp 53/udp", "http://localhost:8080/ready"),
        ({"url": "/ready"}, "EXPOSE $PORT", "http://localhost:5000/ready"),
    ],
)
def test_port_from_option_or_single_exposed_tcp_port(
    options: dict[str, Any], expose: str, url: str
) -> None:
    src = f"FROM python:3.12\nARG PORT=5000\n{expose}\nCMD [\"python3\", \"app.py\"]\n"
    out, _ = run(src, **options)
    assert f"'{url}'" in healthcheck_argv(out)[2]


@pytest.mark.parametrize(
    ("start", "port"),
    [
        ('CMD ["gunicorn", "--bind", "0.0.0.0:5005", "app:app"]', "5005"),
        ('CMD ["uvicorn", "app:app", "--port=8081"]', "8081"),
        ("CMD exec gunicorn -b :9090 app:app", "9090"),
        ('CMD ["gunicorn", "app:app"]', "8000"),
        ("", "80"),  # nginx's own command and port
    ],
)
def test_port_from_the_start_command_without_expose(start: str, port: str) -> None:
    base = "nginx:1.27-alpine" if not start else "python:3.12-alpine"
    src = f"FROM {base}\n{start}\n" if start else f"FROM {base}\nCOPY site /usr/share/nginx/html\n"
    out, _ = run(src, url="/healthz")
    assert f"http://localhost:{port}/healthz" in healthcheck_argv(out)[-1]


@pytest.mark.parametrize(
    ("expose", "url", "reason"),
    [
        ("EXPOSE 8080 9000", "/healthz", "set `port`"),
        ("EXPOSE $UNSET_PORT", "/healthz", "set `port`"),
        ("EXPOSE 8080", "/health'); import os; os.system('x", "cannot be written safely"),
        ("EXPOSE 8080", "http://localhost:8080/a b", "cannot be written safely"),
        ("EXPOSE 8080", "ftp://localhost/x", "cannot be written safely"),
    ],
)
def test_unknown_port_or_unsafe_url_is_display_only(expose: str, url: str, reason: str) -> None:
    src = f"FROM python:3.12\n{expose}\nCMD [\"python3\", \"app.py\"]\n"
    out, left = run(src, url=url)
    assert out == src
    assert reason in left[0].reason


@pytest.mark.parametrize(
    "src",
    [
        PY.replace("EXPOSE 8000\n", "EXPOSE 8000\nHEALTHCHECK NONE\n"),
        PY.replace("EXPOSE 8000\n", "EXPOSE 8000\nHEALTHCHECK CMD [\"/bin/true\"]\n"),
        "FROM python:3.12 AS base\nHEALTHCHECK CMD [\"/bin/true\"]\nFROM base\nEXPOSE 80\n"
        "CMD [\"python3\", \"app.py\"]\n",
        "FROM python:3.12\nEXPOSE 8000\n",  # no start command: a base image
        "FROM python:3.12\nENTRYPOINT [\"python3\", \"-m\", \"mytool\"]\n",  # a CLI
        "FROM alpine:3.19\nRUN apk add --no-cache curl\nCMD [\"sh\"]\n",
        "FROM python:3.12\nEXPOSE 8000\nCMD [\"gunicorn\", \"app:app\"]\n"
        "FROM python:3.12 AS tests\nRUN pytest\n",  # the final stage runs no server
    ],
)
def test_no_finding(src: str) -> None:
    assert run(src, url="/healthz") == (src, [])


@pytest.mark.parametrize(
    "cmd",
    ['CMD ["gunicorn", "-b", ":8000", "app:app"]', "CMD exec uvicorn app:app --port 8000",
     'ENTRYPOINT ["python", "-m", "uvicorn", "app:app"]', 'CMD ["bundle", "exec", "puma"]'],
)
def test_server_commands_without_expose_are_reported(cmd: str) -> None:
    src = f"FROM python:3.12\n{cmd}\n"
    out, left = run(src)
    assert out == src and len(left) == 1


def test_server_base_image_with_inherited_command() -> None:
    src = "FROM nginx:1.27-alpine\nCOPY site/ /usr/share/nginx/html/\n"
    out, _ = run(src, url="http://localhost/")
    assert out == src + (
        'HEALTHCHECK --interval=30s --timeout=3s CMD ["wget", "-q", "-O", "/dev/null", '
        '"http://localhost/"]\n'
    )


def test_inserted_above_the_pragma_block_and_in_file_style() -> None:
    src = (
        "\ufefffrom python:3.12-alpine\r\nexpose 8000\r\n# hadolint ignore=DL3025\r\n"
        "cmd gunicorn app:app"
    )
    out, _ = run(src, url="/healthz")
    assert out.startswith("\ufefffrom python:3.12-alpine\r\nexpose 8000\r\nhealthcheck ")
    assert out.endswith(
        "]\r\n# hadolint ignore=DL3025\r\ncmd gunicorn app:app"
    )


def test_appended_when_the_stage_has_no_cmd_and_no_final_newline() -> None:
    src = "FROM python:3.12 AS app\nCMD [\"gunicorn\", \"app:app\"]\nFROM app\nEXPOSE 8000"
    out, _ = run(src, url="/h")
    assert out.startswith(src + "\nHEALTHCHECK ")
    assert not out.endswith("\n")


def test_suppressed_by_existing_hadolint_pragma() -> None:
    src = "# hadolint global ignore=DL3057\n" + PY
    assert run(src, url="/healthz") == (src, [])


def test_node_probe_is_valid_javascript_shape() -> None:
    src = "FROM node:20\nEXPOSE 3000\nCMD [\"node\", \"server.js\"]\n"
    out, _ = run(src, url="https://localhost:3000/healthz")
    argv = healthcheck_argv(out)
    assert argv[:2] == ["node", "-e"]
    assert argv[2].startswith("require('https').get('https://localhost:3000/healthz'")


_PATH = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._~/?=&%", max_size=20)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=_PATH, base=st.sampled_from(["python:3.12", "node:20", "alpine:3.19",
                                          "debian:12"]), port=st.integers(1, 65535))
def test_probe_is_one_exec_form_argument_list(path: str, base: str, port: int) -> None:
    """Whatever the (safe) URL, the added line is valid JSON exec form carrying it intact."""
    src = f"FROM {base}\nRUN apt-get install -y curl\nEXPOSE {port}\nCMD [\"/srv\"]\n"
    out, left = run(src, url="/" + path)
    assert left == []
    argv = healthcheck_argv(out)
    line = next(ln for ln in out.splitlines() if ln.startswith("HEALTHCHECK"))
    assert json.loads(line.split(" CMD ", 1)[1]) == argv
    assert argv == ["curl", "-fsS", "-o", "/dev/null", f"http://localhost:{port}/{path}"]


def _configured_cases() -> list[Path]:
    return sorted(p.parent for p in (ROOT / "DF402-no-healthcheck").glob("*/dockfix.toml"))


@pytest.mark.parametrize("case", _configured_cases(), ids=lambda p: p.name)
def test_configured_fixtures(case: Path) -> None:
    """Fixtures with a dockfix.toml: the configured unsafe output, verified like the others."""
    text = (case / "Dockerfile").read_bytes().decode("utf-8")
    expected_file = case / "expected.unsafe.Dockerfile"  # the dockfix.toml of the case applies
    expected = expected_file.read_bytes().decode("utf-8") if expected_file.exists() else text
    opts = RunOptions(select=(CODE,), unsafe_fixes=True, offline=True, context=str(case))
    outcome = fix_text_with(text, case / "Dockerfile", opts)
    assert outcome.warnings == []
    assert outcome.fixed == expected
    safe = fix_text_with(text, case / "Dockerfile", RunOptions(
        select=(CODE,), unsafe_fixes=False, offline=True, context=str(case)))
    assert safe.fixed == text
    if expected != text:
        assert buildkit_rejects(expected) is None
        again = fix_text_with(expected, case / "Dockerfile", opts)
        assert again.fixed == expected and again.findings == []
        before, after = hadolint_codes(text), hadolint_codes(expected)
        if before is not None and after is not None:
            assert after <= before, sorted(after - before)
