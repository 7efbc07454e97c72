"""The exit and error contract: 0 nothing, 1 findings or a diff, 2 an error, 130 Ctrl-C; every
problem one line naming the path, and the other files still processed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockfix.files import source_io
from dockfix.files.source_io import text_digest, write_atomic
from test_bad_input import UPDATE_ALONE, needs_root, run_dockfix

FIXED = "FROM debian\nRUN apt-get update && apt-get install -y curl\n"

# A third-party fixer that takes its time, so that a run can be interrupted half-way.
SLOW_PLUGIN = '''
"""SLOW001 slow: finds nothing, slowly.

## What it does
Nothing.
## Why is this bad
It is not.
## Example
## Fix safety
Display-only.
## Options
None.
## Resolves
none
"""
import os
import time
from pathlib import Path

from dockfix.core.fixer import Fixer, register


@register
class Slow(Fixer):
    code = "SLOW001"
    name = "slow"
    summary = "Finds nothing, slowly"

    def check(self, doc, ctx):
        Path(os.environ["SLOW_STARTED"]).touch()
        time.sleep(0.05)
        return iter(())
'''


def _slow_env(tmp_path: Path) -> dict[str, str]:
    site = tmp_path / "site"
    info = site / "slowfixer-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "entry_points.txt").write_text("[dockfix.fixers]\nslow = slowfixer:Slow\n")
    (info / "METADATA").write_text("Name: slowfixer\nVersion: 1.0\n")
    (site / "slowfixer.py").write_text(SLOW_PLUGIN)
    return {
        **os.environ,
        "PYTHONPATH": str(site),
        "PYTHONDONTWRITEBYTECODE": "1",
        "SLOW_STARTED": str(tmp_path / "started"),
    }


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_exits_130_and_leaves_every_file_whole(tmp_path: Path, jobs: str) -> None:
    repo = tmp_path / "repo"
    files = []
    for i in range(240):  # enough for worker processes (the threshold is 200)
        f = repo / f"svc{i:03}" / "Dockerfile"
        f.parent.mkdir(parents=True)
        f.write_text(UPDATE_ALONE)
        files.append(f)
    cmd = [sys.executable, "-m", "dockfix", "fix", "--write", "--offline", "--jobs", jobs]
    proc = subprocess.Popen(
        [*cmd, "--select", "DF102,SLOW001", "."],
        cwd=repo,
        env=_slow_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    deadline = time.monotonic() + 60
    while not (tmp_path / "started").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert not [p for p in repo.rglob("*") if p.is_file() and p.name != "Dockerfile"]
    assert {f.read_text() for f in files} <= {UPDATE_ALONE, FIXED}


def test_ctrl_c_inside_a_c_extension_is_still_130(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C that lands while BuildKit's Go parser (or a compiled module) runs reaches Python as
    a SystemError whose cause is the KeyboardInterrupt; CI saw it on the compiled build."""
    from dockfix import cli

    def interrupted_in_c(**_kwargs: object) -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise SystemError("parse_string returned a result with an exception set") from exc

    def broken(**_kwargs: object) -> None:
        raise SystemError("a real bug")

    exits: list[int] = []
    monkeypatch.setattr(cli.os, "_exit", exits.append)
    monkeypatch.setattr(cli.main, "main", interrupted_in_c)
    cli.entry()
    assert exits == [130]
    monkeypatch.setattr(cli.main, "main", broken)
    with pytest.raises(SystemError, match="a real bug"):
        cli.entry()


def test_interrupt_during_a_write_waits_for_the_write(tmp_path: Path) -> None:
    target = tmp_path / "Dockerfile"
    target.write_text(UPDATE_ALONE)
    real_fsync = os.fsync

    def fsync_then_ctrl_c(fd: int) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # arrives half-way through the write
        real_fsync(fd)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(source_io.os, "fsync", fsync_then_ctrl_c)
        with pytest.raises(KeyboardInterrupt):
            write_atomic(target, FIXED, expected_digest=text_digest(UPDATE_ALONE))
    assert target.read_text() == FIXED
    assert [p.name for p in tmp_path.iterdir()] == ["Dockerfile"]


