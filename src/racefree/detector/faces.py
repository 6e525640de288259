"""The engine's faces: what its collaborators may use of a running detector, as Protocols.

:class:`~racefree.detector.engine.Detector` implements both; its collaborators
type against these instead of importing the concrete class, so what each side
may touch is written down in one place (and mypy holds the Detector to it):

* :class:`SyncRecorder`: what the happens-before patches call when the program
  synchronizes (:mod:`~racefree.detector.hb_threading`, :mod:`~racefree.detector.hb_queue`,
  :mod:`~racefree.detector.hb_futures`, :mod:`~racefree.detector.hb_rawlocks`,
  :mod:`~racefree.detector.hb_asyncio`): thread lifecycle, lock edges, clocks of
  program objects, clocks carried by queue items;
* :class:`RecordingState`: what the recorders read to record an access
  (:func:`racefree.detector.access.build`, :func:`racefree.detector.speedups.accelerate`)
  and what the lock-order graph (:mod:`~racefree.detector.lockorder`) reads to
  name a thread.  Read only: the recorders never write a detector's fields
  (``speedups.accelerate`` returns what the engine installs).

Every method may be called from any thread of the program (see the Detector's
invariants for which lock guards what).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import threading

    from racefree.detector.clocks import ThreadState
    from racefree.detector.lockorder import LockOrder
    from racefree.detector.races import Registry
    from racefree.detector.shadow import Shadow

__all__ = ["RecordingState", "SyncRecorder"]


class SyncRecorder(Protocol):
    """What the happens-before patches call: one detector's synchronization events."""

    @property
    def gen(self) -> int:
        """This detector's generation: a clock stamped with another one is stale."""

    @property
    def backend(self) -> str:
        """``"c"`` or ``"python"`` (:func:`racefree.detector.speedups.choose`)."""

    @property
    def lock_order(self) -> LockOrder | None:
        """The lock-order graph the tracked locks feed; None when deadlocks are not reported."""

    # threads
    def thread_starting(self, thread: threading.Thread) -> None: ...
    def thread_begin(self, thread: threading.Thread) -> None: ...
    def thread_end(self, thread: threading.Thread) -> None: ...
    def thread_joined(self, thread: threading.Thread) -> None: ...
    def thread_observed_ended(self, thread: threading.Thread) -> None: ...
    def threads_not_listed(self, listed: list[threading.Thread]) -> None: ...

    # tracked locks (each carries its own clock)
    def lock_acquired(self, lock: Any) -> None: ...
    def lock_released(self, lock: Any) -> None: ...

    # accumulating clocks of program objects (events, semaphores, barriers, futures...)
    def release_object(self, obj: Any, slot: str = "") -> None: ...
    def acquire_object(self, obj: Any, slot: str = "") -> None: ...
    def move_object_clock(self, obj: Any, source: str, target: str) -> None: ...

    # clocks carried by values (queue items, asyncio hand-offs)
    def publish_clock(self) -> list[int]: ...
    def absorb_clock(self, vc: list[int] | None) -> None: ...


class RecordingState(Protocol):
    """What the recorders and the lock-order graph read of one detector."""

    @property
    def mode(self) -> str:
        """``"python"`` or ``"strict"``."""

    @property
    def gen(self) -> int: ...

    @property
    def backend(self) -> str: ...

    @property
    def shadow(self) -> Shadow:
        """The shadow memory: one cell per location recently accessed."""

    @property
    def registry(self) -> Registry:
        """Where races are reported."""

    @property
    def tls(self) -> Any:
        """Thread-local storage: ``tls.ts`` is the calling thread's ThreadState once made."""

    @property
    def stripes(self) -> list[Any]:
        """The slow paths' locks, chosen by cell."""

    @property
    def perturb(self) -> Callable[..., Any] | None:
        """The stress mode's scheduling perturbation, None without stress."""

    def thread_state(self) -> ThreadState:
        """The calling thread's state, made the first time."""

    def internal_error(self) -> None:
        """The detector itself failed while recording: count it, never raise."""
