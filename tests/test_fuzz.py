"""Trust under bad input: the scenario loader, fuzzed.

Thousands of generated and mutated scenarios (wrong types, missing keys, negative, zero, NaN and infinite
values, huge numbers and lists, unknown departments, transfer loops, probabilities over 1), YAML texts
(mutated, binary, non-UTF-8, aliases and bombs, deep nesting), `--set` overrides, the CSV files a scenario
reads (arrival traces, empirical distributions) and the command line. Every input must either

- load, and then a short simulation of it must run (and its summary be JSON-safe, and the scenario as run be
  loadable again), or
- be refused with a `ScenarioError` whose problems name the YAML path of the fault,

never raise anything else, never hang (each example runs under a wall-clock alarm) and never take
unbounded memory (the bombs are measured with tracemalloc). After the module's tests a line on the
terminal tallies what was tried: inputs generated, refused, loaded and run.

The default tests take about half a minute; `pytest -m slow tests/test_fuzz.py` runs many thousands more.
"""

from __future__ import annotations

import copy
import datetime
import functools
import json
import math
import os
import resource
import signal
import string
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import count
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import sim.output.results
from sim.analysis.intervals import interval_table
from sim.analysis.summary import summary as day_summary
from sim.cli.app import app
from sim.engine.day import simulate
from sim.experiments.runner import replication_kpis
from sim.model.durations import parse_duration, shorten
from sim.model.loading import (
    ScenarioError,
    apply_overrides,
    load_scenario,
    parse_yaml_text,
    resolved_dict,
    scenario_from_dict,
)
from sim.model.scenario import Scenario
from sim.output.folders import clean_json

DATA = Path(__file__).resolve().parent / "data"
FUZZ = DATA / "fuzz"
EVERYTHING = FUZZ / "everything.yaml"
TINY = DATA / "tiny.yaml"

LOAD_SECONDS = 10.0
"""CPU-time limit for loading (and refusing) one input; loading takes milliseconds."""
RUN_SECONDS = 30.0
"""CPU-time limit for one input's load plus short simulation (typically 0.05 s)."""
RUN_DAY = 1800.0
RUN_CALLS = 300
"""A loaded scenario is simulated for at most this long and about this many calls (see `shortened`)."""

TALLY: Counter[str] = Counter()
"""What was tried: `generated`, and each input's outcome (`refused`, `ran`, or a recorded known bug)."""

_serial = count()


# --- the contract ---------------------------------------------------------------------------------------


class Hang(BaseException):
    """Raised by the timer: an input used more CPU time than its limit (a BaseException, so no `except` in
    the code under test swallows it)."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise `Hang` if the block uses more than `seconds` of this process's CPU time.

    CPU time (`ITIMER_PROF`), not the wall clock: a busy machine slows the block down but does not use its
    time, so only a real runaway (an endless loop, a quadratic blow-up) trips it. A block that sleeps or
    waits forever is pytest-timeout's to catch (its wall-clock alarm is left alone)."""

    def expire(signum: int, frame: Any) -> None:
        raise Hang(f"still running after {seconds:g} s of CPU time")

    previous = signal.signal(signal.SIGPROF, expire)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def refused_or_ran(build: Any, data: Any, where: str, limit: float = RUN_SECONDS) -> str:
    """Load with `build()` (which returns a `Scenario` or raises `ScenarioError`), then simulate a short
    version of what loaded; `data` is the parsed input (for checking the problems' YAML paths) or None.
    Returns 'refused' or 'ran'; anything else (another exception, a hang) fails the example."""
    TALLY["generated"] += 1
    TALLY[f"generated {where}"] += 1
    try:
        with time_limit(limit):
            try:
                scenario = build()
            except ScenarioError as error:
                check_refusal(error, data)
                outcome = "refused"
            else:
                outcome = run_short(scenario, tables=where.startswith("slow"))
    except Hang as hang:
        raise AssertionError(f"hang: {hang}") from None
    TALLY[outcome] += 1
    TALLY[f"{outcome} {where}"] += 1
    return outcome


def check_refusal(error: ScenarioError, data: Any) -> None:
    """A refusal lists at least one problem; each is one line naming where (a YAML path into `data`, or
    nothing for a fault of the whole document) and what was expected."""
    assert error.problems, "a ScenarioError without problems"
    for problem in error.problems:
        assert isinstance(problem.path, str) and isinstance(problem.message, str)
        assert problem.message.strip(), f"empty message at {problem.path!r}"
        assert "\n" not in str(problem), f"a problem on several lines: {problem}"
        assert len(str(problem)) < 2000, f"a problem too long to read: {str(problem)[:200]}..."
        assert str(problem) in str(error)
        if isinstance(data, dict) and data:
            assert problem.path, f"a scenario mapping refused without a YAML path: {problem}"
            assert leads_into(problem.path, data), f"{problem.path!r} is not a path into the input: {problem}"


def leads_into(path: str, data: Any) -> bool:
    """Whether a dotted YAML path (`departments.billing.agents.per_interval[1]`) walks into `data`: every
    step but the last must be there (the last may be a missing key, or a field a shorthand stands for)."""
    node, rest = data, path
    while rest:
        if rest.startswith("["):
            close = rest.find("]")
            if close < 0 or not rest[1:close].isdigit():
                return False
            index, rest = int(rest[1:close]), rest[close + 1 :].removeprefix(".")
            if not (isinstance(node, list) and index < len(node)):
                return rest == ""
            node = node[index]
            continue
        if isinstance(node, list) and rest.startswith("per_interval"):  # `agents: [1, 2]` stands for this
            rest = rest.removeprefix("per_interval").removeprefix(".")
            continue
        names = {shown(key): value for key, value in node.items()} if isinstance(node, dict) else {}
        matches = [key for key in names if rest == key or rest.startswith((key + ".", key + "["))]
        if not matches:
            return "." not in rest and "[" not in rest  # a missing last step
        key = max(matches, key=len)
        node, rest = names[key], rest[len(key) :].removeprefix(".")
    return True


def shown(key: Any) -> str:
    """A mapping key as the loader writes it in a YAML path."""
    if not isinstance(key, str):
        return shorten(key)
    return key if key != "" else "''"


def run_short(scenario: Scenario, tables: bool = False) -> str:
    """Simulate a short version of a loaded scenario; its summary must be JSON-safe (and, with `tables`,
    the interval table must build), and the scenario as run (`resolved_dict`, what the results folder
    keeps) must load again to the same scenario."""
    assert isinstance(scenario, Scenario)
    resolved = resolved_dict(scenario)
    text = yaml.dump(resolved, Dumper=yaml.CSafeDumper, sort_keys=False)  # as results.py writes it
    again = scenario_from_dict(yaml.load(text, Loader=yaml.CSafeLoader))
    assert again == scenario, "the resolved scenario does not load back to the same scenario"
    short = shortened(scenario)
    result = simulate(short, short.seed, 0)
    summary = day_summary(result)
    if tables:
        assert len(interval_table(result)) >= short.interval_count
    assert isinstance(summary["offered"], int) and summary["offered"] >= 0
    level = summary["service_level"]
    assert math.isnan(level) or 0 <= level <= 1, level
    json.dumps(clean_json(summary), allow_nan=False)
    return "ran"


