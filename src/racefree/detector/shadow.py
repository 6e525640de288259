"""Shadow memory: one :class:`Cell` per Python location the program touched.

Invariants (true with and without the GIL):

* ``Shadow.cells`` maps ``(id(container), key)`` (``(id(container),)`` for a
  SIZE location) to a Cell.  A cell reaches its container through a weak
  reference or a :class:`_Hold` (below), checked before any comparison, so an
  ``id`` is never confused with a later object's; only GLOBAL cells hold their
  namespace (a module's dict) directly.
* Cells are created with ``dict.setdefault`` (one winner per location, atomic on
  both builds) and evicted oldest-first under ``Shadow.lock`` when there are
  more than ``history_size`` of them; an evicted location starts over with no
  history (a missed race, never a false one).
* A cell's access fields are read and written under the cell's stripe lock
  (see :mod:`racefree.detector.access`), except the fast path's read of one
  epoch, which can only send an access to the slow path needlessly.
* A cell holds a weakly referenced container through a :class:`_Ref` whose
  callback removes the cell when the container dies (the object can never be
  accessed again, and no other object can have its id before that callback has
  run), so dead objects do not fill the history.
* A container without weak references (dict, list...) is held by a
  :class:`_Hold` shared by its cells, which call it like a weak reference; the
  shadow references such a container only through holds.  Every live hold is
  listed in ``Shadow.anchors`` (each remembers at most ``HOLD_KEYS`` cell keys).
  A hold lets go of its container (and its remembered cells are removed) as soon
  as a sweep finds that only the shadow keeps it alive: referenced by the hold
  alone (``sys.getrefcount``), or by holds and a garbage cycle it is part of
  (trial deletion, :func:`racefree.detector.garbage.garbage_cycle`).  Sweeps run before every gc
  collection (``on_gc``: the holds made since the last one, all at a full
  collection, which also drops the holds no cell uses) and every ``SWEEP_EVERY``
  new held cells (the newest ``SWEEP_EVERY`` holds), so the program's garbage is
  freed by the collection that would free it without the detector.  A released
  hold's other cells are dead: found again (the id reused), they are replaced
  like a dead weak reference's; otherwise evicted in turn.  No bookkeeping grows
  with the number of keys a container ever had.
* An ITEM key that is an object (not a str, int, tuple... value) is stored as a
  :class:`WeakKey` when it can be weakly referenced: the shadow never keeps a
  key (a WeakSet element, a deleted dict key) alive, and its cell goes with it.
* ATTR of a module object is that module's GLOBAL: both keys map to one cell.
  Attributes of ``threading.local`` objects and items of immutable containers get
  a cell with ``off`` set: never checked, never reported.
"""

from __future__ import annotations

import _thread
import gc
import itertools
import sys
import weakref
from collections import deque
from collections.abc import Hashable
from itertools import islice
from types import ModuleType
from typing import Any

from racefree.detector.descriptors import is_accessor
from racefree.detector.events import ATTR, CELL, ELEMENTS, GLOBAL, ITEM, S_TEXT, SIZE
from racefree.detector.garbage import CYCLE_LIMIT, _Hold, garbage_cycle

_allocate_lock = _thread.allocate_lock
_getrefcount = sys.getrefcount
_is_tracked = gc.is_tracked
SWEEP_EVERY = 4096
EVICTED = -1  # Cell.seq of a cell evicted for the history limit (no longer in Shadow.cells)
HOLD_KEYS = 32  # cell keys a hold remembers for removal; a bigger container's cells wait for eviction
_VALUE_KEYS = frozenset({str, int, float, bool, bytes, type(None), complex, tuple})
_LOCAL_TYPES: tuple[type, ...] = (_thread._local,)
try:
    import _threading_local

    _LOCAL_TYPES += (_threading_local.local,)
except ImportError:  # pragma: no cover
    pass

IMMUTABLE = frozenset({str, bytes, tuple, frozenset, range, memoryview, type(None), int, float, complex})

Info = tuple[Any, ...]  # (ThreadState, site, captured stack)


class _Ref(weakref.ref):  # type: ignore[type-arg]
    """A weak reference that knows its cell's key in ``Shadow.cells``."""

    __slots__ = ("key",)
    key: Hashable


