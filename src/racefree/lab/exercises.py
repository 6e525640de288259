"""Run the lab's exercises and collect every figure into one JSON-ready document."""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from racefree import __version__
from racefree._build import build_info
from racefree.lab.ex1 import run_ex1
from racefree.lab.ex2 import run_ex2
from racefree.lab.ex3 import run_ex3
from racefree.lab.threads import Check, Scale
from racefree.lab.ui import LabUI

if TYPE_CHECKING:
    from racefree.lab.race import RaceReport

__all__ = ["EXERCISES", "LabResult", "run_lab", "write_json"]

Exercise = Callable[[Scale, LabUI], tuple[dict[str, Any], list[Check]]]

EXERCISES: dict[str, Exercise] = {"ex1": run_ex1, "ex2": run_ex2, "ex3": run_ex3}


@dataclass(frozen=True)
class LabResult:
    """Every figure of a lab run, the safe components' checks and (``--race``) the detector's verdicts."""

    document: dict[str, Any]
    checks: tuple[Check, ...]
    race: RaceReport | None = None

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks) and (self.race is None or self.race.ok)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]


def run_lab(names: Sequence[str], scale: Scale, ui: LabUI, *, race: bool = False) -> LabResult:
    """Run the named exercises (keys of :data:`EXERCISES`) in order.

    With `race`, then run their components under the race detector (after every
    timed part, in subprocesses: see :mod:`racefree.lab.race`) and show the verdicts.
    """
    unknown = [n for n in names if n not in EXERCISES]
    if unknown:
        raise ValueError(f"unknown exercise {unknown[0]!r}; choose from {', '.join(EXERCISES)}")
    start = time.perf_counter()
    exercises: dict[str, Any] = {}
    checks: list[Check] = []
    for name in names:
        figures, found = EXERCISES[name](scale, ui)
        exercises[name] = figures
        checks.extend(found)
    report: RaceReport | None = None
    if race:
        from racefree.lab.race import run_race, show

        report = run_race(names, ui)
        show(report, ui)
    document: dict[str, Any] = {
        "racefree_version": __version__,
        "scale": asdict(scale),
        "build": build_info().as_dict(),
        "exercises": exercises,
        "checks": [c.as_dict() for c in checks],
        "ok": all(c.ok for c in checks) and (report is None or report.ok),
        "duration_s": time.perf_counter() - start,
    }
    if report is not None:
        document["race"] = report.as_dict()
    return LabResult(document, tuple(checks), report)


def _finite(value: Any) -> Any:
    """JSON has no infinities or NaNs: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def write_json(document: dict[str, Any], path: str) -> None:
    """Write `document` to `path` atomically (a temporary file, then ``os.replace``)."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".racefree-lab-", suffix=".json", dir=directory)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(_finite(document), f, indent=2, allow_nan=False)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
