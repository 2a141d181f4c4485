"""What to simulate: the scenario schema, strict and frozen, every quantity in seconds, and the cross-field
checks that make a `Scenario` that exists a valid one (`consistency_problems`, run by a model validator:
`Scenario.model_validate` refuses a transfer to an unknown department as it refuses a negative count).

Loading and `--set` overrides live in `sim/model/loading.py`, which turns the refusals into messages with
YAML paths. Nothing below the loader reads raw dictionaries.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from sim.model.agent_schedules import AgentScheduleFile, most_on_duty
from sim.model.availability_rules import availability_problems
from sim.model.blend import blend_problems
from sim.model.call_types import CallType, ReasonTimes, call_type_problems
from sim.model.chat import Channel, ChatDesk, chat_problems
from sim.model.costs import Costs, cost_problems
from sim.model.dists import Dist, NonNegativeDuration, PositiveDuration
from sim.model.durations import not_boolean, parse_clock, parse_duration, printable, shorten
from sim.model.email import EmailSettings, email_problems
from sim.model.goals import Goals, goal_problems, with_service_level_goal
from sim.model.outbound import Outbound, outbound_problems
from sim.model.policies import AgentChoice, CallChoice, policy_problems
from sim.model.transfer_loops import TransferNetwork, loop_problems
from sim.model.week import Week, week_problems

Clock = Annotated[float, BeforeValidator(parse_clock)]
"""Seconds after midnight; YAML says '08:00'."""
Probability = Annotated[float, BeforeValidator(not_boolean), Field(ge=0, le=1, allow_inf_nan=False)]
Count = Annotated[int, BeforeValidator(not_boolean), Field(ge=0, le=100_000)]
Number = BeforeValidator(not_boolean)
MAX_POOLS = 1000
"""The most departments (and, apart, agent groups) a scenario may have."""
MAX_DAYS = 366
"""The longest `duration` and `drain`: a year, for long steady-state runs (calls and rostered shifts are
bounded separately, since they cost memory)."""
MAX_SHIFT_DAYS = 1_000_000
"""The most shifts a roster may hold over the whole run (shifts repeat daily and are laid out up front)."""
MAX_INTERVALS = 100_000
MAX_CALLS = 10_000_000
"""The most calls a day may be expected to bring (they are drawn up front, so they cost memory)."""
MAX_AGENTS = 100_000
"""The most agents all pools together may have on duty at once."""
_REASON_TOLERANCE = 1e-6
CONSISTENCY = "scenario_consistency"
"""The pydantic error type of a cross-field fault; its `loc` is the one dotted YAML path of the fault."""


@dataclass(frozen=True)
class Problem:
    """One fault in a scenario: where (a dotted YAML path) and what was expected."""

    path: str
    message: str

    def __str__(self) -> str:
        """`path: message` on one line (control characters in names the user chose are escaped)."""
        text = f"{self.path}: {self.message}" if self.path else self.message
        return printable(text)


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class Break(Frozen):
    """A break of a shift's agents: at clock time `at` they go off for `length` (one busy then finishes its
    call and wrap-up first, and takes the whole length from when it goes; `sim.engine.breaks`)."""

    at: Clock
    length: PositiveDuration


ShrinkageShare = Annotated[float, Number, Field(ge=0, lt=1, allow_inf_nan=False)]
"""A share of rostered agents unavailable (0 to below 1; `sim.model.availability`)."""


class ShrinkagePerInterval(Frozen):
    """Shrinkage that changes through the day: one share per interval."""

    per_interval: tuple[ShrinkageShare, ...] = Field(min_length=1)


Shrinkage = ShrinkageShare | ShrinkagePerInterval


class Absence(Frozen):
    """Each rostered agent of a replication's day is missing for that day with this probability."""

    probability: Probability


class Shift(Frozen):
    """A block of agents logged in from `start` to `end` (clock times; an end before the start is next day)."""

    start: Clock
    end: Clock
    count: Count
    breaks: tuple[Break, ...] | None = Field(default=None, max_length=20)
    """Breaks and lunches of the shift's agents, each inside the shift, none overlapping."""


