"""DF601 ci-image-scan: workflows read, the scan step written byte-exactly, unclear shapes
left display-only, and the shipped fixtures (whose workflows' expected outputs are the
`expected.unsafe.<workflow file>` files of each case)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dockfix
from dockfix.core.engine import FixOutcome
from dockfix.core.fixer import Applicability, Finding
from dockfix.fixers.ci_image_scan import DEFAULT_ACTION
from dockfix.fixers.ci_image_scan._scan_step import _yaml_value
from dockfix.fixers.ci_image_scan._sites import image_repository
from dockfix.fixers.ci_image_scan._workflows import repository_root
from dockfix.run.config import Config
from dockfix.run.runner import RunOptions, fix_text_with
from fixture_cases import ROOT as FIXTURES

CODE = "DF601"
DOCKERFILE = 'FROM python:3.13-slim\nCOPY . /app\nCMD ["python", "/app/main.py"]\n'
SCAN = (
    "      - uses: aquasecurity/trivy-action@v0.36.0\n"
    "        with:\n"
    "          image-ref: {ref}\n"
    "          severity: HIGH,CRITICAL\n"
    "          exit-code: 1\n"
)


def workflow(*steps: str, job_extra: str = "", top: str = "on: push\n") -> str:
    """A one-job workflow whose steps are given as text indented for `steps:`."""
    body = "".join(steps)
    return (
        f"{top}jobs:\n  build:\n    runs-on: ubuntu-latest\n{job_extra}    steps:\n"
        f"      - uses: actions/checkout@v4\n{body}"
    )


def make_repo(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(text.encode("utf-8"))
    (root / ".git").mkdir(exist_ok=True)
    return root


def run(
    root: Path,
    dockerfile: str = "Dockerfile",
    *,
    unsafe: bool = True,
    options: dict[str, Any] | None = None,
) -> FixOutcome:
    path = root / dockerfile
    cfg = Config(root=root, fixer_options={CODE: options} if options else {})
    opts = RunOptions(select=(CODE,), unsafe_fixes=unsafe, offline=True)
    return fix_text_with(path.read_bytes().decode("utf-8"), path, opts, cfg)


def proposed(out: FixOutcome, root: Path, name: str = "ci.yml") -> str | None:
    target = root / ".github" / "workflows" / name
    for ch in out.file_changes:
        if ch.path == target:
            return ch.content
    return None


def findings(out: FixOutcome) -> list[Finding]:
    return [f for f in [*out.findings, *out.applied] if f.code == CODE]


def single(
    tmp_path: Path, wf: str, dockerfile: str = DOCKERFILE, **kw: Any
) -> tuple[FixOutcome, str | None]:
    root = make_repo(tmp_path, {"Dockerfile": dockerfile, ".github/workflows/ci.yml": wf})
    out = run(root, **kw)
    return out, proposed(out, root)


def only_adds_lines(before: str, after: str) -> bool:
    """``after`` is ``before`` with whole lines inserted (a missing final newline may move)."""
    old = before.splitlines()
    new = after.splitlines()
    i = 0
    for line in new:
        if i < len(old) and line == old[i]:
            i += 1
    return i == len(old) and len(new) > len(old)


def reason_of(out: FixOutcome) -> str:
    """The display-only reason shared by the findings (one per build step)."""
    found = findings(out)
    assert found and all(f.fix is None for f in found)
    assert len({f.reason for f in found}) == 1
    return found[0].reason


# --- the change itself ---------------------------------------------------------------


def test_load_true_scans_the_local_image_right_after_the_build(tmp_path: Path) -> None:
    build = (
        "      - uses: docker/build-push-action@v6\n"
        "        with:\n"
        "          load: true\n"
        "          tags: |\n"
        "            app:${{ github.sha }}\n"
        "            app:latest\n"
    )
    test = "      - run: docker run --rm app:${{ github.sha }} pytest\n"
    wf = workflow(build, test)
    out, after = single(tmp_path, wf)
    assert after == workflow(build, SCAN.format(ref="app:${{ github.sha }}"), test)
    assert out.findings == []
    (applied,) = out.applied
    assert applied.line == 1
    assert (
        applied.message
        == ".github/workflows/ci.yml line 7 builds this image without a vulnerability scan"
    )


def test_safe_mode_only_reports_an_unsafe_fix(tmp_path: Path) -> None:
    wf = workflow("      - run: docker build -t app .\n")
    out, after = single(tmp_path, wf, unsafe=False)
    assert after is None
    assert out.file_changes == []
    (f,) = findings(out)
    assert f.applicability is Applicability.UNSAFE
    assert f.fix is not None and f.fix.edits == ()


def test_pushed_image_is_scanned_by_its_first_tag(tmp_path: Path) -> None:
    build = (
        "      - uses: docker/build-push-action@v6\n"
        "        with:\n"
        "          push: true\n"
        "          tags: ghcr.io/acme/app:1.0,ghcr.io/acme/app:latest\n"
    )
    _, after = single(tmp_path, workflow(build))
    assert after == workflow(build, SCAN.format(ref="ghcr.io/acme/app:1.0"))


def test_default_docker_driver_loads_the_image(tmp_path: Path) -> None:
    build = "      - uses: docker/build-push-action@v6\n        with:\n          tags: app:ci\n"
    _, after = single(tmp_path, workflow(build))
    assert after == workflow(build, SCAN.format(ref="app:ci"))


def test_buildx_builder_without_load_is_display_only(tmp_path: Path) -> None:
    wf = workflow(
        "      - uses: docker/setup-buildx-action@v3\n",
        "      - uses: docker/build-push-action@v6\n        with:\n          tags: app:ci\n",
    )
    out, after = single(tmp_path, wf)
    assert after is None
    assert "neither pushed nor loaded" in reason_of(out)


def test_buildx_with_the_docker_driver_still_loads(tmp_path: Path) -> None:
    setup = "      - uses: docker/setup-buildx-action@v3\n        with:\n          driver: docker\n"
    build = "      - run: docker buildx build -t app:ci .\n"
    _, after = single(tmp_path, workflow(setup, build))
    assert after == workflow(setup, build, SCAN.format(ref="app:ci"))


def test_docker_build_in_a_run_script_with_github_sha(tmp_path: Path) -> None:
    build = (
        "      - name: Build\n"
        "        run: |\n"
        '          docker build --pull -t "acme/app:$GITHUB_SHA" \\\n'
        "            --build-arg VERSION=1 .\n"
        "          docker images\n"
    )
    _, after = single(tmp_path, workflow(build))
    expected_scan = "      - name: Scan image for vulnerabilities\n" + SCAN.format(
        ref="acme/app:${{ github.sha }}"
    ).replace("      - uses", "        uses", 1)
    assert after == workflow(build, expected_scan)


def test_shell_variable_from_the_job_env_becomes_an_env_expression(tmp_path: Path) -> None:
    build = "      - run: docker build -t ${REGISTRY}/app:${{ github.run_number }} .\n"
    wf = workflow(build, job_extra="    env:\n      REGISTRY: ghcr.io/acme\n")
    _, after = single(tmp_path, wf)
    assert after is not None
    assert "image-ref: ${{ env.REGISTRY }}/app:${{ github.run_number }}\n" in after


@pytest.mark.parametrize(
    ("build", "why"),
    [
        ("docker build -t app:$TAG .", "uses the shell variable `$TAG`"),
        ("docker build -t app:$(git rev-parse HEAD) .", "is computed by the shell"),
        ("docker build .", "no `-t` tag"),
        # The job's REGISTRY is shadowed by the script's own assignment.
        ("REGISTRY=local; docker build -t $REGISTRY/app .", "uses the shell variable `$REGISTRY`"),
    ],
)
def test_tags_the_scan_cannot_see_are_display_only(tmp_path: Path, build: str, why: str) -> None:
    wf = workflow(f"      - run: {build}\n", job_extra="    env:\n      REGISTRY: ghcr.io/a\n")
    out, after = single(tmp_path, wf)
    assert after is None
    assert why in reason_of(out)


def test_a_variable_of_the_steps_own_env_is_not_visible_to_the_scan(tmp_path: Path) -> None:
    wf = workflow(
        "      - run: docker build -t app:$TAG .\n        env:\n          TAG: v1\n",
        job_extra="    env:\n      TAG: v0\n",
    )
    out, after = single(tmp_path, wf)
    assert after is None
    assert "`$TAG`" in reason_of(out)


def test_metadata_action_tags_become_the_first_json_tag(tmp_path: Path) -> None:
    meta = (
        "      - id: docker_meta\n"
        "        uses: docker/metadata-action@v5\n"
        "        with:\n"
        "          images: name=ghcr.io/acme/app,enable=true\n"
    )
    build = (
        "      - uses: docker/build-push-action@v6\n"
        "        with:\n"
        "          push: true\n"
        "          tags: ${{ steps.docker_meta.outputs.tags }}\n"
    )
    _, after = single(tmp_path, workflow(meta, build))
    ref = "${{ fromJSON(steps.docker_meta.outputs.json).tags[0] }}"
    assert after == workflow(meta, build, SCAN.format(ref=ref))


def test_tags_from_another_expression_are_display_only(tmp_path: Path) -> None:
    build = (
        "      - uses: docker/build-push-action@v6\n"
        "        with:\n          load: true\n          tags: ${{ env.TAGS }}\n"
    )
    out, after = single(tmp_path, workflow(build))
    assert after is None
    assert "tags come from an expression" in reason_of(out)


def test_the_build_steps_if_is_copied(tmp_path: Path) -> None:
    build = (
        "      - if: ${{ github.event_name == 'push' }}\n        run: docker build -t app:ci .\n"
    )
    _, after = single(tmp_path, workflow(build))
    assert after == workflow(
        build,
        "      - if: ${{ github.event_name == 'push' }}\n"
        + SCAN.format(ref="app:ci").replace("      - uses", "        uses"),
    )


# --- which workflow belongs to which Dockerfile -------------------------------------------


def test_only_the_dockerfile_the_workflow_builds_proposes_the_change(tmp_path: Path) -> None:
    wf = workflow(
        "      - uses: docker/build-push-action@v6\n"
        "        with:\n          context: services/api\n          load: true\n"
        "          tags: api:ci\n"
    )
    root = make_repo(
        tmp_path,
        {
            "services/api/Dockerfile": DOCKERFILE,
            "services/worker/Dockerfile": DOCKERFILE,
            "Dockerfile": DOCKERFILE,
            ".github/workflows/ci.yml": wf,
        },
    )
    assert proposed(run(root, "services/api/Dockerfile"), root) == wf + SCAN.format(ref="api:ci")
    for other in ("services/worker/Dockerfile", "Dockerfile"):
        out = run(root, other)
        assert out.file_changes == [] and findings(out) == []


@pytest.mark.parametrize(
    ("with_", "dockerfile"),
    [
        # `file:` is relative to the workspace, not to the context.
        ("context: app\n          file: app/Dockerfile.prod", "app/Dockerfile.prod"),
        ("file: ${{ github.workspace }}/ops/api.Dockerfile", "ops/api.Dockerfile"),
        ("context: ./svc/../svc", "svc/Dockerfile"),
        ('context: "{{defaultContext}}:web"', "web/Dockerfile"),
        ("", "Dockerfile"),  # the Git context: the repository root
    ],
)
def test_build_push_action_paths(tmp_path: Path, with_: str, dockerfile: str) -> None:
    extra = f"          {with_}\n" if with_ else ""
    wf = workflow(
        "      - uses: docker/build-push-action@v6\n"
        f"        with:\n{extra}          load: true\n          tags: x:ci\n"
    )
    root = make_repo(tmp_path, {dockerfile: DOCKERFILE, ".github/workflows/ci.yml": wf})
    # the scan goes right after the build and scans the image the build tagged
    assert proposed(run(root, dockerfile), root) == wf + SCAN.format(ref="x:ci")


@pytest.mark.parametrize(
    ("step", "dockerfile"),
    [
        ("run: docker build -t x:ci -f deploy/Dockerfile .", "deploy/Dockerfile"),
        ("run: docker build -t x:ci .\n        working-directory: web", "web/Dockerfile"),
        ("run: docker build -t x:ci -f ../ops/w.Dockerfile ..\n        working-directory: web",
         "ops/w.Dockerfile"),
        ("run: sudo docker image build --tag=x:ci api", "api/Dockerfile"),
        ("run: docker --log-level warn buildx build --load -t x:ci svc", "svc/Dockerfile"),
    ],
)  # fmt: skip
def test_docker_build_paths(tmp_path: Path, step: str, dockerfile: str) -> None:
    wf = workflow(f"      - {step}\n")
    root = make_repo(tmp_path, {dockerfile: DOCKERFILE, ".github/workflows/ci.yml": wf})
    assert proposed(run(root, dockerfile), root) == wf + SCAN.format(ref="x:ci")


def test_matrix_paths_relate_each_listed_service_display_only(tmp_path: Path) -> None:
    wf = workflow(
        "      - run: docker build -t ${{ matrix.svc }}:ci services/${{ matrix.svc }}\n",
        job_extra="    strategy:\n      matrix:\n        svc: [api, worker]\n",
    )
    files = {f"services/{s}/Dockerfile": DOCKERFILE for s in ("api", "worker", "admin")}
    root = make_repo(tmp_path, {**files, ".github/workflows/ci.yml": wf})
    for svc in ("api", "worker"):
        out = run(root, f"services/{svc}/Dockerfile")
        assert "runs as a matrix" in reason_of(out)
    assert findings(run(root, "services/admin/Dockerfile")) == []


def test_an_unknown_expression_in_the_path_relates_nothing(tmp_path: Path) -> None:
    wf = workflow("      - run: docker build -t x:ci -f ${{ inputs.dockerfile }} .\n")
    out, _ = single(tmp_path, wf)
    assert findings(out) == []


def test_a_job_handing_the_dockerfile_to_a_reusable_workflow(tmp_path: Path) -> None:
    wf = (
        "on: push\njobs:\n  image:\n    uses: acme/workflows/.github/workflows/docker.yml@v2\n"
        "    with:\n      context: services/api\n      push: true\n"
    )
    root = make_repo(
        tmp_path, {"services/api/Dockerfile": DOCKERFILE, ".github/workflows/ci.yml": wf}
    )
    out = run(root, "services/api/Dockerfile")
    assert "reusable workflow `acme/workflows/.github/workflows/docker.yml@v2`" in reason_of(out)
    assert findings(out)[0].message.startswith(".github/workflows/ci.yml line 4 ")


def test_the_finding_is_on_the_from_line_of_the_built_target(tmp_path: Path) -> None:
    dockerfile = "FROM golang:1.23 AS build\nRUN go version\n\nFROM alpine:3.20 AS app\nRUN true\n\nFROM app AS debug\n"
    wf = workflow("      - run: docker build --target app -t x:ci .\n")
    out, _ = single(tmp_path, wf, dockerfile=dockerfile, unsafe=False)
    assert [f.line for f in findings(out)] == [4]
    out, _ = single(tmp_path, wf.replace("--target app ", ""), dockerfile=dockerfile, unsafe=False)
    assert [f.line for f in findings(out)] == [7]


def test_pragma_above_from_suppresses(tmp_path: Path) -> None:
    dockerfile = "# dockfix ignore=DF601\n" + DOCKERFILE
    out, after = single(tmp_path, workflow("      - run: docker build -t x .\n"), dockerfile)
    assert after is None and findings(out) == []


def test_two_jobs_building_this_dockerfile_get_one_combined_change(tmp_path: Path) -> None:
    wf = (
        "on: push\njobs:\n"
        "  test:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: docker build -t app:test .\n"
        "  release:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: docker build -t app:release .\n"
    )
    root = make_repo(tmp_path, {"Dockerfile": DOCKERFILE, ".github/workflows/ci.yml": wf})
    out = run(root, unsafe=False)
    fixes = [f.fix for f in findings(out)]
    assert len(fixes) == 2
    assert fixes[0] is not None and fixes[1] is not None
    assert fixes[0].file_changes == fixes[1].file_changes
    content = fixes[0].file_changes[0].content
    assert content.count("aquasecurity/trivy-action") == 2
    assert "image-ref: app:test\n" in content and "image-ref: app:release\n" in content


# --- existing scans -------------------------------------------------------------------


@pytest.mark.parametrize(
    "scan",
    [
        "- uses: aquasecurity/trivy-action@0.28.0\n        with:\n          image-ref: other:1",
        "- uses: aquasecurity/trivy-action@master\n        with:\n          scan-type: image",
        "- run: trivy --quiet image --exit-code 1 app:ci",
        "- run: grype app:ci --fail-on high",
        "- run: snyk container test app:ci",
        "- run: docker scout cves --exit-code app:ci",
        "- uses: snyk/actions/docker@master\n        with:\n          image: app:ci",
        "- uses: docker/scout-action@v1\n        with:\n          command: cves",
    ],
)
def test_an_existing_scan_in_the_job_means_no_change(tmp_path: Path, scan: str) -> None:
    wf = workflow("      - run: docker build -t app:ci .\n", f"      {scan}\n")
    out, after = single(tmp_path, wf)
    assert after is None and findings(out) == []


@pytest.mark.parametrize("scan_type", ["fs", "config", "repo"])
def test_a_trivy_scan_of_files_is_not_an_image_scan(tmp_path: Path, scan_type: str) -> None:
    scan = (
        "      - uses: aquasecurity/trivy-action@v0.36.0\n"
        f"        with:\n          scan-type: {scan_type}\n          scan-ref: .\n"
    )
    build = "      - run: docker build -t app:ci .\n"
    _, after = single(tmp_path, workflow(scan, build))
    assert after == workflow(scan, build, SCAN.format(ref="app:ci"))


@pytest.mark.parametrize(
    ("scanned", "covered"),
    [
        ("docker.io/library/app:nightly", True),  # same repository, Docker Hub spellings
        ("${{ inputs.image }}", True),  # cannot tell: no second scan
        ("ghcr.io/acme/other:latest", False),
    ],
)
def test_scans_in_other_workflows(tmp_path: Path, scanned: str, covered: bool) -> None:
    scan_wf = (
        "on: schedule\njobs:\n  scan:\n    runs-on: ubuntu-latest\n    steps:\n"
        f"      - uses: aquasecurity/trivy-action@v0.36.0\n        with:\n"
        f"          image-ref: '{scanned}'\n"
    )
    root = make_repo(
        tmp_path,
        {
            "Dockerfile": DOCKERFILE,
            ".github/workflows/ci.yml": workflow("      - run: docker build -t app:ci .\n"),
            ".github/workflows/scan.yaml": scan_wf,
        },
    )
    out = run(root)
    assert (proposed(out, root) is None) is covered
    assert (findings(out) == []) is covered


# --- display-only shapes --------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "job_extra", "top", "why"),
    [
        (
            "      - uses: docker/build-push-action@v6\n        with:\n"
            "          outputs: type=tar,dest=out.tar\n          tags: x\n",
            "", "on: push\n", "writes its result with `outputs:`",
        ),
        (
            "      - run: docker buildx build -o type=local,dest=out -t x .\n",
            "", "on: push\n", "writes its result with `--output`",
        ),
        (
            "      - run: docker build -t a .\n      - run: docker build -t b -f Dockerfile .\n",
            "", "on: push\n", "has 2 build steps (lines 7, 8)",
        ),
        (
            "      - run: docker build -t a .\n", "", "on:\n  workflow_call:\n",
            "reusable workflow (`on: workflow_call`)",
        ),
        (
            "      - run: docker build -t a .\n        continue-on-error: true\n", "", "on: push\n",
            "`continue-on-error`",
        ),
        (
            "      - uses: docker/build-push-action@v6\n        with:\n          push: true\n",
            "", "on: push\n", "no `tags:`",
        ),
        (
            "      - uses: docker/build-push-action@v6\n        with:\n"
            "          load: ${{ inputs.load }}\n          tags: x\n",
            "", "on: push\n", "are expressions",
        ),
    ],
)  # fmt: skip
def test_unclear_shapes_are_display_only(
    tmp_path: Path, steps: str, job_extra: str, top: str, why: str
) -> None:
    out, after = single(tmp_path, workflow(steps, job_extra=job_extra, top=top))
    assert after is None
    assert why in reason_of(out)


def test_windows_runner_is_display_only(tmp_path: Path) -> None:
    wf = workflow("      - run: docker build -t a .\n").replace("ubuntu-latest", "windows-2022")
    out, _ = single(tmp_path, wf)
    assert "runs on windows-2022" in reason_of(out)


def test_flow_style_steps_are_display_only(tmp_path: Path) -> None:
    wf = "on: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps: [{run: docker build -t a .}]\n"
    out, after = single(tmp_path, wf)
    assert after is None
    assert "flow style" in reason_of(out)


def test_anchors_are_display_only(tmp_path: Path) -> None:
    wf = (
        "on: push\njobs:\n  b:\n    runs-on: &runner ubuntu-latest\n    steps:\n"
        "      - run: docker build -t a .\n  c:\n    runs-on: *runner\n    steps:\n"
        "      - run: echo\n"
    )
    out, after = single(tmp_path, wf)
    assert after is None
    assert "anchors" in reason_of(out)


def test_a_shell_other_than_sh_is_not_read(tmp_path: Path) -> None:
    wf = workflow("      - run: docker build -t a .\n        shell: pwsh\n")
    out, _ = single(tmp_path, wf)
    assert findings(out) == []


# --- options --------------------------------------------------------------------------


def test_options_pin_a_sha_and_change_the_policy(tmp_path: Path) -> None:
    action = "aquasecurity/trivy-action@ed142fd0673e97e23eac54620cfb913e5ce36c25 # v0.36.0"
    _, after = single(
        tmp_path,
        workflow("      - run: docker build -t app .\n"),
        options={"action": action, "severity": "critical", "ignore_unfixed": True},
    )
    assert after is not None
    assert after.endswith(
        f"      - uses: {action}\n        with:\n          image-ref: app\n"
        "          severity: CRITICAL\n          exit-code: 1\n          ignore-unfixed: true\n"
    )


@pytest.mark.parametrize(
    ("options", "why"),
    [
        ({"action": "trivy"}, "is not an `owner/repo@ref` action reference"),
        ({"severity": "HIGH,SEVERE"}, "is not a list of Trivy severities"),
    ],
)
def test_bad_options_are_display_only(tmp_path: Path, options: dict[str, Any], why: str) -> None:
    out, after = single(tmp_path, workflow("      - run: docker build -t a .\n"), options=options)
    assert after is None
    assert why in reason_of(out)


def test_off_unless_selected_by_code_or_name(tmp_path: Path) -> None:
    root = make_repo(
        tmp_path,
        {
            "Dockerfile": DOCKERFILE,
            ".github/workflows/ci.yml": workflow("      - run: docker build -t a .\n"),
        },
    )
    path = root / "Dockerfile"
    for select in (None, ["ALL"], ["DF6"]):
        _, left = dockfix.fix(DOCKERFILE, path=path, select=select)
        assert CODE not in {f.code for f in left}
    for select in (["DF601"], ["ci-image-scan"]):
        _, left = dockfix.fix(DOCKERFILE, path=path, select=select)
        assert [f.code for f in left] == [CODE]


def test_default_action_is_a_pinned_release_tag() -> None:
    assert DEFAULT_ACTION.startswith("aquasecurity/trivy-action@v")
    assert not DEFAULT_ACTION.endswith(("@master", "@main", "@latest"))


# --- byte-exact layout ----------------------------------------------------------------


def test_blank_lines_between_steps_are_kept_as_the_style(tmp_path: Path) -> None:
    wf = (
        "on: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n\n"
        "      - run: docker build -t a .  # build\n\n"
        "      # deploy\n"
        "      - run: ./deploy.sh\n"
    )
    _, after = single(tmp_path, wf)
    assert after == wf.replace("# build\n\n", "# build\n\n" + SCAN.format(ref="a") + "\n")


def test_keep_chomped_run_script_keeps_its_trailing_lines(tmp_path: Path) -> None:
    wf = workflow("      - run: |+\n          docker build -t a .\n\n\n")
    _, after = single(tmp_path, wf)
    assert after == wf + SCAN.format(ref="a")
    # The script keeps its trailing blank lines (they are part of a `|+` value).
    assert after is not None
    from ruamel.yaml import YAML

    run_value = YAML(typ="safe").load(after)["jobs"]["build"]["steps"][1]["run"]
    assert run_value == "docker build -t a .\n\n\n"


def test_comment_lines_under_the_step_stay_with_it(tmp_path: Path) -> None:
    build = "      - run: docker build -t a .\n        # env:\n        #   DEBUG: 1\n"
    nxt = "      # the next step\n      - run: echo\n"
    _, after = single(tmp_path, workflow(build, nxt))
    assert after == workflow(build, SCAN.format(ref="a"), nxt)


def test_crlf_and_missing_final_newline(tmp_path: Path) -> None:
    wf = workflow("      - run: docker build -t a .\n").replace("\n", "\r\n").rstrip("\r\n")
    _, after = single(tmp_path, wf)
    assert after == wf + "\r\n" + SCAN.format(ref="a").replace("\n", "\r\n").rstrip("\r\n")
    assert after is not None and only_adds_lines(wf, after)


def test_values_are_quoted_only_when_plain_would_not_read_back() -> None:
    assert _yaml_value("app:#1") == "app:#1"
    assert _yaml_value("@scope/app") == "'@scope/app'"
    assert _yaml_value("app: x") == "'app: x'"
    assert _yaml_value("true") == "'true'"
    assert _yaml_value("ghcr.io/a/b:${{ github.sha }}") == "ghcr.io/a/b:${{ github.sha }}"


_STEP_STYLES = st.tuples(
    st.sampled_from([0, 2, 4]),  # sequence indent under `steps:`
    st.sampled_from([1, 3]),  # spaces after the dash
    st.sampled_from([2, 4]),  # indent of `with:` inputs
    st.booleans(),  # blank line between steps
    st.booleans(),  # CRLF
    st.booleans(),  # final newline
    st.sampled_from(["", "under", "dash"]),  # a comment line after the build step
    st.integers(0, 2),  # steps after the build
    st.sampled_from(["plain", "literal", "folded", "quoted", "keep", "action", "action#"]),
    st.booleans(),  # another job follows
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(style=_STEP_STYLES)
def test_any_layout_only_gains_lines_and_reads_back(tmp_path: Path, style: tuple[Any, ...]) -> None:
    seq, gap, sub, blank, crlf, final_nl, comment, after_n, scalar, other_job = style
    dash = " " * (4 + seq) + "-" + " " * gap
    key = " " * (4 + seq + 1 + gap)
    inputs = f"{key}with:\n{key}{' ' * sub}load: true\n{key}{' ' * sub}tags: app:ci"
    build = {
        "plain": f"{dash}run: docker build -t app:ci .",
        "literal": f"{dash}run: |\n{key}  docker build -t app:ci .",
        "folded": f"{dash}run: >-\n{key}  docker build\n{key}  -t app:ci .",
        "quoted": f'{dash}run: "docker build -t app:ci ."',
        "keep": f"{dash}run: |+\n{key}  docker build -t app:ci .\n",
        "action": f"{dash}uses: docker/build-push-action@v6\n{inputs}",
        "action#": f"{dash}uses: docker/build-push-action@v6\n{inputs}  # the tag",
    }[scalar]
    build += {"": "\n", "under": f"\n{key}# built\n", "dash": f"\n{dash[: -gap - 1]}# next\n"}[
        comment
    ]
    steps = [f"{dash}uses: actions/checkout@v4\n{key}with:\n{key}{' ' * sub}fetch-depth: 0\n"]
    steps.append(build)
    steps.extend(f"{dash}run: echo {i}\n" for i in range(after_n))
    text = "on: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n" + (
        "\n" if blank else ""
    ).join(steps)
    if other_job:
        text += "  other:\n    runs-on: ubuntu-latest\n    steps:\n    - run: echo\n"
    if crlf:
        text = text.replace("\n", "\r\n")
    if not final_nl:
        text = text.rstrip("\r\n")
    case = tmp_path / f"c{abs(hash(style))}"
    if case.exists():
        shutil.rmtree(case)
    root = make_repo(case, {"Dockerfile": DOCKERFILE, ".github/workflows/ci.yml": text})
    after = proposed(run(root), root)
    assert after is not None
    assert only_adds_lines(text, after)
    assert ("\r\n" in after) is crlf and ("\n" in after.replace("\r\n", "")) is not crlf
    assert after.endswith("\n") is final_nl
    inserted = [line for line in after.splitlines() if line not in text.splitlines()]
    assert inserted[-1].strip() == "exit-code: 1"
    assert any(line == f"{key}{' ' * sub}image-ref: app:ci" for line in inserted)
    # Idempotent: with the change written, nothing more is proposed.
    (root / ".github/workflows/ci.yml").write_bytes(after.encode())
    again = run(root)
    assert again.file_changes == [] and findings(again) == []


# --- discovery -------------------------------------------------------------------------


def test_no_path_no_repository_no_workflows(tmp_path: Path) -> None:
    _, left = dockfix.fix(DOCKERFILE, select=[CODE])
    assert left == []
    make_repo(tmp_path, {"Dockerfile": DOCKERFILE, ".github/dependabot.yml": "version: 2\n"})
    assert findings(run(tmp_path)) == []


def test_root_is_the_nearest_directory_with_git_or_github(tmp_path: Path) -> None:
    (tmp_path / "mono" / ".git").mkdir(parents=True)
    (tmp_path / "mono" / "svc" / "api").mkdir(parents=True)
    (tmp_path / "mono" / "tools" / ".github").mkdir(parents=True)
    assert repository_root(tmp_path / "mono" / "svc" / "api") == tmp_path / "mono"
    assert repository_root(tmp_path / "mono" / "tools") == tmp_path / "mono" / "tools"
    deep = tmp_path.joinpath(*["d"] * 40)
    deep.mkdir(parents=True)
    found = repository_root(deep)
    assert found is None or tmp_path not in found.parents


def test_an_edited_workflow_is_read_again(tmp_path: Path) -> None:
    root = make_repo(
        tmp_path,
        {"Dockerfile": DOCKERFILE, ".github/workflows/ci.yml": workflow("      - run: echo\n")},
    )
    assert findings(run(root)) == []
    edited = workflow("      - run: docker build -t fresh .\n")
    (root / ".github/workflows/ci.yml").write_text(edited)
    assert proposed(run(root), root) == edited + SCAN.format(ref="fresh")


def test_broken_yaml_and_non_utf8_workflows_are_skipped(tmp_path: Path) -> None:
    root = make_repo(tmp_path, {"Dockerfile": DOCKERFILE, ".github/workflows/bad.yml": "a: [\n"})
    (root / ".github/workflows/latin.yml").write_bytes(b"on: push # caf\xe9\n")
    assert findings(run(root)) == []


def test_image_repository_normalises_spellings() -> None:
    assert image_repository("docker.io/library/nginx:1.27") == "nginx"
    assert image_repository("ghcr.io/acme/app:${{ github.sha }}") == "ghcr.io/acme/app"
    assert image_repository("localhost:5000/app@sha256:abc") == "localhost:5000/app"


def test_cli_diff_shows_the_workflow_once_for_a_monorepo_run(tmp_path: Path) -> None:
    wf = workflow("      - run: docker build -t api services/api\n")
    root = make_repo(
        tmp_path,
        {
            "services/api/Dockerfile": DOCKERFILE,
            "services/web/Dockerfile": DOCKERFILE,
            ".github/workflows/ci.yml": wf,
        },
    )
    proc = subprocess.run(
        [sys.executable, "-m", "dockfix", "fix", "--select", CODE, "--unsafe-fixes", "."],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.stdout.count("+++ b/.github/workflows/ci.yml") == 1, proc.stdout + proc.stderr
    assert "+          image-ref: api\n" in proc.stdout
    assert (root / ".github/workflows/ci.yml").read_text() == wf  # a diff, not a write


# --- the shipped fixtures ----------------------------------------------------------------

CASES = sorted(p for p in (FIXTURES / "DF601-ci-image-scan").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fixture_workflows(case: Path, tmp_path: Path) -> None:
    root = tmp_path / case.name
    shutil.copytree(case, root)
    (root / ".git").mkdir()
    workflows = sorted((root / ".github" / "workflows").glob("*.y*ml"))
    safe = run(root, unsafe=False)
    assert safe.file_changes == []
    out = run(root)
    changed = {ch.path.name: ch for ch in out.file_changes}
    for wf in workflows:
        expected_file = case / f"expected.unsafe.{wf.name}"
        original = wf.read_bytes().decode("utf-8")
        if not expected_file.exists():
            assert wf.name not in changed
            continue
        expected = expected_file.read_bytes().decode("utf-8")
        assert changed[wf.name].content == expected
        assert changed[wf.name].original == original
        assert only_adds_lines(original, expected)
        wf.write_bytes(expected.encode("utf-8"))
    if case.name.startswith("no-change-"):
        assert out.file_changes == []
    else:
        assert out.file_changes and all(f.fix is not None for f in findings(safe))
    # Idempotent: with the expected workflows in place, nothing more is proposed.
    again = run(root)
    assert again.file_changes == []
    assert all(f.fix is None for f in findings(again))
