"""Analysis against simulation: every table and KPI (summary and interval table, per interval, department and
group) must take no longer than the simulation of the day it analyses.

    python bench/bench_analysis.py [--repeat 3] [--yaml FILE]

Times, in this process, `simulate` and then `summary` + `interval_table` (the calls, visits and transfer tables
they build included) on every shipped scenario and on a generated 17-department, 20-group centre day
(`centre_day`; `--yaml FILE` writes its YAML). Prints seconds and the ratio analysis / simulation (goal <= 1).
No asserts on time: the figures are ratios measured in one run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml

from sim.analysis.intervals import interval_table
from sim.analysis.summary import summary
from sim.engine.day import simulate
from sim.model.loading import load_scenario, scenario_from_dict
from sim.model.scenario import Scenario

ROOT = Path(__file__).resolve().parent.parent


def centre_day(
    departments: int = 17, groups: int = 20, agents: int = 6, group_agents: int = 4
) -> dict[str, Any]:
    """A large centre's day as scenario data: `departments` queues (08:00-20:00, 15-minute intervals, about
    8 erlangs each on their own `agents` plus cross-trained help), `groups` agent groups each skilled in
    two or three departments (first choice preferred), misroutes and cold transfers between neighbours."""
    names = [f"q{i:02d}" for i in range(departments)]
    per_department = 105.0  # calls an hour: 7 erlangs of 4-minute calls
    share = round(1.0 / departments, 6)
    shares = {name: share for name in names[:-1]}
    shares[names[-1]] = round(1.0 - share * (departments - 1), 6)
    data: dict[str, Any] = {
        "name": f"centre-{departments}x{groups}",
        "description": f"A generated {departments}-department, {groups}-group centre day (bench).",
        "seed": 3,
        "start": "08:00",
        "duration": "12h",
        "interval": "15m",
        "arrivals": {
            "per_hour": per_department * departments,
            "reasons": shares,
        },
        "patience": {"dist": "exponential", "mean": "3m"},
        "departments": {
            name: {
                "agents": agents,
                "handle_time": {"dist": "lognormal", "mean": "4m", "cv": 0.8},
                "wrap_time": "20s",
            }
            for name in names
        },
        "agent_groups": {
            f"g{i:02d}": {
                "agents": group_agents,
                "skills": {names[(i + k) % departments]: k + 1 for k in range(2 + i % 2)},
            }
            for i in range(groups)
        },
    }
    return data


def scenarios() -> list[tuple[str, Scenario]]:
    """Every shipped scenario, then the generated centre day."""
    found = [(path.stem, load_scenario(path, [])) for path in sorted((ROOT / "scenarios").glob("*.yaml"))]
    found.append(("centre-17x20", scenario_from_dict(centre_day())))
    return found


def time_analysis(scenario: Scenario, repeat: int) -> tuple[float, float, int]:
    """Best-of-`repeat` seconds of the simulation and of the analysis (tables built afresh each time), and
    the calls simulated."""
    best_simulation = best_analysis = float("inf")
    calls = 0
    for _ in range(repeat):
        started = time.perf_counter()
        result = simulate(scenario)
        simulated = time.perf_counter()
        summary(result)
        interval_table(result)
        analysed = time.perf_counter()
        best_simulation = min(best_simulation, simulated - started)
        best_analysis = min(best_analysis, analysed - simulated)
        calls = result.calls_offered
    return best_simulation, best_analysis, calls


def report(repeat: int) -> None:
    """Print the table of simulation and analysis times."""
    print(f"{'scenario':<16s} {'calls':>8s} {'simulate s':>11s} {'analyse s':>10s} {'analyse/simulate':>17s}")
    worst = 0.0
    for name, scenario in scenarios():
        simulation, analysis, calls = time_analysis(scenario, repeat)
        ratio = analysis / simulation
        worst = max(worst, ratio)
        print(f"{name:<16s} {calls:8,d} {simulation:11.3f} {analysis:10.3f} {ratio:17.2f}")
    print(f"worst analyse/simulate: {worst:.2f} (goal <= 1)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--yaml", type=Path, help="write the generated centre day's YAML here and stop")
    args = parser.parse_args()
    if args.yaml:
        args.yaml.write_text(yaml.safe_dump(centre_day(), sort_keys=False), encoding="utf-8")
        print(f"wrote {args.yaml}")
        return
    report(args.repeat)


if __name__ == "__main__":
    main()
