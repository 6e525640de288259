"""Vector clocks and epochs (the arithmetic every check relies on)."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from racefree.detector import clocks, speedups
from racefree.detector.clocks import SHIFT, SyncClock, ThreadState, happened_before, join_into


def joins() -> list[Callable[[list[int], list[int]], None]]:
    """The Python reference, and the C loop when built."""
    c = speedups._load()[0]
    return [clocks.python_join_into, *([c.join_into] if c is not None else [])]


def ts(tid: int, vc: list[int] | None = None) -> ThreadState:
    return ThreadState(tid, vc if vc is not None else [], f"T{tid}", None, ())


def test_join_is_pointwise_max_and_grows() -> None:
    a = [1, 5]
    join_into(a, [3, 2, 7])
    assert a == [3, 5, 7]


def test_epochs_and_ticks() -> None:
    t = ts(2)
    assert t.vc == [0, 0, 1] and t.epoch == (1 << SHIFT) | 2
    e = t.epoch
    t.tick()
    assert t.clock == 2 and t.vc[2] == 2 and t.epoch != e
    other = ts(0)
    assert not happened_before(e, other.vc)  # never synchronized
    other.vc.extend([0, 1])
    assert happened_before(e, other.vc) and not happened_before(t.epoch, other.vc)


def test_release_acquire_orders_and_skips_known_clocks() -> None:
    a, b = ts(0), ts(1)
    lock = SyncClock(gen=1)
    before = a.epoch
    lock.publish(a)  # a's past is published, a moves to a new epoch
    assert a.epoch != before
    lock.absorb(b)
    assert happened_before(before, b.vc)
    assert not happened_before(a.epoch, b.vc)
    vc_after = list(b.vc)
    lock.absorb(b)  # already known: no join, only a tick
    assert b.vc[0] == vc_after[0] and b.clock == vc_after[1] + 1


def test_merge_accumulates_releases() -> None:
    a, b, c = ts(0), ts(1), ts(2)
    ev = SyncClock(gen=1)
    ea, eb = a.epoch, b.epoch
    ev.merge(a)
    ev.merge(b)
    ev.absorb(c)
    assert happened_before(ea, c.vc) and happened_before(eb, c.vc)


vcs = st.lists(st.integers(min_value=0, max_value=1 << 40), max_size=12)


@given(vcs, vcs)
def test_join_into_matches_the_pointwise_max(a: list[int], b: list[int]) -> None:
    n = max(len(a), len(b))
    expected = [max(x, y) for x, y in zip(a + [0] * (n - len(a)), b + [0] * (n - len(b)))]
    for join in joins():  # the Python reference and the C loop when built
        got = list(a)
        join(got, b)
        assert got == expected


@given(st.integers(min_value=0, max_value=5), vcs, vcs, st.booleans())
def test_exchange_is_absorb_then_merge(tid: int, mine: list[int], published: list[int], empty: bool) -> None:
    # reachable states only: another thread never knows more of this thread's clock than the
    # thread itself, and knowing the publisher's clock means having joined what it published
    # (so this thread has not heard from the publisher at all here)
    published = [0 if i == tid else c for i, c in enumerate(published)]
    mine = [0 if i == tid + 1 else c for i, c in enumerate(mine)]

    def pair() -> tuple[ThreadState, SyncClock]:
        t = ts(tid, list(mine))
        clock = SyncClock(1)
        if not empty:
            clock.merge(ts(tid + 1, list(published)))
        return t, clock

    t1, c1 = pair()
    c1.exchange(t1)
    t2, c2 = pair()
    c2.absorb(t2)
    c2.merge(t2)
    def known(vc: list[int]) -> list[int]:  # trailing zeros say nothing
        vc = [0 if i == tid else c for i, c in enumerate(vc)]
        while vc and vc[-1] == 0:
            vc.pop()
        return vc

    assert known(t1.vc) == known(t2.vc)  # the thread learns the same
    assert c1.vc is not None and c2.vc is not None
    assert known(c1.vc) == known(c2.vc)  # the clock publishes the same (its own entry ticks apart)
    assert c1.last == (c1.vc[tid] << SHIFT) | tid  # a plain replacement: the next acquire can skip


def test_join_into_rejects_non_lists() -> None:
    import pytest

    for join in joins():
        with pytest.raises(TypeError):
            join((1, 2), [3])  # type: ignore[arg-type]