def shortened(scenario: Scenario) -> Scenario:
    """The scenario cut to at most RUN_DAY seconds (plus as much drain) and about RUN_CALLS calls, built
    through the loader again: per-interval lists are cut to the shorter day, rates scaled down."""
    data = resolved_dict(scenario)
    day = min(scenario.duration, RUN_DAY)
    intervals = max(1, math.ceil(day / scenario.interval - 1e-9))
    data["duration"] = day
    data["drain"] = min(scenario.drain, RUN_DAY)
    data["warmup"] = min(scenario.warmup, day / 2)
    arrivals = data["arrivals"]
    if arrivals.get("per_hour") is not None:
        arrivals["per_hour"] = min(arrivals["per_hour"], RUN_CALLS * 3600 / day)
    if arrivals.get("per_interval") is not None:
        counts = arrivals["per_interval"][:intervals]
        scale = min(1.0, RUN_CALLS / sum(counts)) if sum(counts) else 1.0
        arrivals["per_interval"] = [value * scale for value in counts]
    if arrivals.get("trace_times") is not None:
        kept = [index for index, at in enumerate(arrivals["trace_times"]) if at < day][:RUN_CALLS]
        arrivals["trace_times"] = [arrivals["trace_times"][i] for i in kept]
        if arrivals.get("trace_reasons") is not None:
            arrivals["trace_reasons"] = [arrivals["trace_reasons"][i] for i in kept]
    for owner in [*data["departments"].values(), *data.get("agent_groups", {}).values()]:
        agents = owner.get("agents")
        if isinstance(agents, dict) and agents.get("per_interval") is not None:
            agents["per_interval"] = agents["per_interval"][:intervals]
    try:
        return scenario_from_dict(data)
    except ScenarioError as error:
        raise AssertionError(f"a loaded scenario, shortened, was refused: {error}") from None


def write_bytes(folder: Path, content: bytes, suffix: str = ".yaml") -> Path:
    path = folder / f"input-{next(_serial)}{suffix}"
    path.write_bytes(content)
    return path


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for the examples' files, holding the CSV files the seed scenario refers to."""
    folder = tmp_path_factory.mktemp("fuzz")
    for name in ("trace.csv", "handle.csv"):
        (folder / name).write_bytes((FUZZ / name).read_bytes())
    return folder


FAST = settings(
    max_examples=300,
    deadline=None,  # time_limit() bounds each example instead, without hypothesis' flaky-deadline reruns
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    derandomize=True,  # the same inputs every run; see SLOW for exploring new ones
)


# --- generated scenarios ----------------------------------------------------------------------------------

NAMES = ["billing", "technical", "sales", "support"]
MEANS = st.sampled_from([1, 5, "30s", "2m", "4m", 600, "0.5h"])


@functools.cache
def dist_specs(zero: bool = True) -> st.SearchStrategy[Any]:
    """Every distribution form of the README, with ordinary parameters."""
    bare = [0, 5, "30s", "1m"] if zero else [5, "30s", "1m"]
    return st.one_of(
        st.sampled_from(bare),
        st.builds(lambda mean: {"dist": "exponential", "mean": mean}, MEANS),
        st.builds(
            lambda kind, mean, cv: {"dist": kind, "mean": mean, "cv": cv},
            st.sampled_from(["lognormal", "gamma"]),
            MEANS,
            st.sampled_from([0.1, 0.5, 1, 2, 5]),
        ),
        st.builds(lambda mean: {"dist": "lognormal", "mean": mean, "sd": "1m"}, MEANS),
        st.builds(
            lambda value: {"dist": "fixed", "value": value},
            st.sampled_from([0, 1, "45s"] if zero else [1, "45s"]),
        ),
        st.builds(
            lambda low, width: {"dist": "uniform", "low": low, "high": low + width},
            st.integers(0, 60),
            st.integers(1, 300),
        ),
        st.builds(
            lambda low, a, b: {"dist": "triangular", "low": low, "mode": low + a, "high": low + a + b},
            st.integers(0, 60),
            st.integers(0, 60),
            st.integers(1, 300),
        ),
        st.builds(
            lambda values: {"dist": "empirical", "values": values},
            st.lists(st.integers(1, 600), min_size=1, max_size=5),
        ),
    )


def clock(minutes: int) -> str:
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


@functools.cache
def staffing(intervals: int) -> st.SearchStrategy[Any]:
    shift = st.builds(
        lambda start, length, agents: {"start": clock(start), "end": clock(start + length), "count": agents},
        st.integers(0, 24 * 60 - 1),
        st.integers(1, 12 * 60),
        st.integers(0, 3),
    )
    return st.one_of(
        st.integers(0, 4),
        st.lists(st.integers(0, 4), min_size=intervals, max_size=intervals),
        st.builds(
            lambda counts: {"per_interval": counts},
            st.lists(st.integers(0, 4), min_size=intervals, max_size=intervals),
        ),
        st.builds(lambda shifts: {"shifts": shifts}, st.lists(shift, min_size=1, max_size=3)),
    )


def mix(draw: Any, names: Sequence[str]) -> dict[str, float]:
    """Probabilities over `names` that sum to 1 (within the loader's tolerance)."""
    weights = [draw(st.integers(1, 5)) for _ in names]
    shares = [weight / sum(weights) for weight in weights]
    shares[-1] = 1 - sum(shares[:-1])
    return dict(zip(names, shares, strict=True))


def maybe(draw: Any, strategy: st.SearchStrategy[Any]) -> Any:
    return draw(strategy) if draw(st.booleans()) else None


@st.composite
def scenario_dicts(draw: Any) -> dict[str, Any]:
    """A scenario as parsed YAML, drawing on every part of the format; most are valid."""
    minutes = draw(st.sampled_from([10, 30, 60]))
    interval = draw(st.sampled_from([5, 10, 15, 30]))
    intervals = math.ceil(minutes / interval)
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    data: dict[str, Any] = {
        "name": draw(st.sampled_from(["fuzz", "f-1", "a.b_c"])),
        "seed": draw(st.integers(0, 2**40)),
        "start": draw(st.sampled_from(["08:00", "23:50", 0, "00:00:30"])),
        "duration": f"{minutes}m",
        "interval": f"{interval}m",
    }
    arrivals: dict[str, Any] = (
        {"per_hour": draw(st.integers(0, 300))}
        if draw(st.booleans())
        else {"per_interval": draw(st.lists(st.integers(0, 60), min_size=intervals, max_size=intervals))}
    )
    if len(names) > 1 or draw(st.booleans()):
        arrivals["reasons"] = mix(draw, names)
        if draw(st.booleans()):
            arrivals["priority"] = {draw(st.sampled_from(names)): draw(st.integers(0, 9))}
    data["arrivals"] = arrivals
    groups = draw(st.sampled_from([{}, {"flex": None}]))
    departments: dict[str, Any] = {}
    for name in names:
        department: dict[str, Any] = {"handle_time": draw(dist_specs())}
        if not groups or draw(st.integers(0, 3)):
            department["agents"] = draw(staffing(intervals))
        extra = {
            "wrap_time": dist_specs(),
            "listen_time": dist_specs(),
            "transfer_time": dist_specs(),
            "routing_accuracy": st.one_of(
                st.sampled_from([0.0, 0.5, 1.0]),
                st.builds(
                    lambda base: {"base": base, "max": 0.95, "scale": "30s"}, st.sampled_from([0.2, 0.9])
                ),
            ),
            "transfer_mode": st.sampled_from(["cold", "warm"]),
            "transfer": st.dictionaries(
                st.sampled_from(names), st.sampled_from([0.0, 0.1, 0.3, 0.5, 1.0]), max_size=2
            ),
            "overflow": st.builds(
                lambda after, to: {"after": after, "to": [to]},
                st.sampled_from([0, "30s", "2m"]),
                st.sampled_from(
                    [*(n for n in names if n != name), *(["flex"] if groups else [])] or ["flex"]
                ),
            ),
            "hold": st.fixed_dictionaries(
                {"probability": st.sampled_from([0.0, 0.3, 1.0]), "duration": dist_specs()},
                optional={
                    "max_holds": st.integers(1, 3),
                    "promise": st.sampled_from([1, "30s", "1m"]),
                    "check_back_time": dist_specs(),
                    "patience": dist_specs(zero=False),
                    "callback_share": st.sampled_from([0.0, 0.5, 1.0]),
                },
            ),
        }
        for key in draw(st.lists(st.sampled_from(sorted(extra)), unique=True, max_size=3)):
            department[key] = draw(extra[key])
        if department.get("transfer") and sum(department["transfer"].values()) > 1:
            department["transfer"] = dict(list(department["transfer"].items())[:1])
        departments[name] = department
    data["departments"] = departments
    if groups:
        skills = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
        data["agent_groups"] = {
            "flex": {
                "agents": draw(staffing(intervals)),
                "skills": {skill: draw(st.integers(0, 3)) for skill in skills},
                "speed": {skill: draw(st.sampled_from([0.5, 1.0, 1.5])) for skill in skills[:1]},
            }
        }
    optional = {
        "patience": dist_specs(zero=False),
        "lines": st.integers(1, 20),
        "ring": st.fixed_dictionaries({"cycle": st.sampled_from(["6s", 1]), "rings": st.integers(0, 3)}),
        "service_level": st.fixed_dictionaries(
            {"threshold": st.sampled_from([0, "20s"]), "target": st.sampled_from([0.0, 0.8, 1.0])}
        ),
        "warmup": st.sampled_from([0, "5m"]),
        "drain": st.sampled_from([0, "10m", "1h"]),
        "ivr": st.fixed_dictionaries(
            {"menu_time": dist_specs(), "accuracy": st.sampled_from([0.0, 0.7, 1.0])},
            optional={"self_service": st.just({names[0]: 0.2})},
        ),
        "routing": st.fixed_dictionaries(
            {"listen_time": dist_specs(), "accuracy": st.sampled_from([0.0, 0.6, 1.0])}
        ),
        "transfers": st.fixed_dictionaries(
            {
                "mode": st.sampled_from(["cold", "warm"]),
                "priority": st.booleans(),
                "patience": st.sampled_from(["restart", "continue"]),
                "consult_time": dist_specs(),
            }
        ),
        "callback": st.fixed_dictionaries(
            {
                "offer_when_wait_over": st.sampled_from([0, "1m"]),
                "accept": st.sampled_from([0.0, 0.5, 1.0]),
                "keep_place": st.booleans(),
                "answer_probability": st.sampled_from([0.0, 0.8, 1.0]),
                "retries": st.integers(0, 2),
                "retry_delay": st.sampled_from([0, "2m"]),
                "dial_time": dist_specs(),
            }
        ),
        "redial": st.fixed_dictionaries(
            {
                "blocked": st.fixed_dictionaries(
                    {"probability": st.sampled_from([0.0, 1.0]), "delay": dist_specs()}
                ),
                "abandoned": st.fixed_dictionaries(
                    {"probability": st.sampled_from([0.5, 1.0]), "delay": dist_specs()}
                ),
                "max_attempts": st.integers(1, 3),
            }
        ),
        "experience": st.fixed_dictionaries({"wait_tolerance": st.sampled_from([1, "2m"])}),
        "max_transfers": st.integers(0, 3),
        "on_max_transfers": st.sampled_from(["escalate", "hang_up"]),
    }
    for key in draw(st.lists(st.sampled_from(sorted(optional)), unique=True, max_size=6)):
        data[key] = draw(optional[key])
    return data


