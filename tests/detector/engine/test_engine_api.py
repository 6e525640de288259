"""The engine's front door and the runtime contract are pinned."""

from __future__ import annotations

import inspect
import re

import racefree.detector as detector
from racefree.detector import Detector, runtime
from racefree.detector.events import RUNTIME_API


def test_front_door() -> None:
    # pinned exactly: a name added to the front door is added here on purpose
    assert detector.__all__ == [
        "Access", "Deadlock", "Detector", "Frame", "Race", "Session", "SuppressionError", "Suppressions",
        "format_deadlock", "format_race", "format_report", "format_summary", "happens_after",
        "happens_before", "load_for", "synchronized_by", "to_json_document", "to_sarif",
    ]
    for name in detector.__all__:
        assert getattr(detector, name) is not None


def test_root_front_door() -> None:
    import racefree

    assert racefree.__all__ == ["__version__", "happens_after", "happens_before", "synchronized_by"]
    assert racefree.happens_before is detector.happens_before


def test_runtime_implements_events_api() -> None:
    documented = set(re.findall(r"^(\w+)\(", RUNTIME_API, re.MULTILINE))
    assert documented == {
        "read", "write", "getitem", "setitem", "delitem", "contains", "iterate", "call", "cells",
        "entering", "lockcall", "bind",
    }
    assert documented == set(runtime.__all__)
    for name in documented:
        assert callable(getattr(runtime, name))


def test_detector_signature_as_agreed() -> None:
    sig = inspect.signature(Detector.__init__)
    params = sig.parameters
    assert params["mode"].default == "python"
    assert params["history_size"].default == 1 << 16
    assert params["history_size"].kind is inspect.Parameter.KEYWORD_ONLY
    assert params["stress"].default is False
    assert params["seed"].default is None
    for method in ("start", "stop", "races", "take_new_races", "__enter__", "__exit__"):
        assert callable(getattr(Detector, method))


def test_an_ended_thread_is_not_kept_alive_by_the_detector() -> None:
    import gc
    import threading
    import weakref

    class Payload:
        pass

    with Detector() as d:
        payload = Payload()
        t = threading.Thread(target=lambda p: None, args=(payload,), name="worker-1")
        t.start()
        t.join()
        alive = weakref.ref(t)
        kept = weakref.ref(payload)
        del t, payload
        gc.collect()
        assert alive() is None and kept() is None
    assert "worker-1" in [ts.name for ts in d._threads if ts is not None]
