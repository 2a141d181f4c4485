"""The benchmark scenarios and the reference models callsim is measured against, in the same process."""

from __future__ import annotations

from typing import Any

import numpy as np
import simpy

from sim.model.loading import scenario_from_dict
from sim.model.scenario import Scenario

ARRIVALS_PER_MINUTE = 2.0
HANDLE_MINUTES = 4.0
PATIENCE_MINUTES = 3.0
AGENTS = 10


def mm10m(calls: int) -> Scenario:
    """M/M/10+M: 2 calls a minute, exponential handle 4 min, exponential patience 3 min, about `calls` calls."""
    hours = max(1, round(calls / (ARRIVALS_PER_MINUTE * 60)))
    return scenario_from_dict(
        {
            "name": "bench-mm10m",
            "duration": f"{hours}h",
            "interval": f"{hours}h",
            "arrivals": {"per_hour": ARRIVALS_PER_MINUTE * 60},
            "patience": {"dist": "exponential", "mean": f"{PATIENCE_MINUTES}m"},
            "departments": {
                "support": {
                    "agents": AGENTS,
                    "handle_time": {"dist": "exponential", "mean": f"{HANDLE_MINUTES}m"},
                }
            },
        }
    )


def departments(count: int, calls: int, groups: bool = False) -> Scenario:
    """`count` departments at the same load each (8 erlangs on 10 agents, patience 3 min); with `groups`,
    half of each department's agents are replaced by cross-trained groups serving two departments each."""
    per_department = ARRIVALS_PER_MINUTE * 60
    hours = max(1, round(calls / (per_department * count)))
    names = [f"d{i}" for i in range(count)]
    data: dict[str, Any] = {
        "name": f"bench-{count}",
        "duration": f"{hours}h",
        "interval": f"{hours}h",
        "arrivals": {"per_hour": per_department * count, "reasons": {n: 1 / count for n in names}},
        "patience": {"dist": "exponential", "mean": f"{PATIENCE_MINUTES}m"},
        "departments": {
            n: {
                "agents": AGENTS // 2 if groups else AGENTS,
                "handle_time": {"dist": "exponential", "mean": "4m"},
            }
            for n in names
        },
    }
    if groups:
        data["agent_groups"] = {
            f"g{i}": {"agents": AGENTS // 2, "skills": {names[i]: 1, names[(i + 1) % count]: 2}}
            for i in range(count)
        }
    return scenario_from_dict(data)


def large_department(agents: int, calls: int) -> Scenario:
    """One department of `agents` agents at the occupancy of the 10-agent reference (0.8 erlangs an agent),
    patience 3 min, run long enough for about `calls` calls."""
    per_hour = ARRIVALS_PER_MINUTE * 60 * agents / AGENTS
    minutes = max(60, round(calls / per_hour * 60 / 60) * 60)
    return scenario_from_dict(
        {
            "name": f"bench-{agents}-agents",
            "duration": f"{minutes}m",
            "interval": f"{minutes}m",
            "arrivals": {"per_hour": per_hour, "reasons": {"d0": 1.0}},
            "patience": {"dist": "exponential", "mean": f"{PATIENCE_MINUTES}m"},
            "departments": {"d0": {"agents": agents, "handle_time": {"dist": "exponential", "mean": "4m"}}},
        }
    )


def transfers(calls: int) -> Scenario:
    """A five-department day behind a poor IVR, with misroutes, listening, cold transfers and wrap-up."""
    from pathlib import Path

    from sim.model.loading import load_scenario

    per_hour = 150
    hours = max(1, round(calls / per_hour))
    root = Path(__file__).resolve().parent.parent
    return load_scenario(
        root / "scenarios" / "listening.yaml", [f"duration={hours}h", f"interval={hours}h", "ring.rings=0"]
    )


def plain_simpy(calls: int, seed: int = 1) -> dict[str, float]:
    """The usual SimPy model: one process per caller, `Resource.request() | timeout(patience)`, a record per
    call. Returns abandonment and P(wait) so a fast but wrong model is caught."""
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    agents = simpy.Resource(env, capacity=AGENTS)
    records: list[tuple[float, float, bool]] = []
    rate = ARRIVALS_PER_MINUTE / 60.0

    def caller(env: simpy.Environment, patience: float, handle: float) -> Any:
        arrived = env.now
        with agents.request() as request:
            outcome = yield request | env.timeout(patience)
            waited = env.now - arrived
            if request in outcome:
                records.append((arrived, waited, True))
                yield env.timeout(handle)
            else:
                records.append((arrived, waited, False))

    def source(env: simpy.Environment) -> Any:
        for _ in range(calls):
            yield env.timeout(rng.exponential(1 / rate))
            env.process(
                caller(env, rng.exponential(PATIENCE_MINUTES * 60), rng.exponential(HANDLE_MINUTES * 60))
            )

    env.process(source(env))
    env.run()
    served = np.array([r[2] for r in records])
    waited = np.array([r[1] for r in records])
    return {
        "calls": float(len(records)),
        "abandon_rate": float(1 - served.mean()),
        "p_wait": float((waited > 0).mean()),
    }


def ciw_model(calls: int, seed: int = 1) -> dict[str, float] | None:
    """The same M/M/10+M in Ciw (reneging), if Ciw is installed."""
    try:
        import ciw
    except ImportError:
        return None
    rate = ARRIVALS_PER_MINUTE / 60.0
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=rate)],
        service_distributions=[ciw.dists.Exponential(rate=1 / (HANDLE_MINUTES * 60))],
        number_of_servers=[AGENTS],
        reneging_time_distributions=[ciw.dists.Exponential(rate=1 / (PATIENCE_MINUTES * 60))],
    )
    ciw.seed(seed)
    simulation = ciw.Simulation(network)
    simulation.simulate_until_max_customers(calls, method="Finish")
    records = simulation.get_all_records()
    reneged = sum(1 for r in records if r.record_type == "renege")
    waited = sum(1 for r in records if r.record_type == "service" and r.waiting_time > 0)
    total = len(records)
    return {"calls": float(total), "abandon_rate": reneged / total, "p_wait": (waited + reneged) / total}
