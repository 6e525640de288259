"""Exceptions raised by :mod:`racefree.sync` when a primitive is misused.

Every message states the rule that was broken, so the fix is in the message.
"""

from __future__ import annotations

__all__ = ["DeadlockError", "LockNotHeldError", "ReentrantCallError", "SyncError", "WrongThreadError"]


class SyncError(RuntimeError):
    """Base class: a :mod:`racefree.sync` primitive was used against its contract."""


class LockNotHeldError(SyncError):
    """A thread released a lock (or a read share of one) that it does not hold."""


class DeadlockError(SyncError):
    """The call would block forever: the calling thread already holds what it waits for."""


class ReentrantCallError(SyncError):
    """A callback passed to a primitive called back into that primitive while it was locked."""


class WrongThreadError(SyncError):
    """An object that belongs to one thread was used from another."""
