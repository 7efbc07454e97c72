"""What DF601 reads out of a workflow: where it builds an image (`Site`) and where it scans
one (`ScanSite`), and the readers the build-step and `run:` analyses share."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dockfix.fixers._lazy import lazy_re
from dockfix.fixers.ci_image_scan._yaml import (
    _get,
    _is_scalar,
    _is_seq,
    _is_true,
    _items,
    _text,
)

if TYPE_CHECKING:
    pass


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


def _check_common(site: Site, step: Any) -> None:
    coe = _get(step, "continue-on-error")
    if coe is not None and _is_true(coe) is not False:
        site.problem = (
            "the build step has `continue-on-error`: the scan would run after a failed build"
        )
