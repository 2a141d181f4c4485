"""For trainers: one campaign record's story (`callsim trace --record 17`, or `--pick right-party`,
`nuisance`, `not-reached`, `dialled-again`): each dial, who dialled it (an agent idle while more than the
blending threshold were, or the predictive dialler with nobody reserved), whether the right person answered,
the talk, or a nuisance call; and its timeline."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from sim.analysis.trace_records import DIALLER_EVENTS, describe, matching_records, records_table
from sim.engine.day import RunResult, simulate
from sim.model.scenario import Scenario
from sim.output.story import Line, agent_names, ordinal, plural, spoken
from sim.output.timeline import Segment, draw
from sim.output.trace import Traced


def tell_record(
    events: pd.DataFrame,
    agents: pd.DataFrame,
    scenario: Scenario,
    record: int,
    stopped_at: float | None = None,
) -> list[Line]:
    """The record's story, one line per step, from the dialler's events (and the agents' `outbound_done`
    that ends each talk); a talk still going on ends the story at `stopped_at` (the end of the run)."""
    outbound = scenario.outbound
    assert outbound is not None
    names = agent_names(agents)
    dialler = events[(events["call_id"] < 0) & events["event"].isin(DIALLER_EVENTS)]
    own = dialler[dialler["detail"] == float(record)]
    done = events[(events["event"] == "outbound_done") & (events["detail"] > 0)]
    lines: list[Line] = []
    dials = 0
    dialled_at = 0.0
    rows = zip(own["t"].tolist(), own["event"].astype(str).tolist(), own["agent_id"].tolist(), strict=True)
    for t, event, agent_id in rows:
        who = names.get(agent_id, f"agent {agent_id}")
        if event == "dial_out":
            dials += 1
            dialled_at = t
            again = "" if dials == 1 else f" again ({ordinal(dials)} dial of {outbound.attempts})"
            rule = f"more than {plural(outbound.threshold, 'agent')} of {outbound.pool} are idle"
            if agent_id >= 0:
                lines.append(Line(t, f"{who} dials the record{again}: {rule}, so an idle one dials."))
            else:
                lines.append(Line(t, f"the dialler dials the record{again} with nobody reserved: {rule}."))
        elif event == "no_answer":
            spent = dials >= outbound.attempts
            then = (
                f"the record is spent after {plural(dials, 'dial')}"
                if spent
                else "it goes back to the end of the list"
            )
            lines.append(Line(t, f"no answer from the right person after {spoken(t - dialled_at)}: {then}."))
        elif event == "right_party":
            talks = f"; {who} talks" if agent_id >= 0 else ""
            lines.append(Line(t, f"the right person answers after {spoken(t - dialled_at)}{talks}."))
            if agent_id >= 0:
                lines.append(_finished(done, agent_id, t, who, stopped_at))
        elif event == "connect":
            lines.append(Line(t, f"put through to {who}, idle the longest, who talks."))
            lines.append(_finished(done, agent_id, t, who, stopped_at))
        elif event == "nuisance":
            lines.append(
                Line(
                    t,
                    "no agent is free to take the answer: the line is dropped, a nuisance call. The record is spent.",
                )
            )
    ended = any(event in ("right_party", "nuisance") for event in own["event"].astype(str))
    if lines and not ended and dials < outbound.attempts:
        lines.append(
            Line(max(lines[-1].at, scenario.duration), "still on the list at the close: not reached.")
        )
    return sorted(lines, key=lambda line: line.at)


def _finished(done: pd.DataFrame, agent_id: int, talk_at: float, who: str, stopped_at: float | None) -> Line:
    """The agent's first `outbound_done` after the talk began: the talk and wrap-up are over."""
    after = done[(done["agent_id"] == agent_id) & (done["t"] >= talk_at)]
    if after.empty:
        return Line(max(talk_at, stopped_at or talk_at), f"{who} is still on the call when the run stops.")
    t = float(after["t"].iloc[0])
    return Line(t, f"{who} finishes the call and its wrap-up after {spoken(t - talk_at)} and is free again.")


