"""DF403 logs-to-file: the container writes its logs to files instead of stdout/stderr.

## What it does
Finds the places where a Dockerfile sends a container's logs to files:
- `CMD`/`ENTRYPOINT` output redirected to a file (`app >> /var/log/app.log 2>&1`) or
  copied to one with `| tee /var/log/app.log`, in shell form or in the script string of an
  exec-form shell (`["sh", "-c", "app >> /var/log/app.log 2>&1"]`, `/bin/bash -ec`, with
  `-o pipefail` …), read with the same shell parser;
- servers told to log to a file on their command line: gunicorn and hypercorn
  `--access-logfile`/`--error-logfile`/`--log-file`, uWSGI `--logto`/`--logto2`, celery
  `--logfile`/`-f` (shell or exec form);
- nginx or Apache httpd installed with apt/apk/yum/dnf in an image that runs them: their
  packaged configuration logs to `/var/log/nginx/…`, `/var/log/apache2/…` or
  `/var/log/httpd/…`;
- nginx configuration files copied from the build context under `/etc/nginx` (`COPY
  nginx.conf /etc/nginx/nginx.conf`, `COPY conf.d/*.conf /etc/nginx/conf.d/`, a whole
  directory) in an image that runs nginx (the official `nginx` image or a packaged install)
  whose `access_log`/`error_log` name files other than the packaged ones;
- `ENV` settings such as `LOG_FILE=/var/log/app.log` (reported only).

Fixes, all behind `--unsafe-fixes`: the redirection or `| tee FILE` is removed (inside an
exec-form `sh -c` string, the string is rewritten as a JSON string); gunicorn and
hypercorn get `-` (their name for stdout/stderr); uWSGI's and celery's option is removed
(they log to stderr by default; `--logto host:port` is a UDP logger and left alone); for a
packaged nginx/Apache the install `RUN` gets `ln -sf /dev/stdout …` / `ln -sf /dev/stderr …`
for the packaged log files, as the official `nginx` and `httpd` images do; a copied nginx
configuration is edited in the build context: the path of each such `access_log` becomes
`/dev/stdout`, of each `error_log` `/dev/stderr`, the rest of the directive (format,
`buffer=`, level) kept.

## Why is this bad
A container's filesystem is thrown away with the container, and `docker logs`, Kubernetes
and every log collector read the container's stdout and stderr. Logs written to files are
invisible to them, fill the writable layer, and are lost on restart.

## Example
```dockerfile
FROM python:3.12-slim
CMD gunicorn --access-logfile /var/log/access.log app:app >> /var/log/app.log 2>&1
```
becomes, with `--unsafe-fixes`:
```dockerfile
FROM python:3.12-slim
CMD gunicorn --access-logfile - app:app
```

## Fix safety
Every fix is **unsafe**: the log file stops existing (or becomes a symlink), and a sidecar,
`logrotate` job or health check that reads it breaks; output ordering between the program's
streams may differ; gunicorn's access log, off by default, is kept on but on stdout; an edited nginx
configuration is a file of the repository, which a deployment outside the image may use too.
Display-only when the rewrite is not certain: the log path comes from a variable, the
redirection sits inside a compound command or pipeline (in an `sh -c` string too), `tee` has other
options, a server configuration copied into the image names its own log paths (or cannot
be read from the build context), the install uses `sudo`, the install `RUN` cannot be
extended in place, uWSGI `--daemonize` or `--logger file:…` (running detached or through a
logger plugin needs a human), and `ENV` log paths (whether the program uses them is unknown), an nginx log path built from an
nginx variable (`$host.access.log`: one file per value).
Images built `FROM nginx` or `FROM httpd` get no symlinks: their packaged log files are
linked to stdout/stderr already (only a copied nginx configuration naming other files is
reported).

## Options
None.

## Resolves
none (hadolint, Trivy and Checkov have no rule for logs written to files)
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from dockfix.core.fixer import (
    Applicability,
    Edit,
    FileChange,
    Finding,
    Fix,
    Fixer,
    Resolves,
    Severity,
    register,
)
from dockfix.fixers._cmdline import (
    JsonElement,
    json_elements,
    json_string,
    verified_edits,
)
from dockfix.fixers._image_paths import copy_parts, image_workdir_at
from dockfix.fixers._lazy import lazy_re
from dockfix.semantics.semantic import base_image, descendants, resolve_path, stage_chain

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext
    from dockfix.semantics.shell import ShellScript
    from dockfix.syntax import Dockerfile, Instruction, Stage

_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})
# Paths that already are the container's output streams (or discard output on purpose).
_STREAM_PATHS = frozenset(
    {
        "-",
        "/dev/stdout",
        "/dev/stderr",
        "/dev/null",
        "/dev/console",
        "/dev/fd/1",
        "/dev/fd/2",
        "/proc/self/fd/1",
        "/proc/self/fd/2",
        "/proc/1/fd/1",
        "/proc/1/fd/2",
    }
)

# Server command-line options that name a log file: what the fix does with them.
#   dash: the value becomes "-" (the program's name for stdout/stderr)
#   drop: option and value are removed (the program logs to stderr by default)
#   display: reported only
_OPTIONS: dict[str, dict[str, str]] = {
    "gunicorn": {"--access-logfile": "dash", "--error-logfile": "dash", "--log-file": "dash"},
    "hypercorn": {"--access-logfile": "dash", "--error-logfile": "dash"},
    "uwsgi": {
        "--logto": "drop",
        "--logto2": "drop",
        "--daemonize": "display",
        "--daemonize2": "display",
        "--logger": "display",
        "--req-logger": "display",
    },
    "celery": {"--logfile": "drop", "-f": "drop"},
}

# Packaged servers: (server, package manager family) → log file → stream it should go to.
_NGINX_LOGS = {
    "/var/log/nginx/access.log": "/dev/stdout",
    "/var/log/nginx/error.log": "/dev/stderr",
}
_PACKAGED_LOGS: dict[tuple[str, str], dict[str, str]] = {
    ("nginx", "apt"): _NGINX_LOGS,
    ("nginx", "apk"): _NGINX_LOGS,
    ("nginx", "rpm"): _NGINX_LOGS,
    ("apache", "apt"): {
        "/var/log/apache2/access.log": "/dev/stdout",
        "/var/log/apache2/error.log": "/dev/stderr",
        "/var/log/apache2/other_vhosts_access.log": "/dev/stdout",
    },
    ("apache", "apk"): {
        "/var/log/apache2/access.log": "/dev/stdout",
        "/var/log/apache2/error.log": "/dev/stderr",
    },
    ("apache", "rpm"): {
        "/var/log/httpd/access_log": "/dev/stdout",
        "/var/log/httpd/error_log": "/dev/stderr",
    },
}
_SERVER_PACKAGES: dict[str, dict[str, str]] = {
    "apt": {
        "nginx": "nginx",
        "nginx-light": "nginx",
        "nginx-full": "nginx",
        "nginx-extras": "nginx",
        "nginx-core": "nginx",
        "apache2": "apache",
    },
    "apk": {"nginx": "nginx", "apache2": "apache"},
    "rpm": {"nginx": "nginx", "httpd": "apache"},
}
_INSTALL_COMMANDS = (
    ("apt", ("apt-get", "install")),
    ("apt", ("apt", "install")),
    ("apk", ("apk", "add")),
    ("rpm", ("yum", "install")),
    ("rpm", ("dnf", "install")),
    ("rpm", ("microdnf", "install")),
)
# Where each server's configuration lives (a COPY there may change the log paths).
_CONFIG_DIRS = {"nginx": ("/etc/nginx",), "apache": ("/etc/apache2", "/etc/httpd")}
_NGINX_LOG_RE = lazy_re(r"^\s*(access_log|error_log)\s+([^\s;]+)", re.M)
_APACHE_LOG_RE = lazy_re(r"^\s*(ErrorLog|CustomLog|TransferLog)\s+(\"[^\"]*\"|\S+)", re.M | re.I)
# `access_log PATH …;` / `error_log PATH …;` at the start of a line (commented ones are not).
_NGINX_DIRECTIVE_RE = lazy_re(
    r"^[ \t]*(access_log|error_log)[ \t]+(\"[^\"\n]*\"|'[^'\n]*'|[^\s;{}]+)", re.M
)
_NGINX_STREAMS = {"access_log": "/dev/stdout", "error_log": "/dev/stderr"}
# Images that run nginx and link its packaged log files to the container's streams.
_NGINX_IMAGES = frozenset({"nginx", "nginxinc/nginx-unprivileged"})
_MAX_CONFIG_FILES = 64
_ENV_LOG_RE = lazy_re(r"LOG_?(FILE|PATH|DIR)$|^(ACCESS|ERROR)_?LOG$")
_MAX_CONFIG_BYTES = 1 << 20


# What the edited instruction must be (module functions bound with functools.partial: a
# nested function would keep the compiled build from compiling this fixer).
def _args_are(expected: str, new: Instruction) -> bool:
    return new.args.strip() == expected


def _json_args_are(values: list[str] | None, new: Instruction) -> bool:
    return new.json_args is not None and new.json_args == values


@register
class LogsToFile(Fixer):
    code = "DF403"
    severity = Severity.INFO
    name = "logs-to-file"
    summary = "Logs written to files inside the container instead of stdout/stderr"
    resolves = Resolves()
    # a copied nginx configuration changes (its log paths), under /etc/nginx
    image_changes = ("config:Cmd", "config:Entrypoint", "files:/var/log/**", "files:/etc/nginx/**")

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        for instr in doc.instructions:
            if instr.keyword in ("CMD", "ENTRYPOINT") and not instr.flags:
                yield from self._command(doc, instr)
        for stage in _runtime_stages(doc):
            yield from self._packaged_servers(doc, ctx, stage)
            yield from self._nginx_configs(doc, ctx, stage)
            yield from self._env(stage)

    # --- CMD / ENTRYPOINT --------------------------------------------------------------------

    def _command(self, doc: Dockerfile, instr: Instruction) -> Iterator[Finding]:
        if instr.json_args is not None:
            elements = json_elements(instr.logical[instr.args_start :], instr.args_start)
            if elements is None or [e.value for e in elements] != instr.json_args:
                return
            yield from self._exec_form(doc, instr, elements)
            return
        text = instr.logical[instr.args_start :]
        yield from self._redirects(doc, instr, text)
        yield from self._shell_options(doc, instr)

    def _exec_form(
        self, doc: Dockerfile, instr: Instruction, elements: list[JsonElement]
    ) -> Iterator[Finding]:
        values = [e.value for e in elements]
        # `["sh", "-c", "app > /var/log/app.log"]`: the script string, read as the shell does.
        script_at = _shell_script_index(values)
        if script_at is not None:
            found = self._script_string(doc, instr, elements, script_at)
            if found is not None:
                yield found
        for use in _option_uses(values):
            yield self._option_finding(
                doc, instr, use, [(e.start, e.end) for e in elements], json_form=True
            )

    def _script_string(
        self, doc: Dockerfile, instr: Instruction, elements: list[JsonElement], at: int
    ) -> Finding | None:
        """The redirection inside the script string of an exec-form `sh -c`."""
        script = elements[at].value
        plan = _redirect_plan(script)
        if not plan.targets:
            return None
        shell = " ".join(e.value for e in elements[:at])
        message = f"{instr.keyword} (`{shell}`) writes output to {_names(plan.targets)}"
        if plan.reason:
            return self.finding(instr, message, reason=f"in the `{shell}` string: {plan.reason}")
        new_script = script
        for s, e in sorted(plan.removals, reverse=True):
            new_script = new_script[:s] + new_script[e:]
        element = elements[at]
        change = [(element.start, element.end, json_string(new_script))]
        after = [e.value for e in elements]
        after[at] = new_script
        edits = _removal_edits(doc, instr, change)
        if not verified_edits(doc, instr, edits, partial(_json_args_are, after)):
            return self.finding(
                instr, message, reason=f"the `{shell}` string cannot be rewritten in place"
            )
        return self.finding(
            instr,
            message,
            Fix.unsafe(
                *edits,
                description=f"remove the {plan.kind} from the `{shell}` string so output "
                f"reaches the container's stdout/stderr; {_names(plan.targets)} will no longer "
                "be written",
            ),
        )

    def _shell_options(self, doc: Dockerfile, instr: Instruction) -> Iterator[Finding]:
        from dockfix.semantics.shell import shell_of

        script = shell_of(instr)
        if script is None or script.has_error:
            return
        for cmd in script.commands:
            values = [w.value if "$" not in w.raw and "`" not in w.raw else "$" for w in cmd.words]
            for use in _option_uses(values):
                spans = [(w.start, w.end) for w in cmd.words]
                yield self._option_finding(doc, instr, use, spans, json_form=False)

    def _option_finding(
        self,
        doc: Dockerfile,
        instr: Instruction,
        use: _OptionUse,
        spans: Sequence[tuple[int, int]],
        *,
        json_form: bool,
    ) -> Finding:
        message = f"{use.program} {use.option} logs to {use.value}"
        if use.value.startswith("$") or "$" in use.value:
            return self.finding(instr, message, reason="the log path comes from a variable")
        if use.action == "display":
            return self.finding(
                instr,
                message,
                reason=f"`{use.option}` changes how {use.program} runs or logs; "
                "make it log to stderr by hand",
            )
        quote = json_string if json_form else _shell_quote
        opt_start, opt_end = spans[use.option_index]
        if use.action == "dash":
            if use.inline:
                new_word = quote(f"{use.option}=-")
                remove = [(opt_start, opt_end, new_word)]
            else:
                v_start, v_end = spans[use.option_index + 1]
                remove = [(v_start, v_end, quote("-"))]
            what = f"log to stdout/stderr with `{use.option} -`"
        else:
            last = use.option_index if use.inline else use.option_index + 1
            prev_end = spans[use.option_index - 1][1]
            remove = [(prev_end, spans[last][1], "")]
            what = f"remove `{use.option}` ({use.program} then logs to stderr)"
        edits = _removal_edits(doc, instr, remove)
        expected = _expected_logical(instr, remove)
        if json_form:
            accept = partial(_json_args_are, _json_after(instr, remove))
        else:
            accept = partial(_args_are, expected)
        if not verified_edits(doc, instr, edits, accept):
            return self.finding(
                instr, message, reason="the option and its value span continuation lines"
            )
        return self.finding(
            instr,
            message,
            Fix.unsafe(
                *edits,
                description=f"{what}; anything reading {use.value} stops seeing new lines",
            ),
        )

    def _redirects(self, doc: Dockerfile, instr: Instruction, text: str) -> Iterator[Finding]:
        plan = _redirect_plan(text)
        if not plan.targets:
            return
        message = f"{instr.keyword} writes output to {_names(plan.targets)}"
        if plan.reason:
            yield self.finding(instr, message, reason=plan.reason)
            return
        base = instr.args_start
        ranges = [(base + s, base + e, "") for s, e in plan.removals]
        edits = _removal_edits(doc, instr, ranges)
        expected = _expected_logical(instr, ranges)
        if not verified_edits(doc, instr, edits, partial(_args_are, expected)):
            yield self.finding(
                instr,
                message,
                reason="the redirection spans continuation lines with comments; remove it by hand",
            )
            return
        yield self.finding(
            instr,
            message,
            Fix.unsafe(
                *edits,
                description=f"remove the {plan.kind} so output reaches the container's "
                f"stdout/stderr; {_names(plan.targets)} will no longer be written",
            ),
        )

    # --- packaged nginx / Apache -------------------------------------------------------------

    def _packaged_servers(
        self, doc: Dockerfile, ctx: FixContext, stage: Stage
    ) -> Iterator[Finding]:
        from dockfix.semantics.shell import shell_of

        for instr in stage.instructions:
            if instr.keyword != "RUN":
                continue
            script = shell_of(instr)
            if script is None:
                continue
            for family, server, sudo in _installed_servers(script):
                logs = _PACKAGED_LOGS[(server, family)]
                if _already_linked(doc, stage, logs):
                    continue
                label = "nginx" if server == "nginx" else "Apache httpd"
                message = f"{label} installed here logs to {_names(list(logs))}"
                lines = [f"ln -sf {dest} {path}" for path, dest in logs.items()]
                suggestion = " && ".join(lines)
                config_problem = _config_problem(ctx, stage, server, logs)
                if config_problem:
                    yield self.finding(instr, message, reason=config_problem)
                    continue
                if sudo:
                    yield self.finding(
                        instr,
                        message,
                        reason=f"the install runs through sudo; add `{suggestion}` by hand",
                    )
                    continue
                edits = _append_commands(doc, instr, script, lines)
                if edits is None:
                    yield self.finding(
                        instr,
                        message,
                        reason=f"this RUN cannot be extended in place; add `{suggestion}`",
                    )
                    continue
                yield self.finding(
                    instr,
                    message,
                    Fix.unsafe(
                        *edits,
                        description=f"link the {label} log files to stdout/stderr "
                        "(they become symlinks: tools reading them see nothing)",
                    ),
                )

    # --- nginx configuration copied from the build context ------------------------------------

    def _nginx_configs(self, doc: Dockerfile, ctx: FixContext, stage: Stage) -> Iterator[Finding]:
        if not ctx.has_context or not _runs_nginx(doc, stage):
            return
        seen: set[str] = set()
        for instr in stage.instructions:
            for rel, directives in _copied_nginx_configs(doc, ctx, stage, instr):
                if rel in seen:
                    continue
                seen.add(rel)
                yield self._nginx_config_finding(ctx, instr, rel, directives)

    def _nginx_config_finding(
        self, ctx: FixContext, instr: Instruction, rel: str, directives: list[_LogDirective]
    ) -> Finding:
        paths = _names([d.value for d in directives])
        message = f"the nginx configuration {rel} copied here logs to {paths}"
        dynamic = [d for d in directives if "$" in d.value]
        if dynamic:
            return self.finding(
                instr,
                message,
                reason=f"`{dynamic[0].name} {dynamic[0].value}` names its file with an nginx "
                "variable (one file per value); point it at /dev/stdout by hand",
            )
        path = ctx.context_path(rel)
        assert path is not None
        try:
            original = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return self.finding(instr, message, reason=f"{rel} cannot be read as UTF-8 text")
        content = original
        for d in sorted(directives, key=_directive_start, reverse=True):
            content = content[: d.start] + _NGINX_STREAMS[d.name] + content[d.end :]
        return self.finding(
            instr,
            message,
            Fix(
                (),
                Applicability.UNSAFE,
                description=f"point {rel}'s access_log at /dev/stdout and error_log at "
                f"/dev/stderr; {paths} will no longer be written",
                file_changes=(FileChange(path, content, original),),
            ),
        )

    # --- ENV -------------------------------------------------------------------------------

    def _env(self, stage: Stage) -> Iterator[Finding]:
        from dockfix.syntax import env_pairs

        for instr in stage.instructions:
            if instr.keyword != "ENV":
                continue
            for name, value in env_pairs(instr):
                if not _ENV_LOG_RE.search(name.upper()) or "$" in value:
                    continue
                if not value.startswith("/") or value.startswith(("/dev/", "/proc/")):
                    continue
                yield self.finding(
                    instr,
                    f"ENV {name}={value} points logs at a file",
                    reason="whether the program writes its logs there cannot be known from the "
                    "Dockerfile; if it does, point it at /dev/stdout",
                )


def _shell_script_index(values: list[str]) -> int | None:
    """Where the script string of `sh -c SCRIPT`, `/bin/bash -ec SCRIPT` … is, else None."""
    if not values or values[0].rsplit("/", 1)[-1] not in _SHELLS:
        return None
    i = 1
    while i < len(values) - 1:
        word = values[i]
        if word in ("-o", "+o"):
            i += 2  # `-o pipefail`: the option's value is next
            continue
        if not word.startswith(("-", "+")) or word.startswith("--") or not word[1:].isalpha():
            return None  # `sh script.sh`, or a long option this does not read
        if "c" in word[1:]:
            return i + 1
        i += 1
    return None


# --- redirections in a shell command -----------------------------------------------------------


@dataclass(eq=False)
class _RedirectPlan:
    targets: list[str]  # log files written
    removals: list[tuple[int, int]]  # character ranges of the text to remove
    reason: str = ""  # why no fix (display-only)
    kind: str = "redirection"


def _redirect_plan(text: str) -> _RedirectPlan:
    """Which log files a shell command writes, and what to remove to stop it."""
    from dockfix.semantics.shell import syntax_tree

    data = text.encode("utf-8", "surrogatepass")
    tree = syntax_tree(data)
    table: list[int] = []
    for i, ch in enumerate(text):
        table.extend([i] * len(ch.encode("utf-8", "surrogatepass")))
    table.append(len(text))

    def span(node: Any) -> tuple[int, int]:
        return table[node.start_byte], table[node.end_byte]

    def node_text(node: Any) -> str:
        return str(data[node.start_byte : node.end_byte].decode("utf-8", "surrogatepass"))

    targets: list[str] = []
    dynamic = False
    tee_nodes: list[Any] = []
    for node in _walk(tree.root_node):
        if node.type == "file_redirect":
            kind, target = _classify_redirect(node, node_text)
            if kind == "file":
                targets.append(target)
            elif kind == "dynamic":
                dynamic = True
                targets.append(target)
        elif node.type == "command":
            name = node.child_by_field_name("name")
            if name is not None and node_text(name).rsplit("/", 1)[-1] == "tee":
                tee_nodes.append(node)
                targets.extend(_tee_files(node, node_text))
    if not targets:
        return _RedirectPlan([], [])
    if dynamic:
        return _RedirectPlan(targets, [], "the target of a redirection comes from a variable")
    if tree.root_node.has_error:
        return _RedirectPlan(targets, [], "shell syntax the fixer does not model")
    statements = [c for c in tree.root_node.named_children if c.type != "comment"]
    if len(statements) != 1 or any(c.type == "&" for c in tree.root_node.children):
        return _RedirectPlan(
            targets,
            [],
            "the command line has several statements or a "
            "background job; remove the redirection by hand",
        )
    top = statements[0]
    if top.type == "redirected_statement" and not tee_nodes:
        body = top.child_by_field_name("body")
        if body is None or body.type not in ("command", "list"):
            return _RedirectPlan(targets, [], "the redirection applies to a compound command")
        if body.type == "list" and not _is_and_or_chain(body):
            return _RedirectPlan(targets, [], "the redirection applies to a compound command")
        removals: list[tuple[int, int]] = []
        prev_end = span(body)[1]
        removed_stdout = False
        for child in top.children:
            if child.type != "file_redirect":
                continue
            kind, _ = _classify_redirect(child, node_text)
            # tree-sitter counts words after `> FILE` as more destinations; in the shell they
            # are arguments of the command, so only the operator and its first word go.
            dests = child.children_by_field_name("destination")
            core_end = span(dests[0])[1] if dests else span(child)[1]
            if kind == "file" or (kind == "dup_err_to_out" and removed_stdout):
                removals.append((prev_end, core_end))
                if kind == "file" and _redirect_fd(child, node_text) in ("", "1", "&"):
                    removed_stdout = True
            prev_end = span(child)[1]
        return _RedirectPlan(targets, _merge(removals))
    if top.type == "pipeline" and len(tee_nodes) == 1:
        parts = list(top.named_children)
        ops = [c for c in top.children if not c.is_named]
        tee = tee_nodes[0]
        if (
            len(parts) == 2
            and parts[1].start_byte == tee.start_byte
            and [o.type for o in ops] == ["|"]
        ):
            first = parts[0]
            if first.type == "redirected_statement" and any(
                _classify_redirect(r, node_text)[0] in ("file", "dynamic")
                for r in first.children
                if r.type == "file_redirect"
            ):
                return _RedirectPlan(targets, [], "the command both redirects and pipes to tee")
            if first.type in ("command", "redirected_statement") and _plain_tee(tee, node_text):
                return _RedirectPlan(
                    targets, [(span(first)[1], span(tee)[1])], kind="`| tee` to a file"
                )
        return _RedirectPlan(targets, [], "`tee` is used in a way the fixer does not rewrite")
    return _RedirectPlan(
        targets,
        [],
        "the redirection is inside a compound command or before the command; remove it by hand",
    )


def _walk(node: Any) -> Iterator[Any]:
    yield node
    for child in node.children:
        yield from _walk(child)


def _is_and_or_chain(node: Any) -> bool:
    if node.type == "command":
        return True
    if node.type != "list":
        return False
    ops = [c.type for c in node.children if not c.is_named]
    return all(o in ("&&", "||") for o in ops) and all(
        _is_and_or_chain(c) for c in node.named_children
    )


def _redirect_fd(node: Any, node_text: Any) -> str:
    fd = node.child_by_field_name("descriptor")
    op = next((c for c in node.children if not c.is_named), None)
    if op is not None and node_text(op).startswith("&"):
        return "&"
    return node_text(fd) if fd is not None else ""


def _classify_redirect(node: Any, node_text: Any) -> tuple[str, str]:
    """('file' | 'dynamic' | 'dup_err_to_out' | 'other', target text) of a file_redirect."""
    op_node = next((c for c in node.children if not c.is_named), None)
    op = node_text(op_node) if op_node is not None else ""
    fd = _redirect_fd(node, node_text)
    dest = node.child_by_field_name("destination")
    dest_text = node_text(dest) if dest is not None else ""
    if op == ">&" and fd == "2" and dest_text == "1":
        return "dup_err_to_out", ""
    if op not in (">", ">>", ">|", "&>", "&>>") or fd not in ("", "1", "2", "&"):
        return "other", ""
    if dest is None:
        return "other", ""
    value = _literal(dest, node_text)
    if value is None:
        return "dynamic", dest_text
    if value in _STREAM_PATHS:
        return "other", ""
    return "file", value


def _literal(node: Any, node_text: Any) -> str | None:
    """The value of a plain word or quoted string without expansions, else None."""
    text = node_text(node)
    if node.type == "word" and not any(c in text for c in "$`\\*?[{~"):
        return str(text)
    if node.type == "raw_string":
        return str(text[1:-1])
    if node.type == "string" and all(c.type in ('"', "string_content") for c in node.children):
        inner = text[1:-1]
        if not any(c in inner for c in "$`\\"):
            return str(inner)
    return None


def _tee_files(node: Any, node_text: Any) -> list[str]:
    files = []
    for arg in node.children_by_field_name("argument"):
        value = _literal(arg, node_text)
        if value is None:
            files.append(node_text(arg))
        elif not value.startswith("-") and value not in _STREAM_PATHS:
            files.append(value)
    return files


def _plain_tee(node: Any, node_text: Any) -> bool:
    """`tee [-a|-i|-p] FILE` writing one literal file (no redirection of its own)."""
    args = node.children_by_field_name("argument")
    files = 0
    for arg in args:
        value = _literal(arg, node_text)
        if value is None:
            return False
        if value.startswith("-"):
            if value not in ("-a", "--append", "-i", "--ignore-interrupts", "-p"):
                return False
        else:
            files += 1
    return files == 1 and all(c.type != "file_redirect" for c in node.children)


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(ranges):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


# --- server options ------------------------------------------------------------------------------


class _OptionUse(NamedTuple):
    program: str
    option: str
    value: str
    action: str
    option_index: int  # index of the option word in argv
    inline: bool  # `--opt=value` in one word


def _option_uses(argv: list[str]) -> list[_OptionUse]:
    """Log-file options of a known server anywhere in ``argv`` (after the program word)."""
    uses: list[_OptionUse] = []
    program = ""
    for i, word in enumerate(argv):
        if not program:
            base = word.rsplit("/", 1)[-1]
            # The program word: first, or after `-m`/`--`/a wrapper (not an option's value).
            if base in _OPTIONS and (
                i == 0 or argv[i - 1] in ("-m", "--") or not argv[i - 1].startswith("-")
            ):
                program = base
            continue
        table = _OPTIONS[program]
        if word in table and i + 1 < len(argv):
            value = argv[i + 1]
            if value not in _STREAM_PATHS and not _logger_not_file(word, value):
                uses.append(_OptionUse(program, word, value, table[word], i, False))
        elif "=" in word and word.split("=", 1)[0] in table:
            option, value = word.split("=", 1)
            if value not in _STREAM_PATHS and not _logger_not_file(option, value):
                uses.append(_OptionUse(program, option, value, table[option], i, True))
    return uses


def _logger_not_file(option: str, value: str) -> bool:
    """uWSGI loggers other than `file:` (syslog, socket…) and `--logto host:port` (UDP) are
    not log files."""
    if option in ("--logger", "--req-logger"):
        return "file:" not in value
    return re.fullmatch(r"[\w.-]*:\d+", value) is not None


def _shell_quote(value: str) -> str:
    return value if re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", value) else "'" + value + "'"


def _expected_logical(instr: Instruction, changes: Sequence[tuple[int, int, str]]) -> str:
    """The instruction's arguments after replacing logical ranges (for verification)."""
    text = instr.logical
    for s, e, t in sorted(changes, reverse=True):
        text = text[:s] + t + text[e:]
    return text[instr.args_start :].strip()


