"""Blended agents and channel priorities in the engine (`sim.model.blend`): pools serving voice, chat and
email departments in any combination, and which channel a free agent serves first.

**Channel priorities.** `wire` rearranges the preference tiers of every agent group serving several
channels by channel first (its `channel_priority`), then the tiers it had inside each channel. With the
default (voice, chat, email) this changes nothing a run did before: email queues are already one last tier
(`sim.engine.email.attach`, which runs first), and voice before chat only concerns blended groups, new here.

**Blended pools** (chat and another channel). Each agent has a chat desk (`centre.Desk`, the chat
engine's `_advance`, `_open`, `_reschedule` and its completions, which come back here when a slot frees);
a voice call or an email takes the whole agent and runs the voice path (`agent.begin` ... `agent._free`,
which comes back here through `agent.take_next`). The pool keeps two lists: `pool.idle`, its agents with
nothing in hand (longest idle first: an arriving voice call or email takes them as any voice pool's), and
`Blend.ready`, those with chats in hand and a free slot (fewest in hand first, then the longest at that
number). The rules:
- An agent with nothing in hand takes the next contact by the channel-first tiers (`routing.next_call_for`):
  a voice call or an email whole, or chats into its slots.
- An agent with chats in hand takes only further chats, and none while a contact of a channel its pool
  ranks above chat waits in its queues (`blocked`): it drains, to come free for that contact.
- An arriving chat at a department a blended pool serves (`ChatRoute`, its queue's policy) goes to the agent
  with the fewest chats in hand among every pool serving it (ties: the longest at that number, then the
  first pool), never to a draining one; with none, it waits.
- When a queue ranked above chat may have emptied (a contact taken from it, a caller giving up, the close),
  the draining agents of the pools watching it take the waiting chats, one at a time to the least loaded
  (`wake`). A contact taken by an agent of another pool wakes them at the same instant, one event later.
- Breaks, shift ends and being kept on (`sim.engine.chat`'s entry points hand a blended agent here): an
  agent finishes what it has in hand (a call, or its chats), takes nothing new meanwhile, then goes.

Only a run with a blended pool pays for this: `centre.hand_call`, the chat queues' policy and the take of
the pools sharing its queues are replaced here; `agent.take_next` tests `pool.blend` only when `pool.take`
is set (a non-default call choice), and the chat entry points only on their rare paths.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Any

from sim.engine import agent as agents
from sim.engine import chat
from sim.engine.away import go_on_break
from sim.engine.centre import BUSY, IDLE, OFF, RINGING, WAITING, Agent, Call, Centre, Desk, Entry, Pool, Queue
from sim.engine.chat import _advance, _open, _reschedule
from sim.engine.clock import call_after, call_at
from sim.engine.log import CODE, Event
from sim.engine.policies import turn_away
from sim.engine.routing import first_in_tiers, next_call_for
from sim.model.blend import channel_of, channel_priority, group_channels, is_blended

_ENQUEUE = CODE[Event.ENQUEUE]
Taken = tuple[Call, deque[Entry]]


class Blend:
    """One blended pool: its chat queues' tiers, the queues it ranks above chat, and its agents with chats in
    hand and a free slot (`ready`)."""

    __slots__ = ("above", "blending", "centre", "chat_indices", "chat_tiers", "pool", "ready")

    def __init__(self, blending: Blending, pool: Pool, order: tuple[str, ...]) -> None:
        self.blending = blending
        self.centre = blending.centre
        self.pool = pool
        self.chat_indices = blending.chat_indices
        channels = blending.channels
        self.chat_tiers = [tier for tier in _by_channel(pool.tiers, channels, ("chat",)) if tier]
        ranked_above = order[: order.index("chat")]
        self.above = [queue for tier in pool.tiers for queue in tier if channels[queue.index] in ranked_above]
        self.ready: deque[Agent] = deque()

    # What a free agent does next.

    def next_work(self, agent: Agent) -> None:
        """After a change at the agent (a contact done, logged in, back from a break, kept on): a leaving or
        break-owing agent goes once its hands are empty; one with nothing in hand takes the next contact by
        channel priority; one with chats fills its free slots unless a contact ranked above chat waits."""
        centre = self.centre
        desk = agent.desk
        assert desk is not None
        _advance(desk, centre.env.now)
        if agent.call is not None:  # a call or an email in hand: this comes back when it is done
            return
        if agent.leaving or agent.break_time:
            self.stop_taking(agent)
            if not desk.chats:
                if agent.leaving:
                    agents.log_out(centre, agent)
                else:
                    go_on_break(centre, agent, agents.back_from_break)
            _reschedule(self.centre, agent, desk)
            return
        if not desk.chats:
            taken = next_call_for(self.pool)
            if taken is not None and taken[0].department not in self.chat_indices:
                self._take_whole(agent, taken)
                return
            if taken is None:
                self._settle(agent, desk)
                return
        while len(desk.chats) < desk.slots and not self.blocked():
            chat_taken = self._next_chat()
            if chat_taken is None:
                break
            self._open_waiting(agent, desk, chat_taken)
        _reschedule(self.centre, agent, desk)
        self._settle(agent, desk)

    def blocked(self) -> bool:
        """Whether a contact of a channel the pool ranks above chat waits (its agents with chats drain)."""
        return any(queue.waiting for queue in self.above)

    def stop_taking(self, agent: Agent) -> None:
        """An agent rostered off or owing a break takes nothing new (it finishes what it has in hand)."""
        self._settle_off(agent)

    def resume(self, agent: Agent) -> None:
        """A leaving agent is kept on after all: chats into its free slots, unless a call is in hand."""
        self.next_work(agent)

    def distribute(self) -> None:
        """Waiting chats to the agents with chats in hand and a free slot, one at a time to the least
        loaded, while nothing ranked above chat waits."""
        ready = self.ready
        while ready and not self.blocked():
            taken = self._next_chat()
            if taken is None:
                return
            agent = ready.popleft()
            desk = agent.desk
            assert desk is not None
            _advance(desk, self.centre.env.now)
            self._open_waiting(agent, desk, taken)
            _reschedule(self.centre, agent, desk)
            self._settle(agent, desk)

    def open_chat(self, agent: Agent, call: Call) -> None:
        """An arriving chat handed to the agent (already off its list): opened beside those in hand."""
        desk = agent.desk
        assert desk is not None
        agent.state = BUSY
        _advance(desk, self.centre.env.now)
        _open(self.centre, agent, desk, call)
        _reschedule(self.centre, agent, desk)
        self._settle(agent, desk)

    # Taking contacts.

    def _next_chat(self) -> Taken | None:
        """The waiting chat a free slot takes: the pool's chat tiers by preference, then priority and wait."""
        return first_in_tiers(self.chat_tiers)

    def _open_waiting(self, agent: Agent, desk: Desk, taken: Taken) -> None:
        """Take a waiting chat off its queue and open it."""
        call, entries = taken
        entries.popleft()
        if call.state == WAITING:
            self.centre.queues[call.department].waiting -= 1
        call.state = RINGING
        _open(self.centre, agent, desk, call)

    def _take_whole(self, agent: Agent, taken: Taken) -> None:
        """A voice call or an email takes the agent whole (the voice path; `agent.take_next` brings it back);
        the queue it left may have emptied, so draining agents may take chats again."""
        call, entries = taken
        entries.popleft()
        queue = self.centre.queues[call.department]
        if call.state == WAITING:
            queue.waiting -= 1
        self._settle_off(agent)
        agent.state = BUSY
        call.state = RINGING
        agents.begin(agent, call)
        self.blending.wake(queue.index)

    # The agent's place on the pool's lists.

    def _settle(self, agent: Agent, desk: Desk) -> None:
        """Place the agent: with nothing in hand on `pool.idle` (idle), with chats and a free slot on `ready`
        by chats in hand (busy), else on neither."""
        self._settle_off(agent)
        if agent.state == OFF or agent.leaving or agent.break_time:
            return
        in_hand = len(desk.chats)
        now = self.centre.env.now
        if in_hand == 0:
            agent.state = IDLE
            agent.idle_since = now
            self.pool.idle.append(agent)
            return
        agent.state = BUSY
        if in_hand < desk.slots:
            agent.idle_since = now
            ready = self.ready
            position = len(ready)
            while position and _held(ready[position - 1]) > in_hand:
                position -= 1
            ready.insert(position, agent)

    def _settle_off(self, agent: Agent) -> None:
        """Take the agent off both lists."""
        if agent in self.pool.idle:
            self.pool.idle.remove(agent)
        if agent in self.ready:
            self.ready.remove(agent)


