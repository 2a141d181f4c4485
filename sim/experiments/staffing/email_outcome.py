"""What a staffing plan leaves the emails: the email outcome of a confirmation run.

A staffing search judges voice and chat interval by interval; email departments are not judged there (an
email is settled against its due time hours later, `channel_targets`). Their emails ride along on the
capacity the plan leaves (a blended agent takes an email only when no call or chat waits for it), so the
planner is told what that capacity does for them: the emails handled, the share handled within their due
time, the emails that went overdue and the backlog left at the close, each the mean over the confirmation
run's replications with its 95% Student-t half-width (the figures of `sim.analysis.email`, the same as the
run summary's `emails_handled`, `email_within_due`, `emails_overdue`, `email_backlog_at_close`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.analysis.confidence import half_width
from sim.analysis.email import email_columns, email_figures
from sim.engine.day import simulate
from sim.experiments.executors import Executor, run_all
from sim.model.scenario import Scenario

EMAIL_FIGURES = (
    "emails_arrived",
    "email_backlog_at_open",
    "emails_handled",
    "email_within_due",
    "emails_overdue",
    "email_backlog_at_close",
    "email_overdue_calls",
)
"""The email figures of a day the outcome reports (summary keys, `sim.analysis.email.email_figures`)."""


def email_day(scenario: Scenario, seed: int, replication: int) -> dict[str, float]:
    """One replication's email figures (a worker's task: small to send back)."""
    result = simulate(scenario, seed, replication)
    figures = email_figures(email_columns(result), scenario.duration)
    return {key: float(figures[key]) for key in EMAIL_FIGURES}


@dataclass(frozen=True)
class EmailOutcome:
    """The email figures of a plan over `reps` replications of `seed`: per day (`days`), their means
    (`mean`; `email_within_due` over the days that settled an email) and 95% half-widths (`ci95`)."""

    seed: int
    reps: int
    days: tuple[dict[str, float], ...]

    @property
    def mean(self) -> dict[str, float]:
        """Each figure's mean over the days (NaN days, with no email settled, left out)."""
        means = {}
        for key in EMAIL_FIGURES:
            values = np.array([day[key] for day in self.days], dtype=float)
            values = values[~np.isnan(values)]
            means[key] = float(values.mean()) if len(values) else math.nan
        return means

    @property
    def ci95(self) -> dict[str, float]:
        """Each figure's 95% Student-t half-width over the days."""
        widths = {}
        for key in EMAIL_FIGURES:
            values = [day[key] for day in self.days if not math.isnan(day[key])]
            widths[key] = half_width(values) if len(values) >= 2 else math.nan
        return widths

    @property
    def cleared(self) -> bool:
        """No email went overdue and none was left at the close, on any day."""
        return all(day["emails_overdue"] == 0 and day["email_backlog_at_close"] == 0 for day in self.days)

    def line(self) -> str:
        """`emails: 311.2 handled, 97.4% within due, 3.1 overdue, 0.5 left at the close (20 days, seed 38)`."""
        mean, width = self.mean, self.ci95

        def with_ci(key: str, scale: float = 1.0, digits: int = 1) -> str:
            text = f"{scale * mean[key]:.{digits}f}"
            return text + (f"±{scale * width[key]:.{digits}f}" if math.isfinite(width[key]) else "")

        within = "-" if math.isnan(mean["email_within_due"]) else with_ci("email_within_due", 100.0) + "%"
        return (
            f"emails (seed {self.seed}, {self.reps} replications, mean ± 95% CI a day): "
            f"{with_ci('emails_handled')} handled, {within} within due, {with_ci('emails_overdue')} went "
            f"overdue, {with_ci('email_backlog_at_close')} left at the close"
        )

    def warning(self) -> str | None:
        """What a planner must know when the plan leaves emails overdue or a backlog at the close; None
        when every day cleared them."""
        if self.cleared:
            return None
        mean = self.mean
        days_left = sum(day["email_backlog_at_close"] > 0 for day in self.days)
        days_overdue = sum(day["emails_overdue"] > 0 for day in self.days)
        return (
            f"the plan does not clear the emails: {mean['emails_overdue']:.1f} a day went overdue (on "
            f"{days_overdue} of {self.reps} days) and {mean['email_backlog_at_close']:.1f} were left at the "
            f"close (on {days_left} of {self.reps} days); the search sizes voice and chat only, so add "
            "email agents or blended capacity (compare with `callsim sweep` on email_backlog_at_close)"
        )

    def record(self) -> dict[str, Any]:
        """What a plan's files hold: the sentence (`line`), seed, replications, means, half-widths, cleared,
        warning."""
        return {
            "line": self.line(),
            "seed": self.seed,
            "reps": self.reps,
            "mean": self.mean,
            "ci95": self.ci95,
            "cleared": self.cleared,
            "warning": self.warning(),
        }


def email_outcome(executor: Executor, scenario: Scenario, seed: int, reps: int) -> EmailOutcome:
    """The email outcome of `scenario` as staffed, over replications 0..reps-1 of `seed`."""
    days = run_all(executor, email_day, [(scenario, seed, r) for r in range(reps)])
    return EmailOutcome(seed, reps, tuple(days))


def outcome_of_rows(seed: int, rows: Sequence[Mapping[str, float]]) -> EmailOutcome | None:
    """The email outcome from day summaries (flat KPI rows, e.g. a confirmation's); None without emails."""
    if not rows or any(key not in rows[0] for key in EMAIL_FIGURES):
        return None
    days = tuple({key: float(row[key]) for key in EMAIL_FIGURES} for row in rows)
    return EmailOutcome(seed, len(rows), days)
