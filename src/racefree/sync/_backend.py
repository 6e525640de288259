"""Back-ends for the atomic types, and the chooser that picks one at import.

Invariants (true with and without the GIL):

* Every back-end is linearizable and sequentially consistent, holds signed
  64-bit integers (leaving that range raises :class:`OverflowError` and changes
  nothing) and passes the same contract suite (``tests/sync/test_contract.py``).
* The chooser runs once, at import, and never changes its mind afterwards.
  ``RACEFREE_SYNC_BACKEND=python`` forces the pure-Python fallback.  A C
  back-end is used only if it imports, leaves the GIL disabled on a
  free-threaded build (an extension that does not declare free-threading
  support silently turns it back on), and passes a smoke test.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from racefree._build import gil_enabled as _gil_enabled  # one definition (_build)
from racefree.sync._atomic_py import LockedRef, PyAtomicInt

__all__ = ["ACTIVE", "AVAILABLE", "AtomicIntImpl", "AtomicRefCell", "Backend", "BackendInfo", "backend_info"]


class AtomicIntImpl(Protocol):
    """What every atomic-integer back-end provides (the public API of ``AtomicInt``)."""

    def load(self) -> int: ...
    def store(self, value: int, /) -> None: ...
    def add(self, delta: int, /) -> int: ...
    def increment(self) -> int: ...
    def swap(self, value: int, /) -> int: ...
    def compare_and_swap(self, expected: int, new: int, /) -> bool: ...


class AtomicRefCell(Protocol):
    """One object reference with identity compare-and-set (cereggii's spelling)."""

    def get(self) -> Any: ...
    def set(self, desired: Any, /) -> None: ...
    def get_and_set(self, desired: Any, /) -> Any: ...
    def compare_and_set(self, expected: Any, desired: Any, /) -> bool: ...


@dataclass(frozen=True)
class Backend:
    """A named implementation of the atomic types."""

    name: str
    int_type: Callable[[int], AtomicIntImpl]  # the AtomicInt class of this back-end
    ref_cell: Callable[[Any], AtomicRefCell]  # the cell AtomicRef wraps


@dataclass(frozen=True)
class BackendInfo:
    """Which back-end :mod:`racefree.sync` uses, and why."""

    name: str
    reason: str
    candidates: tuple[tuple[str, str], ...]  # (back-end, why it was or was not chosen)

    def describe(self) -> str:
        return f"{self.name} ({self.reason})"


PYTHON = Backend("python", PyAtomicInt, LockedRef)


def _load_cereggii() -> tuple[Backend | None, str]:
    gil_before = _gil_enabled()
    try:
        import cereggii

        from racefree.sync._atomic_c import CAtomicInt
    except ImportError:
        return None, "not installed"
    if _gil_enabled() and not gil_before:
        return None, "importing it re-enabled the GIL"
    try:
        cell = CAtomicInt(1)
        ok = cell.increment() == 2 and cell.add(1) == 3 and cell.compare_and_swap(3, 5) and cell.swap(7) == 5
        marker = object()
        ref = cereggii.AtomicRef(marker)
        ok = ok and ref.compare_and_set(marker, None) and ref.get() is None
    except Exception as exc:  # a broken build must not break racefree
        return None, f"smoke test raised {type(exc).__name__}: {exc}"
    if not ok:
        return None, "smoke test gave a wrong result"
    return Backend(CAtomicInt.backend, CAtomicInt, cereggii.AtomicRef), "lock-free C atomics"


def choose(environ: Mapping[str, str] | None = None) -> tuple[Backend, BackendInfo, dict[str, Backend]]:
    """Pick the best usable back-end; return it, the explanation, and every usable back-end."""
    env = os.environ if environ is None else environ
    forced = env.get("RACEFREE_SYNC_BACKEND", "").strip().lower()
    candidates: list[tuple[str, str]] = []
    available = {"python": PYTHON}
    if forced == "python":  # do not even import a C extension (it could re-enable the GIL)
        return PYTHON, BackendInfo("python", "forced by RACEFREE_SYNC_BACKEND=python", ()), available
    c_backend, why = _load_cereggii()
    candidates.append(("cereggii", "usable" if c_backend else why))
    if c_backend is not None:
        available["cereggii"] = c_backend
    if forced not in ("", "auto", "cereggii"):
        candidates.append((forced, "unknown RACEFREE_SYNC_BACKEND value, ignored"))
    if c_backend is not None:
        return c_backend, BackendInfo(c_backend.name, why, tuple(candidates)), available
    return PYTHON, BackendInfo("python", f"fallback: cereggii {why}", tuple(candidates)), available


ACTIVE, _INFO, AVAILABLE = choose()


def backend_info() -> BackendInfo:
    """The back-end chosen at import, with the reason."""
    return _INFO