class Cell:
    """The access history of one location (FastTrack state plus python-mode extras).

    ``w``/``wi``: epoch and info of the last write; ``r``/``ri``: of the last read,
    or ``r == SHARED`` and ``rs`` a dict tid -> (epoch, info) of unordered reads;
    ``m``/``mi``: the last read-modify-write (``mi`` ends with the info of its read, a
    4th item); ``g``: tid -> (epoch, info) of guard reads (check-then-act); ``it``: tid ->
    (epoch, info) of iterations; ``pub``: a python-mode key set's last write (epoch, info)
    before another thread first reached it (then ``w`` starts over: see
    ``access.published``), or None.
    """

    __slots__ = (
        "container", "g", "it", "key", "kind", "loc", "m", "mi", "off", "owner", "pub", "r", "ri", "rs",
        "rsite", "seq", "shared", "text", "w", "weak", "wi",
    )

    def __init__(
        self, kind: int, container: Any, key: Any, text: str, weak: bool, off: bool, owner: int,
        ref: weakref.ref[Any] | _Hold | None = None,
    ) -> None:
        self.kind = kind
        # `ref`: the weak reference (one with a death callback) or _Hold to use, else a plain one
        self.container = (ref if ref is not None else weakref.ref(container)) if weak else container
        self.weak = weak
        self.key = key
        self.text = text
        self.off = off
        self.owner = owner  # the first thread to touch it; `shared` once another one does
        self.shared = False
        self.loc: str | None = None
        self.w = self.r = self.m = 0
        self.wi: Info | None = None
        self.ri: Info | None = None
        self.rsite: Any = None  # site of the read in `ri` (a fast-path check in python mode)
        self.mi: Info | None = None
        self.rs: dict[int, tuple[int, Info]] | None = None
        self.g: dict[int, tuple[int, Info]] | None = None
        self.it: dict[int, tuple[int, Info]] | None = None
        self.pub: tuple[int, Info] | None = None
        self.seq = 0  # its entry in Shadow.order (a creation number, never reused)

    def holds(self, container: Any) -> bool:
        """Whether this cell still describes `container` (not a dead object's reused id)."""
        if self.weak:
            return bool(self.container() is container)
        return True

    def target(self) -> Any:
        return self.container() if self.weak else self.container

    def location(self) -> str:
        """The report string: ``Counter.n``, ``global total``, ``dict registry['cfg']``…"""
        loc = self.loc
        if loc is None:
            loc = self.loc = describe(self.kind, self.target(), self.key, self.text)
        return loc


class WeakKey(weakref.ref):  # type: ignore[type-arg]
    """An ITEM location's key object (a WeakSet element, a dict's object key), held weakly.

    Equal to the form the recorders look it up by (the object itself, or its
    :class:`Ident`) while the object lives; once dead, only to itself, and its cell
    is removed by the callback.  So the shadow never keeps a key alive (a WeakSet's
    element, a key the program deleted), and a new object at a dead key's address
    never finds the dead key's cell.
    """

    __slots__ = ("cid", "hash", "name")
    cid: int
    hash: int
    name: str

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other: object) -> bool:
        if other is self:
            return True
        t = self()
        if t is None:
            return False
        if type(other) is WeakKey:
            return other() is t
        if type(other) is Ident:
            return other.obj is t
        return other is t

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)


