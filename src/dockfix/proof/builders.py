"""Build Dockerfiles for real and look inside the images: buildah, ``docker buildx``, podman.

All three offer the same :class:`Builder` interface:

* :meth:`Builder.build` — build a Dockerfile with a context, build args and target, and
  return a :class:`BuildResult` with the log, the image id and, per build step, whether it
  was taken from the cache (buildah/podman print ``--> Using cache``; BuildKit prints
  ``#N CACHED``).
* :meth:`Builder.inspect_config` — the image's runtime config as an
  :class:`~dockfix.proof.image_compare.ImageConfig`.
* :meth:`Builder.list_filesystem` — the final root file system as
  :class:`~dockfix.proof.image_compare.FileEntry` rows (path, type, size, mode, owner, link).
* :meth:`Builder.image_size` and :meth:`Builder.remove_image`.

:func:`find_builder` picks one by name, or the first one that works here (buildah, then
``docker buildx`` with a reachable daemon, then podman).

buildah runs rootful with ``--isolation chroot``, which needs neither a daemon nor user
namespaces: it works inside a plain VM or container as root.  The storage driver is
``overlay`` where the kernel mounts it here (vfs copies the whole root file system for every
step, about six times slower), else ``vfs``; a storage root that already holds images keeps
its driver.  ``dockfix-buildah`` (a newer buildah that reads heredocs, which
``.ci/install-build-deps`` provides) is used before ``buildah`` when it is on ``PATH``.
Settings come from the constructor (the CLI's ``verify`` options and the ``[verify]``
configuration table) or else from the environment:

=================================== ==========================================
``DOCKFIX_BUILDAH``                  the buildah executable
``DOCKFIX_BUILDAH_ROOT``             storage root (``--root``)
``DOCKFIX_BUILDAH_RUNROOT``          run root (``--runroot``)
``DOCKFIX_BUILDAH_DRIVER``           storage driver (default: see above)
``DOCKFIX_BUILDAH_ISOLATION``        isolation (default ``chroot``)
``DOCKFIX_REGISTRIES_CONF``          a ``registries.conf`` (else ``CONTAINERS_REGISTRIES_CONF``)
``DOCKFIX_BUILDAH_SIGNATURE_POLICY`` a signature ``policy.json``
=================================== ==========================================

Images are built in Docker's image format so that ``HEALTHCHECK``, ``SHELL`` and
``ONBUILD`` survive (the OCI format has no place for them).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import resource
import shutil
import stat
import subprocess
import tarfile
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, ClassVar

from dockfix.proof.image_compare import FileEntry, FileType, ImageConfig

__all__ = [
    "BUILDER_NAMES",
    "BuildResult",
    "BuildStep",
    "BuildahBuilder",
    "Builder",
    "BuilderError",
    "BuilderNotFoundError",
    "DockerBuildxBuilder",
    "PodmanBuilder",
    "available_builders",
    "find_builder",
    "list_directory",
    "list_tar_stream",
    "parse_buildah_steps",
    "parse_buildkit_steps",
]


class BuilderError(RuntimeError):
    """A builder command failed for a reason other than a failing build."""


class BuilderNotFoundError(BuilderError):
    """The requested builder (or any builder) is not usable on this machine."""


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class BuildStep:
    """One build step as the builder reported it.

    ``number``/``total`` count within the stage for buildah/podman and BuildKit alike;
    ``stage`` is the stage label the builder printed (``"1/2"`` for buildah's
    ``[1/2] STEP …``, the stage name for BuildKit), ``None`` for a single-stage build.
    """

    number: int
    total: int
    instruction: str
    cached: bool
    stage: str | None = None

    @property
    def keyword(self) -> str:
        return self.instruction.split(None, 1)[0].upper() if self.instruction.strip() else ""

    @property
    def is_from(self) -> bool:
        """``FROM`` steps fetch a base image: neither cached nor run."""
        return self.keyword == "FROM"


@dataclass(frozen=True)
class BuildResult:
    success: bool
    returncode: int
    log: str
    image_id: str | None
    tag: str | None
    steps: tuple[BuildStep, ...] = ()
    duration: float = 0.0
    command: tuple[str, ...] = ()

    @property
    def steps_total(self) -> int:
        """Steps other than ``FROM``."""
        return sum(1 for s in self.steps if not s.is_from)

    @property
    def steps_cached(self) -> int:
        """Steps (other than ``FROM``) whose result came from the cache."""
        return sum(1 for s in self.steps if s.cached and not s.is_from)

    @property
    def steps_run(self) -> int:
        """Steps (other than ``FROM``) that were executed."""
        return sum(1 for s in self.steps if not s.cached and not s.is_from)

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.splitlines()[-lines:])


# --------------------------------------------------------------------------- log parsing

_BUILDAH_STEP = re.compile(
    r"^(?:\[(?P<stage>[^\]]+)\] )?STEP (?P<n>\d+)/(?P<total>\d+): (?P<ins>.*)$"
)
_BUILDAH_CACHE = re.compile(r"^--> Using cache [0-9a-f]{64}\s*$")


def parse_buildah_steps(log: str) -> tuple[BuildStep, ...]:
    """Steps from buildah's or podman's build output.

    A step counts as cached when a ``--> Using cache <id>`` line follows its ``STEP`` line
    before the next ``STEP`` line.  ``STEP`` lines must number on from the previous one (or
    start a stage at 1), so a ``RUN`` step that prints such text is not taken for a step.
    """
    steps: list[BuildStep] = []
    cached: list[bool] = []
    for line in log.splitlines():
        line = line.rstrip("\r")
        m = _BUILDAH_STEP.match(line)
        if m:
            number, total, stage = int(m["n"]), int(m["total"]), m["stage"]
            last = steps[-1] if steps else None
            follows = last is not None and (
                last.stage == stage and last.total == total and number == last.number + 1
            )
            if number == 1 or follows:
                steps.append(BuildStep(number, total, m["ins"], False, stage))
                cached.append(False)
                continue
        if steps and _BUILDAH_CACHE.match(line):
            cached[-1] = True
    return tuple(
        BuildStep(s.number, s.total, s.instruction, c, s.stage)
        for s, c in zip(steps, cached, strict=True)
    )


_BUILDKIT_STEP = re.compile(
    r"^#(?P<vertex>\d+) \[(?:(?P<stage>[^\]]*?) )?(?P<n>\d+)/(?P<total>\d+)\] (?P<ins>.*)$"
)
_BUILDKIT_CACHED = re.compile(r"^#(?P<vertex>\d+) CACHED\s*$")


def parse_buildkit_steps(log: str) -> tuple[BuildStep, ...]:
    """Steps from ``docker buildx build --progress=plain`` output.

    BuildKit shows only the steps that change the file system (``RUN``, ``COPY``, ``ADD``,
    ``WORKDIR``, ``FROM``), each as a numbered vertex; a vertex is cached when a
    ``#N CACHED`` line names it.
    """
    order: list[str] = []
    found: dict[str, BuildStep] = {}
    cached: set[str] = set()
    for line in log.splitlines():
        line = line.rstrip("\r")
        m = _BUILDKIT_STEP.match(line)
        if m and m["vertex"] not in found:
            found[m["vertex"]] = BuildStep(
                number=int(m["n"]),
                total=int(m["total"]),
                instruction=m["ins"],
                cached=False,
                stage=m["stage"] or None,
            )
            order.append(m["vertex"])
            continue
        c = _BUILDKIT_CACHED.match(line)
        if c:
            cached.add(c["vertex"])
    result = []
    for vertex in order:
        s = found[vertex]
        result.append(BuildStep(s.number, s.total, s.instruction, vertex in cached, s.stage))
    return tuple(result)


# --------------------------------------------------------------------------- listings

_TYPE_BY_MODE: tuple[tuple[int, FileType], ...] = (
    (stat.S_IFREG, "file"),
    (stat.S_IFDIR, "dir"),
    (stat.S_IFLNK, "symlink"),
    (stat.S_IFCHR, "char"),
    (stat.S_IFBLK, "block"),
    (stat.S_IFIFO, "fifo"),
    (stat.S_IFSOCK, "socket"),
)


def _file_type(st_mode: int) -> FileType:
    fmt = stat.S_IFMT(st_mode)
    for bits, name in _TYPE_BY_MODE:
        if fmt == bits:
            return name
    return "other"


def _resolve_hardlinks(entries: dict[str, FileEntry], groups: Mapping[Any, Sequence[str]]) -> None:
    """Within each group of names of one inode, keep the first path (in path order) as the
    ``file`` and turn the others into ``hardlink`` entries pointing at it."""
    for names in groups.values():
        if len(names) < 2:
            continue
        ordered = sorted(names)
        primary = ordered[0]
        data = next(entries[n] for n in names if entries[n].type == "file")
        entries[primary] = dataclasses.replace(data, path=primary, type="file", link_target=None)
        for other in ordered[1:]:
            entries[other] = dataclasses.replace(
                data, path=other, type="hardlink", size=0, link_target=primary
            )


def list_directory(root: str | os.PathLike[str]) -> list[FileEntry]:
    """Walk a root file system (a mounted image) without following links, sorted by path.

    The root directory itself is listed as ``/``; hard links as described at
    :class:`~dockfix.proof.image_compare.FileEntry`.
    """
    base = os.fspath(root)
    entries: dict[str, FileEntry] = {}
    inodes: dict[tuple[int, int], list[str]] = {}

    def add(path: str, rel: str) -> None:
        st = os.lstat(path)
        kind = _file_type(st.st_mode)
        entries[rel] = FileEntry(
            path=rel,
            type=kind,
            size=st.st_size if kind == "file" else 0,
            mode=stat.S_IMODE(st.st_mode),
            uid=st.st_uid,
            gid=st.st_gid,
            link_target=os.readlink(path) if kind == "symlink" else None,
        )
        if kind == "file" and st.st_nlink > 1:
            inodes.setdefault((st.st_dev, st.st_ino), []).append(rel)

    add(base, "/")
    for dirpath, dirnames, filenames in os.walk(base, followlinks=False):
        rel_dir = os.path.relpath(dirpath, base).replace(os.sep, "/")
        prefix = "/" if rel_dir == "." else "/" + rel_dir + "/"
        for name in [*dirnames, *filenames]:
            add(os.path.join(dirpath, name), prefix + name)
    _resolve_hardlinks(entries, inodes)
    return sorted(entries.values(), key=lambda e: e.path)


_TAR_TYPES: dict[bytes, FileType] = {
    tarfile.REGTYPE: "file",
    tarfile.AREGTYPE: "file",
    tarfile.CONTTYPE: "file",
    tarfile.DIRTYPE: "dir",
    tarfile.SYMTYPE: "symlink",
    tarfile.CHRTYPE: "char",
    tarfile.BLKTYPE: "block",
    tarfile.FIFOTYPE: "fifo",
}


def _tar_path(name: str) -> str:
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return "/" + "/".join(parts)


def list_tar_stream(stream: IO[bytes]) -> list[FileEntry]:
    """List a flattened root file system tar (``docker export``/``podman export``).

    Hard links come out as from :func:`list_directory`: the first name in path order is the
    ``file``, the others ``hardlink`` entries pointing at it.
    """
    entries: dict[str, FileEntry] = {}
    groups: dict[str, list[str]] = {}
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        for member in tar:
            path = _tar_path(member.name)
            if member.type == tarfile.LNKTYPE:
                target = _tar_path(member.linkname)
                while target in entries and entries[target].type == "hardlink":
                    target = entries[target].link_target or target
                linked = entries.get(target)
                if linked is None:  # a link to a name the archive lacks: keep it as written
                    entries[path] = FileEntry(
                        path=path,
                        type="hardlink",
                        mode=member.mode & 0o7777,
                        uid=member.uid,
                        gid=member.gid,
                        link_target=target,
                    )
                    continue
                entries[path] = dataclasses.replace(
                    linked, path=path, type="hardlink", size=0, link_target=target
                )
                groups.setdefault(target, [target]).append(path)
                continue
            kind = _TAR_TYPES.get(member.type, "other")
            entries[path] = FileEntry(
                path=path,
                type=kind,
                size=member.size if kind == "file" else 0,
                mode=member.mode & 0o7777,
                uid=member.uid,
                gid=member.gid,
                link_target=member.linkname if kind == "symlink" else None,
            )
    if "/" not in entries:
        entries["/"] = FileEntry(path="/", type="dir", mode=0o755)
    _resolve_hardlinks(entries, groups)
    return sorted(entries.values(), key=lambda e: e.path)


# --------------------------------------------------------------------------- base class


@dataclass
class Builder(ABC):
    """A tool that builds Dockerfiles into local images."""

    name: ClassVar[str]
    executable: str = ""
    env: Mapping[str, str] | None = None
    """Extra environment for the builder's commands (on top of ``os.environ``)."""
    network: str | None = None
    """``--network`` for ``RUN`` steps (``host``, ``none``…); ``None`` keeps the default."""
    extra_build_args: Sequence[str] = field(default_factory=tuple)
    """Extra command-line options for every build."""

    def __post_init__(self) -> None:
        if not self.executable:
            self.executable = self.default_executable()

    # -- discovery
    @classmethod
    def default_executable(cls) -> str:
        return cls.name

    def is_available(self) -> bool:
        """Whether this builder can build here (installed, and its daemon reachable)."""
        return shutil.which(self.executable) is not None

    def _responds(self, *commands: list[str]) -> bool:
        """Installed, and each probe command exits 0 (``version``, ``info``, …)."""
        if shutil.which(self.executable) is None:
            return False
        try:
            return all(self.run(c, check=False, timeout=30).returncode == 0 for c in commands)
        except (OSError, subprocess.SubprocessError):
            return False

    def _build_tail(
        self,
        context_dir: Path,
        build_args: Mapping[str, str],
        target: str | None,
        tag: str | None,
        no_cache: bool,
    ) -> list[str]:
        """The arguments every builder's ``build`` ends with, the context last."""
        args = _build_arg_options(build_args)
        if target:
            args += ["--target", target]
        if tag:
            args += ["--tag", tag]
        if no_cache:
            args.append("--no-cache")
        return [*args, *self.extra_build_args, str(context_dir)]

    # -- commands
    def _environ(self) -> dict[str, str]:
        environ = dict(os.environ)
        if self.env:
            environ.update(self.env)
        return environ

    def base_command(self) -> list[str]:
        return [self.executable]

    def run(
        self,
        args: Sequence[str],
        *,
        check: bool = True,
        timeout: float | None = None,
        input_text: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run one builder command and capture its output."""
        cmd = [*self.base_command(), *args]
        try:
            proc = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                env=self._environ(),
                timeout=timeout,
                input=input_text,
                check=False,
            )
        except FileNotFoundError as exc:
            raise BuilderNotFoundError(f"{self.executable}: not found") from exc
        if check and proc.returncode != 0:
            raise BuilderError(
                f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip() or proc.stdout}"
            )
        return proc

    @abstractmethod
    def build_command(
        self,
        dockerfile: Path,
        context_dir: Path,
        *,
        build_args: Mapping[str, str],
        target: str | None,
        tag: str | None,
        no_cache: bool,
        iidfile: Path,
    ) -> list[str]:
        """The arguments (after :meth:`base_command`) of one build."""

    @abstractmethod
    def parse_steps(self, log: str) -> tuple[BuildStep, ...]: ...

    def build(
        self,
        dockerfile: str | os.PathLike[str],
        context_dir: str | os.PathLike[str],
        *,
        build_args: Mapping[str, str] | None = None,
        target: str | None = None,
        tag: str | None = None,
        no_cache: bool = False,
        timeout: float | None = None,
    ) -> BuildResult:
        """Build ``dockerfile`` with ``context_dir`` as context; a failing build is a result.

        Raises :class:`BuilderError` only when the builder itself could not be run.
        """
        dockerfile_path = Path(dockerfile).resolve()
        context_path = Path(context_dir).resolve()
        with tempfile.TemporaryDirectory(prefix="dockfix-build-") as tmp:
            iidfile = Path(tmp) / "iid"
            args = self.build_command(
                dockerfile_path,
                context_path,
                build_args=dict(build_args or {}),
                target=target,
                tag=tag,
                no_cache=no_cache,
                iidfile=iidfile,
            )
            cmd = [*self.base_command(), *args]
            started = time.monotonic()
            try:
                proc = subprocess.run(
                    cmd,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    text=True,
                    errors="replace",
                    env=self._environ(),
                    timeout=timeout,
                    check=False,
                )
                log, returncode = proc.stdout, proc.returncode
            except FileNotFoundError as exc:
                raise BuilderNotFoundError(f"{self.executable}: not found") from exc
            except subprocess.TimeoutExpired as exc:
                out = exc.output
                text = out.decode(errors="replace") if isinstance(out, bytes) else (out or "")
                log, returncode = text + f"\n[dockfix] build timed out after {timeout}s\n", -1
            duration = time.monotonic() - started
            image_id = None
            if returncode == 0 and iidfile.exists():
                image_id = iidfile.read_text().strip() or None
        return BuildResult(
            success=returncode == 0 and image_id is not None,
            returncode=returncode,
            log=log,
            image_id=image_id,
            tag=tag,
            steps=self.parse_steps(log),
            duration=duration,
            command=tuple(cmd),
        )

    @abstractmethod
    def inspect_raw(self, image: str) -> dict[str, Any]:
        """The builder's own JSON description of ``image``."""

    @abstractmethod
    def inspect_config(self, image: str) -> ImageConfig:
        """The runtime config of ``image`` (User, Cmd, Env, Healthcheck…)."""

    @abstractmethod
    def list_filesystem(self, image: str) -> list[FileEntry]:
        """The final root file system of ``image``, sorted by path."""

    @abstractmethod
    def image_size(self, image: str) -> int:
        """Bytes of the image's layers, uncompressed, as the builder stores them."""

    @abstractmethod
    def remove_image(self, image: str) -> None:
        """Remove ``image`` (a missing image is no error)."""

    def image_exists(self, image: str) -> bool:
        try:
            self.inspect_raw(image)
        except (BuilderError, ValueError):
            return False
        return True

    @contextlib.contextmanager
    def container(self, image: str) -> Iterator[str]:
        """A container of ``image`` to run commands in (see :meth:`run_command`)."""
        raise BuilderError(f"{self.name}: starting images (`verify --run`) needs buildah")
        yield ""  # pragma: no cover - makes this a generator

    def run_command(
        self,
        container: str,
        argv: Sequence[str],
        *,
        user: str = "",
        env: Mapping[str, str] | None = None,
        extra_args: Sequence[str] = (),
    ) -> list[str]:
        """The command line that runs ``argv`` in ``container`` as ``user``, in the caller's
        network namespace."""
        raise BuilderError(f"{self.name}: starting images (`verify --run`) needs buildah")

    def __str__(self) -> str:
        return self.name


def _storage_options(root: str | None, run_root: str | None, driver: str | None) -> list[str]:
    """containers/storage options shared by buildah and podman."""
    out: list[str] = []
    if root:
        out += ["--root", root]
    if run_root:
        out += ["--runroot", run_root]
    if driver:
        out += ["--storage-driver", driver]
    return out


def ulimit_options() -> list[str]:
    """``--ulimit`` at this process's hard limits for files and processes.

    Newer buildah raises both to 1048576 in a ``RUN`` unless told, which fails where the
    hard limit is lower and the process may not raise it (a container without
    ``CAP_SYS_RESOURCE``).
    """
    out: list[str] = []
    for name, which in (("nofile", resource.RLIMIT_NOFILE), ("nproc", resource.RLIMIT_NPROC)):
        hard = resource.getrlimit(which)[1]
        if hard != resource.RLIM_INFINITY:
            out += ["--ulimit", f"{name}={hard}:{hard}"]
    return out


def overlay_works(executable: str, workdir: str | os.PathLike[str]) -> bool:
    """Whether buildah can mount an ``overlay`` container here (a throwaway storage in
    ``workdir``, which must be on the file system the real storage will use)."""
    with tempfile.TemporaryDirectory(prefix="dockfix-overlay-probe-", dir=workdir) as tmp:
        base = [executable, "--root", f"{tmp}/root", "--runroot", f"{tmp}/run"]
        base += ["--storage-driver", "overlay"]
        try:
            made = subprocess.run(
                [*base, "from", "--quiet", "scratch"], capture_output=True, text=True, check=False
            )
            if made.returncode != 0 or not made.stdout.strip():
                return False
            ctr = made.stdout.strip().splitlines()[-1]
            mounted = subprocess.run([*base, "mount", ctr], capture_output=True, check=False)
            subprocess.run([*base, "umount", ctr], capture_output=True, check=False)
            subprocess.run([*base, "rm", ctr], capture_output=True, check=False)
            return mounted.returncode == 0
        except OSError:
            return False
        finally:
            subprocess.run([*base, "rmi", "--all", "--force"], capture_output=True, check=False)


def default_storage_driver(executable: str, storage_root: str | None) -> str:
    """The driver a storage root already uses, else overlay where it works here, else vfs."""
    root = Path(storage_root or "/var/lib/containers/storage")
    for driver in ("overlay", "vfs"):
        if (root / f"{driver}-images").is_dir():
            return driver
    probe_dir = root.parent if root.parent.is_dir() else Path(tempfile.gettempdir())
    return "overlay" if overlay_works(executable, probe_dir) else "vfs"


def _build_arg_options(build_args: Mapping[str, str]) -> list[str]:
    out: list[str] = []
    for key, value in build_args.items():
        out += ["--build-arg", f"{key}={value}"]
    return out


# --------------------------------------------------------------------------- buildah


@dataclass
class BuildahBuilder(Builder):
    """buildah, rootful, ``--isolation chroot``; overlay storage where it works here."""

    name: ClassVar[str] = "buildah"
    storage_root: str | None = None
    run_root: str | None = None
    storage_driver: str | None = None
    isolation: str | None = None
    registries_conf: str | None = None
    signature_policy: str | None = None
    layers: bool = True
    image_format: str = "docker"

    @classmethod
    def default_executable(cls) -> str:
        return (
            os.environ.get("DOCKFIX_BUILDAH")
            or (HEREDOC_BUILDAH if shutil.which(HEREDOC_BUILDAH) else "")
            or cls.name
        )

    def __post_init__(self) -> None:
        super().__post_init__()
        environ = self._environ()
        if self.storage_root is None:
            self.storage_root = environ.get("DOCKFIX_BUILDAH_ROOT") or None
        if self.run_root is None:
            self.run_root = environ.get("DOCKFIX_BUILDAH_RUNROOT") or None
        if self.storage_driver is None:
            self.storage_driver = environ.get("DOCKFIX_BUILDAH_DRIVER") or None
        if self.isolation is None:
            self.isolation = environ.get("DOCKFIX_BUILDAH_ISOLATION") or "chroot"
        if self.registries_conf is None:
            self.registries_conf = environ.get("DOCKFIX_REGISTRIES_CONF") or None
        if self.signature_policy is None:
            self.signature_policy = environ.get("DOCKFIX_BUILDAH_SIGNATURE_POLICY") or None

    def _environ(self) -> dict[str, str]:
        environ = super()._environ()
        if self.registries_conf:
            environ["CONTAINERS_REGISTRIES_CONF"] = self.registries_conf
        if self.isolation:
            environ["BUILDAH_ISOLATION"] = self.isolation
        return environ

    def base_command(self) -> list[str]:
        if self.storage_driver is None and shutil.which(self.executable):
            self.storage_driver = default_storage_driver(self.executable, self.storage_root)
        return [
            self.executable,
            *_storage_options(self.storage_root, self.run_root, self.storage_driver),
        ]

    def is_available(self) -> bool:
        return self._responds(["version"])

    @contextlib.contextmanager
    def container(self, image: str) -> Iterator[str]:
        ctr = self.run(["from", "--pull=never", "--quiet", *ulimit_options(), image])
        name = ctr.stdout.strip().splitlines()[-1]
        try:
            yield name
        finally:
            self.run(["rm", name], check=False)

    def run_command(
        self,
        container: str,
        argv: Sequence[str],
        *,
        user: str = "",
        env: Mapping[str, str] | None = None,
        extra_args: Sequence[str] = (),
    ) -> list[str]:
        args = ["run"]
        if self.isolation:
            args += ["--isolation", self.isolation]
        if user:
            args += ["--user", user]
        for key, value in (env or {}).items():
            args += ["--env", f"{key}={value}"]
        return [*self.base_command(), *args, *extra_args, container, "--", *argv]

    def build_command(
        self,
        dockerfile: Path,
        context_dir: Path,
        *,
        build_args: Mapping[str, str],
        target: str | None,
        tag: str | None,
        no_cache: bool,
        iidfile: Path,
    ) -> list[str]:
        args = ["build", "--file", str(dockerfile), "--iidfile", str(iidfile)]
        args += ["--format", self.image_format, "--stdin=false", *ulimit_options()]
        if self.layers:
            args.append("--layers")
        if self.isolation:
            args += ["--isolation", self.isolation]
        if self.network:
            args += ["--network", self.network]
        if self.signature_policy:
            args += ["--signature-policy", self.signature_policy]
        return args + self._build_tail(context_dir, build_args, target, tag, no_cache)

    def parse_steps(self, log: str) -> tuple[BuildStep, ...]:
        return parse_buildah_steps(log)

    def inspect_raw(self, image: str) -> dict[str, Any]:
        out = self.run(["inspect", "--type", "image", image]).stdout
        data = json.loads(out)
        if not isinstance(data, dict):
            raise BuilderError(f"buildah inspect {image}: unexpected output")
        return data

    def inspect_config(self, image: str) -> ImageConfig:
        raw = self.inspect_raw(image)
        docker = raw.get("Docker") or {}
        config = docker.get("config") if isinstance(docker, dict) else None
        if not config:
            oci = raw.get("OCIv1") or {}
            config = oci.get("config") if isinstance(oci, dict) else None
        return ImageConfig.from_mapping(config or {})

    def image_size(self, image: str) -> int:
        raw = self.inspect_raw(image)
        manifest = json.loads(raw.get("Manifest") or "{}")
        layers = manifest.get("layers") or []
        return sum(int(layer.get("size", 0)) for layer in layers)

    @contextlib.contextmanager
    def mounted(self, image: str) -> Iterator[Path]:
        """A working container of ``image``, mounted; removed again afterwards."""
        with self.container(image) as ctr:
            mount = self.run(["mount", ctr]).stdout.strip().splitlines()[-1]
            try:
                yield Path(mount)
            finally:
                self.run(["umount", ctr], check=False)

    def list_filesystem(self, image: str) -> list[FileEntry]:
        with self.mounted(image) as root:
            return list_directory(root)

    def remove_image(self, image: str) -> None:
        self.run(["rmi", "--force", image], check=False)

    # -- helpers beyond the common interface
    def pull(self, reference: str, *, tls_verify: bool = True) -> str:
        args = ["pull", "--quiet"]
        if not tls_verify:
            args.append("--tls-verify=false")
        if self.signature_policy:
            args += ["--signature-policy", self.signature_policy]
        return self.run([*args, reference]).stdout.strip().splitlines()[-1]

    def push(self, image: str, destination: str, *, tls_verify: bool = True) -> None:
        """Push to a transport reference (``docker://…``, ``oci-archive:…``)."""
        args = ["push", "--quiet"]
        if not tls_verify:
            args.append("--tls-verify=false")
        if self.signature_policy:
            args += ["--signature-policy", self.signature_policy]
        self.run([*args, image, destination])

    def image_exists(self, image: str) -> bool:
        return self.run(["inspect", "--type", "image", image], check=False).returncode == 0


# --------------------------------------------------------------------------- podman, docker


@dataclass
class _DockerCommandsBuilder(Builder):
    """A builder with Docker's image commands (`image inspect`, `image rm`, `create` and
    `export`): podman and docker."""

    def inspect_raw(self, image: str) -> dict[str, Any]:
        data = json.loads(self.run(["image", "inspect", image]).stdout)
        if isinstance(data, list) and data and isinstance(data[0], dict):
            return data[0]
        raise BuilderError(f"{self.name} image inspect {image}: unexpected output")

    def image_size(self, image: str) -> int:
        return int(self.inspect_raw(image).get("Size") or 0)

    def list_filesystem(self, image: str) -> list[FileEntry]:
        """Create a container of ``image``, export it as a tar stream and list that."""
        created = self.run(["create", image, "/bin/true"])
        container = created.stdout.strip().splitlines()[-1]
        try:
            cmd = [*self.base_command(), "export", container]
            with subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self._environ()
            ) as proc:
                assert proc.stdout is not None
                entries = list_tar_stream(proc.stdout)
                _, err = proc.communicate()
                if proc.returncode != 0:
                    raise BuilderError(f"{' '.join(cmd)} exited {proc.returncode}: {err!r}")
            return entries
        finally:
            self.run(["rm", "-f", container], check=False)

    def remove_image(self, image: str) -> None:
        self.run(["image", "rm", "--force", image], check=False)


