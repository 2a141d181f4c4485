"""One simulated day: build the centre, start arrivals, roster and agents, run until drained, collect tables."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.engine import agent, blend, caller, chat, email, outbound, policies
from sim.engine.arrivals import Callers, Doors, draw_callers
from sim.engine.breaks import breaks
from sim.engine.carry_over import CarriedWork, CarryOver, requeue_or_carry
from sim.engine.centre import Centre, build
from sim.engine.clock import Clock
from sim.engine.log import EventColumns, EventLog
from sim.engine.roster import roster, set_level
from sim.model.availability import PoolAvailability, pool_availability, pool_staffing, uses_availability
from sim.model.rates import day_factor
from sim.model.scenario import Scenario
from sim.model.staffing import staffing_levels
from sim.model.streams import Streams

if TYPE_CHECKING:  # pandas makes the tables at the end (`RunResult.of`): a simulation alone runs without it
    import pandas as pd


@dataclass(frozen=True)
class RunResult:
    """What one replication produced: the event table, who the agents were, and run facts."""

    scenario: Scenario
    seed: int
    replication: int
    events: pd.DataFrame
    agents: pd.DataFrame
    staffing: dict[str, list[tuple[float, int]]]
    ended_at: float
    wall_time: float
    reason_names: list[str] = field(default_factory=list)
    busyness: float = 1.0
    """This day's busyness factor: every arrival rate was multiplied by it (1 without `arrivals.busyness`)."""
    rostered: dict[str, list[tuple[float, int]]] = field(default_factory=dict)
    """Each pool's rostered levels before absence and shrinkage, where the scenario sets availability
    (`sim.model.availability`; empty: as `staffing`)."""
    absent: dict[str, int] = field(default_factory=dict)
    """Each pool's agents missing for the day (`absence:`), where the scenario sets availability."""
    day: int = 0
    """The day of a week (`sim.model.week`; 0 for a single day): its random streams are its own."""
    carried_out: tuple[CarriedWork, ...] = ()
    """A week's day: the work left at its close for the next day (`sim.engine.carry_over`)."""
    derived: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False)
    """Tables derived from the events (calls, visits), built once on first use and shared read-only."""

    @cached_property
    def columns(self) -> EventColumns:
        """The event table as numpy columns, converted once for all the tables built from it."""
        return EventColumns(self.events)

    @cached_property
    def calls_offered(self) -> int:
        """Calls that arrived (whatever became of them)."""
        return int((self.events["event"] == "arrive").sum())

    def release_events(self) -> None:
        """Let go of the event log and the tables derived from it, once they are written: the run keeps its
        facts (calls offered, staffing, agents), and a million-call day frees some 200 MiB for the report."""
        _ = self.calls_offered  # counted while the log is there
        self.derived.clear()
        self.__dict__.pop("columns", None)
        object.__setattr__(self, "events", self.events.iloc[:0].copy())  # the columns, none of the rows


@dataclass(frozen=True)
class SimulatedDay:
    """One replication as the engine leaves it, before any table is made: the event log's numpy columns
    (`sim.engine.log.COLUMNS`), who the agents were, and the run facts. Plain arrays and tuples, so a
    simulation run in another process (`sim.experiments.beside`) sends it back cheaply, and the process
    that simulates needs no pandas."""

    seed: int
    replication: int
    columns: tuple[np.ndarray, ...]
    department_names: tuple[str, ...]
    agent_ids: np.ndarray
    agent_pools: tuple[str, ...]
    agent_numbers: np.ndarray
    agent_homes: tuple[str, ...]
    staffing: dict[str, list[tuple[float, int]]]
    ended_at: float
    wall_time: float
    reason_names: list[str]
    busyness: float
    rostered: dict[str, list[tuple[float, int]]]
    absent: dict[str, int]
    day: int
    carried_out: tuple[CarriedWork, ...]


def simulate(
    scenario: Scenario,
    seed: int | None = None,
    replication: int = 0,
    day: int = 0,
    carried_in: tuple[CarriedWork, ...] | None = None,
    carry_out: bool = False,
) -> RunResult:
    """Run one replication of the scenario; the same seed and replication give identical tables.

    A week's day (`sim.experiments.week`) is day `day` of the week, with its own random streams, the work
    carried in from the day before (None: not a week's day), and whether it keeps its own leftovers."""
    started = time.perf_counter()
    simulated = simulate_day(scenario, seed, replication, day, carried_in, carry_out)
    return run_result(scenario, simulated, started)


def run_result(scenario: Scenario, simulated: SimulatedDay, started: float | None = None) -> RunResult:
    """The tables of a simulated day: its event log and agents as frames. `started`: when the run began
    (`time.perf_counter()`), for the wall time to count the tables too (None: the simulation's own)."""
    import pandas as pd

    from sim.engine.log import frame

    agents = pd.DataFrame(
        {
            "agent_id": simulated.agent_ids,
            "pool": list(simulated.agent_pools),
            "number": simulated.agent_numbers,
            "home": list(simulated.agent_homes),
        }
    ).sort_values("agent_id", ignore_index=True)
    events = frame(simulated.columns, simulated.department_names)
    return RunResult(
        scenario=scenario,
        seed=simulated.seed,
        replication=simulated.replication,
        events=events,
        agents=agents,
        staffing=simulated.staffing,
        ended_at=simulated.ended_at,
        wall_time=simulated.wall_time if started is None else time.perf_counter() - started,
        reason_names=simulated.reason_names,
        busyness=simulated.busyness,
        rostered=simulated.rostered,
        absent=simulated.absent,
        day=simulated.day,
        carried_out=simulated.carried_out,
    )


