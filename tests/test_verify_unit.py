"""`dockfix verify`'s decisions that need no real build: a builder that records what it is
asked to build stands in for buildah (tests/buildenv builds for real)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pytest

from dockfix.core.engine import FixOutcome
from dockfix.core.fixer import Finding
from dockfix.proof.builders import Builder, BuildResult, BuildStep
from dockfix.proof.image_compare import FileEntry, ImageConfig, compare_images
from dockfix.proof.verify import _cache_check, _code_file, allowed_changes, verify_outcome
from support.cli import run_dockfix


@dataclass
class RecordingBuilder(Builder):
    """Builds nothing: records each build's context and answers that every step ran."""

    name: ClassVar[str] = "recording"
    builds: list[dict[str, Any]] = field(default_factory=list)
    watch: str = ""  # a context file whose bytes each build records

    def build(self, dockerfile: Any, context_dir: Any, **kw: Any) -> BuildResult:  # type: ignore[override]
        ctx = Path(context_dir)
        self.builds.append(
            {
                "dockerfile": Path(dockerfile).read_text(),
                "watched": (ctx / self.watch).read_bytes() if self.watch else b"",
                "tag": kw.get("tag"),
                "target": kw.get("target"),
            }
        )
        steps = (BuildStep(1, 2, "FROM busybox", False), BuildStep(2, 2, "COPY . /app", False))
        return BuildResult(True, 0, "", "sha256:x", kw.get("tag"), steps)

    def build_command(self, *args: Any, **kwargs: Any) -> list[str]:
        return []

    def parse_steps(self, log: str) -> tuple[BuildStep, ...]:
        return ()

    def inspect_raw(self, image: str) -> dict[str, Any]:
        return {}

    def inspect_config(self, image: str) -> ImageConfig:
        return ImageConfig(cmd=("true",))

    def list_filesystem(self, image: str) -> list[FileEntry]:
        return [FileEntry("/", "dir", mode=0o755)]

    def image_size(self, image: str) -> int:
        return 0

    def remove_image(self, image: str) -> None:
        pass


def make_context(tmp_path: Path, files: Mapping[str, str]) -> Path:
    ctx = tmp_path / "ctx"
    for rel, text in files.items():
        (ctx / rel).parent.mkdir(parents=True, exist_ok=True)
        (ctx / rel).write_text(text)
    return ctx


def test_cache_check_edits_each_version_differently(tmp_path: Path) -> None:
    """Both rebuilds made the same edit in the same storage, so the fixed file reused the
    layers the original's rebuild had just made (a false "7 of 7")."""
    dockerfile = "FROM busybox\nCOPY . /app\n"
    contexts = {}
    for side in ("before", "after"):
        contexts[side] = make_context(tmp_path / side, {"Dockerfile": dockerfile, "app.py": "x\n"})
    builder = RecordingBuilder(watch="app.py")
    outcome = FixOutcome(original=dockerfile, fixed=dockerfile + "LABEL a=b\n")
    dockerfiles = {side: contexts[side] / "Dockerfile" for side in contexts}
    tags = {"before": "t:before", "after": "t:after"}
    _cache_check(builder, contexts, dockerfiles, outcome, None, None, tags, None)
    before, after = (b["watched"] for b in builder.builds)
    assert before != b"x\n" and after != b"x\n"
    assert before != after


@pytest.mark.parametrize("text", ['{"a": 1}\n', '{"a": 1}'])
def test_cache_check_edit_changes_the_bytes_of_a_json_file(tmp_path: Path, text: str) -> None:
    """Appending a newline to a file that already ends in one changed nothing."""
    dockerfile = "FROM busybox\nCOPY . /app\n"
    contexts = {
        side: make_context(tmp_path / side, {"config.json": text}) for side in ("before", "after")
    }
    builder = RecordingBuilder(watch="config.json")
    outcome = FixOutcome(original=dockerfile, fixed=dockerfile + "LABEL a=b\n")
    dockerfiles = {side: tmp_path / f"Dockerfile.{side}" for side in contexts}
    for path in dockerfiles.values():
        path.write_text(dockerfile)
    _cache_check(
        builder, contexts, dockerfiles, outcome, None, None, {"before": "b", "after": "a"}, None
    )
    for build in builder.builds:
        assert build["watched"] != text.encode()
        import json

        assert json.loads(build["watched"]) == {"a": 1}  # still valid JSON