def _tree(root: Path, *names: str) -> None:
    os.chmod(root, 0o777)
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o777)
        path.write_text(UPDATE_ALONE)
        os.chmod(path, 0o666)


@needs_root
def test_unreadable_file_named_on_the_command_line_is_one_line(tmp_path: Path) -> None:
    _tree(tmp_path, "secret.Dockerfile", "ok/Dockerfile", "closed/Dockerfile")
    os.chmod(tmp_path / "secret.Dockerfile", 0o000)
    os.chmod(tmp_path / "closed", 0o666)  # listable, not searchable
    named = ["secret.Dockerfile", "missing/Dockerfile", "closed/Dockerfile", "ok"]
    try:
        r = run_dockfix("check", *named, cwd=tmp_path, no_override=True)
    finally:
        os.chmod(tmp_path / "closed", 0o777)
    assert r.returncode == 2, r.stderr
    assert "closed/Dockerfile: permission denied (cannot read)\n" in r.stderr
    assert "ok/Dockerfile:2:1: DF102" in r.stdout  # the others are still processed
    assert "secret.Dockerfile: permission denied (cannot read)\n" in r.stderr
    assert "missing/Dockerfile: no such file or directory\n" in r.stderr
    assert "Usage:" not in r.stderr


@needs_root
def test_unreadable_directory_is_reported(tmp_path: Path) -> None:
    _tree(tmp_path, "svc/locked/Dockerfile", "svc/ok/Dockerfile", "gone/Dockerfile")
    os.chmod(tmp_path / "svc" / "locked", 0o000)
    os.chmod(tmp_path / "gone", 0o000)
    try:
        r = run_dockfix("check", "svc", "gone", cwd=tmp_path, no_override=True)
    finally:
        os.chmod(tmp_path / "svc" / "locked", 0o755)
        os.chmod(tmp_path / "gone", 0o755)
    assert r.returncode == 2, r.stderr
    assert "svc/ok/Dockerfile:2:1: DF102" in r.stdout
    assert "svc/locked: permission denied; directory not searched\n" in r.stderr
    assert "gone: permission denied; directory not searched\n" in r.stderr


