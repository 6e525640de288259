"""Stress mode: seeded, reproducible perturbation that makes lost updates happen under the GIL."""

from __future__ import annotations

import sys
import threading

from _engine_support import Box, incr_x, sequential_unordered

from racefree.detector import Detector


def traces(seed: int) -> dict[int, list[int]]:
    b = Box()
    with Detector("python", stress=True, seed=seed) as d:
        sequential_unordered(*[(lambda: [incr_x(b) for _ in range(200)]) for _ in range(3)])
    assert d.perturber is not None
    return d.perturber.trace


def test_same_seed_same_decisions_other_seed_other_decisions() -> None:
    first, again, other = traces(1234), traces(1234), traces(4321)
    assert first == again
    assert first != other
    assert sum(len(t) for t in first.values()) > 0


def test_lost_updates_appear_with_stress() -> None:
    b = Box()
    n, k = 2000, 4
    with Detector("python", stress=True, seed=5) as d:
        threads = [threading.Thread(target=lambda: [incr_x(b) for _ in range(n)]) for _ in range(k)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert b.x < n * k  # updates were actually lost, not only predicted
    assert [r.kind for r in d.races()] == ["lost-update"]
    assert d.statistics()["stress_yields"] > 0


def test_seed_is_chosen_and_reported_and_switch_interval_restored() -> None:
    before = sys.getswitchinterval()
    d = Detector(stress=True)
    assert isinstance(d.seed, int)
    with d:
        assert sys.getswitchinterval() < before
    assert sys.getswitchinterval() == before
    assert d.statistics()["seed"] == d.seed
    assert Detector().seed is None
    assert Detector(seed=3).seed == 3
