"""What a staffing search measures: per interval and department, the figures of one simulated day (the
department rows of the interval table in one vectorised pass), and their means and 95% half-widths over
replications (one array operation for every interval and department at once)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.analysis.confidence import half_widths
from sim.analysis.metrics import counted, counted_rows, offered_calls
from sim.analysis.rows import kpi_row
from sim.analysis.summary import summary
from sim.analysis.tables import calls_table, interval_edges, visits_table
from sim.analysis.thresholds import visit_thresholds
from sim.engine.day import RunResult, simulate
from sim.experiments.staffing.confidence import replication_verdicts
from sim.experiments.staffing.targets import FIGURES, Targets
from sim.model.scenario import Scenario


def department_figures(result: RunResult) -> pd.DataFrame:
    """Per interval and department: offered, service level, abandonment, ASA, mean and p90 wait.

    The department rows of `sim.analysis.intervals.interval_table`, with the same definitions (visits to the
    department's queue by the interval they joined it, plus callers blocked on their way to it), computed
    in one pass instead of a loop over intervals: the search reads thousands of these.
    `tests/test_staffing.py` checks that both agree."""
    scenario = result.scenario
    edges = interval_edges(result)
    size = len(edges) - 1
    names = list(scenario.departments)
    calls = offered_calls(counted(result, calls_table(result)))
    visits = counted_rows(visits_table(result), calls["call_id"])
    visits = visits[
        ~visits["callback"].to_numpy(dtype=bool)
    ]  # waiting for a callback is not waiting on the line
    where = np.clip(np.searchsorted(edges, visits["queued_at"].to_numpy(), side="right") - 1, 0, size - 1)
    department = pd.Categorical(visits["department"].astype(str), categories=names).codes
    cell = where * len(names) + department

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(cell, weights=values.astype(float), minlength=size * len(names))

    count = total(np.ones(len(visits)))
    answered = visits["answered"].to_numpy(dtype=bool)
    waits = visits["wait_time"].to_numpy(dtype=float)
    threshold = visit_thresholds(scenario, department)  # each visit's department's (goals.departments.NAME)
    in_time = answered & (visits["time_to_answer"].to_numpy(dtype=float) <= threshold + 1e-9)
    blocked_calls = calls[(calls["outcome"] == "blocked").to_numpy()]
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
    frame["p90_wait"] = _quantile_by_cell(waits, cell, size * len(names), 0.9)
    return frame


def _quantile_by_cell(values: np.ndarray, cell: np.ndarray, cells: int, q: float) -> np.ndarray:
    """Per cell, the q-quantile of its values with linear interpolation (pandas' and numpy's default);
    NaN for a cell without values. One sort, no Python loop over cells."""
    result = np.full(cells, np.nan)
    if len(values) == 0:
        return result
    order = np.lexsort((values, cell))
    ordered, cells_sorted = values[order], cell[order]
    counts = np.bincount(cells_sorted, minlength=cells)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    have = counts > 0
    position = (counts[have] - 1) * q
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, counts[have] - 1)
    fraction = position - low
    below = ordered[starts[have] + low]
    above = ordered[starts[have] + high]
    result[have] = below + (above - below) * fraction
    return result


def interval_kpis(scenario: Scenario, seed: int, replication: int) -> np.ndarray:
    """One replication's figures per interval and department, as an array (cells in interval-major
    order x `FIGURES`): what a worker returns, small to send back."""
    return department_figures(simulate(scenario, seed, replication))[list(FIGURES)].to_numpy(dtype=float)


def confirmation_kpis(scenario: Scenario, seed: int, replication: int) -> tuple[np.ndarray, dict[str, float]]:
    """One replication's figures per interval and department, and its day summary (a flat KPI row)."""
    result = simulate(scenario, seed, replication)
    return department_figures(result)[list(FIGURES)].to_numpy(dtype=float), kpi_row(summary(result))


