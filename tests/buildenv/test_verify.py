"""Every fixer proven by real builds: each fixture app built before and after its fixes.

`dockfix verify`'s own machinery (src/dockfix/proof/verify.py) builds both versions with buildah
against the local registry of base images, compares the image configs and root filesystems
apart from the changes the applied fixers declare, and counts cache reuse after a code-only
change. A fixed file that does not build, or an undeclared difference, fails the test.

``test_fixed_image_starts_like_the_original`` runs `verify --run` on every app that has a
``verify.toml`` (its format: ``tests/buildenv/README.md``), so a new app is picked up by
adding that file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

import dockfix
from dockfix.core.engine import FixOutcome
from dockfix.proof.builders import BuildahBuilder
from dockfix.proof.image_run import RunOptions
from dockfix.proof.verify import VerifyResult, verify_outcome

APPS = Path(__file__).resolve().parent / "apps"
APP_NAMES = sorted(p.name for p in APPS.iterdir() if (p / "Dockerfile").is_file())
RUN_APPS = sorted(name for name in APP_NAMES if (APPS / name / "verify.toml").is_file())
pytestmark = pytest.mark.slow

SUMMARY: list[str] = []


def verify(
    app: str,
    builder: BuildahBuilder,
    *,
    unsafe: bool,
    cache_check: bool = False,
    run: RunOptions | None = None,
) -> VerifyResult:
    path = APPS / app / "Dockerfile"
    text = path.read_bytes().decode("utf-8")
    outcome = dockfix.fix_outcome(text, path=path, unsafe_fixes=unsafe, offline=True)
    if not outcome.changed:
        pytest.skip(f"no {'unsafe' if unsafe else 'safe'} fix applies to {app}")

    def only(code: str) -> FixOutcome:
        return dockfix.fix_outcome(text, path=path, select=[code], unsafe_fixes=True, offline=True)

    result = verify_outcome(
        path,
        f"{app}/Dockerfile",
        outcome,
        builder,
        context_dir=path.parent,
        cache_check=cache_check,
        run=run,
        variant=only,
    )
    SUMMARY.append(("unsafe " if unsafe else "safe ") + result.format_text())
    return result


def run_description(app: str) -> tuple[RunOptions, dict[str, Any]]:
    """The app's ``verify.toml``: how to start it and what the run must show."""
    spec = tomllib.loads((APPS / app / "verify.toml").read_text(encoding="utf-8"))
    unknown = set(spec) - {"kind", "probe", "env", "seconds", "expect", "exit-code"}
    assert not unknown, f"{app}/verify.toml: unknown keys {sorted(unknown)}"
    assert spec.get("kind") in ("service", "one-shot"), f"{app}/verify.toml: kind"
    options = RunOptions(
        seconds=float(spec.get("seconds", 10)),
        env={str(k): str(v) for k, v in spec.get("env", {}).items()},
        probes=tuple(str(p) for p in spec.get("probe", ())),
    )
    return options, spec


@pytest.mark.parametrize("app", RUN_APPS)
def test_fixed_image_starts_like_the_original(app: str, buildah_builder: BuildahBuilder) -> None:
    """`verify --run` with every fix, unsafe ones too: the fixed image must start and serve
    like the original (the suite's figures: builds, starts, size, steps reused)."""
    options, spec = run_description(app)
    result = verify(app, buildah_builder, unsafe=True, cache_check=True, run=options)
    assert result.run is not None, result.format_text()
    before = result.run.before
    assert not before.error, result.format_text()  # the original itself starts here
    if spec["kind"] == "service":
        assert before.running, f"the original exited: {before.describe()}\n{before.output}"
    else:
        assert not before.running and before.exit_code == spec.get("exit-code", 0), (
            before.describe() + "\n" + before.output
        )
    answered = [a.target for a in before.answers if a.answered]
    for target in spec.get("probe", ()):
        assert str(target) in answered, f"the original did not answer on {target}"
    assert result.run.status == spec.get("expect", "same"), result.format_text()
    assert result.status == "verified", result.format_text()


@pytest.mark.parametrize("app", APP_NAMES)
def test_safe_fixes_keep_the_image(app: str, buildah_builder: BuildahBuilder) -> None:
    result = verify(app, buildah_builder, unsafe=False)
    assert result.status == "verified", result.format_text()
    assert result.report is not None and result.report.image_size is not None


