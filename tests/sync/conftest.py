"""Fixtures for the racefree.sync suite: every implementation, and the references they are checked against.

``int_impl`` / ``ref_factory`` / ``hb_mode`` parametrize a test over every
back-end that imports here (the pure-Python one always; cereggii when
installed) and over both code paths of every primitive: the plain one, and the
one that reports to an attached detector (with a listener that records nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sync_helpers import NullListener, RecordingListener

from racefree.sync import _backend, _hb
from racefree.sync.atomic import AtomicRef

BACKENDS = sorted(_backend.AVAILABLE)


@pytest.fixture
def listener() -> Iterator[RecordingListener]:
    """A recording listener attached for the duration of the test."""
    recorder = RecordingListener()
    previous = _hb.attach(recorder)
    try:
        yield recorder
    finally:
        _hb.detach(previous)


@pytest.fixture(params=["plain", "reporting"])
def hb_mode(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test with no detector, and again with a (null) detector attached."""
    if request.param == "plain":
        yield "plain"
        return
    previous = _hb.attach(NullListener())
    try:
        yield "reporting"
    finally:
        _hb.detach(previous)


@pytest.fixture(params=BACKENDS)
def int_impl(request: pytest.FixtureRequest, hb_mode: str) -> Callable[..., Any]:
    """An AtomicInt class of one back-end (created under the fixture's detector mode)."""
    return _backend.AVAILABLE[request.param].int_type


@pytest.fixture(params=BACKENDS)
def ref_factory(request: pytest.FixtureRequest, hb_mode: str) -> Callable[..., AtomicRef[Any]]:
    """Build an AtomicRef on one back-end."""
    backend = _backend.AVAILABLE[request.param]
    return lambda obj=None: AtomicRef._with_backend(backend, obj)
