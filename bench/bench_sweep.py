"""Sweep speed-up: the same sweep with one job and with two local worker processes.

    python bench/bench_sweep.py                 # 32 points x 8 replications of busy-day (256 simulated days)
    python bench/bench_sweep.py --reps 4 --repeat 1

Each configuration runs `--repeat` times and keeps its fastest wall time (other programs on the machine
only ever slow a run down). The two tables must be identical; the script prints both times and the ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.experiments.executors import make_executor  # noqa: E402
from sim.experiments.sweep import plan_sweep  # noqa: E402
from sim.output.sweep_folder import run_sweep  # noqa: E402

GRID = ["departments.billing.agents=10:17", "departments.sales.agents=4:7"]


def timed(jobs: int, reps: int, folder: Path) -> float:
    """Wall time of the whole sweep (executor start, every row, tables; no plots) with `jobs` workers."""
    plan = plan_sweep(ROOT / "scenarios" / "busy-day.yaml", GRID, reps=reps)
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    executor = make_executor(jobs)
    try:
        outcome = run_sweep(plan, folder, executor, plots=())
    finally:
        executor.close()
    elapsed = time.perf_counter() - started
    assert outcome.complete and outcome.failed == 0
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=2)
    arguments = parser.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    with tempfile.TemporaryDirectory() as scratch:
        one = Path(scratch) / "one"
        two = Path(scratch) / "two"
        times: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(arguments.repeat):
            times[1].append(timed(1, arguments.reps, one))
            times[2].append(timed(2, arguments.reps, two))
        pd.testing.assert_frame_equal(
            pd.read_parquet(one / "rows.parquet"), pd.read_parquet(two / "rows.parquet")
        )
        rows = len(pd.read_parquet(one / "rows.parquet"))
    best_one, best_two = min(times[1]), min(times[2])
    print(
        f"busy-day sweep: {rows} rows ({len(GRID)} parameters, {arguments.reps} replications), {cores} core(s)"
    )
    print(f"  1 job:  {best_one:6.2f} s  (runs: {', '.join(f'{t:.2f}' for t in times[1])})")
    print(f"  2 jobs: {best_two:6.2f} s  (runs: {', '.join(f'{t:.2f}' for t in times[2])})")
    print(f"  speed-up: {best_one / best_two:.2f}x  (tables identical)")


if __name__ == "__main__":
    main()