def test_the_changed_file_is_one_a_directory_copy_brings_in(tmp_path: Path) -> None:
    """README.md that no COPY brings in measures nothing; nor does a .dockerignored file."""
    ctx = make_context(
        tmp_path,
        {
            "README.md": "# app\n",
            "docs/guide.md": "guide\n",
            "app/.keep.py": "",
            "app/generated.py": "g\n",
            "app/main.py": "print()\n",
            "app/requirements.txt": "flask\n",
            ".dockerignore": "app/generated.py\n",
        },
    )
    dockerfile = "FROM python\nCOPY app/requirements.txt /req.txt\nCOPY app/ /srv/\n"
    assert _code_file(ctx, dockerfile) == "app/main.py"
    named = "FROM python\nCOPY app/requirements.txt app/main.py /srv/\n"
    assert _code_file(ctx, named) == "app/main.py"  # named, but no manifest
    assert _code_file(ctx, "FROM python\nCOPY app/requirements.txt /srv/\n") is None
    assert _code_file(ctx, "FROM python\nCOPY . /srv\n") == "README.md"


def test_a_change_that_reruns_no_step_is_reported_not_counted(tmp_path: Path) -> None:
    dockerfile = "FROM busybox\nCOPY . /app\n"
    contexts = {
        side: make_context(tmp_path / side, {"main.py": "x\n"}) for side in ("before", "after")
    }

    class AllCached(RecordingBuilder):
        def build(self, dockerfile: Any, context_dir: Any, **kw: Any) -> BuildResult:  # type: ignore[override]
            steps = (BuildStep(1, 2, "FROM busybox", False), BuildStep(2, 2, "COPY", True))
            return BuildResult(True, 0, "", "sha256:x", kw.get("tag"), steps)

    outcome = FixOutcome(original=dockerfile, fixed=dockerfile + "LABEL a=b\n")
    dockerfiles = {side: contexts[side] / "main.py" for side in contexts}
    check, note = _cache_check(
        AllCached(), contexts, dockerfiles, outcome, None, None, {"before": "b", "after": "a"}, None
    )
    assert check is None
    assert note == "changing main.py re-ran no step of the original: it is not in the image"


def test_fixes_in_stages_the_target_does_not_build_are_not_built(tmp_path: Path) -> None:
    original = (
        "FROM busybox AS deps\nRUN echo deps\n"  # lines 1-2: needed through COPY --from
        "FROM busybox AS docs\nMAINTAINER someone\n"  # lines 3-4: not needed by `app`
        "FROM busybox AS app\nCOPY --from=deps /etc/hostname /h\nMAINTAINER me\n"  # 5-7
    )
    fixed = original.replace("MAINTAINER", 'LABEL org.opencontainers.image.authors="x" #')
    outcome = FixOutcome(
        original=original,
        fixed=fixed,
        applied=[Finding("DF401", "m", 4), Finding("DF999", "m", 2), Finding("DF401", "m", 7)],
    )
    ctx = make_context(tmp_path, {"Dockerfile": original})
    builder = RecordingBuilder()
    result = verify_outcome(
        ctx / "Dockerfile", "Dockerfile", outcome, builder, context_dir=ctx, target="app"
    )
    assert result.not_built == []  # DF401 also applies in the built stage
    only_docs = FixOutcome(original=original, fixed=fixed, applied=[Finding("DF401", "m", 4)])
    result = verify_outcome(
        ctx / "Dockerfile", "Dockerfile", only_docs, builder, context_dir=ctx, target="app"
    )
    assert result.not_built == ["DF401"]
    assert result.status == "skipped" and not builder.builds[2:]  # nothing to build for
    assert result.message == "every fix is in a stage that --target app does not build"
    assert "not built (in stages the target does not need): DF401" in result.format_text()
    assert result.to_dict()["not_built"] == ["DF401"]
    mixed = FixOutcome(
        original=original,
        fixed=fixed,
        applied=[Finding("DF401", "m", 4), Finding("DF999", "m", 2)],
    )
    result = verify_outcome(
        ctx / "Dockerfile", "Dockerfile", mixed, builder, context_dir=ctx, target="app"
    )
    assert result.status == "verified" and result.not_built == ["DF401"]
    assert result.format_text().splitlines()[0].endswith("intended changes (DF999)")
    whole = verify_outcome(ctx / "Dockerfile", "Dockerfile", only_docs, builder, context_dir=ctx)
    assert whole.not_built == []


