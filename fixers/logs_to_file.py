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

from collections.abc import Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING

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
from dockfix.fixers._cmdline import (
    JsonElement,
    json_elements,
    json_string,
    verified_edits,
)
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._log_redirects import redirect_plan
from dockfix.fixers._log_servers import (
    PACKAGED_LOGS,
    SERVER_PACKAGES,
    SERVER_PROGRAMS,
    OptionUse,
    already_linked,
    append_commands,
    config_problem,
    expected_logical,
    installed_servers,
    json_after,
    option_uses,
    path_list,
    removal_edits,
    runtime_stages,
    shell_quote,
)
from dockfix.fixers._nginx_log_configs import (
    LogDirective,
    copied_nginx_configs,
    directive_start,
    may_run_nginx,
    runs_nginx,
)
from dockfix.fixers._run_text import may_name

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext
    from dockfix.syntax import Dockerfile, Instruction, Stage


_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh"})

_NGINX_STREAMS = {"access_log": "/dev/stdout", "error_log": "/dev/stderr"}

_ENV_LOG_RE = lazy_re(r"LOG_?(FILE|PATH|DIR)$|^(ACCESS|ERROR)_?LOG$")


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
        nginx = ctx.has_context and may_run_nginx(doc)
        for stage in runtime_stages(doc):
            yield from self._packaged_servers(doc, ctx, stage)
            if nginx:
                yield from self._nginx_configs(doc, ctx, stage)
            yield from self._env(stage)

    # --- CMD / ENTRYPOINT --------------------------------------------------------------------

    def _command(self, doc: Dockerfile, instr: Instruction) -> Iterator[Finding]:
        if instr.json_args is not None:
            # nothing to report unless it runs a shell or a server with a log option: the
            # offsets of the JSON strings are read only then
            args = instr.json_args
            if _shell_script_index(args) is None and not option_uses(args):
                return
            elements = json_elements(instr.logical[instr.args_start :], instr.args_start)
            if elements is None or [e.value for e in elements] != instr.json_args:
                return
            yield from self._exec_form(doc, instr, elements)
            return
        text = instr.logical[instr.args_start :]
        # a redirection to a file has a `>`; a copy to one runs `tee`
        if ">" in text or "tee" in text:
            yield from self._redirects(doc, instr, text)
        if may_name(text, SERVER_PROGRAMS):
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
        for use in option_uses(values):
            yield self._option_finding(
                doc, instr, use, [(e.start, e.end) for e in elements], json_form=True
            )

    def _script_string(
        self, doc: Dockerfile, instr: Instruction, elements: list[JsonElement], at: int
    ) -> Finding | None:
        """The redirection inside the script string of an exec-form `sh -c`."""
        script = elements[at].value
        plan = redirect_plan(script)
        if not plan.targets:
            return None
        shell = " ".join(e.value for e in elements[:at])
        message = f"{instr.keyword} (`{shell}`) writes output to {path_list(plan.targets)}"
        if plan.reason:
            return self.finding(instr, message, reason=f"in the `{shell}` string: {plan.reason}")
        new_script = script
        for s, e in sorted(plan.removals, reverse=True):
            new_script = new_script[:s] + new_script[e:]
        element = elements[at]
        change = [(element.start, element.end, json_string(new_script))]
        after = [e.value for e in elements]
        after[at] = new_script
        edits = removal_edits(doc, instr, change)
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
                f"reaches the container's stdout/stderr; {path_list(plan.targets)} will no longer "
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
            for use in option_uses(values):
                spans = [(w.start, w.end) for w in cmd.words]
                yield self._option_finding(doc, instr, use, spans, json_form=False)

    def _option_finding(
        self,
        doc: Dockerfile,
        instr: Instruction,
        use: OptionUse,
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
        quote = json_string if json_form else shell_quote
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
        edits = removal_edits(doc, instr, remove)
        expected = expected_logical(instr, remove)
        if json_form:
            accept = partial(_json_args_are, json_after(instr, remove))
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
        plan = redirect_plan(text)
        if not plan.targets:
            return
        message = f"{instr.keyword} writes output to {path_list(plan.targets)}"
        if plan.reason:
            yield self.finding(instr, message, reason=plan.reason)
            return
        base = instr.args_start
        ranges = [(base + s, base + e, "") for s, e in plan.removals]
        edits = removal_edits(doc, instr, ranges)
        expected = expected_logical(instr, ranges)
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
                f"stdout/stderr; {path_list(plan.targets)} will no longer be written",
            ),
        )

    # --- packaged nginx / Apache -------------------------------------------------------------

    def _packaged_servers(
        self, doc: Dockerfile, ctx: FixContext, stage: Stage
    ) -> Iterator[Finding]:
        from dockfix.semantics.shell import shell_of

        for instr in stage.instructions:
            if instr.keyword != "RUN" or not may_name(instr.logical, SERVER_PACKAGES):
                continue
            script = shell_of(instr)
            if script is None:
                continue
            for family, server, sudo in installed_servers(script):
                logs = PACKAGED_LOGS[(server, family)]
                if already_linked(doc, stage, logs):
                    continue
                label = "nginx" if server == "nginx" else "Apache httpd"
                message = f"{label} installed here logs to {path_list(list(logs))}"
                lines = [f"ln -sf {dest} {path}" for path, dest in logs.items()]
                suggestion = " && ".join(lines)
                moved_logs = config_problem(ctx, stage, server, logs)
                if moved_logs:
                    yield self.finding(instr, message, reason=moved_logs)
                    continue
                if sudo:
                    yield self.finding(
                        instr,
                        message,
                        reason=f"the install runs through sudo; add `{suggestion}` by hand",
                    )
                    continue
                edits = append_commands(doc, instr, script, lines)
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
        if not ctx.has_context or not runs_nginx(doc, stage):
            return
        seen: set[str] = set()
        for instr in stage.instructions:
            for rel, directives in copied_nginx_configs(doc, ctx, stage, instr):
                if rel in seen:
                    continue
                seen.add(rel)
                yield self._nginx_config_finding(ctx, instr, rel, directives)

    def _nginx_config_finding(
        self, ctx: FixContext, instr: Instruction, rel: str, directives: list[LogDirective]
    ) -> Finding:
        paths = path_list([d.value for d in directives])
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
        for d in sorted(directives, key=directive_start, reverse=True):
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
            # every name the pattern matches has LOG in it (escaped with `\` or a backtick)
            if instr.keyword != "ENV" or not may_name(
                instr.logical.upper().replace("`", ""), ("LOG",)
            ):
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
