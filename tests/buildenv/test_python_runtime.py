"""DF304 proven by building: Python service apps split into a venv builder and a -slim runtime.

Each app is built as written and after DF304 alone. Both images are started the way
``dockfix verify --run`` starts them (``dockfix.proof.image_run``: the image's own command, each in
its network namespace) and must answer the probes of the app's ``verify.toml`` with HTTP
200; the DF304 image must keep every file the original has under its working directory and
be smaller. (With every unsafe fix together, DF201's non-root user included, test_verify.py's
``verify --run`` starts the same apps.)
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from buildenv_helpers import BuildEnv, copy_app

import dockfix
from dockfix.proof.builders import BuildahBuilder
from dockfix.proof.image_run import RunOptions, run_pair

pytestmark = pytest.mark.slow

# Each app's page uses its compiled extension (psycopg2, Pillow's JPEG encoder, PyYAML,
# orjson, lxml): an extension that does not load makes it fail.
PYTHON_APPS = (
    "django-psycopg2",
    "pillow-thumbnails",
    "flask-poetry",
    "starlette-uv",
    "flask-pipenv",
    "fastapi-lxml-entrypoint",
)
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
    missing = _files_under(builder, images["original"], workdir) - _files_under(
        builder, images["DF304"], workdir
    )
    assert not missing, f"files of the app missing: {sorted(missing)[:10]}"
    pair = {"before": images["original"], "after": images["DF304"]}
    options = RunOptions(
        seconds=float(spec.get("seconds", 10)),
        env={str(k): str(v) for k, v in spec.get("env", {}).items()},
        probes=tuple(spec["probe"]),
    )
    run = run_pair(builder, pair, {k: builder.inspect_config(v) for k, v in pair.items()}, options)
    assert run.status == "same", f"{run.summary}\n{run.after.output[-2000:]}"
    for side in (run.before, run.after):  # HTTP 200: the compiled extension loaded and worked
        statuses = [a.http_status for a in side.answers]
        assert side.running and statuses and set(statuses) == {200}, (
            f"{side.describe()}: {statuses}\n{side.output[-2000:]}"
        )

    before, after = sizes["original"], sizes["DF304"]
    assert after < before
    mib = 2**20
    SUMMARY.append(
        f"{app}: {before / mib:.1f} MiB -> {after / mib:.1f} MiB "
        f"({(after - before) / before:+.1%}) with DF304; both serve ({run.summary})"
    )
    print(SUMMARY[-1])
