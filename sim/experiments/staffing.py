"""How many agents, interval by interval: the fewest per interval and department that meet the targets
in simulation, starting from Erlang A and searched with common random numbers.

1. **Start**: per interval and department, Erlang A (M/M/c+M) with that interval's arrival rate times the
   share of reasons the department answers first (through explicit transfer networks too, minus IVR
   self-service), a service time of ring + handle + wrap means, the mean patience, and the threshold less
   the ring time. Erlang C (no abandonment) is computed beside it for comparison.
2. **Search**: intervals in time order. For interval i, simulate the whole day (the same seeds and
   replications every time, so candidate plans see the same callers) and read interval i's own figures
   from the interval table (department rows, means over replications). When a figure is within its 95%
   half-width of a target, the verdict is noise: the replications are doubled (up to `REFINE` times the
   search's) and the verdict taken on all of them. A count is *acceptable* when
   interval i meets every target and interval i-1, fixed already, still does (calls that wait across the
   boundary are served by interval i's agents). Too few: add an agent; enough: try one fewer. The search
   stops when a count is acceptable and one fewer is not. Earlier intervals are final, so calls carried
   over from them are in every measurement.
3. **Confirm**: the plan is run again with another seed; each interval's figures and their 95% CIs are
   reported against the targets.

Departments served only by agent groups, and the groups themselves, keep their staffing; a department
staffed by shifts gets a per-interval plan instead. Intervals inside the warm-up are not measured: they
keep the Erlang A count.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import yaml
from rich import box
from rich.console import Console
from rich.table import Table

from sim.analysis import erlang
from sim.analysis.load import (
    queue_models,
    staffed_departments,
)
from sim.analysis.metrics import counted, counted_rows, half_width, offered_calls, summary
from sim.analysis.rows import kpi_row
from sim.analysis.tables import calls_table, interval_edges, visits_table
from sim.engine.arrivals import interval_widths
from sim.engine.day import RunResult, simulate
from sim.experiments.executors import Executor, ExecutorError, make_executor, run_all
from sim.experiments.provenance import git_revision, versions
from sim.model.durations import format_clock, parse_duration
from sim.model.loading import ScenarioError, read_yaml, scenario_from_dict
from sim.model.scenario import Scenario
from sim.model.variants import truncated
from sim.output.folders import (
    ResultsError,
    ResultsExist,
    ResultsUnwritable,
    check_target,
    clean_json,
    default_run_dir,
    unwritable,
    write_folder,
    write_json,
)

CEILINGS = ("abandon_rate", "asa", "mean_wait", "p90_wait")
"""Interval KPIs a plan may cap (`--max abandon_rate=0.05`, `--max asa=30s`)."""
FLOORS = ("service_level",)
"""Interval KPIs a plan must reach (`--target service_level=0.8`)."""
FIGURES = ("offered", "service_level", "abandon_rate", "asa", "mean_wait", "p90_wait")
MAX_INTERVAL_STEPS = 60
REFINE = 4
"""A verdict within noise of a target is decided on up to this many times the search's replications."""


class StaffingError(ValueError):
    """A staffing search that cannot start: unknown KPI, malformed target, nothing to staff."""


# --- targets -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Targets:
    """Floors (`service_level >= 0.8`) and ceilings (`abandon_rate <= 0.05`) every interval must meet."""

    floors: dict[str, float] = field(default_factory=dict)
    ceilings: dict[str, float] = field(default_factory=dict)

    def met(self, figures: Mapping[str, Any]) -> bool:
        """Whether one interval's figures meet every target (no calls, no figure: met)."""
        for key, goal in self.floors.items():
            value = figures.get(key)
            if value is not None and not math.isnan(value) and value < goal - 1e-12:
                return False
        for key, goal in self.ceilings.items():
            value = figures.get(key)
            if value is not None and not math.isnan(value) and value > goal + 1e-12:
                return False
        return True

    def clear(self, figures: Mapping[str, Any]) -> bool:
        """Whether every target is met or missed beyond its 95% half-width (`KEY_ci95`): the verdict on
        this interval would not change with more replications, as far as they tell."""
        for key, goal in (*self.floors.items(), *self.ceilings.items()):
            value, width = figures.get(key), figures.get(f"{key}_ci95")
            if value is None or math.isnan(value) or width is None or math.isnan(width):
                continue
            if abs(value - goal) <= width:
                return False
        return True

    def shortfall(self, figures: Mapping[str, Any]) -> float:
        """The largest relative miss of any target (0 when every target is met)."""
        misses = [0.0]
        for key, goal in self.floors.items():
            value = figures.get(key)
            if value is not None and not math.isnan(value):
                misses.append((goal - value) / max(goal, 1e-9))
        for key, goal in self.ceilings.items():
            value = figures.get(key)
            if value is not None and not math.isnan(value):
                misses.append((value - goal) / max(goal, 1e-9))
        return max(misses)

    def describe(self) -> str:
        """`service_level >= 0.8, abandon_rate <= 0.05`."""
        return ", ".join(
            [f"{k} >= {v:g}" for k, v in self.floors.items()]
            + [f"{k} <= {v:g}" for k, v in self.ceilings.items()]
        )


