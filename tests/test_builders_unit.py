"""dockfix.proof.builders without a real builder: log parsing, listings, commands, discovery.

The real builds are in tests/buildenv/test_builders.py (slow).
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
import textwrap
from pathlib import Path

import pytest

from dockfix.proof.builders import (
    BuildahBuilder,
    BuilderError,
    BuilderNotFoundError,
    DockerBuildxBuilder,
    PodmanBuilder,
    find_builder,
    list_directory,
    list_tar_stream,
    parse_buildah_steps,
    parse_buildkit_steps,
)
from dockfix.proof.image_compare import FileEntry

# Output of buildah 1.28 (Debian bookworm), cut down: a second build of a multi-stage file.
BUILDAH_MULTISTAGE_LOG = textwrap.dedent(
    """\
    [1/2] STEP 1/5: FROM busybox AS build
    [1/2] STEP 2/5: ARG GREETING=Hello
    --> Using cache 0b5a5c1c2e54d7b7e0cba0bd3ae3df8cf1d0bd0e47e8c4d54d1a0e2c8f08b7ab
    --> 0b5a5c1c2e5
    [1/2] STEP 3/5: WORKDIR /src
    --> Using cache 63ae2b8df0f1e2f0b8c6f2b9f0ce7f7e8b8e3b4c9b1e6a5d4c3b2a1f0e9d8c7b
    --> 63ae2b8df0f
    [1/2] STEP 4/5: COPY . .
    [1/2] STEP 5/5: RUN sh build.sh "$GREETING" > /src/hello && chmod 755 /src/hello
    --> 5d1f2c3b4a5
    [2/2] STEP 1/5: FROM busybox
    [2/2] STEP 2/5: MAINTAINER Tools Team <tools@example.com>
    --> Using cache 7e2d1c0b9a8f7e6d5c4b3a291807f6e5d4c3b2a1908f7e6d5c4b3a2918070605
    --> 7e2d1c0b9a8
    [2/2] STEP 3/5: ADD VERSION /etc/hello-version
    --> Using cache 8f7e6d5c4b3a291807f6e5d4c3b2a1908f7e6d5c4b3a29180706050403020100
    --> 8f7e6d5c4b3
    [2/2] STEP 4/5: COPY --from=build /src/hello /usr/local/bin/hello
    --> 9a8b7c6d5e4
    [2/2] STEP 5/5: CMD /usr/local/bin/hello
    [2/2] COMMIT hello
    --> 0a1b2c3d4e5
    Successfully tagged localhost/hello:latest
    0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9
    """
)

BUILDAH_SINGLE_LOG = textwrap.dedent(
    """\
    STEP 1/4: FROM python:3.11-slim
    Resolved "python" as an alias (/etc/containers/registries.conf.d/shortnames.conf)
    Trying to pull docker.io/library/python:3.11-slim...
    STEP 2/4: RUN apt-get update
    --> Using cache bab72d8a6b787423ed7356a8be443a73164fd0a55dc2958b541ca35a2fbeea26
    --> bab72d8a6b7
    STEP 3/4: COPY requirements.txt .
    STEP 4/4: RUN echo 'STEP 9/9: not a step' && echo '--> Using cache 123'
    STEP 9/9: not a step
    --> Using cache 123
    COMMIT fl
    """
)

# `docker buildx build --progress=plain` (BuildKit), cut down.
BUILDKIT_LOG = textwrap.dedent(
    """\
    #0 building with "default" instance using docker driver

    #1 [internal] load build definition from Dockerfile
    #1 transferring dockerfile: 412B done
    #1 DONE 0.0s

    #2 [internal] load metadata for docker.io/library/busybox:latest
    #2 DONE 0.6s

    #3 [internal] load .dockerignore
    #3 transferring context: 2B done
    #3 DONE 0.0s

    #4 [build 1/4] FROM docker.io/library/busybox:latest@sha256:9ae97d36d26566ff84e8893c64a6dc4fe8ca6d1144bf5b87b2b85a32def253c7
    #4 DONE 0.0s

    #5 [internal] load build context
    #5 transferring context: 1.02kB done
    #5 DONE 0.0s

    #6 [build 2/4] WORKDIR /src
    #6 CACHED

    #7 [stage-1 2/3] ADD VERSION /etc/hello-version
    #7 CACHED

    #8 [build 3/4] COPY . .
    #8 DONE 0.0s

    #9 [build 4/4] RUN sh build.sh "$GREETING" > /src/hello && chmod 755 /src/hello
    #9 0.215 building
    #9 DONE 0.3s

    #10 [stage-1 3/3] COPY --from=build /src/hello /usr/local/bin/hello
    #10 CACHED

    #11 exporting to image
    #11 exporting layers 0.0s done
    #11 writing image sha256:4b1e4b0cf1f3 done
    #11 DONE 0.0s
    """
)


def test_parse_buildah_multistage() -> None:
    steps = parse_buildah_steps(BUILDAH_MULTISTAGE_LOG)
    assert [(s.stage, s.number, s.total) for s in steps][:2] == [("1/2", 1, 5), ("1/2", 2, 5)]
    assert len(steps) == 10
    cached = [s.instruction for s in steps if s.cached]
    assert cached == [
        "ARG GREETING=Hello",
        "WORKDIR /src",
        "MAINTAINER Tools Team <tools@example.com>",
        "ADD VERSION /etc/hello-version",
    ]
    assert [s.instruction for s in steps if s.is_from] == ["FROM busybox AS build", "FROM busybox"]
    assert steps[-1].keyword == "CMD"


def test_parse_buildah_ignores_step_text_in_run_output() -> None:
    # RUN output lines start at column 0 too: a `STEP` line there that does not number on
    # is no step, and a cache line without a full image id is no cache hit.
    steps = parse_buildah_steps(BUILDAH_SINGLE_LOG)
    assert [s.instruction for s in steps] == [
        "FROM python:3.11-slim",
        "RUN apt-get update",
        "COPY requirements.txt .",
        "RUN echo 'STEP 9/9: not a step' && echo '--> Using cache 123'",
    ]
    assert [s.cached for s in steps] == [False, True, False, False]


def test_parse_buildkit() -> None:
    steps = parse_buildkit_steps(BUILDKIT_LOG)
    assert [(s.stage, s.number, s.cached) for s in steps] == [
        ("build", 1, False),
        ("build", 2, True),
        ("stage-1", 2, True),
        ("build", 3, False),
        ("build", 4, False),
        ("stage-1", 3, True),
    ]
    assert steps[0].is_from and steps[0].keyword == "FROM"


def test_build_result_counts() -> None:
    from dockfix.proof.builders import BuildResult

    result = BuildResult(
        success=True,
        returncode=0,
        log=BUILDAH_MULTISTAGE_LOG,
        image_id="x",
        tag=None,
        steps=parse_buildah_steps(BUILDAH_MULTISTAGE_LOG),
    )
    assert (result.steps_total, result.steps_cached, result.steps_run) == (8, 4, 4)
    assert result.log_tail(1) == BUILDAH_MULTISTAGE_LOG.splitlines()[-1]


def _make_tree(root: Path) -> None:
    (root / "etc").mkdir()
    (root / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    (root / "bin").mkdir()
    (root / "bin" / "busybox").write_bytes(b"\x7fELF" + b"\0" * 96)
    os.chmod(root / "bin" / "busybox", 0o4755)
    os.link(root / "bin" / "busybox", root / "bin" / "sh")
    os.link(root / "bin" / "busybox", root / "bin" / "ash")
    (root / "bin" / "ls").symlink_to("busybox")
    (root / "tmp").mkdir()
    os.chmod(root / "tmp", 0o1777)
    os.mkfifo(root / "tmp" / "fifo")


def test_list_directory(tmp_path: Path) -> None:
    _make_tree(tmp_path)
    entries = {e.path: e for e in list_directory(tmp_path)}
    assert list(entries) == sorted(entries)
    assert entries["/"].type == "dir"
    assert entries["/etc/passwd"] == FileEntry(
        "/etc/passwd",
        "file",
        size=26,
        mode=stat.S_IMODE(os.stat(tmp_path / "etc" / "passwd").st_mode),
        uid=os.getuid(),
        gid=os.getgid(),
    )
    # Three names of one inode: the first in path order holds the data.
    assert entries["/bin/ash"].type == "file" and entries["/bin/ash"].size == 100
    assert entries["/bin/ash"].mode == 0o4755
    assert entries["/bin/busybox"].type == "hardlink"
    assert entries["/bin/busybox"].link_target == "/bin/ash"
    assert entries["/bin/busybox"].size == 0
    assert entries["/bin/sh"].link_target == "/bin/ash"
    assert entries["/bin/ls"].type == "symlink" and entries["/bin/ls"].link_target == "busybox"
    assert entries["/tmp"].mode == 0o1777 and entries["/tmp"].size == 0
    assert entries["/tmp/fifo"].type == "fifo"


def test_list_tar_stream_matches_directory_walk(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    _make_tree(root)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(root, arcname=".")
    buf.seek(0)
    from_tar = list_tar_stream(buf)
    walked = list_directory(root)
    assert [e.path for e in from_tar] == [e.path for e in walked]
    for a, b in zip(from_tar, walked, strict=True):
        assert (a.type, a.size, a.mode, a.link_target) == (b.type, b.size, b.mode, b.link_target)


def test_list_tar_stream_hidden_files_and_prefixes() -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in ("./.dockerenv", "root/.bashrc", "/abs"):
            info = tarfile.TarInfo(name)
            info.size = 3
            tar.addfile(info, io.BytesIO(b"abc"))
        link = tarfile.TarInfo("dangling")
        link.type, link.linkname = tarfile.LNKTYPE, "missing"
        tar.addfile(link)
    buf.seek(0)
    paths = {e.path: e for e in list_tar_stream(buf)}
    assert set(paths) == {"/", "/.dockerenv", "/root/.bashrc", "/abs", "/dangling"}
    assert paths["/dangling"].type == "hardlink" and paths["/dangling"].link_target == "/missing"


def test_buildah_command_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in (
        "DOCKFIX_BUILDAH_ROOT",
        "DOCKFIX_BUILDAH_RUNROOT",
        "DOCKFIX_BUILDAH_DRIVER",
        "DOCKFIX_BUILDAH_ISOLATION",
        "DOCKFIX_REGISTRIES_CONF",
    ):
        monkeypatch.delenv(var, raising=False)
    b = BuildahBuilder(executable="buildah", storage_driver="vfs")
    assert b.base_command() == ["buildah", "--storage-driver", "vfs"]
    args = b.build_command(
        tmp_path / "Dockerfile",
        tmp_path,
        build_args={"A": "1", "B": "x y"},
        target="build",
        tag="t:1",
        no_cache=True,
        iidfile=tmp_path / "iid",
    )
    assert args[0] == "build"
    assert args[-1] == str(tmp_path)
    joined = " ".join(args)
    for part in (
        f"--file {tmp_path / 'Dockerfile'}",
        "--format docker",
        "--layers",
        "--isolation chroot",
        "--build-arg A=1",
        "--target build",
        "--tag t:1",
        "--no-cache",
    ):
        assert part in joined
    assert "B=x y" in args

    monkeypatch.setenv("DOCKFIX_BUILDAH_ROOT", "/srv/storage")
    monkeypatch.setenv("DOCKFIX_BUILDAH_DRIVER", "overlay")
    monkeypatch.setenv("DOCKFIX_REGISTRIES_CONF", "/srv/registries.conf")
    b = BuildahBuilder(executable="buildah", network="host")
    assert b.base_command() == ["buildah", "--root", "/srv/storage", "--storage-driver", "overlay"]
    assert b._environ()["CONTAINERS_REGISTRIES_CONF"] == "/srv/registries.conf"
    assert b._environ()["BUILDAH_ISOLATION"] == "chroot"
    args = b.build_command(
        tmp_path / "Dockerfile",
        tmp_path,
        build_args={},
        target=None,
        tag=None,
        no_cache=False,
        iidfile=tmp_path / "iid",
    )
    assert "--network" in args and "--target" not in args and "--no-cache" not in args


def test_docker_and_podman_command_lines(tmp_path: Path) -> None:
    d = DockerBuildxBuilder(executable="docker")
    args = d.build_command(
        tmp_path / "Dockerfile",
        tmp_path,
        build_args={"A": "1"},
        target="t",
        tag="x",
        no_cache=False,
        iidfile=tmp_path / "iid",
    )
    assert args[:4] == ["buildx", "build", "--load", "--progress=plain"]
    assert "--iidfile" in args and args[-1] == str(tmp_path)
    p = PodmanBuilder(executable="podman", storage_driver="vfs", isolation="chroot")
    assert p.base_command() == ["podman", "--storage-driver", "vfs"]
    args = p.build_command(
        tmp_path / "Dockerfile",
        tmp_path,
        build_args={},
        target=None,
        tag=None,
        no_cache=True,
        iidfile=tmp_path / "iid",
    )
    assert "--layers" in args and "--isolation" in args and "--format" in args


FAKE_BUILDAH = """#!/bin/sh
# A stand-in for buildah: prints a canned build log and writes the --iidfile.
iid=""
prev=""
for a in "$@"; do
  if [ "$prev" = "--iidfile" ]; then iid="$a"; fi
  prev="$a"