class Blending:
    """A run's blended pools, and which of them watch each queue ranked above chat (to wake them)."""

    def __init__(self, centre: Centre, channels: list[str]) -> None:
        self.centre = centre
        self.channels = channels
        self.chat_indices = frozenset(index for index, channel in enumerate(channels) if channel == "chat")
        self.watchers: dict[int, list[Blend]] = {}
        self.blends: list[Blend] = []

    def wake(self, queue_index: int) -> None:
        """A queue may have emptied: the pools ranking it above chat give waiting chats to their agents with
        chats in hand, if nothing they rank above chat waits any more."""
        for blend in self.watchers.get(queue_index, ()):
            if blend.ready:
                blend.distribute()

    def wake_later(self, tick: Any) -> None:
        """`wake` for a contact another pool's agent took (its queue counted once the take is done)."""
        self.wake(tick.value)

    def wake_all(self, _: Any) -> None:
        """At the close (after the emails left are taken off their queues): every blended pool."""
        for blend in self.blends:
            if blend.ready:
                blend.distribute()


class ChatRoute:
    """The arrival policy of a chat department a blended pool serves: the agent with the fewest chats in
    hand among every pool serving it (a blended pool's agents with nothing in hand, else its ready agents
    unless they drain; a chat pool's idle list), else the queue (capacity as `sim.engine.policies`)."""

    __slots__ = ("capacity", "message", "pools")

    def __init__(self, pools: list[Pool], capacity: int | None, message: bool) -> None:
        self.pools = pools
        self.capacity = capacity
        self.message = message

    def route(self, centre: Centre, call: Call, queue: Queue) -> bool:
        """Hand the chat to the least-loaded free agent (True), turn it away from a full queue (True), or
        let it wait (False)."""
        best: deque[Agent] | None = None
        best_key = (0, 0.0)
        for pool in self.pools:
            blend = pool.blend
            candidates = pool.idle
            if blend is not None and not candidates and not blend.blocked():
                candidates = blend.ready
            if candidates:
                first = candidates[0]
                key = (_held(first), first.idle_since)
                if best is None or key < best_key:
                    best, best_key = candidates, key
        if best is None and self.capacity is not None and queue.waiting >= self.capacity:
            turn_away(centre, call, queue, self.message)
            return True
        centre.record((centre.env.now, _ENQUEUE, call.id, -1, queue.index, float(call.priority)))
        if best is None:
            return False
        centre.hand_call(best.popleft(), call)
        return True


