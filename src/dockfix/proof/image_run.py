"""Proof by running: start the original and the fixed image the same way and compare.

Each image's configured ENTRYPOINT/CMD runs as its configured user through the builder
(:meth:`~dockfix.proof.builders.Builder.run_command`), inside a network namespace of its own that
has only loopback, no host port and Docker's default
``net.ipv4.ip_unprivileged_port_start=0``.  Both runs start together; after the settle time
each is either still running (a service: its TCP ports are probed from inside its namespace,
with an HTTP ``GET`` where it speaks HTTP) or has exited (a one-shot image: its exit code
counts).  :func:`compare_runs` says whether the fixed image starts and serves like the
original, quoting permission errors that only the fixed run printed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from dockfix.proof.builders import Builder
    from dockfix.proof.image_compare import ImageConfig

PERMISSION_ERROR = re.compile(r"Permission denied|EACCES|EPERM|Read-only file system")
# Lines that tell why a service could not serve (its database is missing, …).
_DEPENDENCY_HINT = re.compile(
    r"refused|could not connect|can't connect|cannot connect|unreachable|timed out|"
    r"not known|resolv|no such host|ECONNREFUSED|ENOTFOUND|getaddrinfo",
    re.IGNORECASE,
)
# Brings loopback up and lowers the unprivileged port start as Docker does, then runs "$@".
_NETNS_SETUP = (
    'ip link set lo up && echo 0 > /proc/sys/net/ipv4/ip_unprivileged_port_start && exec "$@"'
)
_OUTPUT_KEPT = 20_000  # characters of each run's output kept for the report


@dataclass(frozen=True)
class RunOptions:
    """How ``verify --run`` starts the images (the same for both)."""

    seconds: float = 10.0
    env: Mapping[str, str] = field(default_factory=dict)
    run_args: tuple[str, ...] = ()
    probes: tuple[str, ...] = ()
    """``--probe`` targets: a port (``8080``) or a URL on loopback (``http://localhost:8080/health``)."""


@dataclass(frozen=True)
class Answer:
    """What one probe target said."""

    target: str
    answered: bool
    http_status: int | None = None
    error: str = ""

    def describe(self) -> str:
        if not self.answered:
            return f"{self.target} did not answer ({self.error or 'no connection'})"
        if self.http_status is not None:
            return f"{self.target} answered HTTP {self.http_status}"
        return f"{self.target} accepted a TCP connection"

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "answered": self.answered,
            "http_status": self.http_status,
            "error": self.error,
        }


@dataclass
class RunObservation:
    """One image's run: still running after the settle time, or its exit code."""

    command: tuple[str, ...] = ()
    user: str = ""
    running: bool = False
    exit_code: int | None = None
    seconds: float = 0.0
    output: str = ""
    answers: list[Answer] = field(default_factory=list)
    error: str = ""
    """Set when the image could not be started at all (no command, the builder failed)."""

    def describe(self) -> str:
        if self.error:
            return f"could not start: {self.error}"
        if self.running:
            return f"running after {self.seconds:.0f} s"
        return f"exited with code {self.exit_code} after {self.seconds:.1f} s"

    def permission_errors(self) -> list[str]:
        return [ln.strip() for ln in self.output.splitlines() if PERMISSION_ERROR.search(ln)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": list(self.command),
            "user": self.user or "root",
            "running": self.running,
            "exit_code": self.exit_code,
            "seconds": round(self.seconds, 1),
            "answers": [a.to_dict() for a in self.answers],
            "error": self.error,
        }


@dataclass
class RunComparison:
    """``same``: starts and serves like the original; ``broken``: it does not;
    ``not-probed``: both run but the original served nothing to compare (it needs another
    container, say); ``not-run``: the original could not be run here."""

    status: str
    summary: str
    before: RunObservation
    after: RunObservation
    details: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status != "broken"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "summary": self.summary,
            "details": self.details,
            "original": self.before.to_dict(),
            "fixed": self.after.to_dict(),
        }


def _normalized(line: str) -> str:
    """A line without the numbers that differ between runs (pids, times, addresses)."""
    return re.sub(r"\d+", "N", line.strip())


def new_permission_errors(before: RunObservation, after: RunObservation) -> list[str]:
    seen = {_normalized(ln) for ln in before.permission_errors()}
    out: list[str] = []
    for line in after.permission_errors():
        if _normalized(line) not in seen and line not in out:
            out.append(line)
    return out


