"""One caller's journey drawn as a timeline: a row per place the caller was (menu, queues, agents), a bar
per segment (ring, queue, talk, on the line during a warm transfer), coloured by kind, on the clock."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.patches import Patch

from sim.durations import format_clock
from sim.scenario import Scenario
from sim.story import event_rows

COLOURS = {
    "menu": "#9e9e9e",
    "queue": "#f4a259",
    "ring": "#f6d55c",
    "talk": "#3caea3",
    "hold": "#8e7dbe",
    "warm line": "#20639b",
}


@dataclass(frozen=True)
class Segment:
    """A stretch of the call: where (row label), what kind, from and to (seconds after the start)."""

    row: str
    kind: str
    start: float
    end: float


def segments(events: pd.DataFrame, agents: pd.DataFrame, call_id: int, ended_at: float) -> list[Segment]:
    """The call's segments, from its events (open segments close at `ended_at`)."""
    names = dict(
        zip(agents["agent_id"], agents["pool"] + " agent " + agents["number"].astype(str), strict=True)
    )
    mine = events[events["call_id"] == call_id]
    found: list[Segment] = []
    open_at: dict[tuple[str, str], float] = {}
    for t, event, department, agent_id, _ in event_rows(mine):
        agent = names.get(agent_id, "")
        if event == "arrive":
            open_at[("menu", "menu")] = t
        elif event in ("ivr", "self_service"):
            found.append(Segment("menu", "menu", open_at.pop(("menu", "menu"), t), t))
        elif event == "enqueue":
            open_at.pop(("menu", "menu"), None)
            open_at[(f"{department} queue", "queue")] = t
        elif event == "ring":
            found.append(
                Segment(f"{department} queue", "queue", open_at.pop((f"{department} queue", "queue"), t), t)
            )
            open_at[(agent, "ring")] = t
        elif event == "answer":
            found.append(Segment(agent, "ring", open_at.pop((agent, "ring"), t), t))
            open_at[(agent, "talk")] = t
        elif event == "abandon":
            key = (agent, "ring") if agent_id >= 0 else (f"{department} queue", "queue")
            found.append(Segment(key[0], key[1], open_at.pop(key, t), t))
        elif event in ("transfer", "end", "drop"):
            found.append(Segment(agent, "talk", open_at.pop((agent, "talk"), t), t))
            if event == "transfer":
                open_at[(agent, "warm line")] = t
        elif event == "handover":
            found.append(Segment(agent, "warm line", open_at.pop((agent, "warm line"), t), t))
    for (row_label, kind), start in open_at.items():
        if kind != "warm line" and kind != "menu":
            found.append(Segment(row_label, kind, start, ended_at))
    return [s for s in found if s.end >= s.start]


def draw(found: list[Segment], scenario: Scenario, title: str, path: Path) -> Path:
    """Save the timeline as a PNG (one row per place, clock on the x axis)."""
    rows: list[str] = []
    for segment in found:
        if segment.row not in rows:
            rows.append(segment.row)
    figure, axes = plt.subplots(figsize=(11, 1.2 + 0.55 * max(len(rows), 1)), dpi=110)
    for segment in found:
        y = len(rows) - 1 - rows.index(segment.row)
        width = max(segment.end - segment.start, 0.5)
        axes.barh(
            y,
            width,
            left=segment.start,
            height=0.6,
            color=COLOURS[segment.kind],
            edgecolor="black",
            linewidth=0.4,
        )
    axes.set_yticks(range(len(rows)), list(reversed(rows)))
    if found:
        low = min(s.start for s in found)
        high = max(s.end for s in found)
        span = max(high - low, 60.0)
        ticks = [low + span * i / 6 for i in range(7)]
        axes.set_xticks(ticks, [format_clock(scenario.start + t, True) for t in ticks])
        axes.set_xlim(low - span * 0.02, low + span * 1.02)
    axes.set_xlabel(f"clock time (day starts {format_clock(scenario.start)})")
    axes.set_title(title)
    kinds = [kind for kind in COLOURS if any(s.kind == kind for s in found)]
    axes.legend(handles=[Patch(color=COLOURS[k], label=k) for k in kinds], loc="upper right", fontsize=8)
    axes.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path
