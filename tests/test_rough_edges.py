"""Rough edges found by trying to break callsim (issue 14), each pinned by a test: clock times YAML 1.1 would
read as base-60 numbers, results names that are too long, symbolic links, two forced runs into one folder,
names holding a newline, the mode of `plots/`, and a `Scenario` built from a dict that is not consistent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError
from typer.testing import CliRunner

import sim.cli.app as cli
from sim.experiments.runner import replicate
from sim.model.durations import parse_duration, printable
from sim.model.loading import (
    Problem,
    ScenarioError,
    apply_overrides,
    load_scenario,
    parse_yaml_text,
    scenario_from_dict,
)
from sim.model.scenario import CONSISTENCY, Scenario
from sim.output.folders import ResultsUnwritable, check_target, write_folder
from sim.output.results import write_run
from tests.conftest import ROOT

runner = CliRunner()
CENTRE = ROOT / "scenarios" / "small-centre.yaml"
RUN = ["run", str(CENTRE), "--set", "duration=30m", "--jobs", "1", "--quiet"]

SHIFTS_YAML = """
name: shifts
start: 10:00
duration: 4h
interval: 30m
arrivals: {per_hour: 30}
departments:
  support:
    handle_time: 3m
    agents:
      shifts:
        - {start: 10:00, end: 12:00, count: 3}
        - {start: 08:00, end: 14:00, count: 1}
"""


def one_line(text: str) -> str:
    return " ".join(text.split())


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- clock times are the times the user wrote -------------------------------------------------------------


def test_unquoted_clock_times_mean_the_clock_time(tmp_path: Path) -> None:
    """YAML 1.1 reads a plain 10:00 as 600 (base 60) but 08:00 as text; both are clock times here."""
    path = tmp_path / "shifts.yaml"
    path.write_text(SHIFTS_YAML, encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.start == 10 * 3600
    staffing = scenario.departments["support"].agents
    assert staffing is not None and staffing.shifts is not None
    first, second = staffing.shifts
    assert (first.start, first.end) == (10 * 3600, 12 * 3600)  # two hours, not two minutes
    assert (second.start, second.end) == (8 * 3600, 14 * 3600)
    assert yaml.safe_load("start: 10:00") == {"start": 600}  # what plain PyYAML would have given


def test_set_reads_clock_times_as_written() -> None:
    data = yaml.safe_load(SHIFTS_YAML.replace("start: 10:00\n", "", 1))
    scenario = scenario_from_dict(data, overrides=["start=10:30"])
    assert scenario.start == 10.5 * 3600
    assert apply_overrides({"a": 1}, ["a=12:00"]) == {"a": "12:00"}


@pytest.mark.parametrize("text", ["1:30", "01:30", "1:30:00"])
def test_a_duration_written_with_colons_is_refused_with_the_fix(text: str) -> None:
    """`1:30` could be 1 h 30 min or 1 min 30 s: refused, at its YAML path, with both unit forms."""
    data = yaml.safe_load(SHIFTS_YAML)
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data, overrides=[f"departments.support.handle_time={text}"])
    (problem,) = caught.value.problems
    assert problem.path == "departments.support.handle_time"
    assert "not a duration" in problem.message and "write" in problem.message
    if text.count(":") == 1:
        assert "'90m' or '90s'" in problem.message
    else:
        assert "'5400s'" in problem.message
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    "scalar",
    [
        "12",
        "-3",
        "0x1F",
        "0b101",
        "017",
        "1_000",
        "3.5",
        "-2.5e+3",
        ".5",
        ".inf",
        "-.inf",
        "1e3",
        "08",
        "4m",
        "+7",
    ],
)
def test_numbers_without_colons_read_as_plain_yaml_reads_them(scalar: str) -> None:
    """Only the base-60 forms changed: every other scalar is what PyYAML's safe loader makes of it."""
    assert parse_yaml_text(f"v: {scalar}") == yaml.safe_load(f"v: {scalar}")


def test_base_60_floats_stay_text() -> None:
    assert parse_yaml_text("v: 1:30.5") == {"v": "1:30.5"}
    assert yaml.safe_load("v: 1:30.5") == {"v": 90.5}


# --- results folders ----------------------------------------------------------------------------------------


def test_a_results_name_too_long_is_one_line(tmp_path: Path) -> None:
    for name in ("x" * 300, "x" * 250, "/".join(["y"] * 3000)):
        out = tmp_path / name
        result = runner.invoke(cli.app, [*RUN, "--out", str(out)])
        assert result.exit_code == 1, result.output
        assert isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output
        text = one_line(result.output)
        assert "cannot write results to" in text and "too long" in text
        assert len(result.output.strip().splitlines()) <= 2  # one line (rich may wrap a long one once)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ResultsUnwritable, match=r"too long \(300 bytes"):
        check_target(tmp_path / ("x" * 300), force=False)


def test_results_through_a_symbolic_link_go_where_it_points(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    result = runner.invoke(cli.app, [*RUN, "--out", str(link)])
    assert result.exit_code == 0, result.output
    assert "taken by another run" not in one_line(result.output)
    assert link.is_symlink() and (real / "summary.json").is_file()
    before = (real / "summary.json").stat().st_ino
    again = runner.invoke(cli.app, [*RUN, "--out", str(link)])
    assert again.exit_code == 2 and "already holds results" in one_line(again.output)
    forced = runner.invoke(cli.app, [*RUN, "--out", str(link), "--force"])
    assert forced.exit_code == 0, forced.output
    assert "taken by another run" not in one_line(forced.output)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert (real / "summary.json").stat().st_ino != before  # replaced by the new results
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]  # nothing hidden left behind


