"""dockfix.proof.image_compare on plain data: configs, file listings, declared changes, sizes."""

from __future__ import annotations

import json

import pytest

from dockfix.proof.image_compare import (
    BUILD_NOISE,
    AllowedChanges,
    FileEntry,
    Healthcheck,
    ImageConfig,
    SizeChange,
    apt_lists_removed,
    caches_removed,
    compare_configs,
    compare_filesystems,
    compare_images,
    config_changes,
    glob_to_regex,
    owner_changed,
    paths_added,
    paths_removed,
    rootfs_size,
    user_added,
)

DOCKER_CONFIG = {
    "Hostname": "",
    "User": "",
    "Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "FLASK_APP=app.py"],
    "Cmd": ["/bin/sh", "-c", "python app.py"],
    "Entrypoint": None,
    "WorkingDir": "/app",
    "ExposedPorts": {"5000/tcp": {}},
    "Labels": {"io.buildah.version": "1.28.2"},
    "Healthcheck": {
        "Test": ["CMD-SHELL", "curl -f http://localhost:5000/health || exit 1"],
        "Interval": 30_000_000_000,
        "Timeout": 3_000_000_000,
    },
    "OnBuild": None,
    "Volumes": None,
}


def base_files() -> list[FileEntry]:
    return [
        FileEntry("/", "dir", mode=0o755),
        FileEntry("/app", "dir", mode=0o755),
        FileEntry("/app/app.py", "file", size=420),
        FileEntry("/etc", "dir", mode=0o755),
        FileEntry("/etc/passwd", "file", size=900),
        FileEntry("/etc/group", "file", size=450),
        FileEntry("/etc/shadow", "file", size=500, mode=0o640, gid=42),
        FileEntry("/usr/bin/python3", "symlink", mode=0o777, link_target="python3.11"),
        FileEntry("/usr/bin/python3.11", "file", size=6_000_000, mode=0o755),
        FileEntry("/var/lib/apt/lists", "dir", mode=0o755),
        FileEntry("/var/lib/apt/lists/lock", "file", size=0, mode=0o640),
        FileEntry("/var/lib/apt/lists/deb.example_bookworm_InRelease", "file", size=150_000),
        FileEntry("/var/lib/apt/lists/deb.example_main_Packages.lz4", "file", size=9_000_000),
        FileEntry("/root/.cache", "dir", mode=0o755),
        FileEntry("/root/.cache/pip", "dir", mode=0o755),
        FileEntry("/root/.cache/pip/http-v2/a/b/c", "file", size=120_000, mode=0o600),
        FileEntry("/var/log/apt/history.log", "file", size=1_000),
    ]


# ----------------------------------------------------------------------------- configs


def test_config_from_docker_mapping() -> None:
    cfg = ImageConfig.from_mapping(DOCKER_CONFIG)
    assert cfg.user == ""
    assert cfg.cmd == ("/bin/sh", "-c", "python app.py")
    assert cfg.entrypoint is None
    assert cfg.env == {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "FLASK_APP": "app.py",
    }
    assert cfg.exposed_ports == frozenset({"5000/tcp"})
    assert cfg.working_dir == "/app"
    assert cfg.healthcheck == Healthcheck(
        test=("CMD-SHELL", "curl -f http://localhost:5000/health || exit 1"),
        interval=30_000_000_000,
        timeout=3_000_000_000,
    )
    assert cfg.volumes == frozenset()
    assert cfg.on_build == ()


def test_config_from_whole_image_config_and_oci_lowercase_wrapper() -> None:
    whole = {"architecture": "amd64", "config": DOCKER_CONFIG}
    assert ImageConfig.from_mapping(whole) == ImageConfig.from_mapping(DOCKER_CONFIG)
    assert ImageConfig.from_mapping({"Config": DOCKER_CONFIG}) == ImageConfig.from_mapping(
        DOCKER_CONFIG
    )
    assert ImageConfig.from_mapping(None) == ImageConfig()


def test_empty_entrypoint_equals_unset_and_later_env_duplicate_wins() -> None:
    cfg = ImageConfig.from_mapping({"Entrypoint": [], "Env": ["A=1", "A=2", "NOVALUE"]})
    assert cfg.entrypoint is None
    assert cfg.env == {"A": "2", "NOVALUE": ""}


def test_equal_configs_have_no_differences() -> None:
    cfg = ImageConfig.from_mapping(DOCKER_CONFIG)
    same = ImageConfig.from_mapping(json.loads(json.dumps(DOCKER_CONFIG)))
    assert compare_configs(cfg, same) == ()


