"""DF513 expose-format: host ports dropped from EXPOSE (safe), protocols in lower case (unsafe)."""

from __future__ import annotations

import dockerfile  # type: ignore[import-untyped]
import pytest

import dockfix
from dockfix.core.fixer import Applicability, Finding
from hadolint_runner import hadolint_counts_or_skip as hadolint_counts


def fix(text: str, unsafe: bool = False) -> tuple[str, list[Finding]]:
    return dockfix.fix(text, select=["DF513"], unsafe_fixes=unsafe)


def container_ports(text: str) -> list[str]:
    """What BuildKit exposes: the container port of each word, its protocol (tcp default)."""
    out = []
    for c in dockerfile.parse_string(text):
        if c.cmd.upper() == "EXPOSE":
            for w in c.value:
                port = w.rsplit(":", 1)[-1]
                out.append(port if "/" in port else port + "/tcp")
    return out


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("EXPOSE 8080:80", "EXPOSE 80"),
        ("EXPOSE 127.0.0.1:8080:80/tcp 443", "EXPOSE 80/tcp 443"),
        ("EXPOSE 127.0.0.1::80", "EXPOSE 80"),
        ("expose 8000-8010:8000-8010/udp", "expose 8000-8010/udp"),
    ],
)
def test_host_part_dropped_safely(before: str, after: str) -> None:
    src = f"FROM httpd:2.4\n{before}\n"
    out, left = fix(src)
    assert out == f"FROM httpd:2.4\n{after}\n" and left == []
    assert container_ports(out) == container_ports(src)
    assert "DL1000" in hadolint_counts(src) and "DL1000" not in hadolint_counts(out)
    assert fix(out) == (out, [])


def test_protocol_case_is_unsafe() -> None:
    src = "FROM httpd:2.4\nEXPOSE 8080:80/TCP 53/UDP\n"
    out, left = fix(src)
    assert out == src.replace("8080:80/TCP", "80/TCP")
    assert [f.applicability for f in left] == [Applicability.UNSAFE, Applicability.UNSAFE]
    out, left = fix(src, unsafe=True)
    assert out == "FROM httpd:2.4\nEXPOSE 80/tcp 53/udp\n" and left == []


@pytest.mark.parametrize(
    "line",
    ["EXPOSE 80", "EXPOSE 80/tcp 53/udp", "EXPOSE $PORT", "EXPOSE ${HOST}:80", "EXPOSE 8000-8010"],
)
def test_no_finding(line: str) -> None:
    src = f"FROM httpd:2.4\n{line}\n"
    assert fix(src, unsafe=True) == (src, [])


def test_the_protocol_after_a_variable_port_is_lower_cased() -> None:
    # BuildKit's ExposeProtoCasing reads `${PORT:-80}/TCP` as `80/TCP`: the protocol is
    # written text whatever the port expands to
    src = "FROM nginx:1.27\nARG PORT=80\nEXPOSE ${PORT:-80}/TCP $ADMIN/Udp ${X:-9/TCP}\n"
    out, _ = dockfix.fix(src, select=["DF513"], unsafe_fixes=True)
    assert out == "FROM nginx:1.27\nARG PORT=80\nEXPOSE ${PORT:-80}/tcp $ADMIN/udp ${X:-9/TCP}\n"
