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
  their `nonroot` user. Node images: `USER 1000:1000`, their `node` user. .NET 8+ images:
  `USER 1654:1654`, their `app` user (creating another `app` would fail the build).
- Minimal RPM images without `useradd` (UBI minimal/micro, Amazon Linux, `*-minimal`), plain
  `busybox` (whose applets depend on how it was built: Debian's BusyBox has no `adduser`, a
  defect that `dockfix verify` found by building) and bases whose family cannot be known (a private image, an `ARG` without default): a numeric
  `USER 10001:10001` without a passwd entry (`HOME` is then `/`), and the message says so.
- A user the file already switched to earlier (`USER app` … `USER root`), or created with a
  fixed UID (`useradd -u 1000 app`), is reused instead of creating another, by its UID
  (`USER node` → `USER 1000:1000`); a named user whose UID is not known is display-only.

The user creation joins the stage's last `RUN` when the new command can be appended safely
(a separate `RUN` right after a short one would add hadolint's DL3059). When the fix brings
in the user, the `COPY`/`ADD` instructions of the final stage that copy into the `WORKDIR`
get `--chown=<uid>:<gid>`, so the application can write its own directory.

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

## Why is this bad
A process that runs as root in the container is root on the container's filesystem and, with
a kernel or runtime escape, much closer to root on the host. Kubernetes' `runAsNonRoot` and
most admission policies reject such images; they can only verify a numeric `USER`.

## Example
```dockerfile
FROM python:3.12-slim
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir -r requirements.txt
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
COPY . .
RUN pip install --no-cache-dir -r requirements.txt
ENV DATA_DIR=/srv/data
EXPOSE 8000
RUN mkdir -p /srv/data \
 && chown -R 10001:10001 /srv/data
USER 10001:10001
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:app"]
```
The user is created before the stage's first `COPY`/`ADD` (a code change does not run that
again); the paths the application writes get their owner after the last `RUN`, just before
`USER`. Each joins the `RUN` right before it (with `&&`) when that is safe.

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
fixed UID (`USER <name>` would add hadolint's DL3066). Windows images are left alone, as
are bases that already run as non-root (distroless `:nonroot`, Chainguard, Bitnami, and
other images known to set a non-root `USER`).

## Options
- `user` (str, default `"app"`): the name of the user that is created.
- `uid` (int, default `10001`): its UID and GID (above the range distributions hand out).

## Resolves
hadolint DL3002 · Trivy DS-0002 · Checkov CKV_DOCKER_3, CKV_DOCKER_8.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from dockfix.context import FixContext
from dockfix.edits import insert_after, insert_before, keyword_style
from dockfix.fixer import Edit, Finding, Fix, Fixer, Option, Resolves, Severity, register
from dockfix.fixers._lazy import lazy_re
from dockfix.syntax import Dockerfile, Instruction, Stage
from dockfix.variables import layered

from ._base_images import Base, classify
from ._repo_images import repository_base_user
from ._run_script import (
    POSIX_SHELLS,
    Script,
    analyse_run,
    append_command,
    expand,
    last_appendable_item,
    mount_targets,
    parent_stage,
    paths_related,
    stage_base,
    subcommand,
)
from ._write_paths import WriteAnalysis, workdir_at
from ._write_paths import analyse as analyse_writes

_PATH_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")

_ROOT_HOME_DATA = lazy_re(
    r"(?:^|[\s=:'\"])(?:/root/|~/)|\$HOME\b|\$\{HOME\}|pip3?\s+install\s+(?:\S+\s+)*--user\b"
    r"|nltk\.download|playwright\s+install|spacy\s+download|huggingface-cli\s+download"
)
_ROOT_SERVER_WORD = lazy_re(
    r"(?:^|[\s/;&|'\"])(nginx|httpd|apache2ctl|apachectl|apache2|sshd)(?=$|[\s;&|'\"])"
)
_DROP_PRIVILEGES = lazy_re(
    r"\b(gosu|su-exec|setpriv|runuser|s6-setuidgid|setuidgid|chpst\s+-u)\b"
    r"|\bchroot\s+--userspec\b|\bsu\s+(-\S*\s+)*\S+\s+-c\b|\bsu\s+-c\b"
)

# Server programs that start as root by design and drop to their own user for the workers.
_ROOT_SERVER_PROGRAMS = frozenset(
    {"httpd", "apache2", "apache2ctl", "apachectl", "nginx", "catalina.sh", "sshd"}
)


@dataclass(eq=False)
class Lineage:
    """The final stage and the stages it is built FROM, oldest first."""

    stages: list[Stage]
    base: str | None
    assumed_default: bool
    instructions: list[Instruction] = field(default_factory=list)


def _is_root(user: str) -> bool:
    u = user.strip()
    return u in ("root", "0") or u.startswith(("root:", "0:"))


def _lineage(doc: Dockerfile, final: Stage) -> Lineage:
    stages = [final]
    seen = {final.index}
    cur = final
    while True:
        p = parent_stage(doc, cur)
        if p is None or p.index in seen:
            break
        stages.append(p)
        seen.add(p.index)
        cur = p
    stages.reverse()
    base, assumed = stage_base(doc, stages[0])
    instrs = [i for st in stages for i in st.instructions]
    return Lineage(stages, base, assumed, instrs)


def _numeric_user(value: str, created: list[_Created], base: Base) -> str | None:
    """``value`` (``name[:group]``) as the numeric ``uid[:gid]`` a USER line needs, when the
    file creates that user with a fixed UID or the base image is known to have it."""
    name, _, group = value.partition(":")
    if name.isdigit() and (not group or group.isdigit()):
        return value
    for c in reversed(created):
        if c.name == name and c.uid is not None and (not group or group == name):
            return f"{c.uid}:{c.gid}" if c.gid else c.uid
    if base.user and name == base.user and base.uid is not None and group in ("", name):
        return f"{base.uid}:{base.uid}"
    return None


def _user_value(doc: Dockerfile, instr: Instruction) -> str | None:
    """The USER's value with variables expanded; None when a variable is unknown."""
    raw = instr.args.strip()
    if "$" not in raw:
        return raw
    stage = instr.stage
    return expand(raw, layered(stage.scope_at(instr) if stage else {}, doc.global_args))


@dataclass(eq=False)
class _Created:
    name: str
    uid: str | None
    gid: str | None
    line: int


def _chowned_to_unknown_user(
    instrs: list[Instruction], created: set[str]
) -> tuple[str, int] | None:
    """(user, line) of a `--chown` to a named user the file does not create, if any."""
    for instr in instrs:
        flag = instr.flag("chown") if instr.keyword in ("COPY", "ADD") else None
        if flag is None or not flag.value or "$" in flag.value:
            continue
        user = flag.value.split(":", 1)[0]
        if user and not user.isdigit() and user not in created and user != "root":
            return user, instr.start_line
    return None


def _created_users(doc: Dockerfile, instrs: list[Instruction]) -> list[_Created]:
    out: list[_Created] = []
    for instr in instrs:
        if instr.keyword != "RUN":
            continue
        for _, cmd in analyse_run(doc, instr).commands():
            argv = cmd.argv
            if not argv or argv[0] not in ("useradd", "adduser"):
                continue
            uid = gid = None
            positional: list[str] = []
            k = 1
            while k < len(argv):
                a = argv[k]
                if a in ("-u", "--uid") and k + 1 < len(argv):
                    uid = argv[k + 1]
                    k += 2
                    continue
                if a.startswith("--uid="):
                    uid = a.split("=", 1)[1]
                elif a in ("-g", "--gid", "-G", "--ingroup") and k + 1 < len(argv):
                    if a in ("-g", "--gid"):
                        gid = argv[k + 1]
                    k += 2
                    continue
                elif a in (
                    "-h",
                    "-d",
                    "--home",
                    "--home-dir",
                    "-s",
                    "--shell",
                    "-c",
                    "--comment",
                    "--gecos",
                    "-k",
                    "-K",
                    "-e",
                    "-f",
                    "-p",
                    "-Z",
                    "-b",
                    "--firstuid",
                    "--lastuid",
                ) and k + 1 < len(argv):
                    k += 2
                    continue
                elif not a.startswith("-"):
                    positional.append(a)
                k += 1
            if positional:
                uid = uid if uid and uid.isdigit() else None
                gid = gid if gid and gid.isdigit() else None
                out.append(
                    _Created(
                        positional[-1] if argv[0] == "useradd" else positional[0],
                        uid,
                        gid,
                        instr.start_line,
                    )
                )
    return out


def _hadolint_count(doc: Dockerfile, instr: Instruction) -> int:
    """Roughly what hadolint's DL3059 counts: the commands of a RUN (0, "few", when unknown)."""
    analysis = analyse_run(doc, instr)
    if analysis.opaque or not analysis.scripts:
        return 0
    return sum(len(s.parsed.commands) for s in analysis.scripts)


def _dl3059_pair(doc: Dockerfile, instr: Instruction | None) -> bool:
    """Whether a new flag-less RUN with two commands next to ``instr`` trips DL3059."""
    if instr is None or instr.keyword != "RUN" or instr.flags:
        return False
    return _hadolint_count(doc, instr) <= 2


def _ports_below_1024(doc: Dockerfile, instrs: list[Instruction]) -> list[str]:
    out: list[str] = []
    for instr in instrs:
        if instr.keyword != "EXPOSE":
            continue
        scope = layered(instr.stage.scope_at(instr) if instr.stage else {}, doc.global_args)
        for word, _, _ in instr.args_words():
            value = expand(word, scope) if "$" in word else word
            if value is None:
                continue
            m = re.match(r"(\d+)", value)
            if m and 0 < int(m.group(1)) < 1024:
                out.append(value)
    return out


_ROOT_ONLY_TOOLS = lazy_re(r"\b(?:npx\s+(?:-y\s+)?)?playwright\s+install\b")
_METADATA = frozenset({"ENV", "EXPOSE", "LABEL", "ARG", "STOPSIGNAL", "HEALTHCHECK"})
_STATEMENT_ENDS = frozenset({"}", ")", "fi", "done", "esac"})


def _command_instructions(instrs: list[Instruction]) -> list[Instruction]:
    """The ENTRYPOINT and CMD the image starts with."""
    out = []
    for keyword in ("ENTRYPOINT", "CMD"):
        found = [i for i in instrs if i.keyword == keyword]
        if found:
            out.append(found[-1])
    return out


def _root_home_tools(doc: Dockerfile, instrs: list[Instruction]) -> str:
    """Why tools the image runs live where only root can reach them, or ""."""
    for instr in instrs:
        if instr.keyword != "ENV" or instr.stage is None:
            continue
        path = instr.stage.scope_at(None).get("PATH") or ""
        if "PATH" not in instr.args:
            continue
        for part in path.split(":"):
            if part == "/root" or part.startswith("/root/"):
                return (
                    f"line {instr.start_line} puts `{part}` on the PATH: /root is readable by "
                    "root only, so the new user could not run those tools; install them "
                    "outside /root first"
                )
    browsers = any(
        i.keyword == "ENV" and "PLAYWRIGHT_BROWSERS_PATH" in i.args for i in instrs
    )
    for instr in instrs:
        if instr.keyword == "RUN" and not browsers:
            m = _ROOT_ONLY_TOOLS.search(instr.logical + "".join(h.body for h in instr.heredocs))
            if m:
                return (
                    f"line {instr.start_line} runs `{m.group(0)}` as root: the browsers land "
                    "in /root/.cache, which the new user cannot read; set "
                    "PLAYWRIGHT_BROWSERS_PATH to a shared directory first"
                )
    return ""


def _aspnet_default_port(doc: Dockerfile, base: Base, instrs: list[Instruction]) -> list[str]:
    """ASP.NET images before .NET 8 listen on port 80 unless the file says otherwise."""
    m = re.match(r"mcr\.microsoft\.com/dotnet/(?:core/)?aspnet:(\d+)\.", base.ref.lower())
    if m is None or int(m.group(1)) >= 8:
        return []
    if any(
        i.keyword == "ENV" and ("ASPNETCORE_URLS" in i.args or "ASPNETCORE_HTTP_PORTS" in i.args)
        for i in instrs
    ):
        return []
    return [f"80 (ASP.NET images before .NET 8 listen on port 80: `{base.ref}`)"]


def _port_number(text: str) -> int:
    m = re.match(r"\d+", text)
    return int(m.group(0)) if m else 0


def _status_decides(script: Script) -> bool:
    """Whether the script's last statement is a negation or an `&&`/`||` list: `set -e` does
    not stop on those, so a command written after them on a new line or after `;` would
    decide the RUN's status instead (`! { ldd … | grep 'not found'; }` would stop failing)."""
    chain = script.parsed.chain
    k = len(chain) - 1
    while k > 0 and script.text(chain[k].start, chain[k].end).strip() in _STATEMENT_ENDS:
        k -= 1
    while k > 0 and chain[k].op in ("&&", "||", "|"):
        if chain[k].op in ("&&", "||"):
            return True
        k -= 1
    if k < 0:
        return False
    first = script.text(chain[k].start, chain[k].end).lstrip()
    return first.startswith("!") or chain[k].kind == "negated_command"


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
        if base.family == "windows":
            return
        if any(
            i.keyword == "SHELL" and i.json_args and "powershell" in " ".join(i.json_args).lower()
            for i in lineage.instructions
        ):
            return
        users = [i for i in lineage.instructions if i.keyword == "USER"]
        last_user = users[-1] if users else None
        if last_user is not None:
            value = _user_value(doc, last_user)
            if value is None or not _is_root(value):
                return  # runs as a chosen (or unknowable) user
        elif base.nonroot_default:
            return
        elif lineage.base and repository_base_user(ctx, lineage.base):
            return  # built from this repository's own image, which sets a non-root USER
        at: Instruction = last_user if last_user is not None else final.from_instruction
        if last_user is not None:
            where = f"`USER {last_user.args.strip()}` on line {last_user.start_line}"
            message = f"the image runs as root ({where})"
        else:
            message = "the image runs as root: no USER in the final stage"
        blocked = base.blocked
        if base.blocked_by_entrypoint and any(
            i.keyword == "ENTRYPOINT" for i in lineage.instructions
        ):
            blocked = ""
        blocked = (
            blocked
            or self._drops_privileges(doc, ctx, lineage)
            or _root_home_tools(doc, lineage.instructions)
        )
        if blocked:
            yield self.finding(at, message, reason=blocked)
            return
        writes = analyse_writes(
            doc, ctx, lineage.instructions, _command_instructions(lineage.instructions)
        )
        ports = [f"{p} (EXPOSE)" for p in _ports_below_1024(doc, lineage.instructions)]
        ports += [f"{p} ({how})" for p, how in writes.ports]
        ports += _aspnet_default_port(doc, base, lineage.instructions)
        start = ctx.unprivileged_port_start
        if ports and (start is None or min(_port_number(p) for p in ports) < start):
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
        yield self._fix(doc, final, lineage, base, users, at, message, writes, port_note)

    # --- why not --------------------------------------------------------------------------

    def _drops_privileges(self, doc: Dockerfile, ctx: FixContext, lineage: Lineage) -> str:
        texts = [i.logical + "".join(h.body for h in i.heredocs) for i in lineage.instructions]
        # One search over all of them first: a match inside one text is a match in the joined
        # text, so none there means none anywhere (the usual case); else find the first one.
        if _DROP_PRIVILEGES.search("\n".join(texts)):
            for instr, text in zip(lineage.instructions, texts, strict=True):
                m = _DROP_PRIVILEGES.search(text)
                if m:
                    return (
                        f"line {instr.start_line} uses `{m.group(0).split()[0]}`: the image "
                        "switches user itself, and running it as non-root would break that"
                    )
        entry = [i for i in lineage.instructions if i.keyword in ("ENTRYPOINT", "CMD")]
        for instr in entry[-2:]:
            argv = instr.json_args if instr.json_args is not None else instr.args.split()
            prog = argv[0] if argv else ""
            if (
                prog.rsplit("/", 1)[-1] in POSIX_SHELLS
                and len(argv) > 1
                and not argv[1].startswith("-")
            ):
                prog = argv[1]  # ["sh", "/entrypoint.sh"]
            if prog == "/init":
                return "the entrypoint is s6-overlay's `/init`, which manages users itself"
            if prog.rsplit("/", 1)[-1] in _ROOT_SERVER_PROGRAMS:
                return (
                    f"`{prog}` starts as root by design and runs its workers as its own user; "
                    "use its unprivileged setup instead of a USER line"
                )
            if any(a == "/root" or a.startswith("/root/") for a in argv):
                return (
                    "the command runs a file under /root, which a non-root user cannot read; "
                    "move it before adding a USER"
                )
            script = self._entrypoint_script(ctx, lineage, instr, prog)
            if script is not None:
                m = _DROP_PRIVILEGES.search(script[1])
                if m:
                    return (
                        f"the entrypoint script `{script[0]}` uses `{m.group(0).split()[0]}`: "
                        "it switches user itself, and running it as non-root would break that"
                    )
                server = _ROOT_SERVER_WORD.search(script[1])
                if server:
                    return (
                        f"the entrypoint script `{script[0]}` starts `{server.group(1)}`, which "
                        "starts as root by design and runs its workers as its own user"
                    )
            # `sh -c "nginx -g 'daemon off;'"`, `CMD service nginx start && …`
            server = _ROOT_SERVER_WORD.search(" ".join(argv))
            if server:
                return (
                    f"the command starts `{server.group(1)}`, which starts as root by design and "
                    "runs its workers as its own user"
                )
        if any(i.keyword == "ONBUILD" for i in lineage.instructions):
            return (
                "the image has ONBUILD triggers: they run in the child images' builds as this "
                "image's user, and installing or copying as non-root there would fail"
            )
        return ""

    @staticmethod
    def _entrypoint_script(
        ctx: FixContext, lineage: Lineage, entry: Instruction, prog: str
    ) -> tuple[str, str] | None:
        """(path, text) of the script the entrypoint runs, read from the build context."""
        if not prog or "$" in prog or not ctx.has_context:
            return None
        if "/" in prog:
            workdir = workdir_at(lineage.instructions, entry)
            targets = {posixpath.normpath(posixpath.join(workdir, prog))}
        else:  # looked up on the PATH
            targets = {f"{d}/{prog}" for d in _PATH_DIRS}
        for instr in lineage.instructions:
            if instr.keyword not in ("COPY", "ADD") or instr.flag("from") is not None:
                continue
            words = instr.json_args or [w for w, _, _ in instr.args_words()]
            if len(words) < 2:
                continue
            *sources, dest = words
            wd = workdir_at(lineage.instructions, instr)
            dest_abs = posixpath.join(wd, dest) if not dest.startswith("/") else dest
            for src in sources:
                if any(c in src for c in "*?[") or "://" in src:
                    continue
                full = (
                    dest_abs.rstrip("/") + "/" + posixpath.basename(src)
                    if dest.endswith("/")
                    else dest_abs
                )
                if posixpath.normpath(full) in targets:
                    text = ctx.read_text(src)
                    if text is not None:
                        return src, text
        return None

    # --- the fix --------------------------------------------------------------------------

    def _fix(
        self,
        doc: Dockerfile,
        final: Stage,
        lineage: Lineage,
        base: Base,
        users: list[Instruction],
        at: Instruction,
        message: str,
        writes: WriteAnalysis,
        port_note: str,
    ) -> Finding:
        name = str(self.settings["user"])
        uid = int(self.settings["uid"])
        defaults = name == "app" and uid == 10001
        notes: list[str] = []
        if lineage.assumed_default and lineage.base:
            notes.append(f"assumes the default base `{lineage.base}` of the FROM's ARG")
        family = base.family
        why = base.why
        if family == "numeric" and not base.ref:
            why = "the base image is not known"
        # Reuse a user the file already runs as or creates.
        user_value: str | None = None
        earlier = [u for u in users if (v := _user_value(doc, u)) is not None and not _is_root(v)]
        created = _created_users(doc, lineage.instructions)
        foreign = _chowned_to_unknown_user(lineage.instructions, {c.name for c in created})
        if not earlier and foreign is not None and base.uid is None:
            # `COPY --chown=payara:payara` of a user the file never creates: the base image
            # provides that user (and probably runs as it); a fresh UID could not write its files.
            return self.finding(
                at,
                message,
                reason=(
                    f"line {foreign[1]} hands files to `{foreign[0]}`, a user the base image "
                    f"provides: add `USER {foreign[0]}` (or its numeric UID) if the image does "
                    "not already run as it"
                ),
            )
        if earlier:
            named = (_user_value(doc, earlier[-1]) or "").strip()
            user_value = _numeric_user(named, created, base)
            if user_value is None:
                return self.finding(
                    at,
                    message,
                    reason=(
                        f"line {earlier[-1].start_line} runs as `{named}`, whose UID is not "
                        f"known here: switch back with `USER <its UID>` (a named USER cannot be "
                        "verified by runAsNonRoot and adds hadolint DL3066)"
                    ),
                )
            notes.append(f"switches back to the user of line {earlier[-1].start_line}")
        elif writes.handed is not None and not created:
            # `chown -R 1000:2000 /code/media`: the file already chose who writes there.
            user_value, handed_path, handed_line = writes.handed
            notes.append(f"uses `{user_value}`, to whom line {handed_line} gives `{handed_path}`")
        elif created:
            c = created[-1]
            if c.uid is None:
                return self.finding(
                    at,
                    message,
                    reason=(
                        f"line {c.line} creates user `{c.name}` without a fixed UID; give it one "
                        f"(`--uid {uid}`) and add `USER {uid}` (a named USER cannot be verified "
                        "by runAsNonRoot and adds hadolint DL3066)"
                    ),
                )
            user_value = f"{c.uid}:{c.gid}" if c.gid else c.uid
            notes.append(f"uses the user `{c.name}` created on line {c.line}")
        if family in ("numeric",) and user_value is None:
            family, why = self._family_from_commands(doc, lineage) or (family, why)
        create: tuple[str, str] | None = None  # (group command, user command)
        if user_value is None:
            if base.uid is not None and (defaults or family == "nonroot-uid"):
                user_value = f"{base.uid}:{base.uid}"
                notes.append(why)
            elif family == "debian":
                create = (
                    f"groupadd --system --gid {uid} {name}",
                    f"useradd --system --uid {uid} --gid {uid} --no-log-init --create-home {name}",
                )
            elif family == "alpine":
                create = (
                    f"addgroup -S -g {uid} {name}",
                    f"adduser -S -D -u {uid} -G {name} -h /home/{name} {name}",
                )
            elif family == "rhel":
                create = (
                    f"groupadd -r -g {uid} {name}",
                    f"useradd -r -u {uid} -g {uid} -l -m {name}",
                )
            if user_value is None:
                user_value = f"{uid}:{uid}"
                if create is None:
                    notes.append(f"{why}: a numeric user without a passwd entry (HOME is /)")
        root_at_start = (
            not any(i.keyword == "USER" for i in lineage.instructions if i.stage is not final)
            and not base.nonroot_default
        )
        if create is not None and why:
            notes.append(why)
        owned: list[str] = []
        if not (earlier or created):  # a user the file set up has its files arranged already
            given, blocker = _written_dirs(writes)
            if blocker:
                return self.finding(at, message, reason=blocker)
            owned = _ownership_commands(given, writes, user_value)
            notes.append(_write_summary(writes, given))
        edits, placement_note = self._placement(
            doc, final, create, owned, user_value, root_at_start
        )
        if edits is None:
            return self.finding(at, message, reason=placement_note)
        if port_note:
            notes.append(port_note)
        home_user = next(
            (
                i
                for i in lineage.instructions
                if i.keyword in ("RUN", "COPY", "ADD", "ENV")
                and _ROOT_HOME_DATA.search(i.logical + "".join(h.body for h in i.heredocs))
            ),
            None,
        )
        if home_user is not None:
            # Data the build stored in root's HOME (downloads, `pip --user`, tool caches) is
            # unreadable for the new user: /root is 0700.
            notes.append(
                f"line {home_user.start_line} puts data under root's HOME (/root), which the new "
                "user cannot read"
            )
        desc = f"run as `USER {user_value}`" + (" (created in the image)" if create else "")
        full = message + (f" — {'; '.join(n for n in notes if n)}" if notes else "")
        return self.finding(at, full, Fix.unsafe(*edits, description=desc))

    @staticmethod
    def _family_from_commands(doc: Dockerfile, lineage: Lineage) -> tuple[str, str] | None:
        for instr in lineage.instructions:
            if instr.keyword != "RUN":
                continue
            for _, cmd in analyse_run(doc, instr).commands():
                sub = subcommand(cmd)
                prog = sub[0] if sub else ""
                if prog in ("apt-get", "apt"):
                    return (
                        "debian",
                        f"the file uses `{prog}` (line {instr.start_line}): a Debian-like base",
                    )
                if prog == "apk":
                    return (
                        "alpine",
                        f"the file uses `apk` (line {instr.start_line}): an Alpine-like base",
                    )
        return None

    def _placement(
        self,
        doc: Dockerfile,
        final: Stage,
        create: tuple[str, str] | None,
        owned: list[str],
        user_value: str,
        root_at_start: bool,
    ) -> tuple[list[Edit] | None, str]:
        """The user creation before the application's first COPY (a code change does not run
        it again), the ownership of written paths after the last RUN, USER before the command."""
        instrs = list(final.instructions)
        runs = [k for k, i in enumerate(instrs) if i.keyword == "RUN"]
        user_idx = [k for k, i in enumerate(instrs) if i.keyword == "USER"]
        after = max(runs[-1] if runs else -1, user_idx[-1] if user_idx else -1)
        anchor = next((i for i in instrs[after + 1 :] if i.keyword in ("CMD", "ENTRYPOINT")), None)
        anchor_idx = instrs.index(anchor) if anchor is not None else len(instrs)
        prev = instrs[anchor_idx - 1] if anchor_idx > 0 else final.from_instruction
        user_line = f"{keyword_style(doc, 'USER')} {user_value}"
        edits: list[Edit] = []
        lines: list[str] = []
        late = list(owned)
        if create is not None:
            early = self._before_first_copy(doc, final, create, root_at_start)
            if early is not None:
                edits.append(early)
            else:
                late = [*create, *late]
        if late:
            # After the last RUN when only metadata follows it (ENV, EXPOSE, LABEL…).
            last_run = instrs[runs[-1]] if runs and runs[-1] < anchor_idx else None
            if last_run is not None and all(
                i.keyword in _METADATA for i in instrs[runs[-1] + 1 : anchor_idx]
            ):
                prev = last_run
            # Before a VOLUME that nothing runs after: the classic builder drops what a RUN
            # changes in a volume after its VOLUME line.
            volume = next(
                (k for k, i in enumerate(instrs[:anchor_idx]) if i.keyword == "VOLUME"), None
            )
            before_volume = volume is not None and not any(k > volume for k in runs)
            joined = self._join(doc, prev, " && ".join(late))
            if before_volume and volume is not None:
                at_volume = instrs[volume - 1] if volume > 0 else final.from_instruction
                joined = self._join(doc, at_volume, " && ".join(late))
                if joined is None and _dl3059_pair(doc, at_volume):
                    return None, (
                        f"the ownership of {', '.join(owned)} cannot be placed before the "
                        "VOLUME without a new hadolint DL3059 finding"
                    )
                edits.append(joined or insert_before(doc, instrs[volume], _new_run(doc, late)))
            elif joined is not None:
                edits.append(joined)
            elif not _dl3059_pair(doc, prev) and not _dl3059_pair(doc, anchor):
                lines.extend(_new_run(doc, late))
            else:
                first = instrs[0] if instrs else None
                # Early in the stage only while it still runs as root there, and only the
                # user creation: the written paths' ownership must follow what creates them.
                if (
                    first is None
                    or owned
                    or _dl3059_pair(doc, first)
                    or user_idx
                    or not root_at_start
                ):
                    return None, (
                        "the user creation cannot be placed without a new hadolint DL3059 "
                        f"finding; add `RUN {' && '.join(late)}` and `{user_line}` by hand"
                    )
                edits.append(insert_before(doc, first, _new_run(doc, late)))
        lines.append(user_line)
        if anchor is not None:
            edits.append(insert_before(doc, anchor, lines))
        else:
            last = instrs[-1] if instrs else final.from_instruction
            if last.heredocs:
                # hadolint cannot parse an instruction right after a heredoc's terminator.
                lines.insert(0, "")
            edits.append(insert_after(doc, last, lines))
        return edits, ""

    def _before_first_copy(
        self, doc: Dockerfile, final: Stage, create: tuple[str, str], root_at_start: bool
    ) -> Edit | None:
        """The user creation just before the stage's first COPY/ADD, while it runs as root."""
        instrs = list(final.instructions)
        k = next((k for k, i in enumerate(instrs) if i.keyword in ("COPY", "ADD")), None)
        if k is None or not root_at_start or any(i.keyword == "USER" for i in instrs[:k]):
            return None
        prev = instrs[k - 1] if k > 0 else final.from_instruction
        joined = self._join(doc, prev, " && ".join(create))
        if joined is not None:
            return joined
        if _dl3059_pair(doc, prev):
            return None
        return insert_before(doc, instrs[k], _new_run(doc, list(create)))

    @staticmethod
    def _join(doc: Dockerfile, prev: Instruction, command: str) -> Edit | None:
        """Append ``command`` to the RUN ``prev``, when that keeps what the RUN does."""
        if prev.keyword != "RUN" or any(
            paths_related(t, "/etc") or paths_related(t, "/home") for _, t in mount_targets(prev)
        ):
            return None  # the passwd files or the home directory would land in a mount
        analysis = analyse_run(doc, prev)
        if analysis.opaque or len(analysis.scripts) != 1:
            return None
        script = analysis.scripts[0]
        if not script.editable:
            return None
        edit, _ = append_command(doc, script, command)
        if edit is None:
            return None
        written = edit.text.lstrip(" \t\r\n" + doc.escape)
        if not written.startswith("&&") and _status_decides(script):
            return None  # `; useradd` or a new line would take over the RUN's exit status
        last, _ = last_appendable_item(script)
        if (
            script.kind == "body"
            and last is not None
            and "<<" in script.text(last.start, last.end)
            and not edit.text.startswith(("\n", "\r\n"))
        ):
            return None  # ` && cmd` would land on an inner heredoc's terminator line
        return edit


def _new_run(doc: Dockerfile, commands: list[str]) -> list[str]:
    """A RUN of its own, one command per line (continuation lines starting with `&&`)."""
    lines = [f"{keyword_style(doc, 'RUN')} {commands[0]}"]
    lines += [f" && {c}" for c in commands[1:]]
    return [f"{line} {doc.escape}" for line in lines[:-1]] + [lines[-1]]


def _written_dirs(writes: WriteAnalysis) -> tuple[list[tuple[str, str, str]], str]:
    """(path, how it is known, what: "dir" | "code" | "file") the user must own, or a reason
    not to."""
    out: list[tuple[str, str, str]] = []
    handed = writes.handed[1] if writes.handed else None
    for w in writes.writes:
        p = w.path
        if p == "/":
            where = " (no WORKDIR)" if writes.workdir == "/" else ""
            return [], (
                f"the application writes in `/`{where}, seen in {w.how}: the new user cannot "
                "be given `/`; set a WORKDIR or a data directory for what it writes"
            )
        if p == "/root" or p.startswith("/root/"):
            return [], f"the application writes under /root (`{p}`, seen in {w.how})"
        if handed and (p == handed or p.startswith(handed.rstrip("/") + "/")):
            continue
        code = p == writes.workdir or any(
            d == p or d.startswith(p + "/") for d in writes.code_dirs
        )
        out.append((p, w.how, "file" if w.file else "code" if code else "dir"))
    fresh = [p for p, _, what in out if what == "dir"]
    # `chown -R /data` covers `/data/db`
    out = [
        (p, how, what)
        for p, how, what in out
        if what == "code" or not any(p.startswith(q + "/") for q in fresh)
    ]
    return out, ""


def _ownership_commands(
    given: list[tuple[str, str, str]], writes: WriteAnalysis, user_value: str
) -> list[str]:
    def quoted(kind: str) -> str:
        return " ".join(shlex.quote(p) for p, _, what in given if what == kind)

    fresh, shallow, files = quoted("dir"), quoted("code"), quoted("file")
    out = [f"mkdir -p {fresh}", f"chown -R {user_value} {fresh}"] if fresh else []
    if shallow:
        # the application's code directory itself, not the code in it
        out.append(f"chown {user_value} {shallow}")
    if files:
        out += [f"touch {files}", f"chown {user_value} {files}"]
    return out


def _write_summary(writes: WriteAnalysis, given: list[tuple[str, str, str]]) -> str:
    parts = [f"checked {', '.join(writes.checked)} for what the application writes"]
    if writes.handed is not None:
        owner, path, line = writes.handed
        parts.append(f"`{path}` stays `{owner}`'s (line {line})")
    if given:
        parts.append(
            "gives the user "
            + ", ".join(
                f"`{p}`{' (the directory, not its files)' if what == 'code' else ''} ({how})"
                for p, how, what in given
            )
        )
    elif writes.handed is None:
        parts.append("found nothing it writes: the application's files stay owned by root")
    if writes.unknown:
        parts.append("could not know " + "; ".join(writes.unknown))
    return "; ".join(parts)
