"""Transfers against theory and by hand: an open Jackson network, reason-based routing with derived
transfer counts, conservation, exact cold and warm chains, and the max_transfers rule.

Statistical checks compare a mean over independent replications with its theoretical value and fail when
they differ by more than Z standard errors of that mean (Z = 4: a false alarm about once in 16,000 per
check, so the file's ~20 checks together stay below 1 in 800).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sim.analysis.erlang import erlang_c_figures
from sim.analysis.summary import summary
from sim.analysis.tables import calls_table, transfer_table, visits_table
from sim.engine.day import simulate
from sim.model.loading import load_scenario, scenario_from_dict
from tests.conftest import ROOT

Z = 4.0


def _check(name: str, values: list[float], theory: float) -> None:
    data = np.asarray(values, dtype=float)
    mean = float(data.mean())
    se = float(data.std(ddof=1) / math.sqrt(len(data)))
    assert se > 0, f"{name}: zero standard error over {len(data)} replications"
    z = (mean - theory) / se
    assert abs(z) <= Z, f"{name}: simulated {mean:.5g} vs theory {theory:.5g} (SE {se:.3g}, z = {z:+.2f})"


def _jackson(reps: int, hours: int) -> None:
    scenario = load_scenario(ROOT / "scenarios" / "jackson.yaml", [f"duration={hours}h"])
    names = list(scenario.departments)
    matrix = np.zeros((len(names), len(names)))
    for i, name in enumerate(names):
        for target, probability in (scenario.departments[name].transfer or {}).items():
            matrix[i, names.index(target)] = probability
    external = np.array([scenario.arrivals.per_hour or 0.0, 0, 0, 0]) / 3600.0
    rates = np.linalg.solve(np.eye(len(names)) - matrix.T, external)  # traffic equations
    observed: dict[str, list[list[float]]] = {name: [[], []] for name in names}
    window = scenario.duration - scenario.warmup
    for replication in range(reps):
        visits = visits_table(simulate(scenario, replication=replication))
        visits = visits[(visits["queued_at"] >= scenario.warmup) & (visits["queued_at"] < scenario.duration)]
        for name in names:
            mine = visits[visits["department"] == name]
            observed[name][0].append(len(mine) / window * 3600.0)
            observed[name][1].append(float(mine["wait_time"].mean()))
    for index, name in enumerate(names):
        department = scenario.departments[name]
        assert department.agents is not None and department.agents.count is not None
        figures = erlang_c_figures(
            rates[index], department.handle_time.mean_value(), department.agents.count, threshold=0.0
        )
        _check(f"{name} visits per hour", observed[name][0], rates[index] * 3600.0)
        _check(f"{name} mean wait", observed[name][1], figures.asa)


def test_jackson_network_matches_traffic_equations_and_erlang_c() -> None:
    _jackson(reps=12, hours=48)


@pytest.mark.slow
def test_jackson_network_long() -> None:
    _jackson(reps=30, hours=240)


def _routing_scenario(accuracy_ivr: float, accuracy_agents: float, departments: int, hours: int) -> dict:
    names = [f"d{i}" for i in range(departments)]
    return {
        "name": "routing",
        "duration": f"{hours}h",
        "interval": "1h",
        "arrivals": {"per_hour": 60, "reasons": {n: 1 / departments for n in names}},
        "ivr": {"accuracy": accuracy_ivr},
        "routing": {"accuracy": accuracy_agents, "listen_time": "15s"},
        "departments": {
            n: {"agents": 3, "handle_time": {"dist": "exponential", "mean": "3m"}} for n in names
        },
    }


def expected_transfers(ivr_accuracy: float, agent_accuracy: float, departments: int) -> float:
    """Mean transfers per caller when every department resolves only its own reason.

    Misrouted by the IVR (probability 1 - a), a caller sits at a wrong department with j other wrong,
    unvisited departments left (j = K - 2 at first). Its agent transfers it once; with probability r (or
    surely when j = 0) to the right department, else to one of the j: T(0) = 1, T(j) = 1 + (1 - r) T(j-1).
    """
    transfers = 1.0
    for _ in range(departments - 2):
        transfers = 1.0 + (1.0 - agent_accuracy) * transfers
    return (1.0 - ivr_accuracy) * transfers


@pytest.mark.parametrize(("ivr", "agents", "count"), [(0.7, 0.6, 4), (0.5, 0.9, 3)])
def test_first_contact_routing_equals_ivr_accuracy_and_transfers_follow(
    ivr: float, agents: float, count: int
) -> None:
    scenario = scenario_from_dict(_routing_scenario(ivr, agents, count, hours=40))
    routed, transfers, touched = [], [], []
    for replication in range(10):
        kpis = summary(simulate(scenario, replication=replication))
        routed.append(kpis["first_contact_routing"])
        transfers.append(kpis["transfers_per_call"])
        touched.append(kpis["mean_agents_touched"])
    theory = expected_transfers(ivr, agents, count)
    _check("first-contact routing", routed, ivr)
    _check("transfers per call", transfers, theory)
    _check("agents touched", touched, 1.0 + theory)


def test_expected_transfers_formula_by_enumeration() -> None:
    # K = 3, IVR a, agents r: misrouted (1 - a) -> 1 transfer with prob r, else 2 (the last wrong one, then forced).
    a, r = 0.5, 0.9
    assert expected_transfers(a, r, 3) == pytest.approx((1 - a) * (r * 1 + (1 - r) * 2))


def test_conservation_with_transfers() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "listening.yaml", ["duration=3h", "interval=1h"])
    result = simulate(scenario)
    calls = calls_table(result)
    visits = visits_table(result)
    transfers = transfer_table(result)
    events = result.events
    kpis = summary(result)
    ends = kpis["answered"] + kpis["abandoned"] + kpis["blocked"] + kpis["in_system"] + kpis["dropped"]
    assert ends == kpis["offered"] == kpis["arrivals"] - kpis["self_served"]
    reached = int((~calls["outcome"].isin(["blocked", "self_service"])).sum())
    first_visits = int((visits["visit"] == 1).sum())
    assert first_visits == reached  # each call reaching a queue makes exactly one first visit
    assert len(visits) == reached + len(transfers)  # visits = arrivals reaching a queue + transfers in
    for name in scenario.departments:
        by_department = kpis["by_department"][name]
        assert by_department["transfers_in"] == int((transfers["to"] == name).sum())
    terminal = events[events["event"].isin(["block", "abandon", "end", "drop", "self_service"])]
    assert terminal["call_id"].is_unique
    assert set(terminal["call_id"]) == set(calls.loc[calls["outcome"] != "in_system", "call_id"])


def _chain_scenario(tmp_path: Path, mode: str) -> dict:
    (tmp_path / "calls.csv").write_text("at,reason\n0,technical\n", encoding="utf-8")
    return {
        "name": "chain",
        "duration": "1h",
        "interval": "1h",
        "arrivals": {"trace": str(tmp_path / "calls.csv"), "reasons": {"billing": 0.5, "technical": 0.5}},
        "ivr": {"accuracy": 0.0, "menu_time": "10s"},
        "routing": {"listen_time": "30s", "transfer_time": "5s", "accuracy": 1.0},
        "transfers": {"mode": mode, "consult_time": "20s"},
        "departments": {
            "billing": {"agents": 1, "handle_time": "2m", "wrap_time": "10s"},
            "technical": {"agents": 1, "handle_time": "3m", "wrap_time": "15s"},
        },
    }


def _trace(result) -> list[tuple[float, str, int, int, str]]:
    events = result.events
    return [
        (round(float(t), 6), str(e), int(c), int(a), str(d))
        for t, e, c, a, d in zip(
            events["t"],
            events["event"],
            events["call_id"],
            events["agent_id"],
            events["department"],
            strict=True,
        )
    ]


def test_cold_transfer_trace(tmp_path: Path) -> None:
    # The IVR (accuracy 0) sends the technical caller to billing after 10 s; billing agent 0 listens 30 s,
    # transfers (5 s) cold at 45 s, wraps 10 s; technical agent 1 answers at once, talks 3 min (to 225 s),
    # wraps 15 s (to 240 s).
    result = simulate(scenario_from_dict(_chain_scenario(tmp_path, "cold")))
    assert _trace(result) == [
        (0.0, "login", -1, 0, "billing"),
        (0.0, "login", -1, 1, "technical"),
        (0.0, "arrive", 1, -1, "billing"),
        (10.0, "ivr", 1, -1, "billing"),
        (10.0, "enqueue", 1, -1, "billing"),
        (10.0, "ring", 1, 0, "billing"),
        (10.0, "answer", 1, 0, "billing"),
        (45.0, "transfer", 1, 0, "billing"),
        (45.0, "enqueue", 1, -1, "technical"),
        (45.0, "ring", 1, 1, "technical"),
        (45.0, "answer", 1, 1, "technical"),
        (55.0, "idle", 1, 0, "billing"),
        (225.0, "end", 1, 1, "technical"),
        (240.0, "idle", 1, 1, "technical"),
    ]
    call = calls_table(result).iloc[0]
    assert call["talk_time"] == pytest.approx(35.0 + 180.0)
    assert call["n_transfers"] == 1 and call["agents_touched"] == 2 and call["chain"] == "billing > technical"
    assert not call["first_contact_routed"]


def test_warm_transfer_trace_keeps_both_agents_busy(tmp_path: Path) -> None:
    # Warm: billing agent 0 stays on the line from 45 s until technical answers (at once) and they consult
    # for 20 s: handover at 65 s, then billing wraps 10 s (to 75 s). Technical talks 20 s consult + 3 min.
    result = simulate(scenario_from_dict(_chain_scenario(tmp_path, "warm")))
    assert _trace(result)[7:] == [
        (45.0, "transfer", 1, 0, "billing"),
        (45.0, "enqueue", 1, -1, "technical"),
        (45.0, "ring", 1, 1, "technical"),
        (45.0, "answer", 1, 1, "technical"),
        (65.0, "handover", 1, 0, "billing"),
        (75.0, "idle", 1, 0, "billing"),
        (245.0, "end", 1, 1, "technical"),
        (260.0, "idle", 1, 1, "technical"),
    ]


def test_max_transfers_escalate_and_hang_up(tmp_path: Path) -> None:
    data = _chain_scenario(tmp_path, "cold")
    data["max_transfers"] = 0
    escalated = calls_table(simulate(scenario_from_dict(data))).iloc[0]
    assert escalated["outcome"] == "answered" and escalated["n_transfers"] == 0
    assert escalated["talk_time"] == pytest.approx(120.0)  # billing resolves it with its own handle time
    data["on_max_transfers"] = "hang_up"
    result = simulate(scenario_from_dict(data))
    dropped = calls_table(result).iloc[0]
    assert dropped["outcome"] == "dropped" and dropped["ended_at"] == pytest.approx(
        40.0
    )  # after listening 30 s
    assert summary(result)["dropped"] == 1


def test_callers_of_the_warm_up_are_left_out_of_every_department_count() -> None:
    # jackson.yaml has a warm-up: a caller who arrived in it is not counted, even in the queues it reaches
    # after the warm-up, so each department's visits are its counted first arrivals plus its transfers in.
    scenario = load_scenario(ROOT / "scenarios" / "jackson.yaml", ["duration=4h"])
    assert scenario.warmup > 0
    result = simulate(scenario)
    kpis = summary(result)
    calls = calls_table(result)
    counted = calls[calls["arrived_at"] >= scenario.warmup]
    moved = sum(row["count"] for row in kpis["transfer_matrix"])
    for name, department in kpis["by_department"].items():
        first = int((counted["first_department"] == name).sum())
        assert department["visits"] == first + department["transfers_in"], name
    assert moved == sum(d["transfers_out"] for d in kpis["by_department"].values())
    assert moved == int(counted["n_transfers"].sum())
