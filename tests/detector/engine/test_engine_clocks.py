"""Vector clocks and epochs (the arithmetic every check relies on)."""

from __future__ import annotations

from racefree.detector.clocks import SHIFT, SyncClock, ThreadState, happened_before, join_into


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
