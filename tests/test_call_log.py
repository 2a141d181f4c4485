"""Call logs: a simulated day exported and read back value for value, an ACD export read through a column
and outcome mapping, every kind of bad row reported at its line (refused or skipped), unsorted logs sorted,
opening hours, the `callsim run --log` exporter, and a reader whose work does not grow per valid row."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import sim
import sim.output.results
from sim.cli.app import app
from sim.model.call_log import CallLog, CallLogError, read_call_log
from sim.model.log_format import LOG_OUTCOMES, LogFormatError, load_log_format, log_format_from
from tests.conftest import ROOT

TINY = str(ROOT / "tests" / "data" / "tiny.yaml")


def every_ending() -> dict[str, Any]:
    """Two hours of a busy morning where calls end in most ways: answered, abandoned (also after a
    transfer), blocked (few lines), resolved in the menu, hung up on hold, dropped after a transfer too
    many (a third department resolves nothing), still in the centre at the hard stop (a short drain)."""
    data = yaml.safe_load((ROOT / "scenarios" / "virtual-hold.yaml").read_text(encoding="utf-8"))
    data.update(duration="2h", drain="2m", lines=19, max_transfers=1, on_max_transfers="hang_up")
    data["ivr"] = {"menu_time": "20s", "accuracy": 0.7, "self_service": {"billing": 0.1}}
    data["routing"] = {"accuracy": 0.3}
    data["arrivals"]["per_interval"] = [50, 70, 95, 110]
    data["departments"]["billing"]["agents"] = {"per_interval": [8, 9, 10, 10]}
    data["departments"]["technical"]["agents"] = {"per_interval": [6, 7, 8, 8]}
    data["departments"]["sales"] = {"agents": 3, "resolves": [], "handle_time": "1m"}
    return data


@pytest.fixture(scope="module")
def day() -> sim.Day:
    return sim.simulate(every_ending(), seed=3)


def expected_rows(day: sim.Day) -> pd.DataFrame:
    """What the log must say of each call, from the simulator's own tables (seconds after midnight to the
    millisecond, as the format carries them), in arrival order."""
    calls = day.calls
    start = day.scenario.start

    def clock(seconds: Any) -> np.ndarray:
        return np.round((start + np.asarray(seconds, dtype=float)) * 1000.0) / 1000.0

    first_queue = day.visits.groupby("call_id")["queued_at"].min()
    agents = day.agents.set_index("agent_id")
    names = (agents["pool"].astype(str) + "-" + agents["number"].astype(str)).to_dict()
    rows = pd.DataFrame(
        {
            "arrived_at": clock(calls["arrived_at"]),
            "queued_at": clock(first_queue.reindex(calls["call_id"]).to_numpy()),
            "answered_at": clock(calls["answered_at"]),
            "ended_at": clock(calls["ended_at"]),
            "outcome": calls["outcome"].astype(str).to_numpy(),
            "call_type": calls["reason"].astype(str).to_numpy(),
            "department": calls["first_department"].astype(object).to_numpy(),
            "agent": [names.get(agent) for agent in calls["first_agent_id"]],
            "hold_time": np.round(calls["hold_time"].to_numpy(dtype=float) * 1000.0) / 1000.0,
            "wrap_time": np.round(calls["wrap_time"].to_numpy(dtype=float) * 1000.0) / 1000.0,
            "transfers": calls["n_transfers"].to_numpy(dtype=float),
            "call_id": calls["call_id"].astype(str).to_numpy(),
            "caller_id": calls["caller_id"].astype(str).to_numpy(),
        }
    )
    order = np.argsort(rows["arrived_at"].to_numpy(), kind="stable")
    return rows.iloc[order].reset_index(drop=True)


def texts(column: pd.Series) -> list[str | None]:
    return [None if pd.isna(value) else str(value) for value in column]


def test_an_exported_day_reads_back_value_for_value(day: sim.Day, tmp_path: Path) -> None:
    """Every call of a simulated day, exported and read back: the same rows, and every value the format
    carries equal (exactly) to the simulator's, for calls ending in seven different ways."""
    path = tmp_path / "calls_log.csv"
    day.call_log().to_csv(path, index=False)
    log = read_call_log(path)
    want = expected_rows(day)
    got = log.calls
    assert {
        "answered",
        "abandoned",
        "blocked",
        "self_service",
        "abandoned_on_hold",
        "dropped",
        "in_system",
    } <= set(want["outcome"])
    assert len(got) == len(day.calls) and log.skipped_rows == 0 and log.reordered == 0
    assert log.dates == (date(2026, 1, 5),) and (got["day"] == 0).all()
    for column in (
        "arrived_at",
        "queued_at",
        "answered_at",
        "ended_at",
        "hold_time",
        "wrap_time",
        "transfers",
    ):
        np.testing.assert_array_equal(
            got[column].to_numpy(dtype=float), want[column].to_numpy(), err_msg=column
        )
    for column in ("outcome", "call_type", "department", "agent", "call_id", "caller_id"):
        assert texts(got[column]) == texts(want[column]), column
    assert (np.diff(got["line"].to_numpy()) == 1).all()  # the export is in arrival order already


