"""The roster of least paid hours (or least cost) covering a requirement, by integer programming.

Time is cut into slots: the greatest common divisor of the interval, the shift lengths and start offsets,
the break lengths, windows and `break_step` (15 minutes for a usual catalogue). One integer programme per
department (departments share nothing), solved by HiGHS through `scipy.optimize.milp`:

- `x[c]`: agents on column c (a kind of shift starting at one start time), between the kind's `heads` when
  used (semi-integer when `min` > 1: 0, or `min` to `max`);
- `w[c, k, o]`: those of them taking their k-th break `o` after the start (every start on the `break_step`
  grid inside the rule's window), with `sum_o w[c, k, o] = x[c]` for every break rule k (Aykin's explicit
  break formulation: break times are chosen by the programme itself, not placed afterwards);
- coverage, every slot t: `sum_c on[c, t] x[c] - sum_{c,k,o} away[c, k, o, t] w[c, k, o] >= required(t)`,
  agents on a break counted absent; required(t) is the requirement of the interval holding slot t;
- at most `agents.NAME` shifts in the department, at most `most` of each kind;
- objective: paid hours (length less unpaid breaks), or cost (paid hours x the department's wage from the
  scenario's `costs:` block, the overtime premium on the part of a shift past `costs.overtime.after`, and the
  kind's `cost_per_shift`).

Each break rule's window cannot overlap its neighbours' (the catalogue's check), so any pairing of break
times is a valid day for an agent: the i-th agent of a column takes the i-th earliest of each break's times.
Pure: values in, a `Roster` out.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import reduce

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from sim.model.costs import Costs
from sim.model.durations import format_clock
from sim.model.scenario import Scenario
from sim.model.shift_catalogue import ShiftCatalogue, ShiftKind

DAY = 86400.0
MAX_SLOTS = 5000
OBJECTIVES = ("hours", "cost")
MIP_GAP = 1e-4
"""HiGHS stops when its roster is within this share of the best possible: exact for paid hours (whole half
hours on a day of a few hundred), within 0.01% for cost."""


class ScheduleError(ValueError):
    """A roster that cannot be built: no shift covers an interval, limits too tight, a bad option."""


@dataclass(frozen=True)
class Grid:
    """The day in slots: `slot` seconds each from the scenario's start, `intervals` of the requirement."""

    start: float
    slot: int
    slots: int
    interval: float

    def interval_of_slots(self) -> np.ndarray:
        """For each slot, the index of the requirement interval holding it."""
        return (np.arange(self.slots) * self.slot // self.interval).astype(int)

    def span(self, begin: float, length: float) -> tuple[int, int]:
        """The slots `[first, last)` from `begin` seconds after the start for `length` seconds, clipped."""
        first = round(begin / self.slot)
        return max(first, 0), min(first + round(length / self.slot), self.slots)


@dataclass(frozen=True)
class Column:
    """One kind of shift starting at one clock time, with what one agent on it costs."""

    kind: str
    begin: float
    """Seconds after the scenario's start."""
    shift: ShiftKind
    cost: float
    """Wages, overtime premium and `cost_per_shift` of one agent on it."""

    @property
    def paid_hours(self) -> float:
        return self.shift.paid_time / 3600.0


@dataclass(frozen=True)
class RosterRow:
    """`heads` agents on one shift of a department, all with the same break times (`break_offsets`, seconds
    after the shift's start, one per break rule of the kind)."""

    department: str
    column: Column
    heads: int
    break_offsets: tuple[float, ...]

    def on_duty(self, grid: Grid) -> np.ndarray:
        """Per slot, the agents of this row on duty (after breaks)."""
        level = np.zeros(grid.slots)
        first, last = grid.span(self.column.begin, self.column.shift.length)
        level[first:last] += self.heads
        for rule, offset in zip(self.column.shift.breaks, self.break_offsets, strict=True):
            first, last = grid.span(self.column.begin + offset, rule.length)
            level[first:last] -= self.heads
        return level


Roster = tuple[RosterRow, ...]


def make_grid(scenario: Scenario, catalogue: ShiftCatalogue) -> Grid:
    """The slot grid fine enough for every start, length, break and interval boundary."""
    if scenario.duration > DAY + 1e-9:
        raise ScheduleError(f"a roster is for one day; the scenario's duration is {scenario.duration:g}s")
    values = [scenario.interval, catalogue.break_step]
    for kind in catalogue.shifts.values():
        values += [kind.length, *((t - scenario.start) % DAY for t in kind.start_times())]
        values += [v for rule in kind.breaks for v in (rule.length, rule.earliest)]
    whole = [round(v) for v in values if round(v) > 0]
    if any(abs(v - round(v)) > 1e-6 for v in values):
        raise ScheduleError("shift lengths, starts and breaks must be whole seconds")
    slot = reduce(math.gcd, whole)
    slots = math.ceil(scenario.duration / slot - 1e-9)
    if slots > MAX_SLOTS:
        raise ScheduleError(
            f"the catalogue's times cut the day into {slots} slots of {slot}s (at most {MAX_SLOTS}); "
            "use starts, lengths and breaks on a coarser grid (e.g. whole 5 minutes)"
        )
    return Grid(scenario.start, slot, slots, scenario.interval)


def shift_cost(kind: ShiftKind, wage: float, costs: Costs | None) -> float:
    """One agent's shift: paid hours x wage, the overtime premium past `costs.overtime.after` of the span
    (as `sim.analysis.costs` counts it), and the kind's `cost_per_shift`."""
    premium = 0.0
    if costs is not None and costs.overtime is not None:
        premium = (costs.overtime.factor - 1.0) * wage * max(0.0, kind.length - costs.overtime.after) / 3600.0
    return wage * kind.paid_time / 3600.0 + premium + kind.cost_per_shift


def columns_for(scenario: Scenario, catalogue: ShiftCatalogue, department: str) -> list[Column]:
    """Every kind at every start time inside the day, priced for the department."""
    costs = scenario.costs
    wage = costs.wage_of(department) if costs is not None else 0.0
    columns = []
    for name, kind in catalogue.shifts.items():
        price = shift_cost(kind, wage, costs)
        for clock in dict.fromkeys(kind.start_times()):
            begin = (clock - scenario.start) % DAY
            if begin < scenario.duration - 1e-9:
                columns.append(Column(name, begin, kind, price))
    return columns


def break_choices(column: Column, step: float) -> list[list[float]]:
    """For each break rule of the column's kind, the break starts allowed (seconds after the shift's start)."""
    return [
        [rule.earliest + k * step for k in range(round((rule.latest - rule.earliest) / step) + 1)]
        for rule in column.shift.breaks
    ]


def required_per_slot(requirement: Sequence[int], grid: Grid) -> np.ndarray:
    """Each slot's requirement: that of the interval holding it."""
    return np.asarray(requirement, dtype=float)[grid.interval_of_slots()]


def solve_department(
    department: str,
    requirement: Sequence[int],
    columns: Sequence[Column],
    catalogue: ShiftCatalogue,
    grid: Grid,
    objective: str = "hours",
    time_limit: float = 60.0,
    notes: list[str] | None = None,
) -> Roster:
    """The department's optimal roster (rows grouped by shift and break times), or a `ScheduleError`."""
    if objective not in OBJECTIVES:
        raise ScheduleError(f"objective {objective!r}: expected one of {', '.join(OBJECTIVES)}")
    required = required_per_slot(requirement, grid)
    if not required.any():
        return ()
    choices = [break_choices(column, catalogue.break_step) for column in columns]
    # variable layout: x (one per column), then w (per column, rule, offset), then used (binaries)
    w_index: list[list[list[int]]] = []
    count = len(columns)
    for per_rule in choices:
        w_index.append([list(range(count, count + len(offsets))) for offsets in per_rule])
        count += sum(len(offsets) for offsets in per_rule)
    semi = [c for c, column in enumerate(columns) if column.shift.heads.min > 1]
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lower: list[float] = []
    upper: list[float] = []

    def add(entries: Sequence[tuple[int, float]], low: float, high: float) -> None:
        row = len(lower)
        for col, value in entries:
            rows.append(row)
            cols.append(col)
            vals.append(value)
        lower.append(low)
        upper.append(high)

    cover: list[list[tuple[int, float]]] = [[] for _ in range(grid.slots)]
    for c, column in enumerate(columns):
        first, last = grid.span(column.begin, column.shift.length)
        for t in range(first, last):
            cover[t].append((c, 1.0))
        for rule, offsets, indices in zip(column.shift.breaks, choices[c], w_index[c], strict=True):
            add([(c, -1.0), *((i, 1.0) for i in indices)], 0.0, 0.0)  # every agent takes each break once
            for offset, i in zip(offsets, indices, strict=True):
                begin, end = grid.span(column.begin + offset, rule.length)
                for t in range(begin, end):
                    cover[t].append((i, -1.0))
    for t in (int(k) for k in np.flatnonzero(required > 0)):
        if not any(value > 0 for _, value in cover[t]):
            at = format_clock(grid.start + t * grid.slot)
            raise ScheduleError(
                f"{department}: no shift of the catalogue is on duty at {at}, where agents are required"
            )
        add(cover[t], float(required[t]), math.inf)
    peak = float(required.max())
    big = 2.0 * peak + 10.0
    x_upper = [
        float(column.shift.heads.max) if column.shift.heads.max is not None else big for column in columns
    ]
    limit = catalogue.agents.get(department)
    if limit is not None:
        add([(c, 1.0) for c in range(len(columns))], 0.0, float(limit))
    for name, kind in catalogue.shifts.items():
        if kind.most is not None:
            add([(c, 1.0) for c, column in enumerate(columns) if column.kind == name], 0.0, float(kind.most))
    weights = np.zeros(count)
    for c, column in enumerate(columns):
        weights[c] = column.paid_hours if objective == "hours" else column.cost
    high = np.full(count, big)
    high[: len(columns)] = x_upper
    low = np.zeros(count)
    kinds = np.ones(count)
    for c in semi:  # semi-integer: 0, or `min` to the upper bound
        low[c] = float(columns[c].shift.heads.min)
        kinds[c] = 3
    matrix = coo_matrix((vals, (rows, cols)), shape=(len(lower), count)).tocsr()
    result = milp(
        weights,
        integrality=kinds,
        bounds=Bounds(low, high),
        constraints=LinearConstraint(matrix, lower, upper),
        options={"time_limit": time_limit, "mip_rel_gap": MIP_GAP},
    )
    if result.x is None:
        raise ScheduleError(
            f"{department}: no roster of the catalogue covers the requirement within its limits "
            f"(agents, most, heads): {result.message}"
        )
    if result.status != 0 and notes is not None:  # a time limit: the best roster found, maybe not the least
        notes.append(
            f"{department}: the integer programme stopped at its {time_limit:g}s time limit with a roster of "
            f"{result.fun:g} against a bound of {getattr(result, 'mip_dual_bound', math.nan):g}"
        )
    values = np.round(result.x).astype(int)
    return _rows(department, columns, choices, w_index, values)


def _rows(
    department: str,
    columns: Sequence[Column],
    choices: Sequence[Sequence[Sequence[float]]],
    w_index: Sequence[Sequence[Sequence[int]]],
    values: np.ndarray,
) -> Roster:
    """The solution as rows: the i-th agent of a column takes the i-th earliest time of every break."""
    roster = []
    for c, column in enumerate(columns):
        heads = int(values[c])
        if heads <= 0:
            continue
        per_rule = [
            [offset for offset, i in zip(offsets, indices, strict=True) for _ in range(int(values[i]))]
            for offsets, indices in zip(choices[c], w_index[c], strict=True)
        ]
        people = Counter(tuple(times[i] for times in per_rule) for i in range(heads))
        roster += [RosterRow(department, column, n, offsets) for offsets, n in sorted(people.items())]
    return tuple(roster)


def solve(
    requirement: Mapping[str, Sequence[int]],
    scenario: Scenario,
    catalogue: ShiftCatalogue,
    objective: str = "hours",
    time_limit: float = 60.0,
    notes: list[str] | None = None,
) -> Roster:
    """The optimal roster of every department of the requirement (a time limit reached: noted in `notes`)."""
    if (
        objective == "cost"
        and scenario.costs is None
        and not any(kind.cost_per_shift for kind in catalogue.shifts.values())
    ):
        raise ScheduleError("objective cost needs the scenario's costs: block (wages) or a cost_per_shift")
    grid = make_grid(scenario, catalogue)
    roster: list[RosterRow] = []
    for department, counts in requirement.items():
        columns = columns_for(scenario, catalogue, department)
        if not columns:
            raise ScheduleError(f"{department}: no shift of the catalogue starts inside the day")
        roster += solve_department(department, counts, columns, catalogue, grid, objective, time_limit, notes)
    return tuple(roster)


def on_duty(roster: Roster, department: str, grid: Grid) -> np.ndarray:
    """Per slot, the department's agents on duty after breaks."""
    level = np.zeros(grid.slots)
    for row in roster:
        if row.department == department:
            level += row.on_duty(grid)
    return level


def paid_hours(roster: Roster) -> float:
    """Paid hours of a roster (shift lengths less unpaid breaks)."""
    return sum(row.heads * row.column.paid_hours for row in roster)


def roster_cost(roster: Roster) -> float:
    """What a roster costs in wages, overtime premiums and per-shift costs."""
    return sum(row.heads * row.column.cost for row in roster)


def add_head(roster: Roster, row: RosterRow) -> Roster:
    """The roster with one more agent on `row`'s shift and break times (merged into an equal row)."""
    for k, existing in enumerate(roster):
        if (existing.department, existing.column, existing.break_offsets) == (
            row.department,
            row.column,
            row.break_offsets,
        ):
            return (*roster[:k], replace(existing, heads=existing.heads + 1), *roster[k + 1 :])
    return (*roster, replace(row, heads=1))
