"""The atomic integer on cereggii's C ``AtomicInt64`` (lock-free, sequentially consistent).

Invariants (true with and without the GIL): all state is in the C object;
cereggii implements every operation with one hardware atomic instruction (or a
compare-and-swap loop), so it is linearizable without a lock.  The public
methods are cereggii's own C methods under our names — no Python frame on the
fast path, which is what makes ``increment`` cheaper than a Lock.

cereggii's ``AtomicInt64`` also behaves like a number (``a + 1``, ``a == 3``,
``a += 1``).  Those operators are switched off here: ``==``/``hash`` are by
identity (an atomic is a sync key, not a value), and arithmetic raises
:class:`TypeError`, so the C and pure-Python classes accept the same programs.
"""

from __future__ import annotations

from typing import Any, NoReturn

import cereggii
from cereggii import AtomicInt64 as _Base

from racefree.sync import _hb

__all__ = ["CAtomicInt"]

_VERSION = getattr(cereggii, "__version__", "?")


def _no_operators(self: object, *args: object) -> NoReturn:
    raise TypeError(
        "AtomicInt has no arithmetic or comparison operators; use load(), add(), compare_and_swap()"
    )


def _always_true(self: object) -> bool:
    return True


class CAtomicInt(_Base):  # type: ignore[misc]
    """:class:`racefree.sync.AtomicInt` on cereggii's C atomics (see that class for the contract)."""

    __slots__ = ("__weakref__",)

    def __new__(cls, value: int = 0) -> CAtomicInt:
        if _hb.listener is not None and cls is CAtomicInt:
            cls = _reporting_variant[0]
        return _Base.__new__(cls, value)  # type: ignore[no-any-return]

    def __init__(self, value: int = 0) -> None:
        _Base.__init__(self, value)

    load = _Base.get
    store = _Base.set
    increment = _Base.increment_and_get

    def add(self, delta: int) -> int:
        # cereggii reads a None amount as 1; our contract says integers only.
        if delta is None:
            raise TypeError("'NoneType' object cannot be interpreted as an integer")
        return _increment_and_get(self, delta)  # type: ignore[no-any-return]

    swap = _Base.get_and_set
    compare_and_swap = _Base.compare_and_set

    backend = f"cereggii {_VERSION}"

    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__
    __bool__ = _always_true

    def __repr__(self) -> str:
        return f"<AtomicInt value={_Base.get(self)} backend={self.backend}>"


_KEEP = {"__new__", "__init__", "__eq__", "__ne__", "__hash__", "__bool__", "__doc__", "__repr__"}
for _name in list(vars(_Base)):
    if _name.startswith("__") and _name not in _KEEP:
        setattr(CAtomicInt, _name, _no_operators)
del _name

_increment_and_get = _Base.increment_and_get

# Filled in by racefree.sync.atomic with the subclass that reports to a detector.
_reporting_variant: list[Any] = [CAtomicInt]