def _staffing_shorthand(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return {"count": value}
    if isinstance(value, str | float | bool):
        raise ValueError(
            "expected a whole number of agents, per_interval: [...], shifts: [...] or file: AGENTS.csv, "
            f"got {shorten(value)}"
        )
    if isinstance(value, list | tuple):
        return {"per_interval": value}
    return value


class _Staffing(Frozen):
    """How many agents are logged in: a constant, one count per interval, or shifts."""

    count: Count | None = None
    per_interval: tuple[Count, ...] | None = None
    shifts: tuple[Shift, ...] | None = Field(default=None, max_length=100)
    file: AgentScheduleFile | None = None
    """An agent schedule CSV, one row per agent period (`sim.model.agent_schedules`), read at load time."""

    @model_validator(mode="after")
    def _exactly_one(self) -> _Staffing:
        given = [
            name for name in ("count", "per_interval", "shifts", "file") if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of a count, per_interval: [...], shifts: [...] or file: AGENTS.csv"
            )
        if self.per_interval is not None and not self.per_interval:
            raise ValueError("per_interval needs one count per interval")
        return self


Staffing = Annotated[_Staffing, BeforeValidator(_staffing_shorthand)]


class Ring(Frozen):
    """Rings an idle agent lets pass before picking up; the agent is reserved while it rings."""

    cycle: PositiveDuration = 6.0
    rings: Count = 0


class ServiceLevel(Frozen):
    """The service-level goal: `target` of calls answered within `threshold` (and within `rings` rings)."""

    threshold: NonNegativeDuration = 20.0
    target: Probability = 0.8
    rings: Count = 4


class Busyness(Frozen):
    """How busy a day is beyond Poisson: every replication (a simulated day) draws a factor from a gamma
    distribution with mean 1 and this coefficient of variation, and every arrival rate of that day is
    multiplied by it. Real daily volumes vary far more than Poisson; cv 0.1-0.3 is typical."""

    cv: Annotated[float, Number] = Field(gt=0, le=3, allow_inf_nan=False)


class Arrivals(Frozen):
    """When calls come and why: a Poisson rate (constant or per interval) or a replayed trace, and how much
    busier or quieter than that a day may be (`busyness`)."""

    per_hour: Annotated[float, Number] | None = Field(default=None, ge=0, allow_inf_nan=False)
    per_interval: tuple[Annotated[float, Number, Field(ge=0, allow_inf_nan=False)], ...] | None = None
    per_interval_by_reason: (
        dict[str, tuple[Annotated[float, Number, Field(ge=0, allow_inf_nan=False)], ...]] | None
    ) = None
    """Calls per interval of each reason, each reason a Poisson process of its own (a mix that changes
    through the day); the reason mix follows from the totals."""
    trace: str | None = None
    trace_times: tuple[float, ...] | None = None
    trace_reasons: tuple[str, ...] | None = None
    trace_handle_times: tuple[NonNegativeDuration | None, ...] | None = None
    """Each traced call's own handle time at its first department (None: drawn as usual)."""
    trace_patience: tuple[NonNegativeDuration | None, ...] | None = None
    """Each traced call's own patience (None: drawn as usual)."""
    reasons: dict[str, Probability] | None = None
    priority: dict[str, Annotated[int, Number, Field(ge=0, le=9)]] = Field(default_factory=dict)
    busyness: Busyness | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Arrivals:
        sources = ("per_hour", "per_interval", "per_interval_by_reason", "trace")
        given = [n for n in sources if getattr(self, n) is not None]
        if self.trace_times is not None and not given:
            given = ["trace"]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of per_hour, per_interval: [...], per_interval_by_reason: {...} "
                "or trace: FILE.csv"
            )
        if self.per_interval_by_reason is not None:
            if not self.per_interval_by_reason:
                raise ValueError("per_interval_by_reason needs at least one reason")
            if self.reasons is not None:
                raise ValueError("per_interval_by_reason gives the reason mix: leave out reasons")
        if self.per_interval is not None and not self.per_interval:
            raise ValueError("per_interval needs one call count per interval")
        if self.busyness is not None and given == ["trace"]:
            raise ValueError(
                "busyness scales a Poisson rate (per_hour or per_interval); a replayed trace has its own volume"
            )
        return self


class Overflow(Frozen):
    """After waiting `after`, a call also becomes eligible for the listed back-up groups or departments."""

    after: NonNegativeDuration
    to: tuple[str, ...] = Field(min_length=1)


class AccuracyCurve(Frozen):
    """Routing accuracy that grows with listening: max - (max - base) * exp(-listen_time / scale)."""

    base: Probability
    max: Probability
    scale: PositiveDuration

    @model_validator(mode="after")
    def _ordered(self) -> AccuracyCurve:
        if self.max < self.base:
            raise ValueError("max must be >= base")
        return self

    def at(self, listen_time: float) -> float:
        """Accuracy after listening `listen_time` seconds."""
        return self.max - (self.max - self.base) * math.exp(-listen_time / self.scale)


