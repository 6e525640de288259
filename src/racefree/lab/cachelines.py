"""Cache lines: the module's structs as ``ctypes`` structures, and the CPU cache topology.

``FalseSharingExample`` and ``CacheLinePaddedCounters`` mirror the Go structs
field for field (``int64`` counters, ``[7]int64`` padding), so their sizes
(32 and 200 bytes) and counter offsets (8/16/24 and 64/128/192) are the ones
the module prints.  :func:`read_topology` reads the caches the OS reports in
``/sys/devices/system/cpu/cpu*/cache/index*`` — on a VM, the virtual topology
the hypervisor presents — and :func:`false_sharing_verdict` explains a measured
ratio with it.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CacheLevel",
    "CacheLinePaddedCounters",
    "CacheTopology",
    "FalseSharingExample",
    "StructLayout",
    "Verdict",
    "false_sharing_verdict",
    "layout_of",
    "read_topology",
]

#: Adjacent/padded time ratio from which the lab calls false sharing visible.
VISIBLE_RATIO = 1.3
#: Below this many CPUs' worth of work per wall second, the workers took turns.
MIN_PARALLELISM = 1.3

COUNTERS = ("counter1", "counter2", "counter3", "counter4")


class FalseSharingExample(ctypes.Structure):
    """Go: four adjacent ``int64`` counters — all on one 64-byte line when aligned."""

    _fields_ = [(name, ctypes.c_int64) for name in COUNTERS]


class CacheLinePaddedCounters(ctypes.Structure):
    """Go: each counter followed by ``_ [7]int64``, so counters sit 64 bytes apart."""

    _fields_ = [
        ("counter1", ctypes.c_int64), ("_pad1", ctypes.c_int64 * 7),
        ("counter2", ctypes.c_int64), ("_pad2", ctypes.c_int64 * 7),
        ("counter3", ctypes.c_int64), ("_pad3", ctypes.c_int64 * 7),
        ("counter4", ctypes.c_int64),
    ]


@dataclass(frozen=True)
class StructLayout:
    """Size of a structure and each counter's offset from ``counter1``."""

    name: str
    size: int
    offsets: tuple[int, ...]

    def lines_touched(self, line_size: int, base_offset: int = 0) -> int:
        """How many distinct cache lines the counters occupy when the struct starts at `base_offset`."""
        return len({(base_offset + off) // line_size for off in self.offsets})


def layout_of(struct: type[ctypes.Structure]) -> StructLayout:
    """The size and counter offsets of `struct` (as Go's ``unsafe.Sizeof`` and pointer arithmetic)."""
    first = getattr(struct, COUNTERS[0]).offset
    offsets = tuple(getattr(struct, name).offset - first for name in COUNTERS)
    return StructLayout(struct.__name__, ctypes.sizeof(struct), offsets)


@dataclass(frozen=True)
class CacheLevel:
    """One cache as the OS reports it: level, type, line size and the CPUs that share it."""

    level: int
    type: str
    line_size: int
    size: str
    shared_cpus: frozenset[int]


@dataclass(frozen=True)
class CacheTopology:
    """The caches seen by the CPUs this process may run on."""

    cpus: tuple[int, ...]
    caches: tuple[CacheLevel, ...]
    source: str

    @property
    def line_size(self) -> int | None:
        """The L1 data cache line size (coherency_line_size), if reported."""
        sizes = [c.line_size for c in self.caches if c.type in ("Data", "Unified") and c.line_size]
        return min(sizes) if sizes else None

    def private_data_levels(self) -> list[int]:
        """Data cache levels of which each of our CPUs has its own copy (not shared with another of ours)."""
        ours = set(self.cpus)
        levels = []
        for level in sorted({c.level for c in self.caches if c.type != "Instruction"}):
            here = [c for c in self.caches if c.level == level and c.type != "Instruction"]
            if here and all(len(c.shared_cpus & ours) <= 1 for c in here):
                levels.append(level)
        return levels

    def shared_data_levels(self) -> list[int]:
        """Data cache levels that at least two of our CPUs share (where lines meet)."""
        ours = set(self.cpus)
        return sorted({c.level for c in self.caches
                       if c.type != "Instruction" and len(c.shared_cpus & ours) > 1})

    def describe(self) -> list[str]:
        lines = []
        seen = set()
        for c in sorted(self.caches, key=lambda c: (c.level, c.type, sorted(c.shared_cpus))):
            key = (c.level, c.type, c.shared_cpus)
            if key in seen:
                continue
            seen.add(key)
            cpus = ",".join(str(n) for n in sorted(c.shared_cpus))
            lines.append(f"L{c.level} {c.type} {c.size}, {c.line_size}-byte lines, CPUs {{{cpus}}}")
        return lines

    def summary(self) -> str:
        """One line: each data cache level, private per CPU or shared by which CPUs."""
        if not self.caches:
            return "cache topology not reported by the OS"
        ours = set(self.cpus)
        parts = []
        for level in sorted({c.level for c in self.caches if c.type != "Instruction"}):
            here = [c for c in self.caches if c.level == level and c.type != "Instruction"]
            kind = "d" if all(c.type == "Data" for c in here) else ""
            if all(len(c.shared_cpus & ours) <= 1 for c in here):
                parts.append(f"L{level}{kind} {here[0].size} private to each CPU")
            else:
                groups = " ".join("{" + ",".join(map(str, sorted(c.shared_cpus & ours))) + "}"
                                  for c in here)
                parts.append(f"L{level}{kind} {here[0].size} shared by CPUs {groups}")
        return "; ".join(parts) + f" ({self.line_size}-byte lines)"

    def as_dict(self) -> dict[str, object]:
        return {
            "summary": self.summary(),
            "cpus": list(self.cpus),
            "line_size": self.line_size,
            "private_data_levels": self.private_data_levels(),
            "shared_data_levels": self.shared_data_levels(),
            "caches": self.describe(),
            "source": self.source,
        }


def _parse_cpu_list(text: str) -> frozenset[int]:
    cpus: set[int] = set()
    for part in text.strip().split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        cpus.update(range(int(lo), int(hi or lo) + 1))
    return frozenset(cpus)


def _usable_cpus() -> tuple[int, ...]:
    getaffinity = getattr(os, "sched_getaffinity", None)
    if getaffinity is not None:
        return tuple(sorted(getaffinity(0)))
    return tuple(range(os.cpu_count() or 1))


def read_topology(root: str | os.PathLike[str] = "/sys/devices/system/cpu") -> CacheTopology:
    """Read the cache hierarchy of the CPUs we may run on (empty where the OS does not say)."""
    base = Path(root)
    cpus = _usable_cpus()
    caches: dict[tuple[int, str, frozenset[int]], CacheLevel] = {}
    for cpu in cpus:
        for index in sorted((base / f"cpu{cpu}" / "cache").glob("index*")):
            try:
                level = int((index / "level").read_text())
                kind = (index / "type").read_text().strip()
                shared = _parse_cpu_list((index / "shared_cpu_list").read_text())
                line = int((index / "coherency_line_size").read_text())
                size_file = index / "size"
                size = size_file.read_text().strip() if size_file.exists() else "?"
            except (OSError, ValueError):
                continue
            caches.setdefault((level, kind, shared), CacheLevel(level, kind, line, size, shared))
    source = str(base) if caches else "unavailable (no /sys cache information)"
    return CacheTopology(cpus, tuple(caches.values()), source)


@dataclass(frozen=True)
class Verdict:
    """A slug (``visible``, ``vanished-shared-caches``, ``not-observed``, ``no-parallelism``,
    ``single-cpu``, ``unknown-topology``) and the sentence that explains it."""

    code: str
    text: str


def false_sharing_verdict(ratio: float, topology: CacheTopology, workers: int,
                          parallelism: float | None = None) -> Verdict:
    """Explain a measured adjacent/padded time ratio with the cache topology.

    `parallelism` is the workers' CPU time per wall second (about 1 when they
    took turns on one CPU): below :data:`MIN_PARALLELISM` no line had to move
    between CPUs, so the ratio cannot show false sharing, whatever the topology.
    """
    ncpu = len(topology.cpus)
    if ncpu < 2:
        return Verdict("single-cpu", (
            f"only {ncpu} CPU is usable: the workers never run at the same time, so no cache line "
            f"can bounce — a ratio near 1 is expected and says nothing about false sharing"))
    if parallelism is not None and parallelism < MIN_PARALLELISM and ratio < VISIBLE_RATIO:
        return Verdict("no-parallelism", (
            f"ratio {ratio:.2f}x: the workers got only {parallelism:.2f} CPUs' worth of time at once "
            f"(the machine is busy with other work), so they mostly took turns and no line moved "
            f"between CPUs — no conclusion about false sharing from this run"))
    if not topology.caches:
        seen = " (but the slowdown is visible)" if ratio >= VISIBLE_RATIO else ""
        return Verdict("unknown-topology", (
            f"ratio {ratio:.2f}x; the OS does not report the cache topology, so it cannot be "
            f"explained from here{seen}"))
    private = topology.private_data_levels()
    shared = topology.shared_data_levels()
    if not private:
        return Verdict("vanished-shared-caches", (
            f"ratio {ratio:.2f}x: all {ncpu} CPUs share every data cache level as the OS reports it "
            f"(common on a VM or between SMT siblings), so a line never moves between private "
            f"caches — the false-sharing effect vanishes here, and the lab does not invent it"))
    meet = f"L{shared[0]}" if shared else "memory"
    levels = "/".join(f"L{n}" for n in private)
    if ratio >= VISIBLE_RATIO:
        overlap = (f"while the workers ran at once ({parallelism:.2f} CPUs' worth of time per second)"
                   if parallelism is not None else f"while {min(workers, ncpu)} workers ran at once")
        return Verdict("visible", (
            f"ratio {ratio:.2f}x: each CPU has its own {levels}; {overlap}, the one line holding all "
            f"four counters moved between those private caches (through {meet}) on nearly every "
            f"locked add, while each padded counter stayed in one CPU's cache — this is false sharing"))
    return Verdict("not-observed", (
        f"ratio {ratio:.2f}x: the caches are private per CPU ({levels}), so false sharing should "
        f"show, but it did not in this run although the workers ran in parallel — perhaps the "
        f"hypervisor backs these vCPUs with one physical core's caches"))
