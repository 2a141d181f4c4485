"""From a call log to a runnable scenario: `fit_log` fits each part (hours and intervals, arrivals per
interval and call type, busyness, handle and wrap times per call type and interval, patience per call
type, agents present per department) and returns a `FittedScenario`: the scenario as a plain dict, the
CSV files it names, and what each part rests on, in numbers and in plain sentences.

Decisions a log leaves open, taken here and stated in the diagnostics:
- handle time is `ended_at - answered_at` of answered calls never transferred, hold time included (the agent
  is occupied while the caller holds; the fitted scenario has no separate holds); a transferred call's span
  covers several agents and is left out;
- a call type goes to the department most of its calls entered;
- waits run from `queued_at` (else `arrived_at`) to the answer or the hang-up.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.fitting.agents import StaffingFit, fit_staffing
from sim.analysis.fitting.days import FitError, Window, choose_window
from sim.analysis.fitting.durations import TimeFit, fit_time, inferred_wraps
from sim.analysis.fitting.volumes import Volumes, fit_volumes
from sim.model.call_log import CallLog
from sim.model.durations import format_clock
from sim.model.scenario import Scenario

__all__ = ["FitError", "FittedScenario", "fit_log"]

WRAP_CAP = 300.0
"""The longest gap between an agent's calls taken as wrap time when the log does not record it."""
PRESENCE_GAP = 900.0
"""Activity gaps longer than this end an agent's presence period (method `presence`)."""
ONE_DEPARTMENT = "centre"
"""The department's name when the log does not say which queue a call entered."""
NO_TYPE = "calls"
"""The call type's name when the log records neither type nor department."""


@dataclass(frozen=True)
class FittedScenario:
    """A scenario fitted to a call log: `scenario` (a plain dict, as YAML would read it; `scenario_from_dict`
    accepts it with the `files` beside it), `files` (CSV name -> DataFrame: agent schedules, empirical
    times), the fitted parts (`volumes`, `handle`, `wrap`, `patience`, `staffing`) with their data for the
    report, and `assumptions`, `cannot_tell` and `notes` in sentences."""

    scenario: dict[str, Any]
    files: dict[str, pd.DataFrame]
    source: str
    window: Window
    volumes: Volumes
    handle: dict[str, TimeFit]
    wrap: dict[str, TimeFit | None]
    wrap_source: str
    patience: dict[str, Any]
    staffing: StaffingFit
    departments: dict[str, str]
    """Call type -> the department it is sent to."""
    assumptions: list[str] = field(default_factory=list)
    cannot_tell: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.scenario["name"])

    def write_files(self, folder: Path) -> None:
        """The CSV files into `folder` (beside where the scenario goes)."""
        for name, frame in self.files.items():
            frame.to_csv(folder / name, index=False)

    def load(self) -> Scenario:
        """The validated scenario (its files written to a temporary folder and read, as `callsim run` would)."""
        from sim.model.loading import scenario_from_dict

        with tempfile.TemporaryDirectory(prefix="callsim-fit-") as folder:
            self.write_files(Path(folder))
            return scenario_from_dict(self.scenario_copy(), folder)

    def scenario_copy(self) -> dict[str, Any]:
        """A deep copy of the scenario dict (validation may not touch the fitted one)."""
        import copy

        return copy.deepcopy(self.scenario)

    def diagnostics(self) -> dict[str, Any]:
        """What `fit.json` holds: the source, days and hours, and per part what was fitted from how many
        observations, what was chosen and why, the assumptions and what the log could not tell."""
        window = self.window
        patience = {}
        for name, fitted in self.patience.items():
            patience[name] = {
                "spec": fitted.spec,
                "method": fitted.method,
                "abandoned": int(getattr(fitted, "events", 0)),
                "answered_censored": int(getattr(fitted, "censored", 0)),
                "candidates": [
                    {"name": c[0], "spec": c[1], "log_likelihood": c[2], "aic": c[3]}
                    for c in fitted.candidates
                ],
                "notes": list(fitted.notes),
            }
        return {
            "source": self.source,
            "scenario": self.name,
            "days": [on.isoformat() if isinstance(on, date) else None for on in window.dates],
            "day_count": window.day_count,
            "open": format_clock(window.open_at, True),
            "close": format_clock(window.close_at, True),
            "interval": window.interval,
            "calls": len(window.calls),
            "call_types": {name: self.departments[name] for name in self.volumes.types},
            "arrivals": {
                "scenario": self.scenario["arrivals"],
                "mix_changes_through_the_day": self.volumes.mix_changes,
                "mix_p_value": self.volumes.mix_p_value,
                "day_totals": [int(t) for t in self.volumes.day_totals],
                "busyness_cv": self.volumes.busyness_cv,
                "notes": self.volumes.notes,
            },
            "handle_time": {name: fit.summary() for name, fit in self.handle.items()},
            "wrap_time": {
                "source": self.wrap_source,
                "by_type": {name: fit.summary() if fit else None for name, fit in self.wrap.items()},
            },
            "patience": patience,
            "staffing": self.staffing.summary(),
            "assumptions": self.assumptions,
            "cannot_tell": self.cannot_tell,
            "notes": self.notes,
        }


