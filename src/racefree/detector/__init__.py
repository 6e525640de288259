"""The happens-before race detector (``racefree run``, ``pytest --race``).

Front door: :class:`Detector` (start/stop recording, collect races), :class:`Session`
(one run as ``racefree run`` and ``pytest --race`` drive it: the detector, the
suppressions, the report formats), the report
model (:class:`Race`, :class:`Deadlock`, :class:`Access`, :class:`Frame`) and
its text format, and the happens-before annotations (:mod:`racefree.annotations`).
Instrumented code talks to :mod:`racefree.detector.runtime`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from racefree._lazy import front_door
from racefree.annotations import happens_after, happens_before, synchronized_by

if TYPE_CHECKING:
    from racefree.detector.engine import Detector
    from racefree.detector.findings import Access, Deadlock, Frame, Race, to_json_document
    from racefree.detector.format import format_deadlock, format_race, format_report, format_summary
    from racefree.detector.sarif import to_sarif
    from racefree.detector.session import Session
    from racefree.detector.suppressions import SuppressionError, Suppressions, load_for

# Each name is imported from its module on first use: importing a sub-module
# (``racefree.detector.command`` for the CLI, ``runtime`` for rewritten code)
# must not import the engine, SARIF or TOML with it.
_HOME = {
    "Detector": "engine",
    "format_deadlock": "format", "format_race": "format", "format_report": "format",
    "format_summary": "format",
    "Access": "findings", "Deadlock": "findings", "Frame": "findings", "Race": "findings",
    "to_json_document": "findings",
    "to_sarif": "sarif",
    "Session": "session",
    "SuppressionError": "suppressions", "Suppressions": "suppressions", "load_for": "suppressions",
}

__all__ = [
    "Access",
    "Deadlock",
    "Detector",
    "Frame",
    "Race",
    "Session",
    "SuppressionError",
    "Suppressions",
    "format_deadlock",
    "format_race",
    "format_report",
    "format_summary",
    "happens_after",
    "happens_before",
    "load_for",
    "synchronized_by",
    "to_json_document",
    "to_sarif",
]


__getattr__, __dir__ = front_door(__name__, _HOME, __all__)
