"""The front door: __all__ is pinned, and importing the layer stays light."""

from __future__ import annotations

import subprocess
import sys

import racefree.automation


def test_all_is_pinned() -> None:
    assert racefree.automation.__all__ == [
        "DEFAULT_TASK_TYPES", "INITIAL_CONFIG", "ConfigStats", "ConfigStore", "Metrics",
        "MetricsCollector", "MetricsServer", "MetricsSnapshot", "MonitorSample", "ProcessingError",
        "ProcessorStats", "RegisteredTask", "SafeProcessor", "TaskProcessor", "TaskRegistry",
        "Workload", "WorkloadExpectation", "WorkloadResult", "serve_metrics",
    ]
    for name in racefree.automation.__all__:
        assert hasattr(racefree.automation, name)


def test_import_does_not_pull_rich_or_prometheus_client() -> None:
    code = ("import sys, racefree.automation; "
            "print(sorted(m for m in ('rich', 'prometheus_client') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
