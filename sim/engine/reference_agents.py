"""The reference model's agents: the roster that logs them in and out, and each agent's story as a SimPy
process (take the next call or wait idle, ring or dial, talk with holds, send on or let go, wrap up)."""

from __future__ import annotations

import math

from sim.engine.log import Event
from sim.engine.reference_breaks import GO_ON_BREAK, send_home, take_break
from sim.engine.reference_centre import (
    Agent,
    Call,
    Centre,
    Ending,
    Pool,
    Story,
    Visit,
    longest_idle,
    next_call,
)
from sim.model.call_types import factor_at, work_spec
from sim.model.scenario import accuracy_at

# The agent's story.


def roster(centre: Centre, pool: Pool, levels: list[tuple[float, int]]) -> Story:
    """Apply the pool's staffing changes as the day goes on."""
    env = centre.env
    for at, count in levels:
        if at >= centre.scenario.duration:
            break
        if at > env.now:
            yield env.timeout(at - env.now)
        set_level(centre, pool, count)


def set_level(centre: Centre, pool: Pool, count: int) -> None:
    """Log agents in or out until `count` are on duty; an idle agent rostered off leaves at once, a busy
    one after its call."""
    on_duty = [agent for agent in pool.agents if agent.on_duty and not agent.leaving]
    away = [agent for agent in pool.agents if agent.away]  # on a break: counted, the first to go home
    missing = count - len(on_duty) - len(away)
    for agent in pool.agents:  # agents about to leave stay after all
        if missing > 0 and agent.leaving:
            agent.leaving = False
            missing -= 1
    for agent in pool.agents:
        if missing > 0 and not agent.on_duty and not agent.away:
            log_in(centre, agent)
            missing -= 1
    while missing > 0:
        agent = Agent(centre.agent_count, pool, len(pool.agents) + 1)
        centre.agent_count += 1
        pool.agents.append(agent)
        log_in(centre, agent)
        missing -= 1
    surplus = len(on_duty) + len(away) - count
    for agent in reversed(away):
        if surplus > 0:
            send_home(centre, agent)
            surplus -= 1
    for agent in reversed(on_duty):
        if surplus > 0 and agent in pool.idle:
            pool.idle.remove(agent)
            assert agent.wake is not None
            agent.wake.succeed(None)
            log_out(centre, agent)
            surplus -= 1
    for agent in reversed(on_duty):
        if surplus > 0 and agent.on_duty and not agent.leaving:
            agent.leaving = True
            surplus -= 1


def log_in(centre: Centre, agent: Agent) -> None:
    """Start the agent's shift: a process that works until rostered off."""
    agent.on_duty = True
    centre.record(Event.LOGIN, -1, agent.id, agent.pool.home, 0.0)
    centre.env.process(work(centre, agent))


def log_out(centre: Centre, agent: Agent) -> None:
    """End the agent's shift."""
    agent.on_duty = False
    agent.leaving = False
    agent.break_time = 0.0
    centre.record(Event.LOGOUT, -1, agent.id, agent.pool.home, 0.0)


def work(centre: Centre, agent: Agent) -> Story:
    """Take the next waiting call, or wait idle for one, and serve it; until rostered off."""
    env = centre.env
    while agent.on_duty:
        if agent.leaving:
            log_out(centre, agent)
            return
        if agent.break_time:
            if not (yield from take_break(centre, agent)):
                return  # sent home during the break
            continue
        visit = next_call(centre, agent.pool)
        if visit is not None:
            centre.queues[visit.department].remove(visit)
            visit.agent = agent
        else:
            agent.idle_since = env.now
            agent.wake = env.event()
            agent.pool.idle.append(agent)
            visit = yield agent.wake
            if visit is None:  # rostered off while idle
                return
            if visit == GO_ON_BREAK:
                continue
        yield from serve(centre, agent, visit)


def serve(centre: Centre, agent: Agent, visit: Visit) -> Story:
    """Let it ring (a caller may give up meanwhile) or dial a callback, talk, and wrap up."""
    env = centre.env
    call = visit.call
    centre.busy += 1
    centre.record(Event.RING, call.id, agent.id, visit.department, env.now - visit.queued_at)
    wrap_time = 0.0
    if visit.callback:
        answered = yield from dial(centre, agent, visit)
    else:
        ring_time = centre.scenario.ring_time
        if ring_time > 0:
            yield env.timeout(ring_time) | visit.hung_up
        answered = not visit.hung_up.triggered
    if answered:
        wrap_time = yield from talk(centre, agent, visit)
    if wrap_time > 0:
        yield env.timeout(wrap_time)
    centre.record(Event.IDLE, call.id, agent.id, visit.department, wrap_time)
    centre.busy -= 1
    centre.check_done()


