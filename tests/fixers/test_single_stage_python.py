"""DF304 single-stage-python: a venv builder and a -slim runtime for Python services."""

from __future__ import annotations

from pathlib import Path

import pytest

import dockfix
from dockfix.core.buildkit_check import buildkit_rejects
from dockfix.core.fixer import Finding
from dockfix.fixers._python_runtime import RuntimeBase, runtime_packages, slim_variant
from hadolint_runner import hadolint_counts_or_skip

CODE = "DF304"

PIP = """\
FROM python:3.12-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends build-essential libpq-dev \\
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
"""


def run(
    text: str,
    tmp_path: Path,
    files: dict[str, str] | None = None,
    *,
    select: list[str] | None = None,
    name: str = "Dockerfile",
) -> tuple[str, list[Finding]]:
    """Fix with ``select`` (DF304 alone by default), checking BuildKit and idempotence."""
    for rel, content in (files or {"requirements.txt": "gunicorn\n"}).items():
        (tmp_path / rel).write_text(content)
    options = {"path": tmp_path / name, "context_dir": tmp_path, "select": select or [CODE]}
    fixed, findings = dockfix.fix(text, unsafe_fixes=True, offline=True, **options)
    if fixed != text:
        assert buildkit_rejects(fixed) is None
        again, _ = dockfix.fix(fixed, unsafe_fixes=True, offline=True, **options)
        assert again == fixed, "not idempotent"
    return fixed, findings


def reason(findings: list[Finding]) -> str:
    [finding] = [f for f in findings if f.code == CODE]
    assert finding.fix is None
    return finding.reason


@pytest.mark.parametrize(
    ("written", "expanded", "runtime"),
    [
        ("python:3.12", "python:3.12", "python:3.12-slim"),
        ("python:3.12.4-bookworm", "python:3.12.4-bookworm", "python:3.12.4-slim-bookworm"),
        ("python:3.11-slim", "python:3.11-slim", "python:3.11-slim"),
        ("python:${PY}", "python:3.11", "python:${PY}-slim"),
        ("python:${PY}-bookworm", "python:3.11-bookworm", "python:${PY}-slim-bookworm"),
        ("docker.io/library/python:3.10", "docker.io/library/python:3.10", None),
    ],
)
def test_slim_variant_keeps_the_version_and_the_release(
    written: str, expanded: str, runtime: str | None
) -> None:
    got = slim_variant(written, expanded)
    assert isinstance(got, RuntimeBase)
    assert got.text == (runtime or "docker.io/library/python:3.10-slim")


@pytest.mark.parametrize(
    ("ref", "why"),
    [
        ("python:latest", "does not name a Python version"),
        ("python:3.12-alpine", "does not name a Python version on Debian"),
        ("python:3.12@sha256:" + "a" * 64, "pinned by digest"),
        ("bitnami/python:3.12", "not the official `python` image"),
    ],
)
def test_no_slim_variant_says_why(ref: str, why: str) -> None:
    got = slim_variant(ref, ref)
    assert isinstance(got, str) and why in got


def test_runtime_library_table() -> None:
    assert runtime_packages("libpq-dev", None) == ("libpq5",)
    assert runtime_packages("libjpeg-dev", None) == ("libjpeg62-turbo",)
    assert runtime_packages("libxml2-dev", None) == ("libxml2",)
    assert runtime_packages("libssl-dev", None) == ()  # the interpreter links it already
    assert runtime_packages("libpng-dev", "bookworm") == ("libpng16-16",)
    assert runtime_packages("libpng-dev", "trixie") == ("libpng16-16t64",)
    assert "does not name its release" in str(runtime_packages("libpng-dev", None))
    assert "not in DF304's table" in str(runtime_packages("libfoo-dev", "bookworm"))


def test_pip_split_into_venv_builder_and_slim_runtime(tmp_path: Path) -> None:
    fixed, findings = run(PIP, tmp_path)
    assert [f.code for f in findings] == []
    build, runtime = fixed.split("\n\nFROM ", 1)
    assert build.startswith("FROM python:3.12-slim-bookworm AS build\n")
    assert "RUN python -m venv /opt/venv\nENV VIRTUAL_ENV=/opt/venv" in build
    assert runtime.startswith("python:3.12-slim-bookworm\n")
    assert "install -y --no-install-recommends libpq5 &&" in runtime
    assert "build-essential" not in runtime and "libpq-dev" not in runtime
    assert "COPY --from=build /opt/venv /opt/venv\n" in runtime
    assert runtime.endswith(
        'COPY . .\nEXPOSE 8000\nCMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]\n'
    )


