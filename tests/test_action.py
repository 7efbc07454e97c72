"""The GitHub Action (action.yml): its `run:` steps, run with bash the way the runner runs them.

The runner evaluates `${{ … }}` in `env:` before the script starts, exports the step's `env:`,
GITHUB_OUTPUT (a file of `name=value` lines), RUNNER_TEMP and GITHUB_ACTION_PATH, and runs
the script as `bash --noprofile --norc -eo pipefail FILE`. Here `dockfix` on PATH is the real
one, from the test environment. Inputs carry quotes, `$(…)` and newlines: none may run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
STEPS: list[dict[str, Any]] = ACTION["runs"]["steps"]
DEFAULTS = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
CONDITION = re.compile(r"inputs\.([\w-]+) == '([^']*)'")


def run_steps() -> list[dict[str, Any]]:
    return [step for step in STEPS if "run" in step]


def step_named(name: str) -> dict[str, Any]:
    return next(step for step in STEPS if step.get("name") == name)


def runs(step: dict[str, Any], inputs: dict[str, str]) -> bool:
    """The step's `if:` (only `inputs.x == 'y'` joined by `||` appears in action.yml)."""
    condition = step.get("if")
    if condition is None:
        return True
    alternatives = [part.strip() for part in str(condition).split("||")]
    assert all(CONDITION.fullmatch(part) for part in alternatives), condition
    return any(
        inputs[m.group(1)] == m.group(2)
        for m in (CONDITION.fullmatch(part) for part in alternatives)
        if m is not None
    )


def evaluated(value: str, inputs: dict[str, str]) -> str:
    """What the runner puts into an `env:` value: `${{ inputs.x }}` replaced by the input."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name.startswith("inputs."), f"only inputs are passed to scripts: {name}"
        return inputs[name.removeprefix("inputs.")]

    return EXPRESSION.sub(one, value)


class Runner:
    """One job's worth of runner state: the work directory, RUNNER_TEMP and GITHUB_OUTPUT."""

    def __init__(self, tmp_path: Path, workdir: Path, path_prefix: Path | None = None) -> None:
        self.workdir = workdir
        self.temp = tmp_path / "runner temp"
        self.temp.mkdir()
        self.output = tmp_path / "github_output"
        self.output.touch()
        bin_dir = str(Path(sys.executable).parent)  # the real dockfix and python
        self.path = os.pathsep.join(
            [*([str(path_prefix)] if path_prefix else []), bin_dir, os.environ["PATH"]]
        )

    def run(self, step: dict[str, Any], **given: str) -> subprocess.CompletedProcess[str]:
        inputs = {**DEFAULTS, **given}
        assert runs(step, inputs)
        assert step["shell"] == "bash"
        script = self.temp / f"step-{uuid.uuid4().hex}.sh"
        script.write_text(step["run"], encoding="utf-8")
        env = {
            "PATH": self.path,
            "HOME": os.environ.get("HOME", str(self.temp)),
            "GITHUB_OUTPUT": str(self.output),
            "RUNNER_TEMP": str(self.temp),
            "GITHUB_ACTION_PATH": str(ROOT),
            "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME", str(self.temp)),
            "DOCKER_CONFIG": str(self.temp / "docker-config"),
        }
        env.update({k: evaluated(str(v), inputs) for k, v in step.get("env", {}).items()})
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=self.workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def outputs(self) -> dict[str, str]:
        lines = self.output.read_text(encoding="utf-8").splitlines()
        return dict(line.split("=", 1) for line in lines if line)


