"""DF601 ci-image-scan: the CI workflow that builds this image never scans it for vulnerabilities.

## What it does
Off unless selected by its code or name (`--select DF601` or `--select ci-image-scan`;
`ALL` and prefixes such as `DF6` do not turn it on): it edits files that are not Dockerfiles. It reads the GitHub Actions workflows (`.github/workflows/*.yml`, `*.yaml`)
of the repository that holds the Dockerfile (the first directory above it with `.git` or
`.github`), finds the jobs that build *this* Dockerfile — a `docker/build-push-action` step
(its `file:`, or `context:` + `/Dockerfile`; `file:` is relative to the workspace, not to
the context) or a `docker build` / `docker buildx build` / `docker image build` command in a
`run:` script (`-f`, or the context + `/Dockerfile`, relative to the step's
`working-directory`) — and, when no image scan runs, inserts a Trivy step right after the
build:

```yaml
      - name: Scan image for vulnerabilities
        uses: aquasecurity/trivy-action@v0.36.0
        with:
          image-ref: ghcr.io/acme/api:${{ github.sha }}
          severity: HIGH,CRITICAL
          exit-code: 1
```

`image-ref` is the first tag of the build: `tags:` of build-push-action (a tag written
`${{ steps.<id>.outputs.tags }}` from `docker/metadata-action` becomes
`${{ fromJSON(steps.<id>.outputs.json).tags[0] }}`), or the first `-t` of `docker build`
(`$VAR` becomes `${{ env.VAR }}` when the workflow or job defines `VAR`, `$GITHUB_SHA`
becomes `${{ github.sha }}`). The image is scanned where the build put it: the registry with
`push: true` / `--push`, the local Docker image store with `load: true` / `--load`, or with
Docker's default build driver, which loads every image it builds. The step gets the build
step's `if:` (so it runs exactly when the build ran) and a `name:` when the build step has
one. The finding is reported on the `FROM` line of the stage the workflow builds (its
`target:` / `--target`, else the last stage) and names the workflow file and line.

A workflow that builds another Dockerfile is that Dockerfile's business: the change is only
proposed from the Dockerfile the workflow builds, so a monorepo run proposes it once.

Nothing is reported when an image scan already runs: in the same job, any of
`aquasecurity/trivy-action` (image scans: `scan-type` unset or `image`), `anchore/scan-action`,
`snyk/actions/docker`, `docker/scout-action`, `crazy-max/ghaction-container-scan`,
`azure/container-scan`, `sysdiglabs/scan-action`, `lacework/lw-scanner-action`,
`neuvector/scan-action`, or a `run:` with `trivy image`, `grype`, `snyk container test` or
`docker scout cves`/`quickview`/`compare`/`recommendations`; elsewhere in this or another
workflow, such a scan of the same image repository, or of an image whose name cannot be read
(`${{ inputs.image }}`): dockfix does not add a second scan when it cannot tell. A Trivy `fs`
or `config` scan is not an image scan and does not count.

Display-only (with the reason) when the shape is unclear: the job runs a `strategy.matrix`,
the workflow is reusable (`on: workflow_call`) or a job hands this Dockerfile to a reusable
workflow (`jobs.<id>.uses`), the job has several build steps, the build writes `outputs:` /
`--output` elsewhere, `push`/`load` are expressions, the image is neither pushed nor loaded
(a `docker/setup-buildx-action` builder keeps it in its cache), the build has no tag or its
tags come from an expression or a shell variable the scan cannot see, the job runs on
Windows or macOS, the build step has `continue-on-error`, or the workflow uses YAML anchors
or flow-style steps.

`docker buildx bake`, `docker compose build` and other CI systems are not read.

## Why is this bad
An image inherits every known vulnerability of its base image and packages, and new CVEs are
published for yesterday's image every day. A scan in the pipeline that builds the image
fails the build on HIGH and CRITICAL findings before the image ships, instead of after an
incident.

The step is pinned to a release tag, not `@master`: a floating ref in CI is the same
anti-pattern as `FROM image:latest` — what runs changes without a commit, and in March 2026
an attacker force-pushed 76 of trivy-action's 77 version tags to credential-stealing code
(GHSA-69fq-xp46-6x23; workflows on `@master` or mutable tags ran it). `v0.35.0` and later are
GitHub immutable releases, whose tags cannot be moved. To pin the full commit SHA (Checkov
CKV_GHA_8, zizmor) set the `action` option to
`aquasecurity/trivy-action@<sha> # v0.36.0`, or let Dependabot/Renovate pin it; dockfix works
offline and does not write a SHA it cannot verify — a wrong SHA fails every run.

## Example
```dockerfile
# services/api/Dockerfile
FROM python:3.13-slim
COPY . /app
CMD ["python", "/app/main.py"]
```
`.github/workflows/ci.yml`:
```yaml
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: docker/build-push-action@v6
        with:
          context: services/api
          load: true
          tags: api:${{ github.sha }}
      - run: docker run --rm api:${{ github.sha }} pytest
```
Becomes (with `--select DF601 --unsafe-fixes`):
```yaml
      - uses: docker/build-push-action@v6
        with:
          context: services/api
          load: true
          tags: api:${{ github.sha }}
      - uses: aquasecurity/trivy-action@v0.36.0
        with:
          image-ref: api:${{ github.sha }}
          severity: HIGH,CRITICAL
          exit-code: 1
      - run: docker run --rm api:${{ github.sha }} pytest
```
The workflow is otherwise byte-for-byte unchanged (comments, quoting, blank lines between
steps, CRLF line endings, a missing final newline): the step is inserted as text at the
indentation of the neighbouring steps, and the result is parsed again and compared with the
original plus the new step before it is proposed.

## Fix safety
Unsafe: the new step fails the job whenever the image has a fixable or unfixable HIGH or
CRITICAL vulnerability, which can block merges and releases that passed before; scanning a
private pushed image needs registry credentials in the job (a `docker/login-action` step).
Display-only in the unclear cases listed above.

## Options
- `action` (string, default `aquasecurity/trivy-action@v0.36.0`): the `uses:` of the step,
  e.g. a SHA-pinned reference with its tag as a comment, or an internal mirror.
- `severity` (string, default `HIGH,CRITICAL`): the severities that fail the scan
  (`UNKNOWN`, `LOW`, `MEDIUM`, `HIGH`, `CRITICAL`, comma-separated).
- `ignore_unfixed` (boolean, default false): add `ignore-unfixed: true`, so only
  vulnerabilities with a released fix fail the build.

## Resolves
hadolint: none · Trivy: none (Trivy has no checks for CI workflows) · Checkov: none (its
GitHub Actions checks CKV_GHA_5/CKV_GHA_6 ask for cosign signing and SBOM attestation after
an image build, not for a vulnerability scan).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from dockfix.core.fixer import (
    Applicability,
    FileChange,
    Finding,
    Fix,
    Fixer,
    Option,
    Resolves,
    Severity,
    register,
)
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers.ci_image_scan._scan_step import _apply, _Insertion, _plan
from dockfix.fixers.ci_image_scan._sites import ScanSite, Site, Workflow
from dockfix.fixers.ci_image_scan._workflows import load_workflows, repository_root

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext
    from dockfix.syntax import Dockerfile, Instruction

# How the package reads: _workflows.py loads the repository's workflows and finds each job's
# builds (_build_action.py, _docker_cli.py) and scans (_sites.py); _scan_step.py writes the
# Trivy step. _yaml.py reads the YAML nodes.


DEFAULT_ACTION = "aquasecurity/trivy-action@v0.36.0"
DEFAULT_SEVERITY = "HIGH,CRITICAL"
_SEVERITIES = frozenset({"UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"})
_ACTION_RE = lazy_re(r"[\w.-]+/[\w.-]+(/[\w./-]+)?@[\w./-]+( +#[^\n]*)?\Z")


# --- the fixer ---------------------------------------------------------------------------


@register
class CiImageScan(Fixer):
    code = "DF601"
    severity = Severity.INFO
    security = True
    name = "ci-image-scan"
    summary = "The CI workflow that builds this image does not scan it for vulnerabilities"
    resolves = Resolves()
    default_enabled = False
    options: ClassVar[Mapping[str, Option]] = {
        "action": Option(
            str, DEFAULT_ACTION, "the `uses:` of the scan step (a pinned Trivy action)"
        ),
        "severity": Option(str, DEFAULT_SEVERITY, "severities that fail the scan"),
        "ignore_unfixed": Option(bool, False, "fail only on vulnerabilities with a released fix"),
    }

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        if ctx.path is None:
            return
        dockerfile = Path(os.path.abspath(ctx.path))
        root = repository_root(dockerfile.parent)
        if root is None:
            return
        rel = Path(os.path.relpath(dockerfile, root)).as_posix()
        if rel.startswith("../"):
            return
        workflows = load_workflows(root)
        if not workflows:
            return
        scans = [(wf.rel, s) for wf in workflows for s in wf.scans]
        action, severity, problem = self._settings()
        for wf in workflows:
            mine = [s for s in wf.sites if rel in s.dockerfiles and not _covered(wf, s, scans)]
            if not mine:
                continue
            plans: list[_Insertion] = []
            reasons: dict[int, str] = {}
            for site in mine:
                if site.problem or problem:
                    reasons[id(site)] = site.problem or problem
                    continue
                plan = _plan(wf, site, action, severity, bool(self.settings["ignore_unfixed"]))
                if isinstance(plan, str):
                    reasons[id(site)] = plan
                else:
                    plans.append(plan)
            change: FileChange | None = None
            if plans:
                content = _apply(wf, plans)
                if content is None:
                    for p in plans:
                        reasons[id(p.site)] = (
                            "the inserted step did not read back as intended; add it by hand"
                        )
                else:
                    change = FileChange(wf.path, content, wf.text)
            for site in mine:
                yield self._finding(doc, wf, site, reasons.get(id(site)), change, severity)

    def _settings(self) -> tuple[str, str, str]:
        action = str(self.settings["action"]).strip()
        severity = str(self.settings["severity"]).strip().upper().replace(" ", "")
        problem = ""
        if not _ACTION_RE.match(action):
            problem = f"the `action` option `{action}` is not an `owner/repo@ref` action reference"
        elif not severity or not set(severity.split(",")) <= _SEVERITIES:
            problem = f"the `severity` option `{severity}` is not a list of Trivy severities"
        return action, severity, problem

    def _finding(
        self,
        doc: Dockerfile,
        wf: Workflow,
        site: Site,
        reason: str | None,
        change: FileChange | None,
        severity: str,
    ) -> Finding:
        at = _from_instruction(doc, site.target)
        message = f"{wf.rel} line {site.line} builds this image without a vulnerability scan"
        if reason is not None or change is None:
            if at is None:
                return self.finding(1, message, reason=reason or "")
            return self.finding(at, message, reason=reason or "")
        fix = Fix(
            (),
            Applicability.UNSAFE,
            f"add a Trivy scan of `{site.image_ref}` failing on {severity} after line "
            f"{site.line} of {wf.rel}",
            (change,),
        )
        if at is None:
            return self.finding(1, message, fix)
        return self.finding(at, message, fix)


def _covered(wf: Workflow, site: Site, scans: list[tuple[str, ScanSite]]) -> bool:
    """An image scan already runs for this build: in its job, or of its image elsewhere."""
    if site.scanned:
        return True
    for wf_rel, scan in scans:
        if wf_rel == wf.rel and scan.job_id == site.job_id:
            return True
        if scan.script is not None:
            # A shell scan names its image in the script; with variables it may be this one.
            text = scan.script.lower()
            if "$" in text or (site.repository and site.repository in text):
                return True
        elif scan.repository is None or scan.repository == site.repository:
            return True
    return False


def _from_instruction(doc: Dockerfile, target: str | None) -> Instruction | None:
    stage = doc.stage_named(target) if target and "$" not in target else None
    if stage is None:
        stage = doc.final_stage
    return stage.from_instruction if stage is not None else None
