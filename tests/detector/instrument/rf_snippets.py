"""Helpers for the rewriter tests: run a snippet plain and instrumented, compare."""

from __future__ import annotations

import textwrap
from typing import Any

import rf_fake_runtime

from racefree.detector import events
from racefree.detector.instrument import compile_instrumented

FILENAME = "/snippets/snippet.py"


def flags_suffix(flags: int) -> str:
    out = ""
    if flags & events.F_GUARD:
        out += "+G"
    if flags & events.F_AUGMENTED:
        out += "+A"
    if flags & events.F_ITERATION:
        out += "+I"
    return out


def short(ev: tuple[Any, ...]) -> str:
    """One event as a compact string: ``read attr 'x'@3+A``."""
    op = ev[0]
    if op == "cells":
        return f"cells {','.join(ev[1])}"
    site = ev[-1]
    where = f"@{site[events.S_LINE]}{flags_suffix(site[events.S_FLAGS])}"
    if op in ("read", "write"):
        return f"{op} {ev[1]} {ev[2]!r}{where}"
    if op in ("getitem", "setitem", "delitem", "contains"):
        return f"{op} {ev[1]!r}{where}"
    if op == "call":
        return f"call {ev[1]}{where}"
    return f"{op}{where}"


def public(ns: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in ns.items() if not k.startswith(("@", "_@", "__"))}


def run_instrumented(source: str) -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
    code = compile_instrumented(textwrap.dedent(source), FILENAME, runtime="rf_fake_runtime")
    log = rf_fake_runtime.reset()
    ns: dict[str, Any] = {"__name__": "snippet"}
    exec(code, ns)
    return ns, list(log)


def run_plain(source: str) -> dict[str, Any]:
    ns: dict[str, Any] = {"__name__": "snippet"}
    exec(compile(textwrap.dedent(source), FILENAME, "exec", dont_inherit=True), ns)
    return ns


def events_of(source: str) -> list[str]:
    """The instrumented run's events (short form); also checks `result` equals the plain run's."""
    ns, log = run_instrumented(source)
    plain = run_plain(source)
    assert repr(ns.get("result")) == repr(plain.get("result"))
    return [short(e) for e in log]
