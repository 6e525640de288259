"""The rewriter records the right accesses, in order, with the right sites and flags.

Each case is a snippet run instrumented against a recording test double of the
runtime (``rf_fake_runtime``); its ``result`` must equal the plain run's, and
its events (see ``rf_snippets.short``) must be exactly the expected ones.
"""

from __future__ import annotations

import ast

import pytest
import rf_fake_runtime
from rf_snippets import FILENAME, events_of, run_instrumented

from racefree.detector.instrument import compile_instrumented

CASES: dict[str, tuple[str, list[str]]] = {
    "attribute load, store, augmented, delete in a function": (
        """
        class O: pass
        def t(o):
            o.x = 1
            y = o.x
            o.x += 2
            del o.x
            return y
        result = t(O())
        """,
        ["write attr 'x'@4", "read attr 'x'@5", "read attr 'x'@6+A", "write attr 'x'@6+A",
         "write attr 'x'@7"],
    ),
    "method call loads are not recorded, the receiver chain is": (
        """
        class O:
            def m(self): return 3
        def t(o):
            o.inner = O()
            return o.inner.m()
        result = t(O())
        """,
        ["write attr 'inner'@5", "read attr 'inner'@6"],
    ),
    "module attributes: read for their value, not as a namespace": (
        """
        import os
        import os.path as osp
        def t():
            return os.sep, os.path.join("a", "b"), os.path.sep, osp.sep, os.environ.get("NOPE")
        result = t()
        """,
        ["read attr 'sep'@5", "read attr 'sep'@5", "read attr 'sep'@5", "call get@5"],
    ),
    "globals: only names some function declares global": (
        """
        total = 0
        limit = 10
        def bump():
            global total
            total += 1
        def peek():
            return total, limit
        bump()
        result = peek()
        """,
        ["write global 'total'@2", "read global 'total'@6+A", "write global 'total'@6+A",
         "read global 'total'@8"],
    ),
    "closure cells: only names some inner function declares nonlocal": (
        """
        def outer():
            count = 0
            other = 5
            def inc():
                nonlocal count
                count += 1
            inc()
            return count + other
        result = outer()
        """,
        ["cells count", "write cell 'count'@3", "read cell 'count'@7+A",
         "write cell 'count'@7+A", "read cell 'count'@9"],
    ),
    "globals rebound by module code and read by a function; constants and defs are not": (
        """
        import os
        done = False
        LIMIT = 3
        def helper(): return LIMIT
        def poll():
            return done, LIMIT, helper(), os.sep
        for i in range(2):
            pass
        def uses_i(): return i
        done = True
        result = poll(), uses_i()
        """,
        ["write global 'done'@3", "write global 'i'@8", "write global 'i'@8", "write global 'done'@11",
         "read global 'done'@7", "read attr 'sep'@7", "read global 'i'@10"],
    ),
    "closure cells rebound by their function and read by an inner one, without nonlocal": (
        """
        def outer():
            fixed = 1
            late = 0
            fns = []
            for v in range(2):
                fns.append(lambda: (v, fixed, late))
            late = 2
            total = sum(x * fixed for x in range(2))
            total = total + 1
            return [f() for f in fns], total
        result = outer()
        """,
        ["cells late,v", "write cell 'late'@4", "write cell 'v'@6", "call append@7", "write cell 'v'@6",
         "call append@7", "write cell 'late'@8", "call sum@9+I", "iterate@11+I",
         "read cell 'v'@7", "read cell 'late'@7", "read cell 'v'@7", "read cell 'late'@7"],
    ),
    "subscripts: getitem, setitem, delitem, augmented": (
        """
        def t():
            d = {}
            d["k"] = 1
            v = d["k"]
            d["k"] += v
            del d["k"]
            return d
        result = t()
        """,
        ["setitem 'k'@4", "getitem 'k'@5", "getitem 'k'@6+A", "setitem 'k'@6+A", "delitem 'k'@7"],
    ),
    "slices read the whole container; slice stores write the elements they change": (
        """
        def t():
            a = [1, 2, 3]
            b = a[1:]
            a[:1] = [9]
            del a[2:]
            a[1:1] = iter([7])
            a[::2] = "xy"
            return a, b
        result = t()
        """,
        ["read size None@4+I", "setitem 0@5", "setitem 2@6", "write size None@6", "call iter@7+I",
         "setitem 1@7", "setitem 2@7", "write size None@7", "setitem 0@8", "setitem 2@8"],
    ),
    "module-level slice stores and deletes": (
        """
        a = [1, 2, 3]
        a[0:2] = [5]
        del a[:]
        result = a
        """,
        ["setitem 0@3", "setitem 1@3", "setitem 2@3", "write size None@3", "setitem 0@4", "setitem 1@4",
         "write size None@4"],
    ),
    "in and not in": (
        """
        def t():
            d = {1: 2}
            return 1 in d, 3 not in d
        result = t()
        """,
        ["contains 1@4", "contains 3@4"],
    ),
    "iteration: for, comprehensions, not fresh iterables": (
        """
        def t():
            a = [1, 2]
            s = 0
            for x in a:
                s += x
            for i in range(2):
                pass
            return s, [y for y in a], {y: y for y in (1, 2)}
        result = t()
        """,
        ["iterate@5+I", "iterate@9+I"],
    ),
    "tracked builtins and container methods go through call": (
        """
        def t():
            a = []
            a.append(1)
            d = {"k": 1}
            return len(a), sorted(a), d.get("k"), list(d.items()), str(a)
        result = t()
        """,
        ["call append@4", "call len@6", "call sorted@6+I", "call get@6", "call items@6+I", "call list@6+I"],
    ),
    "getattr, hasattr, setattr, delattr by name": (
        """
        class O: pass
        def t(o, name):
            setattr(o, name, 1)
            a = getattr(o, name), getattr(o, "nope", 2), hasattr(o, "x")
            delattr(o, name)
            return a, getattr(o, *["x", 3])
        result = t(O(), "x")
        """,
        ["write attr 'x'@4", "read attr 'x'@5", "read attr 'nope'@5", "read attr 'x'@5", "write attr 'x'@6"],
    ),
    "tracked names bound by import, def, class, for, with and except": (
        """
        import contextlib
        _json = None
        def lazy():
            global _json, item, ctx, err, helper, Box
            if _json is None:
                import json as _json
            for item in (1,):
                pass
            with contextlib.nullcontext(2) as ctx:
                pass
            try:
                raise KeyError
            except KeyError as err:
                pass
            def helper():
                pass
            class Box:
                pass
            return _json.dumps(item)
        result = lazy()
        """,
        ["write global '_json'@3", "read global '_json'@6+G", "write global '_json'@7",
         "write global 'item'@8", "write global 'ctx'@10", "write global 'err'@14",
         "write global 'helper'@16", "write global 'Box'@18", "read global '_json'@20",
         "read global 'item'@20"],
    ),
    "a shadowed builtin is not tracked": (
        """
        def len(x):
            return 42
        def t():
            return len([1])
        result = t()
        """,
        [],
    ),
    "check-then-act: the test's read of what the body writes is a guard": (
        """
        class O: x = None
        def t(o, d):
            if o.x is None:
                o.x = 1
            if "k" not in d:
                d["k"] = 1
            while len(d) < 3:
                d[len(d)] = 0
            return o.x, d
        result = t(O(), {})
        """,
        ["read attr 'x'@4+G", "write attr 'x'@5", "contains 'k'@6+G", "setitem 'k'@7",
         "call len@8+G", "call len@9", "setitem 1@9", "call len@8+G", "call len@9", "setitem 2@9",
         "call len@8+G", "read attr 'x'@10"],
    ),
    "a write under with in the body is not guarded by the unlocked check": (
        """
        import threading
        lock = threading.Lock()
        class O: x = None
        def t(o):
            if o.x is None:
                with lock:
                    o.x = 1
            return o.x
        result = t(O())
        """,
        ["read attr 'x'@6", "write attr 'x'@8", "read attr 'x'@9"],
    ),
    "else branches act on the check; conditional expressions guard too": (
        """
        def t(d):
            if "k" in d:
                pass
            else:
                d.setdefault("k", 0)
            return d["k"] if "k" in d else d.setdefault("k", 1)
        result = t({})
        """,
        ["contains 'k'@3+G", "call setdefault@6", "contains 'k'@7+G", "getitem 'k'@7"],
    ),
    "double-checked locking: only the check inside the lock guards": (
        """
        import threading
        lock = threading.Lock()
        class O: x = None
        def t(o):
            if o.x is None:
                with lock:
                    if o.x is None:
                        o.x = 1
            return o.x
        result = t(O())
        """,
        ["read attr 'x'@6", "read attr 'x'@8+G", "write attr 'x'@9", "read attr 'x'@10"],
    ),
    "writes in a nested function or lambda of the body do not count": (
        """
        class O: x = None
        def t(o):
            if o.x is None:
                def later():
                    o.x = 1
                f = lambda: o.__setattr__("x", 2)
            return o.x
        result = t(O())
        """,
        ["read attr 'x'@4", "read attr 'x'@8"],
    ),
    "a container's truth tested by a guard is a read of its size": (
        """
        class O:
            def __init__(self):
                self.q = [1, 2]
        def t(o, d):
            while o.q:
                o.q.pop()
            if not d and o.q is not None:
                d["k"] = 1
            return d
        result = t(O(), {})
        """,
        ["write attr 'q'@4", "read attr 'q'@6", "read size None@6+G", "read attr 'q'@7", "call pop@7",
         "read attr 'q'@6", "read size None@6+G", "read attr 'q'@7", "call pop@7",
         "read attr 'q'@6", "read size None@6+G", "read size None@8+G", "read attr 'q'@8", "setitem 'k'@9"],
    ),
    "truth of a container at module level (helper)": (
        """
        pending = [1]
        while pending:
            pending.pop()
        result = pending
        """,
        ["read size None@3+G", "call pop@4", "read size None@3+G"],
    ),
    "a test reading an unrelated location is not a guard": (
        """
        class O: x = None; y = 0
        def t(o):
            if o.y == 0:
                o.x = 1
            return o.x
        result = t(O())
        """,
        ["read attr 'y'@4", "write attr 'x'@5", "read attr 'x'@6"],
    ),
    "module-level code uses helpers (no temporaries)": (
        """
        class O: pass
        o = O()
        o.x = 1
        o.x += 1
        d = {}
        d["k"] = o.x
        result = d["k"], [o.x for _ in range(1)]
        del o.x
        """,
        ["write attr 'x'@4", "read attr 'x'@5+A", "write attr 'x'@5+A", "read attr 'x'@7", "setitem 'k'@7",
         "getitem 'k'@8", "read attr 'x'@8", "write attr 'x'@9"],
    ),
    "private names are recorded mangled": (
        """
        class C:
            def __init__(self):
                self.__p = 1
            def peek(self):
                return self.__p
        result = C().peek()
        """,
        ["write attr '_C__p'@4", "read attr '_C__p'@6"],
    ),
    "tuple unpacking stores left to right after unpacking": (
        """
        class O: pass
        def t(o):
            d = {}
            o.a, d["k"], *o.rest = 1, 2, 3, 4
            return o.a, d, o.rest
        result = t(O())
        """,
        ["write attr 'a'@5", "setitem 'k'@5", "write attr 'rest'@5", "read attr 'a'@6", "read attr 'rest'@6"],
    ),
    "chained comparison with in": (
        """
        def t():
            a = [1, 2]
            return 0 < 1 in a, 5 < 1 in a
        result = t()
        """,
        ["contains 1@4"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_events(case: str) -> None:
    source, expected = CASES[case]
    assert events_of(source) == expected


def test_site_carries_file_line_function_and_text() -> None:
    _, log = run_instrumented(
        """
        class Counter:
            def __init__(self):
                self.items = {}
            def add(self, k):
                self.items[k] = 1
        Counter().add("a")
        """
    )
    read_items, setitem = log[-2], log[-1]
    assert read_items == ("read", "attr", "items", (FILENAME, 6, "Counter.add", 0, "self"))
    # a store in a function also carries the data flow of its value: (def line, last line,
    # the lines it is computed from, whether it may come from outside the function)
    assert setitem == ("setitem", "a", (FILENAME, 6, "Counter.add", 0, "self.items", (5, 6, (6,), False)))


def test_site_function_is_the_qualname_of_nested_functions_and_lambdas() -> None:
    _, log = run_instrumented(
        """
        class O: x = 1
        def outer(o):
            def inner():
                return o.x
            f = lambda: o.x
            return inner() + f() + sum(o.x for _ in range(1))
        outer(O())
        """
    )
    functions = [ev[-1][2] for ev in log if ev[0] == "read"]
    assert functions == ["outer.<locals>.inner", "outer.<locals>.<lambda>", "outer"]


def test_opt_out_marker_leaves_the_module_plain() -> None:
    ns, log = run_instrumented(
        '''
        """Helpers.  RACEFREE: no-instrument"""
        class O: pass
        o = O(); o.x = 1
        result = o.x
        '''
    )
    assert log == [] and ns["result"] == 1 and "@rf" not in ns


def test_cells_are_fetched_once_per_call_of_the_defining_function() -> None:
    _, log = run_instrumented(
        """
        def outer():
            hits = 0
            def bump():
                nonlocal hits
                hits += 1
            for _ in range(3):
                bump()
            return hits
        outer()
        """
    )
    assert [e for e in log if e[0] == "cells"] == [("cells", ("hits",))]
    assert sum(1 for e in log if e[0] == "write") == 4  # `hits = 0` and three increments


def test_an_already_parsed_module_is_accepted() -> None:
    tree = ast.parse("class O: pass\no = O()\no.x = 1\n")
    code = compile_instrumented(tree, FILENAME, runtime="rf_fake_runtime")
    log = rf_fake_runtime.reset()
    exec(code, {})
    assert [e[:3] for e in log] == [("write", "attr", "x")]


def test_single_mode_and_refused_eval_mode(capsys: pytest.CaptureFixture[str]) -> None:
    ns: dict[str, object] = {}
    exec(compile_instrumented("class O: pass\n", "<stdin>", "single", runtime="rf_fake_runtime"), ns)
    exec(compile_instrumented("o = O(); o.x = 41\n", "<stdin>", "single", runtime="rf_fake_runtime"), ns)
    log = rf_fake_runtime.reset()
    exec(compile_instrumented("o.x + 1\n", "<stdin>", "single", runtime="rf_fake_runtime"), ns)
    assert capsys.readouterr().out == "42\n"  # interactive mode still echoes expression values
    assert [e[:3] for e in log] == [("read", "attr", "x")]
    with pytest.raises(ValueError, match="mode must be 'exec' or 'single'"):
        compile_instrumented("1", "<expr>", "eval")
