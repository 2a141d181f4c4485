"""Fingerprints of every table of every shipped scenario, so a refactor that changes a result shows.

`python -m tests.golden --write` records them in `tests/data/golden.json` (do that only when a change of
results is meant, and say so in the commit); `python -m tests.golden --add` records only the scenarios not
recorded yet (a new shipped scenario), leaving every existing record as it was; `tests/test_identical.py`
recomputes and compares them. Each
scenario runs two replications with its own seed (one worker), so the per-replication KPIs, their aggregate
and the interval means are covered as well as replication 0's event log, calls, visits and agents.

A fingerprint must say "same results" on any machine with any supported wheels, and "changed" for any change
a user could see. Hashing floats at full precision fails the first: the same code on scipy 1.16 and 1.17, or
on two numpy builds, differs in the last bits of a quantile or a special function. So each table is
fingerprinted in two parts:

- its shape, column names and kinds, and a SHA-256 of every column that is not a float (event kinds, ids,
  departments, outcomes, flags; a missing value as one token whatever the pandas), which must match exactly: a reordered, added or lost row shows here;
- for each float column, three sums over the rows, plain, absolute and weighted by fixed pseudo-random row
  weights (so a swap of two rows or a changed value moves them), plus its count of NaN; these are compared at
  a relative tolerance of 1e-11: a thousand times wider than last-bit noise (1e-16 a value, some 1e-14 in a
  sum), and narrow enough that one value of ten thousand moved by one part in ten million shows, which is
  finer than the 6 significant digits a table on screen or on disk carries.

Confidence-interval half-widths (columns and keys named `ci95`) are compared at 1e-9: they pass through a
Student-t quantile, which scipy 1.16 and 1.17 compute 2e-11 apart.

Summaries (nested dictionaries of figures) are flattened to dotted keys; their numbers are compared the same
way, their texts and flags exactly.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
STORE = Path(__file__).resolve().parent / "data" / "golden.json"
REPLICATIONS = 2
RELATIVE_TOLERANCE = 1e-11
QUANTILE_TOLERANCE = 1e-9  # for confidence intervals: scipy 1.16 and 1.17 differ by 2e-11 in t.ppf itself
TABLES = ("events", "calls", "visits", "agents", "intervals", "intervals_mean", "replication_intervals")
SUMMARIES = ("summary", "summary_mean", "replication_summaries")


def _weights(rows: int) -> np.ndarray:
    """Fixed pseudo-random weights in [1, 2), the same on every machine (PCG64 with a fixed seed)."""
    return 1.0 + np.random.Generator(np.random.PCG64(20261205)).random(rows)


def _float_signature(values: np.ndarray) -> list[Any]:
    missing = np.isnan(values)
    finite = np.where(missing, 0.0, values)
    infinite = int(np.isinf(finite).sum())
    finite = np.where(np.isinf(finite), 0.0, finite)
    weights = _weights(len(values))
    return [
        int(missing.sum()),
        infinite,
        math.fsum(finite.tolist()),
        math.fsum(np.abs(finite).tolist()),
        math.fsum((finite * weights).tolist()),
    ]


def _texts(column: pd.Series) -> pd.Series:
    """A column's values as text, a missing value as one token (pandas 2 writes 'nan', pandas 3 '')."""
    return column.astype(object).where(column.notna(), "<missing>").map(str)


def _frame_fingerprint(frame: pd.DataFrame) -> dict[str, Any]:
    floats = [column for column in frame.columns if frame[column].dtype.kind == "f"]
    others = [column for column in frame.columns if column not in floats]
    text = pd.DataFrame({column: _texts(frame[column]) for column in others}).to_csv(
        index=False, lineterminator="\n"
    )
    return {
        "shape": list(frame.shape),
        "columns": [f"{column}:{'f' if column in floats else 'x'}" for column in frame.columns],
        "exact": hashlib.sha256(text.encode()).hexdigest(),
        "floats": {
            str(column): _float_signature(frame[column].to_numpy(dtype=float, na_value=np.nan))
            for column in floats
        },
    }


def _flatten(value: Any, prefix: str, into: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key in sorted(value, key=str):
            _flatten(value[key], f"{prefix}.{key}" if prefix else str(key), into)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _flatten(item, f"{prefix}[{index}]", into)
    else:
        if hasattr(value, "item") and not isinstance(value, str):
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            value = repr(value)
        into[prefix] = value


def _summary_fingerprint(value: Any) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    _flatten(value, "", flat)
    return flat


def fingerprints(skip: frozenset[str] = frozenset()) -> dict[str, dict[str, Any]]:
    """Per shipped scenario (less those named in `skip`), a fingerprint of each table a run produces."""
    from tests.golden_api import run_tables

    found: dict[str, dict[str, Any]] = {}
    for path in sorted(SCENARIOS.glob("*.yaml")):
        if path.stem in skip:
            continue
        tables = run_tables(path, REPLICATIONS)
        prints: dict[str, Any] = {name: _frame_fingerprint(tables[name]) for name in TABLES}
        prints.update({name: _summary_fingerprint(tables[name]) for name in SUMMARIES})
        found[path.stem] = prints
    return found


def _tolerance(name: str) -> float:
    """Half-widths pass through a Student-t quantile, which scipy computes differently from release to release."""
    return QUANTILE_TOLERANCE if "ci95" in name else RELATIVE_TOLERANCE


def _close(recorded: Any, now: Any, tolerance: float = RELATIVE_TOLERANCE) -> bool:
    if isinstance(recorded, float) or isinstance(now, float):
        if not isinstance(recorded, int | float) or not isinstance(now, int | float):
            return False
        if isinstance(recorded, bool) or isinstance(now, bool):
            return recorded == now
        return math.isclose(recorded, now, rel_tol=tolerance, abs_tol=tolerance)
    return bool(recorded == now)


def differences(recorded: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What differs between a scenario's recorded fingerprints and today's, as 'table: what' lines."""
    found: list[str] = []
    for table in sorted(set(recorded) | set(now)):
        old, new = recorded.get(table), now.get(table)
        if old is None or new is None:
            found.append(f"{table}: {'new' if old is None else 'missing'}")
        elif table in SUMMARIES:
            for key in sorted(set(old) | set(new)):
                if key not in old or key not in new or not _close(old[key], new[key], _tolerance(key)):
                    found.append(f"{table}: {key} was {old.get(key)!r}, now {new.get(key)!r}")
        else:
            for part in ("shape", "columns", "exact"):
                if old[part] != new[part]:
                    found.append(f"{table}: {part} differs")
            for column in sorted(set(old["floats"]) | set(new["floats"])):
                before, after = old["floats"].get(column), new["floats"].get(column)
                if before is None or after is None or len(before) != len(after):
                    found.append(f"{table}: float column {column} added or lost")
                elif not all(_close(a, b, _tolerance(column)) for a, b in zip(before, after, strict=True)):
                    found.append(f"{table}: {column} was {before}, now {after}")
    return found


def main() -> None:
    if "--add" in sys.argv[1:]:
        recorded: dict[str, dict[str, Any]] = json.loads(STORE.read_text(encoding="utf-8"))
        added = fingerprints(skip=frozenset(recorded))
        STORE.write_text(json.dumps({**recorded, **added}, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"added {', '.join(sorted(added)) or 'nothing'} to {STORE}")
        return
    if "--write" not in sys.argv[1:]:
        print(json.dumps(fingerprints(), indent=2, sort_keys=True))
        return
    STORE.write_text(json.dumps(fingerprints(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {STORE}")


if __name__ == "__main__":
    main()