class Hold(Frozen):
    """Mid-call holds: the agent asks to put the caller on hold to research (`duration`), promising a time.
    If the research outruns the promise, the agent checks back (`check_back_time`) and the caller keeps
    holding with a new promise or takes a callback (`callback_share`). A caller may hang up on hold when a
    stretch of holding outlasts their hold `patience`."""

    probability: Probability
    max_holds: Annotated[int, Number, Field(ge=1, le=20)] = 1
    duration: Dist
    promise: Annotated[float, BeforeValidator(parse_duration), Field(ge=1)] = 60.0
    """At least a second: a caller checked back on every instant would keep an agent busy forever."""
    check_back_time: Dist = 10.0  # type: ignore[assignment]
    patience: Dist | None = None
    callback_share: Probability = 0.0


class Department(Frozen):
    """A queue of callers and the agents who take it (its own pool, and any agent groups with its skill)."""

    resolves: tuple[str, ...] | None = None
    agents: Staffing | None = None
    handle_time: Dist
    wrap_time: Dist = 0.0  # type: ignore[assignment]
    overflow: Overflow | None = None
    routing_accuracy: Probability | AccuracyCurve | None = None
    listen_time: Dist | None = None
    transfer_time: Dist | None = None
    transfer: dict[str, Probability] | None = None
    transfer_mode: Literal["cold", "warm", "conference"] | None = None
    linked_handle_time: Annotated[float, Number] | None = Field(default=None, gt=0, le=100, allow_inf_nan=False)
    """A caller sent here by a transfer talks this multiple of the handle time drawn at their first
    department (a caller slow with one agent is slow with the next); unset, a later leg draws afresh."""
    hold: Hold | None = None
    agent_choice: AgentChoice | None = None
    """Which idle agent gets this department's arriving calls (unset: `routing.agent_choice`)."""
    agent_order: tuple[str, ...] | None = Field(default=None, min_length=1)
    """For `in_order`: pools (this department's name for its own agents, or agent groups) tried first."""
    call_weight: Annotated[float, Number] = Field(default=1.0, gt=0, le=1e6, allow_inf_nan=False)
    """For `call_choice: weighted`: a waiting call's wait is multiplied by this."""
    queue_capacity: Count | None = None
    """The most callers waiting at once (0: no queue); unset, no limit."""
    when_full: Literal["lost", "message"] | None = None
    """A caller finding the queue full (and nobody free) is lost (default) or leaves a message."""
    by_reason: dict[str, ReasonTimes] | None = None
    """This department's handle and wrap time for a reason (over `call_types` and its own)."""
    shrinkage: Shrinkage | None = None
    """The share of its rostered agents unavailable (unset: the scenario's `shrinkage`, else none)."""
    channel: Channel | None = None
    """`chat`: its contacts are chats, several in an agent's hands at once (`sim.model.chat`); unset (or
    `voice`): calls. None by default so that a resolved scenario without chat is written as before."""
    chat: ChatDesk | None = None
    """A chat department's own agents' desk: chats at once, slow-down (unset: one at a time)."""
    email: EmailSettings | None = None
    """An email department's due time, backlog at the open and overdue calls (`sim.model.email`)."""


class Routing(Frozen):
    """How agents send on a caller they cannot help, for departments that do not say otherwise:
    they listen (`listen_time`), decide with `accuracy` (a number, or a curve of the listen time), and
    spend `transfer_time` on the transfer itself."""

    listen_time: Dist = 0.0  # type: ignore[assignment]
    accuracy: Probability | AccuracyCurve = 1.0
    transfer_time: Dist = 0.0  # type: ignore[assignment]
    agent_choice: AgentChoice = "longest_idle"
    """Which idle agent gets an arriving call (departments may override it; `sim.model.policies`)."""
    call_choice: CallChoice = "preference"
    """Which waiting call a free agent takes (agent groups may override it; `sim.model.policies`)."""
    channel_priority: tuple[Channel, ...] | None = None
    """Which channel a free agent of a group serving several looks at first (groups may override it;
    unset: voice, chat, email; `sim.model.blend`)."""


def conferences(scenario: Scenario) -> bool:
    """Whether any department transfers by conference."""
    default = scenario.transfers.mode
    return any((own.transfer_mode or default) == "conference" for own in scenario.departments.values())


