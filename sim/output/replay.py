"""An animated replay of a run: one self-contained HTML page (no network, no server) showing the floor as it
happens, for trainers. Built from a results folder's files alone (so it works on any saved run).

The page holds the run as compact columnar JSON: per agent, its state segments (`sim.analysis.floor`); the
callers' waits; the running service level; the moments worth a glance (transfers, hang-ups, callbacks);
every call's event rows and its story (`sim.output.story`). The page's script finds the floor at any instant
by binary search, so seeking anywhere in a day of thousands of calls is immediate. The page is
`sim.output.replay_page`, its script `sim.output.replay_script`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis.floor import (
    AGENT_STATES,
    WAIT_KINDS,
    AgentSegments,
    Waits,
    agent_segments,
    event_codes,
    running_service_level,
    waits,
)
from sim.analysis.thresholds import call_thresholds, channel_threshold_words
from sim.analysis.trace_channels import CHANNELS, arrival_channels
from sim.engine.log import CODE, EVENT_NAMES, Event
from sim.model.goals import department_thresholds
from sim.model.scenario import Scenario
from sim.output.folders import ResultsExist, unwritable
from sim.output.replay_page import page
from sim.output.saved import load_run
from sim.output.story import agent_names, tell_each

REPLAY_FILE = "replay.html"
CALL_COLUMNS = (
    *("call_id", "reason", "arrived_at", "answered_at", "ended_at", "outcome", "time_to_answer"),
    *("agents_touched", "n_transfers", "first_department"),
)
"""The calls table's columns the replay reads (`first_department`: whose threshold judges the call)."""
MOMENTS = (
    Event.TRANSFER, Event.ABANDON, Event.BLOCK, Event.QUEUE_FULL, Event.CALLBACK_REQUEST, Event.CALLBACK_DIAL,
    Event.HOLD_ABANDON, Event.DROP, Event.CALLBACK_FAILED,
)  # fmt: skip
"""The events the replay shows as moments (arrows between departments, hang-ups, callbacks)."""


@dataclass(frozen=True)
class Floor:
    """What a replay needs of a run, read from its results folder."""

    scenario: Scenario
    ended_at: float
    events: pd.DataFrame
    agents: pd.DataFrame
    calls: pd.DataFrame


def read_floor(folder: Path | str) -> Floor:
    """The scenario, end of run, events, agents and calls of a results folder (`NotARun` if it is not one)."""
    saved = load_run(folder)
    folder = saved.folder
    calls = pd.read_parquet(folder / "calls.parquet", columns=list(CALL_COLUMNS))
    return Floor(
        saved.scenario,
        saved.ended_at,
        pd.read_parquet(folder / "events.parquet"),
        pd.read_parquet(folder / "agents.parquet"),
        calls,
    )


def _times(values: np.ndarray, digits: int = 3) -> list[float]:
    """Instants for the page: rounded (a millisecond by default), infinities as -1 (never)."""
    values = np.asarray(values, dtype=float)
    rounded: list[float] = np.round(np.where(np.isfinite(values), values, -1.0), digits).tolist()
    return rounded


def _segments_json(segments: AgentSegments, agent_ids: np.ndarray) -> dict[str, Any]:
    first = np.searchsorted(segments.agent_id, agent_ids, side="left")
    stop = np.searchsorted(segments.agent_id, agent_ids, side="right")
    counts = stop - first
    # each agent's segments, agents in the table's order: positions first..stop-1 of every agent at once
    keep = np.repeat(first - np.concatenate(([0], np.cumsum(counts)[:-1])), counts) + np.arange(counts.sum())
    return {
        "offset": np.concatenate(([0], np.cumsum(counts))).tolist(),
        "t": _times(segments.start_at[keep]),
        "state": segments.state[keep].tolist(),
        "call": segments.call_id[keep].tolist(),
    }


