"""callsim's command line: the typer app, `--version`, and which commands it has, registered in the order
`callsim --help` lists them.

Each command lives in the module that answers its question: `run.py` (run, validate), `trace.py` (trace),
`saved.py` (report, rerun, compare: folders already written), `planning.py` (the options of sweep,
sweep-merge, staff and erlang, whose work is in `sweep.py` and `staff.py`); `common.py` holds what they
share. Start-up matters (`callsim --help` and `callsim validate` should answer at once), so these modules
import only typer and rich at the top; each command imports the library it uses (pandas, SciPy,
matplotlib, the engine) when it runs. tests/test_startup.py checks that `--help` and `validate` load none
of them.
"""

from __future__ import annotations

import gc
from typing import Annotated

import typer

from sim.cli.backtest import backtest
from sim.cli.common import DASK_MISSING
from sim.cli.fit import fit
from sim.cli.metavars import ReadableCommand, ReadableGroup
from sim.cli.planning import erlang, staff, sweep, sweep_merge
from sim.cli.replay import replay
from sim.cli.run import DEFAULT_NAME, default_scenario, run, validate
from sim.cli.saved import compare, report, rerun
from sim.cli.schedule import schedule
from sim.cli.trace import trace

__all__ = ["DASK_MISSING", "DEFAULT_NAME", "app", "default_scenario", "main"]

app = typer.Typer(
    cls=ReadableGroup,  # `--help` names what options take in words (TEXT, PATH=VALUE), flags bare
    add_completion=False,
    no_args_is_help=True,
    help="callsim: a call-centre hold-and-transfer simulator. Scenarios are YAML; times are seconds inside.",
)


def _version() -> str:
    """The installed distribution's version (an editable install's too), read from its metadata."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("callsim")
    except PackageNotFoundError:  # imported from a checkout that was never installed
        return "unknown (not installed)"


def _show_version(value: bool) -> None:
    if value:
        print(f"callsim {_version()}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print callsim's version and exit"
        ),
    ] = False,
) -> None:
    """callsim: a call-centre hold-and-transfer simulator. Scenarios are YAML; times are seconds inside."""


app.command(cls=ReadableCommand)(run)
app.command(cls=ReadableCommand)(trace)
app.command(cls=ReadableCommand)(replay)
app.command(cls=ReadableCommand)(validate)
app.command(cls=ReadableCommand)(report)
app.command(cls=ReadableCommand)(rerun)
app.command(cls=ReadableCommand)(compare)
app.command(cls=ReadableCommand)(sweep)
app.command("sweep-merge", cls=ReadableCommand)(sweep_merge)
app.command(cls=ReadableCommand)(staff)
app.command(cls=ReadableCommand)(erlang)
app.command(cls=ReadableCommand)(schedule)
app.command(cls=ReadableCommand)(fit)
app.command(cls=ReadableCommand)(backtest)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    finally:
        # the command is done: spare the interpreter's exit a last garbage collection over everything it
        # imported and made (some 0.1 s after a run; nothing is left to collect that matters)
        gc.freeze()


if __name__ == "__main__":
    main()
