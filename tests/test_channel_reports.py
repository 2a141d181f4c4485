"""Reports per channel (issue 19.5): a centre of several channels has a voice headline, each channel's own
figures, channel rows in the interval table, email judged by its due time, pictures per channel and the
email backlog, and sweeps over channel KPIs.

- By hand: the voice headline and the `voice_*` / `chat_*` figures recomputed with numpy from the calls
  table (not through the analysis code); the interval table's channel and email rows from the calls table
  and the email bookkeeping.
- Common random numbers: a chat department that receives no chat leaves every voice figure exactly as in
  the voice-only centre.
- Theory: in a voice + email centre whose agents take an email only when no call waits (non-preemptive
  priority, equal exponential work, nobody hangs up), a call waits beyond t with probability
  C(c, a) exp(-(c mu - lambda_voice) t), a = (lambda_voice + lambda_email) / mu: Erlang C at the whole
  load (the pool is work-conserving, so all c are busy as often as in M/M/c), then the calls ahead clear at
  c mu while new calls join at lambda_voice (an email in service only finishes: no email is started while a
  call waits; with equal exponential work the residual is another exponential, as in Cobham's formula,
  `tests/test_email.py`). The voice service level is its complement, within a Student-t tolerance.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from sim.analysis.channel_kpis import CHANNEL_FIGURES
from sim.analysis.email import email_backlog, email_columns
from sim.analysis.goals import goals_section, interval_verdicts, missed_cells
from sim.analysis.intervals import interval_table
from sim.analysis.kpis import VOICE_HEADLINE, kpi, label_in
from sim.analysis.summary import summary
from sim.analysis.tables import calls_table, visits_table
from sim.cli.app import app
from sim.engine.day import RunResult, simulate
from sim.experiments.runner import parallel_map
from sim.model.loading import scenario_from_dict
from sim.model.scenario import Scenario
from sim.output.plots_channels import channel_figure
from sim.output.plots_channels_data import channel_inputs
from tests.conftest import ROOT
from tests.test_theory import ALPHA

runner = CliRunner()
HANDLE = {"dist": "exponential", "mean": "4m"}


def omni(**changes: Any) -> dict[str, Any]:
    """Billing and sales answer calls, web answers chats (two at a time), a mailbox answers emails (due in
    2 h, 20 waiting at the open); a blended group takes calls first and emails when no call waits."""
    data: dict[str, Any] = {
        "name": "omni",
        "seed": 4,
        "duration": "6h",
        "interval": "1h",
        "warmup": "30m",
        "service_level": {"threshold": "20s", "target": 0.8},
        "arrivals": {"per_hour": 160, "reasons": {"billing": 0.35, "sales": 0.25, "web": 0.2, "mail": 0.2}},
        "patience": {"dist": "exponential", "mean": "3m"},
        "departments": {
            "billing": {"agents": 3, "handle_time": HANDLE},
            "sales": {"agents": 3, "handle_time": HANDLE},
            "web": {"channel": "chat", "agents": 3, "handle_time": HANDLE, "chat": {"slots": 2}},
            "mailbox": {
                "channel": "email",
                "resolves": ["mail"],
                "agents": 1,
                "handle_time": {"dist": "exponential", "mean": "6m"},
                "email": {"due": "2h", "backlog": 20},
            },
        },
        "agent_groups": {"blend": {"agents": 2, "skills": {"billing": 1, "mailbox": 2}}},
    }
    data.update(changes)
    return data


@pytest.fixture(scope="module")
def day() -> RunResult:
    return simulate(scenario_from_dict(omni()), seed=2)


def _by_hand(calls: pd.DataFrame, threshold: float) -> dict[str, float]:
    """The headline figures of these offered calls, with numpy on the calls table's columns."""
    outcome = calls["outcome"].astype(str).to_numpy()
    answered = outcome == "answered"
    reached = (outcome != "blocked") & (outcome != "message")
    wait = calls["wait_time"].to_numpy(dtype=float)
    handle = (calls["talk_time"] + calls["hold_time"] + calls["wrap_time"]).to_numpy(dtype=float)
    in_time = answered & (calls["time_to_answer"].to_numpy(dtype=float) <= threshold + 1e-9)
    return {
        "offered": len(calls),
        "answered": int(answered.sum()),
        "abandoned": int((outcome == "abandoned").sum()),
        "service_level": in_time.sum() / len(calls),
        "asa": float(np.nanmean(wait[~np.isnan(calls["answered_at"].to_numpy(dtype=float))])),
        "mean_wait": float(np.nanmean(wait[reached])),
        "abandon_rate": float((outcome == "abandoned").sum() / len(calls)),
        "aht": float(np.mean(handle[~np.isnan(calls["answered_at"].to_numpy(dtype=float))])),
    }


