"""The staffing search: the fewest agents per interval and department that meet the targets in simulation,
every interval of the day judged from the same simulated days.

1. **Start** from Erlang A per interval and department (`start.erlang_plans`).
2. **Explore**, all cells (interval x department) at once: simulate the whole day under the current plan
   (the same seed and replications for every candidate plan: common random numbers, so candidates see the
   same callers), read every cell's figures from that one set of days, and move each unsettled cell's count
   by its own bracket (steps that double while the verdict stays the same, then bisection) until each has a
   count that is acceptable with one fewer not. A count is acceptable when the cell meets every target and,
   below its Erlang A count, the interval before it (settled already) still does: its waiting callers are
   served by this interval's agents. The day is cut after the last unsettled interval and the next one.
3. **Check** the end game on more evidence: a verdict within its 95% half-width of a target is noise, so it is
   taken again on twice and then four times the replications (the first ones are reused). First the plan with
   one agent fewer in every even interval, then in every odd one (a tried cell's neighbours keep their counts,
   so the verdict is that cell's own; cells whose one-fewer count already missed beyond noise are not tried):
   a cell that still meets the targets with one fewer, and whose previous interval still does, keeps one
   fewer (once). Then the plan itself: cells that miss get one more agent, until none misses.
4. **Confirm**: the plan is run again with another seed; each cell's figures with 95% CIs against the targets,
   its share of days that met them, and its verdict (met, within CI or missed).

"Meets the targets" is `Targets.met` throughout: by the mean, or, asked for, by the one-sided bound at a
stated confidence and on a share of the days (`sim.experiments.staffing.confidence`).

Departments served only by agent groups, and the groups themselves, keep their staffing; so do departments
left out by `only`, and email departments (`sim.experiments.staffing.channel_targets`). A department staffed by shifts gets a per-interval plan instead. Intervals inside the
warm-up are not measured: they keep the Erlang A count.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.load import staffed_departments
from sim.experiments.executors import Executor, make_executor, run_all
from sim.experiments.staffing.channel_targets import EMAIL_REFUSED, searched_departments
from sim.experiments.staffing.figures import (
    Pooled,
    interval_kpis,
    pool,
)
from sim.experiments.staffing.plans import Plan, with_plan
from sim.experiments.staffing.result import StaffingPlan, confirm, plan_table
from sim.experiments.staffing.start import erlang_plans
from sim.experiments.staffing.targets import FIGURES, StaffingError, Targets, TargetsLike, targets_from
from sim.model.loading import load_scenario
from sim.model.scenario import Scenario
from sim.model.variants import truncated

MAX_ROUNDS = 60
"""Rounds of exploration, and of checks, before the search gives up moving counts."""
REFINE = 4
"""A verdict within noise of a target is decided on up to this many times the search's replications."""

Progress = Callable[..., None]
"""`progress(done, total)` or `progress(done, total, stage)`: cells settled out of the cells to search, then
one step each for the check and the confirmation; `stage` names what just finished or is under way."""


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


