"""report.html for the model's optional parts: holds, callbacks, redials and the experience score (headline
cards, KPI tables, assumptions), agent groups (occupancy, calls by skill, own agents against overflow, per
interval), half-widths with their unit, and agent-group rows of the interval table never taken for
departments. A plain scenario shows none of it."""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from pathlib import Path

import pytest

from sim.analysis import kpis
from sim.experiments.runner import replicate
from sim.model.loading import load_scenario
from sim.output.report import assumptions, kind_rows, missed_cells, number, render, write_report
from sim.output.results import write_run
from sim.output.saved import load_run
from tests.conftest import ROOT
from tests.report_runs import _root

SHORT = ["duration=2h"]
CROSS_TRAINED = [
    *SHORT,
    "agent_groups.flex.agents=5",
    "departments.billing.agents=5",
    "departments.technical.agents=6",
]


def _saved(name: str, scenario: str, overrides: list[str], reps: int = 1, report: bool = False) -> Path:
    model = load_scenario(ROOT / "scenarios" / scenario, overrides)
    run = replicate(model, None, reps, jobs=1)
    return write_run(_root() / name, run, command=["callsim", "test", name], report=report)


@functools.cache
def virtual_hold() -> Path:
    """scenarios/virtual-hold.yaml as shipped (a four-hour morning, ~660 calls), report included."""
    return _saved("virtual-hold", "virtual-hold.yaml", [], report=True)


@functools.cache
def cross_training() -> Path:
    """scenarios/cross-training.yaml with five flex agents, two replications, no pictures."""
    return _saved("cross-training", "cross-training.yaml", CROSS_TRAINED, reps=2)


@functools.cache
def plain() -> Path:
    """scenarios/small-centre.yaml: no holds, callbacks, redials, groups or menu."""
    return _saved("plain", "small-centre.yaml", SHORT)


def _html(folder: Path) -> str:
    report = folder / "report.html"
    return report.read_text(encoding="utf-8") if report.exists() else render(load_run(folder), [])


def _section(html: str, key: str) -> str:
    return html.split(f'id="{key}"', 1)[1].split("</section>", 1)[0]


def _text(html: str) -> str:
    """Visible text, tags gone, entities for quotes undone, whitespace collapsed."""
    text = re.sub(r"<[^>]+>", " ", html).replace("&#x27;", "'").replace("&amp;", "&")
    return " ".join(text.split())


def test_virtual_hold_headline_shows_holds_callbacks_redials_and_experience():
    folder = virtual_hold()
    summary = json.loads((folder / "summary.json").read_text())
    headline = _text(_section(_html(folder), "headline"))
    assert "Holds, callbacks, redials and the caller's experience (a model)" in headline
    live = kpis.kpi("service_level_live").label  # the card's name is the registry's
    assert f"{live} {number(summary['service_level_live'], '%')}" in headline
    accepted, offered = summary["callbacks_accepted"], summary["callbacks_offered"]
    assert offered > 0 and f"callbacks accepted / offered {accepted} / {offered}" in headline
    assert f"calls put on hold {number(summary['hold_rate'], '%')}" in headline
    assert f"{summary['abandoned_on_hold']} hung up on hold" in headline
    assert f"calls per caller {number(summary['attempts_per_caller'], 'x')}" in headline
    assert f"{summary['unique_callers']} callers made {summary['offered']} calls" in headline
    assert f"experience score (model, 0-10) {number(summary['experience']['mean'], 'x')} " in headline