# --------------------------------------------------------------------------- podman


@dataclass
class PodmanBuilder(_DockerCommandsBuilder):
    """podman: buildah's build engine behind Docker's command line."""

    name: ClassVar[str] = "podman"
    storage_root: str | None = None
    run_root: str | None = None
    storage_driver: str | None = None
    isolation: str | None = None
    image_format: str = "docker"

    def base_command(self) -> list[str]:
        return [
            self.executable,
            *_storage_options(self.storage_root, self.run_root, self.storage_driver),
        ]

    def is_available(self) -> bool:
        return self._responds(["info"])

    def build_command(
        self,
        dockerfile: Path,
        context_dir: Path,
        *,
        build_args: Mapping[str, str],
        target: str | None,
        tag: str | None,
        no_cache: bool,
        iidfile: Path,
    ) -> list[str]:
        args = ["build", "--file", str(dockerfile), "--iidfile", str(iidfile), "--layers"]
        args += ["--format", self.image_format]
        if self.isolation:
            args += ["--isolation", self.isolation]
        if self.network:
            args += ["--network", self.network]
        return args + self._build_tail(context_dir, build_args, target, tag, no_cache)

    def parse_steps(self, log: str) -> tuple[BuildStep, ...]:
        return parse_buildah_steps(log)

    def inspect_config(self, image: str) -> ImageConfig:
        raw = self.inspect_raw(image)
        config: dict[str, Any] = dict(raw.get("Config") or {})
        health = raw.get("HealthCheck") or raw.get("Healthcheck")
        if health and "Healthcheck" not in config:
            config["Healthcheck"] = health
        return ImageConfig.from_mapping(config)


