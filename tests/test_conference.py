"""Conference transfers and linked handle times against theory.

A receptionist desk (two agents) answers every caller and sends half of them on to an expert (one agent) by
conference: the expert joins only if free at once, and the receptionist stays on the line until the expert's
part of the call is over; with the expert busy, the caller is lost (`if_nobody_free: lost`) or the receptionist
serves them alone (`alone`). With exponential times and Poisson arrivals this is a continuous-time Markov chain
on (callers waiting for reception, receptionists talking alone on a first leg, conferences, receptionists
serving alone after a missed conference), solved numerically here; the simulation must agree on the share of
callers lost, the mean wait and each desk's occupancy within a Student-t quantile times the replications'
standard error. Linked handle times (a later leg talks a multiple of the first leg's draw) are checked exactly,
caller by caller.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

import sim
from sim.engine.log import Event
from sim.engine.reference import simulate_reference
from sim.model.loading import scenario_from_dict

ARRIVALS_PER_MINUTE = 0.6
RECEPTION_MINUTES = 1.0
EXPERT_MINUTES = 1.5
SHARE_SENT_ON = 0.5
RECEPTIONISTS = 2
QUEUE_CUTOFF = 60
"""The chain's waiting room: the probability of 60 callers waiting at this load is far below 1e-12."""
REPLICATIONS = 8
WARMUP_HOURS = 2.0
HOURS = 40.0
ERROR_RATE = 0.001


def desk(otherwise: str, **changes: Any) -> dict[str, Any]:
    """The reception-and-expert day as a scenario."""
    data: dict[str, Any] = {
        "name": "conference",
        "seed": 11,
        "duration": f"{HOURS + WARMUP_HOURS}h",
        "warmup": f"{WARMUP_HOURS}h",
        "interval": "1h",
        "drain": "1h",
        "arrivals": {"per_hour": ARRIVALS_PER_MINUTE * 60, "reasons": {"reception": 1.0}},
        "transfers": {"mode": "conference", "if_nobody_free": otherwise},
        "departments": {
            "reception": {
                "agents": RECEPTIONISTS,
                "handle_time": {"dist": "exponential", "mean": f"{RECEPTION_MINUTES}m"},
                "transfer": {"expert": SHARE_SENT_ON},
            },
            "expert": {
                "agents": 1,
                "resolves": ["reception"],
                "handle_time": {"dist": "exponential", "mean": f"{EXPERT_MINUTES}m"},
            },
        },
    }
    data.update(changes)
    return data


