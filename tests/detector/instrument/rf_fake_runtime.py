"""A test double of ``racefree.detector.runtime``: records every call, in order.

Rewritten test snippets import it by name (``compile_instrumented(...,
runtime="rf_fake_runtime")``).  Events are tuples whose first item is the
function name; sites are kept whole so tests can check file, line, function,
flags and text.
"""

from __future__ import annotations

from typing import Any

from racefree.detector.events import BOUND_NAMES, BOUND_PREFIX, KIND_NAMES

EVENTS: list[tuple[Any, ...]] = []


def _key(key: Any) -> Any:
    """Plain keys as they are; others by type name (the log must not keep objects alive)."""
    return key if key is None or isinstance(key, (str, int, float, tuple)) else f"<{type(key).__name__}>"


def reset() -> list[tuple[Any, ...]]:
    EVENTS.clear()
    return EVENTS


def read(kind: int, container: Any, key: Any, site: tuple[Any, ...]) -> None:
    EVENTS.append(("read", KIND_NAMES[kind], key, site))


def write(kind: int, container: Any, key: Any, site: tuple[Any, ...]) -> None:
    EVENTS.append(("write", KIND_NAMES[kind], key, site))


def getitem(container: Any, key: Any, site: tuple[Any, ...]) -> None:
    EVENTS.append(("getitem", _key(key), site))


def setitem(container: Any, key: Any, site: tuple[Any, ...]) -> None:
    EVENTS.append(("setitem", _key(key), site))


def delitem(container: Any, key: Any, site: tuple[Any, ...]) -> None:
    EVENTS.append(("delitem", _key(key), site))


def contains(container: Any, key: Any, site: tuple[Any, ...]) -> None:
    EVENTS.append(("contains", _key(key), site))


def iterate(container: Any, site: tuple[Any, ...]) -> Any:
    EVENTS.append(("iterate", site))
    return container


def call(func: Any, site: tuple[Any, ...], /, *args: Any, **kwargs: Any) -> Any:
    EVENTS.append(("call", getattr(func, "__name__", repr(func)), site))
    return func(*args, **kwargs)


def cells(fn: Any) -> tuple[Any, ...]:
    EVENTS.append(("cells", fn.__code__.co_freevars))
    return tuple(fn.__closure__ or ())


# not logged (every `with` and every acquire/release call goes through them; tested end to end
# in tests/detector/engine/test_engine_rawlocks.py)
def entering(obj: Any) -> Any:
    return obj


def lockcall(method: Any) -> Any:
    return method


def bind(namespace: dict[str, Any]) -> None:
    """As ``runtime.bind``: the rewritten module calls this module's functions through its own globals."""
    namespace.update({BOUND_PREFIX + name: globals()[name] for name in BOUND_NAMES})
