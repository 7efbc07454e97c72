"""DF403 logs-to-file: logs sent to files inside the container instead of stdout/stderr."""

from __future__ import annotations

from pathlib import Path

import dockerfile
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dockfix
from dockfix.core.fixer import Applicability, Finding
from dockfix.fixers.logs_to_file import LogsToFile
from dockfix.semantics.context import FixContext
from dockfix.syntax import parse
from hadolint_runner import hadolint_codes_or_skip as hadolint_codes

CODE = "DF403"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "DF403-logs-to-file"


def findings(text: str, context_dir: Path | None = None) -> list[Finding]:
    return list(LogsToFile().check(parse(text), FixContext(context_dir=context_dir)))


def run(text: str, *, unsafe: bool = False, context_dir: Path | None = None) -> str:
    """The file after the engine applies DF403's fixes."""
    fixed, _ = dockfix.fix(
        text, select=[CODE], unsafe_fixes=unsafe, context_dir=context_dir, offline=True
    )
    return fixed


def assert_good_output(before: str, after: str, context_dir: Path | None = None) -> None:
    """BuildKit parses it, hadolint reports nothing new, fixing again changes nothing."""
    dockerfile.parse_string(after)
    assert hadolint_codes(after) <= hadolint_codes(before)
    assert run(after, unsafe=True, context_dir=context_dir) == after


def fixed(src: str, context_dir: Path | None = None) -> str:
    """Unsafe-fixed output; asserts the safe run leaves the file alone (every fix is unsafe)."""
    assert run(src, context_dir=context_dir) == src
    out = run(src, unsafe=True, context_dir=context_dir)
    assert_good_output(src, out, context_dir)
    return out


# --- redirections and tee ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "after"),
    [
        ("app >> /var/log/app.log 2>&1", "app"),
        ("app > /var/log/app.log", "app"),
        ("app 1>>/var/log/app.log", "app"),
        ("app &> /var/log/app.log", "app"),
        ("app 2> /var/log/err.log", "app"),
        ("app > /var/log/out.log 2> /var/log/err.log", "app"),
        ("app 2>&1 >/var/log/app.log", "app 2>&1"),
        ("app > /dev/null 2>/var/log/err.log", "app > /dev/null"),
        ("app >> '/var/log/my app.log' 2>&1", "app"),
        ("cd /srv && exec app --port 80 >> /var/log/app.log 2>&1", "cd /srv && exec app --port 80"),
        ("app 2>&1 | tee -a /var/log/app.log", "app 2>&1"),
        ("app | tee /var/log/app.log", "app"),
        ("app > /var/log/app.log --verbose", "app --verbose"),
        ("app > /var/log/app.log 2>&1 -v -p 80", "app -v -p 80"),
    ],
)
def test_redirection_to_a_file_is_removed(command: str, after: str) -> None:
    src = f"FROM alpine:3.20\nCMD {command}\n"
    finding = findings(src)[0]
    assert finding.applicability is Applicability.UNSAFE
    assert "will no longer be written" in finding.fix.description  # type: ignore[union-attr]
    assert fixed(src) == f"FROM alpine:3.20\nCMD {after}\n"


def test_redirection_on_its_own_continuation_line() -> None:
    src = "FROM node:20-slim\nCMD node server.js \\\n    >> /var/log/app.log 2>&1\nUSER node\n"
    assert fixed(src) == "FROM node:20-slim\nCMD node server.js\nUSER node\n"