def test_a_replicated_run_writes_one_dated_day_per_replication(tmp_path: Path) -> None:
    """`write_results(..., log=True)` of three replications: three consecutive dates, each day's calls
    those of that replication simulated alone (replication 2 is the same day wherever it runs)."""
    reps = sim.replicate(TINY, reps=3, jobs=1)
    folder = sim.write_results(reps, tmp_path / "run", report=False, log=True)
    log = read_call_log(folder / "calls_log.csv")
    assert log.dates == (date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7))
    arrivals = reps.kpis.set_index("replication")["arrivals"]
    assert log.calls.groupby("day").size().tolist() == [arrivals[0], arrivals[1], arrivals[2]]
    third = expected_rows(sim.simulate(TINY, replication=2))
    on_day = log.calls[log.calls["day"] == 2]
    np.testing.assert_array_equal(on_day["arrived_at"].to_numpy(), third["arrived_at"].to_numpy())
    np.testing.assert_array_equal(on_day["ended_at"].to_numpy(), third["ended_at"].to_numpy())


ACD = """\
CallDate;StartTime;Skill;QueueTime;AnswerTime;ReleaseTime;Disposition;AgentName;ACW
03/03/2026;08:00:05;BIL;08:00:05;08:00:30;08:04:00;ANS;Ann Lee;12
03/03/2026;08:01:00;TEC;08:01:04;;08:02:10;ABAND;;
02/03/2026;17:59:59;BIL;;;17:59:59;BUSY;;
02/03/2026;08:30:00.5;TEC;08:30:10;08:31:00;08:35:00;answered;Bo;0
"""
ACD_COLUMNS = {
    "date": "CallDate",
    "arrived_at": "StartTime",
    "call_type": "Skill",
    "queued_at": "QueueTime",
    "answered_at": "AnswerTime",
    "ended_at": "ReleaseTime",
    "outcome": "Disposition",
    "agent": "AgentName",
    "wrap_time": "ACW",
}
ACD_FORMAT: dict[str, Any] = {
    "columns": ACD_COLUMNS,
    "outcomes": {"ANS": "answered", "ABAND": "abandoned", "BUSY": "blocked"},
    "date_format": "%d/%m/%Y",
    "separator": ";",
}


def check_acd(log: CallLog) -> None:
    calls = log.calls
    assert log.dates == (date(2026, 3, 2), date(2026, 3, 3))
    assert calls["day"].tolist() == [0, 0, 1, 1]
    assert calls["line"].tolist() == [5, 4, 2, 3]  # sorted by day, then arrival
    assert log.reordered == 2
    np.testing.assert_array_equal(calls["arrived_at"], [30600.5, 64799.0, 28805.0, 28860.0])
    np.testing.assert_array_equal(calls["queued_at"], [30610.0, np.nan, 28805.0, 28864.0])
    np.testing.assert_array_equal(calls["answered_at"], [30660.0, np.nan, 28830.0, np.nan])
    np.testing.assert_array_equal(calls["ended_at"], [30900.0, 64799.0, 29040.0, 28930.0])
    assert texts(calls["outcome"]) == ["answered", "blocked", "answered", "abandoned"]
    assert texts(calls["agent"]) == ["Bo", None, "Ann Lee", None]
    assert texts(calls["call_type"]) == ["TEC", "BIL", "BIL", "TEC"]
    np.testing.assert_array_equal(calls["wrap_time"], [0.0, np.nan, 12.0, np.nan])
    assert log.recorded == set(ACD_COLUMNS)