class Ident:
    """A dict/set key whose own ``__hash__``/``__eq__`` are the program's code, as a location
    key compared by identity: the detector never calls the program (two equal but distinct
    key objects are then two locations: a race between them can be missed, never invented)."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def __hash__(self) -> int:
        return id(self.obj)

    def __eq__(self, other: object) -> bool:
        if type(other) is WeakKey:
            return other() is self.obj
        return type(other) is Ident and other.obj is self.obj



def safe_repr(key: Any) -> str:
    """repr() of simple keys only: never runs user code from inside the detector."""
    t = type(key)
    if t in (str, int, float, bool, bytes, type(None)):
        r = repr(key)
        return r if len(r) <= 60 else r[:57] + "..."
    if t is tuple and len(key) <= 4:
        return "(" + ", ".join(safe_repr(k) for k in key) + ("," if len(key) == 1 else "") + ")"
    if t is Ident:
        return f"<{type(key.obj).__name__}>"
    if key is ELEMENTS:
        return "*"
    if t is WeakKey:
        return f"<{key.name}>"
    return f"<{t.__name__}>"


def describe(kind: int, container: Any, key: Any, text: str) -> str:
    if kind == GLOBAL:
        return f"global {key}"
    if kind == CELL:
        return f"closure {key}"
    if kind == ATTR:
        owner = container.__name__ if issubclass(type(container), type) else type(container).__name__
        return f"{owner}.{key}"
    tname = type(container).__name__ if container is not None else "object"
    if kind == SIZE:
        return f"{tname} {text}".rstrip()
    return f"{tname} {text}[{safe_repr(key)}]"


class Shadow:
    """All cells of one detector run, bounded by `history_size`."""

    def __init__(self, history_size: int) -> None:
        self.history_size = max(16, history_size)
        self.cells: dict[Hashable, Cell] = {}
        self.lock = _allocate_lock()  # guards eviction and sweeping (taken without blocking)
        self.evicted = 0
        self.swept = 0
        # id(container) -> the _Hold of a container without weak references, newest last;
        # swept young, then forgotten (see the invariants)
        self.anchors: dict[int, _Hold] = {}
        self._created = 0  # held cells created since the last sweep (approximate)
        self.young: list[_Hold] = []  # holds made since the last sweep (appended by any thread)
        # (key, cell.seq) in creation order, for eviction: oldest first without iterating
        # `cells` (on the free-threaded build an iteration of a dict another thread inserts
        # into fails, and every failed eviction was retried at the next insertion).  Stale
        # entries (a cell gone by death, sweep or replacement) are dropped as met, and
        # compacted at 2x history; a creation number, not the cell, so a gone cell is not
        # kept alive, and not its id, which the next cell under the same key often reuses
        self.order: deque[tuple[Hashable, int]] = deque()
        self._seq = itertools.count(1)
        cells = self.cells

        def forget(ref: _Ref) -> None:
            # a weakly held container died: its cells go (see the invariants)
            try:
                k = ref.key
                if cells[k].container is ref:
                    del cells[k]
            except Exception:  # already evicted, or the interpreter is shutting down
                pass

        self._forget = forget

        def forget_key(wk: WeakKey) -> None:
            # a location's key object died: no access can name it again
            try:
                cells.pop((wk.cid, wk), None)
            except Exception:  # the interpreter is shutting down
                pass

        self._forget_key = forget_key

    def after_fork_in_child(self) -> None:
        """In a forked child (only the forking thread survives): a fresh lock, never one held forever."""
        self.lock = _allocate_lock()

    def new_cell(self, kind: int, container: Any, key: Any, site: tuple[Any, ...], owner: int) -> Cell:
        """Create (or find, if another thread won) the cell of a location seen for the first time."""
        cells = self.cells
        t = type(container)
        if kind == ATTR and t is ModuleType:
            g = container.__dict__
            try:  # subscripts, not .get: see access.build
                cell = cells[(id(g), key)]
            except KeyError:
                cell = self._insert((id(g), key), Cell(GLOBAL, g, key, "", False, False, owner), owner)
            else:
                if cell.owner != owner:
                    cell.shared = True
            return cells.setdefault((id(container), key), cell)
        if kind == SIZE:
            k: Hashable = (id(container),)
        else:
            if kind == ITEM and type(key) not in _VALUE_KEYS:
                key = self._weak_key(container, key)
            k = (id(container), key)
        if kind == GLOBAL:  # a module's namespace: held directly, as its ATTR twin is (above)
            cell = self._insert(k, Cell(GLOBAL, container, key, "", False, False, owner), owner)
            self._bound()
            return cell
        off = (kind == ATTR and (issubclass(t, _LOCAL_TYPES) or is_accessor(t, key))) or (
            kind >= ITEM and t in IMMUTABLE
        )
        text = str(site[S_TEXT]) if kind >= ITEM else ""
        ref: _Ref | _Hold
        if t.__weakrefoffset__ != 0:
            ref = _Ref(container, self._forget)
            ref.key = k
        else:
            ref = self._hold(container)
        new = Cell(kind, container, key, text, True, off, owner, ref)
        cell = self._insert(k, new, owner)
        if cell is new and type(ref) is _Hold:
            keys = ref.keys
            if keys is not None:
                if len(keys) < HOLD_KEYS:
                    keys.append(k)
                else:
                    ref.keys = None  # not a small temporary: its cells wait for eviction
            self._created += 1
            if self._created >= SWEEP_EVERY:
                self._sweep()
        self._bound()
        return cell

    def _insert(self, k: Hashable, new: Cell, owner: int) -> Cell:
        """`new` under `k` unless another thread was first: the cell now there, shared if not `owner`'s."""
        cell = self.cells.setdefault(k, new)
        if cell is new:
            cell.seq = seq = next(self._seq)
            self.order.append((k, seq))
        if cell.owner != owner:
            cell.shared = True
        return cell

    def _bound(self) -> None:
        """Evict (and compact the eviction queue) once past the history."""
        if len(self.cells) > self.history_size or len(self.order) > 2 * self.history_size:
            self._evict()

    def _weak_key(self, container: Any, key: Any) -> Any:
        """The stored form of an object key: a :class:`WeakKey` when it can be weakly referenced."""
        obj = key.obj if type(key) is Ident else key
        try:
            wk = WeakKey(obj, self._forget_key)
        except TypeError:  # no weak references: held (as the program's container holds it)
            return key
        wk.hash = hash(key)  # the object's own default hash, or Ident's: no program code
        wk.cid = id(container)
        wk.name = type(obj).__name__
        return wk

    def _hold(self, container: Any) -> _Hold:
        """The hold of `container` (a new one unless a listed hold still has it)."""
        anchors = self.anchors
        try:  # a subscript, not .get: see access.build
            hold = anchors[id(container)]
        except KeyError:
            hold = None
        if hold is None or hold.obj is not container:
            # (a released hold whose id was reused is replaced: the new one is young)
            hold = anchors[id(container)] = _Hold(container)
            self.young.append(hold)
        return hold

    def replace(self, cell: Cell, container: Any, key: Any, site: tuple[Any, ...], owner: int) -> Cell:
        """The cell's object died and its id was reused: start the location over."""
        k: Hashable = (id(container),) if cell.kind == SIZE else (id(container), key)
        self.cells.pop(k, None)
        return self.new_cell(cell.kind, container, key, site, owner)

    def _evict(self) -> None:
        if not self.lock.acquire(False):
            return  # another thread is evicting
        try:
            cells, order = self.cells, self.order
            excess = len(cells) - self.history_size + self.history_size // 4
            evicted = 0
            while evicted < excess:
                try:
                    k, seq = order.popleft()
                except IndexError:
                    break
                try:  # a subscript, not .get: see access.build
                    cell = cells[k]
                    if cell.seq != seq:
                        continue  # replaced: its newer cell has its own entry
                    del cells[k]
                except KeyError:
                    continue  # gone already
                cell.seq = EVICTED  # a thread's C table that still has it looks the location up again
                evicted += 1
            self.evicted += evicted
            if len(order) > 2 * self.history_size:
                # compact: keep the entries of cells still in the shadow, in order (entries
                # other threads append meanwhile land among them: eviction order is approximate)
                for _ in range(len(order)):
                    try:
                        k, seq = order.popleft()
                    except IndexError:
                        break
                    try:
                        if cells[k].seq == seq:
                            order.append((k, seq))
                    except KeyError:
                        pass
        finally:
            self.lock.release()

    def _sweep(self, full: bool = False, young: bool = False) -> None:
        """Let go of the containers that only the shadow still keeps alive.

        Looks at the newest SWEEP_EVERY holds, those made since the last collection
        when `young` (a collection of the youngest objects), every hold when `full`: a
        container only its hold references, or one whose every reference comes from
        the holds and a garbage cycle it is part of (a self-referencing list, a
        dict and its children), is released, and its remembered cells removed.
        Nobody but the shadow can reach such a container, so no later access can
        need its history.  Also drops (when `full`) the holds no cell uses.
        """
        if not self.lock.acquire(False):
            return
        try:
            if not young:
                self._created = 0
            holds, self.young = self.young, []
            if not young:
                try:
                    values = self.anchors.values()
                    holds = list(values) if full else list(islice(reversed(values), SWEEP_EVERY))
                except RuntimeError:  # resized concurrently (free-threaded build)
                    pass
            cyclic = []
            obj = None
            for hold in holds:
                obj = hold.obj
                if obj is None:
                    continue
                # references: the hold's, `obj` here, getrefcount's argument
                if _getrefcount(obj) <= 3:
                    obj = None
                    self._release(hold)
                elif _is_tracked(obj):
                    cyclic.append(hold)
            del obj, holds
            budget = [CYCLE_LIMIT * 64]  # objects all cycle checks of one sweep may look at
            for candidate in cyclic:
                if candidate.obj is not None and budget[0] > 0:
                    for h in garbage_cycle(candidate, self.anchors, budget) or ():
                        self._release(h)
            if full:
                self._prune()
        finally:
            self.lock.release()

    def _release(self, hold: _Hold) -> None:
        """Drop `hold`'s container and the cells it remembers (caller holds ``lock``)."""
        hold.obj = None
        keys, hold.keys = hold.keys, None
        cells = self.cells
        for k in keys or ():
            try:
                if cells[k].container is hold:
                    del cells[k]
                    self.swept += 1
            except KeyError:
                pass
        try:
            if self.anchors[hold.ident] is hold:
                del self.anchors[hold.ident]
        except KeyError:
            pass

    def _prune(self) -> None:
        """Drop the holds no cell uses any more (evicted): their containers go with them."""
        anchors = self.anchors
        try:
            idents = list(anchors)
        except RuntimeError:
            return
        for ident in idents:
            try:
                hold = anchors[ident]
            except KeyError:
                continue
            # references: anchors', `hold` here, getrefcount's argument
            if _getrefcount(hold) <= 3:
                hold.obj = None
                try:
                    if anchors[ident] is hold:
                        del anchors[ident]
                except KeyError:
                    pass

    def on_gc(self, phase: str, info: dict[str, Any]) -> None:
        """A ``gc.callbacks`` entry: release what only the shadow keeps before each collection,
        so the collector frees the program's garbage cycles as it would without the detector
        (every hold at a full collection, those made since the last one at the others)."""
        if phase == "start":
            try:
                full = info.get("generation") == 2
                self._sweep(full=full, young=not full)
            except Exception:  # pragma: no cover - never let the detector break a collection
                pass

    def __len__(self) -> int:
        return len(self.cells)
