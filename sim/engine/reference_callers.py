"""The reference model's callers: when they come, and each caller's story as a SimPy process (the menu,
queueing with patience, callbacks instead of waiting, transfers, giving up and calling again)."""

from __future__ import annotations

import math

import numpy as np

from sim.engine.log import Event
from sim.engine.reference_centre import (
    CALLBACK_LEVEL,
    Call,
    Centre,
    Ending,
    Story,
    Visit,
    hand,
    insert,
    join,
    longest_idle,
)
from sim.engine.reference_policies import turned_away
from sim.model.call_types import factor_at, patience_spec
from sim.model.rates import day_factor

# Arrivals.


def arrival_times(
    centre: Centre,
    counts: tuple[float, ...] | None = None,
    stream: str = "arrivals",
    factor: float | None = None,
) -> list[float]:
    """When callers come: a replayed trace, or a Poisson process whose rate is constant in each interval
    (memoryless, so each interval's arrivals start afresh at its start); `counts` (calls per interval),
    `stream` and `factor` for one reason's own process."""
    scenario = centre.scenario
    arrivals = scenario.arrivals
    if arrivals.trace_times is not None:
        return list(arrivals.trace_times)
    rng = centre.streams.generator(stream)
    if factor is None:
        factor = day_factor(scenario, centre.streams)  # how busy the day is (1 without busyness)
    times: list[float] = []
    for index in range(scenario.interval_count):
        begin = index * scenario.interval
        end = min(begin + scenario.interval, scenario.duration)
        if counts is not None:
            rate = counts[index] / (end - begin)
        elif arrivals.per_interval is not None:
            rate = arrivals.per_interval[index] / (end - begin)
        else:
            rate = (arrivals.per_hour or 0.0) / 3600.0
        rate *= factor
        at = begin
        while rate > 0:
            at += rng.exponential(1.0 / rate)
            if at >= end:
                break
            times.append(at)
    return times


def arrivals_by_reason(centre: Centre) -> list[tuple[float, int]]:
    """`arrivals.per_interval_by_reason`: each reason's own Poisson process (stream `arrivals.<reason>`),
    merged in time order: (instant, reason index) pairs."""
    factor = day_factor(centre.scenario, centre.streams)
    by_reason = centre.scenario.arrivals.per_interval_by_reason or {}
    pairs = [
        (at, index)
        for index, (name, counts) in enumerate(by_reason.items())
        for at in arrival_times(centre, counts, f"arrivals.{name}", factor)
    ]
    return sorted(pairs, key=lambda pair: pair[0])


def doors(centre: Centre) -> Story:
    """Let each caller in at their time (why they call and their patience drawn as they come), then close
    the doors at the end of the day."""
    env = centre.env
    scenario = centre.scenario
    mix = scenario.reason_mix()
    shares = np.array(list(mix.values()), dtype=float)
    reasons = centre.streams.generator("reasons")
    given = scenario.arrivals.trace_reasons
    by_reason = arrivals_by_reason(centre) if scenario.arrivals.per_interval_by_reason is not None else None
    times = arrival_times(centre) if by_reason is None else [at for at, _ in by_reason]
    for index, at in enumerate(times):
        yield env.timeout(max(0.0, at - env.now))
        if by_reason is None:
            reason = int(reasons.choice(len(shares), p=shares / shares.sum()))
        else:
            reason = by_reason[index][1]
        if given is not None and given[index]:
            reason = centre.reasons.index(given[index])
        patience = draw_patience(centre, reason)
        own_patience = scenario.arrivals.trace_patience
        given_patience = own_patience[index] if own_patience is not None else None
        if given_patience is not None:  # the traced call's own
            patience = given_patience
        call = new_call(centre, reason, patience)
        own_handle = scenario.arrivals.trace_handle_times
        if own_handle is not None:  # used at the first department that answers it
            call.own_handle_time = own_handle[index]
        department, menu_time, self_served = first_department(centre, call, "ivr.menu_time", "ivr.decisions")
        env.process(caller(centre, call, department, menu_time, self_served))
    yield env.timeout(max(0.0, scenario.duration - env.now))
    centre.closed = True
    centre.check_done()


def draw_patience(centre: Centre, reason: int, redial: bool = False) -> float:
    """A caller's patience, arriving now: the reason's own else the scenario's (infinite without one),
    times its factor for the interval of arrival."""
    scenario = centre.scenario
    stream, spec = patience_spec(scenario, centre.reasons[reason], redial)
    if spec is None:
        return math.inf
    return centre.draw(stream, spec) * factor_at(scenario, spec, centre.env.now)