def test_hadolint_reports_nothing_new(tmp_path: Path) -> None:
    fixed, _ = run(PIP, tmp_path)
    assert hadolint_counts_or_skip(fixed) - hadolint_counts_or_skip(PIP) == {}


def test_df201_makes_the_new_final_stage_non_root_in_the_same_run(tmp_path: Path) -> None:
    fixed, findings = run(PIP, tmp_path, select=[CODE, "DF201"])
    build, runtime = fixed.split("\n\nFROM ", 1)
    assert "USER" not in build
    assert "useradd" in runtime and "\nUSER 10001:10001\n" in runtime
    assert not [f for f in findings if f.code in (CODE, "DF201")]


def test_runtime_packages_that_are_not_build_tools_are_kept(tmp_path: Path) -> None:
    text = PIP.replace("libpq-dev", "libpq-dev curl gettext")
    fixed, _ = run(text, tmp_path)
    runtime = fixed.split("\n\nFROM ", 1)[1]
    assert "--no-install-recommends libpq5 curl gettext &&" in runtime


def test_user_setup_before_the_install_is_repeated_in_the_runtime(tmp_path: Path) -> None:
    text = PIP.replace("WORKDIR /app\n", "RUN useradd --create-home app\nWORKDIR /app\n")
    fixed, _ = run(text, tmp_path)
    assert fixed.split("\n\nFROM ", 1)[1].count("RUN useradd --create-home app\n") == 1


def test_existing_venv_is_kept(tmp_path: Path) -> None:
    text = PIP.replace(
        "COPY requirements.txt .\n",
        'RUN python -m venv /venv\nENV PATH="/venv/bin:$PATH"\nCOPY requirements.txt .\n',
    )
    fixed, _ = run(text, tmp_path)
    assert "/opt/venv" not in fixed
    runtime = fixed.split("\n\nFROM ", 1)[1]
    assert "COPY --from=build /venv /venv\n" in runtime
    assert runtime.count('ENV PATH="/venv/bin:$PATH"') == 1


def test_file_ending_with_the_install_and_no_line_break_keeps_it(tmp_path: Path) -> None:
    text = (
        'FROM python:3.12-bookworm\nCMD ["python", "app.py"]\nCOPY . /app\n'
        "RUN pip install --no-cache-dir -r /app/requirements.txt"
    )
    fixed, _ = run(text, tmp_path)
    assert fixed.startswith("FROM python:3.12-bookworm AS build\n")
    assert not fixed.endswith("\n")
    assert fixed.endswith(
        '\nFROM python:3.12-slim-bookworm\nCMD ["python", "app.py"]\n'
        "COPY . /app\nCOPY --from=build /opt/venv /opt/venv\n"
        'ENV VIRTUAL_ENV=/opt/venv PATH="/opt/venv/bin:$PATH"'
    )


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (("-r requirements.txt", "-e ."), "editable install"),
        (("-r requirements.txt", "--user -r requirements.txt"), "`--user`"),
        (("libpq-dev", "libpq-dev=15.8-0+deb12u1"), "is pinned"),
        (("libpq-dev", "libgdal-dev"), "not in DF304's table"),
        (("python:3.12-slim-bookworm", "python:3.12-slim"), None),
        (("python:3.12-slim-bookworm", "python:3.12-alpine"), "on Debian"),
        (("WORKDIR /app\n", "RUN curl -o /etc/app.conf http://cfg\nWORKDIR /app\n"), "does more"),
        (("WORKDIR /app\n", "USER app\nWORKDIR /app\n"), "`USER app`"),
        (('CMD ["gunicorn"', 'CMD ["uv", "run", "gunicorn"'), "`uv run`"),
        (("EXPOSE 8000\n", "EXPOSE 8000\nRUN make assets\n"), "build tools"),
    ],
)
def test_display_only_with_the_reason(
    change: tuple[str, str], why: str | None, tmp_path: Path
) -> None:
    text = PIP.replace(*change)
    assert text != PIP
    fixed, findings = run(text, tmp_path)
    if why is None:  # libpq5 has the same name everywhere: the release does not matter
        assert fixed != text
        return
    assert fixed == text
    assert why in reason(findings)