@dataclass
class Evaluator:
    """Runs plans with the same seed and replications (common random numbers), remembering each result.

    `horizon` intervals are simulated (the day is cut after them; None: the whole day)."""

    executor: Executor
    scenario: Scenario
    seed: int
    reps: int
    cache: dict[tuple[Any, ...], list[np.ndarray]] = field(default_factory=dict)
    simulated: float = 0.0
    targets: Targets | None = None
    """With targets, the pooled figures also hold each cell's share of replications that met them."""

    def __call__(
        self, plan: Mapping[str, Sequence[int]], horizon: int | None = None, reps: int | None = None
    ) -> Pooled:
        """Figures pooled over replications 0..reps-1 (default `self.reps`); more replications of a plan
        seen before only run the new ones."""
        reps = self.reps if reps is None else reps
        count = self.scenario.interval_count
        horizon = count if horizon is None else min(horizon, count)
        key = (
            horizon,
            *((name, tuple(int(c) for c in counts[:horizon])) for name, counts in sorted(plan.items())),
        )
        tables = self.cache.setdefault(key, [])
        if len(tables) < reps:
            day = truncated(with_plan(self.scenario, plan), horizon)
            more = [(day, self.seed, r) for r in range(len(tables), reps)]
            tables.extend(run_all(self.executor, interval_kpis, more))
            self.simulated += len(more) * horizon / count
        return pool(tables[:reps], list(self.scenario.departments), self.targets)

    def refined(
        self,
        plan: Mapping[str, Sequence[int]],
        cells: Sequence[tuple[int, str]],
        targets: Targets,
        horizon: int | None = None,
    ) -> tuple[Pooled, int]:
        """The plan's figures on `reps` replications, or on 2x and then `REFINE`x as many while a verdict on
        one of `cells` is within its 95% half-width of a target; and the replications used."""
        used = self.reps
        figures = self(plan, horizon, used)
        while used < REFINE * self.reps and not all(targets.of(n).clear(figures.cell(i, n)) for i, n in cells):
            used *= 2
            figures = self(plan, horizon, used)
        return figures, used


def _reporter(progress: Progress | None) -> Callable[[int, int, str], None]:
    """`progress` called with (done, total, stage), or with (done, total) if it takes two arguments."""
    if progress is None:
        return lambda done, total, stage: None
    try:
        parameters = inspect.signature(progress).parameters.values()
        positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        takes_stage = len(positional) >= 3 or any(p.kind is p.VAR_POSITIONAL for p in parameters)
    except (TypeError, ValueError):
        takes_stage = False
    if takes_stage:
        return progress
    return lambda done, total, stage: progress(done, total)


def search(
    scenario: Scenario | str | Path,
    targets: TargetsLike = None,
    ceilings: TargetsLike = None,
    *,
    reps: int = 20,
    confirm_reps: int | None = None,
    seed: int | None = None,
    jobs: int | None = None,
    executor: Executor | None = None,
    only: str | None = None,
    progress: Progress | None = None,
    confidence: float | None = None,
    days_met: float | None = None,
) -> StaffingPlan:
    """The fewest agents per interval and department that meet `targets` (floors: `{"service_level": 0.8}`
    or `["service_level=0.8"]`; default the scenario's own) and `ceilings` (`{"abandon_rate": 0.05}`) in
    simulation (see the module). `confidence`: each goal met by its one-sided Student-t bound at that
    confidence, not by the mean; `days_met`: every goal met on at least that share of the simulated days
    (both in (0, 1); default the scenario's `goals.confidence` and `goals.days_met`; see
    `sim.experiments.staffing.confidence`). `only`: re-plan that department alone, the others keep their
    staffing. Runs on `executor` (left open), else on `jobs` local processes (default: all cores). Prints
    nothing."""
    started = time.perf_counter()
    base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    goals = targets_from(targets, ceilings, base, confidence, days_met)
    staffed = staffed_departments(base)
    names = searched_departments(base, staffed)  # email departments keep their staffing
    if only is not None and only in staffed and only not in names:
        raise StaffingError(f"--only {only!r}: {EMAIL_REFUSED}")
    if not staffed:
        raise StaffingError("no department has agents of its own to staff")
    if not names:
        raise StaffingError(f"no call or chat department has agents of its own to staff; {EMAIL_REFUSED}")
    if only is not None:
        if only not in names:
            known = ", ".join(names)
            raise StaffingError(f"--only {only!r}: not a department with agents of its own ({known})")
        names = [only]
    if reps < 2:
        raise StaffingError("--reps must be >= 2 (the figures need confidence intervals)")
    seed = base.seed if seed is None else seed
    confirm_seed = seed + 1
    confirm_reps = confirm_reps or max(reps, 10)
    report = _reporter(progress)
    own = executor or make_executor(jobs)
    try:
        erlang_a, erlang_c = erlang_plans(base, goals)
        evaluate = Evaluator(own, base, seed, reps, targets=goals)
        search_ = _Search(base, goals, names, erlang_a, erlang_c, evaluate, report)
        plan, steps, unreachable, figures = search_.run()
        table = plan_table(base, plan, erlang_a, erlang_c, figures, goals)
        report(search_.total - 1, search_.total, "confirmation")
        confirmation = confirm(own, with_plan(base, plan), confirm_seed, confirm_reps, goals, names)
        confirmed = confirmation.pop("table")
        table = table.join(confirmed, on=["interval", "department"])
        report(search_.total, search_.total, "done")
    finally:
        if executor is None:
            own.close()
    return StaffingPlan(
        scenario=base,
        targets=goals,
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
        simulated_days=round(evaluate.simulated + confirm_reps, 1),
        wall_time=time.perf_counter() - started,
        only=only,
    )


