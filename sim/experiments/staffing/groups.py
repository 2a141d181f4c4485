"""Staffing cross-trained agent groups by simulation: every pool's count per interval is a decision (the
departments' own agents and each agent group), at least cost subject to the targets in every interval and
department, every candidate judged on the same simulated days (common random numbers).

Multi-skill staffing has no closed form (who answers a call depends on who else is free), so candidates
are simulated. The search is a descent from a feasible plan, all intervals at once:

1. **Start** from two sides: the separate queues (Erlang A per interval for each department alone, groups
   at 0) and the groups first (each group Erlang A on the load of the departments it is skilled in, no
   specialists); each simulated and repaired until every cell (interval x department) meets the targets:
   one more agent of its own department for each missing cell, round after round.
2. **Improve**: a round, for every interval at once, first drops one agent from each pool in turn wherever
   the targets still hold, then for each group exchanges: one agent of the group more, then as many
   specialists fewer as the targets allow (two for one, one for one), kept where it costs less. A change is
   simulated applied in every interval where it can be; it is kept in the intervals where every department
   still meets the targets (and the next interval, whose callers the change may leave waiting, too). The
   combined plan is simulated again, and an interval whose cells then miss gets its previous counts back.
   Rounds go on until one changes nothing. The cheaper of the two descents is the answer (a descent stops
   in a local optimum: from the specialists' side when one cross-trained agent alone cannot replace any,
   from the groups' side when specialists are cheap).
3. The **separate-queues** answer is the same descent without groups; the **fully pooled** answer is
   Erlang A on the whole centre's load per interval, as if every agent took every call (a bound no real
   centre with specialists reaches).

Costs: each pool's `wage_per_hour` from the scenario's `costs` block (`sim.model.costs`), else 1 per
agent-hour (the least agent-hours). The verdict on a cell is on the mean over `reps` replications, as in
the single-skill search's exploration; the plan should be confirmed with another seed (`confirm`).

Channels: voice and chat departments are judged interval by interval; email departments are not (an email
is settled against its due time hours later, `channel_targets`): their emails ride along on the capacity
the plan leaves, and the answer carries their outcome on another seed (`email_outcome`). An email
department's own agents, and a group serving only email departments, keep their staffing. A voice or chat
department without agents of its own is repaired through the cheapest group serving it; such a centre has
no separate-queues answer (None), and the search descends from the groups' side only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from sim.analysis.load import arrival_rates, department_shares, department_times, ring_survival
from sim.experiments.executors import Executor, make_executor, run_all
from sim.experiments.staffing.confidence import bound
from sim.experiments.staffing.email_outcome import EmailOutcome, email_outcome
from sim.experiments.staffing.figures import Pooled, interval_kpis, pool
from sim.experiments.staffing.group_pools import judged_departments, kept_pools, pools_of, repair_servers
from sim.experiments.staffing.plans import agent_hours, with_plan
from sim.experiments.staffing.start import erlang_plans, staff_erlang_a
from sim.experiments.staffing.targets import StaffingError, Targets
from sim.model.goals import department_thresholds
from sim.model.rates import interval_widths
from sim.model.scenario import Scenario

PoolPlan = dict[str, list[int]]
"""Agents per interval, by pool (a department's own agents, by the department's name, or an agent group)."""
MAX_ROUNDS = 40
"""Rounds of repair, and of descent, before the search stops moving counts."""
PATIENCE = 3
"""A cell is out of reach when this many more agents did not lower its shortfall (one may not: a share of
days met moves in steps, and one more agent need not turn the next day)."""


def with_pools(scenario: Scenario, plan: Mapping[str, Sequence[int]]) -> Scenario:
    """The scenario with each pool in `plan` staffed `per_interval` by it (departments and agent groups)."""
    departments = {name: counts for name, counts in plan.items() if name in scenario.departments}
    staffed = with_plan(scenario, departments)
    groups = dict(staffed.agent_groups)
    for name, counts in plan.items():
        if name in groups:
            group = groups[name]
            agents = group.agents.model_copy(
                update={
                    "count": None,
                    "shifts": None,
                    "file": None,
                    "per_interval": tuple(int(c) for c in counts),
                }
            )
            groups[name] = group.model_copy(update={"agents": agents})
    return staffed.model_copy(update={"agent_groups": groups})


def wages(scenario: Scenario, names: Sequence[str]) -> dict[str, float]:
    """Each pool's cost per agent-hour: its wage (`costs`), else 1 (the search then minimises agent-hours)."""
    costs = scenario.costs
    if costs is None:
        return dict.fromkeys(names, 1.0)
    return {name: costs.wage_of(name) for name in names}


