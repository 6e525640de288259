"""The optional C fast paths of :mod:`racefree.sync` (``_fastread``), or why they are not used.

``Snapshot.get``, ``ShardedCounter.add`` and ``RWLock.read``/``write`` are
methods of a base class: the C one from ``racefree.sync._fastread`` when it is
built and usable, else a pure-Python one with the same contract.  The RWLock's
read guards and (free-threaded) reader cells are C types then too.  On a
free-threaded build a Python-level method call is not specialized and costs
several attribute loads, and every shared object a call touches on the way
(a ``threading.local``, a descriptor, a bound method) costs an atomic
reference-count update on a cache line all threads write; the C paths find a
thread's own cell through a per-thread cache instead (see ``_fastread.c``).
``RACEFREE_SYNC_FASTREAD=0`` forces the Python bases (the tests use it to run
the contract on both).  The choice is made once, at import.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

__all__ = ["FASTREAD", "REASON"]


def _load() -> tuple[ModuleType | None, str]:
    if os.environ.get("RACEFREE_SYNC_FASTREAD", "").strip() == "0":
        return None, "python (forced by RACEFREE_SYNC_FASTREAD=0)"
    gil_before = getattr(sys, "_is_gil_enabled", lambda: True)()
    try:
        from racefree.sync import _fastread
    except ImportError:
        return None, "python (racefree.sync._fastread is not built)"
    if not gil_before and getattr(sys, "_is_gil_enabled", lambda: True)():
        return None, "python (racefree.sync._fastread re-enabled the GIL)"  # it declares itself safe
    return _fastread, "C (racefree.sync._fastread)"


FASTREAD, REASON = _load()
