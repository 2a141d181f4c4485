"""For trainers: run a scenario, pick one caller (by id, the longest chain, a reason, or what happened to
them: `sim.analysis.trace_picks`), tell their story and draw their timeline."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from sim.analysis.tables import calls_table
from sim.analysis.trace_channels import contacts_word, noun
from sim.analysis.trace_picks import Criteria, matching
from sim.engine.day import RunResult, simulate
from sim.model.scenario import Scenario
from sim.output.story import Line, choose_call, ordinal, render, tell
from sim.output.timeline import draw, segments
from sim.output.trace_picture import Panel, figure, save


@dataclass(frozen=True)
class Traced:
    """One caller's journey: the story lines, the text, the picture if one was drawn, and how the caller was
    chosen (`412 of 2,318 calls took a callback from hold; showing call 1,207 (the first)`; empty when the
    call was named)."""

    call_id: int
    lines: list[Line]
    text: str
    picture: Path | None
    note: str = ""
    result: RunResult | None = field(default=None, repr=False, compare=False)
    """The run the caller was in (to draw the timeline later: `draw_traced`)."""
    record: bool = False
    """A campaign record's story (`sim.output.trace_records`; `call_id` is the record), not a caller's."""

    @property
    def markdown(self) -> str:
        """The story as Markdown (how the caller was chosen, then the clock-stamped lines)."""
        head = f"In this run, {self.note}.\n\n" if self.note else ""
        return f"{head}```\n{self.text}\n```\n"


def _longest_first(pool: pd.DataFrame, stopped_at: float) -> pd.DataFrame:
    """`pool` ranked as `choose_call` ranks: most agents, then most time in the system, then lowest id."""
    spent = pool["ended_at"].fillna(stopped_at) - pool["arrived_at"]
    return pool.assign(spent=spent).sort_values(
        ["agents_touched", "spent", "call_id"], ascending=[False, False, True]
    )


def pick(
    result: RunResult,
    call_id: int | None = None,
    criteria: Criteria | None = None,
    nth: int = 1,
    longest: bool = False,
) -> tuple[int, str]:
    """The call to tell and a sentence saying how it was chosen. A named call is told as it is; otherwise
    the calls meeting `criteria` are ranked (the first to arrive when `criteria` asks for what happened,
    else, or with `longest`, the longest chain first: most agents, most time, lowest id) and the `nth` is
    told. Raises ValueError naming the criteria when no call (or fewer than `nth`) meets them."""
    criteria = criteria or Criteria()
    calls = calls_table(result)
    if call_id is not None:
        return choose_call(calls, call_id), ""
    if nth < 1:
        raise ValueError(f"--nth counts from 1, not {nth}")
    pool = matching(result, criteria)
    total = len(calls)
    # `contacts` in a centre of several channels, or when picking one (`12 of 900 contacts were chats`)
    word = "contacts" if criteria.channel is not None else contacts_word(result)
    place = "" if nth == 1 else f"{ordinal(nth)} "
    if not criteria.filters and criteria.reason is None and criteria.channel is None:
        if nth > total:
            raise ValueError(f"the run has {total:,} {word}; --nth {nth} asks for more")
        chosen = int(_longest_first(calls, result.ended_at)["call_id"].iloc[nth - 1])
        return chosen, f"showing {noun(result, chosen).lower()} {chosen:,} of {total:,}: the {place}longest chain"
    if pool.empty:
        raise ValueError(f"none of the {total:,} {word} in this run {criteria.describe()}")
    if nth > len(pool):
        raise ValueError(
            f"only {len(pool):,} of the {total:,} {word} {criteria.describe()}; --nth {nth} asks for more"
        )
    by_length = longest or not criteria.filters
    ranked = _longest_first(pool, result.ended_at) if by_length else pool
    chosen = int(ranked["call_id"].iloc[nth - 1])
    which = f"the {place}longest chain" if by_length else f"the {ordinal(nth)}"
    matched = f"{len(pool):,} of {total:,} {word} {criteria.describe()}"
    return chosen, f"{matched}; showing {noun(result, chosen).lower()} {chosen:,} ({which})"


def title_of(result: RunResult, call_id: int) -> str:
    """`busy-day: call 12 (billing), 2 agent(s), outcome answered`: the picture's title."""
    row = calls_table(result).set_index("call_id").loc[call_id]
    name = result.scenario.name
    what = noun(result, call_id).lower()
    return f"{name}: {what} {call_id} ({row['reason']}), {row['agents_touched']} agent(s), outcome {row['outcome']}"


def trace(
    scenario: Scenario,
    seed: int | None = None,
    call_id: int | None = None,
    reason: str | None = None,
    picture: Path | None = None,
    *,
    criteria: Criteria | None = None,
    nth: int = 1,
    longest: bool = False,
    slides: bool = False,
) -> Traced:
    """Simulate the day and tell one caller's journey: the call named, else the `nth` meeting `criteria`
    (default: the caller with the longest chain). `reason` is a criterion too. With `picture`, draw the
    timeline there (`slides`: large type, round clock ticks, every segment visible)."""
    criteria = criteria or Criteria(reason=reason)
    if reason is not None and criteria.reason != reason:
        raise ValueError("give the reason once: as `reason` or in `criteria`")
    if criteria.reason is not None and criteria.reason not in scenario.reason_mix():
        raise ValueError(
            f"no reason {criteria.reason!r}; callers call about {', '.join(scenario.reason_mix())}"
        )
    result = simulate(scenario, seed)
    chosen, note = pick(result, call_id, criteria, nth, longest)
    lines = tell(result.events, result.agents, scenario, result.reason_names, chosen, result.ended_at)
    text = render(lines, scenario, chosen, noun(result, chosen))
    traced = Traced(chosen, lines, text, None, note, result)
    return traced if picture is None else replace(traced, picture=draw_traced(traced, picture, slides))


def draw_traced(traced: Traced, picture: Path, slides: bool = False) -> Path:
    """Save the traced caller's timeline as a PNG at `picture` (`slides`: large type, round clock ticks,
    every segment visible) and return where it went."""
    result = traced.result
    if result is None:
        raise ValueError("this telling kept no run to draw from")
    scenario = result.scenario
    found = segments(result.events, result.agents, scenario, traced.call_id, result.ended_at, every=slides)
    title = title_of(result, traced.call_id)
    if slides:
        return save(figure([Panel(traced.note, found)], scenario.start, title, slides=True), picture)
    return draw(found, scenario, title, picture)
