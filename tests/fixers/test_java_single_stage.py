"""DF306 java-single-stage: a JDK build-and-run stage split into build and JRE runtime, the
jar named by the real build file."""

from __future__ import annotations

from pathlib import Path

import pytest

from stage_split_runner import run_rule

POM = """\
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <parent>
    <groupId>org.springframework.boot</groupId>
    <artifactId>spring-boot-starter-parent</artifactId>
    <version>3.2.5</version>
  </parent>
  <artifactId>orders</artifactId>
  <version>1.4.0</version>
  <properties><service.suffix>svc</service.suffix></properties>
  <dependencies>
    <dependency><groupId>org.springframework.boot</groupId><artifactId>spring-boot-starter-web</artifactId></dependency>
  </dependencies>
  <build>
    {final}
    <plugins>
      <plugin><groupId>org.springframework.boot</groupId><artifactId>spring-boot-maven-plugin</artifactId></plugin>
    </plugins>
  </build>
</project>
"""
MAVEN = """\
FROM maven:3.9.6-eclipse-temurin-21
WORKDIR /app
COPY pom.xml .
COPY src ./src
RUN mvn -B package -DskipTests
EXPOSE 8080
CMD ["java", "-jar", "{jar}"]
"""


def run(text: str, tmp_path: Path, files: dict[str, str]) -> tuple[str, list]:
    return run_rule("DF306", text, tmp_path, {"src/main/java/App.java": "", **files})


@pytest.mark.parametrize(
    ("final", "jar"),
    [
        ("", "target/orders-1.4.0.jar"),
        ("<finalName>${project.artifactId}-${service.suffix}</finalName>", "target/orders-svc.jar"),
    ],
)
def test_maven_jar_name_comes_from_the_pom(tmp_path: Path, final: str, jar: str) -> None:
    src = MAVEN.replace("{jar}", jar)
    out, left = run(src, tmp_path, {"pom.xml": POM.replace("{final}", final)})
    assert left == []
    assert out == (
        "FROM maven:3.9.6-eclipse-temurin-21 AS build\n"
        "WORKDIR /app\n"
        "COPY pom.xml .\n"
        "COPY src ./src\n"
        "RUN mvn -B package -DskipTests\n"
        "\n"
        "FROM eclipse-temurin:21-jre\n"
        "WORKDIR /app\n"
        f"COPY --from=build /app/{jar} /app/{jar}\n"
        "EXPOSE 8080\n"
        f'CMD ["java", "-jar", "{jar}"]\n'
    )


def test_start_command_naming_another_jar_is_display_only(tmp_path: Path) -> None:
    src = MAVEN.replace("{jar}", "target/app.jar")
    out, left = run(src, tmp_path, {"pom.xml": POM.replace("{final}", "")})
    assert out == src
    assert "not the jar the build file names (`target/orders-1.4.0.jar`)" in (left[0].reason or "")


GRADLE = """\
FROM gradle:8.7-jdk17-alpine
WORKDIR /home/gradle/project
COPY . .
RUN gradle build --no-daemon -x test
ENTRYPOINT ["java", "-jar", "/home/gradle/project/{jar}"]
"""


