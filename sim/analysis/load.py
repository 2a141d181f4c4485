"""Offered load as queueing theory sees it: calls per second by interval, the visits each department gets per
arriving call (traffic equations through transfer networks), and each staffed department as an M/M/c(+M)
queue. The staffing search starts from these, and the stability check warns from them."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.model.rates import interval_widths, rate_per_second
from sim.model.scenario import Scenario


def staffed_departments(scenario: Scenario) -> list[str]:
    """Departments with agents of their own (those served only by agent groups are left as they are)."""
    return [name for name, department in scenario.departments.items() if department.agents is not None]


def arrival_rates(scenario: Scenario) -> np.ndarray:
    """Calls per second arriving in each interval (a trace counted per interval)."""
    widths = interval_widths(scenario)
    times = scenario.arrivals.trace_times
    if times is not None:
        edges = np.concatenate(([0.0], np.cumsum(widths)))
        counts = np.histogram(np.asarray(times, dtype=float), bins=edges)[0]
        return counts / widths
    return rate_per_second(scenario)


def department_shares(scenario: Scenario) -> dict[str, float]:
    """Visits to each department per arriving call: the first department that resolves each reason
    (less IVR self-service), carried through explicit transfer networks (traffic equations)."""
    names = list(scenario.departments)
    direct = np.array(list(scenario.first_visits().values()))
    routing = np.zeros((len(names), len(names)))
    for row, department in enumerate(scenario.departments.values()):
        for target, probability in (department.transfer or {}).items():
            if target in names:
                routing[row, names.index(target)] = probability
    visits = np.linalg.solve(np.eye(len(names)) - routing.T, direct)
    return dict(zip(names, visits.tolist(), strict=True))


@dataclass(frozen=True)
class QueueModel:
    """What Erlang sees of one department: calls per second by interval, service time, patience, threshold."""

    rates: np.ndarray
    service: float
    patience: float
    threshold: float
    ring_survival: float = 1.0
    """Share of callers reaching an agent at once whose patience outlasts the ring: P(patience > ring)."""


def queue_models(scenario: Scenario) -> dict[str, QueueModel]:
    """Each staffed department as an M/M/c(+M) queue per interval."""
    rates = arrival_rates(scenario)
    shares = department_shares(scenario)
    patience = scenario.patience.mean_value() if scenario.patience is not None else math.inf
    threshold = max(0.0, scenario.service_level.threshold - scenario.ring_time)
    models = {}
    for name in staffed_departments(scenario):
        department = scenario.departments[name]
        service = scenario.ring_time + department.handle_time.mean_value() + department.wrap_time.mean_value()
        models[name] = QueueModel(rates * shares[name], service, patience, threshold, ring_survival(scenario))
    return models


def ring_survival(scenario: Scenario) -> float:
    """P(patience > ring time): the share of callers reaching an agent at once who do not hang up while it
    rings (exact for exponential patience; from 100,000 draws of a fixed stream otherwise)."""
    ring = scenario.ring_time
    patience = scenario.patience
    if ring <= 0 or patience is None:
        return 1.0
    if patience.dist == "exponential":
        return math.exp(-ring / patience.mean_value())
    draws = patience.draw_block(np.random.default_rng(0), 100_000)
    return float(np.mean(draws > ring))
