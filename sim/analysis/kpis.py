"""The one registry of KPIs: for each figure a run reports, its key in `summary.json` (and in the interval
table), a label for reports and comparisons, a short label for the console, its unit, which way is better,
and the function in `sim.analysis.metrics` whose docstring defines it.

Every view reads this table and none restates it: the console's summary, the report's KPI tables and
definitions, `callsim compare`, the sweep's plots and the staffing search. A new KPI is one function in
`metrics` and one row here; the views pick it up.

Units: "%" a share (0-1, shown in percent), "s" seconds, "h" hours, "n" a count, "x" a ratio or mean count,
"money" an amount in the scenario's money unit (`costs:`), "" a score. `better`: +1 higher is better, -1 lower is better, 0 neither (volumes, occupancy, handle time).
`compared`: the comparison (`callsim compare`, `sim.compare`) shows the KPI.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Kpi:
    """One figure: how it is named, measured and judged, and where it is defined."""

    key: str
    """Its key in `summary.json` (dotted for nested figures) and, for per-interval figures, its column."""
    label: str
    """Its name in reports and comparisons."""
    unit: str
    better: int
    group: str
    """Which part of the model it belongs to: headline, routing, holds, callbacks, redials, experience,
    chat, email, outbound, agents, days (busyness and replications); the console and report show a group
    when the run has it."""
    function: str = ""
    """The function in `sim.analysis.metrics` that computes it and whose docstring is its definition
    (empty for plain counts, defined by `definition`)."""
    definition: str = ""
    """The definition in words when no function docstring gives it (counts of outcomes)."""
    short: str = ""
    """A compact label for the console (default: `label`)."""
    compared: bool = False
    """Whether `callsim compare` (and `sim.compare`) shows it: the figures worth a verdict A vs B, centre-wide
    and, in `DEPARTMENT_KPIS`, for each department both runs have."""

    @property
    def console_label(self) -> str:
        """The label the console shows."""
        return self.short or self.label

    def describe(self) -> str:
        """The definition in one paragraph: the defining function's docstring, or `definition`."""
        if self.function:
            from sim.analysis import metrics

            doc = inspect.getdoc(getattr(metrics, self.function))
            if doc:
                return " ".join(doc.split())
        return self.definition


CHANNEL_DEFINITIONS = {
    "offered": ("offered", "n", 0, "{what} offered: arrivals after the warm-up whose first department is of the channel."),
    "answered": ("answered", "n", 1, "{what} an agent answered."),
    "abandoned": ("abandoned", "n", -1, "{what} whose customer gave up waiting (or ringing)."),
    "service_level": ("service level", "%", 1,
                      "{what} answered within their first department's threshold (goals.departments.NAME."
                      "threshold, else service_level.threshold) of arriving / offered (abandoned and "
                      "blocked ones count as misses){note}."),
    "asa": ("ASA", "s", -1, "Mean first queue wait of the {lower} an agent answered (seconds)."),
    "mean_wait": ("mean wait", "s", -1, "Mean queue wait of the {lower} not blocked, answered or not (seconds)."),
    "abandon_rate": ("abandonment", "%", -1, "{what} abandoned / offered."),
}
"""Per channel figure (`sim.analysis.channel_kpis.CHANNEL_FIGURES`): label, unit, better, definition."""
_CHANNEL_WORDS = {
    "voice": ("Voice calls", "voice calls", " (in a centre of several channels, the headline figure of the "
              "same name)"),
    "chat": ("Chats", "chats", ": a chat's first response is the agent's answer, so this is first response "
             "within the threshold of its first department (goals.departments.NAME.threshold, else the centre's "
             "service_level.threshold: within each department's own threshold; the target may be a chat "
             "department's goals.departments.NAME.service_level)"),
}


