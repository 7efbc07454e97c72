"""Facts and checks behind DF304: the official image's `-slim` variant, which Debian
packages only build wheels, which runtime library each `-dev` package was for, which install
flags leave a virtual environment, and which dependencies need the full image's libraries.

The tables are Debian's package names. A `-dev` package that is not listed makes DF304's fix
display-only: guessing a runtime library would build an image that fails at import time.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

from dockfix.fixers._build_steps import run_steps
from dockfix.fixers._lazy import lazy_re
from dockfix.fixers._package_managers import match_command
from dockfix.syntax import env_pairs

if TYPE_CHECKING:
    from dockfix.semantics.context import FixContext
    from dockfix.syntax import Dockerfile, Instruction, Stage

# Needed only to compile wheels: the runtime stage drops them.
BUILD_ONLY = frozenset(
    {
        "build-essential",
        "gcc",
        "g++",
        "cpp",
        "make",
        "cmake",
        "ninja-build",
        "clang",
        "binutils",
        "pkg-config",
        "pkgconf",
        "autoconf",
        "automake",
        "libtool",
        "swig",
        "gfortran",
        "cargo",
        "rustc",
        "git",
        "dpkg-dev",
        "python3-dev",
        "python-dev-is-python3",
        "libpython3-dev",
        "libc6-dev",
        "linux-libc-dev",
    }
)
# Programs of those packages: a RUN or start command that calls one needs the builder.
BUILD_PROGRAMS = frozenset(
    {"gcc", "cc", "g++", "c++", "make", "cmake", "ninja", "clang", "git", "cargo", "rustc"}
)
# Programs of the full image (buildpack-deps) that `-slim` lacks, used by health checks and
# start scripts.
FULL_IMAGE_TOOLS = frozenset({"curl", "wget", "git", "make", "gcc", "unzip", "ssh", "convert"})
# `-dev` packages whose runtime library every official python image already has (the
# interpreter links them: ssl, ctypes, zlib, bz2, lzma, sqlite3, readline, uuid, expat).
PROVIDED_BY_PYTHON = frozenset(
    {
        "libssl-dev",
        "libffi-dev",
        "zlib1g-dev",
        "libbz2-dev",
        "liblzma-dev",
        "libsqlite3-dev",
        "libreadline-dev",
        "libncurses-dev",
        "libncurses5-dev",
        "libncursesw5-dev",
        "uuid-dev",
        "libexpat1-dev",
        "libgdbm-dev",
    }
)
# `-dev` package -> the runtime libraries it was for, the same name on Debian 11, 12 and 13.
DEV_RUNTIME: dict[str, tuple[str, ...]] = {
    "libpq-dev": ("libpq5",),
    "libjpeg-dev": ("libjpeg62-turbo",),
    "libjpeg62-turbo-dev": ("libjpeg62-turbo",),
    "libxml2-dev": ("libxml2",),
    "libxslt1-dev": ("libxslt1.1",),
    "libxslt-dev": ("libxslt1.1",),
    "libfreetype-dev": ("libfreetype6",),
    "libfreetype6-dev": ("libfreetype6",),
    "liblcms2-dev": ("liblcms2-2",),
    "libopenjp2-7-dev": ("libopenjp2-7",),
    "libmariadb-dev": ("libmariadb3",),
    "libmariadb-dev-compat": ("libmariadb3",),
    "default-libmysqlclient-dev": ("libmariadb3",),
    "libsasl2-dev": ("libsasl2-2",),
    "libkrb5-dev": ("libkrb5-3", "libgssapi-krb5-2"),
    "libyaml-dev": ("libyaml-0-2",),
    "libzmq3-dev": ("libzmq5",),
    "libcairo2-dev": ("libcairo2",),
    "libsnappy-dev": ("libsnappy1v5",),
    "libgmp-dev": ("libgmp10",),
    "libsodium-dev": ("libsodium23",),
    "libharfbuzz-dev": ("libharfbuzz0b",),
    "libfribidi-dev": ("libfribidi0",),
    "libimagequant-dev": ("libimagequant0",),
    "libxcb1-dev": ("libxcb1",),
}
# Runtime libraries renamed between Debian releases (new soname, or Debian 13's 64-bit
# time_t rename): the right name needs the release, which only a tag like `-bookworm` names.
DEV_RUNTIME_BY_RELEASE: dict[str, dict[str, tuple[str, ...]]] = {
    "libpng-dev": {
        "bullseye": ("libpng16-16",),
        "bookworm": ("libpng16-16",),
        "trixie": ("libpng16-16t64",),
    },
    "libmagic-dev": {
        "bullseye": ("libmagic1",),
        "bookworm": ("libmagic1",),
        "trixie": ("libmagic1t64",),
    },
    "libldap2-dev": {
        "bullseye": ("libldap-2.4-2",),
        "bookworm": ("libldap-2.5-0",),
        "trixie": ("libldap2",),
    },
    "libldap-dev": {
        "bullseye": ("libldap-2.4-2",),
        "bookworm": ("libldap-2.5-0",),
        "trixie": ("libldap2",),
    },
    "libcurl4-openssl-dev": {
        "bullseye": ("libcurl4",),
        "bookworm": ("libcurl4",),
        "trixie": ("libcurl4t64",),
    },
    "libgeos-dev": {
        "bullseye": ("libgeos-c1v5",),
        "bookworm": ("libgeos-c1v5",),
        "trixie": ("libgeos-c1t64",),
    },
    "libtiff-dev": {"bullseye": ("libtiff5",), "bookworm": ("libtiff6",), "trixie": ("libtiff6",)},
    "libwebp-dev": {
        "bullseye": ("libwebp6", "libwebpdemux2", "libwebpmux3"),
        "bookworm": ("libwebp7", "libwebpdemux2", "libwebpmux3"),
        "trixie": ("libwebp7", "libwebpdemux2", "libwebpmux3"),
    },
    "unixodbc-dev": {"bullseye": ("libodbc1",), "bookworm": ("libodbc2",), "trixie": ("libodbc2",)},
}
DEBIAN_RELEASES = ("bullseye", "bookworm", "trixie")

_TAG = lazy_re(r"(?P<version>\d+(?:\.\d+){0,2})(?P<slim>-slim)?(?:-(?P<release>[a-z]+))?")
_REQUIREMENT_NAME = lazy_re(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", re.M)


class RuntimeBase(NamedTuple):
    """The `-slim` variant of an official python image, as the FROM line writes it."""

    text: str  # the image reference for the runtime FROM, variables kept as written
    release: str | None  # Debian release the tag names, else None


def slim_variant(written: str, expanded: str) -> RuntimeBase | str:
    """The runtime image for a builder `FROM python:<tag>`: ``written`` is the reference as
    the file has it (``python:${PY}``), ``expanded`` the same with ARG defaults applied.
    A string says why there is none."""
    repo, _, tag = expanded.rpartition(":")
    if "@" in expanded:
        return f"`{expanded}` is pinned by digest; the digest of its -slim variant is unknown"
    if not repo or "/" in repo.replace("docker.io/library/", "").replace("library/", ""):
        return f"`{expanded}` is not the official `python` image"
    m = _TAG.fullmatch(tag)
    if m is None or (m.group("release") and m.group("release") not in DEBIAN_RELEASES):
        return (
            f"the tag `{tag}` does not name a Python version on Debian (e.g. `3.12`, "
            "`3.12-bookworm`), so its -slim variant cannot be derived"
        )
    release = m.group("release")
    if m.group("slim"):
        return RuntimeBase(written, release)
    w_repo, _, w_tag = written.rpartition(":")
    suffix = f"-{release}" if release else ""
    if suffix and w_tag.endswith(suffix):
        return RuntimeBase(f"{w_repo}:{w_tag[: -len(suffix)]}-slim{suffix}", release)
    if not suffix:
        return RuntimeBase(f"{w_repo}:{w_tag}-slim", release)
    return (
        f"the tag `{w_tag}` names its Debian release inside a variable; the -slim variant "
        "cannot be written around it"
    )


def runtime_packages(dev: str, release: str | None) -> tuple[str, ...] | str:
    """Runtime libraries for a `-dev` package, or why they are unknown."""
    if dev in PROVIDED_BY_PYTHON:
        return ()
    if dev in DEV_RUNTIME:
        return DEV_RUNTIME[dev]
    by_release = DEV_RUNTIME_BY_RELEASE.get(dev)
    if by_release is None:
        return (
            f"`{dev}` is not in DF304's table of runtime libraries, so the library the "
            "compiled packages need at run time is unknown"
        )
    if release is None:
        names = " / ".join(dict.fromkeys(n for v in by_release.values() for n in v))
        return (
            f"the runtime library of `{dev}` is named differently across Debian releases "
            f"({names}) and the image tag does not name its release (`-bookworm`, `-trixie`)"
        )
    return by_release[release]


def is_build_only(package: str) -> bool:
    return package in BUILD_ONLY or package.endswith("-dev")


def requirement_names(text: str) -> set[str]:
    """Distribution names, normalised, from a requirements file or a lock file's text."""
    names = {m.group(1) for m in _REQUIREMENT_NAME.finditer(text)}
    names |= set(re.findall(r'name\s*=\s*"([A-Za-z0-9._-]+)"', text))
    names |= set(re.findall(r'^\s*"?([A-Za-z0-9._-]+)"?\s*[:=]', text, re.M))
    return {re.sub(r"[._]+", "-", n).lower() for n in names}