def dial(centre: Centre, agent: Agent, visit: Visit) -> Story:
    """Dial a callback: the caller answers, or the dial is tried again later, or given up."""
    env = centre.env
    call = visit.call
    settings = centre.callbacks
    centre.record(Event.CALLBACK_DIAL, call.id, agent.id, visit.department, env.now - call.requested_at)
    dial_time = centre.draw("callback.dial_time", settings.dial_time)
    yield env.timeout(dial_time)
    call.dials += 1
    if centre.draw("callback") < settings.answer_probability:
        return True
    centre.record(Event.CALLBACK_MISSED, call.id, agent.id, visit.department, dial_time)
    again = call.dials <= settings.retries
    if not again:
        centre.record(Event.CALLBACK_FAILED, call.id, agent.id, visit.department, 0.0)
    visit.missed.succeed(again)
    return False


def talk(centre: Centre, agent: Agent, visit: Visit) -> Story:
    """Answer, find out what the caller needs, talk (with holds), and send them on or let them go; returns
    the wrap-up time that follows."""
    env = centre.env
    call = visit.call
    department = visit.department
    name = centre.names[department]
    spec = centre.scenario.departments[name]
    routing = centre.scenario.routing_of(name)
    centre.record(Event.ANSWER, call.id, agent.id, department, env.now - visit.queued_at)
    visit.answered.succeed(agent)
    consult = 0.0
    if call.handover is not None:  # a colleague stayed on the line: they brief this agent, then leave
        consult = centre.draw("consult_time", centre.scenario.transfers.consult_time)
        call.handover.succeed(consult)
        call.handover = None
    # handle and wrap time: group & reason > department & reason > reason > department, at the arrival's interval
    scenario, reason = centre.scenario, centre.reasons[call.reason]
    group = agent.pool.name if agent.pool.home < 0 else None
    stream, wrap_spec, _ = work_spec(scenario, "wrap_time", name, reason, group)
    wrap_time = centre.draw(stream, wrap_spec) * factor_at(scenario, wrap_spec, call.arrived_at)
    handle = call.work_left
    own = False  # the group's own time: its speed is not applied
    if handle is None:
        stream, handle_spec, own = work_spec(scenario, "handle_time", name, reason, group)
        handle = centre.draw(stream, handle_spec) * factor_at(scenario, handle_spec, call.arrived_at)
        if call.own_handle_time is not None:  # a traced call's own handle time, at its first answer
            handle, call.own_handle_time, own = call.own_handle_time, None, False
    if call.first_handle_time is None:
        call.first_handle_time = handle
    elif spec.linked_handle_time is not None and call.work_left is None and not own:
        handle = spec.linked_handle_time * call.first_handle_time  # a later leg scales the first
    handle *= 1.0 if own else agent.pool.speed.get(department, 1.0)
    extra = 0.0  # time spent putting the transfer through
    resolves = department in centre.resolvers[call.reason]
    if spec.transfer is not None:  # an explicit network: serve anyone, then maybe send them on
        target = -1
        draw, bound = centre.draw("routing"), 0.0
        for next_name, probability in spec.transfer.items():
            bound += probability
            if draw < bound:
                target = centre.names.index(next_name)
                break
    elif resolves or (
        call.transfers >= centre.max_transfers and centre.scenario.on_max_transfers == "escalate"
    ):
        target = -1
    else:  # misrouted: listen, then transfer (or lose the caller after too many transfers)
        listen = centre.draw(f"listen_time.{name}", routing.listen_time)
        if call.transfers >= centre.max_transfers:
            yield env.timeout(consult + listen)
            end_conference(call)
            centre.record(Event.DROP, call.id, agent.id, department, consult + listen)
            visit.ended.succeed((Ending.DROP, -1))
            return wrap_time
        others = [
            d
            for d in range(len(centre.names))
            if d not in call.visited and d not in centre.resolvers[call.reason]
        ]
        accurate, choice = centre.draw("routing"), centre.draw("routing")
        right = centre.resolvers[call.reason][0]
        correct = accurate < accuracy_at(routing.accuracy, listen) or not others
        target = right if correct else others[int(choice * len(others))]
        extra = centre.draw(f"transfer_time.{name}", routing.transfer_time)
        yield env.timeout(consult + listen + extra)
        end_conference(call)
        yield from send_on(centre, agent, visit, target, consult + listen + extra)
        return wrap_time
    if target >= 0:
        extra = centre.draw(f"transfer_time.{name}", routing.transfer_time)
    if consult > 0:
        yield env.timeout(consult)
    ending, talked, left = yield from converse(centre, agent, visit, handle + extra)
    end_conference(call)
    if ending is Ending.CALLBACK:
        call.work_left = left / agent.pool.speed.get(department, 1.0)
    if ending is not Ending.LEAVE:
        visit.ended.succeed((ending, -1))
    elif target >= 0:
        yield from send_on(centre, agent, visit, target, consult + talked)
    else:
        centre.record(Event.END, call.id, agent.id, department, consult + talked)
        visit.ended.succeed((Ending.LEAVE, -1))
    return wrap_time


