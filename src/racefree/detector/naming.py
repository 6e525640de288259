"""How reports name what raced: one rule for every location.

The rule (docs/detector.md, "Reports"): a location is named after the object
that holds it, by its class, and then what in it was touched:

* an attribute: ``Class.attr`` (the object's class; a class attribute reached
  through the class: that class's name);
* a container's items or its size: the container's type, then how the program
  reached it, with an attribute chain named from its owner's class as above
  (``deque ReaderWriterLock._pending_writers``, ``defaultdict
  Registry._instances['x']``, the same name the attribute itself has when the
  attribute races), a plain variable by its name (``dict registry['cfg']``),
  anything else by its source text;
* module globals and closure variables: ``global total``, ``closure total``.

The owner of ``self._items`` is found at report time in the frame of the access
that was just reported (its local, or global, variable ``self``): a lookup in a
namespace and a ``type()``, so no code of the program runs.  This module holds
no state.
"""

from __future__ import annotations

import re
from types import FrameType, ModuleType
from typing import Any

from racefree.detector.events import ITEM, SIZE
from racefree.detector.shadow import describe, safe_repr

_CHAIN = re.compile(r"([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*)+)\Z")
_MISSING = object()


def class_name(obj: Any) -> str:
    """The class an object is named by: its own name for a class, else its type's."""
    return str(obj.__name__) if issubclass(type(obj), type) else type(obj).__name__


def _lookup(frame: FrameType, name: str) -> Any:
    try:
        return frame.f_locals[name]
    except KeyError:
        pass
    except Exception:  # a frame whose locals cannot be read: name it by its text
        return _MISSING
    try:
        return frame.f_globals[name]
    except KeyError:
        return _MISSING


def expression(text: str, frame: FrameType | None) -> str:
    """`text` with the head of an attribute chain named by its class (``self.x`` -> ``Pool.x``)."""
    m = _CHAIN.match(text)
    if m is None or frame is None:
        return text
    obj = _lookup(frame, m.group(1))
    if obj is _MISSING or type(obj) is ModuleType:
        return text
    return class_name(obj) + m.group(2)


def location(kind: int, container: Any, key: Any, text: str, frame: FrameType | None) -> tuple[str, str]:
    """(location, container name) of an access; the container name is "" unless `kind` is ITEM."""
    if kind != ITEM and kind != SIZE:
        return describe(kind, container, key, text), ""
    tname = type(container).__name__ if container is not None else "object"
    whole = f"{tname} {expression(text, frame)}".rstrip()
    if kind == SIZE:
        return whole, ""
    return f"{whole}[{safe_repr(key)}]", whole