SHELL_DIR = "$(touch${IFS}pwned)"  # a directory name that is shell code, without whitespace


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A checkout whose Dockerfiles live in directories named like shell code."""
    work = tmp_path / "checkout"
    for name in (SHELL_DIR, "it's\"quoted\""):
        (work / name).mkdir(parents=True)
        (work / name / "Dockerfile").write_text(
            "FROM debian:12\nRUN apt-get update\nRUN apt-get install -y curl\n"
        )
    return work


HOSTILE = [
    "$(touch pwned)",
    "`touch pwned`",
    "'; touch pwned; '",
    '"; touch pwned; echo "',
    "x\ntouch pwned",
    "$HOME ${PATH} *",
]


def test_no_input_is_pasted_into_a_script() -> None:
    for step in run_steps():
        assert "${{" not in step["run"], step.get("name")
        for value in step.get("env", {}).values():
            assert EXPRESSION.fullmatch(str(value)), f"{step.get('name')}: {value!r}"
    uses = [step["uses"] for step in STEPS if "uses" in step]
    assert "github/codeql-action/upload-sarif@v4" in uses


def test_outputs_are_wired_to_the_steps() -> None:
    outputs = ACTION["outputs"]
    assert outputs["findings"]["value"] == "${{ steps.check.outputs.findings }}"
    assert outputs["sarif"]["value"] == "${{ steps.check.outputs.sarif }}"
    assert outputs["pr-url"]["value"] == "${{ steps.pr.outputs.pull-request-url }}"
    pr = next(step for step in STEPS if step.get("id") == "pr")
    assert pr["uses"].startswith("peter-evans/create-pull-request@")
    assert step_named("Check")["id"] == "check"


@pytest.mark.parametrize("mode", ["sarif", "pr", "check"])
def test_known_modes_pass_the_input_check(tmp_path: Path, repo: Path, mode: str) -> None:
    proc = Runner(tmp_path, repo).run(step_named("Check the inputs"), mode=mode)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("mode", ["sraif", "", *HOSTILE])
def test_an_unknown_mode_fails_with_a_clear_message(tmp_path: Path, repo: Path, mode: str) -> None:
    proc = Runner(tmp_path, repo).run(step_named("Check the inputs"), mode=mode)
    assert proc.returncode == 1
    (line,) = proc.stdout.splitlines()  # one line, whatever newlines the value holds
    assert line.startswith("::error title=dockfix::unknown mode '")
    assert line.endswith("': expected sarif, pr or check")
    assert not (repo / "pwned").exists()


def test_install_step_quotes_the_action_path(tmp_path: Path, repo: Path) -> None:
    fake = tmp_path / "fake-bin"
    fake.mkdir()
    record = tmp_path / "argv.json"
    (fake / "python").write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"json.dump(sys.argv[1:], open({str(record)!r}, 'w'))\n"
    )
    (fake / "python").chmod(0o755)
    proc = Runner(tmp_path, repo, path_prefix=fake).run(step_named("Install dockfix"))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(record.read_text()) == ["-m", "pip", "install", f"{ROOT}[buildkit]"]


def test_sarif_mode_with_hostile_paths_and_args(tmp_path: Path, repo: Path) -> None:
    runner = Runner(tmp_path, repo)
    proc = runner.run(
        step_named("Check"),
        mode="sarif",
        paths=f"{SHELL_DIR}\n  it's\"quoted\"",  # a newline and quotes: two directory names
        args="--offline\n--select\tDF102 ",
    )
    assert proc.returncode == 0, proc.stderr
    assert not (repo / "pwned").exists()
    outputs = runner.outputs()
    assert outputs["sarif"] == str(runner.temp / "dockfix.sarif")
    sarif = json.loads(Path(outputs["sarif"]).read_text(encoding="utf-8"))
    results = [r for run in sarif["runs"] for r in run["results"]]
    assert {r["ruleId"] for r in results} == {"DF102"}
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert len(uris) == 2
    assert outputs["findings"] == str(len(results)) == "2"


@pytest.mark.parametrize("hostile", HOSTILE)
def test_check_mode_runs_no_input_as_shell(tmp_path: Path, repo: Path, hostile: str) -> None:
    runner = Runner(tmp_path, repo)
    marker = Path(f"/tmp/pwned-{uuid.uuid4().hex}")
    for value in (hostile, hostile.replace("pwned", str(marker))):
        proc = runner.run(step_named("Check"), mode="check", args=f"--offline {value}")
        assert not (repo / "pwned").exists() and not marker.exists()
        # the hostile words are paths or options to dockfix, which reports them: exit 2
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "findings" in runner.outputs()


def test_check_mode_annotations_count_and_fail_on_findings(tmp_path: Path, repo: Path) -> None:
    runner = Runner(tmp_path, repo)
    proc = runner.run(step_named("Check"), mode="check", args="--offline --select DF102")
    assert proc.returncode == 1  # findings fail the job in `check` mode
    annotations = [line for line in proc.stdout.splitlines() if line.startswith("::")]
    assert len(annotations) == 2  # one Dockerfile per directory
    assert runner.outputs() == {"findings": "2"}


def test_pr_mode_commits_with_hostile_inputs(tmp_path: Path, repo: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    git = ["git", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base"],
        cwd=repo,
        check=True,
    )
    runner = Runner(tmp_path, repo)
    proc = runner.run(
        step_named("Fix and commit (one commit per fixer code)"),
        mode="pr",
        args="--offline\n--select DF102",
        paths=SHELL_DIR,
    )
    assert proc.returncode == 0, proc.stderr
    assert not (repo / "pwned").exists()
    log = subprocess.run(
        ["git", "log", "--format=%an %s", "--name-only", "-1"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert log.startswith("dockfix[bot] dockfix: DF102")
    assert f"{SHELL_DIR}/Dockerfile" in log and "quoted" not in log
    assert (runner.temp / "dockfix-pr.md").exists()