def test_entrypoint_crlf_bom_no_final_newline() -> None:
    src = "\ufeffFROM alpine:3.20\r\nENTRYPOINT /app/run > /var/log/run.log"
    assert fixed(src) == "\ufeffFROM alpine:3.20\r\nENTRYPOINT /app/run"


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ('app >> "$LOG_DIR/app.log" 2>&1', "variable"),
        ("app > /var/log/a.log; other", "several statements"),
        ("app > /var/log/a.log &", "background"),
        ("(app) > /var/log/a.log", "compound"),
        ("if true; then app > /var/log/a.log; fi", "compound"),
        ("app | tee -a /var/log/a.log | grep x", "tee"),
        ("app | tee --output-error=warn /var/log/a.log", "tee"),
        ("app > /var/log/x.log | tee /var/log/y.log", "both"),
    ],
)
def test_redirections_that_need_a_human_are_display_only(command: str, reason: str) -> None:
    src = f"FROM alpine:3.20\nCMD {command}\n"
    found = findings(src)
    assert found and all(f.applicability is Applicability.DISPLAY_ONLY for f in found)
    assert reason in found[0].reason
    assert run(src, unsafe=True) == src


def test_redirection_across_a_comment_line_is_display_only() -> None:
    src = "FROM alpine:3.20\nCMD app \\\n  # keep a copy\n  >> /var/log/app.log 2>&1\nUSER 1000\n"
    finding = findings(src)[0]
    assert finding.applicability is Applicability.DISPLAY_ONLY
    assert run(src, unsafe=True) == src


@pytest.mark.parametrize(
    ("command", "after"),
    [
        ('["sh", "-c", "exec app >> /var/log/app.log 2>&1"]', '["sh", "-c", "exec app"]'),
        ('["/bin/sh", "-c", "app > \\"/var/log/a b.log\\""]', '["/bin/sh", "-c", "app"]'),
        (
            '["/bin/bash", "-o", "pipefail", "-ec", "node server.js | tee -a /var/log/app.log"]',
            '["/bin/bash", "-o", "pipefail", "-ec", "node server.js"]',
        ),
        # the script's positional arguments stay
        (
            '["bash", "-c", "exec \\"$0\\" \\"$@\\" 2>> /var/log/err.log", "app", "--port=80"]',
            '["bash", "-c", "exec \\"$0\\" \\"$@\\"", "app", "--port=80"]',
        ),
    ],
)
def test_redirection_inside_an_exec_form_shell_string_is_removed(command: str, after: str) -> None:
    src = f"FROM alpine:3.20\nUSER 1000\nENTRYPOINT {command}\n"
    (finding,) = findings(src)
    assert finding.applicability is Applicability.UNSAFE
    assert finding.message.startswith("ENTRYPOINT (`") and "/var/log/" in finding.message
    assert run(src) == src
    out = run(src, unsafe=True)
    assert out == f"FROM alpine:3.20\nUSER 1000\nENTRYPOINT {after}\n"
    assert_good_output(src, out)


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ('["sh", "-c", "app > $LOG_FILE"]', "comes from a variable"),
        ('["sh", "-c", "cd /srv && ./start.sh > /var/log/s.log 2>&1 &"]', "background job"),
        ('["sh", "-c", "{ app; } > /var/log/app.log"]', "compound command"),
    ],
)
def test_exec_form_shell_string_the_fix_cannot_model_is_display_only(
    command: str, reason: str
) -> None:
    (finding,) = findings(f"FROM alpine:3.20\nCMD {command}\n")
    assert finding.applicability is Applicability.DISPLAY_ONLY
    assert "in the `sh -c` string" in finding.reason and reason in finding.reason


def test_a_shell_running_a_script_file_is_not_read_as_a_string() -> None:
    assert findings('FROM alpine:3.20\nCMD ["sh", "/start.sh", "-c", "x > /var/log/x"]\n') == []


# --- server options ------------------------------------------------------------------------------


def test_gunicorn_log_files_become_dash_in_shell_form() -> None:
    src = (
        "FROM python:3.12-slim\n"
        "CMD gunicorn --access-logfile /var/log/access.log --error-logfile=/var/log/e.log app:app\n"
    )
    assert len(findings(src)) == 2
    assert fixed(src) == (
        "FROM python:3.12-slim\nCMD gunicorn --access-logfile - --error-logfile=- app:app\n"
    )