@pytest.mark.parametrize(
    ("build", "settings", "jar"),
    [
        (
            'plugins { id("org.springframework.boot") version "3.2.5" }\nversion = "0.3.1"\n',
            'rootProject.name = "inventory"\n',
            "build/libs/inventory-0.3.1.jar",
        ),
        (
            "plugins { id 'org.springframework.boot' version '3.2.5' }\n"
            "bootJar {\n    archiveFileName = 'app.jar'\n}\n",
            "",
            "build/libs/app.jar",
        ),
        (
            "plugins { id 'com.github.johnrengelman.shadow' version '8.1.1' }\n"
            "dependencies { implementation 'com.google.guava:guava:33.0.0-jre' }\n",
            "",
            "build/libs/project-all.jar",
        ),  # the directory's name when settings name none
    ],
)
def test_gradle_jar_name_comes_from_the_build_files(
    tmp_path: Path, build: str, settings: str, jar: str
) -> None:
    files = {"build.gradle.kts" if '("' in build else "build.gradle": build}
    if settings:
        files["settings.gradle.kts"] = settings
    src = GRADLE.replace("{jar}", jar)
    out, left = run(src, tmp_path, files)
    assert left == [], left and left[0].reason
    assert "FROM eclipse-temurin:17-jre-alpine\n" in out
    assert f"COPY --from=build /home/gradle/project/{jar} /home/gradle/project/{jar}\n" in out


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        (
            {
                "pom.xml": POM.replace(
                    "<artifactId>orders", "<packaging>war</packaging><artifactId>orders"
                )
            },
            "packages a `war`",
        ),
        (
            {"pom.xml": POM.replace("spring-boot-maven-plugin", "maven-jar-plugin")},
            "1 runtime dependencies and no plugin",
        ),
        (
            {"pom.xml": POM.replace("{final}", "<finalName>${git.tag}</finalName>")},
            "uses a property that is not set there",
        ),
        (
            {"pom.xml": POM.replace("<build>", "<modules><module>api</module></modules><build>")},
            "has modules",
        ),
        ({}, "`pom.xml` is not in the build context"),
    ],
)
def test_display_only_when_the_jar_cannot_be_named(
    tmp_path: Path, files: dict[str, str], reason: str
) -> None:
    src = MAVEN.replace("{jar}", "target/orders-1.4.0.jar")
    out, left = run(src, tmp_path, {k: v.replace("{final}", "") for k, v in files.items()})
    assert out == src
    assert len(left) == 1 and left[0].fix is None and reason in (left[0].reason or ""), left


@pytest.mark.parametrize(
    ("src", "reason"),
    [
        (MAVEN.replace("maven:3.9.6-eclipse-temurin-21", "maven:3.9"), "names no Java version"),
        (
            MAVEN.replace(
                'CMD ["java", "-jar", "{jar}"]', 'CMD ["java", "-cp", "target/classes", "App"]'
            ),
            "does not run `java -jar`",
        ),
        (
            MAVEN.replace(
                "EXPOSE", "HEALTHCHECK CMD curl -f http://localhost:8080/actuator/health\nEXPOSE"
            ),
            "`curl`",
        ),
    ],
)
def test_display_only_for_the_image_and_start(tmp_path: Path, src: str, reason: str) -> None:
    src = src.replace("{jar}", "target/orders-1.4.0.jar")
    out, left = run(src, tmp_path, {"pom.xml": POM.replace("{final}", "")})
    assert out == src and reason in (left[0].reason or ""), left[0].reason


def test_jre_image_or_no_build_is_not_reported(tmp_path: Path) -> None:
    for src in (
        'FROM eclipse-temurin:21-jre\nCOPY app.jar /app.jar\nCMD ["java", "-jar", "/app.jar"]\n',
        'FROM maven:3.9-eclipse-temurin-21\nCOPY app.jar /app.jar\nCMD ["java", "-jar", "/app.jar"]\n',
    ):
        assert run(src, tmp_path, {}) == (src, [])


LAYERED = POM.replace(
    "<artifactId>spring-boot-maven-plugin</artifactId>",
    "<artifactId>spring-boot-maven-plugin</artifactId>"
    "<configuration><layers><enabled>true</enabled></layers></configuration>",
)


