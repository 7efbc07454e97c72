"""DF201's reasons to stay root: the pre-filter that spares most COPYs the WORKDIR lookup when
looking for the entrypoint script must never drop a COPY that puts the script there."""

from __future__ import annotations

import itertools
import posixpath

from dockfix.fixers._root_reasons import _may_land_on

WORKDIRS = ["/", "/app", "/srv/app/", "//x"]
SOURCES = ["run.sh", "bin/run.sh", "dir/", "dir/.", "dir/..", ".", "./run.sh", "other.sh"]
DESTS = [
    "/run.sh",
    "run.sh",
    "./",
    ".",
    "..",
    "../run.sh",
    "/usr/local/bin/",
    "bin/",
    "/",
    "a/..",
    "bin/run.sh/",
    "/app/run.sh",
    "x/../run.sh",
    "",
]
PROGRAMS = ["/run.sh", "./run.sh", "run.sh", "/usr/local/bin/run.sh", "/app", "/app/.", ".."]


def _lands(src: str, dest: str, wd: str) -> str:
    """Where entrypoint_script places a copied source (its own computation, unfiltered)."""
    dest_abs = posixpath.join(wd, dest) if not dest.startswith("/") else dest
    full = dest_abs.rstrip("/") + "/" + posixpath.basename(src) if dest.endswith("/") else dest_abs
    return posixpath.normpath(full)


def test_no_copy_that_lands_on_the_program_is_filtered_out() -> None:
    for prog, wd in itertools.product(PROGRAMS, WORKDIRS):
        target = posixpath.normpath(posixpath.join(wd, prog))
        names = {posixpath.basename(target)}
        for k in (1, 2):
            for sources in itertools.permutations(SOURCES, k):
                for dest in DESTS:
                    if any(_lands(s, dest, wd) == target for s in sources):
                        assert _may_land_on(list(sources), dest, names), (prog, wd, sources, dest)


def test_the_usual_copy_is_filtered_out() -> None:
    assert not _may_land_on(["requirements.txt"], "./", {"boot.sh"})
    assert not _may_land_on(["app"], "app", {"boot.sh"})
    assert _may_land_on(["microblog.py", "boot.sh"], "./", {"boot.sh"})
