"""callsim's command line: each command parses, calls one `sim` function, and prints a short summary."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from sim.console import print_problems, print_run
from sim.loading import ScenarioError, load_scenario
from sim.results import ResultsExist, check_writable, clean_json, default_run_dir, write_run
from sim.runner import replicate

HERE = Path(__file__).resolve().parent
DEFAULT_SCENARIO = HERE / "scenarios" / "small-centre.yaml"

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="callsim: a call-centre hold-and-transfer simulator. Scenarios are YAML; times are seconds inside.",
)
out = Console()
err = Console(stderr=True)

SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Override a scenario value: dotted.path=value (repeatable), e.g. departments.billing.agents=12",
    ),
]


def _load(path: Path, overrides: list[str] | None) -> object:
    try:
        return load_scenario(path, overrides or [])
    except ScenarioError as error:
        print_problems(err, error)
        raise typer.Exit(2) from None


@app.command()
def run(
    scenario: Annotated[
        Path | None, typer.Argument(help="Scenario YAML (default: the shipped small centre)")
    ] = None,
    overrides: SetOption = None,
    seed: Annotated[int | None, typer.Option(help="Seed (default: the scenario's)")] = None,
    reps: Annotated[int, typer.Option(min=1, help="Independent replications (KPIs get 95% CIs)")] = 1,
    jobs: Annotated[int | None, typer.Option(min=1, help="Worker processes (default: all cores)")] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Results folder (default: results/<name>-<time>)")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing results folder")] = False,
    quiet: Annotated[bool, typer.Option(help="Print nothing but errors")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print summary.json to stdout")] = False,
) -> None:
    """Simulate a scenario and write its results folder."""
    path = scenario or DEFAULT_SCENARIO
    loaded = _load(path, overrides)
    from sim.scenario import Scenario

    assert isinstance(loaded, Scenario)
    target = out_dir or default_run_dir(Path("results"), loaded.name)
    try:
        check_writable(target, force)
    except ResultsExist as error:
        err.print(f"[red]error:[/] {error}", highlight=False)
        raise typer.Exit(2) from None
    result = replicate(loaded, seed, reps, jobs)
    try:
        write_run(target, result, force=force, command=["callsim", *sys.argv[1:]])
    except ResultsExist as error:
        err.print(f"[red]error:[/] {error}", highlight=False)
        raise typer.Exit(2) from None
    except OSError as error:
        err.print(
            f"[red]error:[/] cannot write results to {target}: {error.strerror or error}", highlight=False
        )
        raise typer.Exit(1) from None
    summary = result.summary
    if as_json:
        print(json.dumps(clean_json(summary), indent=2))
    elif not quiet:
        title = f"{loaded.name}: seed {result.seed}" + (f", {reps} replications" if reps > 1 else "")
        print_run(out, summary, result.intervals, title)
        out.print(
            f"results: {target}  ({result.calls_offered:,} calls in {result.wall_time:.1f}s)", highlight=False
        )


@app.command()
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
    seed: Annotated[int | None, typer.Option(help="Seed (default: the scenario's)")] = None,
) -> None:
    """For trainers: one caller's journey, ring by ring and agent by agent, as a story and a timeline."""
    from sim.trace import trace as trace_call

    loaded = _load(scenario, overrides)
    if sum(x is not None and x is not False for x in (call, reason, longest or None)) > 1:
        err.print("[red]error:[/] choose one of --call, --longest or --reason", highlight=False)
        raise typer.Exit(2)
    try:
        traced = trace_call(loaded, seed, call, reason, picture)  # type: ignore[arg-type]
    except ValueError as error:
        err.print(f"[red]error:[/] {error}", highlight=False)
        raise typer.Exit(2) from None
    out.print(traced.text, highlight=False, markup=False, soft_wrap=True)
    if traced.picture is not None:
        out.print(f"timeline: {traced.picture}", highlight=False)


@app.command()
def validate(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario YAML files")],
    overrides: SetOption = None,
) -> None:
    """Check scenario files without running them (exit 2 if any is refused)."""
    failed = 0
    for path in scenarios:
        try:
            loaded = load_scenario(path, overrides or [])
        except ScenarioError as error:
            print_problems(err, error)
            failed += 1
            continue
        out.print(
            f"[green]ok[/] {path}: {loaded.name}, {len(loaded.departments)} department(s), "
            f"{loaded.interval_count} intervals",
            highlight=False,
        )
    if failed:
        raise typer.Exit(2)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