def _channel_kpis() -> tuple[Kpi, ...]:
    """`voice_KEY` and `chat_KEY`: a voice or chat channel's figures, present in a centre with a chat or
    email department (`sim.analysis.channel_kpis`)."""
    out = []
    for channel, (what, lower, note) in _CHANNEL_WORDS.items():
        for key, (label, unit, better, text) in CHANNEL_DEFINITIONS.items():
            out.append(
                Kpi(f"{channel}_{key}", f"{label} ({channel})", unit, better, "channels",
                    definition=text.format(what=what, lower=lower, note=note if key == "service_level" else ""),
                    compared=channel == "chat" and key in ("service_level", "asa", "abandon_rate"))
            )
    return tuple(out)


# fmt: off
# One row a KPI: key, label, unit, better, group, defining function in metrics; then keyword fields.
KPIS: tuple[Kpi, ...] = (
    Kpi("arrivals", "arrivals", "n", 0, "headline",
        definition="Every call that arrived after the warm-up, whatever became of it."),
    Kpi("self_served", "self-served in the phone menu", "n", 0, "routing",
        definition="Arrivals the IVR's self-service resolved (not part of offered)."),
    Kpi("offered", "offered calls", "n", 0, "headline", "offered", compared=True),
    Kpi("answered", "answered", "n", 1, "headline", definition="Offered calls an agent answered.",
        compared=True),
    Kpi("abandoned", "abandoned", "n", -1, "headline",
        definition="Offered calls whose caller hung up while waiting.", compared=True),
    Kpi("blocked", "blocked (busy signal or full queue)", "n", -1, "headline",
        definition="Calls that found every trunk line taken, or, nobody free, a department's queue full "
        "(queue_capacity, when_full: lost)."),
    Kpi("messages", "messages left at a full queue", "n", -1, "headline",
        definition="Callers who found a department's queue full, nobody free, and left a message "
        "(when_full: message); in the summary only where a department has a queue_capacity."),
    Kpi("in_system", "still in the system at the end", "n", -1, "headline",
        definition="Calls still waiting or talking when the day was cut off at the close plus the drain."),
    Kpi("dropped", "dropped after too many transfers", "n", -1, "routing",
        definition="Callers who hung up unresolved after max_transfers (on_max_transfers: hang_up)."),
    Kpi("service_level", "service level", "%", 1, "headline", "service_level", compared=True),
    Kpi("answered_within_rings", "answered within rings", "%", 1, "headline", "answered_within_rings",
        compared=True),
    Kpi("asa", "average speed of answer", "s", -1, "headline", "asa", short="ASA (answered calls)",
        compared=True),
    Kpi("mean_wait", "mean wait (calls reaching a queue)", "s", -1, "headline", "mean_wait",
        short="mean wait (all reached)", compared=True),
    Kpi("p90_wait", "90th-percentile wait", "s", -1, "headline", "p90_wait", short="90th percentile wait",
        compared=True),
    Kpi("p_wait", "share of callers who waited", "%", -1, "headline", "p_wait"),
    Kpi("abandon_rate", "abandonment rate", "%", -1, "headline", "abandon_rate", compared=True),
    Kpi("block_rate", "blocking rate", "%", -1, "headline", "block_rate", compared=True),
    Kpi("message_rate", "message rate", "%", -1, "headline", "message_rate", compared=True),
    Kpi("occupancy", "agent occupancy", "%", 0, "headline", "occupancy", short="occupancy", compared=True),
    Kpi("aht", "average handle time", "s", 0, "headline", "aht", short="AHT", compared=True),
    Kpi("chat_occupancy", "chat agents' time with a chat in hand", "%", 0, "chat", "chat_occupancy",
        short="chat occupancy", compared=True),
    Kpi("slot_use", "chat slots in use", "%", 0, "chat", "slot_use", short="slot use", compared=True),
    Kpi("outbound_dials", "outbound dials", "n", 0, "outbound", compared=True,
        definition="Campaign records dialled after the warm-up (each attempt counts; sim.model.outbound)."),
    Kpi("outbound_contacts", "outbound right-party contacts", "n", 1, "outbound", short="outbound contacts",
        compared=True, definition="Outbound dials the right person answered and an agent talked to, after the "
        "warm-up (predictive nuisance calls left out)."),
    Kpi("outbound_contacts_per_agent_hour", "outbound contacts per agent-hour", "x", 1, "outbound",
        "outbound_contacts_per_agent_hour", short="contacts per agent-hour", compared=True),
    Kpi("nuisance_rate", "nuisance calls (predictive)", "%", -1, "outbound", "nuisance_rate",
        short="nuisance rate", compared=True),
    Kpi("outbound_list_left", "campaign records left at the close", "n", -1, "outbound", "outbound_list_left",
        short="list left", compared=True),
    Kpi("emails_arrived", "emails arrived", "n", 0, "email",
        definition="Emails that arrived during the day (the backlog at the open not included)."),
    Kpi("emails_handled", "emails handled", "n", 1, "email", compared=True,
        definition="Emails an agent took during the day (the backlog at the open included; no warm-up)."),
    Kpi("email_within_due", "emails handled within their due time", "%", 1, "email", "within_due_share",
        short="within due", compared=True),
    Kpi("email_backlog_at_open", "email backlog at the open", "n", 0, "email",
        definition="Emails waiting at the open (email.backlog)."),
    Kpi("email_backlog_at_close", "email backlog at the close", "n", -1, "email", short="backlog at close",
        compared=True, definition="Emails still waiting at the close (left for the next day)."),
    Kpi("email_backlog_mean_age", "mean age of the backlog at the close", "s", -1, "email",
        definition="Mean time since arrival of the emails waiting at the close (0 without any)."),
    Kpi("email_backlog_max_age", "oldest email at the close", "s", -1, "email",
        definition="The largest time since arrival among the emails waiting at the close (0 without any)."),
    Kpi("emails_overdue", "emails overdue", "n", -1, "email", compared=True,
        definition="Emails that passed their due time still waiting (handled later, or left at the close)."),
    Kpi("email_overdue_calls", "calls from overdue emails", "n", -1, "email",
        definition="Calls made by customers of overdue emails (email.overdue_calls: share, delay)."),
    *_channel_kpis(),
    Kpi("first_contact_routing", "first-contact routing", "%", 1, "headline", "first_contact_routing"),
    Kpi("first_contact_resolution", "first-contact resolution", "%", 1, "routing", "first_contact_resolution",
        compared=True),
    Kpi("transfers_per_call", "transfers per answered call", "x", -1, "routing", "transfers_per_call",
        compared=True),
    Kpi("mean_agents_touched", "agents met per answered call", "x", -1, "routing", "mean_agents_touched",
        compared=True),
    Kpi("misroute_cost_hours", "agent time on misrouted segments", "h", -1, "routing", "misroute_cost_hours",
        compared=True),
    Kpi("conference_missed_rate", "conferences that found nobody free", "%", -1, "routing",
        "conference_missed_rate", short="conferences missed", compared=True),
    Kpi("hold_rate", "answered calls put on hold", "%", 0, "holds", "hold_rate", short="calls put on hold"),
    Kpi("mean_hold_time", "mean time on one hold", "s", -1, "holds", "mean_hold_time",
        short="mean time on hold"),
    Kpi("p90_hold_time", "90th-percentile time on one hold", "s", -1, "holds", "p90_hold_time"),
    Kpi("hold_overrun_rate", "holds that outran their promise", "%", -1, "holds", "hold_overrun_rate",
        short="holds over their promise"),
    Kpi("abandoned_on_hold", "callers who hung up on hold", "n", -1, "holds", short="hung up on hold",
        definition="Answered calls whose caller hung up during a mid-call hold."),
    Kpi("agent_hours_on_hold", "agent time with a caller on hold", "h", -1, "holds",
        definition="Agent hours spent while their caller was on a mid-call hold."),
    Kpi("agent_hours_checking_back", "agent time checking back", "h", -1, "holds",
        definition="Agent hours spent checking back with callers on hold."),
    Kpi("service_level_live", "service level, live callers (callbacks left out)", "%", 1, "callbacks",
        "service_level_live", short="service level, live callers"),
    Kpi("callbacks_offered", "callbacks offered on joining a queue", "n", 0, "callbacks",
        short="callbacks offered", definition="Callers offered a callback instead of waiting."),
    Kpi("callbacks_accepted", "callbacks accepted", "n", 0, "callbacks",
        definition="Callers who took the callback offered in the queue."),
    Kpi("callbacks_from_hold", "callbacks taken at a check-back", "n", 0, "callbacks",
        short="callbacks taken on hold", definition="Callers who asked for a callback during a mid-call hold."),
    Kpi("callback_promise_kept", "callbacks first dialled within the window", "%", 1, "callbacks",
        "callback_promise_kept", short="callbacks dialled within window"),
    Kpi("mean_time_to_callback", "mean time from request to first dial-out", "s", -1, "callbacks",
        "mean_time_to_callback", short="mean time to callback"),
    Kpi("callback_answer_rate", "dial-outs answered", "%", 1, "callbacks", "callback_answer_rate"),
    Kpi("callbacks_failed", "callbacks given up after every retry", "n", -1, "callbacks",
        short="callbacks given up",
        definition="Callbacks never completed: every dial-out attempt missed the caller."),
    Kpi("agent_hours_dialling", "agent time dialling out", "h", -1, "callbacks",
        definition="Agent hours spent dialling out to callers who asked for a callback."),
    Kpi("unique_callers", "callers (people)", "n", 0, "redials",
        definition="Distinct people who called, counting a redial as the same caller."),
    Kpi("attempts_per_caller", "calls per caller (redials included)", "x", -1, "redials",
        "attempts_per_caller", short="calls per caller (redials)"),
    Kpi("mean_wait_per_caller", "mean total wait per caller, across redials", "s", -1, "redials",
        "mean_wait_per_caller", short="wait per caller (redials)"),
    Kpi("callbacks_from_redials", "redials that asked for a callback", "n", 0, "redials",
        definition="Callers who came back by asking to be called back instead of calling (redial.as_callback)."),
    Kpi("experience.mean", "experience score, mean (0 worst, 10 best)", "x", 1, "experience",
        "experience_summary", short="experience score (model, 0-10)"),
    Kpi("experience.p10", "experience score, 10th percentile", "x", 1, "experience", "experience_summary"),
    Kpi("experience.share_below_5", "calls scoring below 5", "%", -1, "experience", "experience_summary"),
    Kpi("agent_hours", "agent time logged in", "h", 0, "agents",
        definition="Hours agents were logged in over the counted day (after the warm-up).", compared=True),
    Kpi("utilisation", "agent utilisation (of paid time)", "%", 0, "availability",
        definition="Busy agent-seconds (ringing, talking, wrapping up) / paid agent-seconds over the counted "
        "day, paid = logged in + on a break + rostered but unavailable (shrinkage, absence); occupancy is "
        "busy / logged in, which leaves breaks, shrinkage and absence out (sim.analysis.availability). "
        "Without them the two agree.", short="utilisation"),
    Kpi("paid_hours", "agent time rostered (paid)", "h", 0, "availability",
        definition="Hours agents were rostered over the counted day: logged in, on a break, or rostered "
        "but unavailable (shrinkage, absence)."),
    Kpi("break_hours", "agent time on breaks", "h", 0, "availability",
        definition="Hours agents spent on scheduled breaks and lunches (from going to coming back)."),
    Kpi("unavailable_hours", "agent time lost to shrinkage and absence", "h", 0, "availability",
        definition="Rostered hours the roster did not apply: the rostered level less the level after "
        "absence and shrinkage, over the counted day.", short="shrinkage and absence hours"),
    Kpi("absent_agents", "agents absent for the day", "n", 0, "availability",
        definition="Rostered agents missing for the whole day (absence: each with its probability); over "
        "replications, the mean."),
    Kpi("costs.total", "total cost", "money", -1, "costs", compared=True,
        definition="Wages + overtime premium + line cost + abandonment cost + waiting cost, in the scenario's "
        "money unit (costs: block; sim.analysis.costs)."),
    Kpi("costs.wages", "wages (paid hours x wage)", "money", -1, "costs", short="wages", compared=True,
        definition="Each pool's paid hours over the counted day (logged in, on a break, rostered but "
        "unavailable) x its wage per hour (costs.wage_per_hour, costs.by_pool.NAME.wage_per_hour)."),
    Kpi("costs.overtime", "overtime premium", "money", -1, "costs", compared=True,
        definition="(overtime.factor - 1) x wage x the roster's overtime hours: of each rostered agent's day "
        "(a shift, or a named agent's schedule rows), the hours past overtime.after, within the counted day."),
    Kpi("costs.lines", "line cost", "money", -1, "costs", compared=True,
        definition="Minutes counted callers held a trunk line (arrival to leaving, or to a callback request; "
        "an answered callback's dial-out from first dial to end; blocked calls and chats none) x line_per_minute."),
    Kpi("costs.abandonment", "abandonment cost", "money", -1, "costs", compared=True,
        definition="Abandoned calls (hung up waiting or ringing) x abandoned_call."),
    Kpi("costs.waiting", "waiting cost", "money", -1, "costs", compared=True,
        definition="Minutes live callers waited in queues (every visit, transfers included; not callback "
        "requests) x waiting_minute."),
    Kpi("costs.per_offered_call", "cost per offered call", "money", -1, "costs", compared=True,
        definition="Total cost / offered calls."),
    Kpi("costs.per_answered_call", "cost per answered call", "money", -1, "costs", compared=True,
        definition="Total cost / answered calls."),
    Kpi("costs.overtime_hours", "overtime hours (rostered)", "h", -1, "costs", short="overtime hours",
        definition="Rostered agent-hours past overtime.after of each agent's day, within the counted day."),
    Kpi("costs.line_hours", "line time held by callers", "h", 0, "costs", short="line hours",
        definition="Hours counted callers held a trunk line (as for the line cost)."),
    Kpi("busyness", "the day's busyness factor", "x", 0, "days",
        definition="The factor every arrival rate of the day was multiplied by (arrivals.busyness: a gamma "
        "draw with mean 1 and the given cv, one per replication); over replications, their mean."),
    Kpi("days_meeting_target", "days meeting the service-level target", "%", 1, "days",
        definition="Share of replications (simulated days) whose service level reached the target: the "
        "chance a day meets it, which the mean does not tell (sim.analysis.confidence.days_meeting_target)."),
    Kpi("carried_in", "work carried in from the day before", "n", 0, "week", short="carried in",
        definition="A week's day: callbacks not dialled at the previous close and redials due after it, "
        "brought into this day (carry_in events; sim.engine.carry_over)."),
    Kpi("carried_out", "work carried over to the next day", "n", -1, "week", short="carried out",
        definition="A week's day: callbacks still waiting for a dial-out at the close (or due a retry after "
        "it) and redials due after the close, kept for the next morning (carry_out events)."),
)
"""Every centre-wide KPI, in the order reports show them."""

