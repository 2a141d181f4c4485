"""The model behind a report, in words: this scenario's assumptions (arrivals, staffing, holds, callbacks,
redials, agent groups, the experience formula) and every KPI's definition, quoted from `sim/analysis/metrics.py`."""

from __future__ import annotations

import inspect
from typing import Any

from sim.analysis import confidence, kpis
from sim.model.durations import format_clock, format_duration
from sim.model.scenario import Callbacks, Scenario, conferences
from sim.output.console import features
from sim.output.report_availability import availability_assumptions
from sim.output.report_call_types import call_type_assumptions
from sim.output.report_costs import cost_assumptions
from sim.output.report_policies import policy_assumptions

_NOBODY_FREE = {
    "wait": "the caller waits for one with the first agent on the line, as on a warm transfer",
    "alone": "the first agent serves the caller alone",
    "lost": "the caller leaves unresolved (dropped)",
}
"""What a conference does when nobody of the next department is free, in words."""

# (summary key, name of its defining function in sim/analysis/metrics.py): the docstring is the definition.
# Read from the KPI registry; the replication half-width is defined by the function that computes it.
DEFINITIONS: tuple[tuple[str, str], ...] = (
    *((entry.key, entry.function) for entry in kpis.KPIS if entry.function),
    *((f"by_department.{entry.key}", entry.function) for entry in kpis.DEPARTMENT_KPIS if entry.function),
    ("ci95", "half_width"),
)


def _dist(value: Any) -> str:
    """`lognormal, mean 240 s, cv 0.80` from a distribution spec."""
    if value is None:
        return "none"
    try:
        mean, cv = float(value.mean_value()), float(value.cv_value())
    except (AttributeError, NotImplementedError):
        return str(value)
    kind = getattr(value, "dist", type(value).__name__.lower())
    if kind == "fixed":
        return f"fixed {mean:g} s"
    if kind == "uniform":
        return f"uniform {value.low:g}-{value.high:g} s"
    if kind == "triangular":
        return f"triangular, low {value.low:g} s, mode {value.mode:g} s, high {value.high:g} s"
    return f"{kind}, mean {mean:g} s" + (f", cv {cv:.2f}" if cv and kind not in ("exponential",) else "")


def _share(p: float) -> str:
    return f"{100 * p:.0f}%" if abs(100 * p - round(100 * p)) < 1e-9 else f"{100 * p:.1f}%"


def staffing_text(staffing: Any, scenario: Scenario) -> str:
    if staffing is None:
        return "no own agents"
    if staffing.count is not None:
        return f"{staffing.count} agents all day"
    if staffing.per_interval is not None:
        counts = list(staffing.per_interval)
        return f"per interval, {min(counts)} to {max(counts)} agents"
    if staffing.file is not None:
        periods = staffing.file.periods
        agents = len({p.agent for p in periods if p.agent})
        named = f" of {agents} named agents" if agents else ""
        return f"agent schedule {staffing.file.source}: {len(periods)} periods{named}"
    shifts = staffing.shifts or ()
    return "shifts " + ", ".join(f"{format_clock(s.start)}-{format_clock(s.end)} x{s.count}" for s in shifts)


def hold_assumptions(scenario: Scenario) -> list[str]:
    """One sentence per department with mid-call holds: chance, promise, check-back, callback, patience."""
    items = []
    for name, department in scenario.departments.items():
        hold = department.hold
        if hold is None:
            continue
        times = (
            f"up to {hold.max_holds} times per call, each time"
            if hold.max_holds > 1
            else "at most once per call,"
        )
        after = (
            f"the caller keeps holding with a new {format_duration(hold.promise)} promise "
            f"({_share(1 - hold.callback_share)}) or takes a callback ({_share(hold.callback_share)}), whose "
            "handle time is the talk and research left"
            if hold.callback_share > 0
            else "the caller keeps holding with a new promise"
        )
        patience = (
            f"A caller hangs up on hold (abandoned_on_hold) when a stretch of holding (up to one promise) "
            f"outlasts their hold patience ({_dist(hold.patience)}, drawn for each stretch)."
            if hold.patience is not None
            else "Callers never hang up on hold."
        )
        items.append(
            f"{name} holds: {times} with probability {_share(hold.probability)}, at a uniformly drawn point of the "
            f"remaining talk, the agent puts the caller on hold to research ({_dist(hold.duration)}), promising "
            f"{format_duration(hold.promise)}. Research done within the promise: the talk resumes. Otherwise the "
            f"agent checks back when the promise runs out ({_dist(hold.check_back_time)} of talk) and {after}. "
            f"{patience} The agent stays busy throughout: holds cost agent time."
        )
    return items