def test_start_script_that_installs_at_start_is_display_only(tmp_path: Path) -> None:
    text = PIP.replace("CMD [", 'ENTRYPOINT ["./entrypoint.sh"]\nCMD [')
    files = {"requirements.txt": "x\n", "entrypoint.sh": "#!/bin/sh\npip install -r extra.txt\n"}
    fixed, findings = run(text, tmp_path, files)
    assert fixed == text
    assert "the start script `./entrypoint.sh` runs `pip`" in reason(findings)


def test_start_script_using_a_tool_of_the_full_image_is_display_only(tmp_path: Path) -> None:
    # tests/buildenv/apps/fastapi-lxml-entrypoint with a seed download in its entrypoint
    text = (
        "FROM python:3.11\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\n"
        'ENTRYPOINT ["./docker-entrypoint.sh"]\nCMD ["uvicorn", "app.main:app"]\n'
    )
    script = (
        '#!/bin/sh\nset -e\n[ -z "$SEED_URL" ] || curl -fsSL "$SEED_URL" -o seed.xml\nexec "$@"\n'
    )
    files = {"requirements.txt": "uvicorn\n", "docker-entrypoint.sh": script}
    fixed, findings = run(text, tmp_path, files)
    assert fixed == text
    assert "`./docker-entrypoint.sh` runs `curl`, which the -slim image" in reason(findings)


def test_full_base_checks_the_dependency_list(tmp_path: Path) -> None:
    text = (
        "FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
        'CMD ["python", "app.py"]\n'
    )
    fixed, findings = run(text, tmp_path, {"requirements.txt": "flask\npsycopg2==2.9\n"})
    assert fixed == text and "`psycopg2` uses a system library" in reason(findings)
    fixed, _ = run(text, tmp_path, {"requirements.txt": "flask\n"})
    assert "FROM python:3.11-slim\n" in fixed


@pytest.mark.parametrize(
    "text",
    [
        PIP.replace("build-essential libpq-dev", "curl"),  # slim and nothing to drop
        PIP.replace('CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]\n', ""),
        'FROM node:20\nRUN apt-get update && apt-get install -y gcc\nRUN npm ci\nCMD ["node"]\n',
    ],
)
def test_not_reported(text: str, tmp_path: Path) -> None:
    fixed, findings = run(text, tmp_path)
    assert fixed == text and findings == []


@pytest.mark.parametrize("name", ["Dockerfile.dev", "dev.Dockerfile", "Dockerfile-development"])
def test_development_images_are_not_reported(name: str, tmp_path: Path) -> None:
    fixed, findings = run(PIP, tmp_path, name=name)
    assert fixed == PIP and findings == []


def test_full_base_tool_used_by_the_healthcheck_is_display_only(tmp_path: Path) -> None:
    text = (
        "FROM python:3.11-bookworm\nWORKDIR /app\nCOPY . .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
        "HEALTHCHECK CMD curl -f http://localhost:8000/ || exit 1\n"
        'CMD ["gunicorn", "app:app"]\n'
    )
    fixed, findings = run(text, tmp_path)
    assert fixed == text
    assert "`curl` at line 5 comes with the full `python:3.11-bookworm` image" in reason(findings)
    fixed, _ = run(
        text.replace("WORKDIR", "RUN apt-get update && apt-get install -y curl\nWORKDIR"), tmp_path
    )
    assert "--no-install-recommends curl &&" in fixed


def test_start_script_is_read_where_the_copy_took_it_from(tmp_path: Path) -> None:
    (tmp_path / "docker").mkdir()
    text = PIP.replace(
        "CMD [",
        'COPY docker/start.sh /usr/local/bin/\nENTRYPOINT ["/usr/local/bin/start.sh"]\nCMD [',
    )
    files = {"requirements.txt": "x\n", "docker/start.sh": '#!/bin/sh\nmake assets\nexec "$@"\n'}
    fixed, findings = run(text, tmp_path, files)
    assert fixed == text
    assert "the start script `/usr/local/bin/start.sh` runs `make`" in reason(findings)
    (tmp_path / "docker/start.sh").write_text('#!/bin/sh\nexec "$@"\n')
    fixed, _ = run(text, tmp_path, {"requirements.txt": "x\n"})
    assert fixed != text


def test_crlf_and_bom_are_kept(tmp_path: Path) -> None:
    text = "\ufeff" + PIP.replace("\n", "\r\n")
    fixed, _ = run(text, tmp_path)
    assert fixed.startswith("\ufeffFROM python:3.12-slim-bookworm AS build\r\n")
    assert "\n" not in fixed.replace("\r\n", "")
    assert "\r\n\r\nFROM python:3.12-slim-bookworm\r\n" in fixed