DEPARTMENT_KPIS: tuple[Kpi, ...] = (
    Kpi("visits", "visits", "n", 0, "department",
        definition="Callers reaching the department's queue: first arrivals and transfers in."),
    Kpi("answered", "answered", "n", 1, "department", definition="Visits answered by an agent."),
    Kpi("callbacks_answered", "of them callbacks", "n", 0, "department",
        definition="Answered visits that were callbacks dialled by the department's agents."),
    Kpi("abandoned", "abandoned", "n", -1, "department", definition="Visits whose caller hung up waiting."),
    Kpi("blocked", "blocked", "n", -1, "department",
        definition="Callers bound here first who found every trunk line taken, or this department's or a "
        "later one's queue full (when_full: lost)."),
    Kpi("service_level", "service level", "%", 1, "department", "visit_service_level", compared=True),
    Kpi("asa", "ASA", "s", -1, "department", "visit_asa", compared=True),
    Kpi("mean_wait", "mean wait", "s", -1, "department", "mean_wait"),
    Kpi("abandon_rate", "abandonment", "%", -1, "department", "abandon_rate", compared=True),
    Kpi("occupancy", "occupancy", "%", 0, "department", "occupancy"),
    Kpi("chat_occupancy", "chat occupancy", "%", 0, "department", "chat_occupancy"),
    Kpi("slot_use", "slot use", "%", 0, "department", "slot_use"),
    Kpi("utilisation", "utilisation (of paid time)", "%", 0, "department",
        definition="With shrinkage, breaks or absence: the pool's busy agent-seconds / its paid agent-seconds "
        "(logged in + on break + rostered but unavailable), beside occupancy (busy / logged in)."),
    Kpi("cost", "cost (pay, waiting, abandonment)", "money", -1, "department", compared=True,
        definition="With costs: the department's own agents' wages and overtime premium, plus the waiting and "
        "abandonment cost of its visits (lines are not split by department; agent groups' pay is their own)."),
    Kpi("wages", "wages", "money", -1, "department",
        definition="With costs: the pool's paid hours x its wage per hour."),
    Kpi("overtime", "overtime premium", "money", -1, "department",
        definition="With costs and overtime: the pool's rostered overtime hours x wage x (factor - 1)."),
    Kpi("waiting_cost", "waiting cost", "money", -1, "department",
        definition="With costs: minutes live callers waited in the department's queue x waiting_minute."),
    Kpi("abandonment_cost", "abandonment cost", "money", -1, "department",
        definition="With costs: visits abandoned in the department's queue x abandoned_call."),
    Kpi("transfers_in", "transfers in", "n", 0, "department",
        definition="Callers transferred into the department's queue."),
    Kpi("transfers_out", "transfers out", "n", -1, "department",
        definition="Callers the department's agents transferred elsewhere."),
    Kpi("emails_handled", "emails handled", "n", 1, "department",
        definition="An email department's emails an agent took during the day."),
    Kpi("email_within_due", "within due", "%", 1, "department", "within_due_share"),
    Kpi("email_backlog_at_close", "backlog at close", "n", -1, "department",
        definition="An email department's emails still waiting at the close."),
    Kpi("emails_arrived", "emails arrived", "n", 0, "department",
        definition="An email department's emails that arrived during the day."),
    Kpi("email_backlog_at_open", "backlog at open", "n", 0, "department",
        definition="An email department's emails waiting at the open."),
    Kpi("email_backlog_mean_age", "backlog mean age", "s", -1, "department",
        definition="Mean time since arrival of an email department's emails waiting at the close."),
    Kpi("email_backlog_max_age", "oldest at close", "s", -1, "department",
        definition="The largest time since arrival among an email department's emails waiting at the close."),
    Kpi("emails_overdue", "emails overdue", "n", -1, "department",
        definition="An email department's emails that passed their due time still waiting."),
    Kpi("email_overdue_calls", "overdue calls", "n", -1, "department",
        definition="Calls made by customers of an email department's overdue emails."),
    Kpi("answered_by_own_agents", "answered by own agents", "%", 0, "department",
        definition="Share of the department's answered visits taken by its own agents rather than a group's."),
)
"""The per-department figures (`summary.json` `by_department.NAME.KEY`, interval rows of kind department)."""
# fmt: on