def _target_value(text: str) -> float:
    text = text.strip()
    if text.endswith("%"):
        return float(text[:-1]) / 100.0
    return parse_duration(text)


def parse_targets(targets: Sequence[str], ceilings: Sequence[str], scenario: Scenario) -> Targets:
    """`--target service_level=0.8` (a floor; for a waiting figure, a ceiling) and `--max KPI=value`.

    Without a service-level floor, the scenario's own service-level target."""
    floors: dict[str, float] = {}
    caps: dict[str, float] = {}
    for text, is_max in [*((t, False) for t in targets), *((t, True) for t in ceilings)]:
        key, sep, raw = text.partition("=")
        key = key.strip()
        option = "--max" if is_max else "--target"
        if not sep or not key:
            raise StaffingError(f"{option} {text!r}: expected KPI=value, e.g. service_level=0.8")
        try:
            value = _target_value(raw)
        except ValueError:
            raise StaffingError(f"{option} {text!r}: {raw.strip()!r} is not a number or duration") from None
        if key in FLOORS and not is_max:
            if not 0 <= value <= 1:
                raise StaffingError(f"{option} {text!r}: a service level is between 0 and 1")
            floors[key] = value
        elif key in CEILINGS:
            if value < 0:
                raise StaffingError(f"{option} {text!r}: must be >= 0")
            caps[key] = value
        else:
            allowed = FLOORS if not is_max else CEILINGS
            raise StaffingError(
                f"{option} {text!r}: {key} is not one of {', '.join(allowed if is_max else (*FLOORS, *CEILINGS))}"
            )
    if not floors:
        floors["service_level"] = scenario.service_level.target
    return Targets(floors, caps)


# --- Erlang starting points --------------------------------------------------------------------------------


def staff_erlang_a(
    arrival_rate: float, service: float, patience: float, threshold: float, target: float, max_abandon: float
) -> int:
    """`sim.analysis.erlang.staff_erlang_a`, searched from a lower bound: answering a share s of the calls takes at
    least s * load agents, and both targets need a share of at least max(target, 1 - max_abandon)."""
    if arrival_rate <= 0:
        return 0
    load = arrival_rate * service
    servers = max(1, math.floor(load * max(target, 1.0 - max_abandon)) - 1)
    while servers <= 100_000:
        figures = erlang.erlang_a_figures(arrival_rate, service, patience, servers, threshold)
        if figures.service_level >= target and figures.abandon_rate <= max_abandon:
            return servers
        servers += 1
    raise StaffingError("no staffing up to 100,000 agents meets the targets")


def erlang_plans(scenario: Scenario, targets: Targets) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """Erlang A and Erlang C agents per interval and department for the service-level floor (Erlang A
    also for the abandonment ceiling; Erlang C knows no abandonment).

    With rings, a caller reaching an agent may still hang up while it rings (patience covers the ring):
    Erlang A's queue must then do better, by the share s whose patience outlasts the ring:
    service level / s, and 1 - (1 - abandonment) / s."""
    target = targets.floors.get("service_level", 0.0)
    max_abandon = targets.ceilings.get("abandon_rate", 1.0)
    plan_a: dict[str, list[int]] = {}
    plan_c: dict[str, list[int]] = {}
    for name, model in queue_models(scenario).items():
        survival = model.ring_survival
        queue_target = min(target / survival, 0.999)
        queue_abandon = 1.0 - (1.0 - max_abandon) / survival
        if queue_abandon <= 0:  # the ring alone loses more callers than allowed: no count meets it
            queue_abandon = 1.0
        plan_a[name] = [
            staff_erlang_a(rate, model.service, model.patience, model.threshold, queue_target, queue_abandon)
            for rate in model.rates
        ]
        plan_c[name] = [
            erlang.staff_erlang_c(rate, model.service, model.threshold, target) if rate > 0 else 0
            for rate in model.rates
        ]
    return plan_a, plan_c


# --- simulation ---------------------------------------------------------------------------------------------