def test_an_acd_export_is_read_through_a_mapping_file(tmp_path: Path) -> None:
    """Other column names, a separate date column in day/month/year, clock times, `;` separators and the
    ACD's outcome codes: read through `log_format.yaml` without editing the export."""
    path = tmp_path / "acd.csv"
    path.write_text(ACD, encoding="utf-8")
    (tmp_path / "log_format.yaml").write_text(yaml.safe_dump(ACD_FORMAT), encoding="utf-8")
    check_acd(read_call_log(path, load_log_format(tmp_path / "log_format.yaml")))


def test_the_same_mapping_from_command_line_texts(tmp_path: Path) -> None:
    """`--columns` and `--outcomes` texts say the same as the file (and win over it)."""
    path = tmp_path / "acd.csv"
    path.write_text(ACD, encoding="utf-8")
    columns = [",".join(f"{key}={value}" for key, value in ACD_COLUMNS.items())]
    (tmp_path / "base.yaml").write_text(
        yaml.safe_dump({"columns": {"arrived_at": "Wrong"}, "date_format": "%d/%m/%Y", "separator": ";"}),
        encoding="utf-8",
    )
    form = load_log_format(tmp_path / "base.yaml", columns, ["ANS=answered", "ABAND=abandoned,BUSY=blocked"])
    check_acd(read_call_log(path, form))


def test_a_missing_column_names_what_the_file_has(tmp_path: Path) -> None:
    path = tmp_path / "acd.csv"
    path.write_text(ACD, encoding="utf-8")
    with pytest.raises(CallLogError) as refused:
        read_call_log(path, log_format_from({"separator": ";"}))
    message = str(refused.value)
    assert "acd.csv: no column arrived_at, answered_at, ended_at, outcome" in message
    assert "'StartTime'" in message and "--columns arrived_at=CallStart" in message


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"columns": {"arrivd_at": "Start"}}, "columns: 'arrivd_at' is not a log column"),
        ({"outcomes": {"XFER": "transfered"}}, "outcomes: code 'XFER': 'transfered' is not an outcome"),
        ({"on_bad_rows": "ignore"}, "on_bad_rows: expected one of 'refuse' or 'skip', got 'ignore'"),
        ({"colums": {}}, "colums: unknown key"),
        ({"columns": {"arrived_at": "A", "ended_at": "A"}}, "columns: ended_at and arrived_at both read"),
        ({"datetime_format": "dd/mm/yyyy"}, "datetime_format: expected a strftime pattern"),
        ({"opening_hours": {"open": "8am", "close": "18:00"}}, "opening_hours.open: expected a clock time"),
    ],
)
def test_a_bad_log_format_is_refused_at_its_path(data: dict[str, Any], expected: str) -> None:
    with pytest.raises(LogFormatError) as refused:
        log_format_from(data, "log_format.yaml")
    assert str(refused.value).startswith("log_format.yaml: ") and expected in str(refused.value)


def test_a_malformed_columns_option_is_refused() -> None:
    with pytest.raises(LogFormatError, match="--columns 'arrived_at': expected NAME=VALUE"):
        load_log_format(columns=["arrived_at"])