VOICE_HEADLINE = frozenset(
    {
        *("arrivals", "self_served", "offered", "answered", "abandoned", "blocked", "messages", "in_system"),
        *("dropped", "service_level", "answered_within_rings", "asa", "mean_wait", "p90_wait", "p_wait"),
        *("abandon_rate", "block_rate", "message_rate", "aht", "first_contact_routing"),
        *("first_contact_resolution", "transfers_per_call", "mean_agents_touched", "service_level_live"),
        *("unique_callers", "attempts_per_caller", "mean_wait_per_caller"),
        *("experience.mean", "experience.p10", "experience.share_below_5"),
    }
)
"""The headline figures a centre of several channels (`by_channel` in its summary) counts over its voice
contacts only (`sim.analysis.channel_kpis`): their labels say `(voice)` there (`label_in`). Occupancy and
agent time stay every agent's work."""

VOICE_HEADLINE_RULE = (
    "In a centre of several channels (voice, chat, email departments together) the headline call figures "
    "(offered, answered, abandoned, blocked, service level, ASA, waits, abandonment, AHT, first-contact "
    "routing and resolution, holds, callbacks, redials, experience) count the voice contacts only (a "
    "contact's channel is its first department's) and are labelled (voice); occupancy and agent time stay "
    "every agent's work; chats are judged by the chat_ figures, emails by the email figures (an email "
    "department's service level is not measured: its goal is judged on email_within_due)."
)
"""`VOICE_HEADLINE`'s rule in words, for the report's definitions."""

