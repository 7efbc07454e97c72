"""Every fixer is documented like a ruff rule, and its documented example is what it does."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

import dockfix
from dockfix.core.catalog import all_fixers
from dockfix.registry.digest_cache import DigestCache
from dockfix.registry.image_lookup import VERSION_TAG_SUFFIX
from dockfix.semantics.context import FixContext

OCI_INDEX = "application/vnd.oci.image.index.v1+json"

FIXERS = all_fixers()
SECTIONS = ("What it does", "Why is this bad", "Example", "Fix safety", "Options", "Resolves")


@pytest.mark.parametrize("code", list(FIXERS))
def test_documentation_sections(code: str) -> None:
    fx = FIXERS[code]
    doc = fx.documentation()
    headings = re.findall(r"^## (.+?)\s*$", doc, re.M)
    for section in SECTIONS:
        assert section in headings, f"{code}: no `## {section}` section"
    # the rules it declares are named in its docs, so a reader sees what it replaces
    resolves = fx.resolves
    for rule in (*resolves.hadolint, *resolves.trivy, *resolves.checkov, *resolves.buildkit):
        assert rule in doc, f"{code}: declares {rule} but its docs do not mention it"
    assert re.fullmatch(r"[A-Z]+[0-9]+", code) and re.fullmatch(r"[a-z0-9-]+", fx.name)
    assert fx.summary and fx.summary[0].isupper(), f"{code}: summary should start a sentence"


def _blocks(code: str) -> list[tuple[str, str]]:
    """(language, text) of each fenced block of a fixer's `## Example` section, in order."""
    doc = FIXERS[code].documentation()
    m = re.search(r"^## Example\s*\n(.*?)(?=^## |\Z)", doc, re.S | re.M)
    assert m is not None
    return re.findall(r"```(\w*)\n(.*?)```", m.group(1), re.S)


def _example(code: str) -> tuple[str, str] | None:
    blocks = [text for lang, text in _blocks(code) if lang == "dockerfile"]
    return (blocks[0], blocks[1]) if len(blocks) >= 2 else None


# What an example needs beyond the Dockerfile itself: files of the build context, or the
# option its docs name ("With `url = …`").
EXAMPLE_CONTEXT: dict[str, dict[str, str]] = {
    "DF101": {"requirements.txt": "flask==3.0.3\n"},
    "DF107": {"package.json": '{"name": "api"}', "package-lock.json": '{"lockfileVersion": 3}'},
    "DF301": {"Cargo.toml": '[package]\nname = "api"\nversion = "0.1.0"\n', "src/main.rs": ""},
    "DF302": {"go.mod": "module example.com/server\n", "cmd/server/main.go": "package main\n"},
    "DF305": {
        "package.json": '{"scripts": {"build": "tsc"}, "devDependencies": {"typescript": "^5"}}',
        "package-lock.json": '{"lockfileVersion": 3}',
        "tsconfig.json": '{"compilerOptions": {"outDir": "dist"}}',
    },
    "DF306": {
        "pom.xml": "<project><artifactId>orders</artifactId><version>1.4.0</version><build>"
        "<plugins><plugin><artifactId>spring-boot-maven-plugin</artifactId></plugin></plugins>"
        "</build></project>",
    },
    "DF523": {".dockerignore": "*.md\nconfig/local*\n", "README.md": "# docs\n"},
    "DF307": {
        "Orders.Api.csproj": '<Project Sdk="Microsoft.NET.Sdk.Web"><PropertyGroup>'
        "<TargetFramework>net8.0</TargetFramework></PropertyGroup></Project>",
    },
}
EXAMPLE_OPTIONS: dict[str, dict[str, object]] = {"DF402": {"url": "/healthz"}}
# Examples whose "Use instead" block shows only the end of the file (the changed stage).
PARTIAL_AFTER = {"DF301"}


def _display_only(code: str) -> bool:
    """The fixer never rewrites: its docs say so at the start of `## Fix safety`."""
    return "## Fix safety\nNo fix (display-only)" in FIXERS[code].documentation()


@pytest.mark.parametrize("code", [c for c, f in FIXERS.items() if not f.needs_network])
def test_documented_example_is_what_the_fixer_does(code: str, tmp_path: Path) -> None:
    example = _example(code)
    if example is None:
        pytest.skip(f"{code}'s example changes another file: tested on its own below")
    before, after = example
    for rel, content in EXAMPLE_CONTEXT.get(code, {}).items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(content)
    options = {code: EXAMPLE_OPTIONS[code]} if code in EXAMPLE_OPTIONS else None
    out = dockfix.fix_outcome(
        before,
        path=tmp_path / "Dockerfile",
        select=[code],
        unsafe_fixes=True,
        offline=True,
        options=options,
    )
    assert out.warnings == []
    if _display_only(code):
        # the example shows what to do by hand: the rule reports it and leaves the file
        assert out.fixed == before and out.applied == []
        assert out.findings and all(f.fix is None for f in out.findings)
        return
    assert out.applied, f"{code} does not fix its own example"
    assert out.findings == []
    if code in PARTIAL_AFTER:
        assert out.fixed.endswith(after) and out.fixed != before
    else:
        assert out.fixed == after


# The version tags the network fixers' examples show for the moving tags they replace.
EXAMPLE_VERSION_TAGS = {"node": "23.5.0", "python": "3.13.1"}