def fill_with(text: str) -> Any:
    def fill(folder: Path) -> None:
        (folder / "which").write_text(text, encoding="utf-8")

    return fill


def test_a_second_forced_run_into_one_folder_settles_beside_the_first(tmp_path: Path) -> None:
    """Two `--force` runs into one folder: B checks the folder and simulates; A writes meanwhile; B must
    not replace A's fresh results silently: it settles at the next free name (the CLI warns)."""
    target = tmp_path / "run"
    target.mkdir()
    (target / "which").write_text("old", encoding="utf-8")
    check_target(target, force=True)  # run B, before simulating
    run_a = (
        "import sys; from pathlib import Path; from sim.output.folders import write_folder; "
        "t = Path(sys.argv[1]); "
        "assert write_folder(t, True, lambda f: (f / 'which').write_text('A', encoding='utf-8')) == t"
    )
    subprocess.run([sys.executable, "-c", run_a, str(target)], check=True, cwd=ROOT)  # run A, meanwhile
    written = write_folder(target, True, fill_with("B"))  # run B, done
    assert written == tmp_path / "run-2"
    assert (target / "which").read_text(encoding="utf-8") == "A"
    assert (written / "which").read_text(encoding="utf-8") == "B"
    # with nobody in between, --force replaces as before
    check_target(target, force=True)
    assert write_folder(target, True, fill_with("C")) == target
    assert (target / "which").read_text(encoding="utf-8") == "C"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "run-2"]


def test_a_forced_write_overtaken_while_writing_is_kept_beside(tmp_path: Path) -> None:
    """No prior check: the folder as it was when the write began counts."""
    target = tmp_path / "run"

    def slow(folder: Path) -> None:
        (folder / "which").write_text("slow", encoding="utf-8")
        write_folder(target, True, fill_with("fast"))  # another run finishes while this one writes

    assert write_folder(target, True, slow) == tmp_path / "run-2"
    assert (target / "which").read_text(encoding="utf-8") == "fast"
    assert (tmp_path / "run-2" / "which").read_text(encoding="utf-8") == "slow"


def test_names_with_a_newline_stay_on_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("mine", encoding="utf-8")
    result = runner.invoke(cli.app, [*RUN, "--out", str(blocker / "a\nb")])
    assert result.exit_code == 1, result.output
    (line,) = [line for line in result.output.splitlines() if line.strip()]
    assert "a\\nb" in line and "is a file, not a folder" in line
    data = yaml.safe_load(SHIFTS_YAML)
    data["departments"]["support"]["transfer"] = {"no\nwhere": 0.5}
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data)
    assert "\n" not in str(caught.value) and "no\\nwhere" in str(caught.value)
    assert str(Problem("a\nb", "x\x1b[31m")) == "a\\nb: x\\x1b[31m"
    assert printable("tab\there\u2028") == "tab\\there\\u2028"


def test_plots_folder_mode_follows_the_umask(tmp_path: Path) -> None:
    run = replicate(load_scenario(CENTRE, ["duration=30m"]), reps=1)
    folder = write_run(tmp_path / "run", run)
    wanted = 0o777 & ~current_umask()
    assert (folder / "plots").is_dir()
    for path in (folder, folder / "plots"):
        assert path.stat().st_mode & 0o777 == wanted, path
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


# --- a Scenario that exists is valid ------------------------------------------------------------------------

BASE: dict[str, Any] = {
    "name": "x",
    "duration": 3600,
    "arrivals": {"per_hour": 10},
    "departments": {"a": {"agents": 1, "handle_time": 60, "transfer": {"nowhere": 0.5}}},
}


def test_model_validate_refuses_a_transfer_to_an_unknown_department() -> None:
    with pytest.raises(ValidationError) as caught:
        Scenario.model_validate(BASE)
    (error,) = caught.value.errors(include_url=False)
    assert error["type"] == CONSISTENCY
    assert error["loc"] == ("departments.a.transfer.nowhere",)
    assert error["msg"] == "no such department"
    with pytest.raises(ScenarioError) as refused:
        scenario_from_dict(BASE)
    assert refused.value.problems == (Problem("departments.a.transfer.nowhere", "no such department"),)


def test_field_faults_are_reported_before_cross_field_ones() -> None:
    data = {**BASE, "interval": -5}
    with pytest.raises(ScenarioError) as refused:
        scenario_from_dict(data)
    assert [p.path for p in refused.value.problems] == ["interval"]  # the unknown department comes after
    fixed = {**BASE, "departments": {"a": {"agents": 1, "handle_time": 60, "transfer": {"a": 0.5}}}}
    assert Scenario.model_validate(fixed).departments["a"].transfer == {"a": 0.5}


def test_a_swept_clock_time_is_recorded_as_written_not_as_base_60_seconds() -> None:
    """`--grid start=10:00,11:00`: the sweep's table records the clock times the user wrote (YAML 1.1 would
    read a plain 10:00 as 600), and the scenario of each point starts at that clock time."""
    from sim.experiments.sweep_design import parse_parameter, table_value
    from sim.model.loading import load_scenario

    parameter = parse_parameter("start=10:00,11:00")
    assert [table_value(value) for value in parameter.values] == ["10:00", "11:00"]
    assert table_value("08:00") == "08:00" and table_value("2m") == 120.0
    scenario = load_scenario(ROOT / "scenarios" / "small-centre.yaml", [f"start={parameter.values[0]}"])
    assert scenario.start == 10 * 3600.0
