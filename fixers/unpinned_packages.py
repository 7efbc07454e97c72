"""DF108 unpinned-packages: packages installed without a version.

## What it does
Reports, once per `RUN` (shell form, exec form, heredoc scripts, `ONBUILD RUN`), the packages
its commands install without a version, grouped by the tool that installs them: `apt-get
install` (also `apt` and `aptitude`), `apk add`, `dnf install` (also `yum` and `microdnf`),
`zypper install` (`in`), `pip install` (also `python -m pip`), `uv pip install` and `uv add`,
`npm install` (and its aliases `i`, `add`) and `gem install`. What counts as pinned is what
hadolint accepts: `curl=8.5.0-2` or `curl/bookworm-backports` and `.deb` files for apt;
`curl=8.5.0-r0`, `curl~8.5` and `.apk` files for apk; a version operator (`flask==3.0.3`,
`flask>=3`), a VCS URL with `@ref`, a path or a `.whl`/`.tar.gz` for pip and uv (commands
reading `-r`, `-c` or `.` are not reported); `express@4.19.2`, a tarball, a folder or a git
URL with `#ref` for npm; `rails:7.1.3` or `-v`/`--version` for gem. For dnf, yum, microdnf and
zypper a package is pinned when the word after its last `-` (an architecture such as
`.x86_64` aside) starts with a digit, as the version or release of `curl-8.6.0`,
`curl-8.6.0-1.el9` or `nginx-1:1.20.1` does, or when it names a version relation (`curl =
8.6.0`, `curl=8.0.1`, `'curl>=8'`). A variable (`$PACKAGES`) counts as unpinned, as in
hadolint. Beyond hadolint, it reads heredoc scripts, commands behind `sudo`, `apt install`,
`npm i` and uv; unlike it, an option's value is no package (`npm install --workspace
@org/api`, `dnf install --enablerepo crb …`, `zypper install --from repo …`), nor is what
installs no package of the index: an `.rpm` file or URL, a group (`@development-tools`), a
zypper pattern (`-t pattern`); and a name that only contains a number is not a version
(`java-17-openjdk-headless` is reported, hadolint takes it as pinned), while `zypper install
curl-8.0.1` names a version as for dnf. `dnf module install` (a stream, not a version) and
`uv tool install` are not read. A RUN under a PowerShell `SHELL` is not read.
tonistiigi/xx's `xx-apk` and `xx-apt-get` count as `apk` and `apt-get`. A `# hadolint
ignore=` pragma or a `.hadolint.yaml` `ignored` entry silences the finding of a RUN where it
names the rule of one of its tools (`DL3013` for pip, `DL3041` for dnf and microdnf), not the
RUNs of the others; uv's packages have no hadolint rule, so none silences them.

## Why is this bad
Without a version, the image gets whatever the package index offers on the day it is built:
two builds of the same commit can install different versions, and an upgrade arrives unseen.

## Example
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl git \
 && rm -rf /var/lib/apt/lists/*
```
Use instead:
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl=7.88.1-10+deb12u12 \
    git=1:2.39.5-0+deb12u2 \
 && rm -rf /var/lib/apt/lists/*
```

## Fix safety
No fix (display-only): dockfix has no resolver. The version a package manager can install
depends on the base image's package index (or PyPI's) on build day, which dockfix does not
read, offline or not; pinning a version that later leaves the index breaks the build (Debian,
Alpine and Fedora drop superseded versions from their indexes). Pin the versions your build was tested with, or pin the base
image by digest (DF202) and let a tool such as Renovate update both. A future resolver option
would make this rule fixable.

## Options
None.

## Resolves
hadolint DL3008 DL3018 DL3013 DL3016 DL3028 DL3033 DL3037 DL3041 · Trivy: none · Checkov: none.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.core.fixer import Finding, Fixer, Resolves, Severity, register
from dockfix.fixers._package_managers import PIN_RULES, unpinned_install
from dockfix.fixers._run_script import analyse_run
from dockfix.fixers._run_text import runs_mentioning, words_pattern
from dockfix.semantics.context import FixContext
from dockfix.syntax import Dockerfile, Instruction

# Every installer of `PIN_RULES` names one of these (apt-get, apt, aptitude, xx-apk, microdnf,
# pip3, `python -m pip`, `uv add` …): a RUN without them is not parsed.
_INSTALLER_NAMES = ("apt", "apk", "dnf", "yum", "zypper", "pip", "uv", "npm", "gem")
_INSTALLER_WORDS = words_pattern(*_INSTALLER_NAMES)


def _named(packages: list[str]) -> str:
    shown = ", ".join(f"`{p}`" for p in packages[:5])
    return shown if len(packages) <= 5 else f"{shown} and {len(packages) - 5} more"


@register
class UnpinnedPackages(Fixer):
    code = "DF108"
    severity = Severity.INFO
    name = "unpinned-packages"
    summary = "Packages installed without a version"
    resolves = Resolves(
        hadolint=("DL3008", "DL3018", "DL3013", "DL3016", "DL3028", "DL3033", "DL3037", "DL3041"),
        trivy=(),
        checkov=(),
    )
    mentions = _INSTALLER_NAMES

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        per_run: dict[int, tuple[Instruction, dict[tuple[str, str], list[str]]]] = {}
        for owner in runs_mentioning(doc, _INSTALLER_WORDS):
            for script in analyse_run(doc, owner).scripts:
                for cmd in script.parsed.commands:
                    found = unpinned_install(cmd.argv)
                    if found is None or not found[2]:
                        continue
                    key, program, packages = found
                    _, tools = per_run.setdefault(owner.index, (owner, {}))
                    listed = tools.setdefault((key, program), [])
                    listed.extend(p for p in packages if p not in listed)
        for owner, tools in per_run.values():
            parts = [
                f"{_named(packages)} installed by {program} without a version "
                f"(`{PIN_RULES[key].example.format(packages[0])}`)"
                for (key, program), packages in tools.items()
            ]
            finding = self.finding(
                owner,
                "; ".join(parts) + ": the image gets whatever the index has on build day",
                reason="no resolver: the version available depends on the base image's package "
                "index on build day, and a pinned version that later leaves the index (Debian "
                "and Alpine drop superseded ones) breaks the build",
            )
            # a pragma or `ignored` entry for one of these rules silences the RUN's finding
            rules = (PIN_RULES[key].rule for key, _ in tools)
            finding.hadolint = tuple(dict.fromkeys(rule for rule in rules if rule))
            yield finding
