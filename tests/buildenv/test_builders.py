"""Real builds with buildah (chroot isolation, vfs storage) of the fixture apps.

Each app under ``apps/`` is a small project written the way real ones are, anti-patterns
included.  The tests build them against the local registry's base images and check what
``dockfix verify`` will rely on: builds succeed or fail visibly, configs and root file
systems can be read, cache reuse is counted, two builds of one Dockerfile compare equal,
and a hand-fixed Dockerfile differs only by what its fixes declare.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from buildenv_helpers import APPS_DIR, BuildEnv, cleanup_storage, copy_app

from dockfix.proof.builders import BuildahBuilder, BuildResult
from dockfix.proof.image_compare import (
    FileEntry,
    apt_lists_removed,
    compare_images,
    config_changes,
    rootfs_size,
    user_added,
)

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class AppSpec:
    name: str
    changed_file: str
    """A source file the Dockerfile copies that is no dependency manifest."""
    rerun_from: str
    """The first instruction that must run again after ``changed_file`` changes."""
    config: dict[str, Any]
    """Expected values of config fields (names as in ``ImageConfig.field_value``)."""
    env: dict[str, str] = field(default_factory=dict)
    files: tuple[str, ...] = ()
    """Regular files the final image must hold."""
    dirs_with_content: tuple[str, ...] = ()
    """Directories that must exist and hold at least one file (caches, apt lists…)."""
    absent: tuple[str, ...] = ()
    same_size_as_source: tuple[tuple[str, str], ...] = ()
    """(image path, source path in the app) pairs of copied files."""


APPS: dict[str, AppSpec] = {
    spec.name: spec
    for spec in (
        AppSpec(
            name="flask-app",
            changed_file="app.py",
            rerun_from="COPY . .",
            config={
                "User": "",
                "Cmd": ("/bin/sh", "-c", "python app.py"),
                "WorkingDir": "/app",
                "ExposedPorts": frozenset({"5000/tcp"}),
            },
            env={"FLASK_APP": "app.py", "LANG": "C.UTF-8"},
            files=("/usr/bin/curl", "/usr/bin/python3.11"),
            dirs_with_content=(
                # No /root/.cache/pip: this machine's PyPI access answers uncacheable.
                "/var/lib/apt/lists",
                "/usr/local/lib/python3.11/dist-packages/flask",
            ),
            same_size_as_source=(
                ("/app/app.py", "app.py"),
                ("/app/requirements.txt", "requirements.txt"),
                ("/app/templates/index.html", "templates/index.html"),
            ),
        ),
        AppSpec(
            name="express-app",
            changed_file="server.js",
            rerun_from="COPY . .",
            config={
                "User": "",
                "Cmd": ("/bin/sh", "-c", "node server.js"),
                "WorkingDir": "/usr/src/app",
                "ExposedPorts": frozenset({"3000/tcp"}),
            },
            env={"NODE_ENV": "production"},
            files=("/usr/src/app/node_modules/express/package.json", "/etc/passwd"),
            dirs_with_content=("/root/.npm", "/usr/src/app/node_modules"),
            same_size_as_source=(
                ("/usr/src/app/server.js", "server.js"),
                ("/usr/src/app/package-lock.json", "package-lock.json"),
            ),
        ),
        AppSpec(
            name="static-tool",
            changed_file="build.sh",
            rerun_from="COPY . .",
            config={"User": "", "Cmd": ("/bin/sh", "-c", "/usr/local/bin/hello")},
            files=("/usr/local/bin/hello", "/etc/hello-version"),
            absent=("/src",),
            same_size_as_source=(("/etc/hello-version", "VERSION"),),
        ),
        AppSpec(
            name="nginx-logs",
            changed_file="site/index.html",
            rerun_from="ADD site /var/www/html",
            config={
                "User": "",
                "Cmd": ("/bin/sh", "-c", 'nginx -g "daemon off;"'),
                "ExposedPorts": frozenset({"80/tcp"}),
            },
            files=("/usr/sbin/nginx", "/var/log/nginx/access.log", "/var/log/nginx/error.log"),
            dirs_with_content=("/var/lib/apt/lists",),
            same_size_as_source=(
                ("/etc/nginx/nginx.conf", "nginx.conf"),
                ("/var/www/html/index.html", "site/index.html"),
                ("/var/www/html/style.css", "site/style.css"),
            ),
        ),
        AppSpec(
            name="debian-service",
            changed_file="worker.sh",
            rerun_from="ADD worker.sh /opt/worker/worker.sh",
            config={
                "User": "",
                "Cmd": ("/bin/sh", "-c", "./worker.sh"),
                "WorkingDir": "/opt/worker",
                "Healthcheck": None,
            },
            files=("/usr/bin/jq", "/usr/bin/curl", "/etc/ssl/certs/ca-certificates.crt"),
            dirs_with_content=("/var/lib/apt/lists",),
            same_size_as_source=(
                ("/opt/worker/worker.sh", "worker.sh"),
                ("/opt/worker/config.json", "config.json"),
            ),
        ),
    )
}


@dataclass
class Built:
    app_dir: Path
    result: BuildResult
    files: list[FileEntry]


@pytest.fixture(scope="module")
def first_build(
    buildenv: BuildEnv, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Built]:
    """Build each app once per module (a copy of it), on first request."""
    builder = buildenv.builder()
    done: dict[str, Built] = {}

    def get(name: str) -> Built:
        if name not in done:
            app_dir = copy_app(name, tmp_path_factory.mktemp(name))
            result = builder.build(
                app_dir / "Dockerfile",
                app_dir,
                tag=f"dockfix-test/{name}:first",
                build_args=buildenv.build_args,
            )
            assert result.success, f"{name} did not build:\n{result.log_tail(60)}"
            assert result.image_id is not None
            done[name] = Built(app_dir, result, builder.list_filesystem(result.image_id))
        return done[name]

    return get


def dockerfile_instructions(path: Path) -> list[str]:
    """The instructions of a Dockerfile without continuation lines (fixtures have none)."""
    return [
        line.strip()
        for line in path.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


@pytest.mark.parametrize("name", sorted(APPS))
def test_app_builds_and_its_image_can_be_inspected(
    name: str, buildenv: BuildEnv, first_build: Callable[[str], Built]
) -> None:
    spec = APPS[name]
    built = first_build(name)
    result = built.result
    builder = buildenv.builder()
    assert result.image_id is not None

    # Every Dockerfile instruction shows up as a step, in order.
    assert [s.instruction for s in result.steps] == dockerfile_instructions(
        built.app_dir / "Dockerfile"
    )
    assert result.steps_total == len([s for s in result.steps if not s.is_from])

    config = builder.inspect_config(result.image_id)
    for field_name, expected in spec.config.items():
        assert config.field_value(field_name) == expected, field_name
    for key, value in spec.env.items():
        assert config.env.get(key) == value
    assert config.env["PATH"].startswith("/usr/local/sbin:")

    files = {e.path: e for e in built.files}
    assert files["/"].type == "dir"
    for path in spec.files:
        assert files[path].type == "file", path
    for path in spec.dirs_with_content:
        assert files[path].type == "dir", path
        assert any(p.startswith(path + "/") and e.type == "file" for p, e in files.items()), path
    for path in spec.absent:
        assert path not in files
    for image_path, source in spec.same_size_as_source:
        assert files[image_path].size == (APPS_DIR / name / source).stat().st_size, image_path
    # Everything in the image belongs to root unless a step chose otherwise.
    assert files["/etc/passwd"].uid == 0 and files["/etc/passwd"].mode == 0o644

    size = builder.image_size(result.image_id)
    assert size >= rootfs_size(built.files) > 0


@pytest.mark.parametrize("name", sorted(APPS))
def test_cache_reuse_is_counted(
    name: str, buildenv: BuildEnv, first_build: Callable[[str], Built], tmp_path: Path
) -> None:
    spec = APPS[name]
    built = first_build(name)
    builder = buildenv.builder()
    app_dir = tmp_path / name
    shutil.copytree(built.app_dir, app_dir)

    again = builder.build(app_dir / "Dockerfile", app_dir, build_args=buildenv.build_args)
    assert again.success, again.log_tail(40)
    assert again.steps_run == 0, [s.instruction for s in again.steps if not s.cached]
    assert again.steps_cached == again.steps_total > 0
    assert again.image_id == built.result.image_id

    changed = app_dir / spec.changed_file
    changed.write_text(changed.read_text() + "\n")
    rebuilt = builder.build(app_dir / "Dockerfile", app_dir, build_args=buildenv.build_args)
    assert rebuilt.success, rebuilt.log_tail(40)
    instructions = [s.instruction for s in rebuilt.steps]
    first_rerun = instructions.index(spec.rerun_from)
    before = rebuilt.steps[:first_rerun]
    assert all(s.cached or s.is_from for s in before), [s.instruction for s in before]
    rerun = rebuilt.steps[first_rerun]
    assert not rerun.cached
    # In the changed step's stage, every later step runs again too.
    same_stage_after = [s for s in rebuilt.steps[first_rerun:] if s.stage == rerun.stage]
    assert not any(s.cached for s in same_stage_after)
    assert rebuilt.steps_cached == len([s for s in before if not s.is_from]) + len(
        [s for s in rebuilt.steps[first_rerun:] if s.cached]
    )
    final_stage = rebuilt.steps[-1].stage
    if rerun.stage == final_stage:
        assert rebuilt.image_id != built.result.image_id
    # (A change in an earlier stage reaches the final image only through what that stage
    # hands on: static-tool's build.sh gains a newline, its output does not change, so the
    # final stage's `COPY --from` is a cache hit and the image stays the same.)


@pytest.mark.parametrize("name", ["debian-service", "express-app", "flask-app"])
def test_rebuild_without_cache_compares_equal(
    name: str, buildenv: BuildEnv, first_build: Callable[[str], Built]
) -> None:
    """Two builds of one Dockerfile differ only by build noise (logs, timestamps)."""
    built = first_build(name)
    builder = buildenv.builder()
    fresh = builder.build(
        built.app_dir / "Dockerfile",
        built.app_dir,
        no_cache=True,
        build_args=buildenv.build_args,
    )
    assert fresh.success, fresh.log_tail(40)
    assert fresh.steps_cached == 0
    assert fresh.image_id is not None and built.result.image_id is not None
    assert fresh.image_id != built.result.image_id
    report = compare_images(
        config_before=builder.inspect_config(built.result.image_id),
        config_after=builder.inspect_config(fresh.image_id),
        files_before=built.files,
        files_after=builder.list_filesystem(fresh.image_id),
        size_before=builder.image_size(built.result.image_id),
        size_after=builder.image_size(fresh.image_id),
    )
    assert report.equal, report.format_text(max_items=40)
    assert report.image_size is not None
    assert report.image_size.percent is not None and abs(report.image_size.percent) < 1
    builder.remove_image(fresh.image_id)
    assert not builder.image_exists(fresh.image_id)


DEBIAN_SERVICE_FIXED = """\
FROM debian:bookworm
LABEL org.opencontainers.image.authors="Platform Team <platform@example.com>"