# --------------------------------------------------------------------------- docker buildx


@dataclass
class DockerBuildxBuilder(_DockerCommandsBuilder):
    """``docker buildx build --load``: BuildKit through a Docker daemon."""

    name: ClassVar[str] = "docker"
    buildx_builder: str | None = None

    def is_available(self) -> bool:
        return self._responds(["buildx", "version"], ["info"])

    def _environ(self) -> dict[str, str]:
        environ = super()._environ()
        environ.setdefault("BUILDKIT_PROGRESS", "plain")
        return environ

    def build_command(
        self,
        dockerfile: Path,
        context_dir: Path,
        *,
        build_args: Mapping[str, str],
        target: str | None,
        tag: str | None,
        no_cache: bool,
        iidfile: Path,
    ) -> list[str]:
        args = ["buildx", "build", "--load", "--progress=plain"]
        if self.buildx_builder:
            args += ["--builder", self.buildx_builder]
        args += ["--file", str(dockerfile), "--iidfile", str(iidfile)]
        if self.network:
            args += ["--network", self.network]
        return args + self._build_tail(context_dir, build_args, target, tag, no_cache)

    def parse_steps(self, log: str) -> tuple[BuildStep, ...]:
        return parse_buildkit_steps(log)

    def inspect_config(self, image: str) -> ImageConfig:
        return ImageConfig.from_mapping(self.inspect_raw(image).get("Config") or {})