def chain(otherwise: str) -> dict[str, float]:
    """The Markov chain's long-run figures: share of callers lost, mean wait (minutes), and the mean number
    of busy receptionists and experts. State (waiting, talking, conferencing, alone) with
    talking + conferencing + alone <= RECEPTIONISTS, conferencing <= 1 (one expert), waiting > 0 only with
    every receptionist busy."""
    rate = ARRIVALS_PER_MINUTE
    first, second = 1 / RECEPTION_MINUTES, 1 / EXPERT_MINUTES
    states = [
        (waiting, talking, conferencing, alone)
        for waiting, talking, conferencing, alone in itertools.product(
            range(QUEUE_CUTOFF + 1), range(RECEPTIONISTS + 1), range(2), range(RECEPTIONISTS + 1)
        )
        if talking + conferencing + alone <= RECEPTIONISTS
        and (waiting == 0 or talking + conferencing + alone == RECEPTIONISTS)
    ]
    index = {state: position for position, state in enumerate(states)}
    generator = np.zeros((len(states), len(states)))
    lost_flow = np.zeros(len(states))

    def freed(waiting: int, talking: int, conferencing: int, alone: int) -> tuple[int, int, int, int]:
        """A receptionist is free: they take the next waiting caller, if any."""
        return (
            (waiting - 1, talking + 1, conferencing, alone) if waiting else (0, talking, conferencing, alone)
        )

    for state in states:
        waiting, talking, conferencing, alone = state
        moves: list[tuple[tuple[int, int, int, int], float]] = []
        if talking + conferencing + alone < RECEPTIONISTS:
            moves.append(((waiting, talking + 1, conferencing, alone), rate))
        elif waiting < QUEUE_CUTOFF:
            moves.append(((waiting + 1, talking, conferencing, alone), rate))
        ends = talking * first
        moves.append((freed(waiting, talking - 1, conferencing, alone), ends * (1 - SHARE_SENT_ON)))
        if conferencing == 0:
            moves.append(((waiting, talking - 1, 1, alone), ends * SHARE_SENT_ON))
        elif otherwise == "lost":
            moves.append((freed(waiting, talking - 1, conferencing, alone), ends * SHARE_SENT_ON))
            lost_flow[index[state]] = ends * SHARE_SENT_ON
        else:
            moves.append(((waiting, talking - 1, conferencing, alone + 1), ends * SHARE_SENT_ON))
        moves.append((freed(waiting, talking, conferencing - 1, alone), conferencing * second))
        moves.append((freed(waiting, talking, conferencing, alone - 1), alone * second))
        for target, flow in moves:
            if flow > 0:
                generator[index[state], index[target]] += flow
                generator[index[state], index[state]] -= flow
    # pi Q = 0 with sum(pi) = 1: replace one balance equation by the normalisation
    system = generator.T.copy()
    system[-1, :] = 1.0
    right = np.zeros(len(states))
    right[-1] = 1.0
    pi = np.linalg.solve(system, right)
    columns = np.array(states, dtype=float)
    queued, busy, in_conference = columns[:, 0], columns[:, 1:].sum(axis=1), columns[:, 2]
    return {
        "lost": float(pi @ lost_flow) / rate,
        "mean_wait": float(pi @ queued) / rate,
        "receptionists_busy": float(pi @ busy),
        "experts_busy": float(pi @ in_conference),
        "tail": float(pi[queued == QUEUE_CUTOFF].sum()),
    }


def _simulated(otherwise: str, replication: int, reference: bool = False) -> dict[str, float]:
    """One replication's figures after the warm-up, measured from the event log."""
    scenario = scenario_from_dict(desk(otherwise))
    if reference:
        events = simulate_reference(scenario, replication=replication).events
    else:
        events = sim.simulate(scenario, replication=replication).events
    start, end = WARMUP_HOURS * 3600.0, (WARMUP_HOURS + HOURS) * 3600.0
    arrivals = events[(events.event == Event.ARRIVE.value) & events.t.between(start, end, inclusive="left")]
    ids = set(arrivals.call_id)
    mine = events[events.call_id.isin(ids)]
    lost = int((mine.event == Event.DROP.value).sum())
    waits = mine[(mine.event == Event.RING.value) & (mine.department == "reception")].detail
    busy = _busy_minutes(events, start, end)
    return {
        "lost": lost / len(ids),
        "mean_wait": float(waits.sum()) / 60.0 / len(ids),
        "receptionists_busy": busy[0] / (end - start) * 60.0,
        "experts_busy": busy[1] / (end - start) * 60.0,
    }


def _busy_minutes(events: Any, start: float, end: float) -> list[float]:
    """Minutes each department's agents spend busy (ring to idle) within [start, end)."""
    rings = events[events.event == Event.RING.value]
    idles = events[events.event == Event.IDLE.value]
    busy = [0.0, 0.0]
    began = {(row.call_id, row.agent_id): row.t for row in rings.itertuples()}
    for row in idles.itertuples():
        opened = began.pop((row.call_id, row.agent_id))
        department = 0 if row.department == "reception" else 1
        busy[department] += max(0.0, min(row.t, end) - max(opened, start)) / 60.0
    return busy