def test_virtual_hold_kpi_tables_hold_every_feature_figure():
    folder = virtual_hold()
    summary = json.loads((folder / "summary.json").read_text())
    kpis = _text(_section(_html(folder), "kpis"))
    for title in ("Holds", "Callbacks", "Redials", "Caller experience (a model, not a survey result)"):
        assert f" {title} KPI value target status" in kpis, title
    expected = {
        "answered calls put on hold": number(summary["hold_rate"], "%"),
        "mean time on one hold": number(summary["mean_hold_time"], "s"),
        "90th-percentile time on one hold": number(summary["p90_hold_time"], "s"),
        "holds that outran their promise": number(summary["hold_overrun_rate"], "%") + " promise 1m",
        "callers who hung up on hold": number(summary["abandoned_on_hold"]),
        "callbacks offered on joining a queue": number(summary["callbacks_offered"]),
        "callbacks taken at a check-back": number(summary["callbacks_from_hold"]),
        "callbacks first dialled within the window": number(summary["callback_promise_kept"], "%")
        + " window 1h",
        "mean time from request to first dial-out": number(summary["mean_time_to_callback"], "s"),
        "dial-outs answered": number(summary["callback_answer_rate"], "%"),
        "callers (people)": number(summary["unique_callers"]),
        "calls per caller (redials included)": number(summary["attempts_per_caller"], "x"),
        "experience score, 10th percentile": number(summary["experience"]["p10"], "x"),
        "calls scoring below 5": number(summary["experience"]["share_below_5"], "%"),
    }
    for label, value in expected.items():
        assert f"{label} {value}" in kpis, label
    live = summary["service_level_live"]
    status = "met" if live >= 0.8 else "missed"
    assert (
        f"service level, live callers (callbacks left out) {number(live, '%')} ≥ 80% within 20 s {status}"
        in kpis
    )


def test_virtual_hold_intervals_and_departments_show_holds_and_callbacks():
    folder = virtual_hold()
    html = _html(folder)
    run = load_run(folder)
    overall = kind_rows(run.intervals, "all").sort_values("interval")
    intervals = _text(_section(html, "intervals"))
    headers = [
        kpis.kpi(key).console_label for key in ("hold_rate", "abandoned_on_hold", "callbacks_accepted")
    ]
    assert f"ASA {' '.join(headers)} experience SL all calls" in intervals  # the registry's compact labels
    first = overall.iloc[0]
    assert f"{number(first['hold_rate'], '%')} {number(first['abandoned_on_hold'])}" in intervals
    departments = _text(_section(html, "departments"))
    assert "of them callbacks" in departments
    billing = run.summary["by_department"]["billing"]
    assert (
        f"billing {billing['visits']} {billing['answered']} {billing['callbacks_answered']} " in departments
    )


def test_virtual_hold_assumptions_describe_holds_callbacks_redials_and_the_experience_model():
    text = _text(_section(_html(virtual_hold()), "assumptions"))
    for words in (
        # holds
        "billing holds: at most once per call, with probability 33%",
        "on hold to research (lognormal, mean 75 s, cv 0.80), promising 1m",
        "checks back when the promise runs out (fixed 10 s of talk)",
        "keeps holding with a new 1m promise (70%) or takes a callback (30%)",
        "outlasts their hold patience (exponential, mean 240 s",
        # callbacks
        "(callers ahead + 1) x the department's mean handle + wrap time / the agents on duty",
        "Over 1.5m a callback is offered and 60% accept",
        "in the caller's place in the queue (keep_place: virtual hold)",
        "Callback window 1h: a callback not dialled by the end of its window less the time the front of the "
        "queue takes to reach an agent",
        "moves to the front of its caller's priority level",
        "dials out (uniform 10-25 s, the agent busy); the caller answers with probability 85%",
        "10m later, up to 2 retries, then is given up (callback_failed)",
        # redials
        "busy signal calls again with probability 80% after exponential, mean 120 s",
        "gave up (in a queue, ringing or on hold) with probability 50% after exponential, mean 600 s",
        "up to 3 calls per caller in all",
        # the experience score
        "a model (the peak-end rule",
        "not a survey result",
        "min(1, wait / 120 s)",
        "min(1, hold time / 180 s)",
        "a broken hold promise 0.6, a misroute",
        "first agent 0, later agent 0.3, callback 0.2, self-service 0.1",
        "score = 10 x (1 - 0.5 x peak - 0.5 x end)",
    ):
        assert words in text, words


def test_experience_formula_uses_the_scenario_parameters():
    scenario = load_scenario(
        ROOT / "scenarios" / "virtual-hold.yaml",
        [
            "experience.peak_weight=0.7",
            "experience.wait_tolerance=1m",
            "experience.end_badness.callback=0.25",
        ],
    )
    text = " ".join(assumptions(scenario, 1))
    assert "min(1, wait / 60 s)" in text and "callback 0.25" in text
    assert "score = 10 x (1 - 0.7 x peak - 0.3 x end)" in text


