"""What the terminal shows: short rich tables that degrade to plain text when piped."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from rich.console import Console, ConsoleDimensions
from rich.markup import escape
from rich.table import Table

from sim.analysis import kpis

if TYPE_CHECKING:  # off the import path: `callsim --help` and `validate` need neither pandas nor the model
    import pandas as pd

    from sim.model.loading import ScenarioError
    from sim.model.scenario import Scenario


PIPED_WIDTH = 1000
"""The width a console lays out at when its output is not a terminal (a pipe, a file): tables are printed
whole at their natural width, never wrapped mid-word at an assumed 80 columns."""


class PipedConsole(Console):
    """A rich console that, writing to a terminal, fits its width; writing anywhere else (piped to a file,
    `grep` or a script), takes `PIPED_WIDTH`, so a table keeps each row on one line. A width given, or set
    through `COLUMNS`, is kept."""

    @property
    def size(self) -> ConsoleDimensions:
        dimensions = Console.size.fget(self)  # type: ignore[attr-defined]
        if self._width is None and self._environ.get("COLUMNS") is None and not self.is_terminal:
            return ConsoleDimensions(PIPED_WIDTH, dimensions.height)
        return dimensions

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Features:
    """Which optional parts of the model a run has, so summaries show their figures and only theirs."""

    holds: bool = False
    callbacks: bool = False
    """Callbacks instead of waiting (a `callback` block)."""
    hold_callbacks: bool = False
    """Callers on hold may take a callback (a hold's `callback_share` > 0)."""
    redials: bool = False
    groups: bool = False
    routing: bool = False
    """Callers can be misrouted or passed on: an IVR, or explicit transfer networks."""
    experience: bool = False
    """The experience score tells something beyond the wait: holds, callbacks, redials, misroutes, or a
    scenario that sets its own `experience` parameters."""


EMAIL_ROWS = (
    "emails_handled",
    "email_within_due",
    "email_backlog_at_open",
    "email_backlog_at_close",
    "email_backlog_max_age",
    "emails_overdue",
    "email_overdue_calls",
)
"""The email figures the console shows for a run with email departments."""


def features(scenario: Scenario | None, summary: Mapping[str, Any] | None = None) -> Features:
    """What the scenario has; without one (an old caller), what the summary shows happened."""
    if scenario is not None:
        holds = [d.hold for d in scenario.departments.values() if d.hold is not None]
        found = Features(
            holds=bool(holds),
            callbacks=scenario.callback is not None,
            hold_callbacks=any(h.callback_share > 0 for h in holds),
            redials=scenario.redial is not None
            and (scenario.redial.blocked is not None or scenario.redial.abandoned is not None),
            groups=bool(scenario.agent_groups),
            routing=scenario.ivr is not None
            or any(d.transfer is not None for d in scenario.departments.values()),
        )
        from sim.model.scenario import Experience

        custom = scenario.experience != Experience()
    else:
        summary = summary or {}

        def positive(key: str) -> bool:
            value = summary.get(key)
            return isinstance(value, int | float) and not math.isnan(value) and value > 0

        found = Features(
            holds=positive("hold_rate"),
            callbacks=positive("callbacks_offered"),
            hold_callbacks=positive("callbacks_from_hold"),
            redials=positive("attempts_per_caller") and float(summary["attempts_per_caller"]) > 1,
            groups=bool(summary.get("by_group")),
            routing=positive("transfers_per_call") or positive("self_served"),
        )
        custom = False
    return replace(
        found,
        experience=custom
        or found.holds
        or found.callbacks
        or found.hold_callbacks
        or found.redials
        or found.routing,
    )


def lookup(summary: Mapping[str, Any] | None, key: str) -> Any:
    """A summary value by dotted key (`experience.mean`); None when absent."""
    value: Any = summary
    for part in key.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _number(value: Any, kind: str = "") -> str:
    if value is None or isinstance(value, str | Mapping) or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if kind == "%":
        return f"{100 * value:.1f}%"
    if kind == "s":
        return f"{value:.1f}s"
    if kind == "h":
        return f"{value:.1f}h"
    if kind == "n":
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    if kind == "money":
        return f"{value:,.2f}"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.2f}"
    return f"{int(value):,}"


