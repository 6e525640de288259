"""Suite-wide checks.

On the free-threaded run (``RACEFREE_REQUIRE_GIL_DISABLED=1``, set by
``dev.py test`` for a ``--disable-gil`` interpreter) the session fails if the
GIL is enabled at start or was turned back on by an import during the run: a C
extension without free-threading support does that silently, and then the
stress tests would prove nothing.
"""

from __future__ import annotations

import os
import sys

import pytest

from racefree._build import gil_enabled as _gil_enabled  # one definition (_build)

REQUIRE_GIL_DISABLED = os.environ.get("RACEFREE_REQUIRE_GIL_DISABLED") == "1"


def pytest_report_header(config: pytest.Config) -> str:
    return f"racefree: GIL enabled={_gil_enabled()}, require disabled={REQUIRE_GIL_DISABLED}"


def pytest_sessionstart(session: pytest.Session) -> None:
    if REQUIRE_GIL_DISABLED and _gil_enabled():
        raise pytest.UsageError("free-threaded run, but the GIL is enabled at session start")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if REQUIRE_GIL_DISABLED and _gil_enabled():
        sys.stderr.write("\nERROR: an import re-enabled the GIL during the free-threaded run\n")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
