"""``racefree lab``: the course module's three exercises, measured on this interpreter.

The deliberately unsafe components live in :mod:`racefree.lab.unsafe` (the Go
program's races) and :mod:`racefree.lab.pitfalls` (a Python-only compound
operation); their safe counterparts in :mod:`racefree.lab.counters`,
:mod:`racefree.lab.config_managers` and :mod:`racefree.automation`.

The public names below are imported on first use (PEP 562): the ``racefree``
CLI imports :mod:`racefree.lab.command` to build its parser for every command,
and ``racefree run`` must not have imported the lab's modules — the unsafe ones
among them — before the race detector can instrument them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from racefree._lazy import front_door

if TYPE_CHECKING:
    from racefree.lab.cachelines import (
        CacheLinePaddedCounters,
        CacheTopology,
        FalseSharingExample,
        false_sharing_verdict,
        layout_of,
        read_topology,
    )
    from racefree.lab.config_managers import ConfigurationManager, LockedConfigurationManager
    from racefree.lab.counters import AtomicCounter, MutexCounter
    from racefree.lab.exercises import EXERCISES, LabResult, run_lab, write_json
    from racefree.lab.kernels import IncrementKernel, KernelChoice, load_kernel
    from racefree.lab.threads import FULL, QUICK, Check, Scale, run_threads
    from racefree.lab.ui import LabUI, NullUI, RichUI

_WHERE = {
    "cachelines": ("CacheLinePaddedCounters", "CacheTopology", "FalseSharingExample",
                   "false_sharing_verdict", "layout_of", "read_topology"),
    "config_managers": ("ConfigurationManager", "LockedConfigurationManager"),
    "counters": ("AtomicCounter", "MutexCounter"),
    "exercises": ("EXERCISES", "LabResult", "run_lab", "write_json"),
    "kernels": ("IncrementKernel", "KernelChoice", "load_kernel"),
    "threads": ("FULL", "QUICK", "Check", "Scale", "run_threads"),
    "ui": ("LabUI", "NullUI", "RichUI"),
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}

__all__ = [
    "EXERCISES",
    "FULL",
    "QUICK",
    "AtomicCounter",
    "CacheLinePaddedCounters",
    "CacheTopology",
    "Check",
    "ConfigurationManager",
    "FalseSharingExample",
    "IncrementKernel",
    "KernelChoice",
    "LabResult",
    "LabUI",
    "LockedConfigurationManager",
    "MutexCounter",
    "NullUI",
    "RichUI",
    "Scale",
    "false_sharing_verdict",
    "layout_of",
    "load_kernel",
    "read_topology",
    "run_lab",
    "run_threads",
    "write_json",
]


__getattr__, __dir__ = front_door(__name__, _MODULE_OF, __all__)
