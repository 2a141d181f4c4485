"""Email departments' figures (`sim.model.email`, `sim.engine.email`): emails handled, the share handled
within their due time, overdue emails and the calls they brought, and the backlog at the open, at the
close and through the day (with its age).

Every figure is one vectorised pass over the event log: the emails are the calls that arrived in an email
department, each one's true arrival is its `arrive` less its age at the open (`email_backlog`, for the
emails already waiting then), and each is settled by its `answer` (handled) or its `email_left` (left in
the backlog at the close). No loop over emails, intervals or departments in Python. Emails count over the
whole day (no warm-up: the backlog is the day's).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.columns import any_of, derived
from sim.analysis.metrics import within_due_share
from sim.engine.day import RunResult
from sim.engine.log import CODE, Event
from sim.model.email import email_settings

_ARRIVE, _ANSWER, _BACKLOG = CODE[Event.ARRIVE], CODE[Event.ANSWER], CODE[Event.EMAIL_BACKLOG]
_LEFT, _OVERDUE, _EMAIL_CALL = CODE[Event.EMAIL_LEFT], CODE[Event.EMAIL_OVERDUE], CODE[Event.EMAIL_CALL]


def email_columns(result: RunResult) -> pd.DataFrame:
    """One row per email (arrived in an email department, or waiting at the open): `call_id`,
    `department`, `arrived_at` (before the open for the backlog's: negative), `due_at`, `handled_at`
    (NaN: not handled), `left_age` (its age when left at the close; NaN: not left), `overdue` (passed its
    due time unhandled), `from_backlog`, and `calls` (calls its customer made because it was overdue).
    Built once per run (`derived`) from the event log's numpy columns: integer codes, no string compares."""
    return derived(result, "emails.columns", _email_columns)


def _email_columns(result: RunResult) -> pd.DataFrame:
    """`email_columns`, built."""
    settings = email_settings(result.scenario)
    columns = result.columns
    names = list(result.events["department"].cat.categories)
    email_codes = [names.index(name) for name in settings if name in names]
    code, ids, t, detail = columns.code, columns.call, columns.t, columns.detail
    email_rows = any_of(columns.department, email_codes)
    arrive = email_rows & (code == _ARRIVE)
    call_id = ids[arrive]
    order = np.argsort(call_id, kind="stable")
    call_id = call_id[order]
    arrived_at = t[arrive][order]
    department_code = columns.department[arrive][order]
    due_by_code = np.full(len(names), math.nan)
    for name, setting in settings.items():  # email departments only: a handful
        if name in names:
            due_by_code[names.index(name)] = setting.due
    due_time = due_by_code[department_code]

    def at(kind: int, values: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Per email (in `call_id` order), the value of its `kind` event (NaN where it has none)."""
        mask = (code == kind) & (email_rows if rows is None else rows)
        out = np.full(len(call_id), math.nan)
        position = np.searchsorted(call_id, ids[mask])
        found = (position < len(call_id)) & (call_id[np.minimum(position, len(call_id) - 1)] == ids[mask])
        out[position[found]] = values[mask][found]
        return out

    backlog_age = at(_BACKLOG, detail)
    from_backlog = ~np.isnan(backlog_age)
    age_at_open = np.where(from_backlog, backlog_age, 0.0)
    arrived_at = arrived_at - age_at_open
    calls_made = np.zeros(len(call_id), dtype=np.int64)
    made = code == _EMAIL_CALL
    position = np.searchsorted(call_id, detail[made].astype(np.int64))
    np.add.at(calls_made, position[position < len(call_id)], 1)
    return pd.DataFrame(
        {
            "call_id": call_id,
            "department": np.array(names, dtype=object)[department_code],
            "arrived_at": arrived_at,
            "due_at": arrived_at + due_time,
            "handled_at": at(_ANSWER, t),
            "left_age": at(_LEFT, detail),
            "overdue": ~np.isnan(at(_OVERDUE, t)),
            "from_backlog": from_backlog,
            "calls": calls_made,
        }
    )


def email_figures(emails: pd.DataFrame, closed_at: float) -> dict[str, Any]:
    """The figures of a set of emails (`email_columns` rows) for a day that closed at `closed_at`."""
    return _figures(_arrays(emails), closed_at)


_FIGURE_COLUMNS = ("handled_at", "left_age", "due_at", "from_backlog", "overdue", "calls")


def _arrays(emails: pd.DataFrame) -> dict[str, np.ndarray]:
    """The columns `_figures` reads, as numpy arrays (read once, then masked per department)."""
    return {name: emails[name].to_numpy() for name in _FIGURE_COLUMNS}


def _figures(emails: dict[str, np.ndarray], closed_at: float) -> dict[str, Any]:
    """`email_figures` over numpy columns."""
    left_age = emails["left_age"]
    handled, in_time, left_late = settled(emails["handled_at"], left_age, emails["due_at"], closed_at)
    left = ~np.isnan(left_age)
    ages = left_age[left]
    from_backlog = emails["from_backlog"]
    return {
        "emails_arrived": int((~from_backlog).sum()),
        "email_backlog_at_open": int(from_backlog.sum()),
        "emails_handled": int(handled.sum()),
        "email_within_due": within_due_share(int(in_time.sum()), int(handled.sum() + left_late.sum())),
        "email_backlog_at_close": int(left.sum()),
        "email_backlog_mean_age": float(ages.mean()) if len(ages) else 0.0,
        "email_backlog_max_age": float(ages.max()) if len(ages) else 0.0,
        "emails_overdue": int(emails["overdue"].sum()),
        "email_overdue_calls": int(emails["calls"].sum()),
    }


def settled(
    handled_at: np.ndarray, left_age: np.ndarray, due_at: np.ndarray, closed_at: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per email: handled; handled within its due time; left at the close already past due. The share
    within due is the second over the first and third together (`within_due_share`)."""
    handled = ~np.isnan(handled_at)
    in_time = handled & (handled_at <= due_at)
    left_late = ~np.isnan(left_age) & (due_at < closed_at)
    return handled, in_time, left_late


def add_email(out: dict[str, Any], result: RunResult) -> None:
    """Add the email figures to a summary `out`: centre-wide, and per email department in `by_department`."""
    emails = email_columns(result)
    closed_at = result.scenario.duration
    columns = _arrays(emails)
    out.update(_figures(columns, closed_at))
    codes, uniques = pd.factorize(emails["department"].to_numpy())
    for code, name in enumerate(uniques):  # email departments only: a handful, not a loop per email
        if name in out.get("by_department", {}):
            mine = codes == code
            own = {key: values[mine] for key, values in columns.items()}
            out["by_department"][name].update(_figures(own, closed_at))


def email_backlog(result: RunResult, at: np.ndarray | None = None) -> pd.DataFrame:
    """The emails waiting (arrived, not yet taken by an agent) at each instant of `at` (default: each
    interval's end, the close last, where it is the backlog left), and the mean and largest age among
    them: one row per instant, for every email department together."""
    scenario = result.scenario
    if at is None:
        ends = np.arange(1, scenario.interval_count + 1) * scenario.interval
        at = np.minimum(ends, scenario.duration)
    emails = email_columns(result)
    arrived = emails["arrived_at"].to_numpy()
    arrived_log = np.where(emails["from_backlog"].to_numpy(), 0.0, arrived)  # in the queue from the open
    handled_at = emails["handled_at"].to_numpy()
    gone = np.where(~np.isnan(handled_at), handled_at, math.inf)  # left at the close: waiting till then
    waiting = (arrived_log[None, :] <= at[:, None]) & (gone[None, :] > at[:, None])
    ages = np.where(waiting, at[:, None] - arrived[None, :], np.nan)
    count = waiting.sum(axis=1)
    with np.errstate(invalid="ignore"):
        mean_age = np.where(count > 0, np.nansum(ages, axis=1) / np.maximum(count, 1), 0.0)
    max_age = np.where(count > 0, np.nanmax(np.where(waiting, ages, -math.inf), axis=1), 0.0)
    return pd.DataFrame({"t": at, "backlog": count, "mean_age": mean_age, "max_age": max_age})