def plan_cost(plan: Mapping[str, Sequence[int]], widths: np.ndarray, wage: Mapping[str, float]) -> float:
    """The plan's cost: every pool's agent-hours times its wage."""
    return float(
        sum(wage[name] * np.dot(np.asarray(counts, float), widths) / 3600.0 for name, counts in plan.items())
    )


@dataclass
class DayJudge:
    """Simulates plans on the same seed and replications (common random numbers) and says, per interval and
    department, whether the targets are met (on the mean over replications; a cell without calls meets
    them). A cell found out of reach (more agents no longer help: callers hanging up while it rings) is
    accepted within 1% of the least shortfall seen there (`allowance`). Remembers each plan's figures."""

    scenario: Scenario
    targets: Targets
    seed: int
    reps: int
    executor: Executor
    cache: dict[tuple[tuple[str, tuple[int, ...]], ...], tuple[np.ndarray, Pooled]] = field(
        default_factory=dict
    )
    allowance: dict[tuple[int, int], float] = field(default_factory=dict)
    simulated: int = 0
    judged: frozenset[str] | None = None
    """The departments judged (None: every one); the others' cells always pass (email departments)."""

    def shortfalls(self, plan: Mapping[str, Sequence[int]]) -> tuple[np.ndarray, Pooled]:
        """(per interval x department: the largest relative miss of any target, 0 when met; the figures)."""
        key = tuple(sorted((name, tuple(int(c) for c in counts)) for name, counts in plan.items()))
        if key not in self.cache:
            day = with_pools(self.scenario, plan)
            tables = run_all(self.executor, interval_kpis, [(day, self.seed, r) for r in range(self.reps)])
            self.simulated += self.reps
            pooled = pool(tables, list(self.scenario.departments), self.targets)
            names = list(self.scenario.departments) * self.scenario.interval_count  # interval-major
            missed = np.array(
                [
                    criterion_shortfall(self.targets.of(name), cell)
                    if self.judged is None or name in self.judged
                    else 0.0
                    for name, cell in zip(names, pooled.cells(), strict=True)
                ]
            )
            self.cache[key] = (missed.reshape(-1, len(self.scenario.departments)), pooled)
        return self.cache[key]

    def __call__(self, plan: Mapping[str, Sequence[int]]) -> tuple[np.ndarray, Pooled]:
        """(per interval x department: acceptable, the pooled figures) of `plan`."""
        missed, pooled = self.shortfalls(plan)
        allowed = np.full(missed.shape, 1e-12)
        for (interval, column), allowance in self.allowance.items():
            allowed[interval, column] = allowance
        return missed <= allowed, pooled


def criterion_shortfall(targets: Targets, figures: Mapping[str, float]) -> float:
    """The largest relative miss of one cell by the targets' criterion: each goal's figure as judged (its
    mean, or its one-sided bound at `confidence`) and the share of days met against `days_met`; 0 when
    `targets.met` holds."""
    if targets.met(figures):
        return 0.0
    judged = dict(figures)
    for key in targets.floors:
        judged[key] = bound(figures, key, 1.0, targets.confidence)
    for key in targets.ceilings:
        judged[key] = bound(figures, key, -1.0, targets.confidence)
    return max(targets.shortfall(judged), 1e-9)  # missed, however little


def interval_met(met: np.ndarray) -> np.ndarray:
    """Per interval: every department met the targets there."""
    return np.asarray(met.all(axis=1), dtype=bool)


def _copy(plan: Mapping[str, Sequence[int]]) -> PoolPlan:
    return {name: list(counts) for name, counts in plan.items()}


