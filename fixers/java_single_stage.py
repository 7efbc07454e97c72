"""DF306 java-single-stage: a Java service runs in the JDK image that built it.

## What it does
Finds a final stage based on a JDK build image (`maven`, `gradle`, `eclipse-temurin`
JDK tags, `openjdk`, `amazoncorretto`) that builds a jar with Maven or Gradle (`mvn
package`, `./mvnw verify`, `gradle build`, `./gradlew bootJar` …) and runs it with
`java -jar`. It offers the split into a build stage and a runtime stage on the Eclipse
Temurin JRE of the same Java version (`eclipse-temurin:<version>-jre`, on the JDK tag's
system when it names one: `-jre-alpine`, `-jre-jammy` …) that copies the one jar the build file names, to the same path, so the
start command needs no edit:

- Maven: `target/<finalName>.jar`, `finalName` defaulting to `<artifactId>-<version>`
  (properties expanded), when the jar bundles its dependencies (`spring-boot-maven-plugin`,
  `maven-shade-plugin`, `maven-assembly-plugin` with `jar-with-dependencies`) or has none;
- Gradle: `build/libs/<archivesName>-<version>.jar` (`rootProject.name` or the directory
  name), the `bootJar`/`shadowJar` `archiveFileName` when set, `-all` for Shadow.

A Spring Boot jar whose build configures layers (`<layers><enabled>true</enabled>` in the
plugin's configuration, `bootJar { layered { … } }`) is extracted in the build stage
(`-Djarmode=layertools`, `-Djarmode=tools` from Boot 3.3) and its four layers are copied
one `COPY` each, dependencies first, so a code change leaves the dependency layers cached;
the exec-form start command then runs the launcher class (`…loader.launch.JarLauncher`
from Boot 3.2) instead of `-jar`, with the same JVM options and arguments.

The runtime stage gets the working directory, copies of the runtime settings written
before the build (`ENV`, `EXPOSE`, `LABEL`, `HEALTHCHECK`, `CMD`, `ENTRYPOINT` …) and the
files of the project a service reads at run time (`config/`, `application.yml` …);
everything written after the build stays where it is and now belongs to the runtime stage.

## Why is this bad
The image keeps the JDK (compiler, jlink, debugging tools), Maven or Gradle, the sources
and the downloaded dependency cache (`~/.m2`, `~/.gradle`): typically 500–800 MB where
the JRE and the jar take 200–300 MB.

## Example
```dockerfile
FROM maven:3.9-eclipse-temurin-21
WORKDIR /app
COPY . .
RUN mvn -B package -DskipTests
EXPOSE 8080
CMD ["java", "-jar", "target/orders-1.4.0.jar"]
```
Use instead:
```dockerfile
FROM maven:3.9-eclipse-temurin-21 AS build
WORKDIR /app
COPY . .
RUN mvn -B package -DskipTests

FROM eclipse-temurin:21-jre
WORKDIR /app
COPY --from=build /app/target/orders-1.4.0.jar /app/target/orders-1.4.0.jar
EXPOSE 8080
CMD ["java", "-jar", "target/orders-1.4.0.jar"]
```
(with a `pom.xml` for `orders` 1.4.0 that uses `spring-boot-maven-plugin`).

## Fix safety
Always unsafe: the service then runs on a JRE (no `javac`, `jcmd`, `jmap`; a service that
compiles at run time or attaches agents from the JDK breaks), without the sources, Maven or
Gradle, and on the Temurin distribution of the same Java version (the builder's may be
another vendor's).

Display-only, with the reason, when the jar cannot be named from the build files (no
`pom.xml`/`build.gradle` in the build context, a multi-module build, `war` packaging,
dependencies no plugin bundles, a computed name or build directory), the tag names no Java
version, the start command is not `java -jar` on that jar (a classpath, a script), it uses
other files of the build stage, a `HEALTHCHECK` needs `curl`/`wget`, the stage installs OS
packages or creates a user, or files are copied outside the project. A layered jar whose
start command is in shell form or not in the runtime part of the stage is copied whole. Files named `Dockerfile.dev` or
under `.devcontainer/` are not reported.

## Options
None.

## Resolves
hadolint: none · Trivy: none · Checkov: none.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from dockfix.core.edits import replace_logical
from dockfix.core.fixer import Edit, Finding, Fix, Fixer, Resolves, Severity, register
from dockfix.fixers._build_steps import run_steps
from dockfix.fixers._cmdline import display_finding
from dockfix.fixers._context_files import ContextFiles
from dockfix.fixers._image_paths import (
    copied_into,
    image_workdir_at,
    json_list,
    runtime_assets,
    start_command,
)
from dockfix.fixers._jvm_projects import (
    JDK_IMAGES,
    LAYERS,
    Jar,
    gradle_jar,
    jar_launcher,
    jdk_version,
    jre_image,
    layer_extract,
    maven_jar,
)
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._runtime_stage import (
    SPLIT_IMAGE_CHANGES,
    healthcheck_problem,
    in_build_stage,
    keyword_case,
    service_stage,
    split_stage,
    stage_problem,
    start_argv,
)
from dockfix.semantics.semantic import is_within, resolve_path

if TYPE_CHECKING:
    from dockfix.fixers._image_paths import BaseImage
    from dockfix.semantics.context import FixContext
    from dockfix.syntax import Dockerfile, Instruction, Stage

_TOOLS = {"mvn": "maven", "mvnw": "maven", "gradle": "gradle", "gradlew": "gradle"}
_PRODUCING_TASKS = frozenset(
    {"package", "install", "verify", "deploy", "build", "assemble", "bootJar", "shadowJar", "jar"}
)
_IMAGE_USERS = frozenset({"root", "0"})

# Build files whose names look like runtime settings (`settings.gradle`): the jar holds the
# build's result, the runtime stage needs none of them.
_BUILD_FILES = lazy_re(r"^(settings|build)\.gradle(\.kts)?$")


@register
class JavaSingleStage(Fixer):
    code = "DF306"
    restructures = True
    severity = Severity.INFO
    name = "java-single-stage"
    summary = "A Java service runs in the JDK and build-tool image that built it"
    resolves = Resolves()
    image_changes = SPLIT_IMAGE_CHANGES  # a new runtime base

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        finding = self._finding(doc, ctx)
        if finding is not None:
            yield finding

    def _finding(self, doc: Dockerfile, ctx: FixContext) -> Finding | None:
        found = service_stage(doc, ctx, _is_jdk_image)
        if found is None:
            return None
        stage, base = found
        built = _build(doc, stage)
        if built is None:
            return None
        run, tool, project = built
        message = (
            f"the final stage builds with `{base.reference}` and runs the jar: the image keeps "
            f"the JDK, {'Maven' if tool == 'maven' else 'Gradle'}, the sources and the "
            "dependency cache"
        )
        display = partial(display_finding, self, stage.from_instruction, message)
        if not base.is_official:
            return display(f"`{base.repository}` is not an official JDK image")
        version = jdk_version(base.name, base.tag)
        if version is None:
            return display(f"the tag `{base.tag}` names no Java version for the matching JRE")
        if project is None:
            return display(f"the directory the build at line {run.start_line} runs in is unknown")
        problem = stage_problem(doc, stage, run, _IMAGE_USERS)
        if problem:
            return display(problem)
        names = copied_into(doc, stage, project, ctx)
        if names is None:
            return display(
                "the build context is not available, so the build file that names the jar "
                "cannot be read"
            )
        files = ContextFiles(doc, stage, ctx)
        jar = maven_jar(files, project) if tool == "maven" else gradle_jar(files, project)
        if isinstance(jar, str):
            return display(jar)
        jar_path = posixpath.join(project, jar.path)
        problem = _start_problem(stage, jar_path, project, image_workdir_at(doc, stage, None))
        if problem:
            return display(problem)
        runtime = jre_image(version, base.tag)
        problem = healthcheck_problem(stage, runtime, base.reference)
        if problem:
            return display(problem)
        assets = [
            (posixpath.join(project, n),) * 2
            for n in runtime_assets(in_build_stage(doc, stage, run, project, names, ctx))
            if not _BUILD_FILES.match(n)
        ]
        layered = _layered(doc, stage, run, jar, jar_path)
        copies, edits = layered if layered is not None else ([(jar_path, jar_path)], [])
        done = split_stage(doc, stage, run, runtime, copies + assets, users=_IMAGE_USERS)
        if isinstance(done, str):
            return display(done)
        how = "its extracted layers" if layered is not None else f"`{jar.path}`"
        fix = Fix.unsafe(
            *edits,
            *done[1],
            description=f"build in a named stage and run {how} on `{runtime}`",
        )
        return self.finding(stage.from_instruction, message, fix)


def _is_jdk_image(base: BaseImage) -> bool:
    return base.name in JDK_IMAGES


def _build(doc: Dockerfile, stage: Stage) -> tuple[Instruction, str, str | None] | None:
    """The last RUN that builds a jar: (RUN, "maven"/"gradle", project directory)."""
    found = None
    for i in stage.instructions:
        if i.keyword != "RUN":
            continue
        for c in run_steps(doc, stage, i) or []:
            words = [w or "" for w in c.argv]
            tool = _TOOLS.get(posixpath.basename(words[0])) if words else None
            if tool is None or not (_PRODUCING_TASKS & set(words[1:])):
                continue
            project = c.cwd
            if any(w in ("-f", "--file", "-p", "--project-dir", "-b") for w in words):
                project = None  # another build file or directory
            found = (i, tool, project)
    return found


def _layered(
    doc: Dockerfile, stage: Stage, run: Instruction, jar: Jar, jar_path: str
) -> tuple[list[tuple[str, str]], list[Edit]] | None:
    """The copies and edits that run a layered Spring Boot jar from its extracted layers
    (one image layer each: a code change leaves the dependency layers cached); None when
    the jar is not configured as layered or the start command cannot be rewritten (the fat
    jar is copied then)."""
    boot = jar.layered_boot
    entry, cmd = start_command(stage)
    start = entry if cmd is None else cmd if entry is None else None
    if boot is None or start is None or start.json_args is None:
        return None
    if run.json_args is not None or run.heredocs:
        return None
    argv = list(start.json_args)
    at = argv.index("-jar") if "-jar" in argv else -1
    index = stage.instructions.index
    if at < 0 or at + 1 >= len(argv) or index(start) < index(run):
        return None
    if image_workdir_at(doc, stage, None) != image_workdir_at(doc, stage, run):
        return None  # the layers go to the working directory, the launcher's classpath
    argv[at : at + 2] = [jar_launcher(boot)]
    dest = posixpath.join(posixpath.dirname(jar_path), "extracted")
    end = len(run.logical.rstrip())
    kw = keyword_case(stage.from_instruction)
    edits = [
        replace_logical(run, end, end, f" && {layer_extract(jar_path, dest, boot)}"),
        Edit(start.start, start.header_end, f"{kw(start.keyword)} {json_list(argv)}"),
    ]
    return [(f"{dest}/{layer}/", "./") for layer in LAYERS], edits


def _start_problem(stage: Stage, jar_path: str, project: str, cwd: str | None) -> str | None:
    argv = start_argv(stage)
    if isinstance(argv, str):
        return argv
    if posixpath.basename(argv[0]) != "java":
        return f"the start command runs `{argv[0]}`, not `java -jar`"
    if "-jar" not in argv or argv.index("-jar") + 1 >= len(argv):
        return "the start command does not run `java -jar`"
    at = argv.index("-jar") + 1
    for w in argv[1:]:
        if w in ("-cp", "-classpath", "--class-path"):
            return f"the start command sets a classpath (`{w}`)"
    for n, w in enumerate(argv[1:], 1):
        value = w.split("=", 1)[-1]
        if not value.startswith(("/", "./", "../")) and n != at:
            continue
        path = resolve_path(value, cwd)
        if path is None:
            return f"the start command's `{w}` is relative to an unknown directory"
        if n == at:
            if not fnmatch.fnmatchcase(jar_path, path):
                return (
                    f"the start command runs `{w}`, not the jar the build file names "
                    f"(`{posixpath.relpath(jar_path, project)}`)"
                )
        elif is_within(path, project):
            return f"the start command uses `{w}`, a file of the build stage"
    return None
