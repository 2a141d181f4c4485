"""Outbound calls and blended agents (issue 19): a campaign list dialled by a pool's agents while enough
of them are idle (the threshold blending rule).

```yaml
outbound:
  pool: billing            # whose agents dial: a department's own agents (its name) or an agent group
  list: 300                # records to dial
  dial_time: {dist: uniform, low: 10s, high: 30s}   # ringing until the right party answers or the dial ends
  right_party: 0.35        # probability the right person answers a dial
  talk_time: {dist: exponential, mean: 4m}
  wrap_time: 30s
  threshold: 2             # dial only while more than this many of the pool's agents are idle
  attempts: 3              # dials per record before it is spent (a missed record goes to the list's end)
  mode: progressive        # or predictive
  pace: 1.5                # predictive: lines in flight per idle agent above the threshold
```

Progressive: an agent who becomes idle while more than `threshold` agents of the pool (itself included) are
idle reserves itself and dials the next record. Predictive: lines are dialled without reserving anyone
(`pace` x the idle agents above the threshold, in flight at once); a right-party answer goes to the
longest-idle agent of the pool, or, with none idle, is a nuisance call (the line is dropped at once; the
record is spent). Inbound callers keep priority: a freed agent takes a waiting inbound call first. Dialling
stops at the close (`duration`). Outbound calls hold no trunk line and are not in the calls table.

Written over the scenario's plain fields (as `sim.model.chat`), returning `(path, message)` pairs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from sim.model.dists import Dist
from sim.model.durations import not_boolean, shorten

Mode = Literal["progressive", "predictive"]


class Outbound(BaseModel):
    """A campaign list and the blending rule that decides when the pool's agents dial it."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    pool: str = Field(min_length=1)
    list: Annotated[int, BeforeValidator(not_boolean), Field(ge=0, le=10_000_000)]
    dial_time: Dist = 20.0  # type: ignore[assignment]
    right_party: Annotated[float, BeforeValidator(not_boolean), Field(ge=0, le=1, allow_inf_nan=False)] = 0.35
    talk_time: Dist = 240.0  # type: ignore[assignment]
    wrap_time: Dist = 0.0  # type: ignore[assignment]
    threshold: Annotated[int, BeforeValidator(not_boolean), Field(ge=0, le=1_000_000)] = 0
    attempts: Annotated[int, BeforeValidator(not_boolean), Field(ge=1, le=20)] = 1
    mode: Mode = "progressive"
    pace: Annotated[float, BeforeValidator(not_boolean), Field(gt=0, le=100, allow_inf_nan=False)] | None = (
        None
    )


def outbound_problems(scenario: Any) -> Iterable[tuple[str, str]]:
    """Faults no single field shows: a pool that does not exist, has no agents or serves chats, and `pace`
    outside predictive mode."""
    outbound = scenario.outbound
    if outbound is None:
        return
    name = outbound.pool
    department = scenario.departments.get(name)
    group = scenario.agent_groups.get(name)
    if department is None and group is None:
        yield "outbound.pool", f"no department or agent group {shorten(name)}"
    elif department is not None and department.agents is None:
        yield "outbound.pool", f"department {shorten(name)} has no agents of its own to dial"
    elif department is not None and department.channel == "chat":
        yield (
            "outbound.pool",
            f"{shorten(name)} is a chat department: outbound calls are dialled by voice agents",
        )
    elif group is not None and any(
        scenario.departments[skill].channel == "chat"
        for skill in group.skills
        if skill in scenario.departments
    ):
        yield (
            "outbound.pool",
            f"group {shorten(name)} serves chat departments: outbound calls need voice agents",
        )
    if outbound.pace is not None and outbound.mode != "predictive":
        yield "outbound.pace", "pace is the predictive dialler's lines per idle agent (mode: predictive)"
