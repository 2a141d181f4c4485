"""Sizing the email pools to a day-level email goal (`staff --target email.within_due=0.95`, `--max
email.backlog_at_close=0`): the smallest flat headcount of each pool that serves only email departments.

The interval search cannot judge emails (an email is settled against a due time hours later,
`channel_targets`), but a back-office planner's goal is a day's: the share of the day's settled emails
handled within their due time (`email_within_due`: handled in time over handled plus those left at the
close already past due, `sim.analysis.email`) and the emails left at the close (`email_backlog_at_close`),
over every email department of the centre. These are judged on a whole simulated day, after the voice and
chat plan is settled (its blended agents take emails when no call or chat waits), or alone when the centre
has only email work.

**What is sized**: every *email-only pool*, an email department's own agents and each agent group whose
skills are all email departments. A candidate is a **flat headcount** n over the pool's working day: a
pool given as a count (or as shifts or an agent-schedule file) gets `count: n` (the roster replaced by n
agents all day); a pool given per interval gets n in each interval where it had agents and 0 where it had
none (every interval if it had none anywhere).

**Judged** on `reps` replications of one seed, the same for every candidate (common random numbers), by the
criterion the rest of `staff` uses (`targets.criterion`): each goal's mean over the days (by the mean), or
its one-sided Student-t bound at `--confidence` (`confidence.bound`), and with `--days-met` the share of
days whose own figures met every goal. A day that settled no email leaves `email_within_due` unknown: it
is left out of that goal's mean, and misses nothing on its own.

**Search**: the goal is monotone in headcount, so from the pools' present sizes every pool is doubled
together until the goal holds, then each pool in turn is bisected down to the smallest size that still
holds with the others fixed (rounds until none moves; one bisection for the usual single pool). Candidates
are simulated through the executor (local processes or Dask). The answer carries the email outcome at the
chosen sizes and, per pool, at one agent fewer (where the goal then fails: it binds), and a confirmation
of the chosen sizes on `reps` replications of seed + 1 (other days: a goal judged on few days may miss
there, and the line says so; it is not searched again).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.experiments.executors import Executor
from sim.experiments.staffing.confidence import bound, check_share, reaches
from sim.experiments.staffing.email_outcome import EmailOutcome, email_outcome
from sim.experiments.staffing.group_pools import kept_pools
from sim.experiments.staffing.targets import StaffingError, _target_value, criterion
from sim.model.email import email_departments
from sim.model.scenario import Scenario

EMAIL_KPIS = {"within_due": "email_within_due", "backlog_at_close": "email_backlog_at_close"}
"""`email.KEY` of a target -> the day figure it judges (`sim.analysis.email.email_figures`)."""
FLOOR_KPIS = ("email_within_due",)
"""Email figures that are floors (a share to reach); the others are ceilings (`--max`, or `--target` of a
count to stay under)."""
MAX_AGENTS = 4096
"""The doubling stops here: a goal no pool of this size meets is out of reach."""
MAX_ROUNDS = 10
"""Rounds of one-pool-at-a-time bisection (several email-only pools) before the search stops."""


@dataclass(frozen=True)
class EmailGoal:
    """Day-level email goals: floors and ceilings on the day figures, met by the mean or at `confidence`,
    and on at least `days_met` of the days."""

    floors: dict[str, float] = field(default_factory=dict)
    ceilings: dict[str, float] = field(default_factory=dict)
    confidence: float | None = None
    days_met: float | None = None

    def describe(self) -> str:
        """`email within due >= 95%, email backlog at close <= 0 (at 95% confidence)`."""
        parts = [f"{key.replace('_', ' ')} >= {100 * value:g}%" for key, value in self.floors.items()]
        parts += [f"{key.replace('_', ' ')} <= {value:g}" for key, value in self.ceilings.items()]
        text = ", ".join(parts)
        if self.confidence is not None:
            text += f" at {100 * self.confidence:g}% confidence"
        if self.days_met is not None:
            text += f" on {100 * self.days_met:g}% of days"
        return text or "no email goal"

    def judged(self, outcome: EmailOutcome) -> dict[str, float]:
        """Each goal's figure as judged: its mean over the days (unknown days left out), or its one-sided
        bound at `confidence` on the unfavourable side."""
        figures: dict[str, float] = {}
        for key, sign in [*((k, 1.0) for k in self.floors), *((k, -1.0) for k in self.ceilings)]:
            values = np.array([day[key] for day in outcome.days], dtype=float)
            values = values[~np.isnan(values)]
            stats = {
                key: float(values.mean()) if len(values) else math.nan,
                f"{key}_sd": float(values.std(ddof=1)) if len(values) >= 2 else math.nan,
                f"{key}_n": float(len(values)),
            }
            figures[key] = bound(stats, key, sign, self.confidence)
        return figures

    def day_met(self, day: Mapping[str, float]) -> bool:
        """Whether one day's own figures met every goal (an unknown figure misses nothing)."""
        return all(reaches(day[k], v, 1.0) for k, v in self.floors.items()) and all(
            reaches(day[k], v, -1.0) for k, v in self.ceilings.items()
        )

    def met(self, outcome: EmailOutcome) -> bool:
        """Whether `outcome` meets every goal by the criterion (see the module)."""
        judged = self.judged(outcome)
        if not all(reaches(judged[k], v, 1.0) for k, v in self.floors.items()):
            return False
        if not all(reaches(judged[k], v, -1.0) for k, v in self.ceilings.items()):
            return False
        if self.days_met is not None:
            share = sum(self.day_met(day) for day in outcome.days) / max(len(outcome.days), 1)
            return share >= self.days_met - 1e-12
        return True

    def record(self) -> dict[str, Any]:
        """As `summary.json` holds it."""
        return {
            "floors": self.floors,
            "ceilings": self.ceilings,
            "confidence": self.confidence,
            "days_met": self.days_met,
        }


