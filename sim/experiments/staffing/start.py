"""The analytic starting points of a staffing search: Erlang A (M/M/c+M) and Erlang C (M/M/c) agents per
interval and department, and the one-queue answers `callsim erlang` shows."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sim.analysis import erlang
from sim.analysis.load import chat_servers, desk_servers, queue_models
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
    slots: int = 1,
    slowdown: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Erlang C and Erlang A staffing for one queue, with the figures around the answers.

    Chat (`slots` > 1, or a `slowdown` per number of chats in hand): an agent is `n` servers each working at
    1 / slowdown[n-1] of a lone chat's pace, n the number in hand that clears the most work
    (`sim.analysis.load.desk_servers`, the rule the staffing search starts from); the Erlang answer is found
    in servers, and the agents are ceil(servers / n). Without slow-down that is M/M/(cK)+M exactly, under
    exponential times, every slot serving independently and a waiting chat taken by any free slot; with a
    slow-down, an approximation (an agent with fewer chats in hand works faster than assumed). Each table
    row is a number of agents, its figures those of agents x n servers."""
    if per_hour <= 0 or aht <= 0 or patience <= 0 or threshold < 0:
        raise StaffingError("calls per hour, AHT and patience must be > 0, the threshold >= 0")
    if not 0 <= target < 1 or not 0 < max_abandon <= 1:
        raise StaffingError("the target must be in [0, 1) and the abandonment ceiling in (0, 1]")
    chat = slots != 1 or slowdown is not None
    per_agent, factor = desk_servers(desk_factors(slots, slowdown))
    service = aht * factor
    rate = per_hour / 3600.0
    servers_c = erlang.staff_erlang_c(rate, service, threshold, target)
    servers_a = staff_erlang_a(rate, service, patience, threshold, target, max_abandon)
    answer_c = -(-servers_c // per_agent)
    answer_a = -(-servers_a // per_agent)
    rows = []
    for agents in range(max(1, min(answer_a, answer_c) - 3), max(answer_a, answer_c) + 3):
        c = erlang.erlang_c_figures(rate, service, agents * per_agent, threshold)
        a = erlang.erlang_a_figures(rate, service, patience, agents * per_agent, threshold)
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
    c_fig = erlang.erlang_c_figures(rate, service, answer_c * per_agent, threshold)
    a_fig = erlang.erlang_a_figures(rate, service, patience, answer_a * per_agent, threshold)
    desk: dict[str, Any] = {}
    if chat:  # a voice answer keeps its keys
        desk = {
            "slots": slots,
            "slowdown": list(desk_factors(slots, slowdown)),
            "servers_per_agent": per_agent,
            "slowdown_factor": factor,
            "erlang_c_servers": servers_c,
            "erlang_a_servers": servers_a,
        }
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
        **desk,
    }


def desk_factors(slots: int, slowdown: Sequence[float] | None) -> tuple[float, ...]:
    """The slow-down with 1, 2, ..., `slots` chats in hand, checked as a scenario's `chat:` block is
    (`sim.model.chat.ChatDesk`: 1 to 20 slots, one factor in [1, 100] per number in hand)."""
    from pydantic import ValidationError

    from sim.model.chat import ChatDesk

    try:
        desk = ChatDesk(slots=slots, slowdown=None if slowdown is None else tuple(slowdown))
    except ValidationError as error:
        reasons = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'slowdown'}: {item['msg']}"
            for item in error.errors(include_url=False)
        )
        raise StaffingError(f"chat desk: {reasons}") from None
    return desk.factors()


def _figures(figures: erlang.QueueFigures) -> dict[str, float]:
    return {
        "service_level": figures.service_level,
        "asa": figures.asa,
        "p_wait": figures.p_wait,
        "abandon_rate": figures.abandon_rate,
        "occupancy": figures.occupancy,
    }