@settings(FAST, max_examples=200)
@given(data=scenario_dicts())
def test_generated_scenarios_load_and_run_or_are_refused_at_a_path(data: dict[str, Any]) -> None:
    refused_or_ran(lambda: scenario_from_dict(data), data, "generated")


# --- mutated scenarios ------------------------------------------------------------------------------------

HUGE_LIST = [1] * 20_000
DEEP: list[Any] = []
_node = DEEP
for _ in range(200):
    _node.append([])
    _node = _node[0]

# fmt: off
NASTY_VALUES: list[Any] = [
    None, True, False, 0, -1, -0.0, 0.5, 1, 1.0000001, 2, 1e308, -1e308, 10**400, -(10**400), 2**63, 2**64,
    5e-324, 1e-300, math.nan, math.inf, -math.inf, "nan", "NaN", "inf", "-inf", ".nan", ".inf", "-.inf", "",
    " ", "abc", "1e400", "1e400s", "-5m", "0s", "4 parsecs", "1.5h", "08:00", "99:99", "25:00:61", "nowhere",
    "billing", "é", "\x00", "1" * 5000, "9" * 400, "x" * 100_000, b"\x00\xff", datetime.date(2024, 1, 1), [],
    {}, [None], HUGE_LIST, DEEP, {1: 2}, {None: "x"}, {True: 1}, {"dist": "weibull"},
    {"dist": "exponential", "mean": math.nan}, {"dist": "gamma", "mean": 1, "cv": 1e-200},
    {"dist": "empirical", "values": HUGE_LIST}, {"dist": "empirical", "file": "nowhere.csv"},
    {"per_interval": HUGE_LIST}, {"shifts": [{"start": "08:00", "end": "09:00", "count": 1}] * 150},
]
# fmt: on

nasty = st.one_of(
    st.sampled_from(NASTY_VALUES),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.lists(st.sampled_from([0, 1, -1, "x", None, math.nan]), max_size=4),
    st.dictionaries(
        st.sampled_from(["dist", "mean", "value", "count", "x", "billing", "per_interval"]),
        st.sampled_from([0, 1, "exponential", "x", None, -1, math.inf]),
        max_size=3,
    ),
)


def locations(data: Any) -> list[tuple[Any, ...]]:
    """Every place in parsed YAML (as key/index steps), the root excluded."""
    found, stack = [], [(data, ())]
    while stack:
        node, loc = stack.pop()
        if loc:
            found.append(loc)
        if isinstance(node, dict):
            stack.extend((value, (*loc, key)) for key, value in node.items())
        elif isinstance(node, list) and len(node) < 100:
            stack.extend((value, (*loc, index)) for index, value in enumerate(node))
    return sorted(found, key=repr)


def at(data: Any, loc: tuple[Any, ...]) -> Any:
    for step in loc:
        data = data[step]
    return data


@st.composite
def mutated_scenarios(draw: Any) -> tuple[dict[str, Any], list[str]]:
    """A generated scenario with one to three faults put in: a value replaced, a key deleted or renamed, an
    unknown key added, a value wrapped in a list."""
    data = draw(scenario_dicts())
    done = []
    for _ in range(draw(st.integers(1, 3))):
        loc = draw(st.sampled_from(locations(data)))
        parent, step = at(data, loc[:-1]), loc[-1]
        operation = draw(
            st.sampled_from(["replace", "replace", "replace", "delete", "rename", "add", "wrap"])
        )
        if operation == "replace":  # a copy: later mutations must not change the shared nasty values
            parent[step] = copy.deepcopy(draw(nasty))
        elif operation == "delete":
            del parent[step]
        elif operation == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["nowhere", "Billing", "duration ", "", "x" * 100]))] = parent.pop(
                step
            )
        elif operation == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "agnts", "mean", "transfer", "billing"]))] = copy.deepcopy(
                draw(nasty)
            )
        else:
            parent[step] = [parent[step]]
        done.append(f"{operation} {loc}")
    return data, done


@settings(FAST, max_examples=500)
@given(case=mutated_scenarios())
def test_mutated_scenarios_load_and_run_or_are_refused_at_a_path(
    case: tuple[dict[str, Any], list[str]],
) -> None:
    data, _ = case
    refused_or_ran(lambda: scenario_from_dict(data), data, "mutated")


@pytest.mark.parametrize(
    "place",
    [
        ("duration",),
        ("interval",),
        ("start",),
        ("seed",),
        ("lines",),
        ("arrivals", "per_hour"),
        ("arrivals", "reasons", "billing"),
        ("departments", "billing", "agents"),
        ("departments", "billing", "handle_time"),
        ("departments", "billing", "handle_time", "mean"),
        ("departments", "technical", "agents", 0),
        ("departments", "nowhere"),
    ],
    ids=lambda place: ".".join(map(str, place)),
)
def test_every_nasty_value_in_every_kind_of_place(place: tuple[Any, ...]) -> None:
    """Each of the fixed nasty values at a dozen typical places: run, or refused at that place (or, for
    the day's length and start, wherever the consequence shows)."""
    dotted = ".".join(map(str, place[:3]))
    for value in NASTY_VALUES:
        data = yaml.safe_load(TINY.read_text(encoding="utf-8"))
        data["departments"]["billing"]["handle_time"] = {"dist": "lognormal", "mean": "2m", "cv": 0.5}
        at(data, place[:-1])[place[-1]] = value
        outcome = refused_or_ran(functools.partial(scenario_from_dict, data, DATA), data, "nasty value")
        if outcome == "refused" and place[0] not in ("duration", "interval", "start"):
            with pytest.raises(ScenarioError) as caught:
                scenario_from_dict(data, base_dir=DATA)
            assert any(
                p.path.startswith(dotted)
                or dotted.startswith(p.path)
                or p.path.startswith("arrivals.reasons")
                for p in caught.value.problems
            ), f"{shorten(value)} at {dotted}: {caught.value}"