def accuracy_at(accuracy: float | AccuracyCurve, listen_time: float) -> float:
    """Probability of sending a misrouted caller to a department that resolves it, after listening."""
    return accuracy if isinstance(accuracy, float) else accuracy.at(listen_time)


class Ivr(Frozen):
    """The phone menu: its time, the share of callers it resolves itself, and how well it routes the rest."""

    menu_time: Dist = 0.0  # type: ignore[assignment]
    accuracy: Probability = 1.0
    self_service: dict[str, Probability] = Field(default_factory=dict)


class Callbacks(Frozen):
    """Virtual hold: a caller whose estimated wait on joining a queue is over `offer_when_wait_over` is
    offered a callback; one who accepts hangs up and either keeps their place in the queue (`keep_place`) or
    is called back when no live caller waits, within the promised `window`. An agent then dials out
    (`dial_time`); the caller answers with `answer_probability`, else the dial is retried after
    `retry_delay`, up to `retries` times."""

    offer_when_wait_over: NonNegativeDuration = 120.0
    accept: Probability = 0.5
    keep_place: bool = True
    window: PositiveDuration = 7200.0
    dial_time: Dist = 15.0  # type: ignore[assignment]
    answer_probability: Probability = 0.85
    retries: Annotated[int, Number, Field(ge=0, le=20)] = 2
    retry_delay: NonNegativeDuration = 600.0


class RedialRule(Frozen):
    """Whether and when a caller calls again after a given outcome."""

    probability: Probability
    delay: Dist


class Redial(Frozen):
    """Callers who were blocked or gave up call again, up to `max_attempts` calls in all (within the day)."""

    blocked: RedialRule | None = None
    abandoned: RedialRule | None = None
    max_attempts: Annotated[int, Number, Field(ge=1, le=50)] = 3
    patience: Literal["fresh", "remaining"] = "fresh"
    """`fresh`: a redial draws a new patience; `remaining`: it keeps what the caller's patience had left
    when they hung up (all of it after a busy signal, none after giving up in a queue)."""
    as_callback: Probability = 0.0
    """Share of redials that come back as a callback request (the `callback:` settings) instead of a call."""


class EndBadness(Frozen):
    """How bad each ending is for the caller's memory of the call (0 best, 1 worst)."""

    first_agent: Probability = 0.0
    later_agent: Probability = 0.3
    callback: Probability = 0.2
    self_service: Probability = 0.1
    unresolved: Probability = 1.0


class Experience(Frozen):
    """Parameters of the modelled caller-experience score (peak-end rule), 0 (worst) to 10 (best).

    badness of a segment = min(1, length / tolerance) for waits and holds; a broken hold promise, a misroute
    and a busy signal have fixed badness. peak = the worst segment; end = `end_badness` of how the call ended.
    score = 10 * (1 - peak_weight * peak - (1 - peak_weight) * end)."""

    wait_tolerance: PositiveDuration = 120.0
    hold_tolerance: PositiveDuration = 180.0
    overrun_badness: Probability = 0.6
    misroute_badness: Probability = 0.5
    busy_badness: Probability = 1.0
    peak_weight: Probability = 0.5
    end_badness: EndBadness = Field(default_factory=lambda: EndBadness())


class Transfers(Frozen):
    """How transfers happen: cold (rejoin a queue), warm (the agent stays on until the next one answers), or
    conference (the agent brings in an agent of the next department only if one is free at once, and stays on
    the line for the whole of that agent's part of the call; if nobody is free, `if_nobody_free` says what
    happens: `wait` as a warm transfer, `alone` the first agent serves the caller alone for a handle time
    drawn from the next department's, or `lost` the caller leaves unresolved)."""

    mode: Literal["cold", "warm", "conference"] = "cold"
    if_nobody_free: Literal["wait", "alone", "lost"] = "wait"
    priority: bool = False
    patience: Literal["restart", "continue"] = "restart"
    consult_time: Dist = 0.0  # type: ignore[assignment]


class AgentGroup(Frozen):
    """Cross-trained agents: their staffing, their skills (department -> preference, lower first), speeds."""

    agents: Staffing
    skills: dict[str, Annotated[int, Number, Field(ge=0, le=99)]] = Field(min_length=1)
    speed: dict[str, Annotated[float, Number, Field(gt=0, le=100, allow_inf_nan=False)]] = Field(
        default_factory=dict
    )
    call_choice: CallChoice | None = None
    """Which waiting call the group's free agents take (unset: `routing.call_choice`)."""
    by_reason: dict[str, ReasonTimes] | None = None
    """This group's own handle and wrap time for a reason, drawn when its agent answers (speed not applied)."""
    shrinkage: Shrinkage | None = None
    """The share of its rostered agents unavailable (unset: the scenario's `shrinkage`, else none)."""
    chat: ChatDesk | None = None
    """For a group serving chat departments: its agents' desk (unset: one chat at a time)."""
    channel_priority: tuple[Channel, ...] | None = None
    """The order its free agents look at its channels (exactly those it serves; unset:
    `routing.channel_priority`, else voice, chat, email; `sim.model.blend`)."""