def hand_call(centre: Centre, agent: Agent, call: Call) -> None:
    """Give an agent taken off its list a contact: a blended agent a chat at its desk, or a call or an
    email whole; a chat pool's or a voice pool's agent as before."""
    blend = agent.pool.blend
    if blend is None:
        chat.hand_call(centre, agent, call)
    elif call.department in blend.chat_indices:
        blend.open_chat(agent, call)
    else:
        agents.hand_call(agent, call)


def _held(agent: Agent) -> int:
    """The chats in an agent's hands (none for an agent without a desk)."""
    desk = agent.desk
    return len(desk.chats) if desk is not None else 0


def _by_channel(tiers: list[list[Queue]], channels: list[str], order: tuple[str, ...]) -> list[list[Queue]]:
    """The tiers of the channels in `order`, channel first, then the tiers as they were inside it (empty
    tiers kept, to be dropped by the caller)."""
    return [
        [queue for queue in tier if channels[queue.index] == channel] for channel in order for tier in tiers
    ]


def _waking_take(
    inner: Callable[[Pool, float], Taken | None], watched: frozenset[int], blending: Blending
) -> Callable[[Pool, float], Taken | None]:
    """A non-blended pool's take that wakes the blended pools watching the queue it took from (one event
    later at the same instant, once its agent has taken the contact off the queue)."""

    def take(pool: Pool, now: float) -> Taken | None:
        taken = inner(pool, now)
        if taken is not None and taken[0].department in watched:
            call_after(blending.centre.env, 0.0, blending.wake_later, taken[0].department)
        return taken

    return take


def _preference_take(pool: Pool, _now: float) -> Taken | None:
    return next_call_for(pool)


def wire(centre: Centre) -> None:
    """Arrange every multi-channel group's tiers by its channel priority; then, if any group is blended,
    give its pool its rules, the chat queues it serves their arrival policy, the pools sharing its queues
    ranked above chat a waking take, and the run the blended `hand_call`. Runs after `email.attach`."""
    scenario = centre.scenario
    names = centre.department_names
    channels = [channel_of(scenario, name) for name in names]
    pools = {pool.name: pool for pool in centre.pools}
    blended: list[tuple[Pool, tuple[str, ...]]] = []
    for name in scenario.agent_groups:
        if len(group_channels(scenario, name)) < 2:
            continue
        pool = pools[name]
        order = channel_priority(scenario, name)
        pool.tiers = [tier for tier in _by_channel(pool.tiers, channels, order) if tier]
        if is_blended(scenario, name):
            blended.append((pool, order))
    if not blended:
        return
    blending = Blending(centre, channels)
    for pool, order in blended:
        blend = Blend(blending, pool, order)
        pool.blend = blend
        pool.take = _preference_take  # `agent.take_next` hands a blended agent to `Blend.next_work`
        blending.blends.append(blend)
        for queue in blend.above:
            blending.watchers.setdefault(queue.index, []).append(blend)
    watched = frozenset(blending.watchers)
    for pool in centre.pools:
        if pool.blend is None and any(queue.index in watched for tier in pool.tiers for queue in tier):
            pool.take = _waking_take(pool.take or _preference_take, watched, blending)
    for queue in centre.queues:
        if queue.index in blending.chat_indices and any(pool.blend is not None for pool in queue.servers):
            department = scenario.departments[queue.name]
            queue.policy = ChatRoute(
                queue.servers, department.queue_capacity, department.when_full == "message"
            )
    inner = centre.patience_runs_out

    def runs_out(event: Any) -> None:
        inner(event)
        department = event.value[0].department
        if department in watched:
            blending.wake(department)

    centre.patience_runs_out = runs_out
    centre.hand_call = partial(hand_call, centre)
    call_at(centre.env, scenario.duration, blending.wake_all)