def new_call(centre: Centre, reason: int, patience: float) -> Call:
    """A call numbered in order of arrival, with the priority of its reason."""
    centre.call_count += 1
    priority = centre.scenario.arrivals.priority.get(centre.reasons[reason], 1)
    return Call(centre.call_count, reason, priority, centre.env.now, patience)


def first_department(
    centre: Centre, call: Call, menu_stream: str, decisions: str
) -> tuple[int, float | None, bool]:
    """Where the caller goes first, the phone menu's time (None without one) and whether it resolves them:
    the menu picks a department that resolves the reason with its accuracy, else one that cannot."""
    right = centre.resolvers[call.reason][0]
    ivr = centre.scenario.ivr
    if ivr is None:
        return right, None, False
    self_served = centre.draw(decisions) < ivr.self_service.get(centre.reasons[call.reason], 0.0)
    accurate, choice = centre.draw(decisions), centre.draw(decisions)
    wrong = [d for d in range(len(centre.names)) if d not in centre.resolvers[call.reason]]
    department = right if accurate < ivr.accuracy or not wrong else wrong[int(choice * len(wrong))]
    menu_time = centre.draw(menu_stream, ivr.menu_time) * factor_at(centre.scenario, ivr.menu_time, centre.env.now)
    return department, menu_time, self_served


# The caller's story.


def caller(centre: Centre, call: Call, department: int, menu_time: float | None, self_served: bool) -> Story:
    """Dial in (a busy signal if every line is taken), go through the menu, then queue, talk and be sent on
    until served, dropped, or out of patience."""
    env = centre.env
    centre.record(Event.ARRIVE, call.id, -1, department, call.reason)
    lines = centre.scenario.lines
    if lines is not None and centre.lines_busy >= lines:
        centre.record(Event.BLOCK, call.id, -1, department, 0.0)
        maybe_redial(centre, call, "blocked")
        return
    centre.lines_busy += 1
    call.on_line = True
    centre.active += 1
    if menu_time is not None:
        yield env.timeout(menu_time)
        if self_served:
            centre.record(Event.SELF_SERVICE, call.id, -1, -1, menu_time)
            leave(centre, call)
            return
        centre.record(Event.IVR, call.id, -1, department, menu_time)
    front = False
    while True:
        ending, target = yield from wait_and_talk(centre, call, department, front)
        if ending is Ending.TRANSFER:
            department = target  # a cold transfer may go to the front; a warm one waits its turn
            front = centre.scenario.transfers.priority and call.handover is None
            continue
        leave(centre, call)
        if ending is Ending.HUNG_UP:
            maybe_redial(centre, call, "abandoned")
        return


def wait_and_talk(centre: Centre, call: Call, department: int, front: bool) -> Story:
    """One queue visit: wait for an agent or run out of patience (perhaps taking a callback offered
    instead), then talk; returns how the conversation ended and where the caller goes next."""
    env = centre.env
    full = turned_away(centre, call, department)
    if full is not None:  # the queue is full: a message left, or lost (may call again, as after a busy signal)
        if not full:
            maybe_redial(centre, call, "blocked")
        return Ending.LEAVE, -1
    call.visited.add(department)
    centre.record(Event.ENQUEUE, call.id, -1, department, call.priority)
    visit = new_visit(centre, call, department, call.priority)
    warm = call.handover is not None  # a colleague stays on the line: no giving up, no callback
    patience = math.inf if warm else call.patience
    offered = centre.scenario.callback
    if longest_idle(centre, department) is None and offered is not None and not warm:
        on_duty = centre.on_duty(department)
        waiting = len(centre.queues[department])
        estimated = (waiting + 1) * centre.mean_work(department) / on_duty if on_duty else math.inf
        if estimated > offered.offer_when_wait_over:
            centre.record(Event.CALLBACK_OFFER, call.id, -1, department, min(estimated, 1e9))
            if centre.draw("callback") < offered.accept:
                return (yield from call_back(centre, call, department, from_hold=False, agent_id=-1))
    join(centre, visit, front)
    overflow = centre.scenario.departments[centre.names[department]].overflow
    if overflow is not None and visit.agent is None:
        env.process(overflow_after(centre, visit, overflow.after))
    if patience < math.inf:
        yield visit.answered | env.timeout(patience)
    else:
        yield visit.answered
    if not visit.answered.triggered:  # patience ran out first
        if visit.agent is None:
            centre.queues[department].remove(visit)
        else:
            visit.hung_up.succeed()
        agent_id = visit.agent.id if visit.agent is not None else -1
        centre.record(Event.ABANDON, call.id, agent_id, department, env.now - visit.queued_at)
        return Ending.HUNG_UP, -1
    if centre.scenario.transfers.patience == "continue":
        call.patience = visit.queued_at + patience - env.now  # what is left carries on
    ending, target = yield visit.ended
    if ending is Ending.CALLBACK:
        assert visit.agent is not None
        return (yield from call_back(centre, call, department, from_hold=True, agent_id=visit.agent.id))
    return ending, target