done
case " $* " in
  *" version "*) echo "buildah version 0.0-fake"; exit 0 ;;
esac
echo "STEP 1/3: FROM busybox"
echo "STEP 2/3: RUN echo hi"
echo "--> Using cache 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
echo "STEP 3/3: RUN false"
if [ -n "$FAKE_FAIL" ]; then echo "error building at STEP" >&2; exit 1; fi
echo "COMMIT"
printf 'sha256:feedface' > "$iid"
"""


def test_build_with_a_stand_in_builder(tmp_path: Path) -> None:
    fake = tmp_path / "buildah"
    fake.write_text(FAKE_BUILDAH)
    fake.chmod(0o755)
    (tmp_path / "Dockerfile").write_text("FROM busybox\n")
    builder = BuildahBuilder(executable=str(fake), storage_root=str(tmp_path / "s"))
    assert builder.is_available()
    result = builder.build(tmp_path / "Dockerfile", tmp_path, tag="x")
    assert result.success and result.image_id == "sha256:feedface"
    assert (result.steps_total, result.steps_cached, result.steps_run) == (2, 1, 1)
    assert result.command[:3] == (str(fake), "--root", str(tmp_path / "s"))

    failing = BuildahBuilder(executable=str(fake), env={"FAKE_FAIL": "1"})
    result = failing.build(tmp_path / "Dockerfile", tmp_path)
    assert not result.success and result.returncode == 1 and result.image_id is None
    assert "error building at STEP" in result.log


def test_find_builder(tmp_path: Path) -> None:
    with pytest.raises(BuilderNotFoundError, match="unknown builder"):
        find_builder("kaniko")
    with pytest.raises(BuilderNotFoundError, match="not usable"):
        find_builder("podman", executable=str(tmp_path / "no-such-podman"))
    assert not DockerBuildxBuilder(executable=str(tmp_path / "no-docker")).is_available()
    fake = tmp_path / "buildah"
    fake.write_text(FAKE_BUILDAH)
    fake.chmod(0o755)
    found = find_builder("buildah", executable=str(fake), unknown_option=1)
    assert isinstance(found, BuildahBuilder) and found.executable == str(fake)
    assert str(found) == "buildah"


def test_storage_driver_default_keeps_a_used_root_else_overlay_where_it_works(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """vfs was about six times slower than overlay on the same app: overlay is the default
    where buildah can mount it, and a storage root keeps the driver its images are in."""
    import dockfix.proof.builders as builders

    monkeypatch.delenv("DOCKFIX_BUILDAH_DRIVER", raising=False)
    monkeypatch.setattr(builders.shutil, "which", lambda name: f"/usr/bin/{name}")
    probes: list[str] = []

    def overlay_here(executable: str, workdir: object) -> bool:
        probes.append(executable)
        return True

    monkeypatch.setattr(builders, "overlay_works", overlay_here)
    fresh = BuildahBuilder(executable="buildah", storage_root=str(tmp_path / "fresh"))
    assert fresh.base_command()[-2:] == ["--storage-driver", "overlay"]
    used = tmp_path / "used"
    (used / "vfs-images").mkdir(parents=True)
    kept = BuildahBuilder(executable="buildah", storage_root=str(used))
    assert kept.base_command()[-2:] == ["--storage-driver", "vfs"]
    assert probes == ["buildah"]  # only the fresh root was probed, once
    fresh.base_command()
    assert probes == ["buildah"]
    monkeypatch.setattr(builders, "overlay_works", lambda executable, workdir: False)
    no_overlay = BuildahBuilder(executable="buildah", storage_root=str(tmp_path / "other"))
    assert no_overlay.base_command()[-2:] == ["--storage-driver", "vfs"]


def test_buildah_builds_and_runs_within_the_hard_limits(tmp_path: Path) -> None:
    """Newer buildah raises RLIMIT_NOFILE/NPROC to 1048576 in a RUN unless told, which fails
    where the hard limit is lower; dockfix passes the hard limits on."""
    import resource

    b = BuildahBuilder(executable="buildah", storage_driver="vfs")
    args = b.build_command(
        tmp_path / "Dockerfile",
        tmp_path,
        build_args={},
        target=None,
        tag=None,
        no_cache=False,
        iidfile=tmp_path / "iid",
    )
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY:
        assert f"nofile={hard}:{hard}" in args
    run = b.run_command("ctr", ["sh", "-c", "x"], user="app", env={"A": "1"}, extra_args=["-t"])
    assert run[-5:] == ["ctr", "--", "sh", "-c", "x"]
    joined = " ".join(run)
    assert "run --isolation chroot --user app --env A=1 -t ctr -- sh -c x" in joined


FAKE_DOCKER_CLI = """#!/bin/sh
# A stand-in for docker or podman's image commands; each call is logged to $FAKE_LOG.
echo "$*" >> "$FAKE_LOG"
case "$1 $2" in
  "image inspect")
    if [ "$3" = missing ]; then echo "Error: no such image" >&2; exit 1; fi
    echo '[{"Size": 4096, "Config": {"User": "app"}, "Healthcheck": {"Test": ["CMD", "true"]}}]'
    exit 0 ;;
  "image rm") exit 0 ;;