def _with_ci(summary: Mapping[str, Any], key: str, kind: str, ci: Mapping[str, Any] | None) -> str:
    text = _number(lookup(summary, key), kind)
    half = lookup(ci, key)
    if text != "-" and isinstance(half, float) and not math.isnan(half) and half > 0:
        text += f" ± {_number(half, kind)}"
    return text


Row = tuple[str, str, str]
"""(label, summary key, unit): as the KPI registry gives them (`sim.analysis.kpis`)."""
COST_ROWS = (
    *("costs.total", "costs.wages", "costs.overtime", "costs.lines", "costs.abandonment", "costs.waiting"),
    *("costs.per_offered_call", "costs.per_answered_call"),
)
"""The cost figures the console and the report show, when the scenario sets `costs:`."""


CHAT_ROWS = ("offered", "answered", "abandoned", "service_level", "asa", "abandon_rate")
"""The chat channel's figures (`chat_KEY`) the console shows beside a voice headline."""


def _rows(*keys: str) -> list[Row]:
    """Console rows of these summary keys: label and unit from the KPI registry."""
    return [(kpis.kpi(key).console_label, key, kpis.kpi(key).unit) for key in keys]


def summary_rows(summary: Mapping[str, Any], found: Features) -> list[list[Row]]:
    """The summary table's rows in groups: the headline, then routing, holds, callbacks, redials and
    experience when the run has them (which figures, in which order, is this view's choice; their labels
    and units are the registry's)."""
    target = summary.get("service_level_target")
    headline = _rows(
        *("offered", "answered", "abandoned", "blocked", "service_level", "answered_within_rings", "asa"),
        *("mean_wait", "p90_wait", "abandon_rate", "occupancy", "aht", "first_contact_routing"),
    )
    headline = [(kpis.label_in(label, key, summary), key, kind) for label, key, kind in headline]  # (voice)
    level = headline[4][0]
    goal = f"target {_number(target, '%')}"
    channel = kpis.headline_channel(summary)
    level = f"{level[:-1]}, {goal})" if channel else f"{level} ({goal})"  # `(voice, target 80%)`
    headline[4] = (level, *headline[4][1:])
    groups: list[list[Row]] = [headline]
    if kpis.voice_only(summary) and "chat_service_level" in summary:  # calls and chats: the chats' own
        groups.append(_rows(*(f"chat_{key}" for key in CHAT_ROWS)))
    messages = [key for key in ("messages", "block_rate", "message_rate") if "message_rate" in summary]
    if messages:  # a department with a queue capacity: callers lost (blocked) or leaving a message
        groups.append(_rows(*messages))
    if found.routing:
        conference = ["conference_missed_rate"] if "conference_missed_rate" in summary else []
        groups.append(
            _rows("first_contact_resolution", "transfers_per_call", "mean_agents_touched", *conference)
        )
    if found.holds:
        groups.append(_rows("hold_rate", "mean_hold_time", "hold_overrun_rate", "abandoned_on_hold"))
    if found.callbacks or found.hold_callbacks:
        keys: list[str] = []
        if found.callbacks:
            keys += ["service_level_live", "callbacks_offered", "callbacks_accepted"]
        if found.hold_callbacks:
            keys.append("callbacks_from_hold")
        keys += ["callback_promise_kept", "mean_time_to_callback", "callbacks_failed"]
        groups.append(_rows(*keys))
    if found.redials:
        groups.append(_rows("unique_callers", "attempts_per_caller"))
    if found.experience:
        groups.append(_rows("experience.mean", "experience.share_below_5"))
    available = ("utilisation", "paid_hours", "break_hours", "unavailable_hours", "absent_agents")
    if "utilisation" in summary:  # shrinkage, breaks or absence (`sim.analysis.availability`)
        groups.append(_rows(*(key for key in available if key in summary)))
    if "slot_use" in summary:  # chat pools (`sim.analysis.chat`)
        groups.append(_rows("chat_occupancy", "slot_use"))
    if "outbound_dials" in summary:  # a campaign list (`sim.analysis.outbound`)
        nuisance = ["nuisance_rate"] if "nuisance_rate" in summary else []
        groups.append(
            _rows(
                "outbound_dials",
                "outbound_contacts",
                "outbound_contacts_per_agent_hour",
                *nuisance,
                "outbound_list_left",
            )
        )
    if "emails_handled" in summary:  # email departments (`sim.analysis.email`)
        groups.append(_rows(*EMAIL_ROWS))
    if isinstance(summary.get("costs"), Mapping):  # the scenario sets prices (`sim.analysis.costs`)
        groups.append(_rows(*COST_ROWS))
    days = [key for key in ("days_meeting_target", "busyness") if key in summary]
    if days:  # replicated runs, and days of random busyness
        groups.append(_rows(*days))
    return [groups[0]] + [[(kpis.label_in(label, key, summary), key, kind) for label, key, kind in rows]
                          for rows in groups[1:]]