@dataclass(frozen=True)
class Pooled:
    """Per cell (interval-major: interval x departments) and figure: the mean over the replications with
    calls, and the 95% Student-t half-width of that mean; the standard deviation and number of values
    behind it (for a bound at another confidence); and, when pooled for targets, per cell the share of
    replications whose own figures met every target (`met_share`) and each (`goal_shares`)."""

    mean: np.ndarray
    ci95: np.ndarray
    departments: tuple[str, ...]
    sd: np.ndarray | None = None
    count: np.ndarray | None = None
    met_share: np.ndarray | None = None
    goal_shares: dict[str, np.ndarray] = field(default_factory=dict)
    replications: int = 0

    def cell(self, interval: int, department: str) -> dict[str, float]:
        """One interval and department's figures: `offered`, `service_level`, ..., `service_level_ci95`, ...,
        `service_level_sd`, `service_level_n`, ..., and with targets `met_share`, `met_share_KEY` and
        `replications`."""
        row = interval * len(self.departments) + self.departments.index(department)
        figures = {key: float(self.mean[row, k]) for k, key in enumerate(FIGURES)}
        figures.update({f"{key}_ci95": float(self.ci95[row, k]) for k, key in enumerate(FIGURES) if k})
        if self.sd is not None and self.count is not None:
            figures.update({f"{key}_sd": float(self.sd[row, k]) for k, key in enumerate(FIGURES) if k})
            figures.update({f"{key}_n": float(self.count[row, k]) for k, key in enumerate(FIGURES) if k})
        if self.met_share is not None:
            figures["met_share"] = float(self.met_share[row])
            figures.update({f"met_share_{key}": float(v[row]) for key, v in self.goal_shares.items()})
            figures["replications"] = float(self.replications)
        return figures

    def cells(self) -> list[dict[str, float]]:
        """Every cell's figures as `cell` gives them (spreads and shares included, which a criterion with
        `confidence` or `days_met` needs), interval-major."""
        intervals = self.mean.shape[0] // max(len(self.departments), 1)
        return [self.cell(i, name) for i in range(intervals) for name in self.departments]

    def frame(self) -> pd.DataFrame:
        """The pooled figures indexed by (interval, department)."""
        cells = self.mean.shape[0]
        intervals = cells // max(len(self.departments), 1)
        index = pd.MultiIndex.from_arrays(
            [np.repeat(np.arange(intervals), len(self.departments)), np.tile(self.departments, intervals)],
            names=["interval", "department"],
        )
        frame = pd.DataFrame(self.mean, index=index, columns=list(FIGURES))
        for k, key in enumerate(FIGURES[1:], start=1):
            frame[f"{key}_ci95"] = self.ci95[:, k]
        if self.met_share is not None:
            frame["met_share"] = self.met_share
            for key, shares in self.goal_shares.items():
                frame[f"met_share_{key}"] = shares
        return frame


def cell_goals(
    targets: Targets, departments: Sequence[str], cells: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Each floor's and ceiling's goal per cell (interval-major: intervals x `departments`), every department
    by its own targets (`Targets.of`); NaN where a department has no such goal (nothing to miss)."""
    judged = [targets.of(name) for name in departments]
    intervals = cells // max(len(departments), 1)

    def per_cell(kind: str) -> dict[str, np.ndarray]:
        keys = dict.fromkeys(key for own in judged for key in getattr(own, kind))
        return {
            key: np.tile([getattr(own, kind).get(key, np.nan) for own in judged], intervals).astype(float)
            for key in keys
        }

    return per_cell("floors"), per_cell("ceilings")


def pool(tables: Sequence[np.ndarray], departments: Sequence[str], targets: Targets | None = None) -> Pooled:
    """Means and 95% half-widths over replications of per-replication figure arrays, NaN (no calls) left
    out as `sim.analysis.confidence.half_width` leaves them out: fewer than two values give no half-width,
    identical values a half-width of 0. With `targets`, also each cell's share of replications that met
    them (`sim.experiments.staffing.confidence.replication_verdicts`)."""
    stacked = np.stack(list(tables))  # replications x cells x figures
    present = ~np.isnan(stacked)
    count = present.sum(axis=0)
    values = np.where(present, stacked, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = values.sum(axis=0) / count
        spread = np.where(present, stacked - mean, 0.0)
        variance = (spread**2).sum(axis=0) / (count - 1)
        width = half_widths(np.sqrt(variance), count)
    high = np.where(present, stacked, -np.inf).max(axis=0)
    low = np.where(present, stacked, np.inf).min(axis=0)
    width = np.where(count < 2, np.nan, np.where(high == low, 0.0, width))
    mean = np.where(count == 0, np.nan, mean)
    if targets is None:
        return Pooled(mean, width, tuple(departments), np.sqrt(variance), count)
    columns = {key: k for k, key in enumerate(FIGURES)}
    floors, ceilings = cell_goals(targets, departments, stacked.shape[1])
    every, each = replication_verdicts(stacked, columns, floors, ceilings)
    return Pooled(
        mean,
        width,
        tuple(departments),
        np.sqrt(variance),
        count,
        every.mean(axis=0),
        {key: verdicts.mean(axis=0) for key, verdicts in each.items()},
        len(stacked),
    )


def day_figures(rows: Sequence[Mapping[str, float]]) -> tuple[dict[str, float], dict[str, float]]:
    """The day's service level, abandonment, ASA, occupancy and offered calls: means over replications and
    95% half-widths."""
    from sim.analysis.confidence import half_width

    keys = [k for k in rows[0] if k in ("service_level", "abandon_rate", "asa", "occupancy", "offered")]
    day = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    return day, {k: half_width([r[k] for r in rows]) for k in keys}
