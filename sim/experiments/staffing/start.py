"""The analytic starting points of a staffing search: Erlang A (M/M/c+M) and Erlang C (M/M/c) agents per
interval and department, and the one-queue answers `callsim erlang` shows."""

from __future__ import annotations

import math
from typing import Any

from sim.analysis import erlang
from sim.analysis.load import chat_servers, queue_models
from sim.experiments.staffing.targets import StaffingError, Targets
from sim.model.scenario import Scenario


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
    plan_a: dict[str, list[int]] = {}
    plan_c: dict[str, list[int]] = {}
    for name, model in queue_models(scenario).items():
        target = targets.of(name).floors.get("service_level", 0.0)  # each department by its own goals
        max_abandon = targets.of(name).ceilings.get("abandon_rate", 1.0)
        survival = model.ring_survival
        queue_target = min(target / survival, 0.999)
        queue_abandon = 1.0 - (1.0 - max_abandon) / survival
        if queue_abandon <= 0:  # the ring alone loses more callers than allowed: no count meets it
            queue_abandon = 1.0
        # a chat agent is `slots` servers at full load, each slowed by `factor` (one server for voice)
        slots, factor = chat_servers(scenario, name)
        services = (model.services * factor).tolist()
        times = list(zip(model.rates.tolist(), services, model.patiences.tolist(), strict=True))
        plan_a[name] = [
            -(-staff_erlang_a(rate, service, patience, model.threshold, queue_target, queue_abandon) // slots)
            for rate, service, patience in times
        ]
        plan_c[name] = [
            -(-erlang.staff_erlang_c(rate, service, model.threshold, target) // slots) if rate > 0 else 0
            for rate, service, _ in times
        ]
    return plan_a, plan_c


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
