from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

# A fixer that raises fails the test instead of being skipped with a warning.
os.environ["DOCKFIX_STRICT"] = "1"
# Hermetic: the digest cache (and any other user cache) of the developer never leaks in.
# A TemporaryDirectory removes itself when the test process exits.
_TEST_CACHE = tempfile.TemporaryDirectory(prefix="dockfix-test-cache-")
os.environ["XDG_CACHE_HOME"] = _TEST_CACHE.name

# tests import their helpers (buildkit_oracle, fixture_cases) as top-level modules
sys.path.insert(0, str(Path(__file__).parent))
