"""What a day costs: the `costs:` block of a scenario (`sim.analysis.costs` computes the figures).

All money is in one unit the user picks; `currency` is only its label. Without a `costs:` block a run reports
no cost figures (and its summary is as before).

```yaml
costs:
  currency: EUR
  wage_per_hour: 22.0          # every pool's paid hours (logged in, on a break, rostered but unavailable)
  by_pool:                     # a department's own agents or an agent group paid differently
    generalists: {wage_per_hour: 28.0}
  overtime: {after: 8h, factor: 1.5}   # a rostered agent's hours of a day beyond `after` cost factor x wage
  line_per_minute: 0.02        # per minute a caller holds a trunk line (arrival to leaving)
  abandoned_call: 3.0          # per call abandoned while waiting or ringing
  waiting_minute: 0.10         # per minute a caller waits in a queue (live callers; not for a callback)
```

Pool wages live under `costs.by_pool` (not on the department or group) so that every money setting is in
one block: a scenario without costs has no cost field anywhere, `--set costs.by_pool.billing.wage_per_hour=30`
changes one figure, and the check that each named pool exists is one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from sim.model.dists import PositiveDuration
from sim.model.durations import not_boolean

DAY = 86400.0

Money = Annotated[float, BeforeValidator(not_boolean), Field(ge=0, le=1e9, allow_inf_nan=False)]
"""An amount of money (at least 0), in the scenario's one unit."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class PoolCosts(_Frozen):
    """One pool's own pay (a department's agents, or an agent group)."""

    wage_per_hour: Money


class Overtime(_Frozen):
    """Rostered hours of one agent's day past `after` are paid `factor` times the wage."""

    after: PositiveDuration
    factor: Annotated[float, BeforeValidator(not_boolean), Field(ge=1, le=10, allow_inf_nan=False)] = 1.5


class Costs(_Frozen):
    """The prices of a call-centre day (`sim.analysis.costs` has the definitions of the figures)."""

    currency: str = Field(default="", max_length=12)
    wage_per_hour: Money = 0.0
    by_pool: dict[str, PoolCosts] = Field(default_factory=dict)
    overtime: Overtime | None = None
    line_per_minute: Money = 0.0
    abandoned_call: Money = 0.0
    waiting_minute: Money = 0.0

    def wage_of(self, pool: str) -> float:
        """The wage per hour of a pool's agents (its own, else the scenario's)."""
        own = self.by_pool.get(pool)
        return own.wage_per_hour if own is not None else self.wage_per_hour


def cost_problems(scenario: Any) -> Iterable[tuple[str, str]]:
    """`(path, message)` for each fault of the costs block no single field shows: a pool wage for a name that
    is neither a department nor an agent group, an overtime threshold longer than a day."""
    costs = scenario.costs
    if costs is None:
        return
    pools = {*scenario.departments, *scenario.agent_groups}
    for name in costs.by_pool:
        if name not in pools:
            yield f"costs.by_pool.{name}", "no such department or agent group"
    if costs.overtime is not None and costs.overtime.after > DAY:
        yield "costs.overtime.after", f"at most a day (86400s), got {costs.overtime.after:g}s"
