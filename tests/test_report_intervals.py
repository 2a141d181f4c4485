"""The report's intervals stay cheap and honest for long runs: past a limit the table lists the intervals that
missed the target and a roll-up by day (and says so), with every figure agreeing with the interval table and
summary.json; the tables are built a column at a time with the same text as cell by cell; pictures are drawn
once and saved as RGB PNGs, and a long run's volumes are summed by day."""

from __future__ import annotations

import functools
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from PIL import Image

import sim.output.plots_service_data as plots_service_data
import sim.output.report_intervals as report_intervals
from sim.analysis import metrics
from sim.experiments.runner import replicate
from sim.output.plots_service import volume_figure
from sim.output.plots_service_data import counted_offered, interval_rows, volume_inputs
from sim.output.plots_style import DPI, new_figure, save_figure
from sim.output.report import render
from sim.output.report_format import column, column_table, number, numbers, table
from sim.output.report_goals import run_missed
from sim.output.report_intervals import (
    day_rollup,
    group_intervals,
    intervals_section,
    kind_rows,
    missed_cells,
    missed_line,
    shown_intervals,
)
from sim.output.results import write_run
from sim.output.saved import load_run
from tests.report_runs import _root, scenario, single_run


@functools.cache
def three_days():
    """The report tests' centre over three days in hourly intervals (72 intervals), no report."""
    model = scenario(duration="72h", interval="1h", start="00:00")
    return load_run(
        write_run(
            _root() / "three-days",
            replicate(model, None, 1, jobs=1),
            command=["callsim", "test"],
            report=False,
        )
    )


def _rows_of(html: str, css: str = "intervals") -> list[list[str]]:
    """The cells' text of each body row of the first table with class `css`."""
    body = html.split(f'<table class="{css}">', 1)[1].split("</tbody>", 1)[0].split("<tbody>", 1)[1]
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in body.split("</tr>") if row]


VALUES = [0.0, -0.0, 1.0, -1.0, 0.5, 0.05, 0.125, 2.675, 1 / 3, 77, 1234.0, 1234.56, 1e20, -2.5]


@pytest.mark.parametrize("unit", ["", "n", "%", "s", "h", "x"])
def test_numbers_write_every_value_as_number_does(unit):
    generator = np.random.default_rng(7)
    values = [*VALUES, float("nan"), float("inf"), *generator.normal(0, 1000, 200).tolist()]
    values += generator.integers(0, 100_000, 50).astype(float).tolist()
    assert numbers(values, unit) == [number(value, unit) for value in values]


def test_a_table_built_by_columns_is_the_table_built_by_rows():
    texts = [["a", "1"], ["b", "2"], ["c", "3"]]
    classes = ["miss", "", "met"]
    by_rows = table(["x", "y"], [[t[0], (t[1], k)] for t, k in zip(texts, classes, strict=True)], "intervals")
    by_columns = column_table(
        ["x", "y"], [column([t[0] for t in texts]), column([t[1] for t in texts], classes)], "intervals"
    )
    assert by_columns == by_rows


def test_a_short_run_lists_every_interval():
    run = load_run(single_run())
    html = intervals_section(run)
    rows = _rows_of(html)
    assert [row[0] for row in rows] == list(interval_rows(kind_rows(run.intervals, "all"))["start"])
    assert "too many to list" not in html and "By day" not in html


def test_a_long_run_lists_the_missed_intervals_and_says_so():
    run = three_days()
    overall = interval_rows(kind_rows(run.intervals, "all"))
    html = intervals_section(run, most=10)
    missed = missed_cells(run.intervals, run.scenario.service_level.target)
    wanted = sorted(set(missed["interval"]))
    assert wanted, "three busy days should miss the target somewhere"
    listed = _rows_of(html)
    expected = overall.set_index("interval").loc[wanted[:10], "start"].tolist()
    assert [row[0] for row in listed] == expected  # the first ten missed intervals, in order
    note = re.sub(r"\s+", " ", html)
    assert f"This run has {len(overall):,} intervals, too many to list" in note
    assert f"the first 10 of {len(wanted):,}" in note
    assert "Every interval is in intervals.csv" in note
    assert 'id="intervals-by-day"' in html


