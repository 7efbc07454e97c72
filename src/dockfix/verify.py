"""Proof by building: build the original and the fixed Dockerfile, and compare the images.

For each file with fixes, both versions are built with the same context, build arguments and
target, then compared: the image config (User, Entrypoint, Cmd, Env, WorkingDir,
ExposedPorts, Labels, Healthcheck) and the final root filesystem (paths, sizes, modes) must
be equal apart from the changes the applied fixers declare (``Fixer.image_changes``), and the
image sizes are reported. With ``cache_check``, one source file that the Dockerfile copies
(not a dependency manifest) is changed in a copy of the context and both versions are built
again, counting the steps each reuses from the cache: the number the layer-ordering fixers
exist to improve.

A fixed file that fails to build while the original builds is a defect in dockfix.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dockfix.catalog import all_fixers

if TYPE_CHECKING:
    from dockfix.builders import Builder, BuildResult
    from dockfix.engine import FixOutcome
    from dockfix.image_compare import AllowedChanges, CompareReport

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
    status: str = "skipped"  # verified | differs | defect | original-fails | skipped | error
    message: str = ""
    report: CompareReport | None = None
    cache: CacheCheck | None = None
    builds: dict[str, float] = field(default_factory=dict)  # seconds per build
    log_tail: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("verified", "skipped", "original-fails")

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
        return out

    def format_text(self) -> str:
        head = {
            "verified": "built before and after: same files and config apart from the intended changes",
            "differs": "built before and after: UNEXPECTED DIFFERENCES",
            "defect": "DEFECT: the fixed file does not build, the original does",
            "original-fails": "the original does not build; nothing to compare",
            "skipped": "not verified",
            "error": "could not verify",
        }[self.status]
        lines = [f"{self.path}: {head}" + (f" ({', '.join(self.codes)})" if self.codes else "")]
        if self.message:
            lines.append(f"  {self.message}")
        if self.report is not None:
            size = self.report.image_size or self.report.rootfs_size
            if size is not None:
                lines.append(f"  size: {size.describe()}")
            if self.status == "differs":
                lines.extend("  " + ln for ln in self.report.format_text().splitlines())
        if self.cache is not None:
            lines.append("  cache: " + self.cache.describe())
        if self.log_tail:
            lines.extend("  | " + ln for ln in self.log_tail.splitlines())
        return "\n".join(lines)


def allowed_changes(codes: Iterable[str]) -> AllowedChanges:
    """What the applied fixers declare the image may differ in (``Fixer.image_changes``)."""
    from dockfix import image_compare as ic

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


def _copied_by_name(dockerfile_text: str) -> set[str]:
    """Context paths that COPY/ADD name one by one (the manifests a split copies first)."""
    from dockfix.syntax import parse_lossless

    named: set[str] = set()
    for instr in parse_lossless(dockerfile_text).walk():
        if instr.keyword in ("COPY", "ADD") and instr.flag("from") is None:
            for word, _, _ in instr.args_words()[:-1]:
                named.add(word.lstrip("./").rstrip("/"))
    return named


def _code_file(context: Path, dockerfile_text: str) -> str | None:
    """A source file of the context that no COPY names on its own: a code-only change."""
    named = _copied_by_name(dockerfile_text)
    candidates: list[str] = []
    for p in sorted(context.rglob("*")):
        rel = p.relative_to(context).as_posix()
        if not p.is_file() or p.is_symlink() or p.name in MANIFEST_NAMES:
            continue
        if any(
            part.startswith(".") or part in ("node_modules", "__pycache__")
            for part in rel.split("/")
        ):
            continue
        if p.name.lower().endswith(".dockerfile") or p.name.startswith(("Dockerfile", "expected")):
            continue
        if p.suffix in SOURCE_SUFFIXES and rel not in named:
            candidates.append(rel)
    return candidates[0] if candidates else None


def _touch(path: Path) -> None:
    data = path.read_bytes()
    comment = b"#" if path.suffix in (".py", ".sh", ".rb", ".conf", ".txt", ".md") else b"//"
    if path.suffix in (".html",):
        comment = b"<!-- -->"
    elif path.suffix in (".json",):
        path.write_bytes(data.rstrip() + b"\n")  # whitespace change keeps the JSON valid
        return
    path.write_bytes(
        data + (b"\n" if not data.endswith(b"\n") else b"") + comment + b" dockfix verify\n"
    )


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
) -> VerifyResult:
    """Build and compare one file's original and fixed versions."""
    from dockfix import image_compare as ic

    codes = sorted({f.code for f in outcome.applied})
    result = VerifyResult(display, codes)
    if not outcome.changed:
        result.message = "no fixes to verify"
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
            if cache_check:
                result.cache = _cache_check(
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
) -> CacheCheck | None:
    rel = _code_file(contexts["before"], outcome.fixed)
    if rel is None:
        return None
    counts: dict[str, tuple[int, int]] = {}
    for side in ("before", "after"):
        _touch(contexts[side] / rel)
        rebuilt = builder.build(
            dockerfiles[side],
            contexts[side],
            build_args=build_args,
            target=target,
            tag=tags[side],
            timeout=timeout,
        )
        if not rebuilt.success:
            return None
        counts[side] = (rebuilt.steps_cached, rebuilt.steps_total)
    return CacheCheck(rel, counts["before"], counts["after"])


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