def test_user_and_cmd_change_allowed_only_when_declared() -> None:
    before = ImageConfig.from_mapping(DOCKER_CONFIG)
    after = ImageConfig.from_mapping({**DOCKER_CONFIG, "User": "app", "Cmd": ["python", "app.py"]})
    undeclared = compare_configs(before, after)
    assert [d.field for d in undeclared] == ["User", "Cmd"]
    assert not any(d.allowed for d in undeclared)

    declared = compare_configs(before, after, config_changes("User", "Cmd", reason="DF1xx"))
    assert all(d.allowed for d in declared)
    assert {d.allowed_by for d in declared} == {"DF1xx"}
    assert declared[0].before == "" and declared[0].after == "app"


def test_env_and_labels_compare_per_key() -> None:
    before = ImageConfig.from_mapping(DOCKER_CONFIG)
    after = ImageConfig.from_mapping(
        {
            **DOCKER_CONFIG,
            "Env": [*DOCKER_CONFIG["Env"], "PIP_NO_CACHE_DIR=1"],  # type: ignore[list-item]
            "Labels": {"io.buildah.version": "1.28.2", "maintainer": "Jane"},
        }
    )
    diffs = compare_configs(before, after, config_changes(env_keys=["PIP_NO_CACHE_DIR"]))
    by_name = {d.name: d for d in diffs}
    assert set(by_name) == {"Env[PIP_NO_CACHE_DIR]", "Labels[maintainer]"}
    assert by_name["Env[PIP_NO_CACHE_DIR]"].allowed
    assert by_name["Env[PIP_NO_CACHE_DIR]"].before is None
    assert not by_name["Labels[maintainer]"].allowed
    whole_labels = compare_configs(before, after, config_changes("Labels", env_keys=["X"]))
    assert [d.allowed for d in whole_labels] == [False, True]


def test_healthcheck_and_ports_differences() -> None:
    before = ImageConfig.from_mapping(DOCKER_CONFIG)
    after = ImageConfig.from_mapping(
        {**DOCKER_CONFIG, "Healthcheck": None, "ExposedPorts": {"5000/tcp": {}, "9000/tcp": {}}}
    )
    names = [d.field for d in compare_configs(before, after)]
    assert names == ["ExposedPorts", "Healthcheck"]


def test_unknown_config_field_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown config field"):
        config_changes("Usr")
    with pytest.raises(KeyError):
        ImageConfig().field_value("Nope")


# ----------------------------------------------------------------------------- globs


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("/var/lib/apt/lists/**", "/var/lib/apt/lists/partial/x", True),
        ("/var/lib/apt/lists/**", "/var/lib/apt/lists", False),
        ("/etc/passwd", "/etc/passwd", True),
        ("/etc/passwd", "/etc/passwd-", False),
        ("/etc/*-", "/etc/passwd-", True),
        ("/etc/*", "/etc/ssl/certs", False),
        ("/home/*/.cache/**", "/home/app/.cache/pip/x", True),
        ("/var/cache/apt/*.bin", "/var/cache/apt/pkgcache.bin", True),
        ("/tmp/file[0-9]", "/tmp/file7", True),
        ("/tmp/file[!0-9]", "/tmp/file7", False),
        ("/a?c", "/abc", True),
        ("/a?c", "/a/c", False),
        ("/weird[", "/weird[", True),
    ],
)
def test_glob(pattern: str, path: str, matches: bool) -> None:
    assert (glob_to_regex(pattern).match(path) is not None) is matches


# ----------------------------------------------------------------------------- files


def test_identical_listings() -> None:
    assert compare_filesystems(base_files(), base_files()) == ()


def test_added_removed_changed_are_classified() -> None:
    before = base_files()
    after = [e for e in base_files() if e.path != "/app/app.py"]
    after.append(FileEntry("/app/new.py", "file", size=10))
    after = [
        FileEntry("/usr/bin/python3.11", "file", size=6_000_001, mode=0o700)
        if e.path == "/usr/bin/python3.11"
        else e
        for e in after
    ]
    diffs = compare_filesystems(before, after)
    assert [(d.path, d.kind) for d in diffs] == [
        ("/app/app.py", "removed"),
        ("/app/new.py", "added"),
        ("/usr/bin/python3.11", "changed"),
    ]
    assert diffs[2].attributes == ("size", "mode")
    assert not any(d.allowed for d in diffs)
    assert "size 6000000 -> 6000001" in diffs[2].describe()
    assert "mode 0755 -> 0700" in diffs[2].describe()
    assert diffs[0].describe().startswith("- /app/app.py (file 0644 0:0 420 B")


def test_symlink_target_owner_and_type_changes() -> None:
    before = [
        FileEntry("/l", "symlink", mode=0o777, link_target="a"),
        FileEntry("/o", "file", size=1, uid=0),
        FileEntry("/t", "file", size=0),
    ]
    after = [
        FileEntry("/l", "symlink", mode=0o777, link_target="b"),
        FileEntry("/o", "file", size=1, uid=1000, gid=1000),
        FileEntry("/t", "dir", size=0),
    ]
    diffs = {d.path: d.attributes for d in compare_filesystems(before, after)}
    assert diffs == {"/l": ("link_target",), "/o": ("uid", "gid"), "/t": ("type",)}


