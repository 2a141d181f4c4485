"""The scenario contract of the README: every documented key loads and means what the README says, and bad
input is refused with a `ScenarioError` listing `Problem(path, message)` at the exact YAML path."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.model.loading import (
    Problem,
    ScenarioError,
    apply_overrides,
    load_scenario,
    parse_yaml_text,
    resolved_dict,
    scenario_from_dict,
)
from sim.model.scenario import Scenario
from tests.conftest import BASE, ROOT, SCENARIOS, deep_merge

DATA = Path(__file__).resolve().parent / "data"

# Two departments named as in the README, so the error paths read exactly as documented there.
TWO: dict[str, Any] = {
    "name": "two",
    "duration": "1h",
    "interval": "30m",
    "arrivals": {"per_hour": 60, "reasons": {"billing": 0.6, "technical": 0.4}},
    "departments": {
        "billing": {"agents": 3, "handle_time": {"dist": "lognormal", "mean": "4m", "cv": 0.8}},
        "technical": {"agents": 2, "handle_time": {"dist": "exponential", "mean": "6m"}},
    },
}


def load(changes: dict[str, Any] | None = None, base: dict[str, Any] = TWO, **top: Any) -> Scenario:
    """The scenario `base` with `changes` merged in and top-level keys replaced."""
    data = deep_merge(base, changes or {})
    data.update(top)
    return scenario_from_dict(data, base_dir=DATA)


def refusal(changes: dict[str, Any] | None = None, base: dict[str, Any] = TWO, **top: Any) -> list[Problem]:
    """The problems a refused variant of `base` is refused with (fails the test if it loads)."""
    with pytest.raises(ScenarioError) as caught:
        load(changes, base, **top)
    return list(caught.value.problems)


def paths(problems: list[Problem]) -> set[str]:
    return {problem.path for problem in problems}


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# --- durations --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        ("45s", 45.0),
        ("4m", 240.0),
        ("1.5h", 5400.0),
        ("250ms", 0.25),
        ("1d", 86400.0),
        (" 2 m ", 120.0),
        ("30", 30.0),
        (30, 30.0),
        (2.5, 2.5),
        (0, 0.0),
    ],
)
def test_durations_are_numbers_of_seconds_or_strings_with_units(written: object, seconds: float) -> None:
    scenario = load({"service_level": {"threshold": written}})
    assert scenario.service_level.threshold == seconds
    assert isinstance(scenario.service_level.threshold, float)


@pytest.mark.parametrize(
    ("written", "words"),
    [
        ("4 parsecs", "unknown time unit 'parsecs'"),
        ("abc", "expected a duration"),
        ("-1m", "must be >= 0"),  # a negative duration is a value out of range, not a typo
        (True, "boolean"),
        ([20], "expected a duration"),
    ],
)
def test_bad_durations_are_refused_at_their_path(written: object, words: str) -> None:
    problems = refusal({"service_level": {"threshold": written}})
    assert paths(problems) == {"service_level.threshold"}
    assert words in problems[0].message


def test_negative_number_duration_is_refused() -> None:
    problems = refusal({"service_level": {"threshold": -5}})
    assert paths(problems) == {"service_level.threshold"}
    assert problems[0].message.startswith("must be >= 0")


def test_duration_and_interval_give_the_interval_count() -> None:
    assert load(duration="1.5h", interval="30m").interval_count == 3
    assert load(duration="1h", interval="25m").interval_count == 3  # the last interval is partial
    assert load(duration=3600, interval=3600).interval_count == 1


def test_clock_times_are_seconds_after_midnight() -> None:
    assert load(start="08:00").start == 8 * 3600
    assert load(start="09:14:05").start == 9 * 3600 + 14 * 60 + 5
    problems = refusal(start="8am")
    assert paths(problems) == {"start"}
    assert "clock time" in problems[0].message


# --- distributions ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "dist", "fields", "mean", "cv"),
    [
        ("30s", "fixed", {"value": 30.0}, 30.0, 0.0),
        (45, "fixed", {"value": 45.0}, 45.0, 0.0),
        ({"dist": "fixed", "value": "30s"}, "fixed", {"value": 30.0}, 30.0, 0.0),
        ({"dist": "exponential", "mean": "4m"}, "exponential", {"mean": 240.0}, 240.0, 1.0),
        (
            {"dist": "lognormal", "mean": "4m", "cv": 0.8},
            "lognormal",
            {"mean": 240.0, "cv": 0.8, "sd": None},
            240.0,
            0.8,
        ),
        (
            {"dist": "lognormal", "mean": "4m", "sd": "3m"},
            "lognormal",
            {"mean": 240.0, "sd": 180.0, "cv": None},
            240.0,
            0.75,
        ),
        ({"dist": "gamma", "mean": "4m", "cv": 0.5}, "gamma", {"mean": 240.0, "cv": 0.5}, 240.0, 0.5),
        ({"dist": "gamma", "mean": "4m", "sd": "2m"}, "gamma", {"mean": 240.0, "sd": 120.0}, 240.0, 0.5),
        (
            {"dist": "uniform", "low": "1m", "high": "3m"},
            "uniform",
            {"low": 60.0, "high": 180.0},
            120.0,
            120.0 / math.sqrt(12) / 120.0,
        ),
        (
            {"dist": "triangular", "low": "1m", "mode": "2m", "high": "6m"},
            "triangular",
            {"low": 60.0, "mode": 120.0, "high": 360.0},
            180.0,
            # variance (a^2 + b^2 + c^2 - ab - ac - bc) / 18 with a, c, b = 60, 120, 360
            math.sqrt((60**2 + 360**2 + 120**2 - 60 * 360 - 60 * 120 - 360 * 120) / 18) / 180.0,
        ),
        (
            {"dist": "empirical", "values": ["30s", "1m", 90]},
            "empirical",
            {"values": (30.0, 60.0, 90.0)},
            60.0,
            math.sqrt(600.0) / 60.0,  # population sd of (30, 60, 90) is sqrt(600)
        ),
    ],
)
def test_each_distribution_form_loads_in_real_units(
    written: object, dist: str, fields: dict[str, Any], mean: float, cv: float
) -> None:
    data = deep_merge(TWO, {})
    data["departments"]["billing"]["handle_time"] = written
    spec = scenario_from_dict(data).departments["billing"].handle_time
    assert spec.dist == dist
    for name, value in fields.items():
        assert getattr(spec, name) == value, name
    assert spec.mean_value() == pytest.approx(mean, rel=1e-12)
    assert spec.cv_value() == pytest.approx(cv, rel=1e-12)


def test_wrap_time_defaults_to_a_fixed_zero() -> None:
    wrap = load().departments["billing"].wrap_time
    assert (wrap.dist, wrap.mean_value()) == ("fixed", 0.0)


def test_patience_absent_means_infinite_and_present_is_a_distribution() -> None:
    assert load().patience is None
    patience = load(patience={"dist": "exponential", "mean": "3m"}).patience
    assert patience is not None and patience.mean_value() == 180.0


def test_empirical_file_is_read_relative_to_the_scenario_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # DATA/handle-times.csv is not reachable from here by a relative path
    scenario = load_scenario(DATA / "with-files.yaml")
    handle = scenario.departments["billing"].handle_time
    # first column only, header row skipped, durations with units allowed
    assert handle.dist == "empirical"
    assert handle.values == (30.0, 60.0, 90.0, 240.0)
    assert handle.file is None  # the values are inlined: the scenario no longer depends on the file


def test_empirical_file_missing_is_refused_at_the_distribution(tmp_path: Path) -> None:
    text = (DATA / "with-files.yaml").read_text(encoding="utf-8")
    path = write(tmp_path, "moved.yaml", text.replace("trace: trace-clock.csv", "per_hour: 10"))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    (problem,) = caught.value.problems
    assert problem.path == "departments.billing.handle_time"
    assert "file not found" in problem.message and "handle-times.csv" in problem.message


@pytest.mark.parametrize(
    ("written", "path", "words"),
    [
        ({"dist": "exponential", "mean": 0}, "departments.billing.handle_time.mean", "must be > 0"),
        ({"dist": "exponential", "mean": -60}, "departments.billing.handle_time.mean", "must be > 0"),
        ({"dist": "exponential", "mean": "0s"}, "departments.billing.handle_time.mean", "must be > 0"),
        ({"dist": "lognormal", "mean": 0, "cv": 1}, "departments.billing.handle_time.mean", "must be > 0"),
        ({"dist": "gamma", "mean": "4m", "cv": 0}, "departments.billing.handle_time.cv", "must be > 0"),
        (
            {"dist": "lognormal", "mean": "4m", "sd": "0s"},
            "departments.billing.handle_time",
            "sd must be > 0",
        ),
        (
            {"dist": "lognormal", "mean": "4m", "cv": 1, "sd": "1m"},
            "departments.billing.handle_time",
            "exactly one of cv",
        ),
        ({"dist": "gamma", "mean": "4m"}, "departments.billing.handle_time", "exactly one of cv"),
        (
            {"dist": "weibull", "mean": "4m"},
            "departments.billing.handle_time",
            "unknown distribution 'weibull'",
        ),
        ({"mean": "4m"}, "departments.billing.handle_time", "needs dist"),
        ({"dist": "exponential", "mean": "4m", "cv": 1}, "departments.billing.handle_time.cv", "unknown key"),
        ({"dist": "fixed"}, "departments.billing.handle_time.value", "is required"),
        (
            {"dist": "uniform", "low": "3m", "high": "1m"},
            "departments.billing.handle_time",
            "high must be > low",
        ),
        (
            {"dist": "triangular", "low": "1m", "mode": "7m", "high": "6m"},
            "departments.billing.handle_time",
            "low <= mode <= high",
        ),
        ({"dist": "empirical", "values": []}, "departments.billing.handle_time.values", "at least one"),
        ({"dist": "empirical", "values": [30, -1]}, "departments.billing.handle_time.values", ">= 0"),
        ({"dist": "empirical", "values": [0, 0]}, "departments.billing.handle_time.values", "not all be 0"),
        ({"dist": "empirical"}, "departments.billing.handle_time", "exactly one of values"),
        (True, "departments.billing.handle_time", "expected a mapping"),
    ],
)
def test_bad_distributions_are_refused_at_their_path(written: object, path: str, words: str) -> None:
    data = deep_merge(TWO, {})
    data["departments"]["billing"]["handle_time"] = written
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data, base_dir=DATA)
    assert [p.path for p in caught.value.problems] == [path]
    assert words in caught.value.problems[0].message


def test_zero_mean_reads_exactly_as_in_the_readme() -> None:
    data = deep_merge(TWO, {})
    data["departments"]["billing"]["handle_time"] = {"dist": "exponential", "mean": 0}
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data)
    problems = list(caught.value.problems)
    assert [str(p) for p in problems] == ["departments.billing.handle_time.mean: must be > 0"]


# --- staffing ---------------------------------------------------------------------------------------------


def test_staffing_as_a_count() -> None:
    agents = load().departments["billing"].agents
    assert agents is not None
    assert (agents.count, agents.per_interval, agents.shifts) == (3, None, None)


@pytest.mark.parametrize("written", [[4, 5], {"per_interval": [4, 5]}])
def test_staffing_per_interval(written: object) -> None:
    agents = load({"departments": {"billing": {"agents": written}}}).departments["billing"].agents
    assert agents is not None
    assert (agents.count, agents.per_interval, agents.shifts) == (None, (4, 5), None)


def test_staffing_as_shifts_in_clock_times() -> None:
    shifts = [
        {"start": "08:00", "end": "12:00", "count": 6},
        {"start": "22:00", "end": "06:00", "count": 2},  # an end before the start runs past midnight
    ]
    agents = load({"departments": {"billing": {"agents": {"shifts": shifts}}}}).departments["billing"].agents
    assert agents is not None and agents.shifts is not None
    assert [(s.start, s.end, s.count) for s in agents.shifts] == [
        (8 * 3600.0, 12 * 3600.0, 6),
        (22 * 3600.0, 6 * 3600.0, 2),
    ]


@pytest.mark.parametrize(
    ("written", "path", "words"),
    [
        ([1, 2, 3], "departments.billing.agents.per_interval", "needs 2 counts (one per interval), got 3"),
        ({"per_interval": [1]}, "departments.billing.agents.per_interval", "needs 2 counts"),
        ([1, -2], "departments.billing.agents.per_interval[1]", ">= 0"),
        ({"count": 2, "per_interval": [1, 2]}, "departments.billing.agents", "exactly one of"),
        (-1, "departments.billing.agents", ">= 0"),
        (
            {"shifts": [{"start": "08:60", "end": "10:00", "count": 1}]},
            "departments.billing.agents.shifts[0].start",
            "not a valid clock time",
        ),
        (
            {"shifts": [{"start": "08:00", "end": "10:00"}]},
            "departments.billing.agents.shifts[0].count",
            "is required",
        ),
    ],
)
def test_bad_staffing_is_refused_at_its_path(written: object, path: str, words: str) -> None:
    problems = refusal({"departments": {"billing": {"agents": written}}})
    assert paths(problems) == {path}
    assert words in problems[0].message


def test_agent_group_staffing_of_the_wrong_length_is_refused() -> None:
    group = {"flex": {"agents": [1, 2, 3], "skills": {"billing": 1}}}
    problems = refusal({"agent_groups": group})
    assert [str(p) for p in problems] == [
        "agent_groups.flex.agents.per_interval: needs 2 counts (one per interval), got 3"
    ]


def test_a_department_needs_agents_unless_a_group_has_its_skill() -> None:
    problems = refusal({"departments": {"technical": {"agents": None}}})
    assert paths(problems) == {"departments.technical.agents"}
    scenario = load(
        {
            "departments": {"technical": {"agents": None}},
            "agent_groups": {"flex": {"agents": 2, "skills": {"technical": 1, "billing": 2}}},
        }
    )
    assert scenario.departments["technical"].agents is None
    assert dict(scenario.agent_groups["flex"].skills) == {"technical": 1, "billing": 2}


def test_agent_group_with_overflow_and_speed_loads() -> None:
    scenario = load(
        {
            "departments": {"billing": {"overflow": {"after": "60s", "to": ["flex"]}}},
            "agent_groups": {
                "flex": {"agents": 4, "skills": {"billing": 1, "technical": 2}, "speed": {"technical": 1.2}}
            },
        }
    )
    overflow = scenario.departments["billing"].overflow
    assert overflow is not None and (overflow.after, overflow.to) == (60.0, ("flex",))
    assert scenario.agent_groups["flex"].speed == {"technical": 1.2}


# --- arrivals ---------------------------------------------------------------------------------------------


def test_arrivals_per_hour() -> None:
    assert load().arrivals.per_hour == 60.0


def test_arrivals_per_interval() -> None:
    arrivals = load({"arrivals": {"per_hour": None, "per_interval": [20, 40]}}).arrivals
    assert (arrivals.per_hour, arrivals.per_interval) == (None, (20.0, 40.0))


def test_arrivals_per_interval_of_the_wrong_length_is_refused() -> None:
    problems = refusal({"arrivals": {"per_hour": None, "per_interval": [20, 40, 60]}})
    assert [str(p) for p in problems] == [
        "arrivals.per_interval: needs 2 values (one per 1800s interval), got 3"
    ]


@pytest.mark.parametrize(
    "arrivals",
    [{"per_hour": None}, {"per_interval": [1, 2]}, {"trace": "trace-seconds.csv"}],
    ids=["none", "per_hour-and-per_interval", "per_hour-and-trace"],
)
def test_exactly_one_arrival_source(arrivals: dict[str, Any]) -> None:
    problems = refusal({"arrivals": arrivals})
    assert paths(problems) == {"arrivals"}
    assert "exactly one of per_hour" in problems[0].message


def test_trace_with_clock_times_and_reasons_is_relative_to_the_scenario(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    arrivals = load_scenario(DATA / "with-files.yaml").arrivals
    # start 08:00: 08:00:05 is 5 s after the start, 09:59:59 is 7199 s
    assert arrivals.trace_times == (5.0, 14 * 60 + 30.0, 1800.0, 7199.0)
    assert arrivals.trace_reasons == ("billing", "technical", "billing", "billing")
    assert arrivals.trace is None and arrivals.per_hour is None


def test_trace_in_seconds_without_reasons_draws_reasons_from_the_mix() -> None:
    arrivals = load({"arrivals": {"per_hour": None, "trace": "trace-seconds.csv"}}).arrivals
    assert arrivals.trace_times == (0.0, 12.5, 1800.0, 3599.0)
    assert arrivals.trace_reasons is None
    assert arrivals.reasons == {"billing": 0.6, "technical": 0.4}


@pytest.mark.parametrize(
    ("csv_text", "words"),
    [
        ("at\n100\n50\n", "must be in order"),
        ("at\n3600\n", "outside the day"),  # the day is [0, 3600)
        ("at\n07:59:00\n", "outside the day"),  # before the 08:00 start
        ("when\n100\n", "needs a header with an 'at' column"),
        ("at\nsoon\n", "line 2"),
    ],
)
def test_bad_traces_are_refused_at_arrivals_trace(tmp_path: Path, csv_text: str, words: str) -> None:
    write(tmp_path, "calls.csv", csv_text)
    data = deep_merge(TWO, {"arrivals": {"per_hour": None, "trace": "calls.csv"}, "start": "08:00"})
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data, base_dir=tmp_path)
    (problem,) = caught.value.problems
    assert problem.path == "arrivals.trace"
    assert words in problem.message


def test_trace_file_missing_is_refused(tmp_path: Path) -> None:
    data = deep_merge(TWO, {"arrivals": {"per_hour": None, "trace": "nowhere.csv"}})
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data, base_dir=tmp_path)
    (problem,) = caught.value.problems
    assert (problem.path, "file not found" in problem.message) == ("arrivals.trace", True)


def test_trace_reason_not_in_the_mix_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "calls.csv", "at,reason\n10,billing\n20,sales\n")
    data = deep_merge(TWO, {"arrivals": {"per_hour": None, "trace": "calls.csv"}})
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data, base_dir=tmp_path)
    (problem,) = caught.value.problems
    assert problem.path.startswith("arrivals.trace")
    assert "'sales'" in problem.message


# --- reasons, resolving, priorities -----------------------------------------------------------------------


def test_a_sole_department_is_the_default_reason() -> None:
    scenario = scenario_from_dict(BASE)
    assert scenario.arrivals.reasons is None
    assert scenario.reason_mix() == {"support": 1.0}


def test_resolves_defaults_to_the_department_name() -> None:
    scenario = load()
    assert scenario.departments["billing"].resolves is None
    assert scenario.resolves("billing") == ("billing",)
    assert scenario.resolves("technical") == ("technical",)


def test_resolves_lets_a_department_take_other_reasons() -> None:
    scenario = load(
        {
            "arrivals": {"reasons": {"billing": 0.5, "refunds": 0.1, "technical": 0.4}},
            "departments": {"billing": {"resolves": ["billing", "refunds"]}},
        }
    )
    assert scenario.resolves("billing") == ("billing", "refunds")
    assert scenario.reason_mix() == {"billing": 0.5, "refunds": 0.1, "technical": 0.4}


def test_default_reason_no_department_resolves_is_refused() -> None:
    data = deep_merge(BASE, {"departments": {"support": {"resolves": ["billing"]}}})
    with pytest.raises(ScenarioError):
        scenario_from_dict(data)


def test_priority_by_reason() -> None:
    scenario = load(
        {"arrivals": {"reasons": {"billing": 0.5, "technical": 0.4, "vip": 0.1}, "priority": {"vip": 0}}},
        departments={
            **TWO["departments"],
            "billing": {**TWO["departments"]["billing"], "resolves": ["billing", "vip"]},
        },
    )
    assert scenario.arrivals.priority == {"vip": 0}


@pytest.mark.parametrize(
    ("changes", "top", "expected"),
    [
        ({"departments": {"billing": {"agnts": 3}}}, {}, "departments.billing.agnts: unknown key"),
        ({}, {"sevice_level": {}}, "sevice_level: unknown key"),
        (
            {"arrivals": {"reasons": {"billing": 0.6, "technical": 0.2, "sales": 0.2}}},
            {},
            "arrivals.reasons.sales: no department resolves this reason",
        ),
        (
            {"departments": {"billing": {"overflow": {"after": "1m", "to": ["flex"]}}}},
            {},
            "departments.billing.overflow.to[0]: 'flex' is neither an agent group nor a department",
        ),
        (
            {"departments": {"billing": {"overflow": {"after": "1m", "to": ["technical", "billing"]}}}},
            {},
            "departments.billing.overflow.to[1]: cannot overflow to itself",
        ),
        (
            {"agent_groups": {"flex": {"agents": 1, "skills": {"sales": 1}}}},
            {},
            "agent_groups.flex.skills.sales: no such department",
        ),
        (
            {"agent_groups": {"flex": {"agents": 1, "skills": {"billing": 1}, "speed": {"sales": 1.2}}}},
            {},
            "agent_groups.flex.speed.sales: no such department",
        ),
        (
            {"agent_groups": {"billing": {"agents": 1, "skills": {"technical": 1}}}},
            {},
            "agent_groups.billing: an agent group cannot share a department's name",
        ),
        ({}, {"warmup": "1h"}, "warmup: must be shorter than duration (3600s)"),
        ({}, {"warmup": "2h"}, "warmup: must be shorter than duration (3600s)"),
        ({}, {"departments": {}}, "departments: needs at least 1 item(s)"),
        ({}, {"duration": None}, "duration: is required"),
        ({}, {"lines": "many"}, "lines: expected a whole number, got 'many'"),
        ({}, {"ring": 5}, "ring: expected a mapping, got int 5"),
        ({}, {"departments": ["billing"]}, "departments: expected a mapping, got a list"),
        (
            {"departments": {"billing": {"resolves": "billing"}}},
            {},
            "departments.billing.resolves: expected a list, got text 'billing'",
        ),
        ({}, {"name": 7}, "name: expected text, got int 7"),
    ],
)
def test_bad_scenarios_are_refused_with_the_yaml_path(
    changes: dict[str, Any], top: dict[str, Any], expected: str
) -> None:
    data = deep_merge(TWO, changes)
    for key, value in top.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data, base_dir=DATA)
    lines = [str(p) for p in caught.value.problems]
    assert lines == [expected]
    assert str(caught.value) == "; ".join(lines)


def test_reason_mix_not_summing_to_1_reads_as_in_the_readme() -> None:
    problems = refusal({"arrivals": {"reasons": {"billing": 0.5, "technical": 0.4}}})
    assert [str(p) for p in problems] == ["arrivals.reasons: probabilities must sum to 1, they sum to 0.9"]


def test_several_departments_need_a_reason_mix() -> None:
    problems = refusal({"arrivals": {"reasons": None}})
    assert paths(problems) == {"arrivals.reasons"}


def test_priority_for_an_unknown_reason_is_refused() -> None:
    problems = refusal({"arrivals": {"priority": {"vip": 0}}})
    assert paths(problems) == {"arrivals.priority.vip"}
    assert "billing, technical" in problems[0].message  # the reasons callers do have


def test_warmup_just_below_duration_is_accepted() -> None:
    assert load(warmup="59m").warmup == 3540.0


@pytest.mark.parametrize(
    ("top", "path"),
    [
        ({"seed": -1}, "seed"),
        ({"name": "my centre!"}, "name"),
        ({"service_level": {"target": 1.5}}, "service_level.target"),
        ({"arrivals": {**TWO["arrivals"], "per_hour": -5}}, "arrivals.per_hour"),
        ({"arrivals": {**TWO["arrivals"], "reasons": ["billing"]}}, "arrivals.reasons"),
        ({"drain": "-1h"}, "drain"),
        ({"lines": 0}, "lines"),
    ],
)
def test_out_of_range_values_are_refused_at_their_path(top: dict[str, Any], path: str) -> None:
    assert paths(refusal(**top)) == {path}


@pytest.mark.parametrize(
    "changes",
    [
        {"lines": True},
        {"seed": True},
        {"ring": {"rings": True}},
        {"arrivals": {"per_hour": True}},
        {"service_level": {"target": True}},
    ],
    ids=["lines", "seed", "ring.rings", "arrivals.per_hour", "service_level.target"],
)
def test_booleans_where_numbers_belong_are_refused(changes: dict[str, Any]) -> None:
    refusal(changes)


# --- several faults at once -------------------------------------------------------------------------------


def test_several_field_faults_are_all_reported() -> None:
    problems = refusal(
        {
            "departments": {
                "billing": {"agnts": 3, "handle_time": {"mean": 0}},
                "technical": {"wrap_time": "soon"},
            }
        },
        lines="many",
    )
    assert paths(problems) == {
        "departments.billing.agnts",
        "departments.billing.handle_time.mean",
        "departments.technical.wrap_time",
        "lines",
    }


def test_several_cross_field_faults_are_all_reported() -> None:
    problems = refusal(
        {
            "arrivals": {"reasons": {"billing": 0.5, "technical": 0.4}, "priority": {"vip": 0}},
            "departments": {"billing": {"agents": [1, 2, 3], "overflow": {"after": "1m", "to": ["flex"]}}},
        },
        warmup="2h",
    )
    assert paths(problems) == {
        "arrivals.reasons",
        "arrivals.priority.vip",
        "departments.billing.agents.per_interval",
        "departments.billing.overflow.to[0]",
        "warmup",
    }


def test_the_readme_error_example_lists_both_faults() -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(DATA / "readme-two-faults.yaml")
    assert [str(p) for p in caught.value.problems] == [
        "departments.billing.handle_time.mean: must be > 0",
        "arrivals.reasons: probabilities must sum to 1, they sum to 0.9",
    ]


# --- files ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "# nothing but a comment\n", "---\n"])
def test_empty_file_is_refused(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "empty.yaml", text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.source == str(path)
    (problem,) = caught.value.problems
    assert problem.path == "" and "empty" in problem.message


@pytest.mark.parametrize(
    ("text", "kind"), [("- a\n- b\n", "a list"), ("just words\n", "text 'just words'"), ("42\n", "int 42")]
)
def test_top_level_that_is_not_a_mapping_is_refused(tmp_path: Path, text: str, kind: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, "list.yaml", text))
    assert [str(p) for p in caught.value.problems] == [f"expected a mapping at the top level, got {kind}"]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("name: x\nduration: [1, 2\n", "(line 3, column 1)"),
        ("name: x\n  duration: 1h\n", "(line 2, column 11)"),
        ("name: x\nduration: 1h\n\tarrivals: {}\n", "(line 3, column 1)"),
    ],
)
def test_yaml_syntax_error_gives_line_and_column(tmp_path: Path, text: str, where: str) -> None:
    path = write(tmp_path, "broken.yaml", text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    (problem,) = caught.value.problems
    assert problem.message.startswith(f"not valid YAML {where}: ")
    assert str(path) in str(caught.value)


def test_yaml_aliases_are_refused(tmp_path: Path) -> None:
    text = (
        "name: x\nduration: 1h\narrivals: {per_hour: 10}\n"
        "departments:\n  a: &team {agents: 1, handle_time: 1m}\n  b: *team\n"
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, "alias.yaml", text))
    (problem,) = caught.value.problems
    assert "aliases" in problem.message and "(line 6, column 6)" in problem.message


def test_a_billion_laughs_is_refused_quickly() -> None:
    bomb = 'a: &a ["x", "x"]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c]\n'
    with pytest.raises(ScenarioError):
        parse_yaml_text(bomb)


def test_non_utf8_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: café\nduration: 1h\n".encode("latin-1"))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.source == str(path)
    assert [str(p) for p in caught.value.problems] == ["not a UTF-8 text file"]


def test_missing_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.source == str(path)
    assert [str(p) for p in caught.value.problems] == ["file not found"]
    assert str(caught.value) == f"{path}: file not found"


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(tmp_path)
    assert "directory" in caught.value.problems[0].message


def test_too_large_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text("# " + "x" * 5_000_001 + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert "at most" in caught.value.problems[0].message
    assert caught.value.source == str(path)


def test_file_errors_carry_the_file_as_source(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", yaml.safe_dump(deep_merge(TWO, {"departments": {"billing": {"x": 1}}})))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.source == str(path)
    assert str(caught.value) == f"{path}: departments.billing.x: unknown key"


# --- --set overrides --------------------------------------------------------------------------------------


def test_overrides_create_nested_mappings_without_touching_the_input() -> None:
    before = deep_merge(BASE, {})
    data = apply_overrides(BASE, ["agent_groups.flex.agents=2", "agent_groups.flex.skills.support=1"])
    assert before == BASE  # the caller's dictionary is not modified
    assert data["agent_groups"] == {"flex": {"agents": 2, "skills": {"support": 1}}}
    assert scenario_from_dict(data).agent_groups["flex"].skills == {"support": 1}


@pytest.mark.parametrize(
    ("override", "path", "value"),
    [
        ("arrivals.per_hour=150", ("arrivals", "per_hour"), 150),
        ("arrivals.per_hour=1.5", ("arrivals", "per_hour"), 1.5),
        ("duration=4h", ("duration",), "4h"),
        ("name='007'", ("name",), "007"),
        ("description=a day, with commas", ("description",), "a day, with commas"),
        ("departments.support.agents={per_interval: [8, 9]}", ("departments", "support", "agents"), None),
        ("patience=null", ("patience",), None),
        ("patience=", ("patience",), None),
        ("x.y=true", ("x", "y"), True),
        (" arrivals.per_hour = 90 ", ("arrivals", "per_hour"), 90),
    ],
)
def test_override_values_are_read_as_yaml(override: str, path: tuple[str, ...], value: object) -> None:
    node: Any = apply_overrides(BASE, [override])
    for key in path:
        node = node[key]
    if path[-1] == "agents":
        assert node == {"per_interval": [8, 9]}
    else:
        assert node == value
        assert type(node) is type(value)


def test_overrides_apply_in_order_and_reach_the_scenario() -> None:
    scenario = scenario_from_dict(
        BASE,
        overrides=[
            "arrivals.per_hour=150",
            "departments.support.agents={per_interval: [8, 9]}",
            "duration=90m",
            "duration=2h",
            "departments.support.agents.per_interval=[3, 4, 5, 6]",
        ],
    )
    assert scenario.arrivals.per_hour == 150.0
    assert scenario.duration == 7200.0
    agents = scenario.departments["support"].agents
    assert agents is not None and agents.per_interval == (3, 4, 5, 6)


def test_override_can_remove_an_optional_block() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "small-centre.yaml", ["patience=null", "lines=null"])
    assert scenario.patience is None and scenario.lines is None


@pytest.mark.parametrize("override", ["departments.support.agents", "=3", "a..b=3", ".a=1"])
def test_override_without_a_dotted_path_and_value_is_refused(override: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        apply_overrides(BASE, [override])
    assert [str(p) for p in caught.value.problems] == [f"--set {override!r}: expected dotted.path=value"]


def test_override_below_a_value_is_refused_at_that_value() -> None:
    with pytest.raises(ScenarioError) as caught:
        apply_overrides(BASE, ["name.first=x"])
    assert [str(p) for p in caught.value.problems] == [
        "name: --set name.first: name is a value, not a mapping"
    ]


def test_override_with_broken_yaml_value_is_refused() -> None:
    with pytest.raises(ScenarioError) as caught:
        apply_overrides(BASE, ["departments.support.agents=[1, 2"])
    assert "not valid YAML" in caught.value.problems[0].message
    assert "departments.support.agents" in str(caught.value)


def test_override_faults_are_reported_at_the_yaml_path() -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(DATA / "tiny.yaml", ["departments.billing.agents=-1", "departments.billing.agnts=3"])
    assert paths(list(caught.value.problems)) == {"departments.billing.agents", "departments.billing.agnts"}
    assert caught.value.source == str(DATA / "tiny.yaml")


def test_non_text_keys_are_refused() -> None:
    data = deep_merge(TWO, {})
    data["arrivals"]["reasons"] = {"billing": 0.6, 7: 0.4}
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data)
    assert [p.message for p in caught.value.problems] == ["keys must be text"]
    assert caught.value.problems[0].path.startswith("arrivals.reasons")


def test_names_too_long_to_read_are_refused_in_a_short_message() -> None:
    long = "b" * 5000
    data = deep_merge(TWO, {"departments": {long: {"agents": 1, "handle_time": "1m"}}})
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data)
    (problem,) = caught.value.problems
    assert problem.path == "departments." + "b" * 40 + "…"
    assert problem.message == "a name of 5000 characters (at most 100)"


def test_an_unknown_name_in_a_list_is_shortened_in_the_message() -> None:
    data = deep_merge(TWO, {"departments": {"billing": {"overflow": {"after": "1m", "to": ["t" * 5000]}}}})
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data)
    (problem,) = caught.value.problems
    assert problem.path == "departments.billing.overflow.to[0]"
    assert "is neither an agent group nor a department" in problem.message and len(problem.message) < 100


# --- the resolved scenario --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", [*SCENARIOS, DATA / "with-files.yaml", DATA / "tiny.yaml"], ids=lambda p: Path(p).stem
)
def test_resolved_scenario_loads_again_to_the_same_scenario(path: Path, tmp_path: Path) -> None:
    scenario = load_scenario(path)
    text = yaml.safe_dump(resolved_dict(scenario), sort_keys=False)
    # loaded from another folder: the resolved form no longer refers to CSV files
    again = load_scenario(write(tmp_path, "resolved.yaml", text))
    assert again == scenario
    assert resolved_dict(again) == resolved_dict(scenario)


def test_resolved_scenario_keeps_the_order_of_departments_which_decides_routing() -> None:
    # a caller a department cannot help goes to the first department that resolves the reason: here
    # technical, which resolves; sorted, sales would come first and send them back to billing for ever
    data = deep_merge(
        TWO,
        {
            "routing": {"accuracy": 0.0},
            "departments": {
                "sales": {
                    "agents": 1,
                    "handle_time": "1m",
                    "resolves": ["billing", "technical"],
                    "transfer": {"billing": 0.9999999999},
                }
            },
        },
    )
    scenario = scenario_from_dict(data)
    resolved = resolved_dict(scenario)
    assert list(resolved["departments"]) == ["billing", "technical", "sales"]
    again = scenario_from_dict(yaml.safe_load(yaml.safe_dump(resolved, sort_keys=False)))
    assert list(again.departments) == list(scenario.departments)
    with pytest.raises(ScenarioError, match="can never leave"):
        scenario_from_dict(yaml.safe_load(yaml.safe_dump(resolved)))  # sorted keys: another scenario


def test_resolved_scenario_is_in_seconds_with_defaults_filled_in() -> None:
    resolved = resolved_dict(load_scenario(ROOT / "scenarios" / "small-centre.yaml"))
    assert (resolved["start"], resolved["duration"], resolved["interval"]) == (28800.0, 28800.0, 1800.0)
    assert resolved["drain"] == 4 * 3600.0  # default
    assert resolved["departments"]["billing"]["handle_time"] == {
        "dist": "lognormal",
        "mean": 240.0,
        "cv": 0.8,
    }
    assert resolved["departments"]["billing"]["wrap_time"] == {"dist": "fixed", "value": 30.0}
    assert resolved["departments"]["technical"]["wrap_time"] == {"dist": "fixed", "value": 0.0}
    assert resolved["patience"] == {"dist": "exponential", "mean": 180.0}
    assert resolved["departments"]["billing"]["agents"] == {"count": 10}
    assert resolved["departments"]["technical"]["agents"]["shifts"][0] == {
        "start": 28800.0,
        "end": 43200.0,
        "count": 6,
    }


def test_resolving_a_reason_nobody_calls_about_is_refused_as_a_typo() -> None:
    problems = refusal({"departments": {"billing": {"resolves": ["billing", "biling"]}}})
    assert paths(problems) == {"departments.billing.resolves[1]"}
    assert "'biling' is not a reason callers have (billing, technical)" in problems[0].message


def test_set_into_a_department_that_does_not_exist_says_it_is_new() -> None:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(TWO, overrides=["departments.biling.agents=3"])
    first, *rest = caught.value.problems
    assert first.path == "departments.biling"
    assert "no department 'biling' in the scenario ('billing', 'technical')" in first.message
    assert "a typo?" in first.message
    assert "departments.biling.handle_time" in paths(rest)
    whole = scenario_from_dict(TWO, overrides=["departments.sales={agents: 2, handle_time: 3m}"])
    assert list(whole.departments) == ["billing", "technical", "sales"]  # a new one, set whole, is fine
