"""The distributions' package managers (apt, apk, dnf, yum, microdnf, zypper), for DF101 to
DF105, and the cross-compilation wrappers that run them."""

from __future__ import annotations

from typing import NamedTuple


class SystemPackageManager(NamedTuple):
    """A distribution's package manager (``apt`` covers ``apt-get``, ``apt`` and ``aptitude``)."""

    name: str  # "apt"
    family: str  # managers sharing an index and configuration: "apt", "apk", "dnf", "zypper"
    programs: tuple[str, ...]  # argv[0] after the directory is removed
    refresh: tuple[str, ...]  # subcommands that download the package index
    installs: tuple[str, ...]  # subcommands that install (they read the index, fill the cache)
    index_readers: tuple[str, ...]  # other subcommands that read the index
    reader_programs: tuple[str, ...]  # companion programs that read the index (``apt-cache``)
    lists_dirs: tuple[str, ...]  # the downloaded index, when it lives apart from the cache
    cache_dirs: tuple[str, ...]  # downloaded packages and metadata left after an install
    mount_targets: tuple[str, ...]  # what a cache mount covers (DF104)
    state_dirs: tuple[str, ...]  # configuration and state the index depends on
    clean: str  # the command that empties the cache after an install ("" for apt: rm the lists)
    clean_words: tuple[tuple[str, ...], ...]  # subcommand words that empty the cache
    lists_clean_words: tuple[str, ...]  # subcommands that remove the lists too (apt >= 2.7)
    no_cache_options: tuple[str, ...]  # options that keep nothing in the cache
    refresh_options: tuple[str, ...]  # options of an install that refresh the index first
    cache_only_options: tuple[str, ...]  # options that run from the cache alone
    hadolint_rule: str  # the rule a kept cache violates


_APT_INSTALLS = (
    "install",
    "upgrade",
    "dist-upgrade",
    "full-upgrade",
    "build-dep",
    "source",
    "download",
    "reinstall",
    "satisfy",
)
_DNF_INSTALLS = (
    "install",
    "in",
    "reinstall",
    "localinstall",
    "groupinstall",
    "upgrade",
    "update",
    "builddep",
)
_DNF_STATE = (
    "/etc/yum.repos.d",
    "/etc/dnf",
    "/etc/yum",
    "/var/cache/dnf",
    "/var/cache/yum",
)
_YUM_CACHE = ("/var/cache/yum", "/var/cache/dnf")


def _rpm(name: str, installs: tuple[str, ...], cache_dirs: tuple[str, ...]) -> SystemPackageManager:
    return SystemPackageManager(
        name=name,
        family="dnf",
        programs=(name,),
        refresh=("makecache",),
        installs=installs,
        index_readers=(),
        reader_programs=(),
        lists_dirs=(),
        cache_dirs=cache_dirs,
        mount_targets=(),
        state_dirs=_DNF_STATE,
        clean=f"{name} clean all",
        clean_words=(("clean", "all"),),
        lists_clean_words=(),
        no_cache_options=(),
        refresh_options=(),
        cache_only_options=("-C", "--cacheonly"),
        hadolint_rule="DL3032" if name == "yum" else "DL3040",
    )


SYSTEM_PACKAGE_MANAGERS: tuple[SystemPackageManager, ...] = (
    SystemPackageManager(
        name="apt",
        family="apt",
        programs=("apt-get", "apt", "aptitude"),
        refresh=("update",),
        installs=_APT_INSTALLS,
        index_readers=(),
        reader_programs=("apt-cache", "apt-file"),  # any subcommand
        lists_dirs=("/var/lib/apt/lists",),
        cache_dirs=("/var/cache/apt",),
        # /var/lib/apt: the lists and the lock apt takes beside them.
        mount_targets=("/var/cache/apt", "/var/lib/apt"),
        state_dirs=("/etc/apt", "/var/lib/apt", "/var/cache/apt"),
        clean="",
        clean_words=(("clean",),),
        lists_clean_words=("distclean", "dist-clean"),
        no_cache_options=(),
        refresh_options=(),
        cache_only_options=(),
        hadolint_rule="DL3009",
    ),
    SystemPackageManager(
        name="apk",
        family="apk",
        programs=("apk",),
        refresh=("update",),
        installs=("add", "upgrade", "fix"),
        index_readers=("search", "info", "policy", "version", "fetch", "dot", "list"),
        reader_programs=(),
        lists_dirs=(),
        # /etc/apk/cache is the link that turns the cache on.
        cache_dirs=("/var/cache/apk", "/etc/apk/cache"),
        mount_targets=("/var/cache/apk",),
        state_dirs=("/etc/apk", "/var/cache/apk", "/lib/apk"),
        clean="",
        clean_words=(("cache", "clean"),),
        lists_clean_words=(),
        no_cache_options=("--no-cache",),
        refresh_options=("-U", "--update", "--update-cache"),
        cache_only_options=(),
        hadolint_rule="DL3019",
    ),
    _rpm("dnf", _DNF_INSTALLS, ("/var/cache/dnf", "/var/cache/yum", "/var/cache/libdnf5")),
    _rpm("yum", _DNF_INSTALLS, _YUM_CACHE),
    _rpm("microdnf", ("install", "reinstall", "upgrade", "update"), _YUM_CACHE),
    SystemPackageManager(
        name="zypper",
        family="zypper",
        programs=("zypper",),
        refresh=("refresh", "ref"),
        installs=(
            "install",
            "in",
            "update",
            "up",
            "patch",
            "dist-upgrade",
            "dup",
            "source-install",
            "si",
        ),
        index_readers=(),
        reader_programs=(),
        lists_dirs=(),
        cache_dirs=("/var/cache/zypp",),
        mount_targets=(),
        state_dirs=("/etc/zypp", "/var/cache/zypp"),
        clean="zypper clean --all",
        clean_words=(("clean",), ("cc",)),
        lists_clean_words=(),
        no_cache_options=(),
        refresh_options=(),
        cache_only_options=(),
        hadolint_rule="DL3036",
    ),
)

SYSTEM_BY_NAME = {m.name: m for m in SYSTEM_PACKAGE_MANAGERS}
_BY_PROGRAM = {p: m for m in SYSTEM_PACKAGE_MANAGERS for p in (*m.programs, *m.reader_programs)}


def system_manager(program: str) -> SystemPackageManager | None:
    """The distribution package manager a program belongs to (``apt-cache`` is apt's)."""
    return _BY_PROGRAM.get(program)


# tonistiigi/xx's wrappers run the tool for the target platform (`xx-apk` in the target's root,
# `xx-go` with GOOS/GOARCH set): the same programs, reading and filling the same caches.
CROSS_WRAPPERS = {
    "xx-apk": "apk",
    "xx-apt": "apt",
    "xx-apt-get": "apt-get",
    "xx-cargo": "cargo",
    "xx-go": "go",
}