def test_a_day_where_no_call_ends_but_calls_were_transferred_has_a_summary() -> None:
    """Every caller goes through the menu to technical by mistake, is sent on to billing, which has no
    agents: calls were transferred, none ended (found by the fuzz: the talk-time sums were integers)."""
    data = {
        "name": "stuck",
        "duration": "10m",
        "drain": 0,
        "ivr": {"accuracy": 0.0},
        "arrivals": {"per_hour": 60, "reasons": {"billing": 1.0}},
        "departments": {
            "billing": {"agents": 0, "handle_time": "1m"},
            "technical": {"agents": 1, "handle_time": "1m"},
        },
    }
    scenario = scenario_from_dict(data)
    summary = day_summary(simulate(scenario, scenario.seed, 0))
    assert summary["in_system"] == summary["arrivals"] > 0


# --- the faults this fuzz found, pinned --------------------------------------------------------------------

HANDLE = ("departments", "billing", "handle_time")
FOUND: list[tuple[str, tuple[Any, ...], Any, str, str]] = [
    # (what, where in tiny.yaml, value, the problem's path, words of its message)
    ("an integer duration beyond floats", ("duration",), 10**400, "duration", "at most 1e+09 seconds"),
    ("a rate with no end of calls", ("arrivals", "per_hour"), 1e308, "arrivals.per_hour", "at most 10000000"),
    ("a rate beyond floats", ("arrivals", "per_hour"), 10**400, "arrivals.per_hour", "is too large a number"),
    ("a vanishing interval", ("interval",), 1e-300, "interval", "intervals of the 3600s day; at most 100000"),
    ("a day of two years", ("duration",), "730d", "duration", "at most 366 days"),
    ("a drain of two years", ("drain",), "730d", "drain", "at most 366 days"),
    (
        "gamma with a vanishing cv",
        HANDLE,
        {"dist": "gamma", "mean": "2m", "cv": 1e-200},
        ".".join(HANDLE),
        "cv (sd / mean) must be between 1e-06 and 100",
    ),
    (
        "lognormal with a huge cv",
        HANDLE,
        {"dist": "lognormal", "mean": "2m", "cv": 1e200},
        ".".join(HANDLE),
        "must be between",
    ),
    (
        "lognormal with a huge sd",
        HANDLE,
        {"dist": "lognormal", "mean": 1e-300, "sd": "1h"},
        ".".join(HANDLE),
        "must be between",
    ),
    (
        "a handle time of 1e308 s",
        HANDLE,
        {"dist": "exponential", "mean": 1e308},
        "departments.billing.handle_time.mean",
        "at most 1e+09 seconds",
    ),
    (
        "a promise kept every instant",
        ("departments", "billing", "hold"),
        {"probability": 1, "duration": "10m", "promise": 1e-9, "check_back_time": 0},
        "departments.billing.hold.promise",
        "must be >= 1",
    ),
    (
        "an army of agents",
        ("departments", "billing", "agents"),
        {"shifts": [{"start": "08:00", "end": "18:00", "count": 100_000}] * 2},
        "departments.billing.agents",
        "agents on duty at once; at most 100000",
    ),
    (
        "too many shifts",
        ("departments", "billing", "agents"),
        {"shifts": [{"start": "08:00", "end": "09:00", "count": 1}] * 101},
        "departments.billing.agents.shifts",
        "too many items (at most 100)",
    ),
    (
        "a NaN probability",
        ("arrivals", "reasons", "billing"),
        math.nan,
        "arrivals.reasons.billing",
        "must be a number, got nan",
    ),
    ("'nan' as a rate", ("arrivals", "per_hour"), "nan", "arrivals.per_hour", "must be a number, got 'nan'"),
    (
        "a probability beyond floats",
        ("arrivals", "reasons", "billing"),
        10**400,
        "arrivals.reasons.billing",
        "is too large a number",
    ),
    ("an empty key", ("",), 1, "''", "unknown key"),
    (
        "a 60-deep list",
        ("description",),
        DEEP,
        "description" + "[0]" * 50,
        "nested too deeply (at most 50 levels)",
    ),
    (
        "a clock beyond floats",
        ("start",),
        10**400,
        "start",
        "a clock time in seconds must be between 0 and 1e+09",
    ),
]


@pytest.mark.parametrize(("what", "where", "value", "path", "words"), FOUND, ids=[case[0] for case in FOUND])
def test_faults_the_fuzz_found_are_refused_at_their_path(
    what: str, where: tuple[Any, ...], value: Any, path: str, words: str
) -> None:
    data = yaml.safe_load(TINY.read_text(encoding="utf-8"))
    at(data, where[:-1])[where[-1]] = value
    with time_limit(LOAD_SECONDS), pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data)
    assert any(p.path == path and words in p.message for p in caught.value.problems), str(caught.value)


def test_a_year_is_allowed_but_a_year_of_many_shifts_is_refused() -> None:
    """A year-long steady-state run loads; a roster laid out for every day of it must stay bounded."""
    data: dict[str, Any] = {
        "name": "year",
        "duration": "365d",
        "interval": "365d",
        "arrivals": {"per_hour": 10},
        "departments": {"billing": {"agents": 2, "handle_time": "2m"}},
    }
    assert scenario_from_dict(data).duration == 365 * 86400
    shifts = [
        {"start": f"{minute // 60:02d}:{minute % 60:02d}", "end": "23:59", "count": 1}
        for minute in range(100)
    ]
    names = [f"d{number}" for number in range(30)]  # 30 pools x 100 shifts a day x 367 days laid out
    data["arrivals"]["reasons"] = {name: 1 / 30 for name in names}
    data["departments"] = {name: {"agents": {"shifts": shifts}, "handle_time": "2m"} for name in names}
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data)
    assert any(
        p.path.endswith(".agents") and "at most 1000000" in p.message for p in caught.value.problems
    ), str(caught.value)


@pytest.mark.parametrize("text", ["1" * 100_000 + "!", "1" * 100_000 + "x", "." + "1" * 100_000 + "e"])
def test_a_long_duration_text_is_refused_in_linear_time(text: str) -> None:
    """The duration pattern once took quadratic time in the digits (16,000 of them: 10 s; these 100,000
    would take minutes). CPU time, so a busy machine cannot fail it."""
    started = time.process_time()
    with time_limit(5), pytest.raises(ValueError, match=r"expected a duration|unknown time unit"):
        parse_duration(text)
    assert time.process_time() - started < 0.5


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a: !!int x\n", "a tagged value cannot be read"),
        ("a: !!bool maybe\n", "a tagged value cannot be read"),
        ("a: !!float x\n", "a tagged value cannot be read"),
        ("!!int ", "a tagged value cannot be read"),  # PyYAML raises IndexError on an empty integer
        ("a: !!int\n", "a tagged value cannot be read"),
        ("a: " + "[" * 60 + "]" * 60 + "\n", "(line 1, column 53): nested too deeply"),
        ("a: &x [1]\nb: *x\n", "(line 2, column 4): YAML aliases"),
        ("a: \udcff\n", "unacceptable character"),  # a command-line byte that was not UTF-8
    ],
)
def test_yaml_that_pyyaml_cannot_construct_is_refused_with_a_position_or_reason(
    text: str, words: str
) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_yaml_text(text)
    (problem,) = caught.value.problems
    assert problem.message.startswith("not valid YAML") and words in problem.message, problem


