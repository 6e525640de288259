"""Which implementation answers the per-access fast path: the C one or the pure-Python reference.

The C extension :mod:`racefree.detector._speedups` is built when racefree is
installed with a C compiler at hand; it is optional (like coverage.py's C
tracer), and :mod:`racefree.detector.access` stays the reference: the C code
answers the same-epoch test, and records a miss on a known cell itself only
when access.py's rules say the outcome is "no race" and no table is involved
(read-shared readers, guard reads, iterations); every report, and every other
case, goes through the Python "miss" functions.
tests/detector/engine/test_engine_differential.py checks that both give the
same races on random programs.

The C code keeps, per thread (on its ThreadState, touched by that thread only),
a 64-entry table of the cells it used last, so a repeated access at the same
epoch builds no key and does no shadow lookup.  An entry is used only while its
cell still holds the container (a dead object's reused address fails that); a
cell evicted for the history limit may still answer a same-epoch repeat, which
can hide a race as eviction itself can, never invent one.

``RACEFREE_DETECTOR_BACKEND`` picks one: ``c`` (an error if it is not built),
``python``, or unset / ``auto`` for C when it is built.  :func:`choose` says
which one and why, so a fallback is never silent (``Detector.statistics()``
carries it, ``racefree --version`` prints it).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from racefree.detector import clocks, shadow, stacks
from racefree.detector.clocks import SHIFT, SyncClock, ThreadState
from racefree.detector.events import F_GUARD, F_ITERATION, ITEM, S_FILE, S_FLAGS, S_FLOW, S_FUNC, S_LINE, SIZE
from racefree.detector.shadow import Cell

if TYPE_CHECKING:
    from racefree.detector.access import Recorders
    from racefree.detector.faces import RecordingState

ENV = "RACEFREE_DETECTOR_BACKEND"
BACKENDS = ("auto", "c", "python")


class BackendError(ValueError):
    """``RACEFREE_DETECTOR_BACKEND`` asks for something this installation cannot give."""


def _load() -> tuple[Any, str]:
    try:
        from racefree.detector import _speedups
    except ImportError as exc:
        return None, f"the C extension is not built ({exc})"
    return _speedups, ""


def _chosen_module(backend: str) -> Any:
    """The C extension on the ``c`` back-end, None on ``python``; BackendError if chosen but missing."""
    if backend != "c":
        return None
    module, why = _load()
    if module is None:
        raise BackendError(f"the C fast path was chosen, but {why}")
    return module


def choose() -> tuple[str, str]:
    """``(backend, why)``: ``("c", ...)`` or ``("python", ...)``; BackendError for a bad setting."""
    wanted = os.environ.get(ENV, "").strip().lower() or "auto"
    if wanted not in BACKENDS:
        raise BackendError(f"{ENV}={wanted!r}: expected one of {', '.join(BACKENDS)}")
    if wanted == "python":
        return "python", f"{ENV}=python"
    module, why = _load()
    if module is None:
        if wanted == "c":
            raise BackendError(f"{ENV}=c, but {why}")
        return "python", why
    return "c", "C fast path built" if wanted == "auto" else f"{ENV}=c"


class Accelerated(NamedTuple):
    """What :func:`accelerate` gives the engine to install for one detector run."""

    functions: dict[str, Callable[..., Any]]  # the runtime functions (racefree.detector.runtime)
    join_into: Callable[[list[int], list[int]], None]  # clocks' join (clocks.use_join_into)
    # called in a thread just before its ThreadState is (re)made: each C Recorder caches them
    thread_state_changing: Callable[[], Any] | None = None
    # Detector.lock_acquired / lock_released in C for the tracked locks; None: the Python methods
    lock_events: tuple[Callable[[Any], None], Callable[[Any], None]] | None = None
    # Detector.acquire_release / publish_clock / absorb_clock in C (atomics, queue items, futures)
    clock_events: tuple[Callable[[Any], None], Callable[[], list[int]], Callable[[Any], None]] | None = None


def accelerate(
    det: RecordingState, rec: Recorders, build_containers: Callable[..., dict[str, Callable[..., Any]]]
) -> Accelerated:
    """What `det` records through on its backend (``det.backend``, from :func:`choose`).

    `build_containers(read, write, iterated, snapshot)` is :func:`racefree.detector.containers.build`.
    The one place that takes anything from the C extension for a run: on the
    ``python`` backend every piece is the Python reference, clocks' join included.
    """
    module = _chosen_module(det.backend)
    if module is None:
        return Accelerated(build_containers(rec.read, rec.write, rec.iterated, rec.snapshot),
                           clocks.python_join_into)
    from racefree.detector.containers import _tracked

    # the cells' stripe locks: C ones the C slow path takes without a method call
    det.stripes[:] = [module.Stripe() for _ in det.stripes]

    def recorder(py: dict[str, Callable[..., Any]] | None) -> Any:
        return module.Recorder(
            cells=det.shadow.cells, tls=det.tls, thread_state=det.thread_state,
            read_miss=rec.read_miss, write_miss=rec.write_miss,
            getitem=py["getitem"] if py else None, setitem=py["setitem"] if py else None,
            call=py["call"] if py else None, perturb=det.perturb, python_mode=det.mode == "python",
            item_kind=ITEM, size_kind=SIZE, guard_flag=F_GUARD, flags_index=S_FLAGS,
            cell_type=Cell, ts_type=ThreadState,
            # a container without weak references is held by one of these (its slot `obj`)
            hold_type=getattr(shadow, "_Hold", None),
            stripes=det.stripes, capture=stacks.capture_outside_site, shift=SHIFT,
            iteration_flag=F_ITERATION, file_index=S_FILE, func_index=S_FUNC,
            internal_error=det.internal_error, line_index=S_LINE, flow_index=S_FLOW,
            # call(): a bound method of a type this says is no container is a plain call
            tracked=_tracked if py else None,
        )

    # the containers' Python paths (methods, lists, sets...) record through the C read/write too
    first = recorder(None)
    functions = build_containers(first.read, first.write, rec.iterated, rec.snapshot)
    fast = recorder(functions)
    functions.update(read=fast.read, write=fast.write, getitem=fast.getitem, setitem=fast.setitem,
                     call=fast.call)
    # the tracked locks' clock steps, Detector.lock_acquired/lock_released, in C as well
    # (and racefree.sync's atomics, which carry their own clocks: other keys go to the Python method)
    hooks = module.LockHooks(fast, det.gen, SyncClock, getattr(det, "acquire_release", None))
    return Accelerated(
        functions, module.join_into,
        # each Recorder remembers every thread's ThreadState: tell them when one changes
        thread_state_changing=lambda: (first.forget_thread(), fast.forget_thread()),
        lock_events=(hooks.acquired, hooks.released),
        clock_events=(hooks.acquire_release, hooks.publish_clock, hooks.absorb_clock),
    )


def lock_methods(backend: str, namespace: dict[str, Any]) -> tuple[Any, Any] | None:
    """``(__enter__, __exit__)`` of hb_threading's tracked locks in C on the C back-end; None otherwise.

    `namespace` is hb_threading's globals (the C methods read its ``_hooks``, ``_order``, ``_held``).
    """
    module = _chosen_module(backend)
    if module is None:
        return None
    enter, exit_ = module.lock_methods(namespace)
    return enter, exit_


def condition_enter(backend: str, namespace: dict[str, Any]) -> Any:
    """``Condition.__enter__`` in C on the C back-end (None otherwise): a condition on a raw lock
    (a Queue's) enters it; the rest calls `namespace`'s ``_condition_enter`` (hb_threading's globals)."""
    module = _chosen_module(backend)
    if module is None:
        return None
    return module.condition_enter(namespace)


def holding_method(backend: str, original: Callable[..., Any], namespace: dict[str, Any]) -> Any:
    """`original` (``Queue.put``/``get``) counting as holding the queue mutex's lock-order stand-in,
    in C on the C back-end (None otherwise); `namespace` is hb_queue's globals."""
    module = _chosen_module(backend)
    if module is None:
        return None
    return module.HoldingMethod(original, namespace)