def summary_table(summary: Mapping[str, Any], title: str, found: Features | None = None) -> Table:
    """The headline KPIs (with 95% half-widths when replicated), and the figures of the model's optional
    parts the run has (`found`; by default what the summary shows happened)."""
    ci = summary.get("ci95") if isinstance(summary.get("ci95"), Mapping) else None
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("KPI")
    table.add_column("value", justify="right")
    groups = summary_rows(summary, found if found is not None else features(None, summary))
    for index, rows in enumerate(groups):
        for label, key, kind in rows:
            table.add_row(label, _with_ci(summary, key, kind, ci))
        if index < len(groups) - 1:
            table.add_section()
    return table


DEPARTMENT_COLUMNS = ("visits", "answered", "abandoned", "service_level", "asa", "occupancy")
"""The per-department figures the console shows, labelled and formatted as the registry says."""


def department_table(summary: Mapping[str, Any], by: str = "department") -> Table:
    """Per department (or, with `by="channel"`, per channel: its departments together): visits, answered,
    abandoned, service level, ASA, occupancy (departments only)."""
    keys = (
        DEPARTMENT_COLUMNS if by == "department" else tuple(k for k in DEPARTMENT_COLUMNS if k != "occupancy")
    )
    entries = [kpis.department_kpi(key) for key in keys]
    table = Table(title=f"by {by}", header_style="bold")
    table.add_column(by, justify="left")
    for entry in entries:
        table.add_column(entry.console_label, justify="right")
    for name, row in summary.get(f"by_{by}", {}).items():
        table.add_row(name, *[_number(row.get(entry.key), entry.unit) for entry in entries])
    return table


def group_table(summary: Mapping[str, Any]) -> Table:
    """Per agent group: occupancy and the calls it handled for each department (skill)."""
    groups: Mapping[str, Any] = summary.get("by_group") or {}
    departments = list(summary.get("by_department") or {})
    for values in groups.values():
        departments += [d for d in (values.get("handled") or {}) if d not in departments]
    table = Table(title="agent groups: calls handled by skill", header_style="bold")
    occupancy = kpis.department_kpi("occupancy")
    for column in ("group", occupancy.console_label, *departments, "total"):
        table.add_column(column, justify="left" if column == "group" else "right")
    for name, values in groups.items():
        handled = values.get("handled") or {}
        counts = [float(handled.get(d, 0) or 0) for d in departments]
        table.add_row(
            name,
            _number(values.get("occupancy"), occupancy.unit),
            *[_number(n, "n") for n in counts],
            _number(sum(counts), "n"),
        )
    return table


def own_agents_line(summary: Mapping[str, Any]) -> str:
    """`answered by own agents: billing 62.0%, technical 74.2% (the rest by groups or overflow)`."""
    shares = ", ".join(
        f"{escape(name)} {_number(row.get('answered_by_own_agents'), '%')}"
        for name, row in (summary.get("by_department") or {}).items()
    )
    return f"answered by own agents: {shares} (the rest by groups or overflow)"


