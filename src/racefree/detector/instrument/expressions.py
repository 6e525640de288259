"""The expression half of the rewriter: loads, ``in``, calls, iteration.

Every rewritten expression evaluates each sub-expression exactly once and in
Python's order.  A sub-expression used twice (once as the recorder's argument,
once for the real operation) is either duplicated when that is free of effects
(a constant, an untracked name) or bound to a hidden temporary ``@rfN`` with a
walrus — only in function and lambda bodies, outside comprehensions; elsewhere
the rewriter calls a helper of :mod:`.support` instead.  The recorder returns
``None``, so ``record(...) or obj.x`` is the value of ``obj.x``.

Names that start with ``@`` cannot appear in Python source, so they never
collide with the program's own names.
"""

from __future__ import annotations

import ast
import copy
from typing import Any, TypeVar

from racefree.detector import events
from racefree.detector.instrument import flow, guards
from racefree.detector.instrument.scopes import Analysis, Scope

RT = "@rf"  # the runtime module, imported once per module
SUPPORT = "@rfh"  # racefree.detector.instrument.support
GLOBALS = "_@rf_g"  # the module's globals dict (container of GLOBAL locations); `_`: `import *` skips it
CELL_PREFIX = "@rf_c_"  # a function's handle on closure cell `x` is `@rf_c_x`

_N = TypeVar("_N", bound=ast.AST)
# names whose subscripts are type expressions (list[int]), not container reads
_GENERIC_BUILTINS = frozenset({"list", "dict", "tuple", "set", "frozenset", "type"})
# builtins that access an attribute by name: recorded operation, accepted argument counts
_DYNAMIC_ATTR = {
    "getattr": ("read", (2, 3)),
    "hasattr": ("read", (2,)),
    "setattr": ("write", (3,)),
    "delattr": ("write", (2,)),
}
# iterables that are fresh objects: not worth an iterate() call
_FRESH_ITERABLES = (
    ast.Call, ast.Constant, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.JoinedStr,
    ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
)


def name(id_: str) -> ast.Name:
    return ast.Name(id=id_, ctx=ast.Load())


def const(value: Any) -> ast.Constant:
    return ast.Constant(value=value)


def call(func: ast.expr, args: list[ast.expr], keywords: list[ast.keyword] | None = None) -> ast.Call:
    return ast.Call(func=func, args=args, keywords=keywords or [])


def mangle(private: str | None, attr: str) -> str:
    """The attribute name CPython really uses for `attr` inside class `private`."""
    if private is None or not attr.startswith("__") or attr.endswith("__") or "." in attr:
        return attr
    stripped = private.lstrip("_")
    return f"_{stripped}{attr}" if stripped else attr


def _view_call(node: ast.expr) -> bool:
    """``x.keys()``, ``x.values()`` or ``x.items()``, without arguments."""
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("keys", "values", "items") and not node.args and not node.keywords
    )


_LOCK_METHODS = frozenset({"acquire", "release", "acquire_lock", "release_lock"})