# --- transfer networks: callers must be able to leave -------------------------------------------------------


@st.composite
def transfer_networks(draw: Any) -> dict[str, Any]:
    """Two to four departments, some with explicit transfer blocks (probabilities near and at 1, over 1,
    to unknown departments), with zero or tiny handle times so an endless loop would be a hang."""
    names = NAMES[: draw(st.integers(1, 4))]
    probability = st.sampled_from([0, 0.1, 0.5, 0.9, 0.99, 0.999999, 1 - 1e-10, 1, 1.0000001, 0.5000000001])
    departments = {}
    for name in names:
        department: dict[str, Any] = {
            "agents": draw(st.integers(0, 3)),
            "handle_time": draw(st.sampled_from([0, 1e-9, 1, "30s", {"dist": "exponential", "mean": "1m"}])),
        }
        if draw(st.integers(0, 3)):
            targets = draw(st.lists(st.sampled_from([*names, "nowhere"]), unique=True, max_size=3))
            department["transfer"] = {target: draw(probability) for target in targets}
        if draw(st.booleans()):
            department["resolves"] = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
        departments[name] = department
    reasons = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
    data: dict[str, Any] = {
        "name": "network",
        "duration": "20m",
        "interval": "10m",
        "drain": "20m",
        "arrivals": {"per_hour": draw(st.sampled_from([0, 30, 120])), "reasons": mix(draw, reasons)},
        "departments": departments,
        "routing": {"accuracy": draw(st.sampled_from([0.0, 0.5, 1.0]))},
    }
    if draw(st.booleans()):
        data["max_transfers"] = draw(st.integers(0, 3))
        data["on_max_transfers"] = draw(st.sampled_from(["escalate", "hang_up"]))
    if draw(st.booleans()):
        data["ivr"] = {"accuracy": draw(st.sampled_from([0.5, 1.0]))}
    return data


@settings(FAST, max_examples=200)
@given(data=transfer_networks())
def test_transfer_networks_are_refused_or_run_in_bounded_time(data: dict[str, Any]) -> None:
    """With zero handle times, a loop the loader let through would never end: the alarm would ring."""
    refused_or_ran(lambda: scenario_from_dict(data), data, "transfer network")


def network(**departments: Any) -> dict[str, Any]:
    return {
        "name": "network",
        "duration": "20m",
        "arrivals": {"per_hour": 60, "reasons": {"billing": 1.0}},
        "departments": {name: {"agents": 1, "handle_time": 0, **spec} for name, spec in departments.items()},
    }


@pytest.mark.parametrize(
    ("data", "path", "words"),
    [
        (
            network(billing={"transfer": {"technical": 1}}, technical={"transfer": {"billing": 1}}),
            "departments.billing.transfer",
            "a loop callers can never leave: billing, technical",
        ),
        (
            {
                **network(billing={"transfer": {"technical": 1}}, technical={"transfer": {"billing": 1}}),
                "max_transfers": 2,
            },
            "departments.billing.transfer",
            "a loop callers can never leave",
        ),
        (network(billing={"transfer": {"billing": 1.0}}), "departments.billing.transfer", "never leave"),
        (
            network(
                billing={"transfer": {"technical": 0.5, "sales": 0.5}},
                technical={"transfer": {"billing": 1}},
                sales={"transfer": {"technical": 1}},
            ),
            "departments.billing.transfer",
            "billing, technical, sales",
        ),
        (  # leaves with probability 1e-7 per visit: ten million visits on average
            network(billing={"transfer": {"technical": 1}}, technical={"transfer": {"billing": 0.9999999}}),
            "departments.billing.transfer",
            "visit about 2e+07 departments",
        ),
        (  # a transfer block sends every caller to technical, which sends them back to the department resolving them
            network(billing={"transfer": {"technical": 1}}, technical={}),
            "departments.billing.transfer",
            "callers about 'billing' can never leave: billing, technical",
        ),
        (
            network(billing={"transfer": {"technical": 0.6, "nowhere": 0.6}}, technical={}),
            "departments.billing.transfer",
            "probabilities must sum to at most 1, they sum to 1.2",
        ),
        (  # billing lets one in a million go; technical sends the rest back to billing, which resolves them
            network(billing={"transfer": {"technical": 0.999999}}, technical={}),
            "departments.billing.transfer",
            "callers about 'billing' sent here visit about 2e+06 departments",
        ),
    ],
    ids=[
        "two-cycle",
        "two-cycle-max-transfers",
        "self-loop",
        "three-cycle",
        "near-loop",
        "via-reason-routing",
        "over-1",
        "near-loop-via-reason-routing",
    ],
)
def test_loops_callers_cannot_leave_are_refused_naming_the_department(
    data: dict[str, Any], path: str, words: str
) -> None:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data)
    assert any(p.path == path and words in p.message for p in caught.value.problems), str(caught.value)


@pytest.mark.parametrize(
    "data",
    [
        network(billing={"transfer": {"technical": 1}}, technical={"transfer": {"billing": 0.9}}),
        {**network(billing={"transfer": {"technical": 1}}, technical={}), "max_transfers": 2},
        network(billing={"transfer": {"technical": 1}}, technical={"transfer": {}}),
        network(billing={"transfer": {"technical": 0.99}}, technical={}),
    ],
    ids=[
        "leaves-one-in-ten",
        "reason-routing-with-max-transfers",
        "empty-block-ends",
        "via-reason-routing-200",
    ],
)
def test_loops_with_an_exit_load_and_every_caller_leaves(data: dict[str, Any]) -> None:
    scenario = scenario_from_dict(data)
    with time_limit(RUN_SECONDS):
        kpis = replication_kpis(scenario, scenario.seed, 0)
    summary = kpis.summary
    assert summary["arrivals"] > 0
    assert summary["answered"] == summary["arrivals"] and summary["in_system"] == 0, summary


# --- YAML text --------------------------------------------------------------------------------------------

SEED_TEXTS = [EVERYTHING.read_text(encoding="utf-8"), TINY.read_text(encoding="utf-8")]
# fmt: off
SNIPPETS = [
    ": ", "- ", "{", "}", "[", "]", ",", "&a ", "*a", "&a [1, 2] ", "!!int ", "!!float ", "!!bool ",
    "!!binary ", "!!timestamp ", "!!set ", "!!omap ", "!!python/object:os.system ", "!!str ", "<<: ", "? ",
    "|\n", ">\n", "'", '"', "#", "\t", "\x00", "\ufeff", "\x85", "---\n", "...\n", "%YAML 1.1\n",
    "%TAG ! tag:x,2000:\n", ".nan", ".inf", "-.inf", "~", "null", "0x1F", "0o17", "1_000", "+.inf", "1e400",
    "10" * 200, "é", "💥", "\\u0000", "\r", "\r\n", "\u2028", "2024-13-45", "-", "%", "@", "`",
]
# fmt: on


@st.composite
def yaml_texts(draw: Any) -> bytes:
    """A scenario's text with random edits, in random encodings, or raw bytes."""
    if draw(st.integers(0, 9)) == 0:
        return bytes(draw(st.binary(max_size=400)))
    text = draw(st.sampled_from(SEED_TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(text)))
        operation = draw(st.sampled_from(["insert", "insert", "delete", "duplicate", "truncate"]))
        if operation == "insert":
            piece = draw(st.one_of(st.sampled_from(SNIPPETS), st.text(max_size=8)))
            text = text[:where] + piece + text[where:]
        elif operation == "delete":
            text = text[:where] + text[where + draw(st.integers(1, 40)) :]
        elif operation == "duplicate":
            lines = text.splitlines(keepends=True)
            if lines:
                line = draw(st.integers(0, len(lines) - 1))
                lines.insert(line, lines[line])
                text = "".join(lines)
        else:
            text = text[:where]
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-16", "latin-1", "bad-bytes"]))
    if encoding == "bad-bytes":
        raw = text.encode("utf-8", "surrogatepass")
        at_byte = draw(st.integers(0, len(raw)))
        return (
            raw[:at_byte]
            + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80"]))
            + raw[at_byte:]
        )
    return text.encode(encoding, "replace")