def test_gunicorn_in_exec_form_through_python_m_and_tini() -> None:
    src = (
        "FROM python:3.12-slim\n"
        'ENTRYPOINT ["tini", "--", "python", "-m", "gunicorn", "--log-file", "/tmp/g.log", "a:b"]\n'
    )
    assert fixed(src) == (
        "FROM python:3.12-slim\n"
        'ENTRYPOINT ["tini", "--", "python", "-m", "gunicorn", "--log-file", "-", "a:b"]\n'
    )


def test_hypercorn_and_celery() -> None:
    src = (
        "FROM python:3.12-slim AS web\n"
        'CMD ["hypercorn", "--access-logfile", "/var/log/h.log", "app:app"]\n'
        "FROM python:3.12-slim AS worker\n"
        "CMD celery -A proj worker --logfile=/var/log/celery.log -l info\n"
    )
    assert fixed(src) == (
        "FROM python:3.12-slim AS web\n"
        'CMD ["hypercorn", "--access-logfile", "-", "app:app"]\n'
        "FROM python:3.12-slim AS worker\n"
        "CMD celery -A proj worker -l info\n"
    )


def test_uwsgi_logto_is_removed_and_daemonize_reported() -> None:
    src = (
        "FROM python:3.12-slim\n"
        'CMD ["uwsgi", "--ini", "/app/uwsgi.ini", "--logto", "/var/log/uwsgi.log"]\n'
    )
    assert fixed(src) == 'FROM python:3.12-slim\nCMD ["uwsgi", "--ini", "/app/uwsgi.ini"]\n'
    src = "FROM python:3.12-slim\nCMD uwsgi --ini app.ini --daemonize /var/log/uwsgi.log\n"
    finding = findings(src)[0]
    assert finding.applicability is Applicability.DISPLAY_ONLY
    assert "--daemonize" in finding.reason


def test_option_removal_never_drops_a_comment_line() -> None:
    src = (
        "FROM python:3.12-slim\n"
        'CMD ["uwsgi", "--ini", "u.ini", \\\n'
        "     # ops read this file\n"
        '     "--logto", "/var/log/uwsgi.log"]\n'
    )
    finding = findings(src)[0]
    assert finding.applicability is Applicability.DISPLAY_ONLY
    assert run(src, unsafe=True) == src


def test_option_value_from_variable_is_display_only() -> None:
    src = "FROM python:3.12-slim\nCMD gunicorn --access-logfile $ACCESS_LOG app:app\n"
    assert findings(src)[0].reason == "the log path comes from a variable"


@pytest.mark.parametrize(
    "command",
    [
        'CMD ["gunicorn", "--access-logfile", "-", "--error-logfile", "-", "app:app"]',
        "CMD gunicorn --access-logfile /dev/stdout app:app",
        'CMD ["uwsgi", "--logger", "syslog:uwsgi"]',
        'CMD ["uwsgi", "--logto", "127.0.0.1:1717"]',
        "CMD app > /dev/stdout 2> /dev/stderr",
        "CMD app > /proc/1/fd/1",
        "CMD gunicorn --name gunicorn-access-logfile app:app",
        "CMD cat /var/log/app.log",
        "RUN make > /tmp/build.log 2>&1",
    ],
)
def test_no_finding(command: str) -> None:
    src = f"FROM python:3.12-slim\n{command}\n"
    assert findings(src) == []


# --- packaged nginx / Apache -----------------------------------------------------------------------


def test_apk_nginx_gets_symlinks_on_the_install_line() -> None:
    src = 'FROM alpine:3.20\nRUN apk add --no-cache nginx\nCMD ["nginx", "-g", "daemon off;"]\n'
    assert fixed(src) == (
        "FROM alpine:3.20\n"
        "RUN apk add --no-cache nginx && ln -sf /dev/stdout /var/log/nginx/access.log"
        " && ln -sf /dev/stderr /var/log/nginx/error.log\n"
        'CMD ["nginx", "-g", "daemon off;"]\n'
    )


