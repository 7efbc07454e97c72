"""DF527 bin-sh-symlink: `ln -sf /bin/bash /bin/sh` becomes `SHELL` where /bin/sh does not matter
after the build."""

from __future__ import annotations

import pytest

import dockfix
from dockfix.core.fixer import Applicability, Finding
from hadolint_runner import hadolint_counts_or_skip as hadolint_counts


def fix(text: str) -> tuple[str, list[Finding]]:
    return dockfix.fix(text, select=["DF527"], unsafe_fixes=True)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            'FROM ubuntu:24.04\nRUN ln -sf /bin/bash /bin/sh\nRUN source /opt/env.sh\nCMD ["/srv/app"]\n',
            'FROM ubuntu:24.04\nSHELL ["/bin/bash", "-c"]\nRUN source /opt/env.sh\nCMD ["/srv/app"]\n',
        ),
        (
            "FROM debian:12 AS build\nrun rm /bin/sh && \\\n    ln -s bash /bin/sh\nrun make\n"
            "FROM scratch\nCOPY --from=build /out/app /app\n",
            'FROM debian:12 AS build\nshell ["/bin/bash", "-c"]\nrun make\n'
            "FROM scratch\nCOPY --from=build /out/app /app\n",
        ),
    ],
)
def test_link_becomes_shell(before: str, after: str) -> None:
    out, left = fix(before)
    assert (out, left) == (after, [])
    unfixed, (finding,) = dockfix.fix(before, select=["DF527"])
    assert unfixed == before and finding.applicability is Applicability.UNSAFE
    assert hadolint_counts(before)["DL4005"] == 1 and hadolint_counts(out)["DL4005"] == 0
    assert sum(hadolint_counts(out).values()) <= sum(hadolint_counts(before).values())
    assert fix(out) == (out, [])


@pytest.mark.parametrize(
    ("src", "reason"),
    [
        (
            "FROM ubuntu:24.04\nRUN ln -sf /bin/bash /bin/sh\nCMD server --port 80\n",
            "the shell-form CMD on line 3 runs `/bin/sh -c`",
        ),
        (
            'FROM ubuntu:24.04\nRUN ln -sf /bin/bash /bin/sh\nENTRYPOINT ["/docker-entrypoint.sh"]\n',
            "runs a shell script",
        ),
        ("FROM ubuntu:24.04\nRUN ln -sf /bin/bash /bin/sh\n", "sets no CMD or ENTRYPOINT"),
        (
            'FROM ubuntu:24.04\nRUN ln -sf /bin/bash /bin/sh && apt-get update\nCMD ["x"]\n',
            "does more than the link",
        ),
        (
            'FROM ubuntu:24.04\nRUN ln -sf /bin/bash /bin/sh\nRUN sh ./configure\nCMD ["x"]\n',
            "the RUN on line 3 runs `sh` itself",
        ),
        (
            'FROM ubuntu:24.04\nSHELL ["/bin/bash", "-c"]\nRUN ln -sf /bin/bash /bin/sh\nCMD ["x"]\n',
            "a SHELL is already in effect",
        ),
        (
            'FROM alpine:3.20\nRUN ln -sf /bin/busybox /bin/sh\nCMD ["x"]\n',
            "does not link a POSIX shell",
        ),
        ('FROM ubuntu:24.04\nONBUILD RUN ln -sf /bin/bash /bin/sh\nCMD ["x"]\n', "ONBUILD"),
    ],
)
def test_display_only_where_bin_sh_still_matters(src: str, reason: str) -> None:
    out, left = fix(src)
    assert out == src and len(left) == 1
    assert left[0].applicability is Applicability.DISPLAY_ONLY and reason in left[0].reason
    assert hadolint_counts(src)["DL4005"] == 1


def test_other_links_are_not_reported() -> None:
    src = 'FROM ubuntu:24.04\nRUN ln -sf /usr/bin/python3 /usr/bin/python\nCMD ["x"]\n'
    assert fix(src) == (src, [])
    assert hadolint_counts(src)["DL4005"] == 0


def test_verify_expects_the_shell_and_bin_sh_to_differ() -> None:
    from dockfix.proof.verify import allowed_changes

    allowed = allowed_changes(["DF527"])
    assert allowed.config_fields == {"Shell"}
    assert {r.pattern for r in allowed.path_rules} >= {"/bin/sh", "/usr/bin/sh"}