class _Search:
    """One search's state: the plan, each cell's bracket, and the record of every count judged."""

    def __init__(
        self,
        scenario: Scenario,
        targets: Targets,
        names: Sequence[str],
        erlang_a: Plan,
        erlang_c: Plan,
        evaluate: Evaluator,
        report: Callable[[int, int, str], None],
    ) -> None:
        self.scenario = scenario
        self.targets = targets
        self.names = list(names)
        self.erlang_a = erlang_a
        self.evaluate = evaluate
        self.report = report
        intervals = scenario.interval_count
        # not measured (the warm-up): keep Erlang A, so the measured day starts from a loaded centre
        self.measured = [i for i in range(intervals) if (i + 1) * scenario.interval > scenario.warmup]
        self.plan: Plan = {name: list(erlang_a[name]) for name in self.names}
        self.caps = {
            name: [
                math.ceil(1.5 * max(a, c)) + 5 for a, c in zip(erlang_a[name], erlang_c[name], strict=True)
            ]
            for name in self.names
        }
        self.brackets = {
            (i, name): _Bracket(self.plan[name][i], self.caps[name][i])
            for i in self.measured
            for name in self.names
        }
        self.steps: list[dict[str, Any]] = []
        self.known_bad: dict[tuple[int, str], int] = {}
        """Per cell, the most agents seen to miss the targets beyond noise (never tried again)."""
        self.total = len(self.brackets) + 2

    def run(self) -> tuple[Plan, list[dict[str, Any]], list[tuple[int, str]], Pooled]:
        """Explore, then check; the plan, the steps, the cells whose targets were not reached, the figures."""
        self.report(0, self.total, "search")
        self.explore()
        self.report(len(self.brackets), self.total, "check")
        figures = self.check()
        unreachable = [cell for cell, bracket in self.brackets.items() if not bracket.reached]
        return self.plan, self.steps, sorted(unreachable), figures

    def _record(
        self, stage: str, cell: tuple[int, str], count: int, reps: int, here: Mapping[str, float], ok: bool
    ) -> None:
        self.steps.append(
            {
                "step": len(self.steps),
                "stage": stage,
                "interval": cell[0],
                "department": cell[1],
                "agents": count,
                "reps": reps,
                **{k: float(here[k]) for k in FIGURES},
                "acceptable": ok,
            }
        )

    def _hands_over(self, figures: Pooled, cell: tuple[int, str], count: int) -> bool:
        """Whether the interval before still meets the targets with `count` agents in this one (always, at
        or above the Erlang A count, or when that interval is not measured, not reached or still moving)."""
        index, name = cell
        before = self.brackets.get((index - 1, name))
        if before is None or count >= self.erlang_a[name][index] or not before.reached or not before.settled:
            return True
        return self.targets.of(name).met(figures.cell(index - 1, name))

    def _clearly(self, figures: Pooled, cell: tuple[int, str]) -> bool:
        """Whether a failing verdict on `cell` is beyond noise: the figure that missed (the cell's own, or
        else the interval before, which its agents also serve) is clear of every target by more than its
        95% half-width."""
        index, name = cell
        targets = self.targets.of(name)
        if not targets.met(figures.cell(index, name)):
            return targets.clear(figures.cell(index, name))
        return targets.clear(figures.cell(index - 1, name))

    def explore(self) -> None:
        """Every unsettled cell judged on the same simulated days, each moved by its bracket, until all settle."""
        for _ in range(MAX_ROUNDS):
            open_ = [cell for cell, bracket in self.brackets.items() if not bracket.settled]
            if not open_:
                return
            horizon = max(index for index, _ in open_) + 2
            figures = self.evaluate(self.plan, horizon)
            for cell in open_:
                index, name = cell
                here = figures.cell(index, name)
                count = self.plan[name][index]
                ok = self.targets.of(name).met(here) and self._hands_over(figures, cell, count)
                self._record("explore", cell, count, self.evaluate.reps, here, ok)
                if not ok and self._clearly(figures, cell):  # beyond noise: the check need not try it again
                    self.known_bad[cell] = max(self.known_bad.get(cell, -1), count)
                shortfall = self.targets.of(name).shortfall(here)
                self.plan[name][index] = self.brackets[cell].next(count, ok, shortfall)
            settled = sum(bracket.settled for bracket in self.brackets.values())
            self.report(settled, self.total, "search")
        for bracket in self.brackets.values():  # rounds ran out: what was found stands, checked next
            bracket.settled = True

    def check(self) -> Pooled:
        """Decide the end game on refined evidence. First one fewer agent in every even interval, then in every
        odd one (so a tried cell's neighbours keep their counts): a cell that meets the targets so, and whose
        previous interval still does, keeps one fewer. Then the plan itself: cells that miss get one more
        agent, until none misses. Returns the plan's figures."""
        reached = [cell for cell, bracket in self.brackets.items() if bracket.reached]
        for parity in (0, 1):
            tried = [
                (i, n)
                for i, n in reached
                if i % 2 == parity and self.plan[n][i] - 1 > self.known_bad.get((i, n), -1)
            ]
            if tried:
                self._fewer(tried)
        for _ in range(MAX_ROUNDS):
            figures, used = self.evaluate.refined(self.plan, reached, self.targets)
            missing = [cell for cell in reached if not self.targets.of(cell[1]).met(figures.cell(*cell))]
            if not missing:
                return figures
            for cell in missing:
                index, name = cell
                count = self.plan[name][index]
                self._record("check", cell, count, used, figures.cell(*cell), False)
                self.known_bad[cell] = max(self.known_bad.get(cell, -1), count)
                if count < self.caps[name][index]:
                    self.plan[name][index] = count + 1
                else:  # at the cap and still missing: more agents stopped helping
                    self.brackets[cell].reached = False
                    reached.remove(cell)
        return self.evaluate.refined(self.plan, reached, self.targets)[0]

    def _fewer(self, tried: Sequence[tuple[int, str]]) -> None:
        """Judge one agent fewer in each of `tried` (no two adjacent) at once, on refined evidence, and keep
        one fewer where the targets are still met there and in the interval before."""
        fewer = {name: list(counts) for name, counts in self.plan.items()}
        for index, name in tried:
            fewer[name][index] -= 1
        judged = [*tried, *((i - 1, n) for i, n in tried if (i - 1, n) in self.brackets)]
        lower, used = self.evaluate.refined(fewer, judged, self.targets)
        for cell in tried:
            index, name = cell
            here = lower.cell(index, name)
            before = self.brackets.get((index - 1, name))
            hands_over = (
                before is None
                or fewer[name][index] >= self.erlang_a[name][index]
                or not before.reached
                or self.targets.of(name).met(lower.cell(index - 1, name))
            )
            ok = self.targets.of(name).met(here) and hands_over
            self._record("check", cell, fewer[name][index], used, here, ok)
            if ok:
                self.plan[name][index] = fewer[name][index]
            else:
                self.known_bad[cell] = max(self.known_bad.get(cell, -1), fewer[name][index])