def _offered(result: RunResult) -> pd.DataFrame:
    calls = calls_table(result)
    calls = calls[calls["arrived_at"].to_numpy() >= result.scenario.warmup]
    return calls[calls["outcome"].astype(str) != "self_service"]


CHANNEL = {"billing": "voice", "sales": "voice", "web": "chat", "mailbox": "email"}


def test_the_voice_headline_and_each_channels_figures_are_their_calls_by_hand(day: RunResult) -> None:
    found = summary(day)
    calls = _offered(day)
    channel = calls["first_department"].astype(str).map(CHANNEL).to_numpy()
    threshold = day.scenario.service_level.threshold
    voice = _by_hand(calls[channel == "voice"], threshold)
    chat = _by_hand(calls[channel == "chat"], threshold)
    everything = _by_hand(calls, threshold)
    assert voice["offered"] > 300 and chat["offered"] > 80 and (channel == "email").sum() > 80
    assert abs(everything["service_level"] - voice["service_level"]) > 0.02  # mixing them would show
    for key, value in voice.items():
        assert found[key] == pytest.approx(value, rel=1e-12), key  # the headline is voice's
        if key != "aht":
            assert found[f"voice_{key}"] == pytest.approx(value, rel=1e-12), key
    for key in ("offered", "answered", "abandoned", "service_level", "asa", "mean_wait", "abandon_rate"):
        assert found[f"chat_{key}"] == pytest.approx(chat[key], rel=1e-12), key
    # occupancy stays every agent's work; email by its own figures, never by a service level
    assert found["occupancy"] > 0 and found["emails_handled"] > 80
    assert math.isnan(found["by_department"]["mailbox"]["service_level"])
    assert math.isnan(found["by_channel"]["email"]["service_level"])
    assert label_in(kpi("offered").label, "offered", found) == "offered calls (voice)"
    assert label_in(kpi("occupancy").label, "occupancy", found) == kpi("occupancy").label


def test_every_channel_figure_and_voice_headline_key_is_in_the_registry(day: RunResult) -> None:
    found = summary(day)
    channel_keys = [f"{channel}_{key}" for channel in ("voice", "chat") for key in CHANNEL_FIGURES]
    assert set(channel_keys) <= set(found)
    for key in channel_keys:
        assert kpi(key).definition  # a definition in words
    assert all(_known(key) for key in VOICE_HEADLINE)


def _known(key: str) -> bool:
    try:
        kpi(key)
    except KeyError:
        return False
    return True


def test_a_centre_of_chats_and_emails_counts_its_chats_in_the_headline() -> None:
    data = omni(arrivals={"per_hour": 80, "reasons": {"web": 0.5, "mail": 0.5}}, agent_groups={})
    data["departments"] = {name: data["departments"][name] for name in ("web", "mailbox")}
    result = simulate(scenario_from_dict(data), seed=3)
    found = summary(result)
    calls = _offered(result)
    chats = calls[calls["first_department"].astype(str) == "web"]
    assert len(chats) > 100 and len(calls) > len(chats) + 100
    by_hand = _by_hand(chats, result.scenario.service_level.threshold)
    for key in ("offered", "service_level", "asa", "abandon_rate"):
        assert found[key] == pytest.approx(by_hand[key], rel=1e-12) == found[f"chat_{key}"]
    assert "voice_offered" not in found
    assert label_in(kpi("service_level").label, "service_level", found) == "service level (chat)"