def _json_after(instr: Instruction, changes: Sequence[tuple[int, int, str]]) -> list[str] | None:
    import json

    text = instr.logical
    for s, e, t in sorted(changes, reverse=True):
        text = text[:s] + t + text[e:]
    try:
        value = json.loads(text[instr.args_start :])
    except ValueError:
        return None
    return value if isinstance(value, list) else None


def _removal_edits(
    doc: Dockerfile, instr: Instruction, ranges: Sequence[tuple[int, int, str]]
) -> list[Edit]:
    """Source edits for logical replacements (removals run from the end of the word before).

    A range that would take a comment line inside the continuation with it is narrowed to
    start at its first word; the caller re-parses to check the result.
    """
    edits = []
    for s, e, t in ranges:
        src_s, src_e = instr.source_span(s, e)
        if any(src_s <= ln.start < src_e for ln in instr.comments):
            while s < e and instr.logical[s] in " \t":
                s += 1
            src_s, src_e = instr.source_span(s, e)
        edits.append(Edit(src_s, src_e, t))
    return edits


def _names(paths: Sequence[str]) -> str:
    return ", ".join(dict.fromkeys(paths))


# --- packaged servers ------------------------------------------------------------------------------


def _runtime_stages(doc: Dockerfile) -> list[Stage]:
    """Stages whose image can run: the last one, any with CMD/ENTRYPOINT, and their bases."""
    out: list[Stage] = []
    for st in doc.stages:
        runs = st is doc.final_stage or any(
            i.keyword in ("CMD", "ENTRYPOINT") for i in st.instructions
        )
        if runs:
            for base in reversed(stage_chain(st)):
                if base not in out:
                    out.append(base)
    return [st for st in doc.stages if st in out]