def test_multiline_install_keeps_its_trailing_operator_style() -> None:
    src = (
        "FROM debian:12-slim\n"
        "RUN apt-get update && \\\n"
        "    apt-get install -y --no-install-recommends apache2 && \\\n"
        "    rm -rf /var/lib/apt/lists/*\n"
        'CMD ["apachectl", "-D", "FOREGROUND"]\n'
    )
    assert fixed(src) == (
        "FROM debian:12-slim\n"
        "RUN apt-get update && \\\n"
        "    apt-get install -y --no-install-recommends apache2 && \\\n"
        "    rm -rf /var/lib/apt/lists/* && \\\n"
        "    ln -sf /dev/stdout /var/log/apache2/access.log && \\\n"
        "    ln -sf /dev/stderr /var/log/apache2/error.log && \\\n"
        "    ln -sf /dev/stdout /var/log/apache2/other_vhosts_access.log\n"
        'CMD ["apachectl", "-D", "FOREGROUND"]\n'
    )


def test_rpm_httpd_paths() -> None:
    src = 'FROM rockylinux:9\nRUN dnf install -y httpd && dnf clean all\nCMD ["httpd", "-DFOREGROUND"]\n'
    out = fixed(src)
    assert "ln -sf /dev/stdout /var/log/httpd/access_log" in out
    assert "ln -sf /dev/stderr /var/log/httpd/error_log" in out


def test_nginx_already_linked_or_from_official_image() -> None:
    linked = (
        "FROM debian:12\n"
        "RUN apt-get update && apt-get install -y nginx\n"
        "RUN ln -sf /dev/stdout /var/log/nginx/access.log"
        " && ln -sf /dev/stderr /var/log/nginx/error.log\n"
    )
    assert findings(linked) == []
    linked_later = (
        "FROM debian:12 AS web\nRUN apt-get update && apt-get install -y nginx\n"
        "FROM web\nRUN ln -sf /dev/stdout /var/log/nginx/access.log"
        " && ln -sf /dev/stderr /var/log/nginx/error.log\n"
    )
    assert findings(linked_later) == []
    assert findings("FROM nginx:1.27\nCOPY site.conf /etc/nginx/conf.d/default.conf\n") == []


def test_nginx_in_a_build_stage_only_is_ignored() -> None:
    src = (
        "FROM debian:12 AS tools\nRUN apt-get update && apt-get install -y nginx\n"
        "FROM alpine:3.20\nCOPY --from=tools /usr/sbin/nginx /usr/sbin/nginx\n"
    )
    assert findings(src) == []


def test_copied_config_is_read_from_the_context(tmp_path: Path) -> None:
    (tmp_path / "nginx.conf").write_text("http {\n  access_log /var/log/nginx/access.log;\n}\n")
    (tmp_path / "shop.conf").write_text("server {\n  access_log /srv/logs/shop.log main;\n}\n")
    ok = (
        "FROM debian:12\nRUN apt-get update && apt-get install -y nginx\n"
        "COPY nginx.conf /etc/nginx/nginx.conf\n"
    )
    assert findings(ok, tmp_path)[0].applicability is Applicability.UNSAFE
    other = ok + "COPY shop.conf /etc/nginx/conf.d/shop.conf\n"
    finding = findings(other, tmp_path)[0]
    assert finding.applicability is Applicability.DISPLAY_ONLY
    assert "/srv/logs/shop.log" in finding.reason
    # Without the build context the copied configuration cannot be read.
    assert findings(ok)[0].applicability is Applicability.DISPLAY_ONLY


def test_sudo_install_and_heredoc_run_are_display_only() -> None:
    sudo = "FROM ubuntu:24.04\nUSER app\nRUN sudo apt-get install -y nginx\n"
    assert "sudo" in findings(sudo)[0].reason
    heredoc = "FROM alpine:3.20\nRUN apk add nginx <<EOF\nEOF\n"
    assert findings(heredoc)[0].applicability is Applicability.DISPLAY_ONLY


# --- ENV -------------------------------------------------------------------------------------------


