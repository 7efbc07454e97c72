"""The command-line contract: exit codes, diffs that `git apply` takes, writes, bad input."""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dockfix.output.diffing import LARGE, unified_diff

UPDATE_ALONE = "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl\n"
FIXED = "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\n"
CLEAN = "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\n"


def dockfix(
    *args: str, cwd: Path, stdin: bytes | None = None, select: str = "DF102"
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "dockfix", *args, "--select", select],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        check=False,
        timeout=120,
    )
    return subprocess.CompletedProcess(
        proc.args, proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "svc-a").mkdir()
    (tmp_path / "svc-a" / "Dockerfile").write_bytes(UPDATE_ALONE.encode())
    (tmp_path / "svc-b").mkdir()
    (tmp_path / "svc-b" / "Dockerfile").write_bytes(CLEAN.encode())
    (tmp_path / "svc-c").mkdir()
    (tmp_path / "svc-c" / "worker.dockerfile").write_bytes(
        UPDATE_ALONE.replace("\n", "\r\n").encode()
    )
    return tmp_path


def test_check_exit_codes(repo: Path) -> None:
    r = dockfix("check", ".", cwd=repo)
    assert r.returncode == 1
    assert "svc-a/Dockerfile:2:1: DF102 [*]" in r.stdout
    assert "svc-c/worker.dockerfile:2:1: DF102" in r.stdout
    assert dockfix("check", "svc-b", cwd=repo).returncode == 0
    assert dockfix("check", "--exit-zero", ".", cwd=repo).returncode == 0


def test_dry_run_diff_applies_with_git(repo: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git missing")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    r = dockfix("fix", ".", cwd=repo)
    assert r.returncode == 1
    assert r.stdout.startswith("--- a/svc-a/Dockerfile\n+++ b/svc-a/Dockerfile\n")
    assert (repo / "svc-a" / "Dockerfile").read_bytes() == UPDATE_ALONE.encode()  # dry run
    patch = repo / "fix.patch"
    patch.write_bytes(r.stdout.encode())
    subprocess.run(["git", "apply", "--check", str(patch)], cwd=repo, check=True)
    subprocess.run(["git", "apply", str(patch)], cwd=repo, check=True)
    assert (repo / "svc-a" / "Dockerfile").read_bytes() == FIXED.encode()
    assert (repo / "svc-c" / "worker.dockerfile").read_bytes() == FIXED.replace(
        "\n", "\r\n"
    ).encode()
    assert dockfix("fix", ".", cwd=repo).returncode == 0


def test_diff_marks_missing_final_newline(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_bytes(UPDATE_ALONE.rstrip("\n").encode())
    r = dockfix("fix", "Dockerfile", cwd=tmp_path)
    assert "\\ No newline at end of file\n" in r.stdout
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "p.patch").write_text(r.stdout)
    subprocess.run(["git", "apply", "p.patch"], cwd=tmp_path, check=True)
    assert (tmp_path / "Dockerfile").read_bytes() == FIXED.rstrip("\n").encode()


def test_diff_of_a_long_file_applies_and_matches_difflib_where_it_can(tmp_path: Path) -> None:
    """Long files are matched on their unique lines first (difflib alone grows with the
    square of the length): the hunks still apply, and are difflib's where the change is
    unambiguous."""
    blocks = [
        f"RUN echo {i}\nRUN apt-get update\nRUN apt-get install -y p{i}\n" for i in range(900)
    ]
    old = "FROM debian:bookworm\n" + "".join(blocks)
    new = old.replace("RUN echo 1", "RUN echo one").replace("p899\n", "p899\nUSER 1000\n")
    assert old.count("\n") + new.count("\n") > LARGE
    diff = unified_diff(old, new, "Dockerfile")
    with_difflib = "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            "a/Dockerfile",
            "b/Dockerfile",
            n=3,
        )
    )
    assert diff == with_difflib
    # A change difflib shows elsewhere (repeated lines around it): the patch still applies.
    new = old.replace("RUN apt-get update\nRUN apt-get install -y p450\n", "")
    (tmp_path / "Dockerfile").write_text(old)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "p.patch").write_text(unified_diff(old, new, "Dockerfile"))
    subprocess.run(["git", "apply", "p.patch"], cwd=tmp_path, check=True)
    assert (tmp_path / "Dockerfile").read_text() == new


def test_write_is_idempotent_and_keeps_mode(repo: Path) -> None:
    target = repo / "svc-a" / "Dockerfile"
    os.chmod(target, 0o640)
    r = dockfix("fix", "--write", ".", cwd=repo)
    assert r.returncode == 0, r.stderr
    assert target.read_bytes() == FIXED.encode()
    assert (target.stat().st_mode & 0o777) == 0o640
    assert "fixed svc-a/Dockerfile" in r.stderr
    before = {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()}
    r2 = dockfix("fix", "--write", ".", cwd=repo)
    assert r2.returncode == 0
    assert {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()} == before
    assert not list(repo.rglob("*.dockfix-tmp"))


