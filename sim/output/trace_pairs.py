"""One caller, two policies: run the scenario as given (A) and with a change (B) on the same seed, pick the
caller in A, find the same person in B, and tell both journeys story beside story and timeline above
timeline, with what differed named.

The same seed gives the same callers under both (common random numbers: arrivals, reasons and patience come
from their own named streams, drawn up front in arrival order), so call k of A is call k of B, the same
person. A change that alters who calls (a volume, a busier day) breaks that: then B's caller is the one with
the same reason who arrived nearest in time, and the telling says so."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from sim.analysis.tables import calls_table
from sim.analysis.trace_picks import Criteria, queue_time
from sim.engine.arrivals import Callers, draw_callers
from sim.engine.day import RunResult, simulate
from sim.model.durations import format_clock
from sim.model.scenario import Scenario
from sim.model.streams import Streams
from sim.output.story import Line, ordinal, plural, spoken, tell
from sim.output.timeline import segments
from sim.output.trace import pick
from sim.output.trace_picture import Panel, figure, save

DIFFERS = "*"
"""The mark before a fact or a story line that is not the same under A and B."""


@dataclass(frozen=True)
class Telling:
    """One side's telling: its label (`A: as given`), run, call and story, and the caller's facts."""

    label: str
    result: RunResult
    call_id: int
    lines: list[Line]
    facts: dict[str, str]
    """What a trainer compares, in order: arrived, reason, patience, outcome, waited, agents, time."""


@dataclass(frozen=True)
class TracedPair:
    """The same caller under A and B: both tellings, how the caller was picked (in A) and found (in B),
    whether B's is the same person, the texts (console and Markdown) and the picture if one was drawn."""

    a: Telling
    b: Telling
    note: str
    matched: str
    same_caller: bool
    title: str
    text: str
    markdown: str
    picture: Path | None


def day_callers(result: RunResult) -> Callers:
    """The day's callers of a run as they were drawn (arrival, reason, patience; index i is call i + 1)."""
    return draw_callers(result.scenario, Streams(result.seed, result.replication), result.busyness)


def _patience(callers: Callers, call_id: int) -> float | None:
    """A day caller's patience; None for a later attempt (a redial is drawn when it happens)."""
    return float(callers.patience[call_id - 1]) if call_id <= len(callers) else None


def _row(result: RunResult, call_id: int) -> dict[str, Any]:
    """The calls table's row of `call_id`, as a dict."""
    calls = calls_table(result)
    return {str(key): value for key, value in calls[calls["call_id"] == call_id].iloc[0].items()}


def facts(result: RunResult, call_id: int, callers: Callers) -> dict[str, str]:
    """The caller's facts as a trainer compares them, each as text."""
    row = _row(result, call_id)
    start = result.scenario.start
    patience = _patience(callers, call_id)
    if patience is None:
        patience_text = f"drawn when calling again (attempt {int(row['attempt'])})"
    else:
        patience_text = "never hangs up" if math.isinf(patience) else spoken(patience)
    waited = float(queue_time(result).get(call_id, 0.0))
    ended = row["ended_at"]
    stayed = (
        f"{spoken(ended - row['arrived_at'])} (until {format_clock(start + ended, True)})"
        if not np.isnan(ended)
        else "still there at the stop"
    )
    return {
        "call": f"{call_id:,}",
        "arrived": format_clock(start + row["arrived_at"], True),
        "reason": str(row["reason"]),
        "patience": patience_text,
        "outcome": str(row["outcome"]),
        "waited in queues": spoken(waited),
        "agents met": str(int(row["agents_touched"])),
        "time in the centre": stayed,
    }


def _same_arrivals(a: Callers, b: Callers) -> bool:
    return (
        len(a) == len(b)
        and bool(np.array_equal(a.arrived_at, b.arrived_at))
        and bool(np.array_equal(a.reason, b.reason))
    )