def test_paths_are_normalised() -> None:
    before = [FileEntry("app//x", "file", size=1)]
    after = [FileEntry("/app/x/", "file", size=1)]
    assert compare_filesystems(before, after) == ()


def test_apt_lists_removed_allows_only_list_files() -> None:
    before = base_files()
    after = [e for e in before if not e.path.startswith("/var/lib/apt/lists/")]
    assert all(not d.allowed for d in compare_filesystems(before, after))
    diffs = compare_filesystems(before, after, apt_lists_removed())
    assert len(diffs) == 3 and all(d.allowed for d in diffs)
    # Removing the directory itself was not declared.
    after_no_dir = [e for e in after if e.path != "/var/lib/apt/lists"]
    unexpected = [
        d for d in compare_filesystems(before, after_no_dir, apt_lists_removed()) if not d.allowed
    ]
    assert [d.path for d in unexpected] == ["/var/lib/apt/lists"]


def test_apt_lists_removal_does_not_allow_additions_there() -> None:
    before = base_files()
    after = [*before, FileEntry("/var/lib/apt/lists/new", "file", size=3)]
    (diff,) = compare_filesystems(before, after, apt_lists_removed())
    assert diff.kind == "added" and not diff.allowed


def test_user_added() -> None:
    before = base_files()
    after = [
        FileEntry(e.path, e.type, size=e.size + 40, mode=e.mode, gid=e.gid)
        if e.path in ("/etc/passwd", "/etc/group", "/etc/shadow")
        else e
        for e in before
    ]
    after += [
        FileEntry("/etc/passwd-", "file", size=900),
        FileEntry("/home/app", "dir", mode=0o750, uid=1000, gid=1000),
        FileEntry("/home/app/.bashrc", "file", size=3526, uid=1000, gid=1000),
    ]
    assert all(not d.allowed for d in compare_filesystems(before, after))
    diffs = compare_filesystems(before, after, user_added("app"))
    assert len(diffs) == 6
    assert all(d.allowed_by == "user app added" for d in diffs)
    # Another user's home is not covered.
    other = [*after, FileEntry("/home/bob", "dir")]
    assert [
        d.path for d in compare_filesystems(before, other, user_added("app")) if not d.allowed
    ] == ["/home/bob"]
    # A removed account file is not covered either.
    gone = [e for e in after if e.path != "/etc/shadow"]
    assert [
        d.path for d in compare_filesystems(before, gone, user_added("app")) if not d.allowed
    ] == ["/etc/shadow"]


def test_caches_removed_default_and_custom() -> None:
    before = base_files()
    after = [e for e in before if not e.path.startswith("/root/.cache")]
    diffs = compare_filesystems(before, after, caches_removed())
    assert {d.path for d in diffs} == {
        "/root/.cache",
        "/root/.cache/pip",
        "/root/.cache/pip/http-v2/a/b/c",
    }
    assert all(d.allowed for d in diffs)
    only_npm = compare_filesystems(before, after, caches_removed("/root/.npm"))
    assert not any(d.allowed for d in only_npm)


def test_owner_changed() -> None:
    before = base_files()
    after = [
        FileEntry(e.path, e.type, e.size, e.mode, 1000, 1000, e.link_target)
        if e.path.startswith("/app")
        else e
        for e in before
    ]
    diffs = compare_filesystems(before, after, owner_changed("/app", "/app/**"))
    assert len(diffs) == 2 and all(d.allowed for d in diffs)


def test_build_noise_is_applied_by_default_and_can_be_switched_off() -> None:
    before = base_files()
    after = [
        FileEntry(e.path, e.type, size=e.size + 7) if e.path == "/var/log/apt/history.log" else e
        for e in before
    ]
    after.append(FileEntry("/root/.npm/_logs/2026-01-01T00_00_00_000Z-debug-0.log", "file"))
    with_noise = compare_filesystems(before, after)
    assert len(with_noise) == 2 and all(d.allowed for d in with_noise)
    strict = compare_filesystems(before, after, noise=None)
    assert len(strict) == 2 and not any(d.allowed for d in strict)