def test_a_chat_department_with_no_chats_leaves_every_voice_figure_as_in_the_voice_only_centre() -> None:
    """Common random numbers: the reason draws and every voice stream are the same, so with a chat share
    too small for a single chat in the day the voice sample path is the voice-only centre's."""
    base: dict[str, Any] = {
        "name": "crn",
        "seed": 4,
        "duration": "4h",
        "patience": {"dist": "exponential", "mean": "3m"},
        "departments": {"billing": {"agents": 4, "handle_time": HANDLE}, "sales": {"agents": 3, "handle_time": HANDLE}},
    }
    alone = summary(
        simulate(scenario_from_dict({**base, "arrivals": {"per_hour": 100, "reasons": {"billing": 0.6, "sales": 0.4}}}))
    )
    with_chat = summary(
        simulate(
            scenario_from_dict(
                {
                    **base,
                    "arrivals": {"per_hour": 100, "reasons": {"billing": 0.6, "sales": 0.4, "web": 1e-9}},
                    "departments": {
                        **base["departments"],
                        "web": {"channel": "chat", "agents": 1, "handle_time": "5m", "chat": {"slots": 2}},
                    },
                }
            )
        )
    )
    assert with_chat["chat_offered"] == 0 and "by_channel" in with_chat and "by_channel" not in alone
    compared = [key for key in VOICE_HEADLINE if "." not in key and key in alone]
    assert len(compared) > 15
    for key in compared:
        a, b = alone[key], with_chat[key]
        assert (isinstance(a, float) and math.isnan(a) and math.isnan(b)) or a == b, key
        if key in ("offered", "service_level", "asa", "abandon_rate"):
            assert with_chat[f"voice_{key}"] == b
    assert alone["offered"] > 300


# --- theory: the voice channel of a voice + email pool ---------------------------------------------------

AGENTS, MEAN, PER_HOUR, VOICE_SHARE, THRESHOLD = 3, 240.0, 31.5, 0.5, 60.0


def _priority(hours: float) -> Scenario:
    return scenario_from_dict(
        {
            "name": "priority",
            "seed": 3,
            "duration": f"{hours + 2}h",
            "warmup": "2h",
            "service_level": {"threshold": THRESHOLD},
            "arrivals": {"per_hour": PER_HOUR, "reasons": {"phone": VOICE_SHARE, "mail": 1 - VOICE_SHARE}},
            "departments": {
                "phone": {"resolves": ["phone"], "handle_time": {"dist": "exponential", "mean": MEAN}},
                "email": {
                    "channel": "email",
                    "resolves": ["mail"],
                    "handle_time": {"dist": "exponential", "mean": MEAN},
                    "email": {"due": "1000h"},
                },
            },
            "agent_groups": {"blend": {"agents": AGENTS, "skills": {"phone": 1, "email": 1}}},
        }
    )


def _erlang_c(servers: int, load: float) -> float:
    """The probability an arrival waits in M/M/servers at `load` erlangs (written out here, not the
    library's)."""
    terms = np.array([load**k / math.factorial(k) for k in range(servers)])
    top = load**servers / math.factorial(servers) * servers / (servers - load)
    return float(top / (terms.sum() + top))


def _levels(scenario: Scenario, seed: int, replication: int) -> tuple[float, float]:
    found = summary(simulate(scenario, seed, replication))
    return float(found["service_level"]), float(found["voice_offered"])


def test_the_voice_service_level_of_a_voice_and_email_pool_is_erlang_c_for_the_voice_part() -> None:
    reps = 24
    scenario = _priority(200.0)
    rows = list(parallel_map(_levels, [(scenario, 17, r) for r in range(reps)], 2))
    levels = np.array([level for level, _ in rows])
    rate, mu = PER_HOUR / 3600, 1 / MEAN
    theory = 1 - _erlang_c(AGENTS, rate / mu) * math.exp(-(AGENTS * mu - VOICE_SHARE * rate) * THRESHOLD)
    fifo = 1 - _erlang_c(AGENTS, rate / mu) * math.exp(-(AGENTS * mu - rate) * THRESHOLD)
    voice_alone = 1 - _erlang_c(AGENTS, VOICE_SHARE * rate / mu) * math.exp(
        -(AGENTS * mu - VOICE_SHARE * rate) * THRESHOLD
    )
    se = levels.std(ddof=1) / math.sqrt(reps)
    crit = float(stats.t.isf(ALPHA / 2, reps - 1))
    assert se > 0 and min(theory - fifo, voice_alone - theory) > 2 * crit * se  # the test tells them apart
    assert abs(levels.mean() - theory) <= crit * se, f"{levels.mean():.4f} vs {theory:.4f} (SE {se:.4f})"


