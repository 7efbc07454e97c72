"""Base images for real builds, made on this machine and served by a local registry.

No Docker Hub here: the images that fixture Dockerfiles name (``busybox``,
``debian:bookworm-slim``, ``python:3.11-slim``, ``node:20-slim``) are made in the test run:

* BusyBox from Debian's ``busybox-static`` binary (one file plus a hard link per applet,
  as in the official image), with ``/etc/passwd``/``group``/``shadow``.
* Debian bookworm with ``mmdebstrap --variant=minbase`` from the machine's own apt sources
  (suites renamed to bookworm if the machine runs another release), "slim" the way the
  official images are (no docs, man pages or translations; debuerreotype's apt settings),
  then one with ``python3``/``python3-pip`` and one with ``nodejs``/``npm`` (Debian's, so
  version 18 behind the ``node:20-slim`` tags), and the full ``node:20`` with the build
  tools of buildpack-deps on top, as on Docker Hub.

Every image carries the machine's CA bundle, so ``pip``, ``npm``, ``curl`` and ``apt``
inside builds reach their registries through whatever TLS setup the machine has.

Each image is committed with buildah and saved as an OCI archive in a cache directory
(``$DOCKFIX_TEST_IMAGE_CACHE`` or ``~/.cache/dockfix-test-images``) under a key hashed from
its recipe and the host inputs (apt sources, CA bundle, busybox binary…), so a later run
only copies the archives into the registry.  :func:`write_registries_conf` makes
``docker.io`` resolve to that registry, so ``FROM python:3.11-slim`` lines stay as written.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import platform
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

RECIPE_VERSION = 3
"""Bump to rebuild every cached base image."""

RELEASE = "bookworm"
CA_BUNDLE_CANDIDATES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
)
BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox")
APT_OPTION_PREFIXES = (
    "Acquire::Check-Valid-Until",
    "Acquire::Check-Date",
    "Acquire::http::Proxy",
    "Acquire::https::Proxy",
    "Acquire::ftp::Proxy",
    "Acquire::Retries",
)
PROXY_VARIABLES = (
    "http_proxy",
    "https_proxy",
    "ftp_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "FTP_PROXY",
    "NO_PROXY",
)

# The official Debian images' apt settings (debuerreotype), so fixture Dockerfiles meet the
# same apt behaviour as on Docker Hub's images.
DOCKER_APT_CONF: dict[str, str] = {
    "docker-clean": (
        'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb '
        '/var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };\n'
        'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb '
        '/var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };\n'
        'Dir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n'
    ),
    "docker-gzip-indexes": 'Acquire::GzipIndexes "true";\n',
    "docker-no-languages": 'Acquire::Languages "none";\n',
    "docker-autoremove-suggests": 'Apt::AutoRemove::SuggestsImportant "false";\n',
}
SLIM_DPKG_OPTIONS = (
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/locale/*",
    "path-include=/usr/share/locale/locale.alias",
    "path-exclude=/usr/share/lintian/*",
    "path-exclude=/usr/share/groff/*",
)

BUSYBOX_PASSWD = """\
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
"""
BUSYBOX_GROUP = """\
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:root
mail:x:12:
www-data:x:33:
operator:x:37:
staff:x:50:
users:x:100:
nogroup:x:65534:
"""
BUSYBOX_SHADOW = "".join(
    f"{line.split(':', 1)[0]}:*:10933:0:99999:7:::\n" for line in BUSYBOX_PASSWD.splitlines()
)


class BaseImageError(RuntimeError):
    pass


# ============================================================================ host inputs


@dataclass(frozen=True)
class HostInputs:
    """What the base images take from this machine; part of every cache key."""

    apt_sources: tuple[tuple[str, str], ...]
    """(file name, content) of the apt sources to use, suites renamed to bookworm."""
    apt_options: tuple[str, ...]
    ca_bundle: str
    ca_bundle_sha256: str
    busybox: str | None
    busybox_sha256: str | None
    arch: str
    npm: str | None
    """The machine's npm, to fetch the npm package for the Node.js image."""

    @classmethod
    def detect(cls) -> HostInputs:
        ca = next((p for p in CA_BUNDLE_CANDIDATES if os.path.isfile(p)), None)
        if ca is None:
            raise BaseImageError("no CA bundle found on this machine")
        busybox = next((p for p in BUSYBOX_CANDIDATES if _is_static_busybox(p)), None)
        return cls(
            apt_sources=tuple(host_apt_sources()),
            apt_options=tuple(host_apt_options()),
            ca_bundle=ca,
            ca_bundle_sha256=_sha256_file(ca),
            busybox=busybox,
            busybox_sha256=_sha256_file(busybox) if busybox else None,
            arch=_dpkg_arch(),
            npm=shutil.which("npm"),
        )

    def fingerprint(self) -> dict[str, Any]:
        return {
            "apt_sources": [list(s) for s in self.apt_sources],
            "apt_options": list(self.apt_options),
            "ca_bundle_sha256": self.ca_bundle_sha256,
            "busybox_sha256": self.busybox_sha256,
            "arch": self.arch,
            "npm": self.npm is not None,
        }


