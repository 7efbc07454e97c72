"""DF204 no-dockerignore: a build context without a `.dockerignore`, or one that lets secrets in.

## What it does
When the build context has no ignore file, proposes a new `.dockerignore` at the root of the
context. It lists what exists in the context and the build does not read (and, when the
context is copied whole, the common leaks before they exist: below):

- always: `.git`, `.env` and `.env.*` files, private keys and certificates (`*.pem`, `*.key`,
  `*.p12`, `id_rsa` …, `.ssh/`, `.aws/`); the credential files tools read by themselves
  (`.npmrc`, `.netrc`, `.pypirc`) only when no `COPY` takes them along, since `npm ci` after a
  `COPY . .` may need the registry settings;
- per ecosystem, what the context holds: `node_modules` (when a `RUN` installs them),
  `__pycache__`, `*.pyc`, tool caches (`.pytest_cache`, `.mypy_cache`, `.tox` …), a local
  `.venv`, editor folders, coverage reports, and build output (`dist/`, `build/`, `target/`,
  `.next/`) when a `RUN` of the Dockerfile builds and the directory is known to be output: the
  root `.gitignore` lists it, or the tool that writes it is configured beside it (`Cargo.toml`,
  `pom.xml`, `build.gradle`, `package.json` …) — a Go project's `build/` of packaging scripts
  stays.

Every pattern is checked with Docker's own `.dockerignore` matching (`**`, `!` exceptions,
parent directories): a pattern is left out, or narrowed to the files it may drop, when it would
exclude a source of a `COPY`/`ADD`/`RUN --mount=type=bind` other than the whole context, a path
that a `RUN` (or, for build output, a `RUN` before the build) names, the Dockerfile or the
ignore file itself. `.git` is kept when the build reads Git metadata (`git` in a `RUN`, or in
a context script a `RUN` runs: a path it names, the Makefile of `make`, `package.json` of
`npm run`; setuptools-scm, hatch-vcs, versioneer, vergen …). Other Dockerfiles in the context (a
monorepo) count as well: what any of them copies or names is kept, so every Dockerfile of a
context proposes the same file.

When the whole context is copied or bind-mounted (`COPY . .`, `ADD . /app`), the common
leaks are listed even when no such file exists yet: `.git`, `**/.env`, `**/.env.*`, `**/*.pem`,
`**/*.key` and `id_rsa`/`id_ecdsa`/`id_ed25519`, since the point is that the next one added
never reaches the image. Each of these patterns is left out when it would exclude a
`COPY`/`ADD` source (one that does not exist yet included; a wildcard source naming the same
kind of file), when a `RUN` (or `CMD`, `ENV` …) names such a file (`cp .env.example .env`
keeps both `.env` patterns), when such a file exists (the rules above decide for it), and
`.git` when the build reads Git metadata.

When an ignore file exists (`<Dockerfile>.dockerignore` first, as BuildKit reads it, else the
context's `.dockerignore`) but lets `.git` or `.env` files through, proposes appending them,
unless an existing `!` exception re-includes them on purpose.

The change is shown in the diff as a new file (or an edited one); the Dockerfile is untouched.

## Why is this bad
Without an ignore file the whole directory is sent to the builder and a `COPY . .` puts
everything in the image: the Git history (every secret ever committed), `.env` files and keys,
a host `node_modules` with binaries built for another OS that overwrites the one installed in
the image, caches and stale build output. Builds are slower, images bigger, and the layer
cache is invalidated by files that do not matter.

## Example
```dockerfile
FROM node:20
WORKDIR /app
COPY package*.json ./
RUN npm ci
COPY . .
RUN npm run build
```
with a context holding `package.json`, `.git/`, `.env`, `node_modules/` and `dist/` gets a new
`.dockerignore` (the Dockerfile stays as it is):
```
# Created by dockfix (DF204): files the build does not need.
# Secrets and version control
.git
**/.env
**/.env.*
**/*.pem
**/*.key
**/id_rsa
**/id_ecdsa
**/id_ed25519
# Dependencies and build output, made again by the build
**/node_modules
dist
```

## Fix safety
Safe when no `COPY`/`ADD`/bind mount of any Dockerfile in the context reaches an excluded path
(for example the Dockerfile copies only `package.json` and `src/`): the build then sees
exactly what it used; so are the patterns for files that do not exist yet (nothing the build
reads today goes). Unsafe when a `COPY . .` (or a bind mount of the whole context) reached
them: the image loses those files, which is the point, but a program that read one of them at
run time would notice. Unsafe too when the context is too large to be listed completely. Not
fixed (display-only) when a `COPY`/`ADD` source depends on a build argument, or when the
existing ignore file has a pattern Docker rejects. Off unless selected (it writes a file other
than the Dockerfile).

## Options
None.

## Resolves
none (no hadolint, Trivy or Checkov rule checks the build context).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from dockfix.core.fixer import (
    Applicability,
    FileChange,
    Finding,
    Fix,
    Fixer,
    Resolves,
    Severity,
    register,
)
from dockfix.fixers._context_reach import (
    ContextIndex,
    Reach,
    literal_pattern,
    named_by_source,
    read_reach,
    source_matches,
    swept_by_source,
    text_mentions,
    unknown_reason,
    with_parents,
)
from dockfix.semantics.dockerignore import DockerIgnore
from dockfix.syntax import Dockerfile, Instruction

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext

HEADER = "# Created by dockfix (DF204): files the build does not need."
APPEND_HEADER = "# Added by dockfix (DF204): keep Git history and secrets out of the build."


class Candidate(NamedTuple):
    pattern: str
    kind: str  # "secret" | "config" | "vcs" | "cache" | "deps" | "build"
    group: str  # the comment it is listed under
    name: str  # the path name a RUN would mention


_SECRETS = "Secrets and version control"
_DEPS = "Dependencies and build output, made again by the build"
_CACHES = "Caches, editor and OS files"

CANDIDATES: tuple[Candidate, ...] = (
    Candidate(".git", "vcs", _SECRETS, ".git"),
    Candidate("**/.env", "secret", _SECRETS, ".env"),
    Candidate("**/.env.*", "secret", _SECRETS, ".env."),
    Candidate("**/*.pem", "secret", _SECRETS, ".pem"),
    Candidate("**/*.key", "secret", _SECRETS, ".key"),
    Candidate("**/*.p12", "secret", _SECRETS, ".p12"),
    Candidate("**/*.pfx", "secret", _SECRETS, ".pfx"),
    Candidate("**/id_rsa", "secret", _SECRETS, "id_rsa"),
    Candidate("**/id_ecdsa", "secret", _SECRETS, "id_ecdsa"),
    Candidate("**/id_ed25519", "secret", _SECRETS, "id_ed25519"),
    Candidate("**/.ssh", "secret", _SECRETS, ".ssh"),
    Candidate("**/.aws", "secret", _SECRETS, ".aws"),
    # Read implicitly by the tools (npm reads the project's .npmrc): only when nothing copies them.
    Candidate("**/.netrc", "config", _SECRETS, ".netrc"),
    Candidate("**/.pypirc", "config", _SECRETS, ".pypirc"),
    Candidate("**/.npmrc", "config", _SECRETS, ".npmrc"),
    Candidate("**/node_modules", "deps", _DEPS, "node_modules"),
    Candidate(".venv", "deps", _DEPS, ".venv"),
    Candidate("dist", "build", _DEPS, "dist"),
    Candidate("build", "build", _DEPS, "build"),
    Candidate("target", "build", _DEPS, "target"),
    Candidate(".next", "build", _DEPS, ".next"),
    Candidate("**/__pycache__", "cache", _CACHES, "__pycache__"),
    Candidate("**/*.pyc", "cache", _CACHES, ".pyc"),
    Candidate("**/.pytest_cache", "cache", _CACHES, ".pytest_cache"),
    Candidate("**/.mypy_cache", "cache", _CACHES, ".mypy_cache"),
    Candidate("**/.ruff_cache", "cache", _CACHES, ".ruff_cache"),
    Candidate(".tox", "cache", _CACHES, ".tox"),
    Candidate(".nox", "cache", _CACHES, ".nox"),
    Candidate(".coverage", "cache", _CACHES, ".coverage"),
    Candidate("htmlcov", "cache", _CACHES, "htmlcov"),
    Candidate("coverage", "cache", _CACHES, "coverage"),
    Candidate(".nyc_output", "cache", _CACHES, ".nyc_output"),
    Candidate(".gradle", "cache", _CACHES, ".gradle"),
    Candidate(".idea", "cache", _CACHES, ".idea"),
    Candidate(".vscode", "cache", _CACHES, ".vscode"),
    Candidate("**/.DS_Store", "cache", _CACHES, ".DS_Store"),
)
# The common leaks, excluded from a context copied whole even before such a file exists.
PREVENTIVE = frozenset(
    {
        ".git",
        "**/.env",
        "**/.env.*",
        "**/*.pem",
        "**/*.key",
        "**/id_rsa",
        "**/id_ecdsa",
        "**/id_ed25519",
    }
)


# --- the fixer ---------------------------------------------------------------------------------


@register
class NoDockerignore(Fixer):
    code = "DF204"
    severity = Severity.WARNING
    security = True
    name = "no-dockerignore"
    summary = "The build context has no .dockerignore, or its .dockerignore lets secrets in"
    resolves = Resolves()
    image_changes = ("removed:/**",)  # excluded paths no longer reach the image
    default_enabled = False  # writes a file other than the Dockerfile

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        if not ctx.has_context or ctx.context_dir is None or not doc.instructions:
            return
        root = ctx.context_dir
        index = ContextIndex.scan(root)
        reach = read_reach(doc, ctx, index)
        at = doc.instructions[0]
        ignore_file = ctx.dockerignore_file
        if ignore_file is None:
            yield from self._create(at, root, index, reach)
        else:
            yield from self._complete(at, root, ignore_file, index, reach)

    # --- what is read -------------------------------------------------------------------------

    def _blocked(self, cand: Candidate, reach: Reach) -> bool:
        """Whether this kind of path must stay whatever the context holds."""
        if cand.kind == "vcs":
            return bool(reach.git_metadata) and bool(reach.whole)
        if cand.name == "node_modules":
            return not reach.installs_node
        if cand.kind == "build":
            return not reach.builds or cand.name not in reach.outputs
        return False

    def _named_by_text(self, cand: Candidate, path: str, reach: Reach) -> bool:
        """Whether a RUN (CMD, ENV …) names the path, so the build may read it."""
        name = path.rsplit("/", 1)[-1]
        if cand.kind == "build":
            return text_mentions(reach.texts_before_build, name, strict=True)
        if cand.kind == "deps":
            made = reach.installs_node if cand.name == "node_modules" else reach.creates_venv
            return not made and text_mentions(reach.texts, name, strict=True)
        return text_mentions(reach.texts, name, strict=False)

    # --- a new file ----------------------------------------------------------------------------

    def _patterns(
        self, index: ContextIndex, reach: Reach, candidates: Iterable[Candidate]
    ) -> tuple[list[tuple[Candidate, str]], set[str]]:
        """Patterns that exclude existing paths nothing reads, and the paths they exclude."""
        chosen: list[tuple[Candidate, str]] = []
        dropped: set[str] = set()
        protected = set(reach.dockerfiles) | {".dockerignore"}
        for cand in candidates:
            if self._blocked(cand, reach):
                continue
            matcher = DockerIgnore.from_patterns([cand.pattern])
            hits = [p for p in index.paths if matcher.excludes(p)]
            # Only the top of an excluded tree matters.
            tops = [p for p in hits if not any(p.startswith(h + "/") for h in hits if h != p)]
            if not tops:
                continue
            ok = [
                p
                for p in tops
                if not named_by_source(p, reach.sources)
                and not (
                    cand.kind == "config" and (reach.whole or swept_by_source(p, reach.sources))
                )
                and not self._named_by_text(cand, p, reach)
                and not any(d == p or d.startswith(p + "/") for d in protected)
            ]
            if len(ok) == len(tops):
                chosen.append((cand, cand.pattern))
                dropped.update(hits)
            else:
                # Narrow the pattern to the paths nothing copies by name.
                for p in ok:
                    literal = literal_pattern(p)
                    if literal is None:
                        continue
                    chosen.append((cand, literal))
                    dropped.update(h for h in hits if h == p or h.startswith(p + "/"))
        return chosen, dropped

    def _create(
        self, at: Instruction, root: Path, index: ContextIndex, reach: Reach
    ) -> Iterator[Finding]:
        message = "the build context has no .dockerignore"
        chosen, dropped = self._patterns(index, reach, CANDIDATES)
        preventive = self._preventive(index, reach, {pattern for _, pattern in chosen})
        if preventive:
            whole = reach.whole[0]
            taker = "a RUN mount" if whole.startswith("RUN") else f"`{whole}`"
            message += f" and {taker} takes all of it"
            both = [*chosen, *preventive]
            chosen = [(c, p) for cand in CANDIDATES for c, p in both if c is cand]
        if not chosen:
            return
        if reach.unknown:
            yield self.finding(at, message, reason=unknown_reason(reach))
            return
        lines = [HEADER]
        group = ""
        for cand, pattern in chosen:
            if cand.group != group:
                group = cand.group
                lines.append(f"# {group}")
            if pattern not in lines:
                lines.append(pattern)
        content = "\n".join(lines) + "\n"
        if not self._verified(content, reach, index):
            return
        description = "create .dockerignore"
        applicability = self._applicability(dropped, reach, index)
        if applicability is Applicability.UNSAFE and dropped:
            description += f": takes {_named(dropped)} out of the build context"
        if preventive:
            description += (
                f" ({', '.join(p for _, p in preventive)}: nothing there yet, kept out before "
                "it is added)"
            )
        fix = Fix(
            (),
            applicability,
            description=description,
            file_changes=(FileChange(root / ".dockerignore", content, None),),
        )
        yield self.finding(at, message, fix)

    def _preventive(
        self, index: ContextIndex, reach: Reach, chosen: set[str]
    ) -> list[tuple[Candidate, str]]:
        """Secrets and `.git` patterns for a context copied whole that match nothing yet (what
        exists is :meth:`_patterns`' to decide), unless a source, a RUN or the build's Git use
        would need such a file."""
        if not reach.whole:
            return []
        out: list[tuple[Candidate, str]] = []
        for cand in CANDIDATES:
            if cand.pattern not in PREVENTIVE or cand.pattern in chosen:
                continue
            if self._blocked(cand, reach) or text_mentions(
                reach.texts, cand.name.rstrip("."), False
            ):
                continue
            matcher = DockerIgnore.from_patterns([cand.pattern])
            if any(matcher.excludes(p) for p in index.paths):
                continue
            if any(
                cand.name.rstrip(".") in src
                if any(c in src for c in "*?[")
                else any(matcher.excludes(p) for p in sorted(with_parents(src)))
                for src in reach.sources
            ):
                continue
            out.append((cand, cand.pattern))
        return out

    # --- an existing file ----------------------------------------------------------------------

    def _complete(
        self, at: Instruction, root: Path, ignore_file: Path, index: ContextIndex, reach: Reach
    ) -> Iterator[Finding]:
        try:
            original = ignore_file.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return
        try:
            current = DockerIgnore.from_text(original)
        except ValueError as exc:
            yield self.finding(at, f"{ignore_file.name} cannot be read by Docker", reason=str(exc))
            return
        wanted = [c for c in CANDIDATES if c.pattern in (".git", "**/.env", "**/.env.*")]
        # The exceptions, read as plain patterns: what the user re-includes on purpose.
        exceptions = DockerIgnore.from_patterns([p.text for p in current.patterns if p.exception])
        missing: list[str] = []
        dropped: set[str] = set()
        chosen, _ = self._patterns(index, reach, wanted)
        for _, pattern in chosen:
            matcher = DockerIgnore.from_patterns([pattern])
            leaks = [
                p
                for p in index.paths
                if matcher.excludes(p)
                and not current.excludes(p)
                # A path an exception names on purpose stays.
                and not exceptions.matches_or_parent_matches(p)
            ]
            if leaks:
                missing.append(pattern)
                dropped.update(leaks)
        if not missing:
            return
        names = ", ".join(missing)
        message = f"{ignore_file.name} lets {names} into the build context"
        if reach.unknown:
            yield self.finding(at, message, reason=unknown_reason(reach))
            return
        eol = "\r\n" if "\r\n" in original else "\n"
        sep = "" if not original or original.endswith("\n") else eol
        content = original + sep + eol.join([APPEND_HEADER, *missing]) + eol
        if not self._verified(content, reach, index):
            return
        fix = Fix(
            (),
            self._applicability(dropped, reach, index),
            description=f"add {names} to {ignore_file.name}",
            file_changes=(FileChange(ignore_file, content, original),),
        )
        yield self.finding(at, message, fix)

    # --- checks -------------------------------------------------------------------------------

    def _verified(self, content: str, reach: Reach, index: ContextIndex) -> bool:
        """The new ignore file, read as Docker reads it, keeps everything the build names."""
        try:
            ign = DockerIgnore.from_text(content)
        except ValueError:
            return False
        keep = set(reach.dockerfiles) | {".dockerignore"}
        for src in reach.sources:
            if any(c in src for c in "*?["):
                keep.update(p for p in index.paths if source_matches(src, p))
            else:
                keep.add(src)
        return not any(ign.excludes(p) for p in keep)

    def _applicability(self, dropped: set[str], reach: Reach, index: ContextIndex) -> Applicability:
        if not index.complete:
            return Applicability.UNSAFE
        if (reach.whole and dropped) or any(swept_by_source(p, reach.sources) for p in dropped):
            return Applicability.UNSAFE  # a COPY took them along: the image changes
        return Applicability.SAFE


def _named(paths: set[str]) -> str:
    """The tops of the excluded trees, a few by name (`.env`, `dist` and 3 more)."""
    tops = sorted(p for p in paths if not any(p.startswith(q + "/") for q in paths))
    shown = ", ".join(f"`{p}`" for p in tops[:3])
    return shown + (f" and {len(tops) - 3} more" if len(tops) > 3 else "")
