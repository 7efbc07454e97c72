"""DF304 proven by building: Python service apps split into a venv builder and a -slim runtime.

Each app is built as written and after DF304 alone. Both images must start their own
command and answer the probe of the app's ``verify.toml`` with the text that shows the
compiled extension works, the DF304 image must keep every file the original has under its
working directory and be smaller. (With every unsafe fix together, DF201's non-root user
included, test_verify.py's ``verify --run`` starts the same apps.)

The start runs the image's ENTRYPOINT/CMD with ``buildah run --isolation chroot`` on the
machine's network (no network namespace), as its configured user in its working directory.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from buildenv_helpers import BuildEnv, copy_app

import dockfix
from dockfix.builders import BuildahBuilder

pytestmark = pytest.mark.slow

# app -> the part of the probe's answer that shows the compiled extension works
PYTHON_APPS = {
    "django-psycopg2": "shop ok: libpq 15",
    "pillow-thumbnails": "JPEG thumbnail:",
    "flask-poetry": "<h1>notes ok</h1>",
    "starlette-uv": '{"status":"api ok"}',
    "flask-pipenv": "feeds ok: 2 items, first: parsed by lxml",
}
SUMMARY: list[str] = []


def _fixed(app_dir: Path, select: list[str] | None) -> str:
    text = (app_dir / "Dockerfile").read_text()
    fixed, _ = dockfix.fix(
        text,
        path=app_dir / "Dockerfile",
        context_dir=app_dir,
        select=select,
        unsafe_fixes=True,
        offline=True,
    )
    return fixed


def _build(buildenv: BuildEnv, builder: BuildahBuilder, dockerfile: Path, app_dir: Path) -> str:
    result = builder.build(dockerfile, app_dir, build_args=buildenv.build_args, timeout=3000)
    assert result.success, f"{dockerfile.name} did not build:\n{result.log_tail(60)}"
    assert result.image_id is not None
    return result.image_id


@contextlib.contextmanager
def _started(buildenv: BuildEnv, builder: BuildahBuilder, image: str) -> Iterator[None]:
    """The image's own start command, running until the block ends."""
    config = builder.inspect_config(image)
    argv = [*(config.entrypoint or ()), *(config.cmd or ())]
    made = buildenv.buildah("from", "--quiet", image)
    assert made.returncode == 0, made.stderr
    container = made.stdout.strip().splitlines()[-1]
    env = {**os.environ, "CONTAINERS_REGISTRIES_CONF": str(buildenv.registries_conf)}
    cmd = [*buildenv.buildah_base(), "run", "--isolation", "chroot", container, "--", *argv]
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        buildenv.buildah("rm", container)


def _probe(url: str, seconds: float = 90) -> str:
    """The body the service answers with, retried while it starts (bounded in time)."""
    deadline = time.monotonic() + seconds
    last = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return str(response.read().decode("utf-8", "replace"))
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last = str(exc)
            time.sleep(1)
    pytest.fail(f"{url} did not answer within {seconds:.0f}s: {last}")


def _files_under(builder: BuildahBuilder, image: str, root: str) -> set[str]:
    return {
        e.path
        for e in builder.list_filesystem(image)
        if (e.path == root or e.path.startswith(root.rstrip("/") + "/"))
        and "__pycache__" not in e.path
    }


@pytest.mark.parametrize("app", sorted(PYTHON_APPS))
def test_python_split_builds_serves_and_shrinks(
    app: str, buildenv: BuildEnv, tmp_path: Path
) -> None:
    app_dir = copy_app(app, tmp_path)
    spec = tomllib.loads((app_dir / "verify.toml").read_text())
    assert spec["kind"] == "service"
    variants = {"original": (app_dir / "Dockerfile").read_text()}
    variants["DF304"] = _fixed(app_dir, ["DF304"])
    assert variants["DF304"] != variants["original"], "DF304 does not rewrite the app"
    # (every unsafe fix together: test_verify's `verify --run` of the same verify.toml)

    builder = buildenv.builder()
    images: dict[str, str] = {}
    for name, text in variants.items():
        dockerfile = tmp_path / f"{name.replace(' ', '-')}.Dockerfile"
        dockerfile.write_text(text)
        images[name] = _build(buildenv, builder, dockerfile, app_dir)

    sizes = {name: builder.image_size(image) for name, image in images.items()}
    workdir = builder.inspect_config(images["original"]).working_dir
    needed = _files_under(builder, images["original"], workdir)
    for name, image in images.items():
        missing = needed - _files_under(builder, image, workdir)
        assert not missing, f"{name}: files of the app missing: {sorted(missing)[:10]}"
        with _started(buildenv, builder, image):
            body = _probe(spec["probe"][0])
        assert PYTHON_APPS[app] in body, f"{name}: {body[:300]}"

    before, after = sizes["original"], sizes["DF304"]
    assert after < before
    mib = 2**20
    SUMMARY.append(
        f"{app}: {before / mib:.1f} MiB -> {after / mib:.1f} MiB "
        f"({(after - before) / before:+.1%}) with DF304; both serve"
    )
    print(SUMMARY[-1])
