"""The results cache: a file is checked again exactly when something it depends on changed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

import dockfix
from dockfix.cli import main
from dockfix.run import results_cache
from dockfix.run.runner import FileReport, RunOptions, process_paths

NODE = "FROM node:20\nCOPY . .\nRUN npm install\n"
NODE_MANIFEST = "FROM node:20\nCOPY package.json ./\nRUN npm install\n"
APT = "FROM python:3.12\nRUN apt-get update && apt-get install -y curl\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        (root / name / "Dockerfile").write_text(NODE)
        (root / name / "package.json").write_text(f'{{"name": "{name}"}}\n')
    (root / "b" / ".dockerignore").write_text("node_modules\n")
    monkeypatch.chdir(root)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("DOCKFIX_CACHE_DIR", raising=False)
    return root


def _run(cache: Path | None, **opts: object) -> dict[str, FileReport]:
    options = RunOptions(offline=True, cache_dir=str(cache) if cache else None, **opts)  # type: ignore[arg-type]
    return {r.path: r for r in process_paths(["a/Dockerfile", "b/Dockerfile"], options)}


def _rechecked(reports: dict[str, FileReport]) -> list[str]:
    return sorted(path for path, r in reports.items() if not r.cached)


def _findings(reports: dict[str, FileReport]) -> dict[str, list[tuple[str, int, bool]]]:
    assert all(r.outcome is not None for r in reports.values())
    return {
        path: [(f.code, f.line, f.fix is not None) for f in r.outcome.findings]  # type: ignore[union-attr]
        for path, r in reports.items()
    }


def test_warm_run_checks_nothing_and_gives_the_same_findings(repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cold = _run(cache)
    assert _rechecked(cold) == ["a/Dockerfile", "b/Dockerfile"]
    warm = _run(cache)
    assert _rechecked(warm) == []
    assert _findings(warm) == _findings(cold) == _findings(_run(None))
    assert warm["a/Dockerfile"].outcome.findings[0].path == "a/Dockerfile"  # type: ignore[union-attr]


def test_a_changed_package_json_rechecks_that_file_only(repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _run(cache)
    (repo / "a" / "package.json").write_text("not json\n")  # DF101 can no longer plan its fix
    after = _run(cache)
    assert _rechecked(after) == ["a/Dockerfile"]
    assert _findings(after) == _findings(_run(None))


def test_dockerignore_created_or_changed_rechecks_that_file_only(
    repo: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    _run(cache)
    (repo / "a" / ".dockerignore").write_text("*.log\n")  # did not exist: an absent input
    assert _rechecked(_run(cache)) == ["a/Dockerfile"]
    (repo / "b" / ".dockerignore").write_text("node_modules\n*.md\n")
    assert _rechecked(_run(cache)) == ["b/Dockerfile"]
    assert _rechecked(_run(cache)) == []


def test_a_base_image_dockerfile_added_to_the_repository_rechecks_every_file_built_on_it(
    repo: Path, tmp_path: Path
) -> None:
    """DF201 looks for the Dockerfile that builds a repository's own base image, and the run
    walks the repository once for all the files that use that base: each file's entry still
    names the walk, so a `base/Dockerfile` added later re-checks both files, not the first."""
    (repo / ".git").mkdir()
    for name in ("a", "b"):
        (repo / name / "Dockerfile").write_text('FROM acme/app-base:1.4\nCMD ["app"]\n')
    cache = tmp_path / "cache"
    _run(cache)
    assert _rechecked(_run(cache)) == []
    (repo / "base").mkdir()
    (repo / "base" / "Dockerfile").write_text("FROM debian:12\nUSER app\n")
    warm = _run(cache)
    assert _rechecked(warm) == ["a/Dockerfile", "b/Dockerfile"]
    assert _findings(warm) == _findings(_run(None))


def test_same_bytes_rewritten_stay_cached(repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _run(cache)
    manifest = repo / "a" / "package.json"
    st = manifest.stat()
    manifest.write_bytes(manifest.read_bytes())  # a checkout: new mtime, same content
    os.utime(manifest, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    assert _rechecked(_run(cache)) == []


def test_changed_dockerfile_and_settings_recheck(repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _run(cache)
    (repo / "b" / "Dockerfile").write_text(APT)
    assert _rechecked(_run(cache)) == ["b/Dockerfile"]
    assert _rechecked(_run(cache, unsafe_fixes=True)) == ["a/Dockerfile", "b/Dockerfile"]
    assert _rechecked(_run(cache, select=("DF101",))) == ["a/Dockerfile", "b/Dockerfile"]
    _run(cache)
    (repo / "dockfix.toml").write_text('[severity]\nDF101 = "error"\n')
    from dockfix.run import config, runner

    config._find_config.cache_clear()  # as a new run finds it
    runner._find_config_for.cache_clear()
    after = _run(cache)
    assert _rechecked(after) == ["a/Dockerfile", "b/Dockerfile"]
    assert after["a/Dockerfile"].outcome.findings  # type: ignore[union-attr]


def test_another_dockfix_version_or_fixer_set_rechecks(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    _run(cache)
    results_cache.tool_fingerprint.cache_clear()
    monkeypatch.setattr(dockfix, "__version__", "99.0")
    assert _rechecked(_run(cache)) == ["a/Dockerfile", "b/Dockerfile"]
    results_cache.tool_fingerprint.cache_clear()
    monkeypatch.undo()
    monkeypatch.chdir(repo)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    _run(cache)
    # A fixer module whose source changed (an upgrade of a plug-in, an edited fixer).
    from dockfix.core.catalog import all_fixers

    module = os.path.abspath(__import__(all_fixers()["DF101"].__module__, fromlist=["x"]).__file__)
    real_open = open

    def patched_open(name: object, *args: object, **kwargs: object) -> object:
        handle = real_open(name, *args, **kwargs)  # type: ignore[call-overload]
        if name == module:
            import io

            return io.BytesIO(handle.read() + b"\n# edited\n")
        return handle

    monkeypatch.setattr("builtins.open", patched_open)
    results_cache.tool_fingerprint.cache_clear()
    try:
        assert _rechecked(_run(cache)) == ["a/Dockerfile", "b/Dockerfile"]
    finally:
        monkeypatch.undo()
        results_cache.tool_fingerprint.cache_clear()


def test_the_tool_fingerprint_reads_every_module_of_dockfix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The engine's modules live in subpackages (core/, semantics/ …): an edit of any of them
    must re-check every file, as an edit of a module at the top does."""
    package = Path(dockfix.__file__).parent
    modules = {str(p) for p in package.rglob("*.py") if "__pycache__" not in p.parts}
    assert any(Path(m).parent != package for m in modules)
    opened: set[str] = set()
    real_open = open

    def recording_open(name: object, *args: object, **kwargs: object) -> object:
        opened.add(str(name))
        return real_open(name, *args, **kwargs)  # type: ignore[call-overload]

    results_cache.tool_fingerprint.cache_clear()
    monkeypatch.setattr("builtins.open", recording_open)
    try:
        results_cache.tool_fingerprint()
    finally:
        monkeypatch.undo()
        results_cache.tool_fingerprint.cache_clear()
    assert sorted(modules - opened) == []