SETTINGS = frozenset({"service_level_target"})
"""Summary keys that repeat a scenario setting (for reading the summary alone), not measured figures."""

_BY_KEY = {kpi.key: kpi for kpi in KPIS}
_BY_DEPARTMENT_KEY = {kpi.key: kpi for kpi in DEPARTMENT_KPIS}


def kpi(key: str) -> Kpi:
    """The registry entry of a summary key; `by_department.NAME.KEY`, `by_group.NAME.KEY` and
    `by_channel.NAME.KEY` (a channel's departments together) name the per-department figure KEY (KeyError
    for a key the registry does not know)."""
    if key in _BY_KEY:
        return _BY_KEY[key]
    parts = key.split(".")
    if (
        len(parts) == 3
        and parts[0] in ("by_department", "by_group", "by_channel")
        and parts[2] in _BY_DEPARTMENT_KEY
    ):
        return _BY_DEPARTMENT_KEY[parts[2]]
    raise KeyError(key)


def department_kpi(key: str) -> Kpi:
    """The registry entry of a per-department figure (`asa` in `by_department.billing.asa`; KeyError if unknown)."""
    return _BY_DEPARTMENT_KEY[key]


def known(key: str) -> bool:
    """Whether the registry describes `key`."""
    try:
        kpi(key)
    except KeyError:
        return False
    return True


