"""What a Java project's build files say about the jar it builds: shared by DF306.

Maven: `pom.xml` (`packaging`, `artifactId`, `version` or the parent's, `build/finalName`
with `${…}` properties expanded, `build/directory`, the plugins that bundle dependencies:
`spring-boot-maven-plugin`, `maven-shade-plugin`, `maven-assembly-plugin` with
`jar-with-dependencies`). Gradle: `build.gradle(.kts)` and `settings.gradle(.kts)`
(`rootProject.name`, `version`, `archivesName`/`archivesBaseName`, `bootJar`'s
`archiveFileName`, the Spring Boot and Shadow plugins). The answer is the jar's path inside
the project, or the reason it cannot be named.
"""

from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as ET
from typing import NamedTuple

from dockfix.fixers._context_files import ContextFiles
from dockfix.fixers._lazy import lazy_re

# The JDK version in the tags of the build images: `maven:3.9-eclipse-temurin-21`,
# `gradle:8.7-jdk17-alpine`, `eclipse-temurin:21-jdk`, `openjdk:17-jdk-slim`.
_MAVEN_JDK = lazy_re(r"(?:temurin|openjdk|corretto|sapmachine|jdk|graalvm-community)-?(\d+)")
_LEADING_VERSION = lazy_re(r"^(\d+)(?:[._-]|$)")
JDK_IMAGES = frozenset({"maven", "gradle", "eclipse-temurin", "openjdk", "amazoncorretto"})
_PROPERTY = lazy_re(r"\$\{([^}]+)\}")
_QUOTED = r"""["']([^"'$]+)["']"""


class Jar(NamedTuple):
    path: str  # relative to the project directory
    spring_boot: bool
    # Spring Boot version when the build configures layers explicitly (`<layers>` /
    # `layered {}`): the jar can be extracted into layers for the runtime image.
    layered_boot: tuple[int, int] | None = None


