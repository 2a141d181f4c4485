"""What exists during a run: calls, agents, department queues, agent pools, and the wiring between them.

These are plain objects with `__slots__`; the processes that move them live in `caller`, `agent`, `roster`
and `arrivals`, and the choices of who takes which call live in `routing`.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from functools import partial
from itertools import filterfalse
from typing import Any

import simpy

from sim.engine.call_times import CallTimes
from sim.engine.call_times import attach as attach_call_times
from sim.engine.clock import Timer
from sim.engine.log import EventLog
from sim.model.chat import chat_departments, chat_desks
from sim.model.dists import Sampler, Uniform
from sim.model.scenario import Callbacks, Hold, Scenario, accuracy_at, conferences
from sim.model.streams import Streams

_UNIT = Uniform(dist="uniform", low=0.0, high=1.0)
CALLBACK_LEVEL = 10
"""Queue priority level of callbacks that do not keep their place: after every live caller (levels 0-9)."""

# Call states.
WAITING, RINGING, TALKING, DONE = 1, 2, 3, 4
# Agent states.
OFF, IDLE, BUSY = 0, 1, 2


class Call:
    """One caller's attempt, from arrival to leaving; `visit` counts the queues it has joined."""

    __slots__ = (
        "agent",
        "arrived_at",
        "attempt",
        "callback",
        "caller_id",
        "conference",
        "deadline",
        "department",
        "dials",
        "first_handle_time",
        "handle_time",
        "id",
        "on_line",
        "patience",
        "priority",
        "queued_at",
        "reason",
        "requested_at",
        "researched",
        "state",
        "transfers",
        "visit",
        "visited",
        "warm",
        "wrap_time",
    )

    def __init__(self, call_id: int, reason: int, priority: int, arrived_at: float, patience: float) -> None:
        self.id = call_id
        self.reason = reason
        self.priority = priority
        self.arrived_at = arrived_at
        self.patience = patience
        self.department = -1
        self.queued_at = arrived_at
        self.deadline = math.inf
        self.state = WAITING
        self.handle_time = 0.0
        self.wrap_time = 0.0
        self.visit = 0
        self.visited = 0  # bit set of departments whose queue the call has joined
        self.transfers = 0
        self.agent: Agent | None = None
        self.warm: simpy.Event | None = None  # set while a transferring agent stays on the line
        self.conference: simpy.Event | None = None  # set while a conferencing agent stays for the whole leg
        self.first_handle_time = 0.0  # drawn at the first department (later legs may scale it)
        self.caller_id = call_id  # the first call of this caller (redials share it)
        self.attempt = 1
        self.on_line = False  # holding a trunk line
        self.callback = False  # waiting to be dialled back
        self.requested_at = math.inf  # when the callback was accepted
        self.dials = 0  # dial-outs made for the callback
        self.researched = False  # called back after a hold: the research is done, no more holds


class Agent:
    """One agent of a pool: logged off, idle (on its pool's idle list) or busy with `call`, and what it
    settled on answering that call (`agent.answer`): consultation with a warm-transferring colleague, talk
    time, where the caller goes next (a department index, or `agent.LEAVE`/`agent.DROP`), whether the caller
    was misrouted (the talk is listening, without holds), and the wrap-up after it."""

    __slots__ = (
        "back_at",
        "break_time",
        "call",
        "centre",
        "consult_time",
        "department",
        "desk",
        "id",
        "idle_since",
        "leaving",
        "misrouted",
        "number",
        "pool",
        "state",
        "talk_time",
        "target",
        "timer",
        "wrap_time",
    )

    def __init__(self, centre: Centre, agent_id: int, pool: Pool, number: int) -> None:
        self.centre = centre
        self.timer = Timer(centre.env, self)  # the common call's ring, talk and wrap-up, one after another
        self.id = agent_id
        self.pool = pool
        self.number = number
        self.state = OFF
        self.leaving = False
        self.idle_since = 0.0
        self.call: Call | None = None
        self.department = -1  # the department whose call it is serving
        self.consult_time = 0.0
        self.talk_time = 0.0
        self.target = -1
        self.misrouted = False
        self.wrap_time = 0.0
        self.break_time = 0.0  # a break owed, taken when the call in hand is done (`sim.engine.breaks`)
        self.back_at = math.inf  # on a break until then
        self.desk: Desk | None = None  # an agent of a chat pool: the chats in its hands (`sim.engine.chat`)

    @property
    def label(self) -> str:
        """How a trainer names this agent: `billing agent 4`."""
        return f"{self.pool.name} agent {self.number}"


