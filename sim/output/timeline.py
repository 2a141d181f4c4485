"""One caller's journey drawn as a timeline: a row per place the caller was (menu, queues, agents), a bar
per segment (queue, ring, talk, hold, listening before a transfer, on the line in a warm transfer, waiting
for a callback, dialling, the agent's wrap-up), coloured by kind, on the clock."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.patches import Patch

from sim.model.durations import format_clock
from sim.model.scenario import Scenario
from sim.output.story import agent_names, event_rows

COLOURS = {
    "menu": "#9e9e9e",
    "queue": "#f4a259",
    "callback wait": "#fde9d2",
    "ring": "#f6d55c",
    "dialling": "#9fd3f0",
    "missed dial": "#c0392b",
    "campaign dial": "#9fd3f0",
    "campaign miss": "#c0392b",
    "talk": "#3caea3",
    "hold": "#8e7dbe",
    "transfer": "#e4572e",
    "warm line": "#20639b",
    "wrap-up": "#cfcfcf",
}
"""Colour of each kind of segment, in legend order."""

LABELS = {
    "menu": "phone menu",
    "queue": "in the queue",
    "callback wait": "waiting for a callback (off the line)",
    "ring": "ringing",
    "dialling": "dialling the caller back",
    "missed dial": "a dial-out nobody answered",
    "campaign dial": "dialling a campaign record",
    "campaign miss": "a campaign dial the right person did not answer",
    "talk": "talk",
    "hold": "on hold (check-backs are talk)",
    "transfer": "listen + transfer (misrouted)",
    "warm line": "on the line in a warm transfer",
    "wrap-up": "agent's wrap-up",
}

HATCHES = {"callback wait": "///", "missed dial": "xx", "campaign miss": "xx"}


@dataclass(frozen=True)
class Segment:
    """A stretch of the call: where (row label), what kind, from and to (seconds after the start)."""

    row: str
    kind: str
    start: float
    end: float


def segments(
    events: pd.DataFrame,
    agents: pd.DataFrame,
    scenario: Scenario,
    call_id: int,
    stopped_at: float,
    every: bool = False,
) -> list[Segment]:
    """The call's segments from its events, in order of start (those still open close at `stopped_at`, the
    end of the run). An agent's bar ends when the agent leaves the call; their wrap-up follows on their row.
    With `every` (slides), zero-length segments (a wait of no time) are kept and an unanswered dial-out is
    its own kind, `missed dial`."""
    names = agent_names(agents)
    explicit = {name for name, department in scenario.departments.items() if department.transfer is not None}
    found: list[Segment] = []
    opened: dict[str, tuple[str, float]] = {}  # row -> (kind, start): one open segment per row

    def close(row: str, t: float, kind: str | None = None) -> None:
        if row in opened:
            was, start = opened.pop(row)
            found.append(Segment(row, kind or was, start, t))

    def begin(row: str, kind: str, t: float) -> None:
        close(row, t)
        opened[row] = (kind, t)

    awaiting_callback = False
    for t, event, department, agent_id, detail in event_rows(events[events["call_id"] == call_id]):
        agent = names.get(agent_id, f"agent {agent_id}")
        queue = f"{department} queue"
        if event == "arrive" and scenario.ivr is not None:
            begin("menu", "menu", t)
        elif event == "block":  # never reached the menu
            opened.pop("menu", None)
        elif event in ("ivr", "self_service"):
            close("menu", t)
        elif event == "enqueue":
            begin(queue, "queue", t)
        elif event == "callback_request":
            if detail == 1.0:  # from a hold: the agent leaves the call
                begin(agent, "wrap-up", t)
            begin(queue, "callback wait", t)
            awaiting_callback = True
        elif event == "ring":
            close(queue, t)
            if not awaiting_callback:  # a callback's ring is its dial-out
                begin(agent, "ring", t)
        elif event == "callback_dial":
            close(queue, t)
            begin(agent, "dialling", t)
        elif event == "callback_missed":
            if every:
                close(agent, t, "missed dial")
            begin(agent, "wrap-up", t)
            begin(queue, "callback wait", t)
        elif event == "callback_failed":
            close(queue, t)
        elif event == "answer":
            awaiting_callback = False
            begin(agent, "talk", t)
        elif event == "abandon":
            close(agent if agent_id >= 0 else queue, t)
        elif event == "hold":
            begin(agent, "hold", t)
        elif event == "check_back":  # talk; then holding again unless the caller leaves or is answered
            close(agent, t)
            found.append(Segment(agent, "talk", t, t + detail))
            opened[agent] = ("hold", t + detail)
        elif event == "unhold":
            begin(agent, "talk", t)
        elif event in ("end", "drop", "abandon_on_hold"):
            begin(agent, "wrap-up", t)
        elif event == "transfer":
            misrouted = department not in explicit and opened.get(agent, ("",))[0] == "talk"
            close(agent, t, "transfer" if misrouted else None)
            mode = scenario.departments[department].transfer_mode or scenario.transfers.mode
            begin(agent, "wrap-up" if mode == "cold" else "warm line", t)
        elif event == "handover":
            begin(agent, "wrap-up", t)
        elif event == "idle":
            close(agent, t)
    for row, (kind, start) in opened.items():
        found.append(Segment(row, kind, start, max(stopped_at, start)))
    return sorted((s for s in found if every or s.end - s.start > 1e-9), key=lambda s: s.start)


def draw(found: list[Segment], scenario: Scenario, title: str, path: Path) -> Path:
    """Save the timeline as a PNG (one row per place, clock on the x axis, a legend of the kinds drawn)."""
    rows: list[str] = []
    for segment in found:
        if segment.row not in rows:
            rows.append(segment.row)
    kinds = [kind for kind in COLOURS if any(s.kind == kind for s in found)]
    legend_rows = -(-len(kinds) // 4)
    height = 1.5 + 0.5 * max(len(rows), 1) + 0.25 * legend_rows
    figure, axes = plt.subplots(figsize=(11, height), dpi=110, layout="constrained")
    for segment in found:
        y = len(rows) - 1 - rows.index(segment.row)
        axes.barh(
            y,
            max(segment.end - segment.start, 0.5),
            left=segment.start,
            height=0.6,
            color=COLOURS[segment.kind],
            edgecolor="black",
            linewidth=0.4,
            hatch=HATCHES.get(segment.kind),
        )
    axes.set_yticks(range(len(rows)), list(reversed(rows)))
    axes.set_ylim(-0.6, max(len(rows), 1) - 0.4)
    if found:
        low = min(s.start for s in found)
        span = max(max(s.end for s in found) - low, 60.0)
        ticks = [low + span * i / 6 for i in range(7)]
        axes.set_xticks(ticks, [format_clock(scenario.start + t, True) for t in ticks])
        axes.set_xlim(low - span * 0.02, low + span * 1.02)
    else:
        axes.set_yticks([])
        axes.text(
            0.5, 0.5, "nothing to draw: the call never reached the menu or a queue",
            ha="center", va="center", transform=axes.transAxes,
        )  # fmt: skip
    axes.set_xlabel(f"clock time (day starts {format_clock(scenario.start)})")
    axes.set_title(title)
    axes.grid(axis="x", alpha=0.3)
    if kinds:
        handles = [
            Patch(
                facecolor=COLOURS[k], edgecolor="black", linewidth=0.4, hatch=HATCHES.get(k), label=LABELS[k]
            )
            for k in kinds
        ]
        figure.legend(handles=handles, loc="outside lower center", ncol=min(len(kinds), 4), fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path