def match(a: RunResult, b: RunResult, call_id: int) -> tuple[int, str, bool]:
    """B's call for A's `call_id`, a sentence saying how it was found, and whether it is the same person
    (same arrival, reason and patience). A later attempt (a redial) is matched to the same caller's same
    attempt in B, or their last one there."""
    callers_a, callers_b = day_callers(a), day_callers(b)
    calls_b = calls_table(b)
    row = _row(a, call_id)
    first_a, attempt = int(row["caller_id"]), int(row["attempt"])
    start = a.scenario.start
    if _same_arrivals(callers_a, callers_b):
        first_b = first_a
        how = "the same caller under both (common random numbers: same arrival, reason and patience)"
    else:
        same_reason = np.flatnonzero(callers_b.reason == callers_a.reason[first_a - 1])
        if len(same_reason) == 0:
            raise ValueError(f"under B nobody calls about {row['reason']}: no caller to compare with")
        gaps = np.abs(callers_b.arrived_at[same_reason] - callers_a.arrived_at[first_a - 1])
        first_b = int(same_reason[int(np.argmin(gaps))]) + 1
        how = (
            f"the change alters who calls (A has {len(callers_a):,} callers, B {len(callers_b):,}), so B's "
            f"caller is the one about {row['reason']} who arrived nearest in time: call {first_b:,} at "
            f"{format_clock(start + callers_b.arrived_at[first_b - 1], True)} (A's at "
            f"{format_clock(start + callers_a.arrived_at[first_a - 1], True)})"
        )
    call_b = first_b
    if attempt > 1:
        attempts = calls_b[calls_b["caller_id"] == first_b].sort_values("attempt")
        again = attempts[attempts["attempt"] == attempt]
        if again.empty:
            last = attempts.iloc[-1]
            call_b = int(last["call_id"])
            how += (
                f"; under B this caller did not call an {ordinal(attempt)} time, so B shows their last call "
                f"(attempt {int(last['attempt'])})"
            )
        else:
            call_b = int(again["call_id"].iloc[0])
            how += f"; attempt {attempt} of this caller is call {call_id:,} in A and {call_b:,} in B"
    same = (
        call_b <= len(callers_b)
        and call_id <= len(callers_a)
        and callers_a.arrived_at[call_id - 1] == callers_b.arrived_at[call_b - 1]
        and callers_a.reason[call_id - 1] == callers_b.reason[call_b - 1]
        and _patience(callers_a, call_id) == _patience(callers_b, call_b)
    )
    return call_b, how, bool(same)


def _marked(lines: list[Line], other: list[Line], start: float) -> list[str]:
    """Each line as `clock  text`, marked where the other story has no such line at that time."""
    theirs = {(round(line.at, 3), line.text) for line in other}
    return [
        f"{' ' if (round(line.at, 3), line.text) in theirs else DIFFERS} "
        f"{format_clock(start + line.at, True)}  {line.text}"
        for line in lines
    ]


def _facts_table(a: Telling, b: Telling) -> list[tuple[str, str, str, bool]]:
    return [(key, a.facts[key], b.facts[key], a.facts[key] != b.facts[key]) for key in a.facts]