def test_env_log_file_is_reported_only() -> None:
    src = "FROM python:3.12\nENV APP_LOG_FILE=/var/log/app/app.log LOG_LEVEL=info\n"
    found = findings(src)
    assert [f.message for f in found] == [
        "ENV APP_LOG_FILE=/var/log/app/app.log points logs at a file"
    ]
    assert found[0].fix is None
    assert findings("FROM python:3.12\nENV LOG_FILE=/dev/stdout\n") == []


# --- properties ------------------------------------------------------------------------------------

_PATH = st.from_regex(r"/var/log/[a-z]{1,8}(/[a-z]{1,8})?\.log", fullmatch=True)
_REDIRECT = st.sampled_from(["> {}", ">> {}", "1> {}", "&> {}", "2> {}", ">{} 2>&1", ">> {} 2>&1"])
_WORDS = st.lists(st.from_regex(r"--?[a-z]{1,6}(=[a-z0-9]{1,4})?", fullmatch=True), max_size=4)


@settings(max_examples=80, deadline=None)
@given(_WORDS, _REDIRECT, _PATH, st.booleans())
def test_removing_a_redirection_keeps_the_command_words(
    args: list[str], redirect: str, path: str, continued: bool
) -> None:
    command = " ".join(["app", *args])
    sep = " \\\n    " if continued else " "
    src = f"FROM alpine:3.20\nCMD {command}{sep}{redirect.format(path)}\nEXPOSE 80\n"
    out = run(src, unsafe=True)
    doc = parse(out)
    assert [i.keyword for i in doc.instructions] == ["FROM", "CMD", "EXPOSE"]
    assert doc.instructions[1].args.split() == command.split()
    dockerfile.parse_string(out)
    assert findings(out) == []


# --- nginx configuration copied from the build context ---------------------------------------------

NGINX_CONF = (
    "events {}\n"
    "http {\n"
    "    error_log /var/log/nginx/shop.error.log warn;\n"
    "    # access_log /var/log/nginx/debug.log;\n"
    '    access_log "/var/log/nginx/shop.access.log" main buffer=32k;\n'
    "    server { listen 8080; location = /healthz { access_log off; return 200; } }\n"
    "}\n"
)


def _nginx_outcome(tmp_path: Path, dockerfile: str, files: dict[str, str]) -> dockfix.FixOutcome:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(text.encode())
    return dockfix.fix_outcome(
        dockerfile, path=tmp_path / "Dockerfile", select=[CODE], unsafe_fixes=True, offline=True
    )


@pytest.mark.parametrize(
    "copy",
    [
        "COPY nginx.conf /etc/nginx/nginx.conf",
        "COPY ./nginx.conf /etc/nginx/",
        "WORKDIR /etc/nginx\nCOPY nginx.conf .",
    ],
)
def test_copied_nginx_config_logging_to_files_is_pointed_at_the_streams(
    tmp_path: Path, copy: str
) -> None:
    dockerfile = f"FROM nginx:1.27-alpine\n{copy}\n"
    out = _nginx_outcome(tmp_path, dockerfile, {"nginx.conf": NGINX_CONF})
    assert out.fixed == dockerfile  # the Dockerfile stays
    (change,) = out.file_changes
    assert change.path == tmp_path / "nginx.conf" and change.original == NGINX_CONF
    assert change.content == NGINX_CONF.replace(
        "/var/log/nginx/shop.error.log", "/dev/stderr"
    ).replace('"/var/log/nginx/shop.access.log"', "/dev/stdout")
    (finding,) = findings(dockerfile, context_dir=tmp_path)
    assert finding.applicability is Applicability.UNSAFE
    assert finding.message == (
        "the nginx configuration nginx.conf copied here logs to "
        "/var/log/nginx/shop.error.log, /var/log/nginx/shop.access.log"
    )