def repair(judge: DayJudge, plan: PoolPlan, servers: Mapping[str, str]) -> PoolPlan:
    """Add one agent of `servers[department]` (its own pool) to each cell that misses, round after round,
    until every cell meets the targets. A cell whose shortfall `PATIENCE` more agents did not lower is out
    of reach: it goes back to the fewest agents within 1% of its least shortfall, which the judge accepts
    from then on."""
    names = list(judge.scenario.departments)
    plan = _copy(plan)
    seen: dict[tuple[int, int], dict[int, float]] = {}
    for _ in range(MAX_ROUNDS):
        met, _ = judge(plan)
        missed, _ = judge.shortfalls(plan)
        missing = [(int(i), int(c)) for i, c in np.argwhere(~met) if servers.get(names[c]) is not None]
        if not missing:
            return plan
        for interval, column in missing:
            pool_name = servers[names[column]]
            count = plan[pool_name][interval]
            history = seen.setdefault((interval, column), {})
            history[count] = float(missed[interval, column])
            if count - PATIENCE in history and history[count] >= history[count - PATIENCE] - 1e-9:
                least = min(history.values())
                judge.allowance[(interval, column)] = least + 0.01
                plan[pool_name][interval] = min(c for c, s in history.items() if s <= least + 0.01)
            else:
                plan[pool_name][interval] = count + 1
    return plan


def _applied(plan: PoolPlan, move: Mapping[str, int]) -> tuple[PoolPlan, np.ndarray]:
    """The plan with `move` applied in every interval where no count would go below 0, and those intervals."""
    intervals = len(next(iter(plan.values())))
    where = np.ones(intervals, dtype=bool)
    for name, step in move.items():
        where &= np.asarray(plan[name]) + step >= 0
    moved = _copy(plan)
    for name, step in move.items():
        moved[name] = [c + step if w else c for c, w in zip(plan[name], where, strict=True)]
    return moved, where


def _merged(plan: PoolPlan, other: PoolPlan, where: np.ndarray) -> PoolPlan:
    """`plan` with `other`'s counts in the intervals `where`."""
    return {
        name: [o if w else c for c, o, w in zip(plan[name], other[name], where, strict=True)] for name in plan
    }


def _adopt(judge: DayJudge, plan: PoolPlan, other: PoolPlan, where: np.ndarray) -> PoolPlan:
    """`plan` with `other`'s counts in the intervals `where` that meet the targets there and in the next
    interval (whose callers a change may leave waiting); the combined plan is simulated again, and intervals
    that then miss (changes that fail together) keep `plan`'s counts. `plan` itself if nothing holds."""
    met = interval_met(judge(other)[0])
    keep = where & met & np.append(met[1:], True)
    if not keep.any():
        return plan
    trial = _merged(plan, other, keep)
    still = interval_met(judge(trial)[0])
    base = interval_met(judge(plan)[0])
    broken = keep & ~(still & np.append(still[1:], True)) | (base & ~still)
    if broken.any():
        trial = _merged(trial, plan, broken | np.append(broken[1:], False))
        if not (interval_met(judge(trial)[0]) | ~base).all():
            return plan
    return trial


def drop(judge: DayJudge, plan: PoolPlan, names: Sequence[str]) -> PoolPlan:
    """One agent fewer in each of `names`' pools, in turn, wherever the targets still hold, until none can
    go (all intervals at once)."""
    plan = _copy(plan)
    for _ in range(MAX_ROUNDS):
        before = plan
        for name in names:
            fewer, where = _applied(plan, {name: -1})
            if where.any():
                plan = _adopt(judge, plan, fewer, where)
        if plan == before:
            break
    return plan


def _interval_costs(plan: PoolPlan, widths: np.ndarray, wage: Mapping[str, float]) -> np.ndarray:
    """Each interval's cost of a plan."""
    return sum(
        (wage[name] * np.asarray(counts, float) * widths for name, counts in plan.items()),
        np.zeros(len(widths)),
    )


def exchange(
    judge: DayJudge, plan: PoolPlan, group: str, departments: Sequence[str], wage: Mapping[str, float]
) -> PoolPlan:
    """One cross-trained agent more, then as many specialists fewer as the targets allow (two for one, one
    for one, or none); kept in the intervals where it costs less."""
    widths = interval_widths(judge.scenario)
    more, _ = _applied(plan, {group: 1})
    trial = drop(judge, more, departments)
    cheaper = _interval_costs(trial, widths, wage) < _interval_costs(plan, widths, wage) - 1e-9
    return _adopt(judge, plan, trial, cheaper) if cheaper.any() else plan


