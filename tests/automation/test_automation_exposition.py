"""Prometheus exposition: the collector's families and values, and the loopback HTTP endpoint."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from racefree.automation import Metrics, MetricsCollector, serve_metrics


def _metrics() -> Metrics:
    m = Metrics()
    m.register_worker(1)
    for t in ("email", "email", "db"):
        m.record_task(t, 100)
    m.increment_errors()
    return m


def test_collector_exposes_every_figure() -> None:
    registry = CollectorRegistry()
    registry.register(MetricsCollector(_metrics()))
    text = generate_latest(registry).decode()
    assert "racefree_tasks_processed_total 3.0" in text
    assert "racefree_errors_total 1.0" in text
    assert "racefree_bytes_processed_total 300.0" in text
    assert "racefree_requests_total 3.0" in text
    assert 'racefree_tasks_by_type_total{type="email"} 2.0' in text
    assert 'racefree_tasks_by_type_total{type="db"} 1.0' in text
    assert "racefree_active_workers 1.0" in text
    assert "racefree_last_activity_timestamp_seconds" in text


def test_collector_reads_live_values_at_each_scrape() -> None:
    m = Metrics()
    registry = CollectorRegistry()
    registry.register(MetricsCollector(m, namespace="svc"))
    assert "svc_tasks_processed_total 0.0" in generate_latest(registry).decode()
    m.record_task("x")
    assert "svc_tasks_processed_total 1.0" in generate_latest(registry).decode()


def test_http_endpoint_on_loopback_serves_and_stops() -> None:
    server = serve_metrics(_metrics())  # defaults: 127.0.0.1, an ephemeral port, a private registry
    try:
        host, port = server.address
        assert host == "127.0.0.1" and port > 0
        with urllib.request.urlopen(server.url, timeout=5) as response:
            body = response.read().decode()
        assert "racefree_tasks_processed_total 3.0" in body
    finally:
        server.close()
    server.close()  # idempotent


def test_http_endpoint_as_context_manager_uses_the_given_registry() -> None:
    registry = CollectorRegistry()
    with serve_metrics(_metrics(), registry=registry, namespace="ctx") as server:
        url = server.url
        with urllib.request.urlopen(url, timeout=5) as response:
            assert "ctx_requests_total 3.0" in response.read().decode()
    assert "ctx_requests_total 3.0" in generate_latest(registry).decode()
    with pytest.raises(urllib.error.URLError):  # closed: the port no longer accepts
        urllib.request.urlopen(url, timeout=5)