class Scenario(Frozen):
    """One call-centre day: arrivals, patience, departments, agents, and how to measure it."""

    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    seed: Annotated[int, Number, Field(ge=0, lt=2**63)] = 1
    start: Clock = 0.0
    duration: PositiveDuration
    interval: PositiveDuration = 1800.0
    warmup: NonNegativeDuration = 0.0
    drain: NonNegativeDuration = 4 * 3600.0
    lines: Annotated[int, Number, Field(ge=1, le=10_000_000)] | None = None
    ring: Ring = Field(default_factory=Ring)
    service_level: ServiceLevel = Field(default_factory=ServiceLevel)
    arrivals: Arrivals
    patience: Dist | None = None
    departments: dict[str, Department] = Field(min_length=1, max_length=MAX_POOLS)
    agent_groups: dict[str, AgentGroup] = Field(default_factory=dict, max_length=MAX_POOLS)
    ivr: Ivr | None = None
    routing: Routing = Field(default_factory=Routing)
    transfers: Transfers = Field(default_factory=Transfers)
    callback: Callbacks | None = None
    redial: Redial | None = None
    experience: Experience = Field(default_factory=Experience)
    max_transfers: Annotated[int, Number, Field(ge=0, le=1000)] | None = None
    on_max_transfers: Literal["escalate", "hang_up"] = "escalate"
    call_types: dict[str, CallType] | None = None
    shrinkage: Shrinkage | None = None
    """The share of rostered agents unavailable in every pool that does not set its own."""
    absence: Absence | None = None
    """Agents missing for the whole day at random (`sim.model.availability`)."""
    """Per reason: patience, handle and wrap time (`sim.model.call_types`)."""
    goals: Goals | None = None
    """Service goals for all calls and per department (`sim.model.goals`); verdicts in `sim.analysis.goals`.
    Without it, the one goal is `service_level.target`."""

    @model_validator(mode="before")
    @classmethod
    def _one_service_level_goal(cls, data: Any) -> Any:
        """`goals.service_level` given alone becomes `service_level.target` (`sim.model.goals`)."""
        return with_service_level_goal(data)
    costs: Costs | None = None
    """Wages, line, abandonment and waiting prices (`sim.model.costs`); figures in `sim.analysis.costs`."""
    week: Week | None = None
    """Several days in order, each with its day type's overrides and work carried in (`sim.model.week`)."""
    outbound: Outbound | None = None
    """A campaign list the pool's agents dial while more than `threshold` are idle (`sim.model.outbound`)."""

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        """Refuse what no single field shows (unknown departments and reasons, sums, list lengths, sizes,
        loops): one pydantic error per fault, of type CONSISTENCY at its YAML path. Pydantic runs this only
        once every field is valid, so field faults are reported first and cross-field ones after."""
        problems = list(consistency_problems(self))
        if problems:
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [
                    InitErrorDetails(
                        type=PydanticCustomError(CONSISTENCY, "{message}", {"message": problem.message}),
                        loc=(problem.path,),
                        input=None,
                    )
                    for problem in problems
                ],
            )
        return self

    @property
    def interval_count(self) -> int:
        """Reporting and staffing intervals in the day (the last may be partial)."""
        return max(1, math.ceil(self.duration / self.interval - 1e-9))

    @property
    def ring_time(self) -> float:
        """Seconds an agent lets the phone ring before answering."""
        return self.ring.cycle * self.ring.rings

    def resolves(self, department: str) -> tuple[str, ...]:
        """Reasons a department can resolve (its own name unless the scenario says otherwise)."""
        return self.departments[department].resolves or (department,)

    def routing_of(self, department: str) -> Routing:
        """The routing behaviour of a department's agents: its own settings over the scenario's defaults."""
        own = self.departments[department]
        return Routing(
            listen_time=own.listen_time if own.listen_time is not None else self.routing.listen_time,
            accuracy=own.routing_accuracy if own.routing_accuracy is not None else self.routing.accuracy,
            transfer_time=own.transfer_time if own.transfer_time is not None else self.routing.transfer_time,
        )

    def reason_mix(self) -> dict[str, float]:
        """Why people call, as probabilities (one reason named after a sole department by default)."""
        if self.arrivals.reasons is not None:
            return dict(self.arrivals.reasons)
        by_reason = self.arrivals.per_interval_by_reason
        if by_reason is not None:  # each reason's share of the day's calls
            totals = {name: float(sum(counts)) for name, counts in by_reason.items()}
            whole = sum(totals.values())
            return {name: total / whole if whole > 0 else 1.0 / len(totals) for name, total in totals.items()}
        return {next(iter(self.departments)): 1.0}

    def first_resolver(self, reason: str) -> str | None:
        """The department a caller with `reason` is sent to first: the first (in the scenario's order) that
        resolves it (None: none does)."""
        return next((name for name in self.departments if reason in self.resolves(name)), None)

    def first_visits(self) -> dict[str, float]:
        """Per department, visits per arriving call before any transfer: each reason's share goes to the
        first department that resolves it, less the share the phone menu serves itself."""
        names = list(self.departments)
        visits = dict.fromkeys(names, 0.0)
        self_service = self.ivr.self_service if self.ivr is not None else {}
        for reason, share in self.reason_mix().items():
            first = self.first_resolver(reason)
            if first is not None:
                visits[first] += share * (1.0 - self_service.get(reason, 0.0))
        return visits


