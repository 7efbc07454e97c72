"""Builds by `docker/build-push-action` (and jobs that hand a Dockerfile to a reusable
workflow): the Dockerfile, target and first tag of the build, and whether the image lands
where a scan can read it."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dockfix.fixers.ci_image_scan._sites import (
    _EXPR,
    Site,
    _action_is,
    _check_common,
    _dockerfiles,
    _resolve,
    _uses,
    _with_env,
    image_repository,
)
from dockfix.fixers.ci_image_scan._yaml import (
    _get,
    _is_scalar,
    _is_true,
    _items,
    _text,
)

if TYPE_CHECKING:
    pass


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
    """A `docker/build-push-action` step: what it builds, and the image a scan can read."""
    with_ = _get(step, "with")
    site = Site(job_id, index, step, step.start_mark.line + 1, _action_dockerfiles(with_, matrix))
    site.target = (_text(_get(with_, "target")) or "").strip() or None
    site.problem = _action_output_problem(with_, buildx_builder)
    if site.problem:
        return site
    _check_common(site, step)
    if site.problem:
        return site
    _action_image(site, steps, with_, env)
    return site


def _action_dockerfiles(with_: Any, matrix: dict[str, list[str]] | None) -> tuple[str, ...]:
    """The repository paths of the Dockerfiles the step may build (`file:` and `context:`)."""
    file = (_text(_get(with_, "file")) or "").strip() or None
    context = _text(_get(with_, "context"))
    context = context.strip() if context is not None else None
    if context is None or context.startswith("{{defaultContext}}"):
        # The Git context: the repository itself (`{{defaultContext}}:sub` for a subdirectory);
        # a Dockerfile path is then relative to that context.
        sub = context.split(":", 1)[1] if context and ":" in context else ""
        return _dockerfiles(sub, file or "Dockerfile", None, matrix)
    if "://" in context or context.startswith("git@"):
        return ()
    return _dockerfiles("", file, context, matrix)


def _action_output_problem(with_: Any, buildx_builder: bool) -> str:
    """Why the built image is not where a scan can read it ("" when it is)."""
    if _get(with_, "outputs") is not None:
        return "the build writes its result with `outputs:`; what the scan can read is unclear"
    push, load = _is_true(_get(with_, "push")), _is_true(_get(with_, "load"))
    if push is None or load is None:
        return (
            "`push`/`load` are expressions: on some runs the image may be neither pushed nor "
            "loaded, and the scan would fail to find it"
        )
    if not push and not load and (buildx_builder or _get(with_, "builder") is not None):
        return (
            "the image is neither pushed nor loaded (`push: true` or `load: true`), and the "
            "Buildx builder keeps it in its cache where the scan cannot find it"
        )
    return ""


def _action_image(site: Site, steps: Any, with_: Any, env: Mapping[str, str]) -> None:
    """The image the scan reads: the first of `tags:`, or the first tag of the
    `docker/metadata-action` step whose output the tags are; else why not (`site.problem`)."""
    tags_node = _get(with_, "tags")
    if tags_node is None:
        site.problem = "the build step has no `tags:`, so there is no image name to scan"
        return
    if not _is_scalar(tags_node):
        site.problem = "`tags:` is not a string (a YAML list is not a valid action input)"
        return
    first = _first_tag(tags_node.value)
    if first is None:
        site.problem = "the build step has no `tags:`, so there is no image name to scan"
        return
    whole = _EXPR.fullmatch(first)
    if not whole:
        site.image_ref = first
        site.repository = image_repository(_with_env(first, env))
        return
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
        return
    site.image_ref = f"${{{{ fromJSON(steps.{meta.group(1)}.outputs.json).tags[0] }}}}"
    images = _text(_get(_get(meta_step, "with"), "images")) or ""
    site.repository = _metadata_repository(images, env)


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
