r"""DF201 root-user: the image runs as root.

## What it does
Finds a final stage that runs as root: it has no `USER` (and neither does a stage it is
built `FROM`, nor its base image by default), or its last `USER` is `root` / `0`. The fix
adds a non-root user before the `CMD`/`ENTRYPOINT`, after the last `RUN` that still needs
root, and writes `USER` numerically (`USER 10001:10001`):

- Debian/Ubuntu bases: `groupadd --system` + `useradd --system --no-log-init --create-home`;
  Alpine (and Wolfi): `addgroup -S` + `adduser -S -D`; RHEL, CentOS, Rocky, Alma,
  Oracle Linux, Fedora: `groupadd -r` + `useradd -r -l -m`. The family comes from the base
  image's name (following stages built `FROM` other stages, and the default value of an
  `ARG` used in `FROM`), else from the package manager the file uses (`apt-get`, `apk`).
- `scratch`, distroless and Chainguard images (no `useradd`): `USER 65532:65532`, the UID of
  their `nonroot` user (Bun's distroless variant, which runs as root, too). Node and Bun
  (`oven/bun`) images: `USER 1000:1000`, their `node`/`bun` user. .NET 8+ images:
  `USER 1654:1654`, their `app` user (creating another `app` would fail the build).
- Minimal RPM images without `useradd` (UBI minimal/micro, Amazon Linux, `*-minimal`, the
  `-amazoncorretto`/`-corretto` and `-ubi9-minimal` variants of Java images), plain
  `busybox` (whose applets depend on how it was built: Debian's BusyBox has no `adduser`, a
  defect that `dockfix verify` found by building) and bases whose family cannot be known (a
  private image, an `ARG` without default): a numeric `USER 10001:10001` without a passwd
  entry (`HOME` is then `/`), and the message says so.
- A user the file already switched to earlier (`USER app` … `USER root`), or created with a
  fixed UID (`useradd -u 1000 app`), is reused instead of creating another, by its UID
  (`USER node` → `USER 1000:1000`); a named user whose UID is not known is display-only.

When the fix brings in the user, it gives it what the application writes at run time (the
`VOLUME`s, data directories named by `ENV`, paths its command, start script or sources write)
and names in the message what it checked and what it could not know.

## Why is this bad
A process that runs as root in the container is root on the container's filesystem and, with
a kernel or runtime escape, much closer to root on the host. Kubernetes' `runAsNonRoot` and
most admission policies reject such images; they can only verify a numeric `USER`.

## Example
```dockerfile
FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir --upgrade pip \
 && pip install --no-cache-dir -r requirements.txt
COPY . .
ENV DATA_DIR=/srv/data
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
```
Use instead:
```dockerfile
FROM python:3.12-slim
WORKDIR /app
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid 10001 --no-log-init --create-home app
COPY requirements.txt .
RUN pip install --no-cache-dir --upgrade pip \
 && pip install --no-cache-dir -r requirements.txt
COPY . .
ENV DATA_DIR=/srv/data
EXPOSE 8000
RUN mkdir -p /srv/data \
 && chown -R 10001:10001 /srv/data
USER 10001:10001
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
```
The user is created before the stage's first `COPY`/`ADD` (a code change does not run that
again); the code stays owned by root. The paths the application writes get their owner
after the last `RUN` (before a `VOLUME` that covers them), just before `USER`. Each joins the
`RUN` before it (with `&&`) when that is safe: never after a last command whose status `set
-e` ignores (`! { ldd … | grep 'not found'; }`), never on an inner heredoc's terminator line.

## Fix safety
Always unsafe: files the application writes at run time outside its `WORKDIR`, ports below
1024 (outside Docker's default sysctl, e.g. on Kubernetes), volumes owned by root and
tools that expect root (`apt-get` in an entrypoint) can break. The message names the
`EXPOSE`d privileged ports and `VOLUME`s it sees.

Display-only (no fix) when the image switches user itself: `gosu`, `su-exec`, `setpriv`,
`runuser`, `chroot --userspec`, `s6-setuidgid` or `su -c` in the file or in the
entrypoint script copied from the build context, s6-overlay's `/init`, and official
images whose entrypoint drops privileges (`postgres`, `redis`, `mysql`, `mongo`,
`rabbitmq`…) or whose server starts as root by design (`nginx`, `httpd`, `php:*-apache`,
`tomcat`, or a CMD/ENTRYPOINT that runs `httpd`, `apache2ctl`, `nginx`, `catalina.sh`, `sshd`
whatever the base): running those as non-root breaks them. Also display-only when the
command runs a file under `/root`, which a non-root user cannot read, when the image has
`ONBUILD` triggers (they run in child builds as this user), and when a user is created without a
fixed UID (`USER <name>` would add hadolint's DL3066), and when the image unpacks software
from an archive (`tar -C /opt`, `unzip -d`) into a tree it then runs from (on the PATH, the
WORKDIR, the CMD's program): servers installed that way (Kafka, Solr, a Tomcat tarball)
write logs and data beside themselves. Windows images are left alone, as
are bases that already run as non-root (distroless `:nonroot`, Chainguard, Bitnami, and
other images known to set a non-root `USER`).

## Options
- `user` (str, default `"app"`): the name of the user that is created.
- `uid` (int, default `10001`): its UID and GID (above the range distributions hand out).

## Resolves
hadolint DL3002 · Trivy DS-0002 · Checkov CKV_DOCKER_3, CKV_DOCKER_8.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from typing import ClassVar, NamedTuple

from dockfix.core.fixer import (
    Applicability,
    Finding,
    Fix,
    Fixer,
    Option,
    Resolves,
    Severity,
    register,
)
from dockfix.fixers._base_images import Base, classify
from dockfix.fixers._repo_images import repository_base_user
from dockfix.fixers._root_reasons import (
    ChainText,
    chain_text,
    command_instructions,
    drops_privileges,
    port_number,
    privileged_ports,
    root_home_data,
    root_home_tools,
    unpacked_software,
)
from dockfix.fixers._user_choice import choose_user, is_root, user_value
from dockfix.fixers._user_setup import (
    ownership_commands,
    placement,
    placement_edits,
    write_summary,
    written_dirs,
)
from dockfix.fixers._write_paths import WriteAnalysis
from dockfix.fixers._write_paths import analyse as analyse_writes
from dockfix.semantics.context import FixContext
from dockfix.semantics.semantic import from_reference, stage_chain
from dockfix.syntax import Dockerfile, Instruction, Stage


class Lineage(NamedTuple):
    """The final stage and the stages it is built FROM, oldest first."""

    final: Stage
    instructions: list[Instruction]  # all of theirs, in order
    base: str | None  # the image the oldest starts from, global ARG defaults expanded
    assumed_default: bool  # that image came from an ARG's default value
    users: list[Instruction]  # the USER instructions
    shells: list[Instruction]  # the SHELL instructions


def _lineage(doc: Dockerfile, final: Stage) -> Lineage:
    stages = stage_chain(final)
    base = from_reference(doc, stages[0])
    assumed = "$" in stages[0].base and base is not None
    instrs = [i for st in stages for i in st.instructions]
    users: list[Instruction] = []
    shells: list[Instruction] = []
    for i in instrs:  # one pass for both: every file is asked
        if i.keyword == "USER":
            users.append(i)
        elif i.keyword == "SHELL":
            shells.append(i)
    return Lineage(final, instrs, base, assumed, users, shells)


def _powershell(shells: list[Instruction]) -> bool:
    return any(i.json_args and "powershell" in " ".join(i.json_args).lower() for i in shells)


@register
class RootUser(Fixer):
    code = "DF201"
    severity = Severity.ERROR
    security = True
    name = "root-user"
    summary = "The image runs as root"
    resolves = Resolves(
        hadolint=("DL3002",), trivy=("DS-0002",), checkov=("CKV_DOCKER_3", "CKV_DOCKER_8")
    )
    # `added`: the directories the application writes, made by `mkdir -p` (anywhere).
    image_changes = ("config:User", "user-added", "owner:/**", "added:/**")
    options: ClassVar[Mapping[str, Option]] = {
        "user": Option(str, "app", "name of the non-root user the fix creates"),
        "uid": Option(int, 10001, "UID and GID of that user"),
    }

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        final = doc.final_stage
        if final is None or doc.escape == "`":
            return
        lineage = _lineage(doc, final)
        base = classify(lineage.base) if lineage.base is not None else Base("", "numeric")
        if base.family == "windows" or _powershell(lineage.shells):
            return
        if not self._runs_as_root(doc, ctx, lineage, base):
            return
        last_user = lineage.users[-1] if lineage.users else None
        at: Instruction = last_user if last_user is not None else final.from_instruction
        if last_user is not None:
            where = f"`USER {last_user.args.strip()}` on line {last_user.start_line}"
            message = f"the image runs as root ({where})"
        else:
            message = "the image runs as root: no USER in the final stage"
        chain = chain_text(lineage.instructions)
        blocked = self._must_stay_root(doc, ctx, lineage, base, chain)
        if blocked:
            yield self.finding(at, message, reason=blocked)
            return
        instrs = lineage.instructions
        writes = analyse_writes(doc, ctx, final, command_instructions(instrs), instrs)
        ports = privileged_ports(doc, base, instrs, writes)
        start = ctx.unprivileged_port_start
        if ports and (start is None or min(port_number(p) for p in ports) < start):
            yield self.finding(
                at,
                message,
                reason=(
                    f"the server binds port {', '.join(ports)}: below 1024 a non-root user "
                    "needs `net.ipv4.ip_unprivileged_port_start` to be 0 where the image "
                    "runs (Docker's default, not Kubernetes'); set `unprivileged-port-start "
                    "= 0` in the configuration if it is, or listen on a port above 1023"
                ),
            )
            return
        port_note = (
            f"binds port {', '.join(ports)}, allowed by `unprivileged-port-start = {start}`"
            if ports
            else ""
        )
        yield self._fix(doc, lineage, base, chain, at, message, writes, port_note)

    # --- why not --------------------------------------------------------------------------

    @staticmethod
    def _runs_as_root(doc: Dockerfile, ctx: FixContext, lineage: Lineage, base: Base) -> bool:
        if lineage.users:
            value = user_value(doc, lineage.users[-1])
            return value is not None and is_root(value)  # else a chosen (or unknowable) user
        if base.nonroot_default:
            return False
        # Built from this repository's own image, which sets a non-root USER?
        return not (lineage.base and repository_base_user(ctx, lineage.base))

    @staticmethod
    def _must_stay_root(
        doc: Dockerfile, ctx: FixContext, lineage: Lineage, base: Base, chain: ChainText
    ) -> str:
        """Why the image must keep starting as root, or ""."""
        instrs = lineage.instructions
        blocked = base.blocked
        if base.blocked_by_entrypoint and any(i.keyword == "ENTRYPOINT" for i in instrs):
            blocked = ""
        return (
            blocked
            or drops_privileges(doc, ctx, lineage.final, chain)
            or root_home_tools(chain)
            or unpacked_software(doc, chain)
        )

    # --- the fix --------------------------------------------------------------------------

    def _fix(
        self,
        doc: Dockerfile,
        lineage: Lineage,
        base: Base,
        chain: ChainText,
        at: Instruction,
        message: str,
        writes: WriteAnalysis,
        port_note: str,
    ) -> Finding:
        name = str(self.settings["user"])
        uid = int(self.settings["uid"])
        notes: list[str] = []
        if lineage.assumed_default and lineage.base:
            notes.append(f"assumes the default base `{lineage.base}` of the FROM's ARG")
        instrs = lineage.instructions
        choice = choose_user(doc, instrs, base, lineage.users, writes, name, uid)
        if isinstance(choice, str):
            return self.finding(at, message, reason=choice)
        notes += choice.notes
        final = lineage.final
        root_at_start = (
            not any(u.stage is not final for u in lineage.users) and not base.nonroot_default
        )
        owned: list[str] = []
        if not choice.reused:  # a user the file set up has its files arranged already
            given, blocker = written_dirs(writes)
            if blocker:
                return self.finding(at, message, reason=blocker)
            owned = ownership_commands(given, choice.value)
            notes.append(write_summary(writes, given))
        placed = placement(doc, final, choice.create, owned, choice.value, root_at_start)
        if isinstance(placed, str):
            return self.finding(at, message, reason=placed)
        notes += [n for n in (port_note, root_home_data(chain)) if n]
        created = " (created in the image)" if choice.create else ""
        desc = f"run as `USER {choice.value}`{created}"
        full = message + (f" — {'; '.join(n for n in notes if n)}" if notes else "")
        # Always unsafe once the lines can be placed: `check` never needs them written.
        build = functools.partial(placement_edits, doc, placed, choice.value)
        return self.finding(at, full, Fix.later(Applicability.UNSAFE, build, description=desc))
