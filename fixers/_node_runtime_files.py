"""What a Node service reads at run time besides its build output and `node_modules`: used by
the Node rewrite (DF305) to fill the runtime stage, or to say why it cannot.

Each answer was found by building and starting real projects split by DF305: a start command
that preloads `tsconfig-paths` reads `tsconfig.json`; a `file:` dependency is a link from
`node_modules` into the project; a service reads `db/schema.sql` or `api/openapi.yaml` from
the project tree with a path its sources spell out.
"""

from __future__ import annotations

import posixpath
import re
from collections import deque
from typing import TYPE_CHECKING, Any

from dockfix.fixers._lazy import lazy_re

if TYPE_CHECKING:
    from dockfix.fixers._context_files import ContextFiles

# Node flags whose value is a module loaded before the script.
_PRELOAD_FLAGS = ("-r", "--require", "--import", "--loader", "--experimental-loader")
_SOURCE_SUFFIXES = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx")
# Directories of a project whose code the service does not run.
_NOT_SERVICE_CODE = frozenset(
    {"test", "tests", "__tests__", "spec", "e2e", "scripts", "docs", "examples", "cypress"}
)
_TEST_FILE = lazy_re(r"\.(test|spec|stories)\.[cm]?[jt]sx?$")
# A string literal that is not a module specifier (`from "…"`, `require("…")`, `import("…")`).
_LITERAL = lazy_re(
    r"""(?<![\w$])(?<!from )(?<!require\()(?<!import\()(?<!import )"""
    r"""(["'`])((?:(?!\1)[^\\\n]){1,200})\1"""
)
_MAX_FILES = 300
_MAX_VISITS = 5000
_MAX_BYTES = 128 * 1024
_SKIPPED_DIRS = frozenset({"node_modules", *_NOT_SERVICE_CODE})
# Project files that the runtime stage gets anyway, or that only the build reads.
_BUILD_ONLY_NAMES = lazy_re(
    r"^(package(-lock)?\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|"
    r"node_modules|tsconfig.*\.json|Dockerfile.*|\.dockerignore|\.git.*)$"
)


def preloaded_modules(words: list[str]) -> list[str]:
    """The packages a `node` start command loads with `-r`/`--import` before its script."""
    out: list[str] = []
    for i, w in enumerate(words):
        value = None
        if w in _PRELOAD_FLAGS and i + 1 < len(words):
            value = words[i + 1]
        elif w.startswith(tuple(f + "=" for f in _PRELOAD_FLAGS if f.startswith("--"))):
            value = w.partition("=")[2]
        if value and not value.startswith((".", "/", "node:", "file:", "data:")):
            out.append(value)
    return out


def package_name(specifier: str) -> str:
    """The package of a module specifier: `@scope/pkg/register` → `@scope/pkg`."""
    parts = specifier.split("/")
    return "/".join(parts[:2]) if specifier.startswith("@") else parts[0]


def preload_problem(pkg: dict[str, Any], modules: list[str]) -> str | None:
    """A preloaded module that only `devDependencies` lists: the prune removes it."""
    runtime = {**_deps(pkg, "dependencies"), **_deps(pkg, "optionalDependencies")}
    dev = _deps(pkg, "devDependencies")
    for module in modules:
        name = package_name(module)
        if name not in runtime and name in dev:
            return (
                f"the start command preloads `{module}`, which package.json lists in "
                "devDependencies only: the runtime stage's pruned node_modules lacks it"
            )
    return None


def local_packages(pkg: dict[str, Any]) -> list[str] | str:
    """Top-level project entries that `file:`/`link:` dependencies point into (npm links
    them from `node_modules`), or why one cannot be copied."""
    out: list[str] = []
    for deps in (_deps(pkg, "dependencies"), _deps(pkg, "optionalDependencies")):
        for name, spec in deps.items():
            if not isinstance(spec, str) or not spec.startswith(("file:", "link:")):
                continue
            target = spec.partition(":")[2]
            if target.endswith((".tgz", ".tar.gz", ".tar")):
                continue  # a tarball is unpacked into node_modules
            rel = posixpath.normpath(target)
            if rel.startswith(("..", "/")) or rel == ".":
                return (
                    f"the dependency `{name}` is `{spec}`, a directory outside the project "
                    "that the runtime stage would not have"
                )
            top = rel.split("/")[0]
            if top not in out:
                out.append(top)
    return out


def read_by_sources(
    files: ContextFiles, project: str, names: list[str], skip: set[str]
) -> set[str]:
    """Entries of the project (``names``, minus ``skip``) that a string literal of the
    service's JavaScript/TypeScript sources names as a path: `join(root, "db", "x.sql")`,
    `` `${root}/api/openapi.yaml` ``, `"NOTICE.txt"`."""
    wanted = {n for n in names if n not in skip and not _BUILD_ONLY_NAMES.match(n)}
    found: set[str] = set()
    budget = [_MAX_FILES, _MAX_VISITS]  # files read, paths looked at
    for name in names:
        if name in skip or name.startswith(".") or name in _NOT_SERVICE_CODE:
            continue
        rel = files.rel(posixpath.join(project, name))
        if rel is not None:
            found |= _literal_names(files, rel, wanted, budget)
    return found


def _literal_names(files: ContextFiles, rel: str, wanted: set[str], budget: list[int]) -> set[str]:
    ctx = files.ctx
    found: set[str] = set()
    queue = deque([rel])  # breadth first: the entry points before generated code
    while queue and budget[0] > 0 and budget[1] > 0:
        path = queue.popleft()
        budget[1] -= 1
        if path.endswith(_SOURCE_SUFFIXES):
            if not _TEST_FILE.search(path):
                budget[0] -= 1
                data = ctx.read_bytes(path, _MAX_BYTES)
                if data is not None:
                    found |= _names_in(data.decode("utf-8", "replace"), wanted)
            continue
        for entry in ctx.list_dir(path):  # nothing for a file
            child = posixpath.join(path, entry)
            if entry.startswith(".") or entry in _SKIPPED_DIRS or ctx.is_excluded(child):
                continue
            queue.append(child)
    return found


def _names_in(text: str, wanted: set[str]) -> set[str]:
    found: set[str] = set()
    for m in _LITERAL.finditer(text):
        parts = [p for p in re.split(r"[/\\]", m.group(2)) if p not in ("", ".", "..")]
        parts = [p for p in parts if "$" not in p and "{" not in p and "}" not in p]
        if parts and parts[0] in wanted:
            found.add(parts[0])
    return found


def _deps(pkg: dict[str, Any], key: str) -> dict[str, Any]:
    deps = pkg.get(key)
    return deps if isinstance(deps, dict) else {}
