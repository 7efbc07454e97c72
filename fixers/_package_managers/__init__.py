"""What dockfix knows about package managers, in one place every fixer asks.

- ``installers``: ``PACKAGE_MANAGERS``, the dependency installers (pip, npm, Cargo …) of DF101
  and DF104: which commands install, which project files they read, which flags keep the lock
  file, what they write in the project, where they cache and what turns the cache off;
- ``commands``: which of those tools a command runs, and whether it installs (``match_command``);
- ``system``: ``SYSTEM_PACKAGE_MANAGERS``, the distributions' package managers (apt, apk, dnf,
  yum, microdnf, zypper) of DF101 to DF105: which commands refresh the index, install, read it
  or clean up, where the lists and caches are, the options that skip or refresh them; and the
  cross-compilation wrappers that run them (tonistiigi/xx);
- ``pins``: which packages an install command names without a version, as hadolint reads it
  (DF106, DF108);
- ``yarn``: which Yarn a project runs (Yarn 1 and Yarn 2+ share only the name).

Data and small pure functions only: the rules that read a Dockerfile stay with the fixers.
"""

from dockfix.fixers._package_managers.commands import (
    PIP_PROGRAM,
    PYTHON_PROGRAM,
    InstallMatch,
    match_command,
    truthy,
)
from dockfix.fixers._package_managers.installers import PACKAGE_MANAGERS, PackageManager
from dockfix.fixers._package_managers.pins import (
    PIN_RULES,
    PinRule,
    UnpinnedInstall,
    unpinned_install,
)
from dockfix.fixers._package_managers.system import (
    CROSS_WRAPPERS,
    SYSTEM_BY_NAME,
    SYSTEM_PACKAGE_MANAGERS,
    SystemPackageManager,
    system_manager,
)
from dockfix.fixers._package_managers.yarn import (
    YarnRelease,
    yarn_global_cache,
    yarn_release,
    yarn_switch,
)

__all__ = [
    "CROSS_WRAPPERS",
    "PACKAGE_MANAGERS",
    "PIN_RULES",
    "PIP_PROGRAM",
    "PYTHON_PROGRAM",
    "SYSTEM_BY_NAME",
    "SYSTEM_PACKAGE_MANAGERS",
    "InstallMatch",
    "PackageManager",
    "PinRule",
    "SystemPackageManager",
    "UnpinnedInstall",
    "YarnRelease",
    "match_command",
    "system_manager",
    "truthy",
    "unpinned_install",
    "yarn_global_cache",
    "yarn_release",
    "yarn_switch",
]