class ExpressionRewriter(ast.NodeTransformer):
    """Rewrites expressions; :class:`.transform.Rewriter` adds statements on top."""

    def __init__(self, filename: str, analysis: Analysis) -> None:
        self.filename = filename
        self.analysis = analysis
        self.scope: Scope = analysis.module
        self.temps_ok = False  # hidden temporaries allowed here (function body, not comprehension)
        self.private: str | None = None  # innermost class name, for private-name mangling
        self.guard: frozenset[guards.Loc] = frozenset()  # locations the current test guards
        # per defining function (id of its Scope): the tracked cells it must fetch for itself and
        # for the inner scopes that touch them (they read its `@rf_c_x` as a free variable)
        self.cell_needs: dict[int, set[str]] = {}
        self.used_support = False
        self.used_globals = False
        self._counter = 0  # temporaries in use are @rf1..@rf<counter>; reused statement by statement
        self._pending: list[str] = []  # temporaries bound by the statement being rewritten
        # the stores of the function being rewritten: id(Assign/AnnAssign/setattr call) -> the data flow
        # of its value (flow.Function.stores), and that of the store being rewritten, if any
        self.flows: dict[int, flow.Flow] = {}
        self.value_flow: flow.Flow | None = None
        self.identity: frozenset[str] = frozenset()  # the function's names for its thread's identity
        self._copied: set[int] = set()  # ids of `.items()`-like calls that list()/sorted() copy at once

    # --- building blocks ---------------------------------------------------------
    def children(self, node: _N) -> _N:
        """Rewrite the children of `node` in place; `node` stays."""
        self.generic_visit(node)
        return node

    def rt(self, fn: str) -> ast.expr:
        """Runtime function `fn`: a global bound by the prologue (events.BOUND_NAMES), else ``@rf.fn``."""
        if fn in events.BOUND_NAMES:
            return name(events.BOUND_PREFIX + fn)
        return ast.Attribute(value=name(RT), attr=fn, ctx=ast.Load())

    def support(self, fn: str) -> ast.expr:
        self.used_support = True
        return ast.Attribute(value=name(SUPPORT), attr=fn, ctx=ast.Load())

    def temp(self) -> str:
        self._counter += 1
        t = f"@rf{self._counter}"
        self._pending.append(t)
        return t

    def site(self, node: ast.AST, flags: int, text: str) -> ast.Constant:
        qualname = self.scope.function_qualname()
        return const((self.filename, getattr(node, "lineno", 0), qualname, flags, text))

    def store_site(self, node: ast.AST, flags: int, text: str) -> ast.Constant:
        """The site of a store: with the data flow of the value being stored (events.S_FLOW) when
        known (an assignment in a function body)."""
        if self.value_flow is None:
            return self.site(node, flags, text)
        qualname = self.scope.function_qualname()
        return const((self.filename, getattr(node, "lineno", 0), qualname, flags, text, self.value_flow))

    def guard_flag(self, node: ast.AST) -> int:
        if not self.guard:
            return 0
        loc = guards.read_location(node)
        return events.F_GUARD if loc is not None and loc in self.guard else 0

    def dup(self, expr: ast.expr) -> tuple[ast.expr, ast.expr] | None:
        """Two uses of `expr` that evaluate it once: (first use, later use); None if impossible here."""
        if isinstance(expr, ast.Constant) or (isinstance(expr, ast.Name) and isinstance(expr.ctx, ast.Load)):
            # a constant, a temporary or an untracked name (tracked ones were rewritten to a BoolOp)
            return expr, copy.copy(expr)
        if not self.temps_ok:
            return None
        t = self.temp()
        return ast.NamedExpr(target=ast.Name(id=t, ctx=ast.Store()), value=expr), name(t)

    def then(self, record: ast.expr, value: ast.expr, like: ast.AST) -> ast.expr:
        """``record or value``: records (returns None), then evaluates to `value`."""
        return ast.copy_location(ast.BoolOp(op=ast.Or(), values=[record, value]), like)

    def location_of_name(self, kind: str, id_: str) -> tuple[int, ast.expr] | None:
        """(events kind, container expression) for a tracked global or cell name."""
        if kind == "global":
            self.used_globals = True
            return events.GLOBAL, name(GLOBALS)
        owner = self.analysis.resolve(self.scope, id_)[1]
        if owner is None or owner.kind != "function":
            return None
        self.cell_needs.setdefault(id(owner), set()).add(id_)
        return events.CELL, name(CELL_PREFIX + id_)

    def skip_base(self, base: ast.expr) -> bool:
        """Attributes looked up on ``super()`` are the class's, not an object's state: not recorded."""
        return isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.func.id == "super"

    def visit_base(self, base: ast.expr) -> ast.expr:
        """The object an attribute is taken from.

        ``mod.sub`` used as a namespace (``os.path`` in ``os.path.join(...)``,
        ``mod.Class`` in ``mod.Class.attr``) is not recorded: modules are rebound
        as good as never, and this is the hottest kind of attribute chain.  A
        module attribute read for its value (``config.limit``) is recorded.
        """
        if (
            isinstance(base, ast.Attribute)
            and isinstance(base.value, ast.Name)
            and self.analysis.is_module_alias(self.scope, base.value.id)
        ):
            return base
        rewritten: ast.expr = self.visit(base)
        return rewritten

    # --- names ---------------------------------------------------------------------
    def visit_Name(self, node: ast.Name) -> ast.expr:
        if not isinstance(node.ctx, ast.Load):
            return node
        kind = self.analysis.tracking(self.scope, node.id)
        if kind is None:
            return node
        where = self.location_of_name(kind, node.id)
        if where is None:
            return node
        code, container = where
        site = self.site(node, self.guard_flag(node), node.id)
        record = call(self.rt("read"), [const(code), container, const(node.id), site])
        return self.then(record, ast.Name(id=node.id, ctx=ast.Load()), node)

    # --- attributes --------------------------------------------------------------
    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        if not isinstance(node.ctx, ast.Load) or self.skip_base(node.value):
            node.value = self.visit_base(node.value)
            return node
        site = self.site(node, self.guard_flag(node), guards.text(node.value))
        key = const(mangle(self.private, node.attr))
        base = self.visit_base(node.value)
        pair = self.dup(base)
        if pair is None:
            helper = call(self.support("load_attr"), [self.rt("read"), base, key, site])
            return ast.copy_location(helper, node)
        first, again = pair
        record = call(self.rt("read"), [const(events.ATTR), first, key, site])
        return self.then(record, ast.Attribute(value=again, attr=node.attr, ctx=ast.Load()), node)

    # --- subscripts --------------------------------------------------------------
    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        generic = isinstance(node.value, ast.Name) and node.value.id in _GENERIC_BUILTINS
        if not isinstance(node.ctx, ast.Load) or generic:
            node.value = self.visit(node.value)
            node.slice = self.visit(node.slice)
            return node
        text = guards.text(node.value)
        flags = self.guard_flag(node)
        base = self.visit(node.value)
        if isinstance(node.slice, ast.Slice):
            site = self.site(node, flags | events.F_ITERATION, text)
            sl = self.visit(node.slice)
            pair = self.dup(base)
            if pair is None:
                assert isinstance(sl, ast.Slice)
                parts = [p if p is not None else const(None) for p in (sl.lower, sl.upper, sl.step)]
                key: ast.expr = call(self.support("make_slice"), parts)
                helper = call(self.support("load_slice"), [self.rt("read"), base, key, site])
                return ast.copy_location(helper, node)
            first, again = pair
            record = call(self.rt("read"), [const(events.SIZE), first, const(None), site])
            return self.then(record, ast.Subscript(value=again, slice=sl, ctx=ast.Load()), node)
        site = self.site(node, flags, text)
        key = self.visit(node.slice)
        pair = self.dup(base)
        kpair = self.dup(key) if pair is not None else None
        if pair is None or kpair is None:
            helper = call(self.support("load_item"), [self.rt("getitem"), base, key, site])
            return ast.copy_location(helper, node)
        (first, again), (kfirst, kagain) = pair, kpair
        record = call(self.rt("getitem"), [first, kfirst, site])
        return self.then(record, ast.Subscript(value=again, slice=kagain, ctx=ast.Load()), node)

    # --- membership --------------------------------------------------------------
    def visit_Compare(self, node: ast.Compare) -> ast.expr:
        membership = [isinstance(op, (ast.In, ast.NotIn)) for op in node.ops]
        if not any(membership):
            return self.children(node)
        if len(node.ops) == 1:
            return self._membership(node, self.visit(node.left), node.ops[0])
        if not self.temps_ok:
            return self.children(node)
        # a chain `a < b in c`: split into `and`-ed single comparisons sharing temporaries
        left = self.visit(node.left)
        original_left = node.left
        parts: list[ast.expr] = []
        last = len(node.ops) - 1
        for i, (op, right) in enumerate(zip(node.ops, node.comparators)):
            original = ast.copy_location(ast.Compare(left=original_left, ops=[op], comparators=[right]), node)
            rewritten = self.visit(right)
            if i < last:
                t = self.temp()
                rewritten = ast.NamedExpr(target=ast.Name(id=t, ctx=ast.Store()), value=rewritten)
            if isinstance(op, (ast.In, ast.NotIn)):
                parts.append(self._membership(original, left, op, rewritten))
            else:
                single = ast.Compare(left=left, ops=[op], comparators=[rewritten])
                parts.append(ast.copy_location(single, node))
            if i < last:
                left, original_left = name(t), right
        return ast.copy_location(ast.BoolOp(op=ast.And(), values=parts), node)

    def _membership(
        self, node: ast.Compare, left: ast.expr, op: ast.cmpop, container: ast.expr | None = None
    ) -> ast.expr:
        """`left in right` (`node` is the original single comparison; `left` already rewritten)."""
        site = self.site(node, self.guard_flag(node), guards.text(node.comparators[0]))
        if container is None:
            container = self.visit(node.comparators[0])
        lpair = self.dup(left)
        rpair = self.dup(container)
        both_effects = not isinstance(left, (ast.Name, ast.Constant)) and not isinstance(
            container, (ast.Name, ast.Constant)
        )
        if lpair is None or rpair is None or both_effects:
            # the recorder takes (container, key) but Python evaluates the key first
            test: ast.expr = call(self.support("contains"), [self.rt("contains"), left, container, site])
            if isinstance(op, ast.NotIn):
                test = ast.UnaryOp(op=ast.Not(), operand=test)
            return ast.copy_location(test, node)
        (lfirst, lagain), (rfirst, ragain) = lpair, rpair
        record = call(self.rt("contains"), [rfirst, lfirst, site])
        return self.then(record, ast.Compare(left=lagain, ops=[op], comparators=[ragain]), node)

    # --- calls ---------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> ast.expr:
        func = node.func
        copied = id(node) in self._copied
        self._copied.discard(id(node))
        if isinstance(func, ast.Attribute):
            # a method call: the attribute load itself is not an access of the object
            tracked = func.attr in guards.CONTAINER_METHODS and not self.skip_base(func.value)
            flags = self.guard_flag(node) if tracked else 0
            text = guards.text(func.value)
            func.value = self.visit_base(func.value)
            node.args = [self.visit(a) for a in node.args]
            node.keywords = [self.visit(k) for k in node.keywords]
            if func.attr in _LOCK_METHODS:  # a raw lock's acquire/release gets its edges (hb_rawlocks)
                node.func = call(self.rt("lockcall"), [func])  # `@rf.lockcall(x.acquire)(...)`
                return node
            if not tracked:
                return node
            if func.attr in guards.ITERATING_METHODS:
                flags |= events.F_ITERATION
            if copied:
                flags |= events.F_COPIED
            site = self.site(node, flags, text)
            return ast.copy_location(call(self.rt("call"), [func, site, *node.args], node.keywords), node)
        if (
            isinstance(func, ast.Name)
            and func.id in guards.TRACKED_BUILTINS
            and self.analysis.is_builtin(self.scope, func.id)
        ):
            flags = self.guard_flag(node)
            if func.id in guards.ITERATING_BUILTINS:
                flags |= events.F_ITERATION
            site = self.site(node, flags, guards.text(node.args[0]) if node.args else func.id)
            if func.id in ("list", "sorted") and node.args and _view_call(node.args[0]):
                self._copied.add(id(node.args[0]))  # `list(d.items())`: the view is copied at once
            args = [self.visit(a) for a in node.args]
            keywords = [self.visit(k) for k in node.keywords]
            return ast.copy_location(call(self.rt("call"), [func, site, *args], keywords), node)
        if isinstance(func, ast.Name) and func.id in _DYNAMIC_ATTR:
            return self._dynamic_attr(node, func)
        return self.children(node)

    def _dynamic_attr(self, node: ast.Call, func: ast.Name) -> ast.expr:
        """``getattr/hasattr(o, n)`` read and ``setattr/delattr(o, n)`` write ATTR(o, n).

        Rewritten (in function bodies) to ``((@a := o), (@b := n), ..., record, func(@a, @b, ...))[-1]``:
        the arguments are evaluated once, in order, before the record and the real call.
        """
        op, counts = _DYNAMIC_ATTR[func.id]
        plain = (
            not self.temps_ok
            or node.keywords
            or len(node.args) not in counts
            or any(isinstance(a, ast.Starred) for a in node.args)
            or not self.analysis.is_builtin(self.scope, func.id)
        )
        if plain:
            return self.children(node)
        if op == "read":
            site = self.site(node, self.guard_flag(node), guards.text(node.args[0]))
        else:
            saved = self.value_flow
            self.value_flow = self.flows.get(id(node)) if func.id == "setattr" else None
            site = self.store_site(node, 0, guards.text(node.args[0]))
            self.value_flow = saved
        binds: list[ast.expr] = []
        temps: list[str] = []
        for arg in node.args:
            t = self.temp()
            temps.append(t)
            binds.append(ast.NamedExpr(target=ast.Name(id=t, ctx=ast.Store()), value=self.visit(arg)))
        record = call(self.rt(op), [const(events.ATTR), name(temps[0]), name(temps[1]), site])
        real = call(func, [name(t) for t in temps])
        together = ast.Tuple(elts=[*binds, record, real], ctx=ast.Load())
        return ast.copy_location(ast.Subscript(value=together, slice=const(-1), ctx=ast.Load()), node)

    # --- iteration -----------------------------------------------------------------
    def iterate(self, rewritten: ast.expr, original: ast.expr) -> ast.expr:
        """Wrap the iterable of a ``for``/comprehension so the iteration is recorded."""
        if isinstance(original, _FRESH_ITERABLES):
            return rewritten
        site = self.site(original, events.F_ITERATION, guards.text(original))
        return ast.copy_location(call(self.rt("iterate"), [rewritten, site]), original)

    def _comprehension(self, node: ast.expr) -> ast.expr:
        assert isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp))
        first = node.generators[0]
        saved = (self.scope, self.temps_ok)
        self.temps_ok = False  # no walrus in a comprehension, its iterable included
        first.iter = self.iterate(self.visit(first.iter), first.iter)
        self.scope = self.analysis.scope_of(node)
        for i, gen in enumerate(node.generators):
            if i:
                gen.iter = self.iterate(self.visit(gen.iter), gen.iter)
            gen.target = self.visit(gen.target)
            gen.ifs = [self.visit(t) for t in gen.ifs]
        if isinstance(node, ast.DictComp):
            node.key = self.visit(node.key)
            node.value = self.visit(node.value)
        else:
            node.elt = self.visit(node.elt)
        self.scope, self.temps_ok = saved
        return node

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

    def visit_truth(self, node: ast.expr) -> ast.expr:
        """Rewrite a test; a container whose truth is tested (``while q:``, ``if not d:``) and
        that the guarded branches change also gets a SIZE read marked F_GUARD (its emptiness)."""
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            node.operand = self.visit_truth(node.operand)
            return node
        if isinstance(node, ast.BoolOp):
            node.values = [self.visit_truth(v) for v in node.values]
            return node
        text = guards.text(node) if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)) else None
        rewritten: ast.expr = self.visit(node)
        if text is None or ("container", text) not in self.guard:
            return rewritten
        site = self.site(node, events.F_GUARD, text)
        pair = self.dup(rewritten)
        if pair is None:
            helper = call(self.support("truth_size"), [self.rt("read"), rewritten, site])
            return ast.copy_location(helper, node)
        record = call(self.rt("read"), [const(events.SIZE), pair[0], const(None), site])
        return self.then(record, pair[1], node)

    def visit_IfExp(self, node: ast.IfExp) -> ast.expr:
        saved = self.guard
        self.guard = saved | guards.guarded_locations(node)
        node.test = self.visit_truth(node.test)
        self.guard = saved
        node.body = self.visit(node.body)
        node.orelse = self.visit(node.orelse)
        return node

    def visit_Lambda(self, node: ast.Lambda) -> ast.expr:
        pending, self._pending = self._pending, []  # the lambda's temporaries die with its frame
        try:
            return self._lambda(node)
        finally:
            self._pending = pending

    def _lambda(self, node: ast.Lambda) -> ast.expr:
        saved = (self.scope, self.temps_ok)
        self.temps_ok = False
        node.args.defaults = [self.visit(d) for d in node.args.defaults]
        node.args.kw_defaults = [self.visit(d) if d is not None else None for d in node.args.kw_defaults]
        self.scope, self.temps_ok = self.analysis.scope_of(node), True
        node.body = self.visit(node.body)
        self.scope, self.temps_ok = saved
        return node

    def visit_NamedExpr(self, node: ast.NamedExpr) -> ast.expr:
        node.value = self.visit(node.value)  # the target is a plain binding (not recorded)
        return node

    def visit_arg(self, node: ast.arg) -> ast.arg:
        return node  # annotations are not executed code worth recording
