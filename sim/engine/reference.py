"""A slow, plain SimPy model of the same call centre, to check the fast engine against.

Every caller is a process that waits for an agent with `answered | timeout(patience)`; every agent is a
process that pulls the next call from the queues it serves (its skills by preference tier, then priority,
then first come), lets it ring, talks (with holds), sends the caller on or lets them go, wraps up, and logs
out when the roster says so. Each feature is written as the story reads, with SimPy's public API only and
none of the fast engine's machinery: only the scenario, the named random streams (`sim/model/streams.py`),
the staffing steps (`sim.model.staffing.staffing_levels`) and the event vocabulary (`sim/engine/log.py`) are shared, so
both models' KPIs come from the one analysis layer (`sim.analysis.summary.summary(result)`).

It draws from the same streams by the same names, not in the same order: the same model on a different
sample path. Tests compare the two by replication statistics, and exactly on deterministic days. Made for
small scenarios (plain lists, scanned).

The model lives in three modules beside this one: `reference_centre` (calls, agents, pools, queues),
`reference_callers` (arrivals and the caller's story) and `reference_agents` (roster and the agent's story).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from sim.engine.day import RunResult
from sim.engine.reference_agents import roster
from sim.engine.reference_breaks import breaks
from sim.engine.reference_callers import doors
from sim.engine.reference_centre import Centre
from sim.model.availability import PoolAvailability, pool_availability, uses_availability
from sim.model.blend import blended_groups
from sim.model.chat import chat_departments
from sim.model.email import email_departments
from sim.model.scenario import Scenario
from sim.model.staffing import staffing_levels
from sim.model.streams import Streams

# One day.


def simulate_reference(scenario: Scenario, seed: int | None = None, replication: int = 0) -> RunResult:
    """One replication of the scenario in the reference model, as a `RunResult` the analysis reads."""
    redial = scenario.redial
    if redial is not None and (redial.patience == "remaining" or redial.as_callback > 0):
        raise ValueError(
            "the reference model does not model retrials that remember (redial.patience: remaining, "
            "redial.as_callback); the fast engine's are checked against theory in tests/test_retrials.py"
        )
    if scenario.week is not None:
        raise ValueError(
            "the reference model does not model weeks (week: several days with work carried over); the fast "
            "engine's are checked in tests/test_week.py"
        )
    if scenario.outbound is not None:
        raise ValueError(
            f"the reference model does not model outbound dialling (outbound: pool {scenario.outbound.pool}); "
            "the fast engine's is checked against a plain-SimPy threshold model in tests/test_outbound.py"
        )
    blended = blended_groups(scenario)
    if blended:
        raise ValueError(
            f"the reference model does not model blended agents (agent groups serving chat and another "
            f"channel: {', '.join(blended)}); the fast engine's are checked against a Markov chain in "
            "tests/test_blended.py"
        )
    emails = sorted(email_departments(scenario))
    if emails:
        raise ValueError(
            f"the reference model does not model email departments ({', '.join(emails)}); the fast engine's "
            "emails are checked against the non-preemptive priority queue in tests/test_email.py"
        )
    chats = sorted(chat_departments(scenario))
    if chats:
        raise ValueError(
            f"the reference model does not model chat departments ({', '.join(chats)}); the fast engine's "
            "chat desks are checked against Erlang A and a Markov chain in tests/test_chat.py"
        )
    started = time.perf_counter()
    seed = scenario.seed if seed is None else seed
    centre = Centre(scenario, Streams(seed, replication))
    env = centre.env
    levels: dict[str, list[tuple[float, int]]] = {}
    availability: dict[str, PoolAvailability] = {}
    for pool in centre.pools:
        staffing = (
            scenario.departments[pool.name].agents
            if pool.home >= 0
            else scenario.agent_groups[pool.name].agents
        )
        assert staffing is not None
        levels[pool.name] = staffing_levels(staffing, scenario)
        if uses_availability(scenario):  # shrinkage, absence and breaks as the fast engine has them
            availability[pool.name] = pool_availability(scenario, pool.name, centre.streams)
            levels[pool.name] = availability[pool.name].available
        env.process(roster(centre, pool, levels[pool.name]))
        if pool.name in availability and availability[pool.name].breaks:
            env.process(breaks(centre, pool, availability[pool.name].breaks))
    env.process(doors(centre))
    env.run(until=env.any_of([centre.stop, env.timeout(scenario.duration + scenario.drain)]))
    agents = [agent for pool in centre.pools for agent in pool.agents]
    table = pd.DataFrame(
        {
            "agent_id": np.array([a.id for a in agents], dtype=np.int32),
            "pool": [a.pool.name for a in agents],
            "number": np.array([a.number for a in agents], dtype=np.int32),
            "home": [centre.names[a.pool.home] if a.pool.home >= 0 else "" for a in agents],
        }
    ).sort_values("agent_id", ignore_index=True)
    return RunResult(
        scenario=scenario,
        seed=seed,
        replication=replication,
        events=centre.log.frame(centre.names),
        agents=table,
        staffing=levels,
        ended_at=env.now,
        wall_time=time.perf_counter() - started,
        reason_names=centre.reasons,
        rostered={name: pool.rostered for name, pool in availability.items()},
        absent={name: pool.absent for name, pool in availability.items()},
    )
