"""Cost per call as a centre grows: 1, 5, 20 and 50 departments at the same load each, with and without
cross-trained groups, and one department of 10, 100 and 1,000 agents at the same occupancy.

    python bench/bench_departments.py [--calls 120000]

The goal (issue 15): a flat cost, within 2x of the small centre (one department of 10 agents, the reference
measured in the same run), for the simulation and for the analysis after it: an agent picks its next call
without scanning every queue and every agent, and the tables are built in passes that do not loop over
departments, groups or intervals.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.models import departments, large_department
from sim.analysis.metrics import interval_table, summary
from sim.engine.day import simulate
from sim.model.scenario import Scenario


def measure(scenario: Scenario) -> tuple[int, float, float]:
    """Calls, and the best of two runs' microseconds per call for simulating and for the analysis."""
    best_run = best_analysis = float("inf")
    calls = 0
    for _ in range(2):
        started = time.perf_counter()
        result = simulate(scenario)
        simulated = time.perf_counter()
        summary(result)
        interval_table(result)
        analysed = time.perf_counter()
        calls = result.calls_offered
        best_run = min(best_run, simulated - started)
        best_analysis = min(best_analysis, analysed - simulated)
    return calls, 1e6 * best_run / calls, 1e6 * best_analysis / calls


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=120_000)
    args = parser.parse_args()
    cases: list[tuple[str, Scenario]] = [("1 department, 10 agents (reference)", departments(1, args.calls))]
    cases += [(f"{n} departments", departments(n, args.calls)) for n in (5, 20, 50)]
    cases += [(f"{n} departments with groups", departments(n, args.calls, True)) for n in (5, 20, 50)]
    cases += [(f"1 department, {n} agents", large_department(n, args.calls)) for n in (100, 1000)]
    print(
        f"{'centre':>34s} {'calls':>8s} {'sim us/call':>12s} {'x ref':>6s} {'analysis us/call':>17s} {'x ref':>6s}"
    )
    reference: tuple[float, float] | None = None
    for label, scenario in cases:
        calls, run_cost, analysis_cost = measure(scenario)
        reference = reference or (run_cost, analysis_cost)
        print(
            f"{label:>34s} {calls:8,d} {run_cost:12.1f} {run_cost / reference[0]:6.2f} "
            f"{analysis_cost:17.1f} {analysis_cost / reference[1]:6.2f}"
        )
    print("goal: every 'x ref' within 2.00")


if __name__ == "__main__":
    main()
