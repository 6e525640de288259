"""Lock-order graph: potential deadlocks (lock-order inversions), as ThreadSanitizer reports them.

Every thread keeps the list of tracked ``threading`` locks it holds, in
acquisition order.  When a thread *blocks* to acquire lock B while holding A,
the edge A → B is recorded the first time it is seen, with the user stacks of
both acquisitions, the thread, and the locks the thread held before A (its
*guards*).  When a new edge closes a cycle A → B ⇝ A, the cycle is reported as a
:class:`~racefree.detector.findings.Deadlock`, even though the run did not
deadlock: another schedule would.  One report per cycle of lock *creation
sites* (Account locks taken in both orders are one report however many accounts
there are), with a count.

Not edges (they cannot make a thread wait forever):

* re-entering an ``RLock`` the thread already holds;
* a non-blocking acquire (``blocking=False``) or one with a timeout: a try-lock
  gives up instead of waiting (the lock still counts as held afterwards, so
  locks taken under it get edges from it);
* ``Condition.wait`` giving its lock back and taking it again: the lock is put
  back where it was, with its original acquisition stack (waiting while holding
  *another* lock is a different bug, not an inversion);
* semaphores (released by other threads by design: no owner, as in TSan).

A cycle whose every edge was recorded while one common *gate* lock was held
before both of its locks (G → A → B in one thread, G → B → A in another) cannot
deadlock and is not reported (TSan reports it; we follow the happens-before
spirit of the rest of the detector).  The guards of an edge are the locks held
at *every* acquisition along it: an occurrence without the gate shrinks them and
rechecks the cycle.

A cycle whose every edge was made by one and the same thread is not reported
either (unless ``same_thread_cycles=True``): one thread cannot wait for itself
across two locks, so such a cycle shows only that *another* thread running the
same code could deadlock -- and code that is never run by two threads (a
reader-writer lock whose counter lets only the first reader take the resource
lock, a single-threaded test) is no deadlock.  An edge remembers the first
thread that made it and whether another thread made it too; when a second
thread makes it, the cycles through it are checked again.

A ``Lock`` released by a thread that did not acquire it (a hand-off) bumps the
lock's epoch: the acquirer's entry becomes stale and is dropped at its next
acquire, so it creates no edge.

Invariants (true with and without the GIL):

* A thread's held list (``LockOrder.tls.held``) is touched only by its thread.
* ``LockOrder.lock`` (a private ``_thread.RLock``: the program never sees it,
  and a weakref callback may run while it is held) guards node creation, every
  write to ``Node.out``/``Node.ins``/``Edge.guards``, and the report registry
  (``by_key``, ``order``, ``new``).  ``Node.out`` is read without it (one dict
  subscript: atomic), then re-checked under it.
* A :class:`Node` exists only for a lock that took part in an edge; it is
  stored on the lock (slot ``_order_node``) and dropped from the graph by a
  weakref callback when the lock dies, so dead locks cost nothing and a reused
  ``id()`` can never join an old cycle.

Cost: when no lock is held, an acquire appends one tuple to the held list and a
release pops it; graph work happens only for nested blocking acquires, and
stacks are captured only when an edge is new.
"""

from __future__ import annotations

import _thread
import itertools
import os
import sys
import weakref
from collections.abc import Sequence
from types import FrameType
from typing import TYPE_CHECKING, Any

from racefree.detector import stacks

if TYPE_CHECKING:
    from racefree.detector.faces import RecordingState
    from racefree.detector.findings import Deadlock, Frame

__all__ = ["MAX_SEARCH", "LockOrder", "creation_site"]

MAX_SEARCH = 10_000  # nodes visited by one cycle search (guards can make the search revisit nodes)
_NO_GUARDS: frozenset[Node] = frozenset()
_instances: weakref.WeakSet[LockOrder] = weakref.WeakSet()

# a held entry: (lock, the lock's epoch when acquired, the acquiring frame, its f_lasti then)
Entry = tuple[Any, int, FrameType, int]


def _after_fork_in_child() -> None:
    for order in list(_instances):
        order.lock = _thread.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class _LockRef(weakref.ref):  # type: ignore[type-arg]
    """A weak reference to a lock that knows its node (for the death callback)."""

    __slots__ = ("node",)
    node: Node


