"""Which read a python-mode write was computed from: the read-modify-write rule.

A write of L is (the second half of) a read-modify-write when the same thread
read L at the same epoch (see :mod:`racefree.detector.access`) and that read
:func:`feeds` the write.

A store with a value in a function body carries the data flow of that value
(:data:`events.S_FLOW`, computed by :mod:`racefree.detector.instrument.flow`):
a read of the same function feeds it exactly when the read's line is one its
value is computed from (``txn = self.owner`` ... ``self.owner = me`` is a blind
store: not a read-modify-write, whatever the check between them); a read in
another function is decided by :func:`stacks.flows_into` with that flow (a call
made on one of those lines; a caller's or a sibling's read only when the value
comes from outside the function: ``save(s, load(s) + 1)``).

Without a flow (module level, class bodies, deletes, augmented assignments,
container methods), the read must be in the same function and not *after* the
write in the source — unless both are in one statement (``self.total = (\\n
self.total + n)``: the read on the second line feeds the write named on the
first).  A read on a later line of the function reaches the write only through
a loop's next iteration: ``self.x = 0`` at the top of a loop whose end reads
``self.x`` stores a constant, it updates nothing.

The C fast path (``_speedups.c``) applies the same rule: it decides the common
case (same site; same function with the read on an earlier or the same line, or
on a line of the write's flow) and leaves the rest to :func:`feeds`.

Shared state: ``_spans``, a cache of each file's statement extents, filled at
most once per file (two threads may both parse it; either result is the same)
and only when a read follows its write in the source.
"""

from __future__ import annotations

from typing import Any

from racefree.detector.events import S_FILE, S_FLOW, S_FUNC, S_LINE

# filename -> {line: (first line, last line) of the simple statement on that line}; {} if unparsable
_spans: dict[str, dict[int, tuple[int, int]]] = {}


def flow(site: tuple[Any, ...]) -> tuple[int, int, tuple[int, ...], bool] | None:
    """The data flow of the value a store writes (:data:`events.S_FLOW`), if its site has one."""
    return site[S_FLOW] if len(site) > S_FLOW else None


def feeds(read_site: tuple[Any, ...], write_site: tuple[Any, ...]) -> bool | None:
    """Whether the read at `read_site` belongs to the read-modify-write that writes at `write_site`;
    None when the read is in another function (the stacks decide: :func:`stacks.flows_into`)."""
    if read_site is write_site:
        return True
    same = read_site[S_FUNC] == write_site[S_FUNC] and read_site[S_FILE] == write_site[S_FILE]
    rline, wline = read_site[S_LINE], write_site[S_LINE]
    fl = flow(write_site)
    if fl is not None:
        if same and fl[0] <= rline <= fl[1]:
            return rline in fl[2]
        return None  # another function, maybe of the same name (a property's getter and setter)
    if not same:
        return None
    if rline <= wline:
        return True
    span = _statements(str(write_site[S_FILE])).get(wline)
    return span is not None and span[0] <= rline <= span[1]


def _statements(filename: str) -> dict[int, tuple[int, int]]:
    try:
        return _spans[filename]
    except KeyError:
        pass
    import ast  # here: rarely needed, and the rewriter's parser is cold on a cached run
    import linecache

    found: dict[int, tuple[int, int]] = {}
    try:
        tree = ast.parse("".join(linecache.getlines(filename)))
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        tree = None
    if tree is not None:
        for node in ast.walk(tree):
            # simple statements only: a compound one (for, while, if, with) spans its whole body
            if isinstance(node, ast.stmt) and not hasattr(node, "body"):
                end = node.end_lineno or node.lineno
                for line in range(node.lineno, end + 1):
                    found.setdefault(line, (node.lineno, end))
    _spans[filename] = found
    return found
