"""What the command line shows a person: `--help` names what options take in words (`PATH=VALUE`,
`INTEGER`, nothing for a flag) rather than Python types (`<bool>`, `<list[str]>`); tables piped to a file
keep each row on one line (no wrapping mid-word at an assumed 80 columns); `--until-ci` reports its
precision in percent and seconds under the KPIs' names; `compare` names runs by what differs between them
(or `--label-a` / `--label-b`), not by their folders' timestamps, and draws each department too."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import typer.main
from rich.table import Table
from typer.testing import CliRunner

from sim.cli.app import app
from sim.experiments.runner import replicate
from sim.model.loading import load_scenario
from sim.output.compare import compare, comparison_json, service_level_figure
from sim.output.console import PIPED_WIDTH, PipedConsole
from sim.output.precision_text import precision_line
from sim.output.results import write_run
from sim.output.saved import load_run
from tests.conftest import ROOT

runner = CliRunner()
SMALL = str(ROOT / "scenarios" / "small-centre.yaml")
COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
TYPE_NAMES = re.compile(r"<(bool|int|float|str|text|path|list\[[^\]]*\]|int range|float range)>")


# --- help -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [[], *([name] for name in COMMANDS)])
def test_help_names_what_options_take_in_words(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert not TYPE_NAMES.search(result.output), TYPE_NAMES.search(result.output)
    help_line = next(line for line in result.output.splitlines() if "--help" in line)
    assert re.search(r"--help\s+Show this message", help_line)  # a flag: no metavar at all


def test_run_help_shows_the_shape_of_each_value() -> None:
    result = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "200"})
    lines = {line.split()[1]: line for line in result.output.splitlines() if re.match(r"^│ --", line)}
    assert re.search(r"--set\s+PATH=VALUE\s+Override", lines["--set"])
    assert re.search(r"--until-ci\s+KPI=HALFWIDTH\s+Add", lines["--until-ci"])
    assert re.search(r"--reps\s+INTEGER \[x>=1\]", lines["--reps"])
    assert re.search(r"--out\s+PATH\s+Results", lines["--out"])
    assert re.search(r"--json\s+Print summary", lines["--json"])
    assert re.search(r"--force\s+--no-force\s+Replace", lines["--force"])
    usage = next(line for line in result.output.splitlines() if "Usage:" in line)
    assert "[SCENARIO]" in usage


# --- piped tables ---------------------------------------------------------------------------------------------


def test_a_piped_console_prints_wide_tables_whole() -> None:
    sink = io.StringIO()
    console = PipedConsole(file=sink, color_system=None)
    assert not console.is_terminal and console.width == PIPED_WIDTH
    table = Table(title="twelve columns")
    for index in range(12):
        table.add_column(f"a rather long heading {index}")
    table.add_row(*(f"value number {index}" for index in range(12)))
    console.print(table)
    lines = sink.getvalue().splitlines()
    assert all(f"a rather long heading {index}" in lines[2] for index in range(12))
    assert all(f"value number {index}" in lines[4] for index in range(12))
    assert PipedConsole(file=io.StringIO(), width=70).width == 70  # a width given is kept


@pytest.fixture(scope="module")
def until_ci_output(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("piped") / "run"
    result = runner.invoke(
        app,
        [
            *("run", SMALL, "--set", "duration=2h", "--jobs", "1", "--out", str(folder)),
            *("--until-ci", "service_level=0.2", "--until-ci", "asa=30s"),
        ],
        env={"COLUMNS": None},
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_piped_run_tables_keep_every_row_and_heading_on_one_line(until_ci_output: str) -> None:
    lines = until_ci_output.splitlines()
    header = next(line for line in lines if "department" in line and "visits" in line)
    assert "service level" in header and "occupancy" in header  # once cut to `service` / `level`
    for name in ("billing", "technical"):
        row = next(line for line in lines if line.startswith(f"│ {name} "))
        assert row.count("│") == header.count("┃") and "%" in row
    assert any(line.startswith("results: ") and "calls simulated in" in line for line in lines)


def test_until_ci_reports_precision_in_the_kpis_units(until_ci_output: str) -> None:
    line = next(line for line in until_ci_output.splitlines() if line.startswith("precision"))
    assert re.fullmatch(
        r"precision reached after 10 replications: service level ± \d+(\.\d+)?% \(goal 20%\), "
        r"average speed of answer ± \d+(\.\d+)?s \(goal 30s\)",
        line,
    ), line
    assert "service_level" not in line


def test_precision_line_writes_shares_in_percent_and_durations_in_seconds() -> None:
    precision = {
        "reps": 40,
        "met": True,
        "max_reps": 200,
        "targets": {"service_level": 0.01, "asa": 2.0, "by_department.billing.abandon_rate": 0.005},
        "half_widths": {
            "service_level": 0.008616,
            "asa": 1.7412,
            "by_department.billing.abandon_rate": 0.0049,
        },
    }
    assert precision_line(precision) == (
        "precision reached after 40 replications: service level ± 0.862% (goal 1%), "
        "average speed of answer ± 1.74s (goal 2s), billing: abandonment ± 0.49% (goal 0.5%)"
    )
    stopped = precision_line({**precision, "met": False, "max_reps": 60})
    assert stopped.startswith("precision NOT reached: stopped at the cap of 60 replications: ")


# --- compare: runs named by what differs -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("compare")
    folders = []
    for name, agents in (("plan-20261202-170026", 10), ("plan-20261202-170051", 12)):
        scenario = load_scenario(SMALL, ["duration=2h", f"departments.billing.agents={agents}"])
        run = replicate(scenario, None, 2, jobs=1)
        folders.append(write_run(root / name, run, command=["test"], report=False))
    return folders[0], folders[1]


def test_compare_names_runs_by_what_differs(two_runs: tuple[Path, Path]) -> None:
    a, b = (load_run(folder) for folder in two_runs)
    comparison = compare(a, b)
    assert comparison.labels == ("departments.billing.agents.count=10", "departments.billing.agents.count=12")
    record = comparison_json(comparison)
    assert record["a"]["label"] == "departments.billing.agents.count=10"
    assert record["b"]["folder_name"] == "plan-20261202-170051"
    figure = service_level_figure(comparison)
    titles = [ax.get_title() for ax in figure.axes if ax.get_visible()]
    assert titles == ["all calls", "billing", "technical"]  # by department too
    legend = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert (
        "A: departments.billing.agents.count=10" in legend
        and "B: departments.billing.agents.count=12" in legend
    )
    technical = figure.axes[2]
    lines = [line for line in technical.get_lines() if line.get_label().startswith(("A:", "B:"))]
    assert lines[0].get_linewidth() > lines[1].get_linewidth()  # A wide under B: both show where equal
    named = compare(a, b, (None, "hire two"))
    assert named.labels == ("departments.billing.agents.count=10", "hire two")


def test_compare_command_prints_the_labels_and_takes_given_ones(
    two_runs: tuple[Path, Path], tmp_path: Path
) -> None:
    a, b = two_runs
    result = runner.invoke(
        app,
        [
            "compare",
            str(a),
            str(b),
            "--label-a",
            "today",
            "--label-b",
            "hire two",
            "--out",
            str(tmp_path / "c"),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"A: today  ({a})" and lines[1] == f"B: hire two  ({b})"
    assert any("A: today   B: hire two" in line for line in lines)  # the table's title
    assert any(line.startswith("│ billing: service level") for line in lines)
    plain = runner.invoke(app, ["compare", str(a), str(b), "--out", str(tmp_path / "d")])
    assert plain.output.splitlines()[1].startswith("B: departments.billing.agents.count=12  (")
    assert plain.output.splitlines()[2].strip() == "A vs B"  # long names stay above; no timestamps


def test_the_python_api_names_compared_replications_by_what_differs() -> None:
    import sim

    base = sim.replicate(load_scenario(SMALL, ["duration=1h"]), reps=2, jobs=1)
    more = sim.replicate(load_scenario(SMALL, ["duration=1h", "patience.mean=4m"]), reps=2, jobs=1)
    assert sim.compare(base, more).labels == ("patience.mean=3m", "patience.mean=4m")
    assert sim.compare(base, base).labels == ("A", "B")  # nothing differs


def test_report_command_lists_the_pictures_left_out_with_why(two_runs: tuple[Path, Path]) -> None:
    result = runner.invoke(app, ["report", str(two_runs[0])])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert (
        "not drawn: transfers.png (No call was transferred in this run (replication 0), so there is no "
        "transfer map to draw.)" in lines
    )
    assert any(
        line.startswith("not drawn: agents_touched.png (Every answered caller met exactly one")
        for line in lines
    )
    assert f"plot: {two_runs[0] / 'plots' / 'wait_cdf.png'}" in lines
    assert not (two_runs[0] / "plots" / "transfers.png").exists()
