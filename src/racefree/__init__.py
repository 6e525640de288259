"""racefree: threaded Python without data races, with or without the GIL.

The package root stays light: importing :mod:`racefree` imports nothing but the
standard library.  Layers live in sub-packages:

* :mod:`racefree.sync` — primitives (atomics, sharded counter, RW lock, concurrent map, snapshot).
* :mod:`racefree.automation` — the course module's automation system built on them.
* :mod:`racefree.detector` — the happens-before race detector behind ``racefree run``.
* :mod:`racefree.lab` — the measured lab behind ``racefree lab``.

At the root: :func:`happens_before`, :func:`happens_after` and :func:`synchronized_by`,
annotations that tell the race detector about synchronization it cannot see
(:mod:`racefree.annotations`; free when no detector runs).
"""

from racefree.annotations import happens_after, happens_before, synchronized_by

__version__ = "0.1.0"

__all__ = ["__version__", "happens_after", "happens_before", "synchronized_by"]
