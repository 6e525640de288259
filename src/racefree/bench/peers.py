"""Optional peer libraries, imported only when a benchmark asks for them.

A peer is skipped — with the reason recorded — when it is not installed, or
when importing it turned the GIL back on in a free-threaded interpreter (an
extension that does not declare free-threading support does that, and every
later measurement in the run would then be of a GIL build).  Imports are
attempted once per process.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from racefree._build import gil_enabled as _gil_enabled  # one definition (_build)

__all__ = ["PEER_MODULES", "load", "skipped"]

# peer name -> module to import
PEER_MODULES = {
    "cereggii": "cereggii",
    "ft_utils": "ft_utils.concurrency",
    "readerwriterlock": "readerwriterlock.rwlock",
    "fasteners": "fasteners",
}

_cache: dict[str, tuple[ModuleType | None, str]] = {}


def load(name: str) -> ModuleType | None:
    """The peer's module, or None (see :func:`skipped` for why)."""
    if name not in _cache:
        before = _gil_enabled()
        try:
            module: ModuleType | None = importlib.import_module(PEER_MODULES[name])
            reason = "ok"
        except ImportError:
            module, reason = None, "not installed"
        if module is not None and _gil_enabled() and not before:
            module, reason = None, "importing it re-enabled the GIL"
        _cache[name] = (module, reason)
    return _cache[name][0]


def skipped() -> dict[str, str]:
    """Peers that were asked for and are not used, with the reason."""
    return {name: reason for name, (module, reason) in sorted(_cache.items()) if module is None}
