"""Attributes that are accessor calls, not storage: properties and other data descriptors.

``o.status = x`` where ``status`` is a property (or any data descriptor: a
class with ``__set__`` or ``__delete__``) of ``type(o)`` runs the setter; the
location the program touches is whatever the setter touches (under the lock it
may take), not ``status`` at the call site.  The shadow marks such attribute
cells ``off`` (see :meth:`racefree.detector.shadow.Shadow.new_cell`), so both
fast paths skip them and only the accessor's own accesses are recorded.
``__slots__`` members are data descriptors too, but they *are* the storage:
they stay tracked.

Cost: one lookup per new attribute cell, answered from a per-type cache.
Invariants: the cache maps a type (weakly: a class the program drops goes) to
``{attribute: is_accessor}``; it is filled, never invalidated: a property added to
a class after the detector first saw one of its attributes is missed (the
attribute stays tracked as before), which can report, never hide, a race.
Every operation on it is a single dict operation, safe with and without the GIL.
"""

from __future__ import annotations

import weakref
from types import MemberDescriptorType

_accessors: weakref.WeakKeyDictionary[type, dict[str, bool]] = weakref.WeakKeyDictionary()


def is_accessor(t: type, name: str) -> bool:
    """Whether ``o.<name>`` for an instance ``o`` of `t` calls a data descriptor of `t`."""
    if type(name) is not str:
        return False
    try:
        names = _accessors[t]
    except KeyError:
        names = _accessors[t] = {}
    except TypeError:  # not weakly referenceable: look it up every time
        names = {}
    try:
        return names[name]
    except KeyError:
        pass
    found = False
    for klass in t.__mro__:
        namespace = klass.__dict__
        if name in namespace:
            kind = type(namespace[name])
            found = kind is not MemberDescriptorType and (
                hasattr(kind, "__set__") or hasattr(kind, "__delete__")
            )
            break
    names[name] = found
    return found
