"""The happens-before race detector (``racefree run``, ``pytest --race``).

Front door: :class:`Detector` (start/stop recording, collect races), the report
model (:class:`Race`, :class:`Deadlock`, :class:`Access`, :class:`Frame`) and
its text format, and the happens-before annotations (:mod:`racefree.annotations`).
Instrumented code talks to :mod:`racefree.detector.runtime`.
"""

from __future__ import annotations

from racefree.annotations import happens_after, happens_before, synchronized_by
from racefree.detector.engine import Detector
from racefree.detector.format import format_deadlock, format_race, format_report, format_summary
from racefree.detector.report import Access, Deadlock, Frame, Race, to_json_document
from racefree.detector.sarif import to_sarif
from racefree.detector.suppressions import SuppressionError, Suppressions, load_for

__all__ = [
    "Access",
    "Deadlock",
    "Detector",
    "Frame",
    "Race",
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
