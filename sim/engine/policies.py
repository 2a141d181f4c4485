"""Routing policies and queue capacity in the fast engine: chosen once when the centre is built, so that a
call pays for them only where the scenario asks for them.

`wire(centre)` gives each queue whose department departs from today's rule (an `agent_choice` other than
longest-idle, or a `queue_capacity`) a `QueuePolicy`, and each pool whose free agents choose calls other than
by preference a `take` function. The caller (`caller.join_queue`) and the agent (`agent.take_next`) test one
attribute and fall back to today's code when it is None.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from sim.engine import caller
from sim.engine.centre import DONE, Agent, Call, Centre, Pool, Queue
from sim.engine.log import CODE, Event
from sim.engine.routing import idle_in_order, longest_idle_agent, longest_waiting, random_idle, weighted_wait
from sim.model.dists import Sampler, Uniform
from sim.model.policies import agent_choice_of, call_choice_of, pool_order

_QUEUE_FULL, _ENQUEUE = CODE[Event.QUEUE_FULL], CODE[Event.ENQUEUE]
AGENT_STREAM = "routing.agent"
"""The stream `agent_choice: random` draws from (one uniform draw per call that finds an agent idle)."""
_UNIT = Uniform(dist="uniform", low=0.0, high=1.0)


class QueuePolicy:
    """How a department's arriving calls are routed: which idle agent (`choose`, given the serving pools),
    and how many callers may wait (`capacity`; None: no limit) and what a caller finding it full does."""

    __slots__ = ("capacity", "choose", "message", "pools")

    def __init__(
        self, choose: Callable[[list[Pool]], Agent | None], pools: list[Pool], capacity: int | None, message: bool
    ) -> None:
        self.choose = choose
        self.pools = pools
        self.capacity = capacity
        self.message = message

    def route(self, centre: Centre, call: Call, queue: Queue) -> bool:
        """Let `call` join the queue: handed at once to the idle agent the policy chooses (True), or
        turned away without joining, the queue being full (True), or left to wait (False: the caller goes
        on as today). A caller held by a warm-transferring agent always joins (the agent on the line waits
        for the hand-over)."""
        agent = self.choose(self.pools)
        if agent is None and self.capacity is not None and queue.waiting >= self.capacity and call.warm is None:
            turn_away(centre, call, queue, self.message)
            return True
        centre.record((centre.env.now, _ENQUEUE, call.id, -1, queue.index, float(call.priority)))
        if agent is None:
            return False
        centre.hand_call(agent, call)
        return True


def turn_away(centre: Centre, call: Call, queue: Queue, message: bool) -> None:
    """The queue is full: the caller leaves a message, or is lost (and may call again, as after a busy
    signal: the `redial.blocked` rule)."""
    centre.record((centre.env.now, _QUEUE_FULL, call.id, -1, queue.index, 1.0 if message else 0.0))
    caller.leave(centre, call)
    if not message:
        caller.maybe_redial(centre, call, "blocked")
    assert call.state == DONE


def wire(centre: Centre) -> None:
    """Give queues and pools the policies the scenario names (nothing for today's rules)."""
    scenario = centre.scenario
    pools_by_name = {pool.name: pool for pool in centre.pools}
    draw: Sampler | None = None
    for queue in centre.queues:
        department = scenario.departments[queue.name]
        queue.weight = department.call_weight
        choice = agent_choice_of(scenario, queue.name)
        if choice == "longest_idle" and department.queue_capacity is None:
            continue
        pools = queue.servers
        choose: Callable[[list[Pool]], Agent | None] = longest_idle_agent
        if choice == "random":
            if draw is None:
                draw = Sampler(_UNIT, centre.streams.generator(AGENT_STREAM))
            choose = partial(random_idle, draw=draw)
        elif choice == "in_order":
            pools = [pools_by_name[name] for name in pool_order(scenario, queue.name)]
            choose = idle_in_order
        queue.policy = QueuePolicy(
            choose, pools, department.queue_capacity, department.when_full == "message"
        )
    takes = {"longest_waiting": longest_waiting, "weighted": weighted_wait}
    for pool in centre.pools:
        choice = call_choice_of(scenario, pool.name if pool.home < 0 else None)
        pool.take = takes.get(choice)
