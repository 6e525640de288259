"""``compile_instrumented``: source in, instrumented code object out.

A module opts out with the marker ``RACEFREE: no-instrument`` anywhere in its
docstring; it is then compiled exactly as Python would.  Syntax errors are
raised as Python would raise them (same filename and line); any other failure
of the rewrite is an :class:`InstrumentError`, so a caller can fall back to
plain compilation and name the module in a warning.
"""

from __future__ import annotations

import types
from typing import TYPE_CHECKING

from racefree.detector.events import DEFAULT_RUNTIME

if TYPE_CHECKING:
    import ast

# The rewriter (``ast`` and the analyses) is imported on the first cache miss: a run whose
# modules are all in the bytecode cache never loads it.

NO_INSTRUMENT_MARKER = "RACEFREE: no-instrument"

# bumped whenever the rewrite changes, so cached code from an older rewriter is not reused
REWRITE_VERSION = 6


class InstrumentError(Exception):
    """The rewriter failed on valid source (a racefree bug): run the module plain."""


def opted_out(tree: ast.Module) -> bool:
    """True when the module docstring carries the no-instrument marker."""
    import ast

    doc = ast.get_docstring(tree, clean=False)
    return doc is not None and NO_INSTRUMENT_MARKER in doc


def compile_instrumented(
    source: str | bytes | ast.Module, filename: str, mode: str = "exec", *, runtime: str = DEFAULT_RUNTIME
) -> types.CodeType:
    """Compile `source` with every tracked access recorded through module `runtime`.

    `mode` is ``"exec"`` (a module or script) or ``"single"`` (one interactive
    statement); expression mode cannot import the runtime and is refused with
    ValueError.  The result runs with the same semantics, evaluation order and
    line numbers as ``compile(source, filename, mode)``.  `source` may also be
    an already parsed (or otherwise rewritten, e.g. by pytest's assertion
    rewriter) ``ast.Module``: it is instrumented in place, so pass a copy if the
    caller still needs the original tree.
    """
    return instrument_source(source, filename, mode, runtime=runtime)[0]


def instrument_source(
    source: str | bytes | ast.Module, filename: str, mode: str = "exec", *, runtime: str = DEFAULT_RUNTIME
) -> tuple[types.CodeType, bool]:
    """Like :func:`compile_instrumented`, also saying whether the code was instrumented (no opt-out)."""
    if mode not in ("exec", "single"):
        raise ValueError(f"compile_instrumented: mode must be 'exec' or 'single', not {mode!r}")
    import ast

    from racefree.detector.instrument.transform import rewrite_module

    tree: ast.AST
    if isinstance(source, ast.Module):
        if mode != "exec":
            raise ValueError("compile_instrumented: an ast.Module compiles in 'exec' mode only")
        tree = source
    else:
        tree = ast.parse(source, filename, mode)
    assert isinstance(tree, (ast.Module, ast.Interactive))
    if isinstance(tree, ast.Module) and opted_out(tree):
        return compile(tree, filename, mode, dont_inherit=True), False
    module = tree if isinstance(tree, ast.Module) else ast.Module(body=tree.body, type_ignores=[])
    try:
        rewritten = rewrite_module(module, filename, runtime)
        if isinstance(tree, ast.Interactive):
            tree.body = rewritten.body
            return compile(tree, filename, mode, dont_inherit=True), True
        return compile(rewritten, filename, mode, dont_inherit=True), True
    except SyntaxError as exc:
        # the source parsed, so this is the rewriter producing something invalid
        raise InstrumentError(f"rewritten code does not compile: {exc}") from exc
    except (RecursionError, ValueError, TypeError, AttributeError, AssertionError, KeyError) as exc:
        raise InstrumentError(f"{type(exc).__name__}: {exc}") from exc
