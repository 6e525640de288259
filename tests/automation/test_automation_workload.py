"""Workload: the module's figures, a fast exact run, the monitor callback, errors surfaced."""

from __future__ import annotations

import threading

import pytest

from racefree.automation import (
    DEFAULT_TASK_TYPES,
    INITIAL_CONFIG,
    ConfigStore,
    Metrics,
    MonitorSample,
    Workload,
)


def test_defaults_expect_the_module_figures() -> None:
    wl = Workload()
    assert (wl.workers, wl.tasks_per_worker, wl.error_rate, wl.work_time) == (20, 100, 0.05, 0.001)
    assert (wl.monitor_interval, wl.monitor_ticks) == (0.2, 10)
    assert wl.error_every == 20
    exp = wl.expected()
    assert exp.tasks == 2000
    assert exp.errors == 100
    assert exp.bytes_processed == 2_048_000
    assert exp.requests == 2000
    assert exp.tasks_by_type == dict.fromkeys(DEFAULT_TASK_TYPES, 400)
    assert exp.config_reads == 400


def test_expectation_for_uneven_parameters() -> None:
    exp = Workload(workers=3, tasks_per_worker=7, task_types=("a", "b", "c"), error_rate=0.25,
                   config_read_every=3).expected()
    assert exp.tasks_by_type == {"a": 9, "b": 6, "c": 6}  # j = 0,3,6 / 1,4 / 2,5
    assert exp.errors == 3 * 2  # j = 0 and 4 in each worker
    assert exp.config_reads == 3 * 3 * 2  # j = 0, 3, 6; two keys each
    assert Workload(error_rate=0).expected().errors == 0


def test_a_fast_run_is_exact_and_the_monitor_reports_every_tick() -> None:
    seen: list[MonitorSample] = []
    seen_lock = threading.Lock()

    def on_sample(sample: MonitorSample) -> None:
        with seen_lock:
            seen.append(sample)

    wl = Workload(workers=6, tasks_per_worker=40, work_time=0, monitor_interval=0.01, monitor_ticks=3,
                  on_sample=on_sample)
    result = wl.run()
    assert result.mismatches() == []
    assert result.final.tasks_processed == 240
    assert result.config == INITIAL_CONFIG
    assert [s.tick for s in result.samples] == [1, 2, 3]
    assert [s.tick for s in seen] == [1, 2, 3]
    assert all(s.since_activity >= 0 for s in seen)
    assert result.samples[-1].elapsed >= 0.03


def test_run_uses_the_given_metrics_and_config() -> None:
    metrics, config = Metrics(), ConfigStore({"timeout": "1s", "batch_size": "5"})
    config.get("timeout")  # a read before the run is not counted as the run's
    result = Workload(workers=2, tasks_per_worker=10, work_time=0, monitor_ticks=0).run(metrics, config)
    assert metrics.tasks_processed() == 20
    assert result.config_reads == 2 * 1 * 2
    assert result.mismatches() == []


def test_mismatches_name_the_wrong_figure() -> None:
    metrics = Metrics()
    metrics.increment_errors()  # one error too many before the run
    result = Workload(workers=1, tasks_per_worker=5, work_time=0, monitor_ticks=0).run(metrics)
    assert result.mismatches() == ["errors: expected 1, got 2"]


def test_an_exception_in_the_callback_is_reported_not_lost() -> None:
    def boom(sample: MonitorSample) -> None:
        raise RuntimeError("monitor broke")

    result = Workload(workers=1, tasks_per_worker=1, work_time=0, monitor_interval=0.001,
                      monitor_ticks=1, on_sample=boom).run()
    assert result.worker_errors == ("RuntimeError: monitor broke",)
    assert "worker error: RuntimeError: monitor broke" in result.mismatches()


@pytest.mark.parametrize("kwargs", [
    {"workers": 0}, {"task_types": ()}, {"error_rate": 2.0}, {"monitor_interval": 0},
    {"config_read_every": 0}, {"work_time": -1},
])
def test_bad_parameters_are_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Workload(**kwargs)  # type: ignore[arg-type]