def test_a_config_directory_or_wildcard_is_read_file_by_file(tmp_path: Path) -> None:
    files = {
        "deploy/nginx/conf.d/api.conf": "server {\n  access_log /var/log/nginx/api.log;\n}\n",
        "deploy/nginx/conf.d/web.conf": "server {\n  listen 80;\n}\n",
        "deploy/nginx/mime.types": "types { text/html html; }\n",
    }
    for copy in (
        "COPY deploy/nginx/ /etc/nginx/",
        "COPY deploy/nginx/conf.d/*.conf /etc/nginx/conf.d/",
    ):
        out = _nginx_outcome(tmp_path, f"FROM nginx:1.27\n{copy}\n", files)
        assert [(c.path.name, c.content) for c in out.file_changes] == [
            ("api.conf", "server {\n  access_log /dev/stdout;\n}\n")
        ]


def test_packaged_nginx_gets_its_copied_config_rewritten_too(tmp_path: Path) -> None:
    dockerfile = (
        "FROM debian:bookworm-slim\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends nginx"
        " && rm -rf /var/lib/apt/lists/*\n"
        "COPY site.conf /etc/nginx/sites-enabled/default\n"
        'CMD ["nginx", "-g", "daemon off;"]\n'
    )
    site = "server {\n    access_log /var/log/nginx/site.log;\n    listen 80;\n}\n"
    out = _nginx_outcome(tmp_path, dockerfile, {"site.conf": site})
    assert [c.content for c in out.file_changes] == [
        site.replace("/var/log/nginx/site.log", "/dev/stdout")
    ]


@pytest.mark.parametrize(
    ("dockerfile", "conf"),
    [
        # the official image links its packaged log files to the streams already
        (
            "FROM nginx:1.27\nCOPY nginx.conf /etc/nginx/nginx.conf\n",
            "http { access_log /var/log/nginx/access.log main; error_log /dev/stderr; }\n",
        ),
        # nothing runs nginx here: the file is data for another program
        ("FROM alpine:3.20\nCOPY nginx.conf /etc/nginx/nginx.conf\n", NGINX_CONF),
        ("FROM nginx:1.27\nCOPY nginx.conf /usr/share/doc/nginx.conf\n", NGINX_CONF),
        (
            "FROM nginx:1.27\nCOPY --from=ghcr.io/acme/conf:1.0 /nginx.conf /etc/nginx/\n",
            NGINX_CONF,
        ),
    ],
)
def test_nginx_config_left_alone(tmp_path: Path, dockerfile: str, conf: str) -> None:
    out = _nginx_outcome(tmp_path, dockerfile, {"nginx.conf": conf})
    assert out.file_changes == [] and findings(dockerfile, context_dir=tmp_path) == []


def test_nginx_log_path_with_a_variable_is_display_only(tmp_path: Path) -> None:
    dockerfile = "FROM nginx:1.27\nCOPY vhost.conf /etc/nginx/conf.d/\n"
    conf = "server {\n  access_log /var/log/nginx/$host.access.log;\n}\n"
    out = _nginx_outcome(tmp_path, dockerfile, {"vhost.conf": conf})
    assert out.file_changes == []
    (finding,) = findings(dockerfile, context_dir=tmp_path)
    assert finding.applicability is Applicability.DISPLAY_ONLY
    assert "nginx variable" in finding.reason


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("FROM debian:12\nRUN apt-get install -y ngi\\nx\n", "nginx installed here logs to"),
        ("FROM python:3.12\nCMD gunic\\orn --access-logfile /l/a.log app\n", "gunicorn"),
        ('FROM python:3.12\nCMD ["uwsgi", "--logto", "/l/u.log"]\n', "uwsgi --logto"),
        ("FROM python:3.12\nCMD app 1>/l/app.log\n", "writes output to /l/app.log"),
    ],
)
def test_names_spelled_with_escapes_still_reach_the_analysis(text: str, message: str) -> None:
    # DF403 reads an instruction only when its text can name a server, a redirection or a
    # log variable: a backslash inside the name does not hide it
    assert any(message in f.message for f in findings(text)), findings(text)
