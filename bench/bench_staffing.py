"""Staffing search speed (issue 15, goal 5): the whole search on a 3-queue day and on the small centre, against
the agent-hours the interval-by-interval search of before gave on the same days.

    python bench/bench_staffing.py                      # both days, 2 local workers
    python bench/bench_staffing.py --only three-queues --jobs 2

Measured in the same run, as references: the Erlang A plan (what the search starts from; milliseconds) and
one simulated day of each scenario in this process (so the search's wall time also reads as "so many days'
worth of simulation", a figure that survives a slower or busier machine). Printed per day: wall time, CPU
seconds (this process and its workers), simulated days, agent-hours of the plan against the recorded answer
of the search before (`bench/scenarios/staffing-reference.json`; goal: within 1%), and Erlang A and C.
Goal: the 3-queue day in under 30 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.engine.day import simulate  # noqa: E402
from sim.experiments.executors import make_executor  # noqa: E402
from sim.experiments.staffing import parse_targets, search  # noqa: E402
from sim.experiments.staffing.start import erlang_plans  # noqa: E402
from sim.model.loading import load_scenario  # noqa: E402

REFERENCE = ROOT / "bench" / "scenarios" / "staffing-reference.json"
DAYS: dict[str, dict[str, Any]] = {
    "three-queues": {
        "scenario": "bench/scenarios/three-queues.yaml",
        "targets": ["service_level=0.8"],
        "ceilings": ["abandon_rate=0.05"],
    },
    "small-centre": {
        "scenario": "scenarios/small-centre.yaml",
        "targets": ["service_level=0.8"],
        "ceilings": ["abandon_rate=0.08"],  # the README's example
    },
}


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its finished children (the worker pool)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bench(name: str, jobs: int, reference: dict[str, Any]) -> None:
    """One day: the references, then the search (its executor started and closed inside the timing)."""
    spec = DAYS[name]
    scenario = load_scenario(ROOT / spec["scenario"])
    targets = parse_targets(spec["targets"], spec["ceilings"], scenario)
    erlang_plans(scenario, targets)  # the first call imports scipy's special functions
    started = time.perf_counter()
    erlang_plans(scenario, targets)
    erlang_time = time.perf_counter() - started
    simulate(scenario, 0, 0)  # warm caches and imports
    started = time.perf_counter()
    for replication in range(3):
        simulate(scenario, 0, replication)
    day_time = (time.perf_counter() - started) / 3
    cpu = cpu_seconds()
    started = time.perf_counter()
    executor = make_executor(jobs)
    try:
        plan = search(scenario, targets, None, executor=executor)
    finally:
        executor.close()
    wall = time.perf_counter() - started
    cpu = cpu_seconds() - cpu
    hours = plan.hours()
    found = hours["simulated"]["total"]
    print(f"\n{name}: {spec['scenario']}, {targets.describe()}, {jobs} jobs")
    print(f"  reference: Erlang A plan {1000 * erlang_time:.1f} ms; one simulated day {day_time:.3f} s")
    print(
        f"  search: {wall:.1f} s wall ({wall / day_time:.0f} days' worth of simulation), {cpu:.1f} CPU-s, "
        f"{plan.simulated_days} simulated days"
    )
    if name == "three-queues":
        print(f"  goal: under 30 s on 2 cores -> {'met' if wall < 30 else 'NOT met'} on this machine now")
    recorded = reference.get(name)
    if recorded:
        off = found / recorded["agent_hours"] - 1
        verdict = "within 1%" if abs(off) <= 0.01 else "OFF BY MORE THAN 1%"
        print(
            f"  agent-hours: {found:.1f} against {recorded['agent_hours']:.1f} before ({100 * off:+.2f}%: {verdict});"
            f" before: {recorded['measured']}"
        )
    else:
        print(f"  agent-hours: {found:.1f} (no recorded answer of the search before)")
    print(
        f"  Erlang A {hours['erlang_a']['total']:.1f}, Erlang C {hours['erlang_c']['total']:.1f} agent-hours; "
        f"confirmation {plan.confirmation['intervals_met']}/{plan.confirmation['intervals']} rows met, "
        f"{plan.confirmation['intervals_within_ci']} within their CI"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", choices=sorted(DAYS), action="append")
    arguments = parser.parse_args()
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))
    for name in arguments.only or list(DAYS):
        bench(name, arguments.jobs, reference)


if __name__ == "__main__":
    main()
