"""The directed scheduler of ``racefree run --confirm`` (runs in the confirming child).

:class:`Child` reads its :class:`~racefree.detector.confirm.Target` from the
environment (and removes the variables: the program never sees them), wraps the
runtime functions (:mod:`racefree.detector.runtime`) and holds threads at the
target's code sites so that the harmful order happens (see
:mod:`racefree.detector.confirm` for the orders per race kind).  On each access
the wrappers compare the site's file with a set, and only a target site does
more; nothing here runs unless ``--confirm`` was given.

Invariants: the scheduler's state is guarded by ``_Scheduler.lock``, a private
``_thread`` lock that never creates happens-before edges and is never held
while the program runs or while a thread waits.  Threads wait on per-waiter
``_thread`` locks, always with a timeout (:data:`WAIT`, :data:`AFTER`), and at
most :data:`MAX_GATES` arrivals per run wait at all: a held thread always goes
on, so nothing can deadlock.  One interleaving is forced per run.
"""

from __future__ import annotations

import json
import os
import random
import sys
from _thread import allocate_lock, get_ident
from collections.abc import Callable
from dataclasses import dataclass
from types import BuiltinFunctionType, CellType, ModuleType
from typing import Any

from racefree.detector import runtime
from racefree.detector.confirm import Target, key_name
from racefree.detector.confirming import ENV_OUT, ENV_TARGET
from racefree.detector.events import ATTR, CELL, F_ITERATION, GLOBAL, ITEM, S_FILE, S_FLAGS, S_LINE, SIZE

WAIT = 0.5  # seconds a thread is held at a gate waiting for the other access
AFTER = 0.5  # seconds the second thread waits for the first one's access to finish
MAX_GATES = 6  # held arrivals per run before the scheduler gives up (it then costs nothing more)

_MISSING = object()  # the value could not be read without running program code
_ABSENT = object()  # the location holds nothing: an unset attribute or global, a missing key
_SIMPLE = (int, float, complex, bool, str, bytes, type(None))
_VIEWS = frozenset({"keys", "values", "items"})  # iterated in a ``for``: held like the ``for`` itself
# callables that consume their one iterable argument the same whatever iterable it is
_CONSUMERS: frozenset[Any] = frozenset({sorted, sum, min, max, any, all, list, tuple, set, frozenset})


def _consumer(func: Any, nargs: int) -> bool:
    try:
        return func in _CONSUMERS and (nargs == 1 or func in (sorted, sum))
    except TypeError:  # an unhashable callable
        return False


# -- reading a location's value without running program code ------------------------------------


def _show(value: Any) -> str:
    if value is _ABSENT:
        return "nothing (not set yet)"
    if value is _MISSING:
        return "(unknown)"
    if type(value) in _SIMPLE:
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    return f"<{type(value).__name__} object>"


def _same(a: Any, b: Any) -> bool:
    """``a == b`` without calling the program's ``__eq__``."""
    return a is b or (type(a) is type(b) and type(a) in _SIMPLE and bool(a == b))


def _peek(kind: int, container: Any, key: Any) -> Any:
    """The location's current value, read without calling any code of the program (else _MISSING)."""
    try:
        if kind == ATTR:
            d = object.__getattribute__(container, "__dict__")
            return dict.get(d, key, _ABSENT) if type(d) is dict else _MISSING
        if kind == GLOBAL:
            return dict.get(container, key, _ABSENT)
        if kind == CELL:
            return container.cell_contents if type(container) is CellType else _MISSING
        if kind == ITEM:
            if type(container) is dict and type(key) in _SIMPLE:
                return dict.get(container, key, _ABSENT)
            if type(container) is list and type(key) is int:
                return list.__getitem__(container, key)
        if kind == SIZE and type(container) in (dict, list, set):
            return len(container)
    except Exception:
        pass
    return _MISSING


# -- the directed scheduler (in the child) -------------------------------------------------------


@dataclass(eq=False)
class _Arrival:
    tid: int
    thread: str
    role: str  # "r" read, "w" write, "act" write after a guard read, "it" iteration, "mut" mutation
    loc: tuple[Any, ...]
    kind: int
    container: Any
    key: Any
    hold: Any = None  # the lock this arrival waits on for a partner
    after: Any = None  # the second of a pair: the lock it waits on for the first one's access
    paired: bool = False
    read_value: Any = _MISSING


