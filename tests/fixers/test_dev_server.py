"""DF404 dev-server: a development server as the image's start command is reported with the
production alternative; other stages and development Dockerfiles are not."""

from __future__ import annotations

from pathlib import Path

import pytest

import dockfix
from dockfix.core.fixer import Finding
from dockfix.fixers.dev_server import named_for_development


def check(text: str, path: Path | None = None, context: Path | None = None) -> list[Finding]:
    out, found = dockfix.fix(
        text, select=["DF404"], unsafe_fixes=True, path=path, context_dir=context, offline=True
    )
    assert out == text  # display-only
    return found


@pytest.mark.parametrize(
    ("base", "start", "shown", "instead"),
    [
        ("node:20", 'CMD ["npx", "ng", "serve", "--host", "0.0.0.0"]', "ng serve", "`ng build`"),
        ("node:20", 'CMD ["vite", "--host"]', "vite", "`vite build`"),
        ("node:20", "CMD npx vite preview --host", "vite preview", "nginx"),
        ("node:20", 'CMD ["react-scripts", "start"]', "react-scripts start", "nginx"),
        ("node:20", 'CMD ["webpack", "serve", "--mode", "development"]', "webpack serve", "nginx"),
        ("node:20", 'CMD ["webpack-dev-server"]', "webpack-dev-server", "nginx"),
        ("node:20", 'CMD ["next", "dev"]', "next dev", "`next start`"),
        ("node:20", 'CMD ["nodemon", "src/index.js"]', "nodemon", "`node src/index.js`"),
        ("node:20", 'CMD ["node", "--watch", "app.js"]', "node --watch", "`node app.js`"),
        ("node:20", 'CMD ["yarn", "dev"]', "yarn dev", "package.json was not read"),
        ("node:20", 'CMD ["npm", "run", "serve"]', "npm run serve", "production build"),
        (
            "python:3.12",
            'CMD ["python", "manage.py", "runserver", "0.0.0.0:8000"]',
            "manage.py runserver",
            "`gunicorn --bind 0.0.0.0:8000 <project>.wsgi`",
        ),
        ("python:3.12", 'CMD ["flask", "run", "--host=0.0.0.0"]', "flask run", "gunicorn"),
        ("python:3.12", "CMD python3 -m flask --app api run", "flask run", "api:app`"),
        ("python:3.12", 'CMD ["uvicorn", "main:app", "--reload"]', "uvicorn --reload", "without"),
        ("python:3.12", 'CMD ["fastapi", "dev", "main.py"]', "fastapi dev", "`fastapi run`"),
        (
            "python:3.12",
            'CMD ["python", "-m", "http.server", "8000"]',
            "python -m http.server",
            "nginx",
        ),
        (
            "ruby:3.3",
            'CMD ["bundle", "exec", "rails", "s", "-b", "0.0.0.0"]',
            "rails server",
            "puma",
        ),
        (
            "php:8.3-cli",
            'CMD ["php", "artisan", "serve", "--host=0.0.0.0"]',
            "php artisan serve",
            "fpm",
        ),
        ("php:8.3-cli", 'CMD ["php", "-S", "0.0.0.0:8000", "-t", "public"]', "php -S", "fpm"),
        # through an init, an entrypoint script and `sh -c`
        (
            "node:20",
            'ENTRYPOINT ["tini", "--"]\nCMD ["sh", "-c", "npm run migrate && exec nodemon app.js"]',
            "nodemon",
            "`node app.js`",
        ),
    ],
)
def test_development_servers_are_reported_with_their_alternative(
    base: str, start: str, shown: str, instead: str
) -> None:
    (f,) = check(f"FROM {base}\nWORKDIR /app\nCOPY . .\n{start}\n")
    assert f"`{shown}" in f.message and instead in f.message, f.message
    assert f.fix is None and f.reason


@pytest.mark.parametrize(
    "start",
    [
        'CMD ["node", "dist/server.js"]',
        'CMD ["gunicorn", "--bind", "0.0.0.0:8000", "mysite.wsgi"]',
        'CMD ["uvicorn", "main:app", "--host", "0.0.0.0", "--workers", "4"]',
        'CMD ["vite", "build"]',
        'CMD ["npm", "start"]',  # package.json not readable: `start` may be anything
        'CMD ["fastapi", "run", "main.py"]',
        'CMD ["nginx", "-g", "daemon off;"]',
    ],
)
def test_production_commands_are_not_reported(start: str) -> None:
    assert check(f"FROM node:20\n{start}\n") == []


def test_rails_in_production_is_not_reported() -> None:
    src = 'FROM ruby:3.3\nENV RAILS_ENV=production\nCMD ["bin/rails", "server"]\n'
    assert check(src) == []
    assert check(src.replace("RAILS_ENV=production", "RAILS_ENV=staging"))  # not production
    assert check('FROM ruby:3.3\nCMD ["rails", "s", "-e", "production"]\n') == []


def test_npm_start_is_reported_only_when_its_script_is_a_dev_server(tmp_path: Path) -> None:
    src = 'FROM node:20\nWORKDIR /app\nCOPY . .\nCMD ["npm", "start"]\n'
    (tmp_path / "package.json").write_text('{"scripts": {"start": "react-scripts start"}}')
    (f,) = check(src, tmp_path / "Dockerfile", tmp_path)
    assert "`npm start` runs `react-scripts start`" in f.message
    (tmp_path / "package.json").write_text('{"scripts": {"start": "node server.js"}}')
    assert check(src, tmp_path / "Dockerfile", tmp_path) == []
    # a start script that runs the dev script
    (tmp_path / "package.json").write_text(
        '{"scripts": {"start": "npm run dev", "dev": "cross-env PORT=3000 nuxt dev"}}'
    )
    assert check(src, tmp_path / "Dockerfile", tmp_path) == []  # cross-env: not followed
    (tmp_path / "package.json").write_text(
        '{"scripts": {"start": "npm run dev", "dev": "nuxt dev"}}'
    )
    (f,) = check(src, tmp_path / "Dockerfile", tmp_path)
    assert "nuxt build" in f.message


