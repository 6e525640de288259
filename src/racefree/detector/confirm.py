"""Race-directed confirmation: make a reported race happen, reproducibly (``racefree run --confirm``).

A report says two accesses are unordered; it does not say that the race does
harm, and under the GIL a python-mode race almost never misbehaves by itself.
Like RaceFuzzer (Sen, PLDI 2008), confirmation re-runs the program once per
reported race with a *directed schedule* at the race's two code sites:

* a thread arriving at one access of the pair is held there (bounded by
  :data:`WAIT`, so nothing can deadlock: a held thread always goes on) until
  another thread reaches the other access of the pair on the same location;
* then the order that makes the race harmful goes first, and the second thread
  is let go only once the first has done its access (its next instrumented
  access, or a bounded wait):

  ==================  ==========================================================
  lost-update         both threads have read; both are held at their writes
  check-then-act      both threads passed the check and are held at the act
                      (or one is held at its act while the other's write runs)
  iteration           the iterating thread is held after its first element while
                      the other thread's mutation runs, then resumes
  data-race (strict)  read first or write first, alternating with the attempt
                      (seeded), so both values the read can see are observed
  ==================  ==========================================================

The race is **confirmed** when the harmful interleaving happened and what it
did was observed (the values read and the value left, the exception raised,
the guarded body running in both threads, the two values a read saw).
Otherwise it is *not confirmed* after N attempts; it stays reported either way.
Every choice comes from the seed, so ``--seed`` replays a verdict.

This module is the parent's side: the targets, the child runs (one
``racefree run`` of the same program per attempt, the target passed through the
environment variables below) and the verdicts.  The directed scheduler itself
is :mod:`racefree.detector.schedule`, in the child.  Nothing here runs unless
``--confirm`` was given.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from racefree.detector.confirming import ENV_OUT as ENV_OUT
from racefree.detector.confirming import ENV_TARGET as ENV_TARGET

DEFAULT_ATTEMPTS = 3
MAX_RACES = 20  # races confirmed per run; the rest say why they were not tried



# -- the target: what the parent asks a child to force ------------------------------------------


@dataclass(frozen=True)
class Site:
    file: str
    line: int
    op: str  # "read" | "write"


@dataclass(frozen=True)
class Target:
    """One reported race to force: its kind, location text and the code sites of the pair."""

    kind: str
    location: str
    sites: tuple[Site, ...]
    attempt: int = 0
    seed: int = 0

    def to_json(self) -> str:
        import json

        return json.dumps({"kind": self.kind, "location": self.location, "attempt": self.attempt,
                           "seed": self.seed, "sites": [[s.file, s.line, s.op] for s in self.sites]})

    @classmethod
    def from_json(cls, text: str) -> Target:
        import json

        d = json.loads(text)
        return cls(kind=d["kind"], location=d["location"], attempt=int(d["attempt"]), seed=int(d["seed"]),
                   sites=tuple(Site(f, int(ln), op) for f, ln, op in d["sites"]))

    @classmethod
    def of(cls, race: Any) -> Target | None:
        """The target of a reported race (None when an access has no code site)."""
        sites = []
        for access in (race.current, race.previous):
            frame = access.site
            if frame is None:
                return None
            sites.append(Site(frame.file, frame.line, access.op))
        return cls(kind=race.kind, location=race.location, sites=tuple(dict.fromkeys(sites)))


def key_name(location: str) -> str:
    """The variable or attribute name at the end of a report location (``Counter.n`` -> ``n``)."""
    m = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s*$", location)
    return m.group(1) if m else ""


@dataclass
class Confirmation:
    """The verdict on one race (the JSON ``confirmation`` object)."""

    status: str  # "confirmed" | "not-confirmed"
    observed: str
    attempts: int
    seed: int
    replay: str
    outcome: str = ""  # the program's own outcome under the directed schedule

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"status": self.status, "observed": self.observed, "attempts": self.attempts,
                             "seed": self.seed, "replay": self.replay}
        if self.outcome:
            d["outcome"] = self.outcome
        return d


# -- the parent side ------------------------------------------------------------------------------


_EXC_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)): ?(.*)$")


def _program_outcome(status: int | None, stderr: str) -> str:
    if status is None:
        return "timed out under the directed schedule (killed)"
    exceptions = [m.group(0) for m in map(_EXC_LINE.match, stderr.splitlines()) if m]
    text = f"exit status {status}"
    if exceptions:
        text += f", raised {exceptions[-1]}"
    return text


def race_seed(master: int, target: Target) -> int:
    """The seed of one race's attempts: a function of the run's seed and the race's sites."""
    key = f"{target.kind}|{target.location}|" + "|".join(f"{s.file}:{s.line}:{s.op}" for s in target.sites)
    import zlib

    return (master * 2654435761 + zlib.crc32(key.encode())) % (2**31)


