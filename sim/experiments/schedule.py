"""`callsim schedule`: a roster of shifts from a requirement, simulated and repaired until it meets the goals.

1. The integer programme (`sim.experiments.shift_milp`) finds the roster of least paid hours (or cost)
   whose agents on duty, after breaks, cover the requirement in every slot.
2. The roster, as `shifts:` with their breaks, replaces the planned departments' staffing; the day is
   simulated `reps` times with the same seed every round (common random numbers: a round differs from the
   one before only by the roster) and every interval and department is judged against the targets.
3. While a cell misses (beyond its 95% half-width, or on the mean with `strict`), the cheapest shift of the
   catalogue on duty in the worst-missed interval (breaks placed away from missed intervals, limits of the
   catalogue respected) is added, and the day simulated again; up to `max_rounds` repairs.

Values in, a `Schedule` of DataFrames out; nothing printed or written (`sim.output.schedule_folder`
writes the folder, `sim.cli.schedule` prints a line per round through `progress`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.executors import Executor, SerialExecutor, run_all
from sim.experiments.shift_milp import (
    DAY,
    Column,
    Grid,
    Roster,
    RosterRow,
    ScheduleError,
    add_head,
    break_choices,
    columns_for,
    make_grid,
    on_duty,
    paid_hours,
    required_per_slot,
    roster_cost,
    solve,
)
from sim.experiments.staffing.figures import Pooled, confirmation_kpis, day_figures, pool
from sim.experiments.staffing.targets import Targets
from sim.model.agent_schedules import AgentPeriod, AgentSchedule
from sim.model.durations import format_clock
from sim.model.scenario import Scenario, Shift
from sim.model.shift_catalogue import ShiftCatalogue, department_problems

MAX_SHIFT_ROWS = 100
"""The most `shifts:` a staffing holds (`sim.model.scenario`); a longer roster becomes agent-schedule rows."""
Progress = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Schedule:
    """A roster built and repaired: the first (integer programme's) and final roster, a row per round, and
    the final figures per interval and department."""

    scenario: Scenario
    """The scenario as given (its planned departments' staffing replaced in `rostered`)."""
    rostered: Scenario
    """The scenario running the final roster."""
    catalogue: ShiftCatalogue
    requirement: dict[str, list[int]]
    objective: str
    targets: Targets
    strict: bool
    seed: int
    reps: int
    grid: Grid
    first: Roster
    roster: Roster
    rounds: pd.DataFrame
    cells: pd.DataFrame
    notes: tuple[str, ...]
    simulated_days: int
    wall_time: float

    @property
    def paid_hours(self) -> float:
        return paid_hours(self.roster)

    @property
    def cost(self) -> float:
        return roster_cost(self.roster)

    @property
    def table(self) -> pd.DataFrame:
        """The final roster: department, shift, start, end, heads, breaks, paid hours and cost per head."""
        return roster_table(self.roster, self.grid)

    def coverage(self) -> pd.DataFrame:
        """Per slot and department: agents required and on duty after breaks (first and final roster)."""
        frames = []
        for department, counts in self.requirement.items():
            frames.append(
                pd.DataFrame(
                    {
                        "slot_start": [
                            format_clock(self.grid.start + t * self.grid.slot) for t in range(self.grid.slots)
                        ],
                        "department": department,
                        "required": required_per_slot(counts, self.grid).astype(int),
                        "on_duty_first": on_duty(self.first, department, self.grid).astype(int),
                        "on_duty": on_duty(self.roster, department, self.grid).astype(int),
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)


def roster_table(roster: Roster, grid: Grid) -> pd.DataFrame:
    """One row per roster row: department, shift kind, start, end, heads, breaks (`10:00 15m; ...`)."""
    rows = []
    order = {name: k for k, name in enumerate(dict.fromkeys(row.department for row in roster))}
    kinds = {name: k for k, name in enumerate(dict.fromkeys(row.column.kind for row in roster))}
    ordered = sorted(
        roster, key=lambda r: (order[r.department], r.column.begin, kinds[r.column.kind], r.break_offsets)
    )
    for row in ordered:
        column = row.column
        start = grid.start + column.begin
        rests = [
            f"{format_clock(start + offset)} {rule.length / 60:g}m" + ("" if rule.paid else " unpaid")
            for rule, offset in zip(column.shift.breaks, row.break_offsets, strict=True)
        ]
        rows.append(
            {
                "department": row.department,
                "shift": column.kind,
                "start": format_clock(start),
                "end": format_clock(start + column.shift.length),
                "heads": row.heads,
                "breaks": "; ".join(rests),
                "paid_hours": column.paid_hours,
                "cost_per_head": column.cost,
            }
        )
    columns = ["department", "shift", "start", "end", "heads", "breaks", "paid_hours", "cost_per_head"]
    return pd.DataFrame(rows, columns=columns)


def shifts_of(roster: Roster, department: str, scenario: Scenario) -> tuple[Shift, ...]:
    """The department's roster rows as scenario shifts with their breaks (clock times)."""
    shifts = []
    for row in roster:
        if row.department != department:
            continue
        start = (scenario.start + row.column.begin) % DAY
        breaks = [
            {"at": (start + offset) % DAY, "length": rule.length}
            for rule, offset in zip(row.column.shift.breaks, row.break_offsets, strict=True)
        ]
        end = (start + row.column.shift.length) % DAY
        shifts.append(
            Shift.model_validate({"start": start, "end": end, "count": row.heads, "breaks": breaks or None})
        )
    return tuple(shifts)


def periods_of(roster: Roster, department: str, scenario: Scenario) -> tuple[AgentPeriod, ...]:
    """The department's roster rows as agent-schedule periods, split around each break."""
    periods = []
    for row in roster:
        if row.department != department:
            continue
        start = scenario.start + row.column.begin
        edges = [start]
        for rule, offset in zip(row.column.shift.breaks, row.break_offsets, strict=True):
            edges += [start + offset, start + offset + rule.length]
        edges.append(start + row.column.shift.length)
        for begin, end in zip(edges[::2], edges[1::2], strict=True):
            if end > begin:
                periods.append(AgentPeriod(start=begin % DAY, end=end % DAY, count=row.heads))
    return tuple(periods)


def with_roster(scenario: Scenario, roster: Roster, departments: Sequence[str]) -> Scenario:
    """The scenario with each department's staffing replaced by its roster rows: `shifts:` with breaks, or,
    beyond `MAX_SHIFT_ROWS` rows, an agent schedule whose periods leave each break out. A department
    without a roster row has no agents."""
    updated = dict(scenario.departments)
    for name in departments:
        department = updated[name]
        agents = department.agents
        if agents is None:
            raise ScheduleError(f"{name} has no agents of its own to roster")
        shifts = shifts_of(roster, name, scenario)
        blank = {"count": None, "per_interval": None, "shifts": None, "file": None}
        if not shifts:
            staffed = agents.model_copy(update={**blank, "count": 0})
        elif len(shifts) <= MAX_SHIFT_ROWS:
            staffed = agents.model_copy(update={**blank, "shifts": shifts})
        else:
            schedule = AgentSchedule(source=f"roster-{name}.csv", periods=periods_of(roster, name, scenario))
            staffed = agents.model_copy(update={**blank, "file": schedule})
        updated[name] = department.model_copy(update={"agents": staffed})
    return scenario.model_copy(update={"departments": updated})


def _judged(figures: Mapping[str, float], targets: Targets, strict: bool) -> tuple[bool, float]:
    """(missed, shortfall) of one cell: missed on the mean (`strict`) or beyond its 95% half-width."""
    if strict:
        return not targets.met(figures), targets.shortfall(figures)
    moved = dict(figures)
    for key in targets.floors:
        width = figures.get(f"{key}_ci95")
        if width is not None and not math.isnan(width):
            moved[key] = figures[key] + width
    for key in targets.ceilings:
        width = figures.get(f"{key}_ci95")
        if width is not None and not math.isnan(width):
            moved[key] = figures[key] - width
    return not targets.met(moved), targets.shortfall(moved)


def judge(
    pooled: Pooled, scenario: Scenario, departments: Sequence[str], targets: Targets, strict: bool
) -> pd.DataFrame:
    """Per interval and planned department: the figures, whether the cell missed and by how much."""
    frame = pooled.frame().reset_index()
    planned = frame["department"].isin(list(departments)).to_numpy()
    frame = frame[planned].reset_index(drop=True)
    cells = [cell for cell, kept in zip(pooled.cells(), planned, strict=True) if kept]  # spreads and shares too
    verdicts = [
        _judged(cell, targets.of(name), strict) if cell["offered"] > 0 else (False, 0.0)
        for cell, name in zip(cells, frame["department"], strict=True)
    ]
    frame["start"] = [format_clock(scenario.start + i * scenario.interval) for i in frame["interval"]]
    frame["missed"] = [missed for missed, _ in verdicts]
    frame["shortfall"] = [shortfall if missed else 0.0 for missed, shortfall in verdicts]
    return frame


def _candidate(
    column: Column,
    department: str,
    interval_slots: tuple[int, int],
    missed_slots: np.ndarray,
    grid: Grid,
    step: float,
) -> tuple[RosterRow, int, int]:
    """One agent on the column with breaks placed away from the worst interval, then from other missed
    slots; with its slots on duty in the worst interval and in other missed intervals."""
    first, last = interval_slots
    offsets = []
    for rule, allowed in zip(column.shift.breaks, break_choices(column, step), strict=True):
        middle = (allowed[0] + allowed[-1]) / 2
        scores = []
        for offset in allowed:
            begin, end = grid.span(column.begin + offset, rule.length)
            overlap = max(0, min(end, last) - max(begin, first))
            scores.append((overlap, int(missed_slots[begin:end].sum()), abs(offset - middle), offset))
        offsets.append(min(scores)[-1])
    row = RosterRow(department, column, 1, tuple(offsets))
    duty = row.on_duty(grid)
    return row, int(duty[first:last].sum()), int((duty * missed_slots).sum())


def repair_shift(
    roster: Roster,
    cells: pd.DataFrame,
    scenario: Scenario,
    catalogue: ShiftCatalogue,
    grid: Grid,
    objective: str,
) -> tuple[RosterRow, int, dict[str, Any]] | None:
    """The shift to add for the worst missed cell: on duty in as much of its interval as any shift can be,
    the cheapest of those (paid hours or cost), then the one covering most other missed slots; with how
    many agents to add (a kind's `heads.min` for an unused start). None if no shift can help."""
    missed = cells[cells["missed"]]
    if missed.empty:
        return None
    worst = missed.iloc[int(np.argmax(missed["shortfall"].to_numpy()))]
    department, interval = str(worst["department"]), int(worst["interval"])
    first = round(interval * scenario.interval / grid.slot)
    last = min(round((interval + 1) * scenario.interval / grid.slot), grid.slots)
    missed_slots = np.zeros(grid.slots)
    for index in missed.loc[missed["department"] == department, "interval"]:
        a = round(int(index) * scenario.interval / grid.slot)
        missed_slots[a : min(round((int(index) + 1) * scenario.interval / grid.slot), grid.slots)] = 1.0
    heads: dict[Column, int] = {}
    for row in roster:
        if row.department == department:
            heads[row.column] = heads.get(row.column, 0) + row.heads
    total = sum(heads.values())
    limit = catalogue.agents.get(department)
    options = []
    for column in columns_for(scenario, catalogue, department):
        kind = column.shift
        now = heads.get(column, 0)
        adding = max(1, kind.heads.min - now) if now == 0 else 1
        of_kind = sum(n for c, n in heads.items() if c.kind == column.kind)
        if (kind.heads.max is not None and now + adding > kind.heads.max) or (
            kind.most is not None and of_kind + adding > kind.most
        ):
            continue
        if limit is not None and total + adding > limit:
            continue
        row, here, elsewhere = _candidate(
            column, department, (first, last), missed_slots, grid, catalogue.break_step
        )
        if here <= 0:
            continue
        price = adding * (column.paid_hours if objective == "hours" else column.cost)
        options.append(((-here, price, -elsewhere, column.begin), row, adding))
    if not options:
        return None
    _, row, adding = min(options, key=lambda option: option[0])
    return (
        row,
        adding,
        {
            "department": department,
            "interval": interval,
            "start": str(worst["start"]),
            "shortfall": float(worst["shortfall"]),
        },
    )


def _worst(cells: pd.DataFrame) -> str:
    """`15:00 billing`: the worst-missed cell, or '' when none missed."""
    if not cells["missed"].any():
        return ""
    worst = cells.iloc[int(np.argmax(cells["shortfall"].to_numpy()))]
    return f"{worst['start']} {worst['department']}"


def simulate_roster(
    executor: Executor, scenario: Scenario, seed: int, reps: int, targets: Targets | None = None
) -> tuple[Pooled, dict[str, float]]:
    """The roster's day `reps` times: per interval and department figures pooled (with `targets`, each
    cell's share of days that met them, for `days_met`), and the day's means."""
    results = run_all(executor, confirmation_kpis, [(scenario, seed, r) for r in range(reps)])
    pooled = pool([tables for tables, _ in results], list(scenario.departments), targets)
    day, _ = day_figures([row for _, row in results])
    return pooled, day


def check_requirement(
    requirement: Mapping[str, Sequence[int]], scenario: Scenario, catalogue: ShiftCatalogue
) -> None:
    """Refuse (`ScheduleError`) a requirement naming a department without agents of its own, with a count
    per interval missing or negative, or a catalogue's `agents:` naming a department not planned."""
    faults = [str(problem) for problem in department_problems(catalogue, requirement)]
    for name, counts in requirement.items():
        department = scenario.departments.get(name)
        if department is None or department.agents is None:
            faults.append(f"{name}: not a department with agents of its own in scenario {scenario.name}")
        elif len(counts) != scenario.interval_count or min(counts, default=0) < 0:
            faults.append(
                f"{name}: expected {scenario.interval_count} counts of at least 0 (one per interval), "
                f"got {len(counts)}"
            )
    if not requirement:
        faults.append("the requirement names no department")
    if faults:
        raise ScheduleError("; ".join(faults))


def schedule(
    scenario: Scenario,
    catalogue: ShiftCatalogue,
    requirement: Mapping[str, Sequence[int]],
    targets: Targets,
    objective: str = "hours",
    reps: int = 20,
    seed: int | None = None,
    max_rounds: int = 20,
    strict: bool = False,
    executor: Executor | None = None,
    progress: Progress | None = None,
    time_limit: float = 60.0,
) -> Schedule:
    """Build the roster by integer programming, then simulate and repair it (module docstring)."""
    started = time.perf_counter()
    if reps < 2:
        raise ScheduleError(f"reps: at least 2 replications (a half-width needs two), got {reps}")
    if max_rounds < 0:
        raise ScheduleError(f"max_rounds: at least 0, got {max_rounds}")
    needed = {name: [int(c) for c in counts] for name, counts in requirement.items()}
    check_requirement(needed, scenario, catalogue)
    departments = list(needed)
    notes: list[str] = []
    first = solve(needed, scenario, catalogue, objective, time_limit, notes)
    grid = make_grid(scenario, catalogue)
    seed = scenario.seed if seed is None else seed
    executor = executor or SerialExecutor()
    roster, rounds, added = first, [], "the integer programme's roster"
    days = 0
    for number in range(max_rounds + 1):
        rostered = with_roster(scenario, roster, departments)
        pooled, day = simulate_roster(executor, rostered, seed, reps, targets)
        days += reps
        cells = judge(pooled, scenario, departments, targets, strict)
        choice = (
            repair_shift(roster, cells, scenario, catalogue, grid, objective)
            if cells["missed"].any()
            else None
        )
        record = {
            "round": number,
            "change": added,
            "shifts": sum(row.heads for row in roster),
            "paid_hours": paid_hours(roster),
            "cost": roster_cost(roster),
            "cells_missed": int(cells["missed"].sum()),
            "cells_judged": int((cells["offered"] > 0).sum()),
            "service_level": day.get("service_level", math.nan),
            "abandon_rate": day.get("abandon_rate", math.nan),
            "worst_miss": _worst(cells),
        }
        rounds.append(record)
        if progress is not None:
            progress(record)
        if not cells["missed"].any():
            break
        if choice is None:
            notes.append(
                f"round {number}: no shift of the catalogue can be added for {record['worst_miss']} (limits reached)"
            )
            break
        if number == max_rounds:
            notes.append(
                f"stopped after {max_rounds} repairs with {record['cells_missed']} cell(s) still missed"
            )
            break
        row, adding, worst = choice
        for _ in range(adding):
            roster = add_head(roster, row)
        added = (
            f"+{adding} {row.column.kind} {format_clock(grid.start + row.column.begin)} {row.department} "
            f"for {worst['start']}"
        )
    cells = cells.assign(
        required=[needed[d][i] for i, d in zip(cells["interval"], cells["department"], strict=True)],
    )
    return Schedule(
        scenario=scenario,
        rostered=rostered,
        catalogue=catalogue,
        requirement=needed,
        objective=objective,
        targets=targets,
        strict=strict,
        seed=seed,
        reps=reps,
        grid=grid,
        first=first,
        roster=roster,
        rounds=pd.DataFrame(rounds),
        cells=cells,
        notes=tuple(notes),
        simulated_days=days,
        wall_time=time.perf_counter() - started,
    )