@pytest.mark.parametrize("model", ["engine", "reference"])
@pytest.mark.parametrize("otherwise", ["lost", "alone"])
def test_conference_desk_matches_the_markov_chain(otherwise: str, model: str) -> None:
    """The fast engine and the plain SimPy reference model each agree with the chain."""
    expected = chain(otherwise)
    assert expected["tail"] < 1e-12
    runs = [_simulated(otherwise, replication, model == "reference") for replication in range(REPLICATIONS)]
    quantile = stats.t.ppf(1 - ERROR_RATE / 2, REPLICATIONS - 1)
    for figure, value in expected.items():
        if figure == "tail":
            continue
        sample = np.array([run[figure] for run in runs])
        error = sample.std(ddof=1) / math.sqrt(REPLICATIONS)
        assert abs(sample.mean() - value) <= quantile * error, (figure, sample.mean(), value, error)


def test_the_chain_tells_the_policies_apart() -> None:
    """The comparison has power: losing the caller and serving them alone differ by far more than noise."""
    lost, alone = chain("lost"), chain("alone")
    assert lost["lost"] > 0.1 and alone["lost"] == 0.0
    assert alone["mean_wait"] > 1.5 * lost["mean_wait"]


def test_with_the_expert_free_a_conference_connects_and_the_receptionist_stays() -> None:
    """One caller, nobody else: reception talks 60 s, the expert joins at once and talks 90 s; the
    receptionist stays on the line all that time (busy until 150 s), and the caller is served."""
    data = desk("lost", duration="10m", warmup=0, drain="1h")
    data["arrivals"] = {"trace_times": [0.0], "trace_reasons": ["reception"], "reasons": {"reception": 1.0}}
    data["departments"]["reception"]["handle_time"] = "60s"
    data["departments"]["reception"]["transfer"] = {"expert": 1.0}
    data["departments"]["expert"]["handle_time"] = "90s"
    events = sim.simulate(scenario_from_dict(data)).events
    idle = events[events.event == Event.IDLE.value]
    assert dict(zip(idle.department.astype(str), idle.t, strict=True)) == {
        "reception": 150.0,
        "expert": 150.0,
    }
    assert (events.event == Event.HANDOVER.value).sum() == 1
    assert (events.event == Event.DROP.value).sum() == 0


def test_later_legs_talk_a_multiple_of_the_first_draw() -> None:
    """`linked_handle_time: 1.5` at the expert: each caller sent on talks there exactly 1.5 times what they
    talked at reception (cold transfers, no ring, no transfer time), in the engine and the reference."""
    data = desk("lost", duration="4h", warmup=0)
    data["transfers"] = {"mode": "cold"}
    data["departments"]["expert"]["agents"] = 3
    data["departments"]["expert"]["linked_handle_time"] = 1.5
    scenario = scenario_from_dict(data)
    for events in (sim.simulate(scenario).events, simulate_reference(scenario).events):
        answers = events[events.event == Event.ANSWER.value]
        first_answer = answers[answers.department == "reception"].set_index("call_id").t
        sent = events[events.event == Event.TRANSFER.value].set_index("call_id").t
        ends = events[(events.event == Event.END.value) & (events.department == "expert")]
        later = ends.set_index("call_id").detail
        assert len(later) > 50
        first_leg = sent[later.index] - first_answer[later.index]
        np.testing.assert_allclose(later.to_numpy(), 1.5 * first_leg.to_numpy(), rtol=1e-9)
        # unlinked, the expert's talk is its own exponential draw: not proportional
    data["departments"]["expert"].pop("linked_handle_time")
    events = sim.simulate(scenario_from_dict(data)).events
    ends = events[(events.event == Event.END.value) & (events.department == "expert")].set_index("call_id")
    sent = events[events.event == Event.TRANSFER.value].set_index("call_id").t
    answers = events[events.event == Event.ANSWER.value]
    first_answer = answers[answers.department == "reception"].set_index("call_id").t
    ratio = ends.detail / (sent[ends.index] - first_answer[ends.index])
    assert ratio.std() > 0.1