def simulate_day(
    scenario: Scenario,
    seed: int | None = None,
    replication: int = 0,
    day: int = 0,
    carried_in: tuple[CarriedWork, ...] | None = None,
    carry_out: bool = False,
) -> SimulatedDay:
    """`simulate` up to the tables: the engine's run, its log as numpy columns (no pandas needed)."""
    started = time.perf_counter()
    seed = scenario.seed if seed is None else seed
    streams = Streams(seed, replication, day)
    env = Clock()  # SimPy's environment, with `now` as cheap to read as a field
    log = EventLog()
    centre = build(env, scenario, streams, log)
    policies.wire(centre)  # routing policies and queue capacities, if the scenario names any
    outbound.wire(centre)  # a campaign list a pool dials while enough of its agents are idle, if any
    centre.patience_runs_out = partial(caller.patience_runs_out, centre)
    centre.overflow_due = partial(caller.overflow_due, centre)
    centre.ivr_done = partial(caller.leave_menu, centre)
    centre.requeue_callback = partial(caller.requeue_callback, centre)
    centre.callback_due = partial(caller.callback_due, centre)
    centre.redial_due = partial(caller.call_again, centre)
    centre.hand_call = agent.hand_call
    if any(pool.chat is not None for pool in centre.pools):  # a chat agent opens one more conversation
        centre.hand_call = partial(chat.hand_call, centre)
    busyness = day_factor(scenario, streams)
    callers = draw_callers(scenario, streams, busyness)
    with_email = any(d.channel == "email" for d in scenario.departments.values())
    if with_email:  # no ring, email queues last, due times instead of patience, the backlog (`email`)
        email.attach(centre)
        callers = email.with_due_times(centre, callers)
    blend.wire(centre)  # channel priorities, and pools serving chat and another channel (`blend`), if any
    carry = None
    if carried_in is not None or carry_out:
        carry = centre.carry_over = CarryOver(centre, carried_in or (), carry_out)
        centre.requeue_callback = partial(requeue_or_carry, centre)
    for pool in centre.pools:  # tiers and back-ups are final: a pool serving one queue takes from it directly
        pool.settle()
    levels, availability = _start(centre, callers)
    if with_email:
        email.open_backlog(centre, carried_in)
    if carry is not None:
        carry.start()
    hard_stop = env.timeout(scenario.duration + scenario.drain)
    env.run(until=env.any_of([centre.stop, hard_stop]))
    agents = [(pool, a) for pool in centre.pools for a in pool.agents]
    return SimulatedDay(
        seed=seed,
        replication=replication,
        columns=log.columns(),
        department_names=tuple(centre.department_names),
        agent_ids=np.array([a.id for _, a in agents], dtype=np.int32),
        agent_pools=tuple(pool.name for pool, _ in agents),
        agent_numbers=np.array([a.number for _, a in agents], dtype=np.int32),
        agent_homes=tuple(centre.department_names[p.home] if p.home >= 0 else "" for p, _ in agents),
        staffing=levels,
        ended_at=env.now,
        wall_time=time.perf_counter() - started,
        reason_names=centre.reason_names,
        busyness=busyness,
        rostered={name: pool.rostered for name, pool in availability.items()},
        absent={name: pool.absent for name, pool in availability.items()},
        day=day,
        carried_out=tuple(carry.left) if carry is not None else (),
    )


def _start(
    centre: Centre, callers: Callers
) -> tuple[dict[str, list[tuple[float, int]]], dict[str, PoolAvailability]]:
    """Start every pool's roster (and breaks) and the arrivals; returns each pool's staffing levels applied,
    and, where the scenario sets shrinkage, breaks or absence, each pool's availability."""
    scenario = centre.scenario
    levels: dict[str, list[tuple[float, int]]] = {}
    availability: dict[str, PoolAvailability] = {}
    with_availability = uses_availability(scenario)
    for pool in centre.pools:
        if with_availability:
            availability[pool.name] = pool_availability(scenario, pool.name, centre.streams)
            levels[pool.name] = availability[pool.name].available
        else:
            levels[pool.name] = staffing_levels(pool_staffing(scenario, pool.name)[0], scenario)
        opening, *changes = levels[pool.name]
        set_level(centre, pool, opening[1])  # the opening shift logs in before the first caller arrives
        centre.env.process(roster(centre, pool, changes))
        if with_availability and availability[pool.name].breaks:
            centre.env.process(breaks(centre, pool, availability[pool.name].breaks))
    Doors(centre, callers).open()
    return levels, availability
