"""Rust crates that link a system library of the full `rust` image: used by the toolchain
split (DF302) to keep the finding display-only when the distroless runtime would lack it.

The `rust:<version>` and `rust:<version>-<release>` images are built on buildpack-deps, which
ships the `-dev` packages of PostgreSQL, MySQL, SQLite and curl: a `-sys` crate finds the
system library there (pkg-config) and links it dynamically, and the binary then fails to
start on `gcr.io/distroless/cc` ("error while loading shared libraries: libpq.so.5"). The
`-slim` and Alpine tags have no such library: a build that needs one installs it itself,
which DF302 already reads.
"""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dockfix.fixers._context_files import ContextFiles

# crate → (the library it links, lock-file packages or Cargo.toml features that build the
# library into the binary instead: pq-src, sqlx's default bundled SQLite, `bundled`…)
_SYSTEM_LINKED = {
    "pq-sys": ("libpq", ("pq-src",), ()),
    "mysqlclient-sys": ("libmysqlclient", ("mysqlclient-src",), ()),
    "libsqlite3-sys": ("libsqlite3", ("sqlx-sqlite",), ("bundled", "bundled-full")),
    "curl-sys": ("libcurl", (), ("static-curl",)),
}
_LOCKED_NAME = re.compile(r'(?m)^name = "([^"]+)"')


def linked_library_problem(files: ContextFiles, project: str, tag: str) -> str | None:
    """Why a Rust binary built on the full `rust` image ``tag`` would miss a shared library
    on distroless: its `Cargo.lock` (or `Cargo.toml`, without a lock) names a `-sys` crate
    that links one of the image's system libraries."""
    if "slim" in tag or "alpine" in tag:
        return None
    lock = files.text(posixpath.join(project, "Cargo.lock"))
    manifest = files.text(posixpath.join(project, "Cargo.toml")) or ""
    if lock is not None:
        crates = set(_LOCKED_NAME.findall(lock))
        source = "Cargo.lock"
    else:
        crates = {name for name in _SYSTEM_LINKED if name in manifest}
        if re.search(r"(?m)^diesel\b.*\b(postgres|mysql)\b", manifest):
            crates.add("pq-sys" if "postgres" in manifest else "mysqlclient-sys")
        source = "Cargo.toml"
    features = set(re.findall(r"[\"']([\w-]+)[\"']", manifest))
    for crate, (library, built_in, bundled) in _SYSTEM_LINKED.items():
        if crate not in crates or crates & set(built_in) or features & set(bundled):
            continue
        return (
            f"{source} lists `{crate}`, which links the `rust:{tag}` image's `{library}`; "
            "the distroless runtime does not have it"
        )
    return None
