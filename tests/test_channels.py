"""Figures by channel (issue 19.5): a centre with calls and chats judges each channel as a whole, the union
of its departments' visits, with a department's definitions; checked against the visits table by hand."""

from __future__ import annotations

import pytest

from sim.analysis.summary import summary
from sim.analysis.tables import calls_table, visits_table
from sim.engine.day import simulate
from sim.model.scenario import Scenario


def mixed() -> Scenario:
    """Billing and sales answer calls; web answers chats (two slots a desk)."""
    handle = {"dist": "exponential", "mean": "4m"}
    return Scenario.model_validate(
        {
            "name": "mixed",
            "seed": 4,
            "duration": "4h",
            "arrivals": {"per_hour": 150, "reasons": {"billing": 0.4, "sales": 0.3, "web": 0.3}},
            "patience": {"dist": "exponential", "mean": "3m"},
            "departments": {
                "billing": {"agents": 4, "handle_time": handle},
                "sales": {"agents": 3, "handle_time": handle},
                "web": {"channel": "chat", "agents": 2, "handle_time": handle, "chat": {"slots": 2}},
            },
        }
    )


def test_each_channel_is_its_departments_visits_together() -> None:
    result = simulate(mixed())
    found = summary(result)
    assert set(found["by_channel"]) == {"voice", "chat"}
    visits = visits_table(result)
    live = visits[~visits["callback"].astype(bool)]
    threshold = result.scenario.service_level.threshold
    for channel, names in (("voice", ["billing", "sales"]), ("chat", ["web"])):
        mine = live[live["department"].astype(str).isin(names)]
        blocked = sum(found["by_department"][name]["blocked"] for name in names)
        in_time = (mine["answered"].astype(bool) & (mine["time_to_answer"] <= threshold + 1e-9)).sum()
        row = found["by_channel"][channel]
        assert row["visits"] == len(mine)
        assert row["answered"] == int(mine["answered"].astype(bool).sum())
        assert row["service_level"] == pytest.approx(in_time / (len(mine) + blocked))
        assert row["asa"] == pytest.approx(mine.loc[mine["answered"].astype(bool), "wait_time"].mean())
    # the chat channel is its one department
    web = found["by_department"]["web"]
    assert found["by_channel"]["chat"]["service_level"] == pytest.approx(web["service_level"])
    assert len(calls_table(result)) > 0


def test_a_single_channel_centre_has_no_by_channel_figures() -> None:
    """Its by-department figures say it all (and every single-channel summary stays as it was)."""
    voice_only = mixed().model_copy(
        update={
            "departments": {k: v for k, v in mixed().departments.items() if k != "web"},
            "arrivals": mixed().arrivals.model_copy(update={"reasons": {"billing": 0.6, "sales": 0.4}}),
        }
    )
    assert "by_channel" not in summary(simulate(voice_only))