def render_text(pair_title: str, note: str, matched: str, a: Telling, b: Telling) -> str:
    """The console telling: the change, how the caller was chosen, the facts side by side, then A's story
    and B's story, with `*` before what differs."""
    start = a.result.scenario.start
    width = max(len(key) for key in a.facts) + 2
    column = max(len(a.label), *(len(value) for value in a.facts.values())) + 2
    table = [f"  {'':<{width}}{a.label:<{column}}{b.label}"]
    for key, value_a, value_b, differs in _facts_table(a, b):
        table.append(f"{DIFFERS if differs else ' '} {key:<{width}}{value_a:<{column}}{value_b}")
    parts = [pair_title]
    if note:
        parts.append(f"In A, {note}.")
    parts += [f"B: {matched}.", "", *table, ""]
    parts += [f"{a.label} (call {a.call_id:,})", *_marked(a.lines, b.lines, start), ""]
    parts += [f"{b.label} (call {b.call_id:,})", *_marked(b.lines, a.lines, start), ""]
    if a.facts == b.facts and _marked(a.lines, b.lines, start) == _marked(b.lines, a.lines, start):
        parts.append("This caller's journey is the same under A and B: the change did not reach them.")
    else:
        parts.append(f"({DIFFERS} marks what is not the same under A and B)")
    return "\n".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(pair_title: str, note: str, matched: str, a: Telling, b: Telling) -> str:
    """The telling as Markdown: the facts, then the two stories in two columns, line beside line."""
    start = a.result.scenario.start
    out = [f"# {_cell(pair_title)}", ""]
    if note:
        out += [f"In A, {note}.", ""]
    out += [f"B: {matched}.", "", f"| | {_cell(a.label)} | {_cell(b.label)} |", "| --- | --- | --- |"]
    for key, value_a, value_b, differs in _facts_table(a, b):
        out.append(f"| {'**' + key + '**' if differs else key} | {_cell(value_a)} | {_cell(value_b)} |")
    out += [
        "",
        f"| {_cell(a.label)} (call {a.call_id:,}) | {_cell(b.label)} (call {b.call_id:,}) |",
        "| --- | --- |",
    ]
    left, right = _marked(a.lines, b.lines, start), _marked(b.lines, a.lines, start)
    for index in range(max(len(left), len(right))):
        cells = [side[index].strip() if index < len(side) else "" for side in (left, right)]
        out.append(f"| {_cell(cells[0])} | {_cell(cells[1])} |")
    out += ["", f"`{DIFFERS}` marks a line the other story does not have at that time."]
    return "\n".join(out) + "\n"


def labels(overrides: list[str], change: list[str]) -> tuple[str, str]:
    """`A: as given` (or A's own `--set`s) and `B: <the change>`."""
    return f"A: {'; '.join(overrides) or 'as given'}", f"B: {'; '.join(change)}"


def trace_pair(
    scenario_a: Scenario,
    scenario_b: Scenario,
    label_a: str,
    label_b: str,
    seed: int | None = None,
    call_id: int | None = None,
    criteria: Criteria | None = None,
    nth: int = 1,
    longest: bool = False,
    picture: Path | None = None,
    slides: bool = False,
) -> TracedPair:
    """Run A and B on one seed, pick the caller in A (`sim.output.trace.pick`), find them in B (`match`),
    and tell both; with `picture`, draw timeline A above timeline B there, titled with the change."""
    if scenario_a == scenario_b:
        raise ValueError("the change leaves the scenario as it was: A and B would be the same run")
    seed = scenario_a.seed if seed is None else seed
    result_a, result_b = simulate(scenario_a, seed), simulate(scenario_b, seed)
    chosen, note = pick(result_a, call_id, criteria, nth, longest)
    call_b, matched, same = match(result_a, result_b, chosen)
    tellings = []
    for label, result, call in ((label_a, result_a, chosen), (label_b, result_b, call_b)):
        lines = tell(
            result.events, result.agents, result.scenario, result.reason_names, call, result.ended_at
        )
        tellings.append(Telling(label, result, call, lines, facts(result, call, day_callers(result))))
    a, b = tellings
    who = f"call {chosen:,} ({a.facts['reason']}, arrived {a.facts['arrived']})"
    title = (
        f"{label_a}  |  {label_b}\n{scenario_a.name}: {who}{', the same caller under both' if same else ''}"
    )
    text = render_text(title, note, matched, a, b)
    markdown = render_markdown(title.replace("\n", ": "), note, matched, a, b)
    pair = TracedPair(a, b, note, matched, same, title, text, markdown, None)
    if picture is None:
        return pair
    return replace(pair, picture=save(pair_figure(pair, slides), picture))


def pair_figure(pair: TracedPair, slides: bool = False) -> Figure:
    """Timeline A above timeline B on one clock, titled with the change and the caller (`slides`: large
    type, round clock ticks, every segment visible)."""
    panels = []
    for telling in (pair.a, pair.b):
        result = telling.result
        found = segments(
            result.events, result.agents, result.scenario, telling.call_id, result.ended_at, every=slides
        )
        summary = (
            f"{telling.label}: call {telling.call_id:,}, {telling.facts['outcome']}, waited "
            f"{telling.facts['waited in queues']}, {plural(int(telling.facts['agents met']), 'agent')}"
        )
        panels.append(Panel(summary, found))
    return figure(panels, pair.a.result.scenario.start, pair.title, slides)
