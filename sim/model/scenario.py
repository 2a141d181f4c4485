"""What to simulate: the scenario schema, strict and frozen, every quantity in seconds.

Loading, `--set` overrides and cross-field checks live in `sim/model/loading.py`; this module only says what a
valid scenario looks like. Nothing below the loader reads raw dictionaries.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from sim.model.dists import Dist, NonNegativeDuration, PositiveDuration
from sim.model.durations import not_boolean, parse_clock, parse_duration, shorten

Clock = Annotated[float, BeforeValidator(parse_clock)]
"""Seconds after midnight; YAML says '08:00'."""
Probability = Annotated[float, BeforeValidator(not_boolean), Field(ge=0, le=1, allow_inf_nan=False)]
Count = Annotated[int, BeforeValidator(not_boolean), Field(ge=0, le=100_000)]
Number = BeforeValidator(not_boolean)
MAX_POOLS = 1000
"""The most departments (and, apart, agent groups) a scenario may have."""


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class Shift(Frozen):
    """A block of agents logged in from `start` to `end` (clock times; an end before the start is next day)."""

    start: Clock
    end: Clock
    count: Count


def _staffing_shorthand(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return {"count": value}
    if isinstance(value, str | float | bool):
        raise ValueError(
            f"expected a whole number of agents, per_interval: [...] or shifts: [...], got {shorten(value)}"
        )
    if isinstance(value, list | tuple):
        return {"per_interval": value}
    return value


class _Staffing(Frozen):
    """How many agents are logged in: a constant, one count per interval, or shifts."""

    count: Count | None = None
    per_interval: tuple[Count, ...] | None = None
    shifts: tuple[Shift, ...] | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _exactly_one(self) -> _Staffing:
        given = [name for name in ("count", "per_interval", "shifts") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of a count, per_interval: [...] or shifts: [...]")
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


class Arrivals(Frozen):
    """When calls come and why: a Poisson rate (constant or per interval) or a replayed trace."""

    per_hour: Annotated[float, Number] | None = Field(default=None, ge=0, allow_inf_nan=False)
    per_interval: tuple[Annotated[float, Number, Field(ge=0, allow_inf_nan=False)], ...] | None = None
    trace: str | None = None
    trace_times: tuple[float, ...] | None = None
    trace_reasons: tuple[str, ...] | None = None
    reasons: dict[str, Probability] | None = None
    priority: dict[str, Annotated[int, Number, Field(ge=0, le=9)]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_source(self) -> Arrivals:
        given = [n for n in ("per_hour", "per_interval", "trace") if getattr(self, n) is not None]
        if self.trace_times is not None and not given:
            given = ["trace"]
        if len(given) != 1:
            raise ValueError("give exactly one of per_hour, per_interval: [...] or trace: FILE.csv")
        if self.per_interval is not None and not self.per_interval:
            raise ValueError("per_interval needs one call count per interval")
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
    transfer_mode: Literal["cold", "warm"] | None = None
    hold: Hold | None = None


class Routing(Frozen):
    """How agents send on a caller they cannot help, for departments that do not say otherwise:
    they listen (`listen_time`), decide with `accuracy` (a number, or a curve of the listen time), and
    spend `transfer_time` on the transfer itself."""

    listen_time: Dist = 0.0  # type: ignore[assignment]
    accuracy: Probability | AccuracyCurve = 1.0
    transfer_time: Dist = 0.0  # type: ignore[assignment]


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
    """How transfers happen: cold (rejoin a queue) or warm (the agent stays on until the next one answers)."""

    mode: Literal["cold", "warm"] = "cold"
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
        return {next(iter(self.departments)): 1.0}