def parsed(path: Path) -> Any:
    """What the loader parses the file to, or None if it does not parse."""
    try:
        return parse_yaml_text(path.read_bytes().decode("utf-8"))
    except (ScenarioError, UnicodeDecodeError):
        return None


@settings(FAST, max_examples=400)
@given(content=yaml_texts())
def test_mutated_yaml_files_load_and_run_or_are_refused(scratch: Path, content: bytes) -> None:
    path = write_bytes(scratch, content)
    outcome = refused_or_ran(lambda: load_scenario(path), None, "yaml text")
    if outcome == "refused":
        with pytest.raises(ScenarioError) as caught:
            load_scenario(path)
        assert caught.value.source == str(path)
        check_refusal(caught.value, parsed(path))


def bomb(levels: int, width: int) -> str:
    lines = ['a0: &a0 "lol"']
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


SPECIAL_FILES = {
    "billion-laughs": (FUZZ / "billion-laughs.yaml").read_bytes(),
    "bomb-wide": bomb(3, 5000).encode(),
    "alias-merge": b"base: &b {agents: 1}\ndepartments:\n  x:\n    <<: *b\n    handle_time: 1\n",
    "anchor-only": b"name: &n x\nduration: 1h\narrivals: {per_hour: 1}\ndepartments: {a: {agents: 1, handle_time: 1}}\n",
    "deep-lists": b"[" * 100_000 + b"]" * 100_000,
    "deep-maps": b"a: {" * 20_000 + b"}" * 20_000,
    "deep-indent": "".join(f"{' ' * i}k{i}:\n" for i in range(3000)).encode(),
    "deep-200": (b"name: [" + b"[" * 200 + b"]" * 200 + b"]\n"),
    "long-string": b"name: " + b"x" * 1_000_000 + b"\n",
    "long-duration": b"duration: " + b"1" * 1_000_000 + b"!\n",
    "many-departments": (
        b"name: x\nduration: 1h\narrivals: {per_hour: 1, reasons: {d0: 1}}\ndepartments:\n"
        + b"".join(b"  d%d: {agents: 1, handle_time: 1}\n" % i for i in range(5_000))
    ),
    "too-large": b"# " + b"x" * 5_000_001 + b"\n",
    "empty": b"",
    "only-comment": b"# nothing\n",
    "null": b"~\n",
    "list": b"- 1\n- 2\n",
    "binary": bytes(range(256)) * 64,
    "nul-bytes": b"name: x\x00\nduration: 1h\n",
    "latin-1": "name: café\nduration: 1h\n".encode("latin-1"),
    "utf-16": "name: x\nduration: 1h\n".encode("utf-16"),
    "utf-8-bom": "\ufeff".encode() + TINY.read_bytes(),
    "two-documents": b"name: x\n---\nname: y\n",
    "tags": b"name: !!binary aGVsbG8=\nduration: !!int 12x\n",
    "bad-bool-tag": b"name: !!bool maybe\n",
    "bad-timestamp": b"start: !!timestamp 2024-13-45\n",
    "python-tag": b"name: !!python/object/apply:os.system [echo hi]\n",
    "huge-int": b"name: x\nduration: "
    + b"9" * 400
    + b"\narrivals: {per_hour: 1e308}\ndepartments: {a: {agents: 1, handle_time: 1}}\n",
    "nan-inf": b"name: x\nduration: .inf\narrivals: {per_hour: .nan}\ndepartments: {a: {agents: -.inf, handle_time: nan}}\n",
    "duplicate-keys": b"name: x\nname: y\n",
    "complex-key": b"? [a, b]\n: 1\n",
    "endless-loop": (FUZZ / "endless-loop.yaml").read_bytes(),
}


def peak_bytes(action: Any) -> int:
    """The most memory Python allocated at once while `action()` ran (tracemalloc: slow, so untimed)."""
    tracemalloc.start()
    try:
        with time_limit(10 * LOAD_SECONDS):
            action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", sorted(SPECIAL_FILES))
def test_special_files_are_refused_quickly_in_bounded_memory(scratch: Path, name: str) -> None:
    """Bombs, deep nesting, huge and strange files: refused (or loaded) within seconds and 300 MB."""
    path = write_bytes(scratch, SPECIAL_FILES[name])
    outcome = refused_or_ran(lambda: load_scenario(path), None, "special file", limit=LOAD_SECONDS)
    assert outcome == ("ran" if name in ("anchor-only", "utf-8-bom") else "refused")

    def load() -> None:
        with pytest.raises(ScenarioError):
            load_scenario(path)

    if outcome == "refused":
        peak = peak_bytes(load)
        assert peak < 300e6, f"{peak / 1e6:.0f} MB to read {len(SPECIAL_FILES[name])} bytes"


@pytest.mark.slow
def test_slow_the_largest_file_of_the_smallest_values_is_read_in_bounded_time(scratch: Path) -> None:
    """Just under the 5 MB limit, as many YAML values as fit: the worst case of parsing (some seconds)."""
    text = b"name: x\nvalues: [" + b"1," * 2_490_000 + b"1]\n"
    path = write_bytes(scratch, text)
    outcome = refused_or_ran(lambda: load_scenario(path), None, "special file", limit=6 * LOAD_SECONDS)
    assert outcome == "refused"


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/null", "/", "/nonexistent/x.yaml", "\x00x.yaml"])
def test_devices_directories_and_odd_names_are_refused(target: str) -> None:
    outcome = refused_or_ran(lambda: load_scenario(target), None, "special file", limit=LOAD_SECONDS)
    assert outcome == "refused"


# --- --set overrides -----------------------------------------------------------------------------------------

# fmt: off
OVERRIDE_PATHS = [
    "name", "duration", "interval", "seed", "start", "lines", "patience", "patience.mean",
    "arrivals.per_hour", "arrivals.reasons.billing", "arrivals.reasons", "departments.billing.agents",
    "departments.billing.agnts", "departments.billing.handle_time", "departments.billing.handle_time.mean",
    "departments.technical.agents", "departments.nowhere.agents", "departments.billing.transfer.technical",
    "departments.technical.transfer", "departments", "agent_groups.flex.skills.billing", "ivr.accuracy",
    "x.y.z", "name.first", "a..b", ".a", "a.", " ", "departments.billing.agents.per_interval", "é.ü",
    "a" * 300, ".".join(["a"] * 60),
]
# fmt: on
# fmt: off
OVERRIDE_VALUES = [
    "abc", "12", "-1", "0", "1e308", "9" * 400, ".nan", ".inf", "-.inf", "nan", "inf", "null", "", " ",
    "true", "[1, 2", "{per_interval: [1, 2]}", "{a: 1}", "[]", "{}", "'08:00'", "4m", "4 parsecs", "&a [1]",
    "*a", "&a [1, 2]\n---\n*a", "!!python/object:os.system x", "!!int x", "!!binary ???", "[" * 5000,
    "a: b: c", "- 1\n- 2", "\x00", "x" * 10_000, "{technical: 1}", "{billing: 1}",
    "{billing: 0.7, technical: 0.7}", "=", "a=b", "\t", "'unterminated", bomb(4, 30),
]
# fmt: on


@st.composite
def override_lists(draw: Any) -> list[str]:
    def one() -> str:
        if draw(st.integers(0, 9)) == 0:
            return draw(st.text(max_size=30))
        key = draw(
            st.one_of(st.sampled_from(OVERRIDE_PATHS), st.text(string.ascii_letters + "._ ", max_size=20))
        )
        value = draw(st.one_of(st.sampled_from(OVERRIDE_VALUES), st.text(max_size=12)))
        separator = draw(st.sampled_from(["=", "=", "=", "=", "=", "", " = ", "=="]))
        return f"{key}{separator}{value}"

    return [one() for _ in range(draw(st.integers(1, 3)))]