def _installed_servers(script: ShellScript) -> Iterator[tuple[str, str, bool]]:
    """(package family, server, via sudo) for each server package the script installs."""
    seen: set[tuple[str, str]] = set()
    for family, prefix in _INSTALL_COMMANDS:
        for cmd in script.find(*prefix):
            sudo = any(w.value.rsplit("/", 1)[-1] == "sudo" for w in cmd.words[:1])
            after = False
            for w in cmd.words:
                if not after:
                    after = w.value == prefix[1]
                    continue
                if w.value.startswith("-"):
                    continue
                name = re.split(r"[=<>~]", w.value, maxsplit=1)[0]
                if family == "rpm":
                    name = re.sub(r"-\d.*$", "", name)
                server = _SERVER_PACKAGES[family].get(name)
                if server and (family, server) not in seen:
                    seen.add((family, server))
                    yield family, server, sudo


def _already_linked(doc: Dockerfile, stage: Stage, logs: dict[str, str]) -> bool:
    """Whether RUNs of the stage, its bases or the stages built on it already point every
    log file at a stream."""
    stages = [*reversed(stage_chain(stage)), *descendants(doc, stage)]
    runs = [i.logical for st in stages for i in st.instructions if i.keyword == "RUN"]
    return all(any(path in r and "/dev/std" in r for r in runs) for path in logs)