def fit_log(
    log: CallLog,
    interval: float = 1800.0,
    start: float | None = None,
    end: float | None = None,
    day_type: str | None = None,
    staffing_method: str = "presence",
    presence_gap: float = PRESENCE_GAP,
    wrap_cap: float = WRAP_CAP,
    name: str | None = None,
) -> FittedScenario:
    """A scenario fitted to `log`'s days of `day_type` (all by default) between `start` and `end` (seconds
    after midnight; default: the first and last arrival rounded out to `interval`). Raises `FitError` when
    the log cannot give it."""
    from sim.analysis.fitting.patience import fit_patience

    window = choose_window(log, interval, start, end, day_type)
    notes = list(log.notes()) + list(window.notes)
    calls, types, sent_to, type_notes = _typed(window.calls, log)
    window = dataclasses.replace(window, calls=calls)
    notes += type_notes
    volumes = fit_volumes(window, types)
    departments = tuple(dict.fromkeys(sent_to[t] for t in types))
    handled = _handled(calls)
    files: dict[str, pd.DataFrame] = {}
    handle: dict[str, TimeFit] = {}
    for kind in types:
        mine = handled[handled["call_type"] == kind]
        if not len(mine):
            notes.append(f"{kind}: no answered call to measure handle time on; its department's time applies")
            continue
        values = (mine["ended_at"] - mine["answered_at"]).to_numpy(dtype=float)
        timed = fit_time(
            f"handle time of {kind}",
            values,
            mine["interval"].to_numpy(),
            window.interval_count,
            f"handle-{_safe(kind)}.csv",
        )
        handle[kind] = timed
        _keep_file(files, timed, "handle_time")
    wrap, wrap_source, wrap_notes = _wraps(calls, handled, types, log, window, wrap_cap, files)
    notes += wrap_notes
    patience = {kind: fit_patience(*_waits(calls[calls["call_type"] == kind])) for kind in types}
    overall_patience = fit_patience(*_waits(calls))
    for kind, fitted_patience in patience.items():
        if fitted_patience.spec is None and overall_patience.spec is not None:
            notes.append(
                f"{kind}: no caller of this type abandoned, so its patience cannot be told; the scenario's "
                "patience (fitted to all calls) applies to it"
            )
    staffing = fit_staffing(window, departments, staffing_method, presence_gap)
    for department, frame in staffing.schedules.items():
        files[staffing.files[department]] = frame
    scenario = _scenario(
        name or _name_of(log.source),
        log,
        window,
        volumes,
        handle,
        wrap,
        patience,
        overall_patience,
        staffing,
        sent_to,
        handled,
    )
    fitted = FittedScenario(
        scenario=scenario,
        files=files,
        source=log.source,
        window=window,
        volumes=volumes,
        handle=handle,
        wrap=wrap,
        wrap_source=wrap_source,
        patience={**patience, "all calls": overall_patience},
        staffing=staffing,
        departments=sent_to,
        assumptions=_assumptions(window, staffing, wrap_source, log),
        cannot_tell=_cannot_tell(log, wrap_source, staffing_method),
        notes=notes,
    )
    fitted.load()  # a fit that does not load is a bug here, not the user's problem: fail now
    return fitted


