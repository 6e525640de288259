"""The one command-line option every workload takes: ``--scale S`` multiplies its size."""

from __future__ import annotations

import argparse


def scale(default: float = 1.0) -> float:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=default)
    return max(parser.parse_args().scale, 0.001)