def test_a_new_digest_cache_answer_rechecks_the_files_that_used_it(
    repo: Path, tmp_path: Path
) -> None:
    from dockfix.registry.digest_cache import DigestCache

    cache = tmp_path / "cache"
    (repo / "b" / "Dockerfile").write_text(APT)
    _run(cache)
    digests = DigestCache()  # where offline lookups read: $XDG_CACHE_HOME/dockfix
    digests.put(
        "registry-1.docker.io/library/node:20",
        "sha256:" + "ab" * 32,
        "application/vnd.oci.image.index.v1+json",
    )
    digests.save()
    after = _run(cache)
    assert _rechecked(after) == ["a/Dockerfile"]
    assert _findings(after) == _findings(_run(None))


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_cache_dir_no_cache_and_clean(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "from-config"
    (repo / "dockfix.toml").write_text(f'cache-dir = "{cache}"\n')
    code, out, err = _cli("check", "--offline", "--no-cache", "-v", ".")
    assert code == 1 and "(cached)" not in err and not cache.exists()
    _cli("check", "--offline", ".")
    code, out_warm, err = _cli("check", "--offline", "-v", ".")
    assert code == 1 and err.count("(cached)") == 2 and out_warm == out
    code, _, err = _cli("check", "--offline", "--no-cache", "-v", ".")
    assert "(cached)" not in err
    # The environment variable wins over the setting.
    monkeypatch.setenv("DOCKFIX_CACHE_DIR", str(tmp_path / "from-env"))
    _cli("check", "--offline", ".")
    assert (tmp_path / "from-env" / "results-v4").is_dir()
    monkeypatch.delenv("DOCKFIX_CACHE_DIR")
    shards = {results_cache._shard_path(str(cache), str(repo / d / "Dockerfile")) for d in "ab"}
    code, _, err = _cli("clean")
    assert code == 0 and err == f"Removed {cache / 'results-v4'} ({len(shards) + 1} files).\n"
    assert not cache.exists()
    code, _, err = _cli("clean")
    assert code == 0 and "No results cache" in err


def test_fix_dry_run_is_cached_but_write_always_processes(repo: Path, tmp_path: Path) -> None:
    os.environ["DOCKFIX_CACHE_DIR"] = str(tmp_path / "cache")
    try:
        code, diff, _ = _cli("fix", "--offline", ".")
        code2, diff2, err = _cli("fix", "--offline", "-v", ".")
        assert code == code2 == 1 and diff2 == diff and err.count("(cached)") == 2
        code, _, err = _cli("fix", "--offline", "--write", "-v", ".")
        assert "(cached)" not in err
        assert "COPY package.json" in (repo / "a" / "Dockerfile").read_text()
    finally:
        del os.environ["DOCKFIX_CACHE_DIR"]


@pytest.mark.parametrize("damage", ["corrupt", "truncate", "empty"])
def test_damaged_entry_gives_one_warning_and_correct_results(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("DOCKFIX_CACHE_DIR", str(cache))
    _, expected, _ = _cli("check", "--offline", "--no-cache", ".")
    _cli("check", "--offline", ".")
    shards = [results_cache._shard_path(str(cache), str(repo / d / "Dockerfile")) for d in "ab"]
    entries = [Path(shards[0])]
    still_cached = 1 if shards[0] != shards[1] else 0
    data = entries[0].read_bytes()
    if damage == "corrupt":
        entries[0].write_bytes(data[:-40] + bytes(40))
    elif damage == "truncate":
        entries[0].write_bytes(data[: len(data) // 2])
    else:
        entries[0].write_bytes(data[:5])
    code, out, err = _cli("check", "--offline", "-v", ".")
    assert code == 1 and out == expected
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "corrupt" in warnings[0], err
    assert err.count("(cached)") == still_cached
    code, out, err = _cli("check", "--offline", "-v", ".")  # rewritten: trusted again
    assert out == expected and "warning:" not in err and err.count("(cached)") == 2


def test_parallel_run_saves_the_workers_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dockfix.run.runner import PARALLEL_THRESHOLD

    monkeypatch.chdir(tmp_path)
    names = []
    for i in range(PARALLEL_THRESHOLD):
        (tmp_path / f"s{i}").mkdir()
        (tmp_path / f"s{i}" / "Dockerfile").write_text(APT if i % 2 else "FROM scratch\n")
        names.append(f"s{i}/Dockerfile")
    opts = RunOptions(offline=True, cache_dir=str(tmp_path / "cache"), select=("DF103",))
    cold = list(process_paths(names, opts, jobs=2))
    warm = list(process_paths(names, opts, jobs=2))
    assert not any(r.cached for r in cold) and all(r.cached for r in warm)
    assert [len(r.outcome.findings) for r in warm] == [len(r.outcome.findings) for r in cold]  # type: ignore[union-attr]


def test_hadolint_configuration_is_keyed_the_same_in_every_process(
    repo: Path, tmp_path: Path
) -> None:
    """`.hadolint.yaml`'s `ignored` is a set: its key must not follow the process's string
    hashing, or every new process would miss the cache; a changed file re-checks."""
    import subprocess
    import sys

    (repo / ".hadolint.yaml").write_text("ignored: [DL3008, DL3009, DL3015, DL3016, DL3059]\n")
    env = dict(os.environ, DOCKFIX_CACHE_DIR=str(tmp_path / "cache"), HOME=str(tmp_path))

    def cached(seed: str) -> list[bool]:
        out = subprocess.run(
            [sys.executable, "-m", "dockfix", "check", "-v", "--offline", "a", "b"],
            env={**env, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
        )
        lines = [ln for ln in (out.stdout + out.stderr).splitlines() if ln.startswith(("a/", "b/"))]
        lines = [ln for ln in lines if "Dockerfile:" in ln and "finding" in ln]
        assert len(lines) == 2, out.stdout + out.stderr
        return ["(cached)" in ln for ln in lines]

    assert cached("1") == [False, False]
    assert cached("2") == [True, True]
    (repo / ".hadolint.yaml").write_text("ignored: [DL3008]\n")
    assert cached("3") == [False, False]


def _forget_configs() -> None:
    from dockfix.run import runner

    dockfix.run.config.forget_found_configs()  # as a new run finds them
    runner._find_config_for.cache_clear()


def test_the_key_of_a_directory_s_files_is_the_key_of_each_file(repo: Path, tmp_path: Path) -> None:
    """A warm run works a directory's settings key out once; it must be the key each of its
    files would get on its own (per-file patterns and --context included)."""
    from dockfix.run.runner import file_settings

    (repo / "dockfix.toml").write_text('[per-file-ignores]\n"b/*" = ["DF101"]\n')
    _forget_configs()
    for opts in (
        RunOptions(offline=True, cache_dir=str(tmp_path / "c")),
        RunOptions(offline=True, cache_dir=str(tmp_path / "c"), context="b", unsafe_fixes=True),
    ):
        for name in ("a/Dockerfile", "b/Dockerfile"):
            path = Path(name)
            whole = results_cache.settings_key(file_settings(path, opts, read_from_path=True), opts)
            assert results_cache._file_key(path, opts) in (whole, None)
    assert results_cache._file_key(Path("b/Dockerfile"), opts) is None  # per-file patterns


def test_per_file_ignores_of_files_in_one_directory_stay_apart(repo: Path, tmp_path: Path) -> None:
    (repo / "a" / "worker.Dockerfile").write_text(NODE)
    (repo / "dockfix.toml").write_text('[per-file-ignores]\n"a/worker.Dockerfile" = ["DF101"]\n')
    _forget_configs()
    cache = tmp_path / "cache"
    names = ["a/Dockerfile", "a/worker.Dockerfile"]
    opts = RunOptions(offline=True, cache_dir=str(cache), apply_fixes=False)
    runs = [{r.path: r for r in process_paths(names, opts)} for _ in range(2)]
    assert _rechecked(runs[1]) == []
    for reports in runs:
        codes = {p: {code for code, _, _ in found} for p, found in _findings(reports).items()}
        assert "DF101" in codes["a/Dockerfile"]
        assert "DF101" not in codes["a/worker.Dockerfile"]


@pytest.mark.parametrize("keep_edits", [True, False])
def test_a_parallel_warm_run_gives_what_the_cold_one_gave(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep_edits: bool
) -> None:
    """A worker sends a hit on as the cache stored it: the main process still gets every
    finding whole (its fix, edits when kept), naming the file as this run shows it."""
    from dockfix.run.runner import PARALLEL_THRESHOLD

    project = tmp_path / "project"
    names = []
    for i in range(PARALLEL_THRESHOLD):
        (project / f"s{i}").mkdir(parents=True)
        (project / f"s{i}" / "Dockerfile").write_text(APT if i % 2 else NODE)
        names.append(f"s{i}/Dockerfile")
    opts = RunOptions(offline=True, cache_dir=str(tmp_path / "cache"), keep_edits=keep_edits)

    def seen(reports: list[FileReport]) -> list[object]:
        return [
            (
                r.path,
                r.error,
                [
                    (f.path, f.code, f.message, f.line, f.severity, f.fix)
                    for f in r.outcome.findings
                ],
            )  # type: ignore[union-attr]
            for r in reports
        ]

    monkeypatch.chdir(project)
    cold = list(process_paths(names, opts, jobs=2))
    warm = list(process_paths(names, opts, jobs=2))
    assert not any(r.cached for r in cold) and all(r.cached for r in warm)
    assert seen(warm) == seen(cold)
    assert any(
        f.fix is not None and bool(f.fix.edits) == keep_edits
        for r in warm
        for f in r.outcome.findings
    )  # type: ignore[union-attr]
    monkeypatch.chdir(tmp_path)  # the same files, shown as project/s…/Dockerfile
    again = list(process_paths([f"project/{n}" for n in names], opts, jobs=2))
    assert [r.path for r in again] == [f"project/{n}" for n in names]
    assert all(f.path == r.path for r in again for f in r.outcome.findings)  # type: ignore[union-attr]


def test_a_parallel_warm_run_reports_a_rejected_file_as_the_cold_one_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker passes a hit on still pickled; the main process takes the file's error from
    it: a file BuildKit rejects fails the warm run as it failed the cold one."""
    from dockfix.run.runner import PARALLEL_THRESHOLD

    project = tmp_path / "project"
    names = []
    for i in range(PARALLEL_THRESHOLD):
        (project / f"s{i}").mkdir(parents=True)
        text = "FROM alpine\nFORM alpine\n" if i == 3 else APT
        (project / f"s{i}" / "Dockerfile").write_text(text)
        names.append(f"s{i}/Dockerfile")
    opts = RunOptions(offline=True, cache_dir=str(tmp_path / "cache"), apply_fixes=False)
    monkeypatch.chdir(project)
    cold = list(process_paths(names, opts, jobs=2))
    warm = list(process_paths(names, opts, jobs=2))
    assert all(r.cached for r in warm)
    assert cold[3].error and [r.error for r in warm] == [r.error for r in cold]
    assert [r.error_message() for r in warm] == [r.error_message() for r in cold]


def test_an_older_release_s_cache_is_neither_read_nor_in_the_way(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Older releases kept a directory per hash prefix (results-v1/ab/cdef…), where a shard
    file now goes, and shards of another format (results-v2/ab, with another header and
    checksum): this release reads neither, warns about nothing, keeps its own results, and
    `dockfix clean` removes them all."""
    cache = tmp_path / "cache"
    (cache / "results-v2").mkdir(parents=True)
    for prefix in (f"{n:02x}" for n in range(256)):
        (cache / "results-v1" / prefix).mkdir(parents=True)
        (cache / "results-v1" / prefix / ("ab" * 15)).write_bytes(b"old entry")
        (cache / "results-v2" / prefix).write_bytes(b"dockfix-results\x01" + b"\0" * 40)
    cold = _run(cache)
    assert all(not r.outcome.warnings for r in cold.values())  # type: ignore[union-attr]
    assert _rechecked(_run(cache)) == []
    monkeypatch.setenv("DOCKFIX_CACHE_DIR", str(cache))
    code, _, err = _cli("clean")
    assert code == 0 and err.startswith(f"Removed {cache / 'results-v4'} (")
    assert not cache.exists()


def _settled(*directories: Path) -> None:
    """As a checkout long done: the folders' modification times a minute old."""
    for d in directories:
        st = d.stat()
        os.utime(d, ns=(st.st_atime_ns, st.st_mtime_ns - 60_000_000_000))


def _entry_deps(cache: Path, name: str) -> list[tuple[object, ...]]:
    import pickle

    shard = results_cache._shard_path(str(cache), os.path.abspath(name))
    entries, problem = results_cache._read_shard(shard)
    assert problem is None
    return list(pickle.loads(entries[os.path.abspath(name)])[2])


def test_files_absent_from_a_settled_folder_are_one_input(repo: Path, tmp_path: Path) -> None:
    """The names a file's fixers found missing in a folder (`.dockerignore`,
    `Dockerfile.dockerignore`, lock files …) are checked by the folder's modification time: a
    new one of them re-checks the file, an unrelated new file does not."""
    cache = tmp_path / "cache"
    for name in ("a", "b"):  # (no `COPY . .`: the folder's listing is no input)
        (repo / name / "Dockerfile").write_text(NODE_MANIFEST)
    _settled(repo / "a", repo / "b")
    _run(cache)
    absent = [d for d in _entry_deps(cache, "a/Dockerfile") if d[0] == "absent"]
    assert len(absent) == 1 and absent[0][1] == str(repo / "a")
    assert ".dockerignore" in str(absent[0][3]).split("\0")
    assert not [d for d in _entry_deps(cache, "a/Dockerfile") if d[2] == () and d[0] != "absent"]
    (repo / "a" / "README.md").write_text("unrelated\n")  # the folder changed, not the names
    assert _rechecked(_run(cache)) == []
    (repo / "a" / ".dockerignore").write_text("*.log\n")
    assert _rechecked(_run(cache)) == ["a/Dockerfile"]
    assert _findings(_run(cache)) == _findings(_run(None))


def test_a_folder_changed_just_now_keeps_its_absent_names_apart(repo: Path, tmp_path: Path) -> None:
    """Within its timestamp's tick a folder may change again and keep its modification time:
    a folder modified in the last seconds does not stand for the names missing from it."""
    cache = tmp_path / "cache"
    _run(cache)
    deps = _entry_deps(cache, "a/Dockerfile")
    assert not [d for d in deps if d[0] == "absent"]
    assert str(repo / "a" / ".dockerignore") in [d[1] for d in deps if d[2] == ()]


def test_a_file_seen_by_stat_and_lstat_is_one_input_unless_a_link(
    repo: Path, tmp_path: Path
) -> None:
    """A file both asked about with and without following links is one input when it is no
    link; a link keeps both, and a change to the file it points to re-checks."""
    cache = tmp_path / "cache"
    for name in ("a", "b"):
        (repo / name / "Dockerfile").write_text(NODE_MANIFEST)
    shared = repo / "shared"
    shared.mkdir()
    (shared / "package.json").write_text('{"name": "shared"}\n')
    (repo / "b" / "package.json").unlink()
    (repo / "b" / "package.json").symlink_to(shared / "package.json")
    _run(cache)
    a_deps = [
        d for d in _entry_deps(cache, "a/Dockerfile") if d[1] == str(repo / "a" / "package.json")
    ]
    assert [d[0] for d in a_deps] == ["lstat"]
    b_deps = [
        d for d in _entry_deps(cache, "b/Dockerfile") if d[1] == str(repo / "b" / "package.json")
    ]
    assert sorted(d[0] for d in b_deps) == ["lstat", "stat"]
    (shared / "package.json").write_text("not json\n")
    assert _rechecked(_run(cache)) == ["b/Dockerfile"]
    (repo / "a" / "package.json").write_text("not json\n")
    assert _rechecked(_run(cache)) == ["a/Dockerfile"]


def test_a_settled_file_is_shown_from_its_status_without_being_read(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker answers a warm `check` of a file whose status (size, times, inode, mode) is
    what it was when it was checked without reading it; a change of its bytes shows in its
    status change time even when its size and modification time are put back."""
    from dockfix.run import runner
    from dockfix.run.wire import unpack_report

    monkeypatch.setattr(results_cache, "SETTLED_NS", 0)  # (its times are seconds old)
    _forget_configs()
    cache = tmp_path / "cache"
    opts = RunOptions(offline=True, cache_dir=str(cache), show="concise", keep_edits=False)
    (repo / "a" / "Dockerfile").write_text(APT)
    cold = unpack_report(runner._packed_path("a/Dockerfile", opts))
    assert not cold.cached and cold.cache_entry is not None and cold.lines is not None
    assert results_cache.save(str(cache), [cold.cache_entry]) is None

    def unread(path: object) -> object:
        raise AssertionError(f"{path} was read")

    with monkeypatch.context() as patched:
        patched.setattr(runner, "read_source", unread)
        warm = unpack_report(runner._packed_path("a/Dockerfile", opts))
    assert warm.cached and warm.lines == cold.lines and warm.path == "a/Dockerfile"
    dockerfile = repo / "a" / "Dockerfile"
    st = dockerfile.stat()
    dockerfile.write_text(APT.replace("curl", "wget"))  # same size
    os.utime(dockerfile, ns=(st.st_atime_ns, st.st_mtime_ns))
    changed = unpack_report(runner._packed_path("a/Dockerfile", opts))
    assert not changed.cached and changed.lines is not None
    assert "wget" not in "".join(cold.lines.parts)
    assert changed.lines.parts != cold.lines.parts or changed.lines.order != cold.lines.order


def test_a_file_changed_just_now_is_compared_by_its_text(repo: Path, tmp_path: Path) -> None:
    """A file whose status changed in the last seconds may change again within the same tick
    of its clock: its entry keeps no status, and a warm run reads it."""
    from dockfix.run import runner
    from dockfix.run.wire import unpack_report

    opts = RunOptions(offline=True, cache_dir=str(tmp_path / "cache"), show="full")
    cold = unpack_report(runner._packed_path("a/Dockerfile", opts))
    assert cold.cache_entry is not None
    import pickle

    assert pickle.loads(cold.cache_entry[1])[6] == ()


def test_a_damaged_shard_is_reported_when_a_settled_file_is_looked_up_by_status(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker asks a settled file's entry about its status first, and reads the file only
    when that does not answer: a damaged shard met by the first question is still reported,
    once, with the file that re-checks."""
    from dockfix.run import runner
    from dockfix.run.wire import unpack_report

    monkeypatch.setattr(results_cache, "SETTLED_NS", 0)
    _forget_configs()
    cache = tmp_path / "cache"
    opts = RunOptions(offline=True, cache_dir=str(cache), show="concise", keep_edits=False)
    cold = unpack_report(runner._packed_path("a/Dockerfile", opts))
    assert cold.cache_entry is not None
    assert results_cache.save(str(cache), [cold.cache_entry]) is None
    shard = Path(results_cache._shard_path(str(cache), os.path.abspath("a/Dockerfile")))
    data = bytearray(shard.read_bytes())
    data[-1] ^= 0xFF  # one flipped bit in the payload: its checksum no longer matches
    shard.write_bytes(bytes(data))
    again = unpack_report(runner._packed_path("a/Dockerfile", opts))
    assert not again.cached and again.outcome is not None
    assert [w for w in again.outcome.warnings if "checksum mismatch" in w], again.outcome.warnings