def _typed(
    calls: pd.DataFrame, log: CallLog
) -> tuple[pd.DataFrame, tuple[str, ...], dict[str, str], list[str]]:
    """The calls with `call_type` and `department` filled in (as text), the types (most calls first), and
    each type's department (where most of its calls went)."""
    notes: list[str] = []
    out = calls.copy()
    has_type = "call_type" in log.recorded and out["call_type"].notna().any()
    has_department = "department" in log.recorded and out["department"].notna().any()
    department = (
        out["department"].astype(object) if has_department else pd.Series(ONE_DEPARTMENT, index=out.index)
    )
    if has_type:
        kind = out["call_type"].astype(object)
        missing = int(kind.isna().sum())
        if missing:
            notes.append(f"{missing} call(s) without a call type are fitted as type 'unknown'")
        kind = kind.fillna("unknown")
    elif has_department:
        kind = department.fillna("unknown")
        notes.append("the log records no call type: each department's calls are one type, named after it")
    else:
        kind = pd.Series(NO_TYPE, index=out.index)
        notes.append("the log records neither call type nor department: one type of call, one department")
    kind = kind.astype(str)
    out["call_type"] = kind.to_numpy()
    sent_to: dict[str, str] = {}
    known = department.notna()
    for name in kind.value_counts(sort=True).index:
        went = department[(kind == name) & known].astype(str)
        sent_to[name] = str(went.value_counts().index[0]) if len(went) else ONE_DEPARTMENT
        if len(went):
            share = float((went != sent_to[name]).mean())
            if share > 0:
                notes.append(
                    f"{100 * share:.1f}% of {name} calls entered another department than {sent_to[name]}; "
                    f"the fitted scenario sends every {name} call to {sent_to[name]}"
                )
    filled = department.where(known, kind.map(sent_to)).astype(str)
    out["department"] = filled.to_numpy()
    types = tuple(sent_to)
    return out, types, sent_to, notes


def _handled(calls: pd.DataFrame) -> pd.DataFrame:
    """Answered calls never transferred, with both instants: their handle times are one agent's."""
    answered = (calls["outcome"].astype(str) == "answered").to_numpy()
    whole = calls["answered_at"].notna().to_numpy() & calls["ended_at"].notna().to_numpy()
    transfers = calls["transfers"].to_numpy(dtype=float)
    untransferred = np.isnan(transfers) | (transfers == 0)
    return calls[answered & whole & untransferred]


