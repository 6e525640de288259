"""Data flow in the python-mode rules (issue 8), through the rewriter and the engine, on both back-ends.

A lost update needs the stored value to be computed from the value read (a blind
store loses nothing), and an ownership check (``owner == me``) guards nothing.
Every race snippet has a no-race twin; strict mode reports both (Go's verdict).
"""

from __future__ import annotations

import pytest
from test_engine_shapes import BOTH, expect, run

TURNS = """
import threading
class Store:
    def __init__(self):
        self.n = 0
        self.tmp = 0
        self.owner = None
        self.lock = threading.Lock()
def compute(s):
    return s.n * 2
store = Store()
def work(s, i):
{body}
def first():
    work(store, 0)
    GATE.open()
def second():
    GATE.wait()
    work(store, 1)
a = threading.Thread(target=first)
b = threading.Thread(target=second)
a.start()
b.start()
a.join()
b.join()
"""


def program(body: str) -> str:
    lines = body.strip("\n").splitlines()
    return TURNS.format(body="\n".join("    " + line for line in lines))


LOST = [("lost-update", "Store.n")]
STRICT = [("data-race", "Store.n")]


def strict(body: str) -> list[tuple[str, str]]:
    return STRICT + ([("data-race", "Store.tmp")] if "s.tmp =" in body else [])

# (body computed from the read, its blind twin)
PAIRS = {
    "through locals": ("v = s.n\nw = v * 2\ns.n = w + 1", "v = s.n\nw = v * 2\ns.n = i"),
    "one statement": ("s.n = (\n    s.n + 1)", "s.n = (\n    i + 1)"),
    "through a field": ("s.tmp = s.n\ns.n = s.tmp + 1", "s.tmp = s.n\ns.n = i"),
    "a call that reads": ("s.n = compute(s)", "x = compute(s)\ns.n = 5"),
    "setattr": ('setattr(s, "n", getattr(s, "n") + 1)', 'getattr(s, "n")\nsetattr(s, "n", 0)'),
    "annotated": ("v: int = s.n\ns.n = v + 1", "v: int = s.n\ns.n: int = 3"),
    # (a tuple's whole value counts for each of its targets)
    "tuple target": ("v = s.n\ns.n, s.tmp = v + 1, 0", "v = s.n\ns.n, s.tmp = 1, 2"),
    "previous iteration": ("v = 0\nfor k in range(2):\n    s.n = v\n    v = s.n + 1",
                           "v = 0\nfor k in range(2):\n    s.n = k\n    v = s.n + 1"),
}


@BOTH
@pytest.mark.parametrize("case", list(PAIRS))
def test_a_store_computed_from_the_read_is_a_lost_update(mode: str, case: str) -> None:
    body = PAIRS[case][0]
    expect(mode, program(body), LOST, strict(body))


@BOTH
@pytest.mark.parametrize("case", list(PAIRS))
def test_a_blind_store_after_a_read_is_no_lost_update(mode: str, case: str) -> None:
    body = PAIRS[case][1]
    expect(mode, program(body), [], strict(body))


OWNER = """
me = threading.get_ident()
held = s.owner
if held == me:
    return
s.owner = me
assert s.owner == me
s.owner = None
"""


@BOTH
def test_an_ownership_check_then_blind_stores_is_clean(mode: str) -> None:
    # diskcache's Cache._transact: "is the transaction mine?" then the owner's id, then None
    expect(mode, program(OWNER), [], [("data-race", "Store.owner")])
    direct = "if s.owner is threading.current_thread():\n    return\ns.owner = threading.current_thread()"
    expect(mode, program(direct), [], [("data-race", "Store.owner")])


@BOTH
def test_a_check_against_none_is_still_a_check_then_act(mode: str) -> None:
    # taking the field when it is free is a check-then-act whatever is stored
    body = OWNER.replace("if held == me:", "if held is not None:")
    expect(mode, program(body), [("check-then-act", "Store.owner")], [("data-race", "Store.owner")])
    body = OWNER.replace("if held == me:", "if held == me or held is not None:")
    expect(mode, program(body), [("check-then-act", "Store.owner")], [("data-race", "Store.owner")])


@BOTH
def test_an_owner_counted_up_is_still_a_lost_update(mode: str) -> None:
    body = "me = threading.get_ident()\nif s.owner == me:\n    return\ns.n = s.n + 1"
    expect(mode, program(body), LOST, STRICT)


def test_ownership_needs_the_thread_identity() -> None:
    # compared with a parameter, a check is a check
    body = "held = s.owner\nif held == i:\n    return\ns.owner = i"
    assert run("python", program(body)) == [("check-then-act", "Store.owner")]


# a decision made on the value read, then a store of the location after it (ratelimit < 1.4.1)
DECIDED = """
elapsed = s.n
wait = 3 - elapsed
if wait > 0:
    pass
s.n = i
"""


@BOTH
def test_a_store_after_a_decision_on_the_read_is_a_check_then_act(mode: str) -> None:
    expect(mode, program(DECIDED), [("check-then-act", "Store.n")], STRICT)
    direct = "if s.n > 5:\n    print('over')\ns.n = 0"
    expect(mode, program(direct), [("check-then-act", "Store.n")], STRICT)


@BOTH
def test_a_decision_and_its_store_under_one_lock_are_clean(mode: str) -> None:
    locked = "with s.lock:\n" + "\n".join("    " + line for line in DECIDED.strip().splitlines())
    expect(mode, program(locked), [], [])
    # the store after the lock is taken: the check is stale-proof (the unlocked read is strict-only)
    acquired = "if s.n > 5:\n    pass\ns.lock.acquire()\ns.n = i\ns.lock.release()"
    expect(mode, program(acquired), [], STRICT)
