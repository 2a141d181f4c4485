"""The `run` and `validate` commands as a planner uses them: folders, flags, exit codes and messages."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

import sim.output.results
from sim.cli.app import app
from tests.conftest import ROOT, SCENARIOS

DATA = Path(__file__).resolve().parent / "data"
TINY = str(DATA / "tiny.yaml")
CONTRACT = [
    "offered",
    "answered",
    "abandoned",
    "blocked",
    "service_level",
    "answered_within_rings",
    "asa",
    "mean_wait",
    "p_wait",
    "abandon_rate",
    "block_rate",
    "occupancy",
    "aht",
    "by_department",
]
FILES = ["scenario.yaml", "meta.json", "summary.json", "intervals.csv", "calls.parquet", "visits.parquet"]

Invoke = Callable[..., Result]


@pytest.fixture
def no_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skip the plots and report.html a run may draw (the report tests' business, and slow)."""
    monkeypatch.setattr(sim.output.results, "begin_fill_report", lambda *args, **kwargs: lambda: None, raising=False)


@pytest.fixture
def invoke() -> Invoke:
    runner = CliRunner()

    def call(*args: str) -> Result:
        return runner.invoke(app, list(args), catch_exceptions=False)

    return call


def flat(text: str) -> str:
    """Terminal text with rich's line wrapping undone."""
    return " ".join(text.split())


def test_run_without_a_scenario_runs_the_default(invoke: Invoke, tmp_path: Path) -> None:
    """The full path a planner takes, report included: `callsim run --out DIR`."""
    target = tmp_path / "out"
    result = invoke("run", "--out", str(target))
    assert result.exit_code == 0, result.output
    assert set(FILES) <= {p.name for p in target.iterdir()}
    assert yaml.safe_load((target / "scenario.yaml").read_text(encoding="utf-8"))["name"] == "small-centre"
    text = flat(result.stdout)
    assert "small-centre: seed 1" in text and "offered calls" in text and "service level" in text
    assert "results:" in text
    assert not list(tmp_path.glob(".*"))  # no staging folder left


@pytest.mark.usefixtures("no_report")
def test_run_with_replications(invoke: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "out"
    result = invoke("run", TINY, "--reps", "3", "--jobs", "1", "--out", str(target), "--quiet")
    assert result.exit_code == 0, result.output
    summary = json.loads((target / "summary.json").read_text(encoding="utf-8"))
    assert summary["reps"] == 3 and "service_level" in summary["ci95"]
    assert len((target / "replications.csv").read_text(encoding="utf-8").splitlines()) == 1 + 3
    assert json.loads((target / "meta.json").read_text(encoding="utf-8"))["reps"] == 3


@pytest.mark.usefixtures("no_report")
def test_json_prints_the_summary(invoke: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "out"
    result = invoke("run", TINY, "--json", "--out", str(target))
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))
    assert set(CONTRACT) <= set(printed)
    assert printed == json.loads((target / "summary.json").read_text(encoding="utf-8"))


