"""`callsim replay`: an animated replay of a saved run, one self-contained HTML page for trainers (the
page is `sim.output.replay`'s; this module checks the folder, writes and says where)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import FAILED, out, refuse


def replay(
    results_dir: Annotated[Path, typer.Argument(help="A results folder written by callsim run")],
    page: Annotated[
        Path | None, typer.Option("--out", help="Where to write the page (default: RESULTS_DIR/replay.html)")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing page")] = False,
    slides: Annotated[
        bool,
        typer.Option(
            "--slides", help="Open in presentation mode: large type for a projector (the s key toggles it)"
        ),
    ] = False,
) -> None:
    """For trainers: the floor of a saved run, animated in one HTML page (play, pause, speed, seek, and
    click a caller to follow their story). Opens offline in any browser."""
    from sim.output.folders import ResultsExist, ResultsUnwritable
    from sim.output.replay import write_replay
    from sim.output.saved import NotARun

    try:
        written = write_replay(results_dir, page, force, slides)
    except (NotARun, ResultsExist) as error:
        refuse(error)
    except ResultsUnwritable as error:
        refuse(error, FAILED)
    out.print(f"replay: {written}", highlight=False, soft_wrap=True)