def check_override_refusal(overrides: list[str]) -> None:
    """The refusal's problems name YAML paths into the scenario with the overrides applied, or, for an
    override that cannot be applied, its own path (or the part of it that is a value, not a mapping)."""
    with pytest.raises(ScenarioError) as caught:
        load_scenario(TINY, overrides)
    base = yaml.safe_load(TINY.read_text(encoding="utf-8"))
    try:
        data = apply_overrides(base, overrides)
    except ScenarioError as error:
        assert list(error.problems) == list(caught.value.problems)
        (problem,) = error.problems
        keys = [o.partition("=")[0].strip() for o in overrides]
        assert (problem.path == "" and "--set" in problem.message) or any(
            key.startswith(problem.path.removesuffix("...")) or problem.path.startswith(key[:30])
            for key in keys
        ), f"{problem} is not about any of {keys}"
        return
    check_refusal(caught.value, data)


@settings(FAST, max_examples=400)
@given(overrides=override_lists())
def test_set_overrides_load_and_run_or_are_refused_at_their_path(overrides: list[str]) -> None:
    outcome = refused_or_ran(lambda: load_scenario(TINY, overrides), None, "--set")
    if outcome == "refused":
        check_override_refusal(overrides)


@pytest.mark.parametrize(
    "path",
    ["departments.billing.agents", "arrivals.per_hour", "duration", "departments.billing.handle_time.mean"],
)
def test_every_override_value_at_typical_paths(path: str) -> None:
    for value in OVERRIDE_VALUES:
        overrides = [f"{path}={value}"]
        if (
            refused_or_ran(functools.partial(load_scenario, TINY, overrides), None, "--set value")
            == "refused"
        ):
            check_override_refusal(overrides)


# --- CSV files: arrival traces and empirical distributions --------------------------------------------------

# fmt: off
CELLS = [
    "0", "1", "12.5", "-1", "-0", "1e308", "1e-320", "1e400", "nan", "NaN", "inf", "-inf", "", " ", "abc",
    "08:00", "08:00:05", "09:14:05.5", "23:59:59", "47:59:59", "48:00", "7:60", "1:2:3:4", "30s", "4m",
    "1.5h", "4 parsecs", "9" * 400, "x" * 200_000, '"quoted, comma"', '"multi\nline"', "\x00", "é", "billing",
    "technical", "sales", "nowhere", "\ufeffat",
]
# fmt: on


@st.composite
def csv_texts(draw: Any, header: str) -> bytes:
    """A CSV file: the right header or a wrong one (or none), rows of ordinary and nasty cells, in or out
    of order, sometimes a lot of them; or garbage bytes."""
    kind = draw(st.integers(0, 11))
    if kind == 0:
        return bytes(draw(st.binary(max_size=300)))
    if kind == 1:
        return draw(
            st.sampled_from([b"", b"\n", header.encode() + b"\n", b"\xff\xfe\x00a\x00t", b"\x00" * 100])
        )
    head = draw(
        st.sampled_from(
            [header, header, header, "when,reason", "", "\ufeff" + header, "at,reason,extra", "at"]
        )
    )
    ordinary = st.builds(lambda s: str(s), st.integers(0, 1799)) | st.builds(
        lambda m, s: f"08:{m:02d}:{s:02d}", st.integers(0, 29), st.integers(0, 59)
    )
    cell = st.one_of(ordinary, ordinary, st.sampled_from(CELLS))
    reason = st.sampled_from(["billing", "technical", "", "nowhere", " billing "])
    rows = draw(st.lists(st.tuples(cell, reason), max_size=12))
    if draw(st.booleans()):
        rows.sort(key=lambda row: row[0])
    text = head + "\n" + "".join(f"{a},{r}\n" for a, r in rows)
    if draw(st.integers(0, 19)) == 0:  # a big file: 10,000 arrivals (in order, within the day)
        text = head + "\n" + "".join(f"{i * 0.18:.2f},billing\n" for i in range(10_000))
    return text.encode("utf-8") if draw(st.integers(0, 9)) else text.encode("utf-16")


TRACE_BASE: dict[str, Any] = {
    "name": "traced",
    "start": "08:00",
    "duration": "30m",
    "interval": "10m",
    "arrivals": {"trace": None, "reasons": {"billing": 0.5, "technical": 0.5}},
    "departments": {
        "billing": {"agents": 2, "handle_time": "1m"},
        "technical": {"agents": 2, "handle_time": {"dist": "exponential", "mean": "2m"}},
    },
}


def with_file(field: tuple[str, ...], value: Any) -> dict[str, Any]:
    data = yaml.safe_load(yaml.safe_dump(TRACE_BASE))
    at(data, field[:-1])[field[-1]] = value
    return data


@settings(FAST, max_examples=150)
@given(content=csv_texts("at,reason"))
def test_arrival_trace_files_load_and_run_or_are_refused_at_arrivals_trace(
    scratch: Path, content: bytes
) -> None:
    path = write_bytes(scratch, content, ".csv")
    data = with_file(("arrivals", "trace"), path.name)
    if refused_or_ran(lambda: scenario_from_dict(data, base_dir=scratch), data, "trace csv") == "refused":
        with pytest.raises(ScenarioError) as caught:
            scenario_from_dict(data, base_dir=scratch)
        assert {p.path for p in caught.value.problems} == {"arrivals.trace"}, str(caught.value)


@settings(FAST, max_examples=150)
@given(content=csv_texts("seconds"))
def test_empirical_csv_files_load_and_run_or_are_refused_at_the_distribution(
    scratch: Path, content: bytes
) -> None:
    path = write_bytes(scratch, content, ".csv")
    data = with_file(("arrivals", "trace"), None)
    data["arrivals"] = {"per_hour": 60, "reasons": {"billing": 0.5, "technical": 0.5}}
    data["departments"]["billing"]["handle_time"] = {"dist": "empirical", "file": path.name}
    if refused_or_ran(lambda: scenario_from_dict(data, base_dir=scratch), data, "empirical csv") == "refused":
        with pytest.raises(ScenarioError) as caught:
            scenario_from_dict(data, base_dir=scratch)
        assert {p.path for p in caught.value.problems} == {"departments.billing.handle_time"}, str(
            caught.value
        )


@pytest.mark.parametrize(
    "name",
    ["", ".", "..", "/dev/zero", "/dev/urandom", "nowhere.csv", "a\x00b.csv", "x" * 5000],
    ids=["empty", "dot", "dotdot", "dev-zero", "dev-urandom", "missing", "nul", "long"],
)
@pytest.mark.parametrize(
    "field", [("arrivals", "trace"), ("departments", "billing", "handle_time")], ids=["trace", "empirical"]
)
def test_csv_references_to_devices_folders_and_odd_names_are_refused(
    scratch: Path, field: tuple[str, ...], name: str
) -> None:
    data = with_file(("arrivals", "trace"), "trace.csv" if field[0] != "arrivals" else name)
    if field[0] == "departments":
        data["arrivals"] = {"per_hour": 60, "reasons": {"billing": 0.5, "technical": 0.5}}
        data["departments"]["billing"]["handle_time"] = {"dist": "empirical", "file": name}
    outcome = refused_or_ran(
        lambda: scenario_from_dict(data, base_dir=scratch), data, "csv reference", limit=LOAD_SECONDS
    )
    assert outcome == "refused"
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data, base_dir=scratch)
    assert {p.path for p in caught.value.problems} == {".".join(field)}


def test_a_csv_over_the_size_limit_is_refused_without_reading_it(
    scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sim.model.dists

    monkeypatch.setattr(sim.model.dists, "MAX_CSV_BYTES", 1000)
    path = write_bytes(scratch, b"at\n" + b"1\n" * 1000, ".csv")
    data = with_file(("arrivals", "trace"), path.name)
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data, base_dir=scratch)
    assert [p.path for p in caught.value.problems] == ["arrivals.trace"]
    assert "at most 1000" in caught.value.problems[0].message


# --- the command line ---------------------------------------------------------------------------------------