def _dependency_reason(output: str) -> str:
    for line in reversed(output.splitlines()):
        if _DEPENDENCY_HINT.search(line):
            return line.strip()[:200]
    return ""


def compare_runs(before: RunObservation, after: RunObservation) -> RunComparison:
    """Whether ``after`` (the fixed image) starts and serves like ``before``."""
    if before.error:
        return RunComparison("not-run", f"the original {before.describe()}", before, after)
    problems: list[str] = []
    notes: list[str] = []
    if after.error:
        problems.append(f"the fixed image {after.describe()}")
    elif not before.running:
        if after.running:
            problems.append(
                f"the original exits by itself (code {before.exit_code}); "
                f"the fixed image is still running after {after.seconds:.0f} s"
            )
        elif after.exit_code != before.exit_code:
            problems.append(
                f"the fixed image exited with code {after.exit_code}, "
                f"the original with {before.exit_code}"
            )
        elif before.exit_code != 0 and _dependency_reason(before.output):
            # a service that stops without its database: the same failure, nothing to probe
            notes.append(f"could not probe: {_dependency_reason(before.output)}")
    elif not after.running:
        problems.append(
            f"the fixed image {after.describe()}; the original was still running after "
            f"{before.seconds:.0f} s"
        )
    else:
        fixed = {a.target: a for a in after.answers}
        for answer in before.answers:
            if not answer.answered:
                continue
            mine = fixed.get(answer.target)
            if mine is None or not mine.answered:
                problems.append(
                    f"{answer.target}: the original answered, the fixed image did not"
                    + (f" ({mine.error})" if mine is not None and mine.error else "")
                )
            elif answer.http_status is not None and (
                mine.http_status is None or mine.http_status // 100 != answer.http_status // 100
            ):
                problems.append(
                    f"{answer.target}: HTTP {mine.http_status} where the original "
                    f"answered {answer.http_status}"
                )
            else:
                notes.append(mine.describe() + _original_status(answer))
    new_errors = new_permission_errors(before, after)
    details = [f"new permission error: {line}" for line in new_errors[:5]]
    if problems or new_errors:
        summary = "; ".join(problems) if problems else "new permission errors in its output"
        return RunComparison("broken", summary, before, after, problems[1:] + details)
    if before.running and before.answers and not any(a.answered for a in before.answers):
        reason = _dependency_reason(before.output) or (
            "the original answered on none of " + ", ".join(a.target for a in before.answers)
        )
        return RunComparison(
            "not-probed", f"started; could not probe: {reason}", before, after, details
        )
    head = (
        f"started like the original: {after.describe()}"
        if after.running
        else f"ran like the original: {after.describe()}"
    )
    if before.running and not before.answers:
        notes.append("no port to probe (no EXPOSE, no --probe)")
    return RunComparison("same", "; ".join([head, *notes]), before, after, details)


def _original_status(answer: Answer) -> str:
    return f" (original {answer.http_status})" if answer.http_status is not None else ""


# --------------------------------------------------------------------------- probing


def probe_targets(config: ImageConfig, options: RunOptions) -> list[str]:
    """The original's EXPOSEd TCP ports, then the ``--probe`` targets, each once."""
    out: list[str] = []
    for port in sorted(config.exposed_ports):
        number, _, proto = port.partition("/")
        if (proto or "tcp") == "tcp" and number.isdigit() and number not in out:
            out.append(number)
    for target in options.probes:
        if target not in out:
            out.append(target)
    return out


def probe(target: str, *, timeout: float = 3.0) -> Answer:
    """Connect to a loopback port (an HTTP ``GET``; a plain TCP connection also counts)."""
    if target.isdigit():
        port, path = int(target), "/"
    else:
        parts = urlsplit(target)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    deadline = time.monotonic() + timeout
    error = ""
    while True:
        for host in ("127.0.0.1", "::1"):
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            try:
                with socket.socket(family, socket.SOCK_STREAM) as sock:
                    sock.settimeout(max(0.5, deadline - time.monotonic()))
                    sock.connect((host, port))
                    return Answer(target, True, _http_status(sock, path, port))
            except OSError as exc:
                error = exc.strerror or str(exc)
        if time.monotonic() >= deadline:
            return Answer(target, False, error=error)
        time.sleep(0.3)


def _http_status(sock: socket.socket, path: str, port: int) -> int | None:
    try:
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: localhost:{port}\r\n\r\n".encode())
        head = sock.recv(64)
    except OSError:
        return None
    m = re.match(rb"HTTP/\d(?:\.\d)? (\d{3})", head)
    return int(m.group(1)) if m else None


