"""DF201 proven by running: each app with a `verify.toml` is built before and after the
DF201 fix, and its command is started as the image's user (``buildah run --user`` in a
working container). The fixed image must start and serve (or exit) like the original, with
no permission error the original did not have; a finding left display-only must leave the
file as it is, with its reason.

`verify.toml` is the file `dockfix verify --run`'s tests read (see README.md here): this test
uses its ``kind``, ``exit-code``, the first of its ``probe`` URLs or ports (else the first
EXPOSEd port) and its ``env``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from buildenv_helpers import APPS_DIR, BuildEnv, copy_app

import dockfix
from dockfix.core.fixer import Applicability
from dockfix.proof.builders import ulimit_options

RUN_APPS = sorted(p.parent.name for p in APPS_DIR.glob("*/verify.toml"))
PERMISSION_ERRORS = ("Permission denied", "EACCES", "EPERM", "Read-only file system")
pytestmark = pytest.mark.slow
SETTLE_SECONDS = 8
RUNNING = 0  # `answered` of a service without a probe that is still running


@dataclass
class Run:
    user: str
    answered: int | None  # HTTP status of the probe (services; RUNNING: no probe, still up)
    exit_code: int | None  # when the command ended by itself
    output: str

    @property
    def permission_errors(self) -> list[str]:
        return [
            line for line in self.output.splitlines() if any(e in line for e in PERMISSION_ERRORS)
        ]


def _probe_url(spec: dict[str, object], exposed: frozenset[str]) -> str:
    probes = spec.get("probe") or sorted(p.split("/")[0] for p in exposed)
    if not probes:
        return ""  # a worker: it must only keep running
    first = probes[0] if isinstance(probes, list) else probes
    if isinstance(first, int) or str(first).isdigit():
        return f"http://127.0.0.1:{first}/"
    return str(first).replace("//localhost", "//127.0.0.1")


def _get(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, ValueError):
        return None


def _build(buildenv: BuildEnv, app_dir: Path, dockerfile: str, tag: str) -> str:
    result = buildenv.builder().build(
        app_dir / dockerfile, app_dir, tag=tag, build_args=buildenv.build_args
    )
    assert result.success and result.image_id, f"{tag} did not build:\n{result.log_tail(40)}"
    return result.image_id


def _start(buildenv: BuildEnv, image: str, spec: dict[str, object]) -> Run:
    """Run the image's ENTRYPOINT + CMD as its USER; probe a service, wait for a one-shot."""
    config = buildenv.builder().inspect_config(image)
    argv = [*(config.entrypoint or ()), *(config.cmd or ())]
    user = config.user or "0:0"
    made = buildenv.buildah("from", "--pull-never", *ulimit_options(), image)
    assert made.returncode == 0, made.stderr
    container = made.stdout.strip().splitlines()[-1]
    env = [f"--env={k}={v}" for k, v in dict(spec.get("env") or {}).items()]  # type: ignore[call-overload]
    cmd = [*buildenv.buildah_base(), "run", "--isolation", "chroot", "--user", user, *env]
    if config.working_dir:
        cmd.append(f"--workingdir={config.working_dir}")
    proc = subprocess.Popen(
        [*cmd, container, "--", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, "CONTAINERS_REGISTRIES_CONF": str(buildenv.registries_conf)},
    )
    answered: int | None = None
    url = _probe_url(spec, config.exposed_ports) if spec["kind"] == "service" else ""
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if spec["kind"] == "service" and not url:
                time.sleep(SETTLE_SECONDS)
                answered = RUNNING if proc.poll() is None else None
                break
            if spec["kind"] == "service":
                answered = _get(url)
                if answered is not None:
                    time.sleep(1)  # still running a moment after its first answer
                    answered = _get(url) if proc.poll() is None else None
                    break
            time.sleep(0.5)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
        buildenv.buildah("rm", container)
    exit_code = proc.returncode if spec["kind"] == "one-shot" else None
    return Run(user, answered, exit_code, output)


@pytest.mark.parametrize("app", RUN_APPS)
def test_df201_fix_starts_and_writes_as_its_user(
    app: str, buildenv: BuildEnv, tmp_path: Path
) -> None:
    app_dir = copy_app(app, tmp_path)
    spec = tomllib.loads((app_dir / "verify.toml").read_text())
    source = (app_dir / "Dockerfile").read_text()
    fixed, left = dockfix.fix(
        source, path=app_dir / "Dockerfile", select=["DF201"], unsafe_fixes=True, offline=True
    )
    before = _start(buildenv, _build(buildenv, app_dir, "Dockerfile", f"df201/{app}:before"), spec)
    if spec["kind"] == "service":
        assert before.answered is not None, f"the original does not serve:\n{before.output}"
    else:
        assert before.exit_code == spec.get("exit-code", 0), f"the original:\n{before.output}"
    if fixed == source:
        (finding,) = left
        assert finding.applicability is Applicability.DISPLAY_ONLY and finding.reason
        return
    (app_dir / "Dockerfile.df201").write_text(fixed)
    after = _start(
        buildenv, _build(buildenv, app_dir, "Dockerfile.df201", f"df201/{app}:after"), spec
    )
    assert after.user.split(":")[0] not in ("0", "root")
    assert (after.answered, after.exit_code) == (before.answered, before.exit_code), (
        f"as {after.user} the fixed image does not run like the original:\n{after.output}"
    )
    new_errors = [e for e in after.permission_errors if e not in before.permission_errors]
    assert not new_errors, "\n".join(new_errors)
