"""`callsim erlang --slots K [--slowdown F1,...]`: the Erlang answer for a chat queue whose agents hold K chats.

- one slot is the voice answer, exactly;
- K slots without slow-down is Erlang at c x K servers (M/M/(cK)+M): checked against a plain Erlang C formula
  written here, and the agents are ceil(servers / K);
- with a slow-down, an agent is n servers at 1 / f(n) of a lone chat's pace, n the number in hand clearing
  the most work (`sim.analysis.load.desk_servers`, the staffing search's rule);
- a simulated chat desk of two slots at the command's answer meets the Erlang C service level it prints,
  within a Student-t interval of the replications (start-up bias from the transient chain bounded).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

from sim.analysis import erlang
from sim.analysis.summary import summary
from sim.cli.app import app
from sim.engine.day import simulate
from sim.experiments.runner import parallel_map
from sim.model.loading import scenario_from_dict
from sim.model.scenario import Scenario
from tests.test_erlang import Model
from tests.test_theory import ALPHA, BIAS_SHARE, start_bias

runner = CliRunner()


def answers(*options: str) -> dict[str, Any]:
    done = runner.invoke(app, ["erlang", *options, "--json"])
    assert done.exit_code == 0, done.output
    return json.loads(done.output)


def plain_erlang_c_service_level(servers: int, load: float, handle: float, threshold: float) -> float:
    """M/M/c from the textbook sums: P(wait) = (a^c/c! · c/(c-a)) / (Σ_{k<c} a^k/k! + a^c/c! · c/(c-a)),
    service level 1 - P(wait) · exp(-(c - a) t / handle); 0 when unstable."""
    if load >= servers:
        return 0.0
    tail = load**servers / math.factorial(servers) * servers / (servers - load)
    p_wait = tail / (sum(load**k / math.factorial(k) for k in range(servers)) + tail)
    return 1.0 - p_wait * math.exp(-(servers - load) * threshold / handle)


def plain_servers(per_hour: float, handle: float, threshold: float, target: float) -> int:
    """The fewest M/M/c servers reaching `target` within `threshold`, by the plain formula."""
    load = per_hour / 3600 * handle
    servers = 1
    while plain_erlang_c_service_level(servers, load, handle, threshold) < target:
        servers += 1
    return servers


def test_one_slot_is_the_voice_answer_exactly() -> None:
    voice = ["--per-hour", "120", "--aht", "4m", "--patience", "3m", "--max-abandon", "0.05"]
    assert answers(*voice, "--slots", "1") == answers(*voice)
    unslowed = answers(*voice, "--slots", "1", "--slowdown", "1")  # one slot, factor 1: a call
    for key in ("erlang_c", "erlang_a", "table", "load_erlangs"):
        assert unslowed[key] == answers(*voice)[key]


@pytest.mark.parametrize(
    ("per_hour", "aht", "slots"), [(120, 300, 2), (90, 480, 3), (200, 240, 4), (30, 600, 3)]
)
def test_k_slots_are_erlang_at_c_times_k_servers(per_hour: float, aht: float, slots: int) -> None:
    got = answers("--per-hour", str(per_hour), "--aht", str(aht), "--patience", "5m", "--slots", str(slots))
    servers = plain_servers(per_hour, aht, 20.0, 0.8)
    assert got["erlang_c_servers"] == servers
    assert got["erlang_c"]["agents"] == math.ceil(servers / slots)
    load = per_hour / 3600 * aht
    for row in got["table"]:  # every row: the figures of agents x K servers
        expected = plain_erlang_c_service_level(row["agents"] * slots, load, aht, 20.0)
        assert row["erlang_c_service_level"] == pytest.approx(expected, abs=1e-9)
    servers_a = erlang.staff_erlang_a(per_hour / 3600, aht, 300.0, 20.0, 0.8)
    assert got["erlang_a"]["agents"] == math.ceil(servers_a / slots)


@pytest.mark.parametrize(
    ("slowdown", "servers_per_agent", "factor"),
    [("1,1.25,1.5625", 3, 1.5625), ("1,1.8,2.9", 2, 1.8), ("1,2.5", 1, 1.0)],
)
def test_a_slowdown_makes_each_agent_n_slowed_servers(
    slowdown: str, servers_per_agent: int, factor: float
) -> None:
    """n / f(n) by hand: 1, 1.6, 1.92 (three in hand); 1, 1.11, 1.03 (two); 1, 0.8 (one: a second chat
    would slow both more than it adds)."""
    slots = len(slowdown.split(","))
    got = answers("--per-hour", "100", "--aht", "5m", "--slots", str(slots), "--slowdown", slowdown)
    assert (got["servers_per_agent"], got["slowdown_factor"]) == (servers_per_agent, factor)
    servers = plain_servers(100, 300 * factor, 20.0, 0.8)
    assert got["erlang_c_servers"] == servers
    assert got["erlang_c"]["agents"] == math.ceil(servers / servers_per_agent)


def test_the_command_says_what_the_table_means_and_refuses_bad_desks() -> None:
    shown = runner.invoke(app, ["erlang", "--per-hour", "60", "--aht", "6m", "--slots", "2"])
    assert shown.exit_code == 0, shown.output
    assert "chats/h, 2 slots per agent" in shown.output and "M/M/(c x 2)(+M) exactly" in shown.output
    slowed = runner.invoke(
        app, ["erlang", "--per-hour", "60", "--aht", "6m", "--slots", "2", "--slowdown", "1,1.2"]
    )
    assert "an approximation" in slowed.output
    for bad, says in (
        (["--slots", "2", "--slowdown", "1"], "one factor per number of chats in hand"),
        (["--slots", "2", "--slowdown", "1,fast"], "'fast' is not a number"),
        (["--slots", "0"], "slots"),
        (["--slots", "2", "--slowdown", "1,0.5"], "greater than or equal to 1"),
    ):
        refused = runner.invoke(app, ["erlang", "--per-hour", "60", "--aht", "6m", *bad])
        assert refused.exit_code == 2 and says in refused.output, refused.output


# --- simulation: two slots, no slow-down, at the command's answer ------------------------------------------

PER_HOUR, HANDLE, THRESHOLD, SLOTS = 60.0, 360.0, 60.0, 2


def chat_desk(agents: int, hours: float, warmup: float) -> Scenario:
    """A chat desk of `agents` with two slots each, exponential 6-minute chats, nobody leaving."""
    return scenario_from_dict(
        {
            "name": "chat-erlang",
            "seed": 3,
            "duration": f"{warmup + hours}h",
            "warmup": f"{warmup}h",
            "service_level": {"threshold": THRESHOLD},
            "arrivals": {"per_hour": PER_HOUR},
            "departments": {
                "web": {
                    "channel": "chat",
                    "agents": agents,
                    "chat": {"slots": SLOTS},
                    "handle_time": {"dist": "exponential", "mean": HANDLE},
                }
            },
        }
    )


def _service_level(scenario: Scenario, seed: int, replication: int) -> float:
    return float(summary(simulate(scenario, seed, replication))["service_level"])


def test_a_two_slot_desk_at_the_answer_meets_the_printed_erlang_c_service_level() -> None:
    got = answers(
        "--per-hour", str(PER_HOUR), "--aht", str(HANDLE), "--threshold", str(THRESHOLD), "--slots", "2"
    )
    agents, printed = got["erlang_c"]["agents"], got["erlang_c"]["service_level"]
    scenario = chat_desk(agents, hours=20.0, warmup=1.0)
    bias = start_bias(scenario, Model(PER_HOUR / 3600, 1 / HANDLE, agents * SLOTS))["service_level"]
    reps = 30
    values = np.array(list(parallel_map(_service_level, [(scenario, 17, r) for r in range(reps)], 2)))
    se = values.std(ddof=1) / math.sqrt(reps)
    assert se > 0 and abs(bias) <= BIAS_SHARE * se, (bias, se)
    crit = float(stats.t.isf(ALPHA / 2, reps - 1))
    assert abs(values.mean() - printed) <= crit * se, (values.mean(), printed, se)