@pytest.mark.usefixtures("no_report")
def test_quiet_prints_nothing(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("run", TINY, "--quiet", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0
    assert result.output == ""
    assert (tmp_path / "out" / "summary.json").is_file()


@pytest.mark.usefixtures("no_report")
def test_second_run_to_the_same_folder_needs_force(invoke: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "out"
    assert invoke("run", TINY, "--quiet", "--out", str(target)).exit_code == 0
    before = (target / "meta.json").read_bytes()

    refused = invoke("run", TINY, "--quiet", "--seed", "5", "--out", str(target))
    assert refused.exit_code == 2
    assert "--force" in refused.output and str(target) in flat(refused.output)
    assert (target / "meta.json").read_bytes() == before

    forced = invoke("run", TINY, "--quiet", "--seed", "5", "--force", "--out", str(target))
    assert forced.exit_code == 0, forced.output
    assert json.loads((target / "meta.json").read_text(encoding="utf-8"))["seed"] == 5


@pytest.mark.usefixtures("no_report")
def test_set_takes_effect(invoke: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "out"
    result = invoke("run", "--set", "departments.billing.agents=12", "--quiet", "--out", str(target))
    assert result.exit_code == 0, result.output
    resolved = yaml.safe_load((target / "scenario.yaml").read_text(encoding="utf-8"))
    assert resolved["departments"]["billing"]["agents"] == {"count": 12}
    assert resolved["departments"]["technical"]["agents"]["shifts"][0]["count"] == 6  # the rest untouched


@pytest.mark.usefixtures("no_report")
def test_repeated_set_options_all_apply(invoke: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "out"
    result = invoke(
        "run",
        TINY,
        "--set",
        "arrivals.per_hour=30",
        "--set",
        "departments.technical.agents={per_interval: [3, 4]}",
        "--quiet",
        "--out",
        str(target),
    )
    assert result.exit_code == 0, result.output
    resolved = yaml.safe_load((target / "scenario.yaml").read_text(encoding="utf-8"))
    assert resolved["arrivals"]["per_hour"] == 30.0
    assert resolved["departments"]["technical"]["agents"] == {"per_interval": [3, 4]}


@pytest.mark.parametrize(
    ("override", "path"),
    [
        ("departments.billing.agnts=12", "departments.billing.agnts: unknown key"),
        ("departments.billing.agents=-3", "departments.billing.agents:"),
        ("departments.billing.handle_time.mean=0", "departments.billing.handle_time.mean: must be > 0"),
        ("departments.billing.agents", "departments.billing.agents"),
        ("name.first=x", "name:"),
    ],
)
def test_bad_set_exits_2_naming_the_path(invoke: Invoke, tmp_path: Path, override: str, path: str) -> None:
    target = tmp_path / "out"
    result = invoke("run", "--set", override, "--out", str(target))
    assert result.exit_code == 2
    assert "refused" in result.output and path in result.output
    assert not target.exists()  # nothing ran, nothing written


def test_set_with_broken_yaml_names_the_option(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("run", "--set", "departments.billing.agents=[1,", "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "departments.billing.agents" in result.output


def test_bad_scenario_exits_2_naming_the_path(invoke: Invoke, tmp_path: Path) -> None:
    bad = DATA / "bad-unknown-key.yaml"
    result = invoke("run", str(bad), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert (
        flat(result.output)
        == f"error: scenario {bad} refused (1 problem(s)): departments.billing.agnts: unknown key"
    )
    assert result.output.splitlines()[-1] == "  departments.billing.agnts: unknown key"
    assert not (tmp_path / "out").exists()


def test_missing_scenario_exits_2(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("run", str(tmp_path / "nowhere.yaml"), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "file not found" in result.output


def test_validate_accepts_every_shipped_scenario(invoke: Invoke) -> None:
    result = invoke("validate", *map(str, SCENARIOS))
    assert result.exit_code == 0, result.output
    text = flat(result.stdout)
    assert text.count("ok /") == len(SCENARIOS)
    for path in SCENARIOS:
        assert f"ok {path}: {path.stem}," in text
    assert "small-centre, 2 department(s), 16 intervals" in flat(result.stdout)


def test_validate_refuses_a_bad_file_with_the_path(invoke: Invoke) -> None:
    bad = DATA / "bad-unknown-key.yaml"
    good = ROOT / "scenarios" / "small-centre.yaml"
    result = invoke("validate", str(good), str(bad))
    assert result.exit_code == 2
    assert "departments.billing.agnts: unknown key" in result.stderr
    assert str(bad) in flat(result.stderr)
    assert result.stdout.startswith(f"ok {good}")  # the good file is still checked and reported


def test_validate_applies_set(invoke: Invoke) -> None:
    result = invoke("validate", TINY, "--set", "warmup=2h")
    assert result.exit_code == 2
    assert "warmup: must be shorter than duration (3600s)" in result.output


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("name: x\nduration: [1, 2\n", "not valid YAML (line 3, column 1)"),
        ("- a\n", "expected a mapping at the top level"),
        ("", "the file is empty"),
    ],
)
def test_validate_reports_file_level_faults(invoke: Invoke, tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    result = invoke("validate", str(path))
    assert result.exit_code == 2
    assert words in flat(result.output) and str(path) in flat(result.output)


def test_console_script_entry_point_works() -> None:
    """`python cli.py validate ...` in a fresh process, as the README runs it."""
    done = subprocess.run(
        [sys.executable, "cli.py", "validate", "scenarios/small-centre.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok scenarios/small-centre.yaml: small-centre")


HOLD_ROWS = ("calls put on hold", "mean time on hold", "holds over their promise", "hung up on hold")
CALLBACK_ROWS = (
    "service level, live callers",
    "callbacks offered",
    "callbacks accepted",
    "mean time to callback",
)
REDIAL_ROWS = ("callers (people)", "calls per caller (redials)")
EXPERIENCE_ROWS = ("experience score (model, 0-10)", "calls scoring below 5")
ROUTING_ROWS = ("first-contact resolution", "transfers per answered call", "agents met per answered call")
GROUP_TABLE = ("agent groups: calls handled by skill", "answered by own agents:")


def _run_summary(invoke: Invoke, tmp_path: Path, scenario: str, *options: str) -> tuple[str, dict]:
    """The console output of `run` (piped: plain text) and the summary it wrote."""
    target = tmp_path / "out"
    result = invoke("run", str(ROOT / "scenarios" / scenario), *options, "--out", str(target))
    assert result.exit_code == 0, result.output
    assert "\x1b[" not in result.stdout, "no colour codes when piped"
    return flat(result.stdout), json.loads((target / "summary.json").read_text(encoding="utf-8"))


@pytest.mark.usefixtures("no_report")
def test_run_prints_holds_callbacks_redials_and_experience(invoke: Invoke, tmp_path: Path) -> None:
    text, summary = _run_summary(invoke, tmp_path, "virtual-hold.yaml")
    for label in (*HOLD_ROWS, *CALLBACK_ROWS, "callbacks taken on hold", *REDIAL_ROWS, *EXPERIENCE_ROWS):
        assert label in text, label
    assert f"calls put on hold │ {100 * summary['hold_rate']:.1f}% │" in text
    assert f"callbacks accepted │ {summary['callbacks_accepted']} │" in text
    assert f"service level, live callers │ {100 * summary['service_level_live']:.1f}% │" in text
    assert f"callers (people) │ {summary['unique_callers']} │" in text
    assert f"experience score (model, 0-10) │ {summary['experience']['mean']:.2f} │" in text
    for label in (*ROUTING_ROWS, *GROUP_TABLE):
        assert label not in text, label


@pytest.mark.usefixtures("no_report")
def test_run_prints_the_agent_groups(invoke: Invoke, tmp_path: Path) -> None:
    text, summary = _run_summary(
        invoke,
        tmp_path,
        "cross-training.yaml",
        *("--set", "duration=2h", "--set", "agent_groups.flex.agents=5"),
        *("--set", "departments.billing.agents=5", "--set", "departments.technical.agents=6"),
    )
    assert "┃ group ┃ occupancy ┃ billing ┃ technical ┃ total ┃" in text
    flex = summary["by_group"]["flex"]
    billing, technical = flex["handled"]["billing"], flex["handled"]["technical"]
    assert (
        f"│ flex │ {100 * flex['occupancy']:.1f}% │ {billing} │ {technical} │ {billing + technical} │" in text
    )
    own = summary["by_department"]["billing"]["answered_by_own_agents"]
    assert f"answered by own agents: billing {100 * own:.1f}%," in text
    for label in (*HOLD_ROWS, *CALLBACK_ROWS, *REDIAL_ROWS, *EXPERIENCE_ROWS, *ROUTING_ROWS):
        assert label not in text, label


@pytest.mark.usefixtures("no_report")
def test_run_prints_routing_figures_behind_a_menu(invoke: Invoke, tmp_path: Path) -> None:
    text, summary = _run_summary(invoke, tmp_path, "listening.yaml", "--set", "duration=1h")
    assert f"transfers per answered call │ {summary['transfers_per_call']:.2f} │" in text
    assert f"first-contact resolution │ {100 * summary['first_contact_resolution']:.1f}% │" in text
    assert "agents met per answered call" in text and "experience score (model, 0-10)" in text
    for label in (*HOLD_ROWS, *CALLBACK_ROWS, *REDIAL_ROWS, *GROUP_TABLE):
        assert label not in text, label


@pytest.mark.usefixtures("no_report")
def test_a_plain_run_prints_only_the_headline(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("run", TINY, "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    text = flat(result.stdout)
    assert "service level" in text and "by department" in text
    for label in (*HOLD_ROWS, *CALLBACK_ROWS, *REDIAL_ROWS, *EXPERIENCE_ROWS, *ROUTING_ROWS, *GROUP_TABLE):
        assert label not in text, label


@pytest.mark.usefixtures("no_report")
@pytest.mark.parametrize("flag", ["--quiet", "--json"])
def test_quiet_and_json_stay_unchanged_with_holds(invoke: Invoke, tmp_path: Path, flag: str) -> None:
    target = tmp_path / "out"
    result = invoke("run", str(ROOT / "scenarios" / "virtual-hold.yaml"), flag, "--out", str(target))
    assert result.exit_code == 0, result.output
    if flag == "--quiet":
        assert result.output == ""
    else:
        assert json.loads(result.stdout) == json.loads((target / "summary.json").read_text(encoding="utf-8"))


def test_the_run_line_gives_a_short_simulation_its_milliseconds() -> None:
    """A day of 1,000 calls simulates in some 40 ms: the results line says so, not '0.0s'."""
    from sim.cli.run import _took

    assert _took(0.0421) == "42 ms"
    assert _took(2.44) == "2.4s"