Entry = tuple[int, Call]
"""A queue entry: the call and the visit number it was queued under (stale entries are skipped lazily)."""


class Queue:
    """A department's waiting callers, one FIFO per priority level, plus the ones offered to back-ups, and
    what its agents know: which reasons it resolves and how it sends the others on."""

    __slots__ = (
        "accuracy",
        "alone_handle",
        "backups",
        "conference",
        "handle",
        "hold",
        "hold_check_back",
        "hold_draw",
        "hold_duration",
        "hold_patience",
        "index",
        "levels",
        "linked",
        "listen",
        "mean_work",
        "name",
        "overflow_after",
        "overflowed",
        "policy",
        "resolves",
        "servers",
        "transfer_cumulative",
        "transfer_targets",
        "transfer_time",
        "waiting",
        "warm",
        "weight",
        "wrap",
    )

    def __init__(self, index: int, name: str, priorities: list[int], handle: Sampler, wrap: Sampler) -> None:
        self.index = index
        self.name = name
        self.levels: dict[int, deque[Entry]] = {priority: deque() for priority in sorted(set(priorities))}
        self.overflowed: dict[int, deque[Entry]] = {priority: deque() for priority in self.levels}
        self.overflow_after: float | None = None
        self.servers: list[Pool] = []
        self.backups: list[Pool] = []
        self.waiting = 0
        self.handle = handle
        self.wrap = wrap
        self.resolves = 0  # bit set of reasons this department resolves
        self.accuracy: Callable[[float], float] = _certain
        self.listen: Sampler | None = None
        self.transfer_time: Sampler | None = None
        self.transfer_targets: list[int] | None = None  # explicit transfer network (None: reason-based)
        self.transfer_cumulative: list[float] = []
        self.warm = False
        self.conference: str | None = None  # on a conference transfer with nobody free: wait, alone or lost
        self.alone_handle: Sampler | None = None  # a first agent serving this department's part alone
        self.linked: float | None = None  # later legs talk this multiple of the first leg's handle time
        self.mean_work = 0.0  # mean handle + wrap time, for estimated waits
        self.hold: Hold | None = None
        self.hold_draw: Sampler | None = None
        self.hold_duration: Sampler | None = None
        self.hold_check_back: Sampler | None = None
        self.hold_patience: Sampler | None = None
        self.weight = 1.0  # `call_weight`: for free agents choosing by weighted wait
        self.policy: Any = None
        """An arriving call's routing policy or queue capacity (`sim.engine.policies.QueuePolicy`); None:
        the longest-idle agent, no limit (checked once per call, so today's path stays as fast)."""

    def on_duty(self) -> int:
        """Agents logged in (and not leaving) who take this queue's calls first-hand."""
        return sum(pool.on_duty for pool in self.servers)


