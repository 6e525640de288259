"""The access checks: what ``runtime.read``/``runtime.write`` do while a detector records.

:func:`build` makes the recording functions of one :class:`Detector` as
closures over its state (a local-variable load is the cheapest lookup Python
has).  The hot path of every function is the FastTrack *same-epoch* test: a
thread that already read (wrote) a location since its last synchronization
operation returns after one tuple, one dict lookup and one int comparison, with
no allocation and no stack walk.  The slow path compares the access with the
cell's history (see :mod:`racefree.detector.shadow`), reports races to the
registry and captures a stack only when the cell's last access came from another
thread or another site.

Modes (issue 4).  A race is two accesses to one location from different
threads, not ordered by happens-before.  ``strict`` (Go's definition) reports
every such pair with at least one write, as kind ``data-race``.  ``python``
reports only what loses data although each bytecode is atomic:

* ``lost-update`` -- a thread read L and then writes L at the same epoch (no
  acquire or release of its own in between), the read part of the same
  read-modify-write as the write (:func:`statements.feeds`: same function, and
  not after it in the source unless in the same statement: a read reached only
  through a loop's next iteration feeds nothing), and another thread's write of
  L is unordered with it.  Reported:
  ``self.n += 1``; ``d[k] = d.get(k, 0) + 1``; ``v = o.x; ...; o.x = v + 1``,
  each from two threads.  Not reported: ``o.x = 1`` from two threads (blind
  writes), a getter's read followed later by a blind store elsewhere, SIZE
  (``append`` racing ``append``: a container operation never loses an element);
* ``check-then-act`` -- a read the rewriter flagged ``F_GUARD`` (the test of an
  ``if`` whose body writes the same location without a lock) unordered with
  another thread's write, in either order; so ``if self.x is None: self.x = X()``
  is reported even when only one thread got to the write;
* ``iteration`` -- an iteration of a container (``for``, comprehension,
  ``list(d)``, ``sorted(d)``, ``d.items()``...) unordered with another thread's
  write of its SIZE (insert, delete, append, clear...).

A single read racing a single write is strict-only.

Invariants: a cell's history is read and updated on the slow path only under
its stripe lock (``Detector.stripes[id(cell) >> 4 & 63]``, private reentrant
locks that never create edges); the fast path only reads one epoch field, and a
stale read just sends it to the slow path.  Without the stripes, two racing
accesses on the free-threaded build could erase each other's record and hide
the very race they form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from racefree.detector import stacks, statements
from racefree.detector.clocks import MASK, SHARED, SHIFT, ThreadState
from racefree.detector.events import ELEMENTS, F_GUARD, F_ITERATION, ITEM, S_FILE, S_FUNC, S_LINE, SIZE
from racefree.detector.shadow import Cell, Info

if TYPE_CHECKING:
    from racefree.detector.faces import RecordingState

Recorder = Callable[[int, Any, Any, tuple[Any, ...]], None]
Miss = Callable[[Any, ThreadState, int, int, Any, Any, tuple[Any, ...]], None]
GUARD_LIMIT = 64  # per cell: guard reads and iterations remembered (one per thread)
STRIPES = 64  # slow-path locks, chosen by cell (reentrant: a __del__ or signal handler may nest)
STRIPE_MASK = STRIPES - 1


class Recorders(NamedTuple):
    """One detector's recording functions.

    ``iterated(container, site)`` records an iteration.  ``read_miss``/``write_miss``
    take over after the same-epoch test failed, with what it looked up:
    ``(cell or None, ts, epoch, kind, container, key, site)`` — the entry points of
    the C fast path (:mod:`racefree.detector._speedups`).
    """

    read: Recorder
    write: Recorder
    iterated: Callable[[Any, tuple[Any, ...]], None]
    read_miss: Miss
    write_miss: Miss


def build(det: RecordingState) -> Recorders:
    """The recording functions for `det`'s mode."""
    shadow = det.shadow
    # Subscripts in try/except, never ``cells.get`` (nor ``.get`` on any dict the threads
    # share): on the free-threaded 3.13 build ``dict.get`` from several threads on one dict
    # serializes them, while ``cells[k]`` is a lock-free lookup.  Measured with
    # benchmarks/bench_detector.py --quick on 3.13t: tight_locked 270x plain with ``.get``,
    # 19x with subscripts; thread_pool 113x -> 6x.  Same speed on the GIL build.
    cells = shadow.cells
    new_cell = shadow.new_cell
    replace = shadow.replace
    tl = det.tls
    thread_state = det.thread_state
    report = det.registry.report
    capture = stacks.capture_outside_site
    python = det.mode == "python"
    perturb = det.perturb  # None unless stress mode
    internal_error = det.internal_error
    stripes = det.stripes

    def info_for(cell: Cell, ts: ThreadState, site: tuple[Any, ...], old: Info | None) -> Info:
        # The stack is walked only for locations more than one thread has touched:
        # thread-private objects (most of them) never pay for it.
        if old is not None and old[0] is ts and old[1] is site and (old[2] is not None or not cell.shared):
            return old
        return (ts, site, capture() if cell.shared else None)

    def unordered(epoch: int, ts: ThreadState) -> bool:
        t = epoch & MASK
        if t == ts.tid:
            return False
        vc = ts.vc
        return t >= len(vc) or (epoch >> SHIFT) > vc[t]

    def record_read(cell: Cell, ts: ThreadState, e: int, site: tuple[Any, ...]) -> Info:
        # tolerant of a racing update of the same cell (only racing accesses do that)
        r, ri, rs = cell.r, cell.ri, cell.rs
        if r == SHARED and rs is not None:
            try:
                old: Info | None = rs[ts.tid][1]
            except KeyError:
                old = None
            info = info_for(cell, ts, site, old)
            rs[ts.tid] = (e, info)
        elif r <= 0 or ri is None or not unordered(r, ts):
            info = info_for(cell, ts, site, ri)
            cell.ri = info
            # the python-mode fast path skips a repeat of this read; never for a guard read
            cell.rsite = None if site[3] & F_GUARD else site
            cell.r = e
        else:
            info = info_for(cell, ts, site, None)
            cell.rs = {r & MASK: (r, ri), ts.tid: (e, info)}
            cell.r = SHARED
        return info

    def remember(table: dict[int, tuple[int, Info]] | None, ts: ThreadState, e: int, info: Info) -> dict[
        int, tuple[int, Info]
    ]:
        if table is None:
            return {ts.tid: (e, info)}
        if len(table) >= GUARD_LIMIT and ts.tid not in table:
            try:
                del table[next(iter(table))]
            except (StopIteration, KeyError, RuntimeError):
                pass
        table[ts.tid] = (e, info)
        return table

    def others(table: dict[int, tuple[int, Info]] | None, ts: ThreadState) -> list[Info]:
        if not table:
            return []
        try:
            items = list(table.values())
        except RuntimeError:  # resized by a racing thread
            return []
        return [info for (epoch, info) in items if unordered(epoch, ts)]

    def locate(
        cell: Cell | None, kind: int, container: Any, key: Any, site: tuple[Any, ...], ts: ThreadState
    ) -> Cell | None:
        """The cell to check: `cell` (what the fast path found, or None) made current."""
        if cell is None:
            cell = new_cell(kind, container, key, site, ts.tid)
        elif cell.weak and cell.container() is not container:
            cell = replace(cell, container, key, site, ts.tid)
        elif not cell.shared and cell.owner != ts.tid:
            if python and cell.kind == SIZE:
                published(cell)
            cell.shared = True
        return None if cell.off else cell

    def published(cell: Cell) -> None:
        # Construct-then-publish: a container reached by a second thread only through an
        # atomic store of its reference shows that thread the finished container, so the
        # key-set writes made before are no python-mode conflict; forgetting the last one
        # also sends the owner's next write (at the same epoch) to the slow path, where an
        # iteration recorded since is checked (a container still mutated is reported)
        with stripes[(id(cell) >> 4) & STRIPE_MASK]:
            if not cell.shared:
                if cell.w and cell.wi is not None:
                    cell.pub = (cell.w, cell.wi)  # still a check-then-act's conflict (it acts)
                cell.w = 0
                cell.wi = None
                cell.shared = True

    # ---------------------------------------------------------------- strict

    def strict_read_slow(cell: Cell, ts: ThreadState, e: int, site: tuple[Any, ...]) -> None:
        if cell.r == SHARED:
            rs = cell.rs
            if rs is not None:
                try:
                    if rs[ts.tid][0] == e:
                        return
                except KeyError:
                    pass
        w = cell.w
        info = record_read(cell, ts, e, site)
        if w and unordered(w, ts):
            wi = cell.wi
            if wi is not None:
                report("data-race", cell, info, "read", wi, "write")

    def strict_write_slow(cell: Cell, ts: ThreadState, e: int, site: tuple[Any, ...]) -> None:
        info = info_for(cell, ts, site, cell.wi)
        w, wi = cell.w, cell.wi
        if w and wi is not None and unordered(w, ts) and cell.key is not ELEMENTS:
            report("data-race", cell, info, "write", wi, "write")
        r = cell.r
        if r == SHARED:
            rs = cell.rs
            try:
                reads = list(rs.values()) if rs is not None else []
            except RuntimeError:
                reads = []
            for epoch, read_info in reads:
                if unordered(epoch, ts):
                    report("data-race", cell, info, "write", read_info, "read")
        elif r:
            ri = cell.ri
            if ri is not None and unordered(r, ts):
                report("data-race", cell, info, "write", ri, "read")
        cell.w = e
        cell.wi = info
        # every earlier read is now either ordered before this write or reported
        cell.r = 0
        cell.rs = None

    def strict_read(kind: int, container: Any, key: Any, site: tuple[Any, ...]) -> None:
        try:
            ts = tl.ts
        except AttributeError:
            ts = thread_state()
        try:
            cell = cells[(id(container),) if kind == SIZE else (id(container), key)]
        except KeyError:
            cell = None
        except TypeError:  # an unhashable key: not a location
            return
        except Exception:  # a key whose hash fails: a detector failure must never reach the program
            internal_error()
            return
        e = ts.epoch
        if cell is not None:
            r = cell.r
            if r == e:
                return
            if r == SHARED:  # FastTrack's read-shared same-epoch case
                rs = cell.rs
                if rs is not None:
                    try:
                        if rs[ts.tid][0] == e:
                            return
                    except KeyError:
                        pass
        strict_read_miss(cell, ts, e, kind, container, key, site)

    def strict_read_miss(
        cell: Cell | None, ts: ThreadState, e: int, kind: int, container: Any, key: Any, site: tuple[Any, ...]
    ) -> None:
        try:
            cell = locate(cell, kind, container, key, site, ts)
            if cell is not None:
                with stripes[(id(cell) >> 4) & STRIPE_MASK]:
                    strict_read_slow(cell, ts, e, site)
        except Exception:  # a detector bug must never break the program
            internal_error()

    def strict_write(kind: int, container: Any, key: Any, site: tuple[Any, ...]) -> None:
        try:
            ts = tl.ts
        except AttributeError:
            ts = thread_state()
        try:
            cell = cells[(id(container),) if kind == SIZE else (id(container), key)]
        except KeyError:
            cell = None
        except TypeError:  # an unhashable key: not a location
            return
        except Exception:  # a key whose hash fails: a detector failure must never reach the program
            internal_error()
            return
        e = ts.epoch
        if cell is not None and cell.w == e:
            if perturb is not None:
                perturb(ts)
            return
        strict_write_miss(cell, ts, e, kind, container, key, site)

    def strict_write_miss(
        cell: Cell | None, ts: ThreadState, e: int, kind: int, container: Any, key: Any, site: tuple[Any, ...]
    ) -> None:
        try:
            cell = locate(cell, kind, container, key, site, ts)
            if cell is not None:
                with stripes[(id(cell) >> 4) & STRIPE_MASK]:
                    strict_write_slow(cell, ts, e, site)
        except Exception:  # a detector bug must never break the program
            internal_error()
        if perturb is not None:
            perturb(ts)

    def strict_iterated(container: Any, site: tuple[Any, ...]) -> None:
        strict_read(SIZE, container, None, site)
        if issubclass(type(container), list):  # and every element (events.ELEMENTS)
            strict_read(ITEM, container, ELEMENTS, site)

    # ---------------------------------------------------------------- python

    def python_read_slow(cell: Cell, ts: ThreadState, e: int, site: tuple[Any, ...]) -> None:
        if site[3] & F_ITERATION and cell.kind == SIZE:  # a slice, or a read the rewriter marked
            python_iteration_slow(cell, ts, site)
            return
        info = record_read(cell, ts, e, site)
        if site[3] & F_GUARD:
            w, wi = cell.w, cell.wi
            if not (w and wi is not None and unordered(w, ts)) and cell.pub is not None:
                w, wi = cell.pub  # the last write before the container was published
            if w and wi is not None and unordered(w, ts):
                report("check-then-act", cell, info, "read", wi, "write")
            cell.g = remember(cell.g, ts, e, info)

    def python_write_slow(cell: Cell, ts: ThreadState, e: int, site: tuple[Any, ...]) -> None:
        # a read-modify-write: this thread read the location at this epoch (no synchronization
        # since), in the same function as this write, or in a function whose caller then went on
        # to this write (``save(s, load(s) + 1)``, a property's getter then its setter: see
        # stacks.flows_into); a getter called in one loop iteration before a blind store in the
        # next, or a write with no read of its own since its last synchronization, is not one
        rmw = False
        if cell.kind != SIZE:
            r = cell.r
            read_info = None
            if r == e:
                read_info = cell.ri
            elif r == SHARED:
                rs = cell.rs
                if rs is not None:
                    try:
                        mine = rs[ts.tid]
                        if mine[0] == e:
                            read_info = mine[1]
                    except KeyError:
                        pass
            if read_info is not None:
                rsite = read_info[1]
                if rsite is site or (rsite[S_FUNC] == site[S_FUNC] and rsite[S_FILE] == site[S_FILE]):
                    rmw = statements.feeds(rsite, site)  # an earlier line, or the same statement
                elif read_info[2] is not None:
                    rmw = stacks.flows_into(read_info[2], rsite[S_LINE], capture(), site[S_LINE])
                if not rmw:
                    # judged: the read fed no write. Python mode uses reads for nothing else, so
                    # drop it: the next writes of this epoch take the fast path instead of asking again
                    if r == SHARED and cell.rs is not None:
                        cell.rs.pop(ts.tid, None)
                    else:
                        cell.r, cell.ri = 0, None
                    read_info = None
        w, wi = cell.w, cell.wi
        info = info_for(cell, ts, site, wi)
        if rmw and w and wi is not None and unordered(w, ts):
            report("lost-update", cell, info, "write", wi, "write", read_info, "current")
        else:
            m, mi = cell.m, cell.mi
            if m and mi is not None and unordered(m, ts):
                # mi: the read-modify-write's info, and its read (see below)
                report("lost-update", cell, info, "write", mi, "write", mi[3] if len(mi) > 3 else None,
                       "previous")
        if cell.g:
            for gi in others(cell.g, ts):
                report("check-then-act", cell, info, "write", gi, "read")
        if cell.it:
            for ii in others(cell.it, ts):
                report("iteration", cell, info, "write", ii, "read")
        cell.w = e
        cell.wi = info
        if rmw:
            cell.m = e
            cell.mi = (*info[:3], read_info)

    def python_read(kind: int, container: Any, key: Any, site: tuple[Any, ...]) -> None:
        try:
            ts = tl.ts
        except AttributeError:
            ts = thread_state()
        try:
            cell = cells[(id(container),) if kind == SIZE else (id(container), key)]
        except KeyError:
            cell = None
        except TypeError:  # an unhashable key: not a location
            return
        except Exception:  # a key whose hash fails: a detector failure must never reach the program
            internal_error()
            return
        e = ts.epoch
        if cell is not None:
            r = cell.r
            if r == e and cell.rsite is site:  # (rsite is never a guard site)
                return
            if r == SHARED and not site[3] & F_GUARD:  # read-shared: this thread's entry
                rs = cell.rs
                if rs is not None:
                    try:
                        mine = rs[ts.tid]
                        if mine[0] == e and mine[1][1] is site:
                            return
                    except KeyError:
                        pass
        python_read_miss(cell, ts, e, kind, container, key, site)

    def python_read_miss(
        cell: Cell | None, ts: ThreadState, e: int, kind: int, container: Any, key: Any, site: tuple[Any, ...]
    ) -> None:
        try:
            cell = locate(cell, kind, container, key, site, ts)
            if cell is not None:
                with stripes[(id(cell) >> 4) & STRIPE_MASK]:
                    python_read_slow(cell, ts, e, site)
        except Exception:  # a detector bug must never break the program
            internal_error()

    def python_write(kind: int, container: Any, key: Any, site: tuple[Any, ...]) -> None:
        try:
            ts = tl.ts
        except AttributeError:
            ts = thread_state()
        try:
            cell = cells[(id(container),) if kind == SIZE else (id(container), key)]
        except KeyError:
            cell = None
        except TypeError:  # an unhashable key: not a location
            return
        except Exception:  # a key whose hash fails: a detector failure must never reach the program
            internal_error()
            return
        e = ts.epoch
        if cell is not None and cell.w == e and (cell.m == e or cell.r != e):
            if perturb is not None:
                perturb(ts)
            return
        python_write_miss(cell, ts, e, kind, container, key, site)

    def python_write_miss(
        cell: Cell | None, ts: ThreadState, e: int, kind: int, container: Any, key: Any, site: tuple[Any, ...]
    ) -> None:
        try:
            cell = locate(cell, kind, container, key, site, ts)
            if cell is not None:
                with stripes[(id(cell) >> 4) & STRIPE_MASK]:
                    python_write_slow(cell, ts, e, site)
        except Exception:  # a detector bug must never break the program
            internal_error()
        if perturb is not None:
            perturb(ts)

    def python_iterated(container: Any, site: tuple[Any, ...]) -> None:
        try:
            ts = tl.ts
        except AttributeError:
            ts = thread_state()
        try:
            cell = cells[(id(container),)]
        except KeyError:
            cell = None
        if cell is not None and cell.r == ts.epoch and cell.rsite is site:  # same iteration, same epoch
            return
        try:
            cell = locate(cell, SIZE, container, None, site, ts)
            if cell is not None:
                with stripes[(id(cell) >> 4) & STRIPE_MASK]:
                    python_iteration_slow(cell, ts, site)
        except Exception:
            internal_error()

    def python_iteration_slow(cell: Cell, ts: ThreadState, site: tuple[Any, ...]) -> None:
        e = ts.epoch
        info = record_read(cell, ts, e, site)
        w, wi = cell.w, cell.wi
        if w and wi is not None and unordered(w, ts):
            report("iteration", cell, info, "read", wi, "write")
        cell.it = remember(cell.it, ts, e, info)

    if python:
        return Recorders(python_read, python_write, python_iterated, python_read_miss, python_write_miss)
    return Recorders(strict_read, strict_write, strict_iterated, strict_read_miss, strict_write_miss)
