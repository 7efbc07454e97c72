r"""DF103 apt-lists-kept: package lists and caches left in the layer after an install.

## What it does
Finds a `RUN` that installs packages and leaves the package manager's downloaded metadata
in its layer, and cleans up in the same `RUN`:

- apt: `apt-get update` followed by an install, without removing the lists → appends
  `rm -rf /var/lib/apt/lists/*` to the end of the `RUN`'s `&&` chain;
- apk: `apk add` without `--no-cache` → adds `--no-cache` (and drops an `apk update` that
  only fed those `apk add`s, or else removes `/var/cache/apk/*`);
- dnf, yum, microdnf: an install without `<tool> clean all` after it → appends it;
  zypper: appends `zypper clean --all`;
- Yarn 1: `yarn install` without `yarn cache clean` in the same `RUN` → appends it, where the
  files the image has say the project uses Yarn 1 (the release `package.json`, `.yarnrc.yml`
  or `yarn.lock` names, no `yarn-path` in `.yarnrc`, no `corepack` or `yarn set version`
  before); Yarn 2+ caches are where Plug'n'Play reads the packages from: never cleaned.

What counts as the clean-up: `rm` of the lists, of a parent directory or of a glob of their
entries (`/var/lib/apt/lists/*_*`), and `apt-get dist-clean` (apt 2.7 and later). A brace list
(`rm -rf /var/{cache,lib}/apt`) counts where the `RUN`'s shell expands it (bash, zsh, ksh);
`/bin/sh` of Debian and Ubuntu is dash, which passes the braces to `rm` as they are, so the
lists stay and the message says why. Naming some entries (`lists/partial`) is not enough.

The new command follows the file's layout: one-line `RUN`s get ` && rm …` appended, a
multi-line `RUN` gets a new continuation line in its own style (`&&` at line starts or at
line ends, same indentation; `;` where `set -e` is on). A shell comment at the end of the
line stays last (it would swallow the new command). Heredoc scripts (`RUN <<EOF`) get a new
last line when `set -e` is on and ` && …` after their last command otherwise, which keeps
the script's exit status.

## Why is this bad
The lists are downloaded by `apt-get update` and are only needed while installing; left
behind they add tens of megabytes to the image, and a later layer that deletes them does not
shrink the earlier one. The same holds for apk's index and dnf/yum/zypper metadata caches.

## Example
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl
```
Use instead:
```dockerfile
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*
```

## Fix safety
Safe when nothing later needs what is removed. A file that turns yum/dnf's `keepcache` on
keeps its packages on purpose and is left alone. Nothing is reported when a `--mount` (cache,
tmpfs or bind) covers the lists or the cache: they are then not in the layer, and `rm` would
empty the cache. For apt, the stage's later `RUN`s, and the `RUN`s of stages built `FROM` it,
are checked: one that installs without its own `apt-get update` would fail once the lists are
gone, so the fix adds the update there as well and is **unsafe** (that install now sees
current lists); where that cannot be written (exec form, inside `||` or a compound command),
the finding is display-only. A later `RUN` that runs a script (`./install.sh`) could call
apt without updating: the fix is then unsafe too, and display-only where the script's source
in the build context (by its `COPY` or bind mount) installs with apt without an update. Likewise for apk: `--no-cache` fetches a
fresh index, so it is unsafe where the `RUN` used an index fetched by an earlier layer, or
where a later `apk` command relies on the index this `RUN` stops keeping. A later
`dnf`/`yum` with `--cacheonly` (a later `yarn … --offline`) makes the clean-up display-only.
apt lists and Yarn caches are only reported in stages that end up in an image (the last stage
and stages other stages are built FROM), as hadolint does. A Yarn install whose release cannot
be told (no `yarn.lock` copied, Yarn 2+ files …) is display-only, naming what was read; one
with a cache mount on a Yarn cache directory is not reported (the mount keeps the cache out of
the layer, and DF104 adds such mounts).

## Options
None.

## Resolves
hadolint DL3009, DL3019, DL3032, DL3036, DL3040, DL3060 · Trivy DS-0015, DS-0019, DS-0020, DS-0025,
DS-0027 · Checkov: none.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.core.fixer import Finding, Fixer, Resolves, Severity, register
from dockfix.fixers._apk_index import APK, apk_index
from dockfix.fixers._apt_lists import APT, apt_lists
from dockfix.fixers._kept_caches import Kept, commands_of
from dockfix.fixers._package_managers import SYSTEM_PACKAGE_MANAGERS, system_manager
from dockfix.fixers._rpm_caches import rpm_caches
from dockfix.fixers._run_script import analyse_run
from dockfix.fixers._run_text import runs_mentioning, words_pattern
from dockfix.fixers._yarn_cache import YARN_HADOLINT_RULE, yarn_cache
from dockfix.semantics.context import FixContext
from dockfix.syntax import Dockerfile, Instruction

# A RUN without one of these words runs no package manager this fixer cleans up after.
_PROGRAM_WORDS = words_pattern(
    *dict.fromkeys(p for m in SYSTEM_PACKAGE_MANAGERS for p in m.programs), "yarn"
)


@register
class AptListsKept(Fixer):
    code = "DF103"
    severity = Severity.INFO
    name = "apt-lists-kept"
    summary = "Package lists or caches left in the layer after an install"
    resolves = Resolves(
        hadolint=("DL3009", "DL3019", "DL3032", "DL3036", "DL3040", "DL3060"),
        trivy=("DS-0015", "DS-0019", "DS-0020", "DS-0025", "DS-0027"),
        checkov=(),
    )
    mentions = (*dict.fromkeys(p for m in SYSTEM_PACKAGE_MANAGERS for p in m.programs), "yarn")
    image_changes = (
        "apt-lists-removed",
        "caches-removed:/var/cache/apk,/var/cache/dnf,/var/cache/yum,/var/cache/zypp,/var/cache/apt,"
        "/usr/local/share/.cache/yarn,/root/.cache/yarn,/home/*/.cache/yarn",
    )

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for owner in runs_mentioning(doc, _PROGRAM_WORDS):
            cmds = commands_of(analyse_run(doc, owner))
            if not cmds:
                continue
            kept = apt_lists(doc, owner, cmds, ctx)
            if kept is not None:
                yield self._kept(owner, kept, APT.hadolint_rule)
            kept = apk_index(doc, owner, cmds)
            if kept is not None:
                yield self._kept(owner, kept, APK.hadolint_rule)
            for program, kept in rpm_caches(doc, owner, cmds):
                # the rule of its own manager: a `# hadolint ignore=` of one manager's rule
                # leaves the others reported
                manager = system_manager(program)
                yield self._kept(
                    owner, kept, manager.hadolint_rule if manager is not None else "DL3040"
                )
            kept = yarn_cache(doc, ctx, owner, cmds)
            if kept is not None:
                yield self._kept(owner, kept, YARN_HADOLINT_RULE)

    def _kept(self, owner: Instruction, kept: Kept, rule: str) -> Finding:
        found = self.finding(owner, kept.message, kept.fix, reason=kept.reason)
        found.hadolint = (rule,)
        return found
