"""Outbound dialling and blended agents (`sim.model.outbound`): a campaign list dialled by one pool's
agents while more than `threshold` of them are idle.

The hook is one attribute test: `agent.take_next` calls `pool.dialler()` after an agent of a dialling pool
goes idle (having found no inbound call waiting: inbound keeps priority), and nothing else in the inbound
path changes. The dialler then restores the rule: progressive, while more than `threshold` agents are idle,
the one idle the shortest reserves itself and dials; predictive, while fewer lines are in flight than `pace`
x the idle agents above the threshold, a line is dialled with nobody reserved. Idle agents increase only
through `take_next`, so checking there (and when a predictive line ends) keeps the rule at every instant.

A dial takes `dial_time`; the right person answers with probability `right_party`, then the agent talks
(`talk_time`) and wraps up (`wrap_time`) and returns to `take_next`. A dial that misses sends its record to
the end of the list until it has had `attempts` dials. A predictive right-party answer goes to the
longest-idle agent, or, with none idle, is a nuisance call: dropped at once, its record spent. Dialling
stops at the close. Draws come from the streams `outbound.dial_time`, `outbound.right_party`,
`outbound.talk_time` and `outbound.wrap_time`; the inbound streams are untouched (common random numbers).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from sim.engine import agent as agents
from sim.engine.centre import BUSY, Agent, Centre, Pool
from sim.engine.clock import call_after
from sim.engine.log import CODE, Event
from sim.model.dists import Sampler, Uniform
from sim.model.outbound import Outbound

_DIAL, _NO_ANSWER, _RIGHT_PARTY = CODE[Event.DIAL_OUT], CODE[Event.NO_ANSWER], CODE[Event.RIGHT_PARTY]
_CONNECT, _NUISANCE, _DONE = CODE[Event.CONNECT], CODE[Event.NUISANCE], CODE[Event.OUTBOUND_DONE]
_UNIT = Uniform(dist="uniform", low=0.0, high=1.0)


class Dialler:
    """One pool's campaign: the records left to dial (each with its dials so far) and the lines in flight."""

    __slots__ = (
        "attempts",
        "centre",
        "close_at",
        "department",
        "dial_time",
        "dials",
        "lines",
        "pace",
        "pool",
        "records",
        "right_party",
        "settings",
        "talk_time",
        "threshold",
        "wrap_time",
    )

    def __init__(self, centre: Centre, pool: Pool, settings: Outbound) -> None:
        streams = centre.streams
        self.centre = centre
        self.pool = pool
        self.settings = settings
        self.department = pool.home
        self.threshold = settings.threshold
        self.attempts = settings.attempts
        self.pace = settings.pace if settings.pace is not None else 1.0
        self.close_at = centre.scenario.duration
        self.records: deque[int] = deque(range(settings.list))
        self.dials = [0] * settings.list
        self.lines = 0
        self.dial_time = Sampler(settings.dial_time, streams.generator("outbound.dial_time"))
        self.right_party = Sampler(_UNIT, streams.generator("outbound.right_party"))
        self.talk_time = Sampler(settings.talk_time, streams.generator("outbound.talk_time"))
        self.wrap_time = Sampler(settings.wrap_time, streams.generator("outbound.wrap_time"))

    # Progressive: an idle agent above the threshold reserves itself and dials.

    def progressive(self) -> None:
        """While more than `threshold` agents are idle (and records are left, before the close), the agent
        idle the shortest dials the next record (the longest idle stay first for inbound callers)."""
        idle = self.pool.idle
        records = self.records
        now = self.centre.env.now
        while len(idle) > self.threshold and records and now < self.close_at:
            agent = idle.pop()
            agent.state = BUSY
            record = records.popleft()
            self.dials[record] += 1
            self.centre.record((now, _DIAL, -1, agent.id, self.department, float(record)))
            call_after(self.centre.env, self.dial_time(), self._dialled, (agent, record))

    def _dialled(self, tick: Any) -> None:
        """The agent's dial ends: the right person answers (talk, wrap-up) or the record goes back."""
        agent, record = tick.value
        now = self.centre.env.now
        if self.right_party() < self.settings.right_party:
            self.centre.record((now, _RIGHT_PARTY, -1, agent.id, self.department, float(record)))
            self._talk(agent, record)
            return
        self.centre.record((now, _NO_ANSWER, -1, agent.id, self.department, float(record)))
        self._missed(record)
        self.centre.record((now, _DONE, -1, agent.id, self.department, 0.0))
        agents.take_next(self.centre, agent)

    # Predictive: lines dialled with nobody reserved.

    def predictive(self) -> None:
        """While fewer lines are in flight than `pace` x the idle agents above the threshold (and records are
        left, before the close), dial the next record."""
        idle = self.pool.idle
        records = self.records
        now = self.centre.env.now
        while records and now < self.close_at and self.lines < int(self.pace * (len(idle) - self.threshold)):
            record = records.popleft()
            self.dials[record] += 1
            self.lines += 1
            self.centre.record((now, _DIAL, -1, -1, self.department, float(record)))
            call_after(self.centre.env, self.dial_time(), self._line_ended, record)

    def _line_ended(self, tick: Any) -> None:
        """A predictive line's dial ends: a right-party answer is put through to the longest-idle agent, or
        dropped as a nuisance call with nobody idle; a miss sends the record back."""
        record: int = tick.value
        self.lines -= 1
        now = self.centre.env.now
        record_event = self.centre.record
        if self.right_party() < self.settings.right_party:
            record_event((now, _RIGHT_PARTY, -1, -1, self.department, float(record)))
            idle = self.pool.idle
            if idle:
                agent = idle.popleft()
                agent.state = BUSY
                record_event((now, _CONNECT, -1, agent.id, self.department, float(record)))
                self._talk(agent, record)
            else:
                record_event((now, _NUISANCE, -1, -1, self.department, float(record)))
        else:
            record_event((now, _NO_ANSWER, -1, -1, self.department, float(record)))
            self._missed(record)
        self.predictive()

    # Both modes.

    def _missed(self, record: int) -> None:
        """A dial that did not reach the right person: the record goes to the end of the list until spent."""
        if self.dials[record] < self.attempts:
            self.records.append(record)

    def _talk(self, agent: Agent, record: int) -> None:
        """The agent talks with the right party and wraps up, then is free (`_done`)."""
        work_time = self.talk_time() + self.wrap_time()
        call_after(self.centre.env, work_time, self._done, (agent, work_time))

    def _done(self, tick: Any) -> None:
        """The outbound contact's wrap-up is over: the agent takes the next call (inbound first) or goes idle."""
        agent, work_time = tick.value
        self.centre.record((self.centre.env.now, _DONE, -1, agent.id, self.department, work_time))
        agents.take_next(self.centre, agent)


def wire(centre: Centre) -> None:
    """Give the scenario's dialling pool its dialler (a run without `outbound` is left as it is)."""
    settings = centre.scenario.outbound
    if settings is None:
        return
    pool = next(pool for pool in centre.pools if pool.name == settings.pool)
    dialler = Dialler(centre, pool, settings)
    pool.dialler = dialler.predictive if settings.mode == "predictive" else dialler.progressive
