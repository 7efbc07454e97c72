"""`verify --run` on small BusyBox images written to break a start the ways real fixes do.

Each case is an original Dockerfile and a "fixed" one (what a fixer's edit would produce),
given to `dockfix verify`'s machinery as the engine's outcome, so the run comparison is
tested on its own, whatever the fixers propose today.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dockfix.core.engine import FixOutcome
from dockfix.core.fixer import Finding
from dockfix.proof.builders import BuildahBuilder
from dockfix.proof.image_run import RunOptions
from dockfix.proof.verify import VerifyResult, pr_section, verify_outcome

pytestmark = pytest.mark.slow

# A web server whose start command first writes a log file that a build-time RUN made as
# root, with no WORKDIR: the shape of the app whose DF201 fix never started.
SERVER = """\
FROM busybox
RUN mkdir -p /www /logs && echo hello > /www/index.html && touch /logs/app.log
EXPOSE 8080
CMD ["sh", "-c", "echo starting >> /logs/app.log && exec httpd -f -p 8080 -h /www"]
"""


def run_case(
    builder: BuildahBuilder,
    tmp_path: Path,
    original: str,
    fixed: str,
    codes: tuple[str, ...] = ("DF201",),
    options: RunOptions | None = None,
) -> VerifyResult:
    app = tmp_path / "app"
    app.mkdir(parents=True)
    (app / "Dockerfile").write_text(original)
    last = original.count("\n")
    outcome = FixOutcome(
        original=original,
        fixed=fixed,
        applied=[Finding(code, "test fix", last) for code in codes],
    )

    def alone(code: str) -> FixOutcome | None:
        # the first code's edit is the fixed text; the others change nothing that matters
        if code == codes[0]:
            return outcome
        return FixOutcome(original=original, fixed=original + f"LABEL only={code}\n")

    return verify_outcome(
        app / "Dockerfile",
        "app/Dockerfile",
        outcome,
        builder,
        context_dir=app,
        run=options or RunOptions(seconds=3),
        variant=alone,
    )


def test_a_service_that_cannot_write_its_log_as_the_new_user_fails(
    buildah_builder: BuildahBuilder, tmp_path: Path
) -> None:
    fixed = SERVER.replace("EXPOSE 8080\n", "EXPOSE 8080\nUSER nobody\n")
    result = run_case(buildah_builder, tmp_path, SERVER, fixed, codes=("DF201", "DF502"))
    text = result.format_text()
    assert result.status == "does-not-start", text
    assert result.run is not None and result.run.before.running
    assert "original was still running" in result.run.summary
    assert any("Permission denied" in d for d in result.run.details), text
    assert result.blamed == ["DF201"]  # DF502 alone starts fine
    body = pr_section([result])
    assert "does not start like the original" in body and "caused by: DF201" in body
    assert result.to_dict()["run"]["caused_by"] == ["DF201"]


def test_a_port_the_original_answered_must_answer(
    buildah_builder: BuildahBuilder, tmp_path: Path
) -> None:
    fixed = SERVER.replace("-p 8080", "-p 8081")
    result = run_case(buildah_builder, tmp_path, SERVER, fixed)
    assert result.status == "does-not-start", result.format_text()
    assert result.run is not None
    assert "8080: the original answered, the fixed image did not" in result.run.summary


def test_a_service_on_port_80_as_a_user_starts_as_under_docker(
    buildah_builder: BuildahBuilder, tmp_path: Path
) -> None:
    """Docker sets net.ipv4.ip_unprivileged_port_start=0: a non-root user binds port 80."""
    original = SERVER.replace("8080", "80").replace(" && touch /logs/app.log", "")
    original = original.replace("echo starting >> /logs/app.log && ", "")
    fixed = original.replace("EXPOSE 80\n", "EXPOSE 80\nUSER nobody\n")
    result = run_case(buildah_builder, tmp_path, original, fixed)
    assert result.status == "verified", result.format_text()
    assert result.run is not None and result.run.status == "same"
    assert "80 answered HTTP 200 (original 200)" in result.run.summary


def test_a_one_shot_image_must_exit_with_the_same_code(
    buildah_builder: BuildahBuilder, tmp_path: Path
) -> None:
    original = 'FROM busybox\nCMD ["sh", "-c", "echo done"]\n'
    same = run_case(buildah_builder, tmp_path / "same", original, original + "USER nobody\n")
    assert same.status == "verified" and same.run is not None, same.format_text()
    assert same.run.summary.startswith("ran like the original: exited with code 0")
    broken = original.replace("echo done", "exit 3")
    other = run_case(buildah_builder, tmp_path / "other", original, broken)
    assert other.status == "does-not-start", other.format_text()
    assert other.run is not None
    assert "exited with code 3, the original with 0" in other.run.summary


def test_a_service_that_needs_another_container_is_not_probed(
    buildah_builder: BuildahBuilder, tmp_path: Path
) -> None:
    original = (
        "FROM busybox\nEXPOSE 8000\n"
        'CMD ["sh", "-c", "echo could not connect to db:5432: Connection refused; sleep 600"]\n'
    )
    result = run_case(buildah_builder, tmp_path, original, original + "USER nobody\n")
    assert result.status == "verified", result.format_text()
    assert result.run is not None and result.run.status == "not-probed"
    assert result.run.summary == (
        "started; could not probe: could not connect to db:5432: Connection refused"
    )


def test_env_and_probe_options_reach_the_runs(
    buildah_builder: BuildahBuilder, tmp_path: Path
) -> None:
    original = (
        "FROM busybox\nRUN mkdir /www && echo ok > /www/health\n"
        'CMD ["sh", "-c", "exec httpd -f -p $PORT -h /www"]\n'
    )
    options = RunOptions(seconds=3, env={"PORT": "9000"}, probes=("http://localhost:9000/health",))
    result = run_case(
        buildah_builder, tmp_path, original, original + "USER nobody\n", options=options
    )
    assert result.status == "verified", result.format_text()
    assert result.run is not None
    assert "http://localhost:9000/health answered HTTP 200" in result.run.summary