@pytest.mark.parametrize("code", [c for c, f in FIXERS.items() if f.needs_network])
def test_documented_example_of_a_network_fixer_is_what_it_does(
    code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registry answers from the digest cache (offline), seeded with made-up digests: the
    example's `sha256:…` stands for whatever digest the registry gives."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    example = _example(code)
    assert example is not None
    before, after = example
    cache = DigestCache()
    for query in FIXERS[code]().image_queries(dockfix.parse(before), FixContext(offline=True)):
        key = query.key[1]
        digest = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
        if query.kind == "version-tag":
            name = key.rsplit("/", 1)[1].split(":")[0]
            tag = EXAMPLE_VERSION_TAGS[name]
            cache.put(key + VERSION_TAG_SUFFIX, digest, OCI_INDEX, tag=tag)
        else:
            cache.put(key, digest, OCI_INDEX)
    cache.save()
    out = dockfix.fix_outcome(before, select=[code], unsafe_fixes=True, offline=True)
    assert out.applied and out.findings == [] and out.warnings == []
    assert re.fullmatch(re.escape(after).replace("…", "[0-9a-f]{64}"), out.fixed), out.fixed


def test_documented_dockerignore_is_what_df204_writes(tmp_path: Path) -> None:
    # "with a context holding `package.json`, `.git/`, `.env`, `node_modules/` and `dist/`"
    dockerfile, ignore = (text for _, text in _blocks("DF204"))
    (tmp_path / "package.json").write_text("{}\n")
    (tmp_path / ".env").write_text("TOKEN=x\n")
    for d in (".git", "node_modules", "dist"):
        (tmp_path / d).mkdir()
    out = dockfix.fix_outcome(
        dockerfile, path=tmp_path / "Dockerfile", select=["DF204"], unsafe_fixes=True
    )
    assert out.fixed == dockerfile
    assert [(c.path, c.content) for c in out.file_changes] == [(tmp_path / ".dockerignore", ignore)]


def test_documented_workflow_is_what_df601_writes(tmp_path: Path) -> None:
    dockerfile, workflow, after = (text for _, text in _blocks("DF601"))
    (tmp_path / ".git").mkdir()
    ci = tmp_path / ".github" / "workflows" / "ci.yml"
    ci.parent.mkdir(parents=True)
    ci.write_text(workflow)
    path = tmp_path / "services" / "api" / "Dockerfile"
    path.parent.mkdir(parents=True)
    path.write_text(dockerfile)
    out = dockfix.fix_outcome(dockerfile, path=path, select=["DF601"], unsafe_fixes=True)
    (change,) = out.file_changes
    # "after" shows the steps, from the build on; the lines above them are unchanged
    head = workflow[: workflow.index(after.splitlines()[0])]
    assert change.path == ci and change.content == head + after


def test_a_compiled_rule_module_is_documented_from_its_source(tmp_path: Path) -> None:
    """A module compiled by mypyc has no docstring at run time: the rule's page comes from the
    source file installed beside the extension."""
    import importlib.machinery
    import sys
    import types

    from dockfix.core.fixer import Fixer

    (tmp_path / "compiled_rule.py").write_text('"""## What it does\n\nIt works."""\n')
    module = types.ModuleType("compiled_rule")
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]  # .cpython-311-x86_64-linux-gnu.so
    module.__file__ = str(tmp_path / f"compiled_rule{suffix}")
    module.__doc__ = None
    sys.modules["compiled_rule"] = module
    try:
        rule = type("CompiledRule", (Fixer,), {"__module__": "compiled_rule", "summary": "S"})
        assert rule.documentation() == "## What it does\n\nIt works."
        (tmp_path / "compiled_rule.py").unlink()  # no source installed: the summary at least
        assert rule.documentation() == "S"
    finally:
        del sys.modules["compiled_rule"]


# Every check of BuildKit's build checks reference (docs.docker.com/reference/build-checks),
# and InvalidBaseImagePlatform, which BuildKit reports during the build.
BUILDKIT_CHECKS = [
    "StageNameCasing",
    "FromAsCasing",
    "NoEmptyContinuation",
    "ConsistentInstructionCasing",
    "DuplicateStageName",
    "ReservedStageName",
    "JSONArgsRecommended",
    "MaintainerDeprecated",
    "UndefinedArgInFrom",
    "WorkdirRelativePath",
    "UndefinedVar",
    "MultipleInstructionsDisallowed",
    "LegacyKeyValueFormat",
    "RedundantTargetPlatform",
    "SecretsUsedInArgOrEnv",
    "InvalidDefaultArgInFrom",
    "FromPlatformFlagConstDisallowed",
    "CopyIgnoredFile",
    "InvalidDefinitionDescription",
    "ExposeProtoCasing",
    "ExposeInvalidFormat",
    "InvalidBaseImagePlatform",
]


def test_readme_says_what_dockfix_does_about_every_buildkit_check() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("### BuildKit build checks", 1)[1].split("\n## ", 1)[0]
    rows = {
        check: row
        for row in section.splitlines()
        if row.startswith("| ") and not row.startswith("| BuildKit check")
        for check in re.findall(r"[A-Z][A-Za-z]+", row.split("|")[1])
    }
    assert sorted(rows) == sorted(BUILDKIT_CHECKS)
    for code, fx in FIXERS.items():
        for check in fx.resolves.buildkit:
            assert code in rows[check], f"{check}: the README does not name {code}"
            fixers_row = next(r for r in readme.splitlines() if r.startswith(f"| {code} |"))
            resolves_cell = fixers_row.rsplit("|", 2)[1]
            assert "BuildKit" in resolves_cell and check in resolves_cell, f"{code}: {check}"
    # a check no fixer resolves says why
    for check in set(BUILDKIT_CHECKS) - {c for f in FIXERS.values() for c in f.resolves.buildkit}:
        assert "not handled:" in rows[check], check