def _waits_json(found: Waits) -> dict[str, Any]:
    return {
        "call": found.call_id.tolist(),
        "kind": found.kind.tolist(),
        "department": found.department.tolist(),
        "start": _times(found.start_at),
        "end": _times(found.end_at),
        "visit": found.visit.tolist(),
    }


def _moments_json(events: pd.DataFrame, codes: np.ndarray, scenario: Scenario) -> dict[str, Any]:
    """Transfers (from department to department), hang-ups, blocks and callbacks, in time order. A
    transfer's target (its detail: a position among the scenario's departments) becomes a position among
    the event table's departments, as every department of the page is."""
    rows = np.flatnonzero(np.isin(codes, [CODE[event] for event in MOMENTS]))
    code = codes[rows]
    detail = events["detail"].to_numpy()[rows]
    department = events["department"].cat.codes.to_numpy()[rows].astype(np.int64)
    transfer = code == CODE[Event.TRANSFER]
    names = [str(name) for name in events["department"].cat.categories]
    target = np.array([names.index(name) if name in names else -1 for name in scenario.departments] + [-1])
    to = target[np.where(transfer, detail, len(target) - 1).astype(np.int64)]
    return {
        "t": _times(events["t"].to_numpy()[rows]),
        "event": code.tolist(),
        "call": events["call_id"].to_numpy()[rows].tolist(),
        "agent": events["agent_id"].to_numpy()[rows].tolist(),
        "department": department.tolist(),
        "to": to.tolist(),
        "detail": np.round(detail, 1).tolist(),
    }


def _calls_json(floor: Floor, codes: np.ndarray, reason_names: list[str]) -> dict[str, Any]:
    """Per call (by id): reason, outcome, agents touched, its event rows and its story."""
    events = floor.events
    calls = floor.calls.sort_values("call_id", kind="stable")
    ids = calls["call_id"].to_numpy(dtype=np.int64)
    outcome = calls["outcome"].astype(str)
    outcomes = sorted(set(outcome.tolist()))
    call_of_row = events["call_id"].to_numpy()
    rows = np.flatnonzero(call_of_row >= 0)
    rows = rows[np.argsort(call_of_row[rows], kind="stable")]
    row_call = call_of_row[rows]
    first = np.searchsorted(row_call, ids, side="left")
    stop = np.searchsorted(row_call, ids, side="right")
    stories = tell_each(events, floor.agents, floor.scenario, reason_names, floor.ended_at)
    story_counts = [len(stories.get(call_id, [])) for call_id in ids.tolist()]
    lines = [line for call_id in ids.tolist() for line in stories.get(call_id, [])]
    reason = calls["reason"].astype(str)
    channel = arrival_channels(floor.scenario, events, ids)  # what each desk's contact is: call, chat, email
    return {
        "id": ids.tolist(),
        "channel": [CHANNELS.index(name) for name in channel.tolist()],
        "reason": [reason_names.index(name) if name in reason_names else -1 for name in reason.tolist()],
        "outcomes": outcomes,
        "outcome": [outcomes.index(name) for name in outcome.tolist()],
        "agents_touched": calls["agents_touched"].fillna(0).astype(int).tolist(),
        "arrived_at": _times(calls["arrived_at"].to_numpy()),
        "events": {
            "first": first.tolist(),
            "stop": stop.tolist(),
            "t": _times(events["t"].to_numpy()[rows]),
            "event": codes[rows].tolist(),
            "agent": events["agent_id"].to_numpy()[rows].tolist(),
            "department": events["department"].cat.codes.to_numpy()[rows].astype(np.int64).tolist(),
            "detail": np.round(events["detail"].to_numpy()[rows], 3).tolist(),
        },
        "story": {
            "offset": np.concatenate(([0], np.cumsum(story_counts, dtype=np.int64))).tolist(),
            "t": _times(np.array([line.at for line in lines], dtype=float)),
            "text": [line.text for line in lines],
        },
    }