class Pool:
    """Agents who share staffing and skills: a department's own agents, or a cross-trained group."""

    __slots__ = (
        "agents",
        "backup_for",
        "blend",
        "chat",
        "dialler",
        "home",
        "idle",
        "index",
        "name",
        "on_duty",
        "sole",
        "speed",
        "take",
        "tiers",
    )

    def __init__(self, index: int, name: str, home: int, department_count: int) -> None:
        self.index = index
        self.name = name
        self.home = home
        self.agents: list[Agent] = []
        self.idle: deque[Agent] = deque()
        self.tiers: list[list[Queue]] = []
        self.backup_for: list[Queue] = []
        self.speed = [1.0] * department_count
        self.on_duty = 0
        self.take: Any = None
        """A free agent's call choice other than by preference (`sim.engine.policies`): a function of the
        pool and the time; None: `routing.next_call_for`."""
        self.chat: tuple[float, ...] | None = None
        """A chat pool's slow-down with 1, 2, ... chats in hand (as many as an agent's slots); None: voice."""
        self.dialler: Any = None
        """The outbound dialler of a pool that dials a campaign (`sim.engine.outbound`), called with no
        argument whenever one of its agents goes idle; None: the pool does not dial."""
        self.blend: Any = None
        """A pool serving chat and another channel: its desk rules (`sim.engine.blend.Blend`); None: not."""
        self.sole: Queue | None = None
        """The one queue of a pool that serves one and backs none up (`settle`): a free agent's next call
        is that queue's head, without walking the tiers (`agent.take_next`); None: walk them."""

    def settle(self) -> None:
        """Note the pool's sole queue, once its tiers and back-up duties are final (the run is wired)."""
        tiers = self.tiers
        one = len(tiers) == 1 and len(tiers[0]) == 1 and not self.backup_for
        self.sole = tiers[0][0] if one else None


class Conversation:
    """One chat in an agent's hands (`sim.engine.chat`): its contact, the work left of the phase it is in
    (the handle time, then the wrap-up, in seconds at the agent's own pace), and the time the slow-down
    has added to that phase so far."""

    __slots__ = ("call", "department", "extra_time", "handle_time", "work_left", "wrap_time", "wrapping")

    def __init__(self, call: Call, department: int, handle_time: float, wrap_time: float) -> None:
        self.call = call
        self.department = department
        self.handle_time = handle_time
        self.work_left = handle_time
        self.wrap_time = wrap_time
        self.extra_time = 0.0
        self.wrapping = False


class Desk:
    """A chat agent's conversations and the pace they share: while n are in hand, each runs at 1 / factor
    (`factors[n-1]`), the factor in force since `updated_at`; `version` counts reschedulings, so a
    completion scheduled before the last change is recognised as stale when it comes due."""

    __slots__ = ("chats", "due", "factor", "factors", "slots", "updated_at", "version")

    def __init__(self, factors: tuple[float, ...]) -> None:
        self.factors = factors
        self.slots = len(factors)
        self.chats: list[Conversation] = []
        self.factor = 1.0
        self.updated_at = 0.0
        self.version = 0
        self.due: Conversation | None = None