def test_a_cache_mount_leaves_an_empty_cache_dir_that_df104_declares() -> None:
    """pip's cache mount leaves /root/.cache/pip as an empty mount point where the original
    (pip --no-cache-dir, or a cache removed) had none."""
    base = [FileEntry("/", "dir", mode=0o755), FileEntry("/root", "dir", mode=0o700)]
    after = [
        *base,
        FileEntry("/root/.cache", "dir", mode=0o755),
        FileEntry("/root/.cache/pip", "dir", mode=0o755),
    ]
    report = compare_images(
        config_before=ImageConfig(),
        config_after=ImageConfig(),
        files_before=base,
        files_after=after,
        allowed=allowed_changes(["DF104"]),
    )
    assert report.equal, report.format_text()


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKFIX_")}
    return run_dockfix(*args, cwd=cwd, env=env, timeout=300)


def test_verify_help_lists_the_builder_settings(tmp_path: Path) -> None:
    r = run_cli(["verify", "--help"], tmp_path)
    assert r.returncode == 0, r.stderr
    for option in (
        "--storage-driver",
        "--storage-root",
        "--run-root",
        "--registries-conf",
        "--signature-policy",
        "--run ",
        "--run-seconds",
        "--env",
        "--run-arg",
        "--probe",
        "[verify]",
    ):
        assert option in r.stdout, option


def test_verify_settings_from_the_configuration(tmp_path: Path) -> None:
    from dockfix.run.config import ConfigError, load_config_file

    cfg_file = tmp_path / "dockfix.toml"
    cfg_file.write_text(
        '[verify]\nbuilder = "buildah"\nstorage-driver = "vfs"\nstorage-root = "store"\n'
    )
    cfg = load_config_file(cfg_file)
    assert cfg.verify == {
        "builder": "buildah",
        "storage_driver": "vfs",
        "storage_root": str(tmp_path / "store"),
    }
    cfg_file.write_text('[verify]\nstorage = "x"\n')
    with pytest.raises(ConfigError, match=r"unknown key `verify.storage`"):
        load_config_file(cfg_file)


def test_verify_exits_2_when_nothing_could_be_verified(tmp_path: Path) -> None:
    """Nothing verified is no success: "0 verified" used to exit 0."""
    import shutil

    if shutil.which("buildah") is None:
        if os.environ.get("CI"):
            pytest.fail("buildah missing: .ci/install-build-deps installs it")
        pytest.skip("buildah is not installed")
    (tmp_path / "Dockerfile").write_text('FROM busybox:1.36\nUSER nobody\nCMD ["true"]\n')
    r = run_cli(
        ["verify", "--builder", "buildah", "--storage-driver", "vfs", "--offline", "Dockerfile"],
        tmp_path,
    )
    assert r.returncode == 2, r.stdout + r.stderr
    assert "nothing could be verified (no file has fixes)" in r.stderr


def test_run_comparison_of_a_service_that_stops_without_its_database() -> None:
    from dockfix.proof.image_run import RunObservation, compare_runs

    said = "psycopg2.OperationalError: could not connect to server: Connection refused\n"
    before = RunObservation(exit_code=1, seconds=1.5, output=said)
    after = RunObservation(exit_code=1, seconds=1.4, output=said)
    same = compare_runs(before, after)
    assert same.status == "same"
    assert same.summary == (
        "ran like the original: exited with code 1 after 1.4 s; could not probe: "
        "psycopg2.OperationalError: could not connect to server: Connection refused"
    )
    denied = RunObservation(
        exit_code=1, output=said + "PermissionError: [Errno 13] Permission denied: '/logs/x'\n"
    )
    broken = compare_runs(before, denied)
    assert broken.status == "broken"
    assert broken.summary == "new permission errors in its output"
    assert broken.details == [
        "new permission error: PermissionError: [Errno 13] Permission denied: '/logs/x'"
    ]


@pytest.mark.parametrize(
    ("flags", "runs"), [(["--verify"], False), (["--verify-run"], True), ([], None)]
)
def test_fix_verify_run_starts_the_images_as_verify_run_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flags: list[str], runs: bool | None
) -> None:
    """`fix --verify-run` hands verify the run settings (`verify --run`'s defaults); `fix
    --verify` builds only; plain `fix` verifies nothing."""
    from click.testing import CliRunner

    from dockfix import cli
    from dockfix.proof.image_run import RunOptions

    seen: list[object] = []

    def fake_verify(
        *args: object, run_options: object = None, **kw: object
    ) -> tuple[None, list[object]]:
        seen.append(run_options)
        return None, []

    monkeypatch.setattr(cli, "_verify_reports", fake_verify)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.12\nRUN apt-get update && apt-get install -y curl\n"
    )
    result = CliRunner().invoke(cli.main, ["fix", "--offline", *flags, "Dockerfile"])
    assert result.exit_code == 1, result.output
    if runs is None:
        assert seen == []
    else:
        assert seen == [RunOptions() if runs else None]
