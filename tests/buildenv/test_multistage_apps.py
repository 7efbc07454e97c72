"""The multi-stage rewrites proven by building: each service app (an `apps/<name>/verify.toml`
with `kind = "service"`) is built before and after `dockfix fix --unsafe-fixes`, both images
are started (`buildah run`, chroot isolation, so the service listens on this machine's
loopback) and must answer the app's probe URL, and the sizes are compared.

The per-app figures go to the terminal summary ("multi-stage rewrites: size before/after").
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

import dockfix
from dockfix.builders import BuildahBuilder

APPS = Path(__file__).resolve().parent / "apps"
# The rewrites each app is here to prove (the app is skipped by the others' helpers).
REWRITES = {"express-api": "DF305", "typescript-service": "DF305", "next-storefront": "DF305"}
pytestmark = pytest.mark.slow

SIZES: list[tuple[str, int, int]] = []


def _service_settings(app: str) -> dict[str, object]:
    return tomllib.loads((APPS / app / "verify.toml").read_text())


@contextlib.contextmanager
def running(builder: BuildahBuilder, image: str, env: dict[str, str]) -> Iterator[None]:
    """The image's start command running in a working container (host network)."""
    config = builder.inspect_config(image)
    argv = [*(config.entrypoint or ()), *(config.cmd or ())]
    assert argv, "the image has no start command"
    ctr = builder.run(["from", "--pull=never", "--quiet", image]).stdout.strip().splitlines()[-1]
    cmd = [*builder.base_command(), "run", "--isolation", "chroot"]
    cmd += [f"--env={k}={v}" for k, v in env.items()]
    proc = subprocess.Popen(
        [*cmd, ctr, "--", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=builder._environ(),
        start_new_session=True,
    )
    try:
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        builder.run(["rm", ctr], check=False)


def answers(url: str, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                if 200 <= response.status < 400:
                    return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    return False


@pytest.mark.parametrize("app", sorted(REWRITES))
def test_rewritten_app_builds_starts_serves_and_is_smaller(
    app: str, buildah_builder: BuildahBuilder, tmp_path: Path
) -> None:
    path = APPS / app / "Dockerfile"
    settings = _service_settings(app)
    assert settings["kind"] == "service"
    probes = settings["probe"]
    assert isinstance(probes, list) and probes
    probe = str(probes[0])
    env = {str(k): str(v) for k, v in dict(settings.get("env", {})).items()}  # type: ignore[call-overload]
    outcome = dockfix.fix_outcome(path.read_text(), path=path, unsafe_fixes=True, offline=True)
    assert REWRITES[app] in {f.code for f in outcome.applied}, outcome.fixed
    fixed = tmp_path / "Dockerfile"
    fixed.write_text(outcome.fixed)
    images = []
    for dockerfile in (path, fixed):
        result = buildah_builder.build(dockerfile, APPS / app, timeout=1800)
        assert result.success, result.log_tail(40)
        assert result.image_id is not None
        with running(buildah_builder, result.image_id, env):
            assert answers(probe), f"{dockerfile.name} of {app} does not answer {probe}"
        images.append(result.image_id)
    before, after = (buildah_builder.image_size(i) for i in images)
    SIZES.append((app, before, after))
    assert after < before


FIXTURES = APPS.parent.parent.parent / "fixtures"
# Fixtures whose build tools cannot run here (Maven Central and NuGet are out of reach): the
# build RUN is replaced by a stub that writes what the real tool writes, where it writes it
# (Maven: target/<finalName>.jar; Gradle: build/libs/<name>-<version>.jar; Spring Boot's
# extract: one directory per layer; dotnet publish: <assembly>.dll in the -o folder), and
# every image by the Debian one. The rewritten file must then build, and its runtime stage
# must hold the file its start command runs.
STUB_BUILDS = {
    "DF306-java-single-stage/maven-spring-boot": (
        "mvn -B package -DskipTests",
        "mkdir -p target && echo jar > target/orders-service.jar",
        "/opt/orders/target/orders-service.jar",
    ),
    "DF306-java-single-stage/gradle-kts-boot-alpine": (
        "gradle bootJar --no-daemon",
        "mkdir -p build/libs && echo jar > build/libs/inventory-0.3.1.jar",
        "/home/gradle/inventory/build/libs/inventory-0.3.1.jar",
    ),
    "DF306-java-single-stage/maven-layered-jar": (
        "./mvnw install -DskipTests && java -Djarmode=tools -jar "
        "/workspace/app/target/orders-1.4.0.jar extract --layers --launcher "
        "--destination /workspace/app/target/extracted",
        "mkdir -p target/extracted && cd target/extracted"
        " && mkdir -p dependencies/BOOT-INF/lib spring-boot-loader/org/springframework/boot/"
        "loader/launch snapshot-dependencies application/BOOT-INF/classes"
        " && echo class > spring-boot-loader/org/springframework/boot/loader/launch/"
        "JarLauncher.class && echo lib > dependencies/BOOT-INF/lib/spring-core.jar",
        "/workspace/app/org/springframework/boot/loader/launch/JarLauncher.class",
    ),
    "DF307-dotnet-single-stage/aspnet-publish": (
        "dotnet publish -c Release -o /app/publish --no-restore",
        "mkdir -p /app/publish && echo dll > /app/publish/Orders.Api.dll",
        "/app/publish/Orders.Api.dll",
    ),
}


@pytest.mark.parametrize("case", sorted(STUB_BUILDS))
def test_java_and_dotnet_rewrites_build_with_a_stub_artifact(
    case: str, buildah_builder: BuildahBuilder, tmp_path: Path
) -> None:
    import re
    import shutil

    build, stub, needed = STUB_BUILDS[case]
    context = tmp_path / "context"
    shutil.copytree(FIXTURES / case, context)
    fixed = (context / "expected.unsafe.Dockerfile").read_text()
    assert f"RUN {build}\n" in fixed
    text = fixed.replace(f"RUN {build}\n", f"RUN {stub}\n")
    # other steps of the tools (dependency:go-offline, restore) download only
    text = re.sub(r"(?m)^RUN (mvn|\./mvnw|gradle|\./gradlew|dotnet) .*$", "RUN true", text)
    text = re.sub(r"(?m)^FROM \S+", "FROM debian:bookworm-slim", text)
    (context / "Dockerfile").write_text(text)
    result = buildah_builder.build(context / "Dockerfile", context, timeout=900)
    assert result.success, result.log_tail(40)
    assert result.image_id is not None
    paths = {f.path for f in buildah_builder.list_filesystem(result.image_id)}
    assert needed in paths, sorted(p for p in paths if p.startswith(needed.rsplit("/", 2)[0]))