def test_django_project_module_is_read_from_manage_py(tmp_path: Path) -> None:
    (tmp_path / "manage.py").write_text(
        'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")\n'
    )
    src = 'FROM python:3.12\nWORKDIR /srv\nCOPY . .\nCMD ["python", "manage.py", "runserver"]\n'
    (f,) = check(src, tmp_path / "Dockerfile", tmp_path)
    assert "`gunicorn --bind 0.0.0.0:8000 shop.wsgi`" in f.message


def test_only_the_final_stage_counts() -> None:
    src = (
        'FROM node:20 AS dev\nWORKDIR /app\nCOPY . .\nCMD ["vite"]\n\n'
        "FROM node:20 AS build\nWORKDIR /app\nCOPY . .\nRUN npx vite build\n\n"
        "FROM nginx:1.27\nCOPY --from=build /app/dist /usr/share/nginx/html\n"
    )
    assert check(src) == []
    # a final stage built on the dev stage inherits its CMD: reported at that CMD
    (f,) = check('FROM node:20 AS base\nCMD ["vite"]\nFROM base AS app\nEXPOSE 5173\n')
    assert f.line == 2
    # a final stage named for development is a development target
    assert (
        check('FROM node:20 AS builder\nRUN true\nFROM node:20 AS development\nCMD ["vite"]\n')
        == []
    )


@pytest.mark.parametrize(
    ("name", "dev"),
    [
        ("Dockerfile.dev", True),
        ("dev.Dockerfile", True),
        ("Dockerfile.development", True),
        ("Dockerfile-dev", True),
        ("docker/web.dev.Dockerfile", True),
        ("Dockerfile.local", True),
        (".devcontainer/Dockerfile", True),
        ("Dockerfile", False),
        ("Dockerfile.prod", False),
        ("services/devices/Dockerfile", False),
        ("Dockerfile.devtools", False),
    ],
)
def test_files_named_for_development_are_not_reported(tmp_path: Path, name: str, dev: bool) -> None:
    assert named_for_development(name) is dev
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    found = check('FROM node:20\nCMD ["ng", "serve"]\n', path, tmp_path)
    assert (found == []) is dev


def test_the_cmd_an_entrypoint_script_runs_is_read(tmp_path: Path) -> None:
    src = (
        'FROM python:3.12\nWORKDIR /app\nCOPY . .\nENTRYPOINT ["/app/start.sh"]\n'
        'CMD ["python", "manage.py", "runserver", "0.0.0.0:8000"]\n'
    )
    (tmp_path / "start.sh").write_text('#!/bin/sh\npython manage.py migrate\nexec "$@"\n')
    (f,) = check(src, tmp_path / "Dockerfile", tmp_path)
    assert f.line == 5 and "runserver" in f.message
    # a script that ignores its arguments: the CMD is not what runs
    (tmp_path / "start.sh").write_text("#!/bin/sh\nexec gunicorn mysite.wsgi\n")
    assert check(src, tmp_path / "Dockerfile", tmp_path) == []
    # not readable: an `entrypoint` script is taken to run its arguments, as by convention
    src = src.replace("/app/start.sh", "/usr/local/bin/app-entrypoint.sh")
    assert check(src, tmp_path / "Dockerfile", tmp_path)


@pytest.mark.parametrize(
    ("start", "dropped"),
    [
        ('CMD ["uvicorn", "main:app", "--host", "0.0.0.0", "--reload"]', "`--reload`"),
        ('CMD ["gunicorn", "--reload", "app:app"]', "`--reload`"),
        ('CMD ["fastapi", "dev", "main.py"]', "`fastapi dev`"),
    ],
)
def test_a_reloading_server_says_why_it_is_left_to_a_person(start: str, dropped: str) -> None:
    """The same server without its reload needs no build step nor dependency: the reason
    given for every other server was false here."""
    (f,) = check(f"FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n{start}\n")
    assert "build step" not in f.reason
    assert "mounted" in f.reason and dropped in f.reason


@pytest.mark.parametrize(
    ("base", "start", "shown", "instead"),
    [
        (
            "python:3.12-slim",
            'CMD ["mkdocs", "serve", "-a", "0.0.0.0:8000"]',
            "mkdocs serve",
            "`mkdocs build`",
        ),
        (
            "mcr.microsoft.com/dotnet/sdk:8.0",
            'CMD ["dotnet", "watch", "run"]',
            "dotnet watch",
            "`dotnet publish`",
        ),
        (
            "mcr.microsoft.com/dotnet/sdk:8.0",
            'ENTRYPOINT ["dotnet", "watch", "--project", "Api"]',
            "dotnet watch",
            "`dotnet publish`",
        ),
    ],
)
def test_a_docs_site_or_dotnet_watcher_is_a_development_server(
    base: str, start: str, shown: str, instead: str
) -> None:
    (f,) = check(f"FROM {base}\nWORKDIR /app\nCOPY . .\n{start}\n")
    assert f"`{shown}`" in f.message and instead in f.message, f.message


def test_dotnet_running_a_published_dll_is_not() -> None:
    assert check('FROM mcr.microsoft.com/dotnet/aspnet:8.0\nCMD ["dotnet", "Api.dll"]\n') == []
