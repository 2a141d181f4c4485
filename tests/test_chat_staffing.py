"""Staffing a chat desk (`callsim staff` on a chat department): Erlang sees one chat agent as the slots it
keeps busy at full load, so the Erlang A start is ceil(N / slots) agents for the N servers Erlang A gives
chats (no ring: the threshold is the first response's); the simulated plan agrees within one agent."""

from __future__ import annotations

from sim.analysis.load import chat_servers, queue_models
from sim.experiments.executors import SerialExecutor
from sim.experiments.staffing import search
from sim.experiments.staffing.start import erlang_plans, staff_erlang_a
from sim.experiments.staffing.targets import Targets
from sim.model.scenario import Scenario

TARGETS = Targets({"service_level": 0.8}, {})


def chat_day(slowdown: list[float] | None = None) -> Scenario:
    """90 chats an hour, 6-minute exponential work, 3-minute patience, a 60-second first-response goal,
    a desk of 3 slots; a ring set for the voice side, which chats do not have."""
    desk: dict[str, object] = {"slots": 3}
    if slowdown is not None:
        desk["slowdown"] = slowdown
    return Scenario.model_validate(
        {
            "name": "chat-day",
            "seed": 11,
            "duration": "3h",
            "interval": "1h",
            "warmup": "1h",
            "ring": {"rings": 2, "cycle": "6s"},
            "service_level": {"threshold": "60s", "target": 0.8},
            "arrivals": {"per_hour": 90},
            "patience": {"dist": "exponential", "mean": "3m"},
            "departments": {
                "chat": {
                    "channel": "chat",
                    "agents": 4,
                    "handle_time": {"dist": "exponential", "mean": "6m"},
                    "chat": desk,
                }
            },
        }
    )


def test_erlang_sees_a_chat_agent_as_its_slots_without_a_ring() -> None:
    scenario = chat_day()
    model = queue_models(scenario)["chat"]
    assert model.threshold == 60.0 and model.ring_survival == 1.0  # no ring before a first response
    assert model.services.tolist() == [360.0] * 3
    assert chat_servers(scenario, "chat") == (3, 1.0)
    servers = staff_erlang_a(90 / 3600, 360.0, 180.0, 60.0, 0.8, 1.0)  # Erlang A on chat slots
    plan_a, _ = erlang_plans(scenario, TARGETS)
    assert plan_a["chat"] == [-(-servers // 3)] * 3
    # with a slow-down the desk is busiest at the number in hand that clears work fastest
    slowed = chat_day([1.0, 1.25, 1.9])  # 1/1, 2/1.25 = 1.6, 3/1.9 = 1.58: two in hand
    assert chat_servers(slowed, "chat") == (2, 1.25)


def test_the_simulated_plan_of_a_desk_without_slowdown_is_erlang_a_on_its_slots() -> None:
    """M/M/(3c)+M: 3 slots of c agents are 3c Erlang A servers (no slow-down), so the simulated plan of the
    measured hours is within one agent of ceil(N / 3)."""
    scenario = chat_day()
    result = search(scenario, TARGETS, reps=12, seed=11, executor=SerialExecutor())
    expected = -(-staff_erlang_a(90 / 3600, 360.0, 180.0, 60.0, 0.8, 1.0) // 3)
    assert all(abs(count - expected) <= 1 for count in result.plan["chat"][1:]), (result.plan, expected)
