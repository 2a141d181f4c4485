"""The email pools' sizes in a staffing folder (`sim.experiments.staffing.email_sizing`): merged into the
plan's `staffing.yaml` (each email-only pool's `agents`, with the sizing's lines as comments) and under
`email_sizing` in its `summary.json`; or, for a centre with only email work to size, a folder of its own
(`staffing.yaml`, `summary.json`, `meta.json`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from sim.experiments.provenance import search_meta
from sim.experiments.staffing.email_sizing import EmailSizing
from sim.output.folders import clean_json, write_folder, write_json


def sizing_yaml(sizing: EmailSizing, body: dict[str, Any] | None = None, header: str = "") -> str:
    """`body` (a plan's scenario YAML, parsed) with the email pools' `agents` merged in, under `header` and
    the sizing's lines as comments."""
    merged = dict(body or {})
    for section, pools in sizing.yaml_body().items():
        merged[section] = {**(merged.get(section) or {}), **pools}
    comments = "".join(f"# {line}\n" for line in sizing.lines())
    return header + comments + yaml.safe_dump(merged, sort_keys=False, default_flow_style=None, width=1000)


def add_email_sizing(folder: Path, sizing: EmailSizing) -> None:
    """Merge the sizing into a written staffing folder's `staffing.yaml` (keeping its comment header) and
    `summary.json` (`email_sizing`)."""
    plan_file = folder / "staffing.yaml"
    text = plan_file.read_text(encoding="utf-8")
    kept = "# email departments keep their staffing"  # no longer so: the sizing says what they got
    header = "".join(
        line + "\n" for line in text.splitlines() if line.startswith("#") and not line.startswith(kept)
    )
    plan_file.write_text(sizing_yaml(sizing, yaml.safe_load(text), header), encoding="utf-8")
    summary_file = folder / "summary.json"
    summary = json.loads(summary_file.read_text(encoding="utf-8"))
    summary["email_sizing"] = clean_json(sizing.record())
    write_json(summary_file, summary)


def write_email_sizing(target: Path, sizing: EmailSizing, force: bool, command: Sequence[str]) -> Path:
    """The folder of an email-only sizing: `staffing.yaml`, `summary.json` (`email_sizing`), `meta.json`."""
    header = f"# callsim staff: the email pools of {sizing.scenario.name} sized to a day-level email goal\n"

    def fill(folder: Path) -> None:
        (folder / "staffing.yaml").write_text(sizing_yaml(sizing, None, header), encoding="utf-8")
        summary = {"scenario": sizing.scenario.name, "email_sizing": sizing.record()}
        write_json(folder / "summary.json", summary)
        write_json(folder / "meta.json", search_meta(sizing.scenario.name, command))

    return write_folder(target, force, fill)
