"""Cost per call as a centre grows: 1, 5, 20 and 50 departments at the same load each, with and without
cross-trained groups, and one department of 10, 100 and 1,000 agents at the same occupancy.

    python bench/bench_departments.py [--calls 120000] [--repeat 3] [--wall]

The goal (issue 15): a flat cost, within 2x of the small centre (one department of 10 agents, the reference
measured in the same run), for the simulation and for the analysis after it: an agent picks its next call
without scanning every queue and every agent, and the tables are built in passes that do not loop over
departments, groups or intervals.

Each figure is the best of `--repeat` rounds, every case measured once per round (so a busy spell of the
machine falls on all of them, not on one), in CPU seconds of this thread: other processes on a shared VM
and numpy's idle BLAS threads do not count (`--wall` times by the wall clock instead). Next to the cost, the
figures that show the centres are alike: occupancy, abandonment, and events in the log per call.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.models import departments, large_department
from sim.analysis.intervals import interval_table
from sim.analysis.summary import summary
from sim.engine.day import simulate
from sim.model.scenario import Scenario


@dataclass
class Measured:
    """One case's best costs over the rounds, and what its last run looked like."""

    label: str
    scenario: Scenario
    calls: int = 0
    run_time: float = float("inf")
    analysis_time: float = float("inf")
    events_per_call: float = 0.0
    occupancy: float = 0.0
    abandon_rate: float = 0.0

    def measure(self, clock: Callable[[], float]) -> None:
        """Simulate and analyse once (summary and interval table, the tables built afresh); keep the best."""
        started = clock()
        result = simulate(self.scenario)
        simulated = clock()
        figures = summary(result)
        interval_table(result)
        analysed = clock()
        self.calls = result.calls_offered
        self.run_time = min(self.run_time, simulated - started)
        self.analysis_time = min(self.analysis_time, analysed - simulated)
        self.events_per_call = len(result.events) / self.calls
        self.occupancy = figures["occupancy"]
        self.abandon_rate = figures["abandon_rate"]

    def per_call(self) -> tuple[float, float]:
        """Microseconds per call: simulating, and analysing."""
        return 1e6 * self.run_time / self.calls, 1e6 * self.analysis_time / self.calls


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=120_000)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; each case's best counts")
    parser.add_argument("--wall", action="store_true", help="wall-clock time instead of this thread's CPU")
    args = parser.parse_args()
    clock = time.perf_counter if args.wall else time.thread_time
    cases = [Measured("1 department, 10 agents (reference)", departments(1, args.calls))]
    cases += [Measured(f"{n} departments", departments(n, args.calls)) for n in (5, 20, 50)]
    cases += [Measured(f"{n} departments with groups", departments(n, args.calls, True)) for n in (5, 20, 50)]
    cases += [Measured(f"1 department, {n} agents", large_department(n, args.calls)) for n in (100, 1000)]
    for _ in range(args.repeat):
        for case in cases:
            case.measure(clock)
    print(f"best of {args.repeat} rounds, {'wall-clock time' if args.wall else 'CPU time of this thread'}")
    print(
        f"{'centre':>36s} {'calls':>7s} {'sim us/call':>11s} {'x ref':>6s} {'analysis us/call':>16s} "
        f"{'x ref':>6s}  {'occupancy':>9s} {'abandon':>7s} {'events/call':>11s}"
    )
    run_reference, analysis_reference = cases[0].per_call()
    for case in cases:
        run_cost, analysis_cost = case.per_call()
        print(
            f"{case.label:>36s} {case.calls:7,d} {run_cost:11.1f} {run_cost / run_reference:6.2f} "
            f"{analysis_cost:16.1f} {analysis_cost / analysis_reference:6.2f}  {case.occupancy:9.3f} "
            f"{case.abandon_rate:7.3f} {case.events_per_call:11.2f}"
        )
    print("goal: every 'x ref' within 2.00")


if __name__ == "__main__":
    main()