def test_summary_does_not_count_a_file_whose_write_failed(tmp_path: Path) -> None:
    _tree(tmp_path, "ro/Dockerfile", "rw/Dockerfile")
    os.chmod(tmp_path / "ro" / "Dockerfile", 0o444)  # refused even as root
    r = run_dockfix("fix", "--write", ".", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.splitlines()
    assert "1 fixed, 1 left; 1 file changed." in lines
    assert "ro/Dockerfile: file is read-only (mode 0444); not overwritten" in lines
    assert (tmp_path / "ro" / "Dockerfile").read_text() == UPDATE_ALONE
    assert (tmp_path / "rw" / "Dockerfile").read_text() == FIXED


def test_unknown_instruction_is_an_error_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FORM alpine\n")
    (tmp_path / "app.dockerfile").write_text("from alpine\nonbuild Run make\nOnBuild from x\n")
    (tmp_path / "ok.dockerfile").write_text(UPDATE_ALONE)
    r = run_dockfix("check", ".", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.splitlines()
    assert "Dockerfile:1: BuildKit would reject this file: unknown instruction FORM" in lines
    assert (
        "app.dockerfile:3: BuildKit would reject this file: FROM isn't allowed as an ONBUILD trigger"
    ) in lines
    assert "ok.dockerfile:2:1: DF102" in r.stdout
    # lower-case and ONBUILD triggers of every kind are instructions
    (tmp_path / "app.dockerfile").write_text("from alpine\nonbuild Run make\n")
    assert run_dockfix("check", "app.dockerfile", cwd=tmp_path).returncode == 0


def test_discovery_skips_what_is_clearly_not_a_dockerfile(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(UPDATE_ALONE)
    (tmp_path / "Dockerfile.md").write_text("# Build notes\n\nBuild with `make`.\n")
    (tmp_path / "Dockerfile.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (tmp_path / "Dockerfile.bin").write_bytes(b"FROM a\n\x00\x01")
    r = run_dockfix("check", ".", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert "Dockerfile.md" not in r.stderr + r.stdout
    assert "Dockerfile.png" not in r.stderr + r.stdout
    assert "Dockerfile.bin" not in r.stderr + r.stdout
    # named explicitly, a file is still checked, and says why it is not a Dockerfile
    r = run_dockfix("check", "Dockerfile.md", "Dockerfile.bin", cwd=tmp_path)
    assert r.returncode == 2
    assert "Dockerfile.md:3: BuildKit would reject this file: unknown instruction Build" in r.stderr
    assert "Dockerfile.bin: binary file (contains NUL bytes)" in r.stderr


def test_pre_commit_hooks_exclude_what_discovery_skips() -> None:
    import re

    import yaml

    from dockfix.files.discovery import NOT_DOCKERFILE_SUFFIXES, is_dockerfile_name

    root = Path(__file__).resolve().parents[1]
    for hook in yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text()):
        exclude = re.compile(str(hook["exclude"]))
        for suffix in NOT_DOCKERFILE_SUFFIXES:
            name = f"svc/Dockerfile.{suffix.upper()}"
            assert exclude.search(name), name
            assert not is_dockerfile_name(name.rsplit("/", 1)[-1])


def test_suppression_comment_with_a_colon_and_unknown_codes(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        "FROM debian\n"
        "# dockfix: ignore=DF102\n"
        "RUN apt-get update\n"
        "RUN apt-get install -y curl\n"
        "# dockfix global ignore=DF999, df1\n"
    )
    r = run_dockfix("check", "Dockerfile", cwd=tmp_path)
    assert r.returncode == 0, r.stdout  # the colon form suppresses, as the plain one does
    lines = r.stderr.splitlines()
    assert "warning: Dockerfile: line 5: unknown rule code DF999 in suppression comment" in lines
    assert "warning: Dockerfile: line 5: unknown rule code DF1 in suppression comment" in lines
    assert "DF102" not in r.stderr


def test_directory_where_everything_is_ignored_says_so(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    for name in ("vendor/a/Dockerfile", "vendor/b/Dockerfile", "vendor/Dockerfile.old"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(UPDATE_ALONE)
    (tmp_path / ".gitignore").write_text("vendor/a/\nDockerfile.old\nvendor/b/Dockerfile\n")
    (tmp_path / "empty").mkdir()
    r = run_dockfix("check", "vendor", "empty", cwd=tmp_path)
    assert r.returncode == 0, r.stderr  # as ruff: a warning, not an error
    lines = r.stderr.splitlines()
    assert (
        "warning: no Dockerfiles found under vendor "
        "(2 Dockerfiles and 1 directory skipped by .gitignore / exclude)"
    ) in lines
    assert "warning: no Dockerfiles found under empty" in lines
    assert "All checks passed" not in r.stderr


def _git_repo(root: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)


def test_force_exclude_applies_exclude_to_named_paths(tmp_path: Path) -> None:
    _git_repo(tmp_path)
    (tmp_path / "dockfix.toml").write_text('exclude = ["legacy", "*.generated.dockerfile"]\n')
    _tree(tmp_path, "legacy/Dockerfile", "svc/Dockerfile", "svc/x.generated.dockerfile")
    named = ["legacy/Dockerfile", "svc/Dockerfile", "svc/x.generated.dockerfile"]
    r = run_dockfix("check", *named, cwd=tmp_path)
    assert r.stdout.count("DF102") == 3  # named: checked, as ruff does without the option
    r = run_dockfix("check", "--force-exclude", *named, cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert "svc/Dockerfile:2:1: DF102" in r.stdout
    assert "legacy" not in r.stdout and "generated" not in r.stdout


def test_pre_commit_hooks_force_exclude() -> None:
    import yaml

    root = Path(__file__).resolve().parents[1]
    for hook in yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text()):
        assert "--force-exclude" in str(hook["entry"]).split()


def test_git_info_exclude_and_global_excludes_are_honoured(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git_repo(repo)
    home = tmp_path / "home"
    (home / ".config" / "git").mkdir(parents=True)
    (home / ".config" / "git" / "ignore").write_text("from-default-global/\n")
    (tmp_path / "custom-ignore").write_text("from-core-excludesfile/\n")
    (repo / ".git" / "info" / "exclude").write_text("from-info-exclude/\n")
    names = ["from-info-exclude", "from-default-global", "from-core-excludesfile", "kept"]
    _tree(repo, *(f"{n}/Dockerfile" for n in names))
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": "", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("GIT_CONFIG_GLOBAL", None)

    def ignored_by_git() -> set[str]:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--ignored"],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return {line[3:].rstrip("/") for line in out.splitlines() if line.startswith("!! ")}

    def checked() -> set[str]:
        r = subprocess.run(
            [sys.executable, "-m", "dockfix", "check", "--select", "DF102", "."],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        return {line.split("/")[0] for line in r.stdout.splitlines() if ":2:1: DF102" in line}

    assert ignored_by_git() == {"from-info-exclude", "from-default-global"}
    assert checked() == {"kept", "from-core-excludesfile"}
    subprocess.run(
        ["git", "config", "core.excludesFile", str(tmp_path / "custom-ignore")],
        cwd=repo,
        env=env,
        check=True,
    )
    # core.excludesFile replaces the default global file, as git reads it
    assert ignored_by_git() == {"from-info-exclude", "from-core-excludesfile"}
    assert checked() == {"kept", "from-default-global"}


def test_commit_mode_says_each_warning_once(tmp_path: Path) -> None:
    _git_repo(tmp_path)
    for key, value in (("user.email", "ci@example.invalid"), ("user.name", "CI")):
        subprocess.run(["git", "config", key, value], cwd=tmp_path, check=True)
    (tmp_path / "Dockerfile").write_text("# dockfix global ignore=DF999\n" + UPDATE_ALONE)
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True)
    subprocess.run(["git", "commit", "-qm", "init"], cwd=tmp_path, check=True)
    r = run_dockfix("fix", "--commit", "--offline", ".", "missing", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    # --commit runs once per fixer; each line is still said once
    assert r.stderr.count("unknown rule code DF999 in suppression comment") == 1, r.stderr
    assert r.stderr.count("missing: no such file or directory") == 1, r.stderr


_NAME_PARTS = ["Dockerfile", "containerFILE", ".", "a", "prod", "json", "MD", "\n", "-", "x.y"]


@given(st.lists(st.sampled_from(_NAME_PARTS), min_size=1, max_size=5).map("".join))
def test_which_names_the_walk_takes(name: str) -> None:
    """`Dockerfile`, `Dockerfile.<suffix>` and `<name>.dockerfile` (any letter case, also
    Containerfile), but not a suffix that names another kind of file (`Dockerfile.md`): the
    rule as its words say it, against the one expression the walk matches every name with."""
    from dockfix.files.discovery import NOT_DOCKERFILE_SUFFIXES, is_dockerfile_name

    low = name.lower()
    named = any(
        low == base or low.startswith(f"{base}.") or low.endswith(f".{base}")
        for base in ("dockerfile", "containerfile")
    )
    assert is_dockerfile_name(name) == (
        named and low.rpartition(".")[2] not in NOT_DOCKERFILE_SUFFIXES
    )
