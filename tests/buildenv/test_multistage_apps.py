"""The multi-stage rewrites proven by building: each service app (an `apps/<name>/verify.toml`
with `kind = "service"`) is built before and after `dockfix fix --unsafe-fixes`, both images
are started as `dockfix verify --run` starts them (`dockfix.proof.image_run`: each in a network
namespace of its own) and must answer the app's probe URL, and the sizes are compared.

The per-app figures go to the terminal summary ("multi-stage rewrites: size before/after").
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import dockfix
from dockfix.proof.builders import BuildahBuilder
from dockfix.proof.image_run import RunOptions, run_pair

HERE = Path(__file__).resolve().parent
APPS = HERE / "apps"
# Apps built here only (not by test_verify/test_df201_runs: one build pair each).
SPLIT_APPS = HERE / "split-apps"
# The rewrites each app is here to prove (the app is skipped by the others' helpers).
REWRITES = {
    "express-api": "DF305",
    "typescript-service": "DF305",
    "next-storefront": "DF305",
    # start with `-r tsconfig-paths/register`, a `file:` dependency, files read beside dist/
    "node-tsconfig-paths": "DF305",
    "node-file-dependency": "DF305",
    "node-runtime-files": "DF305",
    "node-sharp-uploads": "DF305",  # a native module (sharp) built on node:20, run on -slim
}


def _app_dir(app: str) -> Path:
    return APPS / app if (APPS / app).is_dir() else SPLIT_APPS / app
pytestmark = pytest.mark.slow

SIZES: list[tuple[str, int, int]] = []


def _service_settings(app: str) -> dict[str, object]:
    return tomllib.loads((_app_dir(app) / "verify.toml").read_text())


@pytest.mark.parametrize("app", sorted(REWRITES))
def test_rewritten_app_builds_starts_serves_and_is_smaller(
    app: str, buildah_builder: BuildahBuilder, tmp_path: Path
) -> None:
    path = _app_dir(app) / "Dockerfile"
    settings = _service_settings(app)
    assert settings["kind"] == "service"
    probes = settings["probe"]
    assert isinstance(probes, list) and probes
    outcome = dockfix.fix_outcome(path.read_text(), path=path, unsafe_fixes=True, offline=True)
    assert REWRITES[app] in {f.code for f in outcome.applied}, outcome.fixed
    fixed = tmp_path / "Dockerfile"
    fixed.write_text(outcome.fixed)
    images = []
    for dockerfile in (path, fixed):
        result = buildah_builder.build(dockerfile, path.parent, timeout=1800)
        assert result.success, result.log_tail(40)
        assert result.image_id is not None
        images.append(result.image_id)
    # Started as `verify --run` starts them: each in a network namespace of its own (a
    # buildah that isolates the network itself would hide a host-network service).
    pair = {"before": images[0], "after": images[1]}
    options = RunOptions(
        seconds=float(settings.get("seconds", 10)),  # type: ignore[arg-type]
        env={str(k): str(v) for k, v in dict(settings.get("env", {})).items()},  # type: ignore[call-overload]
        probes=tuple(str(p) for p in probes),
    )
    configs = {k: buildah_builder.inspect_config(v) for k, v in pair.items()}
    run = run_pair(buildah_builder, pair, configs, options)
    assert run.status == "same", f"{run.summary}\n{run.after.output[-2000:]}"
    for side in (run.before, run.after):
        assert side.running and side.answers, f"{side.describe()}\n{side.output[-2000:]}"
    before, after = (buildah_builder.image_size(i) for i in images)
    SIZES.append((app, before, after))
    assert after < before


FIXTURES = HERE.parent.parent / "fixtures"
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