def _sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _is_static_busybox(path: str) -> bool:
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        return False
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 16)
    except OSError:
        return False
    # A dynamically linked ELF names its interpreter (/lib64/ld-linux…) in PT_INTERP.
    return head.startswith(b"\x7fELF") and b"ld-linux" not in head and b"ld-musl" not in head


def _dpkg_arch() -> str:
    try:
        return subprocess.run(
            ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def _host_codename() -> str | None:
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return None
    m = re.search(r"^VERSION_CODENAME=\"?([a-z]+)\"?$", text, re.M)
    return m.group(1) if m else None


def _rename_suite(suite: str, codename: str | None) -> str:
    if codename and codename != RELEASE and (suite == codename or suite.startswith(codename + "-")):
        return RELEASE + suite[len(codename) :]
    return suite


_TRUSTED_KEYRING = re.compile(r"^/usr/share/keyrings/debian-archive-[\w.-]+\.gpg$")


def host_apt_sources() -> list[tuple[str, str]]:
    """The machine's Debian sources (deb822 and one-line), as files for ``mmdebstrap``.

    Keeps only ``deb`` entries signed by Debian's archive keyring (or unsigned ones, which
    then use the default keyring): a third-party repository would need a key the image does
    not have.  Suites of another release are renamed to bookworm.
    """
    codename = _host_codename()
    out: list[tuple[str, str]] = []
    one_line: list[str] = []
    candidates = [Path("/etc/apt/sources.list")]
    candidates += sorted(Path("/etc/apt/sources.list.d").glob("*.list"))
    for path in candidates:
        if not path.is_file():
            continue
        for raw in path.read_text().splitlines():
            line = raw.strip()
            if not line.startswith("deb ") or "debian" not in line:
                continue
            m = re.search(r"signed-by=(\S+?)[\s\]]", line)
            if m and not _TRUSTED_KEYRING.match(m.group(1)):
                continue
            parts = line.split()
            # deb [options] uri suite components…
            idx = 1
            if parts[idx].startswith("["):
                while not parts[idx].endswith("]"):
                    idx += 1
                idx += 1
            suite = idx + 1
            if suite < len(parts):
                parts[suite] = _rename_suite(parts[suite], codename)
            one_line.append(" ".join(parts))
    if one_line:
        out.append(("host.list", "\n".join(one_line) + "\n"))
    for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        stanzas = []
        for stanza in re.split(r"\n\s*\n", path.read_text()):
            fields = _deb822(stanza)
            if not fields or "deb" not in fields.get("types", "").split():
                continue
            if fields.get("enabled", "yes").lower() == "no":
                continue
            signed = fields.get("signed-by", "")
            if signed and not _TRUSTED_KEYRING.match(signed.strip()):
                continue
            lines = [
                "Types: deb",
                f"URIs: {fields['uris']}",
                "Suites: "
                + " ".join(_rename_suite(s, codename) for s in fields.get("suites", "").split()),
                f"Components: {fields.get('components', 'main')}",
            ]
            if signed:
                lines.append(f"Signed-By: {signed.strip()}")
            stanzas.append("\n".join(lines))
        if stanzas:
            out.append((path.name, "\n\n".join(stanzas) + "\n"))
    if not out:
        raise BaseImageError("no Debian apt sources found in /etc/apt")
    return out


def _deb822(stanza: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    key = None
    for line in stanza.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0].isspace() and key:
            fields[key] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if sep:
            key = name.strip().lower()
            fields[key] = value.strip()
    return fields


def host_apt_options() -> list[str]:
    """apt settings of this machine that images need to reach the same mirrors."""
    try:
        dump = subprocess.run(
            ["apt-config", "dump"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    options = []
    for line in dump.splitlines():
        if line.startswith(APT_OPTION_PREFIXES) and line.endswith(";"):
            options.append(line)
    return sorted(options)


def proxy_build_args(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Proxy settings of this environment, as build args (Docker's predefined ARGs)."""
    env = os.environ if environ is None else environ
    return {k: env[k] for k in PROXY_VARIABLES if env.get(k)}


# ============================================================================ recipes


@dataclass(frozen=True)
class BaseImage:
    """One base image: how to make it and under which names to serve it."""

    name: str
    kind: Literal["busybox", "debian"]
    tags: tuple[str, ...]
    """Repository:tag names in the registry, e.g. ``library/python:3.11-slim``."""
    packages: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    cmd: tuple[str, ...] = ()
    chroot_script: str = ""
    """Shell run inside the new root file system (``chroot``) after packages are installed."""
    npm_version: str | None = None
    """npm from the npm registry, laid out as in the official image (``/usr/local/lib``).

    Debian's ``npm`` package drags in some 30,000 files (babel, core-js…), which makes every
    build step slow on the ``vfs`` driver; without an npm on this machine it is used anyway.
    """
    description: str = ""

    def apt_packages(self, host: HostInputs) -> tuple[str, ...]:
        if self.npm_version and host.npm is None:
            return (*self.packages, "npm")
        return self.packages

    def recipe(self, host: HostInputs) -> dict[str, Any]:
        data: dict[str, Any] = {
            "version": RECIPE_VERSION,
            "name": self.name,
            "kind": self.kind,
            "packages": list(self.apt_packages(host)),
            "npm_version": self.npm_version if host.npm else None,
            "env": [list(e) for e in self.env],
            "cmd": list(self.cmd),
            "chroot_script": self.chroot_script,
            "host": host.fingerprint(),
        }
        if self.kind == "debian":
            data["release"] = RELEASE
            data["dpkg"] = list(SLIM_DPKG_OPTIONS)
            data["apt_conf"] = DOCKER_APT_CONF
        return data

    def key(self, host: HostInputs) -> str:
        blob = json.dumps(self.recipe(host), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:20]

    def archive_name(self, host: HostInputs) -> str:
        return f"{self.name}-{self.key(host)}.tar"


PATH_ENV = ("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")

BUSYBOX = BaseImage(
    name="busybox",
    kind="busybox",
    tags=("library/busybox:latest", "library/busybox:1.35", "library/busybox:stable"),
    env=(PATH_ENV,),
    cmd=("sh",),
    description="Debian's busybox-static, one hard link per applet in /bin",
)
DEBIAN = BaseImage(
    name="debian",
    kind="debian",
    tags=(
        "library/debian:bookworm-slim",
        "library/debian:bookworm",
        "library/debian:12-slim",
        "library/debian:12",
        "library/debian:stable-slim",
        "library/debian:latest",
    ),
    env=(PATH_ENV,),
    cmd=("bash",),
    description="mmdebstrap minbase, slim",
)
PYTHON = BaseImage(
    name="python",
    kind="debian",
    tags=(
        "library/python:3.11-slim",
        "library/python:3.11-slim-bookworm",
        "library/python:3.11",
        "library/python:3.11-bookworm",
        "library/python:3-slim",
    ),
    packages=("python3", "python3-pip", "python3-venv", "ca-certificates"),
    env=(PATH_ENV, ("LANG", "C.UTF-8")),
    cmd=("python3",),
    chroot_script=(
        # Like the official image: pip installs into the system Python, `python`/`pip` exist.
        "set -e; rm -f /usr/lib/python3*/EXTERNALLY-MANAGED;"
        " ln -sf /usr/bin/python3 /usr/local/bin/python;"
        " ln -sf /usr/bin/pip3 /usr/local/bin/pip;"
        " ln -sf /usr/bin/pip3 /usr/local/bin/pip3"
    ),
    description="mmdebstrap minbase, slim, Debian's python3 (3.11) and pip",
)
NODE = BaseImage(
    name="node",
    kind="debian",
    tags=(
        "library/node:20-slim",
        "library/node:20-bookworm-slim",
        "library/node:lts-slim",
        "library/node:18-slim",
    ),
    packages=("nodejs", "ca-certificates"),
    npm_version="10.8.2",
    env=(PATH_ENV,),
    cmd=("node",),
    chroot_script=(
        # The official image has a `node` user (uid 1000) that Dockerfiles switch to.
        "set -e; groupadd --gid 1000 node;"
        " useradd --uid 1000 --gid node --shell /bin/bash --create-home node"
    ),
    description="mmdebstrap minbase, slim, Debian's nodejs (18), npm 10, user node",
)
# The full `node:<version>` tags are built on buildpack-deps (compilers, git, curl, Python
# for node-gyp): a multi-stage rewrite's runtime on `-slim` drops them, as on Docker Hub.
NODE_FULL = BaseImage(
    name="node-full",
    kind="debian",
    tags=("library/node:20", "library/node:20-bookworm", "library/node:lts"),
    packages=(
        *NODE.packages,
        "build-essential",
        "python3",
        "git",
        "curl",
        "wget",
        "gnupg",
        "procps",
        "openssh-client",
        "pkg-config",
        "xz-utils",
        "unzip",
    ),
    npm_version=NODE.npm_version,
    env=NODE.env,
    cmd=NODE.cmd,
    chroot_script=NODE.chroot_script,
    description="the node image plus buildpack-deps' build tools (gcc, make, git, curl, python3)",
)
ALL_IMAGES: tuple[BaseImage, ...] = (BUSYBOX, DEBIAN, PYTHON, NODE, NODE_FULL)


# ============================================================================ making images


def _run(
    cmd: Sequence[str],
    *,
    log: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 1800,
) -> str:
    environ = dict(os.environ)
    if env:
        environ.update(env)
    proc = subprocess.run(
        list(cmd),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        env=environ,
        timeout=timeout,
        check=False,
    )
    if log is not None:
        with open(log, "a") as f:
            f.write(f"$ {' '.join(cmd)}\n{proc.stdout}\n[exit {proc.returncode}]\n")
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.splitlines()[-40:])
        raise BaseImageError(f"{' '.join(cmd[:3])}… exited {proc.returncode}:\n{tail}")
    return proc.stdout


def busybox_rootfs_tar(host: HostInputs, dest: Path) -> None:
    """Write the BusyBox image's root file system as a tar (deterministic)."""
    if host.busybox is None:
        raise BaseImageError("no static busybox here (apt-get install busybox-static)")
    applets = _run([host.busybox, "--list"]).split()
    mtime = 0

    def add_dir(tar: tarfile.TarFile, name: str, mode: int = 0o755) -> None:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.mtime = tarfile.DIRTYPE, mode, mtime
        tar.addfile(info)

    def add_file(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = len(data), mode, mtime
        tar.addfile(info, io.BytesIO(data))

    with tarfile.open(dest, "w", format=tarfile.PAX_FORMAT) as tar:
        for d in (
            "bin",
            "etc",
            "etc/ssl",
            "etc/ssl/certs",
            "home",
            "usr",
            "usr/sbin",
            "var",
            "var/spool",
            "var/spool/mail",
            "var/www",
        ):
            add_dir(tar, d)
        add_dir(tar, "root", 0o700)
        add_dir(tar, "tmp", 0o1777)
        add_file(tar, "bin/busybox", Path(host.busybox).read_bytes(), 0o755)
        for applet in sorted(set(applets) - {"busybox"}):
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type, info.linkname, info.mode, info.mtime = (
                tarfile.LNKTYPE,
                "bin/busybox",
                0o755,
                mtime,
            )
            tar.addfile(info)
        add_file(tar, "etc/passwd", BUSYBOX_PASSWD.encode())
        add_file(tar, "etc/group", BUSYBOX_GROUP.encode())
        add_file(tar, "etc/shadow", BUSYBOX_SHADOW.encode(), 0o640)
        add_file(tar, "etc/ssl/certs/ca-certificates.crt", Path(host.ca_bundle).read_bytes())


def debian_rootfs_tar(
    image: BaseImage, host: HostInputs, dest: Path, workdir: Path, log: Path
) -> None:
    """Write a Debian image's root file system as a tar with ``mmdebstrap``."""
    workdir.mkdir(parents=True, exist_ok=True)
    source_files = []
    for fname, content in host.apt_sources:
        p = workdir / fname
        p.write_text(content)
        source_files.append(str(p))
    apt_conf_dir = workdir / "apt.conf.d"
    apt_conf_dir.mkdir(exist_ok=True)
    for fname, content in DOCKER_APT_CONF.items():
        (apt_conf_dir / fname).write_text(content)
    cmd = [
        "mmdebstrap",
        "--variant=minbase",
        "--mode=root",
        "--format=tar",
        "--skip=output/dev",
        "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
    ]
    cmd += [f"--dpkgopt={opt}" for opt in SLIM_DPKG_OPTIONS]
    cmd += [f"--aptopt={opt}" for opt in host.apt_options]
    packages = image.apt_packages(host)
    if packages:
        cmd.append("--include=" + ",".join(packages))
    ca = host.ca_bundle
    cmd += [
        f'--customize-hook=cp {apt_conf_dir}/docker-* "$1/etc/apt/apt.conf.d/"',
        '--customize-hook=mkdir -p "$1/etc/ssl/certs" "$1/usr/local/share/ca-certificates"',
        f'--customize-hook=cp {ca} "$1/etc/ssl/certs/ca-certificates.crt"',
        # update-ca-certificates (run when a build installs ca-certificates) keeps these.
        f'--customize-hook=cp {ca} "$1/usr/local/share/ca-certificates/machine-bundle.crt"',
    ]
    if image.npm_version and host.npm:
        _run(
            [host.npm, "pack", f"npm@{image.npm_version}", "--pack-destination", str(workdir)],
            log=log,
        )
        tgz = workdir / f"npm-{image.npm_version}.tgz"
        lib = '"$1/usr/local/lib/node_modules/npm"'
        cmd += [
            f'--customize-hook=mkdir -p {lib} "$1/usr/local/bin"',
            f"--customize-hook=tar xzf {tgz} -C {lib} --strip-components=1 --no-same-owner",
            '--customize-hook=ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"',
            '--customize-hook=ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"',
        ]
    if image.chroot_script:
        script = workdir / "customize.sh"
        script.write_text(image.chroot_script + "\n")
        cmd.append(f'--customize-hook=chroot "$1" sh < {script}')
    cmd += [
        '--customize-hook=rm -f "$1/etc/hostname" "$1/etc/resolv.conf"',
        '--customize-hook=rm -rf "$1/var/lib/apt/lists/"* "$1/var/cache/apt/"*.bin',
        '--customize-hook=rm -f "$1/var/log/apt/"* "$1/var/log/dpkg.log" "$1/var/log/alternatives.log"',
    ]
    cmd += [RELEASE, str(dest), *source_files]
    _run(cmd, log=log)


@dataclass
class ImageFactory:
    """Makes base images with buildah and keeps their OCI archives in ``cache_dir``."""

    cache_dir: Path
    workdir: Path
    buildah_base: Sequence[str]
    """buildah with its global options (``--root``, ``--storage-driver``…)."""
    host: HostInputs
    log: Path = field(init=False)
    timings: dict[str, float] = field(default_factory=dict)
    built: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log = self.workdir / "base-images.log"

    def archive(self, image: BaseImage) -> Path:
        return self.cache_dir / image.archive_name(self.host)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        with open(self.cache_dir / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def ensure(self, images: Sequence[BaseImage]) -> dict[str, Path]:
        """Archives for ``images``, made where the cache has none; returns name → archive."""
        with self.locked():
            missing = [img for img in images if not self.archive(img).is_file()]
            self.reused += [img.name for img in images if img not in missing]
            if missing:
                started = time.monotonic()
                with ThreadPoolExecutor(max_workers=max(1, len(missing))) as pool:
                    for future in [pool.submit(self._make, img) for img in missing]:
                        future.result()
                self.timings["build base images"] = time.monotonic() - started
            self._prune(images)
        return {img.name: self.archive(img) for img in images}

    def _prune(self, images: Sequence[BaseImage]) -> None:
        """Drop archives of older recipes of these images."""
        for img in images:
            keep = self.archive(img).name
            for old in self.cache_dir.glob(f"{img.name}-*.tar"):
                if old.name != keep and re.fullmatch(rf"{img.name}-[0-9a-f]{{20}}\.tar", old.name):
                    old.unlink(missing_ok=True)

    def _make(self, image: BaseImage) -> None:
        started = time.monotonic()
        work = Path(tempfile.mkdtemp(prefix=f"{image.name}-", dir=self.workdir))
        try:
            rootfs = work / "rootfs.tar"
            if image.kind == "busybox":
                busybox_rootfs_tar(self.host, rootfs)
            else:
                debian_rootfs_tar(image, self.host, rootfs, work / "mm", work / "mmdebstrap.log")
            self.timings[f"{image.name}: root fs"] = time.monotonic() - started
            self._commit(image, rootfs, work)
            self.built.append(image.name)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        self.timings[f"{image.name}: total"] = time.monotonic() - started

    def _commit(self, image: BaseImage, rootfs: Path, work: Path) -> None:
        b = list(self.buildah_base)
        ref = f"localhost/dockfix-base/{image.name}:{image.key(self.host)}"
        ctr = _run([*b, "from", "--quiet", "scratch"], log=self.log).strip().splitlines()[-1]
        try:
            _run([*b, "add", "--quiet", ctr, str(rootfs), "/"], log=self.log)
            config = [*b, "config"]
            for key, value in image.env:
                config += ["--env", f"{key}={value}"]
            if image.cmd:
                config += ["--cmd", json.dumps(list(image.cmd))]
            config += ["--created-by", f"dockfix test base image {image.name}: {image.description}"]
            _run([*config, ctr], log=self.log)
            _run([*b, "commit", "--quiet", "--format", "docker", ctr, ref], log=self.log)
        finally:
            subprocess.run([*b, "rm", ctr], capture_output=True, check=False)
        tmp = work / "image.tar"
        try:
            _run(
                [
                    *b,
                    "push",
                    "--quiet",
                    "--disable-compression",
                    ref,
                    f"oci-archive:{tmp}:{image.tags[0]}",
                ],
                log=self.log,
            )
        finally:
            subprocess.run([*b, "rmi", "--force", ref], capture_output=True, check=False)
        final = self.archive(image)
        partial = final.with_suffix(".partial")
        shutil.move(str(tmp), partial)
        os.replace(partial, final)


def push_archive(
    archive: Path,
    registry_host: str,
    tags: Sequence[str],
    *,
    policy: Path | None = None,
    log: Path | None = None,
) -> None:
    """Copy an OCI archive into the registry under each tag (no TLS: loopback)."""
    base = ["skopeo"]
    if policy is not None:
        base += ["--policy", str(policy)]
    for tag in tags:
        _run(
            [
                *base,
                "copy",
                "--quiet",
                "--dest-tls-verify=false",
                f"oci-archive:{archive}",
                f"docker://{registry_host}/{tag}",
            ],
            log=log,
        )


def write_registries_conf(path: Path, registry_host: str) -> Path:
    """A ``registries.conf`` sending Docker Hub names (short or long) to ``registry_host``."""
    mirrors = "".join(
        f'\n[[registry]]\nprefix = "{prefix}"\nlocation = "{registry_host}"\ninsecure = true\n'
        for prefix in ("docker.io", "index.docker.io", "registry-1.docker.io")
    )
    path.write_text(
        'unqualified-search-registries = ["docker.io"]\n'
        'short-name-mode = "permissive"\n'
        f'\n[[registry]]\nlocation = "{registry_host}"\ninsecure = true\n' + mirrors
    )
    return path


def write_policy_json(path: Path) -> Path:
    """A signature policy accepting every image (local test images carry no signatures)."""
    path.write_text(json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
    return path


def default_cache_dir() -> Path:
    """``$DOCKFIX_TEST_IMAGE_CACHE``, else ``~/.cache/dockfix-test-images``.

    Deliberately not under ``$XDG_CACHE_HOME``: the test suite points that at a fresh
    temporary directory per run (hermetic user caches), and these archives must outlive it.
    """
    override = os.environ.get("DOCKFIX_TEST_IMAGE_CACHE")
    if override:
        return Path(override)
    return Path.home() / ".cache" / "dockfix-test-images"


REQUIRED_TOOLS: dict[str, str] = {
    "buildah": "buildah",
    "skopeo": "skopeo",
    "mmdebstrap": "mmdebstrap",
}


def missing_parts() -> list[str]:
    """What this machine lacks for the build environment (empty when complete)."""
    missing = [
        f"{tool} (apt-get install {pkg})"
        for tool, pkg in REQUIRED_TOOLS.items()
        if shutil.which(tool) is None
    ]
    if not any(_is_static_busybox(p) for p in BUSYBOX_CANDIDATES):
        missing.append("static busybox (apt-get install busybox-static)")
    if os.geteuid() != 0:
        missing.append("root (buildah --isolation chroot and mmdebstrap --mode=root need it)")
    return missing
