"""DF402 no-healthcheck: a service image without a `HEALTHCHECK`.

## What it does
Finds a final stage that runs a long-lived server (it has `EXPOSE`, a server start command
such as `uvicorn`, `gunicorn`, `nginx`, `puma`, or a server base image such as `nginx`,
`httpd`, `caddy`) and neither defines a `HEALTHCHECK` nor inherits one from the stage it is
built on. `HEALTHCHECK NONE` counts as a deliberate choice and is left alone. Stages without
any start command (`CMD`/`ENTRYPOINT`, own or inherited) are base images and not reported.

Without configuration the finding is display-only: the right endpoint is the service's own
knowledge. With the `url` option (and `port` when needed) it adds, right before the stage's
`CMD`/`ENTRYPOINT` (after `EXPOSE`), an exec-form probe with a tool the image has:

- `curl` or `wget` when the stage (or the stage it is built on) installs it with
  `apt-get`/`apk`/`dnf`/`yum`/`microdnf`/`zypper`;
- otherwise the language runtime of the base image: `python3 -c "import urllib.request…"`
  in `python` images (and `gcr.io/distroless/python3`), `node -e …` in `node` images
  (`/nodejs/bin/node` in `gcr.io/distroless/nodejs*`);
- otherwise tools the base image is known to ship: `curl` in the full (buildpack-deps based)
  official language images, busybox `wget` in Alpine- and busybox-based images and in the
  distroless `:debug` variants.

```dockerfile
HEALTHCHECK --interval=30s --timeout=3s CMD ["curl", "-fsS", "-o", "/dev/null", "http://localhost:8000/healthz"]
```

Nothing is added when no such tool is known, e.g. in `scratch`, `gcr.io/distroless/static`
and `cc`, `debian`/`ubuntu` (they have neither curl nor wget) and `*-slim` images: there a
probe needs the service's own binary (a `healthcheck` subcommand).

## Why is this bad
Without a health check, Docker, Docker Compose (`depends_on: condition: service_healthy`)
and Swarm only know whether the process runs, not whether it serves: a deadlocked or
disconnected server keeps receiving traffic. Note that Kubernetes ignores the image's
`HEALTHCHECK`; there, define `livenessProbe`/`readinessProbe` in the pod spec instead.

## Example
```dockerfile
FROM python:3.13-slim
WORKDIR /app
COPY . .
EXPOSE 8000
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
```
With `url = "/healthz"`:
```dockerfile
FROM python:3.13-slim
WORKDIR /app
COPY . .
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://localhost:8000/healthz', timeout=2)"]
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
```

## Fix safety
Unsafe: the container's health becomes part of its behaviour (Compose dependencies wait for
it, Swarm replaces containers it reports unhealthy), and the probe is only as right as the
configured endpoint. The probe exits non-zero when the endpoint does not answer with a
success status, which Docker counts as unhealthy. Display-only without `url`, when the port
is not known (see `port`), when the URL contains
characters that cannot be written safely into the probe (quotes, backslashes, whitespace,
`$`), and when no probe tool is known in the image (never `curl` in distroless).

## Options
- `url` (string, default empty): the health endpoint, either a full URL
  (`http://localhost:8080/healthz`) or a path (`/healthz`) probed on `localhost`.
- `port` (integer, default 0): the port for a path `url`; 0 means the single TCP port the
  stage `EXPOSE`s, else the port its start command names (`--port 8000`, `--bind :8000`), else
  the default of the server (`gunicorn`/`uvicorn` 8000) or server image (`nginx` 80).

## Resolves
hadolint: DL3057 (off by default in hadolint) · Trivy: DS-0026 · Checkov: CKV_DOCKER_2.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, ClassVar

from dockfix.core.edits import insert_after, insert_before
from dockfix.core.fixer import Finding, Fix, Fixer, Option, Resolves, Severity, register
from dockfix.fixers._build_steps import (
    run_steps,
)
from dockfix.fixers._image_paths import (
    BaseImage,
    base_image,
    is_scratch,
    start_command,
)
from dockfix.fixers._lazy import lazy_re
from dockfix.semantics.semantic import (
    expand,
    scope_at,
    stage_chain,
)

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext
    from dockfix.syntax import Dockerfile, Stage

# Start commands of HTTP servers (the program's base name).
_SERVER_COMMANDS = frozenset(
    {
        "uvicorn",
        "gunicorn",
        "hypercorn",
        "daphne",
        "waitress-serve",
        "granian",
        "nginx",
        "httpd",
        "apache2-foreground",
        "caddy",
        "puma",
        "unicorn",
        "passenger",
        "traefik",
        "http-server",
        "serve",
        "next",
        "nuxt",
        "catalina.sh",
    }
)
# Base images whose inherited command is an HTTP server.
_SERVER_IMAGES = frozenset({"nginx", "httpd", "caddy", "traefik", "tomcat", "jetty", "unit"})
# Flags that set a server's listening port (`--port 8000`, `--bind 0.0.0.0:8000`).
_PORT_FLAGS = frozenset({"--port", "--bind", "-b", "--listen", "--http", "--http-socket"})
# Listening ports of servers and server images when nothing else says.
_DEFAULT_PORTS = {
    "gunicorn": "8000",
    "uvicorn": "8000",
    "hypercorn": "8000",
    "daphne": "8000",
    "nginx": "80",
    "httpd": "80",
    "caddy": "80",
    "traefik": "80",
    "tomcat": "8080",
    "jetty": "8080",
}
_PROBE_INTERVAL = "--interval=30s --timeout=3s"
_URL_SAFE = lazy_re(r"https?://[A-Za-z0-9.\-_~:/?#\[\]@!&()*+,;=%]+\Z")
_INSTALLERS = {
    "apt-get": ("install", "remove", "purge"),
    "apt": ("install", "remove", "purge"),
    "apk": ("add", "del", None),
    "dnf": ("install", "remove", "erase"),
    "yum": ("install", "remove", "erase"),
    "microdnf": ("install", "remove", None),
    "zypper": ("install", "remove", "rm"),
}


@register
class NoHealthcheck(Fixer):
    code = "DF402"
    severity = Severity.INFO
    name = "no-healthcheck"
    summary = "A service image has no HEALTHCHECK"
    resolves = Resolves(hadolint=("DL3057",), trivy=("DS-0026",), checkov=("CKV_DOCKER_2",))
    image_changes = ("config:Healthcheck",)
    options: ClassVar[Mapping[str, Option]] = {
        "url": Option(str, "", "the health endpoint: a full URL or a path probed on localhost"),
        "port": Option(int, 0, "the port for a path `url` (0: the single EXPOSEd port)"),
    }

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        stage = doc.final_stage
        if stage is None:
            return
        chain = stage_chain(stage)
        if any(i.keyword == "HEALTHCHECK" for st in chain for i in st.instructions):
            return
        base = base_image(doc, stage)
        ports = self._exposed(chain)
        if not self._serves(stage, base, ports):
            return
        message = "the service image has no HEALTHCHECK"
        url_option = str(self.settings.get("url") or "")
        if not url_option:
            yield self.finding(
                stage.from_instruction,
                message,
                reason="the health endpoint is the service's own; set the `url` option "
                "(and `port`) to add an exec-form HEALTHCHECK",
            )
            return
        if not ports and ports is not None:
            ports = self._inferred_ports(stage, base)
        url = self._url(url_option, ports)
        if url.startswith("!"):
            yield self.finding(stage.from_instruction, message, reason=url[1:])
            return
        probe = self._probe(doc, stage, base, url)
        if probe is None:
            yield self.finding(
                stage.from_instruction,
                message,
                reason="no curl, wget or language runtime is known to be in the image; probe "
                "with the service's own binary "
                '(e.g. `HEALTHCHECK CMD ["/app", "healthcheck"]`)',
            )
            return
        keyword = "healthcheck" if stage.from_instruction.keyword_raw.islower() else "HEALTHCHECK"
        cmd_word = "cmd" if keyword == "healthcheck" else "CMD"
        line = f"{keyword} {_PROBE_INTERVAL} {cmd_word} [{', '.join(json.dumps(w) for w in probe)}]"
        anchor = next((i for i in stage.instructions if i.keyword in ("CMD", "ENTRYPOINT")), None)
        if anchor is not None:
            edit = insert_before(doc, anchor, [line])
        else:
            last = stage.instructions[-1] if stage.instructions else stage.from_instruction
            edit = insert_after(doc, last, [line])
        fix = Fix.unsafe(edit, description=f"probe {url} with `{probe[0]}`")
        yield self.finding(stage.from_instruction, message, fix)

    # --- is it a server? --------------------------------------------------------------
    def _exposed(self, chain: list[Stage]) -> list[str] | None:
        """TCP ports the chain EXPOSEs; None when one is a variable with no known value."""
        ports: list[str] = []
        for st in chain:
            for i in st.instructions:
                if i.keyword != "EXPOSE":
                    continue
                for word in i.args.split():
                    value = expand(word, scope_at(st, i)) if "$" in word else word
                    if value is None:
                        return None
                    port, _, proto = value.partition("/")
                    if proto.lower() not in ("", "tcp"):
                        continue
                    if port not in ports:
                        ports.append(port)
        return ports

    def _serves(self, stage: Stage, base: BaseImage | None, ports: list[str] | None) -> bool:
        entry, cmd = start_command(stage)
        server_image = base is not None and base.is_official and base.name in _SERVER_IMAGES
        if entry is None and cmd is None:
            return server_image
        if ports is None or ports:
            return True
        for i in (entry, cmd):
            if i is None:
                continue
            words = i.json_args if i.json_args is not None else i.args.split()
            while words and posixpath.basename(words[0]) in (
                "exec",
                "env",
                "tini",
                "dumb-init",
                "--",
                "python",
                "python3",
                "bundle",
            ):
                words = words[1:]
                if words and words[0] in ("-m", "exec"):
                    words = words[1:]
            if words and posixpath.basename(words[0]) in _SERVER_COMMANDS:
                return True
        return False

    def _inferred_ports(self, stage: Stage, base: BaseImage | None) -> list[str]:
        """Without EXPOSE: the port the start command names, or its server's default."""
        entry, cmd = start_command(stage)
        words: list[str] = []
        for i in (entry, cmd):
            if i is not None:
                words.extend(i.json_args if i.json_args is not None else i.args.split())
        for k, w in enumerate(words):
            flag, eq, value = w.partition("=")
            if flag in _PORT_FLAGS:
                if not eq:
                    value = words[k + 1] if k + 1 < len(words) else ""
                port = value.rsplit(":", 1)[-1]
                return [port] if port.isdigit() else []
        for w in words:
            default = _DEFAULT_PORTS.get(posixpath.basename(w))
            if default:
                return [default]
        if entry is None and cmd is None and base is not None and base.name in _DEFAULT_PORTS:
            return [_DEFAULT_PORTS[base.name]]
        return []

    # --- the probe ----------------------------------------------------------------------
    def _url(self, option: str, ports: list[str] | None) -> str:
        """The URL to probe, or ``!reason`` when it cannot be known or written safely."""
        if option.startswith("/"):
            port = int(self.settings.get("port") or 0)
            if port <= 0:
                if not ports or len(ports) != 1 or not ports[0].isdigit():
                    return (
                        "!the port to probe is not known (no single EXPOSEd TCP port); set `port`"
                    )
                port = int(ports[0])
            url = f"http://localhost:{port}{option}"
        else:
            url = option
        if not _URL_SAFE.match(url):
            return f"!the url `{option}` cannot be written safely into the probe"
        return url

    def _probe(
        self, doc: Dockerfile, stage: Stage, base: BaseImage | None, url: str
    ) -> list[str] | None:
        installed = self._installed(doc, stage)
        if "curl" in installed:
            return _curl(url)
        if "wget" in installed:
            return _wget(url)
        if is_scratch(doc, stage) or base is None:
            return None
        name, tag = base.name, base.tag
        if base.is_distroless:
            if name.startswith("python3"):
                return _python("python3", url)
            if name.startswith("nodejs"):
                return _node("/nodejs/bin/node", url)
            if "debug" in tag:
                return _wget(url)  # the :debug variants carry busybox
            return None
        if not base.is_official:
            return None
        if name == "python" or name == "pypy":
            return _python("python3" if name == "python" else "pypy3", url)
        if name == "node":
            return _node("node", url)
        if base.is_alpine or name == "busybox":
            return _wget(url)
        slim = "slim" in tag
        if name in ("golang", "rust", "ruby", "php", "openjdk", "buildpack-deps") and not slim:
            return _curl(url)
        return None

    def _installed(self, doc: Dockerfile, stage: Stage) -> set[str]:
        """Packages the chain's RUNs install (minus those they remove)."""
        have: set[str] = set()
        for st in stage_chain(stage):
            for i in st.instructions:
                if i.keyword != "RUN":
                    continue
                for c in run_steps(doc, st, i) or []:
                    words = [w for w in c.argv if w is not None]
                    if not words:
                        continue
                    verbs = _INSTALLERS.get(posixpath.basename(words[0]))
                    if verbs is None:
                        continue
                    args = [w for w in words[1:] if not w.startswith("-")]
                    if not args:
                        continue
                    pkgs = {re.split(r"[=<>~]", a, maxsplit=1)[0] for a in args[1:]}
                    if args[0] == verbs[0]:
                        have |= pkgs
                    elif args[0] in verbs[1:]:
                        have -= pkgs
        return have


def _curl(url: str) -> list[str]:
    return ["curl", "-fsS", "-o", "/dev/null", url]


def _wget(url: str) -> list[str]:
    return ["wget", "-q", "-O", "/dev/null", url]


def _python(exe: str, url: str) -> list[str]:
    return [exe, "-c", f"import urllib.request; urllib.request.urlopen('{url}', timeout=2)"]


def _node(exe: str, url: str) -> list[str]:
    module = "https" if url.startswith("https:") else "http"
    script = (
        f"require('{module}').get('{url}', r => process.exit(r.statusCode < 400 ? 0 : 1))"
        ".on('error', () => process.exit(1))"
    )
    return [exe, "-e", script]