def department_rows(intervals: pd.DataFrame) -> pd.DataFrame:
    """The interval table's department rows (not `all`, not agent groups; an old table has no `kind`)."""
    if "kind" in intervals.columns:
        return intervals[intervals["kind"].astype(str) == "department"]
    return intervals[intervals["department"].astype(str) != "all"]


def goals_table(verdicts: Mapping[str, Mapping[str, Mapping[str, Any]]], replicated: bool) -> Table:
    """Each scope's goals for the day: the goal, the value, met or missed (`sim.analysis.goals`); with
    replications, the share of them meeting the goal, and a note where the goal is within the 95% CI."""
    from sim.analysis.goals import LABELS, format_value

    table = Table(title="service goals (day)", header_style="bold")
    for name in (
        "scope",
        "goal",
        "target",
        "value",
        "verdict",
        *(("replications met",) if replicated else ()),
    ):
        table.add_column(name, justify="left" if name in ("scope", "goal", "verdict") else "right")
    colours = {"met": "green", "missed": "red"}
    for scope, goals in verdicts.items():
        for goal, entry in goals.items():
            verdict = str(entry["verdict"])
            text = f"[{colours[verdict]}]{verdict}[/]" if verdict in colours else verdict
            if entry.get("within_ci"):
                text += " (goal within the 95% CI)"
            value = format_value(goal, float(entry["value"]))
            cells = [escape(scope), LABELS[str(entry.get("figure", goal))], str(entry["goal"]), value, text]
            if replicated:
                cells.append(_number(entry.get("replications_met"), "%"))
            table.add_row(*cells)
    return table


def missed_goals_line(intervals: pd.DataFrame, scenario: Scenario | None, summary: Mapping[str, Any]) -> str:
    """`9 of 80 interval cells missed a goal: 08:30 technical (service level 69.2%), ...`: the count every
    view shows (`sim.analysis.goals.missed_cells`). Without a scenario, the summary's service-level target
    for all calls and each department."""
    from sim.analysis.goals import cell_names, interval_verdicts, judged_cells, missed_cells, scope_goals
    from sim.model.goals import GoalSet

    if scenario is not None:
        scopes = scope_goals(scenario)
    else:
        default = GoalSet(service_level=float(summary.get("service_level_target", 0.8)))
        departments = list(summary.get("by_department") or {})
        scopes = {name: default for name in ["all", *(departments if len(departments) > 1 else [])]}
    verdicts = interval_verdicts(intervals, scenario if scenario is not None else scopes)  # emails: within due
    cells = missed_cells(verdicts)
    judged = judged_cells(verdicts)
    if scenario is None or scenario.goals is None:
        goal = f"the {100 * float(scopes['all'].service_level or 0):.0f}% service-level target"
    else:
        goal = "a goal"
    if not len(cells):
        met = "its goals" if goal == "a goal" else goal
        return f"[green]every one of {judged} interval cells met {met}[/]"
    names = cell_names(cells)
    most = 40  # as the report names them (`report_intervals.MAX_NAMED`)
    more = f" and {len(names) - most:,} more" if len(names) > most else ""
    listing = escape(", ".join(names[:most]) + more)
    return f"[yellow]{len(cells)} of {judged} interval cells missed {goal}:[/] {listing}"


def print_run(
    console: Console,
    summary: Mapping[str, Any],
    intervals: pd.DataFrame,
    title: str,
    scenario: Scenario | None = None,
) -> None:
    """Summary (with holds, callbacks, redials and experience when the scenario has them), departments,
    agent groups, and the intervals that missed the target."""
    found = features(scenario, summary)
    console.print(summary_table(summary, title, found))
    several = len(summary.get("by_department", {})) > 1
    if summary.get("by_channel"):  # calls and chats (...) in one centre
        console.print(department_table(summary, "channel"))
    if several:
        console.print(department_table(summary))
    if found.groups and summary.get("by_group"):
        console.print(group_table(summary))
        console.print(own_agents_line(summary), highlight=False)
    if scenario is not None and scenario.goals is not None:
        from sim.analysis.goals import summary_verdicts

        day = (summary.get("goals") or {}).get("day") or summary_verdicts(summary, scenario)
        console.print(goals_table(day, int(summary.get("reps", 1) or 1) > 1))
    console.print(missed_goals_line(intervals, scenario, summary))


