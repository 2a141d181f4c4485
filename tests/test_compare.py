"""`callsim compare`: KPIs side by side, B - A, and the right significance test (paired under common random
numbers, Welch otherwise, none for single runs)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy import stats
from typer.testing import CliRunner

import sim.cli.app as cli
from sim.analysis import kpis
from sim.analysis.rows import flatten
from sim.experiments.compare import compared_kpis, p_value
from sim.output.compare import (
    choose_test,
    compare,
    comparison_frame,
    service_level_figure,
    write_comparison,
)
from sim.output.saved import load_run
from tests.report_runs import better_run, other_seed_run, replicated_run, single_run


def test_same_seed_and_replications_get_a_paired_test():
    test = choose_test(load_run(replicated_run()), load_run(better_run()))
    assert test.kind == "paired"
    assert "common random numbers" in test.explanation and "seed 5" in test.explanation


def test_different_seeds_get_welch():
    test = choose_test(load_run(replicated_run()), load_run(other_seed_run()))
    assert test.kind == "welch"
    assert "Welch" in test.explanation


def test_single_runs_get_no_test():
    comparison = compare(load_run(single_run()), load_run(replicated_run()))
    assert comparison.test.kind == "none"
    assert all(row.verdict == "not tested" for row in comparison.rows)
    assert all(np.isnan(row.p_value) for row in comparison.rows)


def test_values_and_differences_come_from_the_summaries():
    a, b = load_run(replicated_run()), load_run(better_run())
    frame = comparison_frame(compare(a, b))
    flat_a, flat_b = flatten(a.summary), flatten(b.summary)
    assert len(frame) >= 20
    for row in frame.to_dict(orient="records"):
        assert row["a"] == pytest.approx(flat_a[row["kpi"]], nan_ok=True)
        assert row["b"] == pytest.approx(flat_b[row["kpi"]], nan_ok=True)
        assert row["difference"] == pytest.approx(row["b"] - row["a"], nan_ok=True)
    assert "by_department.billing.service_level" in set(frame["kpi"])


def test_doubling_the_agents_is_significantly_better():
    frame = comparison_frame(compare(load_run(replicated_run()), load_run(better_run()))).set_index("kpi")
    assert frame.loc["service_level", "verdict"] == "B better"
    assert frame.loc["service_level", "p_value"] < 0.05
    assert frame.loc["asa", "difference"] < 0
    # common random numbers: both runs saw exactly the same callers
    assert frame.loc["offered", "difference"] == 0
    assert frame.loc["offered", "verdict"] == "no significant difference"


def test_a_run_compared_with_itself_shows_no_difference():
    run = load_run(replicated_run())
    comparison = compare(run, run)
    assert comparison.test.kind == "paired"
    for row in comparison.rows:
        assert row.difference == 0 or np.isnan(row.difference)
        assert row.verdict in ("no significant difference", "not tested")


def test_p_values_agree_with_scipy():
    a = [0.80, 0.82, 0.79, 0.85, 0.81]
    b = [0.84, 0.85, 0.80, 0.90, 0.86]
    assert p_value(a, b, "paired") == pytest.approx(stats.ttest_rel(b, a).pvalue)
    assert p_value(a, b, "welch") == pytest.approx(stats.ttest_ind(b, a, equal_var=False).pvalue)
    assert p_value([1, 1, 1], [1, 1, 1], "welch") == 1.0
    assert p_value([1, 1, 1], [2, 2, 2], "welch") == 0.0
    assert p_value([1, 2, 3], [2, 3, 4], "paired") == 0.0  # the same shift every time
    assert p_value([1, float("nan"), 3], [2, 5, 4], "paired") == 0.0  # the NaN pair is left out
    assert np.isnan(p_value([1], [2], "welch"))


def test_welch_p_values_use_the_replications():
    a, b = load_run(replicated_run()), load_run(other_seed_run())
    frame = comparison_frame(compare(a, b)).set_index("kpi")
    assert a.replications is not None and b.replications is not None
    expected = stats.ttest_ind(
        b.replications["service_level"], a.replications["service_level"], equal_var=False
    ).pvalue
    assert frame.loc["service_level", "p_value"] == pytest.approx(expected)


def test_written_comparison(tmp_path):
    comparison = compare(load_run(replicated_run()), load_run(better_run()))
    paths = write_comparison(comparison, tmp_path)
    assert [p.name for p in paths] == ["comparison.csv", "comparison.json", "service_level.png"]
    table = pd.read_csv(tmp_path / "comparison.csv")
    assert len(table) == len(comparison.rows)
    data = json.loads((tmp_path / "comparison.json").read_text())
    assert data["test"] == "paired" and data["a"]["seed"] == data["b"]["seed"] == 5
    with Image.open(tmp_path / "service_level.png") as image:
        assert image.size[0] >= 800 and image.size[1] >= 400
    figure = service_level_figure(comparison)
    lines = [line for line in figure.axes[0].get_lines() if line.get_label().startswith(("A:", "B:"))]
    assert len(lines) == 2 and all(len(line.get_ydata()) == 4 for line in lines)
    bands = [c for c in figure.axes[0].collections if "confidence band" in c.get_label()]
    assert len(bands) == 2


def test_cli_compare_folders(tmp_path):
    out = tmp_path / "cmp"
    result = CliRunner().invoke(
        cli.app, ["compare", str(replicated_run()), str(better_run()), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "paired t-test" in text and "service level" in text and "B better" in text
    assert (out / "comparison.json").exists()
    as_json = CliRunner().invoke(
        cli.app, ["compare", str(replicated_run()), str(better_run()), "--out", str(out), "--force", "--json"]
    )
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout)["test"] == "paired"
    refused = CliRunner().invoke(
        cli.app, ["compare", str(replicated_run()), str(better_run()), "--out", str(out)]
    )
    assert refused.exit_code == 2


def test_cli_compare_scenarios(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: tiny\nseed: 3\nduration: 1h\narrivals: {per_hour: 60}\npatience: {dist: exponential, mean: 1m}\n"
        "departments: {support: {agents: 1, handle_time: {dist: exponential, mean: 2m}}}\n"
    )
    result = CliRunner().invoke(
        cli.app,
        ["compare", str(scenario), str(scenario), "--set-b", "departments.support.agents=3", "--reps", "3"],
        env={"COLUMNS": "160"},
    )
    assert result.exit_code == 0, result.output
    runs = sorted(p.name for p in (tmp_path / "results").iterdir())
    assert len(runs) == 3 and sum(name.startswith("compare-tiny-vs-tiny") for name in runs) == 1
    assert "paired t-test over 3 replication pairs" in " ".join(result.output.split())


def test_cli_compare_prints_a_label_holding_brackets(tmp_path, monkeypatch):
    """A changed list value (`[chat, voice]`) is printed as written, not swallowed as console markup."""
    monkeypatch.chdir(tmp_path)
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: tiny\nseed: 3\nduration: 1h\narrivals: {per_hour: 60, reasons: {talk: 0.7, web: 0.3}}\n"
        "departments:\n  phone: {resolves: [talk], handle_time: {dist: exponential, mean: 2m}}\n"
        "  chat: {channel: chat, resolves: [web], handle_time: {dist: exponential, mean: 2m}}\n"
        "agent_groups: {floor: {agents: 3, skills: {phone: 1, chat: 1}, chat: {slots: 2}}}\n"
    )
    result = CliRunner().invoke(
        cli.app,
        ["compare", str(scenario), str(scenario), "--set-b", "agent_groups.floor.channel_priority=[chat, voice]"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "channel_priority=[chat, voice]" in result.output


def test_every_kpi_compare_shows_is_the_registrys():
    """Each row's key is registered and its label, unit and direction are the registry's (a department's
    label prefixed with the department); the rows are the registry's `compared` entries in its order."""
    a, b = load_run(replicated_run()), load_run(better_run())
    comparison = compare(a, b)
    frame = comparison_frame(comparison)
    assert list(frame["kpi"]) == [row.key for row in comparison.rows]
    for row, record in zip(comparison.rows, frame.to_dict(orient="records"), strict=True):
        assert kpis.known(row.key), f"{row.key} is not in the KPI registry"
        entry = kpis.kpi(row.key)
        department = row.key.split(".")[1] if row.key.startswith("by_department.") else None
        expected = entry.label if department is None else f"{department}: {entry.label}"
        assert (row.label, row.unit, row.better) == (expected, entry.unit, entry.better), row.key
        assert (record["label"], record["unit"]) == (expected, entry.unit), row.key
        assert entry.compared, f"{row.key} is shown but not flagged `compared` in the registry"
    departments = ["billing", "technical"]
    # in a summary only where a department has a queue_capacity, or transfers by conference; costs with `costs:`;
    # chat occupancy and slot use with a chat department; the outbound figures with an `outbound` list; the
    # email figures with an email department; a channel's own figures beside a chat or email department
    optional = {
        "message_rate",
        "conference_missed_rate",
        *(e.key for e in kpis.KPIS if e.group in ("costs", "chat", "outbound", "email", "channels")),
    }
    assert [row.key for row in comparison.rows] == [
        *(entry.key for entry in kpis.KPIS if entry.compared and entry.key not in optional),
        *(
            f"by_department.{name}.{entry.key}"
            for name in departments
            for entry in kpis.DEPARTMENT_KPIS
            if entry.compared and entry.key != "cost"
        ),
    ]