@pytest.mark.parametrize(
    ("boot", "extract", "launcher"),
    [
        (
            "3.2.5",
            "java -Djarmode=layertools -jar /app/target/orders-1.4.0.jar extract "
            "--destination /app/target/extracted",
            "org.springframework.boot.loader.launch.JarLauncher",
        ),
        (
            "3.3.1",
            "java -Djarmode=tools -jar /app/target/orders-1.4.0.jar extract --layers "
            "--launcher --destination /app/target/extracted",
            "org.springframework.boot.loader.launch.JarLauncher",
        ),
        (
            "2.7.18",
            "java -Djarmode=layertools -jar /app/target/orders-1.4.0.jar extract "
            "--destination /app/target/extracted",
            "org.springframework.boot.loader.JarLauncher",
        ),
    ],
)
def test_layered_spring_boot_jar_is_extracted(
    tmp_path: Path, boot: str, extract: str, launcher: str
) -> None:
    src = MAVEN.replace(
        'CMD ["java", "-jar", "{jar}"]',
        'ENTRYPOINT ["java", "-Xss512k", "-jar", "target/orders-1.4.0.jar", "--debug"]',
    )
    pom = LAYERED.replace("{final}", "").replace(
        "<version>3.2.5</version>", f"<version>{boot}</version>"
    )
    out, left = run(src, tmp_path, {"pom.xml": pom})
    assert left == []
    assert out.endswith(
        f"RUN mvn -B package -DskipTests && {extract}\n"
        "\n"
        "FROM eclipse-temurin:21-jre\n"
        "WORKDIR /app\n"
        "COPY --from=build /app/target/extracted/dependencies/ ./\n"
        "COPY --from=build /app/target/extracted/spring-boot-loader/ ./\n"
        "COPY --from=build /app/target/extracted/snapshot-dependencies/ ./\n"
        "COPY --from=build /app/target/extracted/application/ ./\n"
        "EXPOSE 8080\n"
        f'ENTRYPOINT ["java", "-Xss512k", "{launcher}", "--debug"]\n'
    )


def test_layered_jar_with_shell_form_start_is_copied_whole(tmp_path: Path) -> None:
    src = MAVEN.replace('CMD ["java", "-jar", "{jar}"]', "CMD java -jar target/orders-1.4.0.jar")
    out, _ = run(src, tmp_path, {"pom.xml": LAYERED.replace("{final}", "")})
    assert "COPY --from=build /app/target/orders-1.4.0.jar /app/target/orders-1.4.0.jar\n" in out
    assert "extract" not in out


def test_gradle_build_files_are_not_copied_as_runtime_files(tmp_path: Path) -> None:
    # `settings.gradle` looks like a settings file to the runtime-file names; Spring Boot's
    # `config/application.yml` beside the jar is one.
    files = {
        "build.gradle": "plugins { id 'org.springframework.boot' version '3.3.1' }\nversion = '1.4.2'\n",
        "settings.gradle": "rootProject.name = 'invoices'\n",
        "config/application.yml": "server.port: 8080\n",
    }
    src = GRADLE.replace("{jar}", "build/libs/invoices-1.4.2.jar")
    out, left = run(src, tmp_path, files)
    assert left == [], left and left[0].reason
    assert "settings.gradle" not in out.split("-jre-alpine\n", 1)[1]
    assert "COPY --from=build /home/gradle/project/config /home/gradle/project/config\n" in out


def test_runtime_files_copied_after_the_build_are_not_copied_from_it(tmp_path: Path) -> None:
    # `COPY config ./config` after the build is in the runtime stage already; a
    # `COPY --from=build …/config` would fail: the build stage never had it
    files = {
        "build.gradle": "plugins { id 'org.springframework.boot' version '3.3.1' }\nversion = '1.4.2'\n",
        "settings.gradle.kts": 'rootProject.name = "invoices"\n',
        "config/application.yml": "server.port: 8080\n",
    }
    src = (
        GRADLE.replace("{jar}", "build/libs/invoices-1.4.2.jar")
        .replace("COPY . .\n", "COPY build.gradle settings.gradle.kts ./\nCOPY src ./src\n")
        .replace("ENTRYPOINT", "COPY config ./config\nENTRYPOINT")
    )
    out, left = run(src, tmp_path, files)
    assert left == [], left and left[0].reason
    assert "--from=build /home/gradle/project/config" not in out
    assert "COPY config ./config\n" in out
