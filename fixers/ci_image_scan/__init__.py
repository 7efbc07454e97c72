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

import copy
import os
import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from dockfix.fixer import (
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

if TYPE_CHECKING:
    from dockfix.context import FixContext
    from dockfix.shell import Word
    from dockfix.syntax import Dockerfile, Instruction

DEFAULT_ACTION = "aquasecurity/trivy-action@v0.36.0"
DEFAULT_SEVERITY = "HIGH,CRITICAL"
_SEVERITIES = frozenset({"UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"})
_ACTION_RE = lazy_re(r"[\w.-]+/[\w.-]+(/[\w./-]+)?@[\w./-]+( +#[^\n]*)?\Z")

_MAX_WALK_UP = 32  # directories climbed from the Dockerfile to find the repository root
_MAX_WORKFLOWS = 200
_MAX_WORKFLOW_CHARS = 1 << 20
_EXPR = lazy_re(r"\$\{\{.*?\}\}", re.S)
_WORKSPACE_PREFIXES = ("${{ github.workspace }}/", "$GITHUB_WORKSPACE/", "${GITHUB_WORKSPACE}/")

_BUILD_ACTION = "docker/build-push-action"
_SCAN_ACTIONS = (
    "aquasecurity/trivy-action",
    "anchore/scan-action",
    "snyk/actions/docker",
    "docker/scout-action",
    "crazy-max/ghaction-container-scan",
    "azure/container-scan",
    "sysdiglabs/scan-action",
    "lacework/lw-scanner-action",
    "neuvector/scan-action",
)
# The input that names the scanned image, per scanning action.
_SCAN_IMAGE_INPUTS = ("image-ref", "image", "image_name", "image-name", "image_tag")
_RUN_SCANS = (
    re.compile(r"\btrivy\b[^\n;&|]*?\s(?:image|i)(?:\s|$)", re.M),
    re.compile(r"\bgrype\s+(?!dir:|file:|sbom:)[^\s-]", re.M),
    re.compile(r"\bgrype\b[^\n;&|]*\s(?:registry|docker|podman|oci-archive|docker-archive):"),
    re.compile(r"\bsnyk\s+container\s+(?:test|monitor)\b"),
    re.compile(r"\bdocker\s+scout\s+(?:cves|quickview|qv|compare|recommendations)\b"),
)
# GitHub's default environment variables and the context value each equals.
_GITHUB_VARS = {
    "GITHUB_SHA": "github.sha",
    "GITHUB_REPOSITORY": "github.repository",
    "GITHUB_REPOSITORY_OWNER": "github.repository_owner",
    "GITHUB_REF_NAME": "github.ref_name",
    "GITHUB_RUN_ID": "github.run_id",
    "GITHUB_RUN_NUMBER": "github.run_number",
    "GITHUB_ACTOR": "github.actor",
}
# `docker build` / `docker buildx build` options that take a value (the rest are switches).
_DOCKER_VALUE_OPTIONS = frozenset(
    {
        "--add-host", "--allow", "--annotation", "--attest", "--build-arg", "--build-context",
        "--builder", "--cache-from", "--cache-to", "--call", "--cgroup-parent", "--cpu-period",
        "--cpu-quota", "-c", "--cpu-shares", "--cpuset-cpus", "--cpuset-mems", "-f", "--file",
        "--iidfile", "--isolation", "--label", "-m", "--memory", "--memory-swap",
        "--metadata-file", "--network", "--no-cache-filter", "-o", "--output", "--platform",
        "--progress", "--provenance", "--sbom", "--secret", "--security-opt", "--shm-size",
        "--ssh", "-t", "--tag", "--target", "--ulimit",
    }
)  # fmt: skip
_DOCKER_GLOBAL_VALUE_OPTIONS = frozenset(
    {"-H", "--host", "--context", "--config", "-l", "--log-level", "--tlscacert", "--tlscert",
     "--tlskey"}
)  # fmt: skip


# --- YAML nodes (ruamel.yaml's composed nodes: `.id` is "scalar", "mapping" or "sequence") --


def _is_map(node: Any) -> bool:
    return getattr(node, "id", None) == "mapping"


def _is_seq(node: Any) -> bool:
    return getattr(node, "id", None) == "sequence"


def _is_scalar(node: Any) -> bool:
    return getattr(node, "id", None) == "scalar"


def _get(node: Any, key: str) -> Any:
    if not _is_map(node):
        return None
    for k, v in node.value:
        if _is_scalar(k) and k.value == key:
            return v
    return None


def _text(node: Any) -> str | None:
    return node.value if _is_scalar(node) else None


def _items(node: Any) -> list[tuple[str, Any]]:
    if not _is_map(node):
        return []
    return [(k.value, v) for k, v in node.value if _is_scalar(k)]


def _env(node: Any) -> dict[str, str]:
    return {k: v.value for k, v in _items(node) if _is_scalar(v)}


def _is_true(node: Any) -> bool | None:
    """True/False for a literal boolean input (absent: False), None for anything else."""
    if node is None:
        return False
    t = _text(node)
    if t is None:
        return None
    low = t.strip().lower()
    if low == "true":
        return True
    if low in ("false", ""):
        return False
    return None


# --- workflows on disk -------------------------------------------------------------------


@dataclass(eq=False)
class Workflow:
    path: Path
    rel: str  # ".github/workflows/ci.yml"
    text: str
    root: Any  # composed document node
    aliased: bool  # some node is reached twice (anchors and aliases)
    sites: list[Site] = field(default_factory=list)
    scans: list[ScanSite] = field(default_factory=list)


@dataclass(eq=False)
class ScanSite:
    job_id: str
    repository: str | None  # the scanned image's repository; None when it cannot be read
    script: str | None = None  # a `run:` scan's script (its image is read from the text)


@dataclass(eq=False)
class Site:
    """One place where a workflow builds an image (or hands a Dockerfile to another workflow)."""

    job_id: str
    index: int  # the build step's index in `steps` (-1: a job calling a reusable workflow)
    step: Any  # the step's node (the job's node for a reusable-workflow call)
    line: int  # 1-based line in the workflow
    dockerfiles: tuple[str, ...]  # repository-relative paths it may build
    target: str | None = None
    image_ref: str | None = None  # what the scan step scans
    repository: str | None = None  # the image's repository, to match scans elsewhere
    problem: str = ""  # why no fix can be proposed
    scanned: bool = False  # an image scan runs in the same job


_CACHE: dict[str, tuple[tuple[int, int], Workflow | None]] = {}


def repository_root(start: Path) -> Path | None:
    """The first directory at or above ``start`` with `.git` or `.github` (bounded)."""
    d = start
    for _ in range(_MAX_WALK_UP):
        if (d / ".git").exists() or (d / ".github").is_dir():
            return d
        if d.parent == d:
            return None
        d = d.parent
    return None


def load_workflows(root: Path) -> list[Workflow]:
    directory = root / ".github" / "workflows"
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    out: list[Workflow] = []
    for name in names[:_MAX_WORKFLOWS]:
        if not name.endswith((".yml", ".yaml")):
            continue
        wf = _load_workflow(directory / name, f".github/workflows/{name}")
        if wf is not None:
            out.append(wf)
    return out


def _load_workflow(path: Path, rel: str) -> Workflow | None:
    try:
        st = path.stat()
    except OSError:
        return None
    key = str(path)
    stamp = (st.st_mtime_ns, st.st_size)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    wf = _read_workflow(path, rel, st.st_size)
    if len(_CACHE) > 1024:
        _CACHE.clear()
    _CACHE[key] = (stamp, wf)
    return wf


def _read_workflow(path: Path, rel: str, size: int) -> Workflow | None:
    if size > _MAX_WORKFLOW_CHARS or not path.is_file():
        return None
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    # Line breaks other than LF and CRLF would make our line arithmetic disagree with YAML's.
    if re.search(r"\r(?!\n)|[\x85\u2028\u2029]", text):
        return None
    root = compose(text)
    if not _is_map(root):
        return None
    wf = Workflow(path, rel, text, root, _has_shared_nodes(root))
    _analyse(wf)
    return wf


def compose(text: str) -> Any:
    """The YAML document's node tree with source marks, or None when it is not valid YAML."""
    from ruamel.yaml import YAML

    try:
        # The safe composer: the round-trip one marks folds in `>` scalars with `\a`.
        return YAML(typ="safe", pure=True).compose(text)
    except Exception:  # any YAML error: not a workflow we can read
        return None


def _has_shared_nodes(root: Any) -> bool:
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        if _is_map(node):
            for k, v in node.value:
                stack.extend((k, v))
        elif _is_seq(node):
            stack.extend(node.value)
    return False


# --- reading builds and scans out of a workflow ------------------------------------------


def _uses(step: Any) -> str:
    return (_text(_get(step, "uses")) or "").strip()


def _action_is(uses: str, name: str) -> bool:
    return uses.lower().startswith(name.lower() + "@")


def _is_reusable(root: Any) -> bool:
    on = _get(root, "on")
    if _is_scalar(on):
        return bool(on.value == "workflow_call")
    if _is_seq(on):
        return any(_text(n) == "workflow_call" for n in on.value)
    return _get(on, "workflow_call") is not None


def _matrix_values(job: Any) -> dict[str, list[str]] | None:
    """Literal values of each matrix key (None when the job has no matrix)."""
    matrix = _get(_get(job, "strategy"), "matrix")
    if matrix is None:
        return None
    values: dict[str, list[str]] = {}
    for key, node in _items(matrix):
        if key == "include" and _is_seq(node):
            for entry in node.value:
                for k, v in _items(entry):
                    if _is_scalar(v):
                        values.setdefault(k, []).append(v.value)
        elif _is_seq(node):
            values.setdefault(key, []).extend(v.value for v in node.value if _is_scalar(v))
    return values


def _expand(text: str, matrix: dict[str, list[str]] | None) -> list[str] | None:
    """Every value of a path with `${{ matrix.x }}` expressions; None for other expressions."""
    for prefix in _WORKSPACE_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
    results = [""]
    pos = 0
    for m in _EXPR.finditer(text):
        inner = m.group(0)[3:-2].strip()
        key = inner[len("matrix.") :] if inner.startswith("matrix.") else None
        if key is None or matrix is None or not matrix.get(key):
            return None
        literal = text[pos : m.start()]
        results = [r + literal + v for r in results for v in matrix[key]][:64]
        pos = m.end()
    return [r + text[pos:] for r in results]


def _resolve(base: str, path: str) -> str | None:
    """A repository-relative POSIX path, or None when it leaves the repository."""
    if path.startswith("/") or "$" in path:
        return None
    joined = posixpath.normpath(posixpath.join(base or ".", path))
    if joined == ".." or joined.startswith("../"):
        return None
    return joined


def _dockerfiles(
    base: str, file: str | None, context: str | None, matrix: dict[str, list[str]] | None
) -> tuple[str, ...]:
    """The Dockerfiles a build may use: `file` (relative to ``base``), else context/Dockerfile."""
    out: list[str] = []
    if file:
        for f in _expand(file, matrix) or []:
            r = _resolve(base, f)
            if r is not None:
                out.append(r)
    elif context is not None:
        for c in _expand(context, matrix) or []:
            r = _resolve(base, posixpath.join(c, "Dockerfile"))
            if r is not None:
                out.append(r)
    return tuple(dict.fromkeys(out))


def image_repository(ref: str) -> str:
    """``ghcr.io/acme/api:1.2@sha256:…`` → ``ghcr.io/acme/api``; Docker Hub spellings unified."""
    r = ref.strip().lower()
    # Find the tag's colon and the digest's `@` outside `${{ … }}` expressions.
    masked = _EXPR.sub(lambda m: "_" * len(m.group(0)), r)
    at = masked.find("@")
    if at >= 0:
        r, masked = r[:at], masked[:at]
    colon = masked.rfind(":")
    if colon > masked.rfind("/"):
        r = r[:colon]
    for prefix in ("docker.io/", "index.docker.io/", "registry-1.docker.io/"):
        if r.startswith(prefix):
            r = r[len(prefix) :]
    return r[len("library/") :] if r.startswith("library/") else r


def _with_env(text: str, env: Mapping[str, str]) -> str:
    """Replace `${{ env.X }}` by X's literal value where the workflow or job defines it."""

    def sub(m: re.Match[str]) -> str:
        inner = m.group(0)[3:-2].strip()
        if inner.startswith("env."):
            value = env.get(inner[4:])
            if value is not None and "${{" not in value:
                return value
        return m.group(0)

    return _EXPR.sub(sub, text)


def _scan_repository(step: Any, env: Mapping[str, str]) -> str | None:
    with_ = _get(step, "with")
    for name in _SCAN_IMAGE_INPUTS:
        ref = _text(_get(with_, name))
        if ref:
            ref = _with_env(ref.strip(), env)
            repo = image_repository(ref)
            return None if "${{" in repo or not repo else repo
    return None


def _is_image_scan_step(step: Any) -> bool:
    uses = _uses(step)
    for action in _SCAN_ACTIONS:
        if _action_is(uses, action) or uses.lower().startswith(action.lower() + "/"):
            if action == "aquasecurity/trivy-action":
                kind = (_text(_get(_get(step, "with"), "scan-type")) or "image").strip()
                return kind in ("image", "")
            return True
    run = _text(_get(step, "run"))
    return run is not None and any(p.search(run) for p in _RUN_SCANS)


def _analyse(wf: Workflow) -> None:
    root = wf.root
    reusable = _is_reusable(root)
    wf_env = _env(_get(root, "env"))
    wf_defaults = _get(_get(root, "defaults"), "run")
    for job_id, job in _items(_get(root, "jobs")):
        if not _is_map(job):
            continue
        env = {**wf_env, **_env(_get(job, "env"))}
        matrix = _matrix_values(job)
        call = _text(_get(job, "uses"))
        if call:
            wf.sites.extend(_reusable_call_sites(job_id, job, call))
            continue
        steps = _get(job, "steps")
        if not _is_seq(steps):
            continue
        defaults = _get(_get(job, "defaults"), "run")
        job_sites: list[Site] = []
        buildx_builder = False  # a docker-container builder: images stay in its cache
        buildx_installed = False  # ... and `docker build` is buildx with that builder
        scanned = False
        for index, step in enumerate(steps.value):
            if not _is_map(step):
                continue
            uses = _uses(step)
            if _is_image_scan_step(step):
                scanned = True
                wf.scans.append(
                    ScanSite(job_id, _scan_repository(step, env), _text(_get(step, "run")))
                )
                continue
            if _action_is(uses, "docker/setup-buildx-action"):
                with_ = _get(step, "with")
                driver = (_text(_get(with_, "driver")) or "docker-container").strip()
                if driver != "docker":
                    buildx_builder = True
                    buildx_installed = buildx_installed or _is_true(_get(with_, "install")) is True
                continue
            if _action_is(uses, _BUILD_ACTION):
                job_sites.append(
                    _action_site(job_id, steps, index, step, matrix, env, buildx_builder)
                )
                continue
            run = _text(_get(step, "run"))
            if run is not None:
                shell = (
                    _text(_get(step, "shell"))
                    or _text(_get(defaults, "shell"))
                    or _text(_get(wf_defaults, "shell"))
                    or "bash"
                ).strip()
                if shell.split()[0] not in ("bash", "sh"):
                    continue
                cwd = (
                    _text(_get(step, "working-directory"))
                    or _text(_get(defaults, "working-directory"))
                    or _text(_get(wf_defaults, "working-directory"))
                    or ""
                ).strip()
                job_sites.extend(
                    _run_sites(
                        job_id,
                        index,
                        step,
                        run,
                        cwd,
                        matrix,
                        env,
                        _env(_get(step, "env")),
                        buildx_builder,
                        buildx_installed,
                    )
                )
        problem = ""
        if reusable:
            problem = (
                "this is a reusable workflow (`on: workflow_call`): the image and the failing "
                "policy are its callers' choice; add the scan where they are decided"
            )
        elif matrix is not None:
            problem = (
                f"job `{job_id}` runs as a matrix (`strategy.matrix`): each variant builds its "
                "own image, so the scan's image reference is not one fixed value; add the scan "
                "by hand with the matrix expressions"
            )
        elif len(job_sites) > 1:
            lines = ", ".join(str(s.line) for s in job_sites)
            problem = (
                f"job `{job_id}` has {len(job_sites)} build steps (lines {lines}); which "
                "image to scan, and where, is unclear"
            )
        else:
            runs_on = _runs_on_text(_get(job, "runs-on")).lower()
            if "windows" in runs_on or "macos" in runs_on:
                problem = (
                    f"job `{job_id}` runs on {_text(_get(job, 'runs-on')) or 'Windows/macOS'}; "
                    "the Trivy action runs on Linux runners"
                )
        for site in job_sites:
            site.scanned = scanned
            if problem:
                site.problem = problem
        wf.sites.extend(job_sites)


def _runs_on_text(node: Any) -> str:
    if _is_scalar(node):
        return str(node.value)
    if _is_seq(node):
        return " ".join(str(n.value) for n in node.value if _is_scalar(n))
    return " ".join(_runs_on_text(v) for _, v in _items(node))


def _reusable_call_sites(job_id: str, job: Any, call: str) -> list[Site]:
    """A job that passes a Dockerfile (or its directory as the context) to another workflow."""
    paths: list[str] = []
    for key, node in _items(_get(job, "with")):
        value = (_text(node) or "").strip()
        if not value or "${{" in value:
            continue
        r = _resolve("", value)
        if r is None:
            continue
        paths.append(r)
        if "context" in key.lower() or key.lower() in ("path", "directory", "dir"):
            paths.append(posixpath.join(r, "Dockerfile") if r != "." else "Dockerfile")
    if not paths:
        return []
    node = _get(job, "uses")
    return [
        Site(
            job_id,
            -1,
            job,
            node.start_mark.line + 1,
            tuple(dict.fromkeys(paths)),
            problem=(
                f"job `{job_id}` builds it with the reusable workflow `{call.strip()}`; "
                "add the scan in that workflow"
            ),
        )
    ]


def _action_site(
    job_id: str,
    steps: Any,
    index: int,
    step: Any,
    matrix: dict[str, list[str]] | None,
    env: Mapping[str, str],
    buildx_builder: bool,
) -> Site:
    with_ = _get(step, "with")
    file = (_text(_get(with_, "file")) or "").strip() or None
    context = _text(_get(with_, "context"))
    context = context.strip() if context is not None else None
    if context is None or context.startswith("{{defaultContext}}"):
        # The Git context: the repository itself (`{{defaultContext}}:sub` for a subdirectory);
        # a Dockerfile path is then relative to that context.
        sub = context.split(":", 1)[1] if context and ":" in context else ""
        dockerfiles = _dockerfiles(sub, file or "Dockerfile", None, matrix)
    elif "://" in context or context.startswith("git@"):
        dockerfiles = ()
    else:
        dockerfiles = _dockerfiles("", file, context, matrix)
    site = Site(job_id, index, step, step.start_mark.line + 1, dockerfiles)
    site.target = (_text(_get(with_, "target")) or "").strip() or None
    if _get(with_, "outputs") is not None:
        site.problem = (
            "the build writes its result with `outputs:`; what the scan can read is unclear"
        )
        return site
    push, load = _is_true(_get(with_, "push")), _is_true(_get(with_, "load"))
    if push is None or load is None:
        site.problem = (
            "`push`/`load` are expressions: on some runs the image may be neither pushed nor "
            "loaded, and the scan would fail to find it"
        )
        return site
    if not push and not load and (buildx_builder or _get(with_, "builder") is not None):
        site.problem = (
            "the image is neither pushed nor loaded (`push: true` or `load: true`), and the "
            "Buildx builder keeps it in its cache where the scan cannot find it"
        )
        return site
    _check_common(site, step)
    if site.problem:
        return site
    tags_node = _get(with_, "tags")
    if tags_node is None:
        site.problem = "the build step has no `tags:`, so there is no image name to scan"
        return site
    if not _is_scalar(tags_node):
        site.problem = "`tags:` is not a string (a YAML list is not a valid action input)"
        return site
    first = _first_tag(tags_node.value)
    if first is None:
        site.problem = "the build step has no `tags:`, so there is no image name to scan"
        return site
    whole = _EXPR.fullmatch(first)
    if whole:
        meta = re.fullmatch(r"steps\.([\w-]+)\.outputs\.tags", first[3:-2].strip())
        meta_step = _step_with_id(steps, meta.group(1)) if meta else None
        if (
            meta is None
            or meta_step is None
            or not _action_is(_uses(meta_step), "docker/metadata-action")
        ):
            site.problem = (
                f"the tags come from an expression (`{first}`) that may hold several tags; "
                "set the scan's image-ref by hand"
            )
            return site
        site.image_ref = f"${{{{ fromJSON(steps.{meta.group(1)}.outputs.json).tags[0] }}}}"
        images = _text(_get(_get(meta_step, "with"), "images")) or ""
        site.repository = _metadata_repository(images, env)
        return site
    site.image_ref = first
    site.repository = image_repository(_with_env(first, env))
    return site


def _metadata_repository(images: str, env: Mapping[str, str]) -> str | None:
    for line in images.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "name=" in line:
            parts = dict(p.split("=", 1) for p in line.split(",") if "=" in p)
            line = parts.get("name", "")
        repo = image_repository(_with_env(line, env))
        return None if "${{" in repo or not repo else repo
    return None


def _first_tag(tags: str) -> str | None:
    """The first tag of build-push-action's `tags` (newline- or comma-separated)."""
    for line in tags.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        # Commas separate tags, except inside `${{ … }}`.
        masked = _EXPR.sub(lambda m: "_" * len(m.group(0)), line)
        comma = masked.find(",")
        first = (line[:comma] if comma >= 0 else line).strip()
        return first or None
    return None


def _step_with_id(steps: Any, step_id: str) -> Any:
    for step in steps.value:
        if (_text(_get(step, "id")) or "").strip() == step_id:
            return step
    return None


def _check_common(site: Site, step: Any) -> None:
    coe = _get(step, "continue-on-error")
    if coe is not None and _is_true(coe) is not False:
        site.problem = (
            "the build step has `continue-on-error`: the scan would run after a failed build"
        )


def _run_sites(
    job_id: str,
    index: int,
    step: Any,
    script: str,
    cwd: str,
    matrix: dict[str, list[str]] | None,
    env: Mapping[str, str],
    step_env: Mapping[str, str],
    buildx_builder: bool,
    buildx_installed: bool,
) -> list[Site]:
    from dockfix.shell import parse_shell

    if "docker" not in script or "build" not in script:
        return []
    # `${{ … }}` is substituted before the shell runs: hide it from the shell parser (same
    # length, so offsets into the script stay valid) and read it back from the script.
    masked = _EXPR.sub(lambda m: "_" * len(m.group(0)), script)
    parsed = parse_shell(masked)
    sites: list[Site] = []
    for cmd in parsed.commands:
        words = list(cmd.words)
        while words and words[0].value.rsplit("/", 1)[-1] != "docker":
            if words[0].value.rsplit("/", 1)[-1] not in ("sudo", "command", "exec", "time"):
                break
            words = words[1:]
        if not words or words[0].value.rsplit("/", 1)[-1] != "docker":
            continue
        values = [_word_value(script, w) for w in words[1:]]
        if any(v is None for v in values):
            continue
        args = [(w, v) for w, v in zip(words[1:], values, strict=True) if v is not None]
        i = 0
        while i < len(args) and args[i][1].startswith("-"):
            i += 2 if args[i][1] in _DOCKER_GLOBAL_VALUE_OPTIONS else 1
        sub = [a[1] for a in args[i : i + 2]]
        if sub[:1] == ["build"]:
            kind, rest = "build", args[i + 1 :]
        elif sub in (["image", "build"], ["builder", "build"]):
            kind, rest = "build", args[i + 2 :]
        elif sub in (["buildx", "build"], ["buildx", "b"]):
            kind, rest = "buildx", args[i + 2 :]
        else:
            continue
        site = _docker_build_site(
            job_id, index, step, script, rest, kind, cwd, matrix, env, step_env,
            buildx_builder, buildx_installed,
        )  # fmt: skip
        if site is not None:
            sites.append(site)
    return sites


def _word_value(script: str, word: Word) -> str | None:
    """A word's value as the shell sees it, with `${{ … }}` expressions written out."""
    raw = script[word.start : word.end]
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"" and raw.count(raw[0]) == 2:
        return raw[1:-1]
    if "\\" in raw:
        if "'" in raw or '"' in raw:
            return None  # escapes inside quotes: not worth reading by hand
        return re.sub(r"\\(.)", r"\1", raw)
    return raw.replace('"', "").replace("'", "")


def _docker_build_site(
    job_id: str,
    index: int,
    step: Any,
    script: str,
    args: list[tuple[Word, str]],
    kind: str,
    cwd: str,
    matrix: dict[str, list[str]] | None,
    env: Mapping[str, str],
    step_env: Mapping[str, str],
    buildx_builder: bool,
    buildx_installed: bool,
) -> Site | None:
    opts: dict[str, list[str]] = {}
    positional: list[str] = []
    i = 0
    while i < len(args):
        value = args[i][1]
        if value.startswith("-") and value != "-":
            name, eq, inline = value.partition("=")
            if name in _DOCKER_VALUE_OPTIONS:
                if eq:
                    opts.setdefault(name, []).append(inline)
                elif i + 1 < len(args):
                    opts.setdefault(name, []).append(args[i + 1][1])
                    i += 1
            else:
                opts.setdefault(name, []).append("true")
            i += 1
            continue
        positional.append(value)
        i += 1
    if len(positional) != 1:
        return None  # not a build command we can read (no context, or a mis-parsed option)
    context = positional[0]
    files = opts.get("-f", []) + opts.get("--file", [])
    if context == "-" or "://" in context or context.startswith("git@") or files == ["-"]:
        return None
    base = cwd
    for prefix in _WORKSPACE_PREFIXES:
        if base.startswith(prefix.rstrip("/")):
            base = base[len(prefix.rstrip("/")) :].lstrip("/")
    dockerfiles = _dockerfiles(base, files[0] if files else None, context, matrix)
    site = Site(job_id, index, step, step.start_mark.line + 1, dockerfiles)
    targets = opts.get("--target")
    site.target = targets[0] if targets else None
    outputs = opts.get("-o", []) + opts.get("--output", [])
    push = "--push" in opts or any("type=registry" in o for o in outputs)
    load = "--load" in opts or any(o in ("type=docker",) for o in outputs)
    if outputs and not (push or load):
        site.problem = (
            "the build writes its result with `--output`; what the scan can read is unclear"
        )
        return site
    buildx = kind == "buildx" or buildx_installed
    if buildx and buildx_builder and not (push or load):
        site.problem = (
            "the image is neither pushed nor loaded (`--push` or `--load`), and the Buildx "
            "builder keeps it in its cache where the scan cannot find it"
        )
        return site
    _check_common(site, step)
    if site.problem:
        return site
    tags = opts.get("-t", []) + opts.get("--tag", [])
    if not tags:
        site.problem = "the build has no `-t` tag, so there is no image name to scan"
        return site
    ref, why = _shell_tag_to_expression(tags[0], env, step_env, script)
    if ref is None:
        site.problem = why
        return site
    site.image_ref = ref
    site.repository = image_repository(_with_env(ref, env))
    return site


def _shell_tag_to_expression(
    tag: str, env: Mapping[str, str], step_env: Mapping[str, str], script: str
) -> tuple[str | None, str]:
    """A shell word's value written for the scan step (`$X` → `${{ env.X }}`), or why not."""
    masked = _EXPR.sub(lambda m: "_" * len(m.group(0)), tag)
    out: list[str] = []
    pos = 0
    for m in re.finditer(r"\$(?:\{(\w+)\}|(\w+))|\$|`", masked):
        name = m.group(1) or m.group(2)
        if name is None:
            return (
                None,
                f"the tag `{tag}` is computed by the shell; set the scan's image-ref by hand",
            )
        if name in step_env or re.search(rf"(?:^|[\s;&|(]){name}=", script):
            expr = None  # the step's own env and the script's variables end with the step
        elif name in env:
            expr = f"${{{{ env.{name} }}}}"
        elif name in _GITHUB_VARS:
            expr = f"${{{{ {_GITHUB_VARS[name]} }}}}"
        else:
            expr = None
        if expr is None:
            return None, (
                f"the tag `{tag}` uses the shell variable `${name}`, which the scan step "
                "cannot see; set the scan's image-ref by hand"
            )
        out.append(tag[pos : m.start()])
        out.append(expr)
        pos = m.end()
    out.append(tag[pos:])
    return "".join(out), ""


# --- writing the step --------------------------------------------------------------------


@dataclass(eq=False)
class _Lines:
    text: str
    starts: list[int]

    @classmethod
    def of(cls, text: str) -> _Lines:
        starts = [0]
        starts.extend(i + 1 for i, ch in enumerate(text) if ch == "\n")
        return cls(text, starts)

    def line_of(self, index: int) -> int:
        import bisect

        return bisect.bisect_right(self.starts, index) - 1

    def content(self, n: int) -> str:
        start = self.starts[n]
        end = self.starts[n + 1] if n + 1 < len(self.starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def next_start(self, n: int) -> int:
        return self.starts[n + 1] if n + 1 < len(self.starts) else len(self.text)

    @property
    def count(self) -> int:
        return len(self.starts)


def _last_leaf(node: Any) -> tuple[Any, tuple[str | int, ...]]:
    """The last value written inside a block node, and its key path from that node."""
    path: list[str | int] = []
    while (_is_map(node) or _is_seq(node)) and not node.flow_style and node.value:
        if _is_map(node):
            key, node = node.value[-1]
            path.append(key.value)
        else:
            path.append(len(node.value) - 1)
            node = node.value[-1]
    return node, tuple(path)


def _block_chomping(text: str, leaf: Any) -> str | None:
    """`+`, `-` or `` (clip) for a `|`/`>` block scalar; None for other nodes."""
    if not _is_scalar(leaf) or leaf.style not in ("|", ">"):
        return None
    indicator = re.match(r"[|>][0-9+-]*", text[leaf.start_mark.index :])
    spec = indicator.group(0) if indicator else ""
    return "+" if "+" in spec else "-" if "-" in spec else ""


def _insertion_point(lines: _Lines, step: Any, dash_col: int) -> int | None:
    """Where the step's text ends: the start of the line after its last value."""
    leaf, _ = _last_leaf(step)
    end = int(leaf.end_mark.index)
    chomping = _block_chomping(lines.text, leaf)
    if chomping is not None:
        if chomping == "+":
            pos = end  # keep-chomped: its trailing blank lines are part of the value
            if pos < len(lines.text) and lines.text[pos - 1] != "\n":
                return None
        else:
            # The scalar's end mark lies after trailing blank lines: back up to its last text.
            n = lines.line_of(max(end - 1, 0))
            while (
                n > 0 and not lines.content(n).strip() and lines.starts[n] > leaf.start_mark.index
            ):
                n -= 1
            pos = lines.next_start(n)
    else:
        pos = lines.next_start(lines.line_of(end))
    # Comment lines indented under the step (not under the next one) stay with it.
    n = lines.line_of(pos) if pos < len(lines.text) else lines.count
    while n < lines.count and pos < len(lines.text):
        probe = n
        while probe < lines.count and not lines.content(probe).strip():
            probe += 1
        if probe >= lines.count:
            break
        text = lines.content(probe)
        stripped = text.lstrip(" ")
        if stripped.startswith("#") and len(text) - len(stripped) > dash_col:
            pos = lines.next_start(probe)
            n = probe + 1
            continue
        break
    return pos


def _yaml_value(value: str) -> str | None:
    """``value`` written as a YAML scalar that reads back as the same string."""
    from ruamel.yaml import YAML

    safe = YAML(typ="safe", pure=True)
    candidates = [value, "'" + value.replace("'", "''") + "'"]
    for cand in candidates:
        if "\n" in cand or "\r" in cand:
            return None
        try:
            loaded = safe.load(f"k: {cand}\n")
        except Exception:  # not a valid scalar in that spelling
            continue
        if isinstance(loaded, dict) and loaded.get("k") == value:
            return cand
    return None


@dataclass(eq=False)
class _Insertion:
    site: Site
    at: int
    text: str
    step: dict[str, Any]
    # A block scalar that ended the file without a line break gains one (its value a "\n"):
    # the key path to it inside the build step.
    grows: tuple[str | int, ...] | None = None


def _plan(
    wf: Workflow, site: Site, action: str, severity: str, ignore_unfixed: bool
) -> _Insertion | str:
    """The text to insert after the build step, or why it cannot be written."""
    if wf.aliased:
        return "the workflow uses YAML anchors and aliases; an edit could change other jobs"
    steps = _get(_get(_get(wf.root, "jobs"), site.job_id), "steps")
    step = site.step
    if steps.flow_style or step.flow_style:
        return "the workflow's steps are written in flow style (`[…]`/`{…}`)"
    assert site.image_ref is not None
    lines = _Lines.of(wf.text)
    key = step.start_mark
    before = wf.text[lines.starts[lines.line_of(key.index)] : key.index]
    dash = re.fullmatch(r"( *)-( +)", before)
    if dash is None:
        return "the build step is not written as `- key: value` on its first line"
    dash_col = len(dash.group(1))
    key_col = key.column
    sub = _with_indent(wf.root, step)
    at = _insertion_point(lines, step, dash_col)
    if at is None:
        return "the end of the build step could not be located"
    next_index = site.index + 1
    if next_index < len(steps.value):
        nxt = steps.value[next_index].start_mark.index
        if at > lines.starts[lines.line_of(nxt)]:
            return "the end of the build step could not be located"
    if at <= key.index:
        return "the end of the build step could not be located"
    ref = _yaml_value(site.image_ref)
    if ref is None:
        return f"the image reference `{site.image_ref}` cannot be written as a YAML value"
    eol = _eol_near(wf.text, lines.starts[lines.line_of(key.index)])
    ind = " " * key_col
    body: list[tuple[str, str]] = []
    expected: dict[str, Any] = {}
    if _get(step, "name") is not None:
        body.append(("name", "Scan image for vulnerabilities"))
        expected["name"] = "Scan image for vulnerabilities"
    cond = _get(step, "if")
    if cond is not None:
        if not _is_scalar(cond) or cond.start_mark.line != cond.end_mark.line:
            return "the build step's `if:` spans several lines"
        body.append(("if", wf.text[cond.start_mark.index : cond.end_mark.index]))
        expected["if"] = _SAME_AS_BUILD_IF
    body.append(("uses", action))
    expected["uses"] = action.split(" #", 1)[0].strip()
    out = [f"{' ' * dash_col}-{dash.group(2)}{k}: {v}" if i == 0 else f"{ind}{k}: {v}"
           for i, (k, v) in enumerate(body)]  # fmt: skip
    inputs: list[tuple[str, str, Any]] = [
        ("image-ref", ref, site.image_ref),
        ("severity", severity, severity),
        ("exit-code", "1", 1),
    ]
    if ignore_unfixed:
        inputs.append(("ignore-unfixed", "true", True))
    out.append(f"{ind}with:")
    out.extend(f"{ind}{' ' * sub}{k}: {v}" for k, v, _ in inputs)
    expected["with"] = {k: loaded for k, _, loaded in inputs}
    # A blank line right after a keep-chomped (`|+`) scalar would become part of its value.
    separated = _steps_separated(lines, steps, site.index, at) and (
        _block_chomping(wf.text, _last_leaf(step)[0]) != "+"
    )
    block = eol.join(out)
    if at == len(wf.text) and not wf.text.endswith("\n"):
        text = eol + (eol if separated else "") + block
    else:
        text = (eol if separated else "") + block + eol
    grows = None
    if at == len(wf.text) and not wf.text.endswith("\n"):
        leaf, path = _last_leaf(step)
        if leaf.end_mark.index == len(wf.text) and _block_chomping(wf.text, leaf) in ("+", ""):
            grows = path
    return _Insertion(site, at, text, expected, grows)


def _eol_near(text: str, line_start: int) -> str:
    """The line ending of the line at ``line_start``, else the file's first one, else LF."""
    nl = text.find("\n", line_start)
    if nl < 0:
        nl = text.find("\n")
    return "\r\n" if nl > 0 and text[nl - 1] == "\r" else "\n"


def _with_indent(root: Any, step: Any) -> int:
    """The indentation of `with:` inputs: the build step's, else another step's, else 2."""
    candidates = [step]
    for _, job in _items(_get(root, "jobs")):
        steps = _get(job, "steps")
        if _is_seq(steps):
            candidates.extend(steps.value)
    for cand in candidates:
        with_ = _get(cand, "with")
        if _is_map(with_) and not with_.flow_style and with_.value and _is_map(cand):
            offset = int(with_.value[0][0].start_mark.column - cand.start_mark.column)
            if offset > 0:
                return offset
    return 2


_SAME_AS_BUILD_IF = object()  # placeholder: the inserted `if:` reads back as the build's


def _steps_separated(lines: _Lines, steps: Any, index: int, at: int) -> bool:
    """Whether the workflow separates steps with a blank line (kept for the new step)."""
    if index + 1 < len(steps.value):
        n = lines.line_of(at) if at < len(lines.text) else lines.count
        return n < lines.count and not lines.content(n).strip()
    if index > 0:
        n = lines.line_of(steps.value[index].start_mark.index)
        return n > 0 and not lines.content(n - 1).strip()
    return False


def _apply(wf: Workflow, plans: list[_Insertion]) -> str | None:
    """The workflow with the steps inserted, verified by reading it back; None if it differs."""
    from ruamel.yaml import YAML

    text = wf.text
    for p in sorted(plans, key=lambda p: p.at, reverse=True):
        text = text[: p.at] + p.text + text[p.at :]
    safe = YAML(typ="safe", pure=True)
    try:
        before = safe.load(wf.text)
        after = safe.load(text)
    except Exception:  # the original reads differently with the safe loader: do not guess
        return None
    expected = copy.deepcopy(before)
    try:
        for p in plans:
            steps = expected["jobs"][p.site.job_id]["steps"]
            build = before["jobs"][p.site.job_id]["steps"][p.site.index]
            step = {
                k: (build.get("if") if v is _SAME_AS_BUILD_IF else v) for k, v in p.step.items()
            }
            if p.grows is not None:
                _append_newline(steps[p.site.index], p.grows)
            steps.insert(p.site.index + 1, step)
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    # Other steps were not moved: inserting into a job shifts only that job's later steps.
    return text if after == expected else None


def _append_newline(data: Any, path: tuple[str | int, ...]) -> None:
    for key in path[:-1]:
        data = data[key]
    if isinstance(data[path[-1]], str):
        data[path[-1]] += "\n"


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
    uses_context = True
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