def test_venv_created_but_not_used_by_the_install_is_display_only(tmp_path: Path) -> None:
    text = PIP.replace(
        "COPY requirements.txt .\n", "RUN python -m venv /venv\nCOPY requirements.txt .\n"
    )
    fixed, findings = run(text, tmp_path)
    assert fixed == text
    assert "creates `/venv`, but the install does not run with it active" in reason(findings)
    fixed, _ = run(text.replace("RUN pip install", "RUN /venv/bin/pip install"), tmp_path)
    assert "COPY --from=build /venv /venv\n" in fixed


@pytest.mark.parametrize(
    "install",
    [
        "ARG APT=apt-get\nRUN $APT update && $APT install -y gcc libpq-dev",  # a variable
        "RUN a\\pt-get update && a\\pt-get install -y gcc libpq-dev",  # an escape
    ],
)
def test_apt_spelled_without_its_name_is_still_read(install: str, tmp_path: Path) -> None:
    # A -slim image is only worth splitting for its build packages: the cheap test that skips
    # files without `apt` must not skip a RUN whose words the text does not spell out.
    text = PIP.replace(PIP.splitlines()[1] + "\n" + PIP.splitlines()[2], install)
    fixed, _ = run(text, tmp_path)
    build, runtime = fixed.split("\n\nFROM ", 1)
    assert build.startswith("FROM python:3.12-slim-bookworm AS build\n")
    assert "install -y --no-install-recommends libpq5 &&" in runtime


@pytest.mark.parametrize(
    ("requirements", "needs"),
    [
        # psycopg 3 loads libpq.so.5 with ctypes unless its binary package is installed
        ("fastapi\npsycopg==3.1.19\n", "`psycopg`"),
        ("Wand==0.6.13\n", "`wand`"),  # ImageMagick's MagickWand, loaded with ctypes
        ("GitPython==3.1.43\n", "`gitpython`"),  # runs the `git` program
        ("python-gnupg==0.5.2\n", "`python-gnupg`"),  # runs `gpg`
        ("psycopg[binary]==3.1.19\n", None),
        ("psycopg==3.1.19\npsycopg-binary==3.1.19\n", None),
    ],
)
def test_full_base_checks_libraries_loaded_and_programs_run_at_run_time(
    tmp_path: Path, requirements: str, needs: str | None
) -> None:
    text = (
        "FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"
        'CMD ["python", "app.py"]\n'
    )
    fixed, findings = run(text, tmp_path, {"requirements.txt": requirements})
    if needs is None:
        assert "FROM python:3.11-slim\n" in fixed
        return
    assert fixed == text
    assert f"{needs} uses a system library or program" in reason(findings)


@pytest.mark.parametrize(
    ("start", "script"),
    [
        ('CMD ["/usr/local/bin/gunicorn", "--bind", "0.0.0.0:8000", "app:app"]', None),
        ('CMD ["./start.sh"]', "#!/bin/sh\nexec /usr/local/bin/gunicorn app:app\n"),
    ],
)
def test_a_start_naming_a_script_pip_put_in_usr_local_bin_is_display_only(
    tmp_path: Path, start: str, script: str | None
) -> None:
    # after the split, gunicorn is /opt/venv/bin/gunicorn: -slim has no /usr/local/bin/gunicorn
    text = PIP.replace('CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]', start)
    files = {"requirements.txt": "gunicorn\n", **({"start.sh": script} if script else {})}
    fixed, findings = run(text, tmp_path, files)
    assert fixed == text
    assert "names `/usr/local/bin/gunicorn`, the image's Python or what pip" in reason(findings)
    # the image's interpreter by its path does not see the virtual environment's packages
    python = PIP.replace('CMD ["gunicorn",', 'CMD ["/usr/local/bin/python", "-m", "gunicorn",')
    fixed, findings = run(python, tmp_path, files)
    assert fixed == python
    assert "`/usr/local/bin/python`" in reason(findings)
    late = PIP.replace("COPY . .\n", "COPY . .\nRUN /usr/local/bin/python -m compileall -q .\n")
    fixed, findings = run(late, tmp_path, files)
    assert fixed == late
    assert "the RUN at line 8 names `/usr/local/bin/python`" in reason(findings)