def email_only_pools(scenario: Scenario) -> list[str]:
    """The pools serving only email, the ones a cross-trained search keeps (`group_pools.kept_pools`): email
    departments' own agents (by name), then groups whose skills are all email departments."""
    kept = kept_pools(scenario)
    own = sorted(name for name in kept if name in scenario.departments)
    return [*own, *(name for name in kept if name not in scenario.departments)]


def blended_email_pools(scenario: Scenario) -> list[str]:
    """Groups serving email and a voice or chat department."""
    emails = email_departments(scenario)
    return [
        name
        for name, group in scenario.agent_groups.items()
        if any(skill in emails for skill in group.skills)
        and not all(skill in emails for skill in group.skills)
    ]


def no_pool_message(scenario: Scenario, text: str, option: str) -> str:
    """Why an email target is refused in a centre whose emails only blended agents serve."""
    blended = blended_email_pools(scenario)
    served = f"only the blended groups {', '.join(blended)} serve" if blended else "no pool serves"
    return (
        f"{option} {text!r}: no pool serves only email here ({served} the emails), so there is no email pool "
        "to size: the blended floor is sized by the voice and chat targets and `staff --groups` reports its "
        "email outcome; give the email department agents of its own (or an email-only group) to size them"
    )


def split_email_targets(
    targets: Sequence[str],
    ceilings: Sequence[str],
    scenario: Scenario,
    confidence: float | None = None,
    days_met: float | None = None,
) -> tuple[list[str], list[str], EmailGoal | None]:
    """(the other `--target`s, the other `--max`es, the email goal or None): `email.within_due=0.95` (a
    floor, `--target` only) and `email.backlog_at_close=0` (a ceiling, `--max` or `--target`) picked out,
    checked, and met by `criterion(scenario, confidence, days_met)`. Raises a StaffingError for another
    email KPI, a bad value, a centre without email departments or without an email-only pool."""
    rest: tuple[list[str], list[str]] = ([], [])
    floors: dict[str, float] = {}
    caps: dict[str, float] = {}
    for text, is_max in [*((t, False) for t in targets), *((t, True) for t in ceilings)]:
        key, sep, raw = text.partition("=")
        channel, dot, kpi = key.strip().partition(".")
        if not (sep and dot and channel == "email"):
            rest[is_max].append(text)
            continue
        option = "--max" if is_max else "--target"
        if not email_departments(scenario):
            raise StaffingError(f"{option} {text!r}: this scenario has no email department")
        figure = EMAIL_KPIS.get(kpi.strip())
        if figure is None or (is_max and figure in FLOOR_KPIS):
            allowed = ("backlog_at_close",) if is_max else tuple(EMAIL_KPIS)
            raise StaffingError(
                f"{option} {text!r}: {kpi.strip()!r} is not an email goal; give one of "
                f"{', '.join('email.' + name for name in allowed)} (day figures over every email department)"
            )
        try:
            value = _target_value(raw)
        except ValueError:
            raise StaffingError(f"{option} {text!r}: {raw.strip()!r} is not a number") from None
        if figure in FLOOR_KPIS:
            if not 0 <= value <= 1:
                raise StaffingError(f"{option} {text!r}: a share within due is between 0 and 1")
            floors[figure] = value
        else:
            if not value >= 0:
                raise StaffingError(f"{option} {text!r}: must be >= 0")
            caps[figure] = value
        if not email_only_pools(scenario):
            raise StaffingError(no_pool_message(scenario, text, option))
    if not floors and not caps:
        return rest[0], rest[1], None
    level, share = criterion(scenario, confidence, days_met)
    check_share(level, "--confidence")
    check_share(share, "--days-met")
    return rest[0], rest[1], EmailGoal(floors, caps, level, share)