def test_a_file_named_twice_is_fixed_once(repo: Path) -> None:
    # `dockfix fix --write . svc-a/Dockerfile` (a directory and a file in it, as a script or a
    # hook may pass them): one report and one write, not a second write refused as "changed".
    check = dockfix("check", "--output-format", "concise", "svc-c", ".", cwd=repo)
    assert check.stdout.count("svc-c/worker.dockerfile:2:1: DF102") == 1
    r = dockfix("fix", "--write", ".", "svc-a/Dockerfile", "./svc-a/../svc-a/Dockerfile", cwd=repo)
    assert r.returncode == 0, r.stderr
    assert (repo / "svc-a" / "Dockerfile").read_bytes() == FIXED.encode()
    assert r.stderr.count("fixed svc-a/Dockerfile") == 1
    assert "changed on disk" not in r.stderr


def test_exit_non_zero_on_fix(repo: Path) -> None:
    assert dockfix("fix", "--write", "--exit-non-zero-on-fix", ".", cwd=repo).returncode == 1
    assert dockfix("fix", "--write", "--exit-non-zero-on-fix", ".", cwd=repo).returncode == 0


def test_stdin(tmp_path: Path) -> None:
    r = dockfix("fix", "-", cwd=tmp_path, stdin=UPDATE_ALONE.encode())
    assert r.returncode == 1
    assert "+RUN apt-get update && apt-get install -y curl" in r.stdout
    r = dockfix("check", "-", "--output-format", "json", cwd=tmp_path, stdin=UPDATE_ALONE.encode())
    assert '"code": "DF102"' in r.stdout


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"FROM a\nRUN \xff\xfe\n", "not valid UTF-8"),
        ("FROM a\n".encode("utf-16"), "UTF-16"),
        (b"\x7fELF\x00\x00binary", "binary file"),
        (b"FROM a\nRUN <<EOF\nno end\n", "unterminated heredoc"),
        (b"# only a comment\n", "file with no instructions"),
    ],
)
def test_bad_input_reported_and_others_processed(repo: Path, content: bytes, reason: str) -> None:
    (repo / "bad").mkdir()
    (repo / "bad" / "Dockerfile").write_bytes(content)
    r = dockfix("fix", "--write", ".", cwd=repo)
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("bad/Dockerfile:")]
    assert len(lines) == 1 and reason in lines[0]
    assert (repo / "svc-a" / "Dockerfile").read_bytes() == FIXED.encode()
    assert (repo / "bad" / "Dockerfile").read_bytes() == content


def test_directory_named_dockerfile_and_broken_links(repo: Path) -> None:
    (repo / "odd" / "Dockerfile").mkdir(parents=True)
    os.symlink("missing", repo / "Dockerfile.dangling")
    os.symlink("Dockerfile.loop", repo / "Dockerfile.loop")
    r = dockfix(
        "check", "odd/Dockerfile", "Dockerfile.dangling", "Dockerfile.loop", "svc-a", cwd=repo
    )
    assert r.returncode == 2
    assert "odd/Dockerfile: is a directory" in r.stderr
    assert "Dockerfile.dangling: dangling symbolic link" in r.stderr
    assert "Dockerfile.loop: symbolic link loop" in r.stderr
    assert "svc-a/Dockerfile:2:1: DF102" in r.stdout


def test_read_only_file_not_overwritten(repo: Path) -> None:
    target = repo / "svc-a" / "Dockerfile"
    os.chmod(target, 0o444)
    r = dockfix("fix", "--write", ".", cwd=repo)
    assert r.returncode == 2
    assert "svc-a/Dockerfile: file is read-only" in r.stderr
    assert target.read_bytes() == UPDATE_ALONE.encode()
    assert (repo / "svc-c" / "worker.dockerfile").read_bytes() != UPDATE_ALONE.replace(
        "\n", "\r\n"
    ).encode()