def new_visit(centre: Centre, call: Call, department: int, level: int, callback: bool = False) -> Visit:
    """A queue entry for the call, queued now."""
    env = centre.env
    return Visit(
        call, department, level, env.now, env.event(), env.event(), env.event(), env.event(), callback
    )


def call_back(centre: Centre, call: Call, department: int, from_hold: bool, agent_id: int) -> Story:
    """The caller takes a callback and hangs up; a callback waits in the queue (in the caller's place, or
    after every live caller) until an agent dials; a missed dial is tried again later, or given up."""
    env = centre.env
    settings = centre.callbacks
    centre.record(Event.CALLBACK_REQUEST, call.id, agent_id, department, 1.0 if from_hold else 0.0)
    release_line(centre, call)
    call.requested_at = env.now
    level = call.priority if settings.keep_place and not from_hold else CALLBACK_LEVEL
    first = True
    while True:
        centre.record(Event.CALLBACK_QUEUE, call.id, -1, department, level)
        visit = new_visit(centre, call, department, level, callback=True)
        join(centre, visit)
        if first and visit.agent is None:  # the promise: dial within the window
            on_duty = centre.on_duty(department)
            lead = centre.mean_work(department) / on_duty if on_duty else 0.0
            env.process(callback_due(centre, visit, max(0.0, settings.window - lead)))
        first = False
        yield visit.answered | visit.missed
        if visit.answered.triggered:
            ending, target = yield visit.ended
            if ending is Ending.CALLBACK:  # put on hold after all, and took another callback
                assert visit.agent is not None
                agent_id = visit.agent.id
                return (yield from call_back(centre, call, department, from_hold=True, agent_id=agent_id))
            return ending, target
        if not visit.missed.value:
            return Ending.LEAVE, -1  # given up (the agent logged it)
        yield env.timeout(settings.retry_delay)
        level = CALLBACK_LEVEL


def callback_due(centre: Centre, visit: Visit, delay: float) -> Story:
    """A callback still waiting when its window runs out moves to the front of its caller's priority."""
    yield centre.env.timeout(delay)
    queue = centre.queues[visit.department]
    if visit in queue:
        centre.record(Event.CALLBACK_DUE, visit.call.id, -1, visit.department, visit.call.priority)
        queue.remove(visit)
        visit.level = visit.call.priority
        insert(queue, visit, front=True)


def overflow_after(centre: Centre, visit: Visit, after: float) -> Story:
    """A caller still waiting after `after` may be taken by back-up agents too (an idle one at once)."""
    yield centre.env.timeout(after)
    queue = centre.queues[visit.department]
    if visit not in queue:
        return
    centre.record(Event.OVERFLOW, visit.call.id, -1, visit.department, 0.0)
    visit.overflowed = True
    agent = longest_idle(centre, visit.department, backups=True)
    if agent is not None:
        queue.remove(visit)
        hand(agent, visit)


def release_line(centre: Centre, call: Call) -> None:
    """The caller puts the phone down (the call may not be finished: a callback)."""
    if call.on_line:
        call.on_line = False
        centre.lines_busy -= 1


def leave(centre: Centre, call: Call) -> None:
    """The call is over."""
    release_line(centre, call)
    centre.active -= 1
    centre.check_done()


def maybe_redial(centre: Centre, call: Call, outcome: str) -> None:
    """A caller who was blocked or gave up may call again after a while, within the day and the attempts."""
    redial = centre.scenario.redial
    if redial is None or call.attempt >= redial.max_attempts:
        return
    rule = redial.blocked if outcome == "blocked" else redial.abandoned
    if rule is None or centre.draw("redial") >= rule.probability:
        return
    delay = centre.draw(f"redial.delay.{outcome}", rule.delay)
    if centre.env.now + delay < centre.scenario.duration:
        centre.env.process(call_again(centre, call, delay))


def call_again(centre: Centre, previous: Call, delay: float) -> Story:
    """The same caller, for the same reason, calls again: a new attempt."""
    yield centre.env.timeout(delay)
    patience = draw_patience(centre, previous.reason, redial=True)
    call = new_call(centre, previous.reason, patience)
    call.attempt = previous.attempt + 1
    department, menu_time, self_served = first_department(centre, call, "redial.ivr.menu_time", "redial")
    centre.record(Event.REDIAL, call.id, -1, department, previous.id)
    centre.env.process(caller(centre, call, department, menu_time, self_served))
