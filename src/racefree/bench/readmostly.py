"""Exercise 3's shape as bench workloads: read-mostly configuration under many more threads than CPUs.

``racefree lab ex3`` runs 50 readers and 5 writers over one configuration
object.  The ``config`` suite runs the same mix at 2, 8 and 50 threads: in
each measurement every tenth thread, from the second on, is a writer (1 of 2,
1 of 8, 5 of 50), the rest are readers.  A reader calls ``get(key)`` over the four keys the lab reads (and
``get_all()`` every 100th call); a writer makes one ``set`` per ten of the
reader's operations, deleting the key it set before every tenth time, over a
bounded key space (the lab's configuration grows to ~460 keys; here at most
``4 + 100 * writers``), so a measurement's cost does not grow with its length.

The implementations are exercise 3's own -- :class:`racefree.automation.ConfigStore`,
the lab's ``ConfigurationManager`` (a dict behind :class:`racefree.sync.RWLock`)
and ``LockedConfigurationManager`` (behind one ``threading.Lock``, the
baseline) -- and an unsynchronized dict as the floor (no lock, no counting:
what the operations cost with nothing making them safe).

The ``snapshot`` suite times the uncontended read of a :class:`racefree.sync.Snapshot`
against reading a plain attribute, each written the way a program writes it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from racefree.automation.config import ConfigStore
from racefree.bench.timing import Case
from racefree.sync import Snapshot

__all__ = ["CONFIG_THREADS", "config_cases", "is_writer", "snapshot_cases"]

CONFIG_THREADS = (2, 8, 50)
KEYS = ("database_url", "api_timeout", "max_workers", "log_level")
INITIAL = {
    "database_url": "postgres://localhost:5432/automation",
    "api_timeout": "30s",
    "max_workers": "10",
    "log_level": "info",
}
WRITER_KEYS = 100  # distinct keys per writer

_repeat = itertools.repeat


def is_writer(index: int) -> bool:
    """Thread ``index`` writes: every tenth thread, from the second on (2 threads: 1 writer; 50: 5)."""
    return index % 10 == 1


class UnsyncConfig:
    """The floor: the configuration dict with no lock and no counting (unsafe to compound-update)."""

    def __init__(self, initial: dict[str, str]) -> None:
        self._config = dict(initial)

    def get(self, key: str) -> str | None:
        return self._config.get(key)

    def get_all(self) -> dict[str, str]:
        return dict(self._config)

    def set(self, key: str, value: str) -> None:
        self._config[key] = value

    def delete(self, key: str) -> bool:
        return self._config.pop(key, None) is not None


def _config_work(shared: Any, index: int) -> Callable[[int], None]:
    """work(n): the lab's reader loop, or (every tenth thread) its writer loop at a tenth of the rate."""
    if is_writer(index):

        def write(n: int) -> None:
            put, delete = shared.set, shared.delete
            for j in range(max(1, n // 10)):
                put(f"dynamic_config_{index}_{j % WRITER_KEYS}", f"value_{j}")
                if j % 10 == 0 and j > 0:
                    delete(f"dynamic_config_{index}_{(j - 1) % WRITER_KEYS}")

        return write

    def read(n: int) -> None:
        get, get_all = shared.get, shared.get_all
        keys = KEYS
        for j in range(n):
            get(keys[j & 3])
            if j % 100 == 0:
                get_all()

    return read


def config_cases() -> list[Case]:
    """Exercise 3's implementations and the unsynchronized floor."""
    # Imported here: building the CLI parser lists the suites and must not import the lab.
    from racefree.lab.config_managers import ConfigurationManager, LockedConfigurationManager

    return [
        Case("ConfigStore", "racefree", lambda: ConfigStore(INITIAL), _config_work,
             note="copy-on-write Snapshot, reads take no lock"),
        Case("RWLock + dict", "racefree", lambda: ConfigurationManager(INITIAL), _config_work,
             note="the lab's ConfigurationManager"),
        Case("Lock + dict", "baseline", lambda: LockedConfigurationManager(INITIAL), _config_work,
             note="the lab's LockedConfigurationManager"),
        Case("dict (unsynchronized)", "floor", lambda: UnsyncConfig(INITIAL), _config_work,
             note="no lock, no read counting"),
    ]


# -- uncontended Snapshot.get ------------------------------------------------------------------------


class Holder:
    """The baseline: a value in a plain attribute."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value


def _read_attribute(shared: Any, index: int) -> Callable[[int], None]:
    def work(n: int) -> None:
        h = shared
        for _ in _repeat(None, n):
            h.value  # noqa: B018  (the read is the operation measured)

    return work


def _snapshot_get(shared: Any, index: int) -> Callable[[int], None]:
    def work(n: int) -> None:
        s = shared
        for _ in _repeat(None, n):
            s.get()

    return work


def snapshot_cases() -> list[Case]:
    """``snap.get()`` against ``holder.value``, each through a local name, in the same loop."""
    value = {"key": "value"}
    return [
        Case("Snapshot.get()", "racefree", lambda: Snapshot(value), _snapshot_get),
        Case("plain attribute", "baseline", lambda: Holder(value), _read_attribute),
    ]