# Python distributions that link or load a system library (or run a program of the full
# image), and the Debian packages (build or runtime) whose presence in the file's
# `apt-get install` shows it is accounted for.
SYSTEM_LIBRARY_PACKAGES: dict[str, tuple[str, ...]] = {
    "psycopg2": ("libpq-dev", "libpq5"),
    # psycopg 3 loads libpq.so.5 with ctypes, unless psycopg-binary (`psycopg[binary]`)
    "psycopg": ("libpq5", "libpq-dev"),
    "wand": ("libmagickwand-6.q16-6", "libmagickwand-dev", "imagemagick"),
    "gitpython": ("git",),
    "python-gnupg": ("gnupg", "gpg"),
    "mysqlclient": ("default-libmysqlclient-dev", "libmariadb-dev", "libmariadb3"),
    "python-ldap": ("libldap2-dev", "libldap-dev"),
    "pycurl": ("libcurl4-openssl-dev",),
    "pyodbc": ("unixodbc-dev", "libodbc2", "unixodbc"),
    "uwsgi": ("libpcre2-dev", "libpcre3-dev", "libxml2-dev"),
    "gdal": ("libgdal-dev",),
    "pygraphviz": ("libgraphviz-dev",),
    "cairocffi": ("libcairo2", "libcairo2-dev"),
    "cairosvg": ("libcairo2", "libcairo2-dev"),
    "weasyprint": ("libpango-1.0-0", "libpangoft2-1.0-0"),
    "python-magic": ("libmagic1", "libmagic-dev"),
    "pyvips": ("libvips42", "libvips-dev"),
    "mod-wsgi": ("apache2-dev",),
    "python-snappy": ("libsnappy-dev", "libsnappy1v5"),
}