def _wraps(
    calls: pd.DataFrame,
    handled: pd.DataFrame,
    types: tuple[str, ...],
    log: CallLog,
    window: Window,
    cap: float,
    files: dict[str, pd.DataFrame],
) -> tuple[dict[str, TimeFit | None], str, list[str]]:
    """Wrap time per type: recorded, inferred from agents' gaps, or none (0)."""
    notes: list[str] = []
    recorded = "wrap_time" in log.recorded and handled["wrap_time"].notna().any()
    if recorded:
        source, values = "recorded", handled["wrap_time"].to_numpy(dtype=float)
    elif "agent" in log.recorded and calls["agent"].notna().any():
        gaps, done = inferred_wraps(calls, cap)
        by_position = pd.Series(gaps, index=calls.index)
        values = by_position.reindex(handled.index).to_numpy(dtype=float)
        source = "inferred"
        notes.append(
            f"wrap time INFERRED (the log does not record it): the gap from an agent's call end to their next "
            f"answer, kept when under {done.get('limit') or 0:.1f} s (the median gap, capped at {cap:g} s); "
            f"{done.get('kept', 0)} of {done.get('gaps', 0)} gaps kept"
        )
    else:
        notes.append("the log does not record wrap time (nor agents, to infer it from): wrap time 0")
        return dict.fromkeys(types), "none", notes
    wrap: dict[str, TimeFit | None] = {}
    for kind in types:
        mine = (handled["call_type"] == kind).to_numpy() & ~np.isnan(values)
        if not mine.any():
            wrap[kind] = None
            continue
        fitted = fit_time(
            f"wrap time of {kind} ({source})",
            values[mine],
            handled["interval"].to_numpy()[mine],
            window.interval_count,
            f"wrap-{_safe(kind)}.csv",
        )
        wrap[kind] = fitted
        _keep_file(files, fitted, "wrap_time")
    return wrap, source, notes