# --- the interval table ------------------------------------------------------------------------------------


def test_the_interval_table_has_a_row_per_channel_and_voice_all_rows(day: RunResult) -> None:
    table = interval_table(day)
    found = summary(day)
    kinds = table["kind"].astype(str)
    rows = table[kinds == "channel"]
    assert list(dict.fromkeys(rows["department"])) == ["voice", "chat", "email"]
    intervals = day.scenario.interval_count
    assert len(rows) == 3 * intervals
    # order: each interval's `all` row, then its channels, then its departments and groups
    assert list(table.loc[table["interval"] == 1, "kind"].astype(str))[:4] == ["all", "channel", "channel", "channel"]
    calls = _offered(day)
    channel = calls["first_department"].astype(str).map(CHANNEL).to_numpy()
    interval = np.minimum(calls["arrived_at"].to_numpy() // day.scenario.interval, intervals - 1).astype(int)
    threshold = day.scenario.service_level.threshold
    for name in ("voice", "chat"):
        mine = rows[rows["department"] == name].sort_values("interval")
        for i in range(intervals):
            cell = calls[(channel == name) & (interval == i)]
            row = mine.iloc[i]
            assert row["offered"] == len(cell)
            if len(cell):
                assert row["service_level"] == pytest.approx(_by_hand(cell, threshold)["service_level"])
        assert mine["offered"].sum() == found[f"{name}_offered"]
    voice = rows[rows["department"] == "voice"].sort_values("interval")
    overall = table[kinds == "all"].sort_values("interval")
    for column in ("offered", "answered", "abandoned", "service_level", "asa"):  # `all` is voice's
        assert np.allclose(overall[column].to_numpy(float), voice[column].to_numpy(float), equal_nan=True)
    assert overall["occupancy"].notna().all()  # every agent's work


def test_email_rows_carry_the_box_and_no_service_level(day: RunResult) -> None:
    table = interval_table(day)
    found = summary(day)
    kinds = table["kind"].astype(str)
    for kind in ("channel", "department"):
        rows = table[(kinds == kind) & (table["department"].astype(str) == ("email" if kind == "channel" else "mailbox"))]
        rows = rows.sort_values("interval")
        assert rows["service_level"].isna().all()
        assert rows["emails_handled"].sum() == found["emails_handled"]
        assert rows["email_backlog"].iloc[-1] == found["email_backlog_at_close"]
        expected = email_backlog(day)["backlog"].to_numpy()  # the backlog.csv bookkeeping
        assert np.array_equal(rows["email_backlog"].to_numpy(dtype=float), expected.astype(float))
    # within due per interval: the emails settled in it, by hand; over the day, the summary's figure
    emails = email_columns(day)
    handled_at = emails["handled_at"].to_numpy()
    due_at = emails["due_at"].to_numpy()
    edges = np.arange(day.scenario.interval_count + 1) * day.scenario.interval
    mailbox = table[(kinds == "department") & (table["department"].astype(str) == "mailbox")].sort_values("interval")
    for i in range(day.scenario.interval_count):
        taken = (handled_at >= edges[i]) & (handled_at < edges[i + 1])
        if taken.sum():
            late_left = (i == day.scenario.interval_count - 1) & np.isnan(handled_at) & (due_at < day.scenario.duration)
            share = (taken & (handled_at <= due_at)).sum() / (taken.sum() + late_left.sum())
            assert mailbox["email_within_due"].iloc[i] == pytest.approx(share)
    # rows of other kinds have no email figures
    assert table.loc[kinds == "all", "emails_handled"].isna().all()


def test_emails_are_never_called_missed_for_a_twenty_second_service_level(day: RunResult) -> None:
    table = interval_table(day)
    visits = visits_table(day)
    threshold = day.scenario.service_level.threshold
    mine = visits[visits["department"].astype(str) == "mailbox"]
    interval = (mine["queued_at"].to_numpy() // day.scenario.interval).astype(int)
    in_time = mine["answered"].astype(bool).to_numpy() & (mine["time_to_answer"].to_numpy() <= threshold)
    by_seconds = np.bincount(interval, in_time) / np.maximum(np.bincount(interval), 1)
    assert (by_seconds[np.bincount(interval) > 0] < 0.8).any()  # a 20 s rule would call these missed
    rows = table[(table["kind"].astype(str) == "department") & (table["department"].astype(str) == "mailbox")]
    within = rows["email_within_due"].to_numpy(dtype=float)
    assert np.array_equal(rows["met_target"].to_numpy(), np.isnan(within) | (within >= 0.8))
    verdicts = interval_verdicts(table, day.scenario)
    email = verdicts[verdicts["scope"] == "mailbox"]
    assert set(email["goal"]) == {"service_level"}  # no inherited ASA or abandonment goal
    assert (email["figure"] == "email_within_due").all()
    cells = missed_cells(verdicts)
    missed_mail = cells[cells["scope"] == "mailbox"]
    assert all("within due" in text for text in missed_mail["what"])
    section = goals_section(summary(day), table, day.scenario)
    assert section["day"]["mailbox"]["service_level"]["figure"] == "email_within_due"
    assert section["day"]["mailbox"]["service_level"]["value"] == summary(day)["email_within_due"]


def test_the_channel_picture_draws_each_channels_interval_rows(day: RunResult) -> None:
    table = interval_table(day)
    figure = channel_figure(channel_inputs(table, 0.8, 20.0, "omni"))
    top, bottom = figure.axes[:2]
    lines = {line.get_label(): line.get_ydata() for line in top.get_lines()}
    rows = table[table["kind"].astype(str) == "channel"]
    chat = rows[rows["department"] == "chat"].sort_values("interval")
    email = rows[rows["department"] == "email"].sort_values("interval")
    assert np.allclose(lines["chat: first response within 20 s"], chat["service_level"], equal_nan=True)
    assert np.allclose(lines["email: handled within due"], email["email_within_due"], equal_nan=True)
    volumes = {line.get_label(): line.get_ydata() for line in bottom.get_lines()}
    assert np.array_equal(volumes["voice"], rows[rows["department"] == "voice"].sort_values("interval")["offered"])


# --- the command line ---------------------------------------------------------------------------------------


def test_run_labels_the_voice_headline_and_draws_the_channel_pictures(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", str(ROOT / "scenarios" / "email-backlog.yaml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "offered calls (voice)" in result.output and "service level (voice, target 80.0%)" in result.output
    assert "missed" in result.output and " email (" not in result.output.split("missed")[-1]
    assert (out / "plots" / "channels.png").is_file() and (out / "plots" / "email_backlog.png").is_file()
    report = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="plot-channels"' in report and 'id="plot-email_backlog"' in report
    assert "offered calls (voice)" in report
    assert "SL voice calls" in report and "within due email" in report  # the intervals table
    intervals = pd.read_csv(out / "intervals.csv")
    assert {"voice", "email"} <= set(intervals.loc[intervals["kind"] == "channel", "department"])


def test_a_voice_only_run_has_no_channel_pictures(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", str(ROOT / "scenarios" / "small-centre.yaml"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "(voice)" not in result.output
    assert not (out / "plots" / "channels.png").exists() and not (out / "plots" / "email_backlog.png").exists()


def test_sweep_takes_channel_kpis(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    result = runner.invoke(
        app,
        [
            "sweep",
            str(ROOT / "scenarios" / "email-backlog.yaml"),
            "--grid",
            "agent_groups.email-only.agents=0,2",
            "--reps",
            "2",
            "--jobs",
            "1",
            "--plot",
            "email_backlog_at_close",
            "--plot",
            "voice_service_level",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "summary.csv")
    assert {"voice_service_level", "email_within_due", "email_backlog_at_close"} <= set(table.columns)
    assert np.allclose(table["voice_service_level"], table["service_level"])  # the headline is voice's
    assert (out / "plots" / "voice_service_level-vs-agent_groups.email-only.agents.png").is_file()
    assert "service level (voice)" in result.output and "within due" in result.output
    wrong = runner.invoke(
        app,
        ["sweep", str(ROOT / "scenarios" / "email-backlog.yaml"), "--grid", "agent_groups.email-only.agents=0,2",
         "--plot", "chat_service_level", "--out", str(tmp_path / "x")],
    )
    assert wrong.exit_code == 2 and "no such KPI" in wrong.output  # no chat department: no chat figures
