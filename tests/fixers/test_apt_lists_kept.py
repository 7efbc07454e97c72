"""DF103 apt-lists-kept: inline before/after cases, safety, display-only reasons, properties."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dockfix
from dockfix.core.fixer import Applicability, Finding
from hadolint_runner import hadolint_counts_or_skip as hadolint_counts

RM = "rm -rf /var/lib/apt/lists/*"
UPDATE_INSTALL = "apt-get update && apt-get install -y --no-install-recommends curl"


def fix(text: str, unsafe: bool = False) -> tuple[str, list[Finding]]:
    return dockfix.fix(text, select=["DF103"], unsafe_fixes=unsafe)


# --- apt: where the clean-up goes ---------------------------------------------------------


def test_one_line_run_gets_it_appended() -> None:
    out, left = fix(f"FROM debian\nRUN {UPDATE_INSTALL}\n")
    assert out == f"FROM debian\nRUN {UPDATE_INSTALL} && {RM}\n"
    assert left == []


def test_trailing_shell_comment_stays_last() -> None:
    out, _ = fix(f"FROM debian\nRUN {UPDATE_INSTALL} # tools\n")
    assert out == f"FROM debian\nRUN {UPDATE_INSTALL} && {RM} # tools\n"


def test_trailing_semicolon() -> None:
    out, _ = fix("FROM debian\nRUN apt-get update; apt-get install -y curl;\n")
    assert out == f"FROM debian\nRUN apt-get update; apt-get install -y curl && {RM};\n"


def test_leading_operator_style() -> None:
    src = "FROM debian\nRUN apt-get update \\\n  && apt-get install -y curl\n"
    out, _ = fix(src)
    assert (
        out == f"FROM debian\nRUN apt-get update \\\n  && apt-get install -y curl \\\n  && {RM}\n"
    )


def test_trailing_operator_style() -> None:
    src = "FROM debian\nRUN apt-get update && \\\n    apt-get install -y curl\n"
    out, _ = fix(src)
    assert (
        out
        == f"FROM debian\nRUN apt-get update && \\\n    apt-get install -y curl && \\\n    {RM}\n"
    )


def test_semicolons_with_set_e_stay_semicolons() -> None:
    src = "FROM debian\nRUN set -eux; \\\n    apt-get update; \\\n    apt-get install -y curl\n"
    out, _ = fix(src)
    assert out.endswith("    apt-get install -y curl; \\\n    rm -rf /var/lib/apt/lists/*\n")


def test_semicolons_without_set_e_use_and() -> None:
    # `; rm` would hide a failing install: the RUN must still fail when it fails.
    src = "FROM debian\nRUN apt-get update; \\\n    apt-get install -y curl\n"
    out, _ = fix(src)
    assert out.endswith("    apt-get install -y curl && \\\n    rm -rf /var/lib/apt/lists/*\n")


def test_package_list_continuation_in_docker_library_style() -> None:
    src = (
        "FROM debian\nRUN apt-get update && apt-get install -y --no-install-recommends \\\n"
        "\t\tca-certificates \\\n\t\tcurl\n"
    )
    out, _ = fix(src)
    assert out == src[:-1] + f" \\\n\t&& {RM}\n"


def test_comment_lines_inside_the_continuation_are_kept() -> None:
    src = (
        "FROM debian\nRUN apt-get update \\\n# the tools we need\n"
        " && apt-get install -y curl \\\n    # and git\n && apt-get install -y git\n"
    )
    out, _ = fix(src)
    assert out == src[:-1] + f" \\\n && {RM}\n"


def test_heredoc_with_set_e_gets_a_new_last_line() -> None:
    src = (
        "# syntax=docker/dockerfile:1\nFROM debian\nRUN <<EOF\nset -e\n"
        'apt-get update\napt-get install -y curl\nEOF\nCMD ["curl"]\n'
    )
    out, _ = fix(src)
    assert out == src.replace("install -y curl\nEOF", f"install -y curl\n{RM}\nEOF")


def test_heredoc_without_set_e_keeps_the_exit_status() -> None:
    src = "FROM debian\nRUN <<EOF\napt-get update\napt-get install -y curl\nEOF\n"
    out, _ = fix(src)
    assert out == src.replace("install -y curl\n", f"install -y curl && {RM}\n")


def test_heredoc_with_bash_interpreter_and_errexit_flag() -> None:
    src = "FROM debian\nRUN bash -ex <<'EOT'\n  apt-get update\n  apt-get install -y curl\nEOT\n"
    out, _ = fix(src)
    assert out == src.replace("install -y curl\n", f"install -y curl\n  {RM}\n")


def test_heredoc_data_for_a_command_is_not_the_script() -> None:
    src = (
        "FROM debian\nRUN cat <<EOF >/etc/apt/sources.list.d/x.list && apt-get update && "
        "apt-get install -y x\ndeb http://example.org stable main\nEOF\n"
    )
    out, _ = fix(src)
    assert out == src.replace("install -y x\n", f"install -y x && {RM}\n")


def test_onbuild_run() -> None:
    out, _ = fix(f"FROM debian\nONBUILD RUN {UPDATE_INSTALL}\n")
    assert out == f"FROM debian\nONBUILD RUN {UPDATE_INSTALL} && {RM}\n"


def test_crlf_bom_and_no_final_newline() -> None:
    src = "\ufeffFROM debian\r\nrun apt-get update \\\r\n && apt-get install -y curl"
    out, _ = fix(src)
    assert (
        out == "\ufeffFROM debian\r\nrun apt-get update \\\r\n"
        f" && apt-get install -y curl \\\r\n && {RM}"
    )


def test_apt_update_spelled_apt() -> None:
    out, _ = fix("FROM ubuntu\nRUN apt update && apt install -y curl\n")
    assert out == f"FROM ubuntu\nRUN apt update && apt install -y curl && {RM}\n"


# --- apt: when nothing is reported ----------------------------------------------------------


@pytest.mark.parametrize(
    "dockerfile",
    [
        f"FROM debian\nRUN {UPDATE_INSTALL} && {RM}\n",
        f"FROM debian\nRUN {UPDATE_INSTALL} && rm -rf /var/lib/apt/lists\n",
        f"FROM debian\nRUN {UPDATE_INSTALL} && rm -rf /var/lib/apt/* /tmp/*\n",
        f"FROM debian\nRUN {UPDATE_INSTALL} && apt-get distclean\n",
        f"FROM debian\nRUN --mount=type=cache,target=/var/lib/apt {UPDATE_INSTALL}\n",
        f"FROM debian\nRUN --mount=type=tmpfs,target=/var/lib/apt/lists {UPDATE_INSTALL}\n",
        "FROM debian\nARG LISTS=/var/lib/apt/lists\n"
        f"RUN --mount=type=cache,target=$LISTS {UPDATE_INSTALL}\n",
        "FROM debian\nRUN apt-get update\n",  # update alone: DF102
        "FROM debian\nRUN apt-get install -y curl\n",  # lists come from elsewhere
        # a build stage that no image is made of (hadolint's DL3009 scope)
        f"FROM debian AS build\nRUN {UPDATE_INSTALL}\nFROM scratch\nCOPY --from=build /x /x\n",
        'FROM debian\nRUN ["/bin/sh", "-c", "apt-get update"]\n',
    ],
)
def test_no_change(dockerfile: str) -> None:
    assert fix(dockerfile, unsafe=True) == (dockerfile, [])


def test_removal_before_the_update_does_not_count() -> None:
    src = f"FROM debian\nRUN {RM} && {UPDATE_INSTALL}\n"
    out, _ = fix(src)
    assert out == f"FROM debian\nRUN {RM} && {UPDATE_INSTALL} && {RM}\n"


def test_stage_used_as_a_base_is_reported() -> None:
    src = f'FROM debian AS base\nRUN {UPDATE_INSTALL}\nFROM base\nCMD ["curl"]\n'
    out, _ = fix(src)
    assert f"{UPDATE_INSTALL} && {RM}" in out


# --- apt: clean-ups written other ways (issue 17) ------------------------------------------

BASH = 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]\n'


@pytest.mark.parametrize(
    "dockerfile",
    [
        # apt >= 2.7 removes the lists itself (both spellings)
        f"FROM debian:trixie-slim\nRUN {UPDATE_INSTALL} && apt-get dist-clean\n",
        f"FROM debian:trixie-slim\nRUN {UPDATE_INSTALL} && apt-get distclean\n",
        "FROM debian:trixie-slim\nRUN apt update && apt install -y curl && apt dist-clean\n",
        # brace lists, where the shell expands them
        f"FROM postgres:16\n{BASH}RUN {UPDATE_INSTALL} && rm -rf /var/{{cache,lib}}/apt\n",
        f"FROM debian\n{BASH}RUN {UPDATE_INSTALL} \\\n && rm -rf /var/lib/apt/lists/{{,.}}*\n",
        f"FROM debian\nRUN bash <<EOF\nset -e\n{UPDATE_INSTALL}\nrm -rf /var/{{cache,lib}}/apt\nEOF\n",
        # the Phoenix generator's clean-up: a glob of the list files
        f"FROM debian\nRUN {UPDATE_INSTALL} \\\n  && apt-get clean && rm -f /var/lib/apt/lists/*_*\n",
    ],
)
def test_other_clean_ups_count(dockerfile: str) -> None:
    assert fix(dockerfile, unsafe=True) == (dockerfile, [])


def test_braces_under_dash_remove_nothing() -> None:
    src = f"FROM postgres:16\nRUN {UPDATE_INSTALL} && rm -rf /var/{{cache,lib}}/apt\n"
    out, _ = fix(src)
    assert (
        out == f"FROM postgres:16\nRUN {UPDATE_INSTALL} && rm -rf /var/{{cache,lib}}/apt && {RM}\n"
    )
    (found,) = dockfix.fix_outcome(src, select=["DF103"]).applied
    assert "`/var/{cache,lib}/apt` is not brace-expanded by `sh`" in found.message


@pytest.mark.parametrize(
    "removal",
    [
        "rm -rf /var/lib/apt/lists/{apt,dpkg,cache,log} /tmp/* /var/tmp/*",  # entries only
        "rm -rf /var/lib/apt/lists/partial",
    ],
)
def test_removing_some_entries_keeps_the_lists(removal: str) -> None:
    src = f"FROM ubuntu:22.04\n{BASH}RUN {UPDATE_INSTALL} \\\n  && {removal}\n"
    out, _ = fix(src)
    assert (
        out == f"FROM ubuntu:22.04\n{BASH}RUN {UPDATE_INSTALL} \\\n  && {removal} \\\n  && {RM}\n"
    )


def test_no_rm_appended_after_a_later_dist_clean() -> None:
    src = f"FROM debian:trixie\nRUN {UPDATE_INSTALL}\nRUN apt-get install -y git && apt-get dist-clean\n"
    out, _ = fix(src, unsafe=True)
    assert out == (
        f"FROM debian:trixie\nRUN {UPDATE_INSTALL} && {RM}\n"
        "RUN apt-get update && apt-get install -y git && apt-get dist-clean\n"
    )


# --- apt: later RUNs that need the lists -----------------------------------------------------


def test_later_install_without_update_gets_one_and_is_unsafe() -> None:
    src = f"FROM debian\nRUN {UPDATE_INSTALL}\nRUN apt-get install -y git\n"
    out, left = fix(src)
    assert out == src
    assert left[0].applicability is Applicability.UNSAFE
    assert "adds `apt-get update` to the RUN on line 3" in left[0].message
    out, left = fix(src, unsafe=True)
    assert out == (
        f"FROM debian\nRUN {UPDATE_INSTALL} && {RM}\n"
        f"RUN apt-get update && apt-get install -y git && {RM}\n"
    )
    assert left == []


def test_later_install_in_a_child_stage() -> None:
    src = f"FROM debian AS base\nRUN {UPDATE_INSTALL}\nFROM base\nRUN apt-get install -y git\n"
    out, _ = fix(src, unsafe=True)
    assert out.endswith(f"FROM base\nRUN apt-get update && apt-get install -y git && {RM}\n")


def test_a_later_update_ends_the_check() -> None:
    src = f"FROM debian\nRUN {UPDATE_INSTALL}\nRUN {UPDATE_INSTALL}\nRUN apt-get install -y git\n"
    out, _ = fix(src, unsafe=True)
    # The second RUN is reported on its own; the first is safe (the second refreshes).
    assert out.count(RM) >= 2
    assert fix(out, unsafe=True) == (out, [])


@pytest.mark.parametrize(
    ("later", "why"),
    [
        ('RUN ["apt-get", "install", "-y", "git"]', "in a way this fix cannot extend"),
        ("RUN if true; then apt-get install -y git; fi", "in a way this fix cannot extend"),
        ("RUN false || apt-get install -y git", "in a way this fix cannot extend"),
    ],
)
def test_later_install_that_cannot_be_extended_is_display_only(later: str, why: str) -> None:
    src = f"FROM debian\nRUN {UPDATE_INSTALL}\n{later}\n"
    out, left = fix(src, unsafe=True)
    assert out == src
    assert left[0].applicability is Applicability.DISPLAY_ONLY
    assert "line 3" in left[0].reason and why in left[0].reason


def test_later_script_makes_it_unsafe() -> None:
    src = f"FROM debian\nRUN {UPDATE_INSTALL}\nCOPY install.sh /\nRUN ./install.sh\n"
    out, left = fix(src)
    assert out == src
    assert left[0].applicability is Applicability.UNSAFE
    assert "runs `./install.sh`" in left[0].message


@pytest.mark.parametrize(
    "later",
    [
        "COPY scripts/install-tools.sh /usr/local/bin/\nRUN install-tools.sh\n",
        "WORKDIR /opt\nCOPY scripts/install-tools.sh .\nRUN sh ./install-tools.sh\n",
        "RUN --mount=type=bind,source=scripts/install-tools.sh,target=/tmp/i.sh bash /tmp/i.sh\n",
    ],
)
def test_a_later_script_of_the_context_that_installs_without_update_keeps_the_lists(
    tmp_path: Path, later: str
) -> None:
    """The script is in the build context: it installs with apt without an update, so the
    clean-up would break the build (unsafe before, where the script was not read)."""
    (tmp_path / "scripts").mkdir()
    script = "#!/bin/sh\nset -e\napt-get install -y --no-install-recommends jq\n"
    (tmp_path / "scripts" / "install-tools.sh").write_text(script)
    src = f"FROM debian:12\nRUN {UPDATE_INSTALL}\n{later}"
    out, left = dockfix.fix(src, path=tmp_path / "Dockerfile", select=["DF103"], unsafe_fixes=True)
    assert out == src
    assert [f.applicability for f in left] == [Applicability.DISPLAY_ONLY]
    assert "scripts/install-tools.sh" in left[0].reason
    assert "without `apt-get update`" in left[0].reason
    # a script that updates first, or does not use apt, leaves the fix as it was: unsafe
    (tmp_path / "scripts" / "install-tools.sh").write_text(script.replace("apt-get", "pip"))
    out, left = dockfix.fix(src, path=tmp_path / "Dockerfile", select=["DF103"], unsafe_fixes=True)
    assert RM in out and left == []


def test_later_install_under_its_own_cache_mount_is_fine() -> None:
    src = (
        f"FROM debian\nRUN {UPDATE_INSTALL}\n"
        "RUN --mount=type=cache,target=/var/lib/apt/lists apt-get install -y git\n"
    )
    out, left = fix(src)
    assert out.startswith(f"FROM debian\nRUN {UPDATE_INSTALL} && {RM}\n")
    assert left == []


# --- apt: display-only -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("run", "reason"),
    [
        (f"RUN {UPDATE_INSTALL} &", "the script ends by sending a command to the background"),
        (f"RUN {UPDATE_INSTALL}; exit 0", "the script ends with `exit`"),
        (
            f"RUN --mount=type=cache,target=$CACHE {UPDATE_INSTALL}",
            "the --mount target `$CACHE` is not known",
        ),
        (
            'RUN ["/bin/sh", "-c", "apt-get update && apt-get install -y curl"]',
            "exec-form RUN: add the clean-up by hand",
        ),
    ],
)
def test_display_only(run: str, reason: str) -> None:
    src = f"FROM debian\n{run}\n"
    out, left = fix(src, unsafe=True)
    assert out == src
    assert [f.reason for f in left] == [reason]


def test_hadolint_pragma_suppresses() -> None:
    src = f"FROM debian\n# hadolint ignore=DL3009\nRUN {UPDATE_INSTALL}\n"
    assert fix(src) == (src, [])


# --- apk ---------------------------------------------------------------------------------


def test_apk_update_then_add_becomes_no_cache() -> None:
    out, left = fix("FROM alpine\nRUN apk update && apk add curl\n")
    assert out == "FROM alpine\nRUN apk add --no-cache curl\n"
    assert left == []


def test_apk_update_on_its_own_continuation_line() -> None:
    out, _ = fix("FROM alpine\nRUN apk update && \\\n    apk add curl git\n")
    assert out == "FROM alpine\nRUN apk add --no-cache curl git\n"


def test_apk_update_kept_when_another_command_reads_the_index() -> None:
    src = "FROM alpine\nRUN apk update && apk info -a musl && apk add curl\n"
    out, _ = fix(src)
    assert out == (
        "FROM alpine\nRUN apk update && apk info -a musl && apk add --no-cache curl"
        " && rm -rf /var/cache/apk/*\n"
    )


def test_apk_add_update_flag_is_safe() -> None:
    out, _ = fix("FROM alpine\nRUN apk add --update curl\n")
    assert out == "FROM alpine\nRUN apk add --no-cache --update curl\n"


def test_apk_add_relying_on_an_earlier_index_is_unsafe() -> None:
    src = "FROM alpine\nRUN apk add curl\n"
    out, left = fix(src)
    assert out == src
    assert left[0].applicability is Applicability.UNSAFE
    assert fix(src, unsafe=True)[0] == "FROM alpine\nRUN apk add --no-cache curl\n"


def test_apk_later_add_relies_on_the_index() -> None:
    src = "FROM alpine\nRUN apk add -U curl\nRUN apk add git\n"
    out, left = fix(src)
    assert out == src
    assert all(f.applicability is Applicability.UNSAFE for f in left)
    out, left = fix(src, unsafe=True)
    assert out == "FROM alpine\nRUN apk add --no-cache -U curl\nRUN apk add --no-cache git\n"


@pytest.mark.parametrize(
    "run",
    [
        "RUN apk add --no-cache curl",
        "RUN apk --no-cache add curl",
        "RUN --mount=type=cache,target=/var/cache/apk apk add curl",
        "RUN --mount=type=cache,target=/etc/apk/cache apk add curl",
        "RUN apk del curl",
    ],
)
def test_apk_no_change(run: str) -> None:
    src = f"FROM alpine\n{run}\n"
    assert fix(src, unsafe=True) == (src, [])


# --- dnf, yum, microdnf, zypper ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("install", "clean"),
    [
        ("dnf install -y git", "dnf clean all"),
        ("yum install -y git", "yum clean all"),
        ("microdnf install -y git", "microdnf clean all"),
        ("zypper --non-interactive install git", "zypper clean --all"),
        ("dnf -y upgrade", "dnf clean all"),
    ],
)
def test_rpm_family_clean(install: str, clean: str) -> None:
    out, left = fix(f"FROM fedora\nRUN {install}\n")
    assert out == f"FROM fedora\nRUN {install} && {clean}\n"
    assert left == []


@pytest.mark.parametrize(
    "run",
    [
        "RUN dnf install -y git && dnf clean all",
        "RUN dnf install -y git && rm -rf /var/cache/dnf",
        "RUN yum install -y git && yum clean all && rm -rf /var/cache/yum",
        "RUN zypper install -y git && zypper cc -a",
        "RUN --mount=type=cache,target=/var/cache/dnf dnf install -y git",
        "RUN dnf clean all",
    ],
)
def test_rpm_no_change(run: str) -> None:
    src = f"FROM fedora\n{run}\n"
    assert fix(src, unsafe=True) == (src, [])


def test_clean_before_install_does_not_count() -> None:
    out, _ = fix("FROM fedora\nRUN dnf clean all && dnf install -y git\n")
    assert out == "FROM fedora\nRUN dnf clean all && dnf install -y git && dnf clean all\n"


def test_later_cacheonly_use_is_display_only() -> None:
    src = "FROM fedora\nRUN dnf install -y git\nRUN dnf -C install -y vim\n"
    out, left = fix(src, unsafe=True)
    assert out.startswith(src.split("\n")[0])
    assert "line 3 runs dnf from the cache" in left[0].reason


# --- properties ---------------------------------------------------------------------------------


def test_idempotent_on_a_mixed_file() -> None:
    src = (
        f"FROM debian AS base\nRUN {UPDATE_INSTALL}\nFROM base\nRUN apt-get install -y git\n"
        "FROM alpine\nRUN apk update && apk add curl\nFROM fedora\nRUN dnf install -y git\n"
    )
    once, _ = fix(src, unsafe=True)
    assert fix(once, unsafe=True) == (once, [])


_LAYOUT = st.sampled_from(["one-line", "leading", "trailing", "set-e", "heredoc", "heredoc-set-e"])


@settings(max_examples=60, deadline=None)
@given(
    layout=_LAYOUT,
    packages=st.lists(st.from_regex(r"[a-z][a-z0-9]{1,6}", fullmatch=True), min_size=1, max_size=3),
    comment=st.booleans(),
    crlf=st.booleans(),
)
def test_property_only_insertions_and_stable(
    layout: str, packages: list[str], comment: bool, crlf: bool
) -> None:
    pk = " ".join(packages)
    tail = " # deps" if comment else ""
    body = {
        "one-line": f"RUN apt-get update && apt-get install -y {pk}{tail}\n",
        "leading": f"RUN apt-get update \\\n    && apt-get install -y {pk}{tail}\n",
        "trailing": f"RUN apt-get update && \\\n    apt-get install -y {pk}{tail}\n",
        "set-e": f"RUN set -ex; \\\n    apt-get update; \\\n    apt-get install -y {pk}{tail}\n",
        "heredoc": f"RUN <<EOF\napt-get update\napt-get install -y {pk}{tail}\nEOF\n",
        "heredoc-set-e": f"RUN <<EOF\nset -e\napt-get update\napt-get install -y {pk}{tail}\nEOF\n",
    }[layout]
    src = "# syntax=docker/dockerfile:1\nFROM debian\n" + body + 'CMD ["sh"]\n'
    if crlf:
        src = src.replace("\n", "\r\n")
    out, left = fix(src)
    assert left == []
    assert out.count(RM) == 1
    # Only insertions: every character of the input is still there, in order.
    it = iter(out)
    assert all(ch in it for ch in src)
    if crlf:
        assert "\n" not in out.replace("\r\n", "")
    if comment:
        assert out.index(RM) < out.index("# deps")
    assert fix(out) == (out, [])
    import dockerfile

    dockerfile.parse_string(out)


def test_documented_example_is_what_the_fix_does() -> None:
    import re

    from dockfix.fixers.apt_lists_kept import AptListsKept

    doc = AptListsKept.documentation()
    example = doc.split("## Example", 1)[1].split("\n## ", 1)[0]
    before, after = re.findall(r"```dockerfile\n(.*?)```", example, re.S)
    assert fix(before, unsafe=True)[0] == after


@pytest.mark.parametrize(
    "later",
    [
        "xargs apt-get install -y --no-install-recommends < /tmp/pkgs.txt",
        "sh -c 'apt-get install -y git'",
        "timeout 600 apt-get install -y git",
        "nice -n 5 apt-get install -y git",
    ],
)
def test_a_later_install_behind_a_wrapper_keeps_the_lists(later: str) -> None:
    # found on real Dockerfiles: removing the lists here broke the later install
    src = (
        "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\n"
        f"COPY pkgs.txt /tmp/pkgs.txt\nRUN {later}\n"
    )
    out, left = dockfix.fix(src, select=["DF103"], unsafe_fixes=True)
    assert out == src
    assert left and "cannot follow" in left[0].reason


def test_keepcache_turned_on_by_the_file_is_respected() -> None:
    src = "FROM centos:7\nRUN sed -i 's/.*keepcache.*/keepcache=1/' /etc/yum.conf\nRUN yum install -y rpm-build\n"
    assert dockfix.fix(src, select=["DF103"]) == (src, [])
    plain = "FROM centos:7\nRUN yum install -y rpm-build\n"
    assert dockfix.fix(plain, select=["DF103"])[0] != plain


# --- Yarn 1 (hadolint DL3060) -------------------------------------------------------------------

YARN1_LOCK = (
    "# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n# yarn lockfile v1\n\n\n"
    'express@^4.19.2:\n  version "4.19.2"\n'
)
YARN_APP = (
    "FROM node:20-alpine\nWORKDIR /app\nCOPY package.json yarn.lock ./\n"
    "RUN yarn install --frozen-lockfile --production\nCOPY . .\nUSER node\n"
    'CMD ["node", "server.js"]\n'
)


def fix_yarn(tmp_path: Path, text: str, files: dict[str, str]) -> tuple[str, list[Finding]]:
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    return dockfix.fix(text, path=tmp_path / "Dockerfile", select=["DF103"], unsafe_fixes=True)


def test_yarn1_install_gets_its_cache_cleaned(tmp_path: Path) -> None:
    out, left = fix_yarn(tmp_path, YARN_APP, {"package.json": "{}", "yarn.lock": YARN1_LOCK})
    assert out == YARN_APP.replace("--production\n", "--production && yarn cache clean\n")
    assert left == []
    # safe: applied without --unsafe-fixes
    assert dockfix.fix(YARN_APP, path=tmp_path / "Dockerfile", select=["DF103"]) == (out, [])
    assert hadolint_counts(YARN_APP)["DL3060"] == 1 and hadolint_counts(out)["DL3060"] == 0
    assert fix_yarn(tmp_path, out, {}) == (out, [])


@pytest.mark.parametrize(
    ("change", "files", "reason"),
    [
        (("", ""), {"package.json": '{"packageManager": "yarn@4.1.0"}'}, "asks for `yarn@4.1.0`"),
        (
            ("", ""),
            {"yarn.lock": "__metadata:\n  version: 8\n"},
            "yarn.lock is in the Yarn 2+ format",
        ),
        (("", ""), {".yarnrc.yml": "nodeLinker: node-modules\n"}, "the project has a .yarnrc.yml"),
        (("RUN yarn", "RUN corepack enable && yarn"), {}, "line 4 switches the Yarn release"),
        (("--production", "--immutable"), {}, "`--immutable` is a Yarn 2+ option"),
        (
            ("USER node", "RUN yarn install --offline && yarn cache clean"),
            {},
            "line 6 installs from Yarn's cache",
        ),
        (("", ""), {"yarn.lock": ""}, "no `yarn.lock` is copied to /app"),
    ],
)
def test_yarn_left_alone_unless_certainly_yarn1(
    tmp_path: Path, change: tuple[str, str], files: dict[str, str], reason: str
) -> None:
    text = YARN_APP.replace(*change) if change[0] else YARN_APP
    context = {"package.json": "{}", "yarn.lock": YARN1_LOCK, **files}
    context = {name: text for name, text in context.items() if text}  # "": not in the context
    if ".yarnrc.yml" in files:
        text = text.replace("yarn.lock ./", "yarn.lock .yarnrc.yml ./")
    out, left = fix_yarn(tmp_path, text, context)
    assert out == text
    assert [f.applicability for f in left] == [Applicability.DISPLAY_ONLY]
    assert reason in left[0].reason, left[0].reason


@pytest.mark.parametrize(
    "text",
    [
        # a cache mount keeps the cache out of the layer (DF104 writes these)
        YARN_APP.replace(
            "RUN yarn", "RUN --mount=type=cache,target=/usr/local/share/.cache/yarn yarn"
        ),
        YARN_APP.replace("--production", "--production; yarn cache clean --all"),
        # a builder stage: only its output is copied on, as hadolint reads it
        "FROM node:20 AS build\nWORKDIR /app\nCOPY . .\nRUN yarn install && yarn build\n"
        "FROM nginx:1.27-alpine\nCOPY --from=build /app/dist /usr/share/nginx/html\n",
    ],
)
def test_yarn_not_reported(tmp_path: Path, text: str) -> None:
    assert fix_yarn(tmp_path, text, {"package.json": "{}", "yarn.lock": YARN1_LOCK}) == (text, [])
    assert hadolint_counts(text)["DL3060"] == 0


def test_apk_add_without_network_keeps_no_index() -> None:
    # review-rw: the redis image's `apk add --no-network --virtual .rundeps $runDeps` got a
    # redundant `--no-cache`
    src = "FROM alpine:3.20\nRUN apk add --no-network --virtual .rundeps $runDeps\n"
    assert fix(src, unsafe=True) == (src, [])