def department_figures(result: RunResult) -> pd.DataFrame:
    """Per interval and department: offered, service level, abandonment, ASA, mean and p90 wait.

    The department rows of `sim.analysis.metrics.interval_table`, with the same definitions (visits to the
    department's queue by the interval they joined it, plus callers blocked on their way to it), computed
    in one pass instead of a loop over intervals: the search reads thousands of these.
    `tests/test_staffing.py` checks that both agree."""
    scenario = result.scenario
    threshold = scenario.service_level.threshold
    edges = interval_edges(result)
    size = len(edges) - 1
    names = list(scenario.departments)
    calls = offered_calls(counted(result, calls_table(result)))
    visits = counted_rows(visits_table(result), calls["call_id"])
    visits = visits[~visits["callback"]]  # waiting for a callback is not waiting on the line
    where = np.clip(np.searchsorted(edges, visits["queued_at"].to_numpy(), side="right") - 1, 0, size - 1)
    department = pd.Categorical(visits["department"].astype(str), categories=names).codes
    cell = where * len(names) + department

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(cell, weights=values.astype(float), minlength=size * len(names))

    count = total(np.ones(len(visits)))
    answered = visits["answered"].to_numpy(dtype=bool)
    waits = visits["wait_time"].to_numpy(dtype=float)
    in_time = answered & (visits["time_to_answer"].to_numpy(dtype=float) <= threshold + 1e-9)
    blocked_calls = calls[calls["outcome"] == "blocked"]
    blocked_where = np.clip(
        np.searchsorted(edges, blocked_calls["arrived_at"].to_numpy(), side="right") - 1, 0, size - 1
    )
    blocked_department = pd.Categorical(blocked_calls["first_department"].astype(str), categories=names).codes
    blocked = np.bincount(
        blocked_where * len(names) + blocked_department, minlength=size * len(names)
    ).astype(float)
    offered = count + blocked
    with np.errstate(invalid="ignore", divide="ignore"):
        frame = pd.DataFrame(
            {
                "interval": np.repeat(np.arange(size), len(names)),
                "department": np.tile(names, size),
                "offered": offered,
                "service_level": np.where(offered > 0, total(in_time) / offered, np.nan),
                "abandon_rate": np.where(
                    offered > 0, total(visits["abandoned"].to_numpy(dtype=bool)) / offered, np.nan
                ),
                "asa": total(np.where(answered, waits, 0.0)) / total(answered),
                "mean_wait": total(waits) / count,
            }
        )
    p90 = pd.Series(waits).groupby(cell).quantile(0.9)
    frame["p90_wait"] = p90.reindex(range(size * len(names))).to_numpy()
    return frame


def interval_kpis(scenario: Scenario, seed: int, replication: int) -> pd.DataFrame:
    """One replication's figures per interval and department (what a worker returns)."""
    return department_figures(simulate(scenario, seed, replication))


def confirmation_kpis(
    scenario: Scenario, seed: int, replication: int
) -> tuple[pd.DataFrame, dict[str, float]]:
    """One replication's figures per interval and department, and its day summary (a flat KPI row)."""
    result = simulate(scenario, seed, replication)
    return department_figures(result), kpi_row(summary(result))


