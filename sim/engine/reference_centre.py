"""The reference model's world: calls, queue visits, agents, pools, the centre that holds them and its queues
(who waits where, and who takes whom). The stories that move them are in `reference_callers` and
`reference_agents`; `reference.simulate_reference` runs a day.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import simpy

from sim.engine.log import CODE, Event, EventLog
from sim.engine.reference_policies import chosen_agent, policy_next_call
from sim.model.dists import Sampler, Uniform
from sim.model.scenario import Callbacks, Scenario
from sim.model.streams import Streams

Story = Generator[simpy.Event, Any, Any]
"""The body of a SimPy process."""

CALLBACK_LEVEL = 10
"""Queue level of callbacks that do not keep their place: after every live caller (priorities 0-9)."""

_UNIT = Uniform(dist="uniform", low=0.0, high=1.0)


class Ending(Enum):
    """How a conversation ended, as the agent tells the caller."""

    LEAVE = "served"
    TRANSFER = "sent on"
    DROP = "dropped after too many transfers"
    HUNG_UP = "hung up (waiting, ringing or on hold)"
    CALLBACK = "took a callback on hold"


@dataclass(eq=False)
class Call:
    """One attempt of one caller, from dialling in to leaving."""

    id: int
    reason: int
    priority: int
    arrived_at: float
    patience: float
    attempt: int = 1
    on_line: bool = False
    transfers: int = 0
    visited: set[int] = field(default_factory=set)
    dials: int = 0
    requested_at: float = math.inf
    work_left: float | None = None  # talk and research left when the caller took a callback on hold
    handover: simpy.Event | None = None  # on a warm transfer: the next agent answered (value: consult time)
    conference: simpy.Event | None = None  # on a conference: the next agent's part of the call is over
    first_handle_time: float | None = None  # drawn at the first department (later legs may scale it)
    own_handle_time: float | None = None  # a traced call's own handle time, for its first answer


@dataclass(eq=False)
class Visit:
    """A call in a department's queue (a live caller, or a callback to dial) until an agent takes it, and
    the events by which the agent tells the caller how it goes."""

    call: Call
    department: int
    level: int
    queued_at: float
    answered: simpy.Event  # the conversation starts (value: the agent)
    hung_up: simpy.Event  # the caller gave up while the phone rang
    missed: simpy.Event  # a callback's dial went unanswered (value: whether it will be tried again)
    ended: simpy.Event  # the conversation is over (value: (Ending, target department))
    callback: bool = False
    overflowed: bool = False
    agent: Agent | None = None


@dataclass(eq=False)
class Agent:
    """One agent of a pool; while idle it waits on `wake` (for a call, or None: rostered off)."""

    id: int
    pool: Pool
    number: int
    on_duty: bool = False
    leaving: bool = False
    idle_since: float = 0.0
    wake: simpy.Event | None = None
    break_time: float = 0.0
    """A break owed, taken when the call in hand is done (`sim.engine.reference_breaks`)."""
    away: bool = False
    """On a break (not on duty, but counted towards the pool's level)."""
    shift: int = 0
    """Counts the times the agent was sent home from a break, so that the break's end finds it gone."""


@dataclass(eq=False)
class Pool:
    """Agents who share staffing and skills: departments by preference tier, speed per department."""

    name: str
    home: int
    tiers: list[list[int]]
    speed: dict[int, float]
    backup_for: list[int] = field(default_factory=list)
    agents: list[Agent] = field(default_factory=list)
    idle: list[Agent] = field(default_factory=list)  # longest idle first

    def serves(self, department: int) -> bool:
        """Whether the department is one of this pool's skills."""
        return any(department in tier for tier in self.tiers)


class Centre:
    """The whole reference model: clock, queues, pools, random draws, counters and event log."""

    def __init__(self, scenario: Scenario, streams: Streams) -> None:
        self.env = simpy.Environment()
        self.scenario = scenario
        self.streams = streams
        self.log = EventLog()
        self.names = list(scenario.departments)
        self.reasons = list(scenario.reason_mix())
        self.resolvers = [
            [d for d, name in enumerate(self.names) if reason in scenario.resolves(name)]
            for reason in self.reasons
        ]
        self.callbacks = scenario.callback or Callbacks()  # also for callbacks taken on hold
        self.max_transfers = scenario.max_transfers if scenario.max_transfers is not None else math.inf
        self.queues: list[list[Visit]] = [[] for _ in self.names]
        self.pools = make_pools(scenario, self.names)
        self.agent_count = 0
        self.call_count = 0
        self.lines_busy = 0
        self.active = 0  # calls not finished
        self.busy = 0  # agents with a call
        self.closed = False
        self.stop = self.env.event()
        self._samplers: dict[str, Sampler] = {}

    def draw(self, stream: str, spec: Any = _UNIT) -> float:
        """The next value of the named stream, from `spec` (uniform in [0, 1) unless given)."""
        if stream not in self._samplers:
            self._samplers[stream] = Sampler(spec, self.streams.generator(stream))
        return self._samplers[stream]()

    def record(self, event: Event, call: int, agent: int, department: int, detail: float) -> None:
        """One row of the event log, at the current time."""
        self.log.record((self.env.now, CODE[event], call, agent, department, float(detail)))

    def on_duty(self, department: int) -> int:
        """Agents logged in (those finishing a last call included) whose skills include the department."""
        return sum(agent.on_duty for pool in self.pools if pool.serves(department) for agent in pool.agents)

    def mean_work(self, department: int) -> float:
        """Mean handle plus wrap-up time of the department's calls."""
        spec = self.scenario.departments[self.names[department]]
        return spec.handle_time.mean_value() + spec.wrap_time.mean_value()

    def check_done(self) -> None:
        """The day is over once the doors are closed and nobody is calling or working a call."""
        if self.closed and self.active == 0 and self.busy == 0 and not self.stop.triggered:
            self.stop.succeed()


def make_pools(scenario: Scenario, names: list[str]) -> list[Pool]:
    """A pool per staffed department, then one per agent group; back-ups for overflowing departments."""
    pools = [
        Pool(name, index, [[index]], {})
        for index, name in enumerate(names)
        if scenario.departments[name].agents is not None
    ]
    for name, group in scenario.agent_groups.items():
        tiers = [
            [names.index(skill) for skill, p in group.skills.items() if p == preference]
            for preference in sorted(set(group.skills.values()))
        ]
        speed = {names.index(skill): factor for skill, factor in group.speed.items()}
        pools.append(Pool(name, -1, tiers, speed))
    for index, name in enumerate(names):
        overflow = scenario.departments[name].overflow
        for pool in pools:
            if overflow is not None and pool.name in overflow.to and not pool.serves(index):
                pool.backup_for.append(index)
    return pools


# Queues: who waits where, and who takes whom.


def insert(queue: list[Visit], visit: Visit, front: bool = False) -> None:
    """Place a visit in its department's line: lower levels first; at its level, last (or first)."""
    if front:
        position = next((i for i, v in enumerate(queue) if v.level >= visit.level), len(queue))
    else:
        position = next((i for i, v in enumerate(queue) if v.level > visit.level), len(queue))
    queue.insert(position, visit)


def join(centre: Centre, visit: Visit, front: bool = False) -> None:
    """Hand the visit to the longest-idle agent who serves the department, or put it in line."""
    agent = chosen_agent(centre, visit.department, longest_idle)  # longest idle, unless a policy says otherwise
    if agent is not None:
        hand(agent, visit)
    else:
        insert(centre.queues[visit.department], visit, front)


def longest_idle(centre: Centre, department: int, backups: bool = False) -> Agent | None:
    """The idle agent idle longest among those who serve the department (or back it up)."""
    best: Agent | None = None
    for pool in centre.pools:
        eligible = department in pool.backup_for if backups else pool.serves(department)
        if eligible and pool.idle and (best is None or pool.idle[0].idle_since < best.idle_since):
            best = pool.idle[0]
    return best


def hand(agent: Agent, visit: Visit) -> None:
    """Wake an idle agent with a call."""
    agent.pool.idle.remove(agent)
    visit.agent = agent
    assert agent.wake is not None
    agent.wake.succeed(visit)


def next_call(centre: Centre, pool: Pool) -> Visit | None:
    """The call a free agent takes: the first in line of each department of its best tier that has any,
    compared by priority then time queued; then calls overflowed to it from other departments (a routing
    policy may choose otherwise: `reference_policies.policy_next_call`)."""
    chosen = policy_next_call(centre, pool)
    if chosen is not None:
        return chosen
    for tier in pool.tiers:
        heads = [centre.queues[d][0] for d in tier if centre.queues[d]]
        if heads:
            return min(heads, key=lambda v: (v.call.priority, v.queued_at))
    overflowed = [v for d in pool.backup_for for v in centre.queues[d] if v.overflowed]
    return min(overflowed, key=lambda v: (v.call.priority, v.queued_at)) if overflowed else None
