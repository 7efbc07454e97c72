"""The build backend: setuptools', plus mypy when a compiled build is asked for.

``DOCKFIX_COMPILE=1 pip install .`` compiles dockfix's hot modules to C with mypyc (see
``setup.py``); mypyc ships inside mypy, so the isolated build environment needs it then, and
only then. Every other hook is setuptools' own.
"""

from __future__ import annotations

import os

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403  (the other PEP 517 hooks, unchanged)

# The mypy that compiled the build CI tests; a newer one may compile differently.
MYPY = "mypy==2.4.1"


def _compile_requested() -> bool:
    return os.environ.get("DOCKFIX_COMPILE", "") not in ("", "0")


def get_requires_for_build_wheel(config_settings=None):  # type: ignore[no-untyped-def]
    if not _compile_requested():
        return _setuptools.get_requires_for_build_wheel(config_settings)
    # setuptools would run setup.py to find out, and setup.py needs mypyc to run; it has no
    # setup_requires, so mypy is all there is to add to [build-system] requires.
    return [MYPY]
