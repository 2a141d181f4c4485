"""`callsim staff --groups`: staff the departments' own agents and every cross-trained agent group by
simulation at least cost (`sim.experiments.staffing.groups`), write its folder, and show the answer beside
the separate-queues answer and the fully pooled bound. A line per finished round goes to stderr, so a long
search is never silent."""

from __future__ import annotations

import time
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from sim.cli.common import command_line, folder_and_executor, searched
from sim.cli.staff_emails import print_sizing, size_after_plan, written_plan
from sim.experiments.staffing.email_sizing import EmailGoal, EmailSizing
from sim.experiments.staffing.group_pools import kept_pools
from sim.experiments.staffing.groups import GroupPlan, search_groups, with_pools
from sim.experiments.staffing.targets import Targets
from sim.model.scenario import Scenario
from sim.output.console import say
from sim.output.folders import (
    default_run_dir,
)
from sim.output.group_staffing import answers_lines, email_lines, group_plan_table, write_group_staffing


def staff_groups_command(
    base: Scenario,
    goals: Targets,
    reps: int,
    seed: int | None,
    jobs: int | None,
    dask: str | None,
    out_dir: Path | None,
    force: bool,
    quiet: bool,
    out: Console,
    err: Console,
    email_goal: EmailGoal | None = None,
) -> int:
    """Search, write the folder, print the three answers; returns the exit status. With `email_goal`, the
    email-only pools are then sized to it on the plan (`sim.cli.staff_emails`)."""
    from sim.experiments.staffing.targets import StaffingError

    target = out_dir or default_run_dir(Path("results"), f"{base.name}-group-staffing")
    executor, code = folder_and_executor(target, force, "the staffing plan", jobs, dask)
    if executor is None:
        return code
    started = time.perf_counter()

    def progress(line: str) -> None:
        if not quiet:
            err.print(f"staffing groups: {line} ({time.perf_counter() - started:.1f}s)", highlight=False)

    kept = kept_pools(base)
    if kept and not quiet and email_goal is None:
        say(err, "email departments keep their staffing", ", ".join(_labelled(base, kept)), "cyan")

    def plan_and_size() -> tuple[GroupPlan, EmailSizing | None]:
        result = search_groups(base, goals, reps=reps, seed=seed, executor=executor, progress=progress)
        if email_goal is None:
            return result, None
        staffed = with_pools(base, result.plan)  # the email-only pools sized on what the plan leaves them
        return result, size_after_plan(staffed, email_goal, reps, seed, executor, quiet, err)

    done, code = searched(executor, plan_and_size, StaffingError)
    if done is None:
        return code
    result, sizing = done
    written, code = written_plan(
        lambda: write_group_staffing(target, result, force, command_line()), target, sizing, err
    )
    if written is None:
        return code
    if not quiet:
        print_group_plan(out, result, written, email_sized=sizing is not None)
        if sizing is not None:
            print_sizing(out, sizing)
    return 0


def print_group_plan(out: Console, result: GroupPlan, target: Path, email_sized: bool = False) -> None:
    """Per interval each pool's count (cross-trained, and separate in brackets), the pooled bound, then the
    answers' agent-hours and cost, the cells met, the email outcome (with a warning when the plan leaves
    emails overdue or a backlog at the close), and where the folder went. With `email_sized` the email-only
    pools were sized afterwards (`sim.cli.staff_emails`), so the plan's own email outcome, measured with them
    at their old size, is not shown: the sizing reports the outcome at the size it chose."""
    table = group_plan_table(result)
    shown = Table(box=box.SIMPLE, title=f"{result.scenario.name}: agents per interval by pool")
    shown.add_column("start")
    separate = result.separate is not None
    for name in result.plan:
        shown.add_column(f"{name} (separate)" if separate else name, justify="right")
    shown.add_column("fully pooled", justify="right")
    for row in table.to_dict("records"):
        shown.add_row(
            str(row["start"]),
            *(
                f"{row[name]} ({row[f'{name}_separate']})" if separate else str(row[name])
                for name in result.plan
            ),
            str(row["fully_pooled"]),
        )
    out.print(shown)
    for line in answers_lines(result):
        out.print(line, highlight=False)
    cost_unit = (
        "agent-hours" if result.scenario.costs is None else (result.scenario.costs.currency or "money")
    )
    out.print(
        f"cost in {cost_unit}; cells meeting {result.targets.describe()} over {result.simulated_days:,} simulated "
        f"days of search: {int(result.met.sum())} of {result.met.size}",
        highlight=False,
    )
    if result.separate is None:
        out.print(
            "no separate-queues answer: a call or chat department has no agents of its own "
            "(give it `agents: 0` to compare)",
            highlight=False,
        )
    if email_sized:
        out.print("email outcome: at the email pools' sized headcount, below", highlight=False)
    for line in [] if email_sized else email_lines(result):
        if line.startswith("warning: "):
            say(out, "warning", line.removeprefix("warning: "), "yellow")
        elif not line.startswith("email departments keep"):  # said on stderr before the search
            out.print(line, highlight=False)
    out.print(f"staffing: {target}", highlight=False, soft_wrap=True)


def _labelled(scenario: Scenario, names: list[str]) -> list[str]:
    """Pool names as the console shows them: a group marked `(group)`."""
    return [f"{name} (group)" if name in scenario.agent_groups else name for name in names]