RUN apt-get update \\
    && apt-get install -y --no-install-recommends curl jq ca-certificates \\
    && rm -rf /var/lib/apt/lists/*

COPY worker.sh /opt/worker/worker.sh
COPY config.json /opt/worker/config.json
WORKDIR /opt/worker
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin app
USER app
CMD ["./worker.sh"]
"""


def test_hand_fixed_dockerfile_differs_only_by_declared_changes(
    buildenv: BuildEnv, first_build: Callable[[str], Built], tmp_path: Path
) -> None:
    """What ``dockfix verify`` does, by hand: original vs fixed, same context."""
    original = first_build("debian-service")
    builder = buildenv.builder()
    fixed_file = tmp_path / "Dockerfile.fixed"
    fixed_file.write_text(DEBIAN_SERVICE_FIXED)
    fixed = builder.build(fixed_file, original.app_dir, build_args=buildenv.build_args)
    assert fixed.success, fixed.log_tail(40)
    assert original.result.image_id is not None and fixed.image_id is not None

    def report(allowed: Any) -> Any:
        return compare_images(
            config_before=builder.inspect_config(original.result.image_id or ""),
            config_after=builder.inspect_config(fixed.image_id or ""),
            files_before=original.files,
            files_after=builder.list_filesystem(fixed.image_id or ""),
            allowed=allowed,
            size_before=builder.image_size(original.result.image_id or ""),
            size_after=builder.image_size(fixed.image_id or ""),
        )

    declared = (
        apt_lists_removed()
        | user_added("app")
        | config_changes("User", "Cmd", label_keys=["org.opencontainers.image.authors"])
    )
    full = report(declared)
    assert full.equal, full.format_text(max_items=40)
    assert {d.name for d in full.config} == {
        "User",
        "Cmd",
        "Labels[org.opencontainers.image.authors]",
    }
    assert {d.path for d in full.files if d.kind == "changed"} >= {"/etc/passwd", "/etc/group"}
    assert any(d.path.startswith("/var/lib/apt/lists/") for d in full.files)
    assert full.image_size is not None and full.image_size.delta < 0
    assert full.rootfs_size is not None and full.rootfs_size.delta < 0

    # Declaring less leaves the rest unexpected, and says which.
    partial = report(apt_lists_removed())
    assert not partial.equal
    assert {d.field for d in partial.unexpected_config} == {"User", "Cmd", "Labels"}
    assert {d.path for d in partial.unexpected_files} >= {"/etc/passwd", "/etc/shadow"}
    assert "UNEXPECTED" in partial.format_text()


def test_build_args_and_target_reach_the_build(buildenv: BuildEnv, tmp_path: Path) -> None:
    app_dir = copy_app("static-tool", tmp_path)
    builder: BuildahBuilder = buildenv.builder()
    staged = builder.build(
        app_dir / "Dockerfile", app_dir, target="build", build_args={"GREETING": "Howdy"}
    )
    assert staged.success, staged.log_tail(40)
    assert staged.image_id is not None
    assert {s.stage for s in staged.steps} == {"1/1"} or all(
        not s.instruction.startswith("MAINTAINER") for s in staged.steps
    )
    paths = {e.path for e in builder.list_filesystem(staged.image_id)}
    assert {"/src/build.sh", "/src/hello", "/src/VERSION"} <= paths
    with builder.mounted(staged.image_id) as root:
        assert 'echo "Howdy from' in (root / "src" / "hello").read_text()


def test_failing_build_is_reported(buildenv: BuildEnv, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(
        'FROM busybox\nRUN echo before-the-failure\nRUN echo failing && exit 3\nCMD ["sh"]\n'
    )
    result = buildenv.builder().build(tmp_path / "Dockerfile", tmp_path)
    assert not result.success
    assert result.returncode != 0 and result.image_id is None
    assert "before-the-failure" in result.log
    assert "exit status 3" in result.log
    assert [s.instruction for s in result.steps] == [
        "FROM busybox",
        "RUN echo before-the-failure",
        "RUN echo failing && exit 3",
    ]


def test_missing_base_image_fails_the_build(buildenv: BuildEnv, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:0.0-nonexistent\nRUN true\n")
    result = buildenv.builder().build(tmp_path / "Dockerfile", tmp_path)
    assert not result.success and result.image_id is None
    assert "0.0-nonexistent" in result.log


@pytest.fixture(scope="module")
def vfs_builder(
    buildenv: BuildEnv, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BuildahBuilder]:
    """buildah on the vfs driver, whatever driver the other tests use."""
    if buildenv.driver == "vfs":
        yield buildenv.builder()
        return
    root = tmp_path_factory.mktemp("vfs")
    env = dataclasses.replace(
        buildenv, storage_root=root / "storage", run_root=root / "run", driver="vfs"
    )
    try:
        yield env.builder()
    finally:
        cleanup_storage(env)


@pytest.mark.parametrize("name", ["static-tool", "debian-service"])
def test_vfs_storage_builds_inspects_and_counts_cache(
    name: str, vfs_builder: BuildahBuilder, buildenv: BuildEnv, tmp_path: Path
) -> None:
    """The configuration that needs nothing from the kernel: chroot isolation, vfs."""
    assert (vfs_builder.storage_driver, vfs_builder.isolation) == ("vfs", "chroot")
    spec = APPS[name]
    app_dir = copy_app(name, tmp_path)
    first = vfs_builder.build(app_dir / "Dockerfile", app_dir, build_args=buildenv.build_args)
    assert first.success, first.log_tail(40)
    assert first.image_id is not None
    again = vfs_builder.build(app_dir / "Dockerfile", app_dir, build_args=buildenv.build_args)
    assert again.success and again.image_id == first.image_id
    assert again.steps_run == 0 and again.steps_cached == again.steps_total > 0

    config = vfs_builder.inspect_config(first.image_id)
    for field_name, expected in spec.config.items():
        assert config.field_value(field_name) == expected, field_name
    files = {e.path: e for e in vfs_builder.list_filesystem(first.image_id)}
    for path in spec.files:
        assert files[path].type == "file", path
    for image_path, source in spec.same_size_as_source:
        assert files[image_path].size == (APPS_DIR / name / source).stat().st_size
    assert vfs_builder.image_size(first.image_id) >= rootfs_size(files.values()) > 0
    vfs_builder.remove_image(first.image_id)
    assert not vfs_builder.image_exists(first.image_id)
