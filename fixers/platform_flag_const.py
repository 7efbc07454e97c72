"""DF524 platform-flag-const: `FROM --platform=linux/amd64`, a stage fixed to one platform.

## What it does
Reports a `FROM --platform=` whose value is a constant (`linux/amd64`) rather than a variable
(`$BUILDPLATFORM`, `$TARGETPLATFORM`), unless the stage's name says the stage is meant for
that platform (its OS or architecture is part of the name: `build_arm64`), as BuildKit's
check does.

## Why is this bad
A constant platform builds the stage for that platform whatever the build asks for: `docker
buildx build --platform linux/arm64` still pulls and runs the amd64 image (under emulation,
slowly), and a multi-platform build gets the same stage for every platform, so the image
says arm64 and carries amd64 binaries. `--platform=$BUILDPLATFORM` (a builder stage that
cross-compiles) or no flag at all (the target platform) says what is meant. BuildKit warns
about it (check `FromPlatformFlagConstDisallowed`).

## Example
```dockerfile
FROM --platform=linux/amd64 node:20-alpine AS web
RUN npm ci
```
Use instead:
```dockerfile
FROM node:20-alpine AS web
RUN npm ci
```

## Fix safety
No fix (display-only): without the flag the stage is built for the platform the build asks
for, which may be another one than today's (a build on an arm64 machine stops using the
amd64 image); whether the constant was a workaround for an image published for one platform
only, or should be `$BUILDPLATFORM`, only the author knows.

## Options
None.

## Resolves
BuildKit check FromPlatformFlagConstDisallowed · hadolint DL3029 (which also reports stages
named for their platform) · Trivy: none · Checkov: none.
"""

from __future__ import annotations

from collections.abc import Iterator

from dockfix.core.fixer import Finding, Fixer, Resolves, Severity, register
from dockfix.semantics.context import FixContext
from dockfix.semantics.semantic import unquote_word
from dockfix.syntax import Dockerfile

_OSES = frozenset({"linux", "windows", "darwin", "freebsd"})
_ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm"}


def _os_and_arch(platform: str) -> tuple[str, str]:
    """A platform's OS and architecture as BuildKit normalises them ("" when not given)."""
    parts = platform.lower().split("/")
    if len(parts) == 1:
        return (parts[0], "") if parts[0] in _OSES else ("linux", parts[0])
    return parts[0], _ARCH_ALIASES.get(parts[1], parts[1])


@register
class PlatformFlagConst(Fixer):
    code = "DF524"
    mentions = ("platform",)
    severity = Severity.INFO
    name = "platform-flag-const"
    summary = "FROM --platform with a constant fixes the stage to one platform"
    resolves = Resolves(hadolint=("DL3029",), buildkit=("FromPlatformFlagConstDisallowed",))
    acts_on = frozenset({"FROM"})

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for stage in doc.stages:
            if not stage.platform:
                continue
            value = unquote_word(stage.platform)
            if not value or "$" in value:
                continue
            os_name, arch = _os_and_arch(value)
            name = stage.name or ""
            if name and ((os_name and os_name in name) or (arch and arch in name)):
                continue  # a stage meant for that platform (`build_arm64`)
            yield self.finding(
                stage.from_instruction,
                f"`--platform={value}` builds this stage for {value} whatever platform the "
                "build asks for",
                reason=(
                    "without the flag the stage follows the build's platform, which may differ "
                    "from today's; `$BUILDPLATFORM` or no flag is the author's choice"
                ),
            )
