"""Vector clocks, FastTrack epochs and per-thread detector state.

Invariants (true with and without the GIL):

* A thread's :class:`ThreadState` is written only by that thread (its clock,
  its vector clock ``vc``, its epoch); other threads only ever see *copies* of
  ``vc`` that the owner published at a release.
* ``vc[t]`` is the latest clock of thread ``t`` this thread has synchronized
  with; ``vc[self.tid] == self.clock``.  A thread's clock ticks after every
  release *and* every acquire, so "no synchronization operation of its own in
  between" two accesses is exactly "both at the same epoch".
* An epoch is one int, ``clock << SHIFT | tid``: an access at epoch ``e``
  happens before thread ``T``'s present iff ``e >> SHIFT <= T.vc[e & MASK]``.
* A :class:`SyncClock` (the clock of a lock, event, queue item…) is guarded by
  whoever serializes the primitive: the user lock itself for locks, the
  detector's sync lock for merges (:meth:`SyncClock.merge`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import random
    from collections.abc import Callable

    from racefree.detector.findings import Frame

SHIFT = 24
MASK = (1 << SHIFT) - 1
SHARED = -1  # a cell's read epoch when several unordered readers are recorded


def python_join_into(vc: list[int], other: list[int]) -> None:
    """``vc := vc ⊔ other`` in place (the reference; the C back-end has its own loop)."""
    n = len(other)
    if len(vc) < n:
        vc.extend([0] * (n - len(vc)))
    for i in range(n):
        c = other[i]
        if c > vc[i]:
            vc[i] = c


# The join every clock operation uses: the chosen back-end's, installed by the engine for
# the run (use_join_into, from speedups.accelerate: a clock has one entry per thread, so
# 100 threads make 100 entries and the C loop pays), the reference otherwise.
join_into: Callable[[list[int], list[int]], None] = python_join_into


def use_join_into(join: Callable[[list[int], list[int]], None]) -> None:
    """Make `join` the join of every clock (the engine: at start, and the reference again at stop)."""
    global join_into
    join_into = join


def happened_before(epoch: int, vc: list[int]) -> bool:
    """Whether the access at `epoch` happens before the present of the owner of `vc`."""
    t = epoch & MASK
    return t < len(vc) and (epoch >> SHIFT) <= vc[t]


class ThreadState:
    """One thread as the detector sees it.

    Initial state: clock 1, ``vc`` inherited from the parent at ``Thread.start``
    (or all zeros for a thread the detector did not see start).
    """

    __slots__ = ("_created", "_created_stack", "clock", "epoch", "fast", "name", "rng", "thread", "tid", "vc")

    def __init__(self, tid: int, vc: list[int], name: str, thread: Any, created: tuple[Any, ...]) -> None:
        self.tid = tid
        if len(vc) <= tid:
            vc.extend([0] * (tid + 1 - len(vc)))
        self.vc = vc
        self.clock = vc[tid] = 1
        self.epoch = (1 << SHIFT) | tid
        self.name = name
        self.thread = thread  # the threading.Thread, for its current name (may be None)
        # where Thread.start() was called: the captured stack (stacks.capture), made into
        # report frames the first time a report needs them (most threads are never reported)
        self._created_stack = created
        self._created: tuple[Frame, ...] | None = None
        self.rng: random.Random | None = None  # stress mode only
        self.fast: Any = None  # the C fast path's table of this thread's recent cells (owner thread only)

    @property
    def created(self) -> tuple[Frame, ...]:
        """Where ``Thread.start()`` was called, innermost first (report frames)."""
        from racefree.detector import stacks

        created = self._created
        if created is None:  # two threads may both convert: the same frames
            created = self._created = stacks.frames(self._created_stack)
        return created

    def tick(self) -> None:
        """Start a new epoch (after a release or an acquire)."""
        c = self.clock + 1
        self.clock = c
        self.vc[self.tid] = c
        self.epoch = (c << SHIFT) | self.tid

    def display_name(self) -> str:
        t = self.thread
        if t is not None:
            try:
                return str(t.name)
            except Exception:  # a half-initialized Thread subclass
                pass
        return self.name

    def __repr__(self) -> str:
        return f"<ThreadState {self.name!r} tid={self.tid} clock={self.clock}>"


class SyncClock:
    """The clock of one synchronization object (what its releases published).

    ``last`` is the epoch of the single release that produced ``vc`` when it was
    a plain replacement (a lock released by its holder); an acquirer that
    already knows that epoch knows all of ``vc`` and can skip the join.
    """

    __slots__ = ("gen", "last", "vc")

    def __init__(self, gen: int) -> None:
        self.gen = gen
        self.vc: list[int] | None = None
        self.last = 0

    def publish(self, ts: ThreadState) -> None:
        """Release by the holder: the clock becomes a copy of the thread's."""
        self.vc = ts.vc.copy()
        self.last = ts.epoch
        ts.tick()

    def merge(self, ts: ThreadState) -> None:
        """Release that accumulates (semaphores, events, barriers): caller holds the sync lock."""
        if self.vc is None:
            self.vc = ts.vc.copy()
            self.last = ts.epoch
        else:
            join_into(self.vc, ts.vc)
            self.last = 0
        ts.tick()

    def exchange(self, ts: ThreadState) -> None:
        """Acquire then release as one step (an atomic read-modify-write): caller holds the sync lock.

        After the acquire the thread's clock covers this one, so the release is a
        plain replacement (and a later acquire by a thread that knows it is cheap).
        """
        vc = self.vc
        if vc is not None and not (self.last and happened_before(self.last, ts.vc)):
            join_into(ts.vc, vc)
        self.vc = ts.vc.copy()
        self.last = ts.epoch
        ts.tick()

    def absorb(self, ts: ThreadState) -> None:
        """Acquire: the thread's future is after every release published here."""
        vc = self.vc
        if vc is not None:
            last = self.last
            if not (last and happened_before(last, ts.vc)):
                join_into(ts.vc, vc)
        ts.tick()