def pooled(tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Per interval and department: the mean of each figure over replications (those with calls), and the
    95% half-width of service level and abandonment."""
    stacked = pd.concat(tables, keys=range(len(tables)), names=["replication", "row"]).reset_index(level=0)
    grouped = stacked.groupby(["interval", "department"], sort=True)
    means = grouped[list(FIGURES)].mean()
    for key in FIGURES[1:]:
        means[f"{key}_ci95"] = grouped[key].agg(lambda s: half_width(list(s)))
    return means


def plan_overrides(plan: Mapping[str, Sequence[int]]) -> list[str]:
    """`--set` texts that put the plan into a scenario."""
    return [
        f"departments.{name}.agents={{per_interval: [{', '.join(str(int(c)) for c in counts)}]}}"
        for name, counts in plan.items()
    ]


def plan_yaml(plan: Mapping[str, Sequence[int]], header: str = "") -> str:
    """The plan as scenario YAML: `departments: {name: {agents: {per_interval: [...]}}}`."""
    body = {
        "departments": {
            n: {"agents": {"per_interval": [int(c) for c in counts]}} for n, counts in plan.items()
        }
    }
    text = yaml.safe_dump(body, sort_keys=False, default_flow_style=None, width=1000)
    lines = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return lines + text


def agent_hours(plan: Mapping[str, Sequence[int]], widths: np.ndarray) -> dict[str, float]:
    """Scheduled agent-hours of a plan, per department and in total."""
    hours = {
        name: float(np.dot(np.asarray(counts, dtype=float), widths) / 3600.0) for name, counts in plan.items()
    }
    hours["total"] = sum(hours.values())
    return hours


@dataclass
class Evaluator:
    """Runs plans with the same seed and replications (common random numbers), remembering each result.

    `horizon` intervals are simulated (the day is cut after them; None: the whole day)."""

    executor: Executor
    build: Callable[[Mapping[str, Sequence[int]]], Scenario]
    seed: int
    reps: int
    cache: dict[tuple[Any, ...], list[pd.DataFrame]] = field(default_factory=dict)
    simulated: float = 0.0

    def __call__(
        self, plan: Mapping[str, Sequence[int]], horizon: int | None = None, reps: int | None = None
    ) -> pd.DataFrame:
        """Figures pooled over replications 0..reps-1 (default `self.reps`); more replications of a plan
        seen before only run the new ones."""
        reps = self.reps if reps is None else reps
        scenario = self.build(plan)
        count = scenario.interval_count
        horizon = count if horizon is None else min(horizon, count)
        key = (horizon, *(tuple(int(c) for c in counts[:horizon]) for counts in plan.values()))
        tables = self.cache.setdefault(key, [])
        if len(tables) < reps:
            day = truncated(scenario, horizon)
            more = [(day, self.seed, r) for r in range(len(tables), reps)]
            tables.extend(run_all(self.executor, interval_kpis, more))
            self.simulated += len(more) * horizon / count
        return pooled(tables[:reps])


def _cell(figures: pd.DataFrame, interval: int, department: str) -> dict[str, float]:
    """One interval and department's pooled figures."""
    row = cast(pd.Series, figures.loc[(interval, department)])
    return {str(key): float(value) for key, value in row.items()}


# --- the search ---------------------------------------------------------------------------------------------


class _Bracket:
    """The search for one interval and department: the fewest acceptable agents, by steps that double
    while they fail (or succeed), then bisection between the largest failing and smallest acceptable count.

    Past `cap` agents with the targets still missed, it settles on the fewest agents whose shortfall was
    within 1% of the smallest seen (adding agents no longer helps: e.g. callers hanging up while it rings)."""

    def __init__(self, start: int, cap: int) -> None:
        self.cap = max(cap, start + 1)
        self.good: int | None = None
        self.bad: int | None = None
        self.step = 1
        self.direction = 0
        self.settled = False
        self.reached = True
        self.shortfalls: dict[int, float] = {}

    def next(self, count: int, ok: bool, shortfall: float) -> int:
        """Record the verdict on `count`; return the next count to try (or the answer, once settled)."""
        self.shortfalls[count] = shortfall
        direction = -1 if ok else 1
        self.step = self.step * 2 if direction == self.direction else 1
        self.direction = direction
        if ok:
            self.good = count if self.good is None else min(count, self.good)
        else:
            self.bad = count if self.bad is None else max(count, self.bad)
        good, bad = self.good, self.bad
        if good is not None and (good == 0 or (bad is not None and bad >= good - 1)):
            self.settled = True
            return good
        if good is None:
            if count >= self.cap:
                self.settled, self.reached = True, False
                least = min(self.shortfalls.values())
                return min(c for c, s in self.shortfalls.items() if s <= least + 0.01)
            return min(count + self.step, self.cap)
        if bad is None:
            return max(good - self.step, 0)
        return (bad + good) // 2


@dataclass(frozen=True)
class StaffingResult:
    """The plan, the Erlang answers, and the search's and the confirmation run's figures."""

    scenario: Scenario
    targets: Targets
    seed: int
    reps: int
    confirm_seed: int
    confirm_reps: int
    plan: dict[str, list[int]]
    erlang_a: dict[str, list[int]]
    erlang_c: dict[str, list[int]]
    table: pd.DataFrame
    steps: pd.DataFrame
    confirmation: dict[str, Any]
    unreachable: list[tuple[int, str]]
    simulated_days: float
    wall_time: float

    @property
    def widths(self) -> np.ndarray:
        """Each interval's length in seconds."""
        return interval_widths(self.scenario)

    def hours(self) -> dict[str, dict[str, float]]:
        """Agent-hours of the simulated plan and of the Erlang A and Erlang C answers."""
        return {
            "simulated": agent_hours(self.plan, self.widths),
            "erlang_a": agent_hours(self.erlang_a, self.widths),
            "erlang_c": agent_hours(self.erlang_c, self.widths),
        }


def search_staffing(
    source: Path,
    targets: Targets | None = None,
    seed: int | None = None,
    reps: int = 10,
    confirm_reps: int | None = None,
    confirm_seed: int | None = None,
    executor: Executor | None = None,
    overrides: Sequence[str] = (),
    on_interval: Callable[[int, int], None] | None = None,
) -> StaffingResult:
    """Find the fewest agents per interval and department that meet `targets` in simulation (see the module)."""
    started = time.perf_counter()
    source = Path(source)
    data = read_yaml(source)
    try:
        base = scenario_from_dict(data, source.parent, overrides)
    except ScenarioError as error:
        raise ScenarioError(error.problems, str(source)) from None
    targets = targets or Targets({"service_level": base.service_level.target})
    names = staffed_departments(base)
    if not names:
        raise StaffingError("no department has agents of its own to staff")
    if reps < 2:
        raise StaffingError("--reps must be >= 2 (the figures need confidence intervals)")
    seed = base.seed if seed is None else seed
    confirm_seed = seed + 1 if confirm_seed is None else confirm_seed
    if confirm_seed == seed:
        raise StaffingError("the confirmation run needs another seed than the search")
    confirm_reps = confirm_reps or max(reps, 10)
    own = executor or make_executor()

    def build(plan: Mapping[str, Sequence[int]]) -> Scenario:
        return scenario_from_dict(data, source.parent, [*overrides, *plan_overrides(plan)])

    try:
        erlang_a, erlang_c = erlang_plans(base, targets)
        evaluate = Evaluator(own, build, seed, reps)
        intervals = base.interval_count
        plan = {name: list(erlang_a[name]) for name in names}
        caps = {
            name: [
                math.ceil(1.5 * max(a, c)) + 5 for a, c in zip(erlang_a[name], erlang_c[name], strict=True)
            ]
            for name in names
        }
        steps: list[dict[str, Any]] = []
        previous_met = dict.fromkeys(names, False)
        unreachable: list[tuple[int, str]] = []
        for index in range(intervals):
            if (index + 1) * base.interval <= base.warmup:
                # not measured (the warm-up): keep Erlang A, so the measured day starts from a loaded centre
                previous_met = dict.fromkeys(names, False)
                if on_interval:
                    on_interval(index + 1, intervals)
                continue
            searches = {name: _Bracket(plan[name][index], caps[name][index]) for name in names}
            for _ in range(MAX_INTERVAL_STEPS):
                reps_used = reps
                figures = evaluate(plan, horizon=index + 2)
                while reps_used < REFINE * reps and not all(
                    targets.clear(_cell(figures, index, name))
                    for name, search in searches.items()
                    if not search.settled
                ):  # a verdict within noise of a target: decide it on more replications
                    reps_used *= 2
                    figures = evaluate(plan, horizon=index + 2, reps=reps_used)
                for name, search in searches.items():
                    if search.settled:
                        continue
                    here = _cell(figures, index, name)
                    count = plan[name][index]
                    # interval i-1 was accepted with interval i at its Erlang A count; with fewer agents
                    # here, the calls it hands over must not make it miss.
                    ok = targets.met(here) and (
                        index == 0
                        or count >= erlang_a[name][index]
                        or not previous_met[name]
                        or targets.met(_cell(figures, index - 1, name))
                    )
                    steps.append(
                        {
                            "step": len(steps),
                            "interval": index,
                            "department": name,
                            "agents": count,
                            "reps": reps_used,
                            **{k: float(here[k]) for k in FIGURES},
                            "acceptable": ok,
                        }
                    )
                    plan[name][index] = search.next(count, ok, targets.shortfall(here))
                if all(search.settled for search in searches.values()):
                    break
            for name, search in searches.items():
                if not search.reached:
                    unreachable.append((index, name))
            previous_met = {name: search.reached for name, search in searches.items()}
            if on_interval:
                on_interval(index + 1, intervals)
        most = max((step["reps"] for step in steps), default=reps)  # the search's own evidence
        final = evaluate(plan, reps=most)
        table = _plan_table(base, plan, erlang_a, erlang_c, final, targets)
        confirmation = _confirm(own, build(plan), confirm_seed, confirm_reps, targets)
        confirmed = confirmation.pop("table")
        table = table.join(confirmed, on=["interval", "department"])
    finally:
        if executor is None:
            own.close()
    return StaffingResult(
        scenario=base,
        targets=targets,
        seed=seed,
        reps=reps,
        confirm_seed=confirm_seed,
        confirm_reps=confirm_reps,
        plan=plan,
        erlang_a={n: erlang_a[n] for n in names},
        erlang_c={n: erlang_c[n] for n in names},
        table=table,
        steps=pd.DataFrame(steps),
        confirmation=confirmation,
        unreachable=unreachable,
        simulated_days=round(evaluate.simulated + reps + confirm_reps, 1),
        wall_time=time.perf_counter() - started,
    )


def _plan_table(
    scenario: Scenario,
    plan: Mapping[str, Sequence[int]],
    erlang_a: Mapping[str, Sequence[int]],
    erlang_c: Mapping[str, Sequence[int]],
    figures: pd.DataFrame,
    targets: Targets,
) -> pd.DataFrame:
    models = queue_models(scenario)
    rows = []
    for index in range(scenario.interval_count):
        for name in plan:
            here = _cell(figures, index, name)
            rows.append(
                {
                    "interval": index,
                    "start": format_clock(scenario.start + index * scenario.interval),
                    "department": name,
                    "calls_per_hour": float(models[name].rates[index] * 3600.0),
                    "erlang_c": int(erlang_c[name][index]),
                    "erlang_a": int(erlang_a[name][index]),
                    "simulated": int(plan[name][index]),
                    "search_offered": float(here["offered"]),
                    "search_service_level": float(here["service_level"]),
                    "search_service_level_ci95": float(here["service_level_ci95"]),
                    "search_abandon_rate": float(here["abandon_rate"]),
                    "search_abandon_rate_ci95": float(here["abandon_rate_ci95"]),
                    "search_asa": float(here["asa"]),
                    "search_met": targets.met(here),
                }
            )
    return pd.DataFrame(rows)


def _confirm(
    executor: Executor, scenario: Scenario, seed: int, reps: int, targets: Targets
) -> dict[str, Any]:
    """The plan run with another seed: per interval and department figures with 95% CIs, and the day."""
    results = run_all(executor, confirmation_kpis, [(scenario, seed, r) for r in range(reps)])
    figures = pooled([tables for tables, _ in results])
    rows = [{str(k): float(v) for k, v in row.items()} for row in figures.to_dict("records")]
    table = pd.DataFrame(
        {
            "confirm_offered": figures["offered"],
            "confirm_service_level": figures["service_level"],
            "confirm_service_level_ci95": figures["service_level_ci95"],
            "confirm_abandon_rate": figures["abandon_rate"],
            "confirm_abandon_rate_ci95": figures["abandon_rate_ci95"],
            "confirm_asa": figures["asa"],
            "confirm_met": [targets.met(row) for row in rows],
            "confirm_within_ci": [targets.met(_optimistic(row)) for row in rows],
        }
    )
    day_rows = [row for _, row in results]
    keys = [k for k in day_rows[0] if k in ("service_level", "abandon_rate", "asa", "occupancy", "offered")]
    day = {k: float(np.mean([r[k] for r in day_rows])) for k in keys}
    day_ci = {k: half_width([r[k] for r in day_rows]) for k in keys}
    measured = (table["confirm_offered"] > 0).to_numpy()  # not the warm-up, nor a row without calls
    return {
        "table": table,
        "seed": seed,
        "reps": reps,
        "intervals_met": int(table["confirm_met"][measured].sum()),
        "intervals_within_ci": int(table["confirm_within_ci"][measured].sum()),
        "intervals": int(measured.sum()),
        "day": day,
        "day_ci95": day_ci,
    }


def _optimistic(row: Mapping[str, float]) -> dict[str, float]:
    """An interval's figures moved by their 95% half-width in the favourable direction: if these miss a
    target, the plan misses it beyond noise."""
    moved = dict(row)
    for key, sign in (("service_level", 1.0), ("abandon_rate", -1.0)):
        width = row.get(f"{key}_ci95")
        if width is not None and not math.isnan(width):
            moved[key] = row[key] + sign * width
    return moved


# --- output ------------------------------------------------------------------------------------------------


def write_staffing(target: Path, result: StaffingResult, force: bool, command: Sequence[str]) -> Path:
    """The staffing folder: `staffing.yaml` (the plan), `plan.csv`, `search.csv`, `summary.json`, `meta.json`."""
    header = (
        f"callsim staff: the fewest agents per interval meeting {result.targets.describe()} in simulation\n"
        f"(scenario {result.scenario.name}, seed {result.seed}, {result.reps} replications; confirmed with seed "
        f"{result.confirm_seed}, {result.confirm_reps} replications: "
        f"{result.confirmation['intervals_met']}/{result.confirmation['intervals']} interval rows met the targets).\n"
        "Paste into the scenario, or apply with --set:\n"
        + "\n".join(f"  --set '{o}'" for o in plan_overrides(result.plan))
    )

    def fill(folder: Path) -> None:
        (folder / "staffing.yaml").write_text(plan_yaml(result.plan, header), encoding="utf-8")
        result.table.to_csv(folder / "plan.csv", index=False, float_format="%.6g")
        result.steps.to_csv(folder / "search.csv", index=False, float_format="%.6g")
        write_json(folder / "summary.json", staffing_summary(result))
        write_json(
            folder / "meta.json",
            {
                "scenario": result.scenario.name,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "wall_time": result.wall_time,
                "simulated_days": result.simulated_days,
                "versions": versions(),
                "git_revision": git_revision(),
                "command": list(command),
            },
        )

    return write_folder(target, force, fill)


def staffing_summary(result: StaffingResult) -> dict[str, Any]:
    """What `summary.json` holds: targets, seeds, the plan, agent-hours against Erlang, the confirmation."""
    table = result.table
    return {
        "scenario": result.scenario.name,
        "targets": {"floors": result.targets.floors, "ceilings": result.targets.ceilings},
        "seed": result.seed,
        "reps": result.reps,
        "plan": result.plan,
        "erlang_a": result.erlang_a,
        "erlang_c": result.erlang_c,
        "agent_hours": result.hours(),
        "difference_from_erlang_a": {
            "max_agents": int((table["simulated"] - table["erlang_a"]).abs().max()),
            "mean_agents": float((table["simulated"] - table["erlang_a"]).mean()),
        },
        "unreachable": [{"interval": i, "department": d} for i, d in result.unreachable],
        "confirmation": {k: v for k, v in result.confirmation.items() if k != "table"},
        "simulated_days": result.simulated_days,
        "wall_time": result.wall_time,
    }


def plan_table(result: StaffingResult) -> Table:
    """Per interval and department: calls, Erlang C, Erlang A, simulated, and the confirmation figures."""
    shown = Table(title=f"staffing for {result.targets.describe()}", header_style="bold", box=box.SIMPLE_HEAD)
    columns = ("start", "department", "calls/h", "ErlC", "ErlA", "sim", "SL", "abandon", "met")
    for column in columns:
        shown.add_column(column, justify="left" if column in ("start", "department") else "right")
    shown.pad_edge = False
    shown.collapse_padding = True
    shown.caption = "ErlC, ErlA: Erlang C and A; sim: the plan; SL, abandon: confirmation run ± 95% CI"
    for _, row in result.table.iterrows():
        shown.add_row(
            str(row["start"]),
            str(row["department"]),
            f"{row['calls_per_hour']:.0f}",
            str(row["erlang_c"]),
            str(row["erlang_a"]),
            f"[bold]{row['simulated']}[/]",
            _percent(row["confirm_service_level"], row["confirm_service_level_ci95"]),
            _percent(row["confirm_abandon_rate"], row["confirm_abandon_rate_ci95"]),
            "yes" if row["confirm_met"] else ("in CI" if row["confirm_within_ci"] else "[red]no[/]"),
        )
    return shown


def _percent(value: float, width: float) -> str:
    if value is None or math.isnan(value):
        return "-"
    text = f"{100 * value:.1f}"
    return text + (f"±{100 * width:.1f}" if width is not None and not math.isnan(width) else "") + "%"


def staff_command(
    scenario: Path,
    targets: Sequence[str],
    ceilings: Sequence[str],
    reps: int,
    confirm_reps: int | None,
    seed: int | None,
    jobs: int | None,
    dask: str | None,
    out_dir: Path | None,
    force: bool,
    overrides: Sequence[str],
    quiet: bool,
    out: Console,
    err: Console,
) -> int:
    """`callsim staff`: search, write the folder, print the plan against Erlang; returns the exit status."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from sim.model.loading import load_scenario
    from sim.output.console import print_problems, say

    try:
        base = load_scenario(scenario, overrides)
        goals = parse_targets(targets, ceilings, base)
    except ScenarioError as error:
        print_problems(err, error)
        return 2
    except StaffingError as error:
        say(err, "error", error)
        return 2
    target = out_dir or default_run_dir(Path("results"), f"{base.name}-staffing")
    try:
        check_target(target, force, "the staffing plan")
        executor = make_executor(jobs, dask)
    except (ResultsError, ExecutorError) as error:
        say(err, "error", error)
        return 1 if isinstance(error, ResultsUnwritable) else 2
    progress = Progress(
        TextColumn("[bold]staffing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("intervals, left"),
        TimeRemainingColumn(),
        console=err,
        disable=quiet,
    )
    task = progress.add_task("staffing", total=base.interval_count)
    try:
        with progress:
            result = search_staffing(
                scenario,
                goals,
                seed,
                reps,
                confirm_reps,
                executor=executor,
                overrides=overrides,
                on_interval=lambda done, total: progress.update(task, completed=done, total=total),
            )
    except StaffingError as error:
        say(err, "error", error)
        return 2
    finally:
        executor.close()
    try:
        target = write_staffing(target, result, force, ["callsim", *sys.argv[1:]])
    except ResultsExist as error:
        say(err, "error", error)
        return 2
    except OSError as error:
        say(err, "error", unwritable(error, target, "the staffing plan"))
        return 1
    if not quiet:
        hours = result.hours()
        out.print(plan_table(result))
        day = result.confirmation["day"]
        out.print(
            f"agent-hours: simulated {hours['simulated']['total']:.1f}, Erlang A {hours['erlang_a']['total']:.1f}, "
            f"Erlang C {hours['erlang_c']['total']:.1f}",
            highlight=False,
        )
        out.print(
            f"confirmation (seed {result.confirm_seed}, {result.confirm_reps} replications): "
            f"{result.confirmation['intervals_met']}/{result.confirmation['intervals']} interval rows met the "
            f"targets, {result.confirmation['intervals_within_ci']} within their 95% CI; day service level {100 * day.get('service_level', math.nan):.1f}%, "
            f"abandonment {100 * day.get('abandon_rate', math.nan):.1f}%",
            highlight=False,
        )
        if result.unreachable:
            day = result.scenario
            where = ", ".join(
                f"{format_clock(day.start + i * day.interval)} {d}" for i, d in result.unreachable
            )
            say(err, "targets not reached (more agents stopped helping, or the cap was hit)", where, "yellow")
        out.print(
            f"staffing: {target / 'staffing.yaml'}  ({result.simulated_days} simulated days in "
            f"{result.wall_time:.1f}s)",
            highlight=False,
        )
    return 0


# --- callsim erlang: the analytic answers ------------------------------------------------------------------


def erlang_answers(
    per_hour: float,
    aht: float,
    patience: float,
    threshold: float,
    target: float,
    max_abandon: float = 1.0,
) -> dict[str, Any]:
    """Erlang C and Erlang A staffing for one queue, with the figures around the answers."""
    if per_hour <= 0 or aht <= 0 or patience <= 0 or threshold < 0:
        raise StaffingError("calls per hour, AHT and patience must be > 0, the threshold >= 0")
    if not 0 <= target < 1 or not 0 < max_abandon <= 1:
        raise StaffingError("the target must be in [0, 1) and the abandonment ceiling in (0, 1]")
    rate = per_hour / 3600.0
    answer_c = erlang.staff_erlang_c(rate, aht, threshold, target)
    answer_a = staff_erlang_a(rate, aht, patience, threshold, target, max_abandon)
    rows = []
    for agents in range(max(1, min(answer_a, answer_c) - 3), max(answer_a, answer_c) + 3):
        c = erlang.erlang_c_figures(rate, aht, agents, threshold)
        a = erlang.erlang_a_figures(rate, aht, patience, agents, threshold)
        rows.append(
            {
                "agents": agents,
                "erlang_c_service_level": c.service_level,
                "erlang_c_asa": c.asa,
                "erlang_a_service_level": a.service_level,
                "erlang_a_abandon_rate": a.abandon_rate,
                "erlang_a_asa": a.asa,
                "occupancy": a.occupancy,
            }
        )
    c_fig = erlang.erlang_c_figures(rate, aht, answer_c, threshold)
    a_fig = erlang.erlang_a_figures(rate, aht, patience, answer_a, threshold)
    return {
        "calls_per_hour": per_hour,
        "aht": aht,
        "patience": patience,
        "threshold": threshold,
        "target": target,
        "max_abandon": max_abandon,
        "load_erlangs": rate * aht,
        "erlang_c": {"agents": answer_c, **_figures(c_fig)},
        "erlang_a": {"agents": answer_a, **_figures(a_fig)},
        "table": rows,
    }


def _figures(figures: erlang.QueueFigures) -> dict[str, float]:
    return {
        "service_level": figures.service_level,
        "asa": figures.asa,
        "p_wait": figures.p_wait,
        "abandon_rate": figures.abandon_rate,
        "occupancy": figures.occupancy,
    }


def erlang_command(
    per_hour: float,
    aht: str,
    patience: str | None,
    threshold: str,
    target: float,
    max_abandon: float,
    as_json: bool,
    out: Console,
    err: Console,
) -> int:
    """`callsim erlang`: the Erlang C and Erlang A answers for one queue; returns the exit status."""
    import json

    from sim.output.console import say

    problems = [
        f"{name}: must be a number in {bounds}, got {value:g}"
        for name, value, ok, bounds in (
            ("--per-hour", per_hour, 0 < per_hour <= 1e6, "(0, 1,000,000] calls per hour"),
            ("--target", target, 0 < target <= 1, "(0, 1]"),
            ("--max-abandon", max_abandon, 0 < max_abandon <= 1, "(0, 1]"),
        )
        if not ok  # NaN fails every comparison
    ]
    if problems:
        for problem in problems:
            say(err, "error", problem)
        return 2
    try:
        answers = erlang_answers(
            per_hour,
            parse_duration(aht),
            parse_duration(patience) if patience else math.inf,
            parse_duration(threshold),
            target,
            max_abandon,
        )
    except (ValueError, StaffingError) as error:
        say(err, "error", error)
        return 2
    if as_json:
        print(json.dumps(clean_json(answers), indent=2))
        return 0
    goal = f"{100 * target:.0f}% within {threshold}" + (
        f", abandonment <= {100 * max_abandon:g}%" if max_abandon < 1 else ""
    )
    table = Table(
        title=f"{per_hour:g} calls/h, AHT {aht}, patience {patience or 'infinite'}: "
        f"{answers['load_erlangs']:.2f} erlangs; target {goal}",
        header_style="bold",
    )
    for column in ("agents", "C SL", "C ASA", "A SL", "A abandon", "A ASA", "A occ.", ""):
        table.add_column(column, justify="right")
    for row in answers["table"]:
        marks = []
        if row["agents"] == answers["erlang_c"]["agents"]:
            marks.append("Erlang C")
        if row["agents"] == answers["erlang_a"]["agents"]:
            marks.append("Erlang A")
        table.add_row(
            str(row["agents"]),
            f"{100 * row['erlang_c_service_level']:.1f}%",
            _seconds(row["erlang_c_asa"]),
            f"{100 * row['erlang_a_service_level']:.1f}%",
            f"{100 * row['erlang_a_abandon_rate']:.1f}%",
            _seconds(row["erlang_a_asa"]),
            f"{100 * row['occupancy']:.1f}%",
            f"[bold]<- {' + '.join(marks)}[/]" if marks else "",
        )
    out.print(table)
    out.print(
        f"Erlang C (no abandonment): {answers['erlang_c']['agents']} agents; "
        f"Erlang A (callers abandon after a mean {patience or 'infinite'} patience): "
        f"{answers['erlang_a']['agents']} agents",
        highlight=False,
    )
    return 0


def _seconds(value: float) -> str:
    return "-" if not math.isfinite(value) else f"{value:.1f}s"