def working_intervals(scenario: Scenario, pool: str) -> list[int] | None:
    """The intervals a per-interval pool works (those with agents; every one if none has); None for a pool
    staffed by a count, shifts or a file (it gets a count)."""
    staffing = _staffing(scenario, pool)
    if staffing.per_interval is None:
        return None
    worked = [index for index, count in enumerate(staffing.per_interval) if count > 0]
    return worked or list(range(len(staffing.per_interval)))


def _staffing(scenario: Scenario, pool: str) -> Any:
    if pool in scenario.departments:
        return scenario.departments[pool].agents
    return scenario.agent_groups[pool].agents


def present_size(scenario: Scenario, pool: str) -> int:
    """The most agents the pool has at once as the scenario staffs it."""
    staffing = _staffing(scenario, pool)
    if staffing.count is not None:
        return int(staffing.count)
    if staffing.per_interval is not None:
        return max(staffing.per_interval)
    from sim.model.scenario import _most_agents

    return _most_agents(staffing)


def sized_staffing(scenario: Scenario, pool: str, size: int) -> dict[str, Any]:
    """The pool's `agents` at a flat headcount `size` (see the module), as scenario YAML holds it."""
    worked = working_intervals(scenario, pool)
    if worked is None:
        return {"count": int(size)}
    intervals = len(_staffing(scenario, pool).per_interval)
    return {"per_interval": [int(size) if index in worked else 0 for index in range(intervals)]}


def with_sizes(scenario: Scenario, sizes: Mapping[str, int]) -> Scenario:
    """The scenario with each email-only pool in `sizes` at its flat headcount."""
    departments = dict(scenario.departments)
    groups = dict(scenario.agent_groups)
    for pool, size in sizes.items():
        update: dict[str, Any] = {"count": None, "per_interval": None, "shifts": None, "file": None}
        update |= {
            key: tuple(value) if isinstance(value, list) else value
            for key, value in sized_staffing(scenario, pool, size).items()
        }
        if pool in departments:
            department = departments[pool]
            staffing = _staffing(scenario, pool)
            departments[pool] = department.model_copy(update={"agents": staffing.model_copy(update=update)})
        else:
            group = groups[pool]
            groups[pool] = group.model_copy(update={"agents": group.agents.model_copy(update=update)})
    return scenario.model_copy(update={"departments": departments, "agent_groups": groups})


