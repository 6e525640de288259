"""The happens-before listener between :mod:`racefree.sync` and a race detector.

Invariants (true with and without the GIL):

* Every primitive reports its synchronization as ``release(key)`` /
  ``acquire(key)`` on a *sync key*: a hashable object naming one clock — the
  primitive itself, or ``(primitive, "channel")`` when one primitive has several
  (an RW lock's readers and writers).  ``release(key)`` means "everything this
  thread did so far happens before whatever a later ``acquire(key)`` does".
  Releases accumulate (a join, like Go's ``ReleaseMerge``), so many readers can
  release into one key.
* With no detector attached, :data:`listener` is ``None`` and a primitive pays
  one module-attribute load and an ``is None`` test per operation.
* A primitive calls ``release`` *before* the operation becomes visible to other
  threads, and ``acquire`` *after* it observed another thread's operation, so
  the detector never sees an edge that did not exist.

* A primitive that makes every report under a lock of its own (the atomics) may
  say so with the class attribute ``_racefree_own_clock = True`` and carry a
  writable ``_hb_clock`` attribute (initially ``None``): a listener may then keep
  that primitive's clock there, guarded by the primitive's lock, instead of in a
  table under a lock of its own.

A detector attaches with :func:`attach` and detaches with :func:`detach`.
"""

from __future__ import annotations

from typing import Protocol


class HBListener(Protocol):
    """What a race detector implements to hear about racefree.sync edges."""

    def release(self, key: object) -> None:
        """This thread's past happens before any later ``acquire(key)``."""

    def acquire(self, key: object) -> None:
        """Every earlier ``release(key)`` happens before this thread's future."""

    def acquire_release(self, key: object) -> None:
        """Both, as one step (an atomic read-modify-write)."""


listener: HBListener | None = None
OWN_CLOCK = "_racefree_own_clock"


def attach(new: HBListener) -> HBListener | None:
    """Route happens-before edges to `new`; returns the listener it replaced."""
    global listener
    previous, listener = listener, new
    return previous


def detach(previous: HBListener | None = None) -> None:
    """Stop reporting edges (or restore `previous`, as returned by :func:`attach`)."""
    global listener
    listener = previous
