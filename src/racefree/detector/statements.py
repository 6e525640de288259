"""Which read a python-mode write was computed from: the read-modify-write rule.

A write of L is (the second half of) a read-modify-write when the same thread
read L at the same epoch (see :mod:`racefree.detector.access`) and that read
:func:`feeds` the write: it was made in the same function, and not *after* the
write in the source — unless both are in one statement (``self.total = (\\n
self.total + n)``: the read on the second line feeds the write named on the
first).  A read on a later line of the function reaches the write only through
a loop's next iteration: ``self.x = 0`` at the top of a loop whose end reads
``self.x`` stores a constant, it updates nothing.

The C fast path (``_speedups.c``) applies the same rule: it decides the common
case (same site, or same function with the read on an earlier or the same line)
and leaves the rest to :func:`feeds`.

Shared state: ``_spans``, a cache of each file's statement extents, filled at
most once per file (two threads may both parse it; either result is the same)
and only when a read follows its write in the source.
"""

from __future__ import annotations

from typing import Any

from racefree.detector.events import S_FILE, S_FUNC, S_LINE

# filename -> {line: (first line, last line) of the simple statement on that line}; {} if unparsable
_spans: dict[str, dict[int, tuple[int, int]]] = {}


def feeds(read_site: tuple[Any, ...], write_site: tuple[Any, ...]) -> bool:
    """Whether the read at `read_site` belongs to the read-modify-write that writes at `write_site`."""
    if read_site is write_site:
        return True
    if read_site[S_FUNC] != write_site[S_FUNC] or read_site[S_FILE] != write_site[S_FILE]:
        return False
    rline, wline = read_site[S_LINE], write_site[S_LINE]
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