def callback_assumptions(scenario: Scenario) -> list[str]:
    """Callbacks instead of waiting (or chosen on hold): offer, estimated wait, place, window, dial-out."""
    offer = scenario.callback
    from_hold = any(d.hold is not None and d.hold.callback_share > 0 for d in scenario.departments.values())
    if offer is None and not from_hold:
        return []
    settings = offer or Callbacks()
    items = []
    if offer is not None:
        place = (
            "in the caller's place in the queue (keep_place: virtual hold)"
            if offer.keep_place
            else "after every live caller (keep_place: false)"
        )
        items.append(
            "Callbacks instead of waiting: a caller joining a queue is told an estimated wait, (callers ahead + "
            "1) x the department's mean handle + wrap time / the agents on duty who take that queue. Over "
            f"{format_duration(offer.offer_when_wait_over)} a callback is offered and {_share(offer.accept)} "
            f"accept: they hang up (the line is freed) and a callback entry waits {place}. Accepting a callback "
            "is not abandoning; service_level counts these callers as misses (they were not answered within "
            "the threshold), service_level_live leaves them out."
        )
    hold_note = (
        " Callbacks chosen on hold wait after every live caller"
        + (
            ""
            if offer is not None
            else ", with the default callback settings (the scenario has no callback block)"
        )
        + "."
        if from_hold
        else ""
    )
    retries = (
        f"otherwise the callback waits again, after every live caller, {format_duration(settings.retry_delay)} "
        f"later, up to {settings.retries} retries, then is given up (callback_failed)"
        if settings.retries
        else "otherwise it is given up (callback_failed)"
    )
    items.append(
        f"Callback window {format_duration(settings.window)}: a callback not dialled by the end of its window less "
        "the time the front of the queue takes to reach an agent (mean handle + wrap time / agents on duty, "
        "judged when the callback is requested) moves to the front of its caller's priority level, ahead of "
        f"live callers of that priority.{hold_note} The agent who reaches a callback dials out "
        f"({_dist(settings.dial_time)}, the agent busy); the caller answers with probability "
        f"{_share(settings.answer_probability)} and is then served as a normal call; {retries}. "
        "callback_promise_kept checks the first dial-out against the window."
    )
    return items


def redial_assumptions(scenario: Scenario) -> list[str]:
    """Who calls again, when, and how often."""
    redial = scenario.redial
    if redial is None or (redial.blocked is None and redial.abandoned is None):
        return []
    rules = []
    if redial.blocked is not None:
        rules.append(
            f"a caller who heard a busy signal calls again with probability {_share(redial.blocked.probability)} "
            f"after {_dist(redial.blocked.delay)}"
        )
    if redial.abandoned is not None:
        rules.append(
            "one who gave up (in a queue, ringing or on hold) with probability "
            f"{_share(redial.abandoned.probability)} after {_dist(redial.abandoned.delay)}"
        )
    return [
        f"Redials: {'; '.join(rules)}; up to {redial.max_attempts} calls per caller in all, and only while the "
        "day is open. Each redial is a new call"
        + _redial_patience_text(scenario)
        + ": offered counts calls, unique_callers counts people."
        + (
            f" {_share(redial.as_callback)} of redials come back as a callback request instead of a call."
            if redial.as_callback > 0
            else ""
        )
    ]


def _redial_patience_text(scenario: Scenario) -> str:
    if scenario.redial is not None and scenario.redial.patience == "remaining":
        return " keeping the patience the caller had left (all after a busy signal, none after giving up)"
    return " with fresh patience from the same distribution" if scenario.patience is not None else ""


