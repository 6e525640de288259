"""Prometheus exposition of :class:`~racefree.automation.Metrics`.

``prometheus_client`` is imported only when a function here runs, so
``import racefree.automation`` stays light.  Every scrape takes one
:meth:`Metrics.snapshot`, so the families of one scrape come from one copy.

Invariants: :class:`MetricsServer` owns its HTTP server thread; ``close`` shuts
the server down and joins the thread (idempotent, guarded by ``_lock``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from racefree.automation.metrics import Metrics

if TYPE_CHECKING:
    from prometheus_client.registry import CollectorRegistry

__all__ = ["MetricsCollector", "MetricsServer", "serve_metrics"]


class MetricsCollector:
    """A ``prometheus_client`` custom collector over one :class:`Metrics`.

    Families (with `namespace` as prefix, default ``racefree``):
    ``<ns>_tasks_processed_total``, ``<ns>_errors_total``,
    ``<ns>_bytes_processed_total``, ``<ns>_requests_total`` (counters),
    ``<ns>_tasks_by_type_total{type=...}`` (counter), ``<ns>_active_workers``
    and ``<ns>_last_activity_timestamp_seconds`` (gauges).

    Register it with ``registry.register(MetricsCollector(metrics))``.
    """

    def __init__(self, metrics: Metrics, namespace: str = "racefree") -> None:
        self.metrics = metrics
        self.namespace = namespace

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        snap = self.metrics.snapshot()
        ns = self.namespace
        for name, doc, value in (
            ("tasks_processed", "Tasks processed.", snap.tasks_processed),
            ("errors", "Tasks that failed.", snap.errors),
            ("bytes_processed", "Bytes processed.", snap.bytes_processed),
            ("requests", "Requests received.", snap.requests),
        ):
            yield CounterMetricFamily(f"{ns}_{name}", doc, value=value)
        by_type = CounterMetricFamily(f"{ns}_tasks_by_type", "Tasks processed, by task type.",
                                      labels=["type"])
        for task_type, count in sorted(snap.tasks_by_type.items()):
            by_type.add_metric([task_type], count)
        yield by_type
        yield GaugeMetricFamily(f"{ns}_active_workers", "Workers currently registered.",
                                value=len(snap.active_workers))
        yield GaugeMetricFamily(f"{ns}_last_activity_timestamp_seconds",
                                "Unix time of the last recorded task.", value=snap.last_activity)

    def describe(self) -> Iterator[Any]:
        # Same families as collect(), so registration can check for name clashes.
        return self.collect()


class MetricsServer:
    """A running ``/metrics`` HTTP endpoint; stop it with :meth:`close` (or use ``with``)."""

    def __init__(self, server: Any, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        self._lock = threading.Lock()
        self._closed = False  # guarded by _lock

    @property
    def address(self) -> tuple[str, int]:
        """The (host, port) actually bound — the port is useful when 0 was asked for."""
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{host}:{port}/metrics"

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def serve_metrics(metrics: Metrics, port: int = 0, addr: str = "127.0.0.1",
                  registry: CollectorRegistry | None = None,
                  namespace: str = "racefree") -> MetricsServer:
    """Serve `metrics` at ``http://addr:port/metrics`` from a daemon thread.

    Binds to the loopback interface unless told otherwise; ``port=0`` picks a
    free port (read it from :attr:`MetricsServer.address`).  A fresh
    ``CollectorRegistry`` is used unless `registry` is given, so the global
    default registry is never touched.
    """
    from prometheus_client import CollectorRegistry, start_http_server

    if registry is None:
        registry = CollectorRegistry(auto_describe=True)
    registry.register(MetricsCollector(metrics, namespace))
    server, thread = start_http_server(port, addr=addr, registry=registry)
    return MetricsServer(server, thread)