def _waits(calls: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Waits (queue entry, else arrival, to the answer or hang-up) of answered (censored) and abandoned
    (event) callers, and which abandoned."""
    outcome = calls["outcome"].astype(str).to_numpy()
    answered_at = calls["answered_at"].to_numpy(dtype=float)
    abandoned = (outcome == "abandoned") & np.isnan(answered_at)
    answered = (outcome == "answered") | (outcome == "abandoned_on_hold") | (outcome == "dropped")
    begun = calls["queued_at"].to_numpy(dtype=float)
    begun = np.where(np.isnan(begun), calls["arrived_at"].to_numpy(dtype=float), begun)
    until = np.where(abandoned, calls["ended_at"].to_numpy(dtype=float), answered_at)
    keep = (abandoned | answered) & ~np.isnan(until)
    waits = np.maximum(until[keep] - begun[keep], 0.0)
    return waits, abandoned[keep]


def _scenario(
    name: str,
    log: CallLog,
    window: Window,
    volumes: Volumes,
    handle: dict[str, TimeFit],
    wrap: dict[str, TimeFit | None],
    patience: dict[str, Any],
    overall_patience: Any,
    staffing: StaffingFit,
    sent_to: dict[str, str],
    handled: pd.DataFrame,
) -> dict[str, Any]:
    """The scenario dict: hours, arrivals, patience and times per call type, departments with schedules."""
    call_types: dict[str, dict[str, Any]] = {}
    for kind in volumes.types:
        own: dict[str, Any] = {}
        if patience[kind].spec is not None:
            own["patience"] = patience[kind].spec
        if kind in handle:
            own["handle_time"] = handle[kind].spec
        if wrap.get(kind) is not None:
            own["wrap_time"] = wrap[kind].spec  # type: ignore[union-attr]
        if own:
            call_types[kind] = own
    departments: dict[str, dict[str, Any]] = {}
    for department in dict.fromkeys(sent_to.values()):
        mine = [kind for kind in volumes.types if sent_to[kind] == department]
        times = handled[handled["department"] == department]
        spent = (times["ended_at"] - times["answered_at"]).to_numpy(dtype=float)
        departments[department] = {
            "resolves": mine,
            "agents": {"file": staffing.files[department]},
            "handle_time": _moments(spent),
        }
    days = f"{window.day_count} day(s)"
    scenario: dict[str, Any] = {
        "name": name,
        "description": (
            f"Fitted by callsim fit from {Path(log.source).name}: {len(window.calls)} calls on {days}, "
            f"{format_clock(window.open_at)}-{format_clock(window.close_at)} (see fit_report.html)"
        ),
        "seed": 1,
        "start": format_clock(window.open_at, window.open_at % 60 != 0),
        "duration": window.close_at - window.open_at,
        "interval": window.interval,
        "arrivals": volumes.arrivals,
    }
    if overall_patience.spec is not None:
        scenario["patience"] = overall_patience.spec
    if call_types:
        scenario["call_types"] = call_types
    scenario["departments"] = departments
    if staffing.groups:  # agents who answered for several departments: equal preference, so the longest wait
        scenario["agent_groups"] = {
            name: {"agents": {"file": staffing.files[name]}, "skills": dict.fromkeys(skills, 1)}
            for name, skills in staffing.groups.items()
        }
    return scenario


def _moments(values: np.ndarray) -> dict[str, Any]:
    """A department's own handle time (a lognormal with the mean and cv of all its calls): used where no
    call type has its own, and by the offered-load figures."""
    values = values[values > 0]
    if len(values) < 2:
        return {"dist": "exponential", "mean": round(float(values.mean()), 3) if len(values) else 180.0}
    mean = float(values.mean())
    cv = max(float(values.std()) / mean, 1e-3)
    return {"dist": "lognormal", "mean": round(mean, 3), "cv": round(cv, 4)}


def _keep_file(files: dict[str, pd.DataFrame], fitted: TimeFit, column: str) -> None:
    if fitted.file is not None and fitted.file_values is not None:
        files[fitted.file] = pd.DataFrame({column: fitted.file_values})


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "type"


def _name_of(source: str) -> str:
    """The scenario's name from the log file's: `calls_log.csv` -> `calls_log-fitted`."""
    stem = Path(source).name.split(".")[0] or "log"
    return _safe(stem) + "-fitted"


def _assumptions(window: Window, staffing: StaffingFit, wrap_source: str, log: CallLog) -> list[str]:
    """Every assumption of the fit, in plain sentences."""
    said = [
        f"The {window.day_count} fitted day(s) are alike: the scenario's day is their average.",
        f"Within each {window.interval:g}-second interval, calls arrive as a Poisson process at the interval's "
        "mean rate.",
        "Handle time is the time from answer to end of answered calls that were never transferred; it includes "
        "any time on hold, since the agent is occupied then. Transferred calls are left out: their span covers "
        "several agents.",
        "Handle and wrap times vary through the day by the interval in which the call arrived.",
        "A caller who hung up waiting shows their patience (the wait); an answered caller only shows that their "
        "patience was longer than their wait (a censored observation).",
        "Each call type goes to the department most of its calls entered; transfers, holds, the phone menu, "
        "trunk lines and overflow are not fitted; agents who answered for several departments form a "
        "cross-trained group taking each with equal preference (no skill priorities are inferred).",
        "Repeat calls are separate arrivals: redials are not modelled as such.",
    ]
    if "queued_at" not in log.recorded:
        said.append(
            "Waits are counted from arrival (the log has no queue entry): they include any menu time."
        )
    if wrap_source == "inferred":
        said.append(
            "Wrap time is inferred from short gaps between an agent's calls; a gap that was in fact idle time "
            "makes it too long, and wrap longer than the limit is cut off."
        )
    said += [f"Staffing ({staffing.method}): {text}" for text in staffing.assumptions]
    said.append(
        "Agent schedules end where the log's activity (one day) or the last interval (several days) ends: "
        "callers still waiting after that are served only by agents finishing a call, as in the simulator's "
        "shifts."
    )
    said.append("The service-level threshold is callsim's default: the log does not say the centre's target.")
    return said


def _cannot_tell(log: CallLog, wrap_source: str, staffing_method: str) -> list[str]:
    """What the log could not tell, in plain sentences."""
    said = []
    if wrap_source == "none":
        said.append(
            "the log does not record wrap time: the fitted scenario has none, so it underestimates load"
        )
    elif wrap_source == "inferred":
        said.append("the log does not record wrap time: it is inferred from gaps, not measured")
    if staffing_method == "presence":
        said.append(
            "agents present but idle leave no trace in a call log: presence is reconstructed from activity, "
            "so an agent logged in but taking no call for a long time is missed"
        )
    if "agent" not in log.recorded:
        said.append("the log does not name agents: staffing cannot be inferred from it")
    return said
