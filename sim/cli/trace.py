"""`callsim trace`: one caller's journey told for trainers (the story and the timeline are
`sim.output.trace`'s; this module picks the caller from the options and prints)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import SeedOption, SetOption, load, out, refuse


def trace(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML")],
    call: Annotated[int | None, typer.Option("--call", help="Tell this call id")] = None,
    longest: Annotated[
        bool, typer.Option("--longest", help="Tell the caller with the longest chain (default)")
    ] = False,
    reason: Annotated[
        str | None, typer.Option("--reason", help="The longest chain among callers with this reason")
    ] = None,
    picture: Annotated[
        Path | None, typer.Option("--out", help="Save the timeline picture here (PNG)")
    ] = None,
    overrides: SetOption = None,
    seed: SeedOption = None,
) -> None:
    """For trainers: one caller's journey, ring by ring and agent by agent, as a story and a timeline."""
    from sim.output.trace import trace as trace_call

    loaded = load(scenario, overrides)
    if sum(x is not None and x is not False for x in (call, reason, longest or None)) > 1:
        refuse("choose one of --call, --longest or --reason")
    try:
        traced = trace_call(loaded, seed, call, reason, picture)
    except ValueError as error:
        refuse(error)
    out.print(traced.text, highlight=False, markup=False, soft_wrap=True)
    if traced.picture is not None:
        out.print(f"timeline: {traced.picture}", highlight=False)