# --------------------------------------------------------------------------- discovery

HEREDOC_BUILDAH = "dockfix-buildah"
"""A buildah new enough for heredocs, preferred when on ``PATH`` (``.ci/install-build-deps``)."""

BUILDER_NAMES: tuple[str, ...] = ("buildah", "docker", "podman")
"""Builder names in the order :func:`find_builder` tries them."""

_ALIASES: dict[str, type[Builder]] = {
    "buildah": BuildahBuilder,
    "docker": DockerBuildxBuilder,
    "buildx": DockerBuildxBuilder,
    "docker-buildx": DockerBuildxBuilder,
    "podman": PodmanBuilder,
}


def _make(cls: type[Builder], options: Mapping[str, Any]) -> Builder:
    accepted = {f.name for f in dataclasses.fields(cls) if f.init}
    return cls(**{k: v for k, v in options.items() if k in accepted})


def available_builders(**options: Any) -> list[Builder]:
    """Every builder usable here, in :data:`BUILDER_NAMES` order."""
    found = []
    for name in BUILDER_NAMES:
        builder = _make(_ALIASES[name], options)
        if builder.is_available():
            found.append(builder)
    return found


def find_builder(name: str | None = None, **options: Any) -> Builder:
    """The builder called ``name`` (``buildah``, ``docker``/``buildx``, ``podman``), or the
    first usable one when ``name`` is ``None``.

    ``options`` go to the builder's constructor where it has such a field (e.g.
    ``storage_root=…``, ``registries_conf=…`` for buildah; ``network="host"`` for all);
    the others are ignored.  Raises :class:`BuilderNotFoundError`.
    """
    if name is not None:
        cls = _ALIASES.get(name.lower())
        if cls is None:
            known = ", ".join(sorted(_ALIASES))
            raise BuilderNotFoundError(f"unknown builder {name!r} (known: {known})")
        builder = _make(cls, options)
        if not builder.is_available():
            raise BuilderNotFoundError(f"builder {name!r} is not usable here")
        return builder
    for candidate in BUILDER_NAMES:
        builder = _make(_ALIASES[candidate], options)
        if builder.is_available():
            return builder
    raise BuilderNotFoundError(
        "no image builder found: install buildah, docker (with buildx and a running "
        "daemon) or podman"
    )
