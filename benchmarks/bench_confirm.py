"""How often ``racefree run --confirm`` confirms the corpus's python-mode races, and what it costs.

For every program of ``tests/detector/corpus`` that expects a python-mode race,
runs it twice in one sitting: ``racefree run --format json`` (the plain detector
run) and ``racefree run --confirm --seed S --format json``, and prints per
program the races found, how many were confirmed and in how many attempts, and
the wall time of both runs; then the totals per race kind and the ratio of the
confirming run's time to the plain detector run's.

    python benchmarks/bench_confirm.py [--seed S] [--attempts N] [PATTERN...]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "detector" / "corpus"


def _header(path: Path) -> tuple[bool, list[str]]:
    """Whether the program expects a python-mode race, and its extra ``# args:``."""
    text = path.read_text()
    expects = bool(re.search(r"^# (expect|expect-locations) python: (?!none)", text, re.M))
    args: list[str] = []
    for m in re.finditer(r"^# args: (.*)$", text, re.M):
        args += shlex.split(m.group(1))
    return expects, args


def _run(path: Path, args: list[str], extra: list[str]) -> tuple[float, list[dict[str, object]]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp, "r.json")
        cmd = [sys.executable, "-m", "racefree", "run", "--format", "json", "--output", str(out), *extra,
               *args, str(path)]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(CORPUS), os.environ.get("PYTHONPATH", "")]))
        start = time.perf_counter()
        subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, timeout=600, stdin=subprocess.DEVNULL)
        took = time.perf_counter() - start
        races = json.loads(out.read_text())["races"] if out.exists() and out.read_text().strip() else []
        return took, races


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--attempts", type=int, default=3)
    ap.add_argument("patterns", nargs="*")
    opts = ap.parse_args()
    programs = [p for p in sorted(CORPUS.glob("race_*.py"))
                if not opts.patterns or any(pat in p.name for pat in opts.patterns)]
    gil = "on" if getattr(sys, "_is_gil_enabled", lambda: True)() else "off"
    print(f"{sys.version.split()[0]} (GIL {gil}), seed {opts.seed}, up to {opts.attempts} attempts per race")
    kinds_total: Counter[str] = Counter()
    kinds_confirmed: Counter[str] = Counter()
    attempts: list[int] = []
    ratios: list[float] = []
    extra_s: list[float] = []
    for path in programs:
        expects, args = _header(path)
        if not expects:
            continue
        plain_s, _ = _run(path, args, [])
        conf_s, races = _run(path, args, ["--confirm", "--seed", str(opts.seed),
                                          "--confirm-attempts", str(opts.attempts)])
        confirmed = [r for r in races if r.get("confirmation", {}).get("status") == "confirmed"]
        for r in races:
            kinds_total[str(r["kind"])] += 1
        for r in confirmed:
            kinds_confirmed[str(r["kind"])] += 1
            attempts.append(int(r["confirmation"]["attempts"]))
        ratios.append(conf_s / plain_s)
        extra_s.append(conf_s - plain_s)
        missed = [f"{r['kind']} {r['location']}: {r.get('confirmation', {}).get('observed', '?')}"
                  for r in races if r not in confirmed]
        print(f"{path.name:48} {len(confirmed)}/{len(races)} confirmed  plain {plain_s:5.2f} s  "
              f"--confirm {conf_s:5.2f} s" + "".join(f"\n    not confirmed: {m}" for m in missed))
    print()
    for kind in sorted(kinds_total):
        print(f"{kind:16} {kinds_confirmed[kind]}/{kinds_total[kind]} confirmed")
    if attempts:
        print(f"attempts per confirmed race: median {statistics.median(attempts)}, max {max(attempts)}")
    if ratios:
        print(f"--confirm run / detector run: median {statistics.median(ratios):.1f}x, "
              f"extra time median {statistics.median(extra_s):.2f} s, max {max(extra_s):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
