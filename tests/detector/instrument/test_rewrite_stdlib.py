"""Real code: standard-library modules rewritten by the instrumenter compute what the originals do.

Whole modules (``fractions``, ``statistics``, ``textwrap``, ``json.encoder`` in
its pure-Python mode) are compiled with ``compile_instrumented`` against the
recording runtime double, executed as fresh modules, and their results compared
with the real modules'.  Their source exercises far more syntax than the
snippets: class hierarchies, properties, generators, closures, ``super()``,
private names, decorators, comprehensions and exceptions used for control flow.
"""

from __future__ import annotations

import fractions
import inspect
import json.encoder
import statistics
import sys
import textwrap
import types
from typing import Any

import pytest
import rf_fake_runtime

from racefree.detector.instrument import compile_instrumented


def instrumented_copy(module: types.ModuleType) -> Any:
    source = inspect.getsource(module)
    copy = types.ModuleType(module.__name__)
    copy.__file__ = module.__file__
    code = compile_instrumented(source, module.__file__ or module.__name__, runtime="rf_fake_runtime")
    sys.modules[module.__name__], saved = copy, sys.modules[module.__name__]  # dataclass-style lookups
    try:
        exec(code, copy.__dict__)
    finally:
        sys.modules[module.__name__] = saved
    return copy


@pytest.fixture(autouse=True)
def fresh_log() -> None:
    rf_fake_runtime.reset()


def test_fractions() -> None:
    mod = instrumented_copy(fractions)
    F, G = mod.Fraction, fractions.Fraction
    a, b = F(3, 4) + F("1/6") * 5 - F(2.5), G(3, 4) + G("1/6") * 5 - G(2.5)
    assert (a.numerator, a.denominator) == (b.numerator, b.denominator)
    assert str(F(10, 4).limit_denominator(3)) == str(G(10, 4).limit_denominator(3))
    assert [round(F(7, 3), n) for n in range(3)] == [round(G(7, 3), n) for n in range(3)]
    assert len(rf_fake_runtime.EVENTS) > 10  # it really ran instrumented


def test_statistics() -> None:
    mod = instrumented_copy(statistics)
    data = [2.5, 3.25, 5.5, 11.25, 2.5, 7.0]
    for name in ("mean", "median", "mode", "pstdev", "variance", "harmonic_mean", "quantiles"):
        assert getattr(mod, name)(data) == getattr(statistics, name)(data), name
    assert mod.NormalDist(1, 2).cdf(0.5) == statistics.NormalDist(1, 2).cdf(0.5)


def test_textwrap() -> None:
    mod = instrumented_copy(textwrap)
    text = "The quick brown fox jumps over the lazy dog. " * 8
    assert mod.wrap(text, 17) == textwrap.wrap(text, 17)
    assert mod.fill(text, 30, initial_indent="> ") == textwrap.fill(text, 30, initial_indent="> ")
    assert mod.shorten(text, 40) == textwrap.shorten(text, 40)
    assert mod.dedent("  a\n   b\n") == textwrap.dedent("  a\n   b\n")


def test_json_encoder_pure_python() -> None:
    mod = instrumented_copy(json.encoder)
    value = {"b": [1, 2.5, None, True, {"c": "é\n"}], "a": (3, 4), "z": {}}
    for kw in ({}, {"indent": 2, "sort_keys": True}, {"separators": (",", ":"), "ensure_ascii": False}):
        ours = "".join(mod.JSONEncoder(**kw).iterencode(value, _one_shot=False))
        assert ours == json.encoder.JSONEncoder(**kw).encode(value), kw