def record_segments(
    events: pd.DataFrame, agents: pd.DataFrame, record: int, stopped_at: float
) -> list[Segment]:
    """The record's timeline: a row per agent (or `dialler`), a `campaign dial` bar from each dial to the
    right person's answer, a `campaign miss` for a dial that ended otherwise (or in a nuisance call), `talk`
    from the answer to the end of the wrap-up."""
    names = agent_names(agents)
    own = events[
        (events["call_id"] < 0) & events["event"].isin(DIALLER_EVENTS) & (events["detail"] == float(record))
    ]
    done = events[(events["event"] == "outbound_done") & (events["detail"] > 0)]
    found: list[Segment] = []
    row, dialled_at = "dialler", 0.0
    for t, event, agent_id in zip(
        own["t"].tolist(), own["event"].astype(str).tolist(), own["agent_id"].tolist(), strict=True
    ):
        if event == "dial_out":
            row, dialled_at = names.get(agent_id, "dialler"), t
        elif event in ("no_answer", "nuisance"):
            found.append(Segment(row, "campaign miss", dialled_at, t))
        elif event == "right_party":
            found.append(Segment(row, "campaign dial", dialled_at, t))
        if (event == "right_party" and agent_id >= 0) or event == "connect":
            after = done[(done["agent_id"] == agent_id) & (done["t"] >= t)]
            end = float(after["t"].iloc[0]) if len(after) else stopped_at
            found.append(Segment(names.get(agent_id, f"agent {agent_id}"), "talk", t, end))
    return found


def pick_record(result: RunResult, record: int | None, picks: Sequence[str], nth: int = 1) -> tuple[int, str]:
    """The record to tell and how it was chosen: the one named (it must have been dialled), else the `nth`
    (by first dial) that went through every pick."""
    table = records_table(result)
    if record is not None:
        if record not in set(table["record"].tolist()):
            listed = result.scenario.outbound.list if result.scenario.outbound is not None else 0
            raise ValueError(
                f"record {record} was never dialled in this run ({len(table):,} of {listed:,} records were)"
            )
        return record, ""
    pool = matching_records(result, picks)
    if pool.empty:
        raise ValueError(f"none of the {len(table):,} records dialled in this run {describe(picks)}")
    if nth > len(pool):
        raise ValueError(
            f"only {len(pool):,} of the {len(table):,} records dialled {describe(picks)}; --nth {nth} asks for more"
        )
    chosen = int(pool["record"].iloc[nth - 1])
    return (
        chosen,
        f"{len(pool):,} of {len(table):,} records dialled {describe(picks)}; showing record {chosen:,} (the {ordinal(nth)} dialled)",
    )


def trace_record(
    scenario: Scenario, seed: int | None, record: int | None, picks: Sequence[str] = (), nth: int = 1
) -> Traced:
    """Simulate the day and tell one campaign record's story (`Traced.record` set: drawn by `draw_record`)."""
    if scenario.outbound is None:
        raise ValueError("this scenario dials no campaign (outbound:), so it has no records to trace")
    result = simulate(scenario, seed)
    chosen, note = pick_record(result, record, picks, nth)
    lines = tell_record(result.events, result.agents, scenario, chosen, result.ended_at)
    from sim.model.durations import format_clock

    text = "\n".join(
        [f"Record {chosen}"]
        + [f"{format_clock(scenario.start + line.at, True)}  {line.text}" for line in lines]
    )
    return Traced(chosen, lines, text, None, note, result, record=True)


def draw_record(traced: Traced, picture: Path) -> Path:
    """Save the record's timeline as a PNG at `picture`."""
    result = traced.result
    assert result is not None
    found = record_segments(result.events, result.agents, traced.call_id, result.ended_at)
    return draw(found, result.scenario, f"{result.scenario.name}: campaign record {traced.call_id}", picture)