def test_callbacks_taken_on_hold_alone_are_described_with_the_default_settings():
    scenario = load_scenario(ROOT / "scenarios" / "virtual-hold.yaml", ["callback=null", "redial=null"])
    text = " ".join(assumptions(scenario, 1))
    assert "Callbacks instead of waiting" not in text and "Redials" not in text
    assert "with the default callback settings (the scenario has no callback block)" in text
    assert "Callback window 2h" in text


def test_cross_training_report_shows_groups_by_skill_own_agents_and_intervals():
    folder = cross_training()
    run = load_run(folder)
    summary = run.summary
    departments = _text(_section(render(run, []), "departments"))
    flex = summary["by_group"]["flex"]
    handled = flex["handled"]
    occupancy = (
        f"{number(flex['occupancy'], '%')} ± {number(summary['ci95']['by_group']['flex']['occupancy'], '%')}"
    )
    assert (
        f"flex 5 agents all day billing (1), technical (1) technical x1.15 {occupancy} "
        f"{number(handled['billing'])} {number(handled['technical'])} "
        f"{number(handled['billing'] + handled['technical'])}"
    ) in departments
    for name, values in summary["by_department"].items():
        own = values["answered_by_own_agents"]
        assert 0 < own < 1
        assert f"{name} {number(values['answered'])} {number(own, '%')} {number(1 - own, '%')}" in departments
    assert "Agent groups by interval" in departments
    groups = kind_rows(run.intervals, "group").sort_values("interval")
    first = groups.iloc[0]
    assert (
        f"{first['start']} {number(first['occupancy'], '%')} {number(first['agents_logged_in'])} "
        f"{number(first['handled_billing'])} {number(first['handled_technical'])}"
    ) in departments
    assumptions_text = _text(_section(render(run, []), "assumptions"))
    assert "Agent group flex: 5 agents all day" in assumptions_text
    assert "x1.15 on technical (above 1 is slower)" in assumptions_text


def test_half_widths_carry_their_unit_everywhere():
    html = render(load_run(cross_training()), [])
    intervals = _text(_section(html, "intervals"))
    widths = re.findall(r"± (\S+)", intervals)
    assert len(widths) == 4  # every interval's service level, all calls (two hours)
    assert all(width.endswith("%") for width in widths), widths
    for key in ("headline", "kpis", "departments"):
        for width in re.findall(r"± (\S+)", _text(_section(html, key))):
            assert width[-1] in "%sh" or re.fullmatch(r"[\d.]+", width), (key, width)


def test_group_rows_are_never_departments():
    run = load_run(cross_training())
    intervals = run.intervals.copy()
    groups = intervals["kind"] == "group"
    assert groups.any()
    # a group row that looked like a missed service level must still not count as one
    intervals.loc[groups, ["offered", "service_level"]] = [100, 0.0]
    assert not missed_cells(intervals, 0.8)["department"].eq("flex").any()
    page = render(dataclasses.replace(run, intervals=intervals), [])
    section = _text(_section(page, "intervals"))
    assert "SL flex" not in section and "flex" not in section


def test_an_old_interval_table_without_kind_has_no_group_rows():
    run = load_run(cross_training())
    old = run.intervals[run.intervals["kind"] != "group"].drop(columns=["kind"])
    assert kind_rows(old, "group").empty
    assert set(kind_rows(old, "all")["department"]) == {"all"}
    assert set(kind_rows(old, "department")["department"]) == {"billing", "technical"}
    page = render(dataclasses.replace(run, intervals=old), [])
    assert "Agent groups by interval" not in page and '<h3 id="groups">Agent groups</h3>' in page


def test_a_plain_scenario_shows_none_of_it():
    html = render(load_run(plain()), [])
    text = " ".join(
        _text(_section(html, key)) for key in ("headline", "kpis", "intervals", "departments", "assumptions")
    )
    for words in (
        "service level, live callers",
        "callbacks",
        "on hold",
        "calls per caller",
        "experience score",
        "Agent group",
        "Who answered each department's calls",
        "Redials",
        "peak-end",
    ):
        assert words not in text, words
    assert 'id="headline-more"' not in html


@pytest.mark.browser
def test_virtual_hold_report_renders_in_a_browser(tmp_path):
    from tests.test_browser import _verdict

    folder = virtual_hold()
    write_report(folder)  # as `callsim report` rebuilds it
    assert _verdict(folder / "report.html", tmp_path / "profile") == "ok"