def say(console: Console, label: str, message: object, style: str = "red") -> None:
    """`label: message` on one line, the label coloured; the message printed as it is (a file name or a
    user's value may hold '[/]', which Rich would take for markup)."""
    from sim.model.durations import printable  # a name with a newline must not split the line

    console.print(f"[{style}]{label}:[/] {escape(printable(str(message)))}", highlight=False, soft_wrap=True)


def print_problems(console: Console, error: ScenarioError) -> None:
    """A refused scenario: one line per fault, with its YAML path."""
    from sim.model.durations import printable

    source = f" {escape(printable(error.source))}" if error.source else ""  # a file name may hold '[/]'
    console.print(
        f"[red]error:[/] scenario{source} refused ({len(error.problems)} problem(s)):", highlight=False
    )
    for problem in error.problems:
        console.print(f"  {problem}", highlight=False, markup=False, soft_wrap=True)


@contextmanager
def progress(
    console: Console, total: int, description: str, enabled: bool = True, delay: float = 1.0
) -> Iterator[Callable[..., None]]:
    """A progress bar on `console` that appears only if the work is still going after `delay` seconds and
    only on a terminal (never when piped); yields `step(description=None, advance=1)`."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    task = bar.add_task(description, total=total)
    lock = threading.Lock()
    state = {"started": False, "done": False}

    def show() -> None:
        with lock:
            if not state["done"]:
                bar.start()
                state["started"] = True

    timer = threading.Timer(delay, show) if enabled and console.is_terminal else None
    if timer is not None:
        timer.daemon = True
        timer.start()

    def step(description: str | None = None, advance: int = 1) -> None:
        if description:
            bar.update(task, advance=advance, description=description)
        else:
            bar.update(task, advance=advance)

    try:
        yield step
    finally:
        if timer is not None:
            timer.cancel()
        with lock:
            state["done"] = True
            if state["started"]:
                bar.stop()


def comparison_table(frame: pd.DataFrame, labels: tuple[str, str], tested: bool) -> Table:
    """KPIs of runs A and B side by side: values, B - A, and (with replications) p-value and verdict."""
    title = f"A: {escape(labels[0])}   B: {escape(labels[1])}"  # a label may hold brackets: `[a, b]`
    if len(title) > 60:  # long names (what differs between the runs) stay on their own lines above the table
        title = "A vs B"
    table = Table(title=title, header_style="bold")
    for column in ("KPI", "A", "B", "B - A"):
        table.add_column(column, justify="left" if column == "KPI" else "right")
    if tested:
        table.add_column("p", justify="right")
        table.add_column("verdict")
    colours = {"B better": "green", "A better": "red", "differs": "yellow"}
    short = {"no significant difference": "n.s.", "not tested": "-"}

    def value(number: Any, unit: str) -> str:
        if unit == "n":
            number = float(number)
            return (
                "-" if math.isnan(number) else f"{number:,.0f}" if number.is_integer() else f"{number:,.1f}"
            )
        if unit == "h":
            return f"{float(number):.1f}h"
        return _number(number, {"%": "%", "s": "s", "money": "money"}.get(unit, ""))

    for row in frame.to_dict(orient="records"):
        unit = str(row["unit"])
        change = float(row["difference"])
        difference = value(change, unit)
        if difference != "-" and change > 0:
            difference = "+" + difference
        if unit == "%" and difference != "-":
            difference = difference.replace("%", " pts")
        cells = [str(row["label"]), value(row["a"], unit), value(row["b"], unit), difference]
        if tested:
            p = float(row["p_value"])
            verdict = short.get(str(row["verdict"]), str(row["verdict"]))
            colour = colours.get(verdict)
            cells += ["-" if math.isnan(p) else f"{p:.3f}", f"[{colour}]{verdict}[/]" if colour else verdict]
        table.add_row(*cells)
    return table