def in_groups(groups: Iterable[str]) -> list[Kpi]:
    """The centre-wide KPIs of these groups, in registry order."""
    wanted = set(groups)
    return [entry for entry in KPIS if entry.group in wanted]


def compared() -> list[Kpi]:
    """The centre-wide KPIs a comparison shows (flagged `compared`), in registry order."""
    return [entry for entry in KPIS if entry.compared]


def compared_per_department() -> list[Kpi]:
    """The per-department KPIs a comparison shows for each department both sides have, in registry order."""
    return [entry for entry in DEPARTMENT_KPIS if entry.compared]


def lookup(values: Mapping[str, Any] | None, key: str) -> Any:
    """A dotted key's value in a nested summary (None where absent)."""
    value: Any = values
    for part in key.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def voice_only(summary: Mapping[str, Any] | None) -> bool:
    """Whether a summary's headline counts voice contacts only: a centre of several channels (its
    `by_channel` figures, nested or flat as `by_channel.voice.visits`)."""
    if not isinstance(summary, Mapping):
        return False
    return bool(summary.get("by_channel")) or any(str(key).startswith("by_channel.") for key in summary)


def headline_channel(summary: Mapping[str, Any] | None) -> str | None:
    """The channel a summary's headline counts: `voice` in a centre of several channels with calls, `chat`
    in one of chats and emails only; None in a centre of one channel (its headline is all of it)."""
    if summary is None or not voice_only(summary):
        return None
    return "voice" if "voice_offered" in summary else "chat"


def label_in(label: str, key: str, summary: Mapping[str, Any] | None) -> str:
    """A headline figure's label as a run shows it: `offered calls (voice)` where the centre has several
    channels and the figure counts one channel's contacts only (`VOICE_HEADLINE`, `headline_channel`), the
    label itself elsewhere."""
    channel = headline_channel(summary) if key in VOICE_HEADLINE else None
    return f"{label} ({channel})" if channel else label