class Centre:
    """Everything one run shares: clock, scenario, queues, pools, log and counters."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, streams: Streams, log: EventLog) -> None:
        self.env = env
        self.scenario = scenario
        self.streams = streams
        self.log = log
        self.record = log.record  # one attribute to look up per event logged, on every step of every call
        self.department_names = list(scenario.departments)
        self.reason_names = list(scenario.reason_mix())
        self.ring_time = scenario.ring_time
        self.unrung: frozenset[int] = frozenset()  # answered without a ring: emails (`sim.engine.email`)
        self.emails: Any = None  # email departments' settings and backlog (`sim.engine.email`)
        self.lines = scenario.lines if scenario.lines is not None else math.inf
        self.lines_busy = 0  # trunk lines held by callers
        self.active = 0  # calls not yet finished (on a line, or waiting for a callback)
        self.busy = 0
        self.closed = False
        self.stop = env.event()
        self.queues: list[Queue] = []
        self.pools: list[Pool] = []
        self.next_agent_id = 0
        self.patience_runs_out: Callable[[Any], None] = _unset
        self.overflow_due: Callable[[Any], None] = _unset
        self.ivr_done: Callable[[Any], None] = _unset
        transfers = scenario.transfers
        self.transfer_front = transfers.priority
        self.patience_restarts = transfers.patience == "restart"
        self.consult = Sampler(transfers.consult_time, streams.generator("consult_time"))
        self.decide = Sampler(_UNIT, streams.generator("routing"))
        self.max_transfers = scenario.max_transfers if scenario.max_transfers is not None else math.inf
        self.escalate = scenario.on_max_transfers == "escalate"
        self.resolvers: list[list[int]] = []  # per reason: departments that resolve it
        self.unresolving: list[list[int]] = []  # per reason: departments that cannot resolve it, in order
        self.unresolving_set: list[int] = []  # per reason: the same as a bit set of departments
        self.next_call_id = 1
        self.callback_offer = scenario.callback
        self.callback_settings = scenario.callback or Callbacks()  # also for callbacks chosen on hold
        self.callback_draw = Sampler(_UNIT, streams.generator("callback"))
        self.dial = Sampler(self.callback_settings.dial_time, streams.generator("callback.dial_time"))
        self.redial_draw = Sampler(_UNIT, streams.generator("redial"))
        self.redial_remaining = scenario.redial is not None and scenario.redial.patience == "remaining"
        self.redial_callback_share = scenario.redial.as_callback if scenario.redial is not None else 0.0
        self.redial_callback_draw = Sampler(_UNIT, streams.generator("redial.as_callback"))
        self.redial_patience = (
            Sampler(scenario.patience, streams.generator("redial.patience")) if scenario.patience else None
        )
        self.redial_delays = {
            outcome: Sampler(rule.delay, streams.generator(f"redial.delay.{outcome}"))
            for outcome, rule in (
                ("blocked", scenario.redial.blocked if scenario.redial else None),
                ("abandoned", scenario.redial.abandoned if scenario.redial else None),
            )
            if rule is not None
        }
        self.redial_menu = (
            Sampler(scenario.ivr.menu_time, streams.generator("redial.ivr.menu_time"))
            if scenario.ivr
            else None
        )
        self.times: CallTimes | None = None
        """Times by reason, agent group or arrival interval (`call_times`); None: the queues' own samplers."""
        self.requeue_callback: Callable[[Any], None] = _unset
        self.callback_due: Callable[[Any], None] = _unset
        self.redial_due: Callable[[Any], None] = _unset
        self.carry_over: Any = None
        """A week's day: the work it brought in and leaves for the next day (`sim.engine.carry_over`)."""
        self.hand_call: Callable[[Agent, Call], None] = _unset_pair
        """Give an idle agent a call (the agent's state machine, wired by the engine so that callers, which
        hand calls to agents, and agents, which send callers on, do not import each other)."""

    def check_done(self) -> None:
        """End the run once arrivals have stopped and no caller or agent has work left. (The common call's
        steps, `caller.leave` and `agent._free`, call it only once `closed`: before, nothing ends the run.)"""
        if self.closed and self.active == 0 and self.busy == 0 and not self.stop.triggered:
            self.stop.succeed()


def _certain(_: float) -> float:
    return 1.0


def _unset(_: Any) -> None:
    raise RuntimeError("centre callbacks not wired")


def _unset_pair(_: Any, __: Any) -> None:
    raise RuntimeError("centre callbacks not wired")


