from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

# A fixer that raises fails the test instead of being skipped with a warning.
os.environ["DOCKFIX_STRICT"] = "1"
# Hermetic: the digest cache (and any other user cache) of the developer never leaks in.
# A TemporaryDirectory removes itself when the test process exits.
_TEST_CACHE = tempfile.TemporaryDirectory(prefix="dockfix-test-cache-")
os.environ["XDG_CACHE_HOME"] = _TEST_CACHE.name

# tests import their helpers (buildkit_oracle, fixture_cases) as top-level modules
sys.path.insert(0, str(Path(__file__).parent))



def pytest_unconfigure(config: Any) -> None:
    """One line, the session's last, when tests were skipped because Debian packages are
    missing: which, and the command that installs them (the README's test command installs
    Python packages only)."""
    from support.system_packages import summary_line

    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    skipped = reporter.stats.get("skipped", [])
    line = summary_line([str(getattr(report, "longrepr", "")) for report in skipped])
    if line is not None:
        reporter.write_line(line, yellow=True, bold=True)
