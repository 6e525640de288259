"""Static scope analysis: which names the rewriter must track, and where they live.

Only two kinds of *names* can be shared between threads (locals cannot):

* a module global that some function of the module rebinds (``global x``), or
  that module-level code rebinds (assigned twice, in a loop, ``+=``: a script's
  ``done = True``) while some function or lambda of the module reads it —
  names bound once (constants, defs, imports) are read-only after import, so
  tracking them would only cost time;
* a closure cell that some inner function rebinds (``nonlocal x``), or that
  the defining function rebinds (twice, in a loop, ``+=``) while an inner
  function or lambda reads it (the late-binding loop variable of
  ``Thread(target=lambda: use(v))``), tracked in the defining function and in
  every inner scope that refers to it.  Comprehensions do not count as readers:
  they run where they are written.

:func:`analyze` walks a module once and answers, for a name used in a scope,
``("global", None)``, ``("cell", defining_scope)`` or ``("local", scope)``, with
the same resolution rules as CPython's symbol table (class scopes are skipped
when resolving free names; comprehensions are scopes of their own).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Literal

ScopeKind = Literal["module", "class", "function", "lambda", "comprehension"]
Resolution = Literal["global", "cell", "local"]

_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@dataclass(eq=False)
class Scope:
    """One scope of the module: what it binds and declares."""

    kind: ScopeKind
    name: str
    parent: Scope | None
    qualname: str
    bound: set[str] = field(default_factory=set)
    declared_global: set[str] = field(default_factory=set)
    declared_nonlocal: set[str] = field(default_factory=set)
    # names bound by `import x` / `import x.y` (module objects, in practice)
    imported_modules: set[str] = field(default_factory=set)
    # names bound any other way (assignments, defs, `from x import y`, ...)
    bound_otherwise: set[str] = field(default_factory=set)
    # names bound by value (assignment, for/with/except target, walrus, del, parameter: not def,
    # class or import), and those of them bound again (a second site, a loop, `+=`)
    assigned: set[str] = field(default_factory=set)
    rebound: set[str] = field(default_factory=set)
    # names loaded in this scope
    loads: set[str] = field(default_factory=set)

    @property
    def is_function(self) -> bool:
        return self.kind in ("function", "lambda")

    def function_qualname(self) -> str:
        """The qualname reported for code in this scope (comprehensions report their function)."""
        scope: Scope | None = self
        while scope is not None and scope.kind == "comprehension":
            scope = scope.parent
        return scope.qualname if scope is not None else "<module>"


@dataclass
class Analysis:
    """The result of :func:`analyze`: scopes by node, and the tracked names."""

    module: Scope
    scopes: dict[int, Scope]  # id(scope-creating node) -> Scope
    tracked_globals: set[str]
    tracked_cells: set[tuple[int, str]]  # (id(defining Scope), name)

    def scope_of(self, node: ast.AST) -> Scope:
        return self.scopes[id(node)]

    def resolve(self, scope: Scope, name: str) -> tuple[Resolution, Scope | None]:
        """Where `name` used in `scope` lives (CPython's rules, simplified for tracking)."""
        if scope.kind == "module" or name in scope.declared_global:
            return ("global", None)
        if name in scope.declared_nonlocal:
            return self._resolve_free(scope.parent, name)
        if name in scope.bound:
            return ("local", scope)
        if scope.kind == "class":
            # an unbound name in a class body is looked up in enclosing functions, then globals
            return self._resolve_free(scope.parent, name)
        return self._resolve_free(scope.parent, name)

    def _resolve_free(self, scope: Scope | None, name: str) -> tuple[Resolution, Scope | None]:
        while scope is not None:
            if scope.kind == "module":
                return ("global", None)
            if scope.kind != "class":
                if name in scope.declared_global:
                    return ("global", None)
                if name in scope.bound and name not in scope.declared_nonlocal:
                    return ("cell" if (id(scope), name) in self.tracked_cells else "local", scope)
            scope = scope.parent
        return ("global", None)

    def tracking(self, scope: Scope, name: str) -> Literal["global", "cell"] | None:
        """``"global"``/``"cell"`` when accesses to `name` in `scope` must be recorded, else None."""
        where, owner = self.resolve(scope, name)
        if where == "global":
            return "global" if name in self.tracked_globals else None
        if owner is not None and (id(owner), name) in self.tracked_cells:
            return "cell"
        return None

    def is_module_alias(self, scope: Scope, name: str) -> bool:
        """True when `name` here is a global bound only by ``import name`` (a module object)."""
        if self.resolve(scope, name)[0] != "global":
            return False
        mod = self.module
        return name in mod.imported_modules and name not in mod.bound_otherwise

    def is_builtin(self, scope: Scope, name: str) -> bool:
        """True when `name` here refers to the builtin of that name (nothing in the module binds it)."""
        return self.resolve(scope, name)[0] == "global" and name not in self.module.bound


class _Collector(ast.NodeVisitor):
    """Builds the scope tree: bindings and declarations per scope."""

    def __init__(self) -> None:
        self.module = Scope("module", "<module>", None, "<module>")
        self.scopes: dict[int, Scope] = {}
        self.current = self.module
        self.loops = 0  # loops of the current scope around the node being visited

    # --- helpers -------------------------------------------------------------
    def _child(self, node: ast.AST, kind: ScopeKind, name: str) -> Scope:
        parent = self.current
        if kind == "comprehension":
            qualname = parent.qualname
        elif parent.kind == "module":
            qualname = name
        elif parent.kind == "class":
            qualname = f"{parent.qualname}.{name}"
        else:
            qualname = f"{parent.function_qualname()}.<locals>.{name}"
        scope = Scope(kind, name, parent, qualname)
        self.scopes[id(node)] = scope
        return scope

    def _bind(self, name: str, scope: Scope | None = None, *, module_import: bool = False) -> None:
        target = scope or self.current
        target.bound.add(name)
        (target.imported_modules if module_import else target.bound_otherwise).add(name)

    def _assigned(self, name: str, scope: Scope | None = None, *, again: bool = False) -> None:
        target = scope or self.current
        if again or self.loops or name in target.assigned:
            target.rebound.add(name)
        target.assigned.add(name)

    def _in(self, scope: Scope, nodes: list[ast.AST]) -> None:
        saved, self.current = (self.current, self.loops), scope
        self.loops = 0
        for n in nodes:
            self.visit(n)
        self.current, self.loops = saved

    def _loop(self, nodes: list[ast.AST]) -> None:
        self.loops += 1
        for n in nodes:
            self.visit(n)
        self.loops -= 1

    def _visit_all(self, nodes: list[ast.expr] | list[ast.expr | None]) -> None:
        for n in nodes:
            if n is not None:
                self.visit(n)

    # --- scopes --------------------------------------------------------------
    def visit_Module(self, node: ast.Module) -> None:
        self.scopes[id(node)] = self.module
        self.generic_visit(node)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, name: str) -> None:
        self._visit_all(node.args.defaults)
        self._visit_all(node.args.kw_defaults)
        if not isinstance(node, ast.Lambda):
            self._visit_all(node.decorator_list)
            self._bind(node.name)
        scope = self._child(node, "lambda" if isinstance(node, ast.Lambda) else "function", name)
        a = node.args
        for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]:
            if arg is not None:
                scope.bound.add(arg.arg)
                scope.bound_otherwise.add(arg.arg)
                scope.assigned.add(arg.arg)
        body: list[ast.AST] = [node.body] if isinstance(node, ast.Lambda) else list(node.body)
        self._in(scope, body)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._function(node, node.name)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._function(node, node.name)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._function(node, "<lambda>")

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._visit_all(node.decorator_list)
        self._visit_all(node.bases)
        self._visit_all([k.value for k in node.keywords])
        self._bind(node.name)
        scope = self._child(node, "class", node.name)
        self._in(scope, list(node.body))

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp) -> None:
        first, *rest = node.generators
        self.visit(first.iter)  # evaluated in the enclosing scope
        scope = self._child(node, "comprehension", type(node).__name__.lower())
        inner: list[ast.AST] = [first.target, *first.ifs]
        for gen in rest:
            inner += [gen.iter, gen.target, *gen.ifs]
        if isinstance(node, ast.DictComp):
            inner += [node.key, node.value]
        else:
            inner.append(node.elt)
        self._in(scope, inner)

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

    # --- bindings and declarations ------------------------------------------
    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self._bind(node.id)
            self._assigned(node.id)
        else:
            self.current.loads.add(node.id)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        scope = self.current
        while scope.kind == "comprehension" and scope.parent is not None:
            scope = scope.parent
        self._bind(node.target.id, scope)
        self._assigned(node.target.id, scope, again=self.current.kind == "comprehension")

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self._loop([node.target, *node.body])
        for n in node.orelse:
            self.visit(n)

    visit_AsyncFor = visit_For

    def visit_While(self, node: ast.While) -> None:
        self._loop([node.test, *node.body])
        for n in node.orelse:
            self.visit(n)

    def visit_Global(self, node: ast.Global) -> None:
        self.current.declared_global.update(node.names)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self.current.declared_nonlocal.update(node.names)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname is not None:
                # `import a.b as c` binds the submodule: still a module object
                self._bind(alias.asname, module_import=True)
            else:
                self._bind(alias.name.partition(".")[0], module_import=True)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name != "*":
                self._bind(alias.asname or alias.name)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self._bind(node.name)
            self._assigned(node.name)
        self.generic_visit(node)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        if node.name:
            self._bind(node.name)
        self.generic_visit(node)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name:
            self._bind(node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        if node.rest:
            self._bind(node.rest)
        self.generic_visit(node)


def analyze(tree: ast.Module) -> Analysis:
    """Scope tree of `tree`, with the globals and cells that need tracking."""
    collector = _Collector()
    collector.visit(tree)
    scopes = collector.scopes
    tracked_globals: set[str] = set()
    for scope in scopes.values():
        if scope.kind != "module":
            tracked_globals |= scope.declared_global
    analysis = Analysis(collector.module, scopes, tracked_globals, set())
    # a cell is tracked when some inner scope rebinds it through `nonlocal`
    cells: set[tuple[int, str]] = set()
    for scope in scopes.values():
        for name in scope.declared_nonlocal:
            where, owner = analysis._resolve_free(scope.parent, name)
            if where != "global" and owner is not None:
                cells.add((id(owner), name))
    # ... or when a function or lambda reads a name that its module or enclosing function
    # rebinds without any declaration (resolved before any cell is tracked: "local" + owner)
    module_rebound = collector.module.rebound
    for scope in scopes.values():
        if not scope.is_function:
            continue
        for name in scope.loads:
            if name in scope.bound and name not in scope.declared_global \
                    and name not in scope.declared_nonlocal:
                continue
            where, owner = analysis.resolve(scope, name)
            if where == "global":
                if name in module_rebound:
                    tracked_globals.add(name)
            elif owner is not None and owner is not scope and owner.kind == "function" \
                    and name in owner.rebound:
                cells.add((id(owner), name))
    analysis.tracked_cells = cells
    return analysis
