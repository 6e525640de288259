"""Static def-use inside one function: which lines a stored value is computed from.

A python-mode lost update needs the value a thread stores to be computed from
the value it read (``self.n = self.n + 1``; ``v = o.x`` ... ``o.x = v + 1``).  A
blind store (``self.owner = get_ident()`` after ``if self.owner == me``;
``self.x = None``) loses nothing, whatever it read before.  So every store the
rewriter records with a value — ``=`` (also tuple targets and chains), an
annotated assignment, ``+=`` and the other augmented operators, ``setattr(o,
"x", v)`` — of an attribute, a subscript or a tracked name, in a function body,
carries the *backward slice* of its value in its site (:data:`events.S_FLOW`)::

    (first line, last line, lines, open)

* ``first``/``last``: the lines of the function, so that the engine knows a
  read at one of them by a function of the same name is this function's (a
  property's getter and setter share a name);
* ``lines``: every line (sorted tuple) on which an expression the value may be
  computed from is evaluated: the value expression itself (an augmented
  assignment's line: it reads its target), and transitively, for each local
  variable it reads, every assignment to that variable anywhere in the function
  (flow-insensitive: before or after, any branch, so a loop's previous
  iteration counts), and for an attribute ``.a`` or a subscript of ``c`` it
  reads, every store in the function to an attribute named ``a`` or to a
  subscript of ``c`` (data passed through the object: ``self.tmp = self.x`` ...
  ``self.x = self.tmp + 1``).  A read of the stored location made on one of
  these lines, or a call made on one of them into a function that reads it,
  feeds the store;
* ``open``: whether the value may come from outside the function (a parameter,
  a global or free name, an attribute or subscript, a call's result): only then
  can a read made by a caller or by a sibling call (a property's getter before
  its setter) feed it.

Constants, ``def``/``class``/``import`` and ``except ... as e`` bind nothing a
read can flow through.  Everything is decided from the function's source; a
name bound by a nested comprehension counts as the function's own.  Module
level and class bodies carry no slice (the engine then falls back to the
line order of :mod:`racefree.detector.statements`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from racefree.detector.instrument import guards

Key = tuple[str, str]  # ("local", name) | ("attr", attribute name) | ("item", container text)
Flow = tuple[int, int, tuple[int, ...], bool]

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
# the nodes that bind something (Function._collect); every other node is skipped at once
_BINDERS = frozenset({
    ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr, ast.For, ast.AsyncFor, ast.comprehension,
    ast.withitem, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom,
    ast.ExceptHandler, ast.Delete, ast.Global, ast.Nonlocal, ast.Call,
})


def _own_nodes(node: ast.AST) -> list[ast.AST]:
    """`node` and its descendants, without the bodies of nested functions, classes and lambdas
    (their decorators, defaults and bases are evaluated here and are kept)."""
    out: list[ast.AST] = []
    stack = [node]
    while stack:
        n = stack.pop()
        out.append(n)
        if n is not node and isinstance(n, _SCOPES):
            if isinstance(n, ast.Lambda):
                stack.extend(n.args.defaults)
                stack.extend(d for d in n.args.kw_defaults if d is not None)
            else:
                stack.extend(n.decorator_list)
                if isinstance(n, ast.ClassDef):
                    stack.extend(n.bases)
                    stack.extend(k.value for k in n.keywords)
                else:
                    stack.extend(n.args.defaults)
                    stack.extend(d for d in n.args.kw_defaults if d is not None)
            continue
        stack.extend(ast.iter_child_nodes(n))
    return out


def _target_keys(target: ast.AST) -> Iterator[Key]:
    if isinstance(target, ast.Name):
        yield ("local", target.id)
    elif isinstance(target, ast.Attribute):
        yield ("attr", target.attr)
    elif isinstance(target, ast.Subscript):
        yield ("item", _container(target.value))
    elif isinstance(target, ast.Starred):
        yield from _target_keys(target.value)
    elif isinstance(target, (ast.Tuple, ast.List)):
        for elt in target.elts:
            yield from _target_keys(elt)


class Function:
    """The definitions of one function body, for :meth:`slice` queries."""

    def __init__(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.first = node.lineno
        self.last = node.end_lineno or node.lineno
        a = node.args
        self.params = {p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)}
        self.params.update(p.arg for p in (a.vararg, a.kwarg) if p is not None)
        self.defs: dict[Key, list[ast.expr]] = {}
        self.bound: set[str] = set(self.params)  # every name bound in the function
        self.shared: set[str] = set()  # names declared global or nonlocal
        self._scans: dict[int, tuple[int, int, tuple[Key, ...], bool]] = {}  # id(expr) -> _scan(expr)
        stores: list[tuple[ast.AST, ast.expr]] = []
        for stmt in node.body:
            for n in _own_nodes(stmt):
                if type(n) not in _BINDERS:
                    continue
                self._collect(n)
                if isinstance(n, ast.Assign) or (isinstance(n, ast.AnnAssign) and n.value is not None):
                    assert n.value is not None
                    stores.append((n, n.value))
                elif _setattr(n):
                    assert isinstance(n, ast.Call)
                    stores.append((n, n.args[2]))
        # computed now, before the rewriter changes the function's expressions
        self.stores: dict[int, Flow] = {id(n): self.slice(value) for n, value in stores}
        self.identity = self._identity_names()

    def _identity_names(self) -> frozenset[str]:
        """Local names assigned only the current thread's identity (``me = get_ident()``)."""
        found: set[str] = set()
        candidates = {k[1]: v for k, v in self.defs.items()
                      if k[0] == "local" and k[1] not in self.params and k[1] not in self.shared}
        changed = True
        while changed:
            changed = False
            for var, values in candidates.items():
                if var not in found and all(guards.thread_identity(v, found) for v in values):
                    found.add(var)
                    changed = True
        return frozenset(found)

    def _define(self, target: ast.AST, value: ast.expr | None) -> None:
        for key in _target_keys(target):
            if key[0] == "local":
                self.bound.add(key[1])
            if value is not None:
                self.defs.setdefault(key, []).append(value)

    def _collect(self, n: ast.AST) -> None:
        if isinstance(n, ast.Assign):
            for t in n.targets:
                self._define(t, n.value)
        elif isinstance(n, (ast.AnnAssign, ast.AugAssign)):
            # an augmented store's value also reads its target: that read is on the statement's line
            self._define(n.target, n.value if n.value is not None else None)
            if isinstance(n, ast.AugAssign):
                self._define(n.target, n.target)
        elif isinstance(n, ast.NamedExpr):
            self._define(n.target, n.value)
        elif isinstance(n, (ast.For, ast.AsyncFor, ast.comprehension)):
            self._define(n.target, n.iter)
        elif isinstance(n, ast.withitem) and n.optional_vars is not None:
            self._define(n.optional_vars, n.context_expr)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.bound.add(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            self.bound.update(a.asname or a.name.partition(".")[0] for a in n.names)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            self.bound.add(n.name)
        elif isinstance(n, ast.Delete):
            for t in n.targets:
                self._define(t, None)
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            self.shared.update(n.names)
        elif _setattr(n):
            assert isinstance(n, ast.Call)
            name = n.args[1]
            assert isinstance(name, ast.Constant)
            self.defs.setdefault(("attr", str(name.value)), []).append(n.args[2])

    def slice(self, value: ast.expr) -> Flow:
        """The flow of a store of `value` (see the module docstring)."""
        lines: set[int] = set()
        opened = False
        seen: set[Key] = set()
        done: set[int] = set()
        work = [value]
        while work:
            e = work.pop()
            if id(e) in done:
                continue
            done.add(id(e))
            first, last, keys, opens = self._scan(e)
            lines.update(range(first, last + 1))
            opened = opened or opens
            for key in keys:
                if key not in seen:
                    seen.add(key)
                    work.extend(self.defs.get(key, ()))
        return (self.first, self.last, tuple(sorted(lines)), opened)

    def _scan(self, e: ast.expr) -> tuple[int, int, tuple[Key, ...], bool]:
        """`e`'s lines, what it reads that has definitions here, and whether it is open (memoized)."""
        try:
            return self._scans[id(e)]
        except KeyError:
            pass
        keys: list[Key] = []
        opened = False
        for n in _own_nodes(e):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                if n.id in self.params or n.id in self.shared or n.id not in self.bound:
                    opened = True  # a parameter, a global, a free variable or a builtin
                keys.append(("local", n.id))
            elif isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load):
                opened = True
                keys.append(("attr", n.attr))
            elif isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Load):
                opened = True
                keys.append(("item", _container(n.value)))
            elif isinstance(n, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom, ast.Lambda)):
                opened = True  # a result from elsewhere (a yield: whatever was sent in)
        found = self._scans[id(e)] = (e.lineno, e.end_lineno or e.lineno, tuple(keys), opened)
        return found


def _container(node: ast.expr) -> str:
    """A subscripted container's key: its dotted name, or "?" for any other expression (all of
    them one key: more flow, never less)."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return "?"
    parts.append(node.id)
    return ".".join(reversed(parts))


def _setattr(n: ast.AST) -> bool:
    """``setattr(o, "name", value)`` with a constant name."""
    return (
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "setattr"
        and len(n.args) == 3 and not n.keywords and isinstance(n.args[1], ast.Constant)
        and isinstance(n.args[1].value, str)
    )