class Node:
    """One lock in the graph (weakly: ``ref`` dies with the lock)."""

    __slots__ = ("__weakref__", "created", "ins", "kind", "out", "ref", "serial")

    def __init__(self, serial: int, lock: Any, callback: Any) -> None:
        self.serial = serial
        self.kind = type(lock).__name__
        self.created: Frame | None = _site_frame(getattr(lock, "_order_site", None))
        self.out: dict[Node, Edge] = {}  # guarded by LockOrder.lock (writes)
        self.ins: set[Node] = set()  # guarded by LockOrder.lock
        self.ref = _LockRef(lock, callback)
        self.ref.node = self

    def site_key(self) -> tuple[str, str, int]:
        """What identifies the lock across instances: its type and creation site."""
        if self.created is None:
            return (self.kind, f"#{self.serial}", 0)
        return (self.kind, self.created.file, self.created.line)

    def __repr__(self) -> str:
        return f"<lock-order Node {self.kind}#{self.serial} out={len(self.out)}>"


class Edge:
    """``src`` was held while ``dst`` was acquired (blocking), first seen in thread ``thread``."""

    __slots__ = ("created", "dst", "dst_stack", "guards", "other", "shared", "src", "src_stack", "thread",
                 "tid")

    def __init__(self, src: Node, dst: Node, src_stack: stacks.Captured, dst_stack: stacks.Captured,
                 thread: str, created: tuple[Frame, ...], guards: frozenset[Node], tid: int = 0) -> None:
        self.src, self.dst = src, dst
        self.src_stack, self.dst_stack = src_stack, dst_stack
        self.thread, self.created = thread, created
        self.guards = guards  # locks held before src at every acquisition along this edge
        self.tid = tid  # the thread that made it first
        self.shared = False  # made by another thread too (written under LockOrder.lock)
        self.other: tuple[str, tuple[Frame, ...]] | None = None  # that thread: name, where created