def test_allowed_changes_combine() -> None:
    combined = AllowedChanges.merge([apt_lists_removed(), user_added("app"), BUILD_NOISE])
    assert combined.path_rule("/var/lib/apt/lists/x", "removed") is not None
    assert combined.path_rule("/etc/passwd", "changed") is not None
    assert combined.path_rule("/etc/passwd", "removed") is None
    assert (apt_lists_removed() | apt_lists_removed()).path_rules == apt_lists_removed().path_rules
    both = config_changes("User", reason="r1") | config_changes(env_keys=["X"], reason="r2")
    assert both.config_reason("User") == "r1"
    assert both.config_reason("Env", "X") == "r2"
    assert both.config_reason("Cmd") is None
    assert paths_added("/x").path_rule("/x", "added") is not None
    assert paths_removed("/x").path_rule("/x", "added") is None


# ----------------------------------------------------------------------------- sizes, report


def test_size_change() -> None:
    change = SizeChange(200 * 2**20, 150 * 2**20)
    assert change.delta == -50 * 2**20
    assert change.percent == pytest.approx(-25.0)
    assert change.describe() == "200.0 MiB -> 150.0 MiB (-50.0 MiB, -25.0%)"
    assert SizeChange(0, 10).percent is None
    assert SizeChange(0, 10).describe() == "0 B -> 10 B (+10 B, n/a)"
    assert SizeChange(1000, 1000).to_dict() == {
        "before": 1000,
        "after": 1000,
        "delta": 0,
        "percent": 0.0,
    }


def test_rootfs_size_counts_regular_files_only() -> None:
    files = [
        FileEntry("/a", "file", size=10),
        FileEntry("/b", "hardlink", size=0, link_target="/a"),
        FileEntry("/d", "dir"),
        FileEntry("/l", "symlink", link_target="a"),
    ]
    assert rootfs_size(files) == 10


def test_compare_images_report() -> None:
    before_cfg = ImageConfig.from_mapping(DOCKER_CONFIG)
    after_cfg = ImageConfig.from_mapping({**DOCKER_CONFIG, "User": "app"})
    before = base_files()
    after = [e for e in before if not e.path.startswith("/var/lib/apt/lists/")]
    report = compare_images(
        config_before=before_cfg,
        config_after=after_cfg,
        files_before=before,
        files_after=after,
        allowed=apt_lists_removed(),
        size_before=100_000_000,
        size_after=90_000_000,
    )
    assert not report.equal and not report.identical
    assert [d.field for d in report.unexpected_config] == ["User"]
    assert report.unexpected_files == ()
    assert report.image_size == SizeChange(100_000_000, 90_000_000)
    assert report.rootfs_size is not None and report.rootfs_size.delta == -9_150_000
    text = report.format_text()
    assert text.splitlines()[0] == "UNEXPECTED DIFFERENCES"
    assert "config User: '' -> 'app'" in text
    assert "(0 config and 3 file differences were declared)" in text
    assert "image size: 95.4 MiB -> 85.8 MiB (-9.5 MiB, -10.0%)" in text
    data = report.to_dict()
    json.dumps(data)  # serialisable
    assert data["equal"] is False and len(data["files"]) == 3

    ok = compare_images(
        config_before=before_cfg,
        config_after=after_cfg,
        files_before=before,
        files_after=after,
        allowed=apt_lists_removed() | config_changes("User"),
    )
    assert ok.equal and not ok.identical and ok.image_size is None
    assert ok.format_text().startswith("equal apart from declared changes")
    assert "allowed: User may change" in ok.format_text(show_allowed=True)


def test_format_text_truncates() -> None:
    before = [FileEntry(f"/f{i:03}", "file", size=i) for i in range(50)]
    report = compare_images(
        config_before=ImageConfig(),
        config_after=ImageConfig(),
        files_before=before,
        files_after=[],
    )
    text = report.format_text(max_items=5)
    assert "… and 45 more file differences" in text


def test_file_entry_round_trip() -> None:
    entry = FileEntry("/usr/bin/x", "symlink", 0, 0o777, 1, 2, "y")
    assert FileEntry.from_dict(entry.to_dict()) == entry
    assert entry.to_dict()["mode"] == "0777"


def test_npm_s_download_cache_is_build_noise() -> None:
    """Two builds of one lock file cached different registry documents (typescript-service:
    one 9 MB metadata document under content-v2 replaced by another): npm's cache holds what
    the registry said that minute; node_modules holds what was installed."""
    cached = "/root/.npm/_cacache/content-v2/sha512/c0/5f/0263f6"
    again = "/root/.npm/_cacache/content-v2/sha512/b8/e1/f484dc"
    before = [*base_files(), FileEntry(cached, "file", size=9419434)]
    after = [*base_files(), FileEntry(again, "file", size=9422346)]
    diffs = compare_filesystems(before, after)
    assert len(diffs) == 2 and all(d.allowed_by for d in diffs)
    changed = [*base_files(), FileEntry("/app/node_modules/typescript/package.json", "file", size=1)]
    assert [d.allowed_by for d in compare_filesystems(base_files(), changed)] == [None]
