"""Engine cost per call as departments and agent groups grow (1, 5 and 20 departments, same load each).

    python bench/bench_departments.py [--calls 120000]

The goal is a flat cost: an agent picks its next call without scanning every queue and every agent.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.models import departments
from sim.engine.day import simulate


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=120_000)
    args = parser.parse_args()
    print(f"{'departments':>11s} {'groups':>7s} {'calls':>8s} {'calls/s':>9s} {'us/call':>8s}")
    for groups in (False, True):
        for count in (1, 5, 20):
            if groups and count == 1:
                continue
            scenario = departments(count, args.calls, groups)
            best = float("inf")
            for _ in range(2):
                started = time.perf_counter()
                result = simulate(scenario)
                best = min(best, time.perf_counter() - started)
            rate = result.calls_offered / best
            print(
                f"{count:11d} {'yes' if groups else 'no':>7s} {result.calls_offered:8,d} {rate:9,.0f} {1e6 / rate:8.1f}"
            )


if __name__ == "__main__":
    main()