class _Scheduler:
    """Holds threads at the target's sites so that the harmful order happens (see module docstring)."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.rng = random.Random(target.seed * 1000003 + target.attempt)
        self.lock = allocate_lock()
        self.sites = {(s.file, s.line): s.op for s in target.sites}
        self.files = {s.file for s in target.sites}
        self.name = key_name(target.location) if target.kind != "iteration" else ""
        self.waiting: list[_Arrival] = []  # guarded by lock
        self.release_after: dict[int, list[Any]] = {}  # tid -> locks to release at its next event
        self.reads: dict[tuple[int, tuple[Any, ...]], Any] = {}  # (tid, loc) -> value read last
        self.guarded: set[tuple[int, tuple[Any, ...]]] = set()  # (tid, loc) that read at a check site
        self.gates = 0
        self.done = False
        self.doc: dict[str, Any] = {"happened": False, "observed": ""}  # guarded by lock
        self.saved: dict[str, Callable[..., Any]] = {}
        self.pair: tuple[_Arrival, _Arrival] | None = None  # set once, under lock
        self.first_value: Any = _MISSING  # the location right after the first access of the pair

    # the program-facing wrappers ------------------------------------------------------------

    def install(self) -> None:
        from racefree.detector.containers import _lookup, _tracked

        self.saved = runtime.current()  # every runtime function, wrapped or not
        s = self.saved
        ev = self._event
        r_read, r_write, r_get, r_set, r_del, r_contains, r_iter, r_call = (
            s["read"], s["write"], s["getitem"], s["setitem"], s["delitem"], s["contains"], s["iterate"],
            s["call"])
        builtins_module = sys.modules["builtins"]

        def read(kind: int, container: Any, key: Any, site: tuple[Any, ...]) -> None:
            ev(site, "r", kind, container, key)
            r_read(kind, container, key, site)

        def write(kind: int, container: Any, key: Any, site: tuple[Any, ...]) -> None:
            ev(site, "w", kind, container, key)
            r_write(kind, container, key, site)

        def getitem(container: Any, key: Any, site: tuple[Any, ...]) -> None:
            ev(site, "r", ITEM, container, key)
            r_get(container, key, site)

        def setitem(container: Any, key: Any, site: tuple[Any, ...]) -> None:
            ev(site, "w", ITEM, container, key)
            r_set(container, key, site)

        def delitem(container: Any, key: Any, site: tuple[Any, ...]) -> None:
            ev(site, "w", ITEM, container, key)
            r_del(container, key, site)

        def contains(container: Any, key: Any, site: tuple[Any, ...]) -> None:
            ev(site, "r", ITEM, container, key)
            r_contains(container, key, site)

        def iterate(container: Any, site: tuple[Any, ...]) -> Any:
            ev(site, "", SIZE, container, None)
            it = r_iter(container, site)
            if not self.done and (site[S_FILE], site[S_LINE]) in self.sites:
                return self._iteration(it, container)
            return it

        def call(func: Any, site: tuple[Any, ...], /, *args: Any, **kwargs: Any) -> Any:
            owner = None
            if type(func) is BuiltinFunctionType:
                owner = func.__self__
                if owner is not None and owner is not builtins_module and _tracked(type(owner)):
                    action = _lookup(type(owner), func.__name__)
                    if action is not None:
                        op = "r" if action in ("r", "len", "it") else "w"
                        key = args[0] if action in ("r", "ins", "del") and args else None
                        ev(site, op, ITEM if key is not None else SIZE, owner, key)
                else:
                    if owner is builtins_module and args and _tracked(type(args[0])):
                        ev(site, "r", SIZE, args[0], None)  # len(d), sorted(d)...: its size
                    owner = None
            if site[S_FLAGS] & F_ITERATION and not self.done and (site[S_FILE], site[S_LINE]) in self.sites:
                # an iteration inside one call: hand the call an iterable that can be held mid-way
                if owner is not None and func.__name__ in _VIEWS:
                    return self._iteration(r_call(func, site, *args, **kwargs), owner)
                if args and _tracked(type(args[0])) and _consumer(func, len(args)):
                    args = (self._iteration(args[0], args[0]), *args[1:])
            return r_call(func, site, *args, **kwargs)

        runtime.install({**self.saved, "read": read, "write": write, "getitem": getitem, "setitem": setitem,
                         "delitem": delitem, "contains": contains, "iterate": iterate, "call": call})

    def uninstall(self) -> None:
        if self.saved and runtime.recording():
            runtime.install(self.saved)
        with self.lock:
            self.done = True
            waiting, self.waiting = self.waiting, []
            pending = [lk for lks in self.release_after.values() for lk in lks]
            self.release_after.clear()
        for a in waiting:
            _release(a.hold)
        for lk in pending:
            _release(lk)

    # the event ----------------------------------------------------------------------------

    def _event(self, site: tuple[Any, ...], op: str, kind: int, container: Any, key: Any) -> None:
        tid = get_ident()
        if self.release_after:
            self._next_event(tid)
        if self.done or not op or site[S_FILE] not in self.files or not self._matches(kind, key):
            return
        if kind == ATTR and type(container) is ModuleType:  # a module's attribute is its global
            kind, container = GLOBAL, container.__dict__
        loc = (id(container), None if kind == SIZE else key)
        want = self.sites.get((site[S_FILE], site[S_LINE]))
        kind_ = self.target.kind
        if op == "r":
            # every read of the location is remembered: a lost update may read on another line
            value = _peek(kind, container, key)
            with self.lock:
                self.reads[(tid, loc)] = value
                if kind_ == "check-then-act" and want == "read":
                    self.guarded.add((tid, loc))
            if kind_ == "data-race" and want == "read":
                self._arrive(_Arrival(tid, _thread_name(), "r", loc, kind, container, key))
            return
        size_loc = (loc[0], None)
        if kind_ == "check-then-act" and (tid, loc) not in self.guarded and (tid, size_loc) in self.guarded:
            loc = size_loc  # the check read the size (``len(d) < n``): any write of d is the act
        if want is None:
            # check-then-act: a write at any site after this thread's guard read is the act
            if kind_ != "check-then-act" or (tid, loc) not in self.guarded:
                return
            role = "act"
        elif kind_ == "iteration":
            role = "mut"
        elif kind_ == "check-then-act":
            role = "act" if (tid, loc) in self.guarded else "w"
        else:
            role = "w"
        arrival = _Arrival(tid, _thread_name(), role, loc, kind, container, key)
        arrival.read_value = self.reads.get((tid, loc), _MISSING)
        self._arrive(arrival)

    def _matches(self, kind: int, key: Any) -> bool:
        if kind in (ATTR, GLOBAL, CELL) and self.name:
            return type(key) is str and key == self.name
        return True

    def _next_event(self, tid: int) -> None:
        with self.lock:
            locks = self.release_after.pop(tid, None)
        if locks and self.pair is not None and self.pair[0].tid == tid:
            first = self.pair[0]  # its access just ran: what it left is what the second will see
            self.first_value = _peek(first.kind, first.container, first.key)
        for lk in locks or ():
            _release(lk)

    # pairing ------------------------------------------------------------------------------

    def _compatible(self, a: _Arrival, b: _Arrival) -> bool:
        if a.tid == b.tid:
            return False
        kind = self.target.kind
        roles = {a.role, b.role}
        if kind == "iteration":
            return roles == {"it", "mut"} and a.loc[0] == b.loc[0]
        if a.loc != b.loc:
            return False
        if kind == "lost-update":
            return roles == {"w"}
        if kind == "check-then-act":
            return roles == {"act"} or roles == {"act", "w"}
        return "w" in roles  # data-race: read/write or write/write

    def _arrive(self, arrival: _Arrival) -> None:
        """Hold this thread until a partner arrives (bounded), then let the harmful order run."""
        with self.lock:
            if self.done:
                return
            partner = next((w for w in self.waiting if self._compatible(w, arrival)), None)
            if partner is None:
                if self.gates >= MAX_GATES:
                    return
                if arrival.role == "mut" and _peek(SIZE, arrival.container, None) == 0:
                    return  # an empty container's iteration ends before it can be held: don't wait
                self.gates += 1
                arrival.hold = allocate_lock()
                arrival.hold.acquire()
                self.waiting.append(arrival)
            else:
                self.waiting.remove(partner)
                self.done = True  # one forced interleaving per run
                partner.paired = arrival.paired = True
                first, second = self._order(partner, arrival)
                second.after = allocate_lock()
                second.after.acquire()
                self.release_after.setdefault(first.tid, []).append(second.after)
                self.doc["happened"] = True
                self.doc["order"] = f"{first.role}-first"
                self.pair = (first, second)
        if partner is None:
            if not arrival.hold.acquire(True, WAIT):
                with self.lock:
                    if not arrival.paired:
                        self.waiting.remove(arrival)
                        return
                arrival.hold.acquire()  # paired just as the wait ran out: its release is on its way
        else:
            _release(partner.hold)
        assert self.pair is not None
        first, second = self.pair
        if arrival is second:
            if not second.after.acquire(True, AFTER):
                # the first thread made no instrumented access since (it ended, or runs native code)
                self.first_value = _peek(first.kind, first.container, first.key)
            self._observe(first, second)

    def _order(self, a: _Arrival, b: _Arrival) -> tuple[_Arrival, _Arrival]:
        kind = self.target.kind
        if kind == "iteration":
            return (a, b) if a.role == "mut" else (b, a)
        if kind == "check-then-act" and {a.role, b.role} == {"act", "w"}:
            return (a, b) if a.role == "w" else (b, a)
        if kind == "data-race":
            # alternate with the attempt (its parity, shifted by the race's seed): both orders get tried
            a_first = (self.target.attempt + self.target.seed) % 2 == 0
            if {a.role, b.role} == {"r", "w"}:
                r, w = (a, b) if a.role == "r" else (b, a)
                return (r, w) if a_first else (w, r)
            return (a, b) if a_first else (b, a)
        return (a, b) if self.rng.randrange(2) == 0 else (b, a)

    def _observe(self, first: _Arrival, second: _Arrival) -> None:
        """In the second thread: after the first one's access ran, just before its own."""
        kind = self.target.kind
        loc = self.target.location
        now = self.first_value
        value = ""
        if kind == "lost-update":
            if first.read_value is not _MISSING and _same(first.read_value, second.read_value):
                text = (f"{loc} written {_show(now)} by {first.thread} after both threads read "
                        f"{_show(first.read_value)}; {second.thread} then writes a value computed from "
                        f"the same {_show(second.read_value)}: one update is lost")
            else:
                text = (f"{first.thread} and {second.thread} both read {loc} before either wrote it; "
                        f"{first.thread} wrote {_show(now)}, then {second.thread} overwrote it")
        elif kind == "check-then-act":
            if first.role == second.role == "act":
                text = (f"the guarded body ran in both threads ({first.thread} and {second.thread}): both "
                        f"passed the check on {loc} before either acted")
            else:
                text = (f"{first.thread} wrote {loc} ({_show(now)}) after {second.thread}'s check; "
                        f"{second.thread} then acted on the stale check")
        elif kind == "iteration":
            text = f"{first.thread} changed {loc} while {second.thread} was iterating it"
        else:
            # the value the read sees (read second), or saw (read first: nothing has written yet);
            # for two writes, the value the first left for the second to overwrite
            value = _show(now)
            reader = first if first.role == "r" else second
            if "r" in (first.role, second.role):
                order = "before" if first.role == "r" else "after"
                text = f"the read by {reader.thread} saw {value} when it ran {order} the write"
            else:
                text = f"{first.thread} wrote {value} first, then {second.thread} overwrote it"
        with self.lock:
            self.doc["observed"] = text
            self.doc["value"] = value

    def _iteration(self, it: Any, container: Any) -> Any:
        """The iterable, held after its first element until another thread's mutation ran."""
        owner = getattr(container, "mapping", container)
        sched = self

        def held() -> Any:
            iterator = iter(it)
            first = True
            while True:
                try:
                    item = next(iterator)
                except StopIteration:
                    return
                except RuntimeError as exc:
                    with sched.lock:
                        if sched.doc["happened"]:
                            sched.doc["observed"] += f"; the iteration raised RuntimeError: {exc}"
                    raise
                yield item
                if first:
                    first = False
                    before = _peek(SIZE, owner, None)
                    sched._arrive(_Arrival(get_ident(), _thread_name(), "it", (id(owner), None), SIZE, owner,
                                           None))
                    after = _peek(SIZE, owner, None)
                    if before is not _MISSING and before != after:
                        with sched.lock:
                            sched.doc["observed"] += f"; its size went from {before} to {after} mid-iteration"
        return held()

    def outcome(self) -> dict[str, Any]:
        with self.lock:
            return dict(self.doc)


def _release(lk: Any) -> None:
    try:
        lk.release()
    except RuntimeError:
        pass


def _thread_name() -> str:
    import threading

    return threading.current_thread().name


# -- the child: started by the parent through the environment ------------------------------------


class Child:
    """The confirming child's scheduler and where its verdict goes."""

    def __init__(self, target: Target, out: str) -> None:
        self.scheduler = _Scheduler(target)
        self.out = out

    @classmethod
    def from_environ(cls) -> Child | None:
        """The child asked for by the parent (the variables are removed: the program never sees them)."""
        text = os.environ.pop(ENV_TARGET, None)
        out = os.environ.pop(ENV_OUT, None)
        if text is None or out is None:
            return None
        return cls(Target.from_json(text), out)

    def start(self) -> None:
        self.scheduler.install()

    def finish(self, status: int) -> None:
        self.scheduler.uninstall()
        doc = self.scheduler.outcome()
        doc["status"] = status
        with open(self.out, "w", encoding="utf-8") as f:
            json.dump(doc, f)