def _config_problem(ctx: FixContext, stage: Stage, server: str, logs: dict[str, str]) -> str:
    """Why the packaged log paths may not be the ones in use ('' when they are)."""
    dirs = _CONFIG_DIRS[server]
    for st in reversed(stage_chain(stage)):
        for instr in st.instructions:
            if instr.keyword not in ("COPY", "ADD") or instr.heredocs:
                continue
            words = instr.json_args or [w for w, _, _ in instr.args_words()]
            if len(words) < 2:
                continue
            dest = words[-1]
            if not any(dest == d or dest.startswith(d + "/") for d in dirs):
                continue
            where = f"the {instr.keyword} on line {instr.start_line}"
            if instr.flag("from") is not None or not ctx.has_context:
                return (
                    f"{where} replaces the server configuration and its log paths cannot "
                    "be read here"
                )
            for src in words[:-1]:
                if any(c in src for c in "$*?[\"'"):
                    return f"{where} copies {src}, which cannot be resolved"
                found = _config_log_paths(ctx, src, server)
                if found is None:
                    return f"{where} copies {src}, which is not in the build context"
                # Relative paths are under the server root, whose logs/ is the log directory.
                log_dir = posixpath.dirname(next(iter(logs)))
                found = [
                    posixpath.join(log_dir, p[len("logs/") :]) if p.startswith("logs/") else p
                    for p in found
                ]
                other = [p for p in found if p not in logs and not _is_stream(p)]
                if other:
                    how = (
                        f" (the finding on line {instr.start_line} does, with --unsafe-fixes)"
                        if server == "nginx" and not any("$" in p for p in other)
                        else ""
                    )
                    return (
                        f"the copied configuration logs to {_names(other)}; point those at "
                        f"/dev/stdout or /dev/stderr{how}"
                    )
    return ""


