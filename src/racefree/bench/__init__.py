"""``racefree bench``: racefree.sync measured against named baselines, side by side in one run.

Layers: :mod:`.timing` times a workload at N threads; :mod:`.peers` imports
the optional peer libraries (and refuses one that re-enables the GIL);
:mod:`.suites` defines the workloads and their baselines; :mod:`.targets` holds
the issue's targets and judges them; :mod:`.tables` renders tables and JSON; :mod:`.collect`
runs the suites into one result;
:mod:`.command` is the thin CLI.
"""

from racefree.bench.collect import BenchResult, run_bench
from racefree.bench.results import Row, SuiteResult, TargetResult
from racefree.bench.targets import TARGETS, Target
from racefree.bench.timing import Case, Measurement, measure

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
