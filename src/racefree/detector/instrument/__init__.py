"""Instrumentation: the AST rewriter, the import hook and its bytecode cache.

* :func:`compile_instrumented` — source to instrumented code (:mod:`.compiler`,
  :mod:`.transform`, :mod:`.expressions`, with :mod:`.scopes` and :mod:`.guards`
  as its static analyses);
* :class:`ImportHook` — a ``sys.meta_path`` finder that instruments the user's
  own modules (:mod:`.hook`), through a :class:`BytecodeCache` (:mod:`.cache`).
"""

from racefree.detector.instrument.cache import BytecodeCache, CacheStats
from racefree.detector.instrument.compiler import (
    NO_INSTRUMENT_MARKER,
    InstrumentError,
    compile_instrumented,
    instrument_source,
)
from racefree.detector.instrument.hook import ImportHook, InstrumentingLoader

__all__ = [
    "NO_INSTRUMENT_MARKER",
    "BytecodeCache",
    "CacheStats",
    "ImportHook",
    "InstrumentError",
    "InstrumentingLoader",
    "compile_instrumented",
    "instrument_source",
]
