"""`callsim staff` and `callsim erlang`: parse, call the library (`sim.experiments.staffing`), show.

The search reports progress through a callback: on a terminal it drives a progress bar; otherwise (output
to a file, a CI log) one line is printed per finished stage, so a long search is never silent."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from sim.analysis.costs import plan_wages
from sim.cli.common import command_line, folder_and_executor, searched
from sim.cli.staff_emails import (
    email_only_command,
    email_work_only,
    print_sizing,
    size_after_plan,
    written_plan,
)
from sim.experiments.staffing import StaffingError, StaffingPlan, erlang_answers, parse_targets, search
from sim.experiments.staffing.email_sizing import EmailSizing, split_email_targets
from sim.experiments.staffing.plans import with_plan
from sim.experiments.staffing.result import criterion_text, verdict_counts
from sim.model.durations import format_clock, parse_duration
from sim.model.email import email_departments
from sim.model.loading import ScenarioError, load_scenario, one_day
from sim.output.console import print_problems, say
from sim.output.folders import (
    clean_json,
    default_run_dir,
)
from sim.output.staffing_folder import write_staffing

VERDICT_STYLE = {"met": "met", "within CI": "[yellow]within CI[/]", "missed": "[red]missed[/]"}
"""A plan row's verdict as the console shows it (`sim.experiments.staffing.confidence.VERDICTS`)."""
STAGES = {
    "search": "searched every interval from Erlang A",
    "check": "checked the end game on more replications",
    "confirmation": "confirmed with another seed",
}