def experience_assumption(scenario: Scenario) -> str:
    """The experience score's formula with this scenario's parameters."""
    x = scenario.experience
    ends = x.end_badness
    w = x.peak_weight
    return (
        "Caller-experience score, a model (the peak-end rule: people judge an experience by its worst moment "
        "and by how it ended), not a survey result; 0 worst, 10 best. Each call: badness of a wait = min(1, "
        f"wait / {x.wait_tolerance:g} s) for each live queue visit; of a hold = min(1, hold time / "
        f"{x.hold_tolerance:g} s) for each hold; a broken hold promise {x.overrun_badness:g}, a misroute "
        f"(transferred, or first answered where the reason cannot be resolved) {x.misroute_badness:g}, a busy "
        f"signal {x.busy_badness:g}. peak = the worst of these (0 if none); end = how the call ended: first "
        f"agent {ends.first_agent:g}, later agent {ends.later_agent:g}, callback {ends.callback:g}, "
        f"self-service {ends.self_service:g}, unresolved (any other ending: abandoned, blocked, hung up on "
        f"hold, dropped, callback given up, still in the system) "
        f"{ends.unresolved:g}. score = 10 x (1 - {w:g} x peak - {1 - w:g} x end)."
    )


def assumptions(scenario: Scenario, reps: int) -> list[str]:
    """The model's assumptions for this scenario, in plain sentences."""
    arrivals = scenario.arrivals
    if arrivals.trace_times is not None or arrivals.trace:
        arriving = f"Arrivals replay a recorded trace ({arrivals.trace or 'inline'})."
        own = [
            what
            for what, given in (
                ("handle time", arrivals.trace_handle_times),
                ("patience", arrivals.trace_patience),
            )
            if given is not None
        ]
        if own:
            arriving += f" Each call has its own {' and '.join(own)} where the trace gives one."
    elif arrivals.per_interval is not None:
        counts = list(arrivals.per_interval)
        arriving = (
            f"Arrivals are a Poisson process with a constant rate in each interval: {min(counts):g} to "
            f"{max(counts):g} calls per interval."
        )
    elif arrivals.per_interval_by_reason is not None:
        arriving = (
            "Each reason's calls are a Poisson process of their own with a constant rate in each interval: "
            + ", ".join(
                f"{name} {min(counts):g} to {max(counts):g}"
                for name, counts in arrivals.per_interval_by_reason.items()
            )
            + " calls per interval."
        )
    else:
        arriving = f"Arrivals are a Poisson process at {arrivals.per_hour or 0:g} calls an hour."
    if arrivals.busyness is not None:
        arriving += (
            f" Days are busier or quieter than that: every rate of a simulated day is multiplied by a factor "
            f"drawn for that day from a gamma distribution with mean 1 and cv {arrivals.busyness.cv:g}."
        )
    if arrivals.reasons:
        arriving += " Reasons: " + ", ".join(f"{r} {100 * p:.0f}%" for r, p in arrivals.reasons.items()) + "."
    end = scenario.start + scenario.duration
    items = [
        f"The day runs {format_clock(scenario.start)}-{format_clock(end)} in {format_duration(scenario.interval)} "
        f"intervals; arrivals stop at closing and calls still in the system are served afterwards (at most "
        f"{format_duration(scenario.drain)} more).",
        arriving,
        f"Calls arriving in the first {format_duration(scenario.warmup)} are simulated but not counted."
        if scenario.warmup
        else "There is no warm-up: every call counts.",
        f"Patience (time a caller will wait for an answer): {_dist(scenario.patience)}."
        if scenario.patience is not None
        else "Callers have infinite patience: nobody abandons.",
        f"{scenario.lines} trunk lines; a caller who finds them all taken gets a busy signal (blocked)."
        if scenario.lines
        else "Unlimited trunk lines: nobody is blocked.",
        f"An agent lets a call ring {scenario.ring.rings} cycle(s) of {scenario.ring.cycle:g} s before answering; "
        "time to answer = queue wait + ring.",
        "One queue per department, first come first served within a priority level; an arriving call goes to "
        "the longest-idle eligible agent.",
        f"Service level: calls answered within {scenario.service_level.threshold:g} s of joining the queue / "
        f"offered calls; abandoned and blocked calls count as misses. Target {100 * scenario.service_level.target:.0f}%.",
        f"Transfers are {scenario.transfers.mode}"
        + (
            f" (a conference brings in an agent only if one is free at once; otherwise "
            f"{_NOBODY_FREE[scenario.transfers.if_nobody_free]})"
            if conferences(scenario)
            else ""
        )
        + (f", at most {scenario.max_transfers} per caller" if scenario.max_transfers is not None else "")
        + ".",
    ]
    if scenario.ivr is not None:
        items.append(
            f"An IVR menu ({_dist(scenario.ivr.menu_time)}) routes callers correctly with probability "
            f"{scenario.ivr.accuracy:.0%}."
        )
    if arrivals.priority:
        items.append(
            "Priorities (lower first; unlisted reasons 1): "
            + ", ".join(f"{r} {p}" for r, p in arrivals.priority.items())
            + "."
        )
    for name, department in scenario.departments.items():
        sentence = (
            f"{name}: {staffing_text(department.agents, scenario)}; handle time {_dist(department.handle_time)}; "
            f"wrap-up {_dist(department.wrap_time)}."
        )
        if department.overflow is not None:
            sentence += (
                f" After waiting {format_duration(department.overflow.after)} a call also becomes eligible for "
                f"{', '.join(department.overflow.to)}, who take it after the calls of their own skills."
            )
        items.append(sentence)
    for name, group in scenario.agent_groups.items():
        skills = ", ".join(f"{d} (preference {p})" for d, p in group.skills.items())
        speeds = [f"x{f:g} on {d}" for d, f in group.speed.items() if f != 1.0]
        speed = (
            f"; handle time is the department's times its speed factor: {', '.join(speeds)} (above 1 is slower)"
            if speeds
            else "; they handle calls at the departments' own speed (speed factor 1)"
        )
        items.append(
            f"Agent group {name}: {staffing_text(group.agents, scenario)}, serving {skills}, lower preference "
            f"first, then priority, then longest wait{speed}."
        )
    items += policy_assumptions(scenario)  # routing policies and queue capacities, if any
    items += hold_assumptions(scenario)
    items += callback_assumptions(scenario)
    items += redial_assumptions(scenario)
    items += call_type_assumptions(scenario, _dist)
    items += availability_assumptions(scenario)  # shrinkage, breaks, absence, if any
    items += cost_assumptions(scenario)  # wages, overtime, line, abandonment and waiting prices, if any
    if features(scenario).experience:
        items.append(experience_assumption(scenario))
    items.append(
        f"Results are means over {reps} independent replications (common random numbers by seed); the queue, "
        "wait and transfer pictures show replication 0."
        if reps > 1
        else "One replication: every number is one simulated day, subject to chance; run with --reps for "
        "confidence intervals."
    )
    return items