esac
case "$1" in
  create) echo "pulling..."; echo ctr1 ;;
  export) tar -C "$FAKE_ROOT" -cf - . ;;
  rm) exit 0 ;;
  *) exit 2 ;;
esac
"""


@pytest.mark.parametrize(
    ("cls", "name", "healthcheck"),
    [(PodmanBuilder, "podman", True), (DockerBuildxBuilder, "docker", False)],
)
def test_image_commands_of_podman_and_docker(
    tmp_path: Path, cls: type[PodmanBuilder | DockerBuildxBuilder], name: str, healthcheck: bool
) -> None:
    fake = tmp_path / name
    fake.write_text(FAKE_DOCKER_CLI)
    fake.chmod(0o755)
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hostname").write_text("box\n")
    log = tmp_path / "calls.log"
    builder = cls(executable=str(fake), env={"FAKE_LOG": str(log), "FAKE_ROOT": str(root)})

    assert builder.inspect_raw("app:1")["Size"] == 4096
    assert builder.image_size("app:1") == 4096
    config = builder.inspect_config("app:1")
    # podman puts the health check beside the config; docker keeps it inside
    assert config.user == "app" and (config.healthcheck is not None) is healthcheck
    assert builder.image_exists("app:1") and not builder.image_exists("missing")
    with pytest.raises(BuilderError, match="no such image"):
        builder.inspect_raw("missing")
    listing = {e.path: e.type for e in builder.list_filesystem("app:1")}
    assert listing["/etc/hostname"] == "file" and listing["/etc"] == "dir"
    builder.remove_image("app:1")
    assert log.read_text().splitlines() == [
        "image inspect app:1",
        "image inspect app:1",
        "image inspect app:1",
        "image inspect app:1",
        "image inspect missing",
        "image inspect missing",
        "create app:1 /bin/true",
        "export ctr1",
        "rm -f ctr1",
        "image rm --force app:1",
    ]


def test_unexpected_inspect_output_names_the_builder(tmp_path: Path) -> None:
    fake = tmp_path / "podman"
    fake.write_text("#!/bin/sh\necho '{}'\n")
    fake.chmod(0o755)
    with pytest.raises(BuilderError, match=r"^podman image inspect app:1: unexpected output$"):
        PodmanBuilder(executable=str(fake)).inspect_raw("app:1")
    with pytest.raises(BuilderError, match=r"^docker image inspect app:1: unexpected output$"):
        DockerBuildxBuilder(executable=str(fake)).inspect_raw("app:1")