def test_compare_follows_a_change_in_the_registry(monkeypatch):
    """Relabelling, re-uniting or reversing a KPI in the registry changes what compare shows: no second
    description of the KPIs hides in the comparison."""
    changed = {
        "mean_wait": {"label": "waiting, on average", "better": 1},
        "p_wait": {"compared": True},
        "aht": {"compared": False},
    }
    monkeypatch.setattr(
        kpis,
        "KPIS",
        tuple(dataclasses.replace(entry, **changed.get(entry.key, {})) for entry in kpis.KPIS),
    )
    monkeypatch.setattr(
        kpis,
        "DEPARTMENT_KPIS",
        tuple(
            dataclasses.replace(entry, unit="h" if entry.key == "asa" else entry.unit)
            for entry in kpis.DEPARTMENT_KPIS
        ),
    )
    shown = {item.key: item for item in compared_kpis(["billing"])}
    assert shown["mean_wait"].label == "waiting, on average" and shown["mean_wait"].entry.better == 1
    assert "p_wait" in shown and "aht" not in shown
    assert shown["by_department.billing.asa"].entry.unit == "h"
    rows = {row.key: row for row in compare(load_run(replicated_run()), load_run(better_run())).rows}
    assert rows["mean_wait"].label == "waiting, on average" and rows["mean_wait"].better == 1
    assert "p_wait" in rows and "aht" not in rows
    assert rows["by_department.billing.asa"].unit == "h"


def test_cli_refuses_set_on_a_folder_whose_name_looks_like_markup(tmp_path):
    """`--set-a` on a results folder is refused in one line that names the folder as it is, even when its
    name holds what Rich would read as markup (it used to crash with a MarkupError)."""
    import shutil

    odd = tmp_path / "run[/]x"
    shutil.copytree(replicated_run(), odd)
    result = CliRunner().invoke(
        cli.app, ["compare", str(odd), str(better_run()), "--set-a", "seed=2", "--out", str(tmp_path / "c")]
    )
    assert result.exit_code == 2, result.output
    assert "run[/]x is a results folder" in " ".join(result.output.split())
