"""Fixtures shared by unit tests of several packages."""

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def promtool() -> str:
    """promtool's path; a clear failure, not a skip, when it is missing.

    promtool (Prometheus 2.42) is the reference for PromQL and rule test semantics.
    """
    found = shutil.which("promtool") or (
        "/usr/bin/promtool" if Path("/usr/bin/promtool").exists() else None
    )
    if found is None:
        pytest.fail(
            "promtool is not installed: it is the reference for rule semantics. Install Debian's "
            "'prometheus' package (deploy/local/install-system-deps.sh does, as root)."
        )
    return found