HEADER = "arrived_at,call_type,queued_at,answered_at,ended_at,outcome,agent,department,hold_time,call_id"
BAD = f"""\
{HEADER}
2026-03-02 08:00:05,billing,2026-03-02 08:00:05,2026-03-02 08:00:30,2026-03-02 08:04:00,answered,ann,billing,0,1
2026-03-02 08:01:00,billing,,08:61,2026-03-02 08:05:00,answered,ann,billing,,2
2026-03-02 08:02:00,billing,,2026-03-02 08:01:00,2026-03-02 08:05:00,answered,bob,billing,,3
2026-03-02 08:03:00,billing,,,2026-03-02 08:03:40,XFER,,billing,,4
,billing,,,2026-03-02 08:03:40,abandoned,,billing,,5
2026-03-02 08:04:00,billing,,,,answered,ann,billing,,6
2026-03-02 08:05:00,billing,,2026-03-02 08:05:10,2026-03-02 08:06:00,blocked,,,,7
2026-03-02 08:06:00,billing,,2026-03-02 08:06:10,2026-03-02 08:07:00,answered,ann,billing,-3,8
2026-03-02 08:07:00,billing,,2026-03-02 08:07:10,2026-03-02 08:08:00,answered,ann,billing,0,1
2026-03-02 08:08:00,billing,,,2026-03-02 08:08:30,abandoned,,billing,,10,extra
2026-03-02 07:59:00,technical,,,2026-03-02 07:59:30,abandoned,,technical,,11

2026-03-02 08:09:00,billing,,2026-03-02 08:09:20,2026-03-02 08:07:00,answered,ann,billing,,12
2026-03-02T08:10:00,billing,,,2026-03-02T08:10:00,busy,,,,13
"""
LOCATED = [
    "calls.csv line 3: answered_at '08:61' is not a date-time; expected a date-time (2026-03-02 08:14:05), "
    "a clock time (08:14:05) or seconds after midnight",
    "calls.csv line 4: answered before it arrived",
    "calls.csv line 5: outcome 'XFER' is not one of answered, abandoned, blocked, self_service, "
    "abandoned_on_hold, dropped, callback_failed, message, in_system; map it in the outcome mapping "
    "(outcomes: in the log format)",
    "calls.csv line 6: arrived_at is empty (every call needs one)",
    "calls.csv line 7: outcome answered but answered_at is empty",
    "calls.csv line 7: outcome answered but ended_at is empty",
    "calls.csv line 8: outcome blocked but answered_at is given (such a call never reaches an agent)",
    "calls.csv line 9: hold_time '-3' is not a duration in seconds (a number >= 0)",
    "calls.csv line 10: call_id '1' repeats line 2",
    "calls.csv line 11: 11 fields where the header has 10",
    "calls.csv line 14: ended before it arrived",
    "calls.csv line 15: outcome 'busy' is not one of",
]


def bad_log(tmp_path: Path) -> Path:
    path = tmp_path / "calls.csv"
    path.write_text(BAD, encoding="utf-8")
    return path


def test_each_bad_row_is_refused_with_its_line_and_fault(tmp_path: Path) -> None:
    with pytest.raises(CallLogError) as refused:
        read_call_log(bad_log(tmp_path))
    problems = refused.value.problems
    assert len(problems) == len(LOCATED)
    for found, expected in zip(problems, LOCATED, strict=True):
        assert found.startswith(expected), (found, expected)


def test_bad_rows_are_skipped_and_counted_when_asked(tmp_path: Path) -> None:
    """With `on_bad_rows: skip` the two good rows are kept, sorted (line 12 arrived first), and the eleven
    bad ones counted with their faults; the blank line 13 is not a call and not a fault."""
    log = read_call_log(bad_log(tmp_path), log_format_from({"on_bad_rows": "skip"}))
    assert log.calls["line"].tolist() == [12, 2]
    assert log.skipped_rows == 11 and log.rows_read == 13
    assert sorted(set(log.skipped["line"])) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 15]
    assert log.reordered == 1
    notes = log.notes()
    assert notes[0] == "11 bad row(s) of 13 skipped:" and notes[1].startswith(
        "  calls.csv line 3: answered_at"
    )
    assert "1 row(s) were out of arrival order: sorted" in notes


def test_unsorted_rows_are_sorted(day: sim.Day, tmp_path: Path) -> None:
    """A shuffled export reads back as the ordered one: the same calls in the same order."""
    ordered, shuffled = tmp_path / "ordered.csv", tmp_path / "shuffled.csv"
    frame = day.call_log()
    frame.to_csv(ordered, index=False)
    frame.sample(frac=1.0, random_state=7).to_csv(shuffled, index=False)
    a, b = read_call_log(ordered), read_call_log(shuffled)
    assert b.reordered > 0 and a.reordered == 0
    columns = ["arrived_at", "answered_at", "ended_at", "outcome", "call_id"]
    pd.testing.assert_frame_equal(a.calls[columns], b.calls[columns])


def test_arrivals_outside_opening_hours_are_reported_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_text(
        "arrived_at,answered_at,ended_at,outcome\n"
        "07:59:59,,07:59:59,blocked\n08:00:00,08:00:05,08:03:00,answered\n"
        "17:59:59,,18:00:30,abandoned\n18:00:00,,18:00:00,blocked\n",
        encoding="utf-8",
    )
    log = read_call_log(path, log_format_from({"opening_hours": {"open": "08:00", "close": "18:00"}}))
    assert log.dates == (None,)
    assert log.calls["outside_hours"].tolist() == [True, False, False, True]
    assert log.outside_hours == 2
    assert "2 call(s) arrived outside the opening hours (lines 2, 5...)" in log.notes()


