"""The module's automation workload simulation, parameterised.

N worker threads each process M tasks: every task is counted in
:class:`~racefree.automation.Metrics` (task, request, bytes, type), one task in
``round(1 / error_rate)`` fails, each task sleeps ``work_time`` (the simulated
work), and every ``config_read_every``-th task reads two keys from a
:class:`~racefree.automation.ConfigStore`.  A monitor thread samples the
metrics every ``monitor_interval`` seconds for ``monitor_ticks`` ticks and hands
each sample to a callback.  With the defaults this is exactly the Go program:
20 workers × 100 tasks, 5 types, 5 % errors, 1 ms of work, a sample every 200 ms
for 10 ticks; the final totals are 2000 tasks, 100 errors, 2 048 000 bytes,
2000 requests and 400 tasks per type.

Invariants (true with and without the GIL): the workload's own state is the
list of exceptions raised in its threads, appended under ``_errors_lock`` and
read after every thread has been joined.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from racefree.automation.config import ConfigStats, ConfigStore
from racefree.automation.metrics import Metrics, MetricsSnapshot

__all__ = [
    "DEFAULT_TASK_TYPES",
    "INITIAL_CONFIG",
    "MonitorSample",
    "Workload",
    "WorkloadExpectation",
    "WorkloadResult",
]

DEFAULT_TASK_TYPES = ("file_process", "email_send", "db_update", "report_gen", "data_sync")
INITIAL_CONFIG = {"max_workers": "10", "timeout": "30s", "retry_count": "3", "batch_size": "100"}
CONFIG_KEYS_READ = ("timeout", "batch_size")


@dataclass(frozen=True)
class MonitorSample:
    """What the monitor saw at one tick (1-based), `elapsed` seconds after the start."""

    tick: int
    elapsed: float
    snapshot: MetricsSnapshot

    @property
    def since_activity(self) -> float:
        """Seconds between the last recorded activity and this sample."""
        return max(0.0, self.snapshot.taken_at - self.snapshot.last_activity)


@dataclass(frozen=True)
class WorkloadExpectation:
    """The exact totals a correct run must end with."""

    tasks: int
    errors: int
    bytes_processed: int
    requests: int
    tasks_by_type: dict[str, int]
    config_reads: int


@dataclass(frozen=True)
class WorkloadResult:
    """The outcome of :meth:`Workload.run`; `config_reads` counts this run's reads only."""

    final: MetricsSnapshot
    config: dict[str, str]
    config_stats: ConfigStats
    samples: tuple[MonitorSample, ...]
    duration: float
    expected: WorkloadExpectation
    config_reads: int = 0
    worker_errors: tuple[str, ...] = field(default=())

    def mismatches(self) -> list[str]:
        """One line per figure that differs from the expectation (empty when all are exact)."""
        exp, got = self.expected, self.final
        pairs: list[tuple[str, object, object]] = [
            ("tasks processed", exp.tasks, got.tasks_processed),
            ("errors", exp.errors, got.errors),
            ("bytes processed", exp.bytes_processed, got.bytes_processed),
            ("requests", exp.requests, got.requests),
            ("tasks by type", exp.tasks_by_type, dict(got.tasks_by_type)),
            ("config reads", exp.config_reads, self.config_reads),
            ("active workers at the end", 0, len(got.active_workers)),
        ]
        out = [f"{name}: expected {e}, got {g}" for name, e, g in pairs if e != g]
        out.extend(f"worker error: {e}" for e in self.worker_errors)
        return out


