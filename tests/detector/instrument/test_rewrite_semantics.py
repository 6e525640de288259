"""Rewritten code behaves exactly like the original.

Each program computes ``result`` (often a log of side effects, to pin the
evaluation order); the instrumented run must produce the same ``repr`` as the
plain run.  The rewriter is exercised in functions (hidden temporaries), at
module level and in class bodies (helpers), and in comprehensions.
"""

from __future__ import annotations

import sys
import traceback

import pytest
from rf_snippets import FILENAME, public, run_instrumented, run_plain

ORDER_PRELUDE = """
log = []
def f(x, tag=None):
    log.append(x if tag is None else tag)
    return x
class O:
    def __init__(self, **kw):
        self.__dict__.update(kw)
    def __repr__(self):
        return f"O({sorted(self.__dict__.items())})"
"""

PROGRAMS: dict[str, str] = {
    "evaluation order of attribute and item stores": """
        def t():
            o = O(x=1, items=[1])
            d = {}
            f(o, "base").x = f(5, "value")
            f(d, "dict")[f("k", "key")] = f(1, "v2")
            f(o, "aug").x += f(2, "rhs")
            f(d, "d2")[f("k", "k2")] += f(3, "rhs2")
            return o, d
        r = t()
        result = (log, r)
        """,
    "evaluation order at module level": """
        o = O(x=1)
        d = {"k": 1}
        f(o, "base").x = f(5, "value")
        f(d, "dict")[f("k", "key")] = f(1, "v2")
        f(o, "aug").x += f(2, "rhs")
        f(d, "d2")[f("k", "k2")] += f(3, "rhs2")
        del f(d, "d3")[f("k", "k3")]
        d["j"] = 1
        del d[f("j", "k4")]
        result = (log, o, d, f(o, "b4").x, f(d, "b5") if f("q", "key5") in f(d, "c5") else None)
        """,
    "augmented assignment keeps in-place semantics (same list object)": """
        def t():
            o = O(items=[1])
            before = o.items
            o.items += [2]
            d = {"k": [1]}
            alias = d["k"]
            d["k"] += [3]
            return before is o.items, o.items, alias is d["k"], alias
        m = O(items=[1]); keep = m.items; m.items += [5]
        result = (t(), keep is m.items, m.items)
        """,
    "membership order: key before container": """
        def t():
            return f(1, "key") in f([1], "container"), f(2, "k2") not in f({}, "c2")
        result = (t(), log)
        """,
    "chained comparisons evaluate each operand once, short-circuit": """
        def t():
            a = f(1, "a") < f(2, "b") in f([2], "c")
            b = f(3, "d") < f(2, "e") in f([2], "never")
            return a, b
        result = (t(), log)
        """,
    "zero-argument super and __class__ in methods": """
        class Base:
            def hello(self):
                return "base"
            def __init__(self):
                self.items = []
        class Child(Base):
            def __init__(self):
                super().__init__()
                self.items.append(__class__.__name__)
            def hello(self):
                return "child+" + super().hello()
        c = Child()
        result = (c.hello(), c.items)
        """,
    "generators, yield expressions and comprehensions": """
        def gen(o):
            while o.n < 3:
                o.n += 1
                got = yield o.n
                o.last = got
        o = O(n=0, last=None)
        g = gen(o)
        out = [next(g), g.send("a"), g.send("b")]
        result = (out, o, [x.n for x in [o] if x.n > 0], list(x * 2 for x in range(o.n)))
        """,
    "async functions": """
        import asyncio
        async def work(o):
            await asyncio.sleep(0)
            o.n += 1
            return o.n
        o = O(n=1)
        result = asyncio.run(work(o))
        """,
    "decorators, defaults and class bodies with attribute access": """
        registry = {}
        def register(fn):
            registry[fn.__name__] = fn
            return fn
        cfg = O(default=7)
        @register
        def g(x=cfg.default):
            return x
        class K:
            base = cfg.default
            doubled = [cfg.default * 2 for _ in range(1)]
            cfg.seen = True
        result = (g(), sorted(registry), K.base, K.doubled, cfg)
        """,
    "walrus, f-strings, star-args and keyword args": """
        def t(o, d):
            if (n := o.n) > 0:
                s = f"{o.n!r:>4}|{d['k']}|{len(d)}"
            args = [1, 2]
            kw = {"sep": "-"}
            d.update(**{"z": 1}, w=2)
            return n, s, max(*args), "x".join(["a", "b"]), sorted(d.items(), **{"reverse": True})
        result = t(O(n=3), {"k": "v"})
        """,
    "match statements with value patterns and guards": """
        import enum
        class Color(enum.Enum):
            RED = 1
            BLUE = 2
        def t(x, o):
            match x:
                case Color.RED if o.n > 0:
                    return "red"
                case {"k": v} if v in o.seen:
                    return "mapping"
                case O(n=n):
                    return f"o{n}"
                case _:
                    return "other"
        o = O(n=1, seen=[5])
        result = [t(Color.RED, o), t({"k": 5}, o), t(O(n=2), o), t(3, o)]
        """,
    "global and nonlocal rebinding, del": """
        total = 0
        def bump(k):
            global total
            total += k
            return total
        def outer():
            a = 1
            b = [0]
            def inner():
                nonlocal a
                a += 10
                b[0] += 1
                return a
            inner(); inner()
            fs = [lambda: a for _ in range(2)]
            del b[0]
            class Seen:
                value = a
                def get(self):
                    return a
            return a, b, [g() for g in fs], Seen.value, Seen().get()
        bump(2); bump(3)
        result = (total, outer())
        """,
    "enum class bodies get no hidden names": """
        import enum
        class Color(enum.Enum):
            RED = 1
            GREEN = RED + 1
        result = [c.name for c in Color]
        """,
    "exceptions keep propagating with the same type": """
        def t(d, o):
            out = []
            for thunk in (lambda: d["missing"], lambda: o.missing, lambda: 1 in o.n, lambda: d.pop("x")):
                try:
                    thunk()
                except Exception as exc:
                    out.append(type(exc).__name__)
            return out
        result = t({}, O(n=3))
        """,
    "try/with/for-else/while-else": """
        import threading
        lock = threading.Lock()
        def t(o):
            with lock:
                o.n += 1
            for i in range(3):
                if i == 5:
                    break
            else:
                o.n += 10
            while o.n < 20:
                o.n += 5
            else:
                o.done = True
            try:
                o.items[3]
            except IndexError:
                o.caught = True
            finally:
                o.fin = True
            return o
        result = t(O(n=0, items=[]))
        """,
    "attribute store on a call result and subscript with a computed key": """
        def t():
            objs = [O(n=0), O(n=0)]
            def pick(i):
                log.append(i)
                return objs[i]
            pick(1).n = 5
            pick(0).n += pick(1).n
            d = {}
            d[str(len(objs))] = objs[0].n
            return objs, d, log
        result = t()
        """,
    "hidden temporaries never keep objects alive (weakrefs die as in plain code)": """
        import gc, weakref
        def t():
            class A:
                od = {}
            A.od[A] = None
            r = weakref.ref(A)
            del A
            gc.collect()
            if O(x=[1]).x:
                pass
            return r() is None
        result = t()
        """,
    "exception groups and async with/for": """
        import asyncio, contextlib
        def t(o):
            try:
                raise ExceptionGroup("g", [ValueError(1), KeyError(2)])
            except* ValueError as eg:
                o.v = len(eg.exceptions)
            except* KeyError:
                o.k = True
            return o
        @contextlib.asynccontextmanager
        async def cm(o):
            o.entered += 1
            yield o
        async def agen(o):
            for i in range(o.entered + 2):
                yield i
        async def main(o):
            async with cm(o) as got:
                got.seen = [i async for i in agen(got)]
                async for i in agen(o):
                    o.total += i
            return o
        result = (t(O()), asyncio.run(main(O(entered=0, total=0))))
        """,
    "dynamic attribute builtins keep their order and defaults": """
        def t():
            o = O(x=1)
            setattr(f(o, "obj"), f("y", "name"), f(5, "value"))
            got = getattr(f(o, "o2"), f("missing", "n2"), f("dflt", "default"))
            has = hasattr(o, "y"), hasattr(o, "zz")
            delattr(o, f("x", "n3"))
            try:
                getattr(o, "x")
            except AttributeError as exc:
                err = type(exc).__name__
            return o, got, has, err, log
        result = t()
        """,
    "slices everywhere": """
        def t():
            a = list(range(6))
            a[1:3] = ["x"]
            del a[::2]
            b = a[::-1]
            return a, b
        g = list(range(4)); g[1:2] = []; h = g[:2]
        result = (t(), g, h, [x for x in g[1:]])
        """,
}


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_same_result_as_plain(name: str) -> None:
    source = ORDER_PRELUDE + PROGRAMS[name].replace("\n        ", "\n")
    plain = run_plain(source)
    instrumented, _ = run_instrumented(source)
    assert repr(instrumented["result"]) == repr(plain["result"])
    assert sorted(public(instrumented)) == sorted(public(plain))  # no hidden names leak