def improve(
    judge: DayJudge,
    plan: PoolPlan,
    departments: Sequence[str],
    groups: Sequence[str],
    wage: Mapping[str, float],
    on_round: Callable[[int, PoolPlan], None] | None = None,
) -> PoolPlan:
    """Rounds of dropping agents from every pool and of exchanging specialists for each group's agents,
    until a round changes nothing."""
    for round_number in range(1, MAX_ROUNDS + 1):
        before = plan
        plan = drop(judge, plan, [*departments, *groups])
        for group in groups:
            plan = exchange(judge, plan, group, departments, wage)
        if on_round is not None:
            on_round(round_number, plan)
        if plan == before:
            break
    return plan


@dataclass(frozen=True)
class GroupPlan:
    """The cross-trained answer beside the separate-queues and the fully pooled ones, each with its cost
    and agent-hours, and the figures of the cross-trained plan (pooled over the search's replications)."""

    scenario: Scenario
    targets: Targets
    plan: PoolPlan
    separate: PoolPlan | None
    """None where a judged department has no agents of its own (no separate-queues answer exists)."""
    pooled: list[int]
    wage: dict[str, float]
    figures: Pooled
    met: np.ndarray
    simulated_days: int
    judged: tuple[str, ...] = ()
    """The departments judged interval by interval (the columns of `met`): voice and chat."""
    kept: tuple[str, ...] = ()
    """Pools that keep their staffing: email departments' own agents, groups serving only email."""
    emails: EmailOutcome | None = None
    """With email departments: the plan's email outcome on another seed (`email_outcome`)."""

    def hours(self, plan: Mapping[str, Sequence[int]]) -> float:
        """Agent-hours of a plan (`plans.agent_hours`, as a single-skill plan's)."""
        return agent_hours(plan, interval_widths(self.scenario))["total"]

    def cost(self, plan: Mapping[str, Sequence[int]]) -> float:
        """Cost of a plan (agent-hours where the scenario has no wages)."""
        return plan_cost(plan, interval_widths(self.scenario), self.wage)

    def summary(self) -> dict[str, dict[str, float]]:
        """Agent-hours and cost of each answer (the pooled one at the cheapest searched pool's wage; the
        separate-queues answer only where it exists)."""
        pooled_wage = min(self.wage[name] for name in (self.separate or self.plan))
        widths = interval_widths(self.scenario)
        pooled_hours = agent_hours({"pooled": self.pooled}, widths)["total"]
        answers = {"cross_trained": {"agent_hours": self.hours(self.plan), "cost": self.cost(self.plan)}}
        if self.separate is not None:
            answers["separate_queues"] = {
                "agent_hours": self.hours(self.separate),
                "cost": self.cost(self.separate),
            }
        answers["fully_pooled"] = {"agent_hours": pooled_hours, "cost": pooled_hours * pooled_wage}
        return answers


def fully_pooled(scenario: Scenario, targets: Targets, names: Sequence[str] | None = None) -> list[int]:
    """Erlang A per interval on the whole centre's load (or the load of the departments `names`): their
    calls with their mean service time and patience weighted by their load, served by one pool taking
    every call, judged at the loosest of their service-level thresholds (so it stays a lower bound)."""
    rates = arrival_rates(scenario)
    shares = department_shares(scenario)
    loads = np.zeros(scenario.interval_count)
    visits = np.zeros(scenario.interval_count)
    patience_load = np.zeros(scenario.interval_count)
    for name in scenario.departments if names is None else names:
        work, patience = department_times(scenario, name)
        rate = rates * shares[name]
        service = scenario.ring_time + work
        loads += rate * service
        visits += rate
        patience_load += rate * np.where(np.isfinite(patience), patience, 1e12)
    target = targets.floors.get("service_level", 0.0)
    max_abandon = targets.ceilings.get("abandon_rate", 1.0)
    survival = ring_survival(scenario)
    own = department_thresholds(scenario)  # the loosest of the pooled departments' thresholds keeps a bound
    loosest = max(own[name] for name in (scenario.departments if names is None else names))
    threshold = max(0.0, loosest - scenario.ring_time)
    answer = []
    for day_load, day_rate, patience_sum in zip(
        loads.tolist(), visits.tolist(), patience_load.tolist(), strict=True
    ):
        if day_rate <= 0:
            answer.append(0)
            continue
        mean_patience = patience_sum / day_rate
        answer.append(
            staff_erlang_a(
                day_rate,
                day_load / day_rate,
                math.inf if mean_patience >= 1e12 else mean_patience,
                threshold,
                min(target / survival, 0.999),
                max(1.0 - (1.0 - max_abandon) / survival, 1e-9),
            )
        )
    return answer