def replay_data(floor: Floor) -> dict[str, Any]:
    """Everything the page shows, as JSON-ready columns."""
    scenario, events, agents = floor.scenario, floor.events, floor.agents
    codes = event_codes(events)
    reason_names = list(scenario.reason_mix())
    agent_ids = agents["agent_id"].to_numpy(dtype=np.int64)
    pools = list(dict.fromkeys(agents["pool"].astype(str).tolist()))
    homes = dict(zip(agents["pool"].astype(str), agents["home"], strict=True))
    departments = [str(name) for name in events["department"].cat.categories]
    thresholds = department_thresholds(scenario)
    level = running_service_level(
        floor.calls, events, call_thresholds(scenario, floor.calls), scenario.warmup, floor.ended_at
    )
    ring_time = scenario.ring.cycle * scenario.service_level.rings
    rings = running_service_level(floor.calls, events, ring_time, scenario.warmup, floor.ended_at)
    names = agent_names(agents)
    return {
        "name": scenario.name,
        "start": scenario.start,
        "duration": scenario.duration,
        "warmup": scenario.warmup,
        "ended_at": floor.ended_at,
        "threshold": scenario.service_level.threshold,
        # each department's threshold (a waiting caller's colour), and the words for the headline's
        "department_thresholds": [thresholds.get(name, scenario.service_level.threshold) for name in departments],
        "threshold_words": channel_threshold_words(scenario),
        "target": scenario.service_level.target,
        "ring_cycle": scenario.ring.cycle,
        "rings": scenario.service_level.rings,
        "states": list(AGENT_STATES),
        "wait_kinds": list(WAIT_KINDS),
        "event_names": list(EVENT_NAMES),
        "departments": departments,
        "scenario_departments": [name for name in departments if name in scenario.departments],
        "reasons": reason_names,
        "channels": list(CHANNELS),
        "pools": [
            {
                "name": pool,
                "department": departments.index(str(homes[pool])) if str(homes[pool]) in departments else -1,
            }
            for pool in pools
        ],
        "agents": {
            "id": agent_ids.tolist(),
            "label": [names[int(agent_id)] for agent_id in agent_ids.tolist()],
            "number": agents["number"].astype(int).tolist(),
            "pool": [pools.index(str(pool)) for pool in agents["pool"].astype(str).tolist()],
        },
        "segments": _segments_json(agent_segments(events), agent_ids),
        "waits": _waits_json(waits(events)),
        "service": {"hits": _times(level.hits_at), "decided": _times(level.decided_at)},
        # answered within `rings` ring cycles (summary.json's `answered_within_rings`); none without rings
        "within_rings": {"hits": _times(rings.hits_at), "decided": _times(rings.decided_at)}
        if ring_time > 0
        else None,
        "moments": _moments_json(events, codes, scenario),
        "calls": _calls_json(floor, codes, reason_names),
    }


def replay_html(floor: Floor, slides: bool = False) -> str:
    """The replay page of a run: HTML with its style, script and data inline."""
    data = json.dumps(replay_data(floor), separators=(",", ":"), allow_nan=False)
    # "<" occurs only inside JSON strings: as \u003c no text can close the script element or open a comment
    return page(floor.scenario.name, floor.scenario.description or "", data.replace("<", "\\u003c"), slides)


def write_replay(
    folder: Path | str, out: Path | str | None = None, force: bool = False, slides: bool = False
) -> Path:
    """Write the replay page of the results folder `folder` (default `FOLDER/replay.html`); an existing
    file is replaced only with `force`; with `slides`, it opens in presentation mode. Written beside its
    target and renamed into place."""
    folder = Path(folder)
    target = Path(out) if out is not None else folder / REPLAY_FILE
    if target.exists() and not force:
        raise ResultsExist(f"{target} already exists (use --force to replace it)")
    html = replay_html(read_floor(folder), slides)
    partial = target.with_name(f".{target.name}.partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(html, encoding="utf-8")
        os.replace(partial, target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise unwritable(error, target, "the replay") from None
    return target
