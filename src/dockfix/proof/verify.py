"""Proof by building: build the original and the fixed Dockerfile, and compare the images.

For each file with fixes, both versions are built with the same context, build arguments and
target, then compared: the image config (User, Entrypoint, Cmd, Env, WorkingDir,
ExposedPorts, Labels, Healthcheck) and the final root filesystem (paths, sizes, modes) must
be equal apart from the changes the applied fixers declare (``Fixer.image_changes``), and the
image sizes are reported. With ``run``, both images are then started and compared
(:mod:`dockfix.proof.image_run`): a fixed image that does not start or serve like the original is a
failure. With ``cache_check``, one source file that a directory COPY brings into the image
(not a dependency manifest) is changed in each version's own copy of the context, with an
edit of its own, and both versions are built again, counting the steps each reuses from the
cache: the number the layer-ordering fixers exist to improve.

A fixed file that fails to build while the original builds is a defect in dockfix.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dockfix.core.catalog import all_fixers

if TYPE_CHECKING:
    from dockfix.core.engine import FixOutcome
    from dockfix.proof.builders import Builder, BuildResult
    from dockfix.proof.image_compare import AllowedChanges, CompareReport, ImageConfig
    from dockfix.proof.image_run import RunComparison, RunOptions

# Files a layer-ordering fix copies early: changing one of them is not a code-only change.
MANIFEST_NAMES = frozenset(
    {
        "requirements.txt",
        "constraints.txt",
        "pyproject.toml",
        "poetry.lock",
        "uv.lock",
        "Pipfile",
        "Pipfile.lock",
        "setup.py",
        "setup.cfg",
        "package.json",
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "pnpm-workspace.yaml",
        "bun.lock",
        "bun.lockb",
        ".npmrc",
        ".yarnrc.yml",
        "go.mod",
        "go.sum",
        "go.work",
        "Cargo.toml",
        "Cargo.lock",
        "Gemfile",
        "Gemfile.lock",
        "composer.json",
        "composer.lock",
        "pom.xml",
        "build.gradle",
        "build.gradle.kts",
        "settings.gradle",
        "mix.exs",
        "mix.lock",
        "Dockerfile",
        ".dockerignore",
    }
)
SOURCE_SUFFIXES = (
    ".py",
    ".js",
    ".mjs",
    ".ts",
    ".go",
    ".rs",
    ".rb",
    ".php",
    ".sh",
    ".html",
    ".css",
    ".java",
    ".kt",
    ".ex",
    ".cs",
    ".txt",
    ".md",
    ".json",
    ".conf",
)


@dataclass
class CacheCheck:
    changed_file: str
    before: tuple[int, int]  # (steps reused, steps in all) for the original
    after: tuple[int, int]  # the same for the fixed file

    def describe(self) -> str:
        (rb, tb), (ra, ta) = self.before, self.after
        return (
            f"after a code-only change ({self.changed_file}): original reused {rb} of {tb} "
            f"build steps, fixed reused {ra} of {ta}"
        )


@dataclass
class VerifyResult:
    path: str
    codes: list[str] = field(default_factory=list)
    # verified | differs | does-not-start | defect | original-fails | skipped | error
    status: str = "skipped"
    message: str = ""
    report: CompareReport | None = None
    cache: CacheCheck | None = None
    cache_note: str = ""  # why the cache check measured nothing
    run: RunComparison | None = None
    blamed: list[str] = field(default_factory=list)  # the codes that alone break the start
    not_built: list[str] = field(default_factory=list)  # codes whose stages --target skips
    builds: dict[str, float] = field(default_factory=dict)  # seconds per build
    log_tail: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("verified", "skipped", "original-fails")

    @property
    def compared(self) -> bool:
        """Both versions were built and compared (whatever the comparison found)."""
        return self.status in ("verified", "differs", "does-not-start", "defect")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "codes": self.codes,
            "status": self.status,
            "message": self.message,
        }
        if self.report is not None:
            out["comparison"] = self.report.to_dict()
        if self.cache is not None:
            out["cache_check"] = {
                "changed_file": self.cache.changed_file,
                "original": {"reused": self.cache.before[0], "steps": self.cache.before[1]},
                "fixed": {"reused": self.cache.after[0], "steps": self.cache.after[1]},
            }
        elif self.cache_note:
            out["cache_check"] = {"note": self.cache_note}
        if self.run is not None:
            out["run"] = self.run.to_dict()
            out["run"]["caused_by"] = self.blamed
        if self.not_built:
            out["not_built"] = self.not_built
        return out

    def format_text(self) -> str:
        head = {
            "verified": "built before and after: same files and config apart from the intended changes",
            "differs": "built before and after: UNEXPECTED DIFFERENCES",
            "does-not-start": "FAILS: the fixed image builds but does not start like the original",
            "defect": "DEFECT: the fixed file does not build, the original does",
            "original-fails": "the original does not build; nothing to compare",
            "skipped": "not verified",
            "error": "could not verify",
        }[self.status]
        built = [c for c in self.codes if c not in self.not_built]
        lines = [f"{self.path}: {head}" + (f" ({', '.join(built)})" if built else "")]
        if self.message:
            lines.append(f"  {self.message}")
        if self.report is not None:
            size = self.report.image_size or self.report.rootfs_size
            if size is not None:
                lines.append(f"  size: {size.describe()}")
            if self.status == "differs":
                lines.extend("  " + ln for ln in self.report.format_text().splitlines())
        if self.not_built:
            lines.append(
                "  not built (in stages the target does not need): " + ", ".join(self.not_built)
            )
        if self.run is not None:
            lines.append("  run: " + self.run.summary)
            if self.blamed:
                lines.append("  caused by: " + ", ".join(self.blamed))
            lines.extend("    " + d for d in self.run.details)
            if self.run.status == "broken":
                tail = self.run.after.output.strip().splitlines()[-8:]
                lines.extend("  | " + ln for ln in tail)
        if self.cache is not None:
            lines.append("  cache: " + self.cache.describe())
        elif self.cache_note:
            lines.append("  cache: " + self.cache_note)
        if self.log_tail:
            lines.extend("  | " + ln for ln in self.log_tail.splitlines())
        return "\n".join(lines)


def allowed_changes(codes: Iterable[str]) -> AllowedChanges:
    """What the applied fixers declare the image may differ in (``Fixer.image_changes``)."""
    from dockfix.proof import image_compare as ic

    fixers = all_fixers()
    parts: list[AllowedChanges] = [ic.AllowedChanges()]
    for code in codes:
        fx = fixers.get(code)
        for item in getattr(fx, "image_changes", ()) if fx else ():
            parts.append(_allowance(ic, code, item))
    return ic.AllowedChanges.merge(parts)


def _allowance(ic: Any, code: str, item: str) -> AllowedChanges:
    kind, _, arg = item.partition(":")
    reason = f"{code}"
    if kind == "config":
        return ic.config_changes(arg, reason=reason)  # type: ignore[no-any-return]
    if kind == "label":
        return ic.config_changes(label_keys=[arg], reason=reason)  # type: ignore[no-any-return]
    if kind == "env":
        return ic.config_changes(env_keys=[arg], reason=reason)  # type: ignore[no-any-return]
    if kind == "apt-lists-removed":
        return ic.apt_lists_removed()  # type: ignore[no-any-return]
    if kind == "caches-removed":
        dirs = tuple(d for d in arg.split(",") if d)
        return ic.caches_removed(*dirs, reason=reason)  # type: ignore[no-any-return]
    if kind == "user-added":
        return ic.paths_changed(  # type: ignore[no-any-return]
            *(
                f"/etc/{b}{s}"
                for b in ("passwd", "group", "shadow", "gshadow", "subuid", "subgid")
                for s in ("", "-")
            ),
            "/home/**",
            "/var/log/lastlog",
            "/var/log/faillog",
            "/var/mail/**",
            "/var/spool/mail/**",
            kinds=("added", "changed"),
            reason=reason,
        )
    if kind == "owner":
        return ic.owner_changed(arg or "/**", reason=reason)  # type: ignore[no-any-return]
    if kind == "removed":
        return ic.paths_removed(arg or "/**", reason=reason)  # type: ignore[no-any-return]
    if kind == "added":
        return ic.paths_added(arg or "/**", reason=reason)  # type: ignore[no-any-return]
    if kind == "files":
        return ic.paths_changed(arg or "/**", reason=reason)  # type: ignore[no-any-return]
    raise ValueError(f"{code}: unknown image change `{item}`")


def _slug(path: str) -> str:
    return hashlib.sha256(path.encode()).hexdigest()[:12]


def _copy_context(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, symlinks=True, ignore=shutil.ignore_patterns(".git"))


def _copy_sources(dockerfile_text: str) -> tuple[set[str], set[str]]:
    """Context paths that COPY/ADD name: (directories copied whole, files named one by one).

    A file named on its own is a manifest a split copies first; a directory source (``.``,
    ``src/``) brings in every file below it that ``.dockerignore`` lets through.
    """
    from dockfix.syntax import parse_lossless

    dirs: set[str] = set()
    named: set[str] = set()
    for instr in parse_lossless(dockerfile_text).walk():
        if instr.keyword not in ("COPY", "ADD") or instr.flag("from") is not None:
            continue
        for word, _, _ in instr.args_words()[:-1]:
            if "://" in word or word.startswith("<<"):
                continue
            rel = word.removeprefix("./").rstrip("/")
            (dirs if rel in ("", ".") or word.endswith("/") else named).add(rel or ".")
    return dirs, named


def _code_file(context: Path, dockerfile_text: str) -> str | None:
    """A source file the image contains that is no dependency manifest: changing it is a
    code-only change. One that a directory COPY brings in comes first; else one a COPY
    names on its own (``ADD worker.sh …``)."""
    from dockfix.semantics.dockerignore import DockerIgnore

    dirs, named = _copy_sources(dockerfile_text)
    for rel in sorted(named):
        if (context / rel).is_dir():
            dirs.add(rel)
    ignore_file = context / ".dockerignore"
    ignore = DockerIgnore.from_text(
        ignore_file.read_text(encoding="utf-8", errors="replace") if ignore_file.is_file() else ""
    )
    for p in sorted(context.rglob("*")):
        rel = p.relative_to(context).as_posix()
        if not p.is_file() or p.is_symlink() or p.name in MANIFEST_NAMES:
            continue
        if not any(d == "." or rel.startswith(d + "/") for d in dirs) or ignore.excludes(rel):
            continue
        if any(
            part.startswith(".") or part in ("node_modules", "__pycache__")
            for part in rel.split("/")
        ):
            continue
        if p.name.lower().endswith(".dockerfile") or p.name.startswith(("Dockerfile", "expected")):
            continue
        if p.suffix in SOURCE_SUFFIXES and rel not in named:
            return rel
    for rel in sorted(named):
        path = context / rel
        if path.is_file() and path.name not in MANIFEST_NAMES and path.suffix in SOURCE_SUFFIXES:
            return rel
    return None


def _touch(path: Path, mark: str) -> None:
    """Change ``path``'s bytes harmlessly, differently for each ``mark`` (one per version,
    so one version's rebuild cannot reuse a layer the other's made)."""
    data = path.read_bytes()
    if path.suffix == ".json":
        # trailing whitespace keeps the JSON valid; its length tells the versions apart
        path.write_bytes(data + b" " * (1 + len(mark)) + b"\n")
        return
    comment = b"#" if path.suffix in (".py", ".sh", ".rb", ".conf", ".txt", ".md") else b"//"
    line = comment + b" dockfix verify " + mark.encode()
    if path.suffix == ".html":
        line = b"<!-- dockfix verify " + mark.encode() + b" -->"
    elif path.suffix == ".css":
        line = b"/* dockfix verify " + mark.encode() + b" */"
    path.write_bytes(data + (b"\n" if data and not data.endswith(b"\n") else b"") + line + b"\n")


def stages_built(dockerfile_text: str, target: str | None) -> set[int] | None:
    """Indexes of the stages a build of ``target`` needs (None: every stage counts)."""
    from dockfix.syntax import parse_lossless

    if not target:
        return None
    doc = parse_lossless(dockerfile_text)
    start = doc.stage_named(target)
    if start is None:
        return None
    needed: set[int] = set()
    todo = [start]
    while todo:
        stage = todo.pop()
        if stage.index in needed:
            continue
        needed.add(stage.index)
        if stage.parent is not None:
            todo.append(stage.parent)
        for instr in stage.instructions:
            sources = instr.flag_values("from") if instr.keyword in ("COPY", "ADD") else []
            if instr.keyword == "RUN":
                sources = [
                    part.partition("=")[2]
                    for mount in instr.flag_values("mount")
                    for part in mount.split(",")
                    if part.startswith("from=")
                ]
            for src in sources:
                dep = doc.stage_named(src) if src else None
                if dep is not None:
                    todo.append(dep)
    return needed


def _codes_not_built(outcome: FixOutcome, target: str | None) -> list[str]:
    """Applied codes whose every edit is in a stage the ``target`` build skips."""
    from dockfix.syntax import parse_lossless

    needed = stages_built(outcome.original, target)
    if needed is None:
        return []
    doc = parse_lossless(outcome.original)
    built: set[str] = set()
    for finding in outcome.applied:
        instr = doc.instruction_at_line(finding.line)
        stage = instr.stage if instr is not None else None
        if stage is None or stage.index in needed:
            built.add(finding.code)
    return sorted({f.code for f in outcome.applied} - built)


def verify_outcome(
    path: Path,
    display: str,
    outcome: FixOutcome,
    builder: Builder,
    *,
    context_dir: Path,
    build_args: Mapping[str, str] | None = None,
    target: str | None = None,
    cache_check: bool = False,
    keep_images: bool = False,
    timeout: float | None = None,
    run: RunOptions | None = None,
    variant: Callable[[str], FixOutcome | None] | None = None,
) -> VerifyResult:
    """Build and compare one file's original and fixed versions.

    With ``run``, both images are started too; when the fixed one does not start like the
    original and several fixes were applied, ``variant(code)`` (the original with only that
    fix) is built and started for each, to name the fixes that break the start alone.
    """
    from dockfix.proof import image_compare as ic

    codes = sorted({f.code for f in outcome.applied})
    result = VerifyResult(display, codes)
    if not outcome.changed:
        result.message = "no fixes to verify"
        return result
    result.not_built = _codes_not_built(outcome, target)
    if result.not_built == codes:
        result.message = f"every fix is in a stage that --target {target} does not build"
        return result
    slug = _slug(str(path.resolve()))
    tags = {
        "before": f"localhost/dockfix-verify-{slug}:before",
        "after": f"localhost/dockfix-verify-{slug}:after",
    }
    with tempfile.TemporaryDirectory(prefix="dockfix-verify-") as tmp:
        work = Path(tmp)
        # Each version gets its own copy of the context, so other file changes (a new
        # .dockerignore) apply to the fixed build only and the user's tree is never touched.
        contexts = {"before": work / "before", "after": work / "after"}
        for ctx in contexts.values():
            _copy_context(context_dir, ctx)
        for ch in outcome.file_changes:
            try:
                rel = Path(ch.path).resolve().relative_to(context_dir.resolve())
            except ValueError:
                continue  # a file outside the build context (a CI workflow) does not matter here
            target_path = contexts["after"] / rel
            target_path.parent.mkdir(parents=True, exist_ok=True)
            target_path.write_text(ch.content, encoding="utf-8")
        dockerfiles = {"before": work / "Dockerfile.before", "after": work / "Dockerfile.after"}
        dockerfiles["before"].write_text(outcome.original, encoding="utf-8")
        dockerfiles["after"].write_text(outcome.fixed, encoding="utf-8")
        # BuildKit reads <Dockerfile>.dockerignore beside the Dockerfile before the root one.
        specific = path.with_name(path.name + ".dockerignore")
        if specific.is_file():
            for df in dockerfiles.values():
                shutil.copyfile(specific, df.with_name(df.name + ".dockerignore"))
        builds: dict[str, BuildResult] = {}
        for side in ("before", "after"):
            builds[side] = builder.build(
                dockerfiles[side],
                contexts[side],
                build_args=build_args,
                target=target,
                tag=tags[side],
                timeout=timeout,
            )
            result.builds[side] = builds[side].duration
        try:
            if not builds["before"].success:
                result.status = "original-fails"
                result.message = "the original does not build here, so the fix cannot be compared"
                result.log_tail = builds["before"].log_tail(8)
                return result
            if not builds["after"].success:
                result.status = "defect"
                result.message = "please report this: dockfix must never break a build"
                result.log_tail = builds["after"].log_tail(15)
                return result
            report = ic.compare_images(
                config_before=builder.inspect_config(tags["before"]),
                config_after=builder.inspect_config(tags["after"]),
                files_before=builder.list_filesystem(tags["before"]),
                files_after=builder.list_filesystem(tags["after"]),
                allowed=allowed_changes(codes),
                size_before=builder.image_size(tags["before"]),
                size_after=builder.image_size(tags["after"]),
            )
            result.report = report
            result.status = "verified" if report.equal else "differs"
            if run is not None:
                from dockfix.proof.image_run import run_pair

                configs = {side: builder.inspect_config(tags[side]) for side in tags}
                result.run = run_pair(builder, tags, configs, run)
                if result.run.status == "broken":
                    result.status = "does-not-start"
                    result.blamed = _blame(
                        builder,
                        codes,
                        variant,
                        contexts["after"],
                        work,
                        tags["before"],
                        configs["before"],
                        build_args,
                        target,
                        timeout,
                        run,
                    )
            if cache_check:
                result.cache, result.cache_note = _cache_check(
                    builder, contexts, dockerfiles, outcome, build_args, target, tags, timeout
                )
        finally:
            if not keep_images:
                for tag in tags.values():
                    with contextlib.suppress(Exception):  # cleanup must not hide the result
                        builder.remove_image(tag)
    return result


def _cache_check(
    builder: Builder,
    contexts: Mapping[str, Path],
    dockerfiles: Mapping[str, Path],
    outcome: FixOutcome,
    build_args: Mapping[str, str] | None,
    target: str | None,
    tags: Mapping[str, str],
    timeout: float | None,
) -> tuple[CacheCheck | None, str]:
    """The steps each version reuses after a code-only change, or why none was measured."""
    rel = _code_file(contexts["before"], outcome.original)
    if rel is None or not (contexts["after"] / rel).is_file():
        return None, "no source file of the context is in the image (nothing to change)"
    counts: dict[str, tuple[int, int]] = {}
    for side in ("before", "after"):
        _touch(contexts[side] / rel, side)
        rebuilt = builder.build(
            dockerfiles[side],
            contexts[side],
            build_args=build_args,
            target=target,
            tag=tags[side],
            timeout=timeout,
        )
        if not rebuilt.success:
            return None, f"the {side} rebuild after changing {rel} failed"
        if side == "before" and rebuilt.steps_run == 0:
            return None, f"changing {rel} re-ran no step of the original: it is not in the image"
        counts[side] = (rebuilt.steps_cached, rebuilt.steps_total)
    return CacheCheck(rel, counts["before"], counts["after"]), ""


def _blame(
    builder: Builder,
    codes: Sequence[str],
    variant: Callable[[str], FixOutcome | None] | None,
    context: Path,
    work: Path,
    original_tag: str,
    original_config: ImageConfig,
    build_args: Mapping[str, str] | None,
    target: str | None,
    timeout: float | None,
    run: RunOptions,
) -> list[str]:
    """The fixes that, applied alone, already stop the image starting like the original."""
    from dockfix.proof.image_run import run_pair

    if len(codes) == 1 or variant is None:
        return list(codes)
    blamed: list[str] = []
    for code in codes:
        alone = variant(code)
        if alone is None or not alone.changed:
            continue
        dockerfile = work / f"Dockerfile.{code}"
        dockerfile.write_text(alone.fixed, encoding="utf-8")
        tag = original_tag.rsplit(":", 1)[0] + f":only-{code.lower()}"
        built = builder.build(
            dockerfile, context, build_args=build_args, target=target, tag=tag, timeout=timeout
        )
        try:
            if not built.success:
                continue
            images = {"before": original_tag, "after": tag}
            configs = {"before": original_config, "after": builder.inspect_config(tag)}
            if run_pair(builder, images, configs, run).status == "broken":
                blamed.append(code)
        finally:
            with contextlib.suppress(Exception):
                builder.remove_image(tag)
    return blamed or list(codes)


def pr_section(results: Sequence[VerifyResult]) -> str:
    """The `--pr-body` section: what the builds showed, per file."""
    done = [r for r in results if r.status != "skipped"]
    if not done:
        return ""
    lines = ["### Verified by building", ""]
    for r in sorted(done, key=lambda x: x.path):
        lines.append(f"- `{r.path}`: {r.format_text().splitlines()[0].split(': ', 1)[1]}")
        lines.extend("  " + ln.strip() for ln in r.format_text().splitlines()[1:] if ln.strip())
    return "\n".join(lines) + "\n"
