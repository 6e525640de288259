"""SafeProcessor and ProcessorStats: the TaskProcessor contract, error rate, exact counts under stress."""

from __future__ import annotations

import dataclasses
import random
import threading

import pytest

from racefree.automation import ProcessingError, ProcessorStats, SafeProcessor, TaskProcessor
from racefree.lab.unsafe import UnsafeProcessor


def test_initial_stats() -> None:
    assert SafeProcessor().stats() == ProcessorStats(0, 0, None)


def test_stats_are_frozen_and_have_an_error_rate() -> None:
    s = ProcessorStats(tasks_processed=10, errors_occurred=3, last_processed=1.0)
    assert s.error_rate == 0.3
    assert ProcessorStats().error_rate == 0.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.tasks_processed = 0  # type: ignore[misc]


def test_both_processors_satisfy_the_protocol() -> None:
    assert isinstance(SafeProcessor(), TaskProcessor)
    assert isinstance(UnsafeProcessor(), TaskProcessor)


def test_no_errors_at_rate_zero_and_always_at_rate_one() -> None:
    ok = SafeProcessor(error_rate=0.0, work_time=0)
    for i in range(20):
        ok.process(f"t{i}")
    assert ok.stats().tasks_processed == 20 and ok.stats().errors_occurred == 0
    failing = SafeProcessor(error_rate=1.0, work_time=0)
    with pytest.raises(ProcessingError, match="processing failed for task t7"):
        failing.process("t7")
    s = failing.stats()
    assert (s.tasks_processed, s.errors_occurred) == (1, 1)
    assert s.last_processed is not None


def test_errors_follow_the_given_generator() -> None:
    reference = random.Random(5)
    expected = sum(reference.random() < 0.3 for _ in range(200))
    proc = SafeProcessor(error_rate=0.3, work_time=0, rng=random.Random(5))
    raised = 0
    for i in range(200):
        try:
            proc.process(str(i))
        except ProcessingError:
            raised += 1
    assert raised == expected == proc.stats().errors_occurred


@pytest.mark.parametrize("kwargs", [{"error_rate": -0.1}, {"error_rate": 1.5}, {"work_time": -1}])
def test_bad_parameters_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        SafeProcessor(**kwargs)


@pytest.mark.stress
def test_counts_exact_under_concurrency() -> None:
    proc = SafeProcessor(error_rate=0.25, work_time=0)
    threads, tasks = 8, 3000
    raised = [0] * threads
    inconsistent: list[ProcessorStats] = []

    def body(g: int) -> None:
        for j in range(tasks):
            try:
                proc.process(f"{g}-{j}")
            except ProcessingError:
                raised[g] += 1
            if j % 50 == 0:
                s = proc.stats()
                if s.errors_occurred > s.tasks_processed:
                    inconsistent.append(s)

    ts = [threading.Thread(target=body, args=(g,)) for g in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    s = proc.stats()
    assert s.tasks_processed == threads * tasks
    assert s.errors_occurred == sum(raised)
    assert inconsistent == []