# The apps with a verify.toml get the same check, and more, from
# test_fixed_image_starts_like_the_original: built once, not twice.
@pytest.mark.parametrize("app", sorted(set(APP_NAMES) - set(RUN_APPS)) or ["(none)"])
def test_unsafe_fixes_build_and_change_only_what_they_declare(
    app: str, buildah_builder: BuildahBuilder
) -> None:
    if app == "(none)":
        pytest.skip("every app has a verify.toml")
    result = verify(app, buildah_builder, unsafe=True)
    assert result.status == "verified", result.format_text()


@pytest.mark.parametrize("app", ["flask-app", "express-app"])
def test_copy_split_reuses_the_dependency_layer(app: str, buildah_builder: BuildahBuilder) -> None:
    result = verify(app, buildah_builder, unsafe=True, cache_check=True)
    assert "DF101" in result.codes
    assert result.cache is not None, result.format_text()
    (reused_before, _), (reused_after, _) = result.cache.before, result.cache.after
    # without the fix the code change invalidates the install; with it the install is reused
    assert reused_after > reused_before, result.cache.describe()


def test_verify_command_end_to_end(buildenv: object, tmp_path: Path) -> None:
    """`dockfix verify` on the command line, configured the way a user configures buildah."""
    env_obj = buildenv
    app = tmp_path / "app"
    subprocess.run(["cp", "-r", str(APPS / "debian-service"), str(app)], check=True)
    env = {
        **os.environ,
        "DOCKFIX_BUILDAH_ROOT": str(env_obj.storage_root),  # type: ignore[attr-defined]
        "DOCKFIX_BUILDAH_RUNROOT": str(env_obj.run_root),  # type: ignore[attr-defined]
        "DOCKFIX_BUILDAH_DRIVER": env_obj.driver,  # type: ignore[attr-defined]
        "DOCKFIX_REGISTRIES_CONF": str(env_obj.registries_conf),  # type: ignore[attr-defined]
        "DOCKFIX_BUILDAH_SIGNATURE_POLICY": str(env_obj.policy),  # type: ignore[attr-defined]
    }
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "dockfix",
            "verify",
            "--builder",
            "buildah",
            "--offline",
            "--run",
            "--run-seconds",
            "3",
            "--pr-body",
            str(tmp_path / "pr.md"),
            "Dockerfile",
        ],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert (
        "Dockerfile: built before and after: same files and config apart from the intended changes"
        in r.stdout
    )
    assert "size: " in r.stdout
    assert "run: started like the original: running after 3 s" in r.stdout
    body = (tmp_path / "pr.md").read_text()
    assert body.startswith("### Verified by building")
    assert "run: started like the original" in body
    assert (app / "Dockerfile").read_text() == (APPS / "debian-service" / "Dockerfile").read_text()
    # the PR bot's path: the fix's PR description carries the same section
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "dockfix",
            "fix",
            "--verify",
            "--offline",
            "--pr-body",
            str(tmp_path / "fix.md"),
            "Dockerfile",
        ],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert r.returncode == 1, r.stderr  # a diff, and no verification failure
    fix_body = (tmp_path / "fix.md").read_text()
    assert "## dockfix: Dockerfile fixes" in fix_body
    assert "### Verified by building" in fix_body and "same files and config" in fix_body


@pytest.mark.parametrize("name", ["docker", "podman"])
def test_other_builders_when_present(name: str, tmp_path: Path) -> None:
    """docker buildx and podman share buildah's interface; run where the binary is here."""
    from dockfix.proof.builders import BuilderNotFoundError, find_builder

    try:
        builder = find_builder(name)
    except BuilderNotFoundError as exc:
        pytest.skip(f"{name} is not usable on this machine ({exc})")
    app = tmp_path / "app"
    subprocess.run(["cp", "-r", str(APPS / "static-tool"), str(app)], check=True)
    path = app / "Dockerfile"
    outcome = dockfix.fix_outcome(path.read_text(), path=path, offline=True)
    result = verify_outcome(path, "static-tool/Dockerfile", outcome, builder, context_dir=app)
    assert result.status in ("verified", "original-fails"), result.format_text()