def build(env: simpy.Environment, scenario: Scenario, streams: Streams, log: EventLog) -> Centre:
    """The centre for one run: a queue per department and a pool per department or agent group."""
    centre = Centre(env, scenario, streams, log)
    names = centre.department_names
    priorities = [scenario.arrivals.priority.get(reason, 1) for reason in centre.reason_names]
    reason_numbers = {reason: number for number, reason in enumerate(centre.reason_names)}
    centre.resolvers = [[] for _ in centre.reason_names]
    for index, name in enumerate(names):
        department = scenario.departments[name]
        handle = Sampler(department.handle_time, streams.generator(f"handle_time.{name}"))
        wrap = Sampler(department.wrap_time, streams.generator(f"wrap_time.{name}"))
        queue = Queue(index, name, [*priorities, 0, 1, CALLBACK_LEVEL], handle, wrap)
        if department.overflow is not None:
            queue.overflow_after = department.overflow.after
        # the reasons it resolves, looked up by name: not a test of every reason per department
        resolved = {reason_numbers[reason] for reason in scenario.resolves(name) if reason in reason_numbers}
        queue.resolves = sum(1 << reason for reason in resolved)
        for reason in resolved:
            centre.resolvers[reason].append(index)  # in department order, as the departments come
        routing = scenario.routing_of(name)
        queue.accuracy = partial(accuracy_at, routing.accuracy)
        if routing.listen_time.mean_value() > 0:
            queue.listen = Sampler(routing.listen_time, streams.generator(f"listen_time.{name}"))
        if routing.transfer_time.mean_value() > 0:
            queue.transfer_time = Sampler(routing.transfer_time, streams.generator(f"transfer_time.{name}"))
        if department.transfer is not None:
            queue.transfer_targets = [names.index(target) for target in department.transfer]
            total = 0.0
            for probability in department.transfer.values():
                total += probability
                queue.transfer_cumulative.append(total)
        mode = department.transfer_mode or scenario.transfers.mode
        queue.warm = mode != "cold"  # warm and conference transfers keep the agent on the line
        if mode == "conference":
            queue.conference = scenario.transfers.if_nobody_free
        if scenario.transfers.if_nobody_free == "alone" and conferences(scenario):
            queue.alone_handle = Sampler(
                department.handle_time, streams.generator(f"conference.alone_time.{name}")
            )
        queue.linked = department.linked_handle_time
        queue.mean_work = department.handle_time.mean_value() + department.wrap_time.mean_value()
        if department.hold is not None and department.hold.probability > 0:
            hold = department.hold
            queue.hold = hold
            queue.hold_draw = Sampler(_UNIT, streams.generator(f"hold.{name}"))
            queue.hold_duration = Sampler(hold.duration, streams.generator(f"hold.duration.{name}"))
            queue.hold_check_back = Sampler(
                hold.check_back_time, streams.generator(f"hold.check_back_time.{name}")
            )
            if hold.patience is not None:
                queue.hold_patience = Sampler(hold.patience, streams.generator(f"hold.patience.{name}"))
        centre.queues.append(queue)
    chats = chat_departments(scenario)  # never a wrong department to send a caller to: chats do not transfer
    others = [index for index, name in enumerate(names) if name not in chats]
    others_set = sum(1 << index for index in others)
    # per reason, the others less its resolvers, filtered in C: no Python step per department and reason
    centre.unresolving = [list(filterfalse(set(resolvers).__contains__, others)) for resolvers in centre.resolvers]
    centre.unresolving_set = [
        others_set & ~sum(1 << index for index in resolvers) for resolvers in centre.resolvers
    ]
    for index, name in enumerate(names):
        if scenario.departments[name].agents is not None:
            pool = Pool(len(centre.pools), name, index, len(names))
            pool.tiers = [[centre.queues[index]]]
            centre.pools.append(pool)
    for name, group in scenario.agent_groups.items():
        pool = Pool(len(centre.pools), name, -1, len(names))
        by_preference: dict[int, list[Queue]] = {}
        for skill, preference in group.skills.items():
            by_preference.setdefault(preference, []).append(centre.queues[names.index(skill)])
        pool.tiers = [by_preference[preference] for preference in sorted(by_preference)]
        for skill, factor in group.speed.items():
            pool.speed[names.index(skill)] = factor
        centre.pools.append(pool)
    desks = chat_desks(scenario)
    for pool in centre.pools:
        for tier in pool.tiers:
            for queue in tier:
                queue.servers.append(pool)
        if pool.name in desks:
            pool.chat = desks[pool.name].factors()
    pools_by_name = {pool.name: pool for pool in centre.pools}
    for index, name in enumerate(names):
        overflow = scenario.departments[name].overflow
        for target in overflow.to if overflow is not None else ():
            backup = pools_by_name.get(target)
            if backup is not None and backup not in centre.queues[index].servers:
                centre.queues[index].backups.append(backup)
                backup.backup_for.append(centre.queues[index])
    attach_call_times(centre)
    return centre


def new_agent(centre: Centre, pool: Pool) -> Agent:
    """A further agent for `pool`, numbered from 1 within it."""
    agent = Agent(centre, centre.next_agent_id, pool, len(pool.agents) + 1)
    centre.next_agent_id += 1
    if pool.chat is not None:
        agent.desk = Desk(pool.chat)
    pool.agents.append(agent)
    return agent