@dataclass(frozen=True)
class EmailSizing:
    """The email pools' sizes meeting `goal`, their outcome there and at one agent fewer per pool."""

    scenario: Scenario
    goal: EmailGoal
    seed: int
    reps: int
    sizes: dict[str, int]
    before: dict[str, int]
    """Each pool's present size (the most agents at once) as the scenario had it."""
    outcome: EmailOutcome
    fewer: dict[str, EmailOutcome | None]
    """Per pool, the outcome with one agent fewer there (None at size 0)."""
    simulated_days: int
    judged: dict[str, float]
    confirmation: EmailOutcome | None = None
    """The outcome at the chosen sizes on `reps` replications of seed + 1 (other days than the search's)."""

    def staffing(self) -> dict[str, dict[str, Any]]:
        """Each pool's `agents` at its size, as scenario YAML."""
        return {pool: sized_staffing(self.scenario, pool, size) for pool, size in self.sizes.items()}

    def yaml_body(self) -> dict[str, dict[str, Any]]:
        """`{"departments": {...}, "agent_groups": {...}}` with the email pools' `agents`."""
        body: dict[str, dict[str, Any]] = {"departments": {}, "agent_groups": {}}
        for pool, agents in self.staffing().items():
            where = "departments" if pool in self.scenario.departments else "agent_groups"
            body[where][pool] = {"agents": agents}
        return {key: value for key, value in body.items() if value}

    def lines(self) -> list[str]:
        """What the console and the plan's YAML header say: the sizes, the outcome there and one fewer."""
        shape = {
            pool: "per interval of its working day"
            if working_intervals(self.scenario, pool) is not None
            else "all day"
            for pool in self.sizes
        }
        sized = ", ".join(
            f"{pool} {size} agents {shape[pool]} (was {self.before[pool]})"
            for pool, size in self.sizes.items()
        )
        lines = [
            f"email pools sized for {self.goal.describe()}: {sized}",
            f"at that size: {self.outcome.line()}",
        ]
        for pool, outcome in self.fewer.items():
            if outcome is not None:
                verdict = "meets the goal too" if self.goal.met(outcome) else "misses the goal"
                lines.append(f"with {pool} at {self.sizes[pool] - 1} ({verdict}): {outcome.line()}")
            else:
                lines.append(f"{pool} is not needed: the other pools' agents meet the email goal without it")
        if self.confirmation is not None:
            verdict = "meets the goal" if self.goal.met(self.confirmation) else "misses the goal: add --reps"
            lines.append(f"confirmation on other days ({verdict}): {self.confirmation.line()}")
        return lines

    def record(self) -> dict[str, Any]:
        """As `summary.json` holds it (`email_sizing`)."""
        return {
            "goal": self.goal.record(),
            "seed": self.seed,
            "reps": self.reps,
            "sizes": self.sizes,
            "before": self.before,
            "agents": self.staffing(),
            "judged": self.judged,
            "outcome": self.outcome.record(),
            "one_fewer": {
                pool: None if outcome is None else outcome.record() | {"met": self.goal.met(outcome)}
                for pool, outcome in self.fewer.items()
            },
            "simulated_days": self.simulated_days,
            "confirmation": None
            if self.confirmation is None
            else self.confirmation.record() | {"met": self.goal.met(self.confirmation)},
        }


def size_email_pools(
    scenario: Scenario,
    goal: EmailGoal,
    *,
    reps: int,
    seed: int | None,
    executor: Executor,
    progress: Callable[[str], None] | None = None,
) -> EmailSizing:
    """The smallest flat headcount of each email-only pool meeting `goal` on `reps` replications of `seed`
    (the scenario's own by default), the rest of the centre as `scenario` staffs it (see the module).
    Raises a StaffingError when no pool serves only email or the goal is out of reach."""
    pools = email_only_pools(scenario)
    if not pools:
        raise StaffingError(
            no_pool_message(scenario, "email." + ",".join(goal.floors | goal.ceilings), "--target")
        )
    seed = scenario.seed if seed is None else seed
    say = progress or (lambda _: None)
    seen: dict[tuple[int, ...], EmailOutcome] = {}

    def outcome_of(sizes: Mapping[str, int]) -> EmailOutcome:
        key = tuple(int(sizes[pool]) for pool in pools)
        if key not in seen:
            seen[key] = email_outcome(executor, with_sizes(scenario, sizes), seed, reps)
            say(f"email pools {dict(zip(pools, key, strict=True))}: {seen[key].line()}")
        return seen[key]

    before = {pool: present_size(scenario, pool) for pool in pools}
    sizes = {pool: max(size, 1) for pool, size in before.items()}
    while not goal.met(outcome_of(sizes)):
        if max(sizes.values()) >= MAX_AGENTS:
            raise StaffingError(
                f"the email goal ({goal.describe()}) is out of reach: {MAX_AGENTS} agents in every email "
                f"pool ({', '.join(pools)}) do not meet it ({outcome_of(sizes).line()})"
            )
        sizes = {pool: min(2 * size, MAX_AGENTS) for pool, size in sizes.items()}
    for _ in range(MAX_ROUNDS):
        moved = False
        for pool in pools:
            failing, holding = -1, sizes[pool]
            while holding - failing > 1:
                middle = (failing + holding) // 2
                if goal.met(outcome_of({**sizes, pool: middle})):
                    holding = middle
                else:
                    failing = middle
            moved |= holding != sizes[pool]
            sizes[pool] = holding
        if not moved:
            break
    fewer = {
        pool: outcome_of({**sizes, pool: sizes[pool] - 1}) if sizes[pool] > 0 else None for pool in pools
    }
    outcome = outcome_of(sizes)
    say("confirming the sizes on other days (seed + 1)")
    confirmation = email_outcome(executor, with_sizes(scenario, sizes), seed + 1, reps)
    return EmailSizing(
        scenario=scenario,
        goal=goal,
        seed=seed,
        reps=reps,
        sizes=dict(sizes),
        before=before,
        outcome=outcome,
        fewer=fewer,
        simulated_days=(len(seen) + 1) * reps,
        judged=goal.judged(outcome),
        confirmation=confirmation,
    )