# --- cross-field checks -----------------------------------------------------------------------------------


def consistency_problems(scenario: Scenario) -> Iterable[Problem]:
    """Faults no single field shows: unknown reasons and departments, list lengths, sums, sizes."""
    departments = scenario.departments
    groups = scenario.agent_groups
    longest = MAX_DAYS * 86400.0
    for field in ("duration", "drain"):
        if getattr(scenario, field) > longest:
            yield Problem(field, f"at most {MAX_DAYS} days ({longest:.0f}s)")
    if scenario.duration / scenario.interval > MAX_INTERVALS:
        yield Problem(
            "interval",
            f"makes {scenario.duration / scenario.interval:.6g} intervals of the {scenario.duration:g}s day; "
            f"at most {MAX_INTERVALS}",
        )
        return  # every check below counts intervals
    intervals = scenario.interval_count
    yield from _size_problems(scenario)
    resolvable = {reason for name in departments for reason in scenario.resolves(name)}
    for name in groups:
        if name in departments:
            yield Problem(f"agent_groups.{name}", "an agent group cannot share a department's name")

    arrivals = scenario.arrivals
    if arrivals.per_interval_by_reason is not None:
        yield from _by_reason_problems(scenario, resolvable)
    elif arrivals.reasons is None:
        if len(departments) > 1:
            yield Problem("arrivals.reasons", "required with several departments (reason: probability, ...)")
        else:
            (only,) = departments
            if only not in resolvable:
                yield Problem(
                    f"departments.{only}.resolves",
                    f"callers call about {shorten(only)} (no arrivals.reasons given), which no department resolves",
                )
    else:
        yield from reason_mix_problems(arrivals.reasons, resolvable)
    reasons = set(scenario.reason_mix())
    for name, department in departments.items():
        for index, reason in enumerate(department.resolves or ()):
            if reason not in reasons:
                yield Problem(
                    f"departments.{name}.resolves[{index}]",
                    f"{shorten(reason)} is not a reason callers have ({', '.join(sorted(reasons))})",
                )
    for reason in arrivals.priority:
        if reason not in reasons:
            yield Problem(
                f"arrivals.priority.{reason}", f"not a reason callers have ({', '.join(sorted(reasons))})"
            )
    if arrivals.per_interval is not None and len(arrivals.per_interval) != intervals:
        yield Problem(
            "arrivals.per_interval",
            f"needs {intervals} values (one per {scenario.interval:g}s interval), got {len(arrivals.per_interval)}",
        )
    yield from trace_reason_problems(scenario)
    for field in ("trace_reasons", "trace_handle_times", "trace_patience"):
        given = getattr(arrivals, field)
        if given is not None and len(given) != len(arrivals.trace_times or ()):
            yield Problem(f"arrivals.{field}", f"needs one value per call of trace_times, got {len(given)}")
    if scenario.warmup >= scenario.duration:
        yield Problem("warmup", f"must be shorter than duration ({scenario.duration:g}s)")

    served = {name for name, group in groups.items() for name in group.skills}
    for name, department in departments.items():
        if department.agents is None and name not in served:
            yield Problem(f"departments.{name}.agents", "required (or an agent group with this skill)")
        if department.agents is not None:
            yield from _staffing_problems(f"departments.{name}.agents", department.agents, intervals)
        if department.overflow is not None:
            for index, target in enumerate(department.overflow.to):
                if target not in groups and target not in departments:
                    yield Problem(
                        f"departments.{name}.overflow.to[{index}]",
                        f"{shorten(target)} is neither an agent group nor a department",
                    )
                elif target == name:
                    yield Problem(f"departments.{name}.overflow.to[{index}]", "cannot overflow to itself")
    yield from _transfer_problems(scenario, reasons)
    if scenario.redial is not None and scenario.redial.as_callback > 0 and scenario.callback is None:
        yield Problem(
            "redial.as_callback",
            "redials that come back as callback requests need a callback: block (its window, dial_time, "
            "answer_probability, retries)",
        )
    for name, group in groups.items():
        yield from _staffing_problems(f"agent_groups.{name}.agents", group.agents, intervals)
        for skill in (*group.skills, *group.speed):
            if skill not in departments:
                where = "skills" if skill in group.skills else "speed"
                yield Problem(f"agent_groups.{name}.{where}.{skill}", "no such department")
    yield from (Problem(path, message) for path, message in policy_problems(scenario))
    yield from (Problem(path, message) for path, message in call_type_problems(scenario))
    yield from (Problem(path, message) for path, message in availability_problems(scenario))
    yield from (Problem(path, message) for path, message in goal_problems(scenario))
    yield from (Problem(path, message) for path, message in cost_problems(scenario))
    if scenario.week is not None:
        yield from (Problem(path, message) for path, message in week_problems(scenario.week))
    yield from (Problem(path, message) for path, message in chat_problems(scenario))
    yield from (Problem(path, message) for path, message in outbound_problems(scenario))
    yield from (Problem(path, message) for path, message in email_problems(scenario))
    yield from (Problem(path, message) for path, message in blend_problems(scenario))


