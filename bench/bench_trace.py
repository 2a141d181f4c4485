"""Validating a scenario that replays a ten-million-line call log, whole process, against reading the same file
row by row with Python's csv module (the reference, in the same run).

    python bench/bench_trace.py [--lines 10000000] [--repeat 2]

Goals (issue 15): `callsim validate` of a 10-million-line trace in under 15 s and 1.5 GiB peak memory. The
ratio says how the whole validation compares with merely reading the file the obvious way.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = """name: trace-day
start: "08:00"
duration: 8h
interval: 30m
arrivals:
  trace: {trace}
  reasons: {{billing: 1.0}}
patience: {{dist: exponential, mean: 3m}}
departments:
  billing:
    agents: 20000
    handle_time: {{dist: exponential, mean: 4m}}
"""
READ_ROWS = (
    "import csv, sys\nwith open(sys.argv[1], newline='') as f:\n    print(sum(1 for _ in csv.reader(f)))"
)


def timed(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of one command in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        trace = Path(folder) / "calls.csv"
        times = np.sort(np.random.default_rng(2).uniform(0, 8 * 3600 - 1, args.lines))
        np.savetxt(trace, times, fmt="%.1f", header="at", comments="")
        scenario = Path(folder) / "trace-day.yaml"
        scenario.write_text(SCENARIO.format(trace=trace), encoding="utf-8")
        print(f"{args.lines:,} lines, {trace.stat().st_size / 1e6:.0f} MB")
        reference = min(timed([sys.executable, "-c", READ_ROWS, str(trace)])[0] for _ in range(args.repeat))
        runs = [timed([sys.executable, "cli.py", "validate", str(scenario)]) for _ in range(args.repeat)]
        wall = min(run[0] for run in runs)
        peak = max(run[1] for run in runs)
        print(f"reading the rows with csv.reader (reference): {reference:.1f} s")
        print(f"callsim validate: {wall:.1f} s (goal < 15 s), peak {peak:,.0f} MiB (goal < 1,536 MiB)")
        print(f"ratio: validate takes {wall / reference:.2f}x the time of reading the rows")


if __name__ == "__main__":
    main()