def search_groups(
    scenario: Scenario,
    targets: Targets,
    *,
    reps: int = 10,
    seed: int | None = None,
    jobs: int | None = None,
    executor: Executor | None = None,
    progress: Callable[[str], None] | None = None,
) -> GroupPlan:
    """The least-cost counts per interval of every pool (departments' own agents and agent groups) that meet
    `targets` in every interval and voice or chat department, by simulation with common random numbers (see
    the module); with the separate-queues and fully pooled answers beside it, and with email departments
    the plan's email outcome on `reps` replications of seed + 1."""
    departments, group_names = pools_of(scenario)
    if not group_names:
        raise StaffingError(
            "the scenario has no agent groups serving a call or chat department to staff: use `staff` "
            "without --groups"
        )
    judged = judged_departments(scenario)
    wage = wages(scenario, [*departments, *group_names])
    servers = repair_servers(scenario, wage)  # every judged department: the scenario's checks see to it
    has_separate = all(name in departments for name in judged)
    say = progress or (lambda _: None)
    own_executor = executor is None
    runner = executor or make_executor(jobs)
    count = scenario.interval_count
    widths = interval_widths(scenario)
    try:
        seed = scenario.seed if seed is None else seed
        judge = DayJudge(scenario, targets, seed, reps, runner, judged=frozenset(judged))

        def report(start: str) -> Callable[[int, PoolPlan], None]:
            return lambda number, current: say(
                f"cross-trained from {start}, round {number}: {plan_cost(current, widths, wage):,.1f}"
            )

        zero = {g: [0] * count for g in group_names}
        candidates = []
        separate: PoolPlan | None = None
        if has_separate:
            start, _ = erlang_plans(with_pools(scenario, zero), targets)
            separate = repair(judge, {**{name: start[name] for name in departments}, **zero}, servers)
            say(f"separate queues: start {plan_cost(separate, widths, wage):,.1f}")
            separate = drop(judge, separate, departments)
            separate = repair(judge, separate, servers)
            say(f"separate queues: {plan_cost(separate, widths, wage):,.1f}")
            candidates.append(
                repair(
                    judge,
                    improve(judge, separate, departments, group_names, wage, report("separate queues")),
                    servers,
                )
            )
        groups_first = {name: [0] * count for name in departments}
        for group in group_names:
            skills = [name for name in scenario.agent_groups[group].skills if name in judged]
            groups_first[group] = fully_pooled(scenario, targets, skills)
        groups_first = repair(judge, groups_first, servers)
        candidates.append(
            repair(
                judge, improve(judge, groups_first, departments, group_names, wage, report("groups")), servers
            )
        )
        plan = min(candidates, key=lambda candidate: plan_cost(candidate, widths, wage))
        plan = repair(judge, plan, servers)
        met, figures = judge(plan)
        emails = None
        if len(judged) < len(scenario.departments):
            say("email outcome of the plan (another seed)")
            emails = email_outcome(runner, with_pools(scenario, plan), seed + 1, reps)
        columns = [list(scenario.departments).index(name) for name in judged]
        return GroupPlan(
            scenario=scenario,
            targets=targets,
            plan=plan,
            separate=None
            if separate is None
            else {name: separate[name] for name in [*departments, *group_names]},
            pooled=fully_pooled(scenario, targets, judged),
            wage=wage,
            figures=figures,
            met=met[:, columns],
            simulated_days=judge.simulated + (reps if emails is not None else 0),
            judged=tuple(judged),
            kept=tuple(kept_pools(scenario)),
            emails=emails,
        )
    finally:
        if own_executor:
            runner.close()
