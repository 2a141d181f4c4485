"""For trainers: run a scenario, pick one caller (by id, the longest chain, or a reason), tell their story
and draw their timeline."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sim.analysis.tables import calls_table
from sim.engine.day import simulate
from sim.model.scenario import Scenario
from sim.output.story import Line, choose_call, render, tell
from sim.output.timeline import draw, segments


@dataclass(frozen=True)
class Traced:
    """One caller's journey: the story lines, the text, and the picture if one was drawn."""

    call_id: int
    lines: list[Line]
    text: str
    picture: Path | None


def trace(
    scenario: Scenario,
    seed: int | None = None,
    call_id: int | None = None,
    reason: str | None = None,
    picture: Path | None = None,
) -> Traced:
    """Simulate the day and tell one caller's journey (default: the caller with the longest chain)."""
    if reason is not None and reason not in scenario.reason_mix():
        raise ValueError(f"no reason {reason!r}; callers call about {', '.join(scenario.reason_mix())}")
    result = simulate(scenario, seed)
    calls = calls_table(result)
    chosen = choose_call(calls, call_id, reason, result.ended_at)
    lines = tell(result.events, result.agents, scenario, result.reason_names, chosen, result.ended_at)
    text = render(lines, scenario, chosen)
    drawn = None
    if picture is not None:
        row = calls[calls["call_id"] == chosen].iloc[0]
        title = f"{scenario.name}: call {chosen} ({row['reason']}), {row['agents_touched']} agent(s), outcome {row['outcome']}"
        found = segments(result.events, result.agents, scenario, chosen, result.ended_at)
        drawn = draw(found, scenario, title, picture)
    return Traced(chosen, lines, text, drawn)