def _by_reason_problems(scenario: Scenario, resolvable: set[str]) -> Iterable[Problem]:
    """`arrivals.per_interval_by_reason`: one count per interval for each reason, which a department
    resolves."""
    intervals = scenario.interval_count
    for reason, counts in (scenario.arrivals.per_interval_by_reason or {}).items():
        path = f"arrivals.per_interval_by_reason.{reason}"
        if reason not in resolvable:
            yield Problem(path, "no department resolves this reason")
        if len(counts) != intervals:
            yield Problem(
                path, f"needs {intervals} values (one per {scenario.interval:g}s interval), got {len(counts)}"
            )


def reason_mix_problems(mix: Mapping[str, float], resolvable: set[str] | None) -> Iterable[Problem]:
    """The reason mix sums to 1 and (when known) every reason has a department that resolves it."""
    if not mix:
        yield Problem("arrivals.reasons", "needs at least one reason")
        return
    total = sum(mix.values())
    if abs(total - 1.0) > _REASON_TOLERANCE:
        yield Problem("arrivals.reasons", f"probabilities must sum to 1, they sum to {total:.6g}")
    if resolvable is not None:
        for reason in mix:
            if reason not in resolvable:
                yield Problem(f"arrivals.reasons.{reason}", "no department resolves this reason")


def _size_problems(scenario: Scenario) -> Iterable[Problem]:
    """Days so big that simulating them would exhaust memory: too many calls or agents."""
    arrivals = scenario.arrivals
    if arrivals.per_hour is not None and arrivals.per_hour * scenario.duration / 3600 > MAX_CALLS:
        calls = arrivals.per_hour * scenario.duration / 3600
        yield Problem("arrivals.per_hour", f"brings {calls:.3g} calls in the day; at most {MAX_CALLS}")
    if arrivals.per_interval is not None and sum(arrivals.per_interval) > MAX_CALLS:
        calls = sum(arrivals.per_interval)
        yield Problem("arrivals.per_interval", f"brings {calls:.3g} calls in the day; at most {MAX_CALLS}")
    by_reason = arrivals.per_interval_by_reason or {}
    if sum(sum(counts) for counts in by_reason.values()) > MAX_CALLS:
        calls = sum(sum(counts) for counts in by_reason.values())
        yield Problem(
            "arrivals.per_interval_by_reason", f"brings {calls:.3g} calls in the day; at most {MAX_CALLS}"
        )
    pools = [(f"departments.{name}.agents", d.agents) for name, d in scenario.departments.items()]
    pools += [(f"agent_groups.{name}.agents", group.agents) for name, group in scenario.agent_groups.items()]
    most = {path: _most_agents(staffing) for path, staffing in pools if staffing is not None}
    if sum(most.values()) > MAX_AGENTS:
        yield Problem(
            max(most, key=lambda path: most[path]),
            f"the pools together have up to {sum(most.values())} agents on duty at once; at most {MAX_AGENTS}",
        )
    days = math.ceil(scenario.duration / 86400.0) + 1
    shifts = {
        path: len(staffing.shifts) for path, staffing in pools if staffing is not None and staffing.shifts
    }
    shifts |= {  # an agent schedule's rows are laid out daily like shifts
        f"{path}.file": len(staffing.file.periods)
        for path, staffing in pools
        if staffing is not None and staffing.file is not None
    }
    if shifts and sum(shifts.values()) * days > MAX_SHIFT_DAYS:
        yield Problem(
            max(shifts, key=lambda path: shifts[path]),
            f"{sum(shifts.values())} shifts a day over {days} days make {sum(shifts.values()) * days} shifts; "
            f"at most {MAX_SHIFT_DAYS}",
        )