def system_library_problem(names: set[str], apt: set[str], image: str) -> str | None:
    """A dependency that needs a system library the full image has and `-slim` lacks."""
    for dist, debs in sorted(SYSTEM_LIBRARY_PACKAGES.items()):
        if dist in names and not apt & set(debs):
            return (
                f"`{dist}` uses a system library or program that `{image}` ships and the "
                f"-slim image lacks, and no `apt-get install` names it (`{debs[0]}`)"
            )
    return None


def dist_name(word: str) -> str:
    for sep in ("==", ">=", "<=", "~=", "<", ">", "[", "="):
        word = word.split(sep, 1)[0]
    return word.lower()


def venv_target(argv: list[str]) -> str | None:
    """The directory a `python -m venv X` / `virtualenv X` / `uv venv X` creates."""
    program = argv[0].rsplit("/", 1)[-1]
    rest: list[str] = []
    if program.startswith("python") and argv[1:3] == ["-m", "venv"]:
        rest = argv[3:]
    elif program == "virtualenv":
        rest = argv[1:]
    elif program == "uv" and argv[1:2] == ["venv"]:
        rest = argv[2:] or [".venv"]
    else:
        return None
    targets = [w for w in rest if not w.startswith("-")]
    return targets[-1] if targets else None


def runtime_libraries(packages: list[str], release: str | None) -> list[str] | str:
    """The Debian packages the runtime stage installs instead of ``packages``, or why unknown."""
    out: list[str] = []
    for p in packages:
        name = p.split("=")[0]
        if not is_build_only(name):
            out.append(p)
            continue
        if name in BUILD_ONLY:
            continue  # compilers, `git`, the interpreter's own headers
        if "=" in p:
            return f"`{p}` is pinned; the version of its runtime library cannot be derived"
        libs = runtime_packages(name, release)
        if isinstance(libs, str):
            return libs
        out += libs
    return list(dict.fromkeys(out))


