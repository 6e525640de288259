"""The bytecode cache for instrumented code, kept apart from Python's own ``.pyc`` files.

Invariants (true with and without the GIL):

* A cache file is ``__pycache__/<name>.<cache_tag>.<TAG>.pyc`` next to the source
  (or under ``sys.pycache_prefix``), where TAG names racefree's version, the
  rewriter's version and the build (``t`` for free-threaded): different
  interpreters and racefree versions never read each other's files.
* The header holds the interpreter's magic number, the source's mtime (ns) and
  size, and a SHA-256 of (source bytes, runtime module name); a file is used only
  when all of them match, so an edited source — even one edited within the same
  second and size — or code rewritten for another runtime module is never reused.
* Files are written to a unique temporary name and moved into place with
  :func:`os.replace`, so a reader sees a whole file or none; concurrent writers
  (threads or processes) each write a whole file and the last one wins.
* The statistics counters are guarded by ``_lock``; nothing else is shared.

Any I/O problem (read-only directory, corrupt file) means a miss, never an error.
"""

from __future__ import annotations

import importlib
import importlib.util
import marshal
import os
import struct
import sys
import sysconfig
import threading
import types
from collections.abc import Callable
from typing import Any, NamedTuple

from racefree import __version__
from racefree.detector.instrument.compiler import REWRITE_VERSION

_FREE_THREADED = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
TAG = f"racefree-{__version__}-r{REWRITE_VERSION}{'t' if _FREE_THREADED else ''}"
_MARK = b"RFC1"
_HEADER = struct.Struct("<4s4sqq32sB")  # magic, mark, mtime_ns, size, digest, instrumented


def cache_path(source_path: str) -> str | None:
    """Where the instrumented code of `source_path` is cached (None: this interpreter has no cache tag)."""
    try:
        plain = importlib.util.cache_from_source(source_path)
    except (NotImplementedError, ValueError):
        return None
    stem, _ = os.path.splitext(plain)
    return f"{stem}.{TAG}.pyc"


def digest(source: bytes, runtime: str) -> bytes:
    """SHA-256 of (`source`, `runtime`): every cache hit computes it, so no OpenSSL (hashlib's ~3 ms)."""
    return bytes(_sha256(source + b"\0" + runtime.encode()).digest())


def _builtin_sha256() -> Callable[[bytes], Any]:
    """CPython's own SHA-256 (``_sha2``, ``_sha256`` before 3.12): the same digest as hashlib's."""
    for name in ("_sha2", "_sha256"):
        try:
            return importlib.import_module(name).sha256  # type: ignore[no-any-return]
        except (ImportError, AttributeError):
            pass
    import hashlib

    return hashlib.sha256


_sha256 = _builtin_sha256()


class CacheStats(NamedTuple):
    """How the cache has served loads so far (a frozen record)."""

    hits: int
    misses: int
    writes: int


class BytecodeCache:
    """Load and store instrumented code objects (see the module docstring)."""

    def __init__(self, *, write: bool = True) -> None:
        self._write = write
        self._lock = threading.Lock()
        self._hits = self._misses = self._writes = 0  # guarded by _lock

    def statistics(self) -> CacheStats:
        with self._lock:
            return CacheStats(self._hits, self._misses, self._writes)

    def _count(self, hit: bool) -> None:
        with self._lock:
            if hit:
                self._hits += 1
            else:
                self._misses += 1

    def load(self, source_path: str, source: bytes, st: os.stat_result, runtime: str) \
            -> tuple[types.CodeType, bool] | None:
        """The cached (code, instrumented) for this exact source, or None."""
        path = cache_path(source_path)
        result = None if path is None else self._read(path, source, st, runtime)
        self._count(result is not None)
        return result

    def _read(self, path: str, source: bytes, st: os.stat_result, runtime: str) \
            -> tuple[types.CodeType, bool] | None:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            return None
        if len(data) < _HEADER.size:
            return None
        magic, mark, mtime, size, dig, instrumented = _HEADER.unpack_from(data)
        if (magic, mark, mtime, size) != (importlib.util.MAGIC_NUMBER, _MARK, st.st_mtime_ns, st.st_size):
            return None
        if dig != digest(source, runtime):
            return None
        try:
            code = marshal.loads(data[_HEADER.size:])
        except (EOFError, ValueError, TypeError):
            return None
        return (code, bool(instrumented)) if isinstance(code, types.CodeType) else None

    def store(self, source_path: str, source: bytes, st: os.stat_result, runtime: str,
              code: types.CodeType, instrumented: bool) -> None:
        """Cache `code` for this source; silently does nothing when it cannot (or must not) write."""
        path = cache_path(source_path)
        if path is None or not self._write or sys.dont_write_bytecode:
            return
        header = _HEADER.pack(importlib.util.MAGIC_NUMBER, _MARK, st.st_mtime_ns, st.st_size,
                              digest(source, runtime), int(instrumented))
        tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(header + marshal.dumps(code))
            os.replace(tmp, path)
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            return
        with self._lock:
            self._writes += 1