def test_gitignore_and_exclude_respected(repo: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    (repo / ".gitignore").write_text("svc-c/\n")
    (repo / "pyproject.toml").write_text('[tool.dockfix]\nexclude = ["svc-a"]\n')
    r = dockfix("check", ".", cwd=repo)
    assert r.returncode == 0, r.stdout


def test_nested_configurations_found_by_the_walk(tmp_path: Path) -> None:
    """The walk tells the configuration lookup which folders hold a config file: each file
    still gets its nearest one, through folders without one and past other tools'
    pyproject.toml files, and a symbolic link named dockfix.toml counts like the file."""
    svc = tmp_path / "services"
    for name in ("a", "b/deep/er", "c", "d", "e"):
        (svc / name).mkdir(parents=True)
        (svc / name / "Dockerfile").write_bytes(UPDATE_ALONE.encode())
    (tmp_path / "dockfix.toml").write_text('exclude = ["services/c"]\n')
    (svc / "a" / "dockfix.toml").write_text('ignore = ["DF102"]\n')
    (svc / "b" / "pyproject.toml").write_text("[tool.black]\nline-length = 99\n")
    (svc / "b" / "deep" / "dockfix.toml").write_text('ignore = ["DF102"]\n')
    (tmp_path / "shared.toml").write_text('ignore = ["DF102"]\n')
    (svc / "d" / "dockfix.toml").symlink_to(tmp_path / "shared.toml")
    (svc / "e" / "dockfix.toml.orig").write_text('ignore = ["DF102"]\n')  # not the name
    r = dockfix("check", "--output-format", "concise", ".", cwd=tmp_path)
    flagged = sorted(line.split(":")[0] for line in r.stdout.splitlines() if "DF102" in line)
    assert flagged == ["services/e/Dockerfile"], r.stdout + r.stderr


def test_bad_config_is_a_clear_error(repo: Path) -> None:
    (repo / "pyproject.toml").write_text('[tool.dockfix]\nselekt = ["DF102"]\n')
    r = dockfix("check", ".", cwd=repo)
    assert r.returncode == 2
    assert "unknown key `selekt`" in r.stderr


def test_rule_prints_documentation(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "dockfix", "rule", "DF102"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0
    for section in ("## What it does", "## Why is this bad", "## Example", "## Fix safety"):
        assert section in r.stdout
    r = subprocess.run(
        [sys.executable, "-m", "dockfix", "rule", "--all"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "DF102  apt-update-alone" in r.stdout


def test_write_with_stdin_prints_the_text(tmp_path: Path) -> None:
    r = dockfix("fix", "--write", "-", cwd=tmp_path, stdin=UPDATE_ALONE.encode())
    assert r.returncode == 0 and r.stdout == FIXED
    r = dockfix("fix", "--write", "-", cwd=tmp_path, stdin=CLEAN.encode())
    assert r.stdout == CLEAN
    assert list(tmp_path.iterdir()) == []  # nothing written to disk, no file named "-"


def test_output_is_the_same_under_every_hash_seed() -> None:
    """Bots diff dockfix's output between runs: no message may depend on the order of a set
    (string hashing changes it from one process to the next)."""
    fixtures = Path(__file__).parent.parent / "fixtures"
    outputs = set()
    for seed in ("1", "2", "3", "4"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        runs = [
            subprocess.run(
                [sys.executable, "-m", "dockfix", *args, "--offline", "--unsafe-fixes", "."],
                cwd=fixtures,
                env=env,
                capture_output=True,
                check=False,
                timeout=300,
            ).stdout
            for args in (("check", "--output-format", "json"), ("fix",))
        ]
        assert all(runs)
        outputs.add(tuple(runs))
    assert len(outputs) == 1


def test_output_cut_short_by_the_reader_is_no_error() -> None:
    """`dockfix check | head -1`: the reader closes the pipe; the exit status stays that of
    the check and nothing about the broken pipe is printed."""
    fixtures = Path(__file__).parent.parent / "fixtures"
    proc = subprocess.Popen(
        [sys.executable, "-m", "dockfix", "check", "--offline", "."],
        cwd=fixtures,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b"DF1")
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) in (1, 2)
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_unsafe_fixes_set_in_the_configuration_count_in_check_as_fix_applies_them(
    tmp_path: Path,
) -> None:
    """`unsafe-fixes = true` in dockfix.toml: `check` calls the unsafe fix fixable now (as
    `fix` applies it), not "fixable with `dockfix fix --unsafe-fixes`"."""
    (tmp_path / "Dockerfile").write_text(
        "FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\n"
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return dockfix(*args, "--offline", "--no-cache", cwd=tmp_path, select="DF105")

    check = ("check", ".")
    before = run(*check)
    assert "DF105 [-] " in before.stdout
    assert "[-] 1 more fixable with `dockfix fix --unsafe-fixes`." in before.stderr
    (tmp_path / "dockfix.toml").write_text("unsafe-fixes = true\n")
    after = run(*check)
    assert "DF105 [*] " in after.stdout
    assert "[*] 1 fixable with `dockfix fix`." in after.stderr
    assert "--unsafe-fixes" not in after.stderr
    assert "[*] " in run(*check, "--statistics").stdout
    assert "--no-install-recommends" in run("fix", ".").stdout
    # the command line still wins over the configuration
    assert "DF105 [-] " in run(*check, "--no-unsafe-fixes").stdout


def test_the_summary_counts_in_words(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:12\nMAINTAINER me\n")
    run = [sys.executable, "-m", "dockfix", "check", "--offline", "--no-cache", "--select"]
    one = subprocess.run(
        [*run, "DF502", "Dockerfile"], cwd=tmp_path, capture_output=True, text=True
    )
    assert "Found 1 finding in 1 file." in one.stdout + one.stderr
    (tmp_path / "b.Dockerfile").write_text("FROM debian:12\nMAINTAINER me\n")
    two = subprocess.run([*run, "DF502", "."], cwd=tmp_path, capture_output=True, text=True)
    assert "Found 2 findings in 2 files." in two.stdout + two.stderr
