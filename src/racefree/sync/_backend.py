"""Back-ends for the atomic integer and reference, and the chooser that picks one.

Invariants (true with and without the GIL):

* A back-end cell is linearizable: every method takes effect at one instant
  between its call and its return, and all threads agree on the order
  (sequential consistency).  ``_LockedInt64``/``_LockedRef`` get this from one
  ``threading.Lock`` per cell that guards every write of ``_value``; their reads
  are a single attribute load, which is atomic on both builds (an attribute
  holds a reference, and a reference is never torn).
* Integer cells hold a signed 64-bit value; leaving that range raises
  :class:`OverflowError` and leaves the cell unchanged, in every back-end.
* The chooser runs once, at import.  ``RACEFREE_SYNC_BACKEND=python`` forces the
  pure-Python fallback (the contract suite uses it to test both); a C back-end
  is used only if it imports, keeps the GIL disabled on a free-threaded build,
  and passes a smoke test.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "BACKENDS",
    "AtomicIntCell",
    "AtomicRefCell",
    "Backend",
    "BackendInfo",
    "backend_info",
    "choose",
]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


class AtomicIntCell(Protocol):
    """One signed 64-bit integer with linearizable operations (cereggii's spelling)."""

    def get(self) -> int: ...
    def set(self, desired: int, /) -> None: ...
    def increment_and_get(self, amount: int, /) -> int: ...
    def get_and_set(self, desired: int, /) -> int: ...
    def compare_and_set(self, expected: int, desired: int, /) -> bool: ...


class AtomicRefCell(Protocol):
    """One object reference; ``compare_and_set`` compares by identity."""

    def get(self) -> Any: ...
    def set(self, desired: Any, /) -> None: ...
    def get_and_set(self, desired: Any, /) -> Any: ...
    def compare_and_set(self, expected: Any, desired: Any, /) -> bool: ...


def _check_int64(value: int) -> int:
    if not INT64_MIN <= value <= INT64_MAX:
        raise OverflowError(f"{value} does not fit in a signed 64-bit integer")
    return value


class _LockedInt64:
    """The reference back-end: an int under a ``threading.Lock``."""

    __slots__ = ("_lock", "_value")

    def __init__(self, value: int = 0) -> None:
        self._lock = threading.Lock()  # guards writes of _value
        self._value = _check_int64(int(value))

    def get(self) -> int:
        return self._value

    def set(self, desired: int, /) -> None:
        desired = _check_int64(int(desired))
        with self._lock:
            self._value = desired

    def increment_and_get(self, amount: int, /) -> int:
        with self._lock:
            self._value = new = _check_int64(self._value + amount)
        return new

    def get_and_set(self, desired: int, /) -> int:
        desired = _check_int64(int(desired))
        with self._lock:
            old, self._value = self._value, desired
        return old

    def compare_and_set(self, expected: int, desired: int, /) -> bool:
        desired = _check_int64(int(desired))
        with self._lock:
            if self._value != expected:
                return False
            self._value = desired
        return True


class _LockedRef:
    """The reference back-end for object references."""

    __slots__ = ("_lock", "_value")

    def __init__(self, value: Any = None) -> None:
        self._lock = threading.Lock()  # guards writes of _value
        self._value = value

    def get(self) -> Any:
        return self._value

    def set(self, desired: Any, /) -> None:
        with self._lock:
            self._value = desired

    def get_and_set(self, desired: Any, /) -> Any:
        with self._lock:
            old, self._value = self._value, desired
        return old

    def compare_and_set(self, expected: Any, desired: Any, /) -> bool:
        with self._lock:
            if self._value is not expected:
                return False
            self._value = desired
        return True


@dataclass(frozen=True)
class Backend:
    """A named pair of cell factories."""

    name: str
    int_cell: Callable[[int], AtomicIntCell]
    ref_cell: Callable[[Any], AtomicRefCell]


@dataclass(frozen=True)
class BackendInfo:
    """Which back-end :mod:`racefree.sync` uses, and why."""

    name: str
    reason: str
    candidates: tuple[tuple[str, str], ...]  # (name, why it was or was not chosen)

    def describe(self) -> str:
        return f"{self.name} ({self.reason})"


PYTHON = Backend("python", _LockedInt64, _LockedRef)


def _gil_enabled() -> bool:
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


def _load_cereggii() -> tuple[Backend | None, str]:
    gil_before = _gil_enabled()
    try:
        import cereggii
    except ImportError:
        return None, "not installed"
    if _gil_enabled() and not gil_before:
        return None, "importing it re-enabled the GIL"
    try:
        cell = cereggii.AtomicInt64(1)
        ok = cell.increment_and_get(2) == 3 and cell.compare_and_set(3, 5) and cell.get_and_set(7) == 5
        marker = object()
        ref = cereggii.AtomicRef(marker)
        ok = ok and ref.compare_and_set(marker, None) and ref.get() is None
    except Exception as exc:  # a broken build must not break racefree
        return None, f"smoke test raised {type(exc).__name__}: {exc}"
    if not ok:
        return None, "smoke test gave a wrong result"
    version = getattr(cereggii, "__version__", "?")
    return Backend(f"cereggii {version}", cereggii.AtomicInt64, cereggii.AtomicRef), "C atomics"


def choose(environ: dict[str, str] | None = None) -> tuple[Backend, BackendInfo]:
    """Pick the best usable back-end and explain the choice."""
    env = os.environ if environ is None else environ
    forced = env.get("RACEFREE_SYNC_BACKEND", "").strip().lower()
    candidates: list[tuple[str, str]] = []
    if forced not in ("", "auto", "python", "cereggii"):
        candidates.append((forced, "unknown RACEFREE_SYNC_BACKEND value; ignored"))
        forced = ""
    if forced == "python":
        info = BackendInfo("python", "forced by RACEFREE_SYNC_BACKEND=python", tuple(candidates))
        return PYTHON, info
    backend, why = _load_cereggii()
    candidates.append(("cereggii", why if backend is None else "usable"))
    if backend is not None:
        return backend, BackendInfo(backend.name, why, tuple(candidates))
    return PYTHON, BackendInfo("python", f"fallback: cereggii {why}", tuple(candidates))


ACTIVE, _INFO = choose()
BACKENDS: dict[str, Backend] = {"python": PYTHON, ACTIVE.name: ACTIVE}


def backend_info() -> BackendInfo:
    """The back-end chosen at import, with the reason."""
    return _INFO
