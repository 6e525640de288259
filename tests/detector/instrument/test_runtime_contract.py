"""What the rewritten code relies on from ``racefree.detector.runtime``, stopped and recording.

Rewritten loads are ``record(...) or value``: every recorder must return None
(a truthy return would replace the program's value).  ``iterate`` must return
its argument, ``call`` the callee's result (keyword arguments named ``func`` or
``site`` included), ``cells`` the closure cells in ``co_freevars`` order.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from racefree.detector import events, runtime
from racefree.detector.engine import Detector

SITE = ("/contract.py", 1, "f", 0, "obj")


class Obj:
    x = 1


@pytest.fixture(params=["stopped", "python", "strict"])
def state(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "stopped":
        yield request.param
        return
    with Detector(request.param):
        yield request.param


def test_recorders_return_none(state: str) -> None:
    o, d, lst = Obj(), {"k": 1}, [1, 2]
    for kind, container, key in ((events.ATTR, o, "x"), (events.GLOBAL, globals(), "SITE"),
                                 (events.ITEM, d, "k"), (events.SIZE, lst, None)):
        assert runtime.read(kind, container, key, SITE) is None
        assert runtime.write(kind, container, key, SITE) is None
    assert runtime.getitem(d, "k", SITE) is None
    assert runtime.setitem(d, "k", SITE) is None
    assert runtime.contains(d, "k", SITE) is None
    assert runtime.delitem(d, "k", SITE) is None


def test_iterate_call_and_cells(state: str) -> None:
    items = [3, 1, 2]
    assert runtime.iterate(items, SITE) is items
    assert runtime.call(sorted, SITE, items, reverse=True) == [3, 2, 1]
    assert runtime.call(dict, SITE, func=1, site=2) == {"func": 1, "site": 2}
    d: dict[str, int] = {}
    assert runtime.call(d.setdefault, SITE, "a", 5) == 5

    def outer() -> object:
        b, a = 1, 2
        return lambda: (a, b)

    fn = outer()
    cells = runtime.cells(fn)
    assert [c.cell_contents for c in cells] == [2, 1]  # co_freevars order: ('a', 'b')