def _is_stream(value: str) -> bool:
    v = value.strip('"')
    return v in _STREAM_PATHS or v in ("off", "stderr") or v.startswith(("syslog:", "|", "memory:"))


def _config_log_paths(ctx: FixContext, src: str, server: str) -> list[str] | None:
    """Log paths named in a copied config file or directory; None when unreadable."""
    root = ctx.context_path(posixpath.normpath("/" + src).lstrip("/"))
    if root is None or not root.exists():
        return None
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    paths: list[str] = []
    for f in files:
        try:
            if f.stat().st_size > _MAX_CONFIG_BYTES:
                return None
            text = f.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        if server == "nginx":
            paths.extend(m.group(2) for m in _NGINX_LOG_RE.finditer(text))
        else:
            for m in _APACHE_LOG_RE.finditer(text):
                value = m.group(2).strip('"')
                value = value.replace("${APACHE_LOG_DIR}", "/var/log/apache2")
                paths.append(value)
    return paths


def _append_commands(
    doc: Dockerfile, instr: Instruction, script: ShellScript, commands: list[str]
) -> list[Edit] | None:
    """Edits that append `&& cmd` for each command to a RUN, in the RUN's own layout."""
    from dockfix.core.edits import indent_of

    if instr.heredocs or script.has_error or script.comments or not script.chain:
        return None
    last_item = script.chain[-1]
    if last_item.op == "&":
        return None
    logical_end = len(instr.logical.rstrip(" \t"))
    at = instr.source_span(logical_end - 1, logical_end)[1]
    esc = doc.escape
    eol = doc.eol
    if instr.header_end_line == instr.start_line:
        text = "".join(f" && {c}" for c in commands)
    else:
        last_line = doc.line_text(instr.header_end_line)
        indent = last_line[: len(last_line) - len(last_line.lstrip(" \t"))]
        indent = indent or indent_of(doc, instr) + "    "
        if last_line.lstrip(" \t").startswith("&&"):
            text = "".join(f" {esc}{eol}{indent}&& {c}" for c in commands)
        else:
            text = "".join(f" && {esc}{eol}{indent}{c}" for c in commands)
    edits = [Edit.insert(at, text)]
    expected = " ".join((instr.args + "".join(f" && {c}" for c in commands)).split())
    if not verified_edits(doc, instr, edits, lambda new: " ".join(new.args.split()) == expected):
        return None
    return edits