class Workload:
    """A parameterised run of the module's automation simulation.

    A `Workload` holds parameters only; each :meth:`run` uses fresh (or the
    given) :class:`Metrics` and :class:`ConfigStore`.  `on_sample` is called in
    the monitor thread, outside every lock, once per tick; it must be
    thread-safe with respect to the caller's own state.
    """

    def __init__(
        self,
        workers: int = 20,
        tasks_per_worker: int = 100,
        task_types: Sequence[str] = DEFAULT_TASK_TYPES,
        error_rate: float = 0.05,
        work_time: float = 0.001,
        bytes_per_task: int = 1024,
        config_read_every: int = 10,
        monitor_interval: float = 0.2,
        monitor_ticks: int = 10,
        on_sample: Callable[[MonitorSample], None] | None = None,
    ) -> None:
        if workers < 1 or tasks_per_worker < 0:
            raise ValueError("need at least one worker and a non-negative task count")
        if not task_types:
            raise ValueError("need at least one task type")
        if not 0.0 <= error_rate <= 1.0:
            raise ValueError(f"error_rate must be between 0 and 1, got {error_rate}")
        if work_time < 0 or monitor_interval <= 0 or monitor_ticks < 0 or config_read_every < 1:
            raise ValueError("work_time >= 0, monitor_interval > 0, monitor_ticks >= 0 "
                             "and config_read_every >= 1 are required")
        self.workers = workers
        self.tasks_per_worker = tasks_per_worker
        self.task_types = tuple(task_types)
        self.error_rate = error_rate
        self.work_time = work_time
        self.bytes_per_task = bytes_per_task
        self.config_read_every = config_read_every
        self.monitor_interval = monitor_interval
        self.monitor_ticks = monitor_ticks
        self.on_sample = on_sample

    @property
    def error_every(self) -> int:
        """One task in this many fails (0: none), as the module's ``j % 20 == 0``."""
        return 0 if self.error_rate == 0 else max(1, round(1 / self.error_rate))

    def expected(self) -> WorkloadExpectation:
        """The totals a race-free run ends with."""
        m, n = self.tasks_per_worker, self.workers
        k = len(self.task_types)
        by_type: dict[str, int] = {}
        for t, name in enumerate(self.task_types):
            per_worker = len(range(t, m, k))
            if per_worker:
                by_type[name] = by_type.get(name, 0) + per_worker * n
        every = self.error_every
        errors = n * math.ceil(m / every) if every else 0
        reads = n * math.ceil(m / self.config_read_every) * len(CONFIG_KEYS_READ)
        return WorkloadExpectation(
            tasks=n * m, errors=errors, bytes_processed=n * m * self.bytes_per_task,
            requests=n * m, tasks_by_type=by_type, config_reads=reads,
        )

    def _worker(self, worker_id: int, metrics: Metrics, config: ConfigStore) -> None:
        metrics.register_worker(worker_id)
        try:
            types, every = self.task_types, self.error_every
            for j in range(self.tasks_per_worker):
                metrics.record_task(types[j % len(types)], self.bytes_per_task)
                if every and j % every == 0:
                    metrics.increment_errors()
                if self.work_time > 0:
                    time.sleep(self.work_time)
                if j % self.config_read_every == 0:
                    for key in CONFIG_KEYS_READ:
                        config.get(key)
        finally:
            metrics.unregister_worker(worker_id)

    def _monitor(self, metrics: Metrics, start: float, samples: list[MonitorSample]) -> None:
        for tick in range(1, self.monitor_ticks + 1):
            delay = start + tick * self.monitor_interval - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sample = MonitorSample(tick, time.perf_counter() - start, metrics.snapshot())
            samples.append(sample)  # only this thread appends; read after join
            if self.on_sample is not None:
                self.on_sample(sample)

    def run(self, metrics: Metrics | None = None, config: ConfigStore | None = None) -> WorkloadResult:
        """Run the workers and the monitor to completion; return the final figures."""
        metrics = metrics if metrics is not None else Metrics()
        config = config if config is not None else ConfigStore(INITIAL_CONFIG)
        reads_before = config.stats().reads
        samples: list[MonitorSample] = []
        errors: list[str] = []
        errors_lock = threading.Lock()

        def guarded(fn: Callable[..., None], *args: object) -> None:
            try:
                fn(*args)
            except BaseException as exc:  # reported in the result, never lost in a thread
                with errors_lock:
                    errors.append(f"{type(exc).__name__}: {exc}")

        start = time.perf_counter()
        threads = [threading.Thread(target=guarded, args=(self._worker, i, metrics, config),
                                    name=f"worker-{i}") for i in range(self.workers)]
        threads.append(threading.Thread(target=guarded, args=(self._monitor, metrics, start, samples),
                                        name="monitor"))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        duration = time.perf_counter() - start
        config_stats = config.stats()  # before get_all(), which counts as a read itself
        return WorkloadResult(
            final=metrics.snapshot(), config=config.get_all(), config_stats=config_stats,
            samples=tuple(samples), duration=duration, expected=self.expected(),
            config_reads=config_stats.reads - reads_before,
            worker_errors=tuple(errors),
        )