class LockOrder:
    """The lock-order graph of one detector run and the potential deadlocks found in it."""

    def __init__(self, detector: RecordingState | None = None, *, same_thread_cycles: bool = False) -> None:
        self.detector = detector
        self.same_thread_cycles = same_thread_cycles  # report cycles made by one thread alone
        self.tls = _thread._local()  # .held: see _held (a plain _local: a subclass's reads are slower)
        self.lock = _thread.RLock()
        self._serials = itertools.count(1)
        self._dead: list[Node] = []  # appended by weakref callbacks, purged under lock
        self.edges = 0  # edges currently in the graph (approximate without the lock)
        self.by_key: dict[tuple[object, ...], Deadlock] = {}  # guarded by lock
        self.order: list[Deadlock] = []  # guarded by lock
        self.new: list[Deadlock] = []  # guarded by lock
        _instances.add(self)

    # ------------------------------------------------------------------ hot path

    def _held(self) -> list[Entry]:
        """The calling thread's held list (hb_threading inlines this)."""
        try:
            held: list[Entry] = self.tls.held
        except AttributeError:
            held = self.tls.held = []
        return held

    def acquired(self, lock: Any, frame: FrameType, blocking: bool) -> None:
        """After `lock` was acquired from `frame` (the caller of acquire or ``__enter__``).

        :mod:`racefree.detector.hb_threading` inlines this in the tracked locks.
        """
        held = self._held()
        if held and blocking:
            self.nested(lock, held, frame)
        held.append((lock, lock._order_epoch, frame, frame.f_lasti))

    def released(self, lock: Any) -> None:
        """Before the holder's release of `lock` (hb_threading inlines the common case: the last entry)."""
        held = self._held()
        if held:
            if held[-1][0] is lock:
                del held[-1]
                return
            for i in range(len(held) - 2, -1, -1):
                if held[i][0] is lock:
                    del held[i]
                    return
        # released by a thread that did not acquire it: the acquirer's entry is stale now
        lock._order_epoch += 1

    def suspend(self, lock: Any) -> list[Entry]:
        """``Condition.wait`` gives `lock` back (every level of an RLock): its entries, to resume."""
        held = self._held()
        mine = [e for e in held if e[0] is lock]
        if mine:
            held[:] = [e for e in held if e[0] is not lock]
        return mine

    def resume(self, lock: Any, entries: Sequence[Entry]) -> None:
        """``Condition.wait`` took `lock` back: its entries return (no edge: see the module doc)."""
        if not entries:
            return
        held = self._held()
        epoch = lock._order_epoch
        held.extend((e[0], epoch, e[2], e[3]) for e in entries)

    def held_count(self) -> int:
        """How many acquisitions the calling thread holds (for tests and statistics)."""
        return len(self._held())

    # ----------------------------------------------------------- nested acquires

    def nested(self, lock: Any, held: list[Entry], frame: FrameType) -> None:
        """A blocking acquire of `lock` from `frame` while `held` is not empty: add the new edges.

        Runs for every nested acquire, so the common case (edges known, no
        guards) is a few slot reads and one dict subscript per held lock.
        """
        if len(held) == 1:  # the commonest nesting, `with a: with b:` seen before: answered here
            e = held[0]
            src, pair = e[0], lock._order_node
            if src is not lock and e[1] == src._order_epoch and pair is not None and pair[0] is self:
                known = src._order_node
                if known is not None and known[0] is self:
                    try:
                        edge0: Edge | None = known[1].out[pair[1]]
                    except KeyError:
                        edge0 = None
                    if edge0 is not None and not edge0.guards:
                        if not edge0.shared:
                            self._seen(edge0)
                        return
        stale = False
        for e in held:
            if e[1] != e[0]._order_epoch:
                stale = True
            elif e[0] is lock:
                return  # re-entering an RLock (or a Lock acquired by its holder: it cannot block)
        if stale:
            held[:] = [e for e in held if e[1] == e[0]._order_epoch]
            if not held:
                return
        pair = lock._order_node
        dst = pair[1] if pair is not None and pair[0] is self else None
        for i, e in enumerate(held):
            if dst is not None:
                pair = e[0]._order_node
                if pair is not None and pair[0] is self:
                    try:  # a subscript, not ``.get`` (which locks the dict on the free-threaded build)
                        edge: Edge | None = pair[1].out[dst]
                    except KeyError:
                        edge = None
                    if edge is not None:
                        if not edge.shared:
                            self._seen(edge)
                        if edge.guards:
                            self._narrow(edge, held, i)
                        continue
            self._add_edge(held, i, lock, frame)
            dst = lock._order_node[1]

    def _tid(self) -> int:
        d = self.detector
        if d is None:
            return _thread.get_ident()
        try:
            return int(d.tls.ts.tid)
        except AttributeError:
            return d.thread_state().tid

    def _seen(self, edge: Edge) -> None:
        """A known edge made again: by another thread, it is shared now (recheck its cycles)."""
        if edge.tid == self._tid():
            return
        with self.lock:
            if not edge.shared:
                edge.shared = True
                edge.other = self._thread()
                self._check_cycle(edge, again=False)

    def _guards(self, held: list[Entry], i: int) -> frozenset[Node]:
        """The nodes of the locks held before ``held[i]`` (creating them: caller holds lock)."""
        if i == 0:
            return _NO_GUARDS
        return frozenset(self._node(e[0]) for e in held[:i])

    def _narrow(self, edge: Edge, held: list[Entry], i: int) -> None:
        present = {n for n in (_node_of(e[0], self) for e in held[:i]) if n is not None}
        if edge.guards <= present:
            return
        with self.lock:
            narrowed = edge.guards & present
            if narrowed == edge.guards:
                return
            edge.guards = frozenset(narrowed)
            self._check_cycle(edge)

    def _add_edge(self, held: list[Entry], i: int, lock: Any, frame: FrameType) -> None:
        entry = held[i]
        with self.lock:
            self._purge()
            src, dst = self._node(entry[0]), self._node(lock)
            if dst in src.out:
                return  # another thread added it meanwhile
            name, created = self._thread()
            f = entry[2]
            src_stack = (f.f_code, entry[3], *stacks.capture(f.f_back)[: 2 * (stacks.MAX_DEPTH - 1)])
            edge = Edge(src, dst, src_stack, stacks.capture(frame), name, created, self._guards(held, i),
                        self._tid())
            src.out[dst] = edge
            dst.ins.add(src)
            self.edges += 1
            self._check_cycle(edge)

    def _thread(self) -> tuple[str, tuple[Frame, ...]]:
        d = self.detector
        if d is None:
            return (f"thread-{_thread.get_ident()}", ())
        ts = d.thread_state()
        return (ts.display_name(), ts.created)

    # -------------------------------------------------------------------- graph

    def _node(self, lock: Any) -> Node:
        """The node of `lock`, created if needed (caller holds lock)."""
        node = _node_of(lock, self)
        if node is None:
            node = Node(next(self._serials), lock, self._died)
            lock._order_node = (self, node)
        return node

    def _died(self, ref: _LockRef) -> None:
        # a weakref callback: may run in any thread, even one inside this class holding the lock
        self._dead.append(ref.node)

    def _purge(self) -> None:
        """Remove dead locks' nodes and their edges (caller holds lock)."""
        while self._dead:
            node = self._dead.pop()
            for other in list(node.ins):
                if other.out.pop(node, None) is not None:
                    self.edges -= 1
            for other in list(node.out):
                other.ins.discard(node)
                self.edges -= 1
            node.out = {}
            node.ins = set()

    def _check_cycle(self, edge: Edge, again: bool = True) -> None:
        """Report a cycle that `edge` closes (caller holds lock); `again`: count a known one again."""
        owner = -1 if edge.shared or self.same_thread_cycles else edge.tid
        path = _path(edge.dst, edge.src, edge.guards, owner)
        if path is not None:
            self._report([edge, *path], again)

    def _report(self, cycle: list[Edge], again: bool = True) -> None:
        from racefree.detector.findings import Deadlock, LockEdge, LockInfo  # here: most runs report none

        nodes = [e.src for e in cycle]
        keys = [n.site_key() for n in nodes]
        key = min(tuple(keys[i:] + keys[:i]) for i in range(len(keys)))
        try:
            existing = self.by_key[key]
        except KeyError:
            existing = None
        if existing is not None:
            if again:
                existing.count += 1
            return
        names = {n: f"M{i + 1}" for i, n in enumerate(nodes)}
        locks = tuple(
            LockInfo(names[n], n.kind, n.created, f"{id(n.ref()):#x}" if n.ref() is not None else "")
            for n in nodes
        )
        # name two threads: an edge first made by the thread that made all the others is
        # shown with the other thread that made it too
        threads = [(e.thread, e.created) for e in cycle]
        if len({e.tid for e in cycle}) == 1:
            for i, e in enumerate(cycle):
                if e.other is not None:
                    threads[i] = e.other
                    break
        edges = tuple(
            LockEdge(
                held=names[e.src],
                acquired=names[e.dst],
                thread=threads[i][0],
                held_stack=stacks.frames(e.src_stack),
                acquired_stack=stacks.frames(e.dst_stack),
                thread_created_at=threads[i][1],
            )
            for i, e in enumerate(cycle)
        )
        deadlock = Deadlock(locks=locks, edges=edges)
        self.by_key[key] = deadlock
        self.order.append(deadlock)
        self.new.append(deadlock)

    # ------------------------------------------------------------------ results

    def deadlocks(self) -> list[Deadlock]:
        with self.lock:
            return list(self.order)

    def take_new(self) -> list[Deadlock]:
        with self.lock:
            new, self.new = self.new, []
            return new