# --- nginx configuration copied from the build context ---------------------------------------------


class _LogDirective(NamedTuple):
    name: str  # access_log | error_log
    value: str  # the path as nginx reads it (quotes removed)
    start: int  # character offsets of the path word in the file
    end: int


def _directive_start(d: _LogDirective) -> int:
    return d.start


def _runs_nginx(doc: Dockerfile, stage: Stage) -> bool:
    """The official nginx image, or an nginx package installed in the stage's chain."""
    from dockfix.semantics.shell import shell_of

    ref = base_image(doc, stage)
    if ref is not None and ref.short_name in _NGINX_IMAGES:
        return True
    for st in stage_chain(stage):
        for instr in st.instructions:
            script = shell_of(instr) if instr.keyword == "RUN" else None
            if script is not None and any(s == "nginx" for _, s, _ in _installed_servers(script)):
                return True
    return False


def _copied_nginx_configs(
    doc: Dockerfile, ctx: FixContext, stage: Stage, instr: Instruction
) -> list[tuple[str, list[_LogDirective]]]:
    """(context-relative file, its log directives that write files) for each nginx
    configuration file a COPY/ADD of the build context puts under /etc/nginx."""
    if instr.keyword not in ("COPY", "ADD") or instr.flag("from") is not None:
        return []
    parts = copy_parts(instr)
    if parts is None or any("$" in w for w in [*parts.sources, parts.dest]):
        return []
    dest = resolve_path(parts.dest, image_workdir_at(doc, stage, instr))
    if dest is None or not (dest == "/etc/nginx" or dest.startswith("/etc/nginx/")):
        return []
    out = []
    for rel in _context_files(ctx, parts.sources):
        directives = _file_log_directives(ctx, rel)
        if directives:
            out.append((rel, directives))
    return out


