"""Fingerprints of every table of every shipped scenario, so a refactor that changes a result shows.

`python -m tests.golden --write` records them in `tests/data/golden.json` (do that only when a change of
results is meant, and say so in the commit); `tests/test_identical.py` recomputes and compares them. Each
scenario runs two replications with its own seed (one worker), so the per-replication KPIs, their aggregate
and the interval means are covered as well as replication 0's event log, calls, visits and agents.

Floats in tables straight from the event log (events, calls, visits, agents) are written at full precision;
the analysis tables (intervals, summaries) at 12 significant digits, which leaves room for a vectorised sum
taken in another order (a last-bit difference) while any change a user could see still shows: the files a run
writes carry 6 digits.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
STORE = Path(__file__).resolve().parent / "data" / "golden.json"
REPLICATIONS = 2


def _frame_digest(frame: pd.DataFrame, float_format: str) -> str:
    text = frame.to_csv(index=False, float_format=float_format, lineterminator="\n")
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(value: Any) -> Any:
    """JSON-ready, with floats at 12 significant digits (NaN and infinities as text)."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float):
        return repr(value) if not math.isfinite(value) else float(f"{value:.12g}")
    return value


def _json_digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(_plain(value), sort_keys=True).encode()).hexdigest()


def fingerprints() -> dict[str, dict[str, str]]:
    """Per shipped scenario, a digest of each table a run produces."""
    from tests.golden_api import run_tables

    found: dict[str, dict[str, str]] = {}
    for path in sorted(SCENARIOS.glob("*.yaml")):
        tables = run_tables(path, REPLICATIONS)
        digests: dict[str, str] = {}
        for name in ("events", "calls", "visits", "agents"):
            digests[name] = _frame_digest(tables[name], "%.17g")
        for name in ("intervals", "intervals_mean", "replication_intervals"):
            digests[name] = _frame_digest(tables[name], "%.12g")
        for name in ("summary", "summary_mean", "replication_summaries"):
            digests[name] = _json_digest(tables[name])
        found[path.stem] = digests
    return found


def main() -> None:
    if "--write" not in sys.argv[1:]:
        print(json.dumps(fingerprints(), indent=2))
        return
    STORE.write_text(json.dumps(fingerprints(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {STORE}")


if __name__ == "__main__":
    main()