def _version(text: str | None) -> tuple[int, int] | None:
    m = re.match(r"(\d+)\.(\d+)", text or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


LAYERS = ("dependencies", "spring-boot-loader", "snapshot-dependencies", "application")


def layer_extract(jar: str, destination: str, boot: tuple[int, int]) -> str:
    """The command that extracts a layered Spring Boot jar (`tools` mode since 3.3)."""
    if boot >= (3, 3):
        return f"java -Djarmode=tools -jar {jar} extract --layers --launcher --destination {destination}"
    return f"java -Djarmode=layertools -jar {jar} extract --destination {destination}"


def jar_launcher(boot: tuple[int, int]) -> str:
    """The main class that starts an extracted Spring Boot application (moved in 3.2)."""
    if boot >= (3, 2):
        return "org.springframework.boot.loader.launch.JarLauncher"
    return "org.springframework.boot.loader.JarLauncher"


def jdk_version(repository_name: str, tag: str) -> str | None:
    """The Java feature version of a JDK build image's tag; None when the tag names none or
    names a JRE (which cannot build)."""
    if repository_name not in JDK_IMAGES or "jre" in tag:
        return None
    m = (
        _MAVEN_JDK.search(tag)
        if repository_name in ("maven", "gradle")
        else _LEADING_VERSION.match(tag)
    )
    return m.group(1) if m else None


# Operating systems the Temurin JRE tags come in (`21-jre-alpine`, `17-jre-jammy` …).
_JRE_SYSTEMS = ("alpine", "noble", "jammy", "focal", "ubi9-minimal")


def jre_image(version: str, tag: str) -> str:
    """The Eclipse Temurin JRE of the same Java version, on the JDK tag's system when it
    names one (Alpine stays Alpine: the jar may load musl-built native libraries)."""
    system = next((s for s in _JRE_SYSTEMS if s in tag), None)
    return f"eclipse-temurin:{version}-jre" + (f"-{system}" if system else "")


def _strip_ns(root: ET.Element) -> None:
    for el in root.iter():
        if isinstance(el.tag, str) and "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]


def _text(el: ET.Element | None, path: str) -> str | None:
    found = el.find(path) if el is not None else None
    return found.text.strip() if found is not None and found.text else None


def maven_jar(files: ContextFiles, project: str) -> Jar | str:
    """The jar `mvn package` leaves in the project, read from its `pom.xml`."""
    root = _pom(files, project)
    if isinstance(root, str):
        return root
    if root.find("modules") is not None:
        return "`pom.xml` has modules; which module's jar the service runs is not analysed"
    packaging = _text(root, "packaging") or "jar"
    if packaging != "jar":
        return f"`pom.xml` packages a `{packaging}`, which needs an application server"
    final, why = _final_name(root)
    if final is None:
        return why
    if "${" in final:
        return f"the jar name `{final}` in `pom.xml` uses a property that is not set there"
    plugins = {_text(p, "artifactId"): p for p in root.iterfind("build/plugins/plugin")}
    bundled = _bundling_plugin_jar(root, plugins, final)
    if bundled is not None:
        return bundled
    deps = [
        d
        for d in root.iterfind("dependencies/dependency")
        if (_text(d, "scope") or "compile") not in ("test", "provided")
    ]
    if deps:
        return (
            f"`pom.xml` has {len(deps)} runtime dependencies and no plugin "
            "(spring-boot-maven-plugin, maven-shade-plugin, maven-assembly-plugin) bundles "
            "them into the jar"
        )
    return Jar(f"target/{final}.jar", False)


def _pom(files: ContextFiles, project: str) -> ET.Element | str:
    """The project's `pom.xml`, namespaces stripped, or why it cannot be read."""
    text = files.text(posixpath.join(project, "pom.xml"))
    if text is None:
        return "`pom.xml` is not in the build context"
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return "`pom.xml` is not valid XML"
    _strip_ns(root)
    return root


def _final_name(root: ET.Element) -> tuple[str | None, str]:
    """The jar's name without `.jar` (`build/finalName`, properties expanded), or None and
    why it is not known."""
    artifact = _text(root, "artifactId")
    version = _text(root, "version") or _text(root, "parent/version")
    if artifact is None or version is None:
        return None, "`pom.xml` names no artifactId or version"
    props = {
        "project.artifactId": artifact,
        "artifactId": artifact,
        "project.version": version,
        "version": version,
        "pom.version": version,
    }
    for p in list(root.find("properties") or []):
        if isinstance(p.tag, str) and p.text:
            props[p.tag] = p.text.strip()
    if _text(root, "build/directory") is not None:
        return None, "`pom.xml` moves the build directory (`build/directory`)"
    final = _text(root, "build/finalName") or f"{artifact}-{version}"
    for _ in range(5):
        final = _PROPERTY.sub(lambda m: props.get(m.group(1), m.group(0)), final)
    return final, ""


def _bundling_plugin_jar(
    root: ET.Element, plugins: dict[str | None, ET.Element], final: str
) -> Jar | str | None:
    """The jar a plugin that bundles the dependencies leaves; None when no such plugin."""
    if "spring-boot-maven-plugin" in plugins:
        boot_plugin = plugins["spring-boot-maven-plugin"]
        classifier = _text(boot_plugin, ".//configuration/classifier")
        name = f"{final}-{classifier}" if classifier else final
        layered = None
        if _text(boot_plugin, ".//configuration/layers/enabled") == "true":
            parent = _text(root, "parent/version")
            own = _text(root, "parent/artifactId") == "spring-boot-starter-parent"
            layered = _version(_text(boot_plugin, "version") or (parent if own else None))
        return Jar(f"target/{name}.jar", True, layered)
    if "maven-shade-plugin" in plugins:
        if _text(plugins["maven-shade-plugin"], ".//shadedArtifactAttached") == "true":
            return "maven-shade-plugin attaches the shaded jar under a classifier"
        return Jar(f"target/{final}.jar", False)
    assembly = plugins.get("maven-assembly-plugin")
    if assembly is not None:
        refs = [r.text for r in assembly.iter("descriptorRef")]
        if refs == ["jar-with-dependencies"]:
            return Jar(f"target/{final}-jar-with-dependencies.jar", False)
        return "maven-assembly-plugin's descriptors are not analysed"
    return None


def gradle_jar(files: ContextFiles, project: str) -> Jar | str:
    """The jar `gradle build`/`bootJar`/`shadowJar` leaves in the project."""
    build = None
    for name in ("build.gradle", "build.gradle.kts"):
        build = files.text(posixpath.join(project, name))
        if build is not None:
            break
    if build is None:
        return "`build.gradle` / `build.gradle.kts` is not in the build context"
    settings = ""
    for name in ("settings.gradle", "settings.gradle.kts"):
        settings = files.text(posixpath.join(project, name)) or settings
    if re.search(r"^\s*include\b", settings, re.M):
        return "settings.gradle includes subprojects; which one the service runs is not analysed"
    if re.search(r"\bbuildDir\b|\blayout\.buildDirectory\b", build):
        return "the build file moves the build directory"
    m = re.search(r"rootProject\.name\s*=\s*" + _QUOTED, settings)
    name = m.group(1) if m else posixpath.basename(project.rstrip("/"))
    m = re.search(r"(?:archivesBaseName|archivesName)\s*(?:=|\.set\()\s*" + _QUOTED, build)
    if m:
        name = m.group(1)
    elif re.search(r"archives(Base)?Name", build):
        return "the build file computes the archive name"
    m = re.search(r"^\s*version\s*=?\s*" + _QUOTED, build, re.M)
    if m is None and re.search(r"^\s*version\s*=", build, re.M):
        return "the build file computes the version"
    stem = f"{name}-{m.group(1)}" if m else name
    boot = re.search(r"""org\.springframework\.boot["']""", build) is not None
    shadow = re.search(r"""(johnrengelman|gradleup)\.shadow["']""", build) is not None
    fixed = re.search(
        r"(bootJar|shadowJar)\b[^{}]*\{[^{}]*archiveFileName\s*(?:=|\.set\()\s*" + _QUOTED, build
    )
    layered = None
    if boot and re.search(r"\blayered\s*\{", build):
        m = re.search(r"""org\.springframework\.boot["']\)?\s+version\s+["']([\d.]+)""", build)
        layered = _version(m.group(1) if m else None)
    if fixed:
        is_boot = fixed.group(1) == "bootJar"
        return Jar(f"build/libs/{fixed.group(2)}", is_boot, layered if is_boot else None)
    if "archiveFileName" in build or "archiveClassifier" in build:
        return "the build file changes the jar's name in a way that is not analysed"
    if boot:
        return Jar(f"build/libs/{stem}.jar", True, layered)
    if shadow:
        return Jar(f"build/libs/{stem}-all.jar", False)
    if re.search(r"\b(implementation|runtimeOnly|api|compile)\s*[\(\s'\"]", build):
        return (
            "the build file declares dependencies and no plugin (Spring Boot, Shadow) bundles "
            "them into the jar"
        )
    return Jar(f"build/libs/{stem}.jar", False)
