"""``racefree bench``: racefree.sync measured against named baselines, side by side in one run.

Layers: :mod:`.harness` times a workload at N threads; :mod:`.peers` imports
the optional peer libraries (and refuses one that re-enables the GIL);
:mod:`.suites` defines the workloads and their baselines; :mod:`.targets` holds
the issue's targets and judges them; :mod:`.report` renders tables and JSON;
:mod:`.command` is the thin CLI.
"""

from racefree.bench.harness import Case, Measurement, measure
from racefree.bench.results import Row, SuiteResult, TargetResult
from racefree.bench.runner import BenchResult, run_bench
from racefree.bench.targets import TARGETS, Target

__all__ = [
    "TARGETS",
    "BenchResult",
    "Case",
    "Measurement",
    "Row",
    "SuiteResult",
    "Target",
    "TargetResult",
    "measure",
    "run_bench",
]