def test_seconds_and_a_parquet_log(tmp_path: Path) -> None:
    """Instants in seconds after midnight, and the same log as Parquet with typed columns."""
    frame = pd.DataFrame(
        {
            "arrived_at": [100.0, 50.5],
            "answered_at": [None, 60.0],
            "ended_at": [130.0, 200.0],
            "outcome": ["abandoned", "answered"],
        }
    )
    frame.to_csv(tmp_path / "calls.csv", index=False)
    frame.to_parquet(tmp_path / "calls.parquet", index=False)
    for name, unit in (("calls.csv", "line"), ("calls.parquet", "row")):
        log = read_call_log(tmp_path / name)
        assert log.unit == unit
        np.testing.assert_array_equal(log.calls["arrived_at"], [50.5, 100.0])
        np.testing.assert_array_equal(log.calls["answered_at"], [60.0, np.nan])


def test_the_cli_run_writes_the_call_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sim.output.results, "begin_fill_report", lambda *args, **kwargs: lambda: None, raising=False)
    folder = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", TINY, "--log", "--out", str(folder)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "call log:" in result.output
    log = read_call_log(folder / "calls_log.csv")
    calls = pd.read_parquet(folder / "calls.parquet")
    assert len(log.calls) == len(calls)
    assert sorted(map(str, log.calls["outcome"])) == sorted(map(str, calls["outcome"]))
    plain = tmp_path / "plain"
    CliRunner().invoke(app, ["run", TINY, "--out", str(plain)], catch_exceptions=False)
    assert not (plain / "calls_log.csv").exists()


def python_calls(action: Any) -> int:
    """Python function calls made while `action()` runs (a count of work, not a time)."""
    count = 0

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal count
        if event == "call":
            count += 1

    sys.setprofile(profile)
    try:
        action()
    finally:
        sys.setprofile(None)
    return count


def test_reading_does_no_python_work_per_valid_row(day: sim.Day, tmp_path: Path) -> None:
    """A 100,000-row log costs about the Python calls of a 2,000-row one: every check is a vectorised
    pass, so the difference (new dates, pandas' chunks) is far below one call per row."""
    frame = day.call_log()
    days = []
    for number in range(100_000 // len(frame) + 1):
        shifted = frame.copy()
        for column in ("arrived_at", "queued_at", "answered_at", "ended_at"):
            shifted[column] = shifted[column] + pd.Timedelta(days=number)
        days.append(shifted)
    big = pd.concat(days, ignore_index=True).iloc[:100_000]
    big.iloc[:2_000].to_csv(tmp_path / "small.csv", index=False)
    big.to_csv(tmp_path / "big.csv", index=False)
    read_call_log(tmp_path / "small.csv")  # imports and caches warmed
    small = python_calls(lambda: read_call_log(tmp_path / "small.csv"))
    large = python_calls(lambda: read_call_log(tmp_path / "big.csv"))
    assert large - small < 10_000, (small, large)  # 98,000 more rows


def test_every_simulator_outcome_has_a_log_outcome() -> None:
    from sim.analysis.tables import OUTCOMES

    assert set(OUTCOMES) <= set(LOG_OUTCOMES)


def test_numeric_outcome_codes_and_time_zone_offsets(tmp_path: Path) -> None:
    """An ACD's numeric codes map from YAML integers; a date-time with an offset is refused by name (a log
    is in the centre's local time: mixing offsets would shift calls by hours)."""
    path = tmp_path / "calls.csv"
    path.write_text(
        "arrived_at,answered_at,ended_at,outcome\n"
        "2026-03-02 08:00:00,2026-03-02 08:00:09,2026-03-02 08:03:00,1\n"
        "2026-03-02T08:01:00+01:00,,2026-03-02 08:02:00,2\n",
        encoding="utf-8",
    )
    (tmp_path / "format.yaml").write_text("outcomes: {1: answered, 2: abandoned}\n", encoding="utf-8")
    form = load_log_format(tmp_path / "format.yaml")
    with pytest.raises(CallLogError) as refused:
        read_call_log(path, form)
    assert refused.value.problems == (
        "calls.csv line 3: arrived_at '2026-03-02T08:01:00+01:00' has a time-zone offset; write the centre's "
        "local time",
    )
    log = read_call_log(path, form, on_bad_rows="skip")
    assert texts(log.calls["outcome"]) == ["answered"] and log.skipped_rows == 1
