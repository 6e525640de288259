"""Happens-before annotations: tell the race detector about synchronization it cannot see.

In the spirit of ThreadSanitizer's ``AnnotateHappensBefore``/``AnnotateHappensAfter``
(Go: ``race.Release``/``race.Acquire``).  A program synchronized by something the
detector does not watch -- a database transaction lock, a socket or pipe round
trip, a file lock, a flag set by a C extension -- says so::

    data.append(x)
    racefree.happens_before(channel)     # then: sock.sendall(...)
    ...                                  # another thread: sock.recv(...)
    racefree.happens_after(channel)      # everything before the matching happens_before
    use(data)                            # ... happens before this

    with racefree.synchronized_by(row):  # inside a lock the detector cannot see
        row_cache[key] += 1

Contract: ``happens_before(obj)`` in thread A, then (in real time) ``happens_after(obj)``
in thread B makes everything A did before the first call happen before everything
B does after the second.  Releases accumulate: ``happens_after`` sees every earlier
``happens_before`` on the same object.  `obj` names the synchronization: an object
by identity (kept weakly when it can be), or a hashable value such as a string by
equality.  The program must really synchronize: an annotation without a real
ordering hides races, it never creates one.

Without a running detector each call is one module lookup and a test (no import,
no allocation); importing this module imports nothing but :mod:`sys`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["happens_after", "happens_before", "synchronized_by"]

_modules = sys.modules
_HB = "racefree.sync._hb"  # where a started detector attaches (imported by the detector)


def happens_before(obj: object) -> None:
    """Everything this thread did so far happens before a later ``happens_after(obj)``."""
    hb = _modules.get(_HB)
    if hb is not None:
        listener = hb.listener
        if listener is not None:
            listener.release(obj)


def happens_after(obj: object) -> None:
    """Every earlier ``happens_before(obj)`` happens before what this thread does next."""
    hb = _modules.get(_HB)
    if hb is not None:
        listener = hb.listener
        if listener is not None:
            listener.acquire(obj)


@contextmanager
def synchronized_by(obj: object) -> Iterator[None]:
    """A critical section of a lock the detector cannot see, named `obj`.

    ``happens_after(obj)`` on entry and ``happens_before(obj)`` on exit: use it
    *inside* the real lock (after acquiring it, before releasing it).
    """
    happens_after(obj)
    try:
        yield
    finally:
        happens_before(obj)