def confirm_races(
    races: Sequence[Any],
    child_argv: Sequence[str],
    *,
    seed: int,
    attempts: int = DEFAULT_ATTEMPTS,
    timeout: float = 60.0,
    replay: str,
    cwd: str | None = None,
) -> list[Confirmation]:
    """Force each race in a child ``racefree run`` (`child_argv`), up to `attempts` times each.

    A python-mode race is confirmed by the first attempt whose forced interleaving
    happened.  A strict ``data-race`` needs two attempts in opposite orders that
    left different values (so at least two attempts are made).
    """
    verdicts: list[Confirmation] = []
    for index, race in enumerate(races):
        target = Target.of(race)
        if target is None or index >= MAX_RACES:
            why = ("an access has no code site" if target is None
                   else f"only the first {MAX_RACES} races of a run are tried")
            verdicts.append(Confirmation("not-confirmed", f"not tried: {why}", 0, seed, replay))
            continue
        rseed = race_seed(seed, target)
        verdict: Confirmation | None = None
        by_value: dict[str, str] = {}  # strict: value seen -> what was observed
        outcome = ""
        tries = max(attempts, 2) if target.kind == "data-race" else attempts
        for attempt in range(1, tries + 1):
            t = Target(target.kind, target.location, target.sites, attempt=attempt, seed=rseed)
            doc, outcome = _attempt(t, child_argv, timeout, cwd)
            observed = str(doc.get("observed", ""))
            if not (doc.get("happened") and observed):
                continue
            if target.kind == "data-race":
                by_value.setdefault(str(doc.get("value", "")), observed)
                if len(by_value) < 2:
                    continue
                observed = "; ".join(by_value.values())
            verdict = Confirmation("confirmed", observed, attempt, seed, replay, outcome)
            break
        if verdict is None:
            text = f"not confirmed in {tries} attempt(s)"
            if by_value:
                text += f": every order gave the same value ({next(iter(by_value.values()))})"
            verdict = Confirmation("not-confirmed", text, tries, seed, replay, outcome)
        verdicts.append(verdict)
    return verdicts


def _attempt(
    target: Target, child_argv: Sequence[str], timeout: float, cwd: str | None
) -> tuple[dict[str, Any], str]:
    import json
    import subprocess
    import tempfile

    fd, out = tempfile.mkstemp(prefix="racefree-confirm-", suffix=".json")
    os.close(fd)
    env = dict(os.environ)
    env[ENV_TARGET] = target.to_json()
    env[ENV_OUT] = out
    try:
        try:
            proc = subprocess.run(list(child_argv), env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                  capture_output=True, timeout=timeout, text=True, errors="replace")
            status: int | None = proc.returncode
            stderr = proc.stderr
        except subprocess.TimeoutExpired as exc:
            status = None
            raw = exc.stderr
            stderr = raw.decode(errors="replace") if isinstance(raw, bytes) else (raw or "")
        try:
            with open(out, encoding="utf-8") as f:
                text = f.read()
            doc: dict[str, Any] = json.loads(text) if text.strip() else {}
        except (OSError, ValueError):
            doc = {}
        if status is not None and "status" in doc:
            status = int(doc["status"])
        return doc, _program_outcome(status, stderr)
    finally:
        try:
            os.unlink(out)
        except OSError:
            pass


def child_command(
    *, mode: str, include: Sequence[str], exclude: Sequence[str], program: Sequence[str]
) -> list[str]:
    """The ``racefree run`` command line of a confirming child (reports go nowhere: the parent has them)."""
    argv = [sys.executable, "-m", "racefree", "run", "--mode", mode, "--no-lock-order", "--format", "json",
            "--output", os.devnull, "--exitcode", "0"]
    for pat in include:
        argv += ["--include", pat]
    for pat in exclude:
        argv += ["--exclude", pat]
    return [*argv, "--", *program] if program and program[0] != "-m" else [*argv, *program]


def new_seed() -> int:
    import random

    return random.SystemRandom().randrange(1, 2**31)


def timeout_for(first_run_seconds: float) -> float:
    """A child's time limit: generous next to the first run, plus the scheduler's bounded waits."""
    from racefree.detector.schedule import AFTER, MAX_GATES, WAIT

    return max(30.0, 10 * first_run_seconds + MAX_GATES * (WAIT + AFTER))