def send_on(centre: Centre, agent: Agent, visit: Visit, target: int, talked: float) -> Story:
    """Send the caller on: cold, they rejoin the target department's queue alone; warm, this agent stays
    on the line until an agent of the target answers, briefs them (the consultation), then leaves;
    conference, only if an agent of the target is free now, and this agent stays until that agent's part
    of the call is over (with nobody free: as warm, or this agent serves the caller alone, or loses them).
    `talked`: this agent's talk with the caller so far."""
    env = centre.env
    call = visit.call
    spec = centre.scenario.departments[centre.names[visit.department]]
    transfers = centre.scenario.transfers
    mode = spec.transfer_mode or transfers.mode
    free = longest_idle(centre, target) is not None
    if mode == "conference" and not free:
        centre.record(Event.CONFERENCE_MISSED, call.id, agent.id, visit.department, target)
    if mode == "conference" and not free and transfers.if_nobody_free != "wait":
        if transfers.if_nobody_free == "alone":
            name = centre.names[target]
            next_spec = centre.scenario.departments[name]
            alone = centre.draw(f"conference.alone_time.{name}", next_spec.handle_time)
            if next_spec.linked_handle_time is not None and call.first_handle_time is not None:
                alone = next_spec.linked_handle_time * call.first_handle_time
            alone *= agent.pool.speed.get(target, 1.0)
            yield env.timeout(alone)
            centre.record(Event.END, call.id, agent.id, visit.department, talked + alone)
            visit.ended.succeed((Ending.LEAVE, -1))
        else:
            centre.record(Event.DROP, call.id, agent.id, visit.department, talked)
            visit.ended.succeed((Ending.DROP, -1))
        return
    centre.record(Event.TRANSFER, call.id, agent.id, visit.department, target)
    call.transfers += 1
    handover = leg_over = None
    if mode != "cold":
        handover = call.handover = env.event()
    if mode == "conference" and free:
        leg_over = call.conference = env.event()
    visit.ended.succeed((Ending.TRANSFER, target))
    if handover is not None:
        started = env.now
        consult = yield handover
        yield env.timeout(consult)
        if leg_over is not None:
            yield leg_over
        centre.record(Event.HANDOVER, call.id, agent.id, visit.department, env.now - started)


def end_conference(call: Call) -> None:
    """The caller's part of the call with this agent is over: a colleague who conferenced them in leaves."""
    if call.conference is not None:
        leg_over, call.conference = call.conference, None
        leg_over.succeed()


def converse(centre: Centre, agent: Agent, visit: Visit, talk_time: float) -> Story:
    """Talk for `talk_time`, putting the caller on hold as the department's rule says: part-way through,
    the agent needs to research, promises a time, and checks back each time the promise runs out; the
    caller may hang up on hold, or take a callback at a check-back. Returns how it ended, the talk time
    spent (check-backs included) and the work left for a callback."""
    env = centre.env
    call = visit.call
    name = centre.names[visit.department]
    hold = centre.scenario.departments[name].hold
    if hold is None or hold.probability <= 0 or call.work_left is not None:
        call.work_left = None
        yield env.timeout(talk_time)
        return Ending.LEAVE, talk_time, 0.0
    remaining, spent = talk_time, 0.0
    for _ in range(hold.max_holds):
        if centre.draw(f"hold.{name}") >= hold.probability:
            break
        before = centre.draw(f"hold.{name}") * remaining
        yield env.timeout(before)
        remaining -= before
        spent += before
        research = centre.draw(f"hold.duration.{name}", hold.duration)
        on_hold_at = env.now
        centre.record(Event.HOLD, call.id, agent.id, visit.department, hold.promise)
        while True:
            stretch = min(hold.promise, research)
            patience = centre.draw(f"hold.patience.{name}", hold.patience) if hold.patience else math.inf
            if patience < stretch:
                yield env.timeout(patience)
                centre.record(Event.HOLD_ABANDON, call.id, agent.id, visit.department, env.now - on_hold_at)
                return Ending.HUNG_UP, spent, 0.0
            yield env.timeout(stretch)
            research -= stretch
            if research <= 1e-9:
                centre.record(Event.UNHOLD, call.id, agent.id, visit.department, env.now - on_hold_at)
                break
            check_back = centre.draw(f"hold.check_back_time.{name}", hold.check_back_time)
            centre.record(Event.CHECK_BACK, call.id, agent.id, visit.department, check_back)
            yield env.timeout(check_back)
            spent += check_back
            if centre.draw(f"hold.{name}") < hold.callback_share:
                return Ending.CALLBACK, spent, remaining + research
    yield env.timeout(remaining)
    return Ending.LEAVE, spent + remaining, 0.0