def invoke(*args: str) -> Any:
    """The CLI in-process, without drawing reports (slow, and the report tests' business)."""
    with mock.patch.object(sim.output.results, "begin_fill_report", lambda *args, **kwargs: lambda: None):
        return CliRunner().invoke(app, list(args))


def check_cli(result: Any, problems: Sequence[Any]) -> None:
    """A refused input: exit status 2, each problem printed, no traceback, and a clean SystemExit."""
    output = result.output
    assert "Traceback" not in output, output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2, (result.exit_code, output)
    flat = " ".join(output.split())
    for problem in problems:
        assert " ".join(str(problem).split()) in flat, f"{problem} not in {output}"


CLI_CASES = {
    "bomb": (SPECIAL_FILES["billion-laughs"], []),
    "binary": (SPECIAL_FILES["binary"], []),
    "deep": (SPECIAL_FILES["deep-lists"], []),
    "latin-1": (SPECIAL_FILES["latin-1"], []),
    "empty": (b"", []),
    "endless-loop": (SPECIAL_FILES["endless-loop"], []),
    "nan": (SPECIAL_FILES["nan-inf"], []),
    "set-abc": (TINY.read_bytes(), ["departments.billing.agents=abc"]),
    "set-no-equals": (TINY.read_bytes(), ["departments.billing.agents"]),
    "set-unknown-path": (TINY.read_bytes(), ["departments.nowhere.handle_time.mean=4m"]),
    "set-bomb": (TINY.read_bytes(), [f"arrivals.reasons={bomb(4, 30)}"]),
    "set-deep": (TINY.read_bytes(), ["name=" + "[" * 5000]),
    "set-huge-int": (TINY.read_bytes(), ["arrivals.per_hour=" + "9" * 400]),
}


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("case", sorted(CLI_CASES))
def test_cli_refuses_bad_input_with_exit_2_and_no_traceback(scratch: Path, command: str, case: str) -> None:
    content, overrides = CLI_CASES[case]
    path = write_bytes(scratch, content)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, overrides)
    sets = [f"--set={o}" for o in overrides]
    args = (
        ["validate", str(path), *sets]
        if command == "validate"
        else ["run", str(path), *sets, "--quiet", "--out", str(scratch / f"out-{next(_serial)}")]
    )
    TALLY["generated"] += 1
    TALLY["generated cli"] += 1
    with time_limit(RUN_SECONDS):
        check_cli(invoke(*args), caught.value.problems)
    TALLY["refused"] += 1
    TALLY["refused cli"] += 1


@settings(FAST, max_examples=40)
@given(content=yaml_texts(), overrides=st.one_of(st.just([]), override_lists()))
def test_cli_on_fuzzed_files_and_overrides(scratch: Path, content: bytes, overrides: list[str]) -> None:
    """`validate` (and, for what it refuses, `run`) on fuzzed input: 0 and 'ok', or 2 with the problems."""
    path = write_bytes(scratch, content)
    sets = [f"--set={o}" for o in overrides]
    TALLY["generated"] += 1
    TALLY["generated cli"] += 1
    with time_limit(RUN_SECONDS):
        try:
            load_scenario(path, overrides)
        except ScenarioError as error:
            check_cli(invoke("validate", str(path), *sets), error.problems)
            check_cli(
                invoke("run", str(path), *sets, "--quiet", "--out", str(scratch / f"out-{next(_serial)}")),
                error.problems,
            )
            TALLY["refused"] += 1
            TALLY["refused cli"] += 1
            return
        result = invoke("validate", str(path), *sets)
    assert result.exit_code == 0 and "ok" in result.output and "Traceback" not in result.output, result.output
    TALLY["ran"] += 1  # validated; the simulation itself is fuzzed above
    TALLY["ran cli"] += 1


def test_cli_file_names_that_look_like_markup_are_printed_as_they_are(scratch: Path) -> None:
    folder = scratch / "odd["
    folder.mkdir(exist_ok=True)
    path = folder / "b].yaml"  # the path reads '.../odd[/b].yaml'
    path.write_bytes(b"name: x\n")
    check_cli(invoke("validate", str(path)), [])
    assert str(path) in " ".join(invoke("validate", str(path)).output.split())


# --- slow: many thousands more ------------------------------------------------------------------------------

FRESH = os.environ.get("CALLSIM_FUZZ_FRESH") == "1"
SLOW = settings(FAST, max_examples=4000, derandomize=not FRESH)
"""CI tries the same inputs every run, so a red CI means a change broke something, not a lucky draw;
`CALLSIM_FUZZ_FRESH=1 pytest -m slow` explores new inputs each run (how the last faults were found)."""


@pytest.mark.slow
@SLOW
@given(
    case=st.one_of(
        scenario_dicts().map(lambda d: ("dict", d, ())),
        mutated_scenarios().map(lambda c: ("dict", c[0], ())),
        transfer_networks().map(lambda d: ("dict", d, ())),
        override_lists().map(lambda o: ("set", None, o)),
    )
)
def test_slow_many_more_scenarios_and_overrides(case: tuple[str, Any, Sequence[str]]) -> None:
    kind, data, overrides = case
    if kind == "dict":
        refused_or_ran(lambda: scenario_from_dict(data), data, "slow scenario")
    elif refused_or_ran(lambda: load_scenario(TINY, list(overrides)), None, "slow --set") == "refused":
        check_override_refusal(list(overrides))


@pytest.mark.slow
@SLOW
@given(content=yaml_texts(), trace=csv_texts("at,reason"), values=csv_texts("seconds"))
def test_slow_many_more_files(scratch: Path, content: bytes, trace: bytes, values: bytes) -> None:
    path = write_bytes(scratch, content)
    if refused_or_ran(lambda: load_scenario(path), None, "slow yaml text") == "refused":
        with pytest.raises(ScenarioError) as caught:
            load_scenario(path)
        check_refusal(caught.value, parsed(path))
    data = with_file(("arrivals", "trace"), write_bytes(scratch, trace, ".csv").name)
    data["departments"]["billing"]["handle_time"] = {
        "dist": "empirical",
        "file": write_bytes(scratch, values, ".csv").name,
    }
    if refused_or_ran(lambda: scenario_from_dict(data, base_dir=scratch), data, "slow csv") == "refused":
        with pytest.raises(ScenarioError) as caught:
            scenario_from_dict(data, base_dir=scratch)
        assert {p.path for p in caught.value.problems} <= {
            "arrivals.trace",
            "departments.billing.handle_time",
        }


# --- the tally ---------------------------------------------------------------------------------------------


def tally_line() -> str:
    kinds = sorted({key.partition(" ")[2] for key in TALLY if key.startswith("generated ")})
    detail = "; ".join(
        f"{kind}: {TALLY[f'generated {kind}']} ({TALLY[f'refused {kind}']} refused, {TALLY[f'ran {kind}']} ran)"
        for kind in kinds
    )
    return (
        f"fuzz tally: {TALLY['generated']} inputs generated, {TALLY['refused']} refused with a ScenarioError, "
        f"{TALLY['ran']} loaded and ran [{detail}]"
    )


@pytest.fixture(scope="module", autouse=True)
def print_the_tally(request: pytest.FixtureRequest) -> Iterator[None]:
    """After this module's tests (whichever ran: the default ones or `-m slow`), one line on the terminal."""
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None and TALLY["generated"]:
        with capture.global_and_fixture_disabled():  # as capsys.disabled() does
            reporter.write_line("")
            reporter.write_line(tally_line())


def test_zz_tally_adds_up_and_memory_stayed_bounded() -> None:
    """Runs last (pytest keeps file order): every input generated ended one way, and the process never
    held more than 2 GB (the bombs and huge inputs are bounded)."""
    outcomes = {key: value for key, value in TALLY.items() if " " not in key and key != "generated"}
    assert TALLY["generated"] == sum(outcomes.values()), TALLY
    assert set(outcomes) <= {"refused", "ran"}, outcomes
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert peak_mb < 2048, f"the test process peaked at {peak_mb:.0f} MB"