@contextmanager
def staffing_progress(console: Console, quiet: bool) -> Iterator[Callable[[int, int, str], None]]:
    """A `progress(done, total, stage)` callback: a rich bar on a terminal, else a line per finished stage."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    started = time.perf_counter()
    state = {"stage": ""}
    terminal = console.is_terminal and not quiet
    bar = Progress(
        TextColumn("[bold]staffing[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("cells"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not terminal,
    )
    task = bar.add_task("", total=None)

    def report(done: int, total: int, stage: str) -> None:
        previous = state["stage"]
        if stage != previous:
            state["stage"] = stage
            if previous in STAGES and not terminal and not quiet:
                console.print(
                    f"staffing: {STAGES[previous]} ({time.perf_counter() - started:.1f}s)", highlight=False
                )
        bar.update(task, completed=done, total=total, description=stage)

    with bar:
        yield report


def staff_command(
    scenario: Path,
    targets: Sequence[str],
    ceilings: Sequence[str],
    reps: int,
    confirm_reps: int | None,
    seed: int | None,
    jobs: int | None,
    dask: str | None,
    out_dir: Path | None,
    force: bool,
    overrides: Sequence[str],
    quiet: bool,
    out: Console,
    err: Console,
    only: str | None = None,
    confidence: float | None = None,
    days_met: float | None = None,
    groups: bool = False,
    day: str | None = None,
) -> int:
    """`callsim staff`: search, write the folder, print the plan against Erlang; returns the exit status.
    With `groups`, the agent groups are staffed too (`sim.cli.staff_groups`)."""
    try:
        base = one_day(load_scenario(scenario, overrides), day, "staff", scenario.parent)
        targets, ceilings, email_goal = split_email_targets(targets, ceilings, base, confidence, days_met)
        goals = parse_targets(targets, ceilings, base, confidence, days_met)
    except ScenarioError as error:
        print_problems(err, error)
        return 2
    except StaffingError as error:
        say(err, "error", error)
        return 2
    if not targets and not ceilings and base.goals is not None and not quiet:
        say(err, "targets from the scenario's goals", goals.describe(), "cyan")  # `goal_targets`
    kept = [name for name in email_departments(base) if base.departments[name].agents is not None]
    if kept and not quiet and not groups and email_goal is None:
        say(err, "email departments keep their staffing", ", ".join(sorted(kept)), "cyan")
    if email_goal is not None and email_work_only(base):  # nothing but email to size (`staff_emails`)
        return email_only_command(base, email_goal, reps, seed, jobs, dask, out_dir, force, quiet, out, err)
    if groups:
        if only or confirm_reps is not None:
            say(err, "error", "--groups plans every pool on --reps days: leave out --only and --confirm-reps")
            return 2
        from sim.cli.staff_groups import staff_groups_command

        return staff_groups_command(
            base, goals, reps, seed, jobs, dask, out_dir, force, quiet, out, err, email_goal
        )
    name = f"{base.name}-{only}-staffing" if only else f"{base.name}-staffing"
    target = out_dir or default_run_dir(Path("results"), name)
    executor, code = folder_and_executor(target, force, "the staffing plan", jobs, dask)
    if executor is None:
        return code

    def plan_and_size() -> tuple[StaffingPlan, EmailSizing | None]:
        with staffing_progress(err, quiet) as report:
            result = search(
                base,
                goals,
                None,
                reps=reps,
                confirm_reps=confirm_reps,
                seed=seed,
                executor=executor,
                only=only,
                progress=report,
            )
        if email_goal is None:
            return result, None
        staffed = with_plan(base, result.plan)  # the email-only pools sized on what the plan leaves them
        return result, size_after_plan(staffed, email_goal, reps, result.seed, executor, quiet, err)

    done, code = searched(executor, plan_and_size, StaffingError)
    if done is None:
        return code
    result, sizing = done
    written, code = written_plan(
        lambda: write_staffing(target, result, force, command_line()), target, sizing, err
    )
    if written is None:
        return code
    if not quiet:
        print_plan(out, err, result, written)
        if sizing is not None:
            print_sizing(out, sizing)
    return 0


def print_plan(out: Console, err: Console, result: StaffingPlan, target: Path) -> None:
    """The plan against Erlang, agent-hours, the confirmation, unreachable cells and where it was written."""
    hours = result.hours()
    out.print(plan_table(result))
    day = result.confirmation["day"]
    out.print(
        f"agent-hours: simulated {hours['simulated']['total']:.1f}, Erlang A {hours['erlang_a']['total']:.1f}, "
        f"Erlang C {hours['erlang_c']['total']:.1f}",
        highlight=False,
    )
    if result.scenario.costs is not None:  # the fewest agents per cell are the cheapest: the wage bill
        costs = result.scenario.costs
        bill = {name: plan_wages(values, costs)["total"] for name, values in hours.items()}
        out.print(
            f"wages ({costs.currency or 'money'}): simulated {bill['simulated']:,.2f}, Erlang A "
            f"{bill['erlang_a']:,.2f}, Erlang C {bill['erlang_c']:,.2f}",
            highlight=False,
        )
    out.print(
        f"confirmation (seed {result.confirm_seed}, {result.confirm_reps} replications; met "
        f"{criterion_text(result.targets)}): {verdict_counts(result.confirmation)}; day service level "
        f"{100 * day.get('service_level', math.nan):.1f}%, abandonment {100 * day.get('abandon_rate', math.nan):.1f}%",
        highlight=False,
    )
    emails = result.confirmation.get("emails")
    if emails is not None:  # email departments kept their staffing: what the plan leaves them
        out.print(emails["line"], highlight=False)
        if emails["warning"]:
            say(err, "warning", emails["warning"], "yellow")
    if result.unreachable:
        scenario = result.scenario
        where = ", ".join(
            f"{format_clock(scenario.start + i * scenario.interval)} {d}" for i, d in result.unreachable
        )
        say(err, "targets not reached (more agents stopped helping, or the cap was hit)", where, "yellow")
    out.print(
        f"staffing: {target / 'staffing.yaml'}  ({result.simulated_days} simulated days in "
        f"{result.wall_time:.1f}s)",
        highlight=False,
    )


def plan_table(result: StaffingPlan) -> Table:
    """Per interval and department: calls, Erlang C, Erlang A, simulated, and the confirmation figures."""
    shown = Table(title=f"staffing for {result.targets.describe()}", header_style="bold", box=box.SIMPLE_HEAD)
    columns = ("start", "department", "calls/h", "ErlC", "ErlA", "sim", "SL", "abandon", "P(met)", "verdict")
    for column in columns:
        shown.add_column(column, justify="left" if column in ("start", "department") else "right")
    shown.pad_edge = False
    shown.collapse_padding = True
    shown.caption = (
        "ErlC, ErlA: Erlang C and A; sim: the plan; SL, abandon: confirmation run ± 95% CI; P(met): share of "
        f"its days meeting every target; verdict: met {criterion_text(result.targets)}"
    )
    for _, row in result.table.iterrows():
        shown.add_row(
            str(row["start"]),
            str(row["department"]),
            f"{row['calls_per_hour']:.0f}",
            str(row["erlang_c"]),
            str(row["erlang_a"]),
            f"[bold]{row['simulated']}[/]",
            _percent(row["confirm_service_level"], row["confirm_service_level_ci95"]),
            _percent(row["confirm_abandon_rate"], row["confirm_abandon_rate_ci95"]),
            _percent(row["confirm_met_share"], math.nan) if row["confirm_verdict"] else "-",
            VERDICT_STYLE.get(row["confirm_verdict"], "-"),
        )
    return shown


def _percent(value: float, width: float) -> str:
    if value is None or math.isnan(value):
        return "-"
    text = f"{100 * value:.1f}"
    return text + (f"±{100 * width:.1f}" if width is not None and not math.isnan(width) else "") + "%"


def erlang_command(
    per_hour: float,
    aht: str,
    patience: str | None,
    threshold: str,
    target: float,
    max_abandon: float,
    as_json: bool,
    out: Console,
    err: Console,
    slots: int = 1,
    slowdown: str | None = None,
) -> int:
    """`callsim erlang`: the Erlang C and Erlang A answers for one queue; returns the exit status. With
    `slots` (and `slowdown`, factors by number of chats in hand, `1,1.25,1.5`), a chat queue whose agents
    hold several chats at once (`sim.experiments.staffing.start.erlang_answers`)."""
    problems = [
        f"{name}: must be a number in {bounds}, got {value:g}"
        for name, value, ok, bounds in (
            ("--per-hour", per_hour, 0 < per_hour <= 1e6, "(0, 1,000,000] calls per hour"),
            ("--target", target, 0 < target <= 1, "(0, 1]"),
            ("--max-abandon", max_abandon, 0 < max_abandon <= 1, "(0, 1]"),
        )
        if not ok  # NaN fails every comparison
    ]
    if problems:
        for problem in problems:
            say(err, "error", problem)
        return 2
    try:
        factors = None if slowdown is None else [_factor(text) for text in slowdown.split(",")]
        answers = erlang_answers(
            per_hour,
            parse_duration(aht),
            parse_duration(patience) if patience else math.inf,
            parse_duration(threshold),
            target,
            max_abandon,
            slots=slots,
            slowdown=factors,
        )
    except (ValueError, StaffingError) as error:
        say(err, "error", error)
        return 2
    if as_json:
        print(json.dumps(clean_json(answers), indent=2))
        return 0
    out.print(erlang_table(answers, per_hour, aht, patience, threshold, target, max_abandon))
    out.print(
        f"Erlang C (no abandonment): {answers['erlang_c']['agents']} agents; "
        f"Erlang A (callers abandon after a mean {patience or 'infinite'} patience): "
        f"{answers['erlang_a']['agents']} agents",
        highlight=False,
    )
    if "slots" in answers:
        out.print(chat_meaning(answers), highlight=False)
    return 0


def _factor(text: str) -> float:
    """One `--slowdown` factor; a clear error for anything but a number."""
    try:
        return float(text)
    except ValueError:
        raise ValueError(
            f"--slowdown: {text.strip()!r} is not a number; give one factor per number of chats in hand, "
            "e.g. 1,1.25,1.5"
        ) from None


def chat_meaning(answers: dict[str, Any]) -> str:
    """What a chat table means: each agent as servers, the model, and its assumption."""
    per_agent, factor, slots = answers["servers_per_agent"], answers["slowdown_factor"], answers["slots"]
    servers = f"{answers['erlang_c_servers']} (Erlang C) and {answers['erlang_a_servers']} (Erlang A) servers"
    if factor == 1.0 and per_agent == slots:
        model = (
            f"each agent is {slots} independent servers, so the table is M/M/(c x {slots})(+M) exactly, "
            "under exponential chat times and patience, with a waiting chat taken by any free slot"
        )
    else:
        model = (
            f"an agent holding {per_agent} chats works each at 1/{factor:g} of a lone chat's pace (the number "
            f"in hand that clears the most work, {per_agent}/{factor:g} chats at once): each agent is "
            f"{per_agent} servers of mean {answers['aht'] * factor:.0f}s, an approximation (with fewer chats "
            "in hand an agent works faster than that)"
        )
    return (
        f"chat: {slots} slots per agent; {model}. Agents are ceil(servers / {per_agent}) of the {servers} "
        "needed; SL is the share of chats whose first response comes within the threshold, occupancy the "
        "share of slots in use."
    )


def erlang_table(
    answers: dict[str, Any],
    per_hour: float,
    aht: str,
    patience: str | None,
    threshold: str,
    target: float,
    max_abandon: float,
) -> Table:
    """The Erlang C and A figures a few agents either side of the answers, the answers marked."""
    goal = f"{100 * target:.0f}% within {threshold}" + (
        f", abandonment <= {100 * max_abandon:g}%" if max_abandon < 1 else ""
    )
    contacts = f"chats/h, {answers['slots']} slots per agent" if "slots" in answers else "calls/h"
    table = Table(
        title=f"{per_hour:g} {contacts}, AHT {aht}, patience {patience or 'infinite'}: "
        f"{answers['load_erlangs']:.2f} erlangs; target {goal}",
        header_style="bold",
    )
    for column in ("agents", "C SL", "C ASA", "A SL", "A abandon", "A ASA", "A occ.", ""):
        table.add_column(column, justify="right")
    for row in answers["table"]:
        marks = []
        if row["agents"] == answers["erlang_c"]["agents"]:
            marks.append("Erlang C")
        if row["agents"] == answers["erlang_a"]["agents"]:
            marks.append("Erlang A")
        table.add_row(
            str(row["agents"]),
            f"{100 * row['erlang_c_service_level']:.1f}%",
            _seconds(row["erlang_c_asa"]),
            f"{100 * row['erlang_a_service_level']:.1f}%",
            f"{100 * row['erlang_a_abandon_rate']:.1f}%",
            _seconds(row["erlang_a_asa"]),
            f"{100 * row['occupancy']:.1f}%",
            f"[bold]<- {' + '.join(marks)}[/]" if marks else "",
        )
    return table


def _seconds(value: float) -> str:
    return "-" if not math.isfinite(value) else f"{value:.1f}s"
