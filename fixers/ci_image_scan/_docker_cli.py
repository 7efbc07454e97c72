"""Builds by `docker build` / `docker buildx build` / `docker image build` in a `run:`
script: the Dockerfile, target and first tag, read from the command's words."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dockfix.fixers.ci_image_scan._sites import (
    _EXPR,
    _GITHUB_VARS,
    _WORKSPACE_PREFIXES,
    Site,
    _check_common,
    _dockerfiles,
    _with_env,
    image_repository,
)

if TYPE_CHECKING:
    from dockfix.semantics.shell import Word


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
    from dockfix.semantics.shell import parse_shell

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
    """A `docker build` command: what it builds, and the image a scan can read."""
    opts, positional = _build_options(args)
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


def _build_options(args: list[tuple[Word, str]]) -> tuple[dict[str, list[str]], list[str]]:
    """The build command's options (name: values; "true" for a switch) and positional words."""
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
    return opts, positional


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
