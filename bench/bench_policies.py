"""Routing policies: the cost of switching from today's rules, on the same day in the same process.

    python bench/bench_policies.py [--calls 120000] [--repeat 3]

A day of two departments (8 erlangs each on 6 own agents) and a generalist group of 8 serving both, billing
preferred (the policies have pools and queues to choose among), patience 3 min. Each variant runs once per round, rounds interleaved,
best of `repeat` in CPU time of this thread; prints calls per second and the ratio to the default (longest
idle, preference, unlimited queues) measured in the same run. Goal: every switch costs at most 20%
(ratio >= 0.8). Abandonment and the generalists' occupancy beside it show the variants did run differently.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.analysis.summary import summary
from sim.engine.day import simulate
from sim.model.loading import scenario_from_dict
from sim.model.scenario import Scenario
from tests.conftest import deep_merge

PER_HOUR = 240.0  # 120 an hour to each department: 8 erlangs at 4 minutes

VARIANTS: dict[str, dict[str, Any]] = {
    "default (longest_idle, preference)": {},
    "agent_choice: random": {"routing": {"agent_choice": "random"}},
    "agent_choice: in_order": {
        "routing": {"agent_choice": "in_order"},
        "departments": {"billing": {"agent_order": ["generalists", "billing"]}},
    },
    "call_choice: longest_waiting": {"routing": {"call_choice": "longest_waiting"}},
    "call_choice: weighted": {
        "routing": {"call_choice": "weighted"},
        "departments": {"billing": {"call_weight": 2.0}},
    },
    "queue_capacity: 1000 (never full)": {
        "departments": {"billing": {"queue_capacity": 1000}, "technical": {"queue_capacity": 1000}}
    },
    "queue_capacity: 3 (often full)": {
        "departments": {"billing": {"queue_capacity": 3}, "technical": {"queue_capacity": 3}}
    },
}


def day(calls: int, changes: dict[str, Any]) -> Scenario:
    """The two-department day with a generalist group, about `calls` calls, with `changes` merged in."""
    hours = max(1, round(calls / PER_HOUR))
    base: dict[str, Any] = {
        "name": "bench-policies",
        "duration": f"{hours}h",
        "interval": f"{hours}h",
        "arrivals": {"per_hour": PER_HOUR, "reasons": {"billing": 0.5, "technical": 0.5}},
        "patience": {"dist": "exponential", "mean": "3m"},
        "departments": {
            "billing": {"agents": 6, "handle_time": {"dist": "exponential", "mean": "4m"}},
            "technical": {"agents": 6, "handle_time": {"dist": "exponential", "mean": "4m"}},
        },
        "agent_groups": {"generalists": {"agents": 8, "skills": {"billing": 0, "technical": 1}}},
    }
    return scenario_from_dict(deep_merge(base, changes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=120_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    scenarios = {name: day(args.calls, changes) for name, changes in VARIANTS.items()}
    best = dict.fromkeys(scenarios, float("inf"))
    results: dict[str, Any] = {}
    for _ in range(args.repeat):
        for name, scenario in scenarios.items():
            started = time.thread_time()
            results[name] = simulate(scenario, seed=1)
            best[name] = min(best[name], time.thread_time() - started)
    default = next(iter(scenarios))
    default_rate = results[default].calls_offered / best[default]
    print(f"two departments + 8 generalists, {args.calls:,} calls; best of {args.repeat}, CPU time")
    print(f"{'variant':36s} {'calls':>8s} {'seconds':>8s} {'calls/s':>9s} {'ratio':>6s} {'abandon':>8s} {'gen. occ':>8s}")
    for name in scenarios:
        result = results[name]
        figures = summary(result)
        rate = result.calls_offered / best[name]
        occupancy = figures["by_group"]["generalists"]["occupancy"]
        print(
            f"{name:36s} {result.calls_offered:8,d} {best[name]:8.2f} {rate:9,.0f} {rate / default_rate:6.2f} "
            f"{figures['abandon_rate']:8.4f} {occupancy:8.4f}"
        )
    print("goal: every ratio >= 0.80 (a policy switch costs at most 20%)")


if __name__ == "__main__":
    main()