def _most_agents(staffing: Any) -> int:
    """The most agents a staffing has on duty at once (shifts repeat daily; an end before the start is the
    next day): the busiest moment is when some shift starts."""
    if staffing.count is not None:
        return int(staffing.count)
    if staffing.per_interval:
        return max(staffing.per_interval)
    if staffing.file is not None:  # up to 100,000 rows: a sweep, not a row x row count
        return most_on_duty([(p.start, p.end, p.count) for p in staffing.file.periods])
    day = 86400.0
    shifts = [(s.start % day, (s.end - s.start) % day or day, s.count) for s in staffing.shifts or ()]
    return max(
        (sum(n for start, length, n in shifts if (at - start) % day < length) for at, _, _ in shifts),
        default=0,
    )


def _transfer_problems(scenario: Scenario, reasons: set[str]) -> Iterable[Problem]:
    """Transfer targets exist, probabilities sum to at most 1, and every caller can eventually leave."""
    faults = []
    for name, department in scenario.departments.items():
        if department.transfer is None:
            continue
        for target in department.transfer:
            if target not in scenario.departments:
                faults.append(Problem(f"departments.{name}.transfer.{target}", "no such department"))
        total = sum(department.transfer.values())
        if total > 1 + _REASON_TOLERANCE:
            message = f"probabilities must sum to at most 1, they sum to {total:.6g}"
            faults.append(Problem(f"departments.{name}.transfer", message))
    yield from faults
    if not faults:
        network = TransferNetwork(
            departments=tuple(scenario.departments),
            explicit={name: d.transfer for name, d in scenario.departments.items() if d.transfer is not None},
            resolves={name: scenario.resolves(name) for name in scenario.departments},
            reasons=tuple(scenario.reason_mix()),
            misroutes={name: _misroutes(scenario.routing_of(name).accuracy) for name in scenario.departments},
            sloppy_ivr=scenario.ivr is not None and scenario.ivr.accuracy < 1,
            bounded=scenario.max_transfers is not None,
        )
        yield from (Problem(path, message) for path, message in loop_problems(network))
    if scenario.ivr is not None:
        for reason in scenario.ivr.self_service:
            if reason not in reasons:
                yield Problem(
                    f"ivr.self_service.{reason}", f"not a reason callers have ({', '.join(sorted(reasons))})"
                )


def _misroutes(accuracy: float | AccuracyCurve) -> bool:
    """Whether agents with this routing accuracy send some callers to a wrong department."""
    return (accuracy if isinstance(accuracy, float) else accuracy.base) < 1


def trace_reason_problems(scenario: Scenario) -> Iterable[Problem]:
    """The first reason in a replayed trace that callers do not have (checked again once a trace file is
    read, since the scenario is validated before)."""
    reasons = set(scenario.reason_mix())
    for index, reason in enumerate(scenario.arrivals.trace_reasons or ()):
        if reason and reason not in reasons:
            yield Problem(
                "arrivals.trace", f"data row {index + 1}: reason {shorten(reason)} is not in arrivals.reasons"
            )
            break


def _staffing_problems(path: str, staffing: Any, intervals: int) -> Iterable[Problem]:
    if staffing.per_interval is not None and len(staffing.per_interval) != intervals:
        yield Problem(
            f"{path}.per_interval",
            f"needs {intervals} counts (one per interval), got {len(staffing.per_interval)}",
        )