def _context_files(ctx: FixContext, sources: list[str]) -> list[str]:
    """The context files the sources name (directories walked, wildcards matched)."""
    root = ctx.context_path("")
    if root is None:
        return []
    files: list[str] = []
    for src in sources:
        rel = posixpath.normpath("/" + src).lstrip("/")
        matches = sorted(root.glob(rel)) if any(c in rel for c in "*?[") else [root / rel]
        for match in matches:
            if match.is_dir():
                files.extend(p.relative_to(root).as_posix() for p in sorted(match.rglob("*")))
            elif match.is_file():
                files.append(match.relative_to(root).as_posix())
    return [f for f in dict.fromkeys(files) if (root / f).is_file()][:_MAX_CONFIG_FILES]


def _file_log_directives(ctx: FixContext, rel: str) -> list[_LogDirective]:
    path = ctx.context_path(rel)
    try:
        if path is None or path.stat().st_size > _MAX_CONFIG_BYTES:
            return []
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    out = []
    for m in _NGINX_DIRECTIVE_RE.finditer(text):
        word = m.group(2)
        value = word[1:-1] if word[:1] in "\"'" else word
        # The packaged paths are the official image's symlinks, or DF403's `ln -sf` on the
        # install RUN; `off`, `syslog:`, `memory:` and the streams are not files.
        if value == "off" or _is_stream(value) or value in _NGINX_LOGS:
            continue
        out.append(_LogDirective(m.group(1), value, m.start(2), m.end(2)))
    return out
