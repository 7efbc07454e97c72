"""A repository's GitHub Actions workflows, read once per file version: each job's builds
and image scans, and why a build's scan cannot be proposed (a matrix, a reusable workflow,
several builds, a Windows or macOS runner)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dockfix.fixers.ci_image_scan._sites import (
    _BUILD_ACTION,
    ScanSite,
    Site,
    Workflow,
    _action_is,
    _is_image_scan_step,
    _is_reusable,
    _matrix_values,
    _scan_repository,
    _uses,
)
from dockfix.fixers.ci_image_scan._yaml import (
    _env,
    _get,
    _has_shared_nodes,
    _is_map,
    _is_scalar,
    _is_seq,
    _is_true,
    _items,
    _text,
    compose,
)

if TYPE_CHECKING:
    pass
from dockfix.fixers.ci_image_scan._build_action import _action_site, _reusable_call_sites
from dockfix.fixers.ci_image_scan._docker_cli import _run_sites

_MAX_WALK_UP = 32  # directories climbed from the Dockerfile to find the repository root
_MAX_WORKFLOWS = 200
_MAX_WORKFLOW_CHARS = 1 << 20


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


def _analyse(wf: Workflow) -> None:
    """Each job's builds (`wf.sites`) and image scans (`wf.scans`), and why a build's scan
    cannot be proposed."""
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
        defaults = (_get(_get(job, "defaults"), "run"), wf_defaults)
        job_sites, scanned = _job_steps(wf, job_id, steps, defaults, matrix, env)
        problem = _job_problem(job_id, job, reusable, matrix, job_sites)
        for site in job_sites:
            site.scanned = scanned
            if problem:
                site.problem = problem
        wf.sites.extend(job_sites)


def _job_steps(
    wf: Workflow,
    job_id: str,
    steps: Any,
    defaults: tuple[Any, Any],
    matrix: dict[str, list[str]] | None,
    env: dict[str, str],
) -> tuple[list[Site], bool]:
    """The job's build sites (its scans go to `wf.scans`), and whether an image scan runs in
    it. ``defaults``: the job's and the workflow's `defaults.run`."""
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
            wf.scans.append(ScanSite(job_id, _scan_repository(step, env), _text(_get(step, "run"))))
            continue
        if _action_is(uses, "docker/setup-buildx-action"):
            with_ = _get(step, "with")
            driver = (_text(_get(with_, "driver")) or "docker-container").strip()
            if driver != "docker":
                buildx_builder = True
                buildx_installed = buildx_installed or _is_true(_get(with_, "install")) is True
            continue
        if _action_is(uses, _BUILD_ACTION):
            job_sites.append(_action_site(job_id, steps, index, step, matrix, env, buildx_builder))
            continue
        run = _text(_get(step, "run"))
        if run is None:
            continue
        shell = _step_default(step, defaults, "shell") or "bash"
        if shell.strip().split()[0] not in ("bash", "sh"):
            continue
        cwd = (_step_default(step, defaults, "working-directory") or "").strip()
        step_env = _env(_get(step, "env"))
        job_sites.extend(
            _run_sites(
                job_id,
                index,
                step,
                run,
                cwd,
                matrix,
                env,
                step_env,
                buildx_builder,
                buildx_installed,
            )
        )
    return job_sites, scanned


def _step_default(step: Any, defaults: tuple[Any, Any], key: str) -> str | None:
    """A step's `shell` or `working-directory`, else the job's default, else the workflow's."""
    return _text(_get(step, key)) or _text(_get(defaults[0], key)) or _text(_get(defaults[1], key))


def _job_problem(
    job_id: str, job: Any, reusable: bool, matrix: dict[str, list[str]] | None, sites: list[Site]
) -> str:
    """Why no scan step can be proposed for the job's build ("" when it can)."""
    if reusable:
        return (
            "this is a reusable workflow (`on: workflow_call`): the image and the failing "
            "policy are its callers' choice; add the scan where they are decided"
        )
    if matrix is not None:
        return (
            f"job `{job_id}` runs as a matrix (`strategy.matrix`): each variant builds its "
            "own image, so the scan's image reference is not one fixed value; add the scan "
            "by hand with the matrix expressions"
        )
    if len(sites) > 1:
        lines = ", ".join(str(s.line) for s in sites)
        return (
            f"job `{job_id}` has {len(sites)} build steps (lines {lines}); which "
            "image to scan, and where, is unclear"
        )
    runs_on = _runs_on_text(_get(job, "runs-on")).lower()
    if "windows" in runs_on or "macos" in runs_on:
        return (
            f"job `{job_id}` runs on {_text(_get(job, 'runs-on')) or 'Windows/macOS'}; "
            "the Trivy action runs on Linux runners"
        )
    return ""


def _runs_on_text(node: Any) -> str:
    if _is_scalar(node):
        return str(node.value)
    if _is_seq(node):
        return " ".join(str(n.value) for n in node.value if _is_scalar(n))
    return " ".join(_runs_on_text(v) for _, v in _items(node))
