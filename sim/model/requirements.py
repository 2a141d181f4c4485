"""Agents required per interval and department, the input of `callsim schedule`: a `callsim staff` folder (its
`plan.csv`, column `simulated`), or a CSV written by hand, one row per interval and department:

```
start,department,required
08:00,billing,7
08:30,billing,9
```

`start` is the interval's clock time (or `interval`, its index from 0); the count column is `required` (or
`simulated`, `agents`). Every department named must be one of the scenario's with agents of its own; every
interval of a named department must have exactly one row. Faults are refused with the file and line.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

from sim.model.dists import check_csv_file, csv_faults
from sim.model.durations import format_clock, parse_clock, shorten
from sim.model.scenario import Scenario

Requirement = dict[str, list[int]]
"""Agents required per interval, by department."""
COUNT_COLUMNS = ("required", "simulated", "agents")
MAX_REQUIRED = 100_000


class RequirementError(ValueError):
    """Requirements that cannot be read or do not fit the scenario."""


def read_requirements(source: str | Path, scenario: Scenario) -> Requirement:
    """The requirement in a staffing folder (its `plan.csv`) or a CSV file, checked against the scenario."""
    path = Path(source)
    if path.is_dir():
        plan = path / "plan.csv"
        if not plan.is_file():
            raise RequirementError(f"{path}: no plan.csv; expected a `callsim staff` folder or a CSV file")
        path = plan
    try:
        check_csv_file(path)
    except ValueError as error:
        raise RequirementError(f"{path}: {error}") from None
    name = path.name
    with csv_faults(path), path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [cell.strip().lower() for cell in next(reader, [])]
        where_count = next((header.index(c) for c in COUNT_COLUMNS if c in header), None)
        when = "start" if "start" in header else "interval" if "interval" in header else None
        if when is None or "department" not in header or where_count is None:
            raise RequirementError(
                f"{name} line 1: expected a header with start (or interval), department and required "
                f"(or simulated), got {shorten(','.join(header)) if header else 'nothing'}"
            )
        rows = [(number, row) for number, row in enumerate(reader, start=2) if any(c.strip() for c in row)]
    columns = (header.index(when), header.index("department"), where_count)
    return _requirement(rows, columns, when == "start", name, scenario)


def _requirement(
    rows: list[tuple[int, list[str]]],
    columns: tuple[int, int, int],
    by_clock: bool,
    name: str,
    scenario: Scenario,
) -> Requirement:
    """Rows into counts per interval and department, each fault refused with its line."""
    planned = {d for d, department in scenario.departments.items() if department.agents is not None}
    starts = {
        round((scenario.start + k * scenario.interval) % 86400.0): k for k in range(scenario.interval_count)
    }
    found: dict[str, dict[int, int]] = {}
    when_at, department_at, count_at = columns
    for number, row in rows:
        if len(row) <= max(columns):
            raise RequirementError(f"{name} line {number}: {len(row)} cells; the header has more")
        department = row[department_at].strip()
        if department not in planned:
            expected = ", ".join(sorted(planned)) or "none"
            raise RequirementError(
                f"{name} line {number}: department {shorten(department)} is not one with agents of its own "
                f"in scenario {scenario.name} (expected one of {expected})"
            )
        index = _interval(row[when_at].strip(), by_clock, starts, scenario.interval_count)
        if index is None:
            what = "start" if by_clock else "interval"
            raise RequirementError(
                f"{name} line {number}: {what} {shorten(row[when_at])} is not the start of one of the "
                f"scenario's intervals ({format_clock(scenario.start)} every {scenario.interval:g}s)"
            )
        try:
            count = int(float(row[count_at]))
            if count != float(row[count_at]) or not 0 <= count <= MAX_REQUIRED:
                raise ValueError
        except ValueError:
            raise RequirementError(
                f"{name} line {number}: required {shorten(row[count_at])} is not a whole number of agents "
                f"(0 to {MAX_REQUIRED})"
            ) from None
        cells = found.setdefault(department, {})
        if index in cells:
            raise RequirementError(f"{name} line {number}: a second row for {department} at that interval")
        cells[index] = count
    if not found:
        raise RequirementError(f"{name} has no rows; expected one per interval and department")
    return complete(found, scenario, name)


def _interval(text: str, by_clock: bool, starts: Mapping[int, int], count: int) -> int | None:
    try:
        if by_clock:
            return starts.get(round(parse_clock(text) % 86400.0))
        index = int(text)
    except ValueError:
        return None
    return index if 0 <= index < count else None


def complete(found: Mapping[str, Mapping[int, int]], scenario: Scenario, name: str) -> Requirement:
    """Counts per department for every interval, or a refusal naming the first interval missing."""
    requirement: Requirement = {}
    for department, cells in found.items():
        missing = [k for k in range(scenario.interval_count) if k not in cells]
        if missing:
            at = format_clock(scenario.start + missing[0] * scenario.interval)
            raise RequirementError(
                f"{name}: {department} has no row for the interval at {at} ({len(missing)} interval(s) "
                "missing); give every interval of the day"
            )
        requirement[department] = [int(cells[k]) for k in range(scenario.interval_count)]
    return requirement