def full_base_problem(expanded: str, packages: list[str], ctx: FixContext) -> str | None:
    """On a full `python` base, the service may link libraries the image brought itself."""
    tag = expanded.rpartition(":")[2]
    if "slim" in tag:
        return None
    names: set[str] = set()
    for rel in ctx.list_dir("") if ctx.has_context else []:
        low = rel.lower()
        if (low.startswith("requirements") and low.endswith((".txt", ".in"))) or rel in (
            "pyproject.toml",
            "poetry.lock",
            "uv.lock",
            "Pipfile",
            "Pipfile.lock",
        ):
            text = ctx.read_text(rel) or ""
            names |= requirement_names(text)
            if re.search(r"(?i)\bpsycopg\[[^\]]*\bbinary\b", text):
                names.add("psycopg-binary")
    if "psycopg-binary" in names:
        names.discard("psycopg")  # libpq is in the binary package's wheel
    if not names:
        return (
            f"on the full `{expanded}` image the dependencies may link libraries it ships "
            "and `-slim` lacks, and no dependency list (requirements*.txt, pyproject.toml, "
            "a lock file) could be read from the build context to check"
        )
    return system_library_problem(names, {p.split("=")[0] for p in packages}, expanded)


def full_base_tools_problem(
    expanded: str, after: list[Instruction], packages: list[str]
) -> str | None:
    """The full image's tools that `-slim` lacks, used after the install (a HEALTHCHECK's
    `curl`) without an `apt-get install` of their own."""
    if "slim" in expanded.rpartition(":")[2]:
        return None
    installed = {p.split("=")[0] for p in packages}
    for i in after:
        if i.keyword not in ("RUN", "CMD", "ENTRYPOINT", "HEALTHCHECK"):
            continue
        words = set(i.logical[i.args_start :].replace('"', " ").replace(",", " ").split())
        for tool in sorted(words & FULL_IMAGE_TOOLS):
            if tool not in installed:
                return (
                    f"`{tool}` at line {i.start_line} comes with the full `{expanded}` image; "
                    f"the -slim image has it only with an `apt-get install {tool}`"
                )
    return None


def install_problem(args: list[str], manager: str, line: int) -> str:
    """Why an install's flags keep the packages out of a virtual environment (else "")."""
    at = f"at line {line}"
    for flag in ("-e", "--editable"):
        if any(a == flag or a.startswith(flag + "=") for a in args):
            return f"the editable install {at} ({flag}) links the source tree, not a copy"
    for flag in ("--user", "--target", "-t", "--prefix", "--root", "--system"):
        used = any(a == flag or a.startswith(flag + "=") for a in args)
        if used and not (flag == "--system" and manager == "pipenv"):
            return f"`{flag}` {at} installs outside a virtual environment"
    return ""


def installs_into(doc: Dockerfile, stage: Stage, installs: list[Instruction], env: str) -> bool:
    """Whether every dependency install runs with the environment active (an `ENV` puts its
    `bin` on `PATH` or sets `VIRTUAL_ENV`) or calls its `pip` by path."""
    for instr in installs:
        active = any(
            (name == "PATH" and f"{env}/bin" in (value or "").split(":"))
            or (name == "VIRTUAL_ENV" and value == env)
            for i in stage.instructions[: stage.instructions.index(instr)]
            if i.keyword == "ENV"
            for name, value in env_pairs(i)
        )
        for c in run_steps(doc, stage, instr) or []:
            argv = [w or "" for w in c.argv]
            by_path = bool(argv) and argv[0].startswith(f"{env}/bin/")
            if argv and match_command(argv) and not (active or by_path):
                return False
    return True
