"""Peak memory of a 1,000,000-call M/M/10+M day, each variant in a fresh process.

    python bench/bench_memory.py [--calls 1000000]

Goal: under 1 GiB peak resident memory (baseline: the imports alone, printed first) for the simulation with
its full event log, for the event log plus the calls table and KPIs, and for the whole `callsim run`
(results folder with parquet tables and the HTML report).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHILD = """
import resource, sys, time
sys.path.insert(0, {root!r})
from bench.models import mm10m
from sim.engine.day import simulate
from sim.analysis.intervals import interval_table
from sim.analysis.summary import summary
from sim.analysis.tables import calls_table
started = time.perf_counter()
calls = 0
if {stage} >= 1:
    result = simulate(mm10m({calls}))
    calls = result.calls_offered
if {stage} >= 2:
    calls_table(result); summary(result); interval_table(result)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(calls, round(time.perf_counter() - started, 1), round(peak))
"""


def child(stage: int, calls: int) -> tuple[int, str, float]:
    """Calls simulated, wall seconds and peak MiB of one variant in a fresh interpreter."""
    code = CHILD.format(root=str(ROOT), calls=calls, stage=stage)
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    count, seconds, peak = output.split()
    return int(count), seconds, float(peak)


def cli_run(calls: int) -> tuple[str, float]:
    """Wall seconds and peak MiB of `callsim run` on the same day (hours chosen for about `calls` calls)."""
    hours = round(calls / 120)
    with tempfile.TemporaryDirectory() as folder:
        command = [
            sys.executable, "-c",
            "import resource, subprocess, sys, time; started = time.perf_counter(); "
            "subprocess.run(sys.argv[1:], check=True); "
            "print(round(time.perf_counter() - started, 1), "
            "round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024))",
            sys.executable, str(ROOT / "cli.py"), "run", str(ROOT / "scenarios" / "erlang-a.yaml"),
            "--set", f"duration={hours}h", "--set", "interval=24h", "--set", "warmup=0s",
            "--out", str(Path(folder) / "run"), "--quiet",
        ]  # fmt: skip
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    seconds, peak = output.split()
    return seconds, float(peak)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=1_000_000)
    args = parser.parse_args()
    _, _, baseline = child(0, args.calls)
    print(f"{'imports only (baseline)':42s} peak {baseline:5.0f} MiB")
    for stage, label in ((1, "simulate (full event log)"), (2, "simulate + calls table + KPIs + intervals")):
        calls, seconds, peak = child(stage, args.calls)
        verdict = "ok" if peak < 1024 else "OVER 1 GiB"
        print(f"{label:42s} peak {peak:5.0f} MiB ({verdict}), {calls:,} calls in {seconds}s")
    seconds, peak = cli_run(args.calls)
    verdict = "ok" if peak < 1024 else "OVER 1 GiB"
    print(f"{'callsim run (folder, parquet, report)':42s} peak {peak:5.0f} MiB ({verdict}), {seconds}s")


if __name__ == "__main__":
    main()
