"""Static check-then-act analysis: which reads in a test guard a write in the body.

A *symbolic location* names what a piece of source touches, by its text:

* ``("attr", "self.cache")`` — an attribute chain on a base expression;
* ``("name", "total")`` — a global or closure variable;
* ``("container", "self.registry")`` — the contents of a container: its items and
  its size (subscripts, ``in``, ``len``, container methods all map here).

A read in the test of an ``if``/``while`` (or of a conditional expression) guards
the body when the body, *outside any* ``with`` *block*, writes the same symbolic
location: ``if k not in d: d[k] = v``, ``if self.x is None: self.x = make()``,
``if len(q) < n: q.append(x)``.  A write inside ``with lock:`` in the body is
synchronized and does not count; writes in nested functions, lambdas and class
bodies are not executed by the body and do not count either.  An ``if``'s
``else``/``elif`` branches act on the same check and count.

A container tested for its truth (``while self.queue:``, ``if not d:``) whose
branches change it gets an extra SIZE read at the test (its emptiness), marked
as a guard like the others.

The test of an ``if`` also guards what follows it in its block, up to a statement
that calls ``.acquire()``: when a branch leaves the block (``if self.client is not
None: return self.client`` then ``self.client = make()``; ``return``, ``raise``,
``continue``, ``break``) that is the check's other branch, otherwise the code both
branches go on to (``if self.count >= n: flush()`` then ``self.count = 0``).  A ``try`` body's
reads guard the writes of its handlers of
``KeyError``, ``AttributeError``, ``IndexError`` or ``LookupError`` (``try: return
d[k]`` / ``except KeyError: d[k] = make()``), and of the code after the ``try``
when its body always leaves.  ``getattr(o, "x", None)`` and ``hasattr(o, "x")``
read ``o.x``; ``setattr(o, "x", v)`` writes it.  A name assigned just before the
test (``v = d.get(k)`` then ``if v is None:``), or through assignments between
them (:func:`carried_test`), carries the check: that assignment's reads guard as
if they were in the test.

The analysis is syntactic and local: a write made by a function the body calls
(``if self.x is None: self._init()``) is not seen, and ``assert`` has no body to
guard.  A check inside the lock of double-checked locking guards the write in
its body; the unlocked outer check does not (its body's write is under ``with``).

An *ownership check* guards nothing: a location the test only compares, with
``==``, ``!=``, ``is`` or ``is not``, to the current thread's identity
(``threading.get_ident()``, ``get_native_id()``, ``current_thread()`` and its
``.ident``, or a local variable assigned only from one of them) — ``if
self._owner == me:``, ``txn = self._txn_id`` then ``if tid == txn:``.  Its answer
("is it mine?") is one no other thread can change: only the thread itself stores
its own identity there, and another thread's store of *its* identity or of
``None`` leaves the comparison as it was.  (A field that two threads each take
for themselves with no lock at all, ``if self.owner != me: self.owner = me``, is
then left to strict mode.)

The rewriter marks the guarding reads' sites with :data:`events.F_GUARD`; the
engine decides at run time whether another thread's write made the check stale.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence

Loc = tuple[str, str]

# container methods that change the container (a write of its items/size)
MUTATING_METHODS = frozenset(
    {
        "append", "appendleft", "extend", "extendleft", "insert", "remove", "clear", "update",
        "pop", "popleft", "popitem", "setdefault", "add", "discard", "sort", "reverse", "rotate",
        "difference_update", "intersection_update", "symmetric_difference_update",
    }
)
# container methods that only read it
READING_METHODS = frozenset({"get", "items", "keys", "values", "copy", "count", "index"})
# of the above, those that walk every element (reported as iterations)
ITERATING_METHODS = frozenset({"items", "keys", "values", "copy", "count", "index"})
CONTAINER_METHODS = MUTATING_METHODS | READING_METHODS

# builtins whose calls are routed through runtime.call; those that consume an iterable
TRACKED_BUILTINS = frozenset(
    {
        "len", "list", "tuple", "set", "frozenset", "dict", "sorted", "sum", "min", "max", "any",
        "all", "enumerate", "reversed", "iter", "zip", "map", "filter",
    }
)
ITERATING_BUILTINS = TRACKED_BUILTINS - {"len"}

_TEXT_LIMIT = 80


def text(node: ast.AST) -> str:
    """Source text of an expression, as shown in reports (shortened when long)."""
    try:
        s = ast.unparse(node)
    except Exception:  # an unparseable synthetic node: never fail the rewrite for a label
        s = type(node).__name__
    return s if len(s) <= _TEXT_LIMIT else s[: _TEXT_LIMIT - 3] + "..."


def read_location(node: ast.AST) -> Loc | None:
    """The symbolic location an instrumented read of `node` touches, if any."""
    if isinstance(node, ast.Attribute):
        return ("attr", text(node))
    if isinstance(node, ast.Name):
        return ("name", node.id)
    if isinstance(node, ast.Subscript):
        return ("container", text(node.value))
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn)):
        return ("container", text(node.comparators[0]))
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in CONTAINER_METHODS:
            return ("container", text(func.value))
        if isinstance(func, ast.Name) and func.id in TRACKED_BUILTINS and node.args:
            return ("container", text(node.args[0]))
        if isinstance(func, ast.Name) and func.id in ("getattr", "hasattr"):
            return _named_attr(node)
    return None


def _named_attr(node: ast.Call) -> Loc | None:
    """``getattr(o, "x", ...)`` / ``setattr(o, "x", v)``: the location ``o.x``."""
    if len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str):
        return ("attr", f"{text(node.args[0])}.{node.args[1].value}")
    return None


def _target_locations(target: ast.expr) -> Iterable[Loc]:
    if isinstance(target, ast.Attribute):
        yield ("attr", text(target))
    elif isinstance(target, ast.Name):
        yield ("name", target.id)
    elif isinstance(target, ast.Subscript):
        yield ("container", text(target.value))
    elif isinstance(target, ast.Starred):
        yield from _target_locations(target.value)
    elif isinstance(target, (ast.Tuple, ast.List)):
        for elt in target.elts:
            yield from _target_locations(elt)


class _WriteCollector(ast.NodeVisitor):
    def __init__(self) -> None:
        self.locs: set[Loc] = set()

    # synchronized or not executed here: not a check-then-act write
    def visit_With(self, node: ast.With) -> None:
        return None

    def visit_AsyncWith(self, node: ast.AsyncWith) -> None:
        return None

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        return None

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        return None

    def visit_Lambda(self, node: ast.Lambda) -> None:
        return None

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        return None

    def visit_Assign(self, node: ast.Assign) -> None:
        for t in node.targets:
            self.locs.update(_target_locations(t))
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.locs.update(_target_locations(node.target))
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.locs.update(_target_locations(node.target))
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for t in node.targets:
            self.locs.update(_target_locations(t))
        self.generic_visit(node)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.locs.add(("name", node.target.id))
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        self.locs.update(_target_locations(node.target))
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.locs.update(("name", a.asname or a.name.partition(".")[0]) for a in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.locs.update(("name", a.asname or a.name) for a in node.names if a.name != "*")

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in MUTATING_METHODS:
            self.locs.add(("container", text(func.value)))
        if isinstance(func, ast.Name) and func.id in ("setattr", "delattr"):
            loc = _named_attr(node)
            if loc is not None:
                self.locs.add(loc)
        self.generic_visit(node)


def written_locations(nodes: Iterable[ast.AST]) -> frozenset[Loc]:
    """Symbolic locations written by `nodes` outside ``with`` blocks and nested scopes."""
    collector = _WriteCollector()
    for node in nodes:
        collector.visit(node)
    return frozenset(collector.locs)


EXITS = (ast.Return, ast.Raise, ast.Break, ast.Continue)
LOOKUP_ERRORS = frozenset({"KeyError", "AttributeError", "IndexError", "LookupError"})


def always_exits(body: Sequence[ast.stmt]) -> bool:
    """Whether control never falls off the end of `body` (it returns, raises, breaks or continues)."""
    if not body:
        return False
    last = body[-1]
    if isinstance(last, EXITS):
        return True
    if isinstance(last, ast.If):
        return always_exits(last.body) and always_exits(last.orelse)
    return False


def guarded_locations(node: ast.If | ast.While | ast.IfExp, rest: Sequence[ast.stmt] = ()) -> frozenset[Loc]:
    """What the test of `node` guards: the locations its branches write unsynchronized (and the
    statements after an ``if`` one of whose branches leaves the block: `rest`)."""
    if isinstance(node, ast.While):
        return written_locations(node.body)
    if isinstance(node, ast.If):
        # the statements after the `if` act on its check too, whichever branch ran (the rest of the
        # block is the other branch when one leaves; otherwise the code both branches go on to)
        branches: list[ast.stmt] = [*node.body, *node.orelse, *_until_acquire(rest)]
        return written_locations(branches)
    return written_locations([node.body, node.orelse])


def _until_acquire(rest: Sequence[ast.stmt]) -> list[ast.stmt]:
    """The statements of `rest` before the first that calls some ``.acquire()``: what follows is
    synchronized like a ``with`` block (double-checked locking with explicit acquire/release)."""
    out: list[ast.stmt] = []
    for stmt in rest:
        if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "acquire"
               for n in ast.walk(stmt)):
            break
        out.append(stmt)
    return out


def _catches_lookup(handler: ast.ExceptHandler) -> bool:
    t = handler.type
    names = t.elts if isinstance(t, ast.Tuple) else [t] if t is not None else []
    return any(isinstance(n, ast.Name) and n.id in LOOKUP_ERRORS for n in names)


def try_guarded_locations(node: ast.Try | ast.TryStar, rest: Sequence[ast.stmt] = ()) -> frozenset[Loc]:
    """What the reads of a ``try`` body guard: the writes of its lookup-error handlers (and of
    `rest`, the statements after the ``try``, when the body always leaves)."""
    handlers = [h for h in node.handlers if _catches_lookup(h)]
    if not handlers:
        return frozenset()
    nodes: list[ast.stmt] = [s for h in handlers for s in h.body]
    if rest and always_exits(node.body):
        nodes += _until_acquire(rest)
    return written_locations(nodes)


def carried_test(stmts: Sequence[ast.stmt], k: int) -> tuple[int, frozenset[str]]:
    """The ``if``/``while`` that the assignment ``stmts[k]`` carries its value to, through the
    assignments between them (none, or more: ``a = x.v``, ``b = f(a)``, ``if b:``), and the
    names of the test that carry it; ``(k, empty)`` when there is none."""
    names = {t.id for t in _assigned(stmts[k])}
    j = k + 1
    chain: list[ast.stmt] = []
    while j < len(stmts) and isinstance(stmts[j], (ast.Assign, ast.AnnAssign)):
        chain.append(stmts[j])
        j += 1
    if j >= len(stmts) or not isinstance(stmts[j], (ast.If, ast.While)) or not names:
        return k, frozenset()
    for later in chain:  # a later assignment computed from a carried name carries it too
        if any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(later)):
            names.update(t.id for t in _assigned(later))
    tested = names_tested(stmts[j]) & names
    return (j, frozenset(tested)) if tested else (k, frozenset())


def _assigned(stmt: ast.stmt) -> list[ast.Name]:
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(
        stmt, ast.AnnAssign) else []
    return [t for t in targets if isinstance(t, ast.Name)]


def names_tested(node: ast.stmt) -> frozenset[str]:
    """The names the test of an ``if``/``while`` statement reads (empty for other statements)."""
    if not isinstance(node, (ast.If, ast.While)):
        return frozenset()
    return frozenset(n.id for n in ast.walk(node.test) if isinstance(n, ast.Name))


# functions whose result identifies the calling thread (threading, _thread)
IDENTITY_FUNCTIONS = frozenset({"get_ident", "get_native_id", "current_thread", "currentThread"})


def thread_identity(node: ast.AST, names: Iterable[str] = ()) -> bool:
    """Whether `node` evaluates to the current thread's identity: ``get_ident()``,
    ``threading.current_thread()``, ``current_thread().ident``, or one of `names`."""
    if isinstance(node, ast.Call) and not node.args and not node.keywords:
        f = node.func
        called = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
        return called in IDENTITY_FUNCTIONS
    if isinstance(node, ast.Attribute) and node.attr in ("ident", "native_id"):
        return thread_identity(node.value)
    return isinstance(node, ast.Name) and node.id in names


def ownership_checked(test: ast.expr, identity: Iterable[str] = ()) -> frozenset[Loc]:
    """The locations `test` reads only to compare them with the current thread's identity
    (`identity`: the local names that hold it): see "ownership check" above."""
    names = frozenset(identity)
    compared: set[int] = set()
    for n in ast.walk(test):
        if isinstance(n, ast.Compare) and len(n.ops) == 1 \
                and isinstance(n.ops[0], (ast.Eq, ast.NotEq, ast.Is, ast.IsNot)):
            left, right = n.left, n.comparators[0]
            if thread_identity(right, names):
                compared.add(id(left))
            elif thread_identity(left, names):
                compared.add(id(right))
    if not compared:
        return frozenset()
    only: dict[Loc, bool] = {}
    for n in ast.walk(test):
        if isinstance(n, (ast.Name, ast.Attribute, ast.Subscript)) and isinstance(n.ctx, ast.Load):
            loc = read_location(n)
            if loc is not None:
                only[loc] = only.get(loc, True) and id(n) in compared
    return frozenset(loc for loc, ok in only.items() if ok)
