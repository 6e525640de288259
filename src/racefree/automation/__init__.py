"""The course module's automation system, race-free with and without the GIL.

Components a worker service can use directly: :class:`Metrics` (lock-free
totals, a consistent immutable :meth:`Metrics.snapshot`), :class:`ConfigStore`
(read-mostly configuration whose reads never wait), :class:`TaskRegistry`
(tasks with per-type counts and ``register_if_absent``), the
:class:`TaskProcessor` protocol with :class:`SafeProcessor`, the parameterised
:class:`Workload` simulation, and Prometheus exposition
(:class:`MetricsCollector`, :func:`serve_metrics`; ``prometheus_client`` is
imported only when used).
"""

from racefree.automation.config import ConfigStats, ConfigStore
from racefree.automation.exposition import MetricsCollector, MetricsServer, serve_metrics
from racefree.automation.metrics import Metrics, MetricsSnapshot
from racefree.automation.processor import ProcessingError, ProcessorStats, SafeProcessor, TaskProcessor
from racefree.automation.registry import RegisteredTask, TaskRegistry
from racefree.automation.workload import (
    DEFAULT_TASK_TYPES,
    INITIAL_CONFIG,
    MonitorSample,
    Workload,
    WorkloadExpectation,
    WorkloadResult,
)

__all__ = [
    "DEFAULT_TASK_TYPES",
    "INITIAL_CONFIG",
    "ConfigStats",
    "ConfigStore",
    "Metrics",
    "MetricsCollector",
    "MetricsServer",
    "MetricsSnapshot",
    "MonitorSample",
    "ProcessingError",
    "ProcessorStats",
    "RegisteredTask",
    "SafeProcessor",
    "TaskProcessor",
    "TaskRegistry",
    "Workload",
    "WorkloadExpectation",
    "WorkloadResult",
    "serve_metrics",
]
