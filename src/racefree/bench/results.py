"""What a benchmark run produced: ns/op per case and thread count, ratios, target verdicts.

All records are frozen; :meth:`BenchResult.as_dict` is the ``--json`` format
(documented in ``racefree bench --help``): every ns/op and every ratio, keyed by
thread count as a string.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from racefree._build import BuildInfo
from racefree.sync import BackendInfo

__all__ = ["BenchResult", "Row", "SuiteResult", "TargetResult"]


@dataclass(frozen=True)
class Row:
    """One case of a suite: ns/op at each thread count, and the ratio to the suite's baseline."""

    name: str
    role: str
    ns_per_op: dict[int, float]
    ratio: dict[int, float]  # ns_per_op / baseline's ns_per_op at the same thread count
    samples: dict[int, tuple[float, ...]] = field(default_factory=dict)
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "note": self.note,
            "ns_per_op": {str(t): v for t, v in self.ns_per_op.items()},
            "ratio": {str(t): v for t, v in self.ratio.items()},
            "samples": {str(t): list(v) for t, v in self.samples.items()},
        }


@dataclass(frozen=True)
class SuiteResult:
    """Every case of one suite, measured at the same thread counts in the same run."""

    key: str
    title: str
    baseline: str
    threads: tuple[int, ...]
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()

    def row(self, name: str) -> Row | None:
        return next((r for r in self.rows if r.name == name), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "baseline": self.baseline,
            "threads": list(self.threads),
            "rows": [r.as_dict() for r in self.rows],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class TargetResult:
    """One target of the issue, judged on this run."""

    key: str
    description: str
    value: float | None  # None: not measured in this run
    limit: float
    comparison: str  # "<=" or ">="
    unit: str  # "x" (a ratio) or "ns"
    status: str  # "PASS", "MISS" or "N/A"
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class BenchResult:
    """A whole ``racefree bench`` run on one interpreter."""

    build: BuildInfo
    backend: BackendInfo
    quick: bool
    total_ops: int
    repeats: int
    suites: dict[str, SuiteResult]
    targets: tuple[TargetResult, ...]
    skipped_peers: dict[str, str]
    gil_enabled_at_end: bool
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "build": self.build.as_dict(),
            "backend": {
                "name": self.backend.name,
                "reason": self.backend.reason,
                "candidates": [list(c) for c in self.backend.candidates],
            },
            "quick": self.quick,
            "total_ops": self.total_ops,
            "repeats": self.repeats,
            "suites": {k: s.as_dict() for k, s in self.suites.items()},
            "targets": [t.as_dict() for t in self.targets],
            "skipped_peers": dict(self.skipped_peers),
            "gil_enabled_at_end": self.gil_enabled_at_end,
            "seconds": self.seconds,
        }
