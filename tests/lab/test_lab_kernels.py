"""The native increment kernels: exact counts, the chooser's fallback, and running without the GIL."""

from __future__ import annotations

import ctypes
import threading

import pytest

from racefree.lab import kernels
from racefree.lab.kernels import IncrementKernel, load_kernel


def _kernel_or_skip(prefer: str | None = None) -> IncrementKernel:
    choice = load_kernel(prefer)
    if choice.kernel is None:
        pytest.skip(f"no {prefer or 'native'} kernel here: {choice.notes}")
    return choice.kernel


@pytest.mark.parametrize("backend", ["machine-code", "cc"])
def test_each_backend_counts_exactly(backend: str) -> None:
    kernel = _kernel_or_skip(backend)
    cell = ctypes.c_int64(5)
    kernel.increment(ctypes.addressof(cell), 1000)
    kernel.increment(ctypes.addressof(cell), 0)
    assert cell.value == 1005


def test_workers_on_neighbouring_counters_stay_exact() -> None:
    kernel = _kernel_or_skip()
    cells = (ctypes.c_int64 * 4)()
    n = 200_000
    ts = [threading.Thread(target=kernel.increment, args=(ctypes.addressof(cells) + 8 * i, n))
          for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert list(cells) == [n] * 4


def test_the_chooser_says_why_it_fell_back(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> IncrementKernel:
        raise OSError("no executable pages here")

    def wrong() -> IncrementKernel:
        return IncrementKernel("adds nothing", lambda address, n: None)

    monkeypatch.setattr(kernels, "_BACKENDS", (("broken", broken), ("wrong", wrong)))
    choice = load_kernel()
    assert choice.kernel is None
    assert choice.notes == ("broken: no executable pages here",
                            "wrong: kernel self-test failed: 40 + 2 gave 40")


def test_an_unknown_preference_loads_nothing() -> None:
    assert load_kernel("no-such-backend").kernel is None