def test_the_day_rollup_sums_the_interval_table_and_uses_the_kpi_function():
    run = three_days()
    overall = interval_rows(kind_rows(run.intervals, "all"))
    rows = _rows_of(day_rollup(run, overall))
    assert [row[0] for row in rows] == ["1", "2", "3"]
    assert [row[1] for row in rows] == ["00:00", "24:00", "48:00"]
    day = overall["interval"].to_numpy() // 24
    calls = counted_offered(run.calls, run.scenario)
    day_of_call = np.floor(calls["arrived_at"].to_numpy() / 86400.0)
    target = run.scenario.service_level.target
    assert len(run.departments) > 1  # cells missing a goal: all calls and each department (test_goals)
    service = run.intervals[run.intervals["kind"].astype(str).isin(["all", "department"])]
    for index, row in enumerate(rows):
        mine = overall[day == index]
        assert row[2] == "24"
        assert row[3:6] == [number(mine[key].sum()) for key in ("offered", "answered", "abandoned")]
        level = metrics.service_level(calls[day_of_call == index], run.scenario.service_level.threshold)
        assert row[6] == number(level, "%")
        cells = service[service["interval"].to_numpy() // 24 == index]  # all calls and each department
        below = int(((cells["offered"] > 0) & (cells["service_level"] < target)).sum())
        assert row[7] == number(below)
        assert row[8] == number(mine["service_level"].min(), "%")
    assert sum(int(row[3].replace(",", "")) for row in rows) == run.summary["offered"]


def test_a_run_of_one_day_rolls_up_to_the_summary():
    run = load_run(single_run())
    rows = _rows_of(intervals_section(run, most=2).split('id="intervals-by-day"', 1)[1])
    assert len(rows) == 1
    assert rows[0][3] == number(run.summary["offered"])
    assert rows[0][6] == number(run.summary["service_level"], "%")


def test_a_day_s_service_level_judges_each_call_by_its_department_s_threshold(tmp_path):
    """With departments' own thresholds, the day's row judges each call by its first department's (as the
    summary does): one day rolls up to the summary's service level, which the centre's one threshold
    would not give."""
    from sim.model.loading import load_scenario
    from tests.conftest import ROOT

    scenario = load_scenario(
        ROOT / "scenarios" / "small-centre.yaml",
        ["goals.departments.billing.threshold=60s", "goals.departments.technical.threshold=10s"],
    )
    run = load_run(write_run(tmp_path / "own", replicate(scenario, 3, 1, 1), command=["test"], report=False))
    rows = _rows_of(intervals_section(run, most=2).split('id="intervals-by-day"', 1)[1])
    assert rows[0][6] == number(run.summary["service_level"], "%")
    centre = metrics.service_level(counted_offered(run.calls, run.scenario), run.scenario.service_level.threshold)
    assert number(centre, "%") != rows[0][6]


def test_the_whole_page_follows_the_limit(monkeypatch):
    run = three_days()
    page = render(run, [])
    assert "too many to list" not in page
    monkeypatch.setattr(report_intervals, "MAX_INTERVAL_ROWS", 10)
    page = render(run, [])
    section = page.split('<section id="intervals">', 1)[1].split("</section>", 1)[0]
    assert "too many to list" in section
    assert len(_rows_of(section)) <= 10


def test_a_sentence_names_at_most_so_many_intervals(monkeypatch):
    run = three_days()
    missed = run_missed(run)  # all calls and each department: the cells every view counts (test_goals)
    assert len(missed) > 3
    monkeypatch.setattr(report_intervals, "MAX_NAMED", 3)
    line = missed_line(run)
    assert f"and {len(missed) - 3:,} more" in line
    assert line.count(":00") == 3


def test_a_long_run_s_volumes_are_summed_by_day(monkeypatch):
    run = three_days()
    monkeypatch.setattr(plots_service_data, "MAX_VOLUME_INTERVALS", 24)
    figure = volume_figure(volume_inputs(run.intervals, "test", run.scenario))
    ax = figure.axes[0]
    assert ax.get_ylabel() == "calls per day" and ax.get_xlabel() == "day of the run"
    assert "72 1h intervals summed" in figure._suptitle.get_text()
    offered = ax.collections[0]
    heights = [path.vertices[:, 1].max() for path in offered.get_paths()]
    overall = interval_rows(kind_rows(run.intervals, "all"))
    expected = overall.groupby(overall["interval"] // 24)["offered"].sum().to_numpy(dtype=float)
    np.testing.assert_allclose(heights, expected)
    by_interval = volume_figure(volume_inputs(run.intervals, "test"))  # without the scenario: every interval
    assert len(by_interval.axes[0].collections[0].get_paths()) == 72


def test_a_picture_is_drawn_once_and_saved_as_an_rgb_png(tmp_path, monkeypatch):
    draws = []
    original = Figure.draw

    def counting(self, renderer):
        draws.append(self)
        return original(self, renderer)

    monkeypatch.setattr(Figure, "draw", counting)
    for laid_out in (False, True):
        figure = new_figure(laid_out=laid_out)
        drawn = len(draws)
        assert (figure.get_layout_engine() is None) is not laid_out
        figure.add_subplot().plot([0, 1], [0, 1])
        figure.suptitle("a title")
        path = tmp_path / f"picture-{laid_out}.png"
        save_figure(figure, path)
        with Image.open(path) as image:
            assert image.format == "PNG" and image.mode == "RGB"
            assert image.size == (int(10 * DPI), int(4.8 * DPI))
            assert round(image.info["dpi"][0]) == DPI
        assert len(draws) - drawn == (2 if laid_out else 1)


def test_the_interval_rows_of_a_long_run_are_aligned_by_interval_number():
    run = three_days()
    html = intervals_section(run, most=5)
    departments = kind_rows(run.intervals, "department")
    headers = re.findall(r"<th>(.*?)</th>", html.split("</thead>", 1)[0])
    rows = _rows_of(html)
    assert len(rows) == 5
    for row in rows:
        start = row[0]
        for name in run.departments:
            mine = departments[(departments["department"] == name) & (departments["start"] == start)]
            assert len(mine) == 1
            assert row[headers.index(f"SL {name}")] == number(float(mine["service_level"].iloc[0]), "%")


def test_percent_columns_keep_the_frame_order():
    frame = pd.DataFrame({"interval": [2, 0, 1], "service_level": [0.5, 0.9, np.nan], "offered": [4, 5, 0]})
    aligned = report_intervals._aligned(frame, np.array([0, 1, 2, 3]))
    cells = report_intervals._levels(aligned, 0.8, with_half_width=False)
    assert cells == [
        '<td class="met">90.0%</td>',
        '<td class="">-</td>',
        '<td class="miss">50.0%</td>',
        "<td>-</td>",
    ]


def test_a_long_run_s_agent_groups_list_the_intervals_the_service_table_lists():
    from tests.test_report_holds import cross_training

    run = load_run(cross_training())
    full = _rows_of(group_intervals(run).split("</p>", 1)[1])
    overall = interval_rows(kind_rows(run.intervals, "all"))
    assert [row[0] for row in full] == list(overall["start"])
    shown = shown_intervals(run, most=1)
    assert shown is not None and len(shown) == 1
    html = group_intervals(run, most=1)
    assert "every interval is in intervals.csv" in html
    rows = _rows_of(html)
    assert [row[0] for row in rows] == overall.set_index("interval").loc[shown, "start"].tolist()
    assert rows[0] == full[int(np.flatnonzero(overall["interval"].to_numpy() == shown[0])[0])]