def definitions() -> list[tuple[str, str, str]]:
    """(summary keys, where the definition comes from, the definition) for every KPI in the registry: a
    figure computed by a function is defined by its docstring (keys sharing a function are listed together),
    a count by the registry's words."""
    entries = [
        *((entry.key, entry) for entry in kpis.KPIS),
        *((f"by_department.{entry.key}", entry) for entry in kpis.DEPARTMENT_KPIS),
    ]
    keys_of: dict[str, list[str]] = {}
    found: dict[str, tuple[str, str]] = {}
    for key, entry in entries:
        source = f"metrics.{entry.function}" if entry.function else "count"
        identity = source if entry.function else key
        keys_of.setdefault(identity, []).append(key)
        found.setdefault(identity, (source, entry.describe()))
    half_width = inspect.getdoc(confidence.half_width) or ""
    keys_of["confidence.half_width"] = ["ci95"]
    found["confidence.half_width"] = ("confidence.half_width", " ".join(half_width.split()))
    keys_of["kpis.VOICE_HEADLINE"] = ["(voice)"]  # the headline of a centre of several channels
    found["kpis.VOICE_HEADLINE"] = ("kpis.VOICE_HEADLINE", kpis.VOICE_HEADLINE_RULE)
    return [(", ".join(keys_of[identity]), source, doc) for identity, (source, doc) in found.items()]