def _node_of(lock: Any, order: LockOrder) -> Node | None:
    pair = lock._order_node
    if pair is not None and pair[0] is order:
        node: Node = pair[1]
        return node
    return None


def _path(start: Node, goal: Node, guards: frozenset[Node], owner: int = -1) -> list[Edge] | None:
    """A simple path of edges from `start` to `goal` whose guards, with `guards`, share no lock,
    and -- unless `owner` is -1 -- not made by thread `owner` alone (every edge unshared, its tid).

    Depth first; a node already on the path is never entered again (a closed walk
    through one lock twice is no deadlock: two threads cannot both hold it).  A
    node reached again with a superset of the common guards of an earlier visit
    is not searched again: exact when no guards are involved, and without guards
    the search is a plain reachability test.
    """
    todo: list[tuple[Node, frozenset[Node], int, list[Edge]]] = [(start, guards, owner, [])]
    seen: dict[Node, list[tuple[frozenset[Node], int]]] = {}
    visits = 0
    while todo:
        node, common, alone, path = todo.pop()
        if node is goal:
            if not common and alone == -1:
                return path
            continue
        tried = seen.setdefault(node, [])
        if any(s <= common and (o == -1 or o == alone) for s, o in tried):
            continue  # already searched from here with fewer (or the same) common guards
        tried.append((common, alone))
        visits += 1
        if visits > MAX_SEARCH:
            return None
        on_path = {start, *(e.dst for e in path)}
        for nxt, edge in list(node.out.items()):
            if nxt not in on_path:
                mixed = alone if alone == -1 or (not edge.shared and edge.tid == alone) else -1
                todo.append((nxt, common & edge.guards, mixed, [*path, edge]))
    return None


def _site_frame(site: Any) -> Frame | None:
    if site is None:
        return None
    code, lasti = site
    found = stacks.frames((code, lasti))
    return found[0] if found else None


def creation_site(depth: int) -> tuple[Any, int] | None:
    """``(code, lasti)`` of the user frame `depth` levels up, past threading's own frames."""
    f: FrameType | None = sys._getframe(depth + 1)
    while f is not None and stacks.hidden(f.f_code.co_filename):
        f = f.f_back
    return None if f is None else (f.f_code, f.f_lasti)
