"""A fitted scenario's folder, written whole or not at all (`sim.output.folders.write_folder`):
`scenario.yaml` (runs as it is: `callsim run FOLDER/scenario.yaml`), the CSV files it names (agent
schedules, empirical times), `fit.json` (what each part was fitted from and why) and `fit_report.html`
with its pictures in `plots/`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sim.analysis.fitting.fit import FittedScenario
from sim.experiments.provenance import git_revision, versions
from sim.output.fit_report import scenario_yaml, write_fit_report
from sim.output.folders import write_folder, write_json

SCENARIO = "scenario.yaml"
DIAGNOSTICS = "fit.json"


def write_fit(
    target: Path,
    fitted: FittedScenario,
    force: bool = False,
    command: Sequence[str] = (),
    report: bool = True,
) -> Path:
    """Write the fitted scenario's folder at `target` (refused if it exists, unless `force`) and return
    where it went."""

    def fill(folder: Path) -> None:
        text = scenario_yaml(fitted)
        (folder / SCENARIO).write_text(text, encoding="utf-8")
        fitted.write_files(folder)
        write_json(
            folder / DIAGNOSTICS,
            {
                **fitted.diagnostics(),
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "versions": versions(),
                "git_revision": git_revision(),
                "command": list(command),
            },
        )
        if report:
            write_fit_report(folder, fitted, text)

    return write_folder(Path(target), force, fill)
