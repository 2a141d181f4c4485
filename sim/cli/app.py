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

from typing import Annotated

import typer

from sim.cli.backtest import backtest
from sim.cli.common import DASK_MISSING
from sim.cli.fit import fit
from sim.cli.planning import erlang, staff, sweep, sweep_merge
from sim.cli.run import DEFAULT_NAME, default_scenario, run, validate
from sim.cli.saved import compare, report, rerun
from sim.cli.trace import trace

__all__ = ["DASK_MISSING", "DEFAULT_NAME", "app", "default_scenario", "main"]

app = typer.Typer(
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


app.command()(run)
app.command()(trace)
app.command()(validate)
app.command()(report)
app.command()(rerun)
app.command()(compare)
app.command()(sweep)
app.command("sweep-merge")(sweep_merge)
app.command()(staff)
app.command()(erlang)
app.command()(fit)
app.command()(backtest)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
