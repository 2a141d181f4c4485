"""Offered load as queueing theory sees it: calls per second by interval, the visits each department gets per
arriving call (traffic equations through transfer networks), and each staffed department as an M/M/c(+M)
queue per interval whose service time and patience are the means of the callers it serves there (by reason,
`call_types` and `by_reason`, and by the interval's curve, `mean_by_interval`). The staffing search starts
from these, and the stability check warns from them."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.model.call_types import patience_spec, work_spec
from sim.model.chat import chat_departments, chat_desks
from sim.model.dists import _Spec
from sim.model.goals import department_thresholds
from sim.model.rates import interval_widths, rate_per_second, reason_rates
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
    visits = np.linalg.solve(np.eye(len(names)) - _routing(scenario).T, direct)
    return dict(zip(names, visits.tolist(), strict=True))


def _routing(scenario: Scenario) -> np.ndarray:
    """The explicit transfer network as a matrix: row = from, column = to, the probability of going on."""
    names = list(scenario.departments)
    routing = np.zeros((len(names), len(names)))
    for row, department in enumerate(scenario.departments.values()):
        for target, probability in (department.transfer or {}).items():
            if target in names:
                routing[row, names.index(target)] = probability
    return routing


def reason_visits(scenario: Scenario) -> dict[str, np.ndarray]:
    """Per reason, visits to each department (in the scenario's order) per arriving call of that reason:
    its first resolving department (less IVR self-service), carried through explicit transfer networks.
    Summed over reasons weighted by the reason mix, these are `department_shares`."""
    names = list(scenario.departments)
    self_service = scenario.ivr.self_service if scenario.ivr is not None else {}
    carried = np.linalg.inv(np.eye(len(names)) - _routing(scenario).T)
    visits = {}
    for reason in scenario.reason_mix():
        direct = np.zeros(len(names))
        first = scenario.first_resolver(reason)
        if first is not None:
            direct[names.index(first)] = 1.0 - self_service.get(reason, 0.0)
        visits[reason] = carried @ direct
    return visits


def reason_arrivals(scenario: Scenario) -> dict[str, np.ndarray]:
    """Calls per second of each reason in each interval: the reasons' own counts where the scenario gives
    them per interval, else the day's rates split by the reason mix."""
    own = reason_rates(scenario)
    if own:
        return own
    rates = arrival_rates(scenario)
    return {reason: rates * share for reason, share in scenario.reason_mix().items()}


def _interval_means(scenario: Scenario, spec: _Spec | None) -> np.ndarray:
    """A spec's mean in each interval, its curve applied (infinite without a spec: no patience)."""
    count = scenario.interval_count
    if spec is None:
        return np.full(count, math.inf)
    factors = spec.interval_factors()
    mean = spec.mean_value()
    return np.full(count, mean) if factors is None else mean * np.asarray(factors, dtype=float)


def department_times(scenario: Scenario, department: str) -> tuple[np.ndarray, np.ndarray]:
    """Per interval, the mean work (handle + wrap, without the ring) and the mean patience of the callers a
    department's own agents serve: each reason's own times (`call_types`, the department's `by_reason`)
    and curves, weighted by that reason's visits to the department in the interval. An interval without
    visits takes the day's weights (its figures are still defined, for a plan to show)."""
    index = list(scenario.departments).index(department)
    visits = reason_visits(scenario)
    arrivals = reason_arrivals(scenario)
    count = scenario.interval_count
    weights, works, patiences = [], [], []
    for reason, per_second in arrivals.items():
        weights.append(per_second * visits[reason][index])
        handle = _interval_means(scenario, work_spec(scenario, "handle_time", department, reason)[1])
        wrap = _interval_means(scenario, work_spec(scenario, "wrap_time", department, reason)[1])
        works.append(handle + wrap)
        patiences.append(_interval_means(scenario, patience_spec(scenario, reason)[1]))
    weight = np.array(weights).reshape(len(weights), count)
    totals = weight.sum(axis=0)
    day = weight.sum(axis=1)
    if day.sum() <= 0:  # nobody reaches the department: its own times, as the scenario gives them
        own = scenario.departments[department]
        own_work = own.handle_time.mean_value() + own.wrap_time.mean_value()
        own_patience = scenario.patience.mean_value() if scenario.patience is not None else math.inf
        return np.full(count, own_work), np.full(count, own_patience)
    weight[:, totals <= 0] = (day / day.sum())[:, None]
    weight = weight / weight.sum(axis=0)
    work_means, patience_means = np.array(works), np.array(patiences)
    if (work_means == work_means[0]).all() and (patience_means == patience_means[0]).all():
        return work_means[0], patience_means[0]  # every reason alike: its times exactly, not a rounded mix
    work: np.ndarray = (weight * work_means).sum(axis=0)
    finite = np.isfinite(patience_means)
    # patience: the weighted mean over callers who hang up at all; infinite where none of them do
    patient_weight = (weight * finite).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        patience: np.ndarray = np.where(
            patient_weight > 0,
            (weight * np.where(finite, patience_means, 0.0)).sum(axis=0) / patient_weight,
            math.inf,
        )
    return work, patience


@dataclass(frozen=True)
class QueueModel:
    """What Erlang sees of one department: calls per second, mean service time (ring + handle + wrap) and
    mean patience by interval, and the threshold."""

    rates: np.ndarray
    services: np.ndarray
    patiences: np.ndarray
    threshold: float
    ring_survival: float = 1.0
    """Share of callers reaching an agent at once whose patience outlasts the ring: P(patience > ring)."""


def queue_models(scenario: Scenario) -> dict[str, QueueModel]:
    """Each staffed department as an M/M/c(+M) queue per interval (a chat department's contacts do not
    ring: first response is the wait; its servers are slots, `sim.model.chat`)."""
    rates = arrival_rates(scenario)
    shares = department_shares(scenario)
    thresholds = department_thresholds(scenario)  # each its own goals.departments.NAME.threshold, or the centre's
    chats = chat_departments(scenario)
    models = {}
    for name in staffed_departments(scenario):
        work, patience = department_times(scenario, name)
        if name in chats:
            models[name] = QueueModel(rates * shares[name], work, patience, thresholds[name], 1.0)
        else:
            threshold = max(0.0, thresholds[name] - scenario.ring_time)
            models[name] = QueueModel(
                rates * shares[name], scenario.ring_time + work, patience, threshold, ring_survival(scenario)
            )
    return models


def chat_servers(scenario: Scenario, department: str) -> tuple[int, float]:
    """How Erlang sees one agent of a chat department's own desk: as `n` servers each working at
    1 / `factor` (the number in hand that clears work fastest, n / slowdown[n-1] at its largest, and its
    slow-down); (1, 1.0) for a voice department or a desk of one slot."""
    desk = chat_desks(scenario).get(department)
    if desk is None or department not in chat_departments(scenario):
        return 1, 1.0
    return desk_servers(desk.factors())


def desk_servers(factors: Sequence[float]) -> tuple[int, float]:
    """How Erlang sees one agent whose chats in hand slow down by `factors` (with 1, 2, ... in hand): as
    `n` servers each working at 1 / factors[n-1], n the number in hand that clears the most work,
    n / factors[n-1] (the fewest on a tie); (K, 1.0) for K slots without slow-down."""
    best = max(range(1, len(factors) + 1), key=lambda n: (n / factors[n - 1], -n))
    return best, float(factors[best - 1])


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