def test_tracebacks_keep_line_numbers() -> None:
    source = """
    class O: pass
    def t(o):
        x = 1
        o.missing += x
    t(O())
    """
    with pytest.raises(AttributeError) as info:
        run_instrumented(source)
    lines = [fs.lineno for fs in traceback.extract_tb(info.value.__traceback__) if fs.filename == FILENAME]
    assert lines == [6, 5]


def test_class_body_hidden_names_absent() -> None:
    ns, _ = run_instrumented(
        """
        class O: pass
        o = O()
        class K:
            o.x = 1
            y = o.x
            z = [o.x for _ in range(2)]
        result = sorted(k for k in vars(K) if not k.startswith("__"))
        """
    )
    assert ns["result"] == ["y", "z"]


@pytest.mark.skipif(sys.version_info < (3, 12), reason="type statements are 3.12+")
def test_type_alias_and_generic_definitions() -> None:
    source = """
    type Pair[T] = tuple[T, T]
    class Box[T]:
        def __init__(self, v: T) -> None:
            self.v = v
    def first[T](b: Box[T]) -> T:
        return b.v
    result = (first(Box(3)), Pair.__value__)
    """
    assert repr(run_instrumented(source)[0]["result"]) == repr(run_plain(source)["result"])


def test_docstring_and_future_imports_stay_first() -> None:
    source = '''
    """The module docstring."""
    from __future__ import annotations
    class O:
        x: Undefined = None
    def f(o: AlsoUndefined) -> O:
        o.x = 1
        return o
    result = (__doc__, f(O()).x, f.__annotations__)
    '''
    instrumented, log = run_instrumented(source)
    assert repr(instrumented["result"]) == repr(run_plain(source)["result"])
    assert log  # and it was instrumented
