#!/usr/bin/env python3
"""racefree.sync against named baselines, on the interpreter that runs this file.

Same program as ``racefree bench`` (same options: ``--quick``, ``--threads 1,2,4,8``,
``--json FILE``, ``--suite``); kept here so the benchmarks directory is complete:

    .venv/bin/python benchmarks/bench_sync.py --json bench-311.json
    .venv-cpython-313t/bin/python benchmarks/bench_sync.py --json bench-313t.json

It prints, per suite, ns/op and the ratio to the suite's baseline at each thread
count, then the issue's targets with PASS/MISS/N/A.
"""

from __future__ import annotations

import sys

from racefree.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
