"""Type stub of the C extension :mod:`racefree.detector._speedups` (``_speedups.c``).

Kept in step with the C module by tests/detector/test_speedups_stub.py
(the names, and ``mypy.stubtest`` where mypy is installed).  Who calls what:
:mod:`racefree.detector.speedups` builds the :class:`Recorder` and the
:class:`LockHooks`; :mod:`racefree.detector.clocks` takes :func:`join_into`;
:mod:`racefree.detector.hb_threading` takes :func:`lock_methods` and
:func:`condition_enter`, :mod:`racefree.detector.hb_queue` :class:`HoldingMethod`
(all through :mod:`racefree.detector.speedups`).
"""

from collections.abc import Callable
from typing import Any, final

@final
class Recorder:
    """The same-epoch fast paths of one detector's recorders (see access.py)."""

    def __new__(
        cls,
        cells: dict[Any, Any],
        tls: Any,
        thread_state: Callable[[], Any],
        read_miss: Callable[..., Any],
        write_miss: Callable[..., Any],
        getitem: Callable[..., Any] | None,
        setitem: Callable[..., Any] | None,
        call: Callable[..., Any] | None,
        perturb: Callable[..., Any] | None,
        python_mode: bool,
        item_kind: int,
        size_kind: int,
        guard_flag: int,
        flags_index: int,
        cell_type: type,
        ts_type: type,
        hold_type: type | None = ...,
        stripes: list[Any] | None = ...,
        capture: Callable[..., Any] | None = ...,
        shift: int = ...,
        iteration_flag: int = ...,
        file_index: int = ...,
        func_index: int = ...,
        internal_error: Callable[[], None] | None = ...,
        line_index: int = ...,
        flow_index: int = ...,
        tracked: Callable[[type], bool] | None = ...,
    ) -> Recorder: ...
    def read(self, kind: int, container: Any, key: Any, site: tuple[Any, ...], /) -> None: ...
    def write(self, kind: int, container: Any, key: Any, site: tuple[Any, ...], /) -> None: ...
    def getitem(self, container: Any, key: Any, site: tuple[Any, ...], /) -> Any: ...
    def setitem(self, container: Any, key: Any, site: tuple[Any, ...], /) -> Any: ...
    def call(self, func: Callable[..., Any], site: tuple[Any, ...], /, *args: Any, **kwargs: Any) -> Any: ...
    def forget_thread(self) -> None: ...

@final
class LockHooks:
    """``Detector.lock_acquired`` / ``lock_released`` in C, for one detector's :class:`Recorder`."""

    def __new__(
        cls,
        recorder: Recorder,
        gen: int,
        clock_type: type,
        acquire_release: Callable[[Any], None] | None = ...,
    ) -> LockHooks: ...
    def acquired(self, lock: Any, /) -> None: ...
    def released(self, lock: Any, /) -> None: ...
    def acquire_release(self, key: Any, /) -> None: ...
    def publish_clock(self) -> list[int]: ...
    def absorb_clock(self, vc: list[int] | None, /) -> None: ...

@final
class Stripe:
    """A private reentrant lock of the detector's cell stripes."""

    def acquire(self) -> bool: ...
    def release(self) -> None: ...
    def __enter__(self) -> bool: ...
    def __exit__(self, *exc: object) -> None: ...
    def _is_owned(self) -> bool: ...

@final
class HoldingMethod:
    """A Queue method that holds the queue mutex's lock-order stand-in while it runs."""

    def __new__(cls, original: Callable[..., Any], namespace: dict[str, Any]) -> HoldingMethod: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...
    def __get__(self, obj: Any, owner: type | None = ..., /) -> Any: ...

def join_into(vc: list[int], other: list[int], /) -> None: ...
def lock_methods(namespace: dict[str, Any], /) -> tuple[Any, Any]: ...
def condition_enter(namespace: dict[str, Any], /) -> Any: ...