def probe_main(argv: Sequence[str] | None = None) -> None:
    """``python -c 'from dockfix.proof.image_run import probe_main; probe_main()' TARGET…``: the
    probe, run inside the image's network namespace; prints the answers as JSON."""
    targets = list(sys.argv[1:] if argv is None else argv)
    print(json.dumps([probe(t).to_dict() for t in targets]))


def _probe_in(pid: int, targets: Sequence[str]) -> list[Answer]:
    if not targets:
        return []
    code = "from dockfix.proof.image_run import probe_main; probe_main()"
    cmd = ["nsenter", f"--net=/proc/{pid}/ns/net", "--", sys.executable, "-c", code, *targets]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
        rows = json.loads(proc.stdout) if proc.returncode == 0 else None
    except (OSError, subprocess.SubprocessError, ValueError):
        rows = None
    if not isinstance(rows, list):
        return [Answer(t, False, error="could not probe") for t in targets]
    return [
        Answer(r["target"], bool(r["answered"]), r.get("http_status"), r.get("error") or "")
        for r in rows
    ]


# --------------------------------------------------------------------------- running


@dataclass
class _Started:
    proc: subprocess.Popen[bytes]
    log: Path
    observation: RunObservation
    started: float


def _own_netns(pid: int) -> bool:
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino != os.stat("/proc/self/ns/net").st_ino
    except OSError:
        return False


def _start(
    builder: Builder,
    container: str,
    config: ImageConfig,
    options: RunOptions,
    log: Path,
) -> _Started:
    argv = (*(config.entrypoint or ()), *(config.cmd or ()))
    observation = RunObservation(command=argv, user=config.user)
    command = builder.run_command(
        container, argv, user=config.user, env=options.env, extra_args=options.run_args
    )
    wrapped = ["unshare", "--net", "--pid", "--fork", "--kill-child", "--"]
    wrapped += ["sh", "-c", _NETNS_SETUP, "sh", *command]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            wrapped,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=builder._environ(),
            start_new_session=True,
        )
    return _Started(proc, log, observation, time.monotonic())


def _stop(started: _Started) -> None:
    if started.proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(started.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            started.proc.wait(timeout=30)
    raw = started.log.read_bytes() if started.log.exists() else b""
    started.observation.output = raw.decode("utf-8", "replace")[-_OUTPUT_KEPT:]


def run_pair(
    builder: Builder,
    images: Mapping[str, str],
    configs: Mapping[str, ImageConfig],
    options: RunOptions,
) -> RunComparison:
    """Start ``images["before"]`` and ``images["after"]`` together and compare the runs.

    The probe targets come from the original's config (and ``--probe``), so a port the
    fixed image stopped exposing is still probed.
    """
    targets = probe_targets(configs["before"], options)
    observations: dict[str, RunObservation] = {}
    with tempfile.TemporaryDirectory(prefix="dockfix-run-") as tmp, contextlib.ExitStack() as stack:
        running: dict[str, _Started] = {}
        for side in ("before", "after"):
            config = configs[side]
            if not config.entrypoint and not config.cmd:
                observations[side] = RunObservation(error="the image has no ENTRYPOINT or CMD")
                continue
            try:
                container = stack.enter_context(builder.container(images[side]))
                running[side] = _start(
                    builder, container, config, options, Path(tmp) / f"{side}.log"
                )
            except Exception as exc:  # the builder failed: reported, the other run goes on
                observations[side] = RunObservation(error=str(exc).strip()[:300])
        try:
            deadline = time.monotonic() + options.seconds
            while True:
                now = time.monotonic()
                for started in running.values():
                    if started.proc.poll() is None:
                        started.observation.seconds = now - started.started
                if now >= deadline or all(s.proc.poll() is not None for s in running.values()):
                    break
                time.sleep(0.2)
            for started in running.values():
                obs = started.observation
                code = started.proc.poll()
                if code is None:
                    obs.running = True
                    if _own_netns(started.proc.pid):
                        obs.answers = _probe_in(started.proc.pid, targets)
                    else:
                        obs.answers = [Answer(t, False, error="no namespace") for t in targets]
                else:
                    obs.exit_code = code
        finally:
            for side, started in running.items():
                _stop(started)
                observations[side] = started.observation
    return compare_runs(observations["before"], observations["after"])
