"""The statement half of the rewriter, and the module-level entry point.

Stores, deletes and augmented assignments become short statement sequences that
record the access *before* performing it and *after* evaluating the value, in
Python's evaluation order::

    o.x += v        @rf.read(ATTR, o, 'x', S1); @rf1 = o.x; @rf1 += v      (in-place op kept)
                    @rf.write(ATTR, o, 'x', S2); o.x = @rf1
    d[k] = v        @rf2 = v; @rf.setitem(d, k, S); d[k] = @rf2

Every new node takes the location of the statement it replaces, so tracebacks
keep their line numbers.  Functions are never wrapped (zero-argument ``super()``
and ``__class__`` keep working).  The function that *defines* a tracked closure
variable fetches its cell once per call, right after its docstring::

    @rf_c_total, = @rf.cells(lambda: (total,))

and inner functions reach the cell through that hidden variable (one more free
variable for them, no per-call cost).
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

from racefree.detector import events
from racefree.detector.events import DEFAULT_RUNTIME
from racefree.detector.instrument import guards
from racefree.detector.instrument.expressions import (
    CELL_PREFIX,
    GLOBALS,
    RT,
    SUPPORT,
    ExpressionRewriter,
    call,
    const,
    mangle,
    name,
)
from racefree.detector.instrument.scopes import analyze

SUPPORT_MODULE = "racefree.detector.instrument.support"


def _expr(value: ast.expr) -> ast.Expr:
    return ast.Expr(value=value)


def _assign(target: ast.expr, value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=[target], value=value, lineno=0)


def _store(id_: str) -> ast.Name:
    return ast.Name(id=id_, ctx=ast.Store())


def _located(stmts: list[ast.stmt], like: ast.AST) -> list[ast.stmt]:
    """Give new statements the location of the one they replace (their new children inherit it
    from the final ``fix_missing_locations`` pass, which walks down from located parents)."""
    for s in stmts:
        ast.copy_location(s, like)
    return stmts


class Rewriter(ExpressionRewriter):
    """Rewrites a whole module (see the module docstring)."""

    # the original statements after the one being rewritten, in its block (see guards)
    _rest: Sequence[ast.stmt] = ()

    # --- targets -------------------------------------------------------------------
    def _needs(self, target: ast.expr) -> bool:
        if isinstance(target, (ast.Attribute, ast.Subscript)):
            return True
        if isinstance(target, ast.Name):
            return self.analysis.tracking(self.scope, target.id) is not None
        if isinstance(target, ast.Starred):
            return self._needs(target.value)
        if isinstance(target, (ast.Tuple, ast.List)):
            return any(self._needs(e) for e in target.elts)
        return False

    def _name_write(self, target: ast.Name, flags: int = 0) -> list[ast.stmt]:
        """The record of a store/delete of a tracked name (empty if untracked)."""
        kind = self.analysis.tracking(self.scope, target.id)
        where = self.location_of_name(kind, target.id) if kind is not None else None
        if where is None:
            return []
        code, container = where
        site = self.site(target, flags, target.id)
        return [_expr(call(self.rt("write"), [const(code), container, const(target.id), site]))]

    def _assign_to(self, target: ast.expr, value: ast.expr) -> list[ast.stmt]:
        """Store `value` (already evaluated or cheap) into `target`, recorded; temporaries allowed."""
        if isinstance(target, ast.Name):
            return [_assign(target, value), *self._name_write(target)]
        if isinstance(target, ast.Attribute):
            site = self.site(target, 0, guards.text(target.value))
            key = const(mangle(self.private, target.attr))
            pair = self.dup(self.visit(target.value))
            assert pair is not None
            first, again = pair
            return [
                _expr(call(self.rt("write"), [const(events.ATTR), first, key, site])),
                _assign(ast.Attribute(value=again, attr=target.attr, ctx=ast.Store()), value),
            ]
        if isinstance(target, ast.Subscript):
            site = self.site(target, 0, guards.text(target.value))
            if isinstance(target.slice, ast.Slice):
                base = self.visit(target.value)
                return [_expr(self._slice_helper("store_slice", target, base, value, site))]
            pair = self.dup(self.visit(target.value))
            assert pair is not None
            first, again = pair
            kpair = self.dup(self.visit(target.slice))
            assert kpair is not None
            kfirst, kagain = kpair
            return [
                _expr(call(self.rt("setitem"), [first, kfirst, site])),
                _assign(ast.Subscript(value=again, slice=kagain, ctx=ast.Store()), value),
            ]
        if isinstance(target, (ast.Tuple, ast.List)):
            # unpack into temporaries (plain names directly), then store left to right
            elts: list[ast.expr] = []
            later: list[tuple[ast.expr, str]] = []
            for elt in target.elts:
                inner = elt.value if isinstance(elt, ast.Starred) else elt
                if self._needs(inner):
                    t = self.temp()
                    later.append((inner, t))
                    inner = _store(t)
                starred = isinstance(elt, ast.Starred)
                elts.append(ast.Starred(value=inner, ctx=ast.Store()) if starred else inner)
            stmts: list[ast.stmt] = [_assign(ast.Tuple(elts=elts, ctx=ast.Store()), value)]
            for inner, t in later:
                stmts += self._assign_to(inner, name(t))
            return stmts
        return [_assign(target, value)]

    def _slice_helper(self, helper: str, target: ast.Subscript, base: ast.expr, value: ast.expr | None,
                      site: ast.expr) -> ast.expr:
        """``support.store_slice``/``del_slice`` for `target`, a subscript with a slice (`base`: its
        container, rewritten already); arguments in Python's order: the value, the container,
        the slice's bounds."""
        sl = target.slice
        assert isinstance(sl, ast.Slice)
        parts = [self.visit(p) if p is not None else const(None) for p in (sl.lower, sl.upper, sl.step)]
        stored = [value] if value is not None else []
        return call(self.support(helper), [self.rt("setitem"), self.rt("write"), *stored, base, *parts, site])

    def _cheap(self, value: ast.expr) -> bool:
        return isinstance(value, (ast.Constant, ast.Name))

    # --- assignments ---------------------------------------------------------------
    def visit_Assign(self, node: ast.Assign) -> ast.stmt | list[ast.stmt]:
        value = self.visit(node.value)
        if not any(self._needs(t) for t in node.targets):
            node.value = value
            return node
        if not self.temps_ok:
            return _located(self._assign_no_temps(node, value), node)
        stmts: list[ast.stmt] = []
        if len(node.targets) > 1 or not self._cheap(value):
            t = self.temp()
            stmts.append(_assign(_store(t), value))
            value = name(t)
        for target in node.targets:
            stmts += self._assign_to(target, value)
        return _located(stmts, node)

    def _assign_no_temps(self, node: ast.Assign, value: ast.expr) -> list[ast.stmt]:
        """Module level and class bodies: helpers for single targets, names recorded after."""
        if len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Attribute):
                site = self.site(target, 0, guards.text(target.value))
                key = const(mangle(self.private, target.attr))
                args = [self.rt("write"), value, self.visit(target.value), key, site]
                return [_expr(call(self.support("store_attr"), args))]
            if isinstance(target, ast.Subscript) and not isinstance(target.slice, ast.Slice):
                site = self.site(target, 0, guards.text(target.value))
                args = [self.rt("setitem"), value, self.visit(target.value), self.visit(target.slice), site]
                return [_expr(call(self.support("store_item"), args))]
            if isinstance(target, ast.Subscript):
                site = self.site(target, 0, guards.text(target.value))
                base = self.visit(target.value)
                return [_expr(self._slice_helper("store_slice", target, base, value, site))]
        node.value = value
        names = [n for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)]
        return [node, *(s for n in names for s in self._name_write(n))]

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.stmt | list[ast.stmt]:
        if node.value is None or not self._needs(node.target):
            if node.value is not None:
                node.value = self.visit(node.value)
            return node
        if isinstance(node.target, ast.Name):
            node.value = self.visit(node.value)
            return _located([node, *self._name_write(node.target)], node)
        assign = ast.copy_location(_assign(node.target, node.value), node)
        return self.visit_Assign(assign)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.stmt | list[ast.stmt]:
        target, aug = node.target, events.F_AUGMENTED
        if isinstance(target, ast.Name):
            kind = self.analysis.tracking(self.scope, target.id)
            where = self.location_of_name(kind, target.id) if kind is not None else None
            node.value = self.visit(node.value)
            if where is None:
                return node
            code, container = where
            rsite = self.site(target, aug | self.guard_flag(target), target.id)
            read = _expr(call(self.rt("read"), [const(code), container, const(target.id), rsite]))
            return _located([read, node, *self._name_write(target, aug)], node)
        if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Slice):
            return self.children(node)
        if not isinstance(target, (ast.Attribute, ast.Subscript)):
            return self.children(node)
        text = guards.text(target.value)
        rsite, wsite = self.site(target, aug, text), self.site(target, aug, text)
        base = self.visit(target.value)
        if not self.temps_ok:
            if self.scope.kind != "module":
                return self.children(node)  # class body: a thunk could not see class names
            thunk = ast.Lambda(args=_no_args(), body=self.visit(node.value))
            op = const(type(node.op).__name__)
            if isinstance(target, ast.Attribute):
                key: ast.expr = const(mangle(self.private, target.attr))
                args = [self.rt("read"), self.rt("write"), base, key, op, thunk, rsite, wsite]
                helper = call(self.support("aug_attr"), args)
            else:
                args = [self.rt("getitem"), self.rt("setitem"), base, self.visit(target.slice), op, thunk,
                        rsite, wsite]
                helper = call(self.support("aug_item"), args)
            return _located([_expr(helper)], node)
        stmts: list[ast.stmt] = []
        if not self._cheap(base):
            b = self.temp()
            stmts.append(_assign(_store(b), base))
            base = name(b)
        t = self.temp()
        if isinstance(target, ast.Attribute):
            key = const(mangle(self.private, target.attr))
            stmts += [
                _expr(call(self.rt("read"), [const(events.ATTR), base, key, rsite])),
                _assign(_store(t), ast.copy_location(
                    ast.Attribute(value=base, attr=target.attr, ctx=ast.Load()), target)),
                ast.AugAssign(target=_store(t), op=node.op, value=self.visit(node.value)),
                _expr(call(self.rt("write"), [const(events.ATTR), base, key, wsite])),
                _assign(ast.Attribute(value=base, attr=target.attr, ctx=ast.Store()), name(t)),
            ]
        else:
            k = self.visit(target.slice)
            if not self._cheap(k):
                kt = self.temp()
                stmts.append(_assign(_store(kt), k))
                k = name(kt)
            stmts += [
                _expr(call(self.rt("getitem"), [base, k, rsite])),
                _assign(_store(t), ast.copy_location(
                    ast.Subscript(value=base, slice=k, ctx=ast.Load()), target)),
                ast.AugAssign(target=_store(t), op=node.op, value=self.visit(node.value)),
                _expr(call(self.rt("setitem"), [base, k, wsite])),
                _assign(ast.Subscript(value=base, slice=k, ctx=ast.Store()), name(t)),
            ]
        return _located(stmts, node)

    def visit_Delete(self, node: ast.Delete) -> ast.stmt | list[ast.stmt]:
        flat: list[ast.expr] = []
        pending = list(node.targets)
        while pending:
            t = pending.pop(0)
            if isinstance(t, (ast.Tuple, ast.List)):
                pending[:0] = t.elts
            else:
                flat.append(t)
        stmts: list[ast.stmt] = []
        for t in flat:
            stmts += self._delete(t)
        return _located(stmts, node)

    def _delete(self, target: ast.expr) -> list[ast.stmt]:
        if isinstance(target, ast.Name):
            return [*self._name_write(target), ast.Delete(targets=[target])]
        if not isinstance(target, (ast.Attribute, ast.Subscript)):
            return [ast.Delete(targets=[self.visit(target)])]
        site = self.site(target, 0, guards.text(target.value))
        base = self.visit(target.value)
        if isinstance(target, ast.Attribute):
            key = const(mangle(self.private, target.attr))
            pair = self.dup(base)
            if pair is None:
                return [_expr(call(self.support("del_attr"), [self.rt("write"), base, key, site]))]
            record = call(self.rt("write"), [const(events.ATTR), pair[0], key, site])
            attr = ast.Attribute(value=pair[1], attr=target.attr, ctx=ast.Del())
            return [_expr(record), ast.Delete(targets=[attr])]
        if isinstance(target.slice, ast.Slice):
            return [_expr(self._slice_helper("del_slice", target, base, None, site))]
        pair = self.dup(base)
        item = self.visit(target.slice)
        kpair = self.dup(item) if pair is not None else None
        if pair is None or kpair is None:
            return [_expr(call(self.support("del_item"), [self.rt("delitem"), base, item, site]))]
        record = call(self.rt("delitem"), [pair[0], kpair[0], site])
        sub = ast.Subscript(value=pair[1], slice=kpair[1], ctx=ast.Del())
        return [_expr(record), ast.Delete(targets=[sub])]

    # --- control flow ---------------------------------------------------------------
    def _test(self, node: ast.If | ast.While, rest: Sequence[ast.stmt] = ()) -> None:
        saved = self.guard
        self.guard = saved | guards.guarded_locations(node, rest)
        node.test = self.visit_truth(node.test)
        self.guard = saved

    def visit_If(self, node: ast.If) -> ast.If:
        self._test(node, self._rest)
        node.body = self._stmts(node.body)
        node.orelse = self._stmts(node.orelse)
        return node

    def visit_While(self, node: ast.While) -> ast.While:
        self._test(node)
        node.body = self._stmts(node.body)
        node.orelse = self._stmts(node.orelse)
        return node

    def _binding_writes(self, target: ast.AST | None, like: ast.AST) -> list[ast.stmt]:
        """Records of the tracked names a binding construct (``for``/``with``/``except`` target,
        ``import``, ``def``, ``class``) has just stored."""
        if target is None:
            return []
        names = [n for n in ast.walk(target) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
        return _located([w for n in names for w in self._name_write(n)], like)

    def _bound_name(self, id_: str, like: ast.AST) -> ast.Name:
        return ast.copy_location(ast.Name(id=id_, ctx=ast.Store()), like)

    def visit_For(self, node: ast.For) -> ast.For:
        node.iter = self.iterate(self.visit(node.iter), node.iter)
        node.body = self._binding_writes(node.target, node) + self._stmts(node.body)
        node.orelse = self._stmts(node.orelse)
        return node

    def _import(self, node: ast.Import | ast.ImportFrom) -> ast.stmt | list[ast.stmt]:
        plain = isinstance(node, ast.Import)  # `import a.b` binds `a`
        bound = [a.asname or (a.name.partition(".")[0] if plain else a.name)
                 for a in node.names if a.name != "*"]
        writes = [w for b in bound for w in self._binding_writes(self._bound_name(b, node), node)]
        return [node, *writes] if writes else node

    visit_Import = visit_ImportFrom = _import

    def visit_AsyncFor(self, node: ast.AsyncFor) -> ast.AsyncFor:
        node.iter = self.visit(node.iter)  # an async iterable: not a container iteration
        node.body = self._stmts(node.body)
        node.orelse = self._stmts(node.orelse)
        return node

    def _with(self, node: ast.With | ast.AsyncWith) -> ast.stmt:
        for item in node.items:
            item.context_expr = self.visit(item.context_expr)
            if isinstance(node, ast.With):  # a raw lock gets its edges (hb_rawlocks)
                item.context_expr = call(self.rt("entering"), [item.context_expr])
            if item.optional_vars is not None:
                item.optional_vars = self.visit(item.optional_vars)
        writes = [w for item in node.items for w in self._binding_writes(item.optional_vars, node)]
        node.body = writes + self._stmts(node.body)
        return node

    visit_With = visit_AsyncWith = _with

    def _try(self, node: ast.Try | ast.TryStar) -> ast.stmt:
        saved = self.guard
        self.guard = saved | guards.try_guarded_locations(node, self._rest)
        node.body = self._stmts(node.body)
        self.guard = saved
        for handler in node.handlers:
            if handler.type is not None:
                handler.type = self.visit(handler.type)
            bound = self._bound_name(handler.name, handler) if handler.name else None
            handler.body = self._binding_writes(bound, handler) + self._stmts(handler.body)
        node.orelse = self._stmts(node.orelse)
        node.finalbody = self._stmts(node.finalbody)
        return node

    visit_Try = visit_TryStar = _try

    def visit_match_case(self, node: ast.match_case) -> ast.match_case:
        # patterns are not expressions (value patterns must stay dotted names)
        if node.guard is not None:
            node.guard = self.visit(node.guard)
        node.body = self._stmts(node.body)
        return node

    def visit_TypeAlias(self, node: ast.AST) -> ast.AST:  # 3.12+: lazily evaluated annotation scope
        return node

    def _stmts(self, stmts: Sequence[ast.stmt]) -> list[ast.stmt]:
        """Rewrite a statement list; each statement drops the references its temporaries hold."""
        out: list[ast.stmt] = []
        for k, s in enumerate(stmts):
            mark = self._counter
            outer, self._pending = self._pending, []
            self._rest = stmts[k + 1:]
            saved_guard = self.guard
            if k + 1 < len(stmts) and isinstance(s, (ast.Assign, ast.AnnAssign)):
                # `v = d.get(k)` then `if v is None:`: the assignment's reads are the check
                tested = guards.names_tested(stmts[k + 1])
                if any(isinstance(t, ast.Name) and t.id in tested
                       for t in (s.targets if isinstance(s, ast.Assign) else [s.target])):
                    nxt = stmts[k + 1]
                    assert isinstance(nxt, (ast.If, ast.While))
                    self.guard = saved_guard | guards.guarded_locations(nxt, stmts[k + 2:])
            r = self.visit(s)
            self.guard = saved_guard
            temps, self._pending = self._pending, outer
            new = r if isinstance(r, list) else [] if r is None else [r]
            if temps and self.temps_ok and not isinstance(s, _EXITS):
                # so that temporaries never keep objects alive longer than the plain code would
                if isinstance(s, (ast.If, ast.While)):
                    for branch in (s.body, s.orelse) if isinstance(s, ast.If) else (s.body,):
                        branch[0:0] = _located([_release(temps)], s)
                if not isinstance(s, ast.If):
                    new += _located([_release(temps)], s)
            out += new
            self._counter = mark  # the next statement may reuse the names
        return out

    # --- scopes ---------------------------------------------------------------------
    def _decorations(self, exprs: list[ast.expr]) -> list[ast.expr]:
        saved, self.temps_ok = self.temps_ok, False  # helpers: generic definitions forbid walrus here
        out = [self.visit(e) for e in exprs]
        self.temps_ok = saved
        return out

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.stmt | list[ast.stmt]:
        node.decorator_list = self._decorations(node.decorator_list)
        node.args.defaults = self._decorations(node.args.defaults)
        kw = [d for d in node.args.kw_defaults if d is not None]
        new_kw = iter(self._decorations(kw))
        node.args.kw_defaults = [next(new_kw) if d is not None else None for d in node.args.kw_defaults]
        saved = (self.scope, self.temps_ok, self.guard)
        self.scope, self.temps_ok, self.guard = self.analysis.scope_of(node), True, frozenset()
        scope_id = id(self.scope)
        node.body = self._stmts(node.body)
        cells = sorted(self.cell_needs.pop(scope_id, ()))
        self.scope, self.temps_ok, self.guard = saved
        if cells:
            # one call per invocation; closure order is co_freevars order, which is sorted
            fetch = call(self.rt("cells"), [ast.Lambda(args=_no_args(), body=ast.Tuple(
                elts=[name(c) for c in cells], ctx=ast.Load()))])
            handles = ast.Tuple(elts=[_store(CELL_PREFIX + c) for c in cells], ctx=ast.Store())
            prologue = _assign(handles, fetch)
            at = 1 if _docstring(node.body) else 0
            node.body[at:at] = _located([prologue], node.body[min(at, len(node.body) - 1)])
        writes = self._binding_writes(self._bound_name(node.name, node), node)
        return [node, *writes] if writes else node

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.stmt | list[ast.stmt]:
        node.decorator_list = self._decorations(node.decorator_list)
        node.bases = self._decorations(node.bases)
        for k in node.keywords:
            k.value = self._decorations([k.value])[0]
        saved = (self.scope, self.temps_ok, self.private)
        self.scope, self.temps_ok, self.private = self.analysis.scope_of(node), False, node.name
        node.body = self._stmts(node.body)
        self.scope, self.temps_ok, self.private = saved
        writes = self._binding_writes(self._bound_name(node.name, node), node)
        return [node, *writes] if writes else node


_EXITS = (ast.Return, ast.Raise, ast.Break, ast.Continue)


def _release(temps: list[str]) -> ast.stmt:
    """``@rf1 = @rf2 = None``: unbound temporaries (short-circuited walrus) are fine too."""
    return ast.Assign(targets=[_store(t) for t in temps], value=const(None), lineno=0)


def _no_args() -> ast.arguments:
    return ast.arguments(posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None,
                         defaults=[])


def _docstring(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
        and isinstance(body[0].value.value, str)


def rewrite_module(tree: ast.Module, filename: str, runtime: str = DEFAULT_RUNTIME) -> ast.Module:
    """Instrument `tree` in place (and return it): see the module docstring."""
    rewriter = Rewriter(filename, analyze(tree))
    tree.body = rewriter._stmts(tree.body)
    # the runtime module, then its functions bound as globals of this module (runtime.bind)
    prologue: list[ast.stmt] = [
        ast.Import(names=[ast.alias(name=runtime, asname=RT)]),
        _expr(call(ast.Attribute(value=name(RT), attr="bind", ctx=ast.Load()), [call(name("globals"), [])])),
    ]
    if rewriter.used_support:
        prologue.append(ast.Import(names=[ast.alias(name=SUPPORT_MODULE, asname=SUPPORT)]))
    if rewriter.used_globals:
        prologue.append(_assign(_store(GLOBALS), call(name("globals"), [])))
    # after the docstring and `from __future__` imports, which must come first
    at = 1 if _docstring(tree.body) else 0
    while at < len(tree.body) and isinstance(tree.body[at], ast.ImportFrom) \
            and tree.body[at].module == "__future__":  # type: ignore[attr-defined]
        at += 1
    anchor = tree.body[at] if at < len(tree.body) else (tree.body[-1] if tree.body else None)
    for stmt in prologue:
        if anchor is not None:
            ast.copy_location(stmt, anchor)
        else:
            stmt.lineno, stmt.col_offset = 1, 0
        ast.fix_missing_locations(stmt)
    tree.body[at:at] = prologue
    ast.fix_missing_locations(tree)
    return tree
