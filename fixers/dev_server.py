"""DF404 dev-server: the image starts a development server.

## What it does
Reads the command the image starts with (the `ENTRYPOINT` and `CMD` of the final stage, through
`tini`/`dumb-init`, `sh -c "…"`, `npx`, `bundle exec`, `python -m`, and an entrypoint script
that runs its arguments: `exec "$@"` read from the build context, or, when the script cannot be
read, its conventional `*entrypoint*` name) and reports a development server, naming the
production alternative for each:

| started | instead |
| --- | --- |
| `ng serve`, `vite`, `vite preview`, `react-scripts start`, `vue-cli-service serve`, `webpack serve`, `webpack-dev-server`, `gatsby develop`, `hugo server`, `jekyll serve`, `mkdocs serve` | build the static files in a build stage and serve them with nginx |
| `next dev`, `nuxt dev`, `astro dev` | `next build` + `next start` (or the standalone `node server.js`), `node .output/server/index.mjs` |
| `nodemon app.js`, `node --watch`, `ts-node-dev`, `tsx watch` | `node app.js` (compiled JavaScript) |
| `python manage.py runserver` | gunicorn with the project's `wsgi` module (read from `manage.py`) |
| `flask run` | a WSGI server: `gunicorn <module>:app` |
| `uvicorn --reload`, `gunicorn --reload`, `fastapi dev` | the same server without `--reload`, `fastapi run` |
| `dotnet watch` | `dotnet publish` in a build stage, `dotnet <app>.dll` |
| `rails server` where `RAILS_ENV` is not `production` | `RAILS_ENV=production` (and `bundle exec puma`) |
| `php artisan serve`, `php -S`, `python -m http.server` | php-fpm behind nginx, Laravel Octane; nginx |

`npm start` (`yarn start`, `pnpm start`) is reported when the `start` script of the
`package.json` the image has at its `WORKDIR` runs one of these; `npm run dev`, `yarn dev`,
`yarn serve`, `pnpm dev` are, by their name, even when package.json cannot be read.

Not reported: stages other than the final one (a multi-target file's `dev` stage is built with
`--target`), a final stage named `dev`/`development`, and files whose name says they are for
development (`Dockerfile.dev`, `dev.Dockerfile`, `Dockerfile.development`, `Dockerfile.local`,
a `.devcontainer/` directory).

## Why is this bad
Development servers are built for one developer: they watch and recompile files, serve
unminified bundles with source maps, print stack traces and debug pages to whoever asks, run
one process without the worker management, timeouts and limits of a production server, and
their own documentation says not to use them in production (Django's `runserver`, Flask's
`flask run`, `vite preview`). The image also needs the whole toolchain and dev dependencies.

## Example
```dockerfile
FROM python:3.12-slim
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir -r requirements.txt
CMD ["python", "manage.py", "runserver", "0.0.0.0:8000"]
```
Use instead (with `gunicorn` in requirements.txt):
```dockerfile
FROM python:3.12-slim
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir -r requirements.txt
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "mysite.wsgi"]
```

## Fix safety
No fix (display-only): the production command needs what the development server did for free
(a build step, a server package such as gunicorn in the dependencies, static files collected,
a web server's configuration), which a rewrite of the start command cannot add. A reloading
server (`--reload`, `fastapi dev`) needs nothing more without it, but the same Dockerfile often
serves development too, with the source mounted into the container, where the reload is wanted:
which use the image has is not in the file.

## Options
None.

## Resolves
hadolint: none · Trivy: none · Checkov: none.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping
from typing import NamedTuple

from dockfix.core.fixer import Finding, Fixer, Resolves, Severity, register
from dockfix.fixers._context_files import ContextFiles
from dockfix.fixers._image_paths import image_workdir_at, start_command
from dockfix.fixers._node_projects import run_script_name, script_words, without_runner
from dockfix.semantics.context import FixContext
from dockfix.semantics.semantic import expand, resolve_path, scope_at
from dockfix.semantics.shell import parse_shell
from dockfix.syntax import Dockerfile, Instruction, Stage

STATIC_SITE = "build the static files in a build stage and serve them with nginx"
# Words in a file or stage name that say it is for development.
DEV_NAMES = frozenset({"dev", "development", "develop", "local", "devcontainer"})
# Scripts that, by their name, start a development server.
DEV_SCRIPTS = frozenset({"dev", "serve", "develop", "start:dev", "watch"})
_INIT = frozenset({"tini", "dumb-init", "docker-entrypoint.sh", "catatonit", "s6-svscan"})
_SETTINGS = re.compile(r"""DJANGO_SETTINGS_MODULE["']\s*,\s*["']([A-Za-z0-9_]+)\.settings""")
_PYTHON = re.compile(r"python(?:[0-9.]*)")
# The variables `dev_server` reads from the environment.
_READ_VARIABLES = ("FLASK_APP", "RAILS_ENV", "RACK_ENV")
# The programs `dev_server` may report whatever their options (`bin/rails` included: its base
# name is `rails`).
_SERVERS = frozenset(
    {
        *("manage.py", "django-admin", "flask", "fastapi"),
        *("http.server", "ng", "vite", "react-scripts", "vue-cli-service", "webpack-dev-server"),
        *("webpack", "webpack-cli", "next", "nuxt", "nuxi", "astro", "nodemon"),
        *("ts-node-dev", "tsx", "gatsby", "hugo", "jekyll", "rails", "mkdocs", "dotnet"),
    }
)
_NEEDS_MORE = (
    "the production command needs a build step and dependencies that a rewrite of the start "
    "command cannot add"
)


def _reload_why_not(what: str) -> str:
    return (
        "the same server without it needs nothing more, but whether the image also serves "
        "development with the source mounted into it (a compose bind mount), where "
        f"{what} is wanted, is not in this file: change it where the image runs in production"
    )


# Servers `dev_server` reports only with `--reload`; `node` (`--watch`) and `php` (`-S`,
# `artisan serve`) have their own test.
_RELOADERS = frozenset({"uvicorn", "gunicorn", "hypercorn"})
_RUNNERS = (["bundle", "exec"], ["poetry", "run"], ["pipenv", "run"], ["uv", "run"])


class Server(NamedTuple):
    shown: str  # the command as the message names it
    instead: str  # the production alternative
    why_not: str = _NEEDS_MORE  # why the start command is not rewritten


class Start(NamedTuple):
    argv: list[str]
    env: dict[str, str]  # inline assignments of `sh -c "X=1 cmd"`
    at: Instruction


def named_for_development(path: str) -> bool:
    """Whether a Dockerfile's path says it is for development (`Dockerfile.dev`)."""
    low = path.lower()
    if "dev" not in low and "local" not in low:
        return False  # every name that says so has one of them
    parts = path.replace("\\", "/").split("/")
    if ".devcontainer" in parts[:-1]:
        return True
    return any(w.lower() in DEV_NAMES for w in re.split(r"[.\-_]", parts[-1]))


def _words(instr: Instruction) -> list[str]:
    if instr.json_args is not None:
        return list(instr.json_args)
    return ["/bin/sh", "-c", instr.args]


def _starts(entry: Instruction | None, cmd: Instruction | None, passes: bool) -> list[Start]:
    """The commands the start command runs, each with the instruction that says it;
    ``passes``: the ENTRYPOINT is a script that runs its arguments (the CMD)."""
    out: list[Start] = []
    if entry is not None:
        argv = _words(entry)
        if entry.json_args is not None and cmd is not None:
            if passes or all(posixpath.basename(w) in _INIT or w == "--" for w in argv):
                _unwrap(_words(cmd), {}, cmd, out, 0)  # the CMD names the server
                return out
            argv += _words(cmd)
        _unwrap(argv, {}, entry, out, 0)
    elif cmd is not None:
        _unwrap(_words(cmd), {}, cmd, out, 0)
    return out


def _unwrap(
    argv: list[str], env: dict[str, str], at: Instruction, out: list[Start], depth: int
) -> None:
    while argv and posixpath.basename(argv[0]) in _INIT:
        argv = argv[1:]
        if argv[:1] == ["--"]:
            argv = argv[1:]
    if not argv or depth > 3:
        return
    name = posixpath.basename(argv[0])
    if (
        name in ("sh", "bash", "ash", "dash")
        and len(argv) >= 3
        and argv[1].startswith("-")
        and "c" in argv[1]
    ):
        script = parse_shell(argv[2])
        for c in script.commands:
            if not c.top_level:
                continue
            inline = dict(env)
            for a in c.assignments:
                k, _, v = a.value.partition("=")
                inline[k] = v
            _unwrap(c.argv, inline, at, out, depth + 1)
        return
    out.append(Start(argv, env, at))


def _without_launchers(argv: list[str]) -> list[str]:
    """`npx vite`, `bundle exec rails s`, `poetry run flask run`, `python -m flask run` as the
    program they start."""
    argv = without_runner(argv)
    for _ in range(3):
        name = posixpath.basename(argv[0]) if argv else ""
        runner = argv[:2] in _RUNNERS or (bool(_PYTHON.fullmatch(name)) and argv[1:2] == ["-m"])
        if runner and len(argv) > 2:
            argv = argv[2:]
        elif name == "env":
            argv = [w for w in argv[1:] if "=" not in w]
        else:
            break
    return argv


class _Command(NamedTuple):
    """A start command as the server tables read it."""

    argv: list[str]  # launchers and a `python` word taken off
    name: str  # the program's base name
    args: list[str]  # the words that are not options
    sub: str  # the first of them ("" for none)
    shown: str  # the program and its first argument, as written


def dev_server(
    argv: list[str], env: Mapping[str, str | None], manage_py: str | None
) -> Server | None:
    """The development server ``argv`` starts, with its alternative; None for anything else."""
    argv = _without_launchers(argv)
    if not argv:
        return None
    name = posixpath.basename(argv[0])
    shown = " ".join([name, *argv[1:2]])
    if _PYTHON.fullmatch(name) and len(argv) > 1:
        argv, name = argv[1:], posixpath.basename(argv[1])
    args = [a for a in argv[1:] if not a.startswith("-")]
    cmd = _Command(argv, name, args, args[0] if args else "", shown)
    return (
        _python_server(cmd, env, manage_py)
        or _node_server(cmd)
        or _site_generator(cmd)
        or _ruby_php_server(cmd, env)
    )


def _python_server(
    cmd: _Command, env: Mapping[str, str | None], manage_py: str | None
) -> Server | None:
    argv, name, args, sub = cmd.argv, cmd.name, cmd.args, cmd.sub
    if name in ("manage.py", "django-admin") and sub == "runserver":
        project = None
        m = _SETTINGS.search(manage_py or "")
        if m:
            project = m.group(1)
        module = f"{project}.wsgi" if project else "<project>.wsgi"
        bind = args[1] if len(args) > 1 and ":" in args[1] else "0.0.0.0:8000"
        return Server(f"{name} runserver", f"a WSGI server: `gunicorn --bind {bind} {module}`")
    if name == "flask" and "run" in args:
        app = env.get("FLASK_APP") or _option(argv, "--app") or "<module>"
        module = app[:-3] if app.endswith(".py") else app
        target = module if ":" in module else f"{module}:app"
        return Server("flask run", f"a WSGI server: `gunicorn --bind 0.0.0.0:5000 {target}`")
    if name in ("uvicorn", "gunicorn", "hypercorn") and "--reload" in argv:
        why_not = _reload_why_not("`--reload`")
        return Server(f"{name} --reload", f"`{name}` without `--reload`", why_not)
    if name == "fastapi" and sub == "dev":
        return Server("fastapi dev", "`fastapi run`", _reload_why_not("`fastapi dev`"))
    if name == "http.server":
        return Server("python -m http.server", "nginx serving the directory")
    return None


def _node_server(cmd: _Command) -> Server | None:
    argv, name, sub = cmd.argv, cmd.name, cmd.sub
    if name == "ng" and sub in ("serve", "s"):
        return Server("ng serve", f"`ng build`: {STATIC_SITE}")
    if name == "vite" and sub in ("", "dev", "serve", "preview"):
        what = "vite preview" if sub == "preview" else "vite"
        return Server(what, f"`vite build`: {STATIC_SITE} (or the SSR server it builds)")
    if name == "react-scripts" and sub == "start":
        return Server("react-scripts start", f"`react-scripts build`: {STATIC_SITE}")
    if name == "vue-cli-service" and sub == "serve":
        return Server("vue-cli-service serve", f"`vue-cli-service build`: {STATIC_SITE}")
    if name == "webpack-dev-server" or (name in ("webpack", "webpack-cli") and sub == "serve"):
        return Server(f"{name} {sub}".strip(), f"`webpack --mode production`: {STATIC_SITE}")
    if name == "next" and sub == "dev":
        return Server(
            "next dev",
            "`next build` in a build stage, then `next start` (or "
            '`node server.js` of `output: "standalone"`)',
        )
    if name in ("nuxt", "nuxi") and sub == "dev":
        return Server(f"{name} dev", f"`{name} build`, then `node .output/server/index.mjs`")
    if name == "astro" and sub == "dev":
        return Server("astro dev", f"`astro build`: {STATIC_SITE} (or the Node adapter's server)")
    if name == "nodemon":
        if _option(argv, "--exec", "-x") is not None:
            return Server("nodemon", "compile in a build stage and run the output with `node`")
        return Server("nodemon", f"`node {sub or '<main file>'}`")
    if name == "node" and any(a == "--watch" or a.startswith("--watch=") for a in argv[1:]):
        return Server("node --watch", f"`node {sub or '<main file>'}` without `--watch`")
    if name == "ts-node-dev" or (name == "tsx" and sub == "watch"):
        return Server(cmd.shown, "compile with `tsc` in a build stage and run `node dist/…`")
    return None


def _site_generator(cmd: _Command) -> Server | None:
    name, sub = cmd.name, cmd.sub
    if name == "gatsby" and sub == "develop":
        return Server("gatsby develop", f"`gatsby build`: {STATIC_SITE}")
    if name == "hugo" and sub in ("server", "serve"):
        return Server("hugo server", f"`hugo --minify`: {STATIC_SITE}")
    if name == "jekyll" and sub in ("serve", "s", "server"):
        return Server("jekyll serve", f"`jekyll build`: {STATIC_SITE}")
    if name == "mkdocs" and sub == "serve":
        return Server("mkdocs serve", f"`mkdocs build`: {STATIC_SITE}")
    if name == "dotnet" and sub == "watch":
        return Server(
            "dotnet watch",
            "`dotnet publish` in a build stage and `dotnet <app>.dll` on the aspnet runtime image",
        )
    return None


def _ruby_php_server(cmd: _Command, env: Mapping[str, str | None]) -> Server | None:
    argv, name, args, sub = cmd.argv, cmd.name, cmd.args, cmd.sub
    if name == "rails" or argv[0].endswith("bin/rails"):
        if sub not in ("server", "s"):
            return None
        written = _option(argv, "-e", "--environment")
        rails_env = written or env.get("RAILS_ENV") or env.get("RACK_ENV") or "development"
        if rails_env == "production":
            return None
        return Server(
            "rails server",
            f"the production environment: `RAILS_ENV=production` (it runs in `{rails_env}` "
            "now) and `bundle exec puma -C config/puma.rb`",
        )
    if name == "php" and sub == "artisan" and args[1:2] == ["serve"]:
        return Server("php artisan serve", "php-fpm behind nginx, or Laravel Octane")
    if name == "php" and "-S" in argv:
        return Server("php -S", "php-fpm behind nginx, or the `php:apache` image")
    return None


def _option(argv: list[str], *names: str) -> str | None:
    for i, w in enumerate(argv):
        for n in names:
            if w == n and i + 1 < len(argv):
                return argv[i + 1]
            if w.startswith(n + "="):
                return w[len(n) + 1 :]
    return None


@register
class DevServer(Fixer):
    code = "DF404"
    acts_on = frozenset({"CMD", "ENTRYPOINT"})
    severity = Severity.WARNING
    name = "dev-server"
    summary = "The image starts a development server"
    resolves = Resolves()

    def check(self, doc: Dockerfile, ctx: FixContext) -> Iterator[Finding]:
        stage = doc.final_stage
        if stage is None or (ctx.path is not None and named_for_development(str(ctx.path))):
            return
        if (stage.name or "").lower() in DEV_NAMES:
            return
        entry, cmd = start_command(stage)
        for start in _starts(entry, cmd, _runs_its_arguments(doc, stage, ctx, entry)):
            found = _server(doc, stage, ctx, start)
            if found is not None:
                yield self.finding(
                    start.at,
                    f"the image starts a development server (`{found.shown}`): use {found.instead}",
                    reason=found.why_not,
                )
                return


def _runs_its_arguments(
    doc: Dockerfile, stage: Stage, ctx: FixContext, entry: Instruction | None
) -> bool:
    """Whether an exec-form ENTRYPOINT is a script that ends by running the CMD (`exec "$@"`):
    read from the build context, or, when it cannot be read, by its conventional name."""
    if entry is None or not entry.json_args:
        return False
    words = [w for w in entry.json_args if posixpath.basename(w) not in _INIT and w != "--"]
    if len(words) != 1 or "$" in words[0]:
        return False
    text = None
    if ctx.has_context:
        # an absolute path needs no WORKDIR
        cwd = None if words[0].startswith("/") else image_workdir_at(doc, stage, None)
        path = resolve_path(words[0], cwd)
        if path is not None:
            text = ContextFiles(doc, stage, ctx).text(path)
    if text is not None:
        return "$@" in text
    return "entrypoint" in posixpath.basename(words[0]).lower()


def _server(doc: Dockerfile, stage: Stage, ctx: FixContext, start: Start) -> Server | None:
    argv = start.argv
    script_name = run_script_name(argv)
    # the program `dev_server` reads is one of the words (launchers only drop words before it)
    if script_name is None and not _may_start_server(argv):
        return None
    scope = scope_at(stage)
    # the only variables the server tables read (expanding every one cost more than the rest)
    env: dict[str, str | None] = {
        k: expand(v, scope, doc.escape) if v is not None else None
        for k in _READ_VARIABLES
        if k in scope
        for v in (scope[k],)
    }
    env.update(start.env)
    # the WORKDIR locates package.json and manage.py, read only from a build context
    reads_files = script_name is not None or any(w.endswith("manage.py") for w in argv[:3])
    workdir = image_workdir_at(doc, stage, None) if reads_files and ctx.has_context else None
    return _resolve(argv, env, ContextFiles(doc, stage, ctx), workdir, 0)


def _may_start_server(argv: list[str]) -> bool:
    """Whether `dev_server` can find a server in ``argv``: it reads the program among the
    words (launchers only drop words before it), and for some programs an option too."""
    names = {w[w.rfind("/") + 1 :] for w in argv}  # base names
    if not names.isdisjoint(_SERVERS):
        return True
    if "node" in names and any(w == "--watch" or w.startswith("--watch=") for w in argv):
        return True
    if not names.isdisjoint(_RELOADERS) and "--reload" in argv:
        return True
    return "php" in names and ("-S" in argv or "serve" in argv)


def _resolve(
    argv: list[str],
    env: Mapping[str, str | None],
    files: ContextFiles,
    workdir: str | None,
    depth: int,
) -> Server | None:
    """The development server ``argv`` starts, following package.json scripts."""
    name = run_script_name(argv)
    if name is None:
        manage_py = None
        if (
            workdir is not None
            and files.ctx.has_context
            and any(w.endswith("manage.py") for w in argv[:3])
        ):
            manage_py = files.text(posixpath.join(workdir, "manage.py"))
        return dev_server(argv, env, manage_py)
    shown = " ".join(argv[:3] if argv[1:2] == ["run"] else argv[:2])
    data = None
    if workdir is not None and files.ctx.has_context and depth < 4:
        data = files.json(posixpath.join(workdir, "package.json"))
    scripts = data.get("scripts") if data is not None else None
    script = scripts.get(name) if isinstance(scripts, dict) else None
    if not isinstance(script, str):
        if name not in DEV_SCRIPTS:
            return None
        return Server(
            shown,
            "the project's production build and server (package.json was not read; the "
            f"`{name}` script's name says development)",
        )
    for words in script_words(script) or []:
        found = _resolve(words, env, files, workdir, depth + 1)
        if found is not None:
            return Server(f"{shown}` runs `{script}", found.instead)
    return None
